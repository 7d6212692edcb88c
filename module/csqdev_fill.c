// SPDX-License-Identifier: GPL-2.0
/*
 * Fill mode of /dev/csq: reads filled by the producer over several ticks,
 * as a serial port's reads are filled byte by byte.
 *
 * A fill read waits in a queue of its own until the producer takes it.
 * From then on it is in progress: the producer appends each tick to it
 * until the next one would not fit, and the read is out of the queue, so
 * nothing could cancel it but for csq_req_mark_cancelable().  Marked, a
 * cancel (a signal through the wait, close(), CSQ_IOC_CANCEL, teardown)
 * reaches it through csqdev_fill_cancel(), which completes it with what it
 * gathered so far.  Who completes a read in progress is whoever takes its
 * cancel routine: the producer or close() by unmarking it, a canceller by
 * csq_req_cancel().  Only the winner touches the read once it leaves
 * @filling, and every loser touches it only under @fill_lock, which the
 * cancel function takes before it completes: a read is never used after
 * its reader has returned.
 *
 * Ticks no fill read takes go to the stream as messages: none is lost.
 */

#include <linux/errno.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <uapi/linux/csq.h>

#include "csqdev.h"

static struct csqdev *csqdev_of_fill(struct csq *csq)
{
	return container_of(csq, struct csqdev, fill_csq);
}

/* Called by the library for a sweep of one file (close, CSQ_IOC_CANCEL). */
static struct csq_req *csqdev_fill_peek_next(struct csq *csq,
					     struct csq_req *req,
					     void *peek_ctx)
{
	const struct csqdev_peek *peek = peek_ctx;
	struct csqdev_fill_read *fr;

	while ((req = csq_list_peek_next(csq, req, peek->reads))) {
		fr = container_of(req, struct csqdev_fill_read, req);
		if (!peek->files || fr->files == peek->files)
			return req;
	}
	return NULL;
}

static void csqdev_fill_complete_canceled(struct csq *csq, struct csq_req *req)
{
	this_cpu_inc(csqdev_of_fill(csq)->counts->canceled);
	csq_req_complete(req, -ECANCELED, 0);
}

static const struct csq_ops csqdev_fill_csq_ops = {
	.peek_next = csqdev_fill_peek_next,
	.complete_canceled = csqdev_fill_complete_canceled,
};

/* The end of a fill read: what it gathered, or why it has nothing. */
static void csqdev_fill_complete(struct csqdev *dev,
				 struct csqdev_fill_read *fr, int empty)
{
	if (!fr->filled && empty == -ECANCELED)
		this_cpu_inc(dev->counts->canceled);
	csq_req_complete(&fr->req, fr->filled ? 0 : empty, fr->filled);
}

/* The in-progress cancel function: see the top of the file. */
static void csqdev_fill_cancel(struct csq_req *req)
{
	struct csqdev_fill_read *fr =
		container_of(req, struct csqdev_fill_read, req);
	struct csqdev *dev = csqdev_of_fill(req->csq);
	unsigned long flags;

	spin_lock_irqsave(&dev->fill_lock, flags);
	if (dev->filling == fr)
		dev->filling = NULL;
	spin_unlock_irqrestore(&dev->fill_lock, flags);
	csqdev_fill_complete(dev, fr, -ECANCELED);
}

/*
 * The read being filled has what it can take: take it back from cancel
 * and put it on @done, or leave it to its canceller.
 */
static void csqdev_fill_finish_locked(struct csqdev *dev,
				      struct csqdev_fill_read *fr,
				      struct list_head *done)
	__must_hold(&dev->fill_lock)
{
	lockdep_assert_held(&dev->fill_lock);
	dev->filling = NULL;
	if (!csq_req_unmark_cancelable(&dev->fill_csq, &fr->req))
		list_add_tail(&fr->node, done);
}

/**
 * csqdev_fill_offer - give a tick to the fill reads
 * @dev: the device.
 * @data: the tick's bytes.
 * @len: how many.
 *
 * Appends the tick to the read being filled, or to the next fill read
 * that waits.  A read is done when the tick does not fit: it then ends
 * with what it has, and one that has nothing, as its buffer is too small
 * for any tick, fails with EMSGSIZE.
 *
 * Context: any; the producer calls it from its timer.
 * Return: true if a read took the tick, false if it is the stream's.
 */
bool csqdev_fill_offer(struct csqdev *dev, const char *data, size_t len)
{
	struct csqdev_fill_read *fr, *tmp;
	unsigned long flags;
	struct csq_req *req;
	bool taken = false;
	LIST_HEAD(canceled);
	LIST_HEAD(done);

	spin_lock_irqsave(&dev->fill_lock, flags);
	while (!taken) {
		fr = dev->filling;
		if (!fr) {
			req = csq_remove_next_req(&dev->fill_csq, NULL);
			if (!req)
				break;
			fr = container_of(req, struct csqdev_fill_read, req);
			if (csq_req_mark_cancelable(&dev->fill_csq, req,
						    csqdev_fill_cancel)) {
				/* Cancelled on its way out of the queue. */
				list_add_tail(&fr->node, &canceled);
				continue;
			}
			dev->filling = fr;
		}
		if (fr->filled + len <= fr->size) {
			memcpy(fr->buf + fr->filled, data, len);
			fr->filled += len;
			taken = true;
			if (fr->filled < fr->size)
				break;
		}
		csqdev_fill_finish_locked(dev, fr, &done);
	}
	spin_unlock_irqrestore(&dev->fill_lock, flags);

	list_for_each_entry_safe(fr, tmp, &canceled, node)
		csqdev_fill_complete(dev, fr, -ECANCELED);
	list_for_each_entry_safe(fr, tmp, &done, node)
		csqdev_fill_complete(dev, fr, -EMSGSIZE);
	return taken;
}

/*
 * Gathered bytes a read could not copy out go back to the head of the
 * stream, as one message: they are not lost.
 */
static void csqdev_fill_put_back(struct csqdev *dev, struct csqdev_fill_read *fr)
{
	struct csqdev_msg *msg;

	msg = csqdev_msg_get(&dev->pool, fr->filled, GFP_KERNEL);
	if (!msg)
		return;
	memcpy(msg->data, fr->buf, fr->filled);
	msg->seq = 0;
	csqdev_post(dev, msg, true);
}

/**
 * csqdev_fill_read - a read of a file in fill mode
 * @cf: the file.
 * @to: where to copy; at most CSQ_FILL_MAX bytes are gathered.
 * @closes: the closes of @cf the read saw on its way in.
 *
 * Context: process context; sleeps until the read is filled or cancelled.
 * Return: the bytes read; -ERESTARTSYS or -ECANCELED if it was cancelled
 * with nothing gathered, -EMSGSIZE if no tick fits in it, -EFAULT, or
 * -ENOMEM.
 */
ssize_t csqdev_fill_read(struct csqdev_file *cf, struct iov_iter *to,
			 unsigned long closes)
{
	struct csqdev *dev = cf->dev;
	struct csqdev_fill_read fr;
	ssize_t ret;

	fr.size = min_t(size_t, iov_iter_count(to), CSQ_FILL_MAX);
	fr.buf = kmalloc(fr.size, GFP_KERNEL);
	if (!fr.buf)
		return -ENOMEM;
	csq_req_init(&fr.req);
	fr.req.owner = &cf->fill_reads;
	fr.files = current->files;
	fr.filled = 0;

	/* Under the lock a close counts itself under: see csqdev_close(). */
	spin_lock_irq(&dev->lock);
	if (csqdev_closed_since(cf, closes)) {
		this_cpu_inc(dev->counts->canceled);
		ret = -ECANCELED;
	} else {
		ret = csq_insert_req(&dev->fill_csq, &fr.req, &fr.ctx);
	}
	spin_unlock_irq(&dev->lock);
	if (ret)
		goto free_buf;

	ret = csq_wait_req_interruptible(&dev->fill_csq, &fr.req, &fr.ctx);
	if (ret == -ERESTARTSYS) {
		this_cpu_inc(dev->counts->interrupted);
	} else if (ret == -ECANCELED && signal_pending(current)) {
		/* Cancelled in progress by the signal, with nothing to show. */
		ret = -ERESTARTSYS;
	}
	if (ret)
		goto free_buf;

	if (copy_to_iter(fr.buf, fr.req.information, to) != fr.req.information) {
		csqdev_fill_put_back(dev, &fr);
		ret = -EFAULT;
		goto free_buf;
	}
	this_cpu_inc(dev->counts->completed);
	ret = fr.req.information;

free_buf:
	kfree(fr.buf);
	return ret;
}

/**
 * csqdev_fill_close - end the fill reads of one file
 * @cf: the file.
 * @id: the closing process's file table; NULL for every process's.
 *
 * Cancels the fill reads of @cf by @id that wait, and ends the one in
 * progress if it is one of them, with what it gathered so far.
 *
 * Context: process context.
 * Return: how many reads this ended.
 */
unsigned int csqdev_fill_close(struct csqdev_file *cf, fl_owner_t id)
{
	struct csqdev_peek peek = { .reads = &cf->fill_reads, .files = id };
	struct csqdev *dev = cf->dev;
	struct csqdev_fill_read *fr;
	unsigned int n;
	LIST_HEAD(done);

	n = csq_flush(&dev->fill_csq, &peek);

	spin_lock_irq(&dev->fill_lock);
	fr = dev->filling;
	if (fr && fr->req.owner == &cf->fill_reads && (!id || fr->files == id))
		csqdev_fill_finish_locked(dev, fr, &done);
	spin_unlock_irq(&dev->fill_lock);

	fr = list_first_entry_or_null(&done, struct csqdev_fill_read, node);
	if (fr) {
		csqdev_fill_complete(dev, fr, -ECANCELED);
		n++;
	}
	return n;
}

/**
 * csqdev_fill_init - set up fill mode of a device
 * @dev: the device, its stream set up.
 *
 * Context: process context.
 * Return: 0 or -errno.
 */
int csqdev_fill_init(struct csqdev *dev)
{
	spin_lock_init(&dev->fill_lock);
	dev->filling = NULL;
	return csq_init(&dev->fill_csq, &csqdev_fill_csq_ops);
}

/**
 * csqdev_fill_destroy - tear fill mode down
 * @dev: the device; no file open, no producer running.
 *
 * Context: process context.
 */
void csqdev_fill_destroy(struct csqdev *dev)
{
	/* No file is open, so no fill read waits or is in progress. */
	WARN_ON(csq_purge(&dev->fill_csq));
	csq_destroy(&dev->fill_csq);
}
