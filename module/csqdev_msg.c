// SPDX-License-Identifier: GPL-2.0
/*
 * The memory of /dev/csq's messages.
 *
 * Each CPU's writers carve messages out of a page of their own, as network
 * buffers are carved out of page fragments: a write() bumps an offset under
 * its CPU's local lock and takes no shared lock, and consecutive messages
 * share a page,
 * each on cache lines of its own so that a writer filling one does not
 * disturb the reader of the one before.  Every message holds a reference
 * to its page.  A page whose messages have all been read goes onto a short
 * stack of spare pages, as a pipe keeps the page it last emptied: a stream
 * goes round a few warm pages instead of taking fresh ones, which the page
 * allocator zeroes (init_on_alloc is on in distribution kernels).
 *
 * Page memory rather than kmalloc(): the copies from and to user space are
 * copy_page_{from,to}_iter(), as a pipe's, which the bounds of the page
 * make safe, where copying to or from a slab object costs a
 * hardened-usercopy lookup of the object on every call.  Measured as
 * shipped (make bench), kmalloc()ed messages made the device 0.68 to 0.75
 * times as fast as a pipe, carved ones 0.9 to 1.0 times.
 *
 * Page memory is invisible to kmemleak, so the pool counts the pages it
 * holds and warns when it is destroyed with any left unreturned.
 */

#include <linux/align.h>
#include <linux/cache.h>
#include <linux/bug.h>
#include <linux/gfp.h>
#include <linux/local_lock.h>
#include <linux/mm.h>
#include <linux/page_ref.h>
#include <linux/percpu.h>
#include <linux/uio.h>

#include "csq_compat.h"
#include "csqdev_msg.h"

#define CSQDEV_MSG_ALIGN	SMP_CACHE_BYTES
#define CSQDEV_HDR_LEN		offsetof(struct csqdev_msg, data)

/*
 * The references a carver holds on its page: one for each message it may
 * still carve, and one more, so that its page cannot drop to no reference
 * while it still carves.
 */
#define CSQDEV_CARVER_REFS	(PAGE_SIZE / CSQDEV_MSG_ALIGN + 1)

/**
 * struct csqdev_carver - the page one CPU's writers carve messages out of
 * @lock: protects the carver; a writer may sleep, or be preempted on
 *	PREEMPT_RT, only with it released.
 * @page: the page, NULL until the first message.
 * @offset: where in @page the next message goes.
 * @refs: the references on @page that the carver holds and has not yet
 *	given to a message.
 */
struct csqdev_carver {
	local_lock_t lock;	/* protects page, offset, refs */
	struct page *page;
	unsigned int offset;
	unsigned int refs;
};

static struct page *csqdev_alloc_pages(struct csqdev_msg_pool *pool,
				       gfp_t gfp, unsigned int order)
{
	struct page *page = alloc_pages(gfp, order);

	if (page)
		atomic_long_add(1L << order, &pool->pages);
	return page;
}

static void csqdev_free_pages(struct csqdev_msg_pool *pool,
			      struct page *page, unsigned int order)
{
	atomic_long_sub(1L << order, &pool->pages);
	__free_pages(page, order);
}

/*
 * A page nobody holds a reference to any more is ours: keep it as a spare,
 * or free it.  Whoever dropped the last reference calls this; a reference
 * someone else took speculatively and dropped last frees the page through
 * put_page() instead, and it is simply not reused.
 */
static void csqdev_page_release(struct csqdev_msg_pool *pool,
				struct page *page)
{
	init_page_count(page);
	spin_lock(&pool->spare_lock);
	if (pool->nr_spare < CSQDEV_SPARE_PAGES) {
		pool->spare[pool->nr_spare++] = page;
		page = NULL;
	}
	spin_unlock(&pool->spare_lock);
	if (page)
		csqdev_free_pages(pool, page, 0);
}

/*
 * Give @c a page to carve: its own again if every message carved from it
 * has been read, else a spare, else a new one.  Runs under the carver's
 * local lock, which on PREEMPT_RT sleeps and elsewhere keeps preemption
 * off, so a new page is taken without sleeping; false if there is none.
 */
static bool csqdev_carver_refill(struct csqdev_msg_pool *pool,
				 struct csqdev_carver *c)
{
	struct page *page = NULL;

	if (c->page) {
		if (page_ref_sub_and_test(c->page, c->refs)) {
			init_page_count(c->page);
			page = c->page;
		}
		c->page = NULL;
	}
	if (!page) {
		spin_lock(&pool->spare_lock);
		if (pool->nr_spare)
			page = pool->spare[--pool->nr_spare];
		spin_unlock(&pool->spare_lock);
	}
	if (!page)
		page = csqdev_alloc_pages(pool, GFP_NOWAIT | __GFP_NOWARN, 0);
	if (!page)
		return false;
	/* A page on hand holds one reference; the carver makes it all its. */
	page_ref_add(page, CSQDEV_CARVER_REFS - 1);
	c->page = page;
	c->offset = 0;
	c->refs = CSQDEV_CARVER_REFS;
	return true;
}

/* A message of @len bytes in pages of its own. */
static struct csqdev_msg *csqdev_msg_alloc_pages(struct csqdev_msg_pool *pool,
						 size_t len, gfp_t gfp)
{
	unsigned int order = get_order(CSQDEV_HDR_LEN + len);
	struct csqdev_msg *msg;
	struct page *page;

	page = csqdev_alloc_pages(pool, gfp | __GFP_COMP, order);
	if (!page)
		return NULL;
	msg = page_address(page);
	msg->len = len;
	msg->carved = false;
	msg->order = order;
	return msg;
}

/**
 * csqdev_msg_get - a buffer for a message written by a process
 * @pool: the device's pool.
 * @len: the message's length, 1 to %CSQ_MSG_MAX.
 * @gfp: GFP_KERNEL, or GFP_NOWAIT for a write that must not wait.
 *
 * Carved out of this CPU's page if the message fits in a page; in pages of
 * its own if not, or if no page can be had without sleeping.
 *
 * Context: process context; may sleep if @gfp allows.
 * Return: the message, with @len set, or NULL if out of memory.
 */
struct csqdev_msg *csqdev_msg_get(struct csqdev_msg_pool *pool, size_t len,
				  gfp_t gfp)
{
	unsigned int size = ALIGN(CSQDEV_HDR_LEN + len, CSQDEV_MSG_ALIGN);
	struct csqdev_msg *msg = NULL;
	struct csqdev_carver *c;

	if (size <= PAGE_SIZE) {
		local_lock(&pool->carvers->lock);
		c = this_cpu_ptr(pool->carvers);
		if ((c->page && c->offset + size <= PAGE_SIZE) ||
		    csqdev_carver_refill(pool, c)) {
			msg = page_address(c->page) + c->offset;
			c->offset += size;
			c->refs--;
		}
		local_unlock(&pool->carvers->lock);
	}
	if (!msg)
		return csqdev_msg_alloc_pages(pool, len, gfp);
	msg->len = len;
	msg->carved = true;
	return msg;
}
EXPORT_SYMBOL_IF_KUNIT(csqdev_msg_get);

/**
 * csqdev_msg_get_atomic - a buffer for a message made in interrupt context
 * @pool: the device's pool.
 * @len: the message's length, 1 to %CSQ_MSG_MAX.
 *
 * Always in pages of its own: the carvers are not interrupt-safe.
 *
 * Context: any.
 * Return: the message, with @len set, or NULL if out of memory.
 */
struct csqdev_msg *csqdev_msg_get_atomic(struct csqdev_msg_pool *pool,
					 size_t len)
{
	return csqdev_msg_alloc_pages(pool, len, GFP_ATOMIC);
}

/**
 * csqdev_msg_put - done with a message
 * @pool: the pool it came from.
 * @msg: the message.
 *
 * Context: process context for a message from csqdev_msg_get(); any for one
 * from csqdev_msg_get_atomic().
 */
void csqdev_msg_put(struct csqdev_msg_pool *pool, struct csqdev_msg *msg)
{
	struct page *page;

	if (!msg->carved) {
		csqdev_free_pages(pool, virt_to_page(msg), msg->order);
		return;
	}
	page = virt_to_page(msg);
	if (page_ref_dec_and_test(page))
		csqdev_page_release(pool, page);
}
EXPORT_SYMBOL_IF_KUNIT(csqdev_msg_put);

/**
 * csqdev_msg_to_iter - copy a message's bytes out
 * @msg: the message.
 * @to: where to.
 *
 * Context: process context; may fault.
 * Return: whether all @msg->len bytes were copied.
 */
bool csqdev_msg_to_iter(struct csqdev_msg *msg, struct iov_iter *to)
{
	return copy_page_to_iter(virt_to_page(msg->data),
				 offset_in_page(msg->data), msg->len,
				 to) == msg->len;
}

/**
 * csqdev_msg_from_iter - copy a message's bytes in
 * @msg: the message, its @len set.
 * @from: where from.
 *
 * Context: process context; may fault.
 * Return: whether all @msg->len bytes were copied.
 */
bool csqdev_msg_from_iter(struct csqdev_msg *msg, struct iov_iter *from)
{
	return copy_page_from_iter(virt_to_page(msg->data),
				   offset_in_page(msg->data), msg->len,
				   from) == msg->len;
}

/**
 * csqdev_msg_pool_init - set up a device's pool
 * @pool: the pool.
 *
 * Context: process context.
 * Return: 0 or -ENOMEM.
 */
int csqdev_msg_pool_init(struct csqdev_msg_pool *pool)
{
	int cpu;

	pool->carvers = alloc_percpu(struct csqdev_carver);
	if (!pool->carvers)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		local_lock_init(&per_cpu_ptr(pool->carvers, cpu)->lock);
	spin_lock_init(&pool->spare_lock);
	pool->nr_spare = 0;
	atomic_long_set(&pool->pages, 0);
	return 0;
}
EXPORT_SYMBOL_IF_KUNIT(csqdev_msg_pool_init);

/**
 * csqdev_msg_pool_destroy - free a pool
 * @pool: the pool; every message from it has been put.
 *
 * Warns if a page is left over (a message leaked) or one too many came back
 * (a message put twice).
 *
 * Context: process context.
 */
void csqdev_msg_pool_destroy(struct csqdev_msg_pool *pool)
{
	struct csqdev_carver *c;
	int cpu;

	for_each_possible_cpu(cpu) {
		c = per_cpu_ptr(pool->carvers, cpu);
		if (c->page && page_ref_sub_and_test(c->page, c->refs))
			csqdev_page_release(pool, c->page);
	}
	free_percpu(pool->carvers);
	/* The carvers' pages just released among them. */
	while (pool->nr_spare)
		csqdev_free_pages(pool, pool->spare[--pool->nr_spare], 0);
	WARN(atomic_long_read(&pool->pages),
	     "csqdev: %ld message pages not returned\n",
	     atomic_long_read(&pool->pages));
}
EXPORT_SYMBOL_IF_KUNIT(csqdev_msg_pool_destroy);

/**
 * csqdev_msg_pool_pages - how many pages a pool holds
 * @pool: the pool.
 *
 * Context: any.
 * Return: pages taken from the page allocator and not yet given back:
 * those of kept and unread messages, the carvers' and the spares.
 */
long csqdev_msg_pool_pages(struct csqdev_msg_pool *pool)
{
	return atomic_long_read(&pool->pages);
}
EXPORT_SYMBOL_IF_KUNIT(csqdev_msg_pool_pages);
