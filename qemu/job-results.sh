#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Count the checks of one guest job.
#
#   job-results.sh GUEST RESULT WHAT NAME...
#
# Each NAME is a program run by csq_run_test, or a set of checks a job
# made in shell (csq_checks_end); either prints one "CSQ-TEST NAME rc=N
# pass=P fail=F ..." line.  Every check counts; a NAME that exited
# non-zero without a failing check, or never printed its line (the guest
# died first), counts one more failure.  The NAME "kmemleak" is the leak
# scan the guest makes after its job: one check, passed if the scan ran
# and reported nothing.  Writes "PASSED FAILED WHAT" to
# build/results/RESULT.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# The lines kmemleak printed in the scan after the job, and the end mark.
kmemleak_scan() {
	sed -n '/^CSQ-KMEMLEAK scanning/,/^CSQ-KMEMLEAK done/p' "$1" 2>/dev/null
}

kmemleak_clean() {
	local scan
	scan=$(kmemleak_scan "$1")
	grep -q '^CSQ-KMEMLEAK done' <<<"$scan" &&
		! grep -qE 'unreferenced object|suspected memory leak' <<<"$scan"
}

main() {
	[ $# -ge 4 ] || die "usage: $0 GUEST RESULT WHAT NAME..."
	local guest=$1 result=$2 what=$3 log name line p f passed=0 failed=0
	shift 3
	log=$CSQ_LOGS/$guest.log
	mkdir -p "$CSQ_RESULTS"
	for name in "$@"; do
		if [ "$name" = kmemleak ]; then
			if kmemleak_clean "$log"; then
				passed=$((passed + 1))
			else
				step "kmemleak: no clean leak scan in $guest"
				failed=$((failed + 1))
			fi
			continue
		fi
		line=$(grep -E "^CSQ-TEST $name rc=" "$log" 2>/dev/null | tail -n1 || true)
		if [ -z "$line" ]; then
			step "$name: did not run in $guest"
			failed=$((failed + 1))
			continue
		fi
		read -r p f _ < <(test_line_counts "$line")
		passed=$((passed + p))
		failed=$((failed + f))
	done
	echo "$passed $failed $what" >"$CSQ_RESULTS/$result"
}

main "$@"
