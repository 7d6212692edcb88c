# SPDX-License-Identifier: GPL-2.0
# make loadunload: insmod and rmmod of both modules 100 times, every other
# time after readers came and went and left messages and a running
# producer behind (csq_visit).  The leak scan after the job is the last
# check.
cycles=100
done_cycles=0
visits=0
why=
i=0
while [ $i -lt $cycles ]; do
	i=$((i + 1))
	if ! csq_insmod csq csqdev; then
		why="insmod, cycle $i"
		break
	fi
	if [ $((i % 2)) = 0 ]; then
		if ! csq_visit; then
			why="csq_visit, cycle $i"
			csq_rmmod_all
			break
		fi
		visits=$((visits + 1))
	fi
	if ! csq_rmmod_all; then
		why="rmmod, cycle $i"
		break
	fi
	done_cycles=$i
done
echo "CSQ-LOADUNLOAD cycles=$done_cycles visits=$visits"
csq_checks_begin loadunload
csq_check "$done_cycles of $cycles load/unload cycles, $visits with readers${why:+ (failed: $why)}" \
	[ "$done_cycles" = "$cycles" ]
csq_check "no csq module left loaded" sh -c '! grep -q "^csq" /proc/modules'
csq_checks_end
