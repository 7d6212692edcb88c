// SPDX-License-Identifier: GPL-2.0
/*
 * The message stream of /dev/csq: messages kept while no read waits, reads
 * parked while no message is kept, and the hand-off between the two.
 *
 * The rules, beyond one message per write() and per read():
 *
 * - Messages are read in the order they were written, and a message goes
 *   only to a read that can hold it.  A read whose buffer is too small for
 *   the message at the head of the stream fails with EMSGSIZE at once, be
 *   it parked or not, and the message stays where it is.  A read that
 *   faults while copying puts its message back in its place.
 * - Parked reads are served in the order they parked.
 * - The stream keeps up to capacity bytes of messages while no read waits
 *   (always at least one message); a writer that finds it full sleeps until
 *   reads have emptied half of it, as a pipe's writer waits for a page.
 * - A close() cancels the reads of its process on its file, those parked
 *   and those on their way in, with ECANCELED.
 */

#include <linux/errno.h>
#include <linux/list.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "csq_compat.h"
#include <uapi/linux/csq.h>

#include "csqdev.h"

/* Called by the library for a sweep only: the stream's own take is FIFO. */
static struct csq_req *csqdev_csq_peek_next(struct csq *csq,
					    struct csq_req *req,
					    void *peek_ctx)
{
	const struct csqdev_peek *peek = peek_ctx;
	struct csqdev_read *rd;

	while ((req = csq_list_peek_next(csq, req, peek->reads))) {
		rd = container_of(req, struct csqdev_read, req);
		if ((!peek->files || rd->files == peek->files) &&
		    (!peek->key || rd->key == peek->key))
			return req;
	}
	return NULL;
}

static void csqdev_csq_complete_canceled(struct csq *csq, struct csq_req *req)
{
	struct csqdev *dev = container_of(csq, struct csqdev, csq);

	this_cpu_inc(dev->counts->canceled);
	csq_req_complete(req, -ECANCELED, 0);
}

static const struct csq_ops csqdev_csq_ops = {
	.peek_next = csqdev_csq_peek_next,
	.complete_canceled = csqdev_csq_complete_canceled,
};

/* Whether a message of @len bytes may be kept now. */
static bool csqdev_room(struct csqdev *dev, size_t len)
{
	size_t kept = READ_ONCE(dev->kept_bytes);

	return !kept || kept + len <= READ_ONCE(dev->capacity);
}

bool csqdev_writable(struct csqdev *dev, size_t len)
{
	return !csq_is_empty(&dev->csq) || csqdev_room(dev, len);
}
EXPORT_SYMBOL_IF_KUNIT(csqdev_writable);

/*
 * Wake whoever sleeps on @wq, after the caller changed what they wait for.
 * Callers call it only when the change can matter, as a pipe does: a
 * poller waits for a message only when none is kept, a writer for room
 * only when the stream is full.  Even then nobody sleeps most of the
 * time, and the check spares a locked wake-up.  Its full barrier pairs
 * with the one between queueing and checking on the sleeper's side
 * (set_current_state() in wait_event_interruptible(), smp_mb() in
 * csqdev_fops_poll()): either we see the sleeper or it sees the change.
 */
void csqdev_wake(wait_queue_head_t *wq)
{
	if (wq_has_sleeper(wq))
		wake_up_interruptible(wq);
}

/*
 * Keep @msg in the stream: at the tail, or, for a message that a read
 * could not copy out, back in its place among the kept ones.
 */
static void csqdev_keep_locked(struct csqdev *dev, struct csqdev_msg *msg,
			       bool requeue)
	__must_hold(&dev->lock)
{
	struct csqdev_msg *pos;

	lockdep_assert_held(&dev->lock);
	if (!requeue) {
		list_add_tail(&msg->node, &dev->msgs);
	} else {
		list_for_each_entry(pos, &dev->msgs, node)
			if (pos->seq > msg->seq)
				break;
		list_add_tail(&msg->node, &pos->node);
	}
	WRITE_ONCE(dev->nr_msgs, dev->nr_msgs + 1);
	WRITE_ONCE(dev->kept_bytes, dev->kept_bytes + msg->len);
}

/*
 * Take the first kept message.  A writer waiting for room is woken once
 * half of the stream is free, not for every message read.  Half of a
 * stream smaller than two of the longest messages may not be room for
 * one: such a stream wakes its writers when it is empty, too.
 */
static void csqdev_unkeep_locked(struct csqdev *dev, struct csqdev_msg *msg,
				 bool *wake_writers)
	__must_hold(&dev->lock)
{
	size_t capacity = READ_ONCE(dev->capacity);
	size_t was = dev->kept_bytes, half = capacity / 2;

	lockdep_assert_held(&dev->lock);
	list_del(&msg->node);
	WRITE_ONCE(dev->nr_msgs, dev->nr_msgs - 1);
	WRITE_ONCE(dev->kept_bytes, was - msg->len);
	*wake_writers = (was > half && dev->kept_bytes <= half) ||
			(!dev->kept_bytes && capacity < 2 * CSQ_MSG_MAX);
}

/*
 * Hand @msg to the oldest parked read that can hold it, or keep it.  The
 * parked reads ahead of that one are too small for it, and each of them
 * is in turn at the head of the stream when it comes: they fail with
 * EMSGSIZE, and the message never goes back and forth.  Safe in hard-irq
 * context.  Returns -ENOSPC, and leaves @msg to the caller, if the stream
 * is full; a message put back (@requeue) always finds room.
 */
int csqdev_post(struct csqdev *dev, struct csqdev_msg *msg, bool requeue)
{
	struct csqdev_read *rd = NULL, *small, *tmp;
	LIST_HEAD(too_small);
	struct csq_req *req;
	unsigned long flags;
	bool was_empty = false;

	spin_lock_irqsave(&dev->lock, flags);
	if (!requeue)
		msg->seq = dev->next_seq++;
	/*
	 * Reads are parked only under dev->lock, so an empty queue stays
	 * empty until we unlock: no need to take its lock to look.
	 */
	while (!csq_is_empty(&dev->csq) &&
	       (req = csq_remove_next_req(&dev->csq, NULL))) {
		rd = container_of(req, struct csqdev_read, req);
		if (msg->len <= rd->size)
			break;
		list_add_tail(&rd->node, &too_small);
		rd = NULL;
	}
	if (!rd) {
		if (!requeue && !csqdev_room(dev, msg->len)) {
			spin_unlock_irqrestore(&dev->lock, flags);
			return -ENOSPC;
		}
		was_empty = !dev->nr_msgs;
		csqdev_keep_locked(dev, msg, requeue);
	}
	spin_unlock_irqrestore(&dev->lock, flags);

	list_for_each_entry_safe(small, tmp, &too_small, node)
		csq_req_complete(&small->req, -EMSGSIZE, 0);
	if (rd) {
		rd->msg = msg;
		csq_req_complete(&rd->req, 0, msg->len);
	} else if (was_empty) {
		csqdev_wake(&dev->read_wq);
	}
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(csqdev_post);

/*
 * Whether the file of @cf was closed by this process since a read saw
 * @closes of its closes.  Beyond the last CSQDEV_CLOSERS closes the
 * owners are not known: the read then counts itself among the closed.
 */
bool csqdev_closed_since(struct csqdev_file *cf, unsigned long closes)
	__must_hold(&cf->dev->lock)
{
	unsigned long n;

	lockdep_assert_held(&cf->dev->lock);
	if (cf->closes - closes > CSQDEV_CLOSERS)
		return true;
	for (n = closes + 1; n - 1 != cf->closes; n++)
		if (cf->closers[n % CSQDEV_CLOSERS] == current->files)
			return true;
	return false;
}

/**
 * csqdev_read_init - prepare a read of the stream
 * @rd: the read.
 * @size: the most bytes it can take.
 *
 * Its request is set up only if it parks, unless csqdev_read_prepare()
 * sets it up first (an asynchronous read, which binds it before).
 *
 * Context: the reader's process context.
 */
void csqdev_read_init(struct csqdev_read *rd, size_t size)
{
	rd->files = current->files;
	rd->size = size;
	rd->key = 0;
	rd->msg = NULL;
	rd->prepared = false;
}
EXPORT_SYMBOL_IF_KUNIT(csqdev_read_init);

/**
 * csqdev_read_prepare - set up the request of a read now
 * @rd: the read, from csqdev_read_init().
 * @cf: its file.
 *
 * Context: the reader's process context.
 */
void csqdev_read_prepare(struct csqdev_read *rd, struct csqdev_file *cf)
{
	csq_req_init(&rd->req);
	rd->req.owner = &cf->reads;
	rd->prepared = true;
}

/*
 * Take the first message of the stream if @rd can hold it; else, unless
 * the read must not wait or its file was closed under it, park @rd.
 * Returns the message, NULL once @rd is parked, or an ERR_PTR.
 */
struct csqdev_msg *csqdev_take_or_park(struct csqdev_file *cf,
				       struct csqdev_read *rd,
				       unsigned long closes, bool nowait)
{
	struct csqdev *dev = cf->dev;
	struct csqdev_msg *msg;
	bool wake_writers = false;
	int ret = 0;

	spin_lock_irq(&dev->lock);
	msg = list_first_entry_or_null(&dev->msgs, struct csqdev_msg, node);
	if (msg) {
		if (msg->len > rd->size)
			ret = -EMSGSIZE;
		else
			csqdev_unkeep_locked(dev, msg, &wake_writers);
	} else if (nowait) {
		ret = -EAGAIN;
	} else if (csqdev_closed_since(cf, closes)) {
		/* Cancelled by the close as if it had parked first. */
		this_cpu_inc(dev->counts->canceled);
		ret = -ECANCELED;
	} else {
		if (!rd->prepared)
			csqdev_read_prepare(rd, cf);
		ret = csq_insert_req(&dev->csq, &rd->req, &rd->ctx);
	}
	spin_unlock_irq(&dev->lock);

	if (ret)
		return ERR_PTR(ret);
	if (wake_writers)
		csqdev_wake(&dev->write_wq);
	return msg;
}
EXPORT_SYMBOL_IF_KUNIT(csqdev_take_or_park);

/**
 * csqdev_msg_consume - give a message to its reader
 * @dev: the device.
 * @msg: the message, taken off the stream or handed over.
 * @to: the reader's buffer, which holds @msg->len bytes.
 *
 * A message is consumed only once the reader has it: one that cannot be
 * copied goes back to its place in the stream.
 *
 * Context: process context, in the reader's address space.
 * Return: the message's length, or -EFAULT.
 */
ssize_t csqdev_msg_consume(struct csqdev *dev, struct csqdev_msg *msg,
			   struct iov_iter *to)
{
	size_t len = msg->len;

	if (!csqdev_msg_to_iter(msg, to)) {
		csqdev_post(dev, msg, true);
		return -EFAULT;
	}
	csqdev_msg_put(&dev->pool, msg);
	this_cpu_inc(dev->counts->completed);
	return len;
}

/*
 * Every close() of @cf by the process with file table @id: cancel the reads
 * it parked on the file, and those on their way in, which find the close
 * counted when they look.  Returns how many were parked.
 */
unsigned int csqdev_close(struct csqdev_file *cf, fl_owner_t id)
{
	struct csqdev_peek peek = { .reads = &cf->reads, .files = id };
	struct csqdev *dev = cf->dev;

	spin_lock_irq(&dev->lock);
	cf->closers[(cf->closes + 1) % CSQDEV_CLOSERS] = id;
	WRITE_ONCE(cf->closes, cf->closes + 1);
	spin_unlock_irq(&dev->lock);

	return csq_flush(&dev->csq, &peek);
}
EXPORT_SYMBOL_IF_KUNIT(csqdev_close);

/* CSQ_IOC_CANCEL: cancel every parked read of @cf; returns how many. */
unsigned int csqdev_cancel_reads(struct csqdev_file *cf)
{
	struct csqdev_peek peek = { .reads = &cf->reads };

	return csq_flush(&cf->dev->csq, &peek);
}
EXPORT_SYMBOL_IF_KUNIT(csqdev_cancel_reads);

/* The length of the next message, 0 if none is kept (FIONREAD). */
int csqdev_next_len(struct csqdev *dev)
{
	struct csqdev_msg *msg;
	int len = 0;

	spin_lock_irq(&dev->lock);
	msg = list_first_entry_or_null(&dev->msgs, struct csqdev_msg, node);
	if (msg)
		len = msg->len;
	spin_unlock_irq(&dev->lock);
	return len;
}
EXPORT_SYMBOL_IF_KUNIT(csqdev_next_len);

/**
 * csqdev_stream_init - set up an empty stream
 * @dev: the device; @capacity set.
 *
 * Context: process context.
 * Return: 0 or -errno.
 */
int csqdev_stream_init(struct csqdev *dev)
{
	int ret;

	dev->counts = alloc_percpu(struct csqdev_counts);
	if (!dev->counts)
		return -ENOMEM;
	ret = csqdev_msg_pool_init(&dev->pool);
	if (ret)
		goto free_counts;
	ret = csq_init(&dev->csq, &csqdev_csq_ops);
	if (ret)
		goto destroy_pool;
	spin_lock_init(&dev->lock);
	INIT_LIST_HEAD(&dev->msgs);
	dev->nr_msgs = 0;
	dev->kept_bytes = 0;
	dev->next_seq = 0;
	init_waitqueue_head(&dev->read_wq);
	init_waitqueue_head(&dev->write_wq);
	return 0;

destroy_pool:
	csqdev_msg_pool_destroy(&dev->pool);
free_counts:
	free_percpu(dev->counts);
	return ret;
}
EXPORT_SYMBOL_IF_KUNIT(csqdev_stream_init);

/**
 * csqdev_stream_destroy - free a stream nobody uses any more
 * @dev: the device; no file open, no producer running.
 *
 * Context: process context.
 */
void csqdev_stream_destroy(struct csqdev *dev)
{
	struct csqdev_msg *msg, *tmp;

	/* No file is open, so no read can be parked. */
	WARN_ON(csq_purge(&dev->csq));
	csq_destroy(&dev->csq);
	list_for_each_entry_safe(msg, tmp, &dev->msgs, node)
		csqdev_msg_put(&dev->pool, msg);
	csqdev_msg_pool_destroy(&dev->pool);
	free_percpu(dev->counts);
}
EXPORT_SYMBOL_IF_KUNIT(csqdev_stream_destroy);
