// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the queue of csq (csq_queue.c): insert, take back by
 * context, take the next, flush, the accounting that teardown waits on.
 *
 * The queue is driven through the recording fake (csq_fake.h), through the
 * library's own lists, and through a priority queue written here.  Every
 * race is tested twice: as a deterministic case named by the order of its
 * events, and for real by kthreads on every CPU racing on one queue.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "csq_fake.h"

/* csq_init() and csq_init_ex() */

/* The library's lists, a driver's filter, and no complete_canceled. */
static const struct csq_ops csq_ops_filter_only = {
	.peek_next = csq_fake_peek_next,
};

static void csq_init_accepts_complete_ops(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
	struct csq_fake *fake_ex = csq_fake_create(test, &csq_fake_ex_ops);
	struct csq_fake *lists = csq_fake_create(test, &csq_ops_filter_only);
	struct csq_fake *plain = csq_fake_create(test, &csq_fifo_spin_ops);

	KUNIT_EXPECT_PTR_EQ(test, fake->csq.ops, &csq_fake_ops);
	KUNIT_EXPECT_PTR_EQ(test, fake_ex->csq.ops, &csq_fake_ex_ops);
	KUNIT_EXPECT_PTR_EQ(test, lists->csq.ops, &csq_ops_filter_only);
	KUNIT_EXPECT_PTR_EQ(test, plain->csq.ops, &csq_fifo_spin_ops);
	KUNIT_EXPECT_EQ(test, csq_get_state(&plain->csq), CSQ_RUNNING);
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

static const struct csq_ops csq_ops_with_peek_and_insert_ex = {
	.insert_ex = csq_fake_insert_ex,
	.peek_next = csq_fake_peek_next,
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
	{ "csq_init_ex without list callbacks", &csq_fifo_spin_ops, true },
	{ "csq_init with peek_next only and insert_ex",
	  &csq_ops_with_peek_and_insert_ex, true },
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
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
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
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ops);
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

/* The library's lists: the same answers, from each owner's own list */

static void csq_lists_remove_next_filters_by_owner(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
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
static void csq_lists_flush_sweeps_one_owner(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
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
static void csq_lists_cancel_and_remove_unlink_from_owner(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
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
static void csq_lists_flush_skips_cancel_in_progress(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
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

/* Contexts and accounting */

/* Every insert initialises its context, whatever the outcome. */
static void csq_insert_req_initialises_ctx_when_refused(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fake_ex_ops);
	struct csq_fake *plain = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_req_ctx *ctx = &fake->r[0].ctx;
	int busy = -EBUSY;

	memset(ctx, 0x6b, sizeof(*ctx));
	KUNIT_EXPECT_EQ(test, csq_insert_req_ex(&fake->csq,
						csq_fake_req(fake, 0), ctx,
						&busy),
			-EBUSY);
	KUNIT_EXPECT_PTR_EQ(test, ctx->csq, &fake->csq);
	KUNIT_EXPECT_NULL(test, ctx->req);
	KUNIT_EXPECT_NULL(test, csq_remove_req(&fake->csq, ctx));
	csq_req_complete(csq_fake_req(fake, 0), -EBUSY, 0);

	ctx = &plain->r[0].ctx;
	memset(ctx, 0x6b, sizeof(*ctx));
	csq_purge(&plain->csq);
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(plain, 0), -ESHUTDOWN);
	KUNIT_EXPECT_PTR_EQ(test, ctx->csq, &plain->csq);
	KUNIT_EXPECT_NULL(test, ctx->req);
	KUNIT_EXPECT_NULL(test, csq_remove_req(&plain->csq, ctx));
	KUNIT_EXPECT_EQ(test, csq_nr_active(&plain->csq), 0);
}

/* A context of another queue takes nothing from either queue. */
static void csq_remove_req_with_ctx_of_another_queue_takes_nothing(struct kunit *test)
{
	struct csq_fake *a = csq_fake_create(test, &csq_fake_ops);
	struct csq_fake *b = csq_fake_create(test, &csq_fake_ops);

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(a, 0), 0);
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(b, 0), 0);

	KUNIT_EXPECT_NULL(test, csq_remove_req(&a->csq, &b->r[0].ctx));
	KUNIT_EXPECT_EQ(test, csq_count(&a->csq), 1);
	KUNIT_EXPECT_EQ(test, csq_count(&b->csq), 1);
	KUNIT_EXPECT_PTR_EQ(test, b->r[0].ctx.req, csq_fake_req(b, 0));
	KUNIT_EXPECT_EQ(test, a->nr_remove + b->nr_remove, 0);

	KUNIT_EXPECT_EQ(test, csq_flush(&a->csq, NULL), 1);
	KUNIT_EXPECT_EQ(test, csq_flush(&b->csq, NULL), 1);
}

/*
 * A request counts in its queue from its insert to its completion; taken
 * off and inserted again it counts once, and moved to another queue it
 * moves its count.
 */
static void csq_nr_active_counts_from_insert_to_completion(struct kunit *test)
{
	struct csq_fake *a = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_fake *b = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_req *req = csq_fake_req(a, 0);

	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(a, 0), 0);
	KUNIT_EXPECT_EQ(test, csq_nr_active(&a->csq), 1);
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&a->csq, NULL), req);
	KUNIT_EXPECT_EQ(test, csq_count(&a->csq), 0);
	KUNIT_EXPECT_EQ(test, csq_nr_active(&a->csq), 1);

	KUNIT_EXPECT_EQ(test, csq_insert_req(&a->csq, req, NULL), 0);
	KUNIT_EXPECT_EQ(test, csq_nr_active(&a->csq), 1);
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&a->csq, NULL), req);

	KUNIT_EXPECT_EQ(test, csq_insert_req(&b->csq, req, NULL), 0);
	KUNIT_EXPECT_EQ(test, csq_nr_active(&a->csq), 0);
	KUNIT_EXPECT_EQ(test, csq_nr_active(&b->csq), 1);
	KUNIT_EXPECT_TRUE(test, csq_req_cancel(req));
	KUNIT_EXPECT_EQ(test, req->status, -ECANCELED);
	KUNIT_EXPECT_EQ(test, csq_nr_active(&b->csq), 0);

	/* Refused: never counted. */
	csq_start(&a->csq);
	csq_drain(&a->csq);
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(a, 1), -ESHUTDOWN);
	KUNIT_EXPECT_EQ(test, csq_nr_active(&a->csq), 0);
}

/**
 * struct csq_quiesce - a cancel held between its unlink and its completion
 * @csq: the queue, allocated here and freed by the destroyer.
 * @req: its request.
 * @canceller: cancels @req.
 * @destroyer: tears the queue down and frees it.
 * @entered: completed once complete_canceled is entered.
 * @gate: complete_canceled waits for it before completing.
 * @destroyed: completed once csq_destroy() has returned.
 * @destroy_count: csq_count() as the destroyer saw it.
 */
struct csq_quiesce {
	struct csq *csq;
	struct csq_req req;
	struct task_struct *canceller;
	struct task_struct *destroyer;
	struct completion entered;
	struct completion gate;
	struct completion destroyed;
	unsigned int destroy_count;
};

static struct csq_quiesce *csq_quiesce_of_gate;

static void csq_quiesce_complete_canceled(struct csq *csq, struct csq_req *req)
{
	struct csq_quiesce *q = csq_quiesce_of_gate;

	complete(&q->entered);
	wait_for_completion(&q->gate);
	/* Touches the queue (its count) on the way out: rule 8. */
	csq_req_complete(req, -ECANCELED, 0);
}

static const struct csq_ops csq_quiesce_ops = {
	.complete_canceled = csq_quiesce_complete_canceled,
};

static int csq_quiesce_cancel_fn(void *data)
{
	struct csq_quiesce *q = data;

	csq_req_cancel(&q->req);
	return 0;
}

static int csq_quiesce_destroy_fn(void *data)
{
	struct csq_quiesce *q = data;

	q->destroy_count = csq_count(q->csq);
	csq_destroy(q->csq);
	kfree(q->csq);
	complete(&q->destroyed);
	return 0;
}

/*
 * Rule 8: a queue that looks empty may still have a canceller between its
 * unlink and its completion.  csq_destroy() waits for it; under KASAN a
 * teardown that did not would be a use after free of the queue.
 */
static void csq_destroy_waits_for_a_cancel_on_its_way(struct kunit *test)
{
	struct csq_quiesce *q;

	q = kunit_kzalloc(test, sizeof(*q), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q);
	q->csq = kzalloc(sizeof(*q->csq), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, q->csq);
	init_completion(&q->entered);
	init_completion(&q->gate);
	init_completion(&q->destroyed);
	csq_quiesce_of_gate = q;
	KUNIT_ASSERT_EQ(test, csq_init(q->csq, &csq_quiesce_ops), 0);
	csq_req_init(&q->req);
	KUNIT_ASSERT_EQ(test, csq_insert_req(q->csq, &q->req, NULL), 0);

	q->canceller = kthread_run(csq_quiesce_cancel_fn, q, "csq_canceller");
	KUNIT_ASSERT_FALSE(test, IS_ERR(q->canceller));
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&q->entered,
							  CSQ_TEST_TIMEOUT),
			0);
	q->destroyer = kthread_run(csq_quiesce_destroy_fn, q, "csq_destroyer");
	KUNIT_ASSERT_FALSE(test, IS_ERR(q->destroyer));

	/* The queue looks empty, but the cancel has not completed. */
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&q->destroyed,
							  HZ / 10),
			0);
	complete(&q->gate);
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&q->destroyed,
							  CSQ_TEST_TIMEOUT),
			0);
	KUNIT_EXPECT_EQ(test, q->destroy_count, 0);
	KUNIT_EXPECT_EQ(test, q->req.status, -ECANCELED);
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
 * @owner: the owner of every request but the cancel's.
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
	struct csq_owner owner;
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
		req = csq_remove_next_req(&race->csq, &race->owner);
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
			race->reqs[i].req.owner = &race->owner;
	}
	init_completion(&race->all_completed);
	csq_owner_init(&race->owner);

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

static struct kunit_case csq_queue_test_cases[] = {
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
	KUNIT_CASE(csq_lists_remove_next_filters_by_owner),
	KUNIT_CASE(csq_lists_flush_sweeps_one_owner),
	KUNIT_CASE(csq_lists_cancel_and_remove_unlink_from_owner),
	KUNIT_CASE(csq_lists_flush_skips_cancel_in_progress),
	KUNIT_CASE(csq_prio_remove_next_highest_first),
	KUNIT_CASE(csq_prio_peek_ctx_minimum_priority),
	KUNIT_CASE(csq_prio_cancel_keeps_order),
	KUNIT_CASE(csq_req_reinit_allows_reuse),
	KUNIT_CASE(csq_insert_req_initialises_ctx_when_refused),
	KUNIT_CASE(csq_remove_req_with_ctx_of_another_queue_takes_nothing),
	KUNIT_CASE(csq_nr_active_counts_from_insert_to_completion),
	KUNIT_CASE(csq_destroy_waits_for_a_cancel_on_its_way),
	KUNIT_CASE_SLOW(csq_fifo_spin_ops_race),
	KUNIT_CASE_SLOW(csq_fifo_mutex_ops_race),
	{}
};

static struct kunit_suite csq_queue_test_suite = {
	.name = "csq_queue",
	.test_cases = csq_queue_test_cases,
};

kunit_test_suite(csq_queue_test_suite);
