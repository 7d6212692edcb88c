/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _CSQ_H
#define _CSQ_H

/**
 * DOC: csq - cancel-safe request queues
 *
 * A driver parks requests that it cannot serve yet (a read with no data) in
 * a queue it owns.  Any such request may be cancelled at any moment, and the
 * race between "the driver takes the request to complete it" and "somebody
 * cancels it" is where double completion, lost completion and use-after-free
 * come from.  This library is the Linux port of the Windows cancel-safe IRP
 * queue (IoCsq*) and of the cancel-routine protocol underneath it
 * (IoSetCancelRoutine, IoCancelIrp, the cancel spin lock).  The driver
 * supplies the data structure and the lock through &struct csq_ops; the
 * library owns every race.
 *
 * A request (&struct csq_req, the IRP) is embedded in the driver's own
 * request struct.  It is cancelable exactly while it has a cancel routine.
 * Both the canceller and whoever wants to take the request off the queue
 * exchange that routine with NULL; exactly one of them sees it non-NULL and
 * from then on owns the request: only the owner unlinks it and completes it.
 *
 * The rules the library keeps, and a driver must keep with it:
 *
 * 1. Insert links the request under the queue lock, then installs the cancel
 *    routine, then reads the cancel flag.  A canceller sets the flag, then
 *    exchanges the routine.  Whatever the interleaving, one of the two sees
 *    the other's write, so a cancel is never lost.
 * 2. A remover that loses the exchange does not touch the request or its
 *    context: csq_remove_req() returns NULL and csq_remove_next_req() skips
 *    the request.  The cancel path, already running, completes it.
 * 3. Whoever unlinks a request breaks its context association, under the
 *    queue lock.  A &struct csq_req_ctx may be reused only once its request
 *    has been completed.
 * 4. Nothing is completed and no driver callback other than the list
 *    operations runs under the queue lock: @complete_canceled and
 *    csq_req_complete() are always called after it is released.
 * 5. The cancel path finds the queue from the request alone.
 * 6. If @insert_ex refuses a request, it is not queued and not cancelable,
 *    and the caller still owns it.
 * 7. The driver completes only requests that csq_remove_req(),
 *    csq_remove_next_req() or csq_flush() gave it; it never takes an entry
 *    off its list behind the library's back.
 * 8. Before a queue goes away it must be empty: drain it with csq_flush().
 *
 * A request cancelled before it is inserted (its cancel flag set while it
 * had no routine) is linked, found cancelled and completed through
 * @complete_canceled before csq_insert_req() returns -ECANCELED.  This is
 * what Windows does, and it keeps a single completion path for every
 * cancellation: a waiter cannot tell an early cancel from a late one.  A
 * refusal by @insert_ex comes first, though: a refused request is returned
 * to its caller with the refusal, cancelled or not, as it never became
 * cancelable.
 *
 * Which calls may run concurrently, on one queue or one request:
 *
 *                       | insert | remove | remove_next | flush | cancel
 *   insert              |   Q    |   Q    |      Q      |   Q   |   -
 *   remove (ctx)        |        |   1    |      Q      |   Q   |   -
 *   remove_next         |        |        |      Q      |   Q   |   -
 *   flush               |        |        |             |   Q   |   -
 *   cancel (req)        |        |        |             |       |   A
 *
 * where "-" means freely, "Q" means yes, serialised by the queue lock, "1"
 * means only one caller per context, and "A" means yes, as long as every
 * caller knows the request is still allocated (it is freed only after its
 * completion, which may come from any of the others).  csq_req_complete()
 * is called by the one owner of a request, once.
 *
 * Context of the calls and callbacks:
 *
 *   ============================  =======================  ===========
 *   call or callback              lock held when it runs   may sleep
 *   ============================  =======================  ===========
 *   csq_insert_req[_ex]()         none (takes queue lock)  if lock does
 *   csq_remove_req()              none (takes queue lock)  if lock does
 *   csq_remove_next_req()         none (takes queue lock)  if lock does
 *   csq_flush()                   none (takes queue lock)  if lock does
 *   csq_req_cancel()              none (takes cancel lock) if lock does
 *   csq_req_complete()            none, never queue lock   no
 *   ->insert, ->insert_ex         queue lock               if lock does
 *   ->remove, ->peek_next         queue lock               if lock does
 *   ->acquire/release_lock        -                        if lock does
 *   ->complete_canceled           none                     if lock does
 *   cancel routine (raw)          cancel lock, irqs off    no
 *   ============================  =======================  ===========
 *
 * "If lock does" means: with a spinlock (csq_fifo_spin_ops) every call is
 * safe in hard-irq, softirq and process context and nothing may sleep; with
 * a mutex (csq_fifo_mutex_ops) the callbacks may sleep and every call must
 * come from process context, csq_req_cancel() included.
 *
 * What the calls cost with the ready-made callbacks: insert, remove by
 * context, remove_next without a peek context and cancel take constant time
 * whatever the depth of the queue.  A sweep (csq_flush(), or remove_next
 * with a peek context) walks what @peek_next walks: with the csq_fifo_*
 * callbacks that is the whole queue; with the csq_owner_fifo_* ones, whose
 * peek context is a &struct csq_owner, only that owner's requests, so the
 * close() of one file costs its own requests and not everybody else's.
 */

#include <linux/compiler_types.h>
#include <linux/completion.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct csq;
struct csq_req;

/**
 * typedef csq_cancel_fn_t - a raw cancel routine (DRIVER_CANCEL)
 * @req: the request being cancelled; the caller won the exchange of the
 *	request's cancel routine and now owns it.
 * @irqflags: what csq_acquire_cancel_lock() saved; the routine must pass it
 *	to csq_release_cancel_lock() before it does anything that can wait.
 *
 * Called by csq_req_cancel() with the global cancel lock held and interrupts
 * disabled.  The routine must release the cancel lock, unlink the request
 * from wherever the driver keeps it, and complete it.
 */
typedef void (*csq_cancel_fn_t)(struct csq_req *req, unsigned long irqflags);

/**
 * struct csq_req - a cancelable request (the IRP)
 * @entry: the driver's link while the request is queued; the queue's
 *	@insert and @remove callbacks own it until @remove returns.  After
 *	that the library may use it (csq_flush() gathers what it claimed on
 *	it), so a queue that keeps requests elsewhere must leave it alone.
 * @owner_entry: a second link for the queue's callbacks, which own it as
 *	they own @entry; the csq_owner_fifo_* ones link it into the list of
 *	@owner.  The library itself never touches it.
 * @cancel_routine: non-NULL exactly while the request is cancelable; only
 *	ever exchanged atomically.
 * @flags: %CSQ_REQ_CANCEL (set once by csq_req_cancel(), never cleared) and
 *	%CSQ_REQ_COMPLETED (catches a second completion).
 * @status: 0 or -errno, set by csq_req_complete(); -ECANCELED when
 *	cancelled.
 * @information: bytes transferred, set by csq_req_complete().
 * @csq: the queue holding the request; read by the cancel path.
 * @ctx: the context through which one party may take this request back.
 * @owner: an opaque key that the ready-made @peek_next compares with its
 *	peek context (for example the file that issued the request); with the
 *	csq_owner_fifo_* callbacks, the &struct csq_owner of the request or
 *	NULL.
 * @complete_fn: if set, called by csq_req_complete() instead of completing
 *	@done; for asynchronous users.  It may free the request.
 * @done: completed by csq_req_complete() for a synchronous waiter.
 *
 * Initialise with csq_req_init() before first use and with csq_req_reinit()
 * before each reuse.  The driver reads @status and @information after the
 * request has completed, and sets @owner and @complete_fn before inserting.
 */
struct csq_req {
	struct list_head entry;
	struct list_head owner_entry;
	csq_cancel_fn_t cancel_routine;
	unsigned long flags;
	int status;
	size_t information;
	struct csq *csq;
	struct csq_req_ctx *ctx;
	void *owner;
	void (*complete_fn)(struct csq_req *req);
	struct completion done;
};

#define CSQ_REQ_CANCEL		0
#define CSQ_REQ_COMPLETED	1

/**
 * struct csq_req_ctx - lets one party take back one specific request
 * @csq: the queue the request was inserted into.
 * @req: the request while it is queued, NULL once anyone has unlinked it;
 *	protected by the queue lock.
 *
 * The analogue of IO_CSQ_IRP_CONTEXT.  Typically lives beside the request
 * in the waiter's frame: the waiter inserts with it and, when interrupted,
 * takes its request back with csq_remove_req().
 */
struct csq_req_ctx {
	struct csq *csq;
	struct csq_req *req;
};

/**
 * struct csq_owner - the queued requests of one owner, for cheap sweeps
 * @reqs: the owner's requests, oldest first, linked through
 *	&csq_req.owner_entry; protected by the lock of their queue.
 *
 * Used by the csq_owner_fifo_* callbacks: a request whose @owner points to
 * a csq_owner is linked both into its queue and into that owner's list, and
 * a peek context that points to a csq_owner walks only its list.  Typically
 * one per open file, in the driver's per-file state.  All its requests must
 * be in one queue, and it must hold none when it is freed.
 */
struct csq_owner {
	struct list_head reqs;
};

/**
 * csq_owner_init - initialise an owner with no request
 * @owner: the owner.
 *
 * Context: any.
 */
static inline void csq_owner_init(struct csq_owner *owner)
{
	INIT_LIST_HEAD(&owner->reqs);
}

/**
 * struct csq_ops - how a queue stores its requests and locks itself
 * @insert: link @req into the queue.  Called with the queue lock held.
 *	Exactly one of @insert and @insert_ex is set: csq_init() wants
 *	@insert, csq_init_ex() wants @insert_ex.
 * @insert_ex: link @req, or refuse it by returning -errno (for example to
 *	start it at once because the device is idle); a refused request is not
 *	queued and the caller keeps it.  @insert_ctx is what the caller passed
 *	to csq_insert_req_ex().  Called with the queue lock held.
 * @remove: unlink @req.  Called with the queue lock held.
 * @peek_next: the first request after @req (after none if @req is NULL)
 *	that matches @peek_ctx, or NULL.  What matching means is the queue's
 *	business; a NULL @peek_ctx should match every request.  Called with
 *	the queue lock held; must not unlink anything.
 * @acquire_lock: take the queue lock, saving what @release_lock needs in
 *	*@flags (the irq flags for a spinlock).
 * @release_lock: release the queue lock.
 * @complete_canceled: complete a request that was cancelled, normally with
 *	csq_req_complete(req, -ECANCELED, 0).  Called without the queue lock.
 */
struct csq_ops {
	void (*insert)(struct csq *csq, struct csq_req *req);
	int (*insert_ex)(struct csq *csq, struct csq_req *req,
			 void *insert_ctx);
	void (*remove)(struct csq *csq, struct csq_req *req);
	struct csq_req *(*peek_next)(struct csq *csq, struct csq_req *req,
				     void *peek_ctx);
	void (*acquire_lock)(struct csq *csq, unsigned long *flags);
	void (*release_lock)(struct csq *csq, unsigned long flags);
	void (*complete_canceled)(struct csq *csq, struct csq_req *req);
};

/**
 * struct csq - a cancel-safe queue (IO_CSQ)
 * @ops: the driver's callbacks.
 * @list: storage for the ready-made FIFO ops; a driver with its own @insert
 *	may ignore it.
 * @spin: the lock of csq_spin_acquire_lock(); protects @list when used.
 * @mutex: the lock of csq_mutex_acquire_lock(); protects @list when used.
 * @nr_reqs: requests linked; written under the queue lock.
 * @builtin: which ready-made callbacks @ops uses, found by csq_init(); the
 *	library does their work inline (private to csq.c).
 * @dep_map: lets lockdep check that the library's helpers run under the
 *	queue lock, whatever lock the driver chose.
 *
 * Fixed size and embeddable in the driver's device struct.
 */
struct csq {
	const struct csq_ops *ops;
	struct list_head list;
	spinlock_t spin;	/* protects list, nr_reqs with csq_spin_* ops */
	struct mutex mutex;	/* the same with csq_mutex_* ops */
	unsigned int nr_reqs;
	unsigned int builtin;
#ifdef CONFIG_LOCKDEP
	struct lockdep_map dep_map;
#endif
};

int __csq_init(struct csq *csq, const struct csq_ops *ops, bool ex,
	       struct lock_class_key *key, const char *name);

/**
 * csq_init - initialise a queue whose @insert callback cannot refuse
 * @csq: the queue.
 * @ops: its callbacks; @insert set, @insert_ex NULL, all others set.
 *
 * Each call site gets its own lockdep class for the queue lock as the
 * library sees it (whatever lock the ops take), so queues with different
 * lock types must be initialised from different places.  The ready-made
 * @spin and @mutex have one class each for all queues, which holds as long
 * as no queue lock is ever taken inside another: no callback may call into
 * another queue.
 *
 * Context: process context.
 * Return: 0, or -EINVAL if @ops lacks a callback it needs.
 */
#define csq_init(csq, ops)						\
({									\
	static struct lock_class_key __csq_key;				\
									\
	__csq_init((csq), (ops), false, &__csq_key, #csq);		\
})

/**
 * csq_init_ex - initialise a queue whose @insert_ex callback may refuse
 * @csq: the queue.
 * @ops: its callbacks; @insert_ex set, @insert NULL, all others set.
 *
 * Context: process context.
 * Return: 0, or -EINVAL if @ops lacks a callback it needs.
 */
#define csq_init_ex(csq, ops)						\
({									\
	static struct lock_class_key __csq_key;				\
									\
	__csq_init((csq), (ops), true, &__csq_key, #csq);		\
})

void csq_destroy(struct csq *csq);

int csq_insert_req(struct csq *csq, struct csq_req *req,
		   struct csq_req_ctx *ctx);
int csq_insert_req_ex(struct csq *csq, struct csq_req *req,
		      struct csq_req_ctx *ctx, void *insert_ctx);
struct csq_req *csq_remove_req(struct csq *csq, struct csq_req_ctx *ctx);
struct csq_req *csq_remove_next_req(struct csq *csq, void *peek_ctx);
unsigned int csq_flush(struct csq *csq, void *peek_ctx);

/**
 * csq_count - how many requests a queue holds
 * @csq: the queue.
 *
 * Context: any.  Without the queue lock the answer may be stale at once.
 * Return: the number of requests linked.
 */
static inline unsigned int csq_count(const struct csq *csq)
{
	return READ_ONCE(csq->nr_reqs);
}

/**
 * csq_is_empty - whether a queue holds no request
 * @csq: the queue.
 *
 * Context: any.  Without the queue lock the answer may be stale at once.
 * Return: true if no request is linked.
 */
static inline bool csq_is_empty(const struct csq *csq)
{
	return csq_count(csq) == 0;
}

void csq_req_init(struct csq_req *req);
void csq_req_reinit(struct csq_req *req);
void csq_req_complete(struct csq_req *req, int status, size_t information);

/**
 * csq_req_is_canceled - whether someone asked to cancel a request
 * @req: the request.
 *
 * The flag is set once and never cleared; its meaning is "stop as soon as
 * you can", the owner of the request decides when.
 *
 * Context: any.
 * Return: true once csq_req_cancel() has been called on @req.
 */
static inline bool csq_req_is_canceled(const struct csq_req *req)
{
	return test_bit(CSQ_REQ_CANCEL, &req->flags);
}

csq_cancel_fn_t csq_req_set_cancel_routine(struct csq_req *req,
					   csq_cancel_fn_t routine);
bool csq_req_cancel(struct csq_req *req);
void csq_acquire_cancel_lock(unsigned long *irqflags)
	__acquires(csq_cancel_lock);
void csq_release_cancel_lock(unsigned long irqflags)
	__releases(csq_cancel_lock);

/* Ready-made ops: a FIFO in csq->list, under csq->spin or csq->mutex. */
extern const struct csq_ops csq_fifo_spin_ops;
extern const struct csq_ops csq_fifo_mutex_ops;

void csq_fifo_insert(struct csq *csq, struct csq_req *req);
void csq_fifo_remove(struct csq *csq, struct csq_req *req);
struct csq_req *csq_fifo_peek_next(struct csq *csq, struct csq_req *req,
				   void *peek_ctx);

/*
 * Ready-made ops: the same FIFO under csq->spin, and a list per
 * &struct csq_owner for sweeps of one owner.
 */
extern const struct csq_ops csq_owner_fifo_spin_ops;

void csq_owner_fifo_insert(struct csq *csq, struct csq_req *req);
void csq_owner_fifo_remove(struct csq *csq, struct csq_req *req);
struct csq_req *csq_owner_fifo_peek_next(struct csq *csq,
					 struct csq_req *req,
					 void *peek_ctx);
void csq_spin_acquire_lock(struct csq *csq, unsigned long *flags);
void csq_spin_release_lock(struct csq *csq, unsigned long flags);
void csq_mutex_acquire_lock(struct csq *csq, unsigned long *flags);
void csq_mutex_release_lock(struct csq *csq, unsigned long flags);
void csq_complete_canceled(struct csq *csq, struct csq_req *req);

#endif /* _CSQ_H */
