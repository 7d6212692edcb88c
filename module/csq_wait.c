// SPDX-License-Identifier: GPL-2.0
/*
 * Waiting for a queued request: the part of a blocking read that every
 * driver used to write by hand.  Sleep until the request is completed; on a
 * signal or a timeout take it back, unless whoever completes it already
 * took it, in which case its completion is imminent and its outcome is the
 * answer: data handed over is never lost.
 *
 * Waiters of one queue are woken one at a time.  When a completer finds a
 * waiter of the same queue woken and not yet running, it leaves its own
 * request's wake-up to that waiter, which passes the turn on once it runs,
 * as a pipe's readers wake each other.  Without this, a producer feeding
 * more waiters than there are CPUs pays a wake-up for each request and
 * falls behind its consumers, who then all sleep: every request costs a
 * sleep and a wake-up, and the queue never leaves that state.  The order
 * in which requests are handed out and completed is unchanged; only the
 * wake-ups of the waiters queue up behind each other.
 */

#include <linux/bitops.h>
#include <linux/completion.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/sched.h>
#include <linux/spinlock.h>

#include "csq_internal.h"

/*
 * Called by csq_req_complete() for @req, whose waiter waits in one of the
 * helpers below: true if a waiter is already on its way and will wake this
 * one; false if the caller wakes it now, and it then holds the turn.
 */
bool csq_wait_defer(struct csq_req *req)
{
	struct csq *csq = req->csq;
	unsigned long flags;
	bool defer;

	spin_lock_irqsave(&csq->wake_lock, flags);
	defer = csq->waking;
	if (defer) {
		list_add_tail(&req->entry, &csq->wake_deferred);
	} else {
		csq->waking = true;
		set_bit(CSQ_REQ_BATON, &req->flags);
	}
	spin_unlock_irqrestore(&csq->wake_lock, flags);
	return defer;
}

/* The holder of the turn is running: wake the next waiter, or end it. */
static void csq_wait_pass_turn(struct csq *csq)
{
	struct csq_req *next;
	unsigned long flags;

	spin_lock_irqsave(&csq->wake_lock, flags);
	next = list_first_entry_or_null(&csq->wake_deferred, struct csq_req,
					entry);
	if (next) {
		list_del_init(&next->entry);
		set_bit(CSQ_REQ_BATON, &next->flags);
	} else {
		csq->waking = false;
	}
	spin_unlock_irqrestore(&csq->wake_lock, flags);
	if (next)
		__csq_req_finish(next);
}

static long csq_wait_for(struct csq_req *req, unsigned int state,
			 long timeout)
{
	switch (state) {
	case TASK_INTERRUPTIBLE:
		return wait_for_completion_interruptible_timeout(&req->done,
								 timeout);
	case TASK_KILLABLE:
		return wait_for_completion_killable_timeout(&req->done,
							    timeout);
	default:
		return wait_for_completion_timeout(&req->done, timeout);
	}
}

static int csq_wait_req(struct csq *csq, struct csq_req *req,
			struct csq_req_ctx *ctx, unsigned int state,
			long timeout)
{
	long left;
	int ret;

	might_sleep();
	/* The helpers wait on @done, which a @complete_fn would replace. */
	WARN_ON_ONCE(req->complete_fn);
	/* Before the first sleep: a completer must know we pass the turn. */
	set_bit(CSQ_REQ_CHAINED, &req->flags);
	left = csq_wait_for(req, state, timeout);
	if (left <= 0) {
		ret = left ? -ERESTARTSYS : -ETIMEDOUT;
		if (csq_remove_req(csq, ctx)) {
			/* Ours again: nobody is on its way to wake us. */
			__csq_req_taken_back(req, ret);
			return ret;
		}
		/*
		 * Taken by a completer or a canceller, and then its completion
		 * is imminent; or by a driver that works on it for a while,
		 * which lets it be cancelled by marking it cancelable: cancel
		 * that work, now or as soon as it is marked.
		 */
		csq_req_cancel(req);
		wait_for_completion(&req->done);
	}
	if (test_bit(CSQ_REQ_BATON, &req->flags))
		csq_wait_pass_turn(csq);
	return req->status;
}

/**
 * csq_wait_req_interruptible - wait for a queued request, or a signal
 * @csq: the queue.
 * @req: the request, inserted into @csq with @ctx (csq_insert_req()
 *	returned 0), for example under a lock of the driver's that decides
 *	between queueing and serving at once.
 * @ctx: the context it was inserted with.
 *
 * Sleeps until @req is completed.  If a signal comes first, takes @req
 * back; if someone else already owns it, cancels it with csq_req_cancel(),
 * waits for its completion without interruption and returns its outcome.
 * For a request being completed or cancelled that completion is imminent;
 * a driver that works on a request for a while (a transfer in progress)
 * lets the cancel reach it with csq_req_mark_cancelable(), and completes
 * it, for example with what it transferred so far.
 * A request taken back counts as completed here, with -ERESTARTSYS and no
 * data, so that the queue's accounting (csq_drain_sync(), csq_destroy())
 * holds.  For requests without a @complete_fn.
 *
 * Context: process context; sleeps.
 * Return: the status @req was completed with (0, or the completer's
 * -errno, -ECANCELED for a cancel), its bytes in @req->information; or
 * -ERESTARTSYS if a signal came first and @req was taken back.
 */
int csq_wait_req_interruptible(struct csq *csq, struct csq_req *req,
			       struct csq_req_ctx *ctx)
{
	return csq_wait_req(csq, req, ctx, TASK_INTERRUPTIBLE,
			    MAX_SCHEDULE_TIMEOUT);
}
EXPORT_SYMBOL_GPL(csq_wait_req_interruptible);

/**
 * csq_wait_req_killable - wait for a queued request, or a fatal signal
 * @csq: the queue.
 * @req: the request, inserted into @csq with @ctx.
 * @ctx: the context it was inserted with.
 *
 * As csq_wait_req_interruptible(), but only a fatal signal interrupts.
 *
 * Context: process context; sleeps.
 * Return: the status @req was completed with, or -ERESTARTSYS if a fatal
 * signal came first and @req was taken back.
 */
int csq_wait_req_killable(struct csq *csq, struct csq_req *req,
			  struct csq_req_ctx *ctx)
{
	return csq_wait_req(csq, req, ctx, TASK_KILLABLE,
			    MAX_SCHEDULE_TIMEOUT);
}
EXPORT_SYMBOL_GPL(csq_wait_req_killable);

/**
 * csq_wait_req_timeout - wait for a queued request for a while
 * @csq: the queue.
 * @req: the request, inserted into @csq with @ctx.
 * @ctx: the context it was inserted with.
 * @timeout: how long, in jiffies.
 *
 * The IRP timeout of Windows drivers (a timer that cancels the request):
 * sleeps without interruption until @req is completed or @timeout passes;
 * then takes @req back, unless it is already being completed, as
 * csq_wait_req_interruptible() does for a signal.  A request taken back is
 * completed here with -ETIMEDOUT.  A driver that wants another status for a
 * timeout maps -ETIMEDOUT to it.
 *
 * Context: process context; sleeps.
 * Return: the status @req was completed with, or -ETIMEDOUT if the time
 * ran out first and @req was taken back.
 */
int csq_wait_req_timeout(struct csq *csq, struct csq_req *req,
			 struct csq_req_ctx *ctx, long timeout)
{
	return csq_wait_req(csq, req, ctx, TASK_UNINTERRUPTIBLE, timeout);
}
EXPORT_SYMBOL_GPL(csq_wait_req_timeout);

/**
 * csq_wait_req_interruptible_timeout - wait for a queued request for a
 *	while, or a signal
 * @csq: the queue.
 * @req: the request, inserted into @csq with @ctx.
 * @ctx: the context it was inserted with.
 * @timeout: how long, in jiffies.
 *
 * Context: process context; sleeps.
 * Return: the status @req was completed with; -ERESTARTSYS if a signal
 * came first, -ETIMEDOUT if the time ran out first, and @req was taken
 * back.
 */
int csq_wait_req_interruptible_timeout(struct csq *csq, struct csq_req *req,
				       struct csq_req_ctx *ctx, long timeout)
{
	return csq_wait_req(csq, req, ctx, TASK_INTERRUPTIBLE, timeout);
}
EXPORT_SYMBOL_GPL(csq_wait_req_interruptible_timeout);
