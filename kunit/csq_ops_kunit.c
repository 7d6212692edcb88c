// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the ready-made callbacks of csq (csq_ops.c): the
 * library's own lists and locks, in every context they promise, and the
 * driver callbacks that may still come with them.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/irqflags.h>
#include <linux/kthread.h>
#include <linux/lockdep.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "csq_fake.h"

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
 * @timer: fires once, in interrupt context.
 * @fake: the queue.
 * @in_hardirq: whether the callback ran in hard irq context.
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

/*
 * Every call is usable from a timer's interrupt, lockdep checking the irq
 * safety.  A timer not marked HRTIMER_MODE_HARD is where a spinlock_t may
 * be taken on PREEMPT_RT too: there it runs in a thread, elsewhere in hard
 * irq.  (A hard timer would take a spinlock_t where PREEMPT_RT sleeps,
 * which CONFIG_PROVE_RAW_LOCK_NESTING reports.)
 */
static void csq_fifo_spin_ops_from_hardirq(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_hardirq *hi;
	int ret;

	hi = kunit_kzalloc(test, sizeof(*hi), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, hi);
	hi->fake = fake;
	init_completion(&hi->done);
	hrtimer_init(&hi->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	hi->timer.function = csq_hardirq_fn;
	ret = kunit_add_action_or_reset(test, csq_hardirq_cancel_timer, hi);
	KUNIT_ASSERT_EQ(test, ret, 0);

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 1), 0);
	hrtimer_start(&hi->timer, ns_to_ktime(NSEC_PER_USEC), HRTIMER_MODE_REL);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&hi->done,
							  CSQ_TEST_TIMEOUT),
			0);

	KUNIT_EXPECT_EQ(test, hi->in_hardirq, !IS_ENABLED(CONFIG_PREEMPT_RT));
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

/*
 * The library's lists with a driver's filter: a peek context goes through
 * the filter, no peek context (the hot path) does not.  The filter here
 * takes requests of the parity its peek context points to.
 */
static struct csq_req *csq_parity_peek_next(struct csq *csq,
					    struct csq_req *req,
					    void *peek_ctx)
{
	const unsigned int *parity = peek_ctx;
	struct csq_fake *fake = to_fake(csq);

	fake->nr_peek_next++;
	while ((req = csq_list_peek_next(csq, req, NULL)))
		if ((to_test_req(req) - fake->r) % 2 == *parity)
			return req;
	return NULL;
}

static const struct csq_ops csq_parity_ops = {
	.peek_next = csq_parity_peek_next,
};

static void csq_lists_call_drivers_filter_for_peek_contexts_only(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_parity_ops);
	unsigned int odd = 1, even = 0, i;

	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, i), 0);

	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 0));
	KUNIT_EXPECT_EQ(test, fake->nr_peek_next, 0);
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, &odd),
			    csq_fake_req(fake, 1));
	KUNIT_EXPECT_EQ(test, fake->nr_peek_next, 1);
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, &even), 1);
	KUNIT_EXPECT_EQ(test, fake->r[2].req.status, -ECANCELED);
	KUNIT_EXPECT_GE(test, fake->nr_peek_next, 2);
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 1);

	csq_req_complete(csq_fake_req(fake, 0), 0, 0);
	csq_req_complete(csq_fake_req(fake, 1), 0, 0);
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 1);
	for (i = 0; i < 4; i++)
		KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, i), 1);
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

/*
 * A queue whose callbacks sleep, under the library's mutex: these lists
 * sleep on every call, and so does complete_canceled.
 */
static void csq_sleepy_insert(struct csq *csq, struct csq_req *req)
{
	lockdep_assert_held(csq);
	usleep_range(10, 20);
	to_fake(csq)->nr_insert++;
	list_add_tail(&req->entry, &to_fake(csq)->pending);
}

static void csq_sleepy_remove(struct csq *csq, struct csq_req *req)
{
	lockdep_assert_held(csq);
	usleep_range(10, 20);
	list_del_init(&req->entry);
}

static struct csq_req *csq_sleepy_peek_next(struct csq *csq,
					    struct csq_req *req,
					    void *peek_ctx)
{
	struct list_head *pending = &to_fake(csq)->pending;

	lockdep_assert_held(csq);
	usleep_range(10, 20);
	req = req ? list_next_entry(req, entry) :
		    list_first_entry(pending, struct csq_req, entry);
	return list_entry_is_head(req, pending, entry) ? NULL : req;
}

static void csq_sleepy_complete_canceled(struct csq *csq, struct csq_req *req)
{
	might_sleep();
	usleep_range(10, 20);
	atomic_inc(&to_fake(csq)->nr_complete_canceled);
	csq_req_complete(req, -ECANCELED, 0);
}

static const struct csq_ops csq_sleepy_ops = {
	.insert = csq_sleepy_insert,
	.remove = csq_sleepy_remove,
	.peek_next = csq_sleepy_peek_next,
	.complete_canceled = csq_sleepy_complete_canceled,
	.may_sleep = true,
};

/* A sleeping queue's callbacks may sleep, complete_canceled included. */
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

#ifdef CONFIG_LOCKDEP
/* One call site, as a driver choosing its ops at run time has. */
static int csq_init_one_site(struct csq *csq, const struct csq_ops *ops)
{
	return csq_init(csq, ops);
}

/*
 * One call site that initialises a spin queue and a sleeping one gives
 * them classes of their own: lockdep must not see one class taken in
 * interrupts and held across a sleep.
 */
static void csq_init_keys_spin_and_sleeping_queues_apart(struct kunit *test)
{
	struct csq *spin, *sleepy, *spin2;

	spin = kunit_kzalloc(test, sizeof(*spin), GFP_KERNEL);
	sleepy = kunit_kzalloc(test, sizeof(*sleepy), GFP_KERNEL);
	spin2 = kunit_kzalloc(test, sizeof(*spin2), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, spin);
	KUNIT_ASSERT_NOT_NULL(test, sleepy);
	KUNIT_ASSERT_NOT_NULL(test, spin2);
	KUNIT_ASSERT_EQ(test, csq_init_one_site(spin, &csq_fifo_spin_ops), 0);
	KUNIT_ASSERT_EQ(test, csq_init_one_site(sleepy, &csq_fifo_mutex_ops), 0);
	KUNIT_ASSERT_EQ(test, csq_init_one_site(spin2, &csq_fifo_spin_ops), 0);

	KUNIT_EXPECT_PTR_NE(test, spin->dep_map.key, sleepy->dep_map.key);
	KUNIT_EXPECT_PTR_EQ(test, spin->dep_map.key, spin2->dep_map.key);
	csq_destroy(spin);
	csq_destroy(sleepy);
	csq_destroy(spin2);
}
#endif

static struct kunit_case csq_ops_test_cases[] = {
	KUNIT_CASE(csq_fifo_spin_ops_irqs_disabled),
	KUNIT_CASE(csq_fifo_spin_ops_from_hardirq),
	KUNIT_CASE(csq_lists_call_drivers_filter_for_peek_contexts_only),
	KUNIT_CASE(csq_fifo_mutex_ops_fifo_and_cancel),
	KUNIT_CASE(csq_mutex_ops_callbacks_may_sleep),
	KUNIT_CASE(csq_flush_wakes_blocked_waiter),
#ifdef CONFIG_LOCKDEP
	KUNIT_CASE(csq_init_keys_spin_and_sleeping_queues_apart),
#endif
	{}
};

static struct kunit_suite csq_ops_test_suite = {
	.name = "csq_ops",
	.test_cases = csq_ops_test_cases,
};

kunit_test_suite(csq_ops_test_suite);
