# SPDX-License-Identifier: GPL-2.0
# make kunit: KUnit runs a module's suites while it loads and prints KTAP.
# Each test module gets its own markers so the host parses one KTAP
# document per module.  csqdev's suite tests its insides through the
# exports of csqdev.ko, which is loaded first.
csq_insmod csq csqdev || exit 1
rc=0
for ko in /lib/modules/csq/*_kunit.ko; do
	m=${ko##*/}
	m=${m%.ko}
	echo "CSQ-KUNIT-BEGIN $m"
	csq_insmod "$m" || rc=1
	echo "CSQ-KUNIT-END $m"
done
csq_rmmod_all || exit 1
exit $rc
