#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Count the KUnit cases of one guest with the kernel tree's KTAP parser.
#
#   kunit-results.sh GUEST RESULT
#
# The kunit job frames each test module's load with CSQ-KUNIT-BEGIN/END;
# each frame is one KTAP document, handed to `kunit.py parse` on its own so
# that boot noise and other modules cannot confuse it.  Every case counts:
# crashed and unparsable ones as failures.  Writes build/results/RESULT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# Frame of module $2 in console log $1; to the end if it never closed.
frame() {
	awk -v m="$2" '
		$0 ~ "CSQ-KUNIT-BEGIN " m "$" { on = 1; next }
		$0 ~ "CSQ-KUNIT-END " m "$" { on = 0 }
		on' "$1"
}

# "Ran 12 tests: passed: 11, failed: 1" -> the value of one status.
count() {
	sed -n "s/.*Testing complete\. Ran [0-9]* tests:.*\b$2: \([0-9]*\).*/\1/p" "$1" |
		tail -n1 | grep . || echo 0
}

main() {
	[ $# -eq 2 ] || die "usage: $0 GUEST RESULT"
	local guest=$1 result=$2 log kunit mod out passed=0 failed=0 skipped=0 n=0
	log=$CSQ_LOGS/$guest.log
	kunit=$("$CSQ_QEMU/linux-source.sh")/tools/testing/kunit/kunit.py
	mkdir -p "$CSQ_RESULTS"
	for mod in $(sed -n 's/.*CSQ-KUNIT-BEGIN \([A-Za-z0-9_]*\)$/\1/p' "$log" 2>/dev/null); do
		n=$((n + 1))
		out=$CSQ_LOGS/$guest.$mod.parsed
		step "KUnit results of $mod ($guest)"
		frame "$log" "$mod" >"$CSQ_LOGS/$guest.$mod.ktap"
		python3 "$kunit" parse <"$CSQ_LOGS/$guest.$mod.ktap" >"$out" 2>&1 || true
		cat "$out"
		passed=$((passed + $(count "$out" passed)))
		failed=$((failed + $(count "$out" failed) + $(count "$out" crashed) + $(count "$out" errors)))
		skipped=$((skipped + $(count "$out" skipped)))
		if ! grep -q 'Testing complete' "$out"; then
			failed=$((failed + 1))
		fi
	done
	if [ "$n" = 0 ]; then
		step "no KUnit output in ${log#"$CSQ_TOP"/}"
		failed=1
	fi
	echo "$passed $failed KUnit cases ($skipped skipped)" >"$CSQ_RESULTS/$result"
}

main "$@"
