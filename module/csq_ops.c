// SPDX-License-Identifier: GPL-2.0
/*
 * Ready-made callbacks of csq.  A queue that brings no lists and no lock of
 * its own gets the library's, done inline (csq_queue.c); what is left here
 * is the names drivers pass to csq_init() for them.
 */

#include <linux/errno.h>
#include <linux/export.h>

#include "csq.h"

/**
 * csq_complete_canceled - ready-made @complete_canceled
 * @csq: the queue.
 * @req: the cancelled request.
 *
 * Completes @req with -ECANCELED and no data; what a NULL
 * @complete_canceled does.
 *
 * Context: any; never under the queue lock.
 */
void csq_complete_canceled(struct csq *csq, struct csq_req *req)
{
	csq_req_complete(req, -ECANCELED, 0);
}
EXPORT_SYMBOL_GPL(csq_complete_canceled);

/*
 * The library's lists under its spinlock: a FIFO, and a list for each
 * &struct csq_owner that a request names.
 */
const struct csq_ops csq_fifo_spin_ops = {
	.complete_canceled = csq_complete_canceled,
};
EXPORT_SYMBOL_GPL(csq_fifo_spin_ops);

/* The same lists under the library's mutex, for callers that may sleep. */
const struct csq_ops csq_fifo_mutex_ops = {
	.complete_canceled = csq_complete_canceled,
	.may_sleep = true,
};
EXPORT_SYMBOL_GPL(csq_fifo_mutex_ops);
