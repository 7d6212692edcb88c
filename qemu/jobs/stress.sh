# SPDX-License-Identifier: GPL-2.0
# make stress: csq_stress for csq_stress_s=SECONDS from the kernel command
# line (default 20), so that `make stress DURATION=...` reaches the guest.
csq_insmod csq csqdev || exit 1
secs=$(sed -n 's/.*csq_stress_s=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
export CSQ_STRESS_SECONDS="${secs:-20}"
# The storm, then the drain and the checks, which take seconds.
export CSQ_TEST_TIMEOUT=$((CSQ_STRESS_SECONDS + 120))
csq_run_test /usr/bin/csq/csq_stress
rc=$?
csq_rmmod_all || exit 1
exit $rc
