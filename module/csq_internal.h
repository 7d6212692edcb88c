/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the units of csq.ko share and drivers must not see: the queue lock
 * whatever its kind, the accounting of requests not yet completed, and the
 * request flags that only the library sets.
 */
#ifndef _CSQ_INTERNAL_H
#define _CSQ_INTERNAL_H

#include <linux/atomic.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait_bit.h>

#include "csq.h"

/* Bits of &csq.kind: which of its own parts the library uses. */
#define CSQ_OWN_LISTS	BIT(0)	/* ops->insert or insert_ex, remove, peek */
#define CSQ_FILTER	BIT(1)	/* our lists, ops->peek_next filters */
#define CSQ_OWN_LOCK	BIT(2)	/* ops->acquire_lock, release_lock */
#define CSQ_MUTEX	BIT(3)	/* our lock is @mutex, not @spin */
#define CSQ_INSERT_EX	BIT(4)	/* ops->insert_ex, which may refuse */
#define CSQ_SLEEPS	BIT(5)	/* ops->may_sleep */

/* Bits of &csq_req.flags that the library alone sets. */
#define CSQ_REQ_CHAINED	2	/* its waiter passes the turn on (csq_wait.c) */
#define CSQ_REQ_BATON	3	/* its waiter holds the turn */

static inline bool csq_may_sleep(const struct csq *csq)
{
	return csq->kind & CSQ_SLEEPS;
}

/*
 * The queue lock, whichever it is.  Sparse tracks it as the context "csq"
 * on every path, so the spinlock's own context is handed over to it.
 */
static __always_inline void csq_lock(struct csq *csq, unsigned long *flags)
	__acquires(csq)
{
	if (likely(!(csq->kind & (CSQ_OWN_LOCK | CSQ_MUTEX)))) {
		spin_lock_irqsave(&csq->spin, *flags);
		__release(&csq->spin);
	} else if (csq->kind & CSQ_OWN_LOCK) {
		csq->ops->acquire_lock(csq, flags);
	} else {
		mutex_lock(&csq->mutex);
		*flags = 0;
	}
	__acquire(csq);
#ifdef CONFIG_LOCKDEP
	lock_map_acquire(&csq->dep_map);
#endif
}

static __always_inline void csq_unlock(struct csq *csq, unsigned long flags)
	__releases(csq)
{
#ifdef CONFIG_LOCKDEP
	lock_map_release(&csq->dep_map);
#endif
	__release(csq);
	if (likely(!(csq->kind & (CSQ_OWN_LOCK | CSQ_MUTEX)))) {
		__acquire(&csq->spin);
		spin_unlock_irqrestore(&csq->spin, flags);
	} else if (csq->kind & CSQ_OWN_LOCK) {
		csq->ops->release_lock(csq, flags);
	} else {
		mutex_unlock(&csq->mutex);
	}
}

/* Every call that takes the queue lock says so if the lock can sleep. */
static inline void csq_might_sleep(const struct csq *csq)
{
	if (csq_may_sleep(csq))
		might_sleep();
}

void csq_put_active(struct csq *csq);

/* Sleep until every request ever inserted into @csq has been completed. */
static inline void csq_wait_all_completed(struct csq *csq)
{
	wait_var_event(&csq->nr_active, !atomic_read(&csq->nr_active));
}

void __csq_req_finish(struct csq_req *req);
void __csq_req_taken_back(struct csq_req *req, int status);
bool csq_wait_defer(struct csq_req *req);
unsigned int __csq_claim_all(struct csq *csq, void *peek_ctx,
			     struct list_head *claimed);
void csq_complete_claimed(struct csq *csq, struct list_head *claimed);

#endif /* _CSQ_INTERNAL_H */
