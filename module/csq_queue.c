// SPDX-License-Identifier: GPL-2.0
/*
 * The cancel-safe queue (IoCsq*): insert, take back by context, take the
 * next, flush.  See csq.h for the contract and the rules numbered below.
 *
 * A queue keeps its requests in the driver's storage or, by default, in
 * lists of its own: a FIFO and, for a request with an owner, that owner's
 * list.  The library's lists and lock are done inline, behind one test of
 * csq->kind: a driver with callbacks of its own pays for its calls, and a
 * queue that brings none pays for no indirect call at all.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/wait_bit.h>

#include "csq_internal.h"

#define CREATE_TRACE_POINTS
#include "csq_trace.h"

static __always_inline void csq_call_insert(struct csq *csq,
					    struct csq_req *req)
{
	struct csq_owner *owner = req->owner;

	if (csq->kind & CSQ_OWN_LISTS) {
		csq->ops->insert(csq, req);
		return;
	}
	list_add_tail(&req->entry, &csq->list);
	if (owner)
		list_add_tail(&req->owner_entry, &owner->reqs);
}

static __always_inline void csq_call_remove(struct csq *csq,
					    struct csq_req *req)
{
	if (csq->kind & CSQ_OWN_LISTS) {
		csq->ops->remove(csq, req);
		return;
	}
	list_del_init(&req->entry);
	/* An unowned request's link points to itself: a no-op. */
	list_del_init(&req->owner_entry);
}

static __always_inline struct csq_req *
__csq_list_peek_next(struct csq *csq, struct csq_req *req,
		     struct csq_owner *owner)
{
	if (!owner) {
		req = req ? list_next_entry(req, entry) :
			    list_first_entry(&csq->list, struct csq_req, entry);
		return list_entry_is_head(req, &csq->list, entry) ? NULL : req;
	}
	req = req ? list_next_entry(req, owner_entry) :
		    list_first_entry(&owner->reqs, struct csq_req, owner_entry);
	return list_entry_is_head(req, &owner->reqs, owner_entry) ? NULL : req;
}

static __always_inline struct csq_req *
csq_call_peek_next(struct csq *csq, struct csq_req *req, void *peek_ctx)
{
	if ((csq->kind & CSQ_OWN_LISTS) || (peek_ctx && (csq->kind & CSQ_FILTER)))
		return csq->ops->peek_next(csq, req, peek_ctx);
	return __csq_list_peek_next(csq, req, peek_ctx);
}

/**
 * csq_list_peek_next - walk the library's own lists
 * @csq: a queue whose ops bring no lists.
 * @req: where to start after, or NULL for the head.
 * @owner: NULL for every request of @csq in order, else the requests of
 *	@owner alone, in order.
 *
 * For a @peek_next that filters the library's lists.
 *
 * Context: under the queue lock.
 * Return: the next request, or NULL.
 */
struct csq_req *csq_list_peek_next(struct csq *csq, struct csq_req *req,
				   struct csq_owner *owner)
{
	lockdep_assert_held(csq);
	return __csq_list_peek_next(csq, req, owner);
}
EXPORT_SYMBOL_GPL(csq_list_peek_next);

static void csq_call_complete_canceled(struct csq *csq, struct csq_req *req)
{
	if (csq->ops->complete_canceled)
		csq->ops->complete_canceled(csq, req);
	else
		csq_req_complete(req, -ECANCELED, 0);
}

/*
 * Unlink a request that the caller owns and break its context association
 * (rules 2 and 3).
 */
static __always_inline void __csq_unlink_locked(struct csq *csq,
						struct csq_req *req)
	__must_hold(csq)
{
	lockdep_assert_held(csq);
	csq_call_remove(csq, req);
	WRITE_ONCE(csq->nr_reqs, csq->nr_reqs - 1);
	if (req->ctx) {
		req->ctx->req = NULL;
		req->ctx = NULL;
	}
}

/*
 * The cancel routine of every queued request.  Whoever called it won the
 * request, so nobody else will unlink or complete it; all it has to do is
 * find the queue from the request (rule 5) and take it off under the lock.
 * The request counts as not completed until complete_canceled has
 * completed it, so the queue cannot go away under us (rule 8).
 */
static void csq_cancel_routine(struct csq_req *req, unsigned long irqflags)
	__releases(csq_cancel_lock)
{
	struct csq *csq = req->csq;
	unsigned long flags;

	csq_release_cancel_lock(irqflags);

	csq_lock(csq, &flags);
	__csq_unlink_locked(csq, req);
	trace_csq_cancel(csq, req);
	csq_unlock(csq, flags);

	csq_call_complete_canceled(csq, req);
}

/*
 * Make a freshly linked request cancelable, then look for a cancel that came
 * before the routine was there (rule 1).  Returns true if the request was
 * cancelled and the caller, still the owner, must complete it as such.
 */
static __always_inline bool __csq_arm_locked(struct csq *csq,
					     struct csq_req *req)
	__must_hold(csq)
{
	lockdep_assert_held(csq);
	/* Pairs with the exchange in csq_req_cancel(); see there. */
	xchg(&req->cancel_routine, csq_cancel_routine);
	if (!test_bit(CSQ_REQ_CANCEL, &req->flags))
		return false;
	/*
	 * A canceller set the flag.  If it came before our exchange it found
	 * no routine and left the request to us; if it came after, it took
	 * the routine and is waiting for the queue lock to unlink it.
	 */
	if (!xchg(&req->cancel_routine, NULL))
		return false;
	__csq_unlink_locked(csq, req);
	trace_csq_cancel(csq, req);
	return true;
}

/*
 * From its insert to its completion a request counts in its queue's
 * nr_active.  A request taken off a queue and inserted again counts once;
 * one moved to another queue moves its count with it.
 */
static __always_inline void __csq_account_locked(struct csq *csq,
						 struct csq_req *req)
	__must_hold(csq)
{
	struct csq *old = req->csq;

	if (old == csq)
		return;
	atomic_inc(&csq->nr_active);
	req->csq = csq;
	if (old)
		csq_put_active(old);
}

static __always_inline int __csq_insert(struct csq *csq, struct csq_req *req,
					struct csq_req_ctx *ctx,
					void *insert_ctx)
{
	unsigned long flags;
	bool canceled;
	int ret = 0;

	if (ctx) {
		ctx->csq = csq;
		ctx->req = NULL;
	}
	csq_might_sleep(csq);
	csq_lock(csq, &flags);
	if (unlikely(csq->state >= CSQ_DRAINING)) {
		ret = -ESHUTDOWN;
		goto unlock;
	}
	if (unlikely(csq->kind & CSQ_INSERT_EX)) {
		ret = csq->ops->insert_ex(csq, req, insert_ctx);
		/* Refused: not linked, never armed, still the caller's. */
		if (ret)
			goto unlock;
	} else {
		csq_call_insert(csq, req);
	}
	WRITE_ONCE(csq->nr_reqs, csq->nr_reqs + 1);
	__csq_account_locked(csq, req);
	if (ctx) {
		ctx->req = req;
		req->ctx = ctx;
	}
	trace_csq_insert(csq, req);
	canceled = __csq_arm_locked(csq, req);
	csq_unlock(csq, flags);

	if (canceled) {
		csq_call_complete_canceled(csq, req);
		return -ECANCELED;
	}
	return 0;

unlock:
	csq_unlock(csq, flags);
	return ret;
}

/**
 * csq_insert_req - queue a request (IoCsqInsertIrp)
 * @csq: the queue.
 * @req: the request, initialised, or taken off a queue and not completed;
 *	not queued anywhere.
 * @ctx: a context to take this request back with csq_remove_req(), or NULL.
 *
 * Links @req and makes it cancelable.  On a queue from csq_init_ex() this is
 * csq_insert_req_ex() with a NULL insert context.
 *
 * Context: see the table in csq.h; takes the queue lock.
 * Return: 0 if queued; -ECANCELED if @req had already been cancelled, in
 * which case it has gone through @complete_canceled and the caller must not
 * touch it; -ESHUTDOWN if the queue is draining or purged, and any other
 * -errno is a refusal by @insert_ex: after a refusal the caller still owns
 * @req, neither queued nor completed.
 */
int csq_insert_req(struct csq *csq, struct csq_req *req,
		   struct csq_req_ctx *ctx)
{
	return __csq_insert(csq, req, ctx, NULL);
}
EXPORT_SYMBOL_GPL(csq_insert_req);

/**
 * csq_insert_req_ex - queue a request, which the queue may refuse
 * @csq: the queue.
 * @req: the request, as for csq_insert_req().
 * @ctx: a context to take this request back with csq_remove_req(), or NULL.
 * @insert_ctx: passed to @insert_ex unchanged.
 *
 * Context: see the table in csq.h; takes the queue lock.
 * Return: 0 if queued; -ECANCELED if @req had already been cancelled and has
 * been completed through @complete_canceled; -ESHUTDOWN if the queue is
 * draining or purged; else the -errno with which @insert_ex refused @req.
 * A refused request is neither queued nor cancelable and still the
 * caller's (for example to start it at once).
 */
int csq_insert_req_ex(struct csq *csq, struct csq_req *req,
		      struct csq_req_ctx *ctx, void *insert_ctx)
{
	return __csq_insert(csq, req, ctx, insert_ctx);
}
EXPORT_SYMBOL_GPL(csq_insert_req_ex);

/*
 * Claim @req for the caller: only a caller that takes the cancel routine
 * away owns the request (rule 2).
 */
static __always_inline bool __csq_claim_locked(struct csq *csq,
					       struct csq_req *req)
	__must_hold(csq)
{
	lockdep_assert_held(csq);
	if (!xchg(&req->cancel_routine, NULL))
		return false;
	__csq_unlink_locked(csq, req);
	trace_csq_claim(csq, req);
	return true;
}

/**
 * csq_remove_req - take back the request inserted with a context
 * @csq: the queue.
 * @ctx: the context given to csq_insert_req().
 *
 * Context: see the table in csq.h; takes the queue lock.
 * Return: the request, now unlinked, not cancelable and the caller's to
 * complete; or NULL if it is gone already, a cancel owns it, or @ctx was
 * given to another queue (a driver bug, which is logged once).  On NULL
 * the caller must not touch the request: whoever took it completes it.
 */
struct csq_req *csq_remove_req(struct csq *csq, struct csq_req_ctx *ctx)
{
	struct csq_req *req;
	unsigned long flags;

	if (unlikely(ctx->csq != csq)) {
		pr_warn_once("%s: context of queue %p used on queue %p\n",
			     __func__, ctx->csq, csq);
		return NULL;
	}
	csq_might_sleep(csq);
	csq_lock(csq, &flags);
	req = ctx->req;
	if (req && !__csq_claim_locked(csq, req))
		req = NULL;
	csq_unlock(csq, flags);
	return req;
}
EXPORT_SYMBOL_GPL(csq_remove_req);

/**
 * csq_remove_next_req - take the next request that matches a peek context
 * @csq: the queue.
 * @peek_ctx: passed to @peek_next; NULL matches any request.  With the
 *	library's lists, a &struct csq_owner (or what the driver's filter
 *	takes).
 *
 * Requests whose cancel is in progress are skipped, not waited for.  A
 * stopped queue hands out nothing.
 *
 * Context: see the table in csq.h; takes the queue lock.
 * Return: the request, now unlinked, not cancelable and the caller's to
 * complete; or NULL if no claimable request matches.
 */
struct csq_req *csq_remove_next_req(struct csq *csq, void *peek_ctx)
{
	struct csq_req *req = NULL;
	unsigned long flags;

	csq_might_sleep(csq);
	csq_lock(csq, &flags);
	if (likely(csq->state != CSQ_STOPPED)) {
		req = csq_call_peek_next(csq, NULL, peek_ctx);
		while (req && !__csq_claim_locked(csq, req))
			req = csq_call_peek_next(csq, req, peek_ctx);
	}
	csq_unlock(csq, flags);
	return req;
}
EXPORT_SYMBOL_GPL(csq_remove_next_req);

/*
 * Claim every request that matches @peek_ctx onto @claimed, through their
 * &csq_req.entry, which is theirs no more; returns how many.
 */
unsigned int __csq_claim_all(struct csq *csq, void *peek_ctx,
			     struct list_head *claimed)
	__must_hold(csq)
{
	struct csq_req *req, *next;
	unsigned int count = 0;

	lockdep_assert_held(csq);
	for (req = csq_call_peek_next(csq, NULL, peek_ctx); req; req = next) {
		/* @req stops being a valid cursor once it is unlinked. */
		next = csq_call_peek_next(csq, req, peek_ctx);
		if (__csq_claim_locked(csq, req)) {
			list_add_tail(&req->entry, claimed);
			count++;
		}
	}
	return count;
}

/* Complete what __csq_claim_all() claimed, as cancelled (rule 4). */
void csq_complete_claimed(struct csq *csq, struct list_head *claimed)
{
	struct csq_req *req, *tmp;

	list_for_each_entry_safe(req, tmp, claimed, entry) {
		list_del_init(&req->entry);
		csq_call_complete_canceled(csq, req);
	}
}

/**
 * csq_flush - cancel every request that matches a peek context
 * @csq: the queue.
 * @peek_ctx: as for csq_remove_next_req(); NULL matches every request.
 *
 * The sweep behind close() (IRP_MJ_CLEANUP), CancelIo and teardown: claims
 * all matching requests in one pass under the queue lock, then hands each
 * to @complete_canceled after releasing it.  Requests whose cancel is
 * already in progress are left to it.  Works in every state.
 *
 * Context: see the table in csq.h; takes the queue lock.
 * Return: the number of requests this call cancelled.
 */
unsigned int csq_flush(struct csq *csq, void *peek_ctx)
{
	unsigned int count;
	unsigned long flags;
	LIST_HEAD(claimed);

	csq_might_sleep(csq);
	csq_lock(csq, &flags);
	count = __csq_claim_all(csq, peek_ctx, &claimed);
	csq_unlock(csq, flags);

	csq_complete_claimed(csq, &claimed);
	return count;
}
EXPORT_SYMBOL_GPL(csq_flush);

/* Which of its own parts the library uses for @ops; -EINVAL if none fits. */
static int csq_kind_of(const struct csq_ops *ops, bool ex)
{
	bool own_lists = ops->insert || ops->insert_ex || ops->remove;
	unsigned int kind = 0;

	if (own_lists) {
		if (ex ? !ops->insert_ex || ops->insert :
			 !ops->insert || ops->insert_ex)
			return -EINVAL;
		if (!ops->remove || !ops->peek_next)
			return -EINVAL;
		kind |= CSQ_OWN_LISTS | (ex ? CSQ_INSERT_EX : 0);
	} else if (ex) {
		return -EINVAL;
	} else if (ops->peek_next) {
		kind |= CSQ_FILTER;
	}
	if (!ops->acquire_lock != !ops->release_lock)
		return -EINVAL;
	if (ops->acquire_lock)
		kind |= CSQ_OWN_LOCK;
	else if (ops->may_sleep)
		kind |= CSQ_MUTEX;
	if (ops->may_sleep)
		kind |= CSQ_SLEEPS;
	return kind;
}

/**
 * __csq_init - the body of csq_init() and csq_init_ex()
 * @csq: the queue.
 * @ops: its callbacks.
 * @ex: whether @ops must provide @insert_ex rather than @insert.
 * @spin_key: lockdep class of the queue lock of non-sleeping queues, one
 *	per call site.
 * @sleep_key: the same for queues whose ops sleep.
 * @name: lockdep name of the queue lock.
 *
 * Context: process context.
 * Return: 0, or -EINVAL if @ops is not a valid set.
 */
int __csq_init(struct csq *csq, const struct csq_ops *ops, bool ex,
	       struct lock_class_key *spin_key,
	       struct lock_class_key *sleep_key, const char *name)
{
	int kind = csq_kind_of(ops, ex);

	if (kind < 0)
		return kind;

	csq->ops = ops;
	csq->kind = kind;
	csq->state = CSQ_RUNNING;
	INIT_LIST_HEAD(&csq->list);
	INIT_LIST_HEAD(&csq->inprogress);
	spin_lock_init(&csq->spin);
	mutex_init(&csq->mutex);
	csq->nr_reqs = 0;
	atomic_set(&csq->nr_active, 0);
	spin_lock_init(&csq->wake_lock);
	INIT_LIST_HEAD(&csq->wake_deferred);
	csq->waking = false;
#ifdef CONFIG_LOCKDEP
	lockdep_init_map_wait(&csq->dep_map, name,
			      ops->may_sleep ? sleep_key : spin_key, 0,
			      ops->may_sleep ? LD_WAIT_SLEEP : LD_WAIT_CONFIG);
#endif
	return 0;
}
EXPORT_SYMBOL_GPL(__csq_init);

/**
 * csq_destroy - tear a queue down once nothing is left in it
 * @csq: the queue, with no request linked (purged or flushed) and no insert
 *	to come.
 *
 * Waits until every request ever inserted has been completed: the handed-out
 * ones, and those whose cancel or completion is still on its way (a
 * canceller between its unlink and complete_canceled still reads @csq).
 * After this nothing of the library touches @csq, which may be freed.
 *
 * Context: process context; may sleep.
 */
void csq_destroy(struct csq *csq)
{
	might_sleep();
	WARN_ON_ONCE(csq_count(csq));
	csq_wait_all_completed(csq);
	mutex_destroy(&csq->mutex);
}
EXPORT_SYMBOL_GPL(csq_destroy);

MODULE_DESCRIPTION("Cancel-safe request queues (the IoCsq contract)");
MODULE_LICENSE("GPL");
