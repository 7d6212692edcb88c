// SPDX-License-Identifier: GPL-2.0
/*
 * The test application of the WDK cancel sample, ported with its driver
 * (examples/csq_cancel): threads issuing reads on one handle, a close
 * while reads are pending, many instances at once.  The sample's app
 * prints what it gets; this one checks that every read ends exactly once,
 * with a reading or with ECANCELED, and that every reading the device
 * handed out reached exactly one read.  Readings are sequence numbers,
 * and the module's "readings" parameter counts those handed out.
 *
 * The "hold" parameter stops the device's queue: reads then wait as long
 * as a case likes, and only a cancel can end them.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/types.h>

#include "kselftest_harness.h"

#include "csq_call.h"
#include "csq_test.h"

#define CANCEL_PATH	"/dev/csq_cancel"
#define POLL_MS_DEFAULT	10

/* The sample's app starts a handful of reader threads. */
#define NR_READERS	8
#define NR_AIO		8

/* The stress case: instances, rounds each, threads each. */
#define NR_INSTANCES	4
#define NR_ROUNDS	12
#define NR_BLOCKING	2
#define NR_AIO_THREADS	2
#define AIO_BATCH	2

static int set_cancel_param(const char *name, long value)
{
	return write_module_param("csq_cancel", name, value);
}

static long readings(void)
{
	return read_module_param("csq_cancel", "readings");
}

/* A reading of the device, or -errno. */
static long read_reading(int fd)
{
	__u32 reading;
	ssize_t ret = read(fd, &reading, sizeof(reading));

	if (ret < 0)
		return -errno;
	return ret == sizeof(reading) ? (long)reading : -EIO;
}

static bool all_asleep_in_read(struct call *c, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!sleeps_in(atomic_load(&c[i].tid), SYS_read, SYS_read))
			return false;
	return true;
}

static __u32 reading_of(struct call *c)
{
	__u32 reading;

	memcpy(&reading, c->data, sizeof(reading));
	return reading;
}

FIXTURE(cancel) {
	int fd;
};

FIXTURE_SETUP(cancel)
{
	ASSERT_TRUE(have_proc());
	ASSERT_EQ(0, set_cancel_param("hold", 0))
		TH_LOG("is csq_cancel loaded?");
	ASSERT_EQ(0, set_cancel_param("poll_ms", POLL_MS_DEFAULT));
	self->fd = open(CANCEL_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", CANCEL_PATH,
				      strerror(errno));
}

FIXTURE_TEARDOWN(cancel)
{
	set_cancel_param("hold", 0);
	set_cancel_param("poll_ms", POLL_MS_DEFAULT);
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(cancel, a_read_gets_the_next_reading)
{
	long first = readings();

	ASSERT_LE(0, first);
	ASSERT_EQ(first, read_reading(self->fd));
	ASSERT_EQ(first + 1, readings());
}

/* STATUS_BUFFER_TOO_SMALL of the sample. */
TEST_F(cancel, a_read_shorter_than_a_reading_fails_einval)
{
	long first = readings();
	char buf[3];

	ASSERT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(first, readings());
}

TEST_F(cancel, a_nonblocking_read_fails_eagain_and_queues_nothing)
{
	long first = readings();
	int fd = open(CANCEL_PATH, O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	ASSERT_LE(0, fd);
	ASSERT_EQ(-EAGAIN, read_reading(fd));
	close(fd);
	ASSERT_EQ(first, read_reading(self->fd));
}

/*
 * The sample's scenario: reader threads share a handle, and the handle
 * is closed while their reads are pending.  The queue is held, so the
 * close alone can end them.
 */
TEST_F_TIMEOUT(cancel, close_cancels_the_pending_reads_of_every_thread,
	       SLOW_CASE_S)
{
	struct call c[NR_READERS];
	long first = readings();
	int i;

	ASSERT_EQ(0, set_cancel_param("hold", 1));
	for (i = 0; i < NR_READERS; i++)
		ASSERT_EQ(0, start_read(&c[i], self->fd, NULL, sizeof(__u32)));
	ASSERT_TRUE(WAIT_FOR(all_asleep_in_read(c, NR_READERS)));

	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	for (i = 0; i < NR_READERS; i++) {
		ASSERT_TRUE(WAIT_FOR(call_done(&c[i])))
			TH_LOG("read %d outlived the close", i);
		call_join(&c[i]);
		EXPECT_EQ(-1, c[i].ret);
		EXPECT_EQ(ECANCELED, c[i].err);
	}
	ASSERT_EQ(first, readings());
}

/*
 * Linux calls ->flush at every close(), by any process: a child closing
 * the descriptor it inherited must not cancel its parent's reads.
 */
TEST_F_TIMEOUT(cancel, a_childs_close_leaves_the_parents_reads_pending,
	       SLOW_CASE_S)
{
	struct call c[2];
	long first = readings();
	int i, status;
	pid_t pid;

	ASSERT_EQ(0, set_cancel_param("hold", 1));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, start_read(&c[i], self->fd, NULL, sizeof(__u32)));
	ASSERT_TRUE(WAIT_FOR(all_asleep_in_read(c, 2)));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(close(self->fd) ? 1 : 0);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);
	/* A cancel would have ended them by now, many times over. */
	usleep(200 * 1000);
	ASSERT_TRUE(all_asleep_in_read(c, 2));

	ASSERT_EQ(0, set_cancel_param("hold", 0));
	for (i = 0; i < 2; i++) {
		ASSERT_TRUE(WAIT_FOR(call_done(&c[i])));
		call_join(&c[i]);
		ASSERT_EQ((ssize_t)sizeof(__u32), c[i].ret);
	}
	/* Served in the order they were queued. */
	ASSERT_EQ(first, reading_of(&c[0]));
	ASSERT_EQ(first + 1, reading_of(&c[1]));
}

static void on_sigusr1(int sig)
{
	(void)sig;
}

/* Thread rundown's Linux face: the read is taken back, nothing is lost. */
TEST_F_TIMEOUT(cancel, a_signal_ends_a_queued_read_with_eintr_and_loses_no_reading,
	       SLOW_CASE_S)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	long first = readings();
	struct call c;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, set_cancel_param("hold", 1));
	ASSERT_EQ(0, start_read(&c, self->fd, NULL, sizeof(__u32)));
	ASSERT_TRUE(WAIT_FOR(all_asleep_in_read(&c, 1)));

	ASSERT_EQ(0, pthread_kill(c.thread, SIGUSR1));
	ASSERT_TRUE(WAIT_FOR(call_done(&c)));
	call_join(&c);
	ASSERT_EQ(-1, c.ret);
	ASSERT_EQ(EINTR, c.err);

	ASSERT_EQ(0, set_cancel_param("hold", 0));
	ASSERT_EQ(first, read_reading(self->fd));
}

/* With SA_RESTART the read taken back is issued again, and still served. */
TEST_F_TIMEOUT(cancel, a_restarted_read_queues_again_and_gets_the_reading,
	       SLOW_CASE_S)
{
	struct sigaction sa = { .sa_handler = on_sigusr1,
				.sa_flags = SA_RESTART };
	long first = readings();
	struct call c;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, set_cancel_param("hold", 1));
	ASSERT_EQ(0, start_read(&c, self->fd, NULL, sizeof(__u32)));
	ASSERT_TRUE(WAIT_FOR(all_asleep_in_read(&c, 1)));

	ASSERT_EQ(0, pthread_kill(c.thread, SIGUSR1));
	usleep(100 * 1000);
	ASSERT_TRUE(WAIT_FOR(all_asleep_in_read(&c, 1)));
	ASSERT_FALSE(call_done(&c));

	ASSERT_EQ(0, set_cancel_param("hold", 0));
	ASSERT_TRUE(WAIT_FOR(call_done(&c)));
	call_join(&c);
	ASSERT_EQ((ssize_t)sizeof(__u32), c.ret);
	ASSERT_EQ(first, reading_of(&c));
}

/*
 * A cancel of the read the worker is polling for, which the port keeps
 * cancelable (csq_req_mark_cancelable()): it ends with ECANCELED and
 * consumes no reading.  After a reading the device settles for half a
 * second, so the next read is in progress for that long; a signal that comes
 * while the read is still queued takes it back instead (EINTR), and the
 * case tries again.
 */
TEST_F_TIMEOUT(cancel, a_signal_cancels_the_read_being_polled_for,
	       SLOW_CASE_S)
{
	struct sigaction sa = { .sa_handler = on_sigusr1 };
	int attempt, in_progress = 0;
	struct call c;
	long last;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, set_cancel_param("poll_ms", 500));
	for (attempt = 0; attempt < 5 && !in_progress; attempt++) {
		last = read_reading(self->fd);
		ASSERT_LE(0, last);
		ASSERT_EQ(0, start_read(&c, self->fd, NULL, sizeof(__u32)));
		ASSERT_TRUE(WAIT_FOR(all_asleep_in_read(&c, 1)));
		/* Time for the worker to take it. */
		usleep(100 * 1000);
		ASSERT_EQ(0, pthread_kill(c.thread, SIGUSR1));
		ASSERT_TRUE(WAIT_FOR(call_done(&c)));
		call_join(&c);
		ASSERT_EQ(-1, c.ret);
		if (c.err == ECANCELED)
			in_progress++;
		else
			ASSERT_EQ(EINTR, c.err);
	}
	ASSERT_TRUE(in_progress) TH_LOG("no signal came while the worker polled");
	/* The next reading went to nobody else. */
	ASSERT_EQ(0, set_cancel_param("poll_ms", POLL_MS_DEFAULT));
	ASSERT_EQ(last + 1, read_reading(self->fd));
}

/* The sample's overlapped reads, as aio reads of a held queue. */
struct aio_reads {
	io_context_t ctx;
	struct iocb cb[NR_AIO];
	__u32 buf[NR_AIO];
};

static int submit_reads(struct aio_reads *a, int fd, int n)
{
	struct iocb *cbs[NR_AIO];
	int i;

	for (i = 0; i < n; i++) {
		io_prep_pread(&a->cb[i], fd, &a->buf[i], sizeof(a->buf[i]), 0);
		cbs[i] = &a->cb[i];
	}
	return io_submit(a->ctx, n, cbs);
}

/* Collects @n events into @res, indexed by iocb; how many came. */
static int collect_events(struct aio_reads *a, int n, long *res)
{
	struct timespec ts = { .tv_sec = WAIT_LIMIT_S };
	struct io_event ev[NR_AIO];
	int got = 0, ret, i;

	while (got < n) {
		ret = io_getevents(a->ctx, 1, n - got, ev, &ts);
		if (ret <= 0)
			break;
		for (i = 0; i < ret; i++)
			res[(struct iocb *)ev[i].obj - a->cb] = ev[i].res;
		got += ret;
	}
	return got;
}

TEST_F_TIMEOUT(cancel, aio_reads_complete_in_the_order_they_were_queued,
	       SLOW_CASE_S)
{
	struct aio_reads a = { 0 };
	long first = readings(), res[NR_AIO];
	int i;

	ASSERT_EQ(0, io_setup(NR_AIO, &a.ctx));
	ASSERT_EQ(0, set_cancel_param("hold", 1));
	ASSERT_EQ(NR_AIO, submit_reads(&a, self->fd, NR_AIO));
	ASSERT_EQ(0, set_cancel_param("hold", 0));

	ASSERT_EQ(NR_AIO, collect_events(&a, NR_AIO, res));
	for (i = 0; i < NR_AIO; i++) {
		EXPECT_EQ((long)sizeof(__u32), res[i]);
		EXPECT_EQ(first + i, a.buf[i]);
	}
	io_destroy(a.ctx);
}

/* CancelIoEx of one overlapped read. */
TEST_F_TIMEOUT(cancel, io_cancel_of_a_queued_read_consumes_no_reading,
	       SLOW_CASE_S)
{
	struct aio_reads a = { 0 };
	long first = readings(), res[NR_AIO];
	struct io_event ev;

	ASSERT_EQ(0, io_setup(NR_AIO, &a.ctx));
	ASSERT_EQ(0, set_cancel_param("hold", 1));
	ASSERT_EQ(2, submit_reads(&a, self->fd, 2));

	/* aio reports a cancel in progress and delivers its event. */
	ASSERT_EQ(-EINPROGRESS, io_cancel(a.ctx, &a.cb[0], &ev));
	ASSERT_EQ(0, set_cancel_param("hold", 0));
	ASSERT_EQ(2, collect_events(&a, 2, res));
	EXPECT_EQ(-ECANCELED, res[0]);
	EXPECT_EQ((long)sizeof(__u32), res[1]);
	EXPECT_EQ(first, a.buf[1]);
	io_destroy(a.ctx);
}

/* IRP_MJ_CLEANUP reaches the overlapped reads too. */
TEST_F_TIMEOUT(cancel, close_cancels_pending_aio_reads, SLOW_CASE_S)
{
	struct aio_reads a = { 0 };
	long first = readings(), res[NR_AIO];
	int i;

	ASSERT_EQ(0, io_setup(NR_AIO, &a.ctx));
	ASSERT_EQ(0, set_cancel_param("hold", 1));
	ASSERT_EQ(NR_AIO, submit_reads(&a, self->fd, NR_AIO));
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;

	/* Still held: only the close can have ended them. */
	ASSERT_EQ(NR_AIO, collect_events(&a, NR_AIO, res));
	for (i = 0; i < NR_AIO; i++)
		EXPECT_EQ(-ECANCELED, res[i]);
	ASSERT_EQ(first, readings());
	io_destroy(a.ctx);
}

/*
 * A process that exits with reads pending, blocking and aio: exit kills
 * its threads (their reads are taken back) and cancels its aio context.
 * Nothing is left behind: the next read gets the next reading, and the
 * module unloads at the end of the run.
 */
TEST_F_TIMEOUT(cancel, exit_with_pending_reads_leaves_nothing_behind,
	       SLOW_CASE_S)
{
	long first = readings();
	int status;
	pid_t pid;

	ASSERT_EQ(0, set_cancel_param("hold", 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct aio_reads a = { 0 };
		struct call c[2];
		int i;

		if (io_setup(NR_AIO, &a.ctx) ||
		    submit_reads(&a, self->fd, NR_AIO) != NR_AIO)
			_exit(1);
		for (i = 0; i < 2; i++)
			if (start_read(&c[i], self->fd, NULL, sizeof(__u32)))
				_exit(1);
		if (!WAIT_FOR(all_asleep_in_read(c, 2)))
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, status);

	ASSERT_EQ(0, set_cancel_param("hold", 0));
	ASSERT_EQ(first, read_reading(self->fd));
}

/* One instance of the sample's app, for the stress case. */
struct instance {
	int fd;
	int wfd;	/* the pipe to the parent, for readings */
	atomic_long canceled;
	atomic_long bad;
	pthread_mutex_t lock;	/* serialises the writes to wfd */
};

static void report(struct instance *in, __u32 reading)
{
	pthread_mutex_lock(&in->lock);
	if (write(in->wfd, &reading, sizeof(reading)) != sizeof(reading))
		atomic_fetch_add(&in->bad, 1);
	pthread_mutex_unlock(&in->lock);
}

/* An outcome of a read: a reading, a cancel, or the end of the handle. */
static bool tally(struct instance *in, long res, const __u32 *reading)
{
	if (res == sizeof(__u32)) {
		report(in, *reading);
		return true;
	}
	if (res == -ECANCELED)
		atomic_fetch_add(&in->canceled, 1);
	else if (res != -EBADF)
		atomic_fetch_add(&in->bad, 1);
	return false;
}

static void *blocking_reader(void *arg)
{
	struct instance *in = arg;
	__u32 reading;
	ssize_t ret;

	do {
		ret = read(in->fd, &reading, sizeof(reading));
		if (ret < 0)
			ret = -errno;
	} while (tally(in, ret, &reading));
	return NULL;
}

static void *aio_reader(void *arg)
{
	struct instance *in = arg;
	struct aio_reads a = { 0 };
	long res[NR_AIO];
	bool more = true;
	int i, n;

	if (io_setup(AIO_BATCH, &a.ctx)) {
		atomic_fetch_add(&in->bad, 1);
		return NULL;
	}
	while (more) {
		n = submit_reads(&a, in->fd, AIO_BATCH);
		if (n == -EBADF)
			break;
		if (n <= 0 || collect_events(&a, n, res) != n) {
			atomic_fetch_add(&in->bad, 1);
			break;
		}
		for (i = 0; i < n; i++)
			more &= tally(in, res[i], &a.buf[i]);
	}
	io_destroy(a.ctx);
	return NULL;
}

/* NR_ROUNDS of: open, readers, a close at a random moment, join. */
static int run_instance(int wfd, unsigned int seed)
{
	pthread_t t[NR_BLOCKING + NR_AIO_THREADS];
	struct instance in = { .wfd = wfd };
	int round, i;

	pthread_mutex_init(&in.lock, NULL);
	for (round = 0; round < NR_ROUNDS; round++) {
		in.fd = open(CANCEL_PATH, O_RDONLY | O_CLOEXEC);
		if (in.fd < 0)
			return 1;
		for (i = 0; i < NR_BLOCKING + NR_AIO_THREADS; i++)
			if (pthread_create(&t[i], NULL, i < NR_BLOCKING ?
					   blocking_reader : aio_reader, &in))
				return 1;
		usleep(1000 + rand_r(&seed) % 15000);
		close(in.fd);
		for (i = 0; i < NR_BLOCKING + NR_AIO_THREADS; i++)
			pthread_join(t[i], NULL);
	}
	printf("# instance %d: %ld reads cancelled\n", getpid(),
	       atomic_load(&in.canceled));
	fflush(stdout);
	if (atomic_load(&in.bad))
		return 1;
	return atomic_load(&in.canceled) ? 0 : 2;
}

static int cmp_u32(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/*
 * Many instances of the app at once, each closing its handle while its
 * threads read.  Every reading handed out reached exactly one read: the
 * readings collected are exactly those counted, each once.
 */
TEST_F_TIMEOUT(cancel, many_instances_get_every_reading_exactly_once,
	       SLOW_CASE_S)
{
	size_t size = 1 << 16, got = 0, i;
	__u32 *seen = malloc(size * sizeof(*seen));
	pid_t pid[NR_INSTANCES];
	long first, last;
	int p[2], n, status;
	ssize_t ret;

	ASSERT_NE(NULL, seen);
	ASSERT_EQ(0, set_cancel_param("poll_ms", 1));
	ASSERT_EQ(0, pipe(p));
	first = readings();
	for (n = 0; n < NR_INSTANCES; n++) {
		pid[n] = fork();
		ASSERT_LE(0, pid[n]);
		if (!pid[n]) {
			close(p[0]);
			_exit(run_instance(p[1], n + 1));
		}
	}
	close(p[1]);
	while ((ret = read(p[0], &seen[got], sizeof(*seen))) == sizeof(*seen))
		ASSERT_GT(size, ++got);
	ASSERT_EQ(0, ret);
	for (n = 0; n < NR_INSTANCES; n++) {
		ASSERT_EQ(pid[n], waitpid(pid[n], &status, 0));
		EXPECT_EQ(0, status)
			TH_LOG("instance %d: %s", n, WEXITSTATUS(status) == 2 ?
			       "no read was cancelled" : "a read ended otherwise");
	}
	last = readings();

	TH_LOG("%zu readings over %d instances", got, NR_INSTANCES);
	ASSERT_EQ(last - first, (long)got);
	qsort(seen, got, sizeof(*seen), cmp_u32);
	for (i = 0; i < got; i++)
		ASSERT_EQ(first + (long)i, seen[i]);
	free(seen);
}

TEST_HARNESS_MAIN
