// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for csq, the cancel-safe request queue.
 *
 * The library is driven through a recording fake (a queue with its own list
 * and lock that counts every callback, checks the lock balance and that
 * nothing is completed under the lock), through the ready-made FIFO ops,
 * through a priority queue written here, and without any queue at all
 * through the raw cancel-routine layer.  Every race is tested twice: as a
 * deterministic case named by the order of its events, and for real by
 * kthreads on every CPU racing on one queue.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/irqflags.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "csq.h"

/* Requests per fake queue; deterministic cases use a handful. */
#define CSQ_FAKE_NR_REQS	8

/* How long a case waits for another context before it calls it hung. */
#define CSQ_TEST_TIMEOUT	(10 * HZ)

struct csq_fake;

/**
 * struct csq_test_req - a request as the deterministic cases see it
 * @req: the request under test.
 * @ctx: its context, for csq_remove_req().
 * @fake: the queue it belongs to.
 * @prio: its priority, for the priority queue.
 * @nr_completed: how many times it was completed; 1 is the only right
 *	answer once it has left the queue.
 */
struct csq_test_req {
	struct csq_req req;
	struct csq_req_ctx ctx;
	struct csq_fake *fake;
	unsigned int prio;
	atomic_t nr_completed;
};

/**
 * struct csq_fake - a queue that records what the library does to it
 * @csq: the queue under test.
 * @test: the running test, for the checks made at cleanup.
 * @lock: the queue lock of the fake ops.
 * @pending: the queued requests of the fake ops, in order.
 * @locked: whether @lock is held, set and cleared by the lock callbacks.
 * @nr_insert: calls of @insert.
 * @nr_insert_ex: calls of @insert_ex.
 * @nr_remove: calls of @remove.
 * @nr_peek_next: calls of @peek_next.
 * @nr_acquire: calls of @acquire_lock.
 * @nr_release: calls of @release_lock.
 * @nr_complete_canceled: calls of @complete_canceled.
 * @nr_lock_errors: list callbacks run without the lock, an acquire of a
 *	held lock, a release of a free one.
 * @nr_locked_completions: completions seen with the queue lock held.
 * @nr_linked_completions: cancelled requests completed while still linked
 *	or still associated with their context.
 * @last_insert_ctx: what @insert_ex was last given.
 * @cancel_on_insert: a request that @insert cancels as soon as it has
 *	linked it, before the library arms it.
 * @cancel_on_insert_ret: what that csq_req_cancel() returned.
 * @r: the requests of the queue, alive as long as the queue.
 *
 * The callback counters are written under @lock or, for the ready-made
 * ops, only from the test thread; the error counters from anywhere.
 */
struct csq_fake {
	struct csq csq;
	struct kunit *test;
	spinlock_t lock;	/* protects pending, locked */
	struct list_head pending;
	bool locked;
	unsigned int nr_insert;
	unsigned int nr_insert_ex;
	unsigned int nr_remove;
	unsigned int nr_peek_next;
	unsigned int nr_acquire;
	unsigned int nr_release;
	atomic_t nr_complete_canceled;
	atomic_t nr_lock_errors;
	atomic_t nr_locked_completions;
	atomic_t nr_linked_completions;
	void *last_insert_ctx;
	struct csq_req *cancel_on_insert;
	bool cancel_on_insert_ret;
	struct csq_test_req r[CSQ_FAKE_NR_REQS];
};

static struct csq_fake *to_fake(struct csq *csq)
{
	return container_of(csq, struct csq_fake, csq);
}

static struct csq_test_req *to_test_req(struct csq_req *req)
{
	return container_of(req, struct csq_test_req, req);
}

/* Whether the current context holds @csq's lock, whatever its type. */
static bool csq_test_lock_held(struct csq *csq)
{
#ifdef CONFIG_LOCKDEP
	return lockdep_is_held(csq) == LOCK_STATE_HELD;
#else
	return false;
#endif
}

static void csq_fake_check_locked(struct csq_fake *fake)
{
	if (!fake->locked)
		atomic_inc(&fake->nr_lock_errors);
}

static void csq_fake_insert(struct csq *csq, struct csq_req *req)
{
	struct csq_fake *fake = to_fake(csq);

	csq_fake_check_locked(fake);
	fake->nr_insert++;
	list_add_tail(&req->entry, &fake->pending);
	if (req == fake->cancel_on_insert)
		fake->cancel_on_insert_ret = csq_req_cancel(req);
}

/* @insert_ctx, if not NULL, points to the errno with which to refuse. */
static int csq_fake_insert_ex(struct csq *csq, struct csq_req *req,
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

static void csq_fake_remove(struct csq *csq, struct csq_req *req)
{
	struct csq_fake *fake = to_fake(csq);

	csq_fake_check_locked(fake);
	fake->nr_remove++;
	list_del_init(&req->entry);
}

/* A NULL @peek_ctx matches every request, else the requests it owns. */
static struct csq_req *csq_fake_peek_next(struct csq *csq,
					  struct csq_req *req, void *peek_ctx)
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

static void csq_fake_acquire_lock(struct csq *csq, unsigned long *flags)
	__acquires(&to_fake(csq)->lock)
{
	struct csq_fake *fake = to_fake(csq);

	spin_lock_irqsave(&fake->lock, *flags);
	if (fake->locked)
		atomic_inc(&fake->nr_lock_errors);
	fake->locked = true;
	fake->nr_acquire++;
}

static void csq_fake_release_lock(struct csq *csq, unsigned long flags)
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

static void csq_fake_complete_canceled(struct csq *csq, struct csq_req *req)
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
static void csq_test_req_complete(struct csq_req *req)
{
	struct csq_test_req *treq = to_test_req(req);

	if (csq_fake_completing_locked(treq->fake))
		atomic_inc(&treq->fake->nr_locked_completions);
	atomic_inc(&treq->nr_completed);
	complete(&req->done);
}

static const struct csq_ops csq_fake_ops = {
	.insert = csq_fake_insert,
	.remove = csq_fake_remove,
	.peek_next = csq_fake_peek_next,
	.acquire_lock = csq_fake_acquire_lock,
	.release_lock = csq_fake_release_lock,
	.complete_canceled = csq_fake_complete_canceled,
};

static const struct csq_ops csq_fake_ex_ops = {
	.insert_ex = csq_fake_insert_ex,
	.remove = csq_fake_remove,
	.peek_next = csq_fake_peek_next,
	.acquire_lock = csq_fake_acquire_lock,
	.release_lock = csq_fake_release_lock,
	.complete_canceled = csq_fake_complete_canceled,
};

/*
 * A priority queue: @pending sorted by descending priority, FIFO among
 * equals.  The peek context is the lowest priority the caller accepts;
 * because the list is sorted, the first request below it ends the walk.
 */
static void csq_prio_insert(struct csq *csq, struct csq_req *req)
{
	struct csq_fake *fake = to_fake(csq);
	unsigned int prio = to_test_req(req)->prio;
	struct csq_req *pos;

	csq_fake_check_locked(fake);
	fake->nr_insert++;
	list_for_each_entry(pos, &fake->pending, entry) {
		if (to_test_req(pos)->prio < prio)
			break;
	}
	list_add_tail(&req->entry, &pos->entry);
}

static struct csq_req *csq_prio_peek_next(struct csq *csq,
					  struct csq_req *req, void *peek_ctx)
{
	struct csq_fake *fake = to_fake(csq);
	const unsigned int *min_prio = peek_ctx;

	csq_fake_check_locked(fake);
	fake->nr_peek_next++;
	req = req ? list_next_entry(req, entry) :
		    list_first_entry(&fake->pending, struct csq_req, entry);
	if (list_entry_is_head(req, &fake->pending, entry))
		return NULL;
	if (min_prio && to_test_req(req)->prio < *min_prio)
		return NULL;
	return req;
}

static const struct csq_ops csq_prio_ops = {
	.insert = csq_prio_insert,
	.remove = csq_fake_remove,
	.peek_next = csq_prio_peek_next,
	.acquire_lock = csq_fake_acquire_lock,
	.release_lock = csq_fake_release_lock,
	.complete_canceled = csq_fake_complete_canceled,
};

/*
 * Ready-made list and lock callbacks, which the library runs inline, with
 * the driver's own @peek_next (newest first) and @complete_canceled: the
 * library must still call those two.
 */
static struct csq_req *csq_lifo_peek_next(struct csq *csq,
					  struct csq_req *req, void *peek_ctx)
{
	to_fake(csq)->nr_peek_next++;
	req = req ? list_prev_entry(req, entry) :
		    list_last_entry(&csq->list, struct csq_req, entry);
	return list_entry_is_head(req, &csq->list, entry) ? NULL : req;
}

static const struct csq_ops csq_lifo_ops = {
	.insert = csq_fifo_insert,
	.remove = csq_fifo_remove,
	.peek_next = csq_lifo_peek_next,
	.acquire_lock = csq_spin_acquire_lock,
	.release_lock = csq_spin_release_lock,
	.complete_canceled = csq_fake_complete_canceled,
};

/* Callbacks of a mutex queue may sleep: these do, on every call. */
static void csq_sleepy_insert(struct csq *csq, struct csq_req *req)
{
	might_sleep();
	usleep_range(10, 20);
	to_fake(csq)->nr_insert++;
	csq_fifo_insert(csq, req);
}

static void csq_sleepy_complete_canceled(struct csq *csq, struct csq_req *req)
{
	might_sleep();
	usleep_range(10, 20);
	atomic_inc(&to_fake(csq)->nr_complete_canceled);
	csq_complete_canceled(csq, req);
}

static const struct csq_ops csq_sleepy_ops = {
	.insert = csq_sleepy_insert,
	.remove = csq_fifo_remove,
	.peek_next = csq_fifo_peek_next,
	.acquire_lock = csq_mutex_acquire_lock,
	.release_lock = csq_mutex_release_lock,
	.complete_canceled = csq_sleepy_complete_canceled,
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
	csq_destroy(&fake->csq);
}

/*
 * csq_init() gives each call site its own lockdep class: queues with
 * different lock types are initialised from different lines, or lockdep
 * would see one class taken both in hard irq and under a mutex.
 */
static int csq_fake_init(struct csq_fake *fake, const struct csq_ops *ops)
{
	if (ops->acquire_lock == csq_mutex_acquire_lock)
		return csq_init(&fake->csq, ops);
	if (ops->acquire_lock == csq_spin_acquire_lock)
		return csq_init(&fake->csq, ops);
	if (ops->insert_ex)
		return csq_init_ex(&fake->csq, ops);
	return csq_init(&fake->csq, ops);
}

static struct csq_fake *csq_fake_create(struct kunit *test,
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

static struct csq_req *csq_fake_req(struct csq_fake *fake, unsigned int i)
{
	return &fake->r[i].req;
}

static int csq_fake_insert_req(struct csq_fake *fake, unsigned int i)
{
	return csq_insert_req(&fake->csq, &fake->r[i].req, &fake->r[i].ctx);
}

static int csq_fake_nr_completed(struct csq_fake *fake, unsigned int i)
{
	return atomic_read(&fake->r[i].nr_completed);
}

/*
 * The first half of csq_req_cancel(), frozen: the canceller has set the
 * flag and won the exchange, but has not run the routine yet, so it has
 * not taken the queue lock either.  Returns the routine it won.
 */
static csq_cancel_fn_t csq_test_begin_cancel(struct csq_req *req)
{
	set_bit(CSQ_REQ_CANCEL, &req->flags);
	return csq_req_set_cancel_routine(req, NULL);
}

/* The second half: enter the routine the way csq_req_cancel() does. */
static void csq_test_end_cancel(struct csq_req *req, csq_cancel_fn_t routine)
{
	unsigned long irqflags;

	csq_acquire_cancel_lock(&irqflags);
	routine(req, irqflags);
	/* For sparse: the routine released it. */
	__release(csq_cancel_lock);
}

/* csq_init() and csq_init_ex() */

static void csq_init_accepts_complete_ops(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_fake *fake_ex = csq_fake_create(test, &csq_fake_ex_ops);

	KUNIT_EXPECT_PTR_EQ(test, fake->csq.ops, &csq_fake_ops);
	KUNIT_EXPECT_PTR_EQ(test, fake_ex->csq.ops, &csq_fake_ex_ops);
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 0);
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake_ex->csq));
	KUNIT_EXPECT_EQ(test, fake->nr_acquire, 0);
}

static const struct csq_ops csq_ops_without_insert = {
	.remove = csq_fake_remove,
	.peek_next = csq_fake_peek_next,
	.acquire_lock = csq_fake_acquire_lock,
	.release_lock = csq_fake_release_lock,
	.complete_canceled = csq_fake_complete_canceled,
};

static const struct csq_ops csq_ops_with_both_inserts = {
	.insert = csq_fake_insert,
	.insert_ex = csq_fake_insert_ex,
	.remove = csq_fake_remove,
	.peek_next = csq_fake_peek_next,
	.acquire_lock = csq_fake_acquire_lock,
	.release_lock = csq_fake_release_lock,
	.complete_canceled = csq_fake_complete_canceled,
};

static const struct csq_ops csq_ops_without_remove = {
	.insert = csq_fake_insert,
	.peek_next = csq_fake_peek_next,
	.acquire_lock = csq_fake_acquire_lock,
	.release_lock = csq_fake_release_lock,
	.complete_canceled = csq_fake_complete_canceled,
};

static const struct csq_ops csq_ops_without_peek_next = {
	.insert = csq_fake_insert,
	.remove = csq_fake_remove,
	.acquire_lock = csq_fake_acquire_lock,
	.release_lock = csq_fake_release_lock,
	.complete_canceled = csq_fake_complete_canceled,
};

static const struct csq_ops csq_ops_without_acquire_lock = {
	.insert = csq_fake_insert,
	.remove = csq_fake_remove,
	.peek_next = csq_fake_peek_next,
	.release_lock = csq_fake_release_lock,
	.complete_canceled = csq_fake_complete_canceled,
};

static const struct csq_ops csq_ops_without_release_lock = {
	.insert = csq_fake_insert,
	.remove = csq_fake_remove,
	.peek_next = csq_fake_peek_next,
	.acquire_lock = csq_fake_acquire_lock,
	.complete_canceled = csq_fake_complete_canceled,
};

static const struct csq_ops csq_ops_without_complete_canceled = {
	.insert = csq_fake_insert,
	.remove = csq_fake_remove,
	.peek_next = csq_fake_peek_next,
	.acquire_lock = csq_fake_acquire_lock,
	.release_lock = csq_fake_release_lock,
};

struct csq_init_param {
	const char *desc;
	const struct csq_ops *ops;
	bool ex;
};

static const struct csq_init_param csq_init_params[] = {
	{ "csq_init without insert", &csq_ops_without_insert, false },
	{ "csq_init with insert_ex only", &csq_fake_ex_ops, false },
	{ "csq_init with both inserts", &csq_ops_with_both_inserts, false },
	{ "csq_init_ex with insert only", &csq_fake_ops, true },
	{ "csq_init_ex with both inserts", &csq_ops_with_both_inserts, true },
	{ "csq_init without remove", &csq_ops_without_remove, false },
	{ "csq_init without peek_next", &csq_ops_without_peek_next, false },
	{ "csq_init without acquire_lock", &csq_ops_without_acquire_lock,
	  false },
	{ "csq_init without release_lock", &csq_ops_without_release_lock,
	  false },
	{ "csq_init without complete_canceled",
	  &csq_ops_without_complete_canceled, false },
};

static void csq_init_param_desc(const struct csq_init_param *param,
				char *desc)
{
	strscpy(desc, param->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(csq_init, csq_init_params, csq_init_param_desc);

static void csq_init_rejects_incomplete_ops(struct kunit *test)
{
	const struct csq_init_param *param = test->param_value;
	struct csq *csq;
	int ret;

	csq = kunit_kzalloc(test, sizeof(*csq), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, csq);

	if (param->ex)
		ret = csq_init_ex(csq, param->ops);
	else
		ret = csq_init(csq, param->ops);

	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	KUNIT_EXPECT_NULL(test, csq->ops);
}

/* Insert and take back */

static void csq_remove_next_req_is_fifo(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req;
	unsigned int i;

	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);
	KUNIT_EXPECT_EQ(test, fake->nr_insert, 3);
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 3);

	for (i = 0; i < 3; i++) {
		req = csq_remove_next_req(&fake->csq, NULL);
		KUNIT_EXPECT_PTR_EQ(test, req, csq_fake_req(fake, i));
		if (!req)
			continue;
		KUNIT_EXPECT_TRUE(test, list_empty(&req->entry));
		KUNIT_EXPECT_NULL(test, req->ctx);
		KUNIT_EXPECT_NULL(test, fake->r[i].ctx.req);
		csq_req_complete(req, 0, i);
	}
	KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, NULL));

	KUNIT_EXPECT_EQ(test, fake->nr_remove, 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 0);
	KUNIT_EXPECT_EQ(test, fake->nr_acquire, 3 + 4);
	KUNIT_EXPECT_EQ(test, fake->nr_release, fake->nr_acquire);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
		KUNIT_EXPECT_EQ(test, fake->r[i].req.status, 0);
		KUNIT_EXPECT_EQ(test, fake->r[i].req.information, i);
	}
}

static void csq_remove_next_req_on_empty_queue(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);

	KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, NULL));
	KUNIT_EXPECT_EQ(test, fake->nr_peek_next, 1);
	KUNIT_EXPECT_EQ(test, fake->nr_remove, 0);
	KUNIT_EXPECT_EQ(test, fake->nr_acquire, 1);
	KUNIT_EXPECT_EQ(test, fake->nr_release, 1);
}

static void csq_count_follows_queue(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req;
	unsigned int i;

	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake->csq));
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);
		KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), i + 1);
	}
	KUNIT_EXPECT_FALSE(test, csq_is_empty(&fake->csq));

	req = csq_remove_next_req(&fake->csq, NULL);
	KUNIT_ASSERT_NOT_NULL(test, req);
	csq_req_complete(req, 0, 0);
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 3);

	KUNIT_EXPECT_TRUE(test, csq_req_cancel(csq_fake_req(fake, 1)));
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 2);

	req = csq_remove_req(&fake->csq, &fake->r[2].ctx);
	KUNIT_ASSERT_NOT_NULL(test, req);
	csq_req_complete(req, 0, 0);
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 1);

	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 1);
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 0);
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake->csq));
	KUNIT_EXPECT_TRUE(test, list_empty(&fake->pending));
}

static void csq_remove_req_by_context(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req;
	unsigned int i;

	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);
	KUNIT_EXPECT_PTR_EQ(test, fake->r[1].ctx.req, csq_fake_req(fake, 1));
	KUNIT_EXPECT_PTR_EQ(test, fake->r[1].ctx.csq, &fake->csq);

	req = csq_remove_req(&fake->csq, &fake->r[1].ctx);
	KUNIT_EXPECT_PTR_EQ(test, req, csq_fake_req(fake, 1));
	KUNIT_EXPECT_NULL(test, fake->r[1].ctx.req);
	KUNIT_EXPECT_NULL(test, fake->r[1].req.ctx);
	KUNIT_EXPECT_TRUE(test, list_empty(&fake->r[1].req.entry));
	KUNIT_EXPECT_EQ(test, fake->nr_remove, 1);
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 2);
	/* The others keep their order. */
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 0));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 2));

	for (i = 0; i < 3; i++) {
		csq_req_complete(csq_fake_req(fake, i), 0, 0);
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 0);
}

static void csq_remove_req_twice(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req;

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	req = csq_remove_req(&fake->csq, &fake->r[0].ctx);
	KUNIT_EXPECT_PTR_EQ(test, req, csq_fake_req(fake, 0));
	KUNIT_EXPECT_NULL(test, csq_remove_req(&fake->csq, &fake->r[0].ctx));
	KUNIT_EXPECT_EQ(test, fake->nr_remove, 1);

	csq_req_complete(csq_fake_req(fake, 0), 0, 0);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
}

/* Rule 3: whoever unlinks breaks the association, remove_next included. */
static void csq_remove_req_after_remove_next(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req;

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	req = csq_remove_next_req(&fake->csq, NULL);
	KUNIT_EXPECT_PTR_EQ(test, req, csq_fake_req(fake, 0));
	KUNIT_EXPECT_NULL(test, fake->r[0].ctx.req);

	KUNIT_EXPECT_NULL(test, csq_remove_req(&fake->csq, &fake->r[0].ctx));
	KUNIT_EXPECT_EQ(test, fake->nr_remove, 1);

	csq_req_complete(csq_fake_req(fake, 0), 0, 0);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
}

/* Rule 7: a removed request is the driver's, to complete as it likes. */
static void csq_req_complete_after_remove(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req;

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	req = csq_remove_next_req(&fake->csq, NULL);
	KUNIT_ASSERT_PTR_EQ(test, req, csq_fake_req(fake, 0));
	KUNIT_EXPECT_NULL(test, csq_req_set_cancel_routine(req, NULL));

	csq_req_complete(req, 0, 42);

	KUNIT_EXPECT_EQ(test, req->status, 0);
	KUNIT_EXPECT_EQ(test, req->information, 42);
	KUNIT_EXPECT_TRUE(test, completion_done(&req->done));
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 0);
}

/* Cancellation, named by the order of events */

static void csq_req_cancel_while_queued(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req = csq_fake_req(fake, 0);

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 1), 0);

	KUNIT_EXPECT_TRUE(test, csq_req_cancel(req));

	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, req->status, -ECANCELED);
	KUNIT_EXPECT_EQ(test, req->information, 0);
	KUNIT_EXPECT_TRUE(test, csq_req_is_canceled(req));
	KUNIT_EXPECT_TRUE(test, list_empty(&req->entry));
	KUNIT_EXPECT_NULL(test, fake->r[0].ctx.req);
	KUNIT_EXPECT_EQ(test, fake->nr_remove, 1);
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 1);

	KUNIT_EXPECT_NULL(test, csq_remove_req(&fake->csq, &fake->r[0].ctx));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 1));
	csq_req_complete(csq_fake_req(fake, 1), 0, 0);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 1), 1);
}

static void csq_req_cancel_twice(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req = csq_fake_req(fake, 0);

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	KUNIT_EXPECT_TRUE(test, csq_req_cancel(req));
	KUNIT_EXPECT_FALSE(test, csq_req_cancel(req));

	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, fake->nr_remove, 1);
	KUNIT_EXPECT_TRUE(test, csq_req_is_canceled(req));
}

/* The documented decision: linked, found cancelled, completed, -ECANCELED. */
static void csq_req_cancel_before_insert(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req = csq_fake_req(fake, 0);

	KUNIT_EXPECT_FALSE(test, csq_req_cancel(req));
	KUNIT_EXPECT_TRUE(test, csq_req_is_canceled(req));
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 0);

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), -ECANCELED);

	KUNIT_EXPECT_EQ(test, fake->nr_insert, 1);
	KUNIT_EXPECT_EQ(test, fake->nr_remove, 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, req->status, -ECANCELED);
	KUNIT_EXPECT_TRUE(test, list_empty(&fake->pending));
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake->csq));
	KUNIT_EXPECT_NULL(test, fake->r[0].ctx.req);
	KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, NULL));
}

/* Rule 1: @insert cancels the request after linking it, before arming. */
static void csq_req_cancel_between_link_and_arm(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req = csq_fake_req(fake, 0);

	fake->cancel_on_insert = req;
	fake->cancel_on_insert_ret = true;

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), -ECANCELED);

	/* No routine yet: the canceller left the request to the inserter. */
	KUNIT_EXPECT_FALSE(test, fake->cancel_on_insert_ret);
	KUNIT_EXPECT_EQ(test, fake->nr_insert, 1);
	KUNIT_EXPECT_EQ(test, fake->nr_remove, 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, req->status, -ECANCELED);
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake->csq));
	KUNIT_EXPECT_TRUE(test, list_empty(&fake->pending));
	KUNIT_EXPECT_NULL(test, fake->r[0].ctx.req);
}

static void csq_req_cancel_after_remove_next(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req;

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	req = csq_remove_next_req(&fake->csq, NULL);
	KUNIT_ASSERT_PTR_EQ(test, req, csq_fake_req(fake, 0));

	KUNIT_EXPECT_FALSE(test, csq_req_cancel(req));
	KUNIT_EXPECT_TRUE(test, csq_req_is_canceled(req));
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 0);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 0);

	/* The owner sees the flag and stops early; its choice of status. */
	csq_req_complete(req, -ECANCELED, 0);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, fake->nr_remove, 1);
}

static void csq_req_cancel_after_remove_req(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req;

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	req = csq_remove_req(&fake->csq, &fake->r[0].ctx);
	KUNIT_ASSERT_PTR_EQ(test, req, csq_fake_req(fake, 0));

	KUNIT_EXPECT_FALSE(test, csq_req_cancel(req));
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 0);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 0);

	csq_req_complete(req, 0, 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, req->status, 0);
}

/* Rule 2: the remover lost; it touches neither the request nor the ctx. */
static void csq_remove_req_while_cancel_in_progress(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req = csq_fake_req(fake, 0);
	csq_cancel_fn_t routine;

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	routine = csq_test_begin_cancel(req);
	KUNIT_ASSERT_NOT_NULL(test, routine);

	KUNIT_EXPECT_NULL(test, csq_remove_req(&fake->csq, &fake->r[0].ctx));
	KUNIT_EXPECT_PTR_EQ(test, fake->r[0].ctx.req, req);
	KUNIT_EXPECT_PTR_EQ(test, req->ctx, &fake->r[0].ctx);
	KUNIT_EXPECT_FALSE(test, list_empty(&req->entry));
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 1);
	KUNIT_EXPECT_EQ(test, fake->nr_remove, 0);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 0);

	csq_test_end_cancel(req, routine);

	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, req->status, -ECANCELED);
	KUNIT_EXPECT_NULL(test, fake->r[0].ctx.req);
	KUNIT_EXPECT_EQ(test, fake->nr_remove, 1);
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake->csq));
}

static void csq_remove_next_req_skips_cancel_in_progress(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req = csq_fake_req(fake, 0);
	csq_cancel_fn_t routine;

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 1), 0);
	routine = csq_test_begin_cancel(req);
	KUNIT_ASSERT_NOT_NULL(test, routine);

	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 1));
	KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, NULL));
	KUNIT_EXPECT_PTR_EQ(test, fake->r[0].ctx.req, req);
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 1);
	KUNIT_EXPECT_EQ(test, fake->nr_remove, 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 0);

	csq_test_end_cancel(req, routine);
	csq_req_complete(csq_fake_req(fake, 1), 0, 0);

	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 1), 1);
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake->csq));
}

static void csq_flush_skips_cancel_in_progress(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req = csq_fake_req(fake, 1);
	csq_cancel_fn_t routine;
	unsigned int i;

	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);
	routine = csq_test_begin_cancel(req);
	KUNIT_ASSERT_NOT_NULL(test, routine);

	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 2);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 1), 0);
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 1);

	csq_test_end_cancel(req, routine);

	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 3);
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
		KUNIT_EXPECT_EQ(test, fake->r[i].req.status, -ECANCELED);
	}
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake->csq));
}

/* Rule 5: the cancel path finds the queue from the request alone. */
static void csq_req_cancel_finds_queue_from_req(struct kunit *test)
{
	struct csq_fake *a = csq_fake_create(test, &csq_fake_ops);
	struct csq_fake *b = csq_fake_create(test, &csq_fake_ops);
	unsigned int a_acquire;

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(a, 0), 0);
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(b, 0), 0);
	a_acquire = a->nr_acquire;

	KUNIT_EXPECT_TRUE(test, csq_req_cancel(csq_fake_req(b, 0)));

	KUNIT_EXPECT_EQ(test, b->nr_remove, 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&b->nr_complete_canceled), 1);
	KUNIT_EXPECT_EQ(test, csq_count(&b->csq), 0);
	KUNIT_EXPECT_EQ(test, a->nr_acquire, a_acquire);
	KUNIT_EXPECT_EQ(test, a->nr_remove, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&a->nr_complete_canceled), 0);
	KUNIT_EXPECT_EQ(test, csq_count(&a->csq), 1);

	KUNIT_EXPECT_TRUE(test, csq_req_cancel(csq_fake_req(a, 0)));
	KUNIT_EXPECT_EQ(test, atomic_read(&a->nr_complete_canceled), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(a, 0), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(b, 0), 1);
}

/* Rule 4: collect under the lock, complete after releasing it. */
static void csq_flush_completes_outside_lock(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	unsigned int i;

	for (i = 0; i < CSQ_FAKE_NR_REQS; i++)
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);

	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), CSQ_FAKE_NR_REQS);

	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled),
			CSQ_FAKE_NR_REQS);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_locked_completions), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_linked_completions), 0);
	KUNIT_EXPECT_EQ(test, fake->nr_remove, CSQ_FAKE_NR_REQS);
	for (i = 0; i < CSQ_FAKE_NR_REQS; i++) {
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
		KUNIT_EXPECT_NULL(test, fake->r[i].ctx.req);
	}
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake->csq));
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 0);
}

/* insert_ex */

static void csq_insert_req_ex_passes_insert_ctx(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ex_ops);
	int accept = 0;

	KUNIT_EXPECT_EQ(test, csq_insert_req_ex(&fake->csq,
						csq_fake_req(fake, 0),
						&fake->r[0].ctx, &accept), 0);
	KUNIT_EXPECT_PTR_EQ(test, fake->last_insert_ctx, (void *)&accept);
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 1), 0);
	KUNIT_EXPECT_NULL(test, fake->last_insert_ctx);
	KUNIT_EXPECT_EQ(test, fake->nr_insert_ex, 2);
	KUNIT_EXPECT_EQ(test, fake->nr_insert, 0);
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 2);

	KUNIT_EXPECT_TRUE(test, csq_req_cancel(csq_fake_req(fake, 0)));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_req(&fake->csq, &fake->r[1].ctx),
			    csq_fake_req(fake, 1));
	csq_req_complete(csq_fake_req(fake, 1), 0, 0);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 1), 1);
}

/* Rule 6: refused means not queued, not cancelable, still the caller's. */
static void csq_insert_req_ex_refused(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ex_ops);
	struct csq_req *req = csq_fake_req(fake, 0);
	int busy = -EBUSY;

	KUNIT_EXPECT_EQ(test, csq_insert_req_ex(&fake->csq, req,
						&fake->r[0].ctx, &busy),
			-EBUSY);

	KUNIT_EXPECT_EQ(test, fake->nr_insert_ex, 1);
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake->csq));
	KUNIT_EXPECT_TRUE(test, list_empty(&fake->pending));
	KUNIT_EXPECT_NULL(test, fake->r[0].ctx.req);
	KUNIT_EXPECT_NULL(test, req->ctx);
	KUNIT_EXPECT_NULL(test, csq_remove_req(&fake->csq, &fake->r[0].ctx));
	KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, NULL));
	KUNIT_EXPECT_FALSE(test, csq_req_cancel(req));
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 0);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 0);
	KUNIT_EXPECT_EQ(test, fake->nr_remove, 0);

	/* The start-it-now path: the caller completes it itself. */
	csq_req_complete(req, 0, 7);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, req->information, 7);

	/* The queue is unharmed. */
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 1), 0);
	KUNIT_EXPECT_TRUE(test, csq_req_cancel(csq_fake_req(fake, 1)));
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 1), 1);
}

/* A refusal wins over an earlier cancel: the caller still owns it. */
static void csq_insert_req_ex_refused_after_cancel(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ex_ops);
	struct csq_req *req = csq_fake_req(fake, 0);
	int busy = -EBUSY;

	KUNIT_EXPECT_FALSE(test, csq_req_cancel(req));
	KUNIT_EXPECT_EQ(test, csq_insert_req_ex(&fake->csq, req,
						&fake->r[0].ctx, &busy),
			-EBUSY);

	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 0);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 0);
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake->csq));
	KUNIT_EXPECT_TRUE(test, csq_req_is_canceled(req));

	csq_req_complete(req, -ECANCELED, 0);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
}

/* Peek contexts: a filter, then a priority */

static void csq_remove_next_req_filters_by_owner(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
	int file_a, file_b;
	void *owner[] = { &file_a, &file_b };
	unsigned int i;

	for (i = 0; i < 6; i++) {
		fake->r[i].req.owner = owner[i % 2];
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);
	}

	for (i = 0; i < 6; i += 2) {
		KUNIT_EXPECT_PTR_EQ(test,
				    csq_remove_next_req(&fake->csq, &file_a),
				    csq_fake_req(fake, i));
	}
	KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, &file_a));
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 3);
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 1));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, &file_b),
			    csq_fake_req(fake, 3));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, &file_b),
			    csq_fake_req(fake, 5));
	KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, &file_b));

	for (i = 0; i < 6; i++) {
		csq_req_complete(csq_fake_req(fake, i), 0, 0);
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
	}
}

/* The close() sweep: cancel one owner's requests, leave the others. */
static void csq_flush_sweeps_one_owner(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
	int file_a, file_b;
	void *owner[] = { &file_a, &file_b, &file_b };
	unsigned int i;

	for (i = 0; i < 6; i++) {
		fake->r[i].req.owner = owner[i % 3];
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);
	}

	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, &file_b), 4);

	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 2);
	for (i = 0; i < 6; i++) {
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i),
				owner[i % 3] == &file_b);
	}
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, &file_b), 0);
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 0));
	csq_req_complete(csq_fake_req(fake, 0), 0, 0);
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 1);
	for (i = 0; i < 6; i++) {
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
		KUNIT_EXPECT_EQ(test, fake->r[i].req.status,
				i == 0 ? 0 : -ECANCELED);
	}
}

static void csq_flush_empty_queue(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);

	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 0);
	KUNIT_EXPECT_EQ(test, fake->nr_remove, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 0);
	KUNIT_EXPECT_EQ(test, fake->nr_acquire, fake->nr_release);
}

/* Owner lists: the same answers as one list, from each owner's own list */

static void csq_owner_fifo_remove_next_filters_by_owner(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_owner_fifo_spin_ops);
	struct csq_owner file_a, file_b;
	struct csq_owner *owner[] = { &file_a, &file_b, NULL };
	unsigned int i;

	csq_owner_init(&file_a);
	csq_owner_init(&file_b);
	for (i = 0; i < 6; i++) {
		fake->r[i].req.owner = owner[i % 3];
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);
	}

	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, &file_b),
			    csq_fake_req(fake, 1));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, &file_b),
			    csq_fake_req(fake, 4));
	KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, &file_b));
	KUNIT_EXPECT_TRUE(test, list_empty(&file_b.reqs));
	/* Without a peek context: the whole queue in order, unowned too. */
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 0));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 2));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, &file_a),
			    csq_fake_req(fake, 3));
	KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, &file_a));
	KUNIT_EXPECT_TRUE(test, list_empty(&file_a.reqs));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 5));
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake->csq));

	for (i = 0; i < 6; i++) {
		csq_req_complete(csq_fake_req(fake, i), 0, 0);
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
	}
}

/* The close() sweep walks the closing owner's list and leaves the rest. */
static void csq_owner_fifo_flush_sweeps_one_owner(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_owner_fifo_spin_ops);
	struct csq_owner file_a, file_b;
	struct csq_owner *owner[] = { &file_a, &file_b, &file_b };
	unsigned int i;

	csq_owner_init(&file_a);
	csq_owner_init(&file_b);
	for (i = 0; i < 6; i++) {
		fake->r[i].req.owner = owner[i % 3];
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);
	}

	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, &file_b), 4);

	KUNIT_EXPECT_TRUE(test, list_empty(&file_b.reqs));
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 2);
	for (i = 0; i < 6; i++) {
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i),
				owner[i % 3] == &file_b);
	}
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, &file_b), 0);
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 0));
	csq_req_complete(csq_fake_req(fake, 0), 0, 0);
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, &file_a), 1);
	KUNIT_EXPECT_TRUE(test, list_empty(&file_a.reqs));
	for (i = 0; i < 6; i++) {
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
		KUNIT_EXPECT_EQ(test, fake->r[i].req.status,
				i == 0 ? 0 : -ECANCELED);
	}
}

/* A cancel and a remove by context take the request off its owner too. */
static void csq_owner_fifo_cancel_and_remove_unlink_from_owner(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_owner_fifo_spin_ops);
	struct csq_owner file_a;
	unsigned int i;

	csq_owner_init(&file_a);
	for (i = 0; i < 4; i++) {
		fake->r[i].req.owner = &file_a;
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);
	}

	KUNIT_EXPECT_TRUE(test, csq_req_cancel(csq_fake_req(fake, 1)));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_req(&fake->csq, &fake->r[2].ctx),
			    csq_fake_req(fake, 2));
	csq_req_complete(csq_fake_req(fake, 2), 0, 0);

	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 2);
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, &file_a),
			    csq_fake_req(fake, 0));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, &file_a),
			    csq_fake_req(fake, 3));
	KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, &file_a));
	KUNIT_EXPECT_TRUE(test, list_empty(&file_a.reqs));
	csq_req_complete(csq_fake_req(fake, 0), 0, 0);
	csq_req_complete(csq_fake_req(fake, 3), 0, 0);
	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
		KUNIT_EXPECT_EQ(test, fake->r[i].req.status,
				i == 1 ? -ECANCELED : 0);
	}
}

/* Rule 2 on owner lists: a sweep leaves a request its canceller owns. */
static void csq_owner_fifo_flush_skips_cancel_in_progress(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_owner_fifo_spin_ops);
	struct csq_req *req = csq_fake_req(fake, 1);
	struct csq_owner file_a;
	csq_cancel_fn_t routine;
	unsigned int i;

	csq_owner_init(&file_a);
	for (i = 0; i < 3; i++) {
		fake->r[i].req.owner = &file_a;
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);
	}
	routine = csq_test_begin_cancel(req);
	KUNIT_ASSERT_NOT_NULL(test, routine);

	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, &file_a), 2);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 1), 0);
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 1);
	KUNIT_EXPECT_FALSE(test, list_empty(&file_a.reqs));

	csq_test_end_cancel(req, routine);

	KUNIT_EXPECT_TRUE(test, list_empty(&file_a.reqs));
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
		KUNIT_EXPECT_EQ(test, fake->r[i].req.status, -ECANCELED);
	}
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake->csq));
}

static const unsigned int csq_prio_of[] = { 1, 5, 3, 5, 2 };

static struct csq_fake *csq_prio_create(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_prio_ops);
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(csq_prio_of); i++) {
		fake->r[i].prio = csq_prio_of[i];
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);
	}
	return fake;
}

static void csq_prio_remove_next_highest_first(struct kunit *test)
{
	struct csq_fake *fake = csq_prio_create(test);
	static const unsigned int order[] = { 1, 3, 2, 4, 0 };
	struct csq_req *req;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(order); i++) {
		req = csq_remove_next_req(&fake->csq, NULL);
		KUNIT_EXPECT_PTR_EQ(test, req, csq_fake_req(fake, order[i]));
		if (req)
			csq_req_complete(req, 0, 0);
	}
	KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, NULL));
	for (i = 0; i < ARRAY_SIZE(order); i++)
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
}

static void csq_prio_peek_ctx_minimum_priority(struct kunit *test)
{
	struct csq_fake *fake = csq_prio_create(test);
	static const unsigned int order[] = { 1, 3, 2 };
	unsigned int min_prio = 3;
	struct csq_req *req;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(order); i++) {
		req = csq_remove_next_req(&fake->csq, &min_prio);
		KUNIT_EXPECT_PTR_EQ(test, req, csq_fake_req(fake, order[i]));
		if (req)
			csq_req_complete(req, 0, 0);
	}
	KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, &min_prio));
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 2);

	min_prio = 2;
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, &min_prio), 1);
	KUNIT_EXPECT_EQ(test, fake->r[4].req.status, -ECANCELED);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 0);
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 1);
	for (i = 0; i < ARRAY_SIZE(csq_prio_of); i++)
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
}

static void csq_prio_cancel_keeps_order(struct kunit *test)
{
	struct csq_fake *fake = csq_prio_create(test);
	static const unsigned int order[] = { 3, 4, 0 };
	struct csq_req *req;
	unsigned int i;

	/* The head, then one from the middle. */
	KUNIT_EXPECT_TRUE(test, csq_req_cancel(csq_fake_req(fake, 1)));
	KUNIT_EXPECT_TRUE(test, csq_req_cancel(csq_fake_req(fake, 2)));
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 2);

	for (i = 0; i < ARRAY_SIZE(order); i++) {
		req = csq_remove_next_req(&fake->csq, NULL);
		KUNIT_EXPECT_PTR_EQ(test, req, csq_fake_req(fake, order[i]));
		if (req)
			csq_req_complete(req, 0, 0);
	}
	for (i = 0; i < ARRAY_SIZE(csq_prio_of); i++)
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
}

/* The ready-made ops */

static void csq_fifo_spin_ops_irqs_disabled(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_req *next;
	unsigned int flushed;
	bool canceled;
	unsigned long flags;
	int ret[3];

	local_irq_save(flags);
	ret[0] = csq_fake_insert_req(fake, 0);
	ret[1] = csq_fake_insert_req(fake, 1);
	ret[2] = csq_fake_insert_req(fake, 2);
	canceled = csq_req_cancel(csq_fake_req(fake, 1));
	next = csq_remove_next_req(&fake->csq, NULL);
	if (next)
		csq_req_complete(next, 0, 0);
	flushed = csq_flush(&fake->csq, NULL);
	local_irq_restore(flags);

	KUNIT_EXPECT_EQ(test, ret[0], 0);
	KUNIT_EXPECT_EQ(test, ret[1], 0);
	KUNIT_EXPECT_EQ(test, ret[2], 0);
	KUNIT_EXPECT_TRUE(test, canceled);
	KUNIT_EXPECT_PTR_EQ(test, next, csq_fake_req(fake, 0));
	KUNIT_EXPECT_EQ(test, flushed, 1);
	KUNIT_EXPECT_EQ(test, fake->r[0].req.status, 0);
	KUNIT_EXPECT_EQ(test, fake->r[1].req.status, -ECANCELED);
	KUNIT_EXPECT_EQ(test, fake->r[2].req.status, -ECANCELED);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 1), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 2), 1);
}

/**
 * struct csq_hardirq - the queue calls made from a hard irq
 * @timer: fires once, in hard irq context.
 * @fake: the queue.
 * @in_hardirq: whether the callback really ran in hard irq context.
 * @insert_ret: what the insert of request 2 returned.
 * @canceled: what cancelling request 0 returned.
 * @next: what csq_remove_next_req() returned.
 * @done: completed by the callback.
 */
struct csq_hardirq {
	struct hrtimer timer;
	struct csq_fake *fake;
	bool in_hardirq;
	int insert_ret;
	bool canceled;
	struct csq_req *next;
	struct completion done;
};

static enum hrtimer_restart csq_hardirq_fn(struct hrtimer *timer)
{
	struct csq_hardirq *hi = container_of(timer, struct csq_hardirq, timer);

	hi->in_hardirq = in_hardirq();
	hi->insert_ret = csq_fake_insert_req(hi->fake, 2);
	hi->canceled = csq_req_cancel(csq_fake_req(hi->fake, 0));
	hi->next = csq_remove_next_req(&hi->fake->csq, NULL);
	if (hi->next)
		csq_req_complete(hi->next, 0, 0);
	complete(&hi->done);
	return HRTIMER_NORESTART;
}

static void csq_hardirq_cancel_timer(void *data)
{
	struct csq_hardirq *hi = data;

	hrtimer_cancel(&hi->timer);
}

/* Every call is usable in hard irq; lockdep checks the irq safety. */
static void csq_fifo_spin_ops_from_hardirq(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_hardirq *hi;
	int ret;

	hi = kunit_kzalloc(test, sizeof(*hi), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, hi);
	hi->fake = fake;
	init_completion(&hi->done);
	hrtimer_init(&hi->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_HARD);
	hi->timer.function = csq_hardirq_fn;
	ret = kunit_add_action_or_reset(test, csq_hardirq_cancel_timer, hi);
	KUNIT_ASSERT_EQ(test, ret, 0);

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 1), 0);
	hrtimer_start(&hi->timer, ns_to_ktime(NSEC_PER_USEC),
		      HRTIMER_MODE_REL_HARD);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&hi->done,
							  CSQ_TEST_TIMEOUT),
			0);

	KUNIT_EXPECT_TRUE(test, hi->in_hardirq);
	KUNIT_EXPECT_EQ(test, hi->insert_ret, 0);
	KUNIT_EXPECT_TRUE(test, hi->canceled);
	KUNIT_EXPECT_PTR_EQ(test, hi->next, csq_fake_req(fake, 1));
	KUNIT_EXPECT_EQ(test, fake->r[0].req.status, -ECANCELED);
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 1);

	/* And the same lock from process context. */
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 1), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 2), 1);
}

/* Inlining the ready-made callbacks must not skip the driver's own. */
static void csq_ready_made_ops_call_drivers_peek_next(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_lifo_ops);
	unsigned int i;

	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);
	KUNIT_EXPECT_TRUE(test, csq_req_cancel(csq_fake_req(fake, 1)));
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 1);
	KUNIT_EXPECT_EQ(test, fake->r[1].req.status, -ECANCELED);

	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 3));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_req(&fake->csq, &fake->r[0].ctx),
			    csq_fake_req(fake, 0));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 2));
	KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, NULL));
	KUNIT_EXPECT_GE(test, fake->nr_peek_next, 3);
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 0);
	for (i = 0; i < 4; i++) {
		if (i != 1)
			csq_req_complete(csq_fake_req(fake, i), 0, 0);
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
	}
}

static void csq_fifo_mutex_ops_fifo_and_cancel(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_mutex_ops);
	unsigned int i;

	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);

	KUNIT_EXPECT_TRUE(test, csq_req_cancel(csq_fake_req(fake, 1)));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 0));
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_req(&fake->csq, &fake->r[3].ctx),
			    csq_fake_req(fake, 3));
	csq_req_complete(csq_fake_req(fake, 0), 0, 0);
	csq_req_complete(csq_fake_req(fake, 3), 0, 0);
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 1);

	for (i = 0; i < 4; i++) {
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
		KUNIT_EXPECT_EQ(test, fake->r[i].req.status,
				i == 0 || i == 3 ? 0 : -ECANCELED);
	}
}

/* A mutex queue's callbacks may sleep, complete_canceled included. */
static void csq_mutex_ops_callbacks_may_sleep(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_sleepy_ops);

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 1), 0);
	KUNIT_EXPECT_FALSE(test, csq_req_cancel(csq_fake_req(fake, 2)));
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 2), -ECANCELED);

	KUNIT_EXPECT_TRUE(test, csq_req_cancel(csq_fake_req(fake, 0)));
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 1);

	KUNIT_EXPECT_EQ(test, fake->nr_insert, 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 3);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 1), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 2), 1);
}

/**
 * struct csq_waiter - a thread blocked on its request, like a read()
 * @fake: the queue.
 * @inserted: completed once the request is queued.
 * @insert_ret: what csq_insert_req() returned.
 * @wait_ret: what the wait for the request returned.
 */
struct csq_waiter {
	struct csq_fake *fake;
	struct completion inserted;
	int insert_ret;
	long wait_ret;
};

static int csq_waiter_fn(void *data)
{
	struct csq_waiter *waiter = data;
	struct csq_req *req = csq_fake_req(waiter->fake, 0);

	waiter->insert_ret = csq_fake_insert_req(waiter->fake, 0);
	complete(&waiter->inserted);
	waiter->wait_ret = wait_for_completion_timeout(&req->done,
						       CSQ_TEST_TIMEOUT);
	return 0;
}

/* Rule 8: the teardown sweep leaves no request queued, no waiter asleep. */
static void csq_flush_wakes_blocked_waiter(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_mutex_ops);
	struct task_struct *task;
	struct csq_waiter *waiter;

	waiter = kunit_kzalloc(test, sizeof(*waiter), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, waiter);
	waiter->fake = fake;
	init_completion(&waiter->inserted);

	task = kthread_create(csq_waiter_fn, waiter, "csq_waiter");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	get_task_struct(task);
	wake_up_process(task);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&waiter->inserted,
							  CSQ_TEST_TIMEOUT),
			0);
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 1);
	kthread_stop_put(task);

	KUNIT_EXPECT_EQ(test, waiter->insert_ret, 0);
	KUNIT_EXPECT_GT(test, waiter->wait_ret, 0);
	KUNIT_EXPECT_EQ(test, fake->r[0].req.status, -ECANCELED);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&fake->csq));
}

static void csq_req_reinit_allows_reuse(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_req *req = csq_fake_req(fake, 0);

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	KUNIT_EXPECT_TRUE(test, csq_req_cancel(req));
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);

	csq_req_reinit(req);
	KUNIT_EXPECT_FALSE(test, csq_req_is_canceled(req));
	KUNIT_EXPECT_FALSE(test, completion_done(&req->done));
	KUNIT_EXPECT_EQ(test, req->status, 0);
	KUNIT_EXPECT_PTR_EQ(test, req->complete_fn, &csq_test_req_complete);

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL), req);
	csq_req_complete(req, 0, 3);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 2);
	KUNIT_EXPECT_EQ(test, req->information, 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&fake->nr_complete_canceled), 1);
}

/* The raw layer: cancel routines and the cancel lock */

/**
 * struct csq_probe - a request whose cancel routine records how it ran
 * @req: the request.
 * @nr_calls: calls of the cancel routine.
 * @irqs_off_on_entry: whether interrupts were off when it was entered.
 * @irqs_off_after_release: whether they were off once it had released the
 *	cancel lock with the flags it was given.
 * @nr_completed: completions of @req.
 */
struct csq_probe {
	struct csq_req req;
	unsigned int nr_calls;
	bool irqs_off_on_entry;
	bool irqs_off_after_release;
	unsigned int nr_completed;
};

static void csq_probe_cancel(struct csq_req *req, unsigned long irqflags)
	__releases(csq_cancel_lock)
{
	struct csq_probe *probe = container_of(req, struct csq_probe, req);

	probe->nr_calls++;
	probe->irqs_off_on_entry = irqs_disabled();
	csq_release_cancel_lock(irqflags);
	probe->irqs_off_after_release = irqs_disabled();
	csq_req_complete(req, -ECANCELED, 0);
}

static void csq_probe_other_cancel(struct csq_req *req, unsigned long irqflags)
	__releases(csq_cancel_lock)
{
	csq_release_cancel_lock(irqflags);
}

static void csq_probe_complete(struct csq_req *req)
{
	container_of(req, struct csq_probe, req)->nr_completed++;
}

static struct csq_probe *csq_probe_create(struct kunit *test)
{
	struct csq_probe *probe;

	probe = kunit_kzalloc(test, sizeof(*probe), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, probe);
	csq_req_init(&probe->req);
	probe->req.complete_fn = csq_probe_complete;
	return probe;
}

static void csq_req_set_cancel_routine_returns_old(struct kunit *test)
{
	struct csq_probe *probe = csq_probe_create(test);
	struct csq_req *req = &probe->req;

	KUNIT_EXPECT_NULL(test, req->cancel_routine);
	KUNIT_EXPECT_NULL(test, csq_req_set_cancel_routine(req,
							   csq_probe_cancel));
	KUNIT_EXPECT_PTR_EQ(test,
			    csq_req_set_cancel_routine(req,
						       csq_probe_other_cancel),
			    &csq_probe_cancel);
	KUNIT_EXPECT_PTR_EQ(test, csq_req_set_cancel_routine(req, NULL),
			    &csq_probe_other_cancel);
	KUNIT_EXPECT_NULL(test, csq_req_set_cancel_routine(req, NULL));
	KUNIT_EXPECT_EQ(test, probe->nr_calls, 0);
	KUNIT_EXPECT_FALSE(test, csq_req_is_canceled(req));
}

static void csq_req_cancel_without_routine(struct kunit *test)
{
	struct csq_probe *probe = csq_probe_create(test);
	struct csq_req *req = &probe->req;

	KUNIT_EXPECT_FALSE(test, csq_req_is_canceled(req));
	KUNIT_EXPECT_FALSE(test, csq_req_cancel(req));
	KUNIT_EXPECT_TRUE(test, csq_req_is_canceled(req));
	KUNIT_EXPECT_EQ(test, probe->nr_completed, 0);

	/* Set once, never cleared: an owner arming it later must look. */
	KUNIT_EXPECT_NULL(test, csq_req_set_cancel_routine(req,
							   csq_probe_cancel));
	KUNIT_EXPECT_TRUE(test, csq_req_is_canceled(req));
	KUNIT_EXPECT_PTR_EQ(test, csq_req_set_cancel_routine(req, NULL),
			    &csq_probe_cancel);
	csq_req_complete(req, -ECANCELED, 0);
	KUNIT_EXPECT_TRUE(test, csq_req_is_canceled(req));
	KUNIT_EXPECT_EQ(test, probe->nr_calls, 0);
	KUNIT_EXPECT_EQ(test, probe->nr_completed, 1);
}

static void csq_req_cancel_hands_off_cancel_lock(struct kunit *test)
{
	struct csq_probe *probe = csq_probe_create(test);
	struct csq_req *req = &probe->req;

	KUNIT_EXPECT_NULL(test, csq_req_set_cancel_routine(req,
							   csq_probe_cancel));
	KUNIT_EXPECT_TRUE(test, csq_req_cancel(req));

	KUNIT_EXPECT_EQ(test, probe->nr_calls, 1);
	KUNIT_EXPECT_TRUE(test, probe->irqs_off_on_entry);
	KUNIT_EXPECT_FALSE(test, probe->irqs_off_after_release);
	KUNIT_EXPECT_FALSE(test, irqs_disabled());
	KUNIT_EXPECT_TRUE(test, csq_req_is_canceled(req));
	KUNIT_EXPECT_NULL(test, csq_req_set_cancel_routine(req, NULL));
	KUNIT_EXPECT_EQ(test, probe->nr_completed, 1);
	KUNIT_EXPECT_EQ(test, req->status, -ECANCELED);

	/* The lock was released: it can be taken again. */
	csq_test_end_cancel(req, csq_probe_other_cancel);
}

/* The routine's irqflags are the caller's: irqs stay off for it. */
static void csq_req_cancel_restores_callers_irqs(struct kunit *test)
{
	struct csq_probe *probe = csq_probe_create(test);
	struct csq_req *req = &probe->req;
	bool irqs_off_after;
	unsigned long flags;
	bool canceled;

	csq_req_set_cancel_routine(req, csq_probe_cancel);
	local_irq_save(flags);
	canceled = csq_req_cancel(req);
	irqs_off_after = irqs_disabled();
	local_irq_restore(flags);

	KUNIT_EXPECT_TRUE(test, canceled);
	KUNIT_EXPECT_EQ(test, probe->nr_calls, 1);
	KUNIT_EXPECT_TRUE(test, probe->irqs_off_on_entry);
	KUNIT_EXPECT_TRUE(test, probe->irqs_off_after_release);
	KUNIT_EXPECT_TRUE(test, irqs_off_after);
	KUNIT_EXPECT_EQ(test, probe->nr_completed, 1);
}

static void csq_req_cancel_calls_routine_once(struct kunit *test)
{
	struct csq_probe *probe = csq_probe_create(test);
	struct csq_req *req = &probe->req;

	csq_req_set_cancel_routine(req, csq_probe_cancel);
	KUNIT_EXPECT_TRUE(test, csq_req_cancel(req));
	KUNIT_EXPECT_FALSE(test, csq_req_cancel(req));
	KUNIT_EXPECT_FALSE(test, csq_req_cancel(req));
	KUNIT_EXPECT_EQ(test, probe->nr_calls, 1);
	KUNIT_EXPECT_EQ(test, probe->nr_completed, 1);
	KUNIT_EXPECT_TRUE(test, csq_req_is_canceled(req));
}

static void csq_req_complete_wakes_waiter(struct kunit *test)
{
	struct csq_probe *probe = csq_probe_create(test);
	struct csq_req *req = &probe->req;

	req->complete_fn = NULL;
	KUNIT_EXPECT_FALSE(test, completion_done(&req->done));

	csq_req_complete(req, -EIO, 9);

	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&req->done, 1), 0);
	KUNIT_EXPECT_EQ(test, req->status, -EIO);
	KUNIT_EXPECT_EQ(test, req->information, 9);
	KUNIT_EXPECT_EQ(test, probe->nr_completed, 0);
}

static void csq_req_complete_calls_complete_fn(struct kunit *test)
{
	struct csq_probe *probe = csq_probe_create(test);
	struct csq_req *req = &probe->req;

	csq_req_complete(req, 0, 5);

	KUNIT_EXPECT_EQ(test, probe->nr_completed, 1);
	KUNIT_EXPECT_FALSE(test, completion_done(&req->done));
	KUNIT_EXPECT_EQ(test, req->status, 0);
	KUNIT_EXPECT_EQ(test, req->information, 5);
}

/*
 * A driver queue built on the raw layer alone (seed 002, a driver without
 * StartIo): its own lock and list, IoSetCancelRoutine on queueing, a
 * DRIVER_CANCEL routine that releases the cancel lock first, and a start
 * path that claims a request by clearing its routine.
 */

/**
 * struct csq_raw_queue - the driver's own queue
 * @lock: the driver's queue lock.
 * @pending: the queued requests.
 * @nr_canceled: requests unlinked by the cancel routine.
 */
struct csq_raw_queue {
	spinlock_t lock;	/* protects pending, nr_canceled */
	struct list_head pending;
	unsigned int nr_canceled;
};

/**
 * struct csq_raw_req - the driver's request
 * @req: the request.
 * @queue: its queue, for the cancel routine.
 * @nr_completed: its completions.
 */
struct csq_raw_req {
	struct csq_req req;
	struct csq_raw_queue *queue;
	atomic_t nr_completed;
};

static void csq_raw_queue_cancel(struct csq_req *req, unsigned long irqflags)
	__releases(csq_cancel_lock)
{
	struct csq_raw_queue *queue =
		container_of(req, struct csq_raw_req, req)->queue;
	unsigned long flags;

	csq_release_cancel_lock(irqflags);

	spin_lock_irqsave(&queue->lock, flags);
	list_del_init(&req->entry);
	queue->nr_canceled++;
	spin_unlock_irqrestore(&queue->lock, flags);

	csq_req_complete(req, -ECANCELED, 0);
}

static int csq_raw_queue_add(struct csq_raw_queue *queue,
			     struct csq_raw_req *rreq)
{
	struct csq_req *req = &rreq->req;
	unsigned long flags;

	rreq->queue = queue;
	spin_lock_irqsave(&queue->lock, flags);
	list_add_tail(&req->entry, &queue->pending);
	csq_req_set_cancel_routine(req, csq_raw_queue_cancel);
	if (csq_req_is_canceled(req) &&
	    csq_req_set_cancel_routine(req, NULL)) {
		list_del_init(&req->entry);
		spin_unlock_irqrestore(&queue->lock, flags);
		csq_req_complete(req, -ECANCELED, 0);
		return -ECANCELED;
	}
	spin_unlock_irqrestore(&queue->lock, flags);
	return 0;
}

static struct csq_req *csq_raw_queue_start_next(struct csq_raw_queue *queue)
{
	struct csq_req *req, *found = NULL;
	unsigned long flags;

	spin_lock_irqsave(&queue->lock, flags);
	list_for_each_entry(req, &queue->pending, entry) {
		if (csq_req_set_cancel_routine(req, NULL)) {
			list_del_init(&req->entry);
			found = req;
			break;
		}
	}
	spin_unlock_irqrestore(&queue->lock, flags);
	return found;
}

static void csq_raw_req_complete(struct csq_req *req)
{
	atomic_inc(&container_of(req, struct csq_raw_req, req)->nr_completed);
}

static struct csq_raw_req *csq_raw_create(struct kunit *test,
					  struct csq_raw_queue **queue)
{
	struct csq_raw_req *rreq;
	unsigned int i;

	*queue = kunit_kzalloc(test, sizeof(**queue), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, *queue);
	spin_lock_init(&(*queue)->lock);
	INIT_LIST_HEAD(&(*queue)->pending);

	rreq = kunit_kcalloc(test, 3, sizeof(*rreq), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, rreq);
	for (i = 0; i < 3; i++) {
		csq_req_init(&rreq[i].req);
		rreq[i].req.complete_fn = csq_raw_req_complete;
	}
	return rreq;
}

static void csq_raw_queue_start_next_is_fifo(struct kunit *test)
{
	struct csq_raw_queue *queue;
	struct csq_raw_req *rreq = csq_raw_create(test, &queue);
	struct csq_req *req;
	unsigned int i;

	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, csq_raw_queue_add(queue, &rreq[i]), 0);
	for (i = 0; i < 3; i++) {
		req = csq_raw_queue_start_next(queue);
		KUNIT_EXPECT_PTR_EQ(test, req, &rreq[i].req);
		if (req)
			csq_req_complete(req, 0, 0);
	}
	KUNIT_EXPECT_NULL(test, csq_raw_queue_start_next(queue));
	for (i = 0; i < 3; i++) {
		KUNIT_EXPECT_FALSE(test, csq_req_cancel(&rreq[i].req));
		KUNIT_EXPECT_EQ(test, atomic_read(&rreq[i].nr_completed), 1);
	}
	KUNIT_EXPECT_EQ(test, queue->nr_canceled, 0);
}

static void csq_raw_queue_cancel_while_queued(struct kunit *test)
{
	struct csq_raw_queue *queue;
	struct csq_raw_req *rreq = csq_raw_create(test, &queue);

	KUNIT_EXPECT_EQ(test, csq_raw_queue_add(queue, &rreq[0]), 0);
	KUNIT_EXPECT_EQ(test, csq_raw_queue_add(queue, &rreq[1]), 0);

	KUNIT_EXPECT_TRUE(test, csq_req_cancel(&rreq[0].req));

	KUNIT_EXPECT_EQ(test, queue->nr_canceled, 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&rreq[0].nr_completed), 1);
	KUNIT_EXPECT_EQ(test, rreq[0].req.status, -ECANCELED);
	KUNIT_EXPECT_TRUE(test, list_empty(&rreq[0].req.entry));
	KUNIT_EXPECT_PTR_EQ(test, csq_raw_queue_start_next(queue),
			    &rreq[1].req);
	csq_req_complete(&rreq[1].req, 0, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&rreq[1].nr_completed), 1);
	KUNIT_EXPECT_TRUE(test, list_empty(&queue->pending));
}

static void csq_raw_queue_cancel_before_add(struct kunit *test)
{
	struct csq_raw_queue *queue;
	struct csq_raw_req *rreq = csq_raw_create(test, &queue);

	KUNIT_EXPECT_FALSE(test, csq_req_cancel(&rreq[0].req));
	KUNIT_EXPECT_EQ(test, csq_raw_queue_add(queue, &rreq[0]), -ECANCELED);

	KUNIT_EXPECT_EQ(test, atomic_read(&rreq[0].nr_completed), 1);
	KUNIT_EXPECT_EQ(test, rreq[0].req.status, -ECANCELED);
	KUNIT_EXPECT_EQ(test, queue->nr_canceled, 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&queue->pending));
	KUNIT_EXPECT_NULL(test, csq_raw_queue_start_next(queue));
}

static void csq_raw_queue_skips_cancel_in_progress(struct kunit *test)
{
	struct csq_raw_queue *queue;
	struct csq_raw_req *rreq = csq_raw_create(test, &queue);
	csq_cancel_fn_t routine;

	KUNIT_EXPECT_EQ(test, csq_raw_queue_add(queue, &rreq[0]), 0);
	KUNIT_EXPECT_EQ(test, csq_raw_queue_add(queue, &rreq[1]), 0);
	routine = csq_test_begin_cancel(&rreq[0].req);
	KUNIT_ASSERT_PTR_EQ(test, routine, &csq_raw_queue_cancel);

	KUNIT_EXPECT_PTR_EQ(test, csq_raw_queue_start_next(queue),
			    &rreq[1].req);
	KUNIT_EXPECT_NULL(test, csq_raw_queue_start_next(queue));
	KUNIT_EXPECT_FALSE(test, list_empty(&rreq[0].req.entry));
	KUNIT_EXPECT_EQ(test, atomic_read(&rreq[0].nr_completed), 0);

	csq_test_end_cancel(&rreq[0].req, routine);
	csq_req_complete(&rreq[1].req, 0, 0);

	KUNIT_EXPECT_EQ(test, queue->nr_canceled, 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&rreq[0].nr_completed), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&rreq[1].nr_completed), 1);
	KUNIT_EXPECT_TRUE(test, list_empty(&queue->pending));
}

static void csq_raw_queue_cancel_after_start(struct kunit *test)
{
	struct csq_raw_queue *queue;
	struct csq_raw_req *rreq = csq_raw_create(test, &queue);
	struct csq_req *req;

	KUNIT_EXPECT_EQ(test, csq_raw_queue_add(queue, &rreq[0]), 0);
	req = csq_raw_queue_start_next(queue);
	KUNIT_ASSERT_PTR_EQ(test, req, &rreq[0].req);

	KUNIT_EXPECT_FALSE(test, csq_req_cancel(req));
	KUNIT_EXPECT_EQ(test, atomic_read(&rreq[0].nr_completed), 0);
	csq_req_complete(req, 0, 4);
	KUNIT_EXPECT_EQ(test, atomic_read(&rreq[0].nr_completed), 1);
	KUNIT_EXPECT_EQ(test, queue->nr_canceled, 0);
}

/*
 * Real concurrency.  One thread inserts every request in order and
 * publishes how far it got; the others race it on both CPUs: one takes
 * requests with csq_remove_next_req(), one takes back recent ones by
 * context, one cancels requests just before, during or just after their
 * insert, and older ones that remove_next is after.  The requests live in
 * one array until every thread has stopped, so a late csq_req_cancel()
 * never meets freed memory.
 */

#define CSQ_RACE_NR_REQS	100000
#define CSQ_RACE_TIMEOUT_S	30
/* How many requests the racers keep queued while the inserter runs. */
#define CSQ_RACE_WINDOW		8
/* How long a racer spins for another before it sleeps. */
#define CSQ_RACE_SPINS		1000

/*
 * Who goes for request k: k % CSQ_RACE_FATES.  remove_next takes any but
 * the cancel's, which it filters out by owner: a cancel that is lost then
 * leaves its request queued for good instead of going unnoticed.
 */
enum {
	CSQ_RACE_FATE_CANCEL,
	CSQ_RACE_FATE_CTX,
	CSQ_RACE_FATE_NEXT,
	CSQ_RACE_FATES,
};

/* What the remover put in @information, to tell who completed it. */
enum {
	CSQ_RACE_BY_NEXT = 1,
	CSQ_RACE_BY_CTX,
};

struct csq_race;

/**
 * struct csq_race_req - a request of the race
 * @req: the request.
 * @ctx: its context.
 * @race: the race it takes part in.
 * @nr_completed: its completions.
 */
struct csq_race_req {
	struct csq_req req;
	struct csq_req_ctx ctx;
	struct csq_race *race;
	atomic_t nr_completed;
};

/**
 * struct csq_race - the shared state of a race
 * @csq: the queue.
 * @reqs: every request, alive until the threads have stopped.
 * @nr_inserted: requests whose insert has returned; release/acquire.
 * @cancel_next: the request the canceller goes for next.
 * @stop: tells the threads to stop.
 * @nr_completed: completions of all requests.
 * @all_completed: completed when @nr_completed reaches the total.
 * @nr_removed_next: requests taken by csq_remove_next_req().
 * @nr_removed_ctx: requests taken back by csq_remove_req().
 * @nr_cancel_won: csq_req_cancel() calls that ran the routine.
 * @nr_insert_canceled: inserts that returned -ECANCELED.
 * @nr_bad_insert: inserts that returned anything else.
 * @nr_bad_completions: completions under the queue lock, in atomic
 *	context, or of a request completed before.
 * @tasks: the racing threads.
 */
struct csq_race {
	struct csq csq;
	struct csq_race_req *reqs;
	unsigned int nr_inserted;
	unsigned int cancel_next;
	bool stop;
	atomic_t nr_completed;
	struct completion all_completed;
	atomic_t nr_removed_next;
	atomic_t nr_removed_ctx;
	atomic_t nr_cancel_won;
	atomic_t nr_insert_canceled;
	atomic_t nr_bad_insert;
	atomic_t nr_bad_completions;
	struct task_struct *tasks[4];
};

static void csq_race_complete(struct csq_req *req)
{
	struct csq_race_req *rreq = container_of(req, struct csq_race_req, req);
	struct csq_race *race = rreq->race;

	/* Every caller in the race is a thread outside any lock. */
	if (csq_test_lock_held(&race->csq) ||
	    (IS_ENABLED(CONFIG_PREEMPT_COUNT) && !preemptible()))
		atomic_inc(&race->nr_bad_completions);
	if (atomic_inc_return(&rreq->nr_completed) != 1)
		atomic_inc(&race->nr_bad_completions);
	if (atomic_inc_return(&race->nr_completed) == CSQ_RACE_NR_REQS)
		complete(&race->all_completed);
}

/*
 * One step of a wait for another racer: spin for the tightest race, but
 * not for long, since the other vCPU may not be running at all.
 */
static void csq_race_pause(unsigned int *spins)
{
	if (*spins < CSQ_RACE_SPINS) {
		(*spins)++;
		cpu_relax();
	} else {
		usleep_range(10, 20);
	}
}

/*
 * Waits until the inserter has inserted @n requests, spinning first if
 * @spin (the caller has a CPU without the inserter), else only sleeping.
 * False if told to stop first.
 */
static bool csq_race_wait_inserted(struct csq_race *race, unsigned int n,
				   bool spin)
{
	unsigned int spins = spin ? 0 : CSQ_RACE_SPINS;

	n = min(n, CSQ_RACE_NR_REQS);
	/* Pairs with the inserter's release: requests below n are queued. */
	while (smp_load_acquire(&race->nr_inserted) < n) {
		if (kthread_should_stop())
			return false;
		csq_race_pause(&spins);
		cond_resched();
	}
	return true;
}

static void csq_race_idle(void)
{
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
}

/*
 * How many inserts after request @k (a cancel's) the canceller waits for:
 * -1 cancels before the insert, 0 during it, 1 or 2 after it.  Never more
 * than CSQ_RACE_FATES - 1, so that the canceller, which goes in order,
 * reaches each request before the inserter waits for it.
 */
static int csq_race_cancel_lag(unsigned int k)
{
	return (int)(k / CSQ_RACE_FATES % (CSQ_RACE_FATES + 1)) - 1;
}

/*
 * The canceller may lag behind: before a request that it must cancel
 * before or during its insert, wait until the canceller goes for it.
 */
static void csq_race_wait_canceller(struct csq_race *race, unsigned int k)
{
	unsigned int spins = 0;

	if (k % CSQ_RACE_FATES != CSQ_RACE_FATE_CANCEL ||
	    csq_race_cancel_lag(k) > 0)
		return;
	while (READ_ONCE(race->cancel_next) < k && !kthread_should_stop())
		csq_race_pause(&spins);
}

static int csq_race_insert_fn(void *data)
{
	struct csq_race *race = data;
	struct csq_race_req *rreq;
	unsigned int i;
	int ret;

	for (i = 0; i < CSQ_RACE_NR_REQS && !READ_ONCE(race->stop); i++) {
		rreq = &race->reqs[i];
		csq_race_wait_canceller(race, i);
		ret = csq_insert_req(&race->csq, &rreq->req, &rreq->ctx);
		if (ret == -ECANCELED)
			atomic_inc(&race->nr_insert_canceled);
		else if (ret)
			atomic_inc(&race->nr_bad_insert);
		/* Pairs with the racers' acquire: they see the insert done. */
		smp_store_release(&race->nr_inserted, i + 1);
		cond_resched();
	}
	csq_race_idle();
	return 0;
}

/*
 * Takes the oldest requests, in bursts: from when a window of requests is
 * queued until half of it is gone, so that the others find live targets.
 */
static int csq_race_remove_next_fn(void *data)
{
	struct csq_race *race = data;
	bool all_inserted, draining = false;
	unsigned int count;
	struct csq_req *req;

	while (!kthread_should_stop()) {
		count = csq_count(&race->csq);
		all_inserted = READ_ONCE(race->nr_inserted) == CSQ_RACE_NR_REQS;
		if (count >= CSQ_RACE_WINDOW)
			draining = true;
		else if (count <= CSQ_RACE_WINDOW / 2)
			draining = false;
		if (!draining && !all_inserted) {
			usleep_range(10, 20);
			continue;
		}
		req = csq_remove_next_req(&race->csq, race);
		if (req) {
			atomic_inc(&race->nr_removed_next);
			csq_req_complete(req, 0, CSQ_RACE_BY_NEXT);
		} else if (all_inserted) {
			usleep_range(10, 20);
		}
		cond_resched();
	}
	return 0;
}

/*
 * Takes back every third request by its context, from 1 to a window of
 * inserts after its own.
 */
static int csq_race_remove_ctx_fn(void *data)
{
	struct csq_race *race = data;
	struct csq_req *req;
	unsigned int k, lag;

	for (k = CSQ_RACE_FATE_CTX; k < CSQ_RACE_NR_REQS; k += CSQ_RACE_FATES) {
		lag = k / CSQ_RACE_FATES % CSQ_RACE_WINDOW + 1;
		if (!csq_race_wait_inserted(race, k + lag, false))
			break;
		req = csq_remove_req(&race->csq, &race->reqs[k].ctx);
		if (req) {
			atomic_inc(&race->nr_removed_ctx);
			csq_req_complete(req, 0, CSQ_RACE_BY_CTX);
		}
	}
	csq_race_idle();
	return 0;
}

/*
 * Cancels every third request, at csq_race_cancel_lag() of its insert, and
 * with it an older one left to remove_next, likely at the head of the queue.
 */
static int csq_race_cancel_fn(void *data)
{
	struct csq_race *race = data;
	unsigned int k, old;
	int n;

	for (k = CSQ_RACE_FATE_CANCEL; k < CSQ_RACE_NR_REQS;
	     k += CSQ_RACE_FATES) {
		WRITE_ONCE(race->cancel_next, k);
		n = max_t(int, k + csq_race_cancel_lag(k), 0);
		if (!csq_race_wait_inserted(race, n, true))
			break;
		if (csq_req_cancel(&race->reqs[k].req))
			atomic_inc(&race->nr_cancel_won);

		old = k / CSQ_RACE_FATES % CSQ_RACE_WINDOW * CSQ_RACE_FATES +
		      CSQ_RACE_FATES - CSQ_RACE_FATE_NEXT;
		if (k >= old &&
		    csq_req_cancel(&race->reqs[k - old].req))
			atomic_inc(&race->nr_cancel_won);
	}
	csq_race_idle();
	return 0;
}

static void csq_race_stop(void *data)
{
	struct csq_race *race = data;
	unsigned int i;

	WRITE_ONCE(race->stop, true);
	for (i = 0; i < ARRAY_SIZE(race->tasks); i++) {
		if (race->tasks[i])
			kthread_stop_put(race->tasks[i]);
		race->tasks[i] = NULL;
	}
}

KUNIT_DEFINE_ACTION_WRAPPER(csq_race_kvfree, kvfree, const void *);

static void csq_race_destroy(void *data)
{
	struct csq_race *race = data;

	csq_flush(&race->csq, NULL);
	csq_destroy(&race->csq);
}

static int csq_race_init_queue(struct csq_race *race, bool sleeping)
{
	if (sleeping)
		return csq_init(&race->csq, &csq_fifo_mutex_ops);
	return csq_init(&race->csq, &csq_fifo_spin_ops);
}

static void csq_race_run(struct kunit *test, bool sleeping)
{
	static int (* const fns[])(void *) = {
		csq_race_insert_fn, csq_race_remove_next_fn,
		csq_race_remove_ctx_fn, csq_race_cancel_fn,
	};
	unsigned int nr_canceled = 0, nr_bad_reqs = 0, nr_lost_cancels = 0;
	unsigned int i, cpu;
	struct csq_race *race;
	struct csq_race_req *rreq;
	struct task_struct *task;
	unsigned long timeout;
	int ret;

	race = kunit_kzalloc(test, sizeof(*race), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, race);
	race->reqs = kvcalloc(CSQ_RACE_NR_REQS, sizeof(*race->reqs),
			      GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, race->reqs);
	ret = kunit_add_action_or_reset(test, csq_race_kvfree, race->reqs);
	KUNIT_ASSERT_EQ(test, ret, 0);
	for (i = 0; i < CSQ_RACE_NR_REQS; i++) {
		csq_req_init(&race->reqs[i].req);
		race->reqs[i].req.complete_fn = csq_race_complete;
		race->reqs[i].race = race;
		if (i % CSQ_RACE_FATES != CSQ_RACE_FATE_CANCEL)
			race->reqs[i].req.owner = race;
	}
	init_completion(&race->all_completed);

	KUNIT_ASSERT_EQ(test, csq_race_init_queue(race, sleeping), 0);
	ret = kunit_add_action_or_reset(test, csq_race_destroy, race);
	KUNIT_ASSERT_EQ(test, ret, 0);

	ret = kunit_add_action_or_reset(test, csq_race_stop, race);
	KUNIT_ASSERT_EQ(test, ret, 0);
	for (i = 0; i < ARRAY_SIZE(fns); i++) {
		cpu = cpumask_nth(i % num_online_cpus(), cpu_online_mask);
		task = kthread_create_on_cpu(fns[i], race, cpu, "csq_race/%u");
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
		get_task_struct(task);
		race->tasks[i] = task;
	}
	for (i = 0; i < ARRAY_SIZE(fns); i++)
		wake_up_process(race->tasks[i]);

	/* Short waits: the hung task detector must not mistake it for one. */
	timeout = jiffies + CSQ_RACE_TIMEOUT_S * HZ;
	while (!wait_for_completion_timeout(&race->all_completed, HZ) &&
	       time_before(jiffies, timeout))
		;
	kunit_release_action(test, csq_race_stop, race);

	KUNIT_EXPECT_EQ(test, atomic_read(&race->nr_completed),
			CSQ_RACE_NR_REQS);
	KUNIT_EXPECT_EQ(test, race->nr_inserted, CSQ_RACE_NR_REQS);
	KUNIT_EXPECT_TRUE(test, csq_is_empty(&race->csq));
	KUNIT_EXPECT_EQ(test, atomic_read(&race->nr_bad_insert), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&race->nr_bad_completions), 0);

	for (i = 0; i < CSQ_RACE_NR_REQS; i++) {
		rreq = &race->reqs[i];
		if (i % CSQ_RACE_FATES == CSQ_RACE_FATE_CANCEL &&
		    rreq->req.status != -ECANCELED)
			nr_lost_cancels++;
		if (atomic_read(&rreq->nr_completed) != 1)
			nr_bad_reqs++;
		else if (rreq->req.status == -ECANCELED &&
			 rreq->req.information == 0)
			nr_canceled++;
		else if (rreq->req.status || !rreq->req.information)
			nr_bad_reqs++;
	}
	KUNIT_EXPECT_EQ(test, nr_bad_reqs, 0);
	KUNIT_EXPECT_EQ(test, nr_lost_cancels, 0);
	KUNIT_EXPECT_EQ(test, csq_flush(&race->csq, NULL), 0);
	KUNIT_EXPECT_EQ(test, nr_canceled,
			atomic_read(&race->nr_cancel_won) +
			atomic_read(&race->nr_insert_canceled));
	KUNIT_EXPECT_EQ(test, nr_canceled +
			atomic_read(&race->nr_removed_next) +
			atomic_read(&race->nr_removed_ctx),
			CSQ_RACE_NR_REQS);

	/* Every path of the race was taken, or the race proved little. */
	KUNIT_EXPECT_GT(test, atomic_read(&race->nr_removed_next), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&race->nr_removed_ctx), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&race->nr_cancel_won), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&race->nr_insert_canceled), 0);
	kunit_info(test, "%u cpus: %d by remove_next, %d by context, %d cancelled, %d cancelled at insert\n",
		   num_online_cpus(), atomic_read(&race->nr_removed_next),
		   atomic_read(&race->nr_removed_ctx),
		   atomic_read(&race->nr_cancel_won),
		   atomic_read(&race->nr_insert_canceled));
}

static void csq_fifo_spin_ops_race(struct kunit *test)
{
	csq_race_run(test, false);
}

static void csq_fifo_mutex_ops_race(struct kunit *test)
{
	csq_race_run(test, true);
}

static struct kunit_case csq_test_cases[] = {
	KUNIT_CASE(csq_init_accepts_complete_ops),
	KUNIT_CASE_PARAM(csq_init_rejects_incomplete_ops, csq_init_gen_params),
	KUNIT_CASE(csq_remove_next_req_is_fifo),
	KUNIT_CASE(csq_remove_next_req_on_empty_queue),
	KUNIT_CASE(csq_count_follows_queue),
	KUNIT_CASE(csq_remove_req_by_context),
	KUNIT_CASE(csq_remove_req_twice),
	KUNIT_CASE(csq_remove_req_after_remove_next),
	KUNIT_CASE(csq_req_complete_after_remove),
	KUNIT_CASE(csq_req_cancel_while_queued),
	KUNIT_CASE(csq_req_cancel_twice),
	KUNIT_CASE(csq_req_cancel_before_insert),
	KUNIT_CASE(csq_req_cancel_between_link_and_arm),
	KUNIT_CASE(csq_req_cancel_after_remove_next),
	KUNIT_CASE(csq_req_cancel_after_remove_req),
	KUNIT_CASE(csq_remove_req_while_cancel_in_progress),
	KUNIT_CASE(csq_remove_next_req_skips_cancel_in_progress),
	KUNIT_CASE(csq_flush_skips_cancel_in_progress),
	KUNIT_CASE(csq_req_cancel_finds_queue_from_req),
	KUNIT_CASE(csq_flush_completes_outside_lock),
	KUNIT_CASE(csq_insert_req_ex_passes_insert_ctx),
	KUNIT_CASE(csq_insert_req_ex_refused),
	KUNIT_CASE(csq_insert_req_ex_refused_after_cancel),
	KUNIT_CASE(csq_remove_next_req_filters_by_owner),
	KUNIT_CASE(csq_flush_sweeps_one_owner),
	KUNIT_CASE(csq_flush_empty_queue),
	KUNIT_CASE(csq_owner_fifo_remove_next_filters_by_owner),
	KUNIT_CASE(csq_owner_fifo_flush_sweeps_one_owner),
	KUNIT_CASE(csq_owner_fifo_cancel_and_remove_unlink_from_owner),
	KUNIT_CASE(csq_owner_fifo_flush_skips_cancel_in_progress),
	KUNIT_CASE(csq_ready_made_ops_call_drivers_peek_next),
	KUNIT_CASE(csq_prio_remove_next_highest_first),
	KUNIT_CASE(csq_prio_peek_ctx_minimum_priority),
	KUNIT_CASE(csq_prio_cancel_keeps_order),
	KUNIT_CASE(csq_fifo_spin_ops_irqs_disabled),
	KUNIT_CASE(csq_fifo_spin_ops_from_hardirq),
	KUNIT_CASE(csq_fifo_mutex_ops_fifo_and_cancel),
	KUNIT_CASE(csq_mutex_ops_callbacks_may_sleep),
	KUNIT_CASE(csq_flush_wakes_blocked_waiter),
	KUNIT_CASE(csq_req_reinit_allows_reuse),
	KUNIT_CASE(csq_req_set_cancel_routine_returns_old),
	KUNIT_CASE(csq_req_cancel_without_routine),
	KUNIT_CASE(csq_req_cancel_hands_off_cancel_lock),
	KUNIT_CASE(csq_req_cancel_restores_callers_irqs),
	KUNIT_CASE(csq_req_cancel_calls_routine_once),
	KUNIT_CASE(csq_req_complete_wakes_waiter),
	KUNIT_CASE(csq_req_complete_calls_complete_fn),
	KUNIT_CASE(csq_raw_queue_start_next_is_fifo),
	KUNIT_CASE(csq_raw_queue_cancel_while_queued),
	KUNIT_CASE(csq_raw_queue_cancel_before_add),
	KUNIT_CASE(csq_raw_queue_skips_cancel_in_progress),
	KUNIT_CASE(csq_raw_queue_cancel_after_start),
	KUNIT_CASE_SLOW(csq_fifo_spin_ops_race),
	KUNIT_CASE_SLOW(csq_fifo_mutex_ops_race),
	{}
};

static struct kunit_suite csq_test_suite = {
	.name = "csq",
	.test_cases = csq_test_cases,
};

kunit_test_suite(csq_test_suite);

MODULE_DESCRIPTION("KUnit tests for the cancel-safe request queue");
MODULE_LICENSE("GPL");
