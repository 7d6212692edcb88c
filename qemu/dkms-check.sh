#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make dkms-check: `dkms add` and `dkms build` of dkms.conf against the
# stock kernel's headers, as a user of a Debian machine would run them,
# but in private trees under build/dkms/: nothing goes to /usr/src,
# /var/lib/dkms or /lib/modules, nothing is loaded, and every run starts
# from an empty tree.
#
#   dkms-check.sh [RESULT]
#
# dkms signs what it builds when the kernel's sign-file is there, making a
# key on first use; the key goes to the private tree as well.  One check in
# build/results/RESULT (default dkms-stock): every module built, for the
# headers' release; exits 1 if not.  Log: build/logs/dkms-check.log.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

dkms_private() {
	# dkms reads these from the environment when framework.conf leaves
	# them unset, and would otherwise keep its key in /var/lib/dkms.
	TMPDIR=$ROOT/tmp mok_signing_key=$ROOT/mok.key mok_certificate=$ROOT/mok.pub \
		dkms "$@" --dkmstree "$ROOT/var" --sourcetree "$ROOT/src"
}

# The modules dkms kept, each built for release $2.
check_modules() {
	local dir=$1 rel=$2 mod magic ok=0
	for mod in csq csqdev csq_cancel; do
		magic=$(modinfo -F vermagic "$dir/$mod.ko" 2>/dev/null) || {
			step "dkms: no $mod.ko in ${dir#"$CSQ_TOP"/}"
			ok=1
			continue
		}
		[ "${magic%% *}" = "$rel" ] || {
			step "dkms: $mod.ko is for ${magic%% *}, not $rel"
			ok=1
		}
	done
	return $ok
}

main() {
	local result=${1:-dkms-stock} kdir rel ver log arch ok=0
	kdir=$("$CSQ_QEMU/stock-kernel.sh")
	rel=$(kdir_release "$kdir")
	arch=$(uname -m)
	ROOT=$CSQ_BUILD/dkms
	log=$CSQ_LOGS/dkms-check.log
	mkdir -p "$CSQ_RESULTS" "$CSQ_LOGS"
	rm -f "$CSQ_RESULTS/$result"
	rm -rf "$ROOT"
	mkdir -p "$ROOT/var" "$ROOT/src" "$ROOT/tmp"
	ver=$("$CSQ_QEMU/dkms-source.sh" "$ROOT/src")
	step "dkms build csq/$ver for $rel (log: ${log#"$CSQ_TOP"/})"
	# Our own make's command line is not kbuild's.
	unset MAKEFLAGS MFLAGS MAKELEVEL
	{
		dkms_private add -m csq -v "$ver" -k "$rel" &&
		dkms_private build -m csq -v "$ver" -k "$rel" \
			--kernelsourcedir "$kdir" -j "$(nproc)" &&
		dkms_private status -m csq -v "$ver"
	} >"$log" 2>&1 || ok=1
	# dkms keeps make's output in the tree: build/ if it failed, else log/.
	cat "$ROOT/var/csq/$ver/build/make.log" \
		"$ROOT/var/csq/$ver/$rel/$arch/log/make.log" >>"$log" 2>/dev/null || true
	if [ $ok = 0 ]; then
		check_modules "$ROOT/var/csq/$ver/$rel/$arch/module" "$rel" || ok=1
	fi
	if [ $ok = 0 ]; then
		sed -n 's/^csq\//    csq\//p' "$log" >&2
		echo "1 0 dkms build, $rel headers" >"$CSQ_RESULTS/$result"
	else
		tail -n 30 "$log" >&2
		step "dkms build FAILED (log: ${log#"$CSQ_TOP"/})"
		echo "0 1 dkms build, $rel headers" >"$CSQ_RESULTS/$result"
		exit 1
	fi
}

main "$@"
