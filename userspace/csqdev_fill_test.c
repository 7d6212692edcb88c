// SPDX-License-Identifier: GPL-2.0
/*
 * Fill mode of /dev/csq (CSQ_IOC_FILL): reads that the producer fills over
 * several ticks, cancelled at each point they can be at: queued, in
 * progress with ticks gathered, racing the tick that fills them.
 *
 * A fill read is in progress once the producer has taken it out of the
 * queue, which CSQ_IOC_STATS shows as no pending read while the reader is
 * still in read().
 */

#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/csq.h>

#include "kselftest_harness.h"

#include "csq_call.h"
#include "csq_test.h"

/* Slow enough that a 4 KiB fill read takes far longer than a case. */
#define SLOW_HZ		20
#define FAST_HZ		2000
/* How long a cancelled fill read may take to return. */
#define CANCEL_MS	2000
#define STORM_TICKS	400
#define MAX_TICK	1000000

static void on_sigusr1(int sig)
{
	(void)sig;
}

static int set_fill(int fd, __u32 on)
{
	return ioctl(fd, CSQ_IOC_FILL, &on);
}

/*
 * Whether @buf holds @n bytes of whole ticks, back to back, each one more
 * than the last; the first and last numbers go to @first and @last.
 */
static bool whole_ticks(const char *buf, size_t n, unsigned long *first,
			unsigned long *last)
{
	unsigned long tick, prev = 0;
	size_t pos = 0;
	int len;

	while (pos < n) {
		if (sscanf(buf + pos, "tick %lu%n", &tick, &len) != 1 ||
		    (prev && tick != prev + 1))
			return false;
		if (!prev)
			*first = tick;
		prev = tick;
		pos += len;
	}
	*last = prev;
	return pos == n && prev;
}

/* A quiet device on @fd, and @rfd a file of it in fill mode. */
static void fill_files_open(struct __test_metadata *_metadata, int *fd, int *rfd)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };

	quiet_device(_metadata, fd);
	*rfd = open_csq(0);
	ASSERT_LE(0, *rfd);
	ASSERT_EQ(0, set_fill(*rfd, 1));
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
}

static void fill_files_close(int fd, int rfd)
{
	set_producer(fd, 0);
	if (rfd >= 0)
		close(rfd);
	drain();
	close(fd);
}

FIXTURE(fill) {
	int fd;
	int rfd;
};

FIXTURE_SETUP(fill)
{
	fill_files_open(_metadata, &self->fd, &self->rfd);
}

FIXTURE_TEARDOWN(fill)
{
	fill_files_close(self->fd, self->rfd);
}

/* The mode takes 0 or 1, from a readable pointer. */
TEST_F(fill, fill_mode_takes_0_or_1)
{
	ASSERT_EQ(-1, set_fill(self->rfd, 2));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->rfd, CSQ_IOC_FILL, NULL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, set_fill(self->rfd, 0));
	ASSERT_EQ(0, set_fill(self->rfd, 1));
}

/* A fill read gathers whole ticks, back to back, until one would not fit. */
TEST_F_TIMEOUT(fill, fill_read_gathers_whole_ticks_until_the_next_would_not_fit,
	       SLOW_CASE_S)
{
	unsigned long first, last;
	char buf[64];
	ssize_t n;

	ASSERT_EQ(0, set_producer(self->fd, FAST_HZ));
	n = read(self->rfd, buf, sizeof(buf));
	ASSERT_LT(0, n) TH_LOG("%s", strerror(errno));
	ASSERT_TRUE(whole_ticks(buf, n, &first, &last));
	ASSERT_LT(first, last);
	/* The next tick, no shorter than 16 bytes, did not fit. */
	ASSERT_GT(n + 16, (ssize_t)sizeof(buf));
}

/* A buffer too small for any tick: EMSGSIZE, and the tick is not lost. */
TEST_F_TIMEOUT(fill, fill_read_too_small_for_a_tick_fails_emsgsize,
	       SLOW_CASE_S)
{
	char buf[4];

	ASSERT_EQ(0, set_producer(self->fd, FAST_HZ));
	ASSERT_EQ(-1, read(self->rfd, buf, sizeof(buf)));
	ASSERT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(0, set_producer(self->fd, 0));
	ASSERT_LT(0, queued_msgs(self->fd));
}

enum fill_cancel { BY_SIGNAL, BY_CLOSE, BY_IOCTL };

/* Ends the fill read of @c on @rfd the way @how says. */
static void cancel_fill(struct call *c, int *rfd, enum fill_cancel how)
{
	switch (how) {
	case BY_SIGNAL:
		pthread_kill(c->thread, SIGUSR1);
		break;
	case BY_CLOSE:
		close(*rfd);
		*rfd = -1;
		break;
	case BY_IOCTL:
		ioctl(*rfd, CSQ_IOC_CANCEL, 0);
		break;
	}
}

FIXTURE(fill_cancel) {
	int fd;
	int rfd;
};

FIXTURE_VARIANT(fill_cancel) {
	enum fill_cancel how;
	int err;	/* of a read cancelled before its first tick */
};

FIXTURE_VARIANT_ADD(fill_cancel, signal) {
	.how = BY_SIGNAL, .err = EINTR,
};

FIXTURE_VARIANT_ADD(fill_cancel, close) {
	.how = BY_CLOSE, .err = ECANCELED,
};

FIXTURE_VARIANT_ADD(fill_cancel, ioctl) {
	.how = BY_IOCTL, .err = ECANCELED,
};

FIXTURE_SETUP(fill_cancel)
{
	fill_files_open(_metadata, &self->fd, &self->rfd);
}

FIXTURE_TEARDOWN(fill_cancel)
{
	fill_files_close(self->fd, self->rfd);
}

/* Cancelled while queued, before any tick: it fails, nothing gathered. */
TEST_F_TIMEOUT(fill_cancel, before_the_first_tick_fails, SLOW_CASE_S)
{
	struct call c = { 0 };

	ASSERT_EQ(0, start_read(&c, self->rfd, NULL, CSQ_FILL_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	cancel_fill(&c, &self->rfd, variant->how);
	ASSERT_TRUE(call_done_within(&c, CANCEL_MS));
	ASSERT_EQ(0, call_join(&c));
	ASSERT_EQ(-1, c.ret);
	ASSERT_EQ(variant->err, c.err) TH_LOG("%s", strerror(c.err));
	ASSERT_EQ(0, pending_reads(self->fd));
}

/*
 * Cancelled in progress, with ticks gathered: it returns them, at once,
 * not when its buffer is full (minutes at this rate).
 */
TEST_F_TIMEOUT(fill_cancel, in_progress_returns_the_ticks_so_far, SLOW_CASE_S)
{
	unsigned long first, last;
	struct call c = { 0 };

	ASSERT_EQ(0, start_read(&c, self->rfd, NULL, CSQ_FILL_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(0, set_producer(self->fd, SLOW_HZ));
	/* Out of the queue: the producer is filling it. */
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 0));
	ASSERT_FALSE(call_done(&c));
	cancel_fill(&c, &self->rfd, variant->how);
	if (!call_done_within(&c, CANCEL_MS)) {
		ioctl(self->fd, CSQ_IOC_CANCEL, 0);
		set_producer(self->fd, CSQ_PRODUCER_MAX_HZ);
		ASSERT_EQ(0, call_join(&c));
		ASSERT_TRUE(false) TH_LOG("the cancel did not reach the read in progress");
	}
	ASSERT_EQ(0, call_join(&c));
	ASSERT_LT(0, c.ret) TH_LOG("%s", strerror(c.err));
	ASSERT_TRUE(whole_ticks(c.data, c.ret, &first, &last));
}

/**
 * struct storm - fill reads and stream reads of one producer, and signals
 * @rfd: the file in fill mode.
 * @fd: a file that reads the ticks the fill reads did not take.
 * @stop: tells the threads to stop.
 * @fill_ticks: ticks the fill reads got; counted per number.
 * @seen: how many times each tick number was read, from either file.
 * @bad: reads that returned what no read may.
 * @eintr: fill reads that a signal ended with nothing.
 */
struct storm {
	int rfd;
	int fd;
	atomic_bool stop;
	atomic_int fill_ticks;
	atomic_uchar seen[MAX_TICK];
	atomic_int bad;
	atomic_int eintr;
};

static void storm_count(struct storm *s, unsigned long first,
			unsigned long last)
{
	unsigned long t;

	for (t = first; t <= last; t++) {
		if (t >= MAX_TICK)
			atomic_fetch_add(&s->bad, 1);
		else
			atomic_fetch_add(&s->seen[t], 1);
	}
}

static void *storm_fill_reader(void *arg)
{
	unsigned long first, last;
	struct storm *s = arg;
	char buf[128];
	unsigned int i;
	ssize_t n;

	for (i = 0; !atomic_load(&s->stop); i++) {
		n = read(s->rfd, buf, 16 + i % (sizeof(buf) - 16));
		if (n < 0 && (errno == EINTR || errno == ECANCELED)) {
			atomic_fetch_add(&s->eintr, 1);
			continue;
		}
		if (n <= 0 || !whole_ticks(buf, n, &first, &last)) {
			atomic_fetch_add(&s->bad, 1);
			continue;
		}
		storm_count(s, first, last);
		atomic_fetch_add(&s->fill_ticks, last - first + 1);
	}
	return NULL;
}

/* Ticks no fill read waited for went to the stream, one per message. */
static void storm_drain(struct storm *s)
{
	unsigned long tick;
	char buf[64];

	while (recv_str(s->fd, buf, sizeof(buf)) > 0) {
		if (sscanf(buf, "tick %lu", &tick) != 1)
			atomic_fetch_add(&s->bad, 1);
		else
			storm_count(s, tick, tick);
	}
}

static void *storm_stream_reader(void *arg)
{
	struct storm *s = arg;

	while (!atomic_load(&s->stop)) {
		storm_drain(s);
		usleep(1000);
	}
	return NULL;
}

/*
 * Fill reads racing the producer's ticks and a storm of signals: every
 * tick is read exactly once, by a fill read (whole, in order) or from the
 * stream, and a signal ends a fill read with the ticks it has.
 */
TEST_F_TIMEOUT(fill, ticks_racing_signals_are_each_read_exactly_once,
	       SLOW_CASE_S)
{
	pthread_t fill_reader, stream_reader;
	unsigned long t, lo = 0, hi = 0;
	struct storm *s;
	int fd, i;

	s = calloc(1, sizeof(*s));
	ASSERT_NE(NULL, s);
	s->rfd = self->rfd;
	s->fd = open_csq(O_NONBLOCK);
	ASSERT_LE(0, s->fd);
	ASSERT_EQ(0, pthread_create(&fill_reader, NULL, storm_fill_reader, s));
	ASSERT_EQ(0, pthread_create(&stream_reader, NULL, storm_stream_reader,
				    s));
	ASSERT_EQ(0, set_producer(self->fd, FAST_HZ));
	for (i = 0; atomic_load(&s->fill_ticks) < STORM_TICKS &&
	     i < WAIT_LIMIT_S * 1000; i++) {
		pthread_kill(fill_reader, SIGUSR1);
		usleep(i % 7 * 300);
	}
	ASSERT_EQ(0, set_producer(self->fd, 0));
	atomic_store(&s->stop, true);
	/* The last fill read waits for ticks that will not come. */
	while (pthread_tryjoin_np(fill_reader, NULL)) {
		ioctl(self->rfd, CSQ_IOC_CANCEL, 0);
		usleep(1000);
	}
	ASSERT_EQ(0, pthread_join(stream_reader, NULL));
	storm_drain(s);

	for (t = 0; t < MAX_TICK; t++) {
		if (!atomic_load(&s->seen[t]))
			continue;
		if (!lo)
			lo = t;
		hi = t;
	}
	for (t = lo; t <= hi; t++)
		EXPECT_EQ(1, atomic_load(&s->seen[t])) TH_LOG("tick %lu", t);
	EXPECT_EQ(0, atomic_load(&s->bad));
	ASSERT_LE(STORM_TICKS, atomic_load(&s->fill_ticks));
	TH_LOG("ticks %lu to %lu: %d by fill reads, %d fill reads ended empty",
	       lo, hi, atomic_load(&s->fill_ticks), atomic_load(&s->eintr));
	fd = s->fd;
	free(s);
	close(fd);
}

TEST_HARNESS_MAIN
