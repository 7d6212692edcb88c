/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The recording fake of the csq KUnit suites: a queue with its own list and
 * lock that counts every callback, checks the lock balance and that nothing
 * is completed under the lock.
 */
#ifndef _CSQ_FAKE_H
#define _CSQ_FAKE_H

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/lockdep.h>
#include <linux/spinlock.h>

#include "csq.h"

/* Requests per fake queue; deterministic cases use a handful. */
#define CSQ_FAKE_NR_REQS	8

/* How long a case waits for another context before it calls it hung. */
#define CSQ_TEST_TIMEOUT	(10 * HZ)

struct csq_fake;

/**
 * struct csq_test_req - a request as the deterministic cases see it
 * @req: the request under test.
 * @ctx: its context, for csq_remove_req().
 * @fake: the queue it belongs to.
 * @prio: its priority, for the priority queue.
 * @nr_completed: how many times it was completed; 1 is the only right
 *	answer once it has left the queue.
 */
struct csq_test_req {
	struct csq_req req;
	struct csq_req_ctx ctx;
	struct csq_fake *fake;
	unsigned int prio;
	atomic_t nr_completed;
};

/**
 * struct csq_fake - a queue that records what the library does to it
 * @csq: the queue under test.
 * @test: the running test, for the checks made at cleanup.
 * @lock: the queue lock of the fake ops.
 * @pending: the queued requests of the fake ops, in order.
 * @locked: whether @lock is held, set and cleared by the lock callbacks.
 * @nr_insert: calls of @insert.
 * @nr_insert_ex: calls of @insert_ex.
 * @nr_remove: calls of @remove.
 * @nr_peek_next: calls of @peek_next.
 * @nr_acquire: calls of @acquire_lock.
 * @nr_release: calls of @release_lock.
 * @nr_complete_canceled: calls of @complete_canceled.
 * @nr_lock_errors: list callbacks run without the lock, an acquire of a
 *	held lock, a release of a free one.
 * @nr_locked_completions: completions seen with the queue lock held.
 * @nr_linked_completions: cancelled requests completed while still linked
 *	or still associated with their context.
 * @last_insert_ctx: what @insert_ex was last given.
 * @cancel_on_insert: a request that @insert cancels as soon as it has
 *	linked it, before the library arms it.
 * @cancel_on_insert_ret: what that csq_req_cancel() returned.
 * @r: the requests of the queue, alive as long as the queue.
 *
 * The callback counters are written under @lock or, for the ready-made
 * ops, only from the test thread; the error counters from anywhere.
 */
struct csq_fake {
	struct csq csq;
	struct kunit *test;
	spinlock_t lock;	/* protects pending, locked */
	struct list_head pending;
	bool locked;
	unsigned int nr_insert;
	unsigned int nr_insert_ex;
	unsigned int nr_remove;
	unsigned int nr_peek_next;
	unsigned int nr_acquire;
	unsigned int nr_release;
	atomic_t nr_complete_canceled;
	atomic_t nr_lock_errors;
	atomic_t nr_locked_completions;
	atomic_t nr_linked_completions;
	void *last_insert_ctx;
	struct csq_req *cancel_on_insert;
	bool cancel_on_insert_ret;
	struct csq_test_req r[CSQ_FAKE_NR_REQS];
};

static inline struct csq_fake *to_fake(struct csq *csq)
{
	return container_of(csq, struct csq_fake, csq);
}

static inline struct csq_test_req *to_test_req(struct csq_req *req)
{
	return container_of(req, struct csq_test_req, req);
}

/* Whether the current context holds @csq's lock, whatever its type. */
static inline bool csq_test_lock_held(struct csq *csq)
{
#ifdef CONFIG_LOCKDEP
	return lockdep_is_held(csq) == LOCK_STATE_HELD;
#else
	return false;
#endif
}

static inline struct csq_req *csq_fake_req(struct csq_fake *fake, unsigned int i)
{
	return &fake->r[i].req;
}

static inline int csq_fake_insert_req(struct csq_fake *fake, unsigned int i)
{
	return csq_insert_req(&fake->csq, &fake->r[i].req, &fake->r[i].ctx);
}

static inline int csq_fake_nr_completed(struct csq_fake *fake, unsigned int i)
{
	return atomic_read(&fake->r[i].nr_completed);
}

extern const struct csq_ops csq_fake_ops;
extern const struct csq_ops csq_fake_ex_ops;

void csq_fake_check_locked(struct csq_fake *fake);
void csq_fake_insert(struct csq *csq, struct csq_req *req);
int csq_fake_insert_ex(struct csq *csq, struct csq_req *req,
		       void *insert_ctx);
void csq_fake_remove(struct csq *csq, struct csq_req *req);
struct csq_req *csq_fake_peek_next(struct csq *csq, struct csq_req *req,
				   void *peek_ctx);
void csq_fake_acquire_lock(struct csq *csq, unsigned long *flags);
void csq_fake_release_lock(struct csq *csq, unsigned long flags);
void csq_fake_complete_canceled(struct csq *csq, struct csq_req *req);
void csq_test_req_complete(struct csq_req *req);
struct csq_fake *csq_fake_create(struct kunit *test,
				 const struct csq_ops *ops);
csq_cancel_fn_t csq_test_begin_cancel(struct csq_req *req);
void csq_test_end_cancel(struct csq_req *req, csq_cancel_fn_t routine);

#endif /* _CSQ_FAKE_H */
