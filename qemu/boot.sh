#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Boot one guest under QEMU and judge its console.
#
#   boot.sh NAME KERNEL INITRD [LABEL]
#
# The console is echoed live and kept in build/logs/NAME.log.  The boot
# passes when the guest printed its sentinel with rc=0, powered off through
# isa-debug-exit before the timeout, and the console holds no kernel splat.
# "Console clean" (sentinel reached, no splat) is also recorded as one check
# in build/results/console-NAME for qemu/summary.sh.
#
# Multi-threaded TCG now and then wedges a vCPU in early boot (seen once in
# about 20 boots of the stock kernel: a soft lockup in the crypto self-tests,
# before any csq code is loaded).  A guest that has not started its job
# after CSQ_BOOT_TIMEOUT seconds is therefore killed and booted once more;
# its console is kept as NAME.hung.log.  Anything after the job started is
# the test's own verdict and is never retried.
#
# Environment: QEMU_ACCEL (tcg; kvm hangs on these machines), CSQ_TIMEOUT
# (whole boot, seconds, default 300), CSQ_BOOT_TIMEOUT (until the job
# starts, default 120), CSQ_MEM (2G: KASAN's shadow wants it), CSQ_CMDLINE
# (appended), CSQ_QUIET=1 (log only, no live echo).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Case-sensitive on purpose: "kasan: KernelAddressSanitizer initialized"
# and the lockdep banner's MAX_LOCKDEP_* lines are not splats.
SPLAT='BUG:|WARNING:|KASAN|possible recursive locking|possible circular locking|inconsistent lock state|lockdep|INFO: task .* blocked for more than|unreferenced object|suspected memory leak|Kernel panic|Oops|general protection fault|UBSAN'
# Test output (KTAP and kselftest: "ok", "not ok", "# ...") names tests
# and carries their diagnostics; a test called *_lockdep_* is no splat.
TEST_LINE='^(\[ *[0-9]+\.[0-9]+\] )?[[:space:]]*(ok |not ok |#)'
# Banners of a debug kernel that name a checker without reporting anything.
BENIGN='RCU lockdep checking is enabled'
SENTINEL='CSQ-GUEST-DONE rc='
JOB_STARTED='CSQ-JOB-BEGIN'

cmdline() {
	printf '%s' "console=ttyS0 panic=-1 oops=panic loglevel=5 printk.time=1"
	# Fixed addresses make call traces comparable between runs; TCG
	# gains nothing from speculation mitigations.
	printf ' %s' nokaslr mitigations=off edd=off
	printf ' %s' ${CSQ_CMDLINE:-}
}

# Kill the guest if it has not reached its job within $3 seconds, and say
# so in $4.
watch_boot() {
	local log=$1 pidfile=$2 limit=$3 hung=$4 t=0
	while [ "$t" -lt "$limit" ]; do
		sleep 1
		t=$((t + 1))
		grep -q "$JOB_STARTED" "$log" 2>/dev/null && return 0
	done
	touch "$hung"
	kill "$(cat "$pidfile")" 2>/dev/null || true
}

run_qemu() {
	local kernel=$1 initrd=$2 log=$3 timeout=$4 accel=${QEMU_ACCEL:-tcg}
	local pidfile=$log.pid
	local -a qemu=(
		qemu-system-x86_64 -accel "$accel" -smp 2 -m "${CSQ_MEM:-2G}"
		-nographic -no-reboot -nic none -pidfile "$pidfile"
		-device isa-debug-exit,iobase=0xf4,iosize=0x04
		-kernel "$kernel" -initrd "$initrd" -append "$(cmdline)"
	)
	[ "$accel" != kvm ] || qemu+=(-cpu host)
	# stdin from /dev/null: QEMU must not put the terminal in raw mode.
	# Every stage line-buffered, so a hung guest still shows how far it got.
	# The firmware's terminal resets and screen clears are stripped so the
	# live echo does not wipe the user's terminal.
	timeout --kill-after=10 "$timeout" "${qemu[@]}" </dev/null 2>&1 |
		sed -u -e 's/\r//g' -e 's/\x1bc/\n/g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' |
		if [ -n "${CSQ_QUIET:-}" ]; then cat >"$log"; else tee "$log"; fi
	return "${PIPESTATUS[0]}"
}

# Boot once; sets qrc.  Returns 1 if the guest hung before its job.
boot_once() {
	local kernel=$1 initrd=$2 log=$3 timeout=$4 watcher hung=$3.hung
	rm -f "$hung" "$log.pid"
	: >"$log"
	watch_boot "$log" "$log.pid" "${CSQ_BOOT_TIMEOUT:-120}" "$hung" &
	watcher=$!
	qrc=0
	run_qemu "$kernel" "$initrd" "$log" "$timeout" || qrc=$?
	kill "$watcher" 2>/dev/null || true
	wait "$watcher" 2>/dev/null || true
	rm -f "$log.pid"
	[ ! -e "$hung" ] || { rm -f "$hung"; return 1; }
}

splats() {
	grep -nE "$SPLAT" "$1" | grep -vE "^[0-9]+:$TEST_LINE" |
		grep -vE "$BENIGN" || true
}

# The first lines of each splat (at most three), for the failure report.
show_splats() {
	local log=$1 n
	for n in $(splats "$log" | cut -d: -f1 | head -n 3); do
		printf -- '--- %s:%s\n' "${log#"$CSQ_TOP"/}" "$n"
		sed -n "$((n > 3 ? n - 3 : 1)),$((n + 30))p" "$log"
	done
}

guest_rc() {
	sed -n "s/.*$SENTINEL\([0-9]*\).*/\1/p" "$1" | tail -n1
}

record_console() {
	local name=$1 ok=$2
	mkdir -p "$CSQ_RESULTS"
	if [ "$ok" = 1 ]; then
		echo "1 0 console clean" >"$CSQ_RESULTS/console-$name"
	else
		echo "0 1 console clean" >"$CSQ_RESULTS/console-$name"
	fi
}

# QEMU exits with (code << 1) | 1 through isa-debug-exit, 124 on timeout,
# 0 when the guest rebooted (panic=-1, or reboot -f as a fallback).
verdict() {
	local name=$1 log=$2 qrc=$3 secs=$4 rc why=
	rc=$(guest_rc "$log")
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		why="timed out after ${secs} s"
	elif [ -z "$rc" ]; then
		why="guest died before its sentinel (qemu exit $qrc)"
	fi
	if [ -n "$(splats "$log")" ]; then
		why="${why:+$why; }kernel splat on the console"
	fi
	if [ -z "$why" ]; then
		record_console "$name" 1
	else
		record_console "$name" 0
	fi
	if [ -z "$why" ] && [ "$rc" != 0 ]; then
		why="job failed (rc=$rc)"
	fi
	if [ -z "$why" ]; then
		step "guest $name: passed in ${secs} s"
		return 0
	fi
	printf '\n' >&2
	step "guest $name FAILED: $why (log: ${log#"$CSQ_TOP"/})"
	if [ -n "$(splats "$log")" ]; then
		show_splats "$log" >&2
	else
		printf -- '--- last lines of the console:\n' >&2
		tail -n 30 "$log" >&2
	fi
	return 1
}

main() {
	[ $# -ge 3 ] || die "usage: $0 NAME KERNEL INITRD [LABEL]"
	local name=$1 kernel=$2 initrd=$3 label=${4:-$2}
	local timeout=${CSQ_TIMEOUT:-300} log start qrc=0
	[ -f "$kernel" ] || die "no kernel image $kernel"
	mkdir -p "$CSQ_LOGS"
	log=$CSQ_LOGS/$name.log
	rm -f "$CSQ_RESULTS/console-$name"
	step "booting guest $name: $label (${QEMU_ACCEL:-tcg}, timeout ${timeout} s)"
	start=$SECONDS
	if ! boot_once "$kernel" "$initrd" "$log" "$timeout"; then
		mv "$log" "${log%.log}.hung.log"
		step "guest $name hung before its job started (QEMU, not csq; console: ${log#"$CSQ_TOP"/} -> .hung.log): booting again"
		start=$SECONDS
		boot_once "$kernel" "$initrd" "$log" "$timeout" ||
			step "guest $name hung before its job again"
	fi
	verdict "$name" "$log" "$qrc" $((SECONDS - start))
}

main "$@"
