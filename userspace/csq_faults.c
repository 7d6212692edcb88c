// SPDX-License-Identifier: GPL-2.0
/*
 * csq_faults: /dev/csq when its allocations fail.
 *
 * The kernel's fault injection (failslab and fail_page_alloc, in debugfs)
 * is aimed at csqdev alone: a failure is injected only into an allocation
 * whose call stack passes through the module's code (require-start/end
 * from /sys/module/csqdev/sections/.text and /proc/modules), and failslab
 * only into the kmalloc caches (cache-filter), so that the checkers' own
 * bookkeeping (kmemleak, debugobjects) never fails under us.  Whatever
 * the device allocates, and wherever (open, write, the timer), each case
 * arms the attributes with a number of failures ("times"), counts how
 * many were consumed, and checks that every call that met one failed
 * cleanly, with ENOMEM and nothing changed, a timer tick is dropped, and
 * no message is lost or duplicated.  The last case runs csq_stress -f
 * while a random share of the allocations fails.
 *
 * Needs a kernel with CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC and
 * CONFIG_FAULT_INJECTION_STACKTRACE_FILTER, debugfs mounted, and csqdev
 * loaded as a module; skips otherwise.  Not a *_test: the utest job leaves
 * it to the faults job, which scans for leaks afterwards.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/csq.h>

#include "kselftest_harness.h"

#include "csq_test.h"

#define CSQ_MODULE	"csqdev"
#define FAILSLAB	"/sys/kernel/debug/failslab"
#define FAIL_PAGE	"/sys/kernel/debug/fail_page_alloc"
#define SLABS		"/sys/kernel/slab"

/* Failures an armed attribute may inject; what is left says how many did. */
#define TIMES		1000000L

#define FAILING_CALLS		50
/* Bursts of messages, each kept until it is read back whole. */
#define BURSTS			10
#define SOME_PERCENT		50
#define FRAG_MSG_LEN		1500
#define TICK_FAILURES		20
#define PRODUCER_HZ		1000
#define STRESS_PERCENT		10
#define STRESS_SECONDS		10

static int write_knob(const char *dir, const char *name, const char *val)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

static int write_knob_num(const char *dir, const char *name, long long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", val);
	return write_knob(dir, name, buf);
}

/* A knob's text; false if it cannot be read. */
static bool read_knob_text(const char *dir, const char *name, char *buf,
			   size_t size)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return read_text(path, buf, size) > 0;
}

static long long read_knob(const char *dir, const char *name)
{
	char buf[64];

	return read_knob_text(dir, name, buf, sizeof(buf)) ?
	       strtoll(buf, NULL, 0) : LLONG_MIN;
}

/* Where csqdev lives: its .text, to the end of what the module occupies. */
static int module_range(unsigned long *start, unsigned long *end)
{
	char line[256], name[64];
	unsigned long size;
	FILE *f;

	if (!read_knob_text("/sys/module/" CSQ_MODULE "/sections", ".text",
			    line, sizeof(line)))
		return -1;
	/* A kernel address: unsigned, beyond what strtoll takes. */
	*start = strtoul(line, NULL, 0);
	*end = 0;
	f = fopen("/proc/modules", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lu", name, &size) == 2 &&
		    !strcmp(name, CSQ_MODULE))
			*end = *start + size;
	fclose(f);
	return *start && *end > *start ? 0 : -1;
}

/*
 * How many of csqdev's functions /proc/kallsyms lists, or -1 if one of
 * them lies outside [@start, @end).
 */
static int functions_inside(unsigned long start, unsigned long end)
{
	char line[256], sym[128], mod[64];
	unsigned long addr;
	int n = 0;
	char type;
	FILE *f;

	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f) && n >= 0) {
		if (sscanf(line, "%lx %c %127s [%63[^]]]", &addr, &type, sym,
			   mod) != 4 || strcmp(mod, CSQ_MODULE) ||
		    (type != 't' && type != 'T'))
			continue;
		if (addr >= start && addr < end)
			n++;
		else
			n = -1;
	}
	fclose(f);
	return n;
}

/* failslab may fail only the kmalloc caches: flag them, and only them. */
static int flag_kmalloc_caches(void)
{
	char dir[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(SLABS);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "kmalloc-", 8) || de->d_type == DT_LNK)
			continue;
		snprintf(dir, sizeof(dir), SLABS "/%s", de->d_name);
		if (!write_knob(dir, "failslab", "1"))
			n++;
	}
	closedir(d);
	return n;
}

/* Every knob of a fault attribute, aimed at [start, end), not yet firing. */
static int aim(const char *attr, unsigned long start, unsigned long end)
{
	char buf[32];
	int ret = 0;

	ret |= write_knob(attr, "probability", "0");
	ret |= write_knob(attr, "verbose", "0");
	ret |= write_knob(attr, "interval", "1");
	ret |= write_knob(attr, "space", "0");
	ret |= write_knob(attr, "task-filter", "N");
	ret |= write_knob(attr, "ignore-gfp-wait", "N");
	ret |= write_knob(attr, "stacktrace-depth", "32");
	ret |= write_knob(attr, "reject-start", "0");
	ret |= write_knob(attr, "reject-end", "0");
	snprintf(buf, sizeof(buf), "%#lx", start);
	ret |= write_knob(attr, "require-start", buf);
	snprintf(buf, sizeof(buf), "%#lx", end);
	ret |= write_knob(attr, "require-end", buf);
	return ret ? -1 : 0;
}

static int arm(const char *attr, int percent, long times)
{
	if (write_knob_num(attr, "times", times))
		return -1;
	return write_knob_num(attr, "probability", percent);
}

/* Stops injecting; returns how many failures were injected since arm(). */
static long disarm(const char *attr, long times)
{
	long long left;

	write_knob(attr, "probability", "0");
	left = read_knob(attr, "times");
	return left < 0 ? -1 : times - left;
}

static long injected_so_far(const char *attr, long times)
{
	long long left = read_knob(attr, "times");

	return left < 0 ? -1 : times - left;
}

static int arm_both(int percent)
{
	return arm(FAILSLAB, percent, TIMES) ?: arm(FAIL_PAGE, percent, TIMES);
}

/* Failures injected by either attribute, both armed with TIMES. */
static long injected(void)
{
	return injected_so_far(FAILSLAB, TIMES) +
	       injected_so_far(FAIL_PAGE, TIMES);
}

static long disarm_both(void)
{
	return disarm(FAILSLAB, TIMES) + disarm(FAIL_PAGE, TIMES);
}

FIXTURE(faults) {
	int fd;
	unsigned long start, end;
};

FIXTURE_SETUP(faults)
{
	if (access(FAILSLAB "/require-start", W_OK) ||
	    access(FAIL_PAGE "/require-start", W_OK))
		SKIP(return, "no failslab/fail_page_alloc with a stack filter");
	if (module_range(&self->start, &self->end))
		SKIP(return, "csqdev is not a loaded module");
	self->fd = open_csq(0);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, set_producer(self->fd, 0));
	ASSERT_TRUE(WAIT_FOR(stats_of(self->fd).pending_reads == 0));
	ASSERT_LE(0, drain());

	/* The range is csqdev's: all its functions are inside. */
	ASSERT_LT(0, functions_inside(self->start, self->end))
		TH_LOG("csqdev's functions are not all in %#lx-%#lx",
		       self->start, self->end);

	ASSERT_LT(0, flag_kmalloc_caches());
	ASSERT_EQ(0, write_knob(FAILSLAB, "cache-filter", "Y"));
	ASSERT_EQ(0, aim(FAILSLAB, self->start, self->end));
	ASSERT_EQ(0, aim(FAIL_PAGE, self->start, self->end));
	/* Any order; user pages (highmem flag) are not csqdev's to lose. */
	ASSERT_EQ(0, write_knob(FAIL_PAGE, "min-order", "0"));
	ASSERT_EQ(0, write_knob(FAIL_PAGE, "ignore-gfp-highmem", "Y"));
}

FIXTURE_TEARDOWN(faults)
{
	/* Whatever happened, nothing fires once the case is over. */
	write_knob(FAILSLAB, "probability", "0");
	write_knob(FAIL_PAGE, "probability", "0");
	if (self->fd > 0) {
		set_producer(self->fd, 0);
		close(self->fd);
	}
}

/* A buffer the kernel may copy into without faulting a page in. */
static char *resident_buffer(void)
{
	static char buf[CSQ_MSG_MAX + 1];

	memset(buf, 0, sizeof(buf));
	return buf;
}

/*
 * One write of message @seq (its number, padded to @len >= 8 bytes) while
 * allocations fail: it goes out (the device needed no new memory for it),
 * or it fails ENOMEM, having met an injected failure, and queues nothing.
 * Returns 1 if it went out, 0 if it failed so, -1 for anything else.
 */
static int write_armed(int fd, long seq, size_t len)
{
	char *msg = resident_buffer();
	__u32 queued = stats_of(fd).queued_msgs;
	long before = injected();
	ssize_t n;
	int err;

	memset(msg, ' ', len);
	snprintf(msg, len, "%ld", seq);
	n = write(fd, msg, len);
	err = errno;
	if (n == (ssize_t)len)
		return 1;
	if (n == -1 && err == ENOMEM && injected() > before &&
	    stats_of(fd).queued_msgs == queued)
		return 0;
	fprintf(stderr, "# write %ld of %zu bytes: %zd (%s)\n", seq, len, n,
		n < 0 ? strerror(err) : "no error");
	return -1;
}

/* The same for an open() of the device: a descriptor, or ENOMEM. */
static int open_armed(void)
{
	long before = injected();
	int fd, err;

	fd = open_csq(O_NONBLOCK);
	err = errno;
	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (err == ENOMEM && injected() > before)
		return 0;
	fprintf(stderr, "# open: %s\n", strerror(err));
	return -1;
}

/* Reads the kept messages 0 .. @n - 1, in order; false on anything else. */
static bool read_back(int fd, long n)
{
	char *buf = resident_buffer();
	ssize_t got;
	long i;

	for (i = 0; i < n; i++) {
		got = read(fd, buf, CSQ_MSG_MAX);
		if (got <= 0)
			return false;
		buf[got] = '\0';
		if (strtol(buf, NULL, 10) != i)
			return false;
	}
	return read(fd, buf, CSQ_MSG_MAX) < 0 && errno == EAGAIN;
}

/*
 * Armed at 100 %, the injection must not touch what does not run through
 * csqdev: files, processes, pipes and memory of this very process keep
 * working and nothing is consumed.  Then opens and writes of the device,
 * until the first that needs memory fails.
 */
TEST_F(faults, injection_hits_csqdev_and_nothing_else)
{
	int i, fd, p[2], ret = 1;
	char buf[256];
	long kept = 0;
	pid_t pid;
	void *m;

	fd = open_csq(O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, arm_both(100));
	for (i = 0; i < 100; i++) {
		int f = open("/proc/self/status", O_RDONLY | O_CLOEXEC);

		ASSERT_LE(0, f);
		ASSERT_LT(0, read(f, buf, sizeof(buf)));
		close(f);
	}
	ASSERT_EQ(0, pipe(p));
	close(p[0]);
	close(p[1]);
	m = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, m);
	memset(m, 1, 1 << 20);
	munmap(m, 1 << 20);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	ASSERT_EQ(0, injected());

	while (ret == 1) {
		ret = open_armed();
		if (ret == 1)
			ret = write_armed(fd, kept, 8);
		kept += ret == 1;
	}
	ASSERT_EQ(0, ret);
	TH_LOG("injected %ld failures", disarm_both());
	ASSERT_TRUE(read_back(fd, kept));
	close(fd);
}

/*
 * Every open and write that needs memory fails ENOMEM and changes nothing;
 * the others go through.  Once the failures stop, what was kept comes
 * back whole and in order, and writes work again.
 */
TEST_F_TIMEOUT(faults, every_call_that_needs_memory_fails_enomem_and_changes_nothing,
	       SLOW_CASE_S)
{
	static const size_t lens[] = { 8, 100, CSQ_MSG_MAX };
	long kept = 0, failed = 0, i;
	int fd, ret;

	fd = open_csq(O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, arm_both(100));
	for (i = 0; failed < FAILING_CALLS; i++) {
		ret = i % 2 ? open_armed() : write_armed(fd, kept, lens[i % 3]);
		ASSERT_LE(0, ret);
		kept += i % 2 ? 0 : ret;
		failed += !ret;
		ASSERT_EQ(kept, stats_of(fd).queued_msgs);
	}
	TH_LOG("injected %ld failures (%ld calls failed, %ld kept)",
	       disarm_both(), failed, kept);
	ASSERT_EQ(1, write_armed(fd, kept++, 8));
	ASSERT_TRUE(read_back(fd, kept));
	close(fd);
}

/*
 * Half the allocations fail.  In bursts of messages long enough that the
 * device keeps allocating (every other one too long for a page fragment,
 * the rest using up fragments a page at a time), the writer sends each
 * number until it is accepted; every number comes back once, in order,
 * and no write failed without an injected failure.
 */
TEST_F_TIMEOUT(faults, some_failed_writes_lose_and_duplicate_nothing,
	       SLOW_CASE_S)
{
	char *buf = resident_buffer(), msg[CSQ_MSG_MAX];
	long enomem = 0, injections, i, burst, burst_len;
	ssize_t n;
	int fd;

	memset(msg, ' ', sizeof(msg));
	/* As many as the stream keeps: a write must fail ENOMEM, or pass. */
	burst_len = read_param("capacity") / (CSQ_MSG_MAX + FRAG_MSG_LEN) * 2;
	ASSERT_LE(8, burst_len);

	fd = open_csq(O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, arm_both(SOME_PERCENT));
	for (burst = 0; burst < BURSTS; burst++) {
		for (i = 0; i < burst_len; ) {
			n = snprintf(msg, sizeof(msg), "%ld", i);
			msg[n] = ' ';
			n = i % 2 ? CSQ_MSG_MAX : FRAG_MSG_LEN;
			if (write(fd, msg, n) == n) {
				i++;
				continue;
			}
			ASSERT_EQ(ENOMEM, errno);
			enomem++;
		}
		for (i = 0; i < burst_len; i++) {
			n = read(fd, buf, CSQ_MSG_MAX);
			ASSERT_LT(0, n);
			buf[n] = '\0';
			ASSERT_EQ(i, strtol(buf, NULL, 10));
		}
		ASSERT_EQ(-1, read(fd, buf, CSQ_MSG_MAX));
		ASSERT_EQ(EAGAIN, errno);
	}
	injections = disarm_both();
	close(fd);
	ASSERT_LT(0, enomem);
	ASSERT_LE(enomem, injections);
	TH_LOG("injected %ld failures (%ld writes failed)", injections, enomem);
}

struct parked {
	pthread_t thread;
	int fd;
	ssize_t ret;
	char buf[CSQ_MSG_MAX];
};

static void *parked_read(void *arg)
{
	struct parked *p = arg;

	p->ret = read(p->fd, p->buf, sizeof(p->buf));
	return NULL;
}

/*
 * Every allocation fails, and the producer's ticks with them, in hard-irq
 * context: each failed tick is dropped, the parked read is neither
 * completed nor lost, and the first tick after the failures completes it.
 */
TEST_F_TIMEOUT(faults, failed_timer_ticks_are_dropped_and_the_read_stays,
	       SLOW_CASE_S)
{
	struct parked p = { .fd = self->fd };
	unsigned long long tick;
	struct csq_stats s;
	long injections;

	ASSERT_EQ(0, pthread_create(&p.thread, NULL, parked_read, &p));
	ASSERT_TRUE(WAIT_FOR(stats_of(self->fd).pending_reads == 1));
	ASSERT_EQ(0, arm_both(100));
	ASSERT_EQ(0, set_producer(self->fd, PRODUCER_HZ));
	ASSERT_TRUE(WAIT_FOR(injected() >= TICK_FAILURES));
	s = stats_of(self->fd);
	ASSERT_EQ(1U, s.pending_reads);
	ASSERT_EQ(0U, s.queued_msgs);
	injections = disarm_both();

	ASSERT_EQ(0, pthread_join(p.thread, NULL));
	ASSERT_LT(0, p.ret);
	p.buf[p.ret] = '\0';
	ASSERT_EQ(0, strncmp(p.buf, "tick ", 5)) TH_LOG("got %s", p.buf);
	tick = strtoull(p.buf + 5, NULL, 10);
	ASSERT_LT(0ULL, tick);
	ASSERT_EQ(0, set_producer(self->fd, 0));
	ASSERT_LE(0, drain());
	TH_LOG("injected %ld failures", injections);
}

/*
 * fail_page_alloc alone: the pages behind the longest messages (slab
 * pages, or the message's own) fail as the stream fills.  The writes
 * that meet a failure fail ENOMEM (the stream stops growing there); the
 * others are kept whole and in order.
 */
TEST_F_TIMEOUT(faults, failed_pages_fail_writes_cleanly,
	       SLOW_CASE_S)
{
	long enomem = 0, kept = 0, injections;
	int fd, in_a_row = 0;

	fd = open_csq(O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, arm(FAIL_PAGE, 100, TIMES));
	while (in_a_row < FAILING_CALLS) {
		char *msg = resident_buffer();

		memset(msg, ' ', CSQ_MSG_MAX);
		snprintf(msg, CSQ_MSG_MAX, "%ld", kept);
		if (write(fd, msg, CSQ_MSG_MAX) == CSQ_MSG_MAX) {
			kept++;
			in_a_row = 0;
			continue;
		}
		if (errno == EAGAIN)
			break;
		ASSERT_EQ(ENOMEM, errno);
		enomem++;
		in_a_row++;
	}
	injections = disarm(FAIL_PAGE, TIMES);
	ASSERT_TRUE(read_back(fd, kept));
	close(fd);
	ASSERT_LT(0, enomem) TH_LOG("%ld kept and no page needed", kept);
	ASSERT_LE(enomem, injections);
	TH_LOG("injected %ld failures (%ld writes failed)", injections, enomem);
}

/* Path of a program next to this one. */
static int sibling(char *path, size_t size, const char *name)
{
	ssize_t n = readlink("/proc/self/exe", path, size - 1);
	char *slash;

	if (n <= 0)
		return -1;
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (!slash || (size_t)(slash - path) + strlen(name) + 2 > size)
		return -1;
	memcpy(slash + 1, name, strlen(name) + 1);
	return 0;
}

/*
 * csq_stress with every cause of cancel while a random share of the
 * allocations fails: its own checks (exactly once, errnos, counters) must
 * all pass, with ENOMEM as one more errno a write may see.
 */
TEST_F_TIMEOUT(faults, stress_under_random_failslab_passes_its_checks,
	       SLOW_CASE_S)
{
	const char *secs = getenv("CSQ_FAULTS_STRESS_SECONDS");
	char path[PATH_MAX], arg[16];
	long injections;
	int status;
	pid_t pid;

	snprintf(arg, sizeof(arg), "%s", secs ? secs : "");
	if (!secs)
		snprintf(arg, sizeof(arg), "%d", STRESS_SECONDS);
	ASSERT_EQ(0, sibling(path, sizeof(path), "csq_stress"));
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, arm_both(STRESS_PERCENT));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		execl(path, path, "-f", "-d", arg, (char *)NULL);
		_exit(127);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	injections = disarm_both();
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_LT(0, injections);
	TH_LOG("injected %ld failures", injections);
}

TEST_HARNESS_MAIN
