// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for queue states and requests in progress (csq_state.c).
 *
 * Every pair of (state, event) is one case of a matrix: a queue with one
 * request queued and one handed out is put in a state, then meets an
 * event, and the outcome is the one the state table of csq.h gives.  The
 * synchronous variants are tested with a kthread that waits in them, and
 * the cancel of a request in progress as a race of its own.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "csq_fake.h"

/* How long a case watches a thread that must not return yet. */
#define CSQ_STATE_STILL		(HZ / 10)
#define CSQ_STATE_RACE_ROUNDS	2000

enum csq_state_event {
	CSQ_EV_INSERT,
	CSQ_EV_REMOVE_NEXT,
	CSQ_EV_REMOVE_CTX,
	CSQ_EV_CANCEL_QUEUED,
	CSQ_EV_FLUSH,
	CSQ_EV_COMPLETE_HANDED_OUT,
	CSQ_EV_MARK_CANCELABLE,
	CSQ_EV_CANCEL_DURING_TRANSITION,
};

/* What a request of the matrix is. */
enum {
	CSQ_QUEUED,		/* r[0], in the queue */
	CSQ_HANDED_OUT,		/* r[1], taken off by remove_next */
	CSQ_NEW,		/* r[2], not inserted yet */
};

/**
 * struct csq_state_case - one cell of the matrix
 * @desc: its name.
 * @state: the state the queue is put in.
 * @event: what happens then.
 * @want: the result of the event's call: an errno, a count, a bool, or the
 *	index of the request returned (-1 for NULL).
 */
struct csq_state_case {
	const char *desc;
	enum csq_state state;
	enum csq_state_event event;
	int want;
};

#define CSQ_CELL(st, ev, w)	{ #st " then " #ev, CSQ_##st, CSQ_EV_##ev, w }

static const struct csq_state_case csq_state_cases[] = {
	CSQ_CELL(RUNNING, INSERT, 0),
	CSQ_CELL(STOPPED, INSERT, 0),
	CSQ_CELL(DRAINING, INSERT, -ESHUTDOWN),
	CSQ_CELL(PURGED, INSERT, -ESHUTDOWN),
	CSQ_CELL(RUNNING, REMOVE_NEXT, CSQ_QUEUED),
	CSQ_CELL(STOPPED, REMOVE_NEXT, -1),
	CSQ_CELL(DRAINING, REMOVE_NEXT, CSQ_QUEUED),
	CSQ_CELL(PURGED, REMOVE_NEXT, -1),
	CSQ_CELL(RUNNING, REMOVE_CTX, CSQ_QUEUED),
	CSQ_CELL(STOPPED, REMOVE_CTX, CSQ_QUEUED),
	CSQ_CELL(DRAINING, REMOVE_CTX, CSQ_QUEUED),
	CSQ_CELL(PURGED, REMOVE_CTX, -1),
	CSQ_CELL(RUNNING, CANCEL_QUEUED, true),
	CSQ_CELL(STOPPED, CANCEL_QUEUED, true),
	CSQ_CELL(DRAINING, CANCEL_QUEUED, true),
	CSQ_CELL(PURGED, CANCEL_QUEUED, false),
	CSQ_CELL(RUNNING, FLUSH, 1),
	CSQ_CELL(STOPPED, FLUSH, 1),
	CSQ_CELL(DRAINING, FLUSH, 1),
	CSQ_CELL(PURGED, FLUSH, 0),
	CSQ_CELL(RUNNING, COMPLETE_HANDED_OUT, 0),
	CSQ_CELL(STOPPED, COMPLETE_HANDED_OUT, 0),
	CSQ_CELL(DRAINING, COMPLETE_HANDED_OUT, 0),
	CSQ_CELL(PURGED, COMPLETE_HANDED_OUT, 0),
	CSQ_CELL(RUNNING, MARK_CANCELABLE, 0),
	CSQ_CELL(STOPPED, MARK_CANCELABLE, 0),
	CSQ_CELL(DRAINING, MARK_CANCELABLE, 0),
	CSQ_CELL(PURGED, MARK_CANCELABLE, -ECANCELED),
	CSQ_CELL(RUNNING, CANCEL_DURING_TRANSITION, -ECANCELED),
	CSQ_CELL(STOPPED, CANCEL_DURING_TRANSITION, -ECANCELED),
	CSQ_CELL(DRAINING, CANCEL_DURING_TRANSITION, -ECANCELED),
	CSQ_CELL(PURGED, CANCEL_DURING_TRANSITION, -ECANCELED),
};

static void csq_state_case_desc(const struct csq_state_case *c, char *desc)
{
	strscpy(desc, c->desc, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(csq_state, csq_state_cases, csq_state_case_desc);

static int csq_state_index(struct csq_fake *fake, struct csq_req *req)
{
	return req ? to_test_req(req) - fake->r : -1;
}

/* The in-progress cancel of the matrix: complete with what was done. */
static void csq_state_inprogress_cancel(struct csq_req *req)
{
	csq_req_complete(req, 0, 3);
}

static unsigned int csq_state_enter(struct csq *csq, enum csq_state state)
{
	switch (state) {
	case CSQ_STOPPED:
		csq_stop(csq);
		break;
	case CSQ_DRAINING:
		csq_drain(csq);
		break;
	case CSQ_PURGED:
		return csq_purge(csq);
	case CSQ_RUNNING:
		break;
	}
	return 0;
}

static void csq_state_matrix(struct kunit *test)
{
	const struct csq_state_case *c = test->param_value;
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_req *queued = csq_fake_req(fake, CSQ_QUEUED);
	struct csq_req *out = csq_fake_req(fake, CSQ_HANDED_OUT);
	bool out_done = false, out_marked = false;
	csq_cancel_fn_t routine = NULL;
	unsigned int purged;
	int got = 0;

	KUNIT_ASSERT_EQ(test, csq_fake_insert_req(fake, CSQ_HANDED_OUT), 0);
	KUNIT_ASSERT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL), out);
	KUNIT_ASSERT_EQ(test, csq_fake_insert_req(fake, CSQ_QUEUED), 0);
	if (c->event == CSQ_EV_CANCEL_DURING_TRANSITION)
		routine = csq_test_begin_cancel(queued);

	purged = csq_state_enter(&fake->csq, c->state);
	KUNIT_EXPECT_EQ(test, csq_get_state(&fake->csq), c->state);
	/* Purge cancels what is queued, not what a cancel already owns. */
	KUNIT_EXPECT_EQ(test, purged, c->state == CSQ_PURGED && !routine);

	switch (c->event) {
	case CSQ_EV_INSERT:
		got = csq_fake_insert_req(fake, CSQ_NEW);
		if (got)
			KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake,
								    CSQ_NEW),
					0);
		break;
	case CSQ_EV_REMOVE_NEXT:
		got = csq_state_index(fake, csq_remove_next_req(&fake->csq,
								NULL));
		if (got >= 0)
			csq_req_complete(queued, 0, 0);
		break;
	case CSQ_EV_REMOVE_CTX:
		got = csq_state_index(fake,
				      csq_remove_req(&fake->csq,
						     &fake->r[CSQ_QUEUED].ctx));
		if (got >= 0)
			csq_req_complete(queued, 0, 0);
		break;
	case CSQ_EV_CANCEL_QUEUED:
		got = csq_req_cancel(queued);
		KUNIT_EXPECT_EQ(test, queued->status, -ECANCELED);
		break;
	case CSQ_EV_FLUSH:
		got = csq_flush(&fake->csq, NULL);
		KUNIT_EXPECT_EQ(test, queued->status, -ECANCELED);
		break;
	case CSQ_EV_COMPLETE_HANDED_OUT:
		csq_req_complete(out, 0, 5);
		out_done = true;
		got = out->status;
		KUNIT_EXPECT_EQ(test, out->information, 5);
		break;
	case CSQ_EV_MARK_CANCELABLE:
		got = csq_req_mark_cancelable(&fake->csq, out,
					      csq_state_inprogress_cancel);
		out_marked = !got;
		break;
	case CSQ_EV_CANCEL_DURING_TRANSITION:
		csq_test_end_cancel(queued, routine);
		got = queued->status;
		KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, NULL));
		break;
	}
	KUNIT_EXPECT_EQ(test, got, c->want);

	/* Whatever is left: the handed-out request, then the queue. */
	if (out_marked)
		KUNIT_EXPECT_EQ(test, csq_req_unmark_cancelable(&fake->csq, out),
				0);
	if (!out_done)
		csq_req_complete(out, 0, 0);
	csq_flush(&fake->csq, NULL);
	csq_start(&fake->csq);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, CSQ_QUEUED), 1);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, CSQ_HANDED_OUT), 1);
	KUNIT_EXPECT_EQ(test, csq_nr_active(&fake->csq), 0);
}

/**
 * struct csq_state_waiter - a thread in a synchronous state call
 * @csq: the queue.
 * @call: the call.
 * @task: the thread.
 * @returned: completed once @call has returned.
 * @count: what @call returned, for those that count.
 */
struct csq_state_waiter {
	struct csq *csq;
	unsigned int (*call)(struct csq *csq);
	struct task_struct *task;
	struct completion returned;
	unsigned int count;
};

static int csq_state_waiter_fn(void *data)
{
	struct csq_state_waiter *w = data;

	w->count = w->call(w->csq);
	complete(&w->returned);
	return 0;
}

static unsigned int csq_state_stop_sync(struct csq *csq)
{
	csq_stop_sync(csq);
	return 0;
}

static unsigned int csq_state_drain_sync(struct csq *csq)
{
	csq_drain_sync(csq);
	return 0;
}

static struct csq_state_waiter *
csq_state_waiter_start(struct kunit *test, struct csq *csq,
		       unsigned int (*call)(struct csq *csq))
{
	struct csq_state_waiter *w;

	w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	w->csq = csq;
	w->call = call;
	init_completion(&w->returned);
	w->task = kthread_run(csq_state_waiter_fn, w, "csq_state");
	KUNIT_ASSERT_FALSE(test, IS_ERR(w->task));
	return w;
}

static bool csq_state_returned(struct csq_state_waiter *w, long timeout)
{
	return wait_for_completion_timeout(&w->returned, timeout) > 0;
}

/* Stop, synchronously: waits for what was handed out, keeps the queued. */
static void csq_stop_sync_waits_for_handed_out_requests(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_req *out = csq_fake_req(fake, 1);
	struct csq_state_waiter *w;

	KUNIT_ASSERT_EQ(test, csq_fake_insert_req(fake, 1), 0);
	KUNIT_ASSERT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL), out);
	KUNIT_ASSERT_EQ(test, csq_fake_insert_req(fake, 0), 0);

	w = csq_state_waiter_start(test, &fake->csq, csq_state_stop_sync);
	KUNIT_EXPECT_FALSE(test, csq_state_returned(w, CSQ_STATE_STILL));
	/* Stopped meanwhile: inserts go on, nothing is handed out. */
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 2), 0);
	KUNIT_EXPECT_NULL(test, csq_remove_next_req(&fake->csq, NULL));
	csq_req_complete(out, 0, 0);
	KUNIT_ASSERT_TRUE(test, csq_state_returned(w, CSQ_TEST_TIMEOUT));
	KUNIT_EXPECT_EQ(test, csq_count(&fake->csq), 2);

	csq_start(&fake->csq);
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 0));
	csq_req_complete(csq_fake_req(fake, 0), 0, 0);
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 1);
}

/* Drain, synchronously: refuses new, serves the queued, waits for all. */
static void csq_drain_sync_serves_the_queued_then_returns(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_req *out = csq_fake_req(fake, 1);
	struct csq_state_waiter *w;

	KUNIT_ASSERT_EQ(test, csq_fake_insert_req(fake, 1), 0);
	KUNIT_ASSERT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL), out);
	KUNIT_ASSERT_EQ(test, csq_fake_insert_req(fake, 0), 0);

	w = csq_state_waiter_start(test, &fake->csq, csq_state_drain_sync);
	KUNIT_EXPECT_FALSE(test, csq_state_returned(w, CSQ_STATE_STILL));
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 2), -ESHUTDOWN);
	KUNIT_EXPECT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 0));
	csq_req_complete(csq_fake_req(fake, 0), 0, 0);
	KUNIT_EXPECT_FALSE(test, csq_state_returned(w, CSQ_STATE_STILL));
	csq_req_complete(out, 0, 0);
	KUNIT_ASSERT_TRUE(test, csq_state_returned(w, CSQ_TEST_TIMEOUT));
	KUNIT_EXPECT_EQ(test, csq_get_state(&fake->csq), CSQ_DRAINING);
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 2), -ESHUTDOWN);
	csq_start(&fake->csq);
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 2), 0);
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 1);
}

/*
 * Purge, synchronously: cancels the queued, calls the cancel function of
 * the marked, waits for the unmarked; then refuses until started.
 */
static void csq_purge_sync_cancels_marked_and_waits_for_the_rest(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_req *marked = csq_fake_req(fake, 1);
	struct csq_req *unmarked = csq_fake_req(fake, 2);
	struct csq_state_waiter *w;

	KUNIT_ASSERT_EQ(test, csq_fake_insert_req(fake, 1), 0);
	KUNIT_ASSERT_EQ(test, csq_fake_insert_req(fake, 2), 0);
	KUNIT_ASSERT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL), marked);
	KUNIT_ASSERT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    unmarked);
	KUNIT_ASSERT_EQ(test, csq_req_mark_cancelable(&fake->csq, marked,
						      csq_state_inprogress_cancel),
			0);
	KUNIT_ASSERT_EQ(test, csq_fake_insert_req(fake, 0), 0);

	w = csq_state_waiter_start(test, &fake->csq, csq_purge_sync);
	KUNIT_EXPECT_FALSE(test, csq_state_returned(w, CSQ_STATE_STILL));
	KUNIT_EXPECT_EQ(test, fake->r[0].req.status, -ECANCELED);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 1), 1);
	KUNIT_EXPECT_EQ(test, marked->information, 3);
	KUNIT_EXPECT_TRUE(test, csq_req_is_canceled(marked));
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 2), 0);
	csq_req_complete(unmarked, 0, 0);
	KUNIT_ASSERT_TRUE(test, csq_state_returned(w, CSQ_TEST_TIMEOUT));
	KUNIT_EXPECT_EQ(test, w->count, 2);
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 3), -ESHUTDOWN);
	csq_start(&fake->csq);
	KUNIT_EXPECT_EQ(test, csq_fake_insert_req(fake, 3), 0);
	KUNIT_EXPECT_EQ(test, csq_flush(&fake->csq, NULL), 1);
}

/* Requests in progress, named by the order of events */

static struct csq_req *csq_state_in_progress(struct kunit *test,
					     struct csq_fake *fake)
{
	KUNIT_ASSERT_EQ(test, csq_fake_insert_req(fake, 0), 0);
	KUNIT_ASSERT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
			    csq_fake_req(fake, 0));
	return csq_fake_req(fake, 0);
}

static void csq_req_mark_cancelable_after_cancel_fails_ecanceled(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_req *req = csq_state_in_progress(test, fake);

	KUNIT_EXPECT_FALSE(test, csq_req_cancel(req));
	KUNIT_EXPECT_EQ(test, csq_req_mark_cancelable(&fake->csq, req,
						      csq_state_inprogress_cancel),
			-ECANCELED);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 0);
	KUNIT_EXPECT_NULL(test, req->cancel_routine);
	KUNIT_EXPECT_TRUE(test, list_empty(&fake->csq.inprogress));
	csq_req_complete(req, -ECANCELED, 0);
}

static void csq_req_cancel_after_mark_calls_cancel_fn_once(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_req *req = csq_state_in_progress(test, fake);

	KUNIT_EXPECT_EQ(test, csq_req_mark_cancelable(&fake->csq, req,
						      csq_state_inprogress_cancel),
			0);
	KUNIT_EXPECT_TRUE(test, csq_req_cancel(req));
	KUNIT_EXPECT_FALSE(test, csq_req_cancel(req));
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
	KUNIT_EXPECT_EQ(test, req->information, 3);
	KUNIT_EXPECT_TRUE(test, list_empty(&fake->csq.inprogress));
}

static void csq_req_unmark_after_cancel_fails_ecanceled(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_req *req = csq_state_in_progress(test, fake);

	KUNIT_EXPECT_EQ(test, csq_req_mark_cancelable(&fake->csq, req,
						      csq_state_inprogress_cancel),
			0);
	KUNIT_EXPECT_TRUE(test, csq_req_cancel(req));
	KUNIT_EXPECT_EQ(test, csq_req_unmark_cancelable(&fake->csq, req),
			-ECANCELED);
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 1);
}

static void csq_req_unmark_before_cancel_owns_it(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_req *req = csq_state_in_progress(test, fake);

	KUNIT_EXPECT_EQ(test, csq_req_mark_cancelable(&fake->csq, req,
						      csq_state_inprogress_cancel),
			0);
	KUNIT_EXPECT_EQ(test, csq_req_unmark_cancelable(&fake->csq, req), 0);
	KUNIT_EXPECT_FALSE(test, csq_req_cancel(req));
	KUNIT_EXPECT_EQ(test, csq_fake_nr_completed(fake, 0), 0);
	KUNIT_EXPECT_TRUE(test, list_empty(&fake->csq.inprogress));
	csq_req_complete(req, 0, 8);
	KUNIT_EXPECT_EQ(test, req->information, 8);
}

/**
 * struct csq_state_race - cancels racing the end of a transfer
 * @fake: the queue.
 * @round: the round the canceller is to cancel in; release/acquire.
 * @done: the round the canceller has cancelled in.
 */
struct csq_state_race {
	struct csq_fake *fake;
	int round;
	int done;
};

static int csq_state_race_cancel_fn(void *data)
{
	struct csq_state_race *race = data;
	int round = 0;

	while (!kthread_should_stop()) {
		/* Pairs with the release of the round: the request is marked. */
		if (smp_load_acquire(&race->round) <= round) {
			cond_resched();
			continue;
		}
		round++;
		csq_req_cancel(csq_fake_req(race->fake, 0));
		/* Pairs with the test's acquire: our cancel is over. */
		smp_store_release(&race->done, round);
	}
	return 0;
}

static void csq_state_race_stop(void *data)
{
	kthread_stop_put(data);
}

/*
 * The driver unmarks at the end of its work while a canceller cancels:
 * exactly one of them wins, and the request completes once, every round.
 */
static void csq_req_unmark_racing_cancel_completes_once(struct kunit *test)
{
	struct csq_fake *fake = csq_fake_create(test, &csq_fifo_spin_ops);
	struct csq_req *req = csq_fake_req(fake, 0);
	unsigned int by_driver = 0, by_cancel = 0;
	struct csq_state_race *race;
	struct task_struct *task;
	int round, nr;

	race = kunit_kzalloc(test, sizeof(*race), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, race);
	race->fake = fake;
	task = kthread_run(csq_state_race_cancel_fn, race, "csq_state_race");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	get_task_struct(task);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, csq_state_race_stop,
							task),
			0);

	for (round = 1; round <= CSQ_STATE_RACE_ROUNDS; round++) {
		nr = csq_fake_nr_completed(fake, 0);
		KUNIT_ASSERT_EQ(test, csq_fake_insert_req(fake, 0), 0);
		KUNIT_ASSERT_PTR_EQ(test, csq_remove_next_req(&fake->csq, NULL),
				    req);
		KUNIT_ASSERT_EQ(test, csq_req_mark_cancelable(&fake->csq, req,
							      csq_state_inprogress_cancel),
				0);
		/* Pairs with the canceller's acquire. */
		smp_store_release(&race->round, round);
		if (!csq_req_unmark_cancelable(&fake->csq, req)) {
			by_driver++;
			csq_req_complete(req, 0, 1);
		} else {
			by_cancel++;
		}
		/* Pairs with the canceller's release of the round it did. */
		while (smp_load_acquire(&race->done) < round)
			cond_resched();
		KUNIT_ASSERT_EQ(test, csq_fake_nr_completed(fake, 0), nr + 1);
		KUNIT_ASSERT_TRUE(test, list_empty(&fake->csq.inprogress));
		csq_req_reinit(req);
	}
	kunit_release_action(test, csq_state_race_stop, task);
	kunit_info(test, "%u completed by the driver, %u by the cancel\n",
		   by_driver, by_cancel);
	KUNIT_EXPECT_EQ(test, by_driver + by_cancel, CSQ_STATE_RACE_ROUNDS);
}

static struct kunit_case csq_state_test_cases[] = {
	KUNIT_CASE_PARAM(csq_state_matrix, csq_state_gen_params),
	KUNIT_CASE(csq_stop_sync_waits_for_handed_out_requests),
	KUNIT_CASE(csq_drain_sync_serves_the_queued_then_returns),
	KUNIT_CASE(csq_purge_sync_cancels_marked_and_waits_for_the_rest),
	KUNIT_CASE(csq_req_mark_cancelable_after_cancel_fails_ecanceled),
	KUNIT_CASE(csq_req_cancel_after_mark_calls_cancel_fn_once),
	KUNIT_CASE(csq_req_unmark_after_cancel_fails_ecanceled),
	KUNIT_CASE(csq_req_unmark_before_cancel_owns_it),
	KUNIT_CASE_SLOW(csq_req_unmark_racing_cancel_completes_once),
	{}
};

static struct kunit_suite csq_state_test_suite = {
	.name = "csq_state",
	.test_cases = csq_state_test_cases,
};

kunit_test_suite(csq_state_test_suite);
