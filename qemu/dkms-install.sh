#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make dkms-install / dkms-uninstall: csq.ko, csqdev.ko and csq_cancel.ko
# under the system's dkms, rebuilt by dkms for every kernel installed later.
#
#   dkms-install.sh install [KERNELVER]   default: the running kernel
#   dkms-install.sh uninstall
#
# install replaces whatever csq version dkms had: it removes every one,
# stages the sources with their version (qemu/dkms-source.sh) into dkms's
# source tree, then runs `dkms add` and `dkms install`; uninstall only
# removes.  KERNELVER needs its headers (linux-headers-KERNELVER).
# DKMS_ROOT=<dir> puts dkms's trees (usr/src, var/lib/dkms, lib/modules)
# under <dir> and skips depmod: a rehearsal that leaves the system alone.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PKG=csq

dkms_cmd() {
	if [ -z "${DKMS_ROOT:-}" ]; then
		dkms "$@"
		return
	fi
	mkdir -p "$DKMS_ROOT/usr/src" "$DKMS_ROOT/var/lib/dkms" "$DKMS_ROOT/lib/modules"
	mok_signing_key=$DKMS_ROOT/var/lib/dkms/mok.key \
	mok_certificate=$DKMS_ROOT/var/lib/dkms/mok.pub \
		dkms "$@" --sourcetree "$DKMS_ROOT/usr/src" \
		--dkmstree "$DKMS_ROOT/var/lib/dkms" \
		--installtree "$DKMS_ROOT/lib/modules" --no-depmod
}

source_tree() {
	printf '%s/usr/src\n' "${DKMS_ROOT:-}"
}

# Versions of csq that dkms knows, from `dkms status`.
versions() {
	dkms_cmd status -m "$PKG" | sed -n "s|^$PKG/\([^,:]*\).*|\1|p" | sort -u
}

uninstall() {
	local v dir
	for v in $(versions); do
		step "dkms remove $PKG/$v --all"
		dkms_cmd remove -m "$PKG" -v "$v" --all
		# Ours only: the copy that dkms-source.sh staged.
		dir=$(source_tree)/$PKG-$v
		if grep -qx "PACKAGE_NAME=\"$PKG\"" "$dir/dkms.conf" 2>/dev/null; then
			rm -rf "$dir"
		fi
	done
}

install() {
	local kver=${1:-$(uname -r)} ver
	uninstall
	# dkms installs only onto a kernel that has its /lib/modules/KERNELVER.
	[ -z "${DKMS_ROOT:-}" ] || mkdir -p "$DKMS_ROOT/lib/modules/$kver"
	ver=$("$CSQ_QEMU/dkms-source.sh" "$(source_tree)")
	step "dkms add, install $PKG/$ver for $kver"
	dkms_cmd add -m "$PKG" -v "$ver" -k "$kver"
	dkms_cmd install -m "$PKG" -v "$ver" -k "$kver"
	dkms_cmd status -m "$PKG"
}

main() {
	command -v dkms >/dev/null || die "dkms is not installed (run: make deps)"
	# Our own make's command line is not kbuild's.
	unset MAKEFLAGS MFLAGS MAKELEVEL
	case ${1:-} in
	install) shift; install "$@" ;;
	uninstall) uninstall ;;
	*) die "usage: $0 install [KERNELVER] | uninstall" ;;
	esac
}

main "$@"
