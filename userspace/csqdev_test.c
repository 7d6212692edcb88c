// SPDX-License-Identifier: GPL-2.0
/*
 * The contract of /dev/csq, one or more cases per line of it.
 *
 * Every case starts from a quiet device: producer off, no read parked, no
 * message kept.  A case learns that a read is parked from CSQ_IOC_STATS and
 * that a writer or a poller sleeps from /proc, never from a fixed delay, so
 * that a slow emulated machine changes how long a case takes, not whether it
 * passes.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/csq.h>

#include "kselftest_harness.h"

#include "csq_call.h"
#include "csq_test.h"

#define CSQ_MODULE	"csqdev"

/* Exit status of a child whose read returned another message. */
#define CHILD_WRONG_MESSAGE	200

/* How much the race of a signal and a write moves its aim each round. */
#define STORM_STEP_NS	250L

static atomic_int sigusr1_count;

static void on_sigusr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&sigusr1_count, 1);
}

static int catch_sigusr1(int sa_flags)
{
	struct sigaction sa = {
		.sa_handler = on_sigusr1,
		.sa_flags = sa_flags,
	};

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGUSR1, &sa, NULL);
}

/*
 * Fills the stream with messages of CSQ_MSG_MAX bytes, numbered "0", "1",
 * ... in their first bytes; returns how many it took.
 */
static long fill_stream(int fd)
{
	long n = read_param("capacity") / CSQ_MSG_MAX;
	char msg[CSQ_MSG_MAX] = { 0 };
	long i;

	for (i = 0; i < n; i++) {
		snprintf(msg, sizeof(msg), "%ld", i);
		if (write(fd, msg, sizeof(msg)) != sizeof(msg))
			return -1;
	}
	return n;
}

/* Reads one message of fill_stream(); returns its number, or -1. */
static long recv_filler(int fd)
{
	char buf[CSQ_MSG_MAX + 1];

	if (recv_str(fd, buf, sizeof(buf)) != CSQ_MSG_MAX)
		return -1;
	return strtol(buf, NULL, 10);
}

static void *bad_page(void)
{
	return mmap(NULL, getpagesize(), PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

/*
 * A child process that reads once from @fd and exits with 0 if it got the
 * message @expect, CHILD_WRONG_MESSAGE for another one, or the errno.
 */
static pid_t fork_reader(int fd, const char *expect)
{
	char buf[CSQ_MSG_MAX + 1];
	ssize_t n;
	pid_t pid;

	pid = fork();
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	n = recv_str(fd, buf, sizeof(buf));
	if (n < 0)
		_exit(errno);
	_exit(strcmp(buf, expect) ? CHILD_WRONG_MESSAGE : 0);
}

/* The exit status of child @pid, or -1 if it did not exit normally. */
static int exit_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

FIXTURE(csq) {
	int fd;
};

FIXTURE_SETUP(csq)
{
	quiet_device(_metadata, &self->fd);
}

FIXTURE_TEARDOWN(csq)
{
	if (self->fd >= 0) {
		set_producer(self->fd, 0);
		close(self->fd);
	}
}

/* write(): 1 <= n <= CSQ_MSG_MAX is one message and returns n. */
TEST_F(csq, write_of_1_and_of_msg_max_bytes_returns_n_and_keeps_one_message_each)
{
	static char big[CSQ_MSG_MAX], back[CSQ_MSG_MAX + 1];

	memset(big, 'x', sizeof(big));
	big[0] = 'a';
	big[CSQ_MSG_MAX - 1] = 'z';
	ASSERT_EQ(1, write(self->fd, "1", 1));
	ASSERT_EQ(CSQ_MSG_MAX, write(self->fd, big, CSQ_MSG_MAX));
	ASSERT_EQ(2, queued_msgs(self->fd));

	ASSERT_EQ(1, read(self->fd, back, sizeof(back)));
	ASSERT_EQ('1', back[0]);
	ASSERT_EQ(CSQ_MSG_MAX, read(self->fd, back, sizeof(back)));
	ASSERT_EQ(0, memcmp(back, big, CSQ_MSG_MAX));
}

/* write(): n > CSQ_MSG_MAX fails EMSGSIZE, nothing queued. */
TEST_F(csq, write_over_msg_max_fails_emsgsize_and_queues_nothing)
{
	static char big[CSQ_MSG_MAX + 1];
	char buf[8];

	memset(big, 'x', sizeof(big));
	ASSERT_EQ(-1, write(self->fd, big, sizeof(big)));
	ASSERT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(0, queued_msgs(self->fd));

	/* Nor is it handed to a read that waits. */
	ASSERT_EQ(1, send_str(self->fd, "k"));
	ASSERT_EQ(1, recv_str(self->fd, buf, sizeof(buf)));
	ASSERT_STREQ("k", buf);
}

/* write(): n = 0 returns 0, nothing queued. */
TEST_F(csq, write_of_0_bytes_returns_0_and_queues_nothing)
{
	struct call c = { 0 };

	ASSERT_EQ(0, write(self->fd, "", 0));
	ASSERT_EQ(0, queued_msgs(self->fd));

	/* Not even to a read that waits. */
	ASSERT_EQ(0, start_read(&c, self->fd, NULL, CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(0, write(self->fd, "", 0));
	ASSERT_EQ(1, pending_reads(self->fd));
	ASSERT_FALSE(call_done(&c));
	ASSERT_EQ(1, ioctl(self->fd, CSQ_IOC_CANCEL, 0));
	ASSERT_EQ(0, call_join(&c));
	ASSERT_EQ(ECANCELED, c.err);
}

/* read(): exactly one whole message and its length. */
TEST_F(csq, read_returns_one_whole_message_and_its_length)
{
	char buf[64];

	ASSERT_EQ(5, send_str(self->fd, "hello"));
	ASSERT_EQ(6, send_str(self->fd, "world!"));
	ASSERT_EQ(5, recv_str(self->fd, buf, sizeof(buf)));
	ASSERT_STREQ("hello", buf);
	ASSERT_EQ(6, recv_str(self->fd, buf, sizeof(buf)));
	ASSERT_STREQ("world!", buf);
}

/* read(): next message longer than n fails EMSGSIZE, message stays first. */
TEST_F(csq, read_shorter_than_kept_message_fails_emsgsize_and_keeps_it_first)
{
	char buf[64];

	ASSERT_EQ(10, send_str(self->fd, "0123456789"));
	ASSERT_EQ(1, send_str(self->fd, "x"));
	ASSERT_EQ(-1, read(self->fd, buf, 9));
	ASSERT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(2, queued_msgs(self->fd));
	ASSERT_EQ(10, recv_str(self->fd, buf, 11));
	ASSERT_STREQ("0123456789", buf);
	ASSERT_EQ(1, recv_str(self->fd, buf, sizeof(buf)));
	ASSERT_STREQ("x", buf);
}

/* The same, for a read that was parked when the long message came. */
TEST_F_TIMEOUT(csq, blocked_read_shorter_than_handed_message_fails_emsgsize_and_keeps_it_first,
	       SLOW_CASE_S)
{
	struct call c = { 0 };
	char buf[64];

	ASSERT_EQ(0, start_read(&c, self->fd, NULL, 4));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(10, send_str(self->fd, "0123456789"));
	ASSERT_EQ(0, call_join(&c));
	ASSERT_EQ(-1, c.ret);
	ASSERT_EQ(EMSGSIZE, c.err);
	ASSERT_EQ(1, queued_msgs(self->fd));
	ASSERT_EQ(10, recv_str(self->fd, buf, sizeof(buf)));
	ASSERT_STREQ("0123456789", buf);
}

/* read(): n = 0 returns 0 at once, with or without a message. */
TEST_F(csq, read_of_0_bytes_returns_0_at_once_and_consumes_nothing)
{
	char buf[8];

	ASSERT_EQ(0, read(self->fd, buf, 0));
	ASSERT_EQ(0, pending_reads(self->fd));
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(0, read(self->fd, buf, 0));
	ASSERT_EQ(1, queued_msgs(self->fd));
}

/* Messages are delivered in write order. */
TEST_F(csq, kept_messages_are_read_in_write_order)
{
	char msg[16], buf[16];
	int i;

	for (i = 0; i < 4; i++) {
		snprintf(msg, sizeof(msg), "m%d", i);
		ASSERT_EQ((ssize_t)strlen(msg), send_str(self->fd, msg));
	}
	for (i = 0; i < 4; i++) {
		snprintf(msg, sizeof(msg), "m%d", i);
		ASSERT_LT(0, recv_str(self->fd, buf, sizeof(buf)));
		ASSERT_STREQ(msg, buf);
	}
}

/* Blocked readers are served in the order they blocked, one message each. */
TEST_F_TIMEOUT(csq, blocked_readers_get_one_message_each_in_the_order_they_blocked,
	       SLOW_CASE_S)
{
	struct call c[3] = { 0 };
	char msg[4];
	int i;

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, start_read(&c[i], self->fd, NULL, CSQ_MSG_MAX));
		ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == i + 1));
	}
	ASSERT_EQ(1, send_str(self->fd, "0"));
	ASSERT_EQ(0, call_join(&c[0]));
	ASSERT_TRUE(got(&c[0], "0"));
	/* Exactly one reader took it. */
	ASSERT_EQ(2, pending_reads(self->fd));
	ASSERT_FALSE(call_done(&c[1]));
	ASSERT_FALSE(call_done(&c[2]));

	for (i = 1; i < 3; i++) {
		snprintf(msg, sizeof(msg), "%d", i);
		ASSERT_EQ(1, send_str(self->fd, msg));
	}
	for (i = 1; i < 3; i++) {
		snprintf(msg, sizeof(msg), "%d", i);
		ASSERT_EQ(0, call_join(&c[i]));
		ASSERT_TRUE(got(&c[i], msg));
	}
	ASSERT_EQ(0, queued_msgs(self->fd));
}

/* A blocking read with no message queues a request until a write. */
TEST_F_TIMEOUT(csq, blocking_read_queues_a_request_until_a_write_completes_it,
	       SLOW_CASE_S)
{
	struct csq_stats before, after;
	struct call c = { 0 };

	before = stats_of(self->fd);
	ASSERT_EQ(0, start_read(&c, self->fd, NULL, CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_FALSE(call_done(&c));
	ASSERT_EQ(3, send_str(self->fd, "msg"));
	ASSERT_EQ(0, call_join(&c));
	ASSERT_TRUE(got(&c, "msg"));

	after = stats_of(self->fd);
	ASSERT_EQ(0U, after.pending_reads);
	ASSERT_EQ(0U, after.queued_msgs);
	ASSERT_EQ(before.completed + 1, after.completed);
	ASSERT_EQ(before.canceled, after.canceled);
}

/* O_NONBLOCK read with no message: EAGAIN, nothing queued. */
TEST_F(csq, nonblocking_read_without_message_fails_eagain_and_queues_nothing)
{
	struct csq_stats before;
	char buf[8];
	int fd;

	fd = open_csq(O_NONBLOCK);
	ASSERT_LE(0, fd);
	before = stats_of(fd);
	ASSERT_EQ(-1, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, pending_reads(fd));
	ASSERT_EQ(before.canceled, stats_of(fd).canceled);
	/* No request left behind to swallow the next message. */
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(1, queued_msgs(self->fd));
	ASSERT_EQ(1, recv_str(fd, buf, sizeof(buf)));
	ASSERT_STREQ("m", buf);
	close(fd);
}

FIXTURE(csq_signal) {
	int fd;
};

/* The signal handler is installed with or without SA_RESTART. */
FIXTURE_VARIANT(csq_signal) {
	int sa_flags;
	bool restarts;
};

FIXTURE_VARIANT_ADD(csq_signal, no_restart) {
	.sa_flags = 0,
	.restarts = false,
};

FIXTURE_VARIANT_ADD(csq_signal, sa_restart) {
	.sa_flags = SA_RESTART,
	.restarts = true,
};

FIXTURE_SETUP(csq_signal)
{
	quiet_device(_metadata, &self->fd);
	ASSERT_EQ(0, catch_sigusr1(variant->sa_flags));
}

FIXTURE_TEARDOWN(csq_signal)
{
	if (self->fd >= 0) {
		set_producer(self->fd, 0);
		close(self->fd);
	}
}

/*
 * A signal cancels a blocked read: EINTR without SA_RESTART, a transparent
 * restart with it; no message is consumed by the cancelled read.  Either
 * way it counts as interrupted, not as cancelled.
 */
TEST_F_TIMEOUT(csq_signal, signal_to_blocked_reader_cancels_its_request,
	       SLOW_CASE_S)
{
	struct csq_stats before;
	struct call c = { 0 };
	char buf[8];

	before = stats_of(self->fd);
	ASSERT_EQ(0, start_read(&c, self->fd, NULL, CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(0, pthread_kill(c.thread, SIGUSR1));
	ASSERT_TRUE(WAIT_FOR(atomic_load(&sigusr1_count) == 1));
	ASSERT_TRUE(WAIT_FOR(stats_of(self->fd).interrupted ==
			     before.interrupted + 1));

	if (variant->restarts) {
		/* The restarted read parks again and gets the next message. */
		ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
		ASSERT_FALSE(call_done(&c));
		ASSERT_EQ(1, send_str(self->fd, "m"));
		ASSERT_EQ(0, call_join(&c));
		ASSERT_TRUE(got(&c, "m"));
	} else {
		ASSERT_EQ(0, call_join(&c));
		ASSERT_EQ(-1, c.ret);
		ASSERT_EQ(EINTR, c.err);
		ASSERT_EQ(0, pending_reads(self->fd));
		/* The cancelled read took nothing: the message is kept. */
		ASSERT_EQ(1, send_str(self->fd, "m"));
		ASSERT_EQ(1, queued_msgs(self->fd));
		ASSERT_EQ(1, recv_str(self->fd, buf, sizeof(buf)));
		ASSERT_STREQ("m", buf);
	}
	ASSERT_EQ(before.interrupted + 1, stats_of(self->fd).interrupted);
	ASSERT_EQ(before.canceled, stats_of(self->fd).canceled);
}

/* A write to a full stream sleeps; a signal fails it, nothing queued. */
TEST_F_TIMEOUT(csq_signal, signal_to_writer_blocked_on_full_stream_cancels_the_write,
	       SLOW_CASE_S)
{
	struct call c = { 0 };
	char buf[16];
	long n, i;

	if (!have_proc())
		SKIP(return, "needs /proc to see the writer sleep");
	n = fill_stream(self->fd);
	ASSERT_LT(0, n);
	ASSERT_EQ(0, start_write(&c, self->fd, "late"));
	ASSERT_TRUE(WAIT_FOR(sleeps_in(atomic_load(&c.tid), SYS_write,
				       SYS_write)));
	ASSERT_EQ(0, pthread_kill(c.thread, SIGUSR1));

	if (variant->restarts) {
		/* Restarted, it sleeps again until reads free half the room. */
		ASSERT_TRUE(WAIT_FOR(atomic_load(&sigusr1_count) == 1));
		ASSERT_TRUE(WAIT_FOR(sleeps_in(atomic_load(&c.tid), SYS_write,
					       SYS_write)));
		ASSERT_EQ(n, queued_msgs(self->fd));
		for (i = 0; i < n / 2; i++)
			ASSERT_EQ(i, recv_filler(self->fd));
		ASSERT_EQ(0, call_join(&c));
		ASSERT_EQ(4, c.ret);
		for (; i < n; i++)
			ASSERT_EQ(i, recv_filler(self->fd));
		ASSERT_LT(0, recv_str(self->fd, buf, sizeof(buf)));
		ASSERT_STREQ("late", buf);
	} else {
		ASSERT_EQ(0, call_join(&c));
		ASSERT_EQ(-1, c.ret);
		ASSERT_EQ(EINTR, c.err);
		ASSERT_EQ(n, queued_msgs(self->fd));
		ASSERT_EQ(n, drain());
	}
}

/* Shared by the signal races: one reader, one source, a signal storm. */
struct storm {
	int fd;
	unsigned int n;
	bool ticks;
	atomic_uint received;
	atomic_bool reader_done;
	atomic_bool writer_done;
	atomic_uint interrupted;
	int reader_err;
	int writer_err;
	bool out_of_order;
	pthread_t reader;
};

/* Whether @msg may follow @last: the next number, or any later tick. */
static bool storm_in_order(struct storm *s, const char *msg,
			   unsigned long long *last)
{
	unsigned long long seen;

	if (!s->ticks)
		return strtoull(msg, NULL, 10) == *last;
	seen = tick_of(msg);
	if (seen <= *last)
		return false;
	*last = seen;
	return true;
}

static void *storm_reader(void *arg)
{
	unsigned long long last = 0;
	struct storm *s = arg;
	char buf[64];
	unsigned int i;
	ssize_t n;

	for (i = 0; i < s->n; ) {
		n = recv_str(s->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR) {
			atomic_fetch_add(&s->interrupted, 1);
			continue;
		}
		if (n < 0) {
			s->reader_err = errno;
			break;
		}
		if (!storm_in_order(s, buf, &last)) {
			s->out_of_order = true;
			break;
		}
		atomic_store(&s->received, ++i);
		if (!s->ticks)
			last = i;
	}
	atomic_store(&s->reader_done, true);
	return NULL;
}

static void spin_ns(long ns)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000000L + t.tv_nsec - t0.tv_nsec <
	       ns);
}

/*
 * Aims a signal at each hand-off: once the reader is parked, signal it and
 * write after a delay.  If the signal won the last round (the reader took
 * its request back first) the delay shrinks, else it grows: it settles
 * where the write takes the parked read just as the woken reader goes to
 * take it back, whatever the speed of the machine.
 */
static void *storm_writer(void *arg)
{
	struct storm *s = arg;
	__u64 interrupted = 0, now;
	long delay_ns = 0;
	char msg[16];
	unsigned int i;

	for (i = 0; i < s->n && !atomic_load(&s->reader_done); i++) {
		snprintf(msg, sizeof(msg), "%u", i);
		while (pending_reads(s->fd) != 1 &&
		       !atomic_load(&s->reader_done))
			sched_yield();
		now = stats_of(s->fd).interrupted;
		if (i && now != interrupted)
			delay_ns -= STORM_STEP_NS;
		else if (i)
			delay_ns += STORM_STEP_NS;
		delay_ns = delay_ns < 0 ? 0 : delay_ns;
		interrupted = now;
		pthread_kill(s->reader, SIGUSR1);
		spin_ns(delay_ns);
		if (send_str(s->fd, msg) < 0) {
			s->writer_err = errno;
			break;
		}
	}
	atomic_store(&s->writer_done, true);
	return NULL;
}

static void *storm_signaller(void *arg)
{
	struct timespec ts = { .tv_nsec = 20000 };
	struct storm *s = arg;

	while (!atomic_load(&s->reader_done)) {
		pthread_kill(s->reader, SIGUSR1);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/*
 * The last writes have been made, the reader is parked and nothing is
 * kept: whatever it has not received was lost.
 */
static bool storm_lost_messages(struct storm *s)
{
	struct csq_stats st;

	if (!atomic_load(&s->writer_done) || atomic_load(&s->reader_done))
		return false;
	st = stats_of(s->fd);
	return st.pending_reads == 1 && st.queued_msgs == 0 &&
	       !atomic_load(&s->reader_done);
}

/*
 * A message handed to a reader at the moment a signal comes is returned by
 * that read, never lost: 2000 numbered messages, each written together
 * with a signal to the parked reader, must all arrive, in order.
 */
TEST_F_TIMEOUT(csq_signal, messages_racing_signals_are_each_read_once_in_order,
	       SLOW_CASE_S)
{
	struct storm s = { .fd = self->fd, .n = 2000 };
	bool lost = false;
	pthread_t writer;

	ASSERT_EQ(0, pthread_create(&s.reader, NULL, storm_reader, &s));
	ASSERT_EQ(0, pthread_create(&writer, NULL, storm_writer, &s));
	while (!atomic_load(&s.reader_done) && !lost) {
		lost = storm_lost_messages(&s);
		nap();
	}
	if (lost)
		ioctl(self->fd, CSQ_IOC_CANCEL, 0);
	ASSERT_EQ(0, pthread_join(writer, NULL));
	ASSERT_EQ(0, pthread_join(s.reader, NULL));

	ASSERT_FALSE(lost) TH_LOG("lost after %u of %u messages",
				  atomic_load(&s.received), s.n);
	ASSERT_FALSE(s.out_of_order) TH_LOG("message %u out of order",
					    atomic_load(&s.received));
	ASSERT_EQ(0, s.writer_err);
	ASSERT_EQ(0, s.reader_err);
	ASSERT_EQ(s.n, atomic_load(&s.received));
	if (variant->restarts)
		ASSERT_EQ(0U, atomic_load(&s.interrupted));
}

/*
 * The producer completes reads from its timer interrupt while signals
 * cancel them: every read returns a whole tick, each tick once, in order.
 */
TEST_F_TIMEOUT(csq_signal, producer_ticks_racing_signals_are_each_read_once_in_order,
	       SLOW_CASE_S)
{
	struct storm s = { .fd = self->fd, .n = 400, .ticks = true };
	pthread_t signaller;

	ASSERT_EQ(0, set_producer(self->fd, 2000));
	ASSERT_EQ(0, pthread_create(&s.reader, NULL, storm_reader, &s));
	ASSERT_EQ(0, pthread_create(&signaller, NULL, storm_signaller, &s));
	ASSERT_EQ(0, pthread_join(signaller, NULL));
	ASSERT_EQ(0, pthread_join(s.reader, NULL));
	ASSERT_EQ(0, set_producer(self->fd, 0));

	ASSERT_FALSE(s.out_of_order) TH_LOG("tick %u repeated or out of order",
					    atomic_load(&s.received));
	ASSERT_EQ(0, s.reader_err);
	ASSERT_EQ(s.n, atomic_load(&s.received));
}

/* close() from another thread cancels the process's reads: ECANCELED. */
TEST_F_TIMEOUT(csq, close_from_another_thread_cancels_blocked_reads_with_ecanceled,
	       SLOW_CASE_S)
{
	struct call c[2] = { 0 };
	struct csq_stats before;
	char buf[8];
	int fd, i;

	fd = open_csq(0);
	ASSERT_LE(0, fd);
	before = stats_of(self->fd);
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, start_read(&c[i], fd, NULL, CSQ_MSG_MAX));
		ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == i + 1));
	}
	ASSERT_EQ(0, close(fd));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, call_join(&c[i]));
		ASSERT_EQ(-1, c[i].ret);
		ASSERT_EQ(ECANCELED, c[i].err);
	}
	ASSERT_EQ(0, pending_reads(self->fd));
	ASSERT_EQ(before.canceled + 2, stats_of(self->fd).canceled);
	/* They took nothing with them. */
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(1, recv_str(self->fd, buf, sizeof(buf)));
	ASSERT_STREQ("m", buf);
}

/* close() touches only the reads on that same open file. */
TEST_F_TIMEOUT(csq, close_of_one_open_file_leaves_reads_on_another_alone,
	       SLOW_CASE_S)
{
	struct call c = { 0 };
	int other;

	other = open_csq(0);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, start_read(&c, self->fd, NULL, CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(other) == 1));
	ASSERT_EQ(0, close(other));
	ASSERT_EQ(1, pending_reads(self->fd));
	ASSERT_FALSE(call_done(&c));
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(0, call_join(&c));
	ASSERT_TRUE(got(&c, "m"));
}

/* A forked child closing its copy does not cancel the parent's read. */
TEST_F_TIMEOUT(csq, child_close_after_fork_leaves_parent_read_alone,
	       SLOW_CASE_S)
{
	struct call c = { 0 };
	pid_t pid;
	int fd;

	fd = open_csq(0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, start_read(&c, fd, NULL, CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(close(fd) ? errno : 0);
	ASSERT_EQ(0, exit_status(pid));
	ASSERT_EQ(1, pending_reads(self->fd));
	ASSERT_FALSE(call_done(&c));
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(0, call_join(&c));
	ASSERT_TRUE(got(&c, "m"));
	close(fd);
}

/* The parent closing the file it shares with a child leaves its read. */
TEST_F_TIMEOUT(csq, parent_close_after_fork_leaves_child_read_alone,
	       SLOW_CASE_S)
{
	pid_t pid;
	int fd;

	fd = open_csq(0);
	ASSERT_LE(0, fd);
	pid = fork_reader(fd, "m");
	ASSERT_LE(0, pid);
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(1, pending_reads(self->fd));
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(0, exit_status(pid));
}

/*
 * CSQ_IOC_CANCEL cancels every read on that open file, from any thread or
 * process, with ECANCELED, returns how many, and leaves other files alone.
 */
TEST_F_TIMEOUT(csq, ioctl_cancel_cancels_reads_of_all_threads_and_processes_on_the_file,
	       SLOW_CASE_S)
{
	struct call mine = { 0 }, other = { 0 };
	struct csq_stats before;
	pid_t pid;
	int fd;

	fd = open_csq(0);
	ASSERT_LE(0, fd);
	before = stats_of(self->fd);
	ASSERT_EQ(0, start_read(&other, self->fd, NULL, CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(fd) == 1));
	ASSERT_EQ(0, start_read(&mine, fd, NULL, CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(fd) == 2));
	pid = fork_reader(fd, "");
	ASSERT_LE(0, pid);
	ASSERT_TRUE(WAIT_FOR(pending_reads(fd) == 3));

	ASSERT_EQ(2, ioctl(fd, CSQ_IOC_CANCEL, 0));
	ASSERT_EQ(0, call_join(&mine));
	ASSERT_EQ(-1, mine.ret);
	ASSERT_EQ(ECANCELED, mine.err);
	ASSERT_EQ(ECANCELED, exit_status(pid));
	ASSERT_EQ(before.canceled + 2, stats_of(fd).canceled);

	ASSERT_EQ(1, pending_reads(fd));
	ASSERT_FALSE(call_done(&other));
	ASSERT_EQ(1, send_str(fd, "m"));
	ASSERT_EQ(0, call_join(&other));
	ASSERT_TRUE(got(&other, "m"));
	close(fd);
}

TEST_F(csq, ioctl_cancel_without_pending_reads_returns_0)
{
	ASSERT_EQ(0, ioctl(self->fd, CSQ_IOC_CANCEL, 0));
}

/* CSQ_IOC_STATS: pending reads, kept messages, completed and cancelled. */
TEST_F_TIMEOUT(csq, stats_count_pending_queued_completed_and_canceled,
	       SLOW_CASE_S)
{
	struct csq_stats s0, s;
	struct call c = { 0 };
	char buf[8];

	s0 = stats_of(self->fd);
	ASSERT_EQ(0U, s0.pending_reads);
	ASSERT_EQ(0U, s0.queued_msgs);

	ASSERT_EQ(1, send_str(self->fd, "a"));
	ASSERT_EQ(1, send_str(self->fd, "b"));
	s = stats_of(self->fd);
	ASSERT_EQ(2U, s.queued_msgs);
	ASSERT_EQ(s0.completed, s.completed);

	ASSERT_EQ(1, recv_str(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(1, recv_str(self->fd, buf, sizeof(buf)));
	s = stats_of(self->fd);
	ASSERT_EQ(0U, s.queued_msgs);
	ASSERT_EQ(s0.completed + 2, s.completed);

	ASSERT_EQ(0, start_read(&c, self->fd, NULL, CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(1, ioctl(self->fd, CSQ_IOC_CANCEL, 0));
	ASSERT_EQ(0, call_join(&c));
	s = stats_of(self->fd);
	ASSERT_EQ(0U, s.pending_reads);
	ASSERT_EQ(s0.completed + 2, s.completed);
	ASSERT_EQ(s0.canceled + 1, s.canceled);
}

TEST_F(csq, stats_into_bad_pointer_fails_efault)
{
	void *bad = bad_page();

	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(-1, ioctl(self->fd, CSQ_IOC_STATS, bad));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->fd, CSQ_IOC_PRODUCER, bad));
	ASSERT_EQ(EFAULT, errno);
}

TEST_F(csq, unknown_ioctl_fails_enotty)
{
	struct csq_stats s;

	ASSERT_EQ(-1, ioctl(self->fd, _IO(CSQ_IOC_MAGIC, 0x7f)));
	ASSERT_EQ(ENOTTY, errno);
	/* Same number as CSQ_IOC_STATS, wrong size. */
	ASSERT_EQ(-1, ioctl(self->fd, _IOR(CSQ_IOC_MAGIC, 2, __u32), &s));
	ASSERT_EQ(ENOTTY, errno);
}

/* Writes with no reader are kept up to capacity bytes; then EAGAIN. */
TEST_F(csq, write_to_full_stream_with_nonblock_fails_eagain_and_queues_nothing)
{
	char buf[16];
	long n, i;
	int fd;

	fd = open_csq(O_NONBLOCK);
	ASSERT_LE(0, fd);
	n = fill_stream(fd);
	ASSERT_LT(0, n);
	ASSERT_EQ(n, queued_msgs(fd));
	ASSERT_EQ(-1, send_str(fd, "late"));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(n, queued_msgs(fd));
	/* Everything kept comes back, in order, and nothing more. */
	for (i = 0; i < n; i++)
		ASSERT_EQ(i, recv_filler(fd));
	ASSERT_EQ(-1, recv_str(fd, buf, sizeof(buf)));
	ASSERT_EQ(EAGAIN, errno);
	close(fd);
}

/*
 * A blocking write to a full stream sleeps until reads have freed half of
 * it, as a pipe's writer waits for a whole page: not a wake-up per read.
 */
TEST_F_TIMEOUT(csq, write_to_full_stream_sleeps_until_reads_free_half_of_it,
	       SLOW_CASE_S)
{
	struct call c = { 0 };
	char buf[16];
	long n, i;

	if (!have_proc())
		SKIP(return, "needs /proc to see the writer sleep");
	n = fill_stream(self->fd);
	ASSERT_LT(0, n);
	ASSERT_EQ(0, start_write(&c, self->fd, "late"));
	ASSERT_TRUE(WAIT_FOR(sleeps_in(atomic_load(&c.tid), SYS_write,
				       SYS_write)));
	ASSERT_EQ(n, queued_msgs(self->fd));

	for (i = 0; i < n / 2 - 1; i++) {
		ASSERT_EQ(i, recv_filler(self->fd));
		ASSERT_TRUE(sleeps_in(atomic_load(&c.tid), SYS_write,
				      SYS_write));
	}
	ASSERT_FALSE(call_done(&c));
	ASSERT_EQ(i, recv_filler(self->fd));
	ASSERT_EQ(0, call_join(&c));
	ASSERT_EQ(4, c.ret);
	for (i++; i < n; i++)
		ASSERT_EQ(i, recv_filler(self->fd));
	ASSERT_LT(0, recv_str(self->fd, buf, sizeof(buf)));
	ASSERT_STREQ("late", buf);
}

static short poll_now(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };

	return poll(&pfd, 1, 0) < 0 ? -1 : pfd.revents;
}

/*
 * poll: POLLIN when a message waits, POLLOUT when the stream has room for a
 * message of any size.
 */
TEST_F(csq, poll_reports_pollin_for_a_kept_message_and_pollout_for_room)
{
	ASSERT_EQ(POLLOUT, poll_now(self->fd));
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(POLLIN | POLLOUT, poll_now(self->fd));
	ASSERT_EQ(1, drain());
	ASSERT_EQ(POLLOUT, poll_now(self->fd));
	ASSERT_LT(0, fill_stream(self->fd));
	ASSERT_EQ(POLLIN, poll_now(self->fd));
	ASSERT_EQ(0, pending_reads(self->fd));
}

/* poll never queues a request, and a write wakes a sleeping poll. */
TEST_F_TIMEOUT(csq, sleeping_poll_queues_no_request_and_wakes_on_write,
	       SLOW_CASE_S)
{
	struct call c = { 0 };

	if (!have_proc())
		SKIP(return, "needs /proc to see the poller sleep");
	ASSERT_EQ(0, start_poll(&c, self->fd, POLLIN));
	ASSERT_TRUE(WAIT_FOR(sleeps_in(atomic_load(&c.tid), SYS_poll,
				       SYS_ppoll)));
	ASSERT_EQ(0, pending_reads(self->fd));
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(0, call_join(&c));
	ASSERT_EQ(1, c.ret);
	ASSERT_EQ(POLLIN, c.revents);
	/* The message went to nobody but the stream. */
	ASSERT_EQ(1, queued_msgs(self->fd));
}

/* A bad pointer fails EFAULT and loses nothing. */
TEST_F(csq, write_from_bad_pointer_fails_efault_and_queues_nothing)
{
	void *bad = bad_page();

	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(-1, write(self->fd, bad, 16));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, queued_msgs(self->fd));
}

TEST_F(csq, read_into_bad_pointer_fails_efault_and_keeps_message_first)
{
	void *bad = bad_page();
	char buf[8];

	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(1, send_str(self->fd, "a"));
	ASSERT_EQ(1, send_str(self->fd, "b"));
	ASSERT_EQ(-1, read(self->fd, bad, 16));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(2, queued_msgs(self->fd));
	ASSERT_EQ(1, recv_str(self->fd, buf, sizeof(buf)));
	ASSERT_STREQ("a", buf);
}

/* A message handed to a read that cannot copy it goes back to the head. */
TEST_F_TIMEOUT(csq, blocked_read_into_bad_pointer_puts_handed_message_back_first,
	       SLOW_CASE_S)
{
	struct call c = { 0 };
	void *bad = bad_page();
	char buf[8];

	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(0, start_read(&c, self->fd, bad, 16));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(1, send_str(self->fd, "a"));
	ASSERT_EQ(0, call_join(&c));
	ASSERT_EQ(-1, c.ret);
	ASSERT_EQ(EFAULT, c.err);
	ASSERT_EQ(1, send_str(self->fd, "b"));
	ASSERT_EQ(2, queued_msgs(self->fd));
	ASSERT_EQ(1, recv_str(self->fd, buf, sizeof(buf)));
	ASSERT_STREQ("a", buf);
}

/* ... and straight to the next blocked reader, if there is one. */
TEST_F_TIMEOUT(csq, blocked_read_into_bad_pointer_passes_message_to_next_blocked_reader,
	       SLOW_CASE_S)
{
	struct call bad_c = { 0 }, good_c = { 0 };
	void *bad = bad_page();

	ASSERT_NE(MAP_FAILED, bad);
	ASSERT_EQ(0, start_read(&bad_c, self->fd, bad, 16));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(0, start_read(&good_c, self->fd, NULL, CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 2));
	ASSERT_EQ(1, send_str(self->fd, "a"));
	ASSERT_EQ(0, call_join(&bad_c));
	ASSERT_EQ(EFAULT, bad_c.err);
	ASSERT_EQ(0, call_join(&good_c));
	ASSERT_TRUE(got(&good_c, "a"));
	ASSERT_EQ(0, queued_msgs(self->fd));
}

/* A reader killed by SIGKILL leaves no request behind. */
TEST_F_TIMEOUT(csq, sigkill_to_blocked_reader_leaves_no_request_behind,
	       SLOW_CASE_S)
{
	struct csq_stats before;
	int status;
	char buf[8];
	pid_t pid;

	before = stats_of(self->fd);
	pid = fork_reader(self->fd, "");
	ASSERT_LE(0, pid);
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGKILL, WTERMSIG(status));
	ASSERT_EQ(0, pending_reads(self->fd));
	ASSERT_EQ(before.interrupted + 1, stats_of(self->fd).interrupted);
	/* No dead request swallows the next message. */
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(1, queued_msgs(self->fd));
	ASSERT_EQ(1, recv_str(self->fd, buf, sizeof(buf)));
	ASSERT_STREQ("m", buf);
}

/* rmmod fails while the device is open (.owner pins the module). */
TEST_F(csq, rmmod_fails_while_device_is_open)
{
	long ret = syscall(SYS_delete_module, CSQ_MODULE, O_NONBLOCK);
	int err = errno;

	if (ret && err == ENOENT)
		SKIP(return, "csqdev is not a loaded module");
	ASSERT_EQ(-1, ret) TH_LOG("csqdev unloaded while open");
	ASSERT_EQ(EWOULDBLOCK, err);
	ASSERT_EQ(0, pending_reads(self->fd));
}

/* The producer completes a blocked read from its timer interrupt. */
TEST_F_TIMEOUT(csq, producer_completes_blocked_read_from_timer_until_stopped,
	       SLOW_CASE_S)
{
	struct call c = { 0 };

	ASSERT_EQ(0, read_param("producer_hz"));
	ASSERT_EQ(0, start_read(&c, self->fd, NULL, CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(0, set_producer(self->fd, 100));
	ASSERT_EQ(100, read_param("producer_hz"));
	ASSERT_EQ(0, call_join(&c));
	ASSERT_LT(0, c.ret);
	ASSERT_NE(0ULL, tick_of(c.data));

	ASSERT_EQ(0, set_producer(self->fd, 0));
	ASSERT_EQ(0, read_param("producer_hz"));
	ASSERT_LE(0, drain());
	ASSERT_EQ(0, queued_msgs(self->fd));
}

TEST_F(csq, producer_rate_over_max_or_unknown_flags_fails_einval)
{
	struct csq_producer p = { .rate_hz = 1, .flags = 1 };

	ASSERT_EQ(-1, set_producer(self->fd, CSQ_PRODUCER_MAX_HZ + 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->fd, CSQ_IOC_PRODUCER, &p));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, read_param("producer_hz"));
}

/*
 * close() from another thread races the producer's completion of the same
 * read: the read returns a tick or fails ECANCELED, nothing else.
 */
TEST_F_TIMEOUT(csq, close_racing_producer_completion_ends_read_with_tick_or_ecanceled,
	       SLOW_CASE_S)
{
	struct call c = { 0 };
	int i, fd;

	ASSERT_EQ(0, set_producer(self->fd, 1000));
	for (i = 0; i < 100; i++) {
		fd = open_csq(0);
		ASSERT_LE(0, fd);
		ASSERT_LE(0, drain());
		ASSERT_EQ(0, start_read(&c, fd, NULL, CSQ_MSG_MAX));
		ASSERT_TRUE(WAIT_FOR(call_done(&c) ||
				     pending_reads(self->fd) == 1));
		ASSERT_EQ(0, close(fd));
		ASSERT_EQ(0, call_join(&c));
		ASSERT_TRUE(c.ret < 0 ? c.err == ECANCELED : tick_of(c.data) > 0)
			TH_LOG("read returned %zd (%s)", c.ret, strerror(c.err));
	}
	ASSERT_EQ(0, set_producer(self->fd, 0));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 0));
}

/* Where debugfs shows csqdev's test knob and page count. */
#define CSQ_DEBUGFS	"/sys/kernel/debug/csqdev/"

/* How long a read waits on its way in (debugfs); 0 or -1. */
static int set_read_delay(long us)
{
	return write_number(CSQ_DEBUGFS "read_delay_us", us);
}

/* The pages csqdev's messages hold (debugfs), or -1. */
static long message_pages(void)
{
	char buf[32];

	if (read_text(CSQ_DEBUGFS "pages", buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 10);
}

#define ENTRY_DELAY_US	100000
#define ENTRY_ROUNDS	20

FIXTURE(entry) {
	int fd;
};

FIXTURE_SETUP(entry)
{
	quiet_device(_metadata, &self->fd);
	if (!have_proc() || set_read_delay(ENTRY_DELAY_US))
		SKIP(return, "needs /proc and csqdev's debugfs knob");
}

FIXTURE_TEARDOWN(entry)
{
	set_read_delay(0);
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * A close() that comes while a read is on its way in (entered, not parked
 * yet: held on purpose by the debugfs knob) ends that read with ECANCELED
 * as soon as it looks, not whenever a write or a signal comes.
 */
TEST_F_TIMEOUT(entry, close_while_a_read_is_entering_ends_it_with_ecanceled,
	       SLOW_CASE_S)
{
	struct call c = { 0 };
	int i, fd;

	for (i = 0; i < ENTRY_ROUNDS; i++) {
		fd = open_csq(0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, start_read(&c, fd, NULL, CSQ_MSG_MAX));
		ASSERT_TRUE(WAIT_FOR(asleep_in(atomic_load(&c.tid), SYS_read,
					       SYS_read, true)));
		/* Asleep in read() and not parked: on its way in. */
		ASSERT_EQ(0, pending_reads(self->fd));
		ASSERT_EQ(0, close(fd));
		if (!call_done_within(&c, ENTRY_DELAY_US / 1000 + 1000)) {
			/* Parked after its close: let it go, then fail. */
			ioctl(self->fd, CSQ_IOC_CANCEL, 0);
			send_str(self->fd, "release");
			ASSERT_EQ(0, call_join(&c));
			ASSERT_TRUE(false)
				TH_LOG("round %d: parked after its close", i);
		}
		ASSERT_EQ(0, call_join(&c));
		ASSERT_EQ(-1, c.ret);
		ASSERT_EQ(ECANCELED, c.err) TH_LOG("round %d: %s", i,
						   strerror(c.err));
	}
	ASSERT_EQ(0, pending_reads(self->fd));
}

/*
 * The same close by another process that shares the file (a child closing
 * its copy) leaves the entering read alone: it parks and gets a message.
 */
TEST_F_TIMEOUT(entry, close_by_another_process_while_a_read_is_entering_leaves_it,
	       SLOW_CASE_S)
{
	struct call c = { 0 };
	int go[2], fd, status;
	pid_t child;
	char x;

	fd = open_csq(0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pipe(go));
	child = fork();
	ASSERT_LE(0, child);
	if (!child) {
		/* Holds its copy of @fd until told, then closes it and exits. */
		close(go[1]);
		if (read(go[0], &x, 1) != 1)
			_exit(1);
		_exit(close(fd) ? 2 : 0);
	}
	close(go[0]);
	ASSERT_EQ(0, start_read(&c, fd, NULL, CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(asleep_in(atomic_load(&c.tid), SYS_read,
				       SYS_read, true)));
	ASSERT_EQ(0, pending_reads(self->fd));
	ASSERT_EQ(1, write(go[1], "x", 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));

	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_FALSE(call_done(&c));
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(0, call_join(&c));
	ASSERT_TRUE(got(&c, "m"));
	close(go[1]);
	close(fd);
}

/* RWF_NOWAIT never blocks and never queues: EAGAIN on an empty stream. */
TEST_F(csq, nowait_read_of_empty_stream_fails_eagain_and_queues_nothing)
{
	char buf[16] = { 0 };
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };

	ASSERT_EQ(-1, preadv2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	ASSERT_EQ(EAGAIN, errno) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, pending_reads(self->fd));
	ASSERT_EQ(2, send_str(self->fd, "hi"));
	ASSERT_EQ(2, preadv2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	ASSERT_EQ(0, memcmp(buf, "hi", 2));
}

/* RWF_NOWAIT write to a full stream: EAGAIN at once, nothing queued. */
TEST_F(csq, nowait_write_to_full_stream_fails_eagain_and_queues_nothing)
{
	struct iovec iov = { .iov_base = "late", .iov_len = 4 };
	long n;

	n = fill_stream(self->fd);
	ASSERT_LT(0, n);
	ASSERT_EQ(-1, pwritev2(self->fd, &iov, 1, -1, RWF_NOWAIT));
	ASSERT_EQ(EAGAIN, errno);
	ASSERT_EQ(n, queued_msgs(self->fd));
	ASSERT_EQ(n, drain());
}

#define ORDER_ROUNDS	10

/*
 * A message goes to the oldest parked read that can hold it: a parked read
 * too small for it fails EMSGSIZE at once, and the message goes to the next
 * one, not back to the stream to be passed around.  Written back to back
 * with a second message, that one must not overtake it.
 */
TEST_F_TIMEOUT(csq, parked_read_too_small_fails_emsgsize_and_the_next_that_fits_gets_it,
	       SLOW_CASE_S)
{
	struct call small = { 0 }, big = { 0 };
	char buf[8];
	int i;

	for (i = 0; i < ORDER_ROUNDS; i++) {
		ASSERT_EQ(0, start_read(&small, self->fd, NULL, 4));
		ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
		ASSERT_EQ(0, start_read(&big, self->fd, NULL, 64));
		ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 2));
		ASSERT_EQ(10, send_str(self->fd, "0123456789"));
		ASSERT_EQ(1, send_str(self->fd, "x"));
		ASSERT_EQ(0, call_join(&small));
		ASSERT_EQ(0, call_join(&big));
		ASSERT_EQ(-1, small.ret);
		ASSERT_EQ(EMSGSIZE, small.err);
		ASSERT_TRUE(got(&big, "0123456789"))
			TH_LOG("round %d: got %zd bytes", i, big.ret);
		ASSERT_EQ(1, recv_str(self->fd, buf, sizeof(buf)));
		ASSERT_STREQ("x", buf);
	}
}

/* Parked reads too small for two messages fail, and leave them in order. */
TEST_F_TIMEOUT(csq, parked_reads_too_small_for_two_messages_leave_them_in_order,
	       SLOW_CASE_S)
{
	struct call c[2] = { 0 };
	char buf[8];
	int i, k;

	for (i = 0; i < ORDER_ROUNDS; i++) {
		for (k = 0; k < 2; k++) {
			ASSERT_EQ(0, start_read(&c[k], self->fd, NULL, 2));
			ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == k + 1));
		}
		ASSERT_EQ(4, send_str(self->fd, "aaaa"));
		ASSERT_EQ(4, send_str(self->fd, "bbbb"));
		for (k = 0; k < 2; k++) {
			ASSERT_EQ(0, call_join(&c[k]));
			ASSERT_EQ(EMSGSIZE, c[k].err);
		}
		ASSERT_EQ(4, recv_str(self->fd, buf, sizeof(buf)));
		ASSERT_STREQ("aaaa", buf) TH_LOG("round %d", i);
		ASSERT_EQ(4, recv_str(self->fd, buf, sizeof(buf)));
		ASSERT_STREQ("bbbb", buf);
	}
}

/* FIONREAD: the length of the next message, 0 when none is kept. */
TEST_F(csq, fionread_tells_the_length_of_the_next_message)
{
	char buf[8];
	int n = -1;

	ASSERT_EQ(0, ioctl(self->fd, FIONREAD, &n));
	ASSERT_EQ(0, n);
	ASSERT_EQ(5, send_str(self->fd, "hello"));
	ASSERT_EQ(3, send_str(self->fd, "abc"));
	ASSERT_EQ(0, ioctl(self->fd, FIONREAD, &n));
	ASSERT_EQ(5, n);
	ASSERT_EQ(5, recv_str(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(0, ioctl(self->fd, FIONREAD, &n));
	ASSERT_EQ(3, n);
	ASSERT_EQ(-1, ioctl(self->fd, FIONREAD, NULL));
	ASSERT_EQ(EFAULT, errno);
}

/* CSQ_IOC_CANCEL takes no argument: one is refused, nothing cancelled. */
TEST_F_TIMEOUT(csq, ioctl_cancel_with_an_argument_fails_einval,
	       SLOW_CASE_S)
{
	struct call c = { 0 };

	ASSERT_EQ(0, start_read(&c, self->fd, NULL, CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(-1, ioctl(self->fd, CSQ_IOC_CANCEL, 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(1, pending_reads(self->fd));
	ASSERT_EQ(1, ioctl(self->fd, CSQ_IOC_CANCEL, 0));
	ASSERT_EQ(0, call_join(&c));
	ASSERT_EQ(ECANCELED, c.err);
}

/*
 * Page memory is invisible to kmemleak: the pool counts its pages, and a
 * message of its own pages is counted out when written and back when read.
 */
TEST_F(csq, pages_of_messages_are_counted_out_and_back)
{
	static char msg[CSQ_MSG_MAX];
	long before, per_msg;
	int i;

	before = message_pages();
	if (before < 0)
		SKIP(return, "needs csqdev's debugfs");
	memset(msg, 'p', sizeof(msg));
	ASSERT_EQ(CSQ_MSG_MAX, write(self->fd, msg, sizeof(msg)));
	per_msg = message_pages() - before;
	ASSERT_LT(0, per_msg);
	for (i = 1; i < 4; i++)
		ASSERT_EQ(CSQ_MSG_MAX, write(self->fd, msg, sizeof(msg)));
	ASSERT_EQ(before + 4 * per_msg, message_pages());
	ASSERT_EQ(4, drain());
	ASSERT_EQ(before, message_pages());
}

TEST_HARNESS_MAIN
