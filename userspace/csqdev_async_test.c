// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous reads of /dev/csq: aio (io_submit) and io_uring (READ, and
 * reads issued as uring commands), cancelled at every point a request can
 * be at when the cancel comes.  Cases are named by the order of events.
 *
 * An aio read or a uring-command read is a pending request in the
 * device's queue (CSQ_IOC_STATS counts it); an io_uring READ is not: it
 * waits in poll for a message, and io_uring retries it.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/csq.h>

#include "kselftest_harness.h"

#include "csq_call.h"
#include "csq_test.h"

#define AIO_DEPTH	1024
#define RING_DEPTH	1024
#define MANY		1000
#define RACE_ROUNDS	200
#define BUF_LEN		64

/* How many io_uring worker threads this process has now. */
static int io_wq_threads(void)
{
	char path[300], comm[32];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	dir = opendir("/proc/self/task");
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 d->d_name);
		if (read_text(path, comm, sizeof(comm)) > 0 &&
		    !strncmp(comm, "iou-wrk", 7))
			n++;
	}
	closedir(dir);
	return n;
}

/* aio */

FIXTURE(aio) {
	int fd;
	io_context_t ctx;
	struct iocb cb[MANY];
	char buf[MANY][BUF_LEN];
};

FIXTURE_SETUP(aio)
{
	quiet_device(_metadata, &self->fd);
	memset(&self->ctx, 0, sizeof(self->ctx));
	ASSERT_EQ(0, io_setup(AIO_DEPTH, &self->ctx));
}

FIXTURE_TEARDOWN(aio)
{
	if (self->ctx)
		io_destroy(self->ctx);
	close(self->fd);
}

/* Submits aio read @i of BUF_LEN bytes (or @len) on @fd. */
static int aio_read_on(struct _test_data_aio *self, int fd, int i, size_t len)
{
	struct iocb *cbs[1] = { &self->cb[i] };

	io_prep_pread(&self->cb[i], fd, self->buf[i], len, 0);
	self->cb[i].data = (void *)(long)i;
	return io_submit(self->ctx, 1, cbs);
}

/* Reaps one aio event, within WAIT_LIMIT_S; its result, or -ETIME. */
static long aio_reap(struct _test_data_aio *self, int *which)
{
	struct timespec ts = { .tv_sec = WAIT_LIMIT_S };
	struct io_event ev;

	if (io_getevents(self->ctx, 1, 1, &ev, &ts) != 1)
		return -ETIME;
	if (which)
		*which = (long)ev.data;
	return (long)ev.res;
}

/* Pending, then a write: the read completes with the message. */
TEST_F_TIMEOUT(aio, read_pending_then_write_completes_it_with_the_message,
	       SLOW_CASE_S)
{
	ASSERT_EQ(1, aio_read_on(self, self->fd, 0, BUF_LEN));
	/* io_submit() returned: the read waits in the queue. */
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(5, send_str(self->fd, "hello"));
	ASSERT_EQ(5, aio_reap(self, NULL));
	ASSERT_EQ(0, memcmp(self->buf[0], "hello", 5));
	ASSERT_EQ(0, queued_msgs(self->fd));
}

/* A message kept before the read: it completes with it. */
TEST_F_TIMEOUT(aio, read_of_a_kept_message_completes_with_it, SLOW_CASE_S)
{
	ASSERT_EQ(4, send_str(self->fd, "kept"));
	ASSERT_EQ(1, aio_read_on(self, self->fd, 0, BUF_LEN));
	ASSERT_EQ(4, aio_reap(self, NULL));
	ASSERT_EQ(0, memcmp(self->buf[0], "kept", 4));
}

/*
 * Pending, then io_cancel(): the event says ECANCELED, nothing is
 * consumed, and the next write reaches the next reader.
 */
TEST_F_TIMEOUT(aio, read_pending_then_io_cancel_fails_ecanceled_and_consumes_nothing,
	       SLOW_CASE_S)
{
	struct csq_stats before = stats_of(self->fd);
	struct io_event ev;
	char buf[8];

	ASSERT_EQ(1, aio_read_on(self, self->fd, 0, BUF_LEN));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(-EINPROGRESS, io_cancel(self->ctx, &self->cb[0], &ev));
	ASSERT_EQ(-ECANCELED, aio_reap(self, NULL));
	ASSERT_EQ(0, pending_reads(self->fd));
	ASSERT_EQ(before.canceled + 1, stats_of(self->fd).canceled);
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(1, recv_str(self->fd, buf, sizeof(buf)));
	ASSERT_STREQ("m", buf);
}

/* A read too small for the kept message: EMSGSIZE, the message stays. */
TEST_F_TIMEOUT(aio, read_too_small_fails_emsgsize_and_keeps_the_message,
	       SLOW_CASE_S)
{
	ASSERT_EQ(10, send_str(self->fd, "0123456789"));
	ASSERT_EQ(1, aio_read_on(self, self->fd, 0, 4));
	ASSERT_EQ(-EMSGSIZE, aio_reap(self, NULL));
	ASSERT_EQ(1, queued_msgs(self->fd));
}

/* A buffer that faults: EFAULT, and the message is kept for the next. */
TEST_F_TIMEOUT(aio, read_into_a_bad_buffer_fails_efault_and_keeps_the_message,
	       SLOW_CASE_S)
{
	struct iocb *cbs[1] = { &self->cb[0] };
	void *bad;

	bad = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, bad);
	io_prep_pread(&self->cb[0], self->fd, bad, BUF_LEN, 0);
	ASSERT_EQ(1, io_submit(self->ctx, 1, cbs));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(1, send_str(self->fd, "x"));
	ASSERT_EQ(-EFAULT, aio_reap(self, NULL));
	ASSERT_EQ(1, queued_msgs(self->fd));
	munmap(bad, 4096);
}

/* RWF_NOWAIT through aio on an empty stream: EAGAIN, nothing queued. */
TEST_F_TIMEOUT(aio, nowait_read_of_an_empty_stream_fails_eagain, SLOW_CASE_S)
{
	struct iocb *cbs[1] = { &self->cb[0] };

	io_prep_pread(&self->cb[0], self->fd, self->buf[0], BUF_LEN, 0);
	self->cb[0].aio_rw_flags = RWF_NOWAIT;
	ASSERT_EQ(1, io_submit(self->ctx, 1, cbs));
	ASSERT_EQ(-EAGAIN, aio_reap(self, NULL));
	ASSERT_EQ(0, pending_reads(self->fd));
}

/**
 * struct race - a cancel and a write let go at once
 * @go: lets both go.
 * @self: the fixture.
 * @msg: what the writer writes.
 * @cancel_ret: what io_cancel() returned.
 */
struct race {
	pthread_barrier_t go;
	struct _test_data_aio *self;
	char msg[16];
	int cancel_ret;
};

static void *race_writer(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(&r->go);
	send_str(r->self->fd, r->msg);
	return NULL;
}

/*
 * io_cancel() racing a write: exactly one outcome per round, the message
 * in the read's event or kept in the stream, never both, never neither.
 */
TEST_F_TIMEOUT(aio, io_cancel_racing_a_write_has_exactly_one_outcome,
	       SLOW_CASE_S)
{
	int delivered = 0, kept = 0, round;
	struct io_event ev;
	struct race r;
	pthread_t w;
	char buf[16];
	long res;

	r.self = self;
	for (round = 0; round < RACE_ROUNDS; round++) {
		snprintf(r.msg, sizeof(r.msg), "r%d", round);
		ASSERT_EQ(1, aio_read_on(self, self->fd, 0, BUF_LEN));
		ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
		ASSERT_EQ(0, pthread_barrier_init(&r.go, NULL, 2));
		ASSERT_EQ(0, pthread_create(&w, NULL, race_writer, &r));
		pthread_barrier_wait(&r.go);
		r.cancel_ret = io_cancel(self->ctx, &self->cb[0], &ev);
		ASSERT_EQ(0, pthread_join(w, NULL));
		pthread_barrier_destroy(&r.go);
		res = aio_reap(self, NULL);
		if (res == (long)strlen(r.msg)) {
			ASSERT_EQ(0, memcmp(self->buf[0], r.msg, res));
			ASSERT_EQ(0, queued_msgs(self->fd));
			delivered++;
		} else {
			ASSERT_EQ(-ECANCELED, res);
			ASSERT_EQ(-EINPROGRESS, r.cancel_ret);
			ASSERT_EQ((ssize_t)strlen(r.msg),
				  recv_str(self->fd, buf, sizeof(buf)));
			ASSERT_STREQ(r.msg, buf);
			kept++;
		}
		ASSERT_EQ(0, pending_reads(self->fd));
	}
	TH_LOG("%d delivered to the read, %d kept after its cancel", delivered,
	       kept);
}

/* io_destroy() with reads pending: all cancelled, none left behind. */
TEST_F_TIMEOUT(aio, io_destroy_with_pending_reads_leaves_none, SLOW_CASE_S)
{
	int i;

	for (i = 0; i < 16; i++)
		ASSERT_EQ(1, aio_read_on(self, self->fd, i, BUF_LEN));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 16));
	ASSERT_EQ(0, io_destroy(self->ctx));
	self->ctx = 0;
	ASSERT_EQ(0, pending_reads(self->fd));
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(1, queued_msgs(self->fd));
}

/* close() with aio reads pending: each ends ECANCELED (IRP_MJ_CLEANUP). */
TEST_F_TIMEOUT(aio, close_with_pending_reads_cancels_them, SLOW_CASE_S)
{
	int fd, i;

	fd = open_csq(0);
	ASSERT_LE(0, fd);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(1, aio_read_on(self, fd, i, BUF_LEN));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 4));
	ASSERT_EQ(0, close(fd));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(-ECANCELED, aio_reap(self, NULL));
	ASSERT_EQ(0, pending_reads(self->fd));
}

/* CSQ_IOC_CANCEL cancels the file's aio reads too (CancelIo). */
TEST_F_TIMEOUT(aio, ioctl_cancel_cancels_pending_reads, SLOW_CASE_S)
{
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, aio_read_on(self, self->fd, i, BUF_LEN));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 3));
	ASSERT_EQ(3, ioctl(self->fd, CSQ_IOC_CANCEL, 0));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(-ECANCELED, aio_reap(self, NULL));
}

/*
 * The exit of a process with aio reads pending (thread rundown): its aio
 * context cancels them, nothing is left, and the module can go.
 */
TEST_F_TIMEOUT(aio, process_exit_with_pending_reads_leaves_nothing,
	       SLOW_CASE_S)
{
	int status, i;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		io_context_t ctx = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (io_setup(64, &ctx))
			_exit(1);
		self->ctx = ctx;
		for (i = 0; i < 8; i++)
			if (aio_read_on(self, self->fd, i, BUF_LEN) != 1)
				_exit(2);
		if (!WAIT_FOR(pending_reads(self->fd) == 8))
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 0));
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(1, queued_msgs(self->fd));
}

/* io_uring */

FIXTURE(ring) {
	int fd;
	struct io_uring ring;
	bool cmds;
	char buf[MANY][BUF_LEN];
};

FIXTURE_SETUP(ring)
{
	quiet_device(_metadata, &self->fd);
	ASSERT_EQ(0, io_uring_queue_init(RING_DEPTH, &self->ring, 0));
	self->cmds = kernel_cancels_uring_cmds();
}

FIXTURE_TEARDOWN(ring)
{
	io_uring_queue_exit(&self->ring);
	ioctl(self->fd, CSQ_IOC_CANCEL, 0);
	close(self->fd);
}

static struct io_uring_sqe *ring_sqe(struct _test_data_ring *self)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&self->ring);

	if (!sqe) {
		io_uring_submit(&self->ring);
		sqe = io_uring_get_sqe(&self->ring);
	}
	return sqe;
}

static void ring_read(struct _test_data_ring *self, int fd, int i, __u32 flags)
{
	struct io_uring_sqe *sqe = ring_sqe(self);

	io_uring_prep_read(sqe, fd, self->buf[i], BUF_LEN, -1);
	sqe->flags |= flags;
	sqe->user_data = i;
}

/* A read issued as the uring command CSQ_URING_READ, named @key. */
static void ring_cmd_read(struct _test_data_ring *self, int fd, int i, __u32 key)
{
	struct io_uring_sqe *sqe = ring_sqe(self);
	struct csq_uring_cmd c = {
		.addr = (uintptr_t)self->buf[i],
		.len = BUF_LEN,
		.key = key,
	};

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = CSQ_URING_READ;
	memcpy(sqe->cmd, &c, sizeof(c));
	sqe->user_data = i;
}

static void ring_cmd_cancel(struct _test_data_ring *self, __u32 key, __u64 data)
{
	struct io_uring_sqe *sqe = ring_sqe(self);
	struct csq_uring_cmd c = { .key = key };

	memset(sqe, 0, sizeof(*sqe));
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = self->fd;
	sqe->cmd_op = CSQ_URING_CANCEL;
	memcpy(sqe->cmd, &c, sizeof(c));
	sqe->user_data = data;
}

/* IORING_OP_ASYNC_CANCEL of the request @target, itself @data. */
static void ring_cancel(struct _test_data_ring *self, __u64 target, __u64 data)
{
	struct io_uring_sqe *sqe = ring_sqe(self);

	io_uring_prep_cancel64(sqe, target, 0);
	sqe->user_data = data;
}

/* One completion, within WAIT_LIMIT_S: its result; its user_data in @data. */
static int ring_reap(struct _test_data_ring *self, __u64 *data)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_LIMIT_S };
	struct io_uring_cqe *cqe;
	int res;

	if (io_uring_wait_cqe_timeout(&self->ring, &cqe, &ts))
		return -ETIME;
	res = cqe->res;
	if (data)
		*data = cqe->user_data;
	io_uring_cqe_seen(&self->ring, cqe);
	return res;
}

/*
 * An io_uring READ of an empty stream waits in poll: no request queued,
 * and no io-wq thread, however many reads wait; a write completes one.
 */
TEST_F_TIMEOUT(ring, read_of_an_empty_stream_waits_in_poll_without_a_thread,
	       SLOW_CASE_S)
{
	__u64 data;
	int i;

	for (i = 0; i < 64; i++)
		ring_read(self, self->fd, i, 0);
	ASSERT_EQ(64, io_uring_submit(&self->ring));
	ASSERT_EQ(0, pending_reads(self->fd));
	ASSERT_EQ(0, io_wq_threads());
	ASSERT_EQ(4, send_str(self->fd, "ring"));
	ASSERT_EQ(4, ring_reap(self, &data));
	ASSERT_EQ(0, memcmp(self->buf[data], "ring", 4));
	ASSERT_EQ(0, queued_msgs(self->fd));
}

/*
 * Even forced async (IOSQE_ASYNC), no worker blocks in the device: io-wq
 * makes the first attempt, finds the file pollable, and arms poll.  Its
 * workers are then idle (and go), none parked in a read.
 */
TEST_F_TIMEOUT(ring, forced_async_reads_keep_no_worker_per_read, SLOW_CASE_S)
{
	int i, threads;

	for (i = 0; i < 64; i++)
		ring_read(self, self->fd, i, IOSQE_ASYNC);
	ASSERT_EQ(64, io_uring_submit(&self->ring));
	/* Time for workers to park, if any would: they block, not spin. */
	usleep(200000);
	threads = io_wq_threads();
	ASSERT_EQ(0, pending_reads(self->fd));
	TH_LOG("%d idle io-wq threads for 64 forced-async reads", threads);
	ASSERT_EQ(3, send_str(self->fd, "any"));
	ASSERT_EQ(3, ring_reap(self, NULL));
}

/* A READ, then IORING_OP_ASYNC_CANCEL: it ends ECANCELED, takes nothing. */
TEST_F_TIMEOUT(ring, read_then_async_cancel_fails_ecanceled_and_takes_nothing,
	       SLOW_CASE_S)
{
	int res[2] = { 1, 1 };
	__u64 data;
	int k;

	ring_read(self, self->fd, 0, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ring_cancel(self, 0, 1000);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (k = 0; k < 2; k++) {
		int r = ring_reap(self, &data);

		res[data == 1000] = r;
	}
	ASSERT_EQ(-ECANCELED, res[0]);
	ASSERT_EQ(0, res[1]);
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(1, queued_msgs(self->fd));
}

/* A cancel racing a write: exactly one outcome, never both, never none. */
TEST_F_TIMEOUT(ring, async_cancel_racing_a_write_has_exactly_one_outcome,
	       SLOW_CASE_S)
{
	int round, k, read_res = 0, delivered = 0;
	char msg[16], buf[16];
	__u64 data;

	for (round = 0; round < RACE_ROUNDS; round++) {
		snprintf(msg, sizeof(msg), "u%d", round);
		ring_read(self, self->fd, 0, 0);
		ASSERT_EQ(1, io_uring_submit(&self->ring));
		ASSERT_EQ((ssize_t)strlen(msg), send_str(self->fd, msg));
		ring_cancel(self, 0, 1000);
		ASSERT_EQ(1, io_uring_submit(&self->ring));
		for (k = 0; k < 2; k++) {
			int r = ring_reap(self, &data);

			if (data != 1000)
				read_res = r;
		}
		if (read_res > 0) {
			ASSERT_EQ((int)strlen(msg), read_res);
			ASSERT_EQ(0, memcmp(self->buf[0], msg, read_res));
			ASSERT_EQ(0, queued_msgs(self->fd));
			delivered++;
		} else {
			ASSERT_EQ(-ECANCELED, read_res);
			ASSERT_EQ((ssize_t)strlen(msg),
				  recv_str(self->fd, buf, sizeof(buf)));
			ASSERT_STREQ(msg, buf);
		}
	}
	TH_LOG("%d of %d delivered before the cancel", delivered, RACE_ROUNDS);
}

/*
 * Ring exit with 1,000 reads waiting (READs in poll and, where the kernel
 * cancels them, uring-command reads in the queue): nothing is left behind,
 * and nothing swallows the next message.
 */
TEST_F_TIMEOUT(ring, ring_exit_with_1000_pending_reads_leaves_nothing,
	       SLOW_CASE_S)
{
	int i, cmds = self->cmds ? MANY / 2 : 0;

	for (i = 0; i < MANY; i++) {
		if (i < cmds)
			ring_cmd_read(self, self->fd, i, 0);
		else
			ring_read(self, self->fd, i, 0);
	}
	ASSERT_LE(0, io_uring_submit(&self->ring));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == cmds));
	io_uring_queue_exit(&self->ring);
	/* The ring goes in a worker of its own, after this returns. */
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 0));
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(1, queued_msgs(self->fd));
	ASSERT_EQ(0, io_uring_queue_init(RING_DEPTH, &self->ring, 0));
}

/* Where the kernel cannot cancel uring commands, csqdev refuses them. */
TEST_F(ring, uring_cmd_without_the_cancel_hook_fails_eopnotsupp)
{
	if (self->cmds)
		SKIP(return, "this kernel cancels uring commands");
	ring_cmd_read(self, self->fd, 0, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_EQ(-EOPNOTSUPP, ring_reap(self, NULL));
	ASSERT_EQ(0, pending_reads(self->fd));
}

/* A uring-command read: pending, then a write completes it. */
TEST_F_TIMEOUT(ring, uring_cmd_read_pending_then_write_completes_it,
	       SLOW_CASE_S)
{
	if (!self->cmds)
		SKIP(return, "no cancel hook for uring commands here");
	ring_cmd_read(self, self->fd, 0, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(3, send_str(self->fd, "cmd"));
	ASSERT_EQ(3, ring_reap(self, NULL));
	ASSERT_EQ(0, memcmp(self->buf[0], "cmd", 3));
}

/* CSQ_URING_CANCEL by key: that read ends ECANCELED, the other waits. */
TEST_F_TIMEOUT(ring, uring_cmd_cancel_by_key_cancels_that_read_only,
	       SLOW_CASE_S)
{
	int res[3] = { 1, 1, 1 };
	__u64 data;
	int k;

	if (!self->cmds)
		SKIP(return, "no cancel hook for uring commands here");
	ring_cmd_read(self, self->fd, 0, 7);
	ring_cmd_read(self, self->fd, 1, 8);
	ASSERT_EQ(2, io_uring_submit(&self->ring));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 2));
	ring_cmd_cancel(self, 7, 2);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	for (k = 0; k < 2; k++) {
		int r = ring_reap(self, &data);

		res[data] = r;
	}
	ASSERT_EQ(-ECANCELED, res[0]);
	ASSERT_EQ(1, res[2]);
	ASSERT_EQ(1, pending_reads(self->fd));
	ASSERT_EQ(1, send_str(self->fd, "8"));
	ASSERT_EQ(1, ring_reap(self, &data));
	ASSERT_EQ(1, data);
}

/* The exit of a process with uring-command reads pending leaves nothing. */
TEST_F_TIMEOUT(ring, process_exit_with_pending_uring_cmd_reads_leaves_nothing,
	       SLOW_CASE_S)
{
	int status, i;
	pid_t pid;

	if (!self->cmds)
		SKIP(return, "no cancel hook for uring commands here");
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		io_uring_queue_exit(&self->ring);
		if (io_uring_queue_init(64, &self->ring, 0))
			_exit(1);
		for (i = 0; i < 8; i++)
			ring_cmd_read(self, self->fd, i, 0);
		if (io_uring_submit(&self->ring) != 8)
			_exit(2);
		if (!WAIT_FOR(pending_reads(self->fd) == 8))
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 0));
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(1, queued_msgs(self->fd));
}

/*
 * Blocked, aio and uring-command reads are served in the order they were
 * queued, one message each.
 */
TEST_F_TIMEOUT(ring, mixed_blocked_aio_and_uring_cmd_reads_are_served_in_order,
	       SLOW_CASE_S)
{
	struct call blocked[2] = { { 0 } };
	struct iocb cb, *cbs[1] = { &cb };
	char abuf[BUF_LEN], msg[16];
	io_context_t ctx = 0;
	struct io_event ev;
	int i, n = 0;

	if (!self->cmds)
		SKIP(return, "no cancel hook for uring commands here");
	ASSERT_EQ(0, io_setup(8, &ctx));
	ASSERT_EQ(0, start_read(&blocked[0], self->fd, NULL, CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == ++n));
	io_prep_pread(&cb, self->fd, abuf, sizeof(abuf), 0);
	ASSERT_EQ(1, io_submit(ctx, 1, cbs));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == ++n));
	ring_cmd_read(self, self->fd, 0, 0);
	ASSERT_EQ(1, io_uring_submit(&self->ring));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == ++n));
	ASSERT_EQ(0, start_read(&blocked[1], self->fd, NULL, CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == ++n));

	for (i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "%d", i);
		ASSERT_EQ(1, send_str(self->fd, msg));
	}
	ASSERT_EQ(0, call_join(&blocked[0]));
	ASSERT_TRUE(got(&blocked[0], "0"));
	ASSERT_EQ(1, io_getevents(ctx, 1, 1, &ev, NULL));
	ASSERT_EQ(1, (long)ev.res);
	ASSERT_EQ('1', abuf[0]);
	ASSERT_EQ(1, ring_reap(self, NULL));
	ASSERT_EQ('2', self->buf[0][0]);
	ASSERT_EQ(0, call_join(&blocked[1]));
	ASSERT_TRUE(got(&blocked[1], "3"));
	io_destroy(ctx);
}

TEST_HARNESS_MAIN
