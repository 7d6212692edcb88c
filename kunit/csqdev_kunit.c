// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the insides of csqdev: the memory of its messages
 * (csqdev_msg.c) and the rules of its stream (csqdev_stream.c), driven
 * without a file or a process: the reads are parked by the test itself and
 * looked at where they wait.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <uapi/linux/csq.h>

#include "csqdev.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define CSQDEV_TEST_CAPACITY	256

/* Stand-ins for the file tables of two processes. */
static int csqdev_test_proc_a, csqdev_test_proc_b;
#define PROC_A	((fl_owner_t)&csqdev_test_proc_a)
#define PROC_B	((fl_owner_t)&csqdev_test_proc_b)

static void csqdev_test_destroy(void *data)
{
	csqdev_stream_destroy(data);
}

static struct csqdev *csqdev_test_dev(struct kunit *test)
{
	struct csqdev *dev = kunit_kzalloc(test, sizeof(*dev), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, dev);
	dev->capacity = CSQDEV_TEST_CAPACITY;
	KUNIT_ASSERT_EQ(test, csqdev_stream_init(dev), 0);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test,
							csqdev_test_destroy,
							dev),
			0);
	return dev;
}

static struct csqdev_file *csqdev_test_file(struct kunit *test,
					    struct csqdev *dev)
{
	struct csqdev_file *cf = kunit_kzalloc(test, sizeof(*cf), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, cf);
	cf->dev = dev;
	csq_owner_init(&cf->reads);
	return cf;
}

/* A message of @len bytes, each @c. */
static struct csqdev_msg *csqdev_test_msg(struct kunit *test,
					  struct csqdev *dev, size_t len,
					  char c)
{
	struct csqdev_msg *msg = csqdev_msg_get(&dev->pool, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, msg);
	memset(msg->data, c, len);
	return msg;
}

/* Takes the first kept message, of at most @count bytes; NULL if none. */
static struct csqdev_msg *csqdev_test_take(struct kunit *test,
					   struct csqdev_file *cf,
					   size_t count)
{
	struct csqdev_read rd;
	struct csqdev_msg *msg;

	csqdev_read_init(&rd, count);
	msg = csqdev_take_or_park(cf, &rd, cf->closes, true);
	if (IS_ERR(msg)) {
		KUNIT_EXPECT_EQ(test, PTR_ERR(msg), -EAGAIN);
		return NULL;
	}
	return msg;
}

/* Parks @rd as a read of @count bytes by process @files on @cf. */
static void csqdev_test_park(struct kunit *test, struct csqdev_file *cf,
			     struct csqdev_read *rd, size_t count,
			     fl_owner_t files)
{
	csqdev_read_init(rd, count);
	KUNIT_ASSERT_NULL(test, csqdev_take_or_park(cf, rd, cf->closes, false));
	/* Nothing else runs here: the read is the test's to label. */
	rd->files = files;
}

static bool csqdev_test_done(struct csqdev_read *rd, int status)
{
	return completion_done(&rd->req.done) && rd->req.status == status;
}

/* Message memory */

/* Small messages are carved out of one page, each on its own lines. */
static void csqdev_msg_small_messages_share_a_page(struct kunit *test)
{
	struct csqdev *dev = csqdev_test_dev(test);
	struct csqdev_msg *msg[8];
	int i;

	/* One CPU's carver. */
	migrate_disable();
	for (i = 0; i < ARRAY_SIZE(msg); i++)
		msg[i] = csqdev_msg_get(&dev->pool, 4, GFP_KERNEL);
	migrate_enable();
	for (i = 0; i < ARRAY_SIZE(msg); i++) {
		KUNIT_ASSERT_NOT_NULL(test, msg[i]);
		KUNIT_EXPECT_TRUE(test, msg[i]->carved);
	}
	KUNIT_EXPECT_EQ(test, csqdev_msg_pool_pages(&dev->pool), 1);
	for (i = 1; i < ARRAY_SIZE(msg); i++) {
		KUNIT_EXPECT_PTR_EQ(test, virt_to_page(msg[i]),
				    virt_to_page(msg[0]));
		KUNIT_EXPECT_EQ(test, (uintptr_t)msg[i] % SMP_CACHE_BYTES, 0);
	}
	for (i = 0; i < ARRAY_SIZE(msg); i++)
		csqdev_msg_put(&dev->pool, msg[i]);
	/* The carver keeps its page: nothing more, nothing less. */
	KUNIT_EXPECT_EQ(test, csqdev_msg_pool_pages(&dev->pool), 1);
}

/* A message too long for a fragment has pages of its own, given back. */
static void csqdev_msg_long_message_has_pages_of_its_own(struct kunit *test)
{
	struct csqdev *dev = csqdev_test_dev(test);
	struct csqdev_msg *msg;

	msg = csqdev_test_msg(test, dev, CSQ_MSG_MAX, 'x');
	KUNIT_EXPECT_FALSE(test, msg->carved);
	KUNIT_EXPECT_EQ(test, csqdev_msg_pool_pages(&dev->pool),
			1L << msg->order);
	csqdev_msg_put(&dev->pool, msg);
	KUNIT_EXPECT_EQ(test, csqdev_msg_pool_pages(&dev->pool), 0);
}

/* Many pages of messages, then a destroyed pool holds no page at all. */
static void csqdev_msg_pool_gives_every_page_back(struct kunit *test)
{
	struct csqdev_msg_pool *pool;
	struct csqdev_msg *msg[200];
	int i;

	pool = kunit_kzalloc(test, sizeof(*pool), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pool);
	KUNIT_ASSERT_EQ(test, csqdev_msg_pool_init(pool), 0);
	for (i = 0; i < ARRAY_SIZE(msg); i++) {
		msg[i] = csqdev_msg_get(pool, i % 2 ? 1500 : 7, GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, msg[i]);
	}
	KUNIT_EXPECT_GE(test, csqdev_msg_pool_pages(pool), 50);
	for (i = 0; i < ARRAY_SIZE(msg); i++)
		csqdev_msg_put(pool, msg[i]);
	KUNIT_EXPECT_LE(test, csqdev_msg_pool_pages(pool),
			CSQDEV_SPARE_PAGES + num_possible_cpus());
	csqdev_msg_pool_destroy(pool);
	KUNIT_EXPECT_EQ(test, csqdev_msg_pool_pages(pool), 0);
}

/* The stream */

/* A message that a read could not copy out goes back to its place. */
static void csqdev_post_put_back_message_returns_to_its_place(struct kunit *test)
{
	struct csqdev *dev = csqdev_test_dev(test);
	struct csqdev_file *cf = csqdev_test_file(test, dev);
	struct csqdev_msg *m[3], *taken[2], *msg;
	int i;

	for (i = 0; i < 3; i++) {
		m[i] = csqdev_test_msg(test, dev, 1, '0' + i);
		KUNIT_EXPECT_EQ(test, csqdev_post(dev, m[i], false), 0);
	}
	/* Two readers take M0 and M1; both fault, M1's first. */
	taken[0] = csqdev_test_take(test, cf, 8);
	taken[1] = csqdev_test_take(test, cf, 8);
	KUNIT_EXPECT_PTR_EQ(test, taken[0], m[0]);
	KUNIT_EXPECT_PTR_EQ(test, taken[1], m[1]);
	KUNIT_EXPECT_EQ(test, csqdev_post(dev, taken[1], true), 0);
	KUNIT_EXPECT_EQ(test, csqdev_post(dev, taken[0], true), 0);
	for (i = 0; i < 3; i++) {
		msg = csqdev_test_take(test, cf, 8);
		KUNIT_EXPECT_PTR_EQ(test, msg, m[i]);
		if (msg)
			csqdev_msg_put(&dev->pool, msg);
	}
	KUNIT_EXPECT_NULL(test, csqdev_test_take(test, cf, 8));
}

/*
 * Parked reads too small for a message fail with EMSGSIZE, the first that
 * fits gets it, and reads parked after that one stay parked.
 */
static void csqdev_post_fails_small_parked_reads_and_hands_to_one_that_fits(struct kunit *test)
{
	struct csqdev *dev = csqdev_test_dev(test);
	struct csqdev_file *cf = csqdev_test_file(test, dev);
	struct csqdev_read rd[4];
	struct csqdev_msg *msg;
	static const size_t size[] = { 2, 4, 64, 64 };
	int i;

	for (i = 0; i < 4; i++)
		csqdev_test_park(test, cf, &rd[i], size[i], PROC_A);
	msg = csqdev_test_msg(test, dev, 10, 'm');
	KUNIT_EXPECT_EQ(test, csqdev_post(dev, msg, false), 0);

	KUNIT_EXPECT_TRUE(test, csqdev_test_done(&rd[0], -EMSGSIZE));
	KUNIT_EXPECT_TRUE(test, csqdev_test_done(&rd[1], -EMSGSIZE));
	KUNIT_EXPECT_TRUE(test, csqdev_test_done(&rd[2], 0));
	KUNIT_EXPECT_PTR_EQ(test, rd[2].msg, msg);
	KUNIT_EXPECT_EQ(test, rd[2].req.information, 10);
	KUNIT_EXPECT_FALSE(test, completion_done(&rd[3].req.done));
	KUNIT_EXPECT_EQ(test, csq_count(&dev->csq), 1);
	KUNIT_EXPECT_EQ(test, dev->nr_msgs, 0);
	csqdev_msg_put(&dev->pool, msg);

	KUNIT_EXPECT_EQ(test, csqdev_cancel_reads(cf), 1);
	KUNIT_EXPECT_TRUE(test, csqdev_test_done(&rd[3], -ECANCELED));
	KUNIT_EXPECT_EQ(test, csq_nr_active(&dev->csq), 0);
}

/* No read fits: the message is kept, in order, for the next. */
static void csqdev_post_keeps_a_message_no_parked_read_can_hold(struct kunit *test)
{
	struct csqdev *dev = csqdev_test_dev(test);
	struct csqdev_file *cf = csqdev_test_file(test, dev);
	struct csqdev_msg *m[2], *msg;
	struct csqdev_read rd;
	int i;

	csqdev_test_park(test, cf, &rd, 2, PROC_A);
	for (i = 0; i < 2; i++) {
		m[i] = csqdev_test_msg(test, dev, 4, 'a' + i);
		KUNIT_EXPECT_EQ(test, csqdev_post(dev, m[i], false), 0);
	}
	KUNIT_EXPECT_TRUE(test, csqdev_test_done(&rd, -EMSGSIZE));
	KUNIT_EXPECT_EQ(test, csqdev_next_len(dev), 4);
	for (i = 0; i < 2; i++) {
		msg = csqdev_test_take(test, cf, 4);
		KUNIT_EXPECT_PTR_EQ(test, msg, m[i]);
		if (msg)
			csqdev_msg_put(&dev->pool, msg);
	}
	KUNIT_EXPECT_EQ(test, csqdev_next_len(dev), 0);
}

/* The stream keeps capacity bytes, and always one message. */
static void csqdev_post_keeps_up_to_capacity_and_always_one_message(struct kunit *test)
{
	struct csqdev *dev = csqdev_test_dev(test);
	struct csqdev_file *cf = csqdev_test_file(test, dev);
	struct csqdev_msg *big, *small, *msg;

	big = csqdev_test_msg(test, dev, CSQDEV_TEST_CAPACITY + 100, 'b');
	small = csqdev_test_msg(test, dev, 1, 's');
	KUNIT_EXPECT_EQ(test, csqdev_post(dev, big, false), 0);
	KUNIT_EXPECT_EQ(test, csqdev_post(dev, small, false), -ENOSPC);
	KUNIT_EXPECT_FALSE(test, csqdev_writable(dev, 1));
	msg = csqdev_test_take(test, cf, CSQ_MSG_MAX);
	KUNIT_EXPECT_PTR_EQ(test, msg, big);
	KUNIT_EXPECT_TRUE(test, csqdev_writable(dev, 1));
	KUNIT_EXPECT_EQ(test, csqdev_post(dev, small, false), 0);
	csqdev_msg_put(&dev->pool, big);
	msg = csqdev_test_take(test, cf, 1);
	KUNIT_EXPECT_PTR_EQ(test, msg, small);
	if (msg)
		csqdev_msg_put(&dev->pool, msg);
}

/* The peek filter of a close(): its file, and its process alone. */
static void csqdev_close_cancels_the_closing_process_reads_only(struct kunit *test)
{
	struct csqdev *dev = csqdev_test_dev(test);
	struct csqdev_file *cf = csqdev_test_file(test, dev);
	struct csqdev_file *other = csqdev_test_file(test, dev);
	struct csqdev_read rd[3];

	csqdev_test_park(test, cf, &rd[0], 8, PROC_A);
	csqdev_test_park(test, cf, &rd[1], 8, PROC_B);
	csqdev_test_park(test, other, &rd[2], 8, PROC_A);

	KUNIT_EXPECT_EQ(test, csqdev_close(cf, PROC_A), 1);
	KUNIT_EXPECT_TRUE(test, csqdev_test_done(&rd[0], -ECANCELED));
	KUNIT_EXPECT_FALSE(test, completion_done(&rd[1].req.done));
	KUNIT_EXPECT_FALSE(test, completion_done(&rd[2].req.done));

	KUNIT_EXPECT_EQ(test, csqdev_cancel_reads(cf), 1);
	KUNIT_EXPECT_TRUE(test, csqdev_test_done(&rd[1], -ECANCELED));
	KUNIT_EXPECT_EQ(test, csqdev_close(other, PROC_A), 1);
	KUNIT_EXPECT_TRUE(test, csqdev_test_done(&rd[2], -ECANCELED));
}

/*
 * A read on its way in saw the closes of its file; a close by its process
 * since refuses it, a close by another process does not, and beyond what
 * is remembered the read counts itself closed.
 */
static void csqdev_read_entering_is_refused_after_its_process_closes(struct kunit *test)
{
	struct csqdev *dev = csqdev_test_dev(test);
	struct csqdev_file *cf = csqdev_test_file(test, dev);
	struct csqdev_read rd;
	struct csqdev_msg *ret;
	unsigned long seen;
	int i;

	seen = cf->closes;
	csqdev_close(cf, current->files);
	csqdev_read_init(&rd, 8);
	ret = csqdev_take_or_park(cf, &rd, seen, false);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(ret), -ECANCELED);

	seen = cf->closes;
	csqdev_close(cf, PROC_B);
	csqdev_read_init(&rd, 8);
	ret = csqdev_take_or_park(cf, &rd, seen, false);
	KUNIT_EXPECT_NULL(test, ret);
	KUNIT_EXPECT_EQ(test, csqdev_cancel_reads(cf), 1);
	KUNIT_EXPECT_TRUE(test, csqdev_test_done(&rd, -ECANCELED));

	seen = cf->closes;
	for (i = 0; i <= CSQDEV_CLOSERS; i++)
		csqdev_close(cf, PROC_B);
	csqdev_read_init(&rd, 8);
	ret = csqdev_take_or_park(cf, &rd, seen, false);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(ret), -ECANCELED);
}

static struct kunit_case csqdev_test_cases[] = {
	KUNIT_CASE(csqdev_msg_small_messages_share_a_page),
	KUNIT_CASE(csqdev_msg_long_message_has_pages_of_its_own),
	KUNIT_CASE(csqdev_msg_pool_gives_every_page_back),
	KUNIT_CASE(csqdev_post_put_back_message_returns_to_its_place),
	KUNIT_CASE(csqdev_post_fails_small_parked_reads_and_hands_to_one_that_fits),
	KUNIT_CASE(csqdev_post_keeps_a_message_no_parked_read_can_hold),
	KUNIT_CASE(csqdev_post_keeps_up_to_capacity_and_always_one_message),
	KUNIT_CASE(csqdev_close_cancels_the_closing_process_reads_only),
	KUNIT_CASE(csqdev_read_entering_is_refused_after_its_process_closes),
	{}
};

static struct kunit_suite csqdev_test_suite = {
	.name = "csqdev",
	.test_cases = csqdev_test_cases,
};

kunit_test_suite(csqdev_test_suite);

MODULE_DESCRIPTION("KUnit tests for the insides of csqdev");
MODULE_LICENSE("GPL");
