#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# make kunit-tree: csq dropped into a kernel tree, its KUnit suites run by
# the tree's own kunit.py.  The proof that Kbuild and Kconfig work in-tree.
#
#   kunit-tree.sh [RESULT]
#
# The extracted linux-source-6.12 is shared with every other build, so it is
# never written: a copy made of hard links (cp -al) lives in the cache,
# keyed by source version, with drivers/csq/ added and the two lines that
# hook it in (a `source` in drivers/Kconfig, `obj-y += csq/` in
# drivers/Makefile).  Every run mirrors what kbuild reads
# (kbuild_sources_to) into drivers/csq/ with rsync (mtimes kept, new files replaced
# rather than written through a link) and runs
#
#   kunit.py run --kunitconfig=kunit/.kunitconfig --build_dir=<cache>
#
# whose build is incremental: a second run recompiles what changed.
# CSQ_KUNIT_ARCH picks the architecture (default um; x86_64 runs under
# QEMU, TCG), CSQ_KUNIT_ARGS adds kunit.py arguments (split at spaces).  Log:
# build/logs/kunit-tree.log.  Writes build/results/RESULT (default
# kunit-tree) with the cases kunit.py counted.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ARCH=${CSQ_KUNIT_ARCH:-um}

tree_dir() {
	printf '%s/kunit-tree/%s\n' "$CSQ_CACHE" "$(pkg_version "$CSQ_SRC_PKG")"
}

# Replace file $1 by the output of "$2 <file>" through a new inode: in the
# linked copy, writing the file in place would write the shared tree too.
rewrite() {
	local file=$1 tmp
	shift
	tmp=$(mktemp "$file.XXXXXX")
	"$@" <"$file" >"$tmp"
	chmod --reference="$file" "$tmp"
	mv -f "$tmp" "$file"
}

hook_kconfig() {
	sed 's|^endmenu$|source "drivers/csq/Kconfig"\n\nendmenu|'
}

hook_makefile() {
	cat
	printf 'obj-y\t\t\t\t+= csq/\n'
}

# The linked copy of the source tree, made once per source version.
make_tree() {
	local src=$1 linux=$2 tmp
	[ -f "$linux/.csq-linked" ] && return
	step "linking a copy of $(basename "$src") into $linux"
	rm -rf "$linux" "$linux.tmp"
	mkdir -p "$(dirname "$linux")"
	tmp=$linux.tmp
	cp -al "$src" "$tmp"
	rm -f "$tmp/.csq-extracted"
	rewrite "$tmp/drivers/Kconfig" hook_kconfig
	rewrite "$tmp/drivers/Makefile" hook_makefile
	grep -qx 'source "drivers/csq/Kconfig"' "$tmp/drivers/Kconfig" ||
		die "could not hook drivers/Kconfig"
	mkdir -p "$tmp/drivers/csq"
	mv "$tmp" "$linux"
	touch "$linux/.csq-linked"
}

mirror() {
	kbuild_sources_to "$1/drivers/csq" --delete
}

# Which step kunit.py is at, from what it has printed so far.
phase() {
	case $(grep -E '^(Generating|Regenerating|Populating|Building|Running tests|Starting)' \
		"$1" | tail -n1) in
	Running*|Starting*) echo "running the tests" ;;
	Building*) echo "building" ;;
	'') echo "starting" ;;
	*) echo "configuring" ;;
	esac
}

# kunit.py sends make's output to /dev/null; the heartbeat counts the
# objects this run has compiled instead.
run_kunit() {
	local linux=$1 out=$2 log=$3 stamp=$2.stamp pid start=$SECONDS n=0 args
	args=(--arch="$ARCH" --jobs="$(nproc)" --build_dir="$out"
	      --kunitconfig="$CSQ_TOP/kunit/.kunitconfig")
	# Our additions for this architecture (qemu/kunit-ARCH.config).
	[ ! -f "$CSQ_QEMU/kunit-$ARCH.config" ] ||
		args+=(--kunitconfig="$CSQ_QEMU/kunit-$ARCH.config")
	# Under QEMU: as many vCPUs as cores, for the races; never KVM.
	[ "$ARCH" = um ] || args+=("--qemu_args=-smp $(nproc) -accel tcg")
	# shellcheck disable=SC2206
	args+=(${CSQ_KUNIT_ARGS:-})
	mkdir -p "$out"
	touch "$stamp"
	# Our own make's command line is not the kernel's.
	(unset MAKEFLAGS MFLAGS MAKELEVEL
	 exec python3 -u "$linux/tools/testing/kunit/kunit.py" run "${args[@]}") \
		>"$log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		n=$((n + 1))
		[ $((n % 30)) = 0 ] || continue
		printf '    %3ds: %s, %s objects compiled\n' $((SECONDS - start)) \
			"$(phase "$log")" \
			"$(find "$out" -name '*.o' -newer "$stamp" 2>/dev/null | wc -l)" >&2
	done
	if wait "$pid"; then
		step "kunit.py done in $((SECONDS - start)) s"
	else
		step "kunit.py failed after $((SECONDS - start)) s (log: ${log#"$CSQ_TOP"/})"
	fi
}

# A write through a link would have changed the shared tree: say so loudly.
check_links() {
	local linux=$1 changed
	changed=$(find "$linux" -type f -links +1 -newer "$linux/.csq-linked" | head -n5)
	[ -z "$changed" ] ||
		die "files shared with the extracted source changed: $changed"
}

# "Testing complete. Ran 57 tests: passed: 57" -> the value of one status.
count() {
	sed -n "s/.*Testing complete\. Ran [0-9]* tests:.*\b$2: \([0-9]*\).*/\1/p" "$1" |
		tail -n1 | grep . || echo 0
}

record() {
	local log=$1 result=$2 passed failed skipped
	passed=$(count "$log" passed)
	failed=$(( $(count "$log" failed) + $(count "$log" crashed) + $(count "$log" errors) ))
	skipped=$(count "$log" skipped)
	if ! grep -q 'Testing complete' "$log"; then
		tail -n 30 "$log" >&2
		step "kunit.py reported no result (log: ${log#"$CSQ_TOP"/})"
		failed=$((failed + 1))
	else
		grep -E '\[(FAILED|CRASHED)\]|Testing complete' "$log" >&2 || true
	fi
	echo "$passed $failed KUnit cases in-tree, $ARCH ($skipped skipped)" \
		>"$CSQ_RESULTS/$result"
}

main() {
	local result=${1:-kunit-tree} src dir linux out log
	src=$("$CSQ_QEMU/linux-source.sh")
	dir=$(tree_dir)
	linux=$dir/linux
	out=$dir/build-$ARCH
	log=$CSQ_LOGS/kunit-tree.log
	mkdir -p "$CSQ_RESULTS" "$CSQ_LOGS" "$(dirname "$dir")"
	rm -f "$CSQ_RESULTS/$result"
	# Two runs in one build directory would corrupt each other.
	exec 9>"$dir.lock"
	flock 9
	make_tree "$src" "$linux"
	mirror "$linux"
	step "kunit.py run --arch=$ARCH in ${linux/#"$HOME"/\~} (build: ${out/#"$HOME"/\~})"
	run_kunit "$linux" "$out" "$log"
	check_links "$linux"
	record "$log" "$result"
}

main "$@"
