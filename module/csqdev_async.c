// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous reads of /dev/csq: an aio read (io_submit(2)) is a parked
 * read like a blocking one, in the same queue and the same order, that
 * outlives its system call.  ->read_iter parks it and returns -EIOCBQUEUED;
 * its completion, by a write, the producer, a cancel or a sweep, goes to a
 * worker, which copies the message into the submitter's buffer and
 * completes the kiocb (csq_kiocb.c has the rules).
 *
 * Once the kiocb has its cancel function, every outcome goes through the
 * worker, a message kept at submission included: aio may call the cancel
 * function until the kiocb completes, so the read must stay allocated
 * until then, and only the worker frees it.
 */

#include <linux/err.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "csqdev.h"

/**
 * struct csqdev_aio_read - an aio read of the stream
 * @rd: the read, parked as a blocking one is.
 * @ck: its binding to the kiocb.
 * @dev: the device.
 */
struct csqdev_aio_read {
	struct csqdev_read rd;
	struct csq_kiocb ck;
	struct csqdev *dev;
};

/* The message of a completed read into the submitter's buffer. */
static long csqdev_aio_copy(struct csqdev_aio_read *ar)
{
	struct csqdev_msg *msg = ar->rd.msg;
	long res;

	if (!csq_kiocb_use_mm(&ar->ck)) {
		/* The submitter is gone: its message is not. */
		csqdev_post(ar->dev, msg, true);
		return -ECANCELED;
	}
	res = csqdev_msg_consume(ar->dev, msg, &ar->ck.iter);
	csq_kiocb_unuse_mm(&ar->ck);
	return res;
}

static void csqdev_aio_done(struct csq_kiocb *ck)
{
	struct csqdev_aio_read *ar =
		container_of(ck, struct csqdev_aio_read, ck);
	long res = ar->rd.req.status;

	if (!res)
		res = csqdev_aio_copy(ar);
	csq_kiocb_complete(ck, res);
	kfree(ar);
}

/**
 * csqdev_aio_read - an aio read: park it, and let it complete later
 * @cf: the file.
 * @iocb: its kiocb, from io_submit(2).
 * @to: the submitter's buffer.
 * @closes: the closes of @cf the read saw on its way in.
 *
 * Context: the submitter's process context.
 * Return: -EIOCBQUEUED, the read to complete through @iocb; or -ENOMEM
 * before anything was queued.
 */
ssize_t csqdev_aio_read(struct csqdev_file *cf, struct kiocb *iocb,
			struct iov_iter *to, unsigned long closes)
{
	struct csqdev_aio_read *ar;
	struct csqdev_msg *msg;

	ar = kmalloc(sizeof(*ar), GFP_KERNEL);
	if (!ar)
		return -ENOMEM;
	ar->dev = cf->dev;
	csqdev_read_init(&ar->rd, iov_iter_count(to));
	csqdev_read_prepare(&ar->rd, cf);
	if (csq_kiocb_init(&ar->ck, &ar->rd.req, iocb, to, cf->dev->wq,
			   csqdev_aio_done)) {
		kfree(ar);
		return -ENOMEM;
	}

	msg = csqdev_take_or_park(cf, &ar->rd, closes, false);
	if (IS_ERR(msg)) {
		csq_req_complete(&ar->rd.req, PTR_ERR(msg), 0);
	} else if (msg) {
		ar->rd.msg = msg;
		csq_req_complete(&ar->rd.req, 0, msg->len);
	}
	return -EIOCBQUEUED;
}
