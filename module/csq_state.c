// SPDX-License-Identifier: GPL-2.0
/*
 * Queue states after KMDF's (WdfIoQueueStop, Start, Purge, Drain and their
 * synchronous variants), and requests made cancelable again while a driver
 * works on them (WdfRequestMarkCancelable, UnmarkCancelable).  See the
 * state table in csq.h.
 *
 * The synchronous variants wait on csq->nr_active, which counts a request
 * from its insert to its completion, queued or handed out.  Every
 * completion wakes them, so they see each change of what they wait for.
 */

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/sched.h>
#include <linux/wait_bit.h>

#include "csq_internal.h"

static void csq_set_state(struct csq *csq, enum csq_state from_max,
			  enum csq_state to)
{
	unsigned long flags;

	csq_might_sleep(csq);
	csq_lock(csq, &flags);
	if (csq->state <= from_max)
		WRITE_ONCE(csq->state, to);
	csq_unlock(csq, flags);
}

/**
 * csq_get_state - the state a queue is in
 * @csq: the queue.
 *
 * Context: any.  Without the queue lock the answer may be stale at once.
 * Return: its &enum csq_state.
 */
enum csq_state csq_get_state(struct csq *csq)
{
	return READ_ONCE(csq->state);
}
EXPORT_SYMBOL_GPL(csq_get_state);

/**
 * csq_start - let a queue accept and hand out requests again
 * @csq: the queue, in any state.
 *
 * Context: see the table in csq.h; takes the queue lock.
 */
void csq_start(struct csq *csq)
{
	csq_set_state(csq, CSQ_PURGED, CSQ_RUNNING);
}
EXPORT_SYMBOL_GPL(csq_start);

/**
 * csq_stop - stop handing out requests, and keep accepting them
 * @csq: the queue.
 *
 * From now on csq_remove_next_req() returns NULL; inserts, take-backs and
 * cancels work as before.  A draining or purged queue stays as it is.
 *
 * Context: see the table in csq.h; takes the queue lock.
 */
void csq_stop(struct csq *csq)
{
	csq_set_state(csq, CSQ_STOPPED, CSQ_STOPPED);
}
EXPORT_SYMBOL_GPL(csq_stop);

/* Whether every request of @csq not completed is still queued. */
static bool csq_none_handed_out(struct csq *csq)
{
	return atomic_read(&csq->nr_active) <= csq_count(csq);
}

/**
 * csq_stop_sync - stop a queue, then wait for the requests it handed out
 * @csq: the queue.
 *
 * As csq_stop(), then sleeps until every request handed out (or whose
 * cancel is on its way) has been completed; the queued ones stay.
 *
 * Context: process context; sleeps.
 */
void csq_stop_sync(struct csq *csq)
{
	csq_stop(csq);
	wait_var_event(&csq->nr_active, csq_none_handed_out(csq));
}
EXPORT_SYMBOL_GPL(csq_stop_sync);

/*
 * Take every request marked cancelable off @csq->inprogress, as a cancel
 * would: their driver now owns them again through its cancel function.
 */
static unsigned int __csq_claim_inprogress(struct csq *csq,
					   struct list_head *claimed)
	__must_hold(csq)
{
	struct csq_req *req, *tmp;
	unsigned int count = 0;

	list_for_each_entry_safe(req, tmp, &csq->inprogress, entry) {
		set_bit(CSQ_REQ_CANCEL, &req->flags);
		if (xchg(&req->cancel_routine, NULL)) {
			list_move_tail(&req->entry, claimed);
			count++;
		}
	}
	return count;
}

static void csq_cancel_inprogress(struct list_head *claimed)
{
	struct csq_req *req, *tmp;

	list_for_each_entry_safe(req, tmp, claimed, entry) {
		list_del_init(&req->entry);
		req->inprogress_cancel(req);
	}
}

/**
 * csq_purge - cancel everything and refuse new requests
 * @csq: the queue.
 *
 * Refuses new inserts with -ESHUTDOWN until csq_start(), cancels every
 * queued request through @complete_canceled, and calls the cancel function
 * of every request marked cancelable with csq_req_mark_cancelable().
 * Requests handed out and not marked are left to their driver.
 *
 * Context: see the table in csq.h; takes the queue lock.
 * Return: how many requests this call cancelled, queued or in progress.
 */
unsigned int csq_purge(struct csq *csq)
{
	LIST_HEAD(inprogress);
	LIST_HEAD(claimed);
	unsigned int count;
	unsigned long flags;

	csq_might_sleep(csq);
	csq_lock(csq, &flags);
	WRITE_ONCE(csq->state, CSQ_PURGED);
	count = __csq_claim_all(csq, NULL, &claimed);
	count += __csq_claim_inprogress(csq, &inprogress);
	csq_unlock(csq, flags);

	csq_complete_claimed(csq, &claimed);
	csq_cancel_inprogress(&inprogress);
	return count;
}
EXPORT_SYMBOL_GPL(csq_purge);

/**
 * csq_purge_sync - purge a queue, then wait until nothing is left of it
 * @csq: the queue.
 *
 * As csq_purge(), then sleeps until every request of @csq has been
 * completed, those handed out included.
 *
 * Context: process context; sleeps.
 * Return: how many requests the purge cancelled.
 */
unsigned int csq_purge_sync(struct csq *csq)
{
	unsigned int count = csq_purge(csq);

	csq_wait_all_completed(csq);
	return count;
}
EXPORT_SYMBOL_GPL(csq_purge_sync);

/**
 * csq_drain - refuse new requests and let the queued ones be served
 * @csq: the queue.
 *
 * Inserts fail with -ESHUTDOWN until csq_start(); csq_remove_next_req()
 * goes on handing out what is queued.  A purged queue stays purged.
 *
 * Context: see the table in csq.h; takes the queue lock.
 */
void csq_drain(struct csq *csq)
{
	csq_set_state(csq, CSQ_STOPPED, CSQ_DRAINING);
}
EXPORT_SYMBOL_GPL(csq_drain);

/**
 * csq_drain_sync - drain a queue and wait until it is done
 * @csq: the queue.
 *
 * As csq_drain(), then sleeps until the queue is empty and every request
 * it handed out has been completed.
 *
 * Context: process context; sleeps.
 */
void csq_drain_sync(struct csq *csq)
{
	csq_drain(csq);
	csq_wait_all_completed(csq);
}
EXPORT_SYMBOL_GPL(csq_drain_sync);

/*
 * The cancel routine of a request in progress.  Whoever called it won the
 * request; hand it to its driver once it is off the in-progress list.
 */
static void csq_inprogress_routine(struct csq_req *req, unsigned long irqflags)
	__releases(csq_cancel_lock)
{
	struct csq *csq = req->csq;
	unsigned long flags;

	csq_release_cancel_lock(irqflags);

	csq_lock(csq, &flags);
	list_del_init(&req->entry);
	csq_unlock(csq, flags);

	req->inprogress_cancel(req);
}

/**
 * csq_req_mark_cancelable - make a request in progress cancelable again
 * @csq: the queue that handed @req out.
 * @req: a request the driver took off @csq and works on (a transfer in
 *	progress), not completed.
 * @cancel: what to call if it is cancelled from now on.
 *
 * WdfRequestMarkCancelableEx: installs a cancel routine, then looks at the
 * cancel flag (rule 1).  A cancel that came before is not lost: the call
 * fails and @cancel is not called.  From success on, csq_req_cancel() and
 * csq_purge() call @cancel, once, unless csq_req_unmark_cancelable() comes
 * first.  A purged queue cancels at once.
 *
 * Context: see the table in csq.h; takes the queue lock.
 * Return: 0 if @req is cancelable (and @cancel may already be running, if
 * a cancel came in between); -ECANCELED if it had already been cancelled or
 * the queue is purged: the driver still owns it and completes it;
 * -EINVAL if @req did not come from @csq.
 */
int csq_req_mark_cancelable(struct csq *csq, struct csq_req *req,
			    csq_inprogress_cancel_fn_t cancel)
{
	unsigned long flags;
	int ret = 0;

	if (WARN_ON_ONCE(req->csq != csq || !cancel))
		return -EINVAL;
	req->inprogress_cancel = cancel;
	csq_might_sleep(csq);
	csq_lock(csq, &flags);
	if (csq->state == CSQ_PURGED) {
		set_bit(CSQ_REQ_CANCEL, &req->flags);
		ret = -ECANCELED;
		goto unlock;
	}
	list_add_tail(&req->entry, &csq->inprogress);
	/* Pairs with the exchange in csq_req_cancel(). */
	xchg(&req->cancel_routine, csq_inprogress_routine);
	if (test_bit(CSQ_REQ_CANCEL, &req->flags) &&
	    xchg(&req->cancel_routine, NULL)) {
		/* The cancel came first and found nothing to call. */
		list_del_init(&req->entry);
		ret = -ECANCELED;
	}
unlock:
	csq_unlock(csq, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(csq_req_mark_cancelable);

/**
 * csq_req_unmark_cancelable - take a request in progress back from cancel
 * @csq: the queue @req was marked cancelable on.
 * @req: the request.
 *
 * WdfRequestUnmarkCancelable: before the driver completes a request it
 * marked cancelable, it takes the routine back; exactly one of this call
 * and a cancel wins.
 *
 * Context: see the table in csq.h; takes the queue lock.
 * The call touches @req, so @req must still be allocated: if the cancel
 * function may complete @req at once, the two must agree through a lock
 * of the driver's that the cancel function takes before it completes and
 * this call is made under, with a note of which request is in progress
 * (examples/csq_cancel and csqdev_fill.c do so).  KMDF asks the same of
 * EvtRequestCancel and WdfRequestUnmarkCancelable.
 *
 * Return: 0 if the driver owns @req again and may complete it; -ECANCELED
 * if its cancel function has run or will run, in which case the driver must
 * leave @req to it.
 */
int csq_req_unmark_cancelable(struct csq *csq, struct csq_req *req)
{
	unsigned long flags;
	int ret = -ECANCELED;

	csq_might_sleep(csq);
	csq_lock(csq, &flags);
	if (xchg(&req->cancel_routine, NULL)) {
		list_del_init(&req->entry);
		ret = 0;
	}
	csq_unlock(csq, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(csq_req_unmark_cancelable);
