#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build every .ko of the project against one kernel (make modules KDIR=...).
#
#   build-modules.sh [KDIR] [kbuild args, e.g. W=1 C=2]
#
# Kbuild's M= writes objects beside the sources, so the sources are mirrored
# into build/modules/<release>/ (or $CSQ_MODULES_OUT) and built there; rsync
# keeps mtimes, so a rebuild only recompiles what changed.  Prints the
# directory holding the .ko files.  KDIR defaults to the stock headers.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

mirror() {
	local out=$1
	mkdir -p "$out"
	kbuild_sources_to "$out" --delete
}

kernel_has() {
	grep -qx "$2=y" "$1/.config" 2>/dev/null ||
		grep -qx "$2=y" "$1/include/config/auto.conf"
}

# What Kconfig would decide; a unit whose source is not there yet is left
# out rather than failing the whole build.
config_args() {
	local kdir=$1
	[ -f "$CSQ_TOP/module/csq_queue.c" ] && printf '%s\n' CONFIG_CSQ=m
	[ -f "$CSQ_TOP/module/csqdev_main.c" ] && printf '%s\n' CONFIG_CSQDEV=m
	if kernel_has "$kdir" CONFIG_KUNIT; then
		[ -f "$CSQ_TOP/kunit/csq_queue_kunit.c" ] &&
			printf '%s\n' CONFIG_CSQ_KUNIT_TEST=m
		[ -f "$CSQ_TOP/kunit/csqdev_kunit.c" ] &&
			printf '%s\n' CONFIG_CSQDEV_KUNIT_TEST=m
	fi
	[ -f "$CSQ_TOP/bench/csq_bench.c" ] && printf '%s\n' CONFIG_CSQ_BENCH=m
	[ -f "$CSQ_TOP/examples/csq_cancel/csq_cancel.c" ] &&
		printf '%s\n' CONFIG_CSQ_EXAMPLE_CANCEL=m
	return 0
}

main() {
	local kdir=${1:-} rel out
	[ $# -eq 0 ] || shift
	[ -n "$kdir" ] || kdir=$("$CSQ_QEMU/stock-kernel.sh")
	kdir=$(cd "$kdir" && pwd)
	rel=$(kdir_release "$kdir")
	out=${CSQ_MODULES_OUT:-$CSQ_BUILD/modules/$rel}
	step "building modules for $rel in ${out#"$CSQ_TOP"/}"
	mkdir -p "$out"
	# Several tools build the same tree (make modules, the guests, lint);
	# two kbuilds in one directory corrupt each other.
	exec 9>"$out.lock"
	flock 9
	mirror "$out"
	# Our own make's command line (KDIR=, SUMMARY=...) is not kbuild's.
	unset MAKEFLAGS MFLAGS MAKELEVEL
	# shellcheck disable=SC2046
	make -C "$kdir" M="$out" -j"$(nproc)" $(config_args "$kdir") "$@" modules >&2
	printf '%s\n' "$out"
}

main "$@"
