#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Stage the sources dkms builds into a dkms source tree.
#
#   dkms-source.sh DIR    prints VERSION; DIR/csq-VERSION holds the copy
#
# dkms copies whatever directory it is given, and a checkout holds build/,
# .git and the guests; this copies only what kbuild reads
# (kbuild_sources_to) and dkms.conf, with PACKAGE_VERSION stamped: `git
# describe --tags` once the project has tags, else dkms.conf's version plus
# the commit (0.1+g1234abc, .dirty for uncommitted changes).  Outside
# a git checkout dkms.conf's version stands.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PKG=csq

version() {
	local base desc
	base=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$CSQ_TOP/dkms.conf")
	[ -n "$base" ] || die "no PACKAGE_VERSION in dkms.conf"
	git -C "$CSQ_TOP" rev-parse --git-dir >/dev/null 2>&1 || { echo "$base"; return; }
	if desc=$(git -C "$CSQ_TOP" describe --tags --dirty=.dirty 2>/dev/null); then
		echo "${desc#v}"
	else
		desc=$(git -C "$CSQ_TOP" describe --always --dirty=.dirty)
		echo "$base+g$desc"
	fi
}

main() {
	[ $# -eq 1 ] || die "usage: $0 DIR"
	local ver out
	ver=$(version)
	out=$1/$PKG-$ver
	rm -rf "$out"
	mkdir -p "$out"
	kbuild_sources_to "$out"
	sed "s/^PACKAGE_VERSION=.*/PACKAGE_VERSION=\"$ver\"/" \
		"$CSQ_TOP/dkms.conf" >"$out/dkms.conf"
	printf '%s\n' "$ver"
}

main "$@"
