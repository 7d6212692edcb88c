# SPDX-License-Identifier: GPL-2.0
# make bench: /dev/csq against a pipe from user space (csq_bench), then the
# library's own cost in the kernel (csq_bench.ko), all in this one boot.
# Both print CSQ-BENCH lines that qemu/bench-results.sh turns into a table.
# Kernel command line words csq_bench_rounds=N and csq_bench_only=PREFIX
# (the user-space figures whose id starts so, for quick loops) reach us as
# variables.
#
# The device is loaded as shipped; csq_bench sets its capacity for the
# tuned figures and puts it back.
rounds=${csq_bench_rounds:-7}
moddir=/lib/modules/csq
csq_insmod csq csqdev || exit 1
echo "# clocksource: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)"
echo "# cpus: $(grep -c ^processor /proc/cpuinfo)"
rc=0
csq_bench "$rounds" ${csq_bench_only:+"$csq_bench_only"} || rc=1
csq_bench_async "$rounds" || rc=1
if insmod $moddir/csq_bench.ko rounds="$rounds"; then
	rmmod csq_bench || rc=1
else
	echo "CSQ-FAIL insmod csq_bench"
	rc=1
fi
csq_rmmod_all || rc=1
exit $rc
