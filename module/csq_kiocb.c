// SPDX-License-Identifier: GPL-2.0
/*
 * Requests that outlive their system call: a queued csq request bound to
 * the kiocb of an aio read or write (io_submit(2)), the overlapped IRP of
 * Windows.  The driver's ->read_iter inserts the request and returns
 * -EIOCBQUEUED (IoMarkIrpPending, STATUS_PENDING); whoever completes the
 * request, a producer, a cancel, a sweep, makes the kiocb complete.
 *
 * Cancellation comes from aio itself: io_cancel(2) for one request,
 * io_destroy(2) and the exit of the submitter (exit_aio()) for all of its
 * context.  aio calls the cancel function under its context's lock with
 * interrupts off, and ki_complete() takes that lock: the kiocb is never
 * completed from there.  Every completion goes to a worker, which also is
 * where the data can be copied, with the submitter's address space
 * borrowed (kthread_use_mm()).
 *
 * Only kiocbs from aio take a cancel function: since 2024 the kernel
 * refuses one for any other (an io_uring kiocb has no way to call it), and
 * a driver must not queue those at all (see csq_kiocb_is_aio()).
 */

#include <linux/aio.h>
#include <linux/bug.h>
#include <linux/export.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/workqueue.h>

#include "csq.h"

/* The cancel function aio calls, under its lock, irqs off. */
static int csq_kiocb_cancel(struct kiocb *iocb)
{
	struct csq_kiocb *ck = iocb->private;

	/*
	 * Either the cancel routine runs and the request completes as
	 * cancelled (through the worker), or the request is not queued yet
	 * and its insert finds the flag, or it is already being completed.
	 * Only the last is a cancel that came too late.
	 */
	if (csq_req_cancel(ck->req) || !READ_ONCE(ck->req->csq))
		return 0;
	return -EAGAIN;
}

static void csq_kiocb_work(struct work_struct *work)
{
	struct csq_kiocb *ck = container_of(work, struct csq_kiocb, work);

	ck->done(ck);
}

/* The request's @complete_fn: on to process context. */
static void csq_kiocb_req_done(struct csq_req *req)
{
	struct csq_kiocb *ck = req->context;

	queue_work(ck->wq, &ck->work);
}

/**
 * csq_kiocb_init - bind a request to an aio kiocb, before inserting it
 * @ck: the binding.
 * @req: the request, initialised and not inserted; its @complete_fn and
 *	@context are set here.
 * @iocb: an aio kiocb (csq_kiocb_is_aio()).
 * @iter: the buffers ->read_iter or ->write_iter was given; @ck->iter is
 *	a copy that @done may still use.
 * @wq: the workqueue @done runs on; the driver destroys it when it goes
 *	away, which waits for the last @done.
 * @done: the driver's end of the request, called once in process context
 *	after @req is completed; it must call csq_kiocb_complete().
 *
 * Installs the cancel function of @iocb (io_cancel(2), io_destroy(2),
 * exit) before the request can be found: a cancel from then on is not
 * lost, whenever it comes.
 *
 * Context: the submitter's process context; may sleep.
 * Return: 0, or -ENOMEM with nothing bound.
 */
int csq_kiocb_init(struct csq_kiocb *ck, struct csq_req *req,
		   struct kiocb *iocb, struct iov_iter *iter,
		   struct workqueue_struct *wq,
		   void (*done)(struct csq_kiocb *ck))
{
	WARN_ON_ONCE(!csq_kiocb_is_aio(iocb));
	/* A single user buffer needs no array: NULL is no failure then. */
	ck->iov = dup_iter(&ck->iter, iter, GFP_KERNEL);
	if (!ck->iov && (iter_is_iovec(iter) || iov_iter_is_kvec(iter)))
		return -ENOMEM;
	ck->req = req;
	ck->iocb = iocb;
	ck->wq = wq;
	ck->done = done;
	INIT_WORK(&ck->work, csq_kiocb_work);
	ck->mm = current->mm;
	mmgrab(ck->mm);
	req->context = ck;
	req->complete_fn = csq_kiocb_req_done;
	iocb->private = ck;
	kiocb_set_cancel_fn(iocb, csq_kiocb_cancel);
	return 0;
}
EXPORT_SYMBOL_GPL(csq_kiocb_init);

/**
 * csq_kiocb_use_mm - borrow the submitter's address space
 * @ck: the binding, in its @done.
 *
 * The user buffers of the kiocb can then be copied to and from, until
 * csq_kiocb_unuse_mm().
 *
 * Context: @done.
 * Return: false if the address space is gone (the submitter exited): the
 * buffers cannot be reached, and the data must go back where it came from.
 */
bool csq_kiocb_use_mm(struct csq_kiocb *ck)
{
	if (!mmget_not_zero(ck->mm))
		return false;
	kthread_use_mm(ck->mm);
	return true;
}
EXPORT_SYMBOL_GPL(csq_kiocb_use_mm);

/**
 * csq_kiocb_unuse_mm - give the address space back
 * @ck: the binding, after a csq_kiocb_use_mm() that returned true.
 *
 * Context: @done.
 */
void csq_kiocb_unuse_mm(struct csq_kiocb *ck)
{
	kthread_unuse_mm(ck->mm);
	/* Never the last user from here: exit_aio() would wait for us. */
	mmput_async(ck->mm);
}
EXPORT_SYMBOL_GPL(csq_kiocb_unuse_mm);

/**
 * csq_kiocb_complete - complete the kiocb (the event of io_getevents(2))
 * @ck: the binding, in its @done.
 * @res: bytes transferred, or -errno (-ECANCELED for a cancel).
 *
 * After this neither @ck nor the kiocb may be touched: @done frees what
 * embeds @ck next, and only that.
 *
 * Context: @done.
 */
void csq_kiocb_complete(struct csq_kiocb *ck, long res)
{
	struct mm_struct *mm = ck->mm;

	ck->iocb->ki_complete(ck->iocb, res);
	mmdrop(mm);
	kfree(ck->iov);
}
EXPORT_SYMBOL_GPL(csq_kiocb_complete);
