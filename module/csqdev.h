/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of csqdev share: the device, its open files, its parked
 * reads, and the message stream between them (csqdev_stream.c).
 */
#ifndef _CSQDEV_H
#define _CSQDEV_H

#include <linux/fs.h>
#include <linux/hrtimer.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>

#include "csq.h"
#include "csqdev_msg.h"

/* The closes of one file a read on its way in can tell apart by owner. */
#define CSQDEV_CLOSERS		4

/**
 * struct csqdev - the device; all its opens share one message stream
 * @misc: the misc device /dev/csq.
 * @csq: the parked reads, oldest first (&struct csqdev_read).
 * @lock: protects @msgs, @nr_msgs, @kept_bytes, @next_seq and every
 *	&csqdev_file.closes; makes "hand the message to a parked read, else
 *	keep it" atomic against "take a kept message, else park"; taken
 *	outside the queue lock of @csq.
 * @msgs: messages written while no read could take them, in stream order.
 * @nr_msgs: length of @msgs; read without @lock by poll and the stats.
 * @kept_bytes: the bytes of the messages in @msgs.
 * @next_seq: the place in the stream of the next message written.
 * @read_wq: pollers waiting for a message in @msgs.
 * @write_wq: writers and pollers waiting for room in @msgs.
 * @counts: what became of reads, counted on each CPU: the count is the sum.
 * @pool: the memory of the messages.
 * @producer_lock: serialises changes of the producer's rate.
 * @producer: the timer of the simulated hardware producer.
 * @producer_period: its period; written only while @producer is stopped.
 * @producer_ticks: messages it generated; used only by its callback.
 * @producer_hz: its rate, 0 when off (module parameter producer_hz).
 * @capacity: the bytes @msgs keeps (module parameter capacity).
 * @debugfs: the device's directory in debugfs.
 * @read_delay_us: how long a read waits between its entry and its look at
 *	the stream; 0, or set through debugfs by tests of a close() racing a
 *	read on its way in.
 * @wq: where asynchronous reads are completed (csqdev_async.c).
 * @fill_csq: the reads of files in fill mode, waiting for the producer
 *	(&struct csqdev_fill_read).
 * @fill_lock: protects @filling; taken outside the queue lock of @fill_csq.
 * @filling: the fill read the producer is filling, taken off @fill_csq and
 *	marked cancelable; NULL when none is.
 */
struct csqdev {
	struct miscdevice misc;
	struct csq csq;
	spinlock_t lock; /* protects msgs, nr_msgs, kept_bytes, next_seq, closes */
	struct list_head msgs;
	unsigned int nr_msgs;
	size_t kept_bytes;
	u64 next_seq;
	wait_queue_head_t read_wq;
	wait_queue_head_t write_wq;
	struct csqdev_counts __percpu *counts;
	struct csqdev_msg_pool pool;
	struct mutex producer_lock; /* protects producer_hz, producer_period */
	struct hrtimer producer;
	ktime_t producer_period;
	u64 producer_ticks;
	unsigned int producer_hz;
	unsigned int capacity;
	struct dentry *debugfs;
	u32 read_delay_us;
	struct workqueue_struct *wq;
	struct csq fill_csq;
	spinlock_t fill_lock; /* protects filling */
	struct csqdev_fill_read *filling;
};

/**
 * struct csqdev_counts - what became of reads, on one CPU
 * @completed: reads that returned a message.
 * @canceled: reads cancelled by close(), CSQ_IOC_CANCEL or teardown.
 * @interrupted: reads taken back because of a signal.
 */
struct csqdev_counts {
	u64 completed;
	u64 canceled;
	u64 interrupted;
};

/**
 * struct csqdev_file - one open file of the device
 * @dev: the device.
 * @reads: the reads parked through this file, so that its close() and its
 *	CSQ_IOC_CANCEL walk them alone and not every parked read.
 * @closes: how many times the file was closed (->flush), under
 *	&csqdev.lock; a read compares it with what it saw on its way in.
 * @closers: the owners (file tables) of the last %CSQDEV_CLOSERS closes,
 *	the one numbered n at n % %CSQDEV_CLOSERS.
 * @fill_reads: the fill reads parked through this file.
 * @fill: whether its reads are fill reads (CSQ_IOC_FILL).
 */
struct csqdev_file {
	struct csqdev *dev;
	struct csq_owner reads;
	unsigned long closes;
	fl_owner_t closers[CSQDEV_CLOSERS];
	struct csq_owner fill_reads;
	bool fill;
};

/**
 * struct csqdev_read - a parked read
 * @req: the request parked in &csqdev.csq; @req.owner is &csqdev_file.reads
 *	of the open file it was made on.
 * @ctx: lets the reader take @req back when a signal interrupts it.
 * @files: the file table of the reading process, which close() matches.
 * @size: the most bytes the read can take.
 * @key: what a cancel of one request names it by (the key of a uring
 *	command), 0 if none.
 * @prepared: whether @req is set up (csqdev_read_prepare()).
 * @node: where the writer keeps it between taking it off the queue and
 *	completing it.
 * @msg: the message handed over; valid once @req completed with status 0.
 *
 * On the reader's stack for a blocking read; for an asynchronous one, in
 * what binds it to its completion (csqdev_async.c).
 */
struct csqdev_read {
	struct csq_req req;
	struct csq_req_ctx ctx;
	fl_owner_t files;
	size_t size;
	u64 key;
	bool prepared;
	struct list_head node;
	struct csqdev_msg *msg;
};

/**
 * struct csqdev_fill_read - a read of a file in fill mode
 * @req: its request, in &csqdev.fill_csq until the producer takes it;
 *	@req.owner is &csqdev_file.fill_reads of its file.
 * @ctx: lets the reader take @req back while it is queued.
 * @files: the file table of the reading process, which close() matches.
 * @buf: what the ticks are gathered into.
 * @size: the bytes @buf holds.
 * @filled: the bytes gathered so far; under &csqdev.fill_lock.
 * @node: where the producer keeps it between finishing and completing it.
 */
struct csqdev_fill_read {
	struct csq_req req;
	struct csq_req_ctx ctx;
	fl_owner_t files;
	char *buf;
	size_t size;
	size_t filled;
	struct list_head node;
};

/**
 * struct csqdev_peek - which parked reads a sweep cancels
 * @reads: only reads on this open file (its &csqdev_file.reads).
 * @files: if not NULL, only reads by the process with this file table.
 * @key: if not 0, only reads with this &csqdev_read.key.
 */
struct csqdev_peek {
	struct csq_owner *reads;
	fl_owner_t files;
	u64 key;
};

int csqdev_stream_init(struct csqdev *dev);
void csqdev_stream_destroy(struct csqdev *dev);
int csqdev_post(struct csqdev *dev, struct csqdev_msg *msg, bool requeue);
void csqdev_read_init(struct csqdev_read *rd, size_t size);
void csqdev_read_prepare(struct csqdev_read *rd, struct csqdev_file *cf);
struct csqdev_msg *csqdev_take_or_park(struct csqdev_file *cf,
				       struct csqdev_read *rd,
				       unsigned long closes, bool nowait);
ssize_t csqdev_msg_consume(struct csqdev *dev, struct csqdev_msg *msg,
			   struct iov_iter *to);
bool csqdev_writable(struct csqdev *dev, size_t len);
void csqdev_wake(wait_queue_head_t *wq);
unsigned int csqdev_close(struct csqdev_file *cf, fl_owner_t id);
bool csqdev_closed_since(struct csqdev_file *cf, unsigned long closes);
unsigned int csqdev_cancel_reads(struct csqdev_file *cf);
int csqdev_next_len(struct csqdev *dev);

int csqdev_fill_init(struct csqdev *dev);
void csqdev_fill_destroy(struct csqdev *dev);
bool csqdev_fill_offer(struct csqdev *dev, const char *data, size_t len);
ssize_t csqdev_fill_read(struct csqdev_file *cf, struct iov_iter *to,
			 unsigned long closes);
unsigned int csqdev_fill_close(struct csqdev_file *cf, fl_owner_t id);

ssize_t csqdev_aio_read(struct csqdev_file *cf, struct kiocb *iocb,
			struct iov_iter *to, unsigned long closes);

#endif /* _CSQDEV_H */
