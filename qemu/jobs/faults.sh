# SPDX-License-Identifier: GPL-2.0
# make faults: csqdev's allocations fail on purpose (csq_faults aims
# failslab and fail_page_alloc at the module and counts the failures it
# injected).  Both modules then unload, so that the leak scan after the
# job sees everything they allocated.
csq_insmod csq csqdev || exit 1
csq_run_test /usr/bin/csq/csq_faults
rc=$?
# The cases log "injected N failures"; csq_run_test kept the output.
n=$(sed -n 's/.*injected \([0-9][0-9]*\) failures.*/\1/p' /tmp/out |
	awk '{ s += $1 } END { print s + 0 }')
echo "CSQ-FAULTS injected=$n"
csq_rmmod_all || exit 1
exit $rc
