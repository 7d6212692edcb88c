// SPDX-License-Identifier: GPL-2.0
/*
 * csq_bench_async: asynchronous reads of /dev/csq against a pipe read
 * through io_uring, in one boot, as ratios.
 *
 *   uring-stream   messages per second from one writer to one reader that
 *                  keeps 64 io_uring READs of 4 bytes in flight; the pipe
 *                  is read the same way.  As shipped: default device, a
 *                  pipe as pipe() makes it, no thread pinned.
 *   pending        10,000 reads left pending: kernel threads created while
 *                  they wait (the system's thread count, before and after),
 *                  and memory per pending read (MemFree, before and after:
 *                  slab, pages, everything).  On the device: aio reads and
 *                  io_uring READs (and, where the kernel cancels them,
 *                  uring-command reads); on the pipe: io_uring READs, the
 *                  only way a pipe has to keep a read pending.
 *   cancel         the time to cancel all of them: on the device by close()
 *                  (IRP_MJ_CLEANUP; the aio and uring-command reads are the
 *                  device's to cancel) until every completion has been
 *                  reaped; on the pipe by IORING_OP_ASYNC_CANCEL of every
 *                  request on the descriptor, the same way.  Measured for
 *                  1,000 and 10,000 reads, to show the cost is linear.
 *
 * Each figure is the median of the rounds; the output lines are those of
 * csq_bench:  CSQ-BENCH <id> <unit> <csq> <anchor> <le|ge|info> <goal> <what>
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/csq.h>

#include "csq_bench.h"
#include "csq_test.h"

#define ROUNDS_DEFAULT		5
#define MAX_ROUNDS		64
#define STREAM_MSGS		20000
#define INFLIGHT		64
#define MSG_LEN			4
#define PENDING			10000
#define PENDING_SMALL		1000
#define RING_ENTRIES		16384
#define STOP_SEQ		0xffffffffu

/* The kernel's scheduling entities, kernel threads included. */
static long nr_threads(void)
{
	char buf[128], *slash;

	if (read_text("/proc/loadavg", buf, sizeof(buf)) <= 0)
		return -1;
	slash = strchr(buf, '/');
	return slash ? strtol(slash + 1, NULL, 10) : -1;
}

/* A field of /proc/meminfo, in kB. */
static long meminfo_kb(const char *field)
{
	char buf[4096], *p;

	if (read_text("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, field);
	return p ? strtol(p + strlen(field), NULL, 10) : -1;
}

/*
 * Memory in use, kB, once what the last round freed has been freed: RCU
 * and the workers of aio and io_uring free some of it after the calls
 * that let it go have returned.
 */
static void mem_used_kb(long *slab, long *all)
{
	struct timespec settle = { .tv_nsec = 200000000L };

	nanosleep(&settle, NULL);
	*slab = meminfo_kb("Slab:");
	*all = meminfo_kb("MemTotal:") - meminfo_kb("MemFree:");
}

/* A channel: a reading and a writing descriptor. */
struct chan {
	bool csq;
	int rfd, wfd;
};

static void chan_open(struct chan *c, bool csq)
{
	int fds[2];

	c->csq = csq;
	if (csq) {
		c->rfd = open(CSQ_PATH, O_RDWR | O_CLOEXEC);
		c->wfd = open(CSQ_PATH, O_RDWR | O_CLOEXEC);
		if (c->rfd < 0 || c->wfd < 0)
			die(CSQ_PATH);
		return;
	}
	if (pipe2(fds, O_CLOEXEC))
		die("pipe2");
	c->rfd = fds[0];
	c->wfd = fds[1];
}

static void chan_close(struct chan *c)
{
	if (c->rfd >= 0)
		close(c->rfd);
	close(c->wfd);
}

static void ring_init(struct io_uring *ring, unsigned int entries)
{
	if (io_uring_queue_init(entries, ring, 0))
		die("io_uring_queue_init");
}

static struct io_uring_sqe *ring_sqe(struct io_uring *ring)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);

	if (!sqe) {
		io_uring_submit(ring);
		sqe = io_uring_get_sqe(ring);
		if (!sqe)
			die("io_uring_get_sqe");
	}
	return sqe;
}

static void ring_read(struct io_uring *ring, int fd, char *buf, __u64 data)
{
	struct io_uring_sqe *sqe = ring_sqe(ring);

	io_uring_prep_read(sqe, fd, buf, MSG_LEN, -1);
	sqe->user_data = data;
}

/* Waits for one completion; its result, its user_data in @data. */
static int ring_reap(struct io_uring *ring, __u64 *data)
{
	struct io_uring_cqe *cqe;
	int res;

	if (io_uring_wait_cqe(ring, &cqe))
		die("io_uring_wait_cqe");
	res = cqe->res;
	*data = cqe->user_data;
	io_uring_cqe_seen(ring, cqe);
	return res;
}

static void *stream_writer(void *arg)
{
	struct chan *c = arg;
	char msg[MSG_LEN];
	__u32 seq;

	for (seq = 0; seq < STREAM_MSGS; seq++) {
		memcpy(msg, &seq, sizeof(seq));
		if (write(c->wfd, msg, MSG_LEN) != MSG_LEN)
			die("write");
	}
	/* One stop message for every read that may be in flight. */
	seq = STOP_SEQ;
	memcpy(msg, &seq, sizeof(seq));
	for (seq = 0; seq < INFLIGHT; seq++)
		if (write(c->wfd, msg, MSG_LEN) != MSG_LEN)
			die("write");
	return NULL;
}

/* Messages per second to one reader with INFLIGHT io_uring READs. */
static double uring_stream_round(bool csq)
{
	static char buf[INFLIGHT][MSG_LEN];
	struct io_uring ring;
	long got = 0, stops = 0;
	long long start, end;
	pthread_t writer;
	struct chan c;
	__u64 i;
	__u32 seq;
	int res;

	chan_open(&c, csq);
	ring_init(&ring, 2 * INFLIGHT);
	for (i = 0; i < INFLIGHT; i++)
		ring_read(&ring, c.rfd, buf[i], i);
	io_uring_submit(&ring);
	start = now_ns();
	if (pthread_create(&writer, NULL, stream_writer, &c))
		die("pthread_create");
	while (stops < INFLIGHT) {
		res = ring_reap(&ring, &i);
		if (res != MSG_LEN)
			die("io_uring read");
		memcpy(&seq, buf[i], sizeof(seq));
		if (seq == STOP_SEQ) {
			stops++;
			continue;
		}
		got++;
		ring_read(&ring, c.rfd, buf[i], i);
		io_uring_submit(&ring);
	}
	end = now_ns();
	pthread_join(writer, NULL);
	if (got != STREAM_MSGS) {
		fprintf(stderr, "%s: %ld messages of %d\n", csq ? "csq" : "pipe",
			got, STREAM_MSGS);
		exit(1);
	}
	io_uring_queue_exit(&ring);
	chan_close(&c);
	return STREAM_MSGS * (double)NSEC_PER_SEC / (end - start);
}

enum pending_kind { PENDING_AIO, PENDING_URING, PENDING_CMD };

/* What one round of pending reads cost. */
struct pending {
	long threads;		/* created while they waited */
	double slab;		/* slab memory per pending read */
	double bytes;		/* all memory per pending read */
	double cancel_ns;	/* to cancel them all, per read */
};

/**
 * struct pender - @n reads of one kind, pending on one descriptor
 * @kind: how they were issued.
 * @fd: the descriptor.
 * @n: how many.
 * @ctx: the aio context of PENDING_AIO.
 * @ring: the ring of the others.
 * @cbs: the aio control blocks.
 * @buf: the buffers.
 */
struct pender {
	enum pending_kind kind;
	int fd;
	int n;
	io_context_t ctx;
	struct io_uring ring;
	struct iocb *cbs;
	char (*buf)[MSG_LEN];
};

/* The aio context or the ring, sized for the reads: not per read. */
static void pender_setup(struct pender *p)
{
	p->buf = calloc(p->n, MSG_LEN);
	p->cbs = calloc(p->n, sizeof(*p->cbs));
	if (!p->buf || !p->cbs)
		die("calloc");
	if (p->kind == PENDING_AIO) {
		p->ctx = 0;
		if (io_setup(p->n, &p->ctx))
			die("io_setup");
	} else {
		ring_init(&p->ring, RING_ENTRIES);
	}
}

static void pender_issue(struct pender *p)
{
	struct csq_uring_cmd cmd = { .len = MSG_LEN };
	struct io_uring_sqe *sqe;
	struct iocb *one[1];
	int i;

	if (p->kind == PENDING_AIO) {
		for (i = 0; i < p->n; i++) {
			io_prep_pread(&p->cbs[i], p->fd, p->buf[i], MSG_LEN, 0);
			one[0] = &p->cbs[i];
			if (io_submit(p->ctx, 1, one) != 1)
				die("io_submit");
		}
		return;
	}
	for (i = 0; i < p->n; i++) {
		sqe = ring_sqe(&p->ring);
		if (p->kind == PENDING_URING) {
			io_uring_prep_read(sqe, p->fd, p->buf[i], MSG_LEN, -1);
		} else {
			memset(sqe, 0, sizeof(*sqe));
			sqe->opcode = IORING_OP_URING_CMD;
			sqe->fd = p->fd;
			sqe->cmd_op = CSQ_URING_READ;
			cmd.addr = (uintptr_t)p->buf[i];
			memcpy(sqe->cmd, &cmd, sizeof(cmd));
		}
		sqe->user_data = i;
	}
	io_uring_submit(&p->ring);
}

/* Reaps all @n completions, each a cancel; false if one was not. */
static bool pender_reap(struct pender *p, int extra)
{
	struct io_event ev;
	bool ok = true;
	__u64 data;
	int i, res;

	for (i = 0; i < p->n + extra; i++) {
		if (p->kind == PENDING_AIO) {
			if (io_getevents(p->ctx, 1, 1, &ev, NULL) != 1)
				die("io_getevents");
			res = ev.res;
		} else {
			res = ring_reap(&p->ring, &data);
			if (data == ~0ULL)
				continue;
		}
		if (res != -ECANCELED && res != -EINTR)
			ok = false;
	}
	return ok;
}

static void pender_free(struct pender *p)
{
	if (p->kind == PENDING_AIO)
		io_destroy(p->ctx);
	else
		io_uring_queue_exit(&p->ring);
	free(p->buf);
	free(p->cbs);
}

/*
 * @n reads of @kind pending on the device (or on a pipe if !@csq), then
 * cancelled: on the device by close(), on the pipe by ASYNC_CANCEL of all.
 */
static struct pending pending_round(bool csq, enum pending_kind kind, int n)
{
	struct pender p = { .kind = kind, .n = n };
	long threads;
	bool by_close = csq && kind != PENDING_URING;
	long slab, mem, slab2, mem2;
	struct pending r;
	int extra = 0;
	long long t0;
	struct chan c;

	chan_open(&c, csq);
	p.fd = c.rfd;
	pender_setup(&p);
	threads = nr_threads();
	mem_used_kb(&slab, &mem);
	pender_issue(&p);
	if (by_close &&
	    !WAIT_FOR(stats_of(c.wfd).pending_reads == (unsigned int)n))
		die("pending reads");
	mem_used_kb(&slab2, &mem2);
	r.threads = nr_threads() - threads;
	r.slab = (slab2 - slab) * 1024.0 / n;
	r.bytes = (mem2 - mem) * 1024.0 / n;

	t0 = now_ns();
	if (by_close) {
		close(c.rfd);
		c.rfd = -1;
	} else {
		struct io_uring_sqe *sqe = ring_sqe(&p.ring);

		io_uring_prep_cancel_fd(sqe, p.fd, IORING_ASYNC_CANCEL_ALL);
		sqe->user_data = ~0ULL;
		io_uring_submit(&p.ring);
		extra = 1;
	}
	if (!pender_reap(&p, extra))
		die("a pending read did not end cancelled");
	r.cancel_ns = (double)(now_ns() - t0) / n;
	pender_free(&p);
	chan_close(&c);
	return r;
}

static void print_figure(const char *id, const char *unit, double *csq,
			 double *anchor, int rounds, const char *goal,
			 const char *what)
{
	int r;

	for (r = 0; r < rounds; r++)
		printf("CSQ-BENCH-ROUND %s %d %.2f %.2f\n", id, r + 1, csq[r],
		       anchor[r]);
	printf("CSQ-BENCH %s %s %.2f %.2f %s %s\n", id, unit,
	       median(csq, rounds), median(anchor, rounds), goal, what);
	fflush(stdout);
}

static void run_stream(int rounds)
{
	double csq[MAX_ROUNDS], pipe_v[MAX_ROUNDS];
	int r;

	for (r = 0; r < rounds; r++) {
		if (r % 2) {
			pipe_v[r] = uring_stream_round(false);
			csq[r] = uring_stream_round(true);
		} else {
			csq[r] = uring_stream_round(true);
			pipe_v[r] = uring_stream_round(false);
		}
	}
	print_figure("uring-stream", "msg/s", csq, pipe_v, rounds, "ge 1.00",
		     "io_uring read throughput, 64 READs in flight, as shipped");
}

static void run_pending(int rounds, enum pending_kind kind, const char *name)
{
	double th[2][MAX_ROUNDS], mem[2][MAX_ROUNDS], big[2][MAX_ROUNDS];
	double slab[2][MAX_ROUNDS];
	double small[2][MAX_ROUNDS], lin[2][MAX_ROUNDS];
	char id[64], what[160];
	struct pending p;
	int r, k;

	for (r = 0; r < rounds; r++) {
		for (k = 0; k < 2; k++) {
			p = pending_round(!k, k ? PENDING_URING : kind, PENDING);
			th[k][r] = p.threads;
			slab[k][r] = p.slab;
			mem[k][r] = p.bytes;
			big[k][r] = p.cancel_ns;
			p = pending_round(!k, k ? PENDING_URING : kind,
					  PENDING_SMALL);
			small[k][r] = p.cancel_ns;
			lin[k][r] = big[k][r] / small[k][r];
		}
	}
	snprintf(id, sizeof(id), "pending-threads-%s", name);
	snprintf(what, sizeof(what),
		 "threads created for 10,000 pending %s reads vs io_uring on a pipe (goal: none per read)",
		 name);
	print_figure(id, "threads", th[0], th[1], rounds, "info -", what);
	snprintf(id, sizeof(id), "pending-slab-%s", name);
	snprintf(what, sizeof(what),
		 "slab per pending %s read vs an io_uring READ of a pipe", name);
	print_figure(id, "bytes", slab[0], slab[1], rounds, "le 1.00", what);
	snprintf(id, sizeof(id), "pending-mem-%s", name);
	snprintf(what, sizeof(what),
		 "all memory (slab and pages) per pending %s read, the same",
		 name);
	print_figure(id, "bytes", mem[0], mem[1], rounds, "le 1.00", what);
	snprintf(id, sizeof(id), "cancel-10k-%s", name);
	snprintf(what, sizeof(what),
		 "cancel of 10,000 pending %s reads (close) vs ASYNC_CANCEL of a pipe's, per read",
		 name);
	print_figure(id, "ns", big[0], big[1], rounds, "le 1.00", what);
	snprintf(id, sizeof(id), "cancel-linear-%s", name);
	snprintf(what, sizeof(what),
		 "per-read cancel time at 10,000 vs 1,000 pending (1.00: linear), csq %s vs pipe",
		 name);
	print_figure(id, "x", lin[0], lin[1], rounds, "info -", what);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : ROUNDS_DEFAULT;

	if (rounds < 1 || rounds > MAX_ROUNDS) {
		fprintf(stderr, "usage: %s [ROUNDS (1 to %d)]\n", argv[0],
			MAX_ROUNDS);
		return 2;
	}
	printf("# csq_bench_async: %d rounds\n", rounds);
	run_stream(rounds);
	run_pending(rounds, PENDING_AIO, "aio");
	run_pending(rounds, PENDING_URING, "uring");
	if (kernel_cancels_uring_cmds())
		run_pending(rounds, PENDING_CMD, "uring-cmd");
	return 0;
}
