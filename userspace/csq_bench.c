// SPDX-License-Identifier: GPL-2.0
/*
 * csq_bench: /dev/csq against a pipe, in one boot, as ratios.
 *
 * Three figures, each measured on /dev/csq and on its anchor, a pipe, with
 * the same threads on the same CPUs, interleaved round by round so that a
 * slow patch of the (emulated) machine hits both alike:
 *
 *   handoff    write() until a reader already asleep in read() holds the
 *              message: the writer stamps the clock just before write(),
 *              the reader just after read() returns.
 *   stream     messages per second from one writer to 1, 4 or 8 readers
 *              that were all asleep in read() when the writer started.
 *   cancel     a signal to a reader asleep in read() until read() returns
 *              EINTR: stamped before pthread_kill() and after read().
 *
 * A reader counts as asleep in read() when /proc says it is in state S
 * inside the read system call; nothing here waits a fixed time.
 *
 * The pipe is made to behave like the device: every write() is one message
 * of at most PIPE_BUF bytes, so it is atomic, and every read() asks for
 * exactly one message's size, so it returns exactly one message (checked).
 *
 * Each figure runs in one of two setups:
 *
 *   shipped    what a user gets: the device with the module's default
 *              parameters against a pipe as pipe() makes it, and no thread
 *              pinned anywhere; there are more threads than CPUs.
 *   tuned      the writer pinned to CPU 0 and every reader to CPU 1, and
 *              both channels holding TUNED_MSGS messages: the pipe sized
 *              with F_SETPIPE_SZ, the device's capacity parameter set to
 *              the same number of bytes for the figure (and restored).
 *
 * Each figure is the median of the rounds; each round's latency is the
 * median of its iterations.  The output is one "CSQ-BENCH-ROUND" line per
 * round and figure, then one "CSQ-BENCH" line per figure:
 *
 *   CSQ-BENCH <id> <unit> <csq> <anchor> <le|ge> <goal> <what>
 *
 * which says that csq/anchor should be <= (le) or >= (ge) goal; "info -"
 * marks a figure with no goal, there to explain the others (the cost of a
 * write() and of a read() that never sleep).  Timing is reported, never
 * judged here: this is not a test.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/csq.h>

#include "csq_bench.h"
#include "csq_test.h"

#define ROUNDS_DEFAULT		7
#define LATENCY_ITERS		100
#define STREAM_MSGS		10000
#define MAX_READERS		8
#define BURST_MSGS		1000
#define MAX_ROUNDS		64

/* Tuned: the writer runs on one CPU and every reader on the other. */
#define WRITER_CPU		0
#define READER_CPU		1
#define ANY_CPU			-1

/* Tuned: what both channels hold while no read waits. */
#define TUNED_MSGS		1024

/* The first word of the message that tells a stream reader to stop. */
#define STOP_SEQ		0xffffffffu

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

enum chan_kind { CHAN_CSQ, CHAN_PIPE, NR_CHANS };

static const char * const chan_name[NR_CHANS] = { "csq", "pipe" };

/* One message channel: a writer's end and a reader's end. */
struct chan {
	enum chan_kind kind;
	int rfd;
	int wfd;
};

static int nr_cpus;
static long shipped_capacity;

/* Runs the calling thread on @cpu only, or on any CPU for ANY_CPU. */
static void pin(int cpu)
{
	cpu_set_t set;
	int i;

	if (nr_cpus < 2)
		return;
	CPU_ZERO(&set);
	for (i = 0; i < nr_cpus; i++)
		if (cpu == ANY_CPU || cpu == i)
			CPU_SET(i, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

/* Voluntary context switches of the calling thread: how often it slept. */
static long sleeps(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru))
		die("getrusage");
	return ru.ru_nvcsw;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* Whether thread @tid is asleep (state S) inside read(). */
static bool asleep_in_read(pid_t tid)
{
	char path[64], buf[512], *p, *end;
	ssize_t n;
	long nr;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || strncmp(p, ") S", 3))
		return false;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "running" when not in a system call: no number there. */
	nr = strtol(buf, &end, 10);
	return end != buf && nr == SYS_read;
}

static void wait_asleep_in_read(const atomic_int *tid)
{
	pid_t t;

	while (!(t = atomic_load(tid)))
		sched_yield();
	while (!asleep_in_read(t))
		;
}

/*
 * The smallest pipe that keeps @msgs messages of @size bytes: a power of
 * two pages, at least one.
 */
static int pipe_bytes(long msgs, size_t size)
{
	long page = sysconf(_SC_PAGESIZE), bytes = page;

	while (bytes < msgs * (long)size)
		bytes *= 2;
	return bytes;
}

static void set_capacity(long bytes)
{
	if (write_param("capacity", bytes))
		die(CSQ_PARAMS "capacity");
}

/*
 * @tuned_bytes is what both channels hold in the tuned setup, 0 in the
 * shipped one: the device's default capacity and a default pipe.
 */
static void chan_open(struct chan *c, enum chan_kind kind, int tuned_bytes)
{
	int fds[2];

	c->kind = kind;
	if (kind == CHAN_CSQ) {
		set_capacity(tuned_bytes ? tuned_bytes : shipped_capacity);
		c->rfd = open(CSQ_PATH, O_RDWR | O_CLOEXEC);
		c->wfd = open(CSQ_PATH, O_RDWR | O_CLOEXEC);
		if (c->rfd < 0 || c->wfd < 0)
			die(CSQ_PATH);
		return;
	}
	if (pipe2(fds, O_CLOEXEC))
		die("pipe2");
	if (tuned_bytes && fcntl(fds[1], F_SETPIPE_SZ, tuned_bytes) < 0)
		die("F_SETPIPE_SZ");
	c->rfd = fds[0];
	c->wfd = fds[1];
}

static void chan_close(struct chan *c)
{
	close(c->rfd);
	close(c->wfd);
}

/* One reader thread of the latency figures, and what it saw. */
struct lat_reader {
	pthread_t thread;
	const struct chan *chan;
	int cpu;
	size_t size;
	int iters;
	bool expect_eintr;
	atomic_int tid;
	atomic_int armed;	/* the iteration whose read() it is entering */
	atomic_int done;	/* the iteration whose read() has returned */
	long long *t_return;
	int failures;
};

static void *lat_reader_main(void *arg)
{
	struct lat_reader *r = arg;
	char buf[CSQ_MSG_MAX];
	ssize_t n;
	int i;

	pin(r->cpu);
	atomic_store(&r->tid, gettid());
	for (i = 1; i <= r->iters; i++) {
		atomic_store(&r->armed, i);
		n = read(r->chan->rfd, buf, r->size);
		r->t_return[i - 1] = now_ns();
		if (r->expect_eintr ? n != -1 || errno != EINTR :
				      n != (ssize_t)r->size)
			r->failures++;
		atomic_store(&r->done, i);
	}
	return NULL;
}

/*
 * Median latency of one round on @c: from the writer's stamp (before the
 * write() or the pthread_kill()) to the reader's stamp after read().
 */
static double latency_round(const struct chan *c, size_t size, bool cancel,
			    int iters, int reader_cpu)
{
	long long t_act[LATENCY_ITERS], t_ret[LATENCY_ITERS];
	double lat[LATENCY_ITERS];
	struct lat_reader r = {
		.chan = c,
		.cpu = reader_cpu,
		.size = size,
		.iters = iters,
		.expect_eintr = cancel,
		.t_return = t_ret,
	};
	char msg[CSQ_MSG_MAX];
	int i;

	memset(msg, 'm', size);
	if (pthread_create(&r.thread, NULL, lat_reader_main, &r))
		die("pthread_create");
	for (i = 1; i <= iters; i++) {
		while (atomic_load(&r.armed) != i)
			sched_yield();
		wait_asleep_in_read(&r.tid);
		t_act[i - 1] = now_ns();
		if (cancel) {
			if (pthread_kill(r.thread, SIGUSR1))
				die("pthread_kill");
		} else if (write(c->wfd, msg, size) != (ssize_t)size) {
			die("write");
		}
		while (atomic_load(&r.done) != i)
			;
	}
	pthread_join(r.thread, NULL);
	if (r.failures) {
		fprintf(stderr, "%s: %d reads returned the wrong result\n",
			chan_name[c->kind], r.failures);
		exit(1);
	}
	for (i = 0; i < iters; i++)
		lat[i] = t_ret[i] - t_act[i];
	return median(lat, iters);
}

/* One reader of the stream figure. */
struct stream_reader {
	pthread_t thread;
	const struct chan *chan;
	int cpu;
	size_t size;
	atomic_int tid;
	long got;
	long sleeps;
	int failures;
};

static void *stream_reader_main(void *arg)
{
	struct stream_reader *r = arg;
	char buf[CSQ_MSG_MAX];
	__u32 seq;
	ssize_t n;

	pin(r->cpu);
	r->sleeps = sleeps();
	atomic_store(&r->tid, gettid());
	for (;;) {
		n = read(r->chan->rfd, buf, r->size);
		/* A short or long read would mean message boundaries broke. */
		if (n != (ssize_t)r->size) {
			r->failures++;
			break;
		}
		memcpy(&seq, buf, sizeof(seq));
		if (seq == STOP_SEQ)
			break;
		r->got++;
	}
	r->sleeps = sleeps() - r->sleeps;
	return NULL;
}

/*
 * Messages per second of one round: one writer, @nr_readers readers.  Also
 * says how often the writer and the readers slept per message, which is
 * where the time goes when one side waits for the other.
 */
static double stream_round(const struct chan *c, size_t size, int nr_readers,
			   int reader_cpu)
{
	struct stream_reader r[MAX_READERS] = { 0 };
	long got = 0, reader_sleeps = 0, writer_sleeps;
	char msg[CSQ_MSG_MAX];
	long long start, end;
	__u32 seq;
	int i;

	memset(msg, 's', size);
	for (i = 0; i < nr_readers; i++) {
		r[i].chan = c;
		r[i].cpu = reader_cpu;
		r[i].size = size;
		if (pthread_create(&r[i].thread, NULL, stream_reader_main, &r[i]))
			die("pthread_create");
	}
	for (i = 0; i < nr_readers; i++)
		wait_asleep_in_read(&r[i].tid);

	writer_sleeps = sleeps();
	start = now_ns();
	for (seq = 0; seq < STREAM_MSGS; seq++) {
		memcpy(msg, &seq, sizeof(seq));
		if (write(c->wfd, msg, size) != (ssize_t)size)
			die("write");
	}
	seq = STOP_SEQ;
	memcpy(msg, &seq, sizeof(seq));
	for (i = 0; i < nr_readers; i++)
		if (write(c->wfd, msg, size) != (ssize_t)size)
			die("write");
	writer_sleeps = sleeps() - writer_sleeps;
	for (i = 0; i < nr_readers; i++) {
		pthread_join(r[i].thread, NULL);
		got += r[i].got;
		reader_sleeps += r[i].sleeps;
		if (r[i].failures) {
			fprintf(stderr, "%s: a read broke a message\n",
				chan_name[c->kind]);
			exit(1);
		}
	}
	end = now_ns();
	if (got != STREAM_MSGS) {
		fprintf(stderr, "%s: %ld messages arrived of %d\n",
			chan_name[c->kind], got, STREAM_MSGS);
		exit(1);
	}
	printf("#   %s: writer slept %.3f, readers %.3f times per message\n",
	       chan_name[c->kind], (double)writer_sleeps / STREAM_MSGS,
	       (double)reader_sleeps / STREAM_MSGS);
	return STREAM_MSGS * (double)NSEC_PER_SEC / (end - start);
}

/*
 * The cost of one write() and of one read() on their own: @n messages
 * written while no read waits, then read back by the same thread, which
 * never sleeps.  No figure of the goals; it says which path costs what.
 */
static double burst_round(const struct chan *c, size_t size, bool reads)
{
	int i, n = BURST_MSGS;
	char msg[CSQ_MSG_MAX];
	long long t0, t1, t2;

	memset(msg, 'b', size);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (write(c->wfd, msg, size) != (ssize_t)size)
			die("write");
	t1 = now_ns();
	for (i = 0; i < n; i++)
		if (read(c->rfd, msg, size) != (ssize_t)size)
			die("read");
	t2 = now_ns();
	return (double)(reads ? t2 - t1 : t1 - t0) / n;
}

enum fig_kind { FIG_HANDOFF, FIG_STREAM, FIG_CANCEL, FIG_WRITE, FIG_READ };

/* What one figure measures, and the goal for csq against its anchor. */
struct figure {
	const char *id;
	enum fig_kind kind;
	size_t size;
	int nr_readers;
	bool shipped;
	const char *unit;
	const char *goal;	/* "le 1.00", "ge 1.00", or "info -" */
	const char *what;
};

#define TUNED	false
#define SHIPPED	true

static const struct figure figures[] = {
	{ "handoff-4", FIG_HANDOFF, 4, 1, TUNED, "ns", "le 1.00",
	  "handoff latency, 4-byte message" },
	{ "handoff-512", FIG_HANDOFF, 512, 1, TUNED, "ns", "le 1.00",
	  "handoff latency, 512-byte message" },
	{ "stream-4x1", FIG_STREAM, 4, 1, TUNED, "msg/s", "ge 1.00",
	  "throughput, 4 B, 1 reader, tuned" },
	{ "stream-4x4", FIG_STREAM, 4, 4, TUNED, "msg/s", "ge 1.00",
	  "throughput, 4 B, 4 readers, tuned" },
	{ "stream-512x1", FIG_STREAM, 512, 1, TUNED, "msg/s", "ge 1.00",
	  "throughput, 512 B, 1 reader, tuned" },
	{ "stream-512x4", FIG_STREAM, 512, 4, TUNED, "msg/s", "ge 1.00",
	  "throughput, 512 B, 4 readers, tuned" },
	{ "shipped-4x1", FIG_STREAM, 4, 1, SHIPPED, "msg/s", "ge 1.00",
	  "throughput, 4 B, 1 reader, as shipped" },
	{ "shipped-4x4", FIG_STREAM, 4, 4, SHIPPED, "msg/s", "ge 1.00",
	  "throughput, 4 B, 4 readers, as shipped" },
	{ "shipped-4x8", FIG_STREAM, 4, 8, SHIPPED, "msg/s", "ge 1.00",
	  "throughput, 4 B, 8 readers, as shipped" },
	{ "shipped-512x1", FIG_STREAM, 512, 1, SHIPPED, "msg/s", "ge 1.00",
	  "throughput, 512 B, 1 reader, as shipped" },
	{ "shipped-512x4", FIG_STREAM, 512, 4, SHIPPED, "msg/s", "ge 1.00",
	  "throughput, 512 B, 4 readers, as shipped" },
	{ "shipped-512x8", FIG_STREAM, 512, 8, SHIPPED, "msg/s", "ge 1.00",
	  "throughput, 512 B, 8 readers, as shipped" },
	{ "cancel", FIG_CANCEL, 4, 1, TUNED, "ns", "le 1.00",
	  "cancel latency (signal to EINTR)" },
	{ "write-512", FIG_WRITE, 512, 0, TUNED, "ns", "info -",
	  "one write() of 1000 in a row, 512 B, no reader waiting" },
	{ "read-512", FIG_READ, 512, 0, TUNED, "ns", "info -",
	  "one read() of those 1000, 512 B" },
};

static double measure(const struct figure *f, enum chan_kind kind)
{
	int reader_cpu = f->shipped ? ANY_CPU : READER_CPU;
	struct chan c;
	double v = 0;

	pin(f->shipped ? ANY_CPU : WRITER_CPU);
	chan_open(&c, kind, f->shipped ? 0 : pipe_bytes(TUNED_MSGS, f->size));
	switch (f->kind) {
	case FIG_HANDOFF:
	case FIG_CANCEL:
		v = latency_round(&c, f->size, f->kind == FIG_CANCEL,
				  LATENCY_ITERS, reader_cpu);
		break;
	case FIG_STREAM:
		v = stream_round(&c, f->size, f->nr_readers, reader_cpu);
		break;
	case FIG_WRITE:
	case FIG_READ:
		v = burst_round(&c, f->size, f->kind == FIG_READ);
		break;
	}
	chan_close(&c);
	return v;
}

static void run_figure(const struct figure *f, int rounds)
{
	double v[NR_CHANS][MAX_ROUNDS];
	int round, k;

	for (round = 0; round < rounds; round++) {
		/* Alternate which goes first, so neither always runs warm. */
		for (k = 0; k < NR_CHANS; k++) {
			enum chan_kind kind = (k + round) % NR_CHANS;

			v[kind][round] = measure(f, kind);
		}
		printf("CSQ-BENCH-ROUND %s %d %.0f %.0f\n", f->id, round + 1,
		       v[CHAN_CSQ][round], v[CHAN_PIPE][round]);
		fflush(stdout);
	}
	printf("CSQ-BENCH %s %s %.0f %.0f %s %s\n", f->id, f->unit,
	       median(v[CHAN_CSQ], rounds), median(v[CHAN_PIPE], rounds),
	       f->goal, f->what);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int rounds = ROUNDS_DEFAULT;
	const char *only = NULL;
	size_t i;

	if (argc > 1)
		rounds = atoi(argv[1]);
	if (argc > 2)
		only = argv[2];
	if (rounds < 1 || rounds > MAX_ROUNDS || argc > 3) {
		fprintf(stderr, "usage: %s [ROUNDS (1 to %d) [FIGURE-ID-PREFIX]]\n",
			argv[0], MAX_ROUNDS);
		return 2;
	}
	shipped_capacity = read_param("capacity");
	if (shipped_capacity < 1) {
		fprintf(stderr, "csqdev is not loaded (no %scapacity)\n",
			CSQ_PARAMS);
		return 1;
	}
	nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);

	/* No SA_RESTART: the cancelled read must come back with EINTR. */
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL))
		die("sigaction");

	printf("# csq_bench: %d rounds, %d CPUs, capacity %ld as shipped\n",
	       rounds, nr_cpus, shipped_capacity);
	printf("# %d iterations per latency round, %d messages per stream round\n",
	       LATENCY_ITERS, STREAM_MSGS);
	for (i = 0; i < ARRAY_SIZE(figures); i++)
		if (!only || !strncmp(only, figures[i].id, strlen(only)))
			run_figure(&figures[i], rounds);
	set_capacity(shipped_capacity);
	return 0;
}
