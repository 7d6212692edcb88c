// SPDX-License-Identifier: GPL-2.0
/*
 * csqctl: drive /dev/csq from a shell.
 *
 * CSQ_IOC_CANCEL acts on one open file, so `cancel` is useful on a file
 * that a blocked `recv` shares; -f uses a descriptor the shell opened:
 *
 *	exec 3<>/dev/csq
 *	csqctl -f 3 recv &
 *	csqctl -f 3 cancel
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/csq.h>

#define CSQ_PATH	"/dev/csq"

static const char usage[] =
	"usage: csqctl [-d DEVICE] [-f FD] [-n] COMMAND [ARG...]\n"
	"\n"
	"  send MESSAGE...  write each MESSAGE as one message\n"
	"  recv [COUNT]     read COUNT messages (default 1), one per line\n"
	"  stats            print the device counters (CSQ_IOC_STATS)\n"
	"  cancel           cancel the reads on this open file (CSQ_IOC_CANCEL)\n"
	"  producer HZ      run the timer producer at HZ messages/s, 0 stops it\n"
	"\n"
	"  -d DEVICE        the device node (default " CSQ_PATH ")\n"
	"  -f FD            use the open descriptor FD instead of opening DEVICE\n"
	"  -n               open non-blocking: EAGAIN instead of waiting\n";

static int fail(const char *what)
{
	fprintf(stderr, "csqctl: %s: %s\n", what, strerror(errno));
	return 1;
}

static int parse_uint(const char *s, unsigned int *val)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > 0xffffffffUL) {
		fprintf(stderr, "csqctl: not a number: %s\n", s);
		return -1;
	}
	*val = v;
	return 0;
}

static int cmd_send(int fd, int argc, char **argv)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (write(fd, argv[i], strlen(argv[i])) < 0)
			return fail("send");
	}
	return 0;
}

static int cmd_recv(int fd, int argc, char **argv)
{
	static char buf[CSQ_MSG_MAX];
	unsigned int count = 1, i;
	ssize_t n;

	if (argc > 1 || (argc == 1 && parse_uint(argv[0], &count)))
		return 2;
	for (i = 0; i < count; i++) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0)
			return fail("recv");
		fwrite(buf, 1, n, stdout);
		putchar('\n');
		fflush(stdout);
	}
	return 0;
}

static int cmd_stats(int fd)
{
	struct csq_stats s;

	if (ioctl(fd, CSQ_IOC_STATS, &s))
		return fail("stats");
	printf("pending_reads %u\nqueued_msgs %u\ncompleted %llu\n"
	       "canceled %llu\ninterrupted %llu\n",
	       s.pending_reads, s.queued_msgs,
	       (unsigned long long)s.completed,
	       (unsigned long long)s.canceled,
	       (unsigned long long)s.interrupted);
	return 0;
}

static int cmd_cancel(int fd)
{
	int n = ioctl(fd, CSQ_IOC_CANCEL, 0);

	if (n < 0)
		return fail("cancel");
	printf("cancelled %d\n", n);
	return 0;
}

static int cmd_producer(int fd, int argc, char **argv)
{
	struct csq_producer p = { 0 };

	if (argc != 1 || parse_uint(argv[0], &p.rate_hz))
		return 2;
	if (ioctl(fd, CSQ_IOC_PRODUCER, &p))
		return fail("producer");
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = CSQ_PATH, *cmd;
	int opt, fd = -1, flags = O_RDWR | O_CLOEXEC, ret;
	unsigned int ufd;

	while ((opt = getopt(argc, argv, "+d:f:nh")) != -1) {
		switch (opt) {
		case 'd':
			path = optarg;
			break;
		case 'f':
			if (parse_uint(optarg, &ufd))
				return 2;
			fd = ufd;
			break;
		case 'n':
			flags |= O_NONBLOCK;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fputs(usage, stderr);
		return 2;
	}
	cmd = argv[optind++];
	argc -= optind;
	argv += optind;

	if (fd < 0) {
		fd = open(path, flags);
		if (fd < 0)
			return fail(path);
	} else if (flags & O_NONBLOCK) {
		/* Setting it would change the file for everyone sharing it. */
		fputs("csqctl: -n applies to a file csqctl opens, not to -f\n",
		      stderr);
		return 2;
	}

	if (!strcmp(cmd, "send") && argc)
		ret = cmd_send(fd, argc, argv);
	else if (!strcmp(cmd, "recv"))
		ret = cmd_recv(fd, argc, argv);
	else if (!strcmp(cmd, "stats") && !argc)
		ret = cmd_stats(fd);
	else if (!strcmp(cmd, "cancel") && !argc)
		ret = cmd_cancel(fd);
	else if (!strcmp(cmd, "producer"))
		ret = cmd_producer(fd, argc, argv);
	else
		ret = 2;
	if (ret == 2)
		fputs(usage, stderr);
	return ret;
}
