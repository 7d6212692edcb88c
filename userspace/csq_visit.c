// SPDX-License-Identifier: GPL-2.0
/*
 * csq_visit: readers come and go, and leave the device busy behind them.
 *
 * One short visit of /dev/csq for the load/unload job: reads parked and
 * then ended by each cause (a write, a signal, CSQ_IOC_CANCEL, close(), the
 * SIGKILL of a child), then messages left in the backlog and the timer
 * producer left running, and exit without cleaning up.  The rmmod that
 * follows must still find nothing parked and free everything.  Exits 0 if
 * every read ended as the contract says.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/csq.h>

#define CSQ_PATH	"/dev/csq"
#define WAIT_LIMIT_S	60
#define NAP_NS		1000000L
#define LEFT_BEHIND	8
#define PRODUCER_HZ	1000

struct reader {
	pthread_t thread;
	int fd;
	ssize_t ret;
	int err;
	char buf[CSQ_MSG_MAX];
};

static int ctl_fd;

static void on_signal(int sig)
{
	(void)sig;
}

static void *reader_main(void *arg)
{
	struct reader *r = arg;

	r->ret = read(r->fd, r->buf, sizeof(r->buf));
	r->err = r->ret < 0 ? errno : 0;
	return NULL;
}

static unsigned int pending(void)
{
	struct csq_stats s;

	return ioctl(ctl_fd, CSQ_IOC_STATS, &s) ? ~0U : s.pending_reads;
}

/* Waits until @n reads are parked; false if they never are. */
static bool parked(unsigned int n)
{
	struct timespec nap = { .tv_nsec = NAP_NS };
	time_t end = time(NULL) + WAIT_LIMIT_S;

	while (pending() != n) {
		if (time(NULL) > end)
			return false;
		nanosleep(&nap, NULL);
	}
	return true;
}

static bool park(struct reader *r, int fd, unsigned int n)
{
	r->fd = fd;
	return !pthread_create(&r->thread, NULL, reader_main, r) && parked(n);
}

static bool ended(struct reader *r, ssize_t ret, int err, const char *how)
{
	pthread_join(r->thread, NULL);
	if (r->ret == ret && r->err == err)
		return true;
	fprintf(stderr, "csq_visit: the read stopped by %s returned %zd (%s)\n",
		how, r->ret, strerror(r->err));
	return false;
}

/* A child parks a read on @fd and is killed with it parked. */
static bool kill_a_reader(int fd, unsigned int n)
{
	int status;
	char c;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return false;
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(read(fd, &c, 1) < 0 ? 1 : 2);
	}
	if (!parked(n))
		return false;
	kill(pid, SIGKILL);
	return waitpid(pid, &status, 0) == pid && WIFSIGNALED(status) &&
	       parked(n - 1);
}

static int failed(const char *what)
{
	fprintf(stderr, "csq_visit: %s did not go as the contract says\n", what);
	return 1;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct csq_producer prod = { .rate_hz = PRODUCER_HZ };
	static char big[CSQ_MSG_MAX];
	static struct reader r[5];
	int a, b, i;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	ctl_fd = open(CSQ_PATH, O_RDWR);
	a = open(CSQ_PATH, O_RDWR);
	b = open(CSQ_PATH, O_RDWR);
	if (ctl_fd < 0 || a < 0 || b < 0) {
		perror("csq_visit: open " CSQ_PATH);
		return 1;
	}

	if (!park(&r[0], a, 1) || !park(&r[1], a, 2) ||
	    !park(&r[2], b, 3) || !park(&r[3], b, 4))
		return failed("parking four reads");
	if (write(ctl_fd, "m", 1) != 1 || !ended(&r[0], 1, 0, "a write"))
		return failed("a write");
	if (pthread_kill(r[1].thread, SIGUSR1) ||
	    !ended(&r[1], -1, EINTR, "a signal"))
		return failed("a signal");
	if (ioctl(b, CSQ_IOC_CANCEL, 0) != 2 ||
	    !ended(&r[2], -1, ECANCELED, "CSQ_IOC_CANCEL") ||
	    !ended(&r[3], -1, ECANCELED, "CSQ_IOC_CANCEL"))
		return failed("CSQ_IOC_CANCEL");
	if (!kill_a_reader(a, 1))
		return failed("SIGKILL");
	if (!park(&r[4], a, 1) || close(a) ||
	    !ended(&r[4], -1, ECANCELED, "close()"))
		return failed("close()");

	/* Left behind: kept messages, short and long, and a ticking timer. */
	memset(big, 'x', sizeof(big));
	for (i = 0; i < LEFT_BEHIND; i++)
		if (write(b, big, i % 2 ? sizeof(big) : 1) <= 0)
			return failed("a write to the backlog");
	if (ioctl(b, CSQ_IOC_PRODUCER, &prod))
		return failed("starting the producer");
	return 0;
}
