#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Add up the results the test halves recorded in build/results/.
#
#   summary.sh NAME...
#
# Each build/results/NAME holds "PASSED FAILED what".  A NAME with no file
# means that part never ran (a build broke, a guest never booted): one
# failure, so a half that falls over cannot look like a clean run.  Prints
# one line per part, then "N passed, N failed"; exits 1 if anything failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

main() {
	local name p f what passed=0 failed=0
	for name in "$@"; do
		if [ -s "$CSQ_RESULTS/$name" ]; then
			read -r p f what <"$CSQ_RESULTS/$name"
		else
			p=0 f=1 what="did not run"
		fi
		printf '  %-24s %4d passed %4d failed  %s\n' "$name" "$p" "$f" "$what"
		passed=$((passed + p))
		failed=$((failed + f))
	done
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" = 0 ]
}

main "$@"
