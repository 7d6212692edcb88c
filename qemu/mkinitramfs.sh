#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Pack one boot's initramfs: busybox, qemu/init, the job, the modules and
# the userspace binaries.
#
#   mkinitramfs.sh JOB MODDIR OUT.cpio
#
# JOB names qemu/jobs/JOB.sh; MODDIR is what build-modules.sh printed.
# The archive is uncompressed: both kernels take it, and it packs in
# milliseconds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

BUSYBOX=/bin/busybox

guest_exit() {
	local bin=$CSQ_BUILD/qemu/guest-exit src=$CSQ_QEMU/guest-exit.c
	if [ ! "$bin" -nt "$src" ]; then
		mkdir -p "${bin%/*}"
		gcc -static -O2 -Wall -Wextra -o "$bin" "$src"
	fi
	printf '%s\n' "$bin"
}

add_busybox() {
	local root=$1 applet
	install -D -m 755 "$BUSYBOX" "$root/bin/busybox"
	for applet in $("$BUSYBOX" --list-full); do
		# linuxrc is the only entry without a directory; /init replaces it.
		case $applet in */*) ;; *) continue ;; esac
		[ -e "$root/$applet" ] && continue
		mkdir -p "$root/${applet%/*}"
		ln -s /bin/busybox "$root/$applet"
	done
}

add_job() {
	local root=$1 job=$2 file=$CSQ_QEMU/jobs/$2.sh
	[ -f "$file" ] || die "no such job: $job (have: $(cd "$CSQ_QEMU/jobs" && ls))"
	install -m 755 "$CSQ_QEMU/init" "$root/init"
	{
		printf '# /job for this boot, from qemu/jobs/%s.sh\n' "$job"
		cat "$file"
	} >"$root/job"
}

add_payload() {
	local root=$1 moddir=$2 f
	mkdir -p "$root/lib/modules/csq" "$root/usr/bin/csq"
	find "$moddir" -name '*.ko' -exec cp {} "$root/lib/modules/csq/" \;
	for f in "$CSQ_BUILD"/userspace/*; do
		[ -f "$f" ] && [ -x "$f" ] && cp "$f" "$root/usr/bin/csq/"
	done
	install -m 755 "$(guest_exit)" "$root/bin/guest-exit"
}

main() {
	[ $# -eq 3 ] || die "usage: $0 JOB MODDIR OUT.cpio"
	local job=$1 moddir=$2 out=$3 root
	[ -x "$BUSYBOX" ] || die "no $BUSYBOX (run: make deps)"
	root=${out%.cpio}.d
	rm -rf "$root"
	mkdir -p "$root"/{dev,proc,sys,tmp,root}
	add_busybox "$root"
	add_job "$root" "$job"
	add_payload "$root" "$moddir"
	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --owner=0:0 --quiet) >"$out"
}

main "$@"
