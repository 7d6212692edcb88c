/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the /dev/csq test programs share: the device's paths, waiting for
 * the device to reach a state without fixed delays, and its ioctls.
 */
#ifndef _CSQ_TEST_H
#define _CSQ_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/csq.h>

#define CSQ_PATH	"/dev/csq"
#define CSQ_PARAMS	"/sys/module/csqdev/parameters/"

/* How long a case waits for the device to reach a state before failing. */
#define WAIT_LIMIT_S	60
#define NAP_NS		1000000L

/* A blocking case may wait up to WAIT_LIMIT_S several times. */
#define SLOW_CASE_S	240

static inline void nap(void)
{
	struct timespec ts = { .tv_nsec = NAP_NS };

	nanosleep(&ts, NULL);
}

static inline time_t now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Evaluates @cond until it holds or WAIT_LIMIT_S pass; yields the verdict. */
#define WAIT_FOR(cond)						\
({								\
	time_t __end = now_s() + WAIT_LIMIT_S;			\
	bool __ok;						\
								\
	while (!(__ok = (cond)) && now_s() < __end)		\
		nap();						\
	__ok;							\
})

static inline int open_csq(int flags)
{
	return open(CSQ_PATH, O_RDWR | O_CLOEXEC | flags);
}

/* On failure every field reads as all ones, which no case expects. */
static inline struct csq_stats stats_of(int fd)
{
	struct csq_stats s;

	if (ioctl(fd, CSQ_IOC_STATS, &s))
		memset(&s, 0xff, sizeof(s));
	return s;
}

/* The small counters, as plain ints for the comparisons of the cases. */
static inline int pending_reads(int fd)
{
	return stats_of(fd).pending_reads;
}

static inline int queued_msgs(int fd)
{
	return stats_of(fd).queued_msgs;
}

/* Reads a small file (sysfs, procfs) into @buf as a string. */
static inline ssize_t read_text(const char *path, char *buf, size_t size)
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

/* The number in a small file (sysfs, debugfs), Y/N as 1/0; -1 if none. */
static inline long read_number(const char *path)
{
	char buf[32];

	if (read_text(path, buf, sizeof(buf)) <= 0)
		return -1;
	if (buf[0] == 'Y' || buf[0] == 'N')
		return buf[0] == 'Y';
	return strtol(buf, NULL, 10);
}

/* Writes @value to a small file (sysfs, debugfs); 0 or -1. */
static inline int write_number(const char *path, long value)
{
	int fd, len, ret = 0;
	char buf[32];

	len = snprintf(buf, sizeof(buf), "%ld", value);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (write(fd, buf, len) != len)
		ret = -1;
	close(fd);
	return ret;
}

/* A parameter of module @mod, or -1 if it cannot be read. */
static inline long read_module_param(const char *mod, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mod, name);
	return read_number(path);
}

/* Sets a parameter of module @mod; 0 or -1. */
static inline int write_module_param(const char *mod, const char *name,
				     long value)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", mod, name);
	return write_number(path, value);
}

/* A module parameter of csqdev, or -1 if it cannot be read. */
static inline long read_param(const char *name)
{
	return read_module_param("csqdev", name);
}

/* Sets a module parameter of csqdev; 0 or -1. */
static inline int write_param(const char *name, long value)
{
	return write_module_param("csqdev", name, value);
}

/*
 * Whether the running kernel can cancel uring commands at ring exit
 * (6.7 on), which csqdev needs to take them at all.
 */
static inline bool kernel_cancels_uring_cmds(void)
{
	struct utsname u;
	int major, minor;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 7);
}

static inline ssize_t send_str(int fd, const char *s)
{
	return write(fd, s, strlen(s));
}

/* Reads one message into @buf as a string; returns its length or -1. */
static inline ssize_t recv_str(int fd, char *buf, size_t size)
{
	ssize_t n = read(fd, buf, size - 1);

	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static inline int set_producer(int fd, __u32 rate_hz)
{
	struct csq_producer p = { .rate_hz = rate_hz };

	return ioctl(fd, CSQ_IOC_PRODUCER, &p);
}

/* Reads every kept message; returns how many, or -1 on an error. */
static inline int drain(void)
{
	char buf[CSQ_MSG_MAX];
	int fd, n = 0;

	fd = open_csq(O_NONBLOCK);
	if (fd < 0)
		return -1;
	while (read(fd, buf, sizeof(buf)) > 0)
		n++;
	if (errno != EAGAIN)
		n = -1;
	close(fd);
	return n;
}

#endif /* _CSQ_TEST_H */
