// SPDX-License-Identifier: GPL-2.0
/*
 * csq_stress: every cause of cancellation at once, with exactly-once
 * accounting of every message.
 *
 * For a set time, reader threads on several open files of /dev/csq race
 * writers that send numbered messages, the timer producer ("tick N"), a
 * thread that signals random readers and writers (SIGUSR1 is caught with
 * SA_RESTART, SIGUSR2 without), a thread that cancels the reads of a file
 * with CSQ_IOC_CANCEL or replaces the file under its descriptor with dup2()
 * (a close()), a reader into a bad pointer or a too short buffer (the
 * message goes back to the head of the stream), a non-blocking reader that
 * polls, child processes that read into shared memory and are
 * SIGKILLed, as often as not while their read is parked, and asynchronous
 * readers: one keeping aio reads in flight and cancelling some with
 * io_cancel(2), one doing the same with io_uring (READs cancelled with
 * IORING_OP_ASYNC_CANCEL and, where the kernel can cancel them, uring
 * command reads cancelled by key).
 *
 * Then everything stops, the backlog is drained with O_NONBLOCK reads, and
 * the checks say whether every message was delivered exactly once, every
 * failed call failed as the contract says, and the device's counters agree
 * with what the processes saw.  Whatever a killed child read is in its
 * shared memory, so the accounting is exact; only the cancels that nobody
 * sees (a read restarted under SA_RESTART, a read ended by SIGKILL) are
 * bounded instead, by the signals that could have caused them.
 *
 *	csq_stress [-d SECONDS] [-f]
 *
 * -d (or CSQ_STRESS_SECONDS, default 20) is how long the storm lasts;
 * -f (or CSQ_STRESS_FAULTS=1) lets writes fail ENOMEM, for a run under
 * fault injection.  Output is KTAP, one line per check; the exit status is
 * non-zero if any check failed.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/csq.h>

#include "kselftest.h"

#define CSQ_PATH		"/dev/csq"
#define DEFAULT_SECONDS		20

#define NR_FILES		4
/* Per file: one reader under SA_RESTART, one that sees EINTR. */
#define NR_READERS		(2 * NR_FILES)
/* Writer 0 is non-blocking and polls; the others block. */
#define NR_WRITERS		3
#define PRODUCER_HZ		500

/* Messages a child may read before it exits on its own. */
#define CHILD_SLOTS		64
#define CHILD_OPEN_FAILED	100
#define CHILD_READ_FAILED	101

/* Sequence numbers per writer, and ticks, that the accounting can hold. */
#define SEQ_CAP			(16U * 1024 * 1024)
#define TICK_BITS		27

/* Each second, readers run for RUN_MS and pause for the rest. */
#define CYCLE_MS		1000
#define RUN_MS			700
#define PROGRESS_S		5

/* Asynchronous reads each async reader keeps in flight. */
#define ASYNC_INFLIGHT		8
/* One cancel in CANCEL_ONE_IN turns of an async reader. */
#define CANCEL_ONE_IN		4
#define ASYNC_WAIT_MS		10
/* user_data of io_uring cancels, above every read's. */
#define RING_CANCEL_DATA	1000

/* Too short for any message ("tick 1" is the shortest). */
#define SHORT_BUF		4

/* One message in LONG_ONE_IN is long, from LONG_MIN bytes to the most. */
#define LONG_ONE_IN		64
#define LONG_MIN		1024
#define SHORT_MIN		24
#define SHORT_SPREAD		40

/* Limits of the random pauses between the acts of each thread, in us. */
#define SIGNAL_GAP_US		1000
#define CHURN_GAP_US		10000
#define KILL_DELAY_US		5000
#define KILL_GAP_US		10000
#define HOSTILE_GAP_US		3000
#define WRITE_GAP_US		2000

/* How long the killer waits for a child's read to park. */
#define PARK_WAIT_S		5

#define WAIT_LIMIT_S		60
#define NAP_US			1000
#define POLL_MS			10
#define MAX_REPORTS		10

enum role {
	ROLE_OTHER,
	ROLE_RESTART_READER,
	ROLE_EINTR_READER,
	ROLE_WRITER,
	NR_ROLES,
};

/* What the threads saw; each field only ever grows. */
struct tally {
	atomic_ulong reads;		/* messages read by reader threads */
	atomic_ulong polled;		/* ... by the non-blocking reader */
	atomic_ulong child_reads;	/* ... by children, killed or not */
	atomic_ulong drained;		/* ... at the end */
	atomic_ulong async_reads;	/* ... by aio and io_uring reads */
	atomic_ulong async_cancels;	/* io_cancel, ASYNC_CANCEL, URING_CANCEL */
	atomic_ulong poll_canceled;	/* io_uring READs the cancels ended */
	atomic_ulong wq_interrupted;	/* ... while io-wq ran them (EINTR) */
	atomic_ulong ecanceled;
	atomic_ulong eintr;
	atomic_ulong eagain;
	atomic_ulong efault;
	atomic_ulong emsgsize;
	atomic_ulong bad_reads;		/* a result the contract rules out */
	atomic_ulong writes;
	atomic_ulong write_eintr;
	atomic_ulong write_eagain;
	atomic_ulong write_enomem;
	atomic_ulong open_enomem;
	atomic_ulong bad_writes;
	atomic_ulong ticks;
	atomic_ulong tick_dups;
	atomic_ulong corrupt;
	atomic_ulong sent_usr1;
	atomic_ulong sent_usr2;
	atomic_ulong handled[NR_ROLES];
	atomic_ulong cancel_calls;
	atomic_ulong ioctl_cancels;	/* reads CSQ_IOC_CANCEL said it cancelled */
	atomic_ulong stop_cancels;	/* ... of them, to end the readers */
	atomic_ulong reopens;
	atomic_ulong kills;
	atomic_ulong kills_parked;	/* the child slept in read() */
	atomic_ulong bad_children;
	atomic_ulong reports;
};

struct reader {
	pthread_t thread;
	enum role role;
	int slot;
};

struct writer {
	pthread_t thread;
	unsigned int id;
	int fd;
	bool nonblock;
	unsigned int sent;	/* sequence numbers 0 .. sent - 1 went out */
};

struct child_area {
	char slot[CHILD_SLOTS][CSQ_MSG_MAX];
	atomic_bool started;
};

static struct tally t;
static bool fault_mode;

/* Descriptors shared by the threads; dup2() keeps each one a csq file. */
static int slot_fd[NR_FILES];
static int hostile_fd, poll_fd, ctl_fd, aio_fd, ring_fd;

static atomic_bool stop;		/* the storm is over */
static atomic_bool writers_stop;
static atomic_bool readers_stop;
static atomic_bool paused;
static atomic_bool hold_writes;		/* the killer waits for a parked child */
static atomic_int live_readers;

/* How often each writer's message number and each tick was delivered. */
static atomic_uchar *seen[NR_WRITERS];
static atomic_uint *tick_seen;
static struct child_area *child_area;

static __thread enum role my_role;
static __thread unsigned int rnd_state;

static void on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&t.handled[my_role], 1);
}

static unsigned int rnd(unsigned int limit)
{
	/* xorshift32: cheap, per thread, good enough to spread events. */
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 17;
	rnd_state ^= rnd_state << 5;
	return limit ? rnd_state % limit : 0;
}

static void rnd_seed(unsigned int salt)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	rnd_state = (ts.tv_nsec ^ (salt * 2654435761U)) | 1;
}

static void nap_us(unsigned int us)
{
	struct timespec ts = {
		.tv_sec = us / 1000000,
		.tv_nsec = (us % 1000000) * 1000L,
	};

	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static __printf(1, 2) void violation(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&t.reports, 1) >= MAX_REPORTS)
		return;
	va_start(ap, fmt);
	printf("# VIOLATION: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

/* Under fault injection an open may fail ENOMEM too: it is tried again. */
static int csq_open(int flags)
{
	int fd;

	for (;;) {
		fd = open(CSQ_PATH, O_RDWR | O_CLOEXEC | flags);
		if (fd >= 0 || errno != ENOMEM || !fault_mode)
			return fd;
		atomic_fetch_add(&t.open_enomem, 1);
	}
}

/* Length of message @seq of writer @w: mostly short, now and then long. */
static size_t msg_len(unsigned int w, unsigned int seq)
{
	unsigned int h = (seq + 1) * 2654435761U ^ (w + 1) * 40503U;

	if (h % LONG_ONE_IN == 0)
		return LONG_MIN + h / LONG_ONE_IN % (CSQ_MSG_MAX - LONG_MIN + 1);
	return SHORT_MIN + h / LONG_ONE_IN % SHORT_SPREAD;
}

/* "w<writer> <seq> " and a padding that depends on both; no NUL. */
static size_t msg_fill(char *buf, unsigned int w, unsigned int seq)
{
	size_t len = msg_len(w, seq), i;
	int head;

	head = snprintf(buf, len, "w%u %u ", w, seq);
	for (i = head; i < len; i++)
		buf[i] = 'a' + (seq + w + i) % 26;
	return len;
}

/* Whether @buf is a message the writers could have sent; sets @w, @seq. */
static bool msg_parse(const char *buf, size_t n, unsigned int *w,
		      unsigned int *seq)
{
	static __thread char want[CSQ_MSG_MAX];
	char head[32];
	size_t n_head;

	if (n < SHORT_MIN || buf[0] != 'w')
		return false;
	n_head = n < sizeof(head) ? n : sizeof(head) - 1;
	memcpy(head, buf, n_head);
	head[n_head] = '\0';
	if (sscanf(head, "w%u %u ", w, seq) != 2)
		return false;
	if (*w >= NR_WRITERS || *seq >= SEQ_CAP)
		return false;
	return msg_fill(want, *w, *seq) == n && !memcmp(want, buf, n);
}

static bool tick_parse(const char *buf, size_t n, unsigned long long *tick)
{
	char s[32], tail;

	if (n >= sizeof(s) || strncmp(buf, "tick ", 5))
		return false;
	memcpy(s, buf, n);
	s[n] = '\0';
	return sscanf(s, "tick %llu%c", tick, &tail) == 1 && *tick;
}

/* Records one delivered message; anything unknown is a violation. */
static void account(const char *buf, size_t n)
{
	unsigned long long tick;
	unsigned int w, seq, bit;

	if (tick_parse(buf, n, &tick)) {
		bit = tick & ((1U << TICK_BITS) - 1);
		atomic_fetch_add(&t.ticks, 1);
		if (atomic_fetch_or(&tick_seen[bit / 32], 1U << bit % 32) &
		    1U << bit % 32) {
			atomic_fetch_add(&t.tick_dups, 1);
			violation("tick %llu delivered twice", tick);
		}
		return;
	}
	if (!msg_parse(buf, n, &w, &seq)) {
		atomic_fetch_add(&t.corrupt, 1);
		violation("unknown message of %zu bytes: %.24s", n, buf);
		return;
	}
	atomic_fetch_add(&seen[w][seq], 1);
}

static void bad_read(const char *who, ssize_t n, int err)
{
	atomic_fetch_add(&t.bad_reads, 1);
	violation("%s: read returned %zd (%s)", who, n,
		  n < 0 ? strerror(err) : "no error");
}

/* A blocking read that failed: only as the contract allows. */
static void read_failed(const char *who, ssize_t n, int err, bool eintr_ok)
{
	if (n == 0)
		bad_read(who, n, 0);
	else if (err == ECANCELED)
		atomic_fetch_add(&t.ecanceled, 1);
	else if (err == EINTR && eintr_ok)
		atomic_fetch_add(&t.eintr, 1);
	else
		bad_read(who, n, err);
}

static void wait_while_paused(void)
{
	while (atomic_load(&paused) && !atomic_load(&readers_stop))
		nap_us(NAP_US);
}

static void reader_done(void)
{
	atomic_fetch_sub(&live_readers, 1);
}

/* A blocking reader on shared file @slot. */
static void *reader_main(void *arg)
{
	struct reader *r = arg;
	bool eintr_ok = r->role == ROLE_EINTR_READER;
	char *buf = malloc(CSQ_MSG_MAX);
	ssize_t n;

	my_role = r->role;
	while (buf && !atomic_load(&readers_stop)) {
		wait_while_paused();
		n = read(slot_fd[r->slot], buf, CSQ_MSG_MAX);
		if (n > 0) {
			account(buf, n);
			atomic_fetch_add(&t.reads, 1);
		} else {
			read_failed(eintr_ok ? "EINTR reader" : "SA_RESTART reader",
				    n, errno, eintr_ok);
		}
	}
	free(buf);
	reader_done();
	return NULL;
}

/* Polls its own O_NONBLOCK file; another reader may win the message. */
static void *poll_reader_main(void *arg)
{
	struct pollfd pfd = { .fd = poll_fd, .events = POLLIN };
	char *buf = malloc(CSQ_MSG_MAX);
	ssize_t n;

	(void)arg;
	while (buf && !atomic_load(&readers_stop)) {
		wait_while_paused();
		if (poll(&pfd, 1, POLL_MS) <= 0)
			continue;
		n = read(poll_fd, buf, CSQ_MSG_MAX);
		if (n > 0) {
			account(buf, n);
			atomic_fetch_add(&t.polled, 1);
		} else if (n < 0 && errno == EAGAIN) {
			atomic_fetch_add(&t.eagain, 1);
		} else {
			bad_read("poll reader", n, errno);
		}
	}
	free(buf);
	reader_done();
	return NULL;
}

/*
 * Reads into a page it cannot write, or into a buffer too short for any
 * message: each time the message it was handed, or found first, must go
 * back to the head of the stream.
 */
static void *hostile_reader_main(void *arg)
{
	void *bad = arg;
	char small[SHORT_BUF];
	unsigned int i;
	ssize_t n;
	int err;

	rnd_seed(NR_READERS + 1);
	for (i = 0; !atomic_load(&readers_stop); i++) {
		wait_while_paused();
		if (i % 2)
			n = read(hostile_fd, small, sizeof(small));
		else
			n = read(hostile_fd, bad, CSQ_MSG_MAX);
		err = errno;
		if (n < 0 && err == (i % 2 ? EMSGSIZE : EFAULT))
			atomic_fetch_add(i % 2 ? &t.emsgsize : &t.efault, 1);
		else if (n < 0 && err == ECANCELED)
			atomic_fetch_add(&t.ecanceled, 1);
		else
			bad_read("hostile reader", n, err);
		nap_us(rnd(HOSTILE_GAP_US));
	}
	reader_done();
	return NULL;
}

/*
 * An asynchronous read ended with @res: account for it as a read would.
 * A request in the device's queue (@queued: aio, uring command) ends
 * ECANCELED when cancelled, and the device counts it; an io_uring READ
 * is the device's only while it runs, and ends ECANCELED if cancelled in
 * poll, EINTR if cancelled while an io-wq worker runs it blocking (which
 * io_uring does for a READ whose retry after a wake-up found the message
 * taken by another reader).
 */
static void async_ended(const char *who, const char *buf, long res,
			bool queued)
{
	if (res > 0) {
		account(buf, res);
		atomic_fetch_add(&t.async_reads, 1);
	} else if (res == -ECANCELED && queued) {
		atomic_fetch_add(&t.ecanceled, 1);
	} else if (res == -ECANCELED && !queued) {
		atomic_fetch_add(&t.poll_canceled, 1);
	} else if (res == -EINTR && !queued) {
		/* Taken back like a signalled read: counted as interrupted. */
		atomic_fetch_add(&t.wq_interrupted, 1);
	} else if (!(res == -ENOMEM && fault_mode)) {
		bad_read(who, res < 0 ? -1 : res, -res);
	}
}

/* Keeps aio reads in flight on its file; io_cancel()s some of them. */
static void *aio_reader_main(void *arg)
{
	struct iocb cb[ASYNC_INFLIGHT], *cbs[1];
	struct timespec ts = { .tv_nsec = ASYNC_WAIT_MS * 1000000L };
	bool busy[ASYNC_INFLIGHT] = { false };
	char (*buf)[CSQ_MSG_MAX] = malloc(ASYNC_INFLIGHT * CSQ_MSG_MAX);
	struct io_event ev[ASYNC_INFLIGHT], done;
	int i, n, inflight = 0;
	io_context_t ctx = 0;

	(void)arg;
	rnd_seed(NR_READERS + 2);
	if (!buf || io_setup(2 * ASYNC_INFLIGHT, &ctx))
		bad_read("aio reader setup", -1, errno);
	while (buf && ctx && (!atomic_load(&readers_stop) || inflight)) {
		for (i = 0; i < ASYNC_INFLIGHT && !atomic_load(&readers_stop) &&
		     !atomic_load(&paused); i++) {
			if (busy[i])
				continue;
			io_prep_pread(&cb[i], aio_fd, buf[i], CSQ_MSG_MAX, 0);
			cb[i].data = (void *)(long)i;
			cbs[0] = &cb[i];
			if (io_submit(ctx, 1, cbs) != 1)
				break;
			busy[i] = true;
			inflight++;
		}
		for (i = 0; i < ASYNC_INFLIGHT; i++) {
			if (!busy[i] || (!atomic_load(&readers_stop) &&
					 rnd(CANCEL_ONE_IN * ASYNC_INFLIGHT)))
				continue;
			io_cancel(ctx, &cb[i], &done);
			atomic_fetch_add(&t.async_cancels, 1);
		}
		n = io_getevents(ctx, 1, ASYNC_INFLIGHT, ev, &ts);
		for (i = 0; i < n; i++) {
			long k = (long)ev[i].data;

			busy[k] = false;
			inflight--;
			async_ended("aio reader", buf[k], (long)ev[i].res, true);
		}
	}
	if (ctx)
		io_destroy(ctx);
	free(buf);
	reader_done();
	return NULL;
}

/* Whether the running kernel can cancel uring commands (6.7 on). */
static bool uring_cmds_cancel(void)
{
	struct utsname u;
	int major, minor;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 7);
}

/* Queues read @i: an io_uring READ, or on odd slots a uring command. */
static void ring_submit_read(struct io_uring *ring, int i, char *buf,
			     bool cmds)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct csq_uring_cmd c = {
		.addr = (uintptr_t)buf, .len = CSQ_MSG_MAX, .key = i + 1,
	};

	if (cmds && i % 2) {
		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = IORING_OP_URING_CMD;
		sqe->fd = ring_fd;
		sqe->cmd_op = CSQ_URING_READ;
		memcpy(sqe->cmd, &c, sizeof(c));
	} else {
		io_uring_prep_read(sqe, ring_fd, buf, CSQ_MSG_MAX, -1);
	}
	sqe->user_data = i;
}

static void ring_submit_cancel(struct io_uring *ring, int i, bool cmds)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct csq_uring_cmd c = { .key = i + 1 };

	if (cmds && i % 2) {
		memset(sqe, 0, sizeof(*sqe));
		sqe->opcode = IORING_OP_URING_CMD;
		sqe->fd = ring_fd;
		sqe->cmd_op = CSQ_URING_CANCEL;
		memcpy(sqe->cmd, &c, sizeof(c));
	} else {
		io_uring_prep_cancel64(sqe, i, 0);
	}
	sqe->user_data = RING_CANCEL_DATA + i;
	atomic_fetch_add(&t.async_cancels, 1);
}

/* The same as the aio reader, with io_uring. */
static void *ring_reader_main(void *arg)
{
	struct __kernel_timespec ts = { .tv_nsec = ASYNC_WAIT_MS * 1000000L };
	char (*buf)[CSQ_MSG_MAX] = malloc(ASYNC_INFLIGHT * CSQ_MSG_MAX);
	bool busy[ASYNC_INFLIGHT] = { false }, cmds = uring_cmds_cancel();
	int i, inflight = 0, cancels = 0;
	struct io_uring_cqe *cqe;
	struct io_uring ring;

	(void)arg;
	rnd_seed(NR_READERS + 3);
	if (!buf || io_uring_queue_init(4 * ASYNC_INFLIGHT, &ring, 0)) {
		bad_read("io_uring reader setup", -1, errno);
		free(buf);
		reader_done();
		return NULL;
	}
	while (!atomic_load(&readers_stop) || inflight || cancels) {
		for (i = 0; i < ASYNC_INFLIGHT; i++) {
			if (busy[i] && (atomic_load(&readers_stop) ||
					!rnd(CANCEL_ONE_IN * ASYNC_INFLIGHT))) {
				ring_submit_cancel(&ring, i, cmds);
				cancels++;
			} else if (!busy[i] && !atomic_load(&readers_stop) &&
				   !atomic_load(&paused)) {
				ring_submit_read(&ring, i, buf[i], cmds);
				busy[i] = true;
				inflight++;
			}
		}
		io_uring_submit(&ring);
		if (io_uring_wait_cqe_timeout(&ring, &cqe, &ts))
			continue;
		do {
			__u64 k = cqe->user_data;

			if (k >= RING_CANCEL_DATA) {
				cancels--;
			} else {
				busy[k] = false;
				inflight--;
				async_ended("io_uring reader", buf[k], cqe->res,
					    cmds && k % 2);
			}
			io_uring_cqe_seen(&ring, cqe);
		} while (!io_uring_peek_cqe(&ring, &cqe));
	}
	io_uring_queue_exit(&ring);
	free(buf);
	reader_done();
	return NULL;
}

static void write_failed(struct writer *wr, ssize_t n, int err)
{
	if (n >= 0) {
		atomic_fetch_add(&t.bad_writes, 1);
		violation("writer %u: wrote %zd of message %u", wr->id, n,
			  wr->sent);
	} else if (err == EINTR && !wr->nonblock) {
		atomic_fetch_add(&t.write_eintr, 1);
	} else if (err == EAGAIN && wr->nonblock) {
		struct pollfd pfd = { .fd = wr->fd, .events = POLLOUT };

		atomic_fetch_add(&t.write_eagain, 1);
		poll(&pfd, 1, POLL_MS);
	} else if (err == ENOMEM && fault_mode) {
		atomic_fetch_add(&t.write_enomem, 1);
	} else {
		atomic_fetch_add(&t.bad_writes, 1);
		violation("writer %u: write failed: %s", wr->id, strerror(err));
	}
}

/* Whether messages wait in the backlog (POLLIN), without queueing a read. */
static bool kept_messages(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLIN);
}

/* Sends 0, 1, 2, ...; a failed write sends the same number again. */
static void *writer_main(void *arg)
{
	struct writer *wr = arg;
	char *buf = malloc(CSQ_MSG_MAX);
	size_t len;
	ssize_t n;

	my_role = wr->nonblock ? ROLE_OTHER : ROLE_WRITER;
	rnd_seed(NR_READERS + 2 + wr->id);
	while (buf && !atomic_load(&writers_stop) && wr->sent < SEQ_CAP) {
		if (atomic_load(&hold_writes)) {
			nap_us(NAP_US / 10);
			continue;
		}
		len = msg_fill(buf, wr->id, wr->sent);
		n = write(wr->fd, buf, len);
		if (n == (ssize_t)len) {
			wr->sent++;
			atomic_fetch_add(&t.writes, 1);
			/*
			 * While the readers run, keep them mostly parked, which
			 * is where the cancel races are: let a backlog drain.
			 */
			if (!atomic_load(&paused) && kept_messages(wr->fd))
				nap_us(rnd(WRITE_GAP_US));
		} else {
			write_failed(wr, n, errno);
		}
	}
	free(buf);
	return NULL;
}

struct target {
	pthread_t thread;
	int sig;
};

static struct target targets[NR_READERS + NR_WRITERS];
static unsigned int nr_targets;

static void *signaller_main(void *arg)
{
	struct target *tg;

	(void)arg;
	rnd_seed(1);
	while (!atomic_load(&stop)) {
		tg = &targets[rnd(nr_targets)];
		if (!pthread_kill(tg->thread, tg->sig))
			atomic_fetch_add(tg->sig == SIGUSR1 ? &t.sent_usr1 :
					 &t.sent_usr2, 1);
		nap_us(rnd(SIGNAL_GAP_US));
	}
	return NULL;
}

static int cancel_file(int fd)
{
	int n = ioctl(fd, CSQ_IOC_CANCEL, 0);

	atomic_fetch_add(&t.cancel_calls, 1);
	if (n < 0) {
		atomic_fetch_add(&t.bad_reads, 1);
		violation("CSQ_IOC_CANCEL failed: %s", strerror(errno));
		return 0;
	}
	atomic_fetch_add(&t.ioctl_cancels, n);
	return n;
}

/*
 * Replaces the file under a shared descriptor: dup2() closes the old one
 * (its flush cancels this process's reads on it) and the close of the
 * spare descriptor flushes the new one.
 */
static void reopen_file(int slot)
{
	int fd = csq_open(0);

	if (fd < 0 || dup2(fd, slot_fd[slot]) < 0) {
		atomic_fetch_add(&t.bad_reads, 1);
		violation("reopen: %s", strerror(errno));
	} else {
		atomic_fetch_add(&t.reopens, 1);
	}
	if (fd >= 0)
		close(fd);
}

static void *churn_main(void *arg)
{
	int slot;

	(void)arg;
	rnd_seed(2);
	while (!atomic_load(&stop)) {
		nap_us(rnd(CHURN_GAP_US));
		slot = rnd(NR_FILES);
		if (rnd(2))
			cancel_file(slot_fd[slot]);
		else
			reopen_file(slot);
	}
	return NULL;
}

static ssize_t read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* Whether process @pid sleeps (state S) in read(); false once it is gone. */
static bool sleeps_in_read(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return false;
	p = strrchr(buf, ')');
	if (!p || strncmp(p, ") S", 3))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return false;
	return strtol(buf, &p, 10) == SYS_read && p != buf;
}

static bool gone(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return true;
	p = strrchr(buf, ')');
	return p && !strncmp(p, ") Z", 3);
}

/*
 * A child reads into shared memory until it is killed: a message whose
 * read completed is in its slot even if the child died before it could
 * say so.  It faults its slots in first, so that a kill can never catch
 * the copy half done.
 */
static __noreturn void child_main(void)
{
	int fd, k;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	memset(child_area->slot, 0, sizeof(child_area->slot));
	fd = csq_open(0);
	if (fd < 0)
		_exit(CHILD_OPEN_FAILED);
	atomic_store(&child_area->started, true);
	for (k = 0; k < CHILD_SLOTS; k++)
		if (read(fd, child_area->slot[k], CSQ_MSG_MAX) <= 0)
			_exit(CHILD_READ_FAILED);
	_exit(0);
}

static void child_collect(void)
{
	size_t n;
	int k;

	for (k = 0; k < CHILD_SLOTS; k++) {
		n = strnlen(child_area->slot[k], CSQ_MSG_MAX);
		if (!n)
			continue;
		account(child_area->slot[k], n);
		atomic_fetch_add(&t.child_reads, 1);
		memset(child_area->slot[k], 0, n);
	}
}

static void *killer_main(void *arg)
{
	bool parked;
	int status;
	double end;
	pid_t pid;

	(void)arg;
	rnd_seed(3);
	while (!atomic_load(&stop)) {
		pid = fork();
		if (pid < 0) {
			atomic_fetch_add(&t.bad_children, 1);
			violation("fork: %s", strerror(errno));
			break;
		}
		if (!pid)
			child_main();
		/*
		 * Kill it at a random moment of its reading, or, every other
		 * time, once its read is seen parked: the writers hold off
		 * until then, or a busy machine would seldom let it park.
		 */
		end = now_s() + WAIT_LIMIT_S;
		while (!atomic_load(&child_area->started) && !gone(pid) &&
		       now_s() < end)
			nap_us(NAP_US / 10);
		if (rnd(2)) {
			atomic_store(&hold_writes, true);
			end = now_s() + PARK_WAIT_S;
			while (!sleeps_in_read(pid) && !gone(pid) && now_s() < end)
				nap_us(NAP_US / 10);
		} else {
			nap_us(rnd(KILL_DELAY_US));
		}
		parked = sleeps_in_read(pid);
		kill(pid, SIGKILL);
		atomic_store(&hold_writes, false);
		if (waitpid(pid, &status, 0) != pid) {
			atomic_fetch_add(&t.bad_children, 1);
			violation("waitpid: %s", strerror(errno));
			break;
		}
		if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
			atomic_fetch_add(&t.kills, 1);
			atomic_fetch_add(&t.kills_parked, parked);
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			atomic_fetch_add(&t.bad_children, 1);
			violation("child ended with status %#x", status);
		}
		child_collect();
		atomic_store(&child_area->started, false);
		nap_us(rnd(KILL_GAP_US));
	}
	return NULL;
}

static int get_stats(struct csq_stats *s)
{
	return ioctl(ctl_fd, CSQ_IOC_STATS, s);
}

static int set_producer(unsigned int hz)
{
	struct csq_producer p = { .rate_hz = hz };

	return ioctl(ctl_fd, CSQ_IOC_PRODUCER, &p);
}

/* Reads every kept message through a fresh O_NONBLOCK file. */
static long drain(bool count)
{
	char *buf = malloc(CSQ_MSG_MAX);
	long n = 0;
	ssize_t r;
	int fd;

	fd = csq_open(O_NONBLOCK);
	if (fd < 0 || !buf) {
		free(buf);
		return -1;
	}
	while ((r = read(fd, buf, CSQ_MSG_MAX)) > 0) {
		if (count) {
			account(buf, r);
			atomic_fetch_add(&t.drained, 1);
		}
		n++;
	}
	if (r < 0 && errno != EAGAIN)
		n = -1;
	close(fd);
	free(buf);
	return n;
}

static void *map_zeroed(size_t size, bool shared)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       (shared ? MAP_SHARED : MAP_PRIVATE | MAP_NORESERVE) |
		       MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* The children need none of the accounting. */
	if (!shared)
		madvise(p, size, MADV_DONTFORK);
	return p;
}

static int catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGUSR1, &sa, NULL))
		return -1;
	sa.sa_flags = 0;
	return sigaction(SIGUSR2, &sa, NULL);
}

struct stress {
	struct reader readers[NR_READERS];
	struct writer writers[NR_WRITERS];
	pthread_t poll_reader, hostile_reader, aio_reader, ring_reader;
	pthread_t signaller, churn, killer;
	void *bad_page;
	struct csq_stats before, after;
	unsigned long lost, duplicated, phantom;
	double seconds;
};

static int setup(struct stress *s)
{
	int i;

	for (i = 0; i < NR_WRITERS; i++) {
		seen[i] = map_zeroed(SEQ_CAP, false);
		if (!seen[i])
			return -1;
	}
	tick_seen = map_zeroed((1U << TICK_BITS) / 8, false);
	child_area = map_zeroed(sizeof(*child_area), true);
	s->bad_page = mmap(NULL, getpagesize(), PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!tick_seen || !child_area || s->bad_page == MAP_FAILED)
		return -1;
	if (catch_signals())
		return -1;

	ctl_fd = csq_open(0);
	if (ctl_fd < 0) {
		ksft_print_msg("open %s: %s (is csqdev loaded?)\n", CSQ_PATH,
			       strerror(errno));
		return -1;
	}
	for (i = 0; i < NR_FILES; i++) {
		slot_fd[i] = csq_open(0);
		if (slot_fd[i] < 0)
			return -1;
	}
	hostile_fd = csq_open(0);
	poll_fd = csq_open(O_NONBLOCK);
	aio_fd = csq_open(0);
	ring_fd = csq_open(0);
	if (hostile_fd < 0 || poll_fd < 0 || aio_fd < 0 || ring_fd < 0)
		return -1;
	for (i = 0; i < NR_WRITERS; i++) {
		s->writers[i].id = i;
		s->writers[i].nonblock = i == 0;
		s->writers[i].fd = i ? slot_fd[i % NR_FILES] : csq_open(O_NONBLOCK);
		if (s->writers[i].fd < 0)
			return -1;
	}

	/* Start from a quiet device: no producer, no read, nothing kept. */
	if (set_producer(0) || drain(false) < 0 || get_stats(&s->before))
		return -1;
	if (s->before.pending_reads || s->before.queued_msgs) {
		ksft_print_msg("device busy: %u reads pending, %u messages kept\n",
			       s->before.pending_reads, s->before.queued_msgs);
		return -1;
	}
	return 0;
}

static int start(struct stress *s)
{
	struct reader *r;
	int i, ret = 0;

	atomic_store(&live_readers, NR_READERS + 4);
	for (i = 0; i < NR_READERS; i++) {
		r = &s->readers[i];
		r->slot = i % NR_FILES;
		r->role = i < NR_FILES ? ROLE_RESTART_READER : ROLE_EINTR_READER;
		ret |= pthread_create(&r->thread, NULL, reader_main, r);
		targets[nr_targets].thread = r->thread;
		targets[nr_targets++].sig = r->role == ROLE_RESTART_READER ?
					    SIGUSR1 : SIGUSR2;
	}
	for (i = 0; i < NR_WRITERS; i++) {
		ret |= pthread_create(&s->writers[i].thread, NULL, writer_main,
				      &s->writers[i]);
		if (s->writers[i].nonblock)
			continue;
		targets[nr_targets].thread = s->writers[i].thread;
		targets[nr_targets++].sig = SIGUSR2;
	}
	ret |= pthread_create(&s->poll_reader, NULL, poll_reader_main, NULL);
	ret |= pthread_create(&s->hostile_reader, NULL, hostile_reader_main,
			      s->bad_page);
	ret |= pthread_create(&s->aio_reader, NULL, aio_reader_main, NULL);
	ret |= pthread_create(&s->ring_reader, NULL, ring_reader_main, NULL);
	ret |= set_producer(PRODUCER_HZ);
	ret |= pthread_create(&s->signaller, NULL, signaller_main, NULL);
	ret |= pthread_create(&s->churn, NULL, churn_main, NULL);
	ret |= pthread_create(&s->killer, NULL, killer_main, NULL);
	return ret ? -1 : 0;
}

static unsigned long delivered(void)
{
	return atomic_load(&t.reads) + atomic_load(&t.polled) +
	       atomic_load(&t.child_reads) + atomic_load(&t.drained) +
	       atomic_load(&t.async_reads);
}

/* Lets the storm blow for @seconds, the readers pausing now and then. */
static void blow(double seconds)
{
	double t0 = now_s(), el, next = PROGRESS_S;
	long ms;

	while ((el = now_s() - t0) < seconds) {
		ms = (long)(el * 1000) % CYCLE_MS;
		atomic_store(&paused, ms >= RUN_MS);
		if (el >= next) {
			ksft_print_msg("%3.0f s: %lu written, %lu read, %lu cancels, %lu signals\n",
				       el, atomic_load(&t.writes), delivered(),
				       atomic_load(&t.ecanceled) + atomic_load(&t.eintr),
				       atomic_load(&t.sent_usr1) + atomic_load(&t.sent_usr2));
			next += PROGRESS_S;
		}
		nap_us(NAP_US * 10);
	}
	atomic_store(&paused, false);
}

/* Stops every thread, the readers last, and drains what is left. */
static int finish(struct stress *s)
{
	unsigned long before_stop;
	int i;

	atomic_store(&stop, true);
	pthread_join(s->signaller, NULL);
	pthread_join(s->churn, NULL);
	pthread_join(s->killer, NULL);

	/* Writers blocked on a full backlog get room from the readers. */
	atomic_store(&writers_stop, true);
	for (i = 0; i < NR_WRITERS; i++)
		pthread_join(s->writers[i].thread, NULL);
	if (set_producer(0))
		return -1;

	before_stop = atomic_load(&t.ioctl_cancels);
	atomic_store(&readers_stop, true);
	while (atomic_load(&live_readers)) {
		for (i = 0; i < NR_FILES; i++)
			cancel_file(slot_fd[i]);
		cancel_file(hostile_fd);
		nap_us(NAP_US);
	}
	atomic_store(&t.stop_cancels, atomic_load(&t.ioctl_cancels) - before_stop);
	for (i = 0; i < NR_READERS; i++)
		pthread_join(s->readers[i].thread, NULL);
	pthread_join(s->poll_reader, NULL);
	pthread_join(s->hostile_reader, NULL);
	pthread_join(s->aio_reader, NULL);
	pthread_join(s->ring_reader, NULL);

	if (drain(true) < 0 || get_stats(&s->after))
		return -1;
	return 0;
}

/* Counts sequence numbers never delivered, delivered twice, never sent. */
static void tally_messages(struct stress *s)
{
	unsigned int w, seq, n, end;

	for (w = 0; w < NR_WRITERS; w++) {
		/* A write that failed but queued would be number sent. */
		end = s->writers[w].sent < SEQ_CAP ? s->writers[w].sent + 1 : SEQ_CAP;
		for (seq = 0; seq < end; seq++) {
			n = atomic_load(&seen[w][seq]);
			if (seq < s->writers[w].sent && n != 1) {
				if (n)
					s->duplicated++;
				else
					s->lost++;
				violation("writer %u message %u delivered %u times",
					  w, seq, n);
			} else if (seq >= s->writers[w].sent && n) {
				s->phantom++;
				violation("writer %u message %u delivered but its write failed",
					  w, seq);
			}
		}
	}
}

static void report(struct stress *s)
{
	unsigned long canceled = s->after.canceled - s->before.canceled;
	unsigned long interrupted = s->after.interrupted -
				    s->before.interrupted;
	unsigned long ecanceled = atomic_load(&t.ecanceled);
	unsigned long eintr = atomic_load(&t.eintr);
	unsigned long ioctl = atomic_load(&t.ioctl_cancels);
	unsigned long at_stop = atomic_load(&t.stop_cancels);

	ksft_print_msg("%.0f s%s: %d files, %d readers, %d writers, producer %d Hz\n",
		       s->seconds, fault_mode ? " under fault injection" : "",
		       NR_FILES, NR_READERS + 2, NR_WRITERS, PRODUCER_HZ);
	ksft_print_msg("messages: %lu written, %lu ticks from the timer\n",
		       atomic_load(&t.writes), atomic_load(&t.ticks));
	ksft_print_msg("writes retried: %lu EINTR, %lu EAGAIN, %lu ENOMEM; opens: %lu ENOMEM\n",
		       atomic_load(&t.write_eintr), atomic_load(&t.write_eagain),
		       atomic_load(&t.write_enomem), atomic_load(&t.open_enomem));
	ksft_print_msg("read: %lu by threads, %lu by poll, %lu by children, %lu drained\n",
		       atomic_load(&t.reads), atomic_load(&t.polled),
		       atomic_load(&t.child_reads), atomic_load(&t.drained));
	ksft_print_msg("async: %lu read, %lu cancels asked; READs cancelled: %lu, %lu in io-wq\n",
		       atomic_load(&t.async_reads), atomic_load(&t.async_cancels),
		       atomic_load(&t.poll_canceled),
		       atomic_load(&t.wq_interrupted));
	ksft_print_msg("signals sent: %lu SIGUSR1 (SA_RESTART), %lu SIGUSR2\n",
		       atomic_load(&t.sent_usr1), atomic_load(&t.sent_usr2));
	ksft_print_msg("signals handled: readers %lu + %lu, writers %lu\n",
		       atomic_load(&t.handled[ROLE_RESTART_READER]),
		       atomic_load(&t.handled[ROLE_EINTR_READER]),
		       atomic_load(&t.handled[ROLE_WRITER]));
	ksft_print_msg("cancels: signal %lu (EINTR), close %lu, CSQ_IOC_CANCEL %lu (+%lu to end)\n",
		       eintr, ecanceled - ioctl, ioctl - at_stop, at_stop);
	ksft_print_msg("cancels unseen (SA_RESTART restarts, SIGKILL): %ld\n",
		       (long)(canceled + interrupted - ecanceled - eintr));
	ksft_print_msg("children: %lu SIGKILLed (%lu parked in read)\n",
		       atomic_load(&t.kills), atomic_load(&t.kills_parked));
	ksft_print_msg("files: %lu reopened, %lu CSQ_IOC_CANCEL calls\n",
		       atomic_load(&t.reopens), atomic_load(&t.cancel_calls));
	ksft_print_msg("failed reads: %lu EFAULT (message put back), %lu EMSGSIZE; %lu EAGAIN\n",
		       atomic_load(&t.efault), atomic_load(&t.emsgsize),
		       atomic_load(&t.eagain));
	ksft_print_msg("device: completed +%lu, canceled +%lu, interrupted +%lu\n",
		       (unsigned long)(s->after.completed - s->before.completed),
		       canceled, interrupted);
	ksft_print_msg("device: %u pending, %u kept\n",
		       s->after.pending_reads, s->after.queued_msgs);
	ksft_print_msg("lost %lu, duplicated %lu, phantom %lu, corrupt %lu, ticks twice %lu\n",
		       s->lost, s->duplicated, s->phantom,
		       atomic_load(&t.corrupt), atomic_load(&t.tick_dups));
}

static void check(struct stress *s)
{
	unsigned long completed = s->after.completed - s->before.completed;
	unsigned long canceled = s->after.canceled - s->before.canceled;
	unsigned long interrupted = s->after.interrupted -
				    s->before.interrupted;
	unsigned long seen_canceled = atomic_load(&t.ecanceled) +
				      atomic_load(&t.eintr) +
				      atomic_load(&t.wq_interrupted);
	unsigned long ended = canceled + interrupted;
	unsigned long unseen_max = atomic_load(&t.handled[ROLE_RESTART_READER]) +
				   atomic_load(&t.kills);

	ksft_set_plan(9);
	ksft_test_result(!s->lost && !s->duplicated,
			 "every_message_delivered_exactly_once\n");
	ksft_test_result(!s->phantom && !atomic_load(&t.corrupt),
			 "no_message_from_a_failed_write_and_none_corrupt\n");
	ksft_test_result(!atomic_load(&t.tick_dups) && atomic_load(&t.ticks),
			 "timer_ticks_delivered_at_most_once\n");
	ksft_test_result(!atomic_load(&t.bad_reads),
			 "failed_reads_fail_as_the_contract_says\n");
	ksft_test_result(!atomic_load(&t.bad_writes),
			 "failed_writes_fail_as_the_contract_says\n");
	ksft_test_result(completed == delivered(),
			 "completed_counter_equals_messages_read\n");
	/*
	 * Every cancel someone saw is counted, ECANCELED as cancelled and
	 * EINTR as interrupted; the rest were restarted under SA_RESTART or
	 * ended by SIGKILL, at most one per signal.
	 */
	ksft_test_result(canceled >= atomic_load(&t.ecanceled) &&
			 interrupted >= atomic_load(&t.eintr) +
					atomic_load(&t.wq_interrupted) &&
			 ended >= seen_canceled &&
			 ended - seen_canceled <= unseen_max &&
			 atomic_load(&t.ioctl_cancels) <= atomic_load(&t.ecanceled) &&
			 atomic_load(&t.eintr) <= atomic_load(&t.handled[ROLE_EINTR_READER]),
			 "canceled_counter_agrees_with_cancels_seen\n");
	ksft_test_result(!s->after.pending_reads && !s->after.queued_msgs &&
			 !atomic_load(&t.bad_children),
			 "nothing_pending_or_kept_at_the_end\n");
	/* Not a race that went unexercised: each cause happened at all. */
	ksft_test_result(atomic_load(&t.eintr) && atomic_load(&t.ecanceled) >
			 atomic_load(&t.ioctl_cancels) &&
			 atomic_load(&t.ioctl_cancels) > atomic_load(&t.stop_cancels) &&
			 atomic_load(&t.kills_parked) && atomic_load(&t.efault) &&
			 atomic_load(&t.emsgsize) && atomic_load(&t.writes) &&
			 atomic_load(&t.async_reads) &&
			 atomic_load(&t.async_cancels),
			 "every_cause_of_cancel_was_exercised\n");
}

int main(int argc, char **argv)
{
	struct stress *s = calloc(1, sizeof(*s));
	const char *env;
	int opt;

	if (!s)
		return KSFT_FAIL;
	env = getenv("CSQ_STRESS_SECONDS");
	s->seconds = env ? atof(env) : DEFAULT_SECONDS;
	env = getenv("CSQ_STRESS_FAULTS");
	fault_mode = env && !strcmp(env, "1");
	while ((opt = getopt(argc, argv, "d:f")) != -1) {
		switch (opt) {
		case 'd':
			s->seconds = atof(optarg);
			break;
		case 'f':
			fault_mode = true;
			break;
		default:
			fprintf(stderr, "usage: %s [-d SECONDS] [-f]\n", argv[0]);
			return KSFT_FAIL;
		}
	}

	ksft_print_header();
	if (setup(s))
		ksft_exit_fail_msg("setup: %s\n", strerror(errno));
	if (start(s))
		ksft_exit_fail_msg("starting the threads failed\n");
	blow(s->seconds);
	if (finish(s))
		ksft_exit_fail_msg("stopping: %s\n", strerror(errno));
	tally_messages(s);
	report(s);
	check(s);
	ksft_finished();
}
