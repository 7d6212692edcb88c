/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The messages of /dev/csq and the memory they live in.
 */
#ifndef _CSQDEV_MSG_H
#define _CSQDEV_MSG_H

#include <linux/atomic.h>
#include <linux/gfp_types.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>

struct iov_iter;
struct page;

/**
 * struct csqdev_msg - one message, its header followed by its bytes
 * @node: link in the device's list of kept messages.
 * @seq: its place in the stream, given when it is first posted: a message
 *	that goes back into the stream goes back to its place.
 * @len: length of @data, 1 to %CSQ_MSG_MAX.
 * @carved: whether it shares a page with other messages; else it has pages
 *	of its own.
 * @order: for pages of its own, their compound order.
 * @data: the bytes written.
 */
struct csqdev_msg {
	struct list_head node;
	u64 seq;
	size_t len;
	bool carved;
	unsigned int order;
	char data[];
};

#define CSQDEV_SPARE_PAGES	8

struct csqdev_carver;

/**
 * struct csqdev_msg_pool - where one device's messages come from
 * @carvers: for each CPU, the page that writers on it carve messages out of,
 *	under its own local lock.
 * @spare_lock: protects @spare and @nr_spare; process context only.
 * @spare: pages whose messages have all been read, kept for the carvers.
 * @nr_spare: how many of @spare are there.
 * @pages: pages the pool took from the page allocator and has not given
 *	back; kmemleak cannot see page memory, so this is what tells a leak.
 */
struct csqdev_msg_pool {
	struct csqdev_carver __percpu *carvers;
	spinlock_t spare_lock;	/* protects spare, nr_spare */
	struct page *spare[CSQDEV_SPARE_PAGES];
	unsigned int nr_spare;
	atomic_long_t pages;
};

int csqdev_msg_pool_init(struct csqdev_msg_pool *pool);
void csqdev_msg_pool_destroy(struct csqdev_msg_pool *pool);
long csqdev_msg_pool_pages(struct csqdev_msg_pool *pool);
struct csqdev_msg *csqdev_msg_get(struct csqdev_msg_pool *pool, size_t len,
				  gfp_t gfp);
struct csqdev_msg *csqdev_msg_get_atomic(struct csqdev_msg_pool *pool,
					 size_t len);
void csqdev_msg_put(struct csqdev_msg_pool *pool, struct csqdev_msg *msg);
bool csqdev_msg_to_iter(struct csqdev_msg *msg, struct iov_iter *to);
bool csqdev_msg_from_iter(struct csqdev_msg *msg, struct iov_iter *from);

#endif /* _CSQDEV_MSG_H */
