/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the kselftest cases of /dev/csq share: system calls made by a
 * thread of the test, watched from /proc, and the quiet device every case
 * starts from.  Included after kselftest_harness.h.
 */
#ifndef _CSQ_CALL_H
#define _CSQ_CALL_H

#include <pthread.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/csq.h>

#include "csq_test.h"

/*
 * Whether thread @tid is asleep inside syscall @nr or @nr2: in state S, or
 * with @or_d also in state D (an uninterruptible sleep).
 */
static inline bool asleep_in(pid_t tid, long nr, long nr2, bool or_d)
{
	char path[64], buf[512], *p, *end;
	long seen;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return false;
	p = strrchr(buf, ')');
	if (!p || (strncmp(p, ") S", 3) && !(or_d && !strncmp(p, ") D", 3))))
		return false;
	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return false;
	/* "running" when not blocked: no number there. */
	seen = strtol(buf, &end, 10);
	if (end == buf)
		return false;
	return seen == nr || seen == nr2;
}

/* Whether thread @tid is asleep (state S) inside syscall @nr or @nr2. */
static inline bool sleeps_in(pid_t tid, long nr, long nr2)
{
	return asleep_in(tid, nr, nr2, false);
}

/* The number of a producer message "tick N", or 0 if it is not one. */
static inline unsigned long long tick_of(const char *msg)
{
	unsigned long long tick;

	if (sscanf(msg, "tick %llu", &tick) != 1)
		return 0;
	return tick;
}

static inline bool have_proc(void)
{
	return access("/proc/self/task", F_OK) == 0;
}

/* One system call on the device, made by a thread of the test. */
enum call_kind { CALL_READ, CALL_WRITE, CALL_POLL };

struct call {
	enum call_kind kind;
	int fd;
	void *buf;
	size_t len;
	short events;
	ssize_t ret;
	int err;
	short revents;
	atomic_int tid;
	atomic_bool done;
	pthread_t thread;
	char data[CSQ_MSG_MAX + 1];
};

static inline void *call_main(void *arg)
{
	struct call *c = arg;
	struct pollfd pfd = { .fd = c->fd, .events = c->events };

	atomic_store(&c->tid, gettid());
	switch (c->kind) {
	case CALL_READ:
		c->ret = read(c->fd, c->buf, c->len);
		break;
	case CALL_WRITE:
		c->ret = write(c->fd, c->buf, c->len);
		break;
	case CALL_POLL:
		c->ret = poll(&pfd, 1, -1);
		c->revents = pfd.revents;
		break;
	}
	c->err = c->ret < 0 ? errno : 0;
	if (c->kind == CALL_READ && c->ret >= 0 && c->buf == c->data)
		c->data[c->ret] = '\0';
	atomic_store(&c->done, true);
	return NULL;
}

static inline int call_start(struct call *c)
{
	atomic_store(&c->done, false);
	atomic_store(&c->tid, 0);
	if (pthread_create(&c->thread, NULL, call_main, c))
		return -1;
	return WAIT_FOR(atomic_load(&c->tid)) ? 0 : -1;
}

/* A read of up to @len bytes (into @buf, or c->data if NULL). */
static inline int start_read(struct call *c, int fd, void *buf, size_t len)
{
	c->kind = CALL_READ;
	c->fd = fd;
	c->buf = buf ? buf : c->data;
	c->len = len;
	return call_start(c);
}

static inline int start_write(struct call *c, int fd, const char *msg)
{
	c->kind = CALL_WRITE;
	c->fd = fd;
	c->len = strlen(msg);
	memcpy(c->data, msg, c->len);
	c->buf = c->data;
	return call_start(c);
}

static inline int start_poll(struct call *c, int fd, short events)
{
	c->kind = CALL_POLL;
	c->fd = fd;
	c->events = events;
	return call_start(c);
}

static inline bool call_done(struct call *c)
{
	return atomic_load(&c->done);
}

static inline int call_join(struct call *c)
{
	return pthread_join(c->thread, NULL);
}

/* Whether a finished read returned exactly the message @s. */
static inline bool got(struct call *c, const char *s)
{
	return c->ret == (ssize_t)strlen(s) && !memcmp(c->data, s, c->ret);
}

static inline void quiet_device(struct __test_metadata *_metadata, int *fd)
{
	*fd = open_csq(0);
	ASSERT_LE(0, *fd) TH_LOG("open %s: %s (is csqdev loaded?)",
				 CSQ_PATH, strerror(errno));
	ASSERT_EQ(0, set_producer(*fd, 0));
	/* Processes of an earlier case may still be on their way out. */
	ASSERT_TRUE(WAIT_FOR(pending_reads(*fd) == 0));
	ASSERT_LE(0, drain());
	ASSERT_EQ(0, queued_msgs(*fd));
	ASSERT_EQ(0, read_param("capacity") % CSQ_MSG_MAX)
		TH_LOG("cases need a capacity of whole CSQ_MSG_MAX messages");
	ASSERT_LE(4, read_param("capacity") / CSQ_MSG_MAX)
		TH_LOG("cases need room for 4 messages of CSQ_MSG_MAX bytes");
}

static inline long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Waits at most @ms milliseconds for @c to return; whether it did. */
static inline bool call_done_within(struct call *c, long long ms)
{
	long long end = now_ms() + ms;

	while (!call_done(c) && now_ms() < end)
		nap();
	return call_done(c);
}

#endif /* _CSQ_CALL_H */
