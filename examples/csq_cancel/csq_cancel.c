// SPDX-License-Identifier: GPL-2.0
/*
 * csq_cancel: the WDK "cancel" sample (general/cancel/sys) ported to Linux
 * on csq, as a worked example for people porting drivers.
 *
 * The sample drives a hypothetical data-acquisition device that needs a
 * settling time between two readings.  Every read is queued in a
 * cancel-safe queue; one worker thread takes the reads in order, polls the
 * device until it has settled, and completes each read with a reading.
 * A read can end in three other ways, all of which the queue makes safe
 * against the worker: its file is closed (IRP_MJ_CLEANUP, here ->flush),
 * its thread takes a signal (thread rundown), or, for an aio read, the
 * submitter calls io_cancel(2) (CancelIoEx).
 *
 * The port keeps the sample's shape, one routine for one routine: the six
 * queue callbacks over the driver's own list and spinlock, the read
 * dispatch that queues and wakes the worker, the polling thread, cleanup
 * by file, and an unload that stops the thread.  Where Linux differs, the
 * comment at the function says how.  One thing is new: while the worker
 * polls for a read, the read stays cancelable (csq_req_mark_cancelable(),
 * KMDF's WdfRequestMarkCancelable), which the WDK sample cannot offer.
 *
 * Each reading is a 32-bit sequence number, so that a test can prove that
 * every reading reached exactly one read.
 */

#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "csq.h"

/* CSAMP_RETRY_INTERVAL: how long the device settles after a reading. */
static unsigned int poll_ms = 10;
module_param(poll_ms, uint, 0644);
MODULE_PARM_DESC(poll_ms, "settling time of the device after a reading, in ms (1-1000)");

/**
 * struct csq_cancel_dev - the device (the sample's DEVICE_EXTENSION)
 * @csq: the cancel-safe queue of reads.
 * @lock: protects @pending (the sample's QueueLock).
 * @pending: the queued reads, oldest first (PendingIrpQueue).
 * @work_wait: where the worker waits for a read (IrpQueueSemaphore).
 * @worker: the polling thread.
 * @serve_lock: protects the writes of @serving; a cancel of the read in
 *	progress takes it before completing the read.
 * @serving: the read the worker polls for, while it is cancelable; the
 *	polling loop reads it without the lock, to stop early.
 * @aio_wq: where the completions of aio reads run.
 * @last_reading: when the device last gave a reading (LastPollTime).
 * @readings: readings handed out so far; written by the worker alone.
 * @misc: /dev/csq_cancel.
 */
struct csq_cancel_dev {
	struct csq csq;
	spinlock_t lock;	/* protects pending */
	struct list_head pending;
	wait_queue_head_t work_wait;
	struct task_struct *worker;
	spinlock_t serve_lock;	/* serialises the writes of serving */
	struct csq_req *serving;
	struct workqueue_struct *aio_wq;
	ktime_t last_reading;
	u32 readings;
	struct miscdevice misc;
};

/**
 * struct csq_cancel_read - a read (the sample's IRP and what it carried)
 * @req: the request, queued on the device's csq.
 * @ctx: lets a blocking reader take its request back after a signal.
 * @file: the file read from (IrpSp->FileObject).
 * @files: the file table of the reading process, which ->flush matches.
 * @reading: the reading, once the worker has completed @req with one (the
 *	sample's SystemBuffer of DO_BUFFERED_IO).
 *
 * A blocking read lives on its reader's stack.
 */
struct csq_cancel_read {
	struct csq_req req;
	struct csq_req_ctx ctx;
	struct file *file;
	fl_owner_t files;
	u32 reading;
};

/**
 * struct csq_cancel_aio_read - an aio read (the sample's overlapped read)
 * @rd: the read, queued as a blocking one is.
 * @ck: binds it to its kiocb, and keeps the submitter's buffer.
 *
 * Lives in memory of its own, which its completion frees.
 */
struct csq_cancel_aio_read {
	struct csq_cancel_read rd;
	struct csq_kiocb ck;
};

/* What ->flush sweeps: one process's reads of one file. */
struct csq_cancel_peek {
	struct file *file;
	fl_owner_t files;
};

static struct csq_cancel_dev *to_dev(struct csq *csq)
{
	return container_of(csq, struct csq_cancel_dev, csq);
}

/* misc_open() pointed the file at our miscdevice. */
static struct csq_cancel_dev *to_dev_of(struct file *file)
{
	return container_of(file->private_data, struct csq_cancel_dev, misc);
}

static struct csq_cancel_read *to_read(struct csq_req *req)
{
	return container_of(req, struct csq_cancel_read, req);
}

/* CsampInsertIrp */
static void csq_cancel_insert(struct csq *csq, struct csq_req *req)
{
	list_add_tail(&req->entry, &to_dev(csq)->pending);
}

/* CsampRemoveIrp */
static void csq_cancel_remove(struct csq *csq, struct csq_req *req)
{
	list_del_init(&req->entry);
}

/*
 * CsampPeekNextIrp: the next read after @req that the peek context
 * matches.  The sample matches the file object alone, because Windows
 * sends IRP_MJ_CLEANUP once, when the last handle goes.  Linux calls
 * ->flush at every close(), by whichever process closes, so a child
 * closing an inherited descriptor must not cancel its parent's reads:
 * the match is on the file and the process's file table.
 */
static struct csq_req *csq_cancel_peek_next(struct csq *csq,
					    struct csq_req *req,
					    void *peek_ctx)
{
	struct list_head *pending = &to_dev(csq)->pending;
	const struct csq_cancel_peek *peek = peek_ctx;
	struct csq_cancel_read *rd;

	req = req ? list_next_entry(req, entry) :
		    list_first_entry(pending, struct csq_req, entry);
	for (; !list_entry_is_head(req, pending, entry);
	     req = list_next_entry(req, entry)) {
		rd = to_read(req);
		if (!peek || (rd->file == peek->file && rd->files == peek->files))
			return req;
	}
	return NULL;
}

/*
 * CsampAcquireLock and CsampReleaseLock.  KeAcquireSpinLock raises to
 * DISPATCH_LEVEL; spin_lock_irqsave() also keeps interrupts out, because
 * a cancel may come from any context: aio calls its cancel function with
 * interrupts off.
 */
static void csq_cancel_lock(struct csq *csq, unsigned long *flags)
	__acquires(&to_dev(csq)->lock)
{
	spin_lock_irqsave(&to_dev(csq)->lock, *flags);
}

static void csq_cancel_unlock(struct csq *csq, unsigned long flags)
	__releases(&to_dev(csq)->lock)
{
	spin_unlock_irqrestore(&to_dev(csq)->lock, flags);
}

/* CsampCompleteCanceledIrp: STATUS_CANCELLED is -ECANCELED, no bytes. */
static void csq_cancel_complete_canceled(struct csq *csq, struct csq_req *req)
{
	csq_req_complete(req, -ECANCELED, 0);
}

static const struct csq_ops csq_cancel_ops = {
	.insert			= csq_cancel_insert,
	.remove			= csq_cancel_remove,
	.peek_next		= csq_cancel_peek_next,
	.acquire_lock		= csq_cancel_lock,
	.release_lock		= csq_cancel_unlock,
	.complete_canceled	= csq_cancel_complete_canceled,
};

static unsigned int csq_cancel_poll_ms(void)
{
	return clamp(READ_ONCE(poll_ms), 1U, 1000U);
}

/* CsampPollDevice: whether the device has settled since its last reading. */
static bool csq_cancel_poll_device(struct csq_cancel_dev *dev)
{
	return ktime_after(ktime_get(), ktime_add_ms(dev->last_reading,
						     csq_cancel_poll_ms()));
}

/* KeDelayExecutionThread(PollingInterval) */
static void csq_cancel_wait_poll_interval(void)
{
	schedule_timeout_interruptible(msecs_to_jiffies(csq_cancel_poll_ms()));
}

/*
 * A cancel of the read the worker is polling for, in the canceller's
 * context (which may be aio's, interrupts off).  It owns the read and
 * completes it, but only once the worker has let go: the worker may be
 * inside csq_req_unmark_cancelable(), which still touches the read.  The
 * worker, told by dev->serving, stops polling for it.
 */
static void csq_cancel_inprogress_cancel(struct csq_req *req)
{
	struct csq_cancel_dev *dev = to_dev(req->csq);
	unsigned long flags;

	spin_lock_irqsave(&dev->serve_lock, flags);
	if (dev->serving == req) {
		WRITE_ONCE(dev->serving, NULL);
		wake_up_process(dev->worker);
	}
	spin_unlock_irqrestore(&dev->serve_lock, flags);
	csq_req_complete(req, -ECANCELED, 0);
}

/* Whether the worker should go on polling for @req: nobody cancelled it. */
static bool csq_cancel_still_serving(struct csq_cancel_dev *dev,
				     struct csq_req *req)
{
	return READ_ONCE(dev->serving) == req && !kthread_should_stop();
}

/*
 * Whether the worker still owns the read it polled for, and may complete
 * it.  If a cancel came, its function completes the read: after
 * dev->serving no longer points to it, the read may be gone.
 */
static bool csq_cancel_take_back(struct csq_cancel_dev *dev,
				 struct csq_req *req)
{
	bool owned = false;

	spin_lock_irq(&dev->serve_lock);
	if (dev->serving == req) {
		WRITE_ONCE(dev->serving, NULL);
		owned = !csq_req_unmark_cancelable(&dev->csq, req);
	}
	spin_unlock_irq(&dev->serve_lock);
	return owned;
}

/*
 * The body of the sample's polling loop for one read: wait for the device
 * to settle, then complete the read with a reading.  The sample's IRP
 * cannot be cancelled while it waits; this one can, and from the moment
 * it is marked cancelable, a cancel may complete and free it: the worker
 * touches only the device until csq_cancel_take_back() says it may.
 */
static void csq_cancel_serve(struct csq_cancel_dev *dev, struct csq_req *req)
{
	spin_lock_irq(&dev->serve_lock);
	WRITE_ONCE(dev->serving, req);
	spin_unlock_irq(&dev->serve_lock);
	if (csq_req_mark_cancelable(&dev->csq, req,
				    csq_cancel_inprogress_cancel)) {
		/* Cancelled on its way out of the queue: still ours. */
		spin_lock_irq(&dev->serve_lock);
		WRITE_ONCE(dev->serving, NULL);
		spin_unlock_irq(&dev->serve_lock);
		csq_cancel_complete_canceled(&dev->csq, req);
		return;
	}
	while (csq_cancel_still_serving(dev, req) &&
	       !csq_cancel_poll_device(dev))
		csq_cancel_wait_poll_interval();
	if (!csq_cancel_take_back(dev, req))
		return;

	dev->last_reading = ktime_get();
	to_read(req)->reading = dev->readings;
	WRITE_ONCE(dev->readings, dev->readings + 1);
	csq_req_complete(req, 0, sizeof(u32));
}

/* The worker has something to do: a read it may take. */
static bool csq_cancel_has_work(struct csq_cancel_dev *dev)
{
	return !csq_is_empty(&dev->csq) &&
	       csq_get_state(&dev->csq) == CSQ_RUNNING;
}

/*
 * CsampPollingThread.  The sample counts reads in a semaphore; a Linux
 * thread waits for the condition itself, "a read is queued and the queue
 * hands reads out", which also covers a stopped queue (the hold
 * parameter).  A read cancelled after the wake-up is simply not there:
 * csq_remove_next_req() skips it.
 */
static int csq_cancel_worker(void *data)
{
	struct csq_cancel_dev *dev = data;
	struct csq_req *req;

	while (!kthread_should_stop()) {
		wait_event_interruptible(dev->work_wait,
					 csq_cancel_has_work(dev) ||
					 kthread_should_stop());
		req = csq_remove_next_req(&dev->csq, NULL);
		if (req)
			csq_cancel_serve(dev, req);
		else
			/* A cancel is unlinking the read: let it. */
			cond_resched();
	}
	return 0;
}

/* The worker's wake-up, after a read was queued or the queue restarted. */
static void csq_cancel_kick(struct csq_cancel_dev *dev)
{
	wake_up(&dev->work_wait);
}

static void csq_cancel_read_init(struct csq_cancel_read *rd, struct file *file)
{
	csq_req_init(&rd->req);
	rd->file = file;
	rd->files = current->files;
}

/* An aio read is complete: the reading goes to the submitter's buffer. */
static void csq_cancel_aio_done(struct csq_kiocb *ck)
{
	struct csq_cancel_aio_read *ar =
		container_of(ck, struct csq_cancel_aio_read, ck);
	u32 reading = ar->rd.reading;
	long res = ar->rd.req.status;

	if (!res) {
		res = -EFAULT;
		if (csq_kiocb_use_mm(ck)) {
			if (copy_to_iter(&reading, sizeof(reading), &ck->iter) ==
			    sizeof(reading))
				res = sizeof(reading);
			csq_kiocb_unuse_mm(ck);
		}
	}
	csq_kiocb_complete(ck, res);
	kfree(ar);
}

/*
 * The overlapped read of the sample's test application: queued, and
 * completed later through the kiocb, as Windows completes a pending IRP.
 * -EIOCBQUEUED is STATUS_PENDING.  Every outcome, a refusal included,
 * goes through csq_cancel_aio_done(): once the kiocb has a cancel
 * function, aio may call it until the kiocb completes.
 */
static ssize_t csq_cancel_aio_read(struct csq_cancel_dev *dev,
				   struct kiocb *iocb, struct iov_iter *to)
{
	struct csq_cancel_aio_read *ar;
	int ret;

	ar = kzalloc(sizeof(*ar), GFP_KERNEL);
	if (!ar)
		return -ENOMEM;
	csq_cancel_read_init(&ar->rd, iocb->ki_filp);
	if (csq_kiocb_init(&ar->ck, &ar->rd.req, iocb, to, dev->aio_wq,
			   csq_cancel_aio_done)) {
		kfree(ar);
		return -ENOMEM;
	}

	ret = csq_insert_req(&dev->csq, &ar->rd.req, NULL);
	if (!ret)
		csq_cancel_kick(dev);
	else if (ret != -ECANCELED)
		/*
		 * Refused: this driver never drains or purges its queue, but
		 * one that does must complete what the queue refused.
		 */
		csq_req_complete(&ar->rd.req, ret, 0);
	return -EIOCBQUEUED;
}

/*
 * CsampRead.  A blocking read is the sample's read with the waiting done
 * in the kernel: it queues, wakes the worker, and sleeps until its
 * request completes.  A signal takes the request back (-ERESTARTSYS: the
 * read is restarted or fails with EINTR, as the signal's disposition
 * says) unless the worker already has it; then the wait cancels it and
 * returns what the worker did.  STATUS_BUFFER_TOO_SMALL becomes EINVAL,
 * as for eventfd, and a read that must not block fails with EAGAIN, as
 * every read of this device waits for the worker.
 */
static ssize_t csq_cancel_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct csq_cancel_dev *dev = to_dev_of(iocb->ki_filp);
	struct csq_cancel_read rd;
	int ret;

	if (iov_iter_count(to) < sizeof(rd.reading))
		return -EINVAL;
	if ((iocb->ki_filp->f_flags & O_NONBLOCK) ||
	    (iocb->ki_flags & IOCB_NOWAIT))
		return -EAGAIN;
	if (csq_kiocb_is_aio(iocb))
		return csq_cancel_aio_read(dev, iocb, to);

	csq_cancel_read_init(&rd, iocb->ki_filp);
	ret = csq_insert_req(&dev->csq, &rd.req, &rd.ctx);
	if (ret)
		return ret;
	csq_cancel_kick(dev);
	ret = csq_wait_req_interruptible(&dev->csq, &rd.req, &rd.ctx);
	if (ret)
		return ret;
	if (copy_to_iter(&rd.reading, sizeof(rd.reading), to) !=
	    sizeof(rd.reading))
		return -EFAULT;
	return sizeof(rd.reading);
}

/*
 * CsampCleanup: every close() cancels the reads that the closing process
 * queued on this file, blocking and aio alike.  The read the worker is
 * polling for is not queued and is served a poll later, as in the
 * sample.  So is a read still on its way into the queue when close()
 * runs: the sweep misses it, and the worker serves it like any other.
 * That is acceptable here only because every read of this device is
 * served within a poll interval; a driver whose reads can wait forever
 * must also stop those (csqdev counts closes and checks the count before
 * it queues).
 */
static int csq_cancel_flush(struct file *file, fl_owner_t id)
{
	struct csq_cancel_peek peek = { .file = file, .files = id };

	csq_flush(&to_dev_of(file)->csq, &peek);
	return 0;
}

static const struct file_operations csq_cancel_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.read_iter	= csq_cancel_read_iter,
	.flush		= csq_cancel_flush,
};

static struct csq_cancel_dev csq_cancel = {
	.misc = {
		.minor	= MISC_DYNAMIC_MINOR,
		.name	= "csq_cancel",
		.fops	= &csq_cancel_fops,
		.mode	= 0600,
	},
};

/*
 * hold=1 stops the queue (csq_stop(), WdfIoQueueStop): reads are queued
 * and stay cancelable, and the worker takes none, as if the device were
 * not ready.  Tests use it to have reads pending for as long as they
 * like.  Parameter writes are serialised by the kernel; the device takes
 * the value when it comes up (see csq_cancel_init()).
 */
static bool hold;

static int csq_cancel_hold_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_bool(val, kp);

	if (ret || !csq_cancel.worker)
		return ret;
	if (hold) {
		csq_stop(&csq_cancel.csq);
	} else {
		csq_start(&csq_cancel.csq);
		csq_cancel_kick(&csq_cancel);
	}
	return 0;
}

static const struct kernel_param_ops csq_cancel_hold_ops = {
	.set = csq_cancel_hold_set,
	.get = param_get_bool,
};
module_param_cb(hold, &csq_cancel_hold_ops, &hold, 0644);
MODULE_PARM_DESC(hold, "1: the worker takes no read (a device that is not ready)");

static int csq_cancel_readings_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(csq_cancel.readings));
}

static const struct kernel_param_ops csq_cancel_readings_ops = {
	.get = csq_cancel_readings_get,
};
module_param_cb(readings, &csq_cancel_readings_ops, NULL, 0444);
MODULE_PARM_DESC(readings, "readings handed out since the module was loaded");

/* DriverEntry */
static int __init csq_cancel_init(void)
{
	struct csq_cancel_dev *dev = &csq_cancel;
	struct task_struct *worker;
	int ret;

	spin_lock_init(&dev->lock);
	spin_lock_init(&dev->serve_lock);
	INIT_LIST_HEAD(&dev->pending);
	init_waitqueue_head(&dev->work_wait);
	dev->last_reading = ktime_get();
	ret = csq_init(&dev->csq, &csq_cancel_ops);
	if (ret)
		return ret;
	dev->aio_wq = alloc_workqueue("csq_cancel_aio", 0, 0);
	if (!dev->aio_wq) {
		ret = -ENOMEM;
		goto err_csq;
	}
	worker = kthread_run(csq_cancel_worker, dev, "csq_cancel");
	if (IS_ERR(worker)) {
		ret = PTR_ERR(worker);
		goto err_wq;
	}

	kernel_param_lock(THIS_MODULE);
	if (hold)
		csq_stop(&dev->csq);
	dev->worker = worker;
	kernel_param_unlock(THIS_MODULE);

	ret = misc_register(&dev->misc);
	if (ret)
		goto err_worker;
	return 0;

err_worker:
	kthread_stop(worker);
err_wq:
	destroy_workqueue(dev->aio_wq);
err_csq:
	csq_destroy(&dev->csq);
	return ret;
}

/*
 * CsampUnload.  No file is open any more (each holds a module reference),
 * so no read is queued or in progress: the sample's ThreadShouldStop,
 * semaphore and wait for the thread are kthread_stop().  csq_destroy()
 * then waits for a cancel still on its way, and the workqueue for the
 * last aio completion.
 */
static void __exit csq_cancel_exit(void)
{
	struct csq_cancel_dev *dev = &csq_cancel;

	misc_deregister(&dev->misc);
	kernel_param_lock(THIS_MODULE);
	kthread_stop(dev->worker);
	dev->worker = NULL;
	kernel_param_unlock(THIS_MODULE);
	csq_destroy(&dev->csq);
	destroy_workqueue(dev->aio_wq);
}

module_init(csq_cancel_init);
module_exit(csq_cancel_exit);

MODULE_DESCRIPTION("The WDK cancel sample, ported to csq: a polled device's queued reads");
MODULE_LICENSE("GPL");
