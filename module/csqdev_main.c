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
 *
 * The rules of the stream are in csqdev_stream.c; this file is the file
 * operations, the simulated hardware producer and the module.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/workqueue.h>
#include <asm/ioctls.h>
#include <uapi/linux/csq.h>

#include "csq_compat.h"
#include "csqdev.h"

#define CSQDEV_CAPACITY_DEFAULT	65536
#define CSQDEV_CAPACITY_MAX	(16 << 20)
#define CSQDEV_TICK_LEN		32

static int csqdev_fops_open(struct inode *inode, struct file *file)
{
	struct miscdevice *misc = file->private_data;
	struct csqdev_file *cf;

	cf = kzalloc(sizeof(*cf), GFP_KERNEL);
	if (!cf)
		return -ENOMEM;
	cf->dev = container_of(misc, struct csqdev, misc);
	csq_owner_init(&cf->reads);
	csq_owner_init(&cf->fill_reads);
	file->private_data = cf;
	/* Reads and writes honour IOCB_NOWAIT: RWF_NOWAIT, io_uring. */
	file->f_mode |= FMODE_NOWAIT;
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
	/* From here on, a close() by this process ends the read. */
	unsigned long closes = READ_ONCE(cf->closes);
	bool nowait = (file->f_flags & O_NONBLOCK) ||
		      (iocb->ki_flags & IOCB_NOWAIT);
	size_t count = iov_iter_count(to);
	struct csqdev *dev = cf->dev;
	struct csqdev_msg *msg;
	struct csqdev_read rd;
	int ret;

	if (!count)
		return 0;
	if (unlikely(READ_ONCE(dev->read_delay_us)))
		fsleep(READ_ONCE(dev->read_delay_us));
	if (READ_ONCE(cf->fill))
		/* Filled over ticks: never at once. */
		return nowait ? -EAGAIN : csqdev_fill_read(cf, to, closes);
	if (csq_kiocb_is_aio(iocb) && !nowait)
		return csqdev_aio_read(cf, iocb, to, closes);

	csqdev_read_init(&rd, count);
	msg = csqdev_take_or_park(cf, &rd, closes, nowait);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	if (!msg) {
		ret = csq_wait_req_interruptible(&dev->csq, &rd.req, &rd.ctx);
		if (ret == -ERESTARTSYS)
			this_cpu_inc(dev->counts->interrupted);
		if (ret)
			return ret;
		msg = rd.msg;
	}
	return csqdev_msg_consume(dev, msg, to);
}

static ssize_t csqdev_fops_write_iter(struct kiocb *iocb,
				      struct iov_iter *from)
{
	struct file *file = iocb->ki_filp;
	struct csqdev_file *cf = file->private_data;
	bool nowait = (file->f_flags & O_NONBLOCK) ||
		      (iocb->ki_flags & IOCB_NOWAIT);
	size_t count = iov_iter_count(from);
	struct csqdev *dev = cf->dev;
	struct csqdev_msg *msg;
	ssize_t ret;

	if (!count)
		return 0;
	if (count > CSQ_MSG_MAX)
		return -EMSGSIZE;

	msg = csqdev_msg_get(&dev->pool, count,
			     (iocb->ki_flags & IOCB_NOWAIT) ? GFP_NOWAIT :
							      GFP_KERNEL);
	if (!msg)
		return (iocb->ki_flags & IOCB_NOWAIT) ? -EAGAIN : -ENOMEM;
	if (!csqdev_msg_from_iter(msg, from)) {
		ret = -EFAULT;
		goto put_msg;
	}

	while (csqdev_post(dev, msg, false)) {
		if (nowait) {
			ret = -EAGAIN;
			goto put_msg;
		}
		ret = wait_event_interruptible(dev->write_wq,
					       csqdev_writable(dev, count));
		if (ret)
			goto put_msg;
	}
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
	/* Room for a message of any size: a write will not block. */
	if (csqdev_writable(dev, CSQ_MSG_MAX))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

/* Every close() (IRP_MJ_CLEANUP): see csqdev_close(). */
static int csqdev_fops_flush(struct file *file, fl_owner_t id)
{
	struct csqdev_file *cf = file->private_data;
	unsigned int n;

	n = csqdev_close(cf, id);
	n += csqdev_fill_close(cf, id);
	if (n)
		dev_dbg(cf->dev->misc.this_device, "close cancelled %u reads\n",
			n);
	return 0;
}

static long csqdev_ioctl_stats(struct csqdev *dev,
			       struct csq_stats __user *ustats)
{
	struct csq_stats stats = {
		.pending_reads = csq_count(&dev->csq) + csq_count(&dev->fill_csq),
		.queued_msgs = READ_ONCE(dev->nr_msgs),
	};
	struct csqdev_counts *counts;
	int cpu;

	for_each_possible_cpu(cpu) {
		counts = per_cpu_ptr(dev->counts, cpu);
		stats.completed += READ_ONCE(counts->completed);
		stats.canceled += READ_ONCE(counts->canceled);
		stats.interrupted += READ_ONCE(counts->interrupted);
	}
	if (copy_to_user(ustats, &stats, sizeof(stats)))
		return -EFAULT;
	return 0;
}

static enum hrtimer_restart csqdev_producer_tick(struct hrtimer *timer)
{
	struct csqdev *dev = container_of(timer, struct csqdev, producer);
	char tick[CSQDEV_TICK_LEN];
	struct csqdev_msg *msg;
	size_t len;

	len = scnprintf(tick, sizeof(tick), "tick %llu", ++dev->producer_ticks);
	if (csqdev_fill_offer(dev, tick, len))
		goto forward;
	/* Hard-irq context: no sleeping allocation; a full stream drops. */
	msg = csqdev_msg_get_atomic(&dev->pool, len);
	if (msg) {
		memcpy(msg->data, tick, len);
		if (csqdev_post(dev, msg, false))
			csqdev_msg_put(&dev->pool, msg);
	}
forward:
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

static long csqdev_ioctl_fill(struct csqdev_file *cf, __u32 __user *ufill)
{
	__u32 fill;

	if (get_user(fill, ufill))
		return -EFAULT;
	if (fill > 1)
		return -EINVAL;
	WRITE_ONCE(cf->fill, fill);
	return 0;
}

static long csqdev_fops_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct csqdev_file *cf = file->private_data;
	struct csqdev *dev = cf->dev;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case CSQ_IOC_CANCEL:
		if (arg)
			return -EINVAL;
		return csqdev_cancel_reads(cf) + csqdev_fill_close(cf, NULL);
	case CSQ_IOC_FILL:
		return csqdev_ioctl_fill(cf, argp);
	case CSQ_IOC_STATS:
		return csqdev_ioctl_stats(dev, argp);
	case CSQ_IOC_PRODUCER:
		return csqdev_ioctl_producer(dev, argp);
	case FIONREAD:
		/* The length of the next message, to size a buffer for it. */
		return put_user(csqdev_next_len(dev), (int __user *)argp);
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
	.uring_cmd	= csqdev_uring_cmd,
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
	.capacity = CSQDEV_CAPACITY_DEFAULT,
};

static int csqdev_capacity_set(const char *val, const struct kernel_param *kp)
{
	unsigned int bytes;
	int ret;

	ret = kstrtouint(val, 0, &bytes);
	if (ret)
		return ret;
	if (!bytes || bytes > CSQDEV_CAPACITY_MAX)
		return -EINVAL;
	WRITE_ONCE(*(unsigned int *)kp->arg, bytes);
	/* A larger stream may have room for a writer already asleep. */
	if (csqdev.misc.this_device)
		csqdev_wake(&csqdev.write_wq);
	return 0;
}

static const struct kernel_param_ops csqdev_capacity_ops = {
	.set = csqdev_capacity_set,
	.get = param_get_uint,
};

module_param_named(mode, csqdev.misc.mode, ushort, 0444);
MODULE_PARM_DESC(mode, "Mode of the /dev/csq node (default 0600)");
module_param_cb(capacity, &csqdev_capacity_ops, &csqdev.capacity, 0644);
MODULE_PARM_DESC(capacity,
		 "Bytes of messages kept while no read waits, 1 to 16 MiB; a message is always kept if none is (default 65536)");
module_param_named(producer_hz, csqdev.producer_hz, uint, 0444);
MODULE_PARM_DESC(producer_hz,
		 "Rate of the timer-interrupt message producer, 0 for off (default 0)");

static int csqdev_debugfs_pages(void *data, u64 *val)
{
	struct csqdev *dev = data;

	*val = csqdev_msg_pool_pages(&dev->pool);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(csqdev_pages_fops, csqdev_debugfs_pages, NULL,
			 "%llu\n");

static void csqdev_debugfs_init(struct csqdev *dev)
{
	dev->debugfs = debugfs_create_dir("csqdev", NULL);
	debugfs_create_file_unsafe("pages", 0400, dev->debugfs, dev,
				   &csqdev_pages_fops);
	debugfs_create_u32("read_delay_us", 0600, dev->debugfs,
			   &dev->read_delay_us);
}

static int __init csqdev_init(void)
{
	struct csqdev *dev = &csqdev;
	int ret;

	if (dev->producer_hz > CSQ_PRODUCER_MAX_HZ)
		return -EINVAL;

	ret = csqdev_stream_init(dev);
	if (ret)
		return ret;
	ret = csqdev_fill_init(dev);
	if (ret)
		goto destroy_stream;
	dev->wq = alloc_workqueue("csqdev", WQ_UNBOUND, 0);
	if (!dev->wq) {
		ret = -ENOMEM;
		goto destroy_fill;
	}
	mutex_init(&dev->producer_lock);
	hrtimer_init(&dev->producer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	dev->producer.function = csqdev_producer_tick;
	csqdev_debugfs_init(dev);

	ret = misc_register(&dev->misc);
	if (ret)
		goto remove_debugfs;
	csqdev_producer_set(dev, dev->producer_hz);
	return 0;

remove_debugfs:
	debugfs_remove_recursive(dev->debugfs);
	mutex_destroy(&dev->producer_lock);
	destroy_workqueue(dev->wq);
destroy_fill:
	csqdev_fill_destroy(dev);
destroy_stream:
	csqdev_stream_destroy(dev);
	return ret;
}
module_init(csqdev_init);

static void __exit csqdev_exit(void)
{
	struct csqdev *dev = &csqdev;

	misc_deregister(&dev->misc);
	hrtimer_cancel(&dev->producer);
	debugfs_remove_recursive(dev->debugfs);
	/* The last asynchronous read's worker may still be on its way out. */
	destroy_workqueue(dev->wq);
	/* No file is open (.owner), so nothing else uses the stream. */
	csqdev_fill_destroy(dev);
	csqdev_stream_destroy(dev);
	mutex_destroy(&dev->producer_lock);
}
module_exit(csqdev_exit);

MODULE_DESCRIPTION("/dev/csq: blocking reads as cancel-safe queued requests");
MODULE_LICENSE("GPL");
