// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for waiting on a queued request (csq_wait.c): the outcome of
 * the wait for each point the request can be at when the signal or the
 * timeout comes (queued, claimed, in progress, completed), and the waking
 * of waiters one at a time.
 *
 * Waiters that need a signal are kthreads that allow SIGUSR1; the others
 * wait in the test's own thread.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>
#include <linux/slab.h>

#include "csq_internal.h"

/* How long a case waits for another thread before it calls it hung. */
#define CSQ_WAIT_TIMEOUT	(10 * HZ)
/* How long a case watches a waiter that must not return yet. */
#define CSQ_WAIT_STILL		(HZ / 10)
#define CSQ_WAIT_NR_WAITERS	8

enum csq_wait_kind {
	CSQ_WAIT_INTERRUPTIBLE,
	CSQ_WAIT_KILLABLE,
	CSQ_WAIT_TIMEOUT_KIND,
};

/**
 * struct csq_waiter - a thread waiting for its request, as a read() does
 * @csq: the queue.
 * @req: its request.
 * @ctx: its context.
 * @kind: which helper it waits with.
 * @timeout: the timeout of CSQ_WAIT_TIMEOUT_KIND, in jiffies.
 * @task: the thread.
 * @inserted: completed once the request is queued.
 * @returned: completed once the wait has returned.
 * @ret: what the wait returned.
 */
struct csq_waiter {
	struct csq *csq;
	struct csq_req req;
	struct csq_req_ctx ctx;
	enum csq_wait_kind kind;
	long timeout;
	struct task_struct *task;
	struct completion inserted;
	struct completion returned;
	int ret;
};

static int csq_waiter_fn(void *data)
{
	struct csq_waiter *w = data;

	allow_signal(SIGUSR1);
	w->ret = csq_insert_req(w->csq, &w->req, &w->ctx);
	complete(&w->inserted);
	if (!w->ret) {
		switch (w->kind) {
		case CSQ_WAIT_INTERRUPTIBLE:
			w->ret = csq_wait_req_interruptible(w->csq, &w->req,
							    &w->ctx);
			break;
		case CSQ_WAIT_KILLABLE:
			w->ret = csq_wait_req_killable(w->csq, &w->req,
						       &w->ctx);
			break;
		case CSQ_WAIT_TIMEOUT_KIND:
			w->ret = csq_wait_req_timeout(w->csq, &w->req, &w->ctx,
						      w->timeout);
			break;
		}
	}
	flush_signals(current);
	complete(&w->returned);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

static void csq_waiter_stop(void *data)
{
	struct csq_waiter *w = data;

	kthread_stop_put(w->task);
}

static struct csq *csq_wait_queue(struct kunit *test)
{
	struct csq *csq = kunit_kzalloc(test, sizeof(*csq), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, csq);
	KUNIT_ASSERT_EQ(test, csq_init(csq, &csq_fifo_spin_ops), 0);
	return csq;
}

static void csq_wait_queue_check(struct kunit *test, struct csq *csq)
{
	KUNIT_EXPECT_TRUE(test, csq_is_empty(csq));
	KUNIT_EXPECT_EQ(test, csq_nr_active(csq), 0);
	KUNIT_EXPECT_FALSE(test, csq->waking);
	KUNIT_EXPECT_TRUE(test, list_empty(&csq->wake_deferred));
}

/* A waiter thread with its request queued when this returns. */
static struct csq_waiter *csq_waiter_start(struct kunit *test, struct csq *csq,
					   enum csq_wait_kind kind,
					   long timeout)
{
	struct csq_waiter *w;
	int ret;

	w = kunit_kzalloc(test, sizeof(*w), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	w->csq = csq;
	w->kind = kind;
	w->timeout = timeout;
	csq_req_init(&w->req);
	init_completion(&w->inserted);
	init_completion(&w->returned);
	w->task = kthread_create(csq_waiter_fn, w, "csq_waiter");
	KUNIT_ASSERT_FALSE(test, IS_ERR(w->task));
	get_task_struct(w->task);
	ret = kunit_add_action_or_reset(test, csq_waiter_stop, w);
	KUNIT_ASSERT_EQ(test, ret, 0);
	wake_up_process(w->task);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&w->inserted,
							  CSQ_WAIT_TIMEOUT),
			0);
	KUNIT_ASSERT_EQ(test, w->ret, 0);
	return w;
}

static bool csq_waiter_returned(struct csq_waiter *w, long timeout)
{
	return wait_for_completion_timeout(&w->returned, timeout) > 0;
}

/* Completed before the wait: it returns the status at once. */
static void csq_wait_req_completed_before_the_wait_returns_its_status(struct kunit *test)
{
	struct csq *csq = csq_wait_queue(test);
	struct csq_req_ctx ctx;
	struct csq_req req;

	csq_req_init(&req);
	KUNIT_ASSERT_EQ(test, csq_insert_req(csq, &req, &ctx), 0);
	KUNIT_ASSERT_PTR_EQ(test, csq_remove_next_req(csq, NULL), &req);
	csq_req_complete(&req, -EMSGSIZE, 0);
	KUNIT_EXPECT_EQ(test, csq_wait_req_interruptible(csq, &req, &ctx),
			-EMSGSIZE);
	csq_wait_queue_check(test, csq);
}

/* Completed while waiting: the completer's status and bytes. */
static void csq_wait_req_completed_while_waiting_returns_its_data(struct kunit *test)
{
	struct csq *csq = csq_wait_queue(test);
	struct csq_waiter *w;
	struct csq_req *req;

	w = csq_waiter_start(test, csq, CSQ_WAIT_INTERRUPTIBLE, 0);
	KUNIT_EXPECT_FALSE(test, csq_waiter_returned(w, CSQ_WAIT_STILL));
	req = csq_remove_next_req(csq, NULL);
	KUNIT_ASSERT_PTR_EQ(test, req, &w->req);
	csq_req_complete(req, 0, 5);
	KUNIT_ASSERT_TRUE(test, csq_waiter_returned(w, CSQ_WAIT_TIMEOUT));
	KUNIT_EXPECT_EQ(test, w->ret, 0);
	KUNIT_EXPECT_EQ(test, w->req.information, 5);
	csq_wait_queue_check(test, csq);
}

/* A signal while queued: taken back, completed -ERESTARTSYS, no data. */
static void csq_wait_req_signal_while_queued_takes_it_back(struct kunit *test)
{
	struct csq *csq = csq_wait_queue(test);
	struct csq_waiter *w;

	w = csq_waiter_start(test, csq, CSQ_WAIT_INTERRUPTIBLE, 0);
	send_sig(SIGUSR1, w->task, 0);
	KUNIT_ASSERT_TRUE(test, csq_waiter_returned(w, CSQ_WAIT_TIMEOUT));
	KUNIT_EXPECT_EQ(test, w->ret, -ERESTARTSYS);
	KUNIT_EXPECT_EQ(test, w->req.status, -ERESTARTSYS);
	KUNIT_EXPECT_NULL(test, csq_remove_next_req(csq, NULL));
	csq_wait_queue_check(test, csq);
}

/*
 * A signal after a completer claimed the request: the wait goes on until
 * the completion, and returns what it carries.  Data handed over is never
 * lost.
 */
static void csq_wait_req_signal_after_claim_returns_the_data(struct kunit *test)
{
	struct csq *csq = csq_wait_queue(test);
	struct csq_waiter *w;
	struct csq_req *req;

	w = csq_waiter_start(test, csq, CSQ_WAIT_INTERRUPTIBLE, 0);
	req = csq_remove_next_req(csq, NULL);
	KUNIT_ASSERT_PTR_EQ(test, req, &w->req);
	send_sig(SIGUSR1, w->task, 0);
	KUNIT_EXPECT_FALSE(test, csq_waiter_returned(w, CSQ_WAIT_STILL));
	csq_req_complete(req, 0, 7);
	KUNIT_ASSERT_TRUE(test, csq_waiter_returned(w, CSQ_WAIT_TIMEOUT));
	KUNIT_EXPECT_EQ(test, w->ret, 0);
	KUNIT_EXPECT_EQ(test, w->req.information, 7);
	csq_wait_queue_check(test, csq);
}

/* A signal after a cancel took the request: its -ECANCELED. */
static void csq_wait_req_signal_after_cancel_returns_ecanceled(struct kunit *test)
{
	struct csq *csq = csq_wait_queue(test);
	struct csq_waiter *w;

	w = csq_waiter_start(test, csq, CSQ_WAIT_INTERRUPTIBLE, 0);
	KUNIT_EXPECT_TRUE(test, csq_req_cancel(&w->req));
	send_sig(SIGUSR1, w->task, 0);
	KUNIT_ASSERT_TRUE(test, csq_waiter_returned(w, CSQ_WAIT_TIMEOUT));
	KUNIT_EXPECT_EQ(test, w->ret, -ECANCELED);
	csq_wait_queue_check(test, csq);
}

static void csq_wait_partial(struct csq_req *req)
{
	/* The transfer in progress stops with what it has. */
	csq_req_complete(req, 0, 3);
}

/*
 * A signal while the driver works on the request, marked cancelable: the
 * wait cancels that work, and returns the bytes transferred so far.
 */
static void csq_wait_req_signal_cancels_a_request_in_progress(struct kunit *test)
{
	struct csq *csq = csq_wait_queue(test);
	struct csq_waiter *w;
	struct csq_req *req;

	w = csq_waiter_start(test, csq, CSQ_WAIT_INTERRUPTIBLE, 0);
	req = csq_remove_next_req(csq, NULL);
	KUNIT_ASSERT_PTR_EQ(test, req, &w->req);
	KUNIT_ASSERT_EQ(test, csq_req_mark_cancelable(csq, req,
						      csq_wait_partial),
			0);
	send_sig(SIGUSR1, w->task, 0);
	if (!csq_waiter_returned(w, CSQ_WAIT_TIMEOUT) &&
	    !csq_req_unmark_cancelable(csq, req)) {
		/* The wait did not cancel: let it go, then fail. */
		csq_req_complete(req, 0, 0);
		KUNIT_FAIL(test, "a signal did not cancel the request in progress");
		return;
	}
	KUNIT_EXPECT_EQ(test, w->ret, 0);
	KUNIT_EXPECT_EQ(test, w->req.information, 3);
	KUNIT_EXPECT_TRUE(test, csq_req_is_canceled(&w->req));
	csq_wait_queue_check(test, csq);
}

/* A signal before the driver marks it: the mark finds the cancel. */
static void csq_wait_req_signal_before_mark_cancelable_is_not_lost(struct kunit *test)
{
	struct csq *csq = csq_wait_queue(test);
	unsigned long timeout;
	struct csq_waiter *w;
	struct csq_req *req;

	w = csq_waiter_start(test, csq, CSQ_WAIT_INTERRUPTIBLE, 0);
	req = csq_remove_next_req(csq, NULL);
	KUNIT_ASSERT_PTR_EQ(test, req, &w->req);
	send_sig(SIGUSR1, w->task, 0);
	/* The wait sets the cancel flag: the mark then fails. */
	timeout = jiffies + CSQ_WAIT_TIMEOUT;
	while (!csq_req_is_canceled(req) && time_before(jiffies, timeout))
		schedule_timeout_uninterruptible(1);
	KUNIT_EXPECT_TRUE(test, csq_req_is_canceled(req));
	KUNIT_EXPECT_EQ(test, csq_req_mark_cancelable(csq, req,
						      csq_wait_partial),
			-ECANCELED);
	csq_req_complete(req, 0, 1);
	KUNIT_ASSERT_TRUE(test, csq_waiter_returned(w, CSQ_WAIT_TIMEOUT));
	KUNIT_EXPECT_EQ(test, w->ret, 0);
	KUNIT_EXPECT_EQ(test, w->req.information, 1);
	csq_wait_queue_check(test, csq);
}

/* Only a fatal signal ends a killable wait. */
static void csq_wait_req_killable_ignores_other_signals(struct kunit *test)
{
	struct csq *csq = csq_wait_queue(test);
	struct csq_waiter *w;
	struct csq_req *req;

	w = csq_waiter_start(test, csq, CSQ_WAIT_KILLABLE, 0);
	send_sig(SIGUSR1, w->task, 0);
	KUNIT_EXPECT_FALSE(test, csq_waiter_returned(w, CSQ_WAIT_STILL));
	KUNIT_EXPECT_EQ(test, csq_count(csq), 1);
	req = csq_remove_next_req(csq, NULL);
	KUNIT_ASSERT_PTR_EQ(test, req, &w->req);
	csq_req_complete(req, 0, 2);
	KUNIT_ASSERT_TRUE(test, csq_waiter_returned(w, CSQ_WAIT_TIMEOUT));
	KUNIT_EXPECT_EQ(test, w->ret, 0);
	csq_wait_queue_check(test, csq);
}

/* The IRP timeout: a request still queued is taken back, -ETIMEDOUT. */
static void csq_wait_req_timeout_while_queued_takes_it_back(struct kunit *test)
{
	struct csq *csq = csq_wait_queue(test);
	struct csq_req_ctx ctx;
	struct csq_req req;

	csq_req_init(&req);
	KUNIT_ASSERT_EQ(test, csq_insert_req(csq, &req, &ctx), 0);
	KUNIT_EXPECT_EQ(test, csq_wait_req_timeout(csq, &req, &ctx, 1),
			-ETIMEDOUT);
	KUNIT_EXPECT_EQ(test, req.status, -ETIMEDOUT);
	csq_wait_queue_check(test, csq);

	csq_req_reinit(&req);
	KUNIT_ASSERT_EQ(test, csq_insert_req(csq, &req, &ctx), 0);
	KUNIT_EXPECT_EQ(test, csq_wait_req_interruptible_timeout(csq, &req,
								 &ctx, 1),
			-ETIMEDOUT);
	csq_wait_queue_check(test, csq);
}

/* The timeout after a claim: the completion still arrives, with data. */
static void csq_wait_req_timeout_after_claim_returns_the_data(struct kunit *test)
{
	struct csq *csq = csq_wait_queue(test);
	struct csq_waiter *w;
	struct csq_req *req;

	w = csq_waiter_start(test, csq, CSQ_WAIT_TIMEOUT_KIND, 2);
	req = csq_remove_next_req(csq, NULL);
	KUNIT_ASSERT_PTR_EQ(test, req, &w->req);
	KUNIT_EXPECT_FALSE(test, csq_waiter_returned(w, CSQ_WAIT_STILL));
	csq_req_complete(req, 0, 9);
	KUNIT_ASSERT_TRUE(test, csq_waiter_returned(w, CSQ_WAIT_TIMEOUT));
	KUNIT_EXPECT_EQ(test, w->ret, 0);
	KUNIT_EXPECT_EQ(test, w->req.information, 9);
	csq_wait_queue_check(test, csq);
}

/*
 * Two waiters completed back to back: the first is woken, the second
 * waits for the first to pass the turn on.  Played in one thread, which
 * is each waiter in turn, so every step is seen.
 */
static void csq_wait_second_completion_waits_for_the_first_waiter(struct kunit *test)
{
	struct csq *csq = csq_wait_queue(test);
	struct csq_req_ctx ctx[2];
	struct csq_req req[2];
	int i;

	for (i = 0; i < 2; i++) {
		csq_req_init(&req[i]);
		KUNIT_ASSERT_EQ(test, csq_insert_req(csq, &req[i], &ctx[i]), 0);
		/* What the wait does before it sleeps. */
		set_bit(CSQ_REQ_CHAINED, &req[i].flags);
	}
	for (i = 0; i < 2; i++) {
		KUNIT_ASSERT_PTR_EQ(test, csq_remove_next_req(csq, NULL),
				    &req[i]);
		csq_req_complete(&req[i], 0, i + 1);
	}
	KUNIT_EXPECT_TRUE(test, completion_done(&req[0].done));
	KUNIT_EXPECT_TRUE(test, test_bit(CSQ_REQ_BATON, &req[0].flags));
	KUNIT_EXPECT_FALSE(test, completion_done(&req[1].done));
	KUNIT_EXPECT_TRUE(test, csq->waking);
	KUNIT_EXPECT_PTR_EQ(test, list_first_entry_or_null(&csq->wake_deferred,
							   struct csq_req,
							   entry),
			    &req[1]);
	KUNIT_EXPECT_EQ(test, csq_nr_active(csq), 1);

	/* The first waiter runs: its data, and the turn goes on. */
	KUNIT_EXPECT_EQ(test, csq_wait_req_interruptible(csq, &req[0], &ctx[0]),
			0);
	KUNIT_EXPECT_EQ(test, req[0].information, 1);
	KUNIT_EXPECT_TRUE(test, completion_done(&req[1].done));
	KUNIT_EXPECT_TRUE(test, test_bit(CSQ_REQ_BATON, &req[1].flags));
	KUNIT_EXPECT_TRUE(test, csq->waking);
	KUNIT_EXPECT_EQ(test, csq_wait_req_interruptible(csq, &req[1], &ctx[1]),
			0);
	KUNIT_EXPECT_EQ(test, req[1].information, 2);
	csq_wait_queue_check(test, csq);
}

/* A request not waited on by the helpers is completed at once, always. */
static void csq_wait_plain_completion_is_never_deferred(struct kunit *test)
{
	struct csq *csq = csq_wait_queue(test);
	struct csq_req_ctx ctx[2];
	struct csq_req req[2];
	int i;

	for (i = 0; i < 2; i++) {
		csq_req_init(&req[i]);
		KUNIT_ASSERT_EQ(test, csq_insert_req(csq, &req[i], &ctx[i]), 0);
	}
	set_bit(CSQ_REQ_CHAINED, &req[0].flags);
	for (i = 0; i < 2; i++) {
		KUNIT_ASSERT_PTR_EQ(test, csq_remove_next_req(csq, NULL),
				    &req[i]);
		csq_req_complete(&req[i], 0, 0);
	}
	KUNIT_EXPECT_TRUE(test, completion_done(&req[1].done));
	KUNIT_EXPECT_EQ(test, csq_wait_req_interruptible(csq, &req[0], &ctx[0]),
			0);
	csq_wait_queue_check(test, csq);
}

/*
 * More waiters than CPUs, completed in a burst, some signalled as it comes:
 * every one returns its own data or, taken back, -ERESTARTSYS, and the
 * turn ends with the last.
 */
static void csq_wait_burst_of_completions_reaches_every_waiter(struct kunit *test)
{
	struct csq_waiter *w[CSQ_WAIT_NR_WAITERS];
	struct csq *csq = csq_wait_queue(test);
	unsigned int i, round, handed;
	struct csq_req *req;

	for (round = 0; round < 20; round++) {
		for (i = 0; i < CSQ_WAIT_NR_WAITERS; i++)
			w[i] = csq_waiter_start(test, csq,
						CSQ_WAIT_INTERRUPTIBLE, 0);
		handed = 0;
		for (i = 0; i < CSQ_WAIT_NR_WAITERS; i++) {
			if (i % 3 == round % 3)
				send_sig(SIGUSR1, w[i]->task, 0);
			req = csq_remove_next_req(csq, NULL);
			if (req) {
				csq_req_complete(req, 0, 100 + i);
				handed++;
			}
		}
		while ((req = csq_remove_next_req(csq, NULL))) {
			csq_req_complete(req, 0, 100);
			handed++;
		}
		for (i = 0; i < CSQ_WAIT_NR_WAITERS; i++) {
			KUNIT_ASSERT_TRUE(test,
					  csq_waiter_returned(w[i],
							      CSQ_WAIT_TIMEOUT));
			if (w[i]->ret == -ERESTARTSYS) {
				handed++;
				continue;
			}
			KUNIT_EXPECT_EQ(test, w[i]->ret, 0);
			KUNIT_EXPECT_GE(test, w[i]->req.information, 100);
		}
		KUNIT_EXPECT_EQ(test, handed, CSQ_WAIT_NR_WAITERS);
		csq_wait_queue_check(test, csq);
		for (i = 0; i < CSQ_WAIT_NR_WAITERS; i++)
			kunit_release_action(test, csq_waiter_stop, w[i]);
	}
}

static struct kunit_case csq_wait_test_cases[] = {
	KUNIT_CASE(csq_wait_req_completed_before_the_wait_returns_its_status),
	KUNIT_CASE(csq_wait_req_completed_while_waiting_returns_its_data),
	KUNIT_CASE(csq_wait_req_signal_while_queued_takes_it_back),
	KUNIT_CASE(csq_wait_req_signal_after_claim_returns_the_data),
	KUNIT_CASE(csq_wait_req_signal_after_cancel_returns_ecanceled),
	KUNIT_CASE(csq_wait_req_signal_cancels_a_request_in_progress),
	KUNIT_CASE(csq_wait_req_signal_before_mark_cancelable_is_not_lost),
	KUNIT_CASE(csq_wait_req_killable_ignores_other_signals),
	KUNIT_CASE(csq_wait_req_timeout_while_queued_takes_it_back),
	KUNIT_CASE(csq_wait_req_timeout_after_claim_returns_the_data),
	KUNIT_CASE(csq_wait_second_completion_waits_for_the_first_waiter),
	KUNIT_CASE(csq_wait_plain_completion_is_never_deferred),
	KUNIT_CASE_SLOW(csq_wait_burst_of_completions_reaches_every_waiter),
	{}
};

static struct kunit_suite csq_wait_test_suite = {
	.name = "csq_wait",
	.test_cases = csq_wait_test_cases,
};

kunit_test_suite(csq_wait_test_suite);
