#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make lint: the kernel's own checkers on every source file, zero warnings.
# Each tool is one check in build/results/lint-TOOL:
#   checkpatch  checkpatch.pl --strict on every C file
#   sparse      make modules C=2 against the debug kernel
#   warnings    a W=1 module build, and the userspace build with -Werror
#   kernel-doc  kernel-doc -none -Wall on the kernel C files
#   docs        docs/*.rst read by docutils, and the csq names they use
# The debug kernel is used because it has KUnit, so every module builds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

record() {
	local tool=$1 ok=$2
	if [ "$ok" = 1 ]; then
		echo "1 0 $3" >"$CSQ_RESULTS/lint-$tool"
	else
		echo "0 1 $3" >"$CSQ_RESULTS/lint-$tool"
		step "lint: $tool FAILED"
	fi
}

sources() {
	(cd "$CSQ_TOP" && find "$@" -name '*.[ch]' 2>/dev/null | LC_ALL=C sort)
}

checkpatch() {
	local f ok=1
	step "lint: checkpatch --strict"
	for f in $(sources module kunit bench examples userspace qemu); do
		"$SRC/scripts/checkpatch.pl" --strict --no-tree --quiet \
			--show-types -f "$CSQ_TOP/$f" || ok=0
	done
	record checkpatch $ok "checkpatch.pl --strict"
}

# One throwaway build of the modules, fresh so that every file is compiled
# and warns again.  Its output goes to $2; fails if the build fails.
kbuild_lint() {
	local out=$CSQ_BUILD/lint/$1 log=$2
	shift 2
	rm -rf "$out"
	CSQ_MODULES_OUT=$out "$CSQ_QEMU/build-modules.sh" "$KDIR" "$@" \
		>/dev/null 2>"$log" && return
	tail -n 20 "$log"
	return 1
}

# Diagnostics in log $2 about files of build/lint/$1, with the mirror's
# prefix dropped so they name the sources; fails if there are any.
diagnostics() {
	local dir=$CSQ_BUILD/lint/$1/
	! grep -E "^$dir.*(warning|error):" "$2" | sed "s|^$dir||" | sort -u | grep .
}

sparse() {
	local log=$CSQ_LOGS/lint-sparse.log ok=1
	step "lint: sparse (C=2)"
	kbuild_lint sparse "$log" C=2 || ok=0
	# Only our files: the kernel's own headers are not ours to fix.
	diagnostics sparse "$log" || ok=0
	record sparse $ok "sparse"
}

warnings() {
	local log=$CSQ_LOGS/lint-warnings.log ulog=$CSQ_LOGS/lint-userspace.log ok=1 f
	step "lint: W=1 module build, userspace -Werror"
	kbuild_lint w1 "$log" W=1 || ok=0
	diagnostics w1 "$log" || ok=0
	# modpost speaks in capitals and names no source file.
	grep -E "^WARNING:|^ERROR:" "$log" && ok=0
	mkdir -p "$CSQ_BUILD/lint/userspace"
	: >"$ulog"
	for f in $(sources userspace); do
		case $f in *.c) ;; *) continue ;; esac
		gcc -static -O2 -Wall -Wextra -Werror -pthread \
			-I "$CSQ_TOP/module/uapi" -isystem "$SRC/tools/testing/selftests" \
			-o "$CSQ_BUILD/lint/userspace/$(basename "$f" .c)" \
			"$CSQ_TOP/$f" -luring -laio >>"$ulog" 2>&1 || ok=0
	done
	[ ! -s "$ulog" ] || { cat "$ulog"; ok=0; }
	record warnings $ok "W=1 and userspace warnings"
}

kernel_doc() {
	local f out ok=1
	step "lint: kernel-doc -none -Wall"
	for f in $(sources module kunit bench examples); do
		out=$("$SRC/scripts/kernel-doc" -none -Wall "$CSQ_TOP/$f" 2>&1) || ok=0
		[ -z "$out" ] || { printf '%s\n' "$out"; ok=0; }
	done
	record kernel-doc $ok "kernel-doc -Wall"
}

# The guides: reStructuredText that docutils reads without a warning, as
# the kernel's Sphinx build would need, and no csq_*() or csqdev_*() name
# that the code does not have, so that they follow the API.
docs() {
	local f name ok=1 code
	step "lint: docs (docutils, the names they use)"
	code=$(cd "$CSQ_TOP" && find module examples -name '*.[ch]')
	for f in "$CSQ_TOP"/docs/*.rst; do
		[ -f "$f" ] || continue
		/usr/bin/python3 -m docutils --halt=warning --report=warning \
			"$f" /dev/null || ok=0
		for name in $(grep -oE '\bcsq(dev)?_[a-z0-9_]+\(\)' "$f" | sort -u); do
			# shellcheck disable=SC2086
			(cd "$CSQ_TOP" && grep -qw -- "${name%()}" $code) || {
				echo "${f#"$CSQ_TOP"/}: $name is not in module/ or examples/"
				ok=0
			}
		done
	done
	record docs $ok "docs: docutils and names"
}

main() {
	SRC=$("$CSQ_QEMU/linux-source.sh")
	KDIR=$("$CSQ_QEMU/build-debug-kernel.sh")
	mkdir -p "$CSQ_RESULTS" "$CSQ_LOGS"
	rm -f "$CSQ_RESULTS"/lint-*
	checkpatch
	sparse
	warnings
	kernel_doc
	docs
}

main "$@"
