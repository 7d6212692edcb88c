// SPDX-License-Identifier: GPL-2.0
/*
 * csq_demo: the story of /dev/csq in one short transcript.
 *
 * A blocked read is a request parked in a cancel-safe queue.  A write
 * completes it; a signal, close() and CSQ_IOC_CANCEL cancel it.  An aio
 * read is the same request, outliving io_submit(); io_cancel() cancels it.
 * An io_uring READ waits in poll and ASYNC_CANCEL ends it.  Each act waits
 * until the read is really parked (CSQ_IOC_STATS) before it acts, so the
 * transcript is the same on any machine.  Exits 0 if every act ended as
 * the contract says.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <liburing.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/csq.h>

#define CSQ_PATH	"/dev/csq"
#define WAIT_LIMIT_S	60

struct reader {
	pthread_t thread;
	int fd;
	ssize_t ret;
	int err;
	atomic_bool done;
	char buf[CSQ_MSG_MAX + 1];
};

static void on_signal(int sig)
{
	(void)sig;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	r->ret = read(r->fd, r->buf, CSQ_MSG_MAX);
	r->err = r->ret < 0 ? errno : 0;
	if (r->ret >= 0)
		r->buf[r->ret] = '\0';
	atomic_store(&r->done, true);
	return NULL;
}

static int stats(int fd, struct csq_stats *s)
{
	return ioctl(fd, CSQ_IOC_STATS, s);
}

/* Starts a reader on @fd and returns once its read is parked. */
static int reader_start(struct reader *r, int fd)
{
	struct timespec nap = { .tv_nsec = 1000000 };
	time_t end = time(NULL) + WAIT_LIMIT_S;
	struct csq_stats s = { 0 };

	r->fd = fd;
	atomic_store(&r->done, false);
	if (pthread_create(&r->thread, NULL, reader_main, r))
		return -1;
	while (!stats(fd, &s) && s.pending_reads == 0) {
		if (atomic_load(&r->done) || time(NULL) > end)
			break;
		nanosleep(&nap, NULL);
	}
	if (s.pending_reads == 0) {
		fprintf(stderr, "csq_demo: the read did not block\n");
		return -1;
	}
	printf("   reader: read() blocks          pending_reads=%u\n",
	       s.pending_reads);
	return 0;
}

/* Joins the reader and tells whether it ended with @want (0: a message). */
static bool reader_end(struct reader *r, int want)
{
	pthread_join(r->thread, NULL);
	if (r->ret >= 0)
		printf("   reader: read() = %zd \"%s\"\n", r->ret, r->buf);
	else
		printf("   reader: read() = -1 %s (%s)\n",
		       strerrorname_np(r->err), strerror(r->err));
	return r->ret >= 0 ? !want : r->err == want;
}

static bool act_write(int fd)
{
	struct reader r;

	printf("\n1. A read with no message waits as a queued request; a write completes it.\n");
	if (reader_start(&r, fd))
		return false;
	printf("   writer: write(\"hello\") = %zd\n", write(fd, "hello", 5));
	return reader_end(&r, 0);
}

static bool act_signal(int fd)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct reader r;

	printf("\n2. A signal cancels a waiting read (handler without SA_RESTART).\n");
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) || reader_start(&r, fd))
		return false;
	printf("   main:   pthread_kill(reader, SIGUSR1)\n");
	pthread_kill(r.thread, SIGUSR1);
	return reader_end(&r, EINTR);
}

static bool act_close(void)
{
	struct reader r;
	int fd;

	printf("\n3. close() cancels the reads this process made on that open file.\n");
	fd = open(CSQ_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0 || reader_start(&r, fd))
		return false;
	printf("   main:   close(fd)\n");
	close(fd);
	return reader_end(&r, ECANCELED);
}

static bool act_ioctl(int fd)
{
	struct reader r;

	printf("\n4. CSQ_IOC_CANCEL cancels every read on the open file (CancelIo).\n");
	if (reader_start(&r, fd))
		return false;
	printf("   main:   ioctl(CSQ_IOC_CANCEL) = %d\n",
	       ioctl(fd, CSQ_IOC_CANCEL, 0));
	return reader_end(&r, ECANCELED);
}

/* Waits until @n reads are pending; false after WAIT_LIMIT_S. */
static bool wait_pending(int fd, unsigned int n)
{
	struct timespec nap = { .tv_nsec = 1000000 };
	time_t end = time(NULL) + WAIT_LIMIT_S;
	struct csq_stats s = { 0 };

	while (!stats(fd, &s) && s.pending_reads != n && time(NULL) <= end)
		nanosleep(&nap, NULL);
	return s.pending_reads == n;
}

static bool act_aio(int fd)
{
	struct iocb cb[2], *one[1];
	io_context_t ctx = 0;
	char buf[2][64] = { { 0 } };
	struct io_event ev;
	bool ok = true;
	int i;

	printf("\n5. An aio read is a request that outlives io_submit() (STATUS_PENDING).\n");
	if (io_setup(4, &ctx))
		return false;
	for (i = 0; i < 2; i++) {
		io_prep_pread(&cb[i], fd, buf[i], sizeof(buf[i]) - 1, 0);
		one[0] = &cb[i];
		if (io_submit(ctx, 1, one) != 1)
			ok = false;
	}
	ok = ok && wait_pending(fd, 2);
	printf("   main:   io_submit() x2 returned  pending_reads=2\n");
	printf("   main:   io_cancel(second) = %d (EINPROGRESS: the cancel is on its way)\n",
	       io_cancel(ctx, &cb[1], &ev));
	printf("   writer: write(\"async\") = %zd\n", write(fd, "async", 5));
	for (i = 0; i < 2; i++) {
		if (io_getevents(ctx, 1, 1, &ev, NULL) != 1)
			return false;
		if ((long)ev.res >= 0)
			printf("   event:  read %ld \"%s\"\n", (long)ev.res,
			       (char *)((struct iocb *)ev.obj)->u.c.buf);
		else
			printf("   event:  read %s\n", strerrorname_np(-(long)ev.res));
		ok = ok && ((struct iocb *)ev.obj == &cb[0] ?
			    (long)ev.res == 5 : (long)ev.res == -ECANCELED);
	}
	io_destroy(ctx);
	return ok;
}

static bool act_uring(int fd)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe *cqe;
	struct io_uring ring;
	char buf[64] = { 0 };
	bool ok = true;
	int i;

	printf("\n6. An io_uring READ tries without blocking, then waits in poll: no thread.\n");
	if (io_uring_queue_init(8, &ring, 0))
		return false;
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_read(sqe, fd, buf, sizeof(buf) - 1, -1);
	sqe->user_data = 1;
	io_uring_submit(&ring);
	printf("   main:   READ submitted, then ASYNC_CANCEL of it\n");
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_cancel64(sqe, 1, 0);
	sqe->user_data = 2;
	io_uring_submit(&ring);
	for (i = 0; i < 2; i++) {
		if (io_uring_wait_cqe(&ring, &cqe))
			return false;
		printf("   cqe:    %s = %d%s\n",
		       cqe->user_data == 1 ? "READ" : "ASYNC_CANCEL", cqe->res,
		       cqe->res == -ECANCELED ? " (ECANCELED)" : "");
		ok = ok && cqe->res == (cqe->user_data == 1 ? -ECANCELED : 0);
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	return ok;
}

int main(void)
{
	struct csq_stats s;
	bool ok;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = open(CSQ_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("csq_demo: " CSQ_PATH);
		return 1;
	}
	printf("csq_demo: blocking reads on %s are cancel-safe queued requests\n",
	       CSQ_PATH);
	ok = act_write(fd);
	ok = act_signal(fd) && ok;
	ok = act_close() && ok;
	ok = act_ioctl(fd) && ok;
	ok = act_aio(fd) && ok;
	ok = act_uring(fd) && ok;

	printf("\n7. What the device counted (CSQ_IOC_STATS, since load).\n");
	if (stats(fd, &s)) {
		perror("csq_demo: CSQ_IOC_STATS");
		return 1;
	}
	printf("   pending_reads=%u queued_msgs=%u completed=%llu canceled=%llu interrupted=%llu\n",
	       s.pending_reads, s.queued_msgs,
	       (unsigned long long)s.completed,
	       (unsigned long long)s.canceled,
	       (unsigned long long)s.interrupted);
	close(fd);
	printf("\ncsq_demo: %s\n", ok ? "every read ended as the contract says" :
					"UNEXPECTED ENDING, see above");
	return ok ? 0 : 1;
}
