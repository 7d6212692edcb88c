// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for the request of csq (csq_req.c): its completion, and the
 * raw cancel-routine layer (IoSetCancelRoutine, IoCancelIrp, the cancel
 * lock) without any queue, as a driver built on that layer alone uses it.
 */

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/irqflags.h>
#include <linux/list.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "csq_fake.h"

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

static struct kunit_case csq_req_test_cases[] = {
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
	{}
};

static struct kunit_suite csq_req_test_suite = {
	.name = "csq_req",
	.test_cases = csq_req_test_cases,
};

kunit_test_suite(csq_req_test_suite);
