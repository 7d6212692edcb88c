#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The stock kernel: Debian's 6.1 LTS, whichever linux-image-6.1.0-NN-amd64
# the linux-image-amd64 meta package names.  Headers are installed with apt
# (modules build against them); the image is only unpacked into the cache,
# never installed, since the guest boots it and the host must not.
#
#   stock-kernel.sh            print KDIR (the headers tree)
#   stock-kernel.sh --vmlinuz  print the kernel image to boot
#   stock-kernel.sh --release  print the release, e.g. 6.1.0-56-amd64
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

image_dir() {
	printf '%s/stock/%s\n' "$CSQ_CACHE" "$1"
}

fetch_image() {
	local rel=$1 dir tmp deb
	dir=$(image_dir "$rel")
	[ -f "$dir/.csq-extracted" ] && return
	step "fetching linux-image-$rel-unsigned into $dir"
	tmp=$(mktemp -d "$CSQ_CACHE/stock/.fetch.XXXXXX")
	# As root apt would drop to user _apt, who cannot enter a 0700 $HOME.
	(cd "$tmp" && apt-get -o APT::Sandbox::User="$(id -un)" \
		download "linux-image-$rel-unsigned" >&2)
	deb=$(ls "$tmp"/*.deb)
	dpkg -x "$deb" "$tmp/root"
	rm -rf "$dir"
	mkdir -p "$dir"
	mv "$tmp/root" "$dir/"
	rm -rf "$tmp"
	touch "$dir/.csq-extracted"
}

headers_dir() {
	local rel=$1
	if [ -d "/usr/src/linux-headers-$rel" ]; then
		printf '/usr/src/linux-headers-%s\n' "$rel"
	elif [ -d "/lib/modules/$rel/build" ]; then
		printf '/lib/modules/%s/build\n' "$rel"
	else
		die "no headers for $rel (run: make deps)"
	fi
}

main() {
	local rel
	mkdir -p "$CSQ_CACHE/stock"
	rel=$(stock_release) || die "cannot resolve $CSQ_STOCK_META (run: make deps)"
	apt_ensure "linux-headers-$rel"
	fetch_image "$rel"
	printf '%s\n' "$rel" > "$(stock_release_file)"
	case ${1:-} in
	--vmlinuz) printf '%s/root/boot/vmlinuz-%s\n' "$(image_dir "$rel")" "$rel" ;;
	--release) printf '%s\n' "$rel" ;;
	"") headers_dir "$rel" ;;
	*) die "usage: $0 [--vmlinuz|--release]" ;;
	esac
}

main "$@"
