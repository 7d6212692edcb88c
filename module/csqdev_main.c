// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/csq: a message stream whose blocking reads are cancel-safe requests.
 *
 * A read that finds no message parks a &struct csq_req in a csq queue and
 * sleeps on it.  A writer, or the simulated hardware producer from its timer
 * interrupt, takes the oldest parked read with csq_remove_next_req() and
 * hands it the message.  A signal, close() (->flush, the IRP_MJ_CLEANUP of
 * the port) and CSQ_IOC_CANCEL (CancelIo) cancel parked reads; the library
 * decides every race between them and the hand-off.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <uapi/linux/csq.h>

#include "csq.h"
#include "csqdev_msg.h"

#define CSQDEV_BACKLOG_DEFAULT	64
#define CSQDEV_TICK_LEN		32
#define CSQDEV_SPIN_US_DEFAULT	20

/**
 * struct csqdev - the device; all its opens share one message stream
 * @misc: the misc device /dev/csq.
 * @csq: the blocked reads, oldest first (&struct csqdev_read).
 * @lock: protects @msgs and @nr_msgs, and makes "hand the message to a
 *	blocked read, else keep it" atomic against "take a kept message, else
 *	block"; taken outside the queue lock of @csq.
 * @msgs: messages written while no read waited, oldest first.
 * @nr_msgs: length of @msgs; read without @lock by poll and the stats.
 * @read_wq: pollers waiting for a message in @msgs.
 * @write_wq: writers and pollers waiting for room in @msgs.
 * @counts: reads that returned a message, and reads cancelled whatever the
 *	cause, counted on each CPU: the count is the sum.
 * @written: the jiffies when write() last posted a message.
 * @pool: the memory of the messages.
 * @producer_lock: serialises changes of the producer's rate.
 * @producer: the timer of the simulated hardware producer.
 * @producer_period: its period; written only while @producer is stopped.
 * @producer_ticks: messages it generated; used only by its callback.
 * @producer_hz: its rate, 0 when off (module parameter producer_hz).
 * @backlog: the most messages @msgs keeps (module parameter backlog).
 * @spin_us: how long a read may wait on the CPU for a message while
 *	messages are being written, before it blocks (module parameter spin_us).
 */
struct csqdev {
	struct miscdevice misc;
	struct csq csq;
	spinlock_t lock; /* protects msgs, nr_msgs */
	struct list_head msgs;
	unsigned int nr_msgs;
	wait_queue_head_t read_wq;
	wait_queue_head_t write_wq;
	struct csqdev_counts __percpu *counts;
	unsigned long written;
	struct csqdev_msg_pool pool;
	struct mutex producer_lock; /* protects producer_hz, producer_period */
	struct hrtimer producer;
	ktime_t producer_period;
	u64 producer_ticks;
	unsigned int producer_hz;
	unsigned int backlog;
	unsigned int spin_us;
};

/**
 * struct csqdev_counts - what happened to reads, on one CPU
 * @completed: reads that returned a message.
 * @canceled: reads cancelled.
 */
struct csqdev_counts {
	u64 completed;
	u64 canceled;
};

/**
 * struct csqdev_file - one open file of the device
 * @dev: the device.
 * @reads: the reads parked through this file, so that its close() and its
 *	CSQ_IOC_CANCEL walk them alone and not every parked read.
 */
struct csqdev_file {
	struct csqdev *dev;
	struct csq_owner reads;
};

/**
 * struct csqdev_read - a blocked read, on the reader's stack
 * @req: the request parked in &csqdev.csq; @req.owner is &csqdev_file.reads
 *	of the open file it was made on.
 * @ctx: lets the reader take @req back when a signal interrupts it.
 * @files: the file table of the reading process, which close() matches.
 * @msg: the message handed over; valid once @req completed with status 0.
 */
struct csqdev_read {
	struct csq_req req;
	struct csq_req_ctx ctx;
	fl_owner_t files;
	struct csqdev_msg *msg;
};

/**
 * struct csqdev_peek - which blocked reads a sweep cancels
 * @reads: only reads on this open file (its &csqdev_file.reads).
 * @files: if not NULL, only reads by the process with this file table.
 */
struct csqdev_peek {
	struct csq_owner *reads;
	fl_owner_t files;
};

static struct csq_req *csqdev_csq_peek_next(struct csq *csq,
					    struct csq_req *req,
					    void *peek_ctx)
{
	const struct csqdev_peek *peek = peek_ctx;
	struct csqdev_read *rd;

	if (!peek)
		return csq_owner_fifo_peek_next(csq, req, NULL);

	while ((req = csq_owner_fifo_peek_next(csq, req, peek->reads))) {
		rd = container_of(req, struct csqdev_read, req);
		if (!peek->files || rd->files == peek->files)
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
	.insert = csq_owner_fifo_insert,
	.remove = csq_owner_fifo_remove,
	.peek_next = csqdev_csq_peek_next,
	.acquire_lock = csq_spin_acquire_lock,
	.release_lock = csq_spin_release_lock,
	.complete_canceled = csqdev_csq_complete_canceled,
};

static bool csqdev_writable(struct csqdev *dev)
{
	return READ_ONCE(dev->nr_msgs) < dev->backlog ||
	       !csq_is_empty(&dev->csq);
}

/*
 * Wake whoever sleeps on @wq, after the caller changed what they wait for.
 * Callers call it only when the change can matter, as a pipe does: a
 * poller waits for a message only when none is kept, a writer for room
 * only when the backlog is full.  Even then nobody sleeps most of the
 * time, and the check spares a locked wake-up.  Its full barrier pairs
 * with the one between queueing and checking on the sleeper's side
 * (set_current_state() in wait_event_interruptible(), smp_mb() in
 * csqdev_fops_poll()): either we see the sleeper or it sees the change.
 */
static void csqdev_wake(wait_queue_head_t *wq)
{
	if (wq_has_sleeper(wq))
		wake_up_interruptible(wq);
}

/*
 * Give @msg to the oldest blocked read, or keep it: at the tail of the
 * stream if there is room, at the head if @requeue (a message that a reader
 * could not take goes back first, whatever the backlog).  Safe in hard-irq
 * context.  Returns -ENOSPC, and leaves @msg to the caller, if full.
 */
static int csqdev_post(struct csqdev *dev, struct csqdev_msg *msg,
		       bool requeue)
{
	struct csqdev_read *rd = NULL;
	struct csq_req *req;
	unsigned long flags;
	bool was_empty;

	spin_lock_irqsave(&dev->lock, flags);
	/*
	 * Reads are parked only under dev->lock, so an empty queue stays
	 * empty until we unlock: no need to take its lock to look.
	 */
	req = csq_is_empty(&dev->csq) ? NULL :
					csq_remove_next_req(&dev->csq, NULL);
	if (req) {
		rd = container_of(req, struct csqdev_read, req);
	} else if (requeue) {
		list_add(&msg->node, &dev->msgs);
	} else if (dev->nr_msgs < dev->backlog) {
		list_add_tail(&msg->node, &dev->msgs);
	} else {
		spin_unlock_irqrestore(&dev->lock, flags);
		return -ENOSPC;
	}
	was_empty = !dev->nr_msgs;
	if (!rd)
		WRITE_ONCE(dev->nr_msgs, dev->nr_msgs + 1);
	spin_unlock_irqrestore(&dev->lock, flags);

	if (rd) {
		rd->msg = msg;
		csq_req_complete(&rd->req, 0, msg->len);
	} else if (was_empty) {
		csqdev_wake(&dev->read_wq);
	}
	return 0;
}

/*
 * Sleep until the parked read @rd is completed.  On a signal, take the
 * request back; if the producer or a sweep already owns it, its completion
 * is imminent and whatever it carries is the answer.
 */
static struct csqdev_msg *csqdev_wait_msg(struct csqdev *dev,
					  struct csqdev_read *rd)
{
	if (wait_for_completion_interruptible(&rd->req.done)) {
		if (csq_remove_req(&dev->csq, &rd->ctx)) {
			/* Taken back by its waiter: nobody else waits for it. */
			this_cpu_inc(dev->counts->canceled);
			return ERR_PTR(-ERESTARTSYS);
		}
		wait_for_completion(&rd->req.done);
	}
	if (rd->req.status)
		return ERR_PTR(rd->req.status);
	return rd->msg;
}

/*
 * Whether messages are being written now: one was, in this tick or the
 * last.  Cheap to keep up, and good enough to decide whether to wait.
 */
static bool csqdev_streaming(struct csqdev *dev)
{
	unsigned long written = READ_ONCE(dev->written);

	return time_in_range(jiffies, written, written + 1);
}

/*
 * Wait on the CPU, for a short while, for a writer to keep a message.
 *
 * Blocked reads are served in the order they blocked, so once a read is
 * parked every new message is handed to a parked read and costs a
 * wake-up.  When readers keep up with a writer, each of them finds the
 * stream empty, parks and is woken for one message; with several readers
 * that convoy feeds itself, and the wake-ups cost more than the messages.
 * A read that waits here has not blocked: it takes no place among the
 * parked reads and can only take a message that none of them was given.
 * It waits only while messages are being written, at most spin_us, and
 * yields the CPU to whoever needs it: the readers of one CPU take turns
 * at the kept messages instead of each sleeping for one.
 */
static void csqdev_spin_for_msg(struct csqdev *dev)
{
	u64 end = local_clock() + READ_ONCE(dev->spin_us) * NSEC_PER_USEC;

	while (!READ_ONCE(dev->nr_msgs) && !signal_pending(current) &&
	       local_clock() <= end) {
		cond_resched();
		cpu_relax();
	}
}

/*
 * Take the first message of the stream if it fits in @count bytes, else
 * park a read on the stack and wait for one.
 */
static struct csqdev_msg *csqdev_take_msg(struct csqdev_file *cf,
					  struct file *file, size_t count)
{
	struct csqdev *dev = cf->dev;
	struct csqdev_msg *msg;
	struct csqdev_read rd;
	unsigned long flags;
	bool spun = false;
	bool was_full;
	int ret;

again:
	spin_lock_irqsave(&dev->lock, flags);
	msg = list_first_entry_or_null(&dev->msgs, struct csqdev_msg, node);
	if (msg) {
		if (msg->len > count) {
			spin_unlock_irqrestore(&dev->lock, flags);
			return ERR_PTR(-EMSGSIZE);
		}
		list_del(&msg->node);
		was_full = dev->nr_msgs == dev->backlog;
		WRITE_ONCE(dev->nr_msgs, dev->nr_msgs - 1);
		spin_unlock_irqrestore(&dev->lock, flags);
		if (was_full)
			csqdev_wake(&dev->write_wq);
		return msg;
	}
	if (file->f_flags & O_NONBLOCK) {
		spin_unlock_irqrestore(&dev->lock, flags);
		return ERR_PTR(-EAGAIN);
	}
	if (!spun && csqdev_streaming(dev)) {
		spin_unlock_irqrestore(&dev->lock, flags);
		spun = true;
		csqdev_spin_for_msg(dev);
		goto again;
	}
	csq_req_init(&rd.req);
	rd.req.owner = &cf->reads;
	rd.files = current->files;
	rd.msg = NULL;
	ret = csq_insert_req(&dev->csq, &rd.req, &rd.ctx);
	spin_unlock_irqrestore(&dev->lock, flags);
	if (ret)
		return ERR_PTR(ret);
	/* With no backlog, a writer waits for a read to hand its message to. */
	csqdev_wake(&dev->write_wq);
	return csqdev_wait_msg(dev, &rd);
}

static int csqdev_fops_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct csqdev_file *cf;

	cf = kmalloc(sizeof(*cf), GFP_KERNEL);
	if (!cf)
		return -ENOMEM;
	cf->dev = container_of(misc, struct csqdev, misc);
	csq_owner_init(&cf->reads);
	file->private_data = cf;
	return stream_open(inode, file);
}

/* The last reference is gone: no read can be parked through @file. */
static int csqdev_fops_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static ssize_t csqdev_fops_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;
	struct csqdev_file *cf = file->private_data;
	size_t count = iov_iter_count(to);
	struct csqdev *dev = cf->dev;
	struct csqdev_msg *msg;
	ssize_t ret;

	if (!count)
		return 0;

	msg = csqdev_take_msg(cf, file, count);
	if (IS_ERR(msg))
		return PTR_ERR(msg);

	/* A message is consumed only once the reader has it. */
	if (msg->len > count)
		ret = -EMSGSIZE;
	else if (!csqdev_msg_to_iter(msg, to))
		ret = -EFAULT;
	else
		ret = msg->len;
	if (ret < 0) {
		csqdev_post(dev, msg, true);
		return ret;
	}
	csqdev_msg_put(&dev->pool, msg);
	this_cpu_inc(dev->counts->completed);
	return ret;
}

static ssize_t csqdev_fops_write_iter(struct kiocb *iocb,
				      struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct csqdev_file *cf = file->private_data;
	size_t count = iov_iter_count(from);
	struct csqdev *dev = cf->dev;
	struct csqdev_msg *msg;
	unsigned long now;
	ssize_t ret;

	if (!count)
		return 0;
	if (count > CSQ_MSG_MAX)
		return -EMSGSIZE;

	msg = csqdev_msg_get(&dev->pool, count);
	if (!msg)
		return -ENOMEM;
	if (!csqdev_msg_from_iter(msg, from)) {
		ret = -EFAULT;
		goto put_msg;
	}

	while (csqdev_post(dev, msg, false)) {
		if (file->f_flags & O_NONBLOCK) {
			ret = -EAGAIN;
			goto put_msg;
		}
		ret = wait_event_interruptible(dev->write_wq,
					       csqdev_writable(dev));
		if (ret)
			goto put_msg;
	}
	/* Stored once a tick: every reader that finds no message reads it. */
	now = jiffies;
	if (READ_ONCE(dev->written) != now)
		WRITE_ONCE(dev->written, now);
	return count;

put_msg:
	csqdev_msg_put(&dev->pool, msg);
	return ret;
}

static __poll_t csqdev_fops_poll(struct file *file, poll_table *wait)
{
	struct csqdev_file *cf = file->private_data;
	struct csqdev *dev = cf->dev;
	__poll_t mask = 0;

	/* Queued before the checks: a later message or room wakes us. */
	poll_wait(file, &dev->read_wq, wait);
	poll_wait(file, &dev->write_wq, wait);
	/* Pairs with wq_has_sleeper() in csqdev_wake(). */
	smp_mb();

	if (READ_ONCE(dev->nr_msgs))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (csqdev_writable(dev))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

/* Every close(): cancel the reads this process parked on this open file. */
static int csqdev_fops_flush(struct file *file, fl_owner_t id)
{
	struct csqdev_file *cf = file->private_data;
	struct csqdev *dev = cf->dev;
	struct csqdev_peek peek = { .reads = &cf->reads, .files = id };
	unsigned int n;

	n = csq_flush(&dev->csq, &peek);
	if (n)
		dev_dbg(dev->misc.this_device, "close cancelled %u reads\n", n);
	return 0;
}

static long csqdev_ioctl_stats(struct csqdev *dev,
			       struct csq_stats __user *ustats)
{
	struct csq_stats stats = {
		.pending_reads = csq_count(&dev->csq),
		.queued_msgs = READ_ONCE(dev->nr_msgs),
	};
	struct csqdev_counts *counts;
	int cpu;

	for_each_possible_cpu(cpu) {
		counts = per_cpu_ptr(dev->counts, cpu);
		stats.completed += READ_ONCE(counts->completed);
		stats.canceled += READ_ONCE(counts->canceled);
	}
	if (copy_to_user(ustats, &stats, sizeof(stats)))
		return -EFAULT;
	return 0;
}

static enum hrtimer_restart csqdev_producer_tick(struct hrtimer *timer)
{
	struct csqdev *dev = container_of(timer, struct csqdev, producer);
	struct csqdev_msg *msg;

	/* Hard-irq context: no sleeping allocation; a full backlog drops. */
	msg = csqdev_msg_get_atomic(CSQDEV_TICK_LEN);
	if (msg) {
		msg->len = scnprintf(msg->data, CSQDEV_TICK_LEN, "tick %llu",
				     ++dev->producer_ticks);
		if (csqdev_post(dev, msg, false))
			csqdev_msg_put(&dev->pool, msg);
	}
	hrtimer_forward_now(timer, dev->producer_period);
	return HRTIMER_RESTART;
}

static int csqdev_producer_set(struct csqdev *dev, unsigned int hz)
{
	if (hz > CSQ_PRODUCER_MAX_HZ)
		return -EINVAL;

	mutex_lock(&dev->producer_lock);
	hrtimer_cancel(&dev->producer);
	dev->producer_hz = hz;
	if (hz) {
		dev->producer_period = ns_to_ktime(NSEC_PER_SEC / hz);
		hrtimer_start(&dev->producer, dev->producer_period,
			      HRTIMER_MODE_REL);
	}
	mutex_unlock(&dev->producer_lock);
	dev_dbg(dev->misc.this_device, "producer at %u Hz\n", hz);
	return 0;
}

static long csqdev_ioctl_producer(struct csqdev *dev,
				  struct csq_producer __user *uprod)
{
	struct csq_producer prod;

	if (copy_from_user(&prod, uprod, sizeof(prod)))
		return -EFAULT;
	if (prod.flags)
		return -EINVAL;
	return csqdev_producer_set(dev, prod.rate_hz);
}

static long csqdev_fops_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct csqdev_file *cf = file->private_data;
	struct csqdev *dev = cf->dev;
	void __user *argp = (void __user *)arg;
	struct csqdev_peek peek = { .reads = &cf->reads };

	switch (cmd) {
	case CSQ_IOC_CANCEL:
		return csq_flush(&dev->csq, &peek);
	case CSQ_IOC_STATS:
		return csqdev_ioctl_stats(dev, argp);
	case CSQ_IOC_PRODUCER:
		return csqdev_ioctl_producer(dev, argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations csqdev_fops = {
	.owner		= THIS_MODULE,
	.open		= csqdev_fops_open,
	.release	= csqdev_fops_release,
	.read_iter	= csqdev_fops_read_iter,
	.write_iter	= csqdev_fops_write_iter,
	.poll		= csqdev_fops_poll,
	.flush		= csqdev_fops_flush,
	.unlocked_ioctl	= csqdev_fops_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static struct csqdev csqdev = {
	.misc = {
		.minor	= MISC_DYNAMIC_MINOR,
		.name	= "csq",
		.fops	= &csqdev_fops,
		.mode	= 0600,
	},
	.backlog = CSQDEV_BACKLOG_DEFAULT,
	.spin_us = CSQDEV_SPIN_US_DEFAULT,
};

module_param_named(mode, csqdev.misc.mode, ushort, 0444);
MODULE_PARM_DESC(mode, "Mode of the /dev/csq node (default 0600)");
module_param_named(backlog, csqdev.backlog, uint, 0444);
MODULE_PARM_DESC(backlog, "Messages kept while no read waits (default 64)");
module_param_named(spin_us, csqdev.spin_us, uint, 0644);
MODULE_PARM_DESC(spin_us,
		 "Microseconds a read may wait on the CPU for a message while messages are being written, before it blocks; 0 for never (default 20)");
module_param_named(producer_hz, csqdev.producer_hz, uint, 0444);
MODULE_PARM_DESC(producer_hz,
		 "Rate of the timer-interrupt message producer, 0 for off (default 0)");

static int __init csqdev_init(void)
{
	struct csqdev *dev = &csqdev;
	int ret;

	if (dev->producer_hz > CSQ_PRODUCER_MAX_HZ)
		return -EINVAL;

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
	init_waitqueue_head(&dev->read_wq);
	init_waitqueue_head(&dev->write_wq);
	mutex_init(&dev->producer_lock);
	hrtimer_init(&dev->producer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	dev->producer.function = csqdev_producer_tick;

	ret = misc_register(&dev->misc);
	if (ret)
		goto destroy_csq;
	csqdev_producer_set(dev, dev->producer_hz);
	return 0;

destroy_csq:
	mutex_destroy(&dev->producer_lock);
	csq_destroy(&dev->csq);
destroy_pool:
	csqdev_msg_pool_destroy(&dev->pool);
free_counts:
	free_percpu(dev->counts);
	return ret;
}
module_init(csqdev_init);

static void __exit csqdev_exit(void)
{
	struct csqdev *dev = &csqdev;
	struct csqdev_msg *msg, *tmp;

	misc_deregister(&dev->misc);
	hrtimer_cancel(&dev->producer);
	/* No file is open (.owner), so no read can be parked. */
	WARN_ON(csq_flush(&dev->csq, NULL));
	list_for_each_entry_safe(msg, tmp, &dev->msgs, node)
		csqdev_msg_put(&dev->pool, msg);
	csqdev_msg_pool_destroy(&dev->pool);
	free_percpu(dev->counts);
	mutex_destroy(&dev->producer_lock);
	csq_destroy(&dev->csq);
}
module_exit(csqdev_exit);

MODULE_DESCRIPTION("/dev/csq: blocking reads as cancel-safe queued requests");
MODULE_LICENSE("GPL");
