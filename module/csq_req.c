// SPDX-License-Identifier: GPL-2.0
/*
 * The request, the IRP of csq: its completion, and the raw cancel-routine
 * layer under the queue (IoSetCancelRoutine, IoCancelIrp and the cancel
 * spin lock).  See csq.h.
 */

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/export.h>
#include <linux/wait_bit.h>

#include "csq_internal.h"
#include "csq_trace.h"

/*
 * The global cancel lock (the cancel spin lock of Windows).  The csq queues
 * need it only to hand the request to their cancel routine; drivers built on
 * the raw layer use it to serialise with their own cancel routines.
 */
static DEFINE_SPINLOCK(csq_cancel_spinlock);

/**
 * csq_acquire_cancel_lock - take the global cancel lock
 * @irqflags: where to save the interrupt state.
 *
 * Context: any; disables interrupts until csq_release_cancel_lock().
 */
void csq_acquire_cancel_lock(unsigned long *irqflags)
	__acquires(csq_cancel_lock)
{
	spin_lock_irqsave(&csq_cancel_spinlock, *irqflags);
}
EXPORT_SYMBOL_GPL(csq_acquire_cancel_lock);

/**
 * csq_release_cancel_lock - release the global cancel lock
 * @irqflags: what csq_acquire_cancel_lock() saved, or what a cancel routine
 *	was given.
 *
 * Context: with the cancel lock held.
 */
void csq_release_cancel_lock(unsigned long irqflags)
	__releases(csq_cancel_lock)
{
	spin_unlock_irqrestore(&csq_cancel_spinlock, irqflags);
}
EXPORT_SYMBOL_GPL(csq_release_cancel_lock);

/**
 * csq_req_set_cancel_routine - install or clear a request's cancel routine
 * @req: the request.
 * @routine: the new routine, or NULL to make @req not cancelable.
 *
 * The exchange is atomic and fully ordered.  Clearing it is how an owner
 * claims a request: a non-NULL return means no canceller can run any more
 * and the caller owns @req; NULL means a canceller already took the routine
 * and will complete @req, so the caller must leave it alone.
 *
 * Context: any.
 * Return: the previous routine.
 */
csq_cancel_fn_t csq_req_set_cancel_routine(struct csq_req *req,
					   csq_cancel_fn_t routine)
{
	return xchg(&req->cancel_routine, routine);
}
EXPORT_SYMBOL_GPL(csq_req_set_cancel_routine);

/**
 * csq_req_cancel - cancel a request (IoCancelIrp)
 * @req: the request; the caller guarantees it has not been freed.
 *
 * Sets the cancel flag, then takes the cancel routine.  If there was one,
 * the caller has won the request for its routine, which is called with the
 * cancel lock held and must release it.  If there was none, the request is
 * either not queued yet (its inserter will see the flag) or already owned
 * by someone completing it; either way nothing more is needed here.
 *
 * Context: any context that the routine accepts; for a queue with sleeping
 * callbacks, process context.
 * Return: true if a cancel routine was called.
 */
bool csq_req_cancel(struct csq_req *req)
{
	csq_cancel_fn_t routine;
	unsigned long irqflags;

	spin_lock_irqsave(&csq_cancel_spinlock, irqflags);
	set_bit(CSQ_REQ_CANCEL, &req->flags);
	/*
	 * Pairs with the exchange that makes a request cancelable: xchg() is
	 * fully ordered, so either we see the routine it installs or the
	 * installer sees our flag.
	 */
	routine = xchg(&req->cancel_routine, NULL);
	if (!routine) {
		spin_unlock_irqrestore(&csq_cancel_spinlock, irqflags);
		return false;
	}
	routine(req, irqflags);
	__release(csq_cancel_lock);	/* the routine released it */
	return true;
}
EXPORT_SYMBOL_GPL(csq_req_cancel);

/* What every use of a request starts from, whoever set it up before. */
static void csq_req_reset(struct csq_req *req)
{
	INIT_LIST_HEAD(&req->entry);
	INIT_LIST_HEAD(&req->owner_entry);
	req->flags = 0;
	req->status = 0;
	req->information = 0;
	req->csq = NULL;
	req->ctx = NULL;
	req->inprogress_cancel = NULL;
}

/**
 * csq_req_init - prepare a request for its first use
 * @req: the request.
 *
 * Context: any.
 */
void csq_req_init(struct csq_req *req)
{
	csq_req_reset(req);
	req->cancel_routine = NULL;
	req->owner = NULL;
	req->context = NULL;
	req->complete_fn = NULL;
	init_completion(&req->done);
}
EXPORT_SYMBOL_GPL(csq_req_init);

/**
 * csq_req_reinit - prepare a completed request for another use
 * @req: the request, completed and no longer seen by anyone else.
 *
 * Keeps @owner, @context and @complete_fn.
 *
 * Context: any.
 */
void csq_req_reinit(struct csq_req *req)
{
	WARN_ON_ONCE(req->cancel_routine);
	csq_req_reset(req);
	reinit_completion(&req->done);
}
EXPORT_SYMBOL_GPL(csq_req_reinit);

/*
 * A request of @csq was completed.  The last touch of the queue on the way
 * out of a completion: whoever waits in csq_destroy() may free it as soon
 * as the count drops, and wake_up_var() only hashes the address.
 */
void csq_put_active(struct csq *csq)
{
	atomic_dec(&csq->nr_active);
	/* Orders the count before wake_up_var()'s look for waiters. */
	smp_mb__after_atomic();
	wake_up_var(&csq->nr_active);
}

/* Wake whoever waits for @req, then let its queue account for it. */
void __csq_req_finish(struct csq_req *req)
{
	struct csq *csq = req->csq;

	if (req->complete_fn)
		req->complete_fn(req);
	else
		complete(&req->done);
	/* @req may be gone; its queue may not, until this. */
	if (csq)
		csq_put_active(csq);
}

/*
 * A request its waiter took back after a signal or a timeout: completed
 * for the queue's accounting, with nobody to wake.
 */
void __csq_req_taken_back(struct csq_req *req, int status)
{
	struct csq *csq = req->csq;

	set_bit(CSQ_REQ_COMPLETED, &req->flags);
	trace_csq_req_complete(req, status, 0);
	req->status = status;
	req->information = 0;
	if (csq)
		csq_put_active(csq);
}

/**
 * csq_req_complete - complete a request (IoCompleteRequest)
 * @req: a request the caller owns: it came from csq_remove_req(),
 *	csq_remove_next_req(), a refused insert, or a won cancel.
 * @status: 0 or -errno; -ECANCELED for a cancelled request.
 * @information: bytes transferred.
 *
 * Wakes the synchronous waiter or calls @req->complete_fn.  A waiter in
 * csq_wait_req_interruptible() and its siblings may be woken a little later,
 * by the waiter of the same queue woken before it (see there).  After this
 * the caller must not touch @req: its waiter may free it at once.
 * Completing a request that is still cancelable, or completing it twice, is
 * a driver bug: it warns and does nothing, since the request may already be
 * another party's, and a waiter may then sleep for ever.
 *
 * Context: any; never under the queue lock.
 */
void csq_req_complete(struct csq_req *req, int status, size_t information)
{
	if (WARN_ON_ONCE(READ_ONCE(req->cancel_routine)))
		return;
	if (WARN_ON_ONCE(test_and_set_bit(CSQ_REQ_COMPLETED, &req->flags)))
		return;
	trace_csq_req_complete(req, status, information);
	req->status = status;
	req->information = information;
	if (test_bit(CSQ_REQ_CHAINED, &req->flags) && csq_wait_defer(req))
		return;
	__csq_req_finish(req);
}
EXPORT_SYMBOL_GPL(csq_req_complete);
