# SPDX-License-Identifier: GPL-2.0
# make run: load the modules and let the demo tell the story.
csq_insmod csq csqdev || exit 1
if [ -x /usr/bin/csq/csq_demo ]; then
	csq_demo || exit 1
else
	lsmod
	ls -l /dev/csq 2>/dev/null
fi
csq_rmmod_all
