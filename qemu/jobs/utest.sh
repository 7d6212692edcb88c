# SPDX-License-Identifier: GPL-2.0
# make utest: every userspace/*_test, against /dev/csq and /dev/csq_cancel.
csq_insmod csq csqdev csq_cancel || exit 1
csq_run_tests
rc=$?
csq_rmmod_all || exit 1
exit $rc
