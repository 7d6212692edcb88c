#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Extract Debian's linux-source-6.12 into the cache once; print its path.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

main() {
	local dir tarball tmp
	dir=$(linux_src_dir)
	if [ ! -f "$dir/.csq-extracted" ]; then
		tarball=$(ls /usr/src/"$CSQ_SRC_PKG".tar.* 2>/dev/null | head -n1)
		[ -n "$tarball" ] || die "no /usr/src/$CSQ_SRC_PKG.tar.* (run: make deps)"
		step "extracting $tarball into $dir"
		tmp=$(mktemp -d "$CSQ_CACHE/src/.extract.XXXXXX")
		tar -xf "$tarball" -C "$tmp"
		rm -rf "$dir"
		mv "$tmp/$CSQ_SRC_PKG" "$dir"
		rmdir "$tmp"
		touch "$dir/.csq-extracted"
	fi
	printf '%s\n' "$dir"
}

mkdir -p "$CSQ_CACHE/src"
main "$@"
