#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build the 6.12 debug kernel (KUnit, KASAN, lockdep, kmemleak, ...) out of
# tree into the cache, keyed by source version and config fragment, unless
# that exact build is already there.  Prints the build directory (KDIR).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

check_fragment() {
	local out=$1 line sym want got bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			sym=${line%%=*}; want=$line ;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }; sym=${sym%% *}; want="" ;;
		*) continue ;;
		esac
		got=$(grep -E "^$sym=" "$out/.config" || true)
		if [ "$got" != "$want" ]; then
			printf 'fragment line lost: %s (have: %s)\n' "$line" "${got:-unset}" >&2
			bad=1
		fi
	done < "$CSQ_QEMU/debug.config"
	return $bad
}

build() {
	local src=$1 out=$2 log=$3 jobs
	jobs=$(( $(nproc) + 1 ))
	mkdir -p "$out"
	cp "$CSQ_QEMU/debug.config" "$out/.config"
	make -C "$src" O="$out" ARCH=x86_64 olddefconfig >"$log" 2>&1
	check_fragment "$out" || die "config fragment does not apply (see $out/.config)"
	step "building debug kernel $(basename "$out") with -j$jobs (log: $log)"
	# One line per finished object would flood the terminal; show a
	# heartbeat with the count of objects built so far instead.
	make -C "$src" O="$out" ARCH=x86_64 -j"$jobs" bzImage modules >>"$log" 2>&1 &
	local pid=$! start=$SECONDS
	while kill -0 "$pid" 2>/dev/null; do
		sleep 30
		printf '    %3ds: %s objects\n' $((SECONDS - start)) \
			"$(grep -c '^  CC' "$log" || true)" >&2
	done
	wait "$pid" || { tail -n 40 "$log" >&2; die "debug kernel build failed (log: $log)"; }
	step "debug kernel built in $((SECONDS - start)) s"
}

main() {
	local src out log
	src=$("$CSQ_QEMU/linux-source.sh")
	out=$(debug_kernel_dir)
	if [ ! -f "$out/.csq-built" ]; then
		mkdir -p "$CSQ_BUILD/logs"
		log=$CSQ_BUILD/logs/debug-kernel.log
		rm -rf "$out"
		build "$src" "$out" "$log"
		touch "$out/.csq-built"
	fi
	printf '%s\n' "$out"
}

main "$@"
