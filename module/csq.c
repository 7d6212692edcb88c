// SPDX-License-Identifier: GPL-2.0
/*
 * Cancel-safe request queues: the Windows IoCsq* contract and the
 * cancel-routine protocol under it, for Linux drivers.  See csq.h.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/export.h>
#include <linux/indirect_call_wrapper.h>
#include <linux/module.h>

#include "csq.h"

#define CREATE_TRACE_POINTS
#include "csq_trace.h"

/*
 * The bodies of the ready-made list callbacks, for the exported functions
 * and for the direct calls below.  Called under the queue lock.
 */
static __always_inline void __csq_fifo_insert(struct csq *csq,
					      struct csq_req *req)
{
	list_add_tail(&req->entry, &csq->list);
}

static __always_inline void __csq_owner_fifo_insert(struct csq *csq,
						    struct csq_req *req)
{
	struct csq_owner *owner = req->owner;

	list_add_tail(&req->entry, &csq->list);
	if (owner)
		list_add_tail(&req->owner_entry, &owner->reqs);
}

static __always_inline void __csq_fifo_remove(struct csq *csq,
					      struct csq_req *req)
{
	list_del_init(&req->entry);
}

static __always_inline void __csq_owner_fifo_remove(struct csq *csq,
						    struct csq_req *req)
{
	list_del_init(&req->entry);
	/* An unowned request's link points to itself: a no-op. */
	list_del_init(&req->owner_entry);
}

static __always_inline struct csq_req *
__csq_fifo_peek_next(struct csq *csq, struct csq_req *req, void *peek_ctx)
{
	req = req ? list_next_entry(req, entry) :
		    list_first_entry(&csq->list, struct csq_req, entry);
	list_for_each_entry_from(req, &csq->list, entry) {
		if (!peek_ctx || req->owner == peek_ctx)
			return req;
	}
	return NULL;
}

static __always_inline struct csq_req *
__csq_owner_fifo_peek_next(struct csq *csq, struct csq_req *req,
			   void *peek_ctx)
{
	struct csq_owner *owner = peek_ctx;

	if (!owner)
		return __csq_fifo_peek_next(csq, req, NULL);
	req = req ? list_next_entry(req, owner_entry) :
		    list_first_entry(&owner->reqs, struct csq_req, owner_entry);
	return list_entry_is_head(req, &owner->reqs, owner_entry) ? NULL : req;
}

/*
 * An insert and a remove_next make five callback calls or more.  When a
 * queue uses the ready-made callbacks, do their work inline: an indirect
 * call costs a retpoline on many machines (under emulation, a lookup), and
 * these calls would cost more than the list operations they wrap.
 *
 * csq_init() records which ready-made set a queue uses, and the hot entry
 * points switch on it once, into a copy of their body compiled for that
 * set (@builtin below is then a constant).  Testing each callback pointer
 * instead, at every call, costs as much as the calls under emulation.
 * Other queues test the pointers, and call what they do not recognise.
 */
enum csq_builtin {
	CSQ_BUILTIN_NONE,
	CSQ_BUILTIN_FIFO_SPIN,		/* csq_fifo_{insert,remove}, spin */
	CSQ_BUILTIN_OWNER_SPIN,		/* csq_owner_fifo_*, spin */
};

static __always_inline void csq_call_insert(struct csq *csq,
					    struct csq_req *req,
					    const enum csq_builtin builtin)
{
	void (*insert)(struct csq *csq, struct csq_req *req) = csq->ops->insert;

	if (builtin == CSQ_BUILTIN_FIFO_SPIN)
		__csq_fifo_insert(csq, req);
	else if (builtin == CSQ_BUILTIN_OWNER_SPIN)
		__csq_owner_fifo_insert(csq, req);
	else if (insert == csq_owner_fifo_insert)
		__csq_owner_fifo_insert(csq, req);
	else if (insert == csq_fifo_insert)
		__csq_fifo_insert(csq, req);
	else
		insert(csq, req);
}

static __always_inline void csq_call_remove(struct csq *csq,
					    struct csq_req *req,
					    const enum csq_builtin builtin)
{
	void (*remove)(struct csq *csq, struct csq_req *req) = csq->ops->remove;

	if (builtin == CSQ_BUILTIN_FIFO_SPIN)
		__csq_fifo_remove(csq, req);
	else if (builtin == CSQ_BUILTIN_OWNER_SPIN)
		__csq_owner_fifo_remove(csq, req);
	else if (remove == csq_owner_fifo_remove)
		__csq_owner_fifo_remove(csq, req);
	else if (remove == csq_fifo_remove)
		__csq_fifo_remove(csq, req);
	else
		remove(csq, req);
}

/* @peek_next is not part of a set: drivers often filter with their own. */
static __always_inline struct csq_req *
csq_call_peek_next(struct csq *csq, struct csq_req *req, void *peek_ctx,
		   const enum csq_builtin builtin)
{
	struct csq_req *(*peek_next)(struct csq *csq, struct csq_req *req,
				     void *peek_ctx) = csq->ops->peek_next;

	if (builtin == CSQ_BUILTIN_FIFO_SPIN &&
	    likely(peek_next == csq_fifo_peek_next))
		return __csq_fifo_peek_next(csq, req, peek_ctx);
	if (likely(peek_next == csq_owner_fifo_peek_next))
		return __csq_owner_fifo_peek_next(csq, req, peek_ctx);
	if (peek_next == csq_fifo_peek_next)
		return __csq_fifo_peek_next(csq, req, peek_ctx);
	return peek_next(csq, req, peek_ctx);
}

static inline void csq_call_complete_canceled(struct csq *csq,
					      struct csq_req *req)
{
	INDIRECT_CALL_1(csq->ops->complete_canceled, csq_complete_canceled,
			csq, req);
}

/*
 * The global cancel lock (the cancel spin lock of Windows).  The csq queues
 * need it only to hand the request to their cancel routine; drivers built on
 * the raw layer use it to serialise with their own cancel routines.
 */
static DEFINE_SPINLOCK(csq_cancel_spinlock);

/**
 * csq_acquire_cancel_lock - take the global cancel lock
 * @irqflags: where to save the interrupt state.
 *
 * Context: any; disables interrupts until csq_release_cancel_lock().
 */
void csq_acquire_cancel_lock(unsigned long *irqflags)
	__acquires(csq_cancel_lock)
{
	spin_lock_irqsave(&csq_cancel_spinlock, *irqflags);
}
EXPORT_SYMBOL_GPL(csq_acquire_cancel_lock);

/**
 * csq_release_cancel_lock - release the global cancel lock
 * @irqflags: what csq_acquire_cancel_lock() saved, or what a cancel routine
 *	was given.
 *
 * Context: with the cancel lock held.
 */
void csq_release_cancel_lock(unsigned long irqflags)
	__releases(csq_cancel_lock)
{
	spin_unlock_irqrestore(&csq_cancel_spinlock, irqflags);
}
EXPORT_SYMBOL_GPL(csq_release_cancel_lock);

/**
 * csq_req_set_cancel_routine - install or clear a request's cancel routine
 * @req: the request.
 * @routine: the new routine, or NULL to make @req not cancelable.
 *
 * The exchange is atomic and fully ordered.  Clearing it is how an owner
 * claims a request: a non-NULL return means no canceller can run any more
 * and the caller owns @req; NULL means a canceller already took the routine
 * and will complete @req, so the caller must leave it alone.
 *
 * Context: any.
 * Return: the previous routine.
 */
csq_cancel_fn_t csq_req_set_cancel_routine(struct csq_req *req,
					   csq_cancel_fn_t routine)
{
	return xchg(&req->cancel_routine, routine);
}
EXPORT_SYMBOL_GPL(csq_req_set_cancel_routine);

/**
 * csq_req_cancel - cancel a request (IoCancelIrp)
 * @req: the request; the caller guarantees it has not been freed.
 *
 * Sets the cancel flag, then takes the cancel routine.  If there was one,
 * the caller has won the request for its routine, which is called with the
 * cancel lock held and must release it.  If there was none, the request is
 * either not queued yet (its inserter will see the flag) or already owned
 * by someone completing it; either way nothing more is needed here.
 *
 * Context: any context that the routine accepts; for a queue with sleeping
 * callbacks, process context.
 * Return: true if a cancel routine was called.
 */
bool csq_req_cancel(struct csq_req *req)
{
	csq_cancel_fn_t routine;
	unsigned long irqflags;

	spin_lock_irqsave(&csq_cancel_spinlock, irqflags);
	set_bit(CSQ_REQ_CANCEL, &req->flags);
	/*
	 * Pairs with the exchange in __csq_arm_locked(): xchg() is fully
	 * ordered, so either we see the routine it installs or the inserter
	 * sees our flag.
	 */
	routine = xchg(&req->cancel_routine, NULL);
	if (!routine) {
		spin_unlock_irqrestore(&csq_cancel_spinlock, irqflags);
		return false;
	}
	routine(req, irqflags);
	__release(csq_cancel_lock);	/* the routine released it */
	return true;
}
EXPORT_SYMBOL_GPL(csq_req_cancel);

/**
 * csq_req_init - prepare a request for its first use
 * @req: the request.
 *
 * Context: any.
 */
void csq_req_init(struct csq_req *req)
{
	INIT_LIST_HEAD(&req->entry);
	INIT_LIST_HEAD(&req->owner_entry);
	req->cancel_routine = NULL;
	req->flags = 0;
	req->status = 0;
	req->information = 0;
	req->csq = NULL;
	req->ctx = NULL;
	req->owner = NULL;
	req->complete_fn = NULL;
	init_completion(&req->done);
}
EXPORT_SYMBOL_GPL(csq_req_init);

/**
 * csq_req_reinit - prepare a completed request for another use
 * @req: the request, completed and no longer seen by anyone else.
 *
 * Keeps @owner and @complete_fn.
 *
 * Context: any.
 */
void csq_req_reinit(struct csq_req *req)
{
	WARN_ON_ONCE(req->cancel_routine);
	INIT_LIST_HEAD(&req->entry);
	INIT_LIST_HEAD(&req->owner_entry);
	req->flags = 0;
	req->status = 0;
	req->information = 0;
	req->csq = NULL;
	req->ctx = NULL;
	reinit_completion(&req->done);
}
EXPORT_SYMBOL_GPL(csq_req_reinit);

/**
 * csq_req_complete - complete a request (IoCompleteRequest)
 * @req: a request the caller owns: it came from csq_remove_req(),
 *	csq_remove_next_req(), a refused insert, or a won cancel.
 * @status: 0 or -errno; -ECANCELED for a cancelled request.
 * @information: bytes transferred.
 *
 * Wakes the synchronous waiter or calls @req->complete_fn.  After this the
 * caller must not touch @req: its waiter may free it at once.  Completing a
 * request that is still cancelable, or completing it twice, is a driver bug:
 * it warns and does nothing, since the request may already be another
 * party's, and a waiter may then sleep for ever.
 *
 * Context: any; never under the queue lock.
 */
void csq_req_complete(struct csq_req *req, int status, size_t information)
{
	if (WARN_ON_ONCE(READ_ONCE(req->cancel_routine)))
		return;
	if (WARN_ON_ONCE(test_and_set_bit(CSQ_REQ_COMPLETED, &req->flags)))
		return;
	trace_csq_req_complete(req, status, information);
	req->status = status;
	req->information = information;
	if (req->complete_fn)
		req->complete_fn(req);
	else
		complete(&req->done);
}
EXPORT_SYMBOL_GPL(csq_req_complete);

static __always_inline void csq_lock(struct csq *csq, unsigned long *flags,
				     const enum csq_builtin builtin)
	__acquires(csq)
{
	void (*acquire)(struct csq *csq, unsigned long *flags) =
		csq->ops->acquire_lock;

	if (builtin != CSQ_BUILTIN_NONE ||
	    likely(acquire == csq_spin_acquire_lock)) {
		spin_lock_irqsave(&csq->spin, *flags);
	} else {
		INDIRECT_CALL_1(acquire, csq_mutex_acquire_lock, csq, flags);
		__acquire(&csq->spin);	/* for sparse: one lock either way */
	}
	__acquire(csq);
#ifdef CONFIG_LOCKDEP
	lock_map_acquire(&csq->dep_map);
#endif
}

static __always_inline void csq_unlock(struct csq *csq, unsigned long flags,
				       const enum csq_builtin builtin)
	__releases(csq)
{
	void (*release)(struct csq *csq, unsigned long flags) =
		csq->ops->release_lock;

#ifdef CONFIG_LOCKDEP
	lock_map_release(&csq->dep_map);
#endif
	__release(csq);
	if (builtin != CSQ_BUILTIN_NONE ||
	    likely(release == csq_spin_release_lock)) {
		spin_unlock_irqrestore(&csq->spin, flags);
	} else {
		INDIRECT_CALL_1(release, csq_mutex_release_lock, csq, flags);
		__release(&csq->spin);	/* for sparse, as in csq_lock() */
	}
}

/*
 * Unlink a request that the caller owns and break its context association
 * (rules 2 and 3).
 */
static __always_inline void __csq_unlink_locked(struct csq *csq,
						struct csq_req *req,
						const enum csq_builtin builtin)
	__must_hold(csq)
{
	lockdep_assert_held(csq);
	csq_call_remove(csq, req, builtin);
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
 */
static void csq_cancel_routine(struct csq_req *req, unsigned long irqflags)
	__releases(csq_cancel_lock)
{
	struct csq *csq = req->csq;
	unsigned long flags;

	spin_unlock_irqrestore(&csq_cancel_spinlock, irqflags);

	csq_lock(csq, &flags, CSQ_BUILTIN_NONE);
	__csq_unlink_locked(csq, req, CSQ_BUILTIN_NONE);
	trace_csq_cancel(csq, req);
	csq_unlock(csq, flags, CSQ_BUILTIN_NONE);

	csq_call_complete_canceled(csq, req);
}

/*
 * Make a freshly linked request cancelable, then look for a cancel that came
 * before the routine was there (rule 1).  Returns true if the request was
 * cancelled and the caller, still the owner, must complete it as such.
 */
static __always_inline bool __csq_arm_locked(struct csq *csq,
					     struct csq_req *req,
					     const enum csq_builtin builtin)
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
	__csq_unlink_locked(csq, req, builtin);
	trace_csq_cancel(csq, req);
	return true;
}

static __always_inline int __csq_insert(struct csq *csq, struct csq_req *req,
					struct csq_req_ctx *ctx,
					void *insert_ctx,
					const enum csq_builtin builtin)
{
	unsigned long flags;
	bool canceled;
	int ret = 0;

	csq_lock(csq, &flags, builtin);
	if (builtin == CSQ_BUILTIN_NONE && csq->ops->insert_ex) {
		ret = csq->ops->insert_ex(csq, req, insert_ctx);
		if (ret) {
			/* Refused: not linked, never armed, still the caller's. */
			csq_unlock(csq, flags, builtin);
			return ret;
		}
	} else {
		csq_call_insert(csq, req, builtin);
	}
	WRITE_ONCE(csq->nr_reqs, csq->nr_reqs + 1);
	req->csq = csq;
	if (ctx) {
		ctx->csq = csq;
		ctx->req = req;
		req->ctx = ctx;
	}
	trace_csq_insert(csq, req);
	canceled = __csq_arm_locked(csq, req, builtin);
	csq_unlock(csq, flags, builtin);

	if (canceled) {
		csq_call_complete_canceled(csq, req);
		return -ECANCELED;
	}
	return 0;
}

/**
 * csq_insert_req - queue a request (IoCsqInsertIrp)
 * @csq: the queue.
 * @req: the request, initialised and not queued anywhere.
 * @ctx: a context to take this request back with csq_remove_req(), or NULL.
 *
 * Links @req and makes it cancelable.  On a queue from csq_init_ex() this is
 * csq_insert_req_ex() with a NULL insert context.
 *
 * Context: see the table in csq.h; takes the queue lock.
 * Return: 0 if queued; -ECANCELED if @req had already been cancelled, in
 * which case it has gone through @complete_canceled and the caller must not
 * touch it; any other -errno is a refusal by @insert_ex, and the caller
 * still owns @req.
 */
int csq_insert_req(struct csq *csq, struct csq_req *req,
		   struct csq_req_ctx *ctx)
{
	switch (csq->builtin) {
	case CSQ_BUILTIN_FIFO_SPIN:
		return __csq_insert(csq, req, ctx, NULL, CSQ_BUILTIN_FIFO_SPIN);
	case CSQ_BUILTIN_OWNER_SPIN:
		return __csq_insert(csq, req, ctx, NULL, CSQ_BUILTIN_OWNER_SPIN);
	default:
		return __csq_insert(csq, req, ctx, NULL, CSQ_BUILTIN_NONE);
	}
}
EXPORT_SYMBOL_GPL(csq_insert_req);

/**
 * csq_insert_req_ex - queue a request, which the queue may refuse
 * @csq: the queue.
 * @req: the request, initialised and not queued anywhere.
 * @ctx: a context to take this request back with csq_remove_req(), or NULL.
 * @insert_ctx: passed to @insert_ex unchanged.
 *
 * Context: see the table in csq.h; takes the queue lock.
 * Return: 0 if queued; -ECANCELED if @req had already been cancelled and has
 * been completed through @complete_canceled; else the -errno with which
 * @insert_ex refused @req, which is then neither queued nor cancelable and
 * still the caller's (for example to start it at once).
 */
int csq_insert_req_ex(struct csq *csq, struct csq_req *req,
		      struct csq_req_ctx *ctx, void *insert_ctx)
{
	return __csq_insert(csq, req, ctx, insert_ctx, CSQ_BUILTIN_NONE);
}
EXPORT_SYMBOL_GPL(csq_insert_req_ex);

/*
 * Claim @req for the caller: only a caller that takes the cancel routine
 * away owns the request (rule 2).
 */
static __always_inline bool __csq_claim_locked(struct csq *csq,
					       struct csq_req *req,
					       const enum csq_builtin builtin)
	__must_hold(csq)
{
	lockdep_assert_held(csq);
	if (!xchg(&req->cancel_routine, NULL))
		return false;
	__csq_unlink_locked(csq, req, builtin);
	trace_csq_claim(csq, req);
	return true;
}

static __always_inline struct csq_req *
__csq_remove_req(struct csq *csq, struct csq_req_ctx *ctx,
		 const enum csq_builtin builtin)
{
	struct csq_req *req;
	unsigned long flags;

	csq_lock(csq, &flags, builtin);
	req = ctx->req;
	if (req && !__csq_claim_locked(csq, req, builtin))
		req = NULL;
	csq_unlock(csq, flags, builtin);
	return req;
}

/**
 * csq_remove_req - take back the request inserted with a context
 * @csq: the queue.
 * @ctx: the context given to csq_insert_req().
 *
 * Context: see the table in csq.h; takes the queue lock.
 * Return: the request, now unlinked, not cancelable and the caller's to
 * complete; or NULL if it is gone already or a cancel owns it.  On NULL the
 * caller must not touch the request: the cancel path completes it.
 */
struct csq_req *csq_remove_req(struct csq *csq, struct csq_req_ctx *ctx)
{
	switch (csq->builtin) {
	case CSQ_BUILTIN_FIFO_SPIN:
		return __csq_remove_req(csq, ctx, CSQ_BUILTIN_FIFO_SPIN);
	case CSQ_BUILTIN_OWNER_SPIN:
		return __csq_remove_req(csq, ctx, CSQ_BUILTIN_OWNER_SPIN);
	default:
		return __csq_remove_req(csq, ctx, CSQ_BUILTIN_NONE);
	}
}
EXPORT_SYMBOL_GPL(csq_remove_req);

static __always_inline struct csq_req *
__csq_remove_next_req(struct csq *csq, void *peek_ctx,
		      const enum csq_builtin builtin)
{
	struct csq_req *req;
	unsigned long flags;

	csq_lock(csq, &flags, builtin);
	req = csq_call_peek_next(csq, NULL, peek_ctx, builtin);
	while (req && !__csq_claim_locked(csq, req, builtin))
		req = csq_call_peek_next(csq, req, peek_ctx, builtin);
	csq_unlock(csq, flags, builtin);
	return req;
}

/**
 * csq_remove_next_req - take the next request that matches a peek context
 * @csq: the queue.
 * @peek_ctx: passed to @peek_next; NULL conventionally matches any request.
 *
 * Requests whose cancel is in progress are skipped, not waited for.
 *
 * Context: see the table in csq.h; takes the queue lock.
 * Return: the request, now unlinked, not cancelable and the caller's to
 * complete; or NULL if no claimable request matches.
 */
struct csq_req *csq_remove_next_req(struct csq *csq, void *peek_ctx)
{
	switch (csq->builtin) {
	case CSQ_BUILTIN_FIFO_SPIN:
		return __csq_remove_next_req(csq, peek_ctx,
					     CSQ_BUILTIN_FIFO_SPIN);
	case CSQ_BUILTIN_OWNER_SPIN:
		return __csq_remove_next_req(csq, peek_ctx,
					     CSQ_BUILTIN_OWNER_SPIN);
	default:
		return __csq_remove_next_req(csq, peek_ctx, CSQ_BUILTIN_NONE);
	}
}
EXPORT_SYMBOL_GPL(csq_remove_next_req);

/**
 * csq_flush - cancel every request that matches a peek context
 * @csq: the queue.
 * @peek_ctx: passed to @peek_next; NULL matches every request.
 *
 * The sweep behind close() (IRP_MJ_CLEANUP), CancelIo and teardown: claims
 * all matching requests in one pass under the queue lock, then hands each
 * to @complete_canceled after releasing it.  Requests whose cancel is
 * already in progress are left to it.
 *
 * Context: see the table in csq.h; takes the queue lock.
 * Return: the number of requests this call cancelled.
 */
unsigned int csq_flush(struct csq *csq, void *peek_ctx)
{
	struct csq_req *req, *next, *tmp;
	unsigned int count = 0;
	unsigned long flags;
	LIST_HEAD(claimed);

	csq_lock(csq, &flags, CSQ_BUILTIN_NONE);
	for (req = csq_call_peek_next(csq, NULL, peek_ctx, CSQ_BUILTIN_NONE);
	     req; req = next) {
		/* @req stops being a valid cursor once it is unlinked. */
		next = csq_call_peek_next(csq, req, peek_ctx, CSQ_BUILTIN_NONE);
		if (__csq_claim_locked(csq, req, CSQ_BUILTIN_NONE))
			list_add_tail(&req->entry, &claimed);
	}
	csq_unlock(csq, flags, CSQ_BUILTIN_NONE);

	list_for_each_entry_safe(req, tmp, &claimed, entry) {
		list_del_init(&req->entry);
		csq_call_complete_canceled(csq, req);
		count++;
	}
	return count;
}
EXPORT_SYMBOL_GPL(csq_flush);

static enum csq_builtin csq_find_builtin(const struct csq_ops *ops)
{
	if (ops->insert_ex || ops->acquire_lock != csq_spin_acquire_lock ||
	    ops->release_lock != csq_spin_release_lock)
		return CSQ_BUILTIN_NONE;
	if (ops->insert == csq_fifo_insert && ops->remove == csq_fifo_remove)
		return CSQ_BUILTIN_FIFO_SPIN;
	if (ops->insert == csq_owner_fifo_insert &&
	    ops->remove == csq_owner_fifo_remove)
		return CSQ_BUILTIN_OWNER_SPIN;
	return CSQ_BUILTIN_NONE;
}

/**
 * __csq_init - the body of csq_init() and csq_init_ex()
 * @csq: the queue.
 * @ops: its callbacks.
 * @ex: whether @ops must provide @insert_ex rather than @insert.
 * @key: lockdep class of the queue lock, one per call site.
 * @name: lockdep name of the queue lock.
 *
 * Context: process context.
 * Return: 0, or -EINVAL if @ops lacks a callback it needs.
 */
int __csq_init(struct csq *csq, const struct csq_ops *ops, bool ex,
	       struct lock_class_key *key, const char *name)
{
	bool has_insert = ex ? ops->insert_ex && !ops->insert :
			       ops->insert && !ops->insert_ex;

	if (!has_insert || !ops->remove || !ops->peek_next ||
	    !ops->acquire_lock || !ops->release_lock ||
	    !ops->complete_canceled)
		return -EINVAL;

	csq->ops = ops;
	INIT_LIST_HEAD(&csq->list);
	spin_lock_init(&csq->spin);
	mutex_init(&csq->mutex);
	csq->nr_reqs = 0;
	csq->builtin = csq_find_builtin(ops);
#ifdef CONFIG_LOCKDEP
	lockdep_init_map(&csq->dep_map, name, key, 0);
#endif
	return 0;
}
EXPORT_SYMBOL_GPL(__csq_init);

/**
 * csq_destroy - release what csq_init() set up
 * @csq: the queue, empty: drained with csq_flush() and no insert to come.
 *
 * Context: process context.
 */
void csq_destroy(struct csq *csq)
{
	WARN_ON_ONCE(csq_count(csq));
	mutex_destroy(&csq->mutex);
}
EXPORT_SYMBOL_GPL(csq_destroy);

/**
 * csq_fifo_insert - ready-made @insert: append to @csq->list
 * @csq: the queue.
 * @req: the request.
 *
 * Context: under the queue lock (csq_spin_* or csq_mutex_* lock ops).
 */
void csq_fifo_insert(struct csq *csq, struct csq_req *req)
{
	lockdep_assert_held(csq);
	__csq_fifo_insert(csq, req);
}
EXPORT_SYMBOL_GPL(csq_fifo_insert);

/**
 * csq_fifo_remove - ready-made @remove: unlink from @csq->list
 * @csq: the queue.
 * @req: the request.
 *
 * Context: under the queue lock.
 */
void csq_fifo_remove(struct csq *csq, struct csq_req *req)
{
	lockdep_assert_held(csq);
	__csq_fifo_remove(csq, req);
}
EXPORT_SYMBOL_GPL(csq_fifo_remove);

/**
 * csq_fifo_peek_next - ready-made @peek_next: walk @csq->list in order
 * @csq: the queue.
 * @req: where to start after, or NULL for the head.
 * @peek_ctx: NULL for any request, else only requests whose @owner is it.
 *
 * Context: under the queue lock.
 * Return: the next matching request or NULL.
 */
struct csq_req *csq_fifo_peek_next(struct csq *csq, struct csq_req *req,
				   void *peek_ctx)
{
	lockdep_assert_held(csq);
	return __csq_fifo_peek_next(csq, req, peek_ctx);
}
EXPORT_SYMBOL_GPL(csq_fifo_peek_next);

/**
 * csq_owner_fifo_insert - ready-made @insert: append to @csq->list and to
 *	the list of the request's owner
 * @csq: the queue.
 * @req: the request; its @owner is a &struct csq_owner, or NULL for a
 *	request that no sweep of an owner should find.
 *
 * Context: under the queue lock (csq_spin_* or csq_mutex_* lock ops).
 */
void csq_owner_fifo_insert(struct csq *csq, struct csq_req *req)
{
	lockdep_assert_held(csq);
	__csq_owner_fifo_insert(csq, req);
}
EXPORT_SYMBOL_GPL(csq_owner_fifo_insert);

/**
 * csq_owner_fifo_remove - ready-made @remove: unlink from both lists
 * @csq: the queue.
 * @req: the request.
 *
 * Context: under the queue lock.
 */
void csq_owner_fifo_remove(struct csq *csq, struct csq_req *req)
{
	lockdep_assert_held(csq);
	__csq_owner_fifo_remove(csq, req);
}
EXPORT_SYMBOL_GPL(csq_owner_fifo_remove);

/**
 * csq_owner_fifo_peek_next - ready-made @peek_next: the queue in order, or
 *	one owner's requests in order
 * @csq: the queue.
 * @req: where to start after, or NULL for the head.
 * @peek_ctx: NULL for any request in @csq->list, else the &struct csq_owner
 *	whose list alone is walked.
 *
 * Matches exactly what csq_fifo_peek_next() matches, but a peek context
 * costs that owner's requests, not the whole queue.
 *
 * Context: under the queue lock.
 * Return: the next matching request or NULL.
 */
struct csq_req *csq_owner_fifo_peek_next(struct csq *csq,
					 struct csq_req *req,
					 void *peek_ctx)
{
	lockdep_assert_held(csq);
	return __csq_owner_fifo_peek_next(csq, req, peek_ctx);
}
EXPORT_SYMBOL_GPL(csq_owner_fifo_peek_next);

/**
 * csq_spin_acquire_lock - ready-made @acquire_lock: @csq->spin, irqsave
 * @csq: the queue.
 * @flags: saved interrupt state.
 *
 * Context: any.
 */
void csq_spin_acquire_lock(struct csq *csq, unsigned long *flags)
	__acquires(&csq->spin)
{
	spin_lock_irqsave(&csq->spin, *flags);
}
EXPORT_SYMBOL_GPL(csq_spin_acquire_lock);

/**
 * csq_spin_release_lock - ready-made @release_lock for csq_spin_acquire_lock()
 * @csq: the queue.
 * @flags: what csq_spin_acquire_lock() saved.
 *
 * Context: with @csq->spin held.
 */
void csq_spin_release_lock(struct csq *csq, unsigned long flags)
	__releases(&csq->spin)
{
	spin_unlock_irqrestore(&csq->spin, flags);
}
EXPORT_SYMBOL_GPL(csq_spin_release_lock);

/**
 * csq_mutex_acquire_lock - ready-made @acquire_lock: @csq->mutex
 * @csq: the queue.
 * @flags: unused; kept for the common signature.
 *
 * For queues whose callbacks must sleep.
 *
 * Context: process context; may sleep.
 */
void csq_mutex_acquire_lock(struct csq *csq, unsigned long *flags)
	__acquires(&csq->mutex)
{
	mutex_lock(&csq->mutex);
	__acquire(&csq->mutex);
	*flags = 0;
}
EXPORT_SYMBOL_GPL(csq_mutex_acquire_lock);

/**
 * csq_mutex_release_lock - ready-made @release_lock for csq_mutex_acquire_lock()
 * @csq: the queue.
 * @flags: unused.
 *
 * Context: process context, with @csq->mutex held.
 */
void csq_mutex_release_lock(struct csq *csq, unsigned long flags)
	__releases(&csq->mutex)
{
	__release(&csq->mutex);
	mutex_unlock(&csq->mutex);
}
EXPORT_SYMBOL_GPL(csq_mutex_release_lock);

/**
 * csq_complete_canceled - ready-made @complete_canceled
 * @csq: the queue.
 * @req: the cancelled request.
 *
 * Completes @req with -ECANCELED and no data.
 *
 * Context: any; never under the queue lock.
 */
void csq_complete_canceled(struct csq *csq, struct csq_req *req)
{
	csq_req_complete(req, -ECANCELED, 0);
}
EXPORT_SYMBOL_GPL(csq_complete_canceled);

const struct csq_ops csq_fifo_spin_ops = {
	.insert = csq_fifo_insert,
	.remove = csq_fifo_remove,
	.peek_next = csq_fifo_peek_next,
	.acquire_lock = csq_spin_acquire_lock,
	.release_lock = csq_spin_release_lock,
	.complete_canceled = csq_complete_canceled,
};
EXPORT_SYMBOL_GPL(csq_fifo_spin_ops);

const struct csq_ops csq_fifo_mutex_ops = {
	.insert = csq_fifo_insert,
	.remove = csq_fifo_remove,
	.peek_next = csq_fifo_peek_next,
	.acquire_lock = csq_mutex_acquire_lock,
	.release_lock = csq_mutex_release_lock,
	.complete_canceled = csq_complete_canceled,
};
EXPORT_SYMBOL_GPL(csq_fifo_mutex_ops);

const struct csq_ops csq_owner_fifo_spin_ops = {
	.insert = csq_owner_fifo_insert,
	.remove = csq_owner_fifo_remove,
	.peek_next = csq_owner_fifo_peek_next,
	.acquire_lock = csq_spin_acquire_lock,
	.release_lock = csq_spin_release_lock,
	.complete_canceled = csq_complete_canceled,
};
EXPORT_SYMBOL_GPL(csq_owner_fifo_spin_ops);

MODULE_DESCRIPTION("Cancel-safe request queues (the IoCsq contract)");
MODULE_LICENSE("GPL");
