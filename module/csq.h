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
 * queue (IoCsq*), of the cancel-routine protocol underneath it
 * (IoSetCancelRoutine, IoCancelIrp, the cancel spin lock) and of the queue
 * states of KMDF (WdfIoQueueStop, Purge, Drain).  The library owns every
 * race; the driver may bring its own storage and lock through &struct
 * csq_ops, or take the library's.
 *
 * It comes in units, each a file of its own:
 *
 * - csq_req.c, the request (&struct csq_req, the IRP): completion and the
 *   raw cancel-routine layer.
 * - csq_queue.c, the queue: insert, remove by context, remove next, flush.
 * - csq_ops.c, the ready-made callbacks.
 * - csq_wait.c, waiting for a queued request, as a blocking read does.
 * - csq_state.c, queue states (stop, purge, drain) and requests made
 *   cancelable again while a driver works on them.
 * - csq_kiocb.c, requests that outlive their system call (aio): a queued
 *   request bound to a kiocb, cancelled by io_cancel(2), io_destroy(2) and
 *   process exit, completed through the kiocb.
 *
 * A request is embedded in the driver's own request struct.  It is
 * cancelable exactly while it has a cancel routine.  Both the canceller and
 * whoever wants to take the request off the queue exchange that routine
 * with NULL; exactly one of them sees it non-NULL and from then on owns the
 * request: only the owner unlinks it and completes it.
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
 * 6. If @insert_ex, or the queue's state, refuses a request, it is not
 *    queued and not cancelable, and the caller still owns it.
 * 7. The driver completes every request that csq_remove_req(),
 *    csq_remove_next_req() or a won cancel gave it, exactly once, and only
 *    those; it never takes an entry off its list behind the library's back.
 *    A request taken off a queue may instead be inserted again, as it is.
 * 8. A queue is torn down with csq_destroy(), once no request is linked:
 *    it waits until every request ever inserted has been completed,
 *    including those whose cancel is still on its way.
 *
 * A request cancelled before it is inserted (its cancel flag set while it
 * had no routine) is linked, found cancelled and completed through
 * @complete_canceled before csq_insert_req() returns -ECANCELED.  This is
 * what Windows does, and it keeps a single completion path for every
 * cancellation: a waiter cannot tell an early cancel from a late one.  A
 * refusal comes first, though: a refused request is returned to its caller
 * with the refusal, cancelled or not, as it never became cancelable.
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
 * is called by the one owner of a request, once.  The state calls
 * (csq_stop() and the others) may run concurrently with all of these, and
 * with each other; each of them takes the queue lock.
 *
 * Context of the calls and callbacks:
 *
 *   ==================================  =================  ===========
 *   call or callback                    lock held          may sleep
 *   ==================================  =================  ===========
 *   csq_insert_req[_ex]()               none (takes Q)     if Q does
 *   csq_remove_req()                    none (takes Q)     if Q does
 *   csq_remove_next_req()               none (takes Q)     if Q does
 *   csq_flush()                         none (takes Q)     if Q does
 *   csq_stop(), csq_start()             none (takes Q)     if Q does
 *   csq_get_state(), csq_count()        none               no
 *   csq_purge(), csq_drain()            none (takes Q)     if Q does
 *   csq_req_mark_cancelable()           none (takes Q)     if Q does
 *   csq_req_unmark_cancelable()         none (takes Q)     if Q does
 *   csq_*_sync(), csq_destroy()         none               yes
 *   csq_wait_req_*()                    none               yes
 *   csq_kiocb_init()                    none               yes
 *   ->done of a &struct csq_kiocb       none, a worker     yes
 *   csq_kiocb_use_mm(), _complete()     none, in ->done    yes
 *   csq_req_cancel()                    none (takes C)     if Q does
 *   csq_req_complete()                  none, never Q      no
 *   ->insert, ->insert_ex               Q                  if Q does
 *   ->remove, ->peek_next               Q                  if Q does
 *   csq_list_peek_next()                Q                  no
 *   ->acquire_lock, ->release_lock      -                  if Q does
 *   ->complete_canceled                 none               if Q does
 *   in-progress cancel function         none               if Q does
 *   raw cancel routine                  C, irqs off        no
 *   ==================================  =================  ===========
 *
 * Q is the queue lock and C the global cancel lock.  "If Q does" means:
 * with a spinlock (the default) every call is safe in any context where a
 * spinlock_t may be taken (hard irq, softirq, process; on PREEMPT_RT a
 * threaded handler, not a hard irq one) and nothing may sleep; with a
 * sleeping lock (&csq_ops.may_sleep, as in csq_fifo_mutex_ops) the
 * callbacks may sleep and every call must come from process context,
 * csq_req_cancel() included.
 *
 * The queue's states, after KMDF's:
 *
 *   ==========  ================  ===============  ======================
 *   state       csq_insert_req()  remove_next      entered by
 *   ==========  ================  ===============  ======================
 *   running     queues            hands out        csq_init(), csq_start()
 *   stopped     queues            hands out none   csq_stop[_sync]()
 *   draining    -ESHUTDOWN        hands out        csq_drain[_sync]()
 *   purged      -ESHUTDOWN        (nothing left)   csq_purge[_sync]()
 *   ==========  ================  ===============  ======================
 *
 * In every state csq_remove_req() takes a request back, csq_flush() and
 * csq_req_cancel() cancel, and handed-out requests complete as usual.  A
 * request whose cancel is in progress when the state changes completes
 * with -ECANCELED through the cancel path, and counts, until then, as not
 * completed for the _sync() variants.  Only csq_start() leaves draining or
 * purged.
 *
 * What the calls cost: insert, remove by context, remove_next without a
 * peek context and cancel take constant time whatever the depth of the
 * queue.  A sweep (csq_flush(), or remove_next with a peek context) walks
 * what @peek_next walks: with the library's own lists, whose peek context
 * is a &struct csq_owner, only that owner's requests, so the close() of
 * one file costs its own requests and not everybody else's.
 */

#include <linux/compiler_types.h>
#include <linux/completion.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uio.h>
#include <linux/workqueue.h>

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
 * typedef csq_inprogress_cancel_fn_t - cancel a request a driver works on
 * @req: the request, made cancelable by csq_req_mark_cancelable(); the
 *	caller now owns it again.
 *
 * The EvtRequestCancel of KMDF: called without any lock, in the context of
 * whoever cancelled (see the context table), once.  The driver stops its
 * work on @req and completes it, for example with what it transferred so
 * far; it may do the completion later, from where the work runs.  Until
 * it completes @req, the driver's own csq_req_unmark_cancelable() may
 * still be touching @req: see there.
 */
typedef void (*csq_inprogress_cancel_fn_t)(struct csq_req *req);

/**
 * struct csq_owner - the queued requests of one owner, for cheap sweeps
 * @reqs: the owner's requests, oldest first, linked through
 *	&csq_req.owner_entry; protected by the lock of their queue.
 *
 * With the library's own lists, a request whose @owner is set is linked
 * both into its queue and into its owner's list, and a peek context that
 * points to a csq_owner walks only that list.  Typically one per open
 * file, in the driver's per-file state.  All its requests must be in one
 * queue, and it must hold none when it is freed.
 */
struct csq_owner {
	struct list_head reqs;
};

/**
 * struct csq_req - a cancelable request (the IRP)
 * @entry: the request's link while it is queued; the queue's @insert and
 *	@remove callbacks own it until @remove returns.  After that the
 *	library may use it (csq_flush() gathers what it claimed on it, a
 *	completion may wait on it), so a queue that keeps requests elsewhere
 *	must leave it alone.
 * @owner_entry: a second link, for the library's own lists (the list of
 *	@owner); a queue with lists of its own may use it as it likes.
 * @cancel_routine: non-NULL exactly while the request is cancelable; only
 *	ever exchanged atomically.
 * @flags: %CSQ_REQ_CANCEL (set once by csq_req_cancel(), never cleared),
 *	%CSQ_REQ_COMPLETED (catches a second completion), and the library's
 *	own bits.
 * @status: 0 or -errno, set by csq_req_complete(); -ECANCELED when
 *	cancelled.
 * @information: bytes transferred, set by csq_req_complete().
 * @csq: the queue the request was inserted into, until it is completed;
 *	read by the cancel path.
 * @ctx: the context through which one party may take this request back.
 * @owner: the request's owner, or NULL.  The library's lists link the
 *	request into the owner's list; a queue with lists of its own may use
 *	it as an opaque key.
 * @inprogress_cancel: what csq_req_mark_cancelable() installed.
 * @context: free for whoever sets @complete_fn (the kiocb helpers find
 *	their &struct csq_kiocb there); the DriverContext of an IRP.
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
	struct csq_owner *owner;
	csq_inprogress_cancel_fn_t inprogress_cancel;
	void *context;
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
 * takes its request back with csq_remove_req().  Every insert with a
 * context initialises it, whatever the outcome.
 */
struct csq_req_ctx {
	struct csq *csq;
	struct csq_req *req;
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
 *	Set at most one of @insert and @insert_ex, and with it @remove and
 *	@peek_next; leave all of them NULL for the library's own lists (a
 *	FIFO, and a list per &struct csq_owner).
 * @insert_ex: link @req, or refuse it by returning -errno (for example to
 *	start it at once because the device is idle); a refused request is not
 *	queued and the caller keeps it.  @insert_ctx is what the caller passed
 *	to csq_insert_req_ex().  Called with the queue lock held.
 * @remove: unlink @req.  Called with the queue lock held.
 * @peek_next: the first request after @req (after none if @req is NULL)
 *	that matches @peek_ctx, or NULL.  What matching means is the queue's
 *	business; a NULL @peek_ctx must match every request.  Called with the
 *	queue lock held; must not unlink anything.  With the library's lists
 *	it may still be set, to filter: it is then called for a non-NULL peek
 *	context only and walks with csq_list_peek_next().
 * @acquire_lock: take the queue lock, saving what @release_lock needs in
 *	*@flags (the irq flags for a spinlock).  Set both or neither; neither
 *	means the library's own lock, a spinlock or, with @may_sleep, a mutex.
 * @release_lock: release the queue lock.
 * @complete_canceled: complete a request that was cancelled, normally with
 *	csq_req_complete(req, -ECANCELED, 0); NULL does exactly that.  Called
 *	without the queue lock; must not touch the queue after completing.
 * @may_sleep: the lock and the callbacks may sleep.  Every call on the
 *	queue then comes from process context (might_sleep() checks it), and
 *	lockdep keeps such queues in a class of their own.
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
	bool may_sleep;
};

/**
 * enum csq_state - what a queue accepts and hands out; see the DOC table
 * @CSQ_RUNNING: accepts and hands out requests.
 * @CSQ_STOPPED: accepts requests, hands out none.
 * @CSQ_DRAINING: refuses new requests, hands out the queued ones.
 * @CSQ_PURGED: refuses new requests; the queued ones were cancelled.
 */
enum csq_state {
	CSQ_RUNNING,
	CSQ_STOPPED,
	CSQ_DRAINING,
	CSQ_PURGED,
};

/**
 * struct csq - a cancel-safe queue (IO_CSQ, with a KMDF queue's states)
 * @ops: the driver's callbacks.
 * @kind: which of its own parts the library uses (private to the library).
 * @state: what the queue accepts and hands out; under the queue lock.
 * @list: the library's FIFO of queued requests, when it keeps the lists.
 * @inprogress: requests made cancelable by csq_req_mark_cancelable().
 * @spin: the library's spinlock; protects @list, @inprogress, @nr_reqs and
 *	@state when @ops brings no lock and does not sleep.
 * @mutex: the same when @ops brings no lock and sleeps.
 * @nr_reqs: requests linked; written under the queue lock.
 * @nr_active: requests inserted and not completed yet, queued or not.
 * @wake_lock: protects @wake_deferred and @waking.
 * @wake_deferred: completions of waiters that wait for their turn to be
 *	woken, oldest first (see csq_wait_req_interruptible()).
 * @waking: a waiter was woken and has not yet passed the turn on.
 * @dep_map: lets lockdep check that the library's helpers run under the
 *	queue lock, whatever lock the driver chose.
 *
 * Fixed size and embeddable in the driver's device struct.
 */
struct csq {
	const struct csq_ops *ops;
	unsigned int kind;
	enum csq_state state;
	struct list_head list;
	struct list_head inprogress;
	spinlock_t spin;	/* protects list, inprogress, nr_reqs, state */
	struct mutex mutex;	/* the same, with csq_ops.may_sleep */
	unsigned int nr_reqs;
	atomic_t nr_active;
	spinlock_t wake_lock;	/* protects wake_deferred, waking */
	struct list_head wake_deferred;
	bool waking;
#ifdef CONFIG_LOCKDEP
	struct lockdep_map dep_map;
#endif
};

int __csq_init(struct csq *csq, const struct csq_ops *ops, bool ex,
	       struct lock_class_key *spin_key,
	       struct lock_class_key *sleep_key, const char *name);

/**
 * csq_init - initialise a queue whose @insert callback cannot refuse
 * @csq: the queue.
 * @ops: its callbacks; @insert_ex NULL.
 *
 * Each call site gets two lockdep classes for the queue lock as the
 * library sees it, one for queues whose ops sleep and one for the others,
 * so one call site may initialise both kinds.  Queues of one kind from one
 * call site share a class: no queue lock may be taken inside another of
 * the same class, so no callback may call into a sibling queue.
 *
 * Context: process context.
 * Return: 0, or -EINVAL if @ops is not a valid set (see &struct csq_ops).
 */
#define csq_init(csq, ops)						\
({									\
	static struct lock_class_key __csq_spin_key, __csq_sleep_key;	\
									\
	__csq_init((csq), (ops), false, &__csq_spin_key,		\
		   &__csq_sleep_key, #csq);				\
})

/**
 * csq_init_ex - initialise a queue whose @insert_ex callback may refuse
 * @csq: the queue.
 * @ops: its callbacks; @insert_ex, @remove and @peek_next set, @insert NULL.
 *
 * Context: process context.
 * Return: 0, or -EINVAL if @ops is not a valid set (see &struct csq_ops).
 */
#define csq_init_ex(csq, ops)						\
({									\
	static struct lock_class_key __csq_spin_key, __csq_sleep_key;	\
									\
	__csq_init((csq), (ops), true, &__csq_spin_key,			\
		   &__csq_sleep_key, #csq);				\
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

/**
 * csq_nr_active - how many requests of a queue are not completed yet
 * @csq: the queue.
 *
 * Counts the queued ones, those handed out and those whose cancel or
 * completion is on its way.
 *
 * Context: any.  The answer may be stale at once.
 * Return: requests inserted into @csq and not yet completed.
 */
static inline unsigned int csq_nr_active(const struct csq *csq)
{
	return atomic_read(&csq->nr_active);
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

/* Waiting for a queued request (csq_wait.c). */
int csq_wait_req_interruptible(struct csq *csq, struct csq_req *req,
			       struct csq_req_ctx *ctx);
int csq_wait_req_killable(struct csq *csq, struct csq_req *req,
			  struct csq_req_ctx *ctx);
int csq_wait_req_timeout(struct csq *csq, struct csq_req *req,
			 struct csq_req_ctx *ctx, long timeout);
int csq_wait_req_interruptible_timeout(struct csq *csq, struct csq_req *req,
				       struct csq_req_ctx *ctx, long timeout);

/* Queue states and requests in progress (csq_state.c). */
void csq_start(struct csq *csq);
void csq_stop(struct csq *csq);
void csq_stop_sync(struct csq *csq);
unsigned int csq_purge(struct csq *csq);
unsigned int csq_purge_sync(struct csq *csq);
void csq_drain(struct csq *csq);
void csq_drain_sync(struct csq *csq);
enum csq_state csq_get_state(struct csq *csq);
int csq_req_mark_cancelable(struct csq *csq, struct csq_req *req,
			    csq_inprogress_cancel_fn_t cancel);
int csq_req_unmark_cancelable(struct csq *csq, struct csq_req *req);

/* Requests bound to a kiocb (csq_kiocb.c). */
struct mm_struct;
struct workqueue_struct;

/**
 * csq_kiocb_is_aio - whether a kiocb may be queued and completed later
 * @iocb: what ->read_iter or ->write_iter was given.
 *
 * Only an aio read or write can be cancelled by its submitter once it is
 * pending.  A kiocb of io_uring that ends up blocking in ->read_iter (in an
 * io-wq worker) is to be served as a synchronous call: its cancel reaches
 * the worker as a signal.
 *
 * Context: any.
 * Return: true for a kiocb of io_submit(2).
 */
static inline bool csq_kiocb_is_aio(const struct kiocb *iocb)
{
	return iocb->ki_complete && (iocb->ki_flags & IOCB_AIO_RW);
}

/**
 * struct csq_kiocb - binds a queued request to the kiocb it completes
 * @req: the request, inserted by the driver like any other.
 * @iocb: the kiocb of an aio read or write, which outlives its io_submit().
 * @mm: the submitter's address space, kept (mmgrab()) so that @done can
 *	copy to or from its buffers.
 * @iter: the submitter's buffers: a copy of what ->read_iter or
 *	->write_iter was given, whose own lives on io_submit()'s stack.
 * @iov: the copy of the segment array behind @iter, or NULL.
 * @wq: where @done runs.
 * @work: runs @done.
 * @done: the driver's end of the request, in process context once @req
 *	is completed: moves the data (within csq_kiocb_use_mm()) and calls
 *	csq_kiocb_complete().
 *
 * Typically embedded with the request in the driver's own struct, which
 * lives until @done frees it.
 */
struct csq_kiocb {
	struct csq_req *req;
	struct kiocb *iocb;
	struct mm_struct *mm;
	struct iov_iter iter;
	const void *iov;
	struct workqueue_struct *wq;
	struct work_struct work;
	void (*done)(struct csq_kiocb *ck);
};

int csq_kiocb_init(struct csq_kiocb *ck, struct csq_req *req,
		   struct kiocb *iocb, struct iov_iter *iter,
		   struct workqueue_struct *wq,
		   void (*done)(struct csq_kiocb *ck));
bool csq_kiocb_use_mm(struct csq_kiocb *ck);
void csq_kiocb_unuse_mm(struct csq_kiocb *ck);
void csq_kiocb_complete(struct csq_kiocb *ck, long res);

/* Ready-made ops (csq_ops.c). */
extern const struct csq_ops csq_fifo_spin_ops;
extern const struct csq_ops csq_fifo_mutex_ops;

struct csq_req *csq_list_peek_next(struct csq *csq, struct csq_req *req,
				   struct csq_owner *owner);
void csq_complete_canceled(struct csq *csq, struct csq_req *req);

#endif /* _CSQ_H */
