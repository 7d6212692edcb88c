#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Run one job in one kernel: build the modules for it, pack the initramfs,
# boot.  The userspace binaries must already be in build/userspace/.
#
#   guest.sh stock|debug JOB
#
# The guest is named KERNEL-JOB: its console is build/logs/KERNEL-JOB.log.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Sets kdir, image and label for the chosen kernel.
select_kernel() {
	case $1 in
	stock)
		kdir=$("$CSQ_QEMU/stock-kernel.sh")
		image=$("$CSQ_QEMU/stock-kernel.sh" --vmlinuz)
		label="stock kernel $(kdir_release "$kdir") (Debian)"
		;;
	debug)
		step "debug kernel: checking the build cache"
		kdir=$("$CSQ_QEMU/build-debug-kernel.sh")
		image=$kdir/arch/x86/boot/bzImage
		label="debug kernel $(kdir_release "$kdir") (KASAN, lockdep, kmemleak, KUnit)"
		# CONFIG_DEBUG_PAGEALLOC is built in but off until asked for.
		export CSQ_CMDLINE="debug_pagealloc=on ${CSQ_CMDLINE:-}"
		;;
	*)
		die "unknown kernel '$1' (stock or debug)"
		;;
	esac
}

main() {
	[ $# -eq 2 ] || die "usage: $0 stock|debug JOB"
	local kernel=$1 job=$2 kdir image label moddir initrd
	select_kernel "$kernel"
	moddir=$("$CSQ_QEMU/build-modules.sh" "$kdir")
	mkdir -p "$CSQ_BUILD/initramfs"
	initrd=$CSQ_BUILD/initramfs/$kernel-$job.cpio
	"$CSQ_QEMU/mkinitramfs.sh" "$job" "$moddir" "$initrd"
	"$CSQ_QEMU/boot.sh" "$kernel-$job" "$image" "$initrd" "$label, job $job"
}

main "$@"
