#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Turn the CSQ-BENCH lines of one bench guest into a Markdown table.
#
#   bench-results.sh GUEST
#
# Reads build/logs/GUEST.log and writes build/bench/results.md; with
# CSQ_BENCH_LABEL=name it also keeps a copy as build/bench/results-name.md
# (for example "before" and "after" a design change).  A line is
#   CSQ-BENCH <id> <unit> <csq> <anchor> <le|ge> <goal> <what...>
# and its ratio is csq/anchor, to be <= (le) or >= (ge) the goal (info: no
# goal, printed for the record).  Fails if
# the guest printed no figure at all; a missed goal is reported, not failed:
# timing is never a test verdict.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

OUT=$CSQ_BUILD/bench

# Strip the console's printk prefixes and module name; keep our lines.
bench_lines() {
	sed -n 's/.*\(CSQ-BENCH.*\)$/\1/p' "$1"
}

table() {
	awk '
	$1 == "CSQ-BENCH" {
		what = $8
		for (i = 9; i <= NF; i++)
			what = what " " $i
		ratio = $5 > 0 ? $4 / $5 : 0
		if ($6 == "le") {
			goal = "<= " $7
			verdict = ratio <= $7 ? "met" : "MISSED"
		} else if ($6 == "ge") {
			goal = ">= " $7
			verdict = ratio >= $7 ? "met" : "MISSED"
		} else {
			goal = "(for the record)"
			verdict = ""
		}
		printf "| %s | `%s` | %s | %s | %s | **%.2f** | %s | %s |\n", \
			what, $2, $4, $5, $3, ratio, goal, verdict
	}'
}

rounds() {
	awk '$1 == "CSQ-BENCH-ROUND" { printf "    %-16s round %s: csq %s, anchor %s\n", $2, $3, $4, $5 }'
}

main() {
	[ $# -eq 1 ] || die "usage: $0 GUEST"
	local log=$CSQ_LOGS/$1.log lines md=$OUT/results.md
	[ -f "$log" ] || die "no console $log (run: make bench)"
	lines=$(bench_lines "$log")
	grep -q '^CSQ-BENCH ' <<<"$lines" || die "no CSQ-BENCH figure in $log"
	mkdir -p "$OUT"
	{
		printf '# csq benchmark\n\n'
		printf 'Kernel %s, %s; source %s; %s.\n' \
			"$(sed -n 's/.*CSQ-JOB-BEGIN //p' "$log" | head -n1)" \
			"$(sed -n 's/^# \(clocksource: .*\)/\1/p' "$log" | head -n1)" \
			"$(git -C "$CSQ_TOP" describe --always --dirty 2>/dev/null || echo unknown)" \
			"$(date -u '+%Y-%m-%d %H:%M UTC')"
		printf 'Each value is the median of the rounds; the ratio is csq / anchor.\n\n'
		printf '| figure | id | csq | anchor | unit | ratio | goal | |\n'
		printf '|---|---|---:|---:|---|---:|---|---|\n'
		table <<<"$lines"
		printf '\nAnchors: the user-space figures against a pipe in the same setup;\n'
		printf 'insert-remove against bare list ops under a spinlock; cancel and\n'
		printf 'sweep against the same operation at depth 1 / N = 1.\n\n'
		printf 'Rounds:\n\n'
		rounds <<<"$lines"
	} >"$md"
	if [ -n "${CSQ_BENCH_LABEL:-}" ]; then
		cp "$md" "$OUT/results-$CSQ_BENCH_LABEL.md"
	fi
	cat "$md"
}

main "$@"
