#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Count the userspace test cases of one guest.
#
#   utest-results.sh GUEST RESULT
#
# The guest prints one "CSQ-TEST name rc=N pass=P fail=F ..." line per
# binary, from the kselftest harness's Totals.  Every case counts; xfail
# passes, xpass and error fail, skip is neither.  A binary that exited
# non-zero without a failing case, died before its totals, or never ran
# (every build/userspace/*_test is expected) counts one more failure.
# Writes build/results/RESULT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

main() {
	[ $# -eq 2 ] || die "usage: $0 GUEST RESULT"
	local guest=$1 result=$2 log bin name line p f s skipped=0 passed=0 failed=0
	log=$CSQ_LOGS/$guest.log
	mkdir -p "$CSQ_RESULTS"
	for bin in "$CSQ_BUILD"/userspace/*_test; do
		[ -x "$bin" ] || continue
		name=${bin##*/}
		line=$(grep -E "CSQ-TEST $name rc=" "$log" 2>/dev/null | tail -n1 || true)
		if [ -z "$line" ]; then
			step "$name: did not run in $guest"
			failed=$((failed + 1))
			continue
		fi
		read -r p f s < <(test_line_counts "$line")
		skipped=$((skipped + s))
		passed=$((passed + p))
		failed=$((failed + f))
	done
	if [ $((passed + failed)) = 0 ]; then
		step "no userspace test cases ran in $guest"
		failed=1
	fi
	echo "$passed $failed userspace cases ($skipped skipped)" >"$CSQ_RESULTS/$result"
}

main "$@"
