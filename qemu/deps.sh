#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian packages the build and the guests need (make deps).
# A no-op costing one dpkg-query per package when everything is there.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# On a fresh machine the package lists may be empty, and then apt-cache
# cannot name the stock kernel until they have been fetched.
# Sets rel rather than printing it, so that apt_update_once remembers
# that it ran (no subshell).
resolve_stock() {
	rel=$(stock_release) && return
	[ "$(id -u)" = 0 ] && command -v apt-get >/dev/null ||
		die "cannot resolve $CSQ_STOCK_META (apt lists empty?); as root run: apt-get update"
	apt_update_once
	rel=$(stock_release) || die "$CSQ_STOCK_META names no linux-image-6.1.0-*-amd64"
}

main() {
	local rel
	# shellcheck disable=SC2086
	apt_ensure $CSQ_DEB_PKGS
	resolve_stock
	apt_ensure "linux-headers-$rel"
}

main "$@"
