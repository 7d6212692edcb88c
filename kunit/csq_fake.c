// SPDX-License-Identifier: GPL-2.0
/*
 * The recording fake of the csq KUnit suites; see csq_fake.h.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "csq_fake.h"

void csq_fake_check_locked(struct csq_fake *fake)
{
	if (!fake->locked)
		atomic_inc(&fake->nr_lock_errors);
}

void csq_fake_insert(struct csq *csq, struct csq_req *req)
{
	struct csq_fake *fake = to_fake(csq);

	csq_fake_check_locked(fake);
	fake->nr_insert++;
	list_add_tail(&req->entry, &fake->pending);
	if (req == fake->cancel_on_insert)
		fake->cancel_on_insert_ret = csq_req_cancel(req);
}

/* @insert_ctx, if not NULL, points to the errno with which to refuse. */
int csq_fake_insert_ex(struct csq *csq, struct csq_req *req,
		       void *insert_ctx)
{
	struct csq_fake *fake = to_fake(csq);
	int *refusal = insert_ctx;

	csq_fake_check_locked(fake);
	fake->nr_insert_ex++;
	fake->last_insert_ctx = insert_ctx;
	if (refusal && *refusal)
		return *refusal;
	list_add_tail(&req->entry, &fake->pending);
	return 0;
}

void csq_fake_remove(struct csq *csq, struct csq_req *req)
{
	struct csq_fake *fake = to_fake(csq);

	csq_fake_check_locked(fake);
	fake->nr_remove++;
	list_del_init(&req->entry);
}

/* A NULL @peek_ctx matches every request, else the requests it owns. */
struct csq_req *csq_fake_peek_next(struct csq *csq, struct csq_req *req,
				   void *peek_ctx)
{
	struct csq_fake *fake = to_fake(csq);

	csq_fake_check_locked(fake);
	fake->nr_peek_next++;
	req = req ? list_next_entry(req, entry) :
		    list_first_entry(&fake->pending, struct csq_req, entry);
	list_for_each_entry_from(req, &fake->pending, entry) {
		if (!peek_ctx || req->owner == peek_ctx)
			return req;
	}
	return NULL;
}

void csq_fake_acquire_lock(struct csq *csq, unsigned long *flags)
	__acquires(&to_fake(csq)->lock)
{
	struct csq_fake *fake = to_fake(csq);

	spin_lock_irqsave(&fake->lock, *flags);
	if (fake->locked)
		atomic_inc(&fake->nr_lock_errors);
	fake->locked = true;
	fake->nr_acquire++;
}

void csq_fake_release_lock(struct csq *csq, unsigned long flags)
	__releases(&to_fake(csq)->lock)
{
	struct csq_fake *fake = to_fake(csq);

	if (!fake->locked)
		atomic_inc(&fake->nr_lock_errors);
	fake->locked = false;
	fake->nr_release++;
	spin_unlock_irqrestore(&fake->lock, flags);
}

/* Whether a completion now would happen under @fake's queue lock. */
static bool csq_fake_completing_locked(struct csq_fake *fake)
{
	return READ_ONCE(fake->locked) || csq_test_lock_held(&fake->csq);
}

void csq_fake_complete_canceled(struct csq *csq, struct csq_req *req)
{
	struct csq_fake *fake = to_fake(csq);

	if (csq_fake_completing_locked(fake))
		atomic_inc(&fake->nr_locked_completions);
	if (!list_empty(&req->entry) || req->ctx)
		atomic_inc(&fake->nr_linked_completions);
	atomic_inc(&fake->nr_complete_canceled);
	csq_req_complete(req, -ECANCELED, 0);
}

/* The @complete_fn of every test request; wakes @done as well. */
void csq_test_req_complete(struct csq_req *req)
{
	struct csq_test_req *treq = to_test_req(req);

	if (csq_fake_completing_locked(treq->fake))
		atomic_inc(&treq->fake->nr_locked_completions);
	atomic_inc(&treq->nr_completed);
	complete(&req->done);
}

const struct csq_ops csq_fake_ops = {
	.insert = csq_fake_insert,
	.remove = csq_fake_remove,
	.peek_next = csq_fake_peek_next,
	.acquire_lock = csq_fake_acquire_lock,
	.release_lock = csq_fake_release_lock,
	.complete_canceled = csq_fake_complete_canceled,
};

const struct csq_ops csq_fake_ex_ops = {
	.insert_ex = csq_fake_insert_ex,
	.remove = csq_fake_remove,
	.peek_next = csq_fake_peek_next,
	.acquire_lock = csq_fake_acquire_lock,
	.release_lock = csq_fake_release_lock,
	.complete_canceled = csq_fake_complete_canceled,
};

/*
 * The end of every case on a fake: nothing may be left queued, and the
 * recorded lock discipline must have held throughout.
 */
static void csq_fake_destroy(void *data)
{
	struct csq_fake *fake = data;
	struct kunit *test = fake->test;

	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 0);
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake->csq));
	KUNIT_EXPECT_FALSE(test, fake->locked);
	KUNIT_EXPECT_EQ(test, fake->nr_acquire, fake->nr_release);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_lock_errors), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_locked_completions), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_linked_completions), 0);
	/* Rule 8, and what keeps csq_destroy() from waiting for ever. */
	KUNIT_EXPECT_EQ(test, csq_nr_active(&fake->csq), 0);
	if (!csq_nr_active(&fake->csq))
		csq_destroy(&fake->csq);
}

/*
 * One call site for every kind of queue: csq_init() keys the lockdep class
 * by whether the ops sleep, so spin and mutex queues do not share one.
 */
static int csq_fake_init(struct csq_fake *fake, const struct csq_ops *ops)
{
	if (ops->insert_ex)
		return csq_init_ex(&fake->csq, ops);
	return csq_init(&fake->csq, ops);
}

/**
 * csq_fake_create - a queue on @ops whose requests count their completions
 * @test: the running test, which frees everything and checks the queue's
 *	discipline when it ends.
 * @ops: the callbacks: csq_fake_ops, csq_fake_ex_ops, the ready-made ones,
 *	or a suite's own.
 *
 * Return: the fake, with CSQ_FAKE_NR_REQS initialised requests.
 */
struct csq_fake *csq_fake_create(struct kunit *test,
				 const struct csq_ops *ops)
{
	struct csq_fake *fake;
	unsigned int i;
	int ret;

	fake = kunit_kzalloc(test, sizeof(*fake), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fake);
	fake->test = test;
	spin_lock_init(&fake->lock);
	INIT_LIST_HEAD(&fake->pending);
	for (i = 0; i < CSQ_FAKE_NR_REQS; i++) {
		csq_req_init(&fake->r[i].req);
		fake->r[i].req.complete_fn = csq_test_req_complete;
		fake->r[i].fake = fake;
	}

	ret = csq_fake_init(fake, ops);
	KUNIT_ASSERT_EQ(test, ret, 0);
	ret = kunit_add_action_or_reset(test, csq_fake_destroy, fake);
	KUNIT_ASSERT_EQ(test, ret, 0);
	return fake;
}

/*
 * The first half of csq_req_cancel(), frozen: the canceller has set the
 * flag and won the exchange, but has not run the routine yet, so it has
 * not taken the queue lock either.  Returns the routine it won.
 */
csq_cancel_fn_t csq_test_begin_cancel(struct csq_req *req)
{
	set_bit(CSQ_REQ_CANCEL, &req->flags);
	return csq_req_set_cancel_routine(req, NULL);
}

/* The second half: enter the routine the way csq_req_cancel() does. */
void csq_test_end_cancel(struct csq_req *req, csq_cancel_fn_t routine)
{
	unsigned long irqflags;

	csq_acquire_cancel_lock(&irqflags);
	routine(req, irqflags);
	/* For sparse: the routine released it. */
	__release(csq_cancel_lock);
}

/* csq_init() and csq_init_ex() */

MODULE_DESCRIPTION("KUnit tests for the cancel-safe request queue library");
MODULE_LICENSE("GPL");
