// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/csq against hostile callers: bad buffers and lengths, bad ioctls,
 * descriptors closed under a read, processes that die or fork, signal
 * storms and rmmod attempts while reads sleep.
 *
 * The buffer, length and ioctl cases are tables (fixture variants), each
 * row with the outcome it expects: the return value, the errno, and what
 * is left in the stream.  Every case starts and ends with a quiet device,
 * and checks that no message was lost, duplicated or consumed by a call
 * that failed.  Leaks and kernel splats are judged by the guest (kmemleak,
 * KASAN, lockdep on the console).
 *
 * Waits are for states seen in CSQ_IOC_STATS or /proc, never fixed delays.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
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

#include "csq_test.h"

/* Addresses no user buffer can have: kernel text, and non-canonical. */
#define KERNEL_ADDR	((void *)0xffffffff81000000UL)
#define NONCANON_ADDR	((void *)0x8000000000000000UL)

/* A buffer whose last EDGE_OK bytes are mapped, then a hole. */
#define EDGE_OK		4

#define STORM_MSGS	200
#define STORM_GAP_NS	50000L
#define SHARE_MSGS	200
#define CLOSE_ROUNDS	50
#define RMMOD_ROUNDS	100

/* The bytes of every message and buffer of the tables: a known pattern. */
static void fill_pattern(char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = 'a' + i % 26;
}

static bool is_pattern(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != 'a' + (char)(i % 26))
			return false;
	return true;
}

static void quiet_device(struct __test_metadata *_metadata, int *fd)
{
	*fd = open_csq(0);
	ASSERT_LE(0, *fd) TH_LOG("open %s: %s (is csqdev loaded?)",
				 CSQ_PATH, strerror(errno));
	ASSERT_EQ(0, set_producer(*fd, 0));
	/* Processes of an earlier case may still be on their way out. */
	ASSERT_TRUE(WAIT_FOR(pending_reads(*fd) == 0));
	ASSERT_LE(0, drain());
	ASSERT_EQ(0, queued_msgs(*fd));
}

/* What every case must leave: no read parked, nothing kept. */
static void still_quiet(struct __test_metadata *_metadata, int fd)
{
	EXPECT_TRUE(WAIT_FOR(pending_reads(fd) == 0));
	EXPECT_EQ(0, queued_msgs(fd));
	EXPECT_EQ(0, read_param("producer_hz"));
}

/* One read, made by a thread of the test so that it may block. */
struct call {
	pthread_t thread;
	int fd;
	void *buf;
	size_t len;
	ssize_t ret;
	int err;
	atomic_bool done;
};

static void *call_read(void *arg)
{
	struct call *c = arg;

	c->ret = read(c->fd, c->buf, c->len);
	c->err = c->ret < 0 ? errno : 0;
	atomic_store(&c->done, true);
	return NULL;
}

static int start_read(struct call *c, int fd, void *buf, size_t len)
{
	c->fd = fd;
	c->buf = buf;
	c->len = len;
	atomic_store(&c->done, false);
	return pthread_create(&c->thread, NULL, call_read, c);
}

/* Where a table row points the call. */
enum buf_kind {
	BUF_GOOD,		/* a private, writable buffer of the pattern */
	BUF_NULL,
	BUF_PROT_NONE,		/* mapped, no access */
	BUF_HOLE,		/* nothing mapped there */
	BUF_READONLY,		/* a read-only page of the pattern */
	BUF_KERNEL,
	BUF_NONCANON,
	BUF_EDGE,		/* EDGE_OK good bytes, then a hole */
};

struct buffers {
	char *good;
	char *prot_none;
	char *hole;
	char *readonly;
	char *edge;
};

/* Page 0 read-only, page 1 no access, page 2 writable, page 3 a hole. */
static int map_buffers(struct buffers *b, bool zero_readonly)
{
	long page = getpagesize();
	char *p;

	b->good = malloc(CSQ_MSG_MAX + 1);
	p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!b->good || p == MAP_FAILED)
		return -1;
	fill_pattern(b->good, CSQ_MSG_MAX + 1);
	if (!zero_readonly)
		fill_pattern(p, page);
	if (mprotect(p, page, PROT_READ) ||
	    mprotect(p + page, page, PROT_NONE) ||
	    munmap(p + 3 * page, page))
		return -1;
	b->readonly = p;
	b->prot_none = p + page;
	b->edge = p + 3 * page - EDGE_OK;
	b->hole = p + 3 * page;
	return 0;
}

static void *buffer(const struct buffers *b, enum buf_kind kind)
{
	switch (kind) {
	case BUF_GOOD:
		return b->good;
	case BUF_NULL:
		return NULL;
	case BUF_PROT_NONE:
		return b->prot_none;
	case BUF_HOLE:
		return b->hole;
	case BUF_READONLY:
		return b->readonly;
	case BUF_KERNEL:
		return KERNEL_ADDR;
	case BUF_NONCANON:
		return NONCANON_ADDR;
	case BUF_EDGE:
		return b->edge;
	}
	return NULL;
}

/*
 * The buffer and length table.  A read row first keeps a message of
 * msg_len bytes of the pattern (or, if parked, hands it to the read once
 * the read is parked); "kept" says it must still be first in the stream
 * afterwards.  A write row says in "kept" whether its message is queued.
 */
enum op { OP_READ, OP_WRITE };

FIXTURE(rw) {
	int fd;
	struct buffers b;
};

FIXTURE_VARIANT(rw) {
	enum op op;
	enum buf_kind buf;
	size_t len;
	size_t msg_len;
	bool parked;
	ssize_t ret;
	int err;
	bool kept;
};

FIXTURE_VARIANT_ADD(rw, read_null_efault_kept) {
	.op = OP_READ, .buf = BUF_NULL, .len = 16, .msg_len = 8,
	.ret = -1, .err = EFAULT, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, read_prot_none_efault_kept) {
	.op = OP_READ, .buf = BUF_PROT_NONE, .len = 16, .msg_len = 8,
	.ret = -1, .err = EFAULT, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, read_unmapped_efault_kept) {
	.op = OP_READ, .buf = BUF_HOLE, .len = 16, .msg_len = 8,
	.ret = -1, .err = EFAULT, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, read_readonly_efault_kept) {
	.op = OP_READ, .buf = BUF_READONLY, .len = 16, .msg_len = 8,
	.ret = -1, .err = EFAULT, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, read_kernel_address_efault_kept) {
	.op = OP_READ, .buf = BUF_KERNEL, .len = 16, .msg_len = 8,
	.ret = -1, .err = EFAULT, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, read_noncanonical_efault_kept) {
	.op = OP_READ, .buf = BUF_NONCANON, .len = 16, .msg_len = 8,
	.ret = -1, .err = EFAULT, .kept = true,
};

/* Half the message would fit: a partial copy must not consume it. */
FIXTURE_VARIANT_ADD(rw, read_across_end_of_mapping_efault_kept) {
	.op = OP_READ, .buf = BUF_EDGE, .len = 16, .msg_len = 8,
	.ret = -1, .err = EFAULT, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, read_0_returns_0_kept) {
	.op = OP_READ, .buf = BUF_GOOD, .len = 0, .msg_len = 8,
	.ret = 0, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, read_0_into_null_returns_0_kept) {
	.op = OP_READ, .buf = BUF_NULL, .len = 0, .msg_len = 8,
	.ret = 0, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, read_1_of_1_byte_message_returns_1) {
	.op = OP_READ, .buf = BUF_GOOD, .len = 1, .msg_len = 1,
	.ret = 1, .kept = false,
};

FIXTURE_VARIANT_ADD(rw, read_1_of_2_byte_message_emsgsize_kept) {
	.op = OP_READ, .buf = BUF_GOOD, .len = 1, .msg_len = 2,
	.ret = -1, .err = EMSGSIZE, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, read_msg_max_of_msg_max_returns_msg_max) {
	.op = OP_READ, .buf = BUF_GOOD, .len = CSQ_MSG_MAX,
	.msg_len = CSQ_MSG_MAX, .ret = CSQ_MSG_MAX, .kept = false,
};

FIXTURE_VARIANT_ADD(rw, read_msg_max_minus_1_of_msg_max_emsgsize_kept) {
	.op = OP_READ, .buf = BUF_GOOD, .len = CSQ_MSG_MAX - 1,
	.msg_len = CSQ_MSG_MAX, .ret = -1, .err = EMSGSIZE, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, read_msg_max_plus_1_returns_message) {
	.op = OP_READ, .buf = BUF_GOOD, .len = CSQ_MSG_MAX + 1,
	.msg_len = CSQ_MSG_MAX, .ret = CSQ_MSG_MAX, .kept = false,
};

/* The VFS refuses a range that wraps before the driver sees it. */
FIXTURE_VARIANT_ADD(rw, read_size_max_efault_kept) {
	.op = OP_READ, .buf = BUF_GOOD, .len = SIZE_MAX, .msg_len = 8,
	.ret = -1, .err = EFAULT, .kept = true,
};

/* The same bad buffers for a read that was parked when the message came. */
FIXTURE_VARIANT_ADD(rw, parked_read_null_efault_kept) {
	.op = OP_READ, .buf = BUF_NULL, .len = 16, .msg_len = 8,
	.parked = true, .ret = -1, .err = EFAULT, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, parked_read_unmapped_efault_kept) {
	.op = OP_READ, .buf = BUF_HOLE, .len = 16, .msg_len = 8,
	.parked = true, .ret = -1, .err = EFAULT, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, parked_read_readonly_efault_kept) {
	.op = OP_READ, .buf = BUF_READONLY, .len = 16, .msg_len = 8,
	.parked = true, .ret = -1, .err = EFAULT, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, parked_read_across_end_of_mapping_efault_kept) {
	.op = OP_READ, .buf = BUF_EDGE, .len = 16, .msg_len = 8,
	.parked = true, .ret = -1, .err = EFAULT, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, parked_read_1_of_2_byte_message_emsgsize_kept) {
	.op = OP_READ, .buf = BUF_GOOD, .len = 1, .msg_len = 2,
	.parked = true, .ret = -1, .err = EMSGSIZE, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, parked_read_msg_max_returns_msg_max) {
	.op = OP_READ, .buf = BUF_GOOD, .len = CSQ_MSG_MAX,
	.msg_len = CSQ_MSG_MAX, .parked = true, .ret = CSQ_MSG_MAX,
	.kept = false,
};

FIXTURE_VARIANT_ADD(rw, write_null_efault_nothing_queued) {
	.op = OP_WRITE, .buf = BUF_NULL, .len = 16,
	.ret = -1, .err = EFAULT, .kept = false,
};

FIXTURE_VARIANT_ADD(rw, write_prot_none_efault_nothing_queued) {
	.op = OP_WRITE, .buf = BUF_PROT_NONE, .len = 16,
	.ret = -1, .err = EFAULT, .kept = false,
};

FIXTURE_VARIANT_ADD(rw, write_unmapped_efault_nothing_queued) {
	.op = OP_WRITE, .buf = BUF_HOLE, .len = 16,
	.ret = -1, .err = EFAULT, .kept = false,
};

/* Reading from read-only memory is what a write does: fine. */
FIXTURE_VARIANT_ADD(rw, write_readonly_returns_n_queued) {
	.op = OP_WRITE, .buf = BUF_READONLY, .len = 16,
	.ret = 16, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, write_kernel_address_efault_nothing_queued) {
	.op = OP_WRITE, .buf = BUF_KERNEL, .len = 16,
	.ret = -1, .err = EFAULT, .kept = false,
};

FIXTURE_VARIANT_ADD(rw, write_noncanonical_efault_nothing_queued) {
	.op = OP_WRITE, .buf = BUF_NONCANON, .len = 16,
	.ret = -1, .err = EFAULT, .kept = false,
};

FIXTURE_VARIANT_ADD(rw, write_across_end_of_mapping_efault_nothing_queued) {
	.op = OP_WRITE, .buf = BUF_EDGE, .len = 16,
	.ret = -1, .err = EFAULT, .kept = false,
};

FIXTURE_VARIANT_ADD(rw, write_0_returns_0_nothing_queued) {
	.op = OP_WRITE, .buf = BUF_GOOD, .len = 0,
	.ret = 0, .kept = false,
};

FIXTURE_VARIANT_ADD(rw, write_0_from_null_returns_0_nothing_queued) {
	.op = OP_WRITE, .buf = BUF_NULL, .len = 0,
	.ret = 0, .kept = false,
};

FIXTURE_VARIANT_ADD(rw, write_1_returns_1_queued) {
	.op = OP_WRITE, .buf = BUF_GOOD, .len = 1,
	.ret = 1, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, write_msg_max_returns_msg_max_queued) {
	.op = OP_WRITE, .buf = BUF_GOOD, .len = CSQ_MSG_MAX,
	.ret = CSQ_MSG_MAX, .kept = true,
};

FIXTURE_VARIANT_ADD(rw, write_msg_max_plus_1_emsgsize_nothing_queued) {
	.op = OP_WRITE, .buf = BUF_GOOD, .len = CSQ_MSG_MAX + 1,
	.ret = -1, .err = EMSGSIZE, .kept = false,
};

/* The length is refused before the bad buffer is looked at. */
FIXTURE_VARIANT_ADD(rw, write_msg_max_plus_1_from_null_emsgsize_nothing_queued) {
	.op = OP_WRITE, .buf = BUF_NULL, .len = CSQ_MSG_MAX + 1,
	.ret = -1, .err = EMSGSIZE, .kept = false,
};

FIXTURE_VARIANT_ADD(rw, write_size_max_efault_nothing_queued) {
	.op = OP_WRITE, .buf = BUF_GOOD, .len = SIZE_MAX,
	.ret = -1, .err = EFAULT, .kept = false,
};

FIXTURE_SETUP(rw)
{
	quiet_device(_metadata, &self->fd);
	ASSERT_EQ(0, map_buffers(&self->b, false));
}

FIXTURE_TEARDOWN(rw)
{
	still_quiet(_metadata, self->fd);
	close(self->fd);
}

TEST_F_TIMEOUT(rw, ends_as_the_table_says, SLOW_CASE_S)
{
	char *buf = buffer(&self->b, variant->buf);
	char back[CSQ_MSG_MAX + 1];
	struct csq_stats before, after;
	struct call c = { 0 };
	ssize_t ret, n;
	int err;

	before = stats_of(self->fd);
	if (variant->op == OP_WRITE) {
		ret = write(self->fd, buf, variant->len);
		err = errno;
	} else if (!variant->parked) {
		ASSERT_EQ((ssize_t)variant->msg_len,
			  write(self->fd, self->b.good, variant->msg_len));
		ret = read(self->fd, buf, variant->len);
		err = errno;
	} else {
		ASSERT_EQ(0, start_read(&c, self->fd, buf, variant->len));
		ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
		ASSERT_EQ((ssize_t)variant->msg_len,
			  write(self->fd, self->b.good, variant->msg_len));
		ASSERT_EQ(0, pthread_join(c.thread, NULL));
		ret = c.ret;
		err = c.err;
	}

	ASSERT_EQ(variant->ret, ret);
	if (ret < 0)
		ASSERT_EQ(variant->err, err) TH_LOG("errno %s", strerror(err));
	if (variant->op == OP_READ && ret > 0)
		ASSERT_TRUE(is_pattern(buf, ret));

	after = stats_of(self->fd);
	ASSERT_EQ(0U, after.pending_reads);
	ASSERT_EQ(variant->kept ? 1U : 0U, after.queued_msgs);
	ASSERT_EQ(before.completed + (variant->op == OP_READ && ret > 0),
		  after.completed);
	ASSERT_EQ(before.canceled, after.canceled);
	ASSERT_EQ(before.interrupted, after.interrupted);
	if (!variant->kept)
		return;

	/* What is kept is whole and intact: the read's, or the write's. */
	n = read(self->fd, back, sizeof(back));
	ASSERT_EQ((ssize_t)(variant->op == OP_READ ? variant->msg_len :
			    variant->len), n);
	ASSERT_TRUE(is_pattern(back, n));
}

/* The ioctl table: the device is unchanged after every row. */
FIXTURE(ioc) {
	int fd;
	struct buffers b;
};

FIXTURE_VARIANT(ioc) {
	unsigned int cmd;
	enum buf_kind arg;
	int ret;
	int err;
};

FIXTURE_VARIANT_ADD(ioc, unknown_number_enotty) {
	.cmd = _IO(CSQ_IOC_MAGIC, 0x7f), .arg = BUF_GOOD,
	.ret = -1, .err = ENOTTY,
};

FIXTURE_VARIANT_ADD(ioc, number_0_enotty) {
	.cmd = 0, .arg = BUF_GOOD, .ret = -1, .err = ENOTTY,
};

FIXTURE_VARIANT_ADD(ioc, other_magic_same_number_enotty) {
	.cmd = _IO(CSQ_IOC_MAGIC + 1, 1), .arg = BUF_GOOD,
	.ret = -1, .err = ENOTTY,
};

FIXTURE_VARIANT_ADD(ioc, stats_wrong_size_enotty) {
	.cmd = _IOR(CSQ_IOC_MAGIC, 2, __u32), .arg = BUF_GOOD,
	.ret = -1, .err = ENOTTY,
};

FIXTURE_VARIANT_ADD(ioc, stats_wrong_direction_enotty) {
	.cmd = _IOW(CSQ_IOC_MAGIC, 2, struct csq_stats), .arg = BUF_GOOD,
	.ret = -1, .err = ENOTTY,
};

FIXTURE_VARIANT_ADD(ioc, producer_wrong_size_enotty) {
	.cmd = _IOW(CSQ_IOC_MAGIC, 3, __u32), .arg = BUF_GOOD,
	.ret = -1, .err = ENOTTY,
};

FIXTURE_VARIANT_ADD(ioc, cancel_with_a_size_enotty) {
	.cmd = _IOR(CSQ_IOC_MAGIC, 1, int), .arg = BUF_GOOD,
	.ret = -1, .err = ENOTTY,
};

FIXTURE_VARIANT_ADD(ioc, stats_null_efault) {
	.cmd = CSQ_IOC_STATS, .arg = BUF_NULL, .ret = -1, .err = EFAULT,
};

FIXTURE_VARIANT_ADD(ioc, stats_prot_none_efault) {
	.cmd = CSQ_IOC_STATS, .arg = BUF_PROT_NONE, .ret = -1, .err = EFAULT,
};

FIXTURE_VARIANT_ADD(ioc, stats_unmapped_efault) {
	.cmd = CSQ_IOC_STATS, .arg = BUF_HOLE, .ret = -1, .err = EFAULT,
};

FIXTURE_VARIANT_ADD(ioc, stats_readonly_efault) {
	.cmd = CSQ_IOC_STATS, .arg = BUF_READONLY, .ret = -1, .err = EFAULT,
};

FIXTURE_VARIANT_ADD(ioc, stats_kernel_address_efault) {
	.cmd = CSQ_IOC_STATS, .arg = BUF_KERNEL, .ret = -1, .err = EFAULT,
};

FIXTURE_VARIANT_ADD(ioc, stats_across_end_of_mapping_efault) {
	.cmd = CSQ_IOC_STATS, .arg = BUF_EDGE, .ret = -1, .err = EFAULT,
};

FIXTURE_VARIANT_ADD(ioc, producer_null_efault) {
	.cmd = CSQ_IOC_PRODUCER, .arg = BUF_NULL, .ret = -1, .err = EFAULT,
};

FIXTURE_VARIANT_ADD(ioc, producer_unmapped_efault) {
	.cmd = CSQ_IOC_PRODUCER, .arg = BUF_HOLE, .ret = -1, .err = EFAULT,
};

FIXTURE_VARIANT_ADD(ioc, producer_kernel_address_efault) {
	.cmd = CSQ_IOC_PRODUCER, .arg = BUF_KERNEL, .ret = -1, .err = EFAULT,
};

FIXTURE_VARIANT_ADD(ioc, producer_across_end_of_mapping_efault) {
	.cmd = CSQ_IOC_PRODUCER, .arg = BUF_EDGE, .ret = -1, .err = EFAULT,
};

/* Settings read from read-only memory are fine: rate 0, flags 0. */
FIXTURE_VARIANT_ADD(ioc, producer_from_readonly_zeroes_returns_0) {
	.cmd = CSQ_IOC_PRODUCER, .arg = BUF_READONLY, .ret = 0,
};

/* CSQ_IOC_CANCEL takes no argument: one is refused, not looked at. */
FIXTURE_VARIANT_ADD(ioc, cancel_with_kernel_address_einval) {
	.cmd = CSQ_IOC_CANCEL, .arg = BUF_KERNEL, .ret = -1, .err = EINVAL,
};

FIXTURE_SETUP(ioc)
{
	quiet_device(_metadata, &self->fd);
	ASSERT_EQ(0, map_buffers(&self->b, true));
}

FIXTURE_TEARDOWN(ioc)
{
	still_quiet(_metadata, self->fd);
	close(self->fd);
}

TEST_F(ioc, ends_as_the_table_says)
{
	struct csq_stats before, after;
	int ret, err;

	ASSERT_EQ(1, send_str(self->fd, "m"));
	before = stats_of(self->fd);
	ret = ioctl(self->fd, variant->cmd, buffer(&self->b, variant->arg));
	err = errno;
	ASSERT_EQ(variant->ret, ret);
	if (ret < 0)
		ASSERT_EQ(variant->err, err) TH_LOG("errno %s", strerror(err));

	/* Nothing moved: the message is still there, the producer off. */
	after = stats_of(self->fd);
	ASSERT_EQ(0, memcmp(&before, &after, sizeof(before)));
	ASSERT_EQ(0, read_param("producer_hz"));
	ASSERT_EQ(1, drain());
}

/* Descriptors, processes and signals. */
FIXTURE(life) {
	int fd;
};

FIXTURE_SETUP(life)
{
	quiet_device(_metadata, &self->fd);
}

FIXTURE_TEARDOWN(life)
{
	still_quiet(_metadata, self->fd);
	close(self->fd);
}

static bool got(struct call *c, const char *s)
{
	return c->ret == (ssize_t)strlen(s) && !memcmp(c->buf, s, c->ret);
}

/* close() of a dup is a close of the same open file by the same process. */
TEST_F_TIMEOUT(life, close_of_a_dup_cancels_reads_parked_through_the_original,
	       SLOW_CASE_S)
{
	char buf[CSQ_MSG_MAX];
	struct call c = { 0 };
	int fd, dupfd;

	fd = open_csq(0);
	ASSERT_LE(0, fd);
	dupfd = dup(fd);
	ASSERT_LE(0, dupfd);
	ASSERT_EQ(0, start_read(&c, fd, buf, sizeof(buf)));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(0, close(dupfd));
	ASSERT_EQ(0, pthread_join(c.thread, NULL));
	ASSERT_EQ(-1, c.ret);
	ASSERT_EQ(ECANCELED, c.err);

	/* The original descriptor still works: it parks and gets the next. */
	ASSERT_EQ(0, start_read(&c, fd, buf, sizeof(buf)));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(0, pthread_join(c.thread, NULL));
	ASSERT_TRUE(got(&c, "m"));
	ASSERT_EQ(0, close(fd));
}

/*
 * The last close() while a read is parked on the file: the read holds the
 * file, so ->flush cancels it (ECANCELED) and ->release runs only after it
 * returned; a read on the closed descriptor is EBADF.
 */
TEST_F_TIMEOUT(life, last_close_under_a_parked_read_cancels_it_then_ebadf,
	       SLOW_CASE_S)
{
	char buf[CSQ_MSG_MAX];
	struct call c = { 0 };
	int fd;

	fd = open_csq(0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, start_read(&c, fd, buf, sizeof(buf)));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, pthread_join(c.thread, NULL));
	ASSERT_EQ(-1, c.ret);
	ASSERT_EQ(ECANCELED, c.err);
	ASSERT_EQ(-1, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(EBADF, errno);
	/* Nothing was taken with it. */
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(1, queued_msgs(self->fd));
	ASSERT_EQ(1, drain());
}

/* The last close of another open file leaves this one's reads alone. */
TEST_F_TIMEOUT(life, last_close_of_another_open_file_leaves_parked_read,
	       SLOW_CASE_S)
{
	char buf[CSQ_MSG_MAX];
	struct call c = { 0 };
	int other;

	other = open_csq(0);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, start_read(&c, self->fd, buf, sizeof(buf)));
	ASSERT_TRUE(WAIT_FOR(pending_reads(other) == 1));
	ASSERT_EQ(0, close(other));
	ASSERT_EQ(1, pending_reads(self->fd));
	ASSERT_FALSE(atomic_load(&c.done));
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(0, pthread_join(c.thread, NULL));
	ASSERT_TRUE(got(&c, "m"));
}

/* O_RDONLY and O_WRONLY opens are refused the other direction by the VFS. */
TEST_F(life, read_on_write_only_and_write_on_read_only_fail_ebadf)
{
	char buf[8];
	int ro, wo;

	ro = open(CSQ_PATH, O_RDONLY | O_CLOEXEC);
	wo = open(CSQ_PATH, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, ro);
	ASSERT_LE(0, wo);
	ASSERT_EQ(-1, write(ro, "m", 1));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(0, queued_msgs(self->fd));
	ASSERT_EQ(1, write(wo, "m", 1));
	ASSERT_EQ(-1, read(wo, buf, sizeof(buf)));
	ASSERT_EQ(EBADF, errno);
	ASSERT_EQ(1, queued_msgs(self->fd));
	ASSERT_EQ(1, read(ro, buf, sizeof(buf)));
	close(ro);
	close(wo);
}

/* A stream: no positioned I/O, no seeking, no mapping; nothing moves. */
TEST_F(life, pread_pwrite_lseek_and_mmap_are_refused)
{
	char buf[8];

	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(-1, pread(self->fd, buf, sizeof(buf), 0));
	ASSERT_EQ(ESPIPE, errno);
	ASSERT_EQ(-1, pwrite(self->fd, "x", 1, 0));
	ASSERT_EQ(ESPIPE, errno);
	ASSERT_EQ(-1, lseek(self->fd, 0, SEEK_SET));
	ASSERT_EQ(ESPIPE, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, getpagesize(), PROT_READ, MAP_SHARED,
				   self->fd, 0));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(1, queued_msgs(self->fd));
	ASSERT_EQ(1, drain());
}

/*
 * readv() on a device with only ->read is one read() per iovec: the first
 * message fills the first iovec exactly, the second cannot be copied to a
 * bad second iovec and must stay first.
 */
TEST_F(life, readv_with_bad_second_iovec_returns_first_message_and_keeps_second)
{
	char first[4], buf[8];
	struct iovec iov[2] = {
		{ .iov_base = first, .iov_len = sizeof(first) },
		{ .iov_base = NULL, .iov_len = 16 },
	};

	ASSERT_EQ(4, send_str(self->fd, "abcd"));
	ASSERT_EQ(2, send_str(self->fd, "ef"));
	ASSERT_EQ(4, readv(self->fd, iov, 2));
	ASSERT_EQ(0, memcmp(first, "abcd", 4));
	ASSERT_EQ(1, queued_msgs(self->fd));
	ASSERT_EQ(2, recv_str(self->fd, buf, sizeof(buf)));
	ASSERT_STREQ("ef", buf);
}

static void *read_forever(void *arg)
{
	char buf[CSQ_MSG_MAX];

	read(*(int *)arg, buf, sizeof(buf));
	return NULL;
}

/*
 * A process exits (exit_group) while another of its threads is parked in
 * read(): the read is cancelled, no request stays behind and no message
 * is consumed.
 */
TEST_F_TIMEOUT(life, process_exit_with_a_parked_reader_thread_leaves_nothing,
	       SLOW_CASE_S)
{
	struct csq_stats before;
	pthread_t thread;
	pid_t pid;
	int status;

	before = stats_of(self->fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		if (pthread_create(&thread, NULL, read_forever, &self->fd))
			_exit(1);
		if (!WAIT_FOR(pending_reads(self->fd) == 1))
			_exit(2);
		exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 0));
	/* Killed on its way out (interrupted) or swept by its close. */
	ASSERT_EQ(before.canceled + before.interrupted + 1,
		  stats_of(self->fd).canceled + stats_of(self->fd).interrupted);
	ASSERT_EQ(before.completed, stats_of(self->fd).completed);
	ASSERT_EQ(1, send_str(self->fd, "m"));
	ASSERT_EQ(1, queued_msgs(self->fd));
	ASSERT_EQ(1, drain());
}

/* The state, wait channel and system call of @pid, for a failure report. */
static const char *task_state(pid_t pid, char *buf, size_t size)
{
	char path[64], stat[512], wchan[64] = "", sc[64] = "";
	const char *state = "gone";
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, stat, sizeof(stat) - 1);
		stat[n > 0 ? n : 0] = '\0';
		close(fd);
		state = strrchr(stat, ')') ? strrchr(stat, ')') + 2 : "?";
	}
	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, wchan, sizeof(wchan) - 1);
		wchan[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, sc, sizeof(sc) - 1);
		sc[n > 0 ? n : 0] = '\0';
		close(fd);
	}
	snprintf(buf, size, "state %.1s, in %s, syscall %.20s", state, wchan,
		 sc);
	return buf;
}

/*
 * The exit status of child @pid if it has ended (left unreaped), 128 plus
 * the signal if a signal killed it, or -1 while it runs.
 */
static int exit_code(pid_t pid)
{
	siginfo_t info = { 0 };

	if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) ||
	    info.si_pid != pid)
		return -1;
	return info.si_code == CLD_EXITED ? info.si_status :
					    128 + info.si_status;
}

static atomic_int storm_hits;

static void on_storm(int sig)
{
	(void)sig;
	atomic_fetch_add(&storm_hits, 1);
}

/* Reads "0", "1", ... in order; exits with the first one that is wrong. */
static __noreturn void storm_child(int fd, int n)
{
	char buf[16], want[16];
	int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "%d", i);
		if (recv_str(fd, buf, sizeof(buf)) < 0 || strcmp(buf, want))
			_exit(i % 250 + 1);
	}
	_exit(0);
}

struct storm {
	pid_t pid;
	atomic_bool stop;
	unsigned long sent;
};

/*
 * Handled, stopping, continuing and ignored signals, with a breath between
 * them so that the reader parks again now and then.
 */
static void *storm_main(void *arg)
{
	static const int sigs[] = { SIGUSR1, SIGSTOP, SIGCONT, SIGWINCH };
	struct timespec breath = { .tv_nsec = STORM_GAP_NS };
	struct storm *s = arg;
	unsigned int i;

	for (i = 0; !atomic_load(&s->stop); i++) {
		kill(s->pid, sigs[i % 4]);
		s->sent++;
		nanosleep(&breath, NULL);
	}
	kill(s->pid, SIGCONT);
	return NULL;
}

/*
 * A reader under a storm of signals, SIGSTOP and SIGCONT among them,
 * receives every message once and in order, and never sees EINTR (its
 * handler has SA_RESTART; stop and continue restart the read).
 */
TEST_F_TIMEOUT(life, signal_storm_with_stop_and_continue_loses_no_message,
	       SLOW_CASE_S)
{
	struct sigaction sa = { .sa_handler = on_storm, .sa_flags = SA_RESTART };
	/* Not on the stack: the storm outlives a failed assertion. */
	static struct storm s;
	struct csq_stats before;
	pthread_t storm;
	siginfo_t info;
	char msg[16], buf[256];
	int i, status;

	/* Inherited: the first signal may come before the child runs. */
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	before = stats_of(self->fd);
	s.pid = fork();
	ASSERT_LE(0, s.pid);
	if (!s.pid)
		storm_child(self->fd, STORM_MSGS);
	ASSERT_EQ(0, pthread_create(&storm, NULL, storm_main, &s));
	/*
	 * One message at a time, so that the reader is mostly parked, or
	 * stopped, or between the two, when the storm hits it.
	 */
	for (i = 0; i < STORM_MSGS; i++) {
		snprintf(msg, sizeof(msg), "%d", i);
		ASSERT_TRUE(WAIT_FOR(queued_msgs(self->fd) == 0))
			TH_LOG("message %d not taken; %d reads parked; reader %s, exit %d",
			       i - 1, pending_reads(self->fd),
			       task_state(s.pid, buf, sizeof(buf)),
			       exit_code(s.pid));
		ASSERT_EQ((ssize_t)strlen(msg), send_str(self->fd, msg));
	}
	/* Reaped only once the storm is over: its pid must stay the child's. */
	ASSERT_EQ(0, waitid(P_PID, s.pid, &info, WEXITED | WNOWAIT));
	atomic_store(&s.stop, true);
	ASSERT_EQ(0, pthread_join(storm, NULL));
	ASSERT_EQ(s.pid, waitpid(s.pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status))
		TH_LOG("message %d was wrong or failed", WEXITSTATUS(status) - 1);
	ASSERT_EQ(before.completed + STORM_MSGS, stats_of(self->fd).completed);
	TH_LOG("%lu signals, %llu reads interrupted and restarted", s.sent,
	       (unsigned long long)(stats_of(self->fd).interrupted -
				    before.interrupted));
}

/* Reads numbers until "end"; reports each on @out; returns how many. */
static int share_reader(int fd, int out)
{
	char buf[16];
	int n = 0;

	while (recv_str(fd, buf, sizeof(buf)) > 0 && strcmp(buf, "end")) {
		if (write(out, buf, sizeof(buf)) != sizeof(buf))
			return -1;
		n++;
	}
	return n;
}

struct share {
	int fd;
	int out;
	int n;
};

static void *share_thread(void *arg)
{
	struct share *sh = arg;

	sh->n = share_reader(sh->fd, sh->out);
	return NULL;
}

/*
 * A process and its forked child read the same inherited descriptor at
 * the same time: between them, every message exactly once.  Then the
 * child dies with its read parked, and its exit closes its copy of the
 * descriptor: the parent's parked read on that same file stays parked.
 */
TEST_F_TIMEOUT(life, fork_with_inherited_descriptor_shares_messages_exactly_once,
	       SLOW_CASE_S)
{
	static unsigned char count[SHARE_MSGS];
	int pipefd[2], i, status;
	struct share sh = { 0 };
	pthread_t reader;
	char msg[16];
	pid_t pid;

	sh.fd = open_csq(0);
	ASSERT_LE(0, sh.fd);
	ASSERT_EQ(0, pipe(pipefd));
	sh.out = pipefd[1];
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(share_reader(sh.fd, pipefd[1]) < 0);
	}
	ASSERT_EQ(0, pthread_create(&reader, NULL, share_thread, &sh));
	for (i = 0; i < SHARE_MSGS; i++) {
		snprintf(msg, sizeof(msg), "%d", i);
		ASSERT_EQ((ssize_t)strlen(msg), send_str(sh.fd, msg));
	}
	/* All taken, both readers parked again. */
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 2 &&
			     queued_msgs(self->fd) == 0));
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(1, pending_reads(self->fd));
	ASSERT_EQ(3, send_str(sh.fd, "end"));
	ASSERT_EQ(0, pthread_join(reader, NULL));
	ASSERT_LE(0, sh.n);
	close(pipefd[1]);
	while (read(pipefd[0], msg, sizeof(msg)) == sizeof(msg)) {
		i = atoi(msg);
		ASSERT_TRUE(i >= 0 && i < SHARE_MSGS);
		count[i]++;
	}
	for (i = 0; i < SHARE_MSGS; i++)
		ASSERT_EQ(1, count[i]) TH_LOG("message %d", i);
	TH_LOG("%d messages to the parent, %d to the child", sh.n,
	       SHARE_MSGS - sh.n);
	close(pipefd[0]);
	close(sh.fd);
}

struct closer {
	pthread_t thread;
	pthread_barrier_t *go;
	int fd;
	int ret;
	int err;
};

static void *close_main(void *arg)
{
	struct closer *cl = arg;

	pthread_barrier_wait(cl->go);
	cl->ret = close(cl->fd);
	cl->err = cl->ret ? errno : 0;
	return NULL;
}

/*
 * Two threads close the descriptor a third one is parked on, at once:
 * exactly one close succeeds, the other fails EBADF, the read is cancelled
 * once (ECANCELED), nothing stays queued.
 */
TEST_F_TIMEOUT(life, two_threads_closing_the_same_descriptor_cancel_its_read_once,
	       SLOW_CASE_S)
{
	struct closer cl[2] = { 0 };
	struct csq_stats before;
	char buf[CSQ_MSG_MAX];
	pthread_barrier_t go;
	struct call c = { 0 };
	int round, fd, i;

	before = stats_of(self->fd);
	for (round = 0; round < CLOSE_ROUNDS; round++) {
		fd = open_csq(0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, start_read(&c, fd, buf, sizeof(buf)));
		ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
		ASSERT_EQ(0, pthread_barrier_init(&go, NULL, 2));
		for (i = 0; i < 2; i++) {
			cl[i].go = &go;
			cl[i].fd = fd;
			ASSERT_EQ(0, pthread_create(&cl[i].thread, NULL,
						    close_main, &cl[i]));
		}
		for (i = 0; i < 2; i++)
			ASSERT_EQ(0, pthread_join(cl[i].thread, NULL));
		pthread_barrier_destroy(&go);
		ASSERT_EQ(0, pthread_join(c.thread, NULL));

		ASSERT_EQ(-1, cl[0].ret + cl[1].ret);
		ASSERT_EQ(EBADF, cl[0].err | cl[1].err);
		ASSERT_EQ(-1, c.ret);
		ASSERT_EQ(ECANCELED, c.err);
		ASSERT_EQ(0, pending_reads(self->fd));
	}
	ASSERT_EQ(before.canceled + CLOSE_ROUNDS, stats_of(self->fd).canceled);
}

static long delete_module(const char *name, unsigned int flags)
{
	return syscall(SYS_delete_module, name, flags);
}

struct unloader {
	pthread_t thread;
	const char *name;
	unsigned int flags;
	int refused;		/* attempts that failed EWOULDBLOCK or EBUSY */
	int other_err;		/* the errno of any other failure */
	int unloaded;		/* attempts that succeeded: never */
};

static void *unload_main(void *arg)
{
	struct unloader *u = arg;
	int i;

	for (i = 0; i < RMMOD_ROUNDS; i++) {
		if (!delete_module(u->name, u->flags))
			u->unloaded++;
		else if (errno == EWOULDBLOCK || errno == EBUSY)
			u->refused++;
		else
			u->other_err = errno;
	}
	return NULL;
}

/*
 * rmmod of csqdev (open, so pinned) and of csq (used by csqdev), from
 * several threads at once, blocking and not, while reads sleep on two
 * files: every attempt fails EWOULDBLOCK or EBUSY, and the reads are
 * untouched: still parked, then completed with their messages.  Never
 * O_TRUNC: that would force the unload.
 */
TEST_F_TIMEOUT(life, concurrent_rmmod_while_readers_sleep_fails_and_leaves_them,
	       SLOW_CASE_S)
{
	struct unloader u[4] = {
		{ .name = "csqdev", .flags = O_NONBLOCK },
		{ .name = "csqdev", .flags = 0 },
		{ .name = "csq", .flags = O_NONBLOCK },
		{ .name = "csq", .flags = 0 },
	};
	char buf[2][CSQ_MSG_MAX];
	struct call c[2] = { 0 };
	int other, i;

	if (delete_module("csqdev", O_NONBLOCK) && errno == ENOENT)
		SKIP(return, "csqdev is not a loaded module");
	other = open_csq(0);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, start_read(&c[0], self->fd, buf[0], CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 1));
	ASSERT_EQ(0, start_read(&c[1], other, buf[1], CSQ_MSG_MAX));
	ASSERT_TRUE(WAIT_FOR(pending_reads(self->fd) == 2));

	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&u[i].thread, NULL, unload_main,
					    &u[i]));
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(u[i].thread, NULL));
		ASSERT_EQ(0, u[i].unloaded) TH_LOG("%s unloaded", u[i].name);
		ASSERT_EQ(0, u[i].other_err)
			TH_LOG("rmmod %s: %s", u[i].name, strerror(u[i].other_err));
		ASSERT_EQ(RMMOD_ROUNDS, u[i].refused);
	}

	ASSERT_EQ(2, pending_reads(self->fd));
	ASSERT_FALSE(atomic_load(&c[0].done));
	ASSERT_FALSE(atomic_load(&c[1].done));
	ASSERT_EQ(1, send_str(self->fd, "a"));
	ASSERT_EQ(1, send_str(self->fd, "b"));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_join(c[i].thread, NULL));
	ASSERT_TRUE(got(&c[0], "a"));
	ASSERT_TRUE(got(&c[1], "b"));
	close(other);
}

TEST_HARNESS_MAIN
