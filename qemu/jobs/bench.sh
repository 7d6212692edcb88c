# SPDX-License-Identifier: GPL-2.0
# make bench: /dev/csq against a pipe from user space (csq_bench), then the
# library's own cost in the kernel (csq_bench.ko), all in this one boot.
# Both print CSQ-BENCH lines that qemu/bench-results.sh turns into a table.
# Kernel command line words csq_bench_rounds=N and csq_bench_only=ID (one
# user-space figure, for quick loops) reach us as variables.
#
# The device keeps as many messages as csq_bench makes its pipe keep: a
# backlog of 1024, the fewest 4-byte messages a one-page pipe holds.
rounds=${csq_bench_rounds:-7}
moddir=/lib/modules/csq
csq_insmod csq || exit 1
insmod $moddir/csqdev.ko backlog=1024 || {
	echo "CSQ-FAIL insmod csqdev"
	exit 1
}
echo "# clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "# cpus: $(grep -c ^processor /proc/cpuinfo)"
rc=0
csq_bench "$rounds" ${csq_bench_only:+"$csq_bench_only"} || rc=1
if insmod $moddir/csq_bench.ko rounds="$rounds"; then
	rmmod csq_bench || rc=1
else
	echo "CSQ-FAIL insmod csq_bench"
	rc=1
fi
rmmod csqdev || rc=1
csq_rmmod_all || rc=1
exit $rc
