// SPDX-License-Identifier: GPL-2.0
/*
 * Reads of /dev/csq issued as io_uring commands (IORING_OP_URING_CMD):
 * pending requests in the same queue as blocking and aio reads, completed
 * by io_uring_cmd_done() in the submitter's task, where its buffer is.
 *
 * A read that finds a message copies it at once.  One that parks is marked
 * cancelable, so that ring exit, task exit and exec reach it with
 * IO_URING_F_CANCEL; IORING_OP_ASYNC_CANCEL does not reach uring commands,
 * so a read is cancelled one by one with CSQ_URING_CANCEL (by its key),
 * all together with CSQ_IOC_CANCEL, or by close().  Built only for kernels
 * that have the cancel hook (csq_compat.h).
 */

#include <linux/err.h>
#include <linux/io_uring/cmd.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <uapi/linux/csq.h>

#include "csq_compat.h"
#include "csqdev.h"

/**
 * struct csqdev_uring_read - a read issued as a uring command
 * @rd: the read, parked as a blocking one is.
 * @cmd: its command.
 * @dev: the device.
 * @buf: the submitter's buffer.
 */
struct csqdev_uring_read {
	struct csqdev_read rd;
	struct io_uring_cmd *cmd;
	struct csqdev *dev;
	void __user *buf;
};

/* The command's pdu holds the read, from its queueing to its done. */
static struct csqdev_uring_read **csqdev_uring_pdu(struct io_uring_cmd *cmd)
{
	return io_uring_cmd_to_pdu(cmd, struct csqdev_uring_read *);
}

static long csqdev_uring_copy(struct csqdev_uring_read *ur,
			      struct csqdev_msg *msg)
{
	struct iov_iter to;
	int ret;

	ret = import_ubuf(ITER_DEST, ur->buf, ur->rd.size, &to);
	if (ret) {
		csqdev_post(ur->dev, msg, true);
		return ret;
	}
	return csqdev_msg_consume(ur->dev, msg, &to);
}

/* In the submitter's task: the message to its buffer, then the CQE. */
static void csqdev_uring_done(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct csqdev_uring_read *ur = *csqdev_uring_pdu(cmd);
	long res = ur->rd.req.status;

	if (!res && (issue_flags & IO_URING_F_TASK_DEAD)) {
		/* The task is going: its message is not. */
		csqdev_post(ur->dev, ur->rd.msg, true);
		res = -ECANCELED;
	} else if (!res) {
		res = csqdev_uring_copy(ur, ur->rd.msg);
	}
	kfree(ur);
	io_uring_cmd_done(cmd, res, 0, issue_flags);
}

/* The request's @complete_fn, in any context: on to the task. */
static void csqdev_uring_req_done(struct csq_req *req)
{
	struct csqdev_uring_read *ur = req->context;

	io_uring_cmd_complete_in_task(ur->cmd, csqdev_uring_done);
}

static int csqdev_uring_read(struct csqdev_file *cf, struct io_uring_cmd *cmd,
			     const struct csq_uring_cmd *c,
			     unsigned int issue_flags)
{
	/* From here on, a close() by this process ends the read. */
	unsigned long closes = READ_ONCE(cf->closes);
	struct csqdev_uring_read *ur;
	struct csqdev_msg *msg;
	long ret;

	if (!c->len)
		return 0;
	ur = kmalloc(sizeof(*ur), GFP_KERNEL);
	if (!ur)
		return -ENOMEM;
	csqdev_read_init(&ur->rd, c->len);
	csqdev_read_prepare(&ur->rd, cf);
	ur->rd.key = c->key;
	ur->rd.req.context = ur;
	ur->rd.req.complete_fn = csqdev_uring_req_done;
	ur->cmd = cmd;
	ur->dev = cf->dev;
	ur->buf = u64_to_user_ptr(c->addr);
	*csqdev_uring_pdu(cmd) = ur;

	msg = csqdev_take_or_park(cf, &ur->rd, closes, false);
	if (!msg) {
		/*
		 * Parked.  A completion meanwhile only queues task work,
		 * which runs once this returns: the mark comes first.
		 */
		io_uring_cmd_mark_cancelable(cmd, issue_flags);
		return -EIOCBQUEUED;
	}
	ret = IS_ERR(msg) ? PTR_ERR(msg) : csqdev_uring_copy(ur, msg);
	kfree(ur);
	return ret;
}

/**
 * csqdev_uring_cmd - the uring commands of /dev/csq
 * @cmd: the command.
 * @issue_flags: what io_uring says of this issue; IO_URING_F_CANCEL for a
 *	read marked cancelable that ring exit, task exit or exec cancels.
 *
 * Context: the submitter's task, or ring exit under its lock.
 * Return: -EIOCBQUEUED for a read parked; else the CQE's result: the bytes
 * of a read served at once, the reads CSQ_URING_CANCEL cancelled, or
 * -errno.
 */
int csqdev_uring_cmd(struct io_uring_cmd *cmd, unsigned int issue_flags)
{
	struct csqdev_file *cf = cmd->file->private_data;
	const struct csq_uring_cmd *c = io_uring_sqe_cmd(cmd->sqe);
	struct csqdev_peek peek = { .reads = &cf->reads };

	if (issue_flags & IO_URING_F_CANCEL) {
		/* Queued or done: its completion is on its way either way. */
		csq_req_cancel(&(*csqdev_uring_pdu(cmd))->rd.req);
		return 0;
	}
	switch (cmd->cmd_op) {
	case CSQ_URING_READ:
		return csqdev_uring_read(cf, cmd, c, issue_flags);
	case CSQ_URING_CANCEL:
		if (!c->key || c->addr || c->len)
			return -EINVAL;
		peek.key = c->key;
		return csq_flush(&cf->dev->csq, &peek);
	default:
		return -ENOTTY;
	}
}
