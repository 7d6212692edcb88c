// SPDX-License-Identifier: GPL-2.0
/*
 * csq_bench: what the csq library costs, in nanoseconds per operation.
 *
 * Loading the module measures and prints; it keeps nothing afterwards but
 * its code, and unloading frees that.  Each figure is set against an anchor
 * measured in the same round, and each printed value is the median of
 * @rounds rounds:
 *
 *   insert-remove    csq_insert_req() + csq_remove_next_req() on an empty
 *                    queue with the library's own lists and lock
 *                    (csq_fifo_spin_ops) and a request with no owner,
 *                    against the list operations they do under a
 *                    spinlock taken with irqsave; insert-remove-owner the
 *                    same for a request with an owner, whose insert and
 *                    remove touch two lists, against the bare ops on two
 *                    lists;
 *                    for the record, insert-remove-floor: the bare ops
 *                    plus the two exchanges of the cancel routine that
 *                    insert and remove cannot do without (rule 1 and 2),
 *                    against the bare ops;
 *   cancel-dD        csq_req_cancel() of the newest request in a queue of D
 *                    requests, against the same in a queue of one;
 *   sweep-NN         csq_flush() with a peek context that selects one
 *                    owner's 10 requests while N requests of another owner
 *                    wait, against the same with N = 1.
 *
 * Single operations (cancel, sweep) are timed one by one; each round's
 * value is the median of its operations less the median cost of reading
 * the clock twice.  The output lines are those of userspace/csq_bench.c:
 *
 *   CSQ-BENCH <id> ns <csq> <anchor> <le|ge> <goal> <what>
 *
 * This is no test: nothing here judges a time.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/errno.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/spinlock.h>
#include <linux/vmalloc.h>

#include "csq.h"

#define CSQ_BENCH_MAX_ROUNDS	64
#define CSQ_BENCH_PAIRS		20000
#define CSQ_BENCH_CANCELS	1000
#define CSQ_BENCH_SWEEPS	50
#define CSQ_BENCH_SWEEP_K	10
#define CSQ_BENCH_DEEP		100000

static unsigned int rounds = 7;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "Rounds per figure; each figure is their median (default 7)");

/**
 * struct csq_bench - the state of one run
 * @csq: the queue under test, initialised anew for each figure.
 * @closer: the owner whose requests a sweep cancels (the closing file).
 * @others: the owner of every other request.
 * @reqs: @nr_reqs requests: the background first, then the measured ones.
 * @nr_reqs: length of @reqs.
 * @samples: one round's times of single operations, in ns.
 * @clock_ns: the median cost of two ktime_get_ns() calls, in ns.
 * @bare_lock: the lock of the bare list operations.
 * @bare_list: their list.
 * @bare_list2: their second list, standing for an owner's.
 */
struct csq_bench {
	struct csq csq;
	struct csq_owner closer;
	struct csq_owner others;
	struct csq_req *reqs;
	unsigned int nr_reqs;
	u64 *samples;
	u64 clock_ns;
	spinlock_t bare_lock; /* protects bare_list, bare_list2 */
	struct list_head bare_list;
	struct list_head bare_list2;
};

static int csq_bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return (x > y) - (x < y);
}

static u64 csq_bench_median(u64 *v, unsigned int n)
{
	sort(v, n, sizeof(*v), csq_bench_cmp_u64, NULL);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median of a round's single operations, net of reading the clock. */
static u64 csq_bench_net(struct csq_bench *b, unsigned int n)
{
	u64 m = csq_bench_median(b->samples, n);

	return m > b->clock_ns ? m - b->clock_ns : 0;
}

static int csq_bench_setup(struct csq_bench *b, const struct csq_ops *ops)
{
	csq_owner_init(&b->closer);
	csq_owner_init(&b->others);
	return csq_init(&b->csq, ops);
}

static void csq_bench_print(const char *id, u64 *csq, u64 *anchor,
			    const char *goal, const char *what)
{
	unsigned int i;

	for (i = 0; i < rounds; i++)
		pr_info("CSQ-BENCH-ROUND %s %u %llu %llu\n", id, i + 1, csq[i],
			anchor[i]);
	pr_info("CSQ-BENCH %s ns %llu %llu %s %s\n", id,
		csq_bench_median(csq, rounds), csq_bench_median(anchor, rounds),
		goal, what);
}

static void csq_bench_clock(struct csq_bench *b)
{
	unsigned int i;
	u64 t0;

	for (i = 0; i < CSQ_BENCH_CANCELS; i++) {
		t0 = ktime_get_ns();
		b->samples[i] = ktime_get_ns() - t0;
	}
	b->clock_ns = csq_bench_median(b->samples, CSQ_BENCH_CANCELS);
	pr_info("# reading the clock twice: %llu ns, taken off single operations\n",
		b->clock_ns);
}

static u64 csq_bench_insert_remove(struct csq_bench *b)
{
	struct csq_req *req = &b->reqs[0];
	unsigned int i;
	u64 t0;

	t0 = ktime_get_ns();
	for (i = 0; i < CSQ_BENCH_PAIRS; i++) {
		/* Claimed, not completed: fit to be inserted again as it is. */
		csq_insert_req(&b->csq, req, NULL);
		if (csq_remove_next_req(&b->csq, NULL) != req)
			return 0;
	}
	t0 = (ktime_get_ns() - t0) / CSQ_BENCH_PAIRS;
	/* The queue accounts for it until it is completed. */
	csq_req_complete(req, 0, 0);
	csq_req_reinit(req);
	return t0;
}

/* Armed by the bare ops of insert-remove-floor, never called. */
static void csq_bench_routine(struct csq_req *req, unsigned long irqflags)
{
}

/*
 * What the library's lists do for an insert and a remove_next, bare; with
 * @two, for a request with an owner; with @exchange, also the exchanges
 * that arm the request on insert and claim it on remove.
 */
static u64 csq_bench_bare_list(struct csq_bench *b, bool two, bool exchange)
{
	csq_cancel_fn_t *routine = &b->reqs[0].cancel_routine;
	bool canceled = false;
	struct list_head *entry = &b->reqs[0].entry;
	struct list_head *entry2 = &b->reqs[0].owner_entry;
	struct list_head *first;
	unsigned long flags;
	unsigned int i;
	u64 t0;

	t0 = ktime_get_ns();
	for (i = 0; i < CSQ_BENCH_PAIRS; i++) {
		spin_lock_irqsave(&b->bare_lock, flags);
		list_add_tail(entry, &b->bare_list);
		if (two)
			list_add_tail(entry2, &b->bare_list2);
		if (exchange) {
			xchg(routine, csq_bench_routine);
			canceled = test_bit(CSQ_REQ_CANCEL, &b->reqs[0].flags);
		}
		spin_unlock_irqrestore(&b->bare_lock, flags);
		if (canceled)
			return 0;

		spin_lock_irqsave(&b->bare_lock, flags);
		first = list_empty(&b->bare_list) ? NULL : b->bare_list.next;
		if (first && exchange && !xchg(routine, NULL))
			first = NULL;
		if (first) {
			list_del_init(first);
			if (two)
				list_del_init(entry2);
		}
		spin_unlock_irqrestore(&b->bare_lock, flags);
		if (first != entry)
			return 0;
	}
	return (ktime_get_ns() - t0) / CSQ_BENCH_PAIRS;
}

/*
 * insert + remove_next against the bare ops; with @floor_id, also the bare
 * ops with the two exchanges against the bare ops, for the record.
 */
static int csq_bench_fig_insert_remove(struct csq_bench *b, bool two,
				       const char *id, const char *what,
				       const char *floor_id)
{
	u64 csq[CSQ_BENCH_MAX_ROUNDS], bare[CSQ_BENCH_MAX_ROUNDS];
	u64 floor[CSQ_BENCH_MAX_ROUNDS];
	unsigned int r;
	int ret;

	ret = csq_bench_setup(b, &csq_fifo_spin_ops);
	if (ret)
		return ret;
	csq_req_init(&b->reqs[0]);
	b->reqs[0].owner = two ? &b->others : NULL;
	for (r = 0; r < rounds; r++) {
		csq[r] = csq_bench_insert_remove(b);
		bare[r] = csq_bench_bare_list(b, two, false);
		if (floor_id)
			floor[r] = csq_bench_bare_list(b, two, true);
		cond_resched();
	}
	csq_destroy(&b->csq);
	csq_bench_print(id, csq, bare, "le 1.50", what);
	if (floor_id)
		csq_bench_print(floor_id, floor, bare, "info -",
				"bare list ops plus the two cancel-routine exchanges vs bare ops");
	return 0;
}

/* Queue @n requests of owner @owner from @reqs[@first] on. */
static int csq_bench_fill(struct csq_bench *b, unsigned int first,
			  unsigned int n, struct csq_owner *owner)
{
	struct csq_req *req;
	unsigned int i;
	int ret;

	for (i = first; i < first + n; i++) {
		req = &b->reqs[i];
		csq_req_init(req);
		req->owner = owner;
		ret = csq_insert_req(&b->csq, req, NULL);
		if (ret)
			return ret;
	}
	return 0;
}

static void csq_bench_drain(struct csq_bench *b)
{
	csq_flush(&b->csq, NULL);
	cond_resched();
}

/* Median ns of cancelling the newest request of a queue @depth deep. */
static u64 csq_bench_cancel(struct csq_bench *b, unsigned int depth)
{
	struct csq_req *req = &b->reqs[depth - 1];
	unsigned int i;
	u64 t0;

	if (csq_bench_fill(b, 0, depth - 1, &b->others))
		return 0;
	csq_req_init(req);
	req->owner = &b->closer;
	for (i = 0; i < CSQ_BENCH_CANCELS; i++) {
		csq_req_reinit(req);
		if (csq_insert_req(&b->csq, req, NULL))
			return 0;
		t0 = ktime_get_ns();
		csq_req_cancel(req);
		b->samples[i] = ktime_get_ns() - t0;
	}
	csq_bench_drain(b);
	return csq_bench_net(b, CSQ_BENCH_CANCELS);
}

static int csq_bench_fig_cancel(struct csq_bench *b)
{
	u64 d1[CSQ_BENCH_MAX_ROUNDS], d1k[CSQ_BENCH_MAX_ROUNDS];
	u64 deep[CSQ_BENCH_MAX_ROUNDS];
	unsigned int r;
	int ret;

	ret = csq_bench_setup(b, &csq_fifo_spin_ops);
	if (ret)
		return ret;
	for (r = 0; r < rounds; r++) {
		d1[r] = csq_bench_cancel(b, 1);
		d1k[r] = csq_bench_cancel(b, 1000);
		deep[r] = csq_bench_cancel(b, CSQ_BENCH_DEEP);
	}
	csq_destroy(&b->csq);
	csq_bench_print("cancel-d1000", d1k, d1, "le 1.50",
			"cancel at depth 1,000 vs depth 1");
	csq_bench_print("cancel-d100000", deep, d1, "le 1.50",
			"cancel at depth 100,000 vs depth 1");
	return 0;
}

/*
 * Median ns of csq_flush() of one owner's 10 requests, queued after @n
 * requests of another owner.
 */
static u64 csq_bench_sweep(struct csq_bench *b, unsigned int n)
{
	unsigned int i;
	u64 t0;

	if (csq_bench_fill(b, 0, n, &b->others))
		return 0;
	for (i = 0; i < CSQ_BENCH_SWEEPS; i++) {
		if (csq_bench_fill(b, n, CSQ_BENCH_SWEEP_K, &b->closer))
			return 0;
		t0 = ktime_get_ns();
		if (csq_flush(&b->csq, &b->closer) !=
		    CSQ_BENCH_SWEEP_K)
			return 0;
		b->samples[i] = ktime_get_ns() - t0;
	}
	csq_bench_drain(b);
	return csq_bench_net(b, CSQ_BENCH_SWEEPS);
}

static int csq_bench_fig_sweep(struct csq_bench *b)
{
	u64 n1[CSQ_BENCH_MAX_ROUNDS], deep[CSQ_BENCH_MAX_ROUNDS];
	unsigned int r;
	int ret;

	ret = csq_bench_setup(b, &csq_fifo_spin_ops);
	if (ret)
		return ret;
	for (r = 0; r < rounds; r++) {
		n1[r] = csq_bench_sweep(b, 1);
		deep[r] = csq_bench_sweep(b, CSQ_BENCH_DEEP);
	}
	csq_destroy(&b->csq);
	csq_bench_print("sweep-N100000", deep, n1, "le 1.50",
			"close sweep of k=10 with N=100,000 others vs N=1");
	return 0;
}

static int csq_bench_run(struct csq_bench *b)
{
	int ret;

	ret = csq_bench_fig_insert_remove(b, false, "insert-remove",
					  "insert + remove_next vs bare list ops under a spinlock",
					  "insert-remove-floor");
	if (ret)
		return ret;
	ret = csq_bench_fig_insert_remove(b, true, "insert-remove-owner",
					  "the same with owner lists vs bare ops on two lists",
					  NULL);
	if (ret)
		return ret;
	ret = csq_bench_fig_cancel(b);
	if (ret)
		return ret;
	return csq_bench_fig_sweep(b);
}

static int __init csq_bench_init(void)
{
	struct csq_bench *b;
	int ret;

	if (!rounds || rounds > CSQ_BENCH_MAX_ROUNDS)
		return -EINVAL;

	b = kzalloc(sizeof(*b), GFP_KERNEL);
	if (!b)
		return -ENOMEM;
	b->nr_reqs = CSQ_BENCH_DEEP + CSQ_BENCH_SWEEP_K;
	b->reqs = vmalloc_array(b->nr_reqs, sizeof(*b->reqs));
	if (!b->reqs) {
		ret = -ENOMEM;
		goto free_bench;
	}
	b->samples = kmalloc_array(CSQ_BENCH_CANCELS, sizeof(*b->samples),
				   GFP_KERNEL);
	if (!b->samples) {
		ret = -ENOMEM;
		goto free_reqs;
	}
	spin_lock_init(&b->bare_lock);
	INIT_LIST_HEAD(&b->bare_list);
	INIT_LIST_HEAD(&b->bare_list2);

	pr_info("# csq_bench: %u rounds\n", rounds);
	csq_bench_clock(b);
	ret = csq_bench_run(b);

	kfree(b->samples);
free_reqs:
	vfree(b->reqs);
free_bench:
	kfree(b);
	return ret;
}
module_init(csq_bench_init);

static void __exit csq_bench_exit(void)
{
}
module_exit(csq_bench_exit);

MODULE_DESCRIPTION("Benchmark of the cancel-safe request queue library");
MODULE_LICENSE("GPL");
