/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/csq: a message stream whose blocking reads are cancel-safe queued
 * requests, cancelled by a signal, by close() and by CSQ_IOC_CANCEL.
 *
 * Every write() is one message of 1 to CSQ_MSG_MAX bytes; every read()
 * returns one whole message.  All opens of the device share one stream.
 * FIONREAD tells the length of the next message (0 if none is kept).
 */
#ifndef _UAPI_LINUX_CSQ_H
#define _UAPI_LINUX_CSQ_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* The longest message, in bytes. */
#define CSQ_MSG_MAX		4096

/* The most bytes a read of a file in fill mode gathers (CSQ_IOC_FILL). */
#define CSQ_FILL_MAX		4096

/* The fastest rate the simulated hardware producer accepts, in Hz. */
#define CSQ_PRODUCER_MAX_HZ	10000

/**
 * struct csq_stats - a snapshot of the device, filled by CSQ_IOC_STATS
 * @pending_reads: blocked reads queued now.
 * @queued_msgs: messages written and not yet read.
 * @completed: reads that returned a message since the module was loaded.
 * @canceled: reads cancelled since load by close(), CSQ_IOC_CANCEL or
 *	teardown: they failed with ECANCELED.
 * @interrupted: reads taken back since load because a signal came: they
 *	failed with EINTR or, under SA_RESTART, were restarted (and then
 *	count again as whatever the restarted read became).
 */
struct csq_stats {
	__u32 pending_reads;
	__u32 queued_msgs;
	__u64 completed;
	__u64 canceled;
	__u64 interrupted;
};

/**
 * struct csq_producer - settings of the simulated hardware producer
 * @rate_hz: messages per second generated from a timer interrupt, at most
 *	CSQ_PRODUCER_MAX_HZ; 0 stops the producer.
 * @flags: must be 0.
 */
struct csq_producer {
	__u32 rate_hz;
	__u32 flags;
};

/**
 * struct csq_uring_cmd - the command of an IORING_OP_URING_CMD on /dev/csq
 * @addr: CSQ_URING_READ: the buffer; CSQ_URING_CANCEL: unused, 0.
 * @len: CSQ_URING_READ: its length; CSQ_URING_CANCEL: 0.
 * @key: CSQ_URING_READ: a name for the read, 0 for none;
 *	CSQ_URING_CANCEL: the name of the reads to cancel, not 0.
 *
 * Fits in the 16 command bytes of a plain SQE.  The commands need a kernel
 * that can cancel them at ring exit (6.7 and later); elsewhere they fail
 * with EOPNOTSUPP.
 */
struct csq_uring_cmd {
	__u64 addr;
	__u32 len;
	__u32 key;
};

#define CSQ_IOC_MAGIC		0xC5

/*
 * Cancel every pending read on this open file; returns how many.  The
 * argument must be 0 (pass it: ioctl(2) reads one whatever the call says).
 */
#define CSQ_IOC_CANCEL		_IO(CSQ_IOC_MAGIC, 1)
#define CSQ_IOC_STATS		_IOR(CSQ_IOC_MAGIC, 2, struct csq_stats)
#define CSQ_IOC_PRODUCER	_IOW(CSQ_IOC_MAGIC, 3, struct csq_producer)

/*
 * Fill mode, 1 or 0, for the reads of this open file: a read then gathers
 * the producer's ticks, back to back, until the next one would not fit in
 * its buffer (at most CSQ_FILL_MAX bytes), as a serial port's read gathers
 * bytes.  A fill read that is cancelled (a signal, close(), CSQ_IOC_CANCEL)
 * returns what it gathered so far, or fails if that is nothing.  Ticks no
 * fill read waits for go to the stream as messages.
 */
#define CSQ_IOC_FILL		_IOW(CSQ_IOC_MAGIC, 4, __u32)

/*
 * The cmd_op of the uring commands: a read queued as a pending request,
 * served in turn with blocking and aio reads, its CQE carrying the bytes
 * read or the errno; and the cancel of the reads named @key on this file,
 * whose CQE carries how many it cancelled (CancelIoEx).
 */
#define CSQ_URING_READ		_IOW(CSQ_IOC_MAGIC, 0x20, struct csq_uring_cmd)
#define CSQ_URING_CANCEL	_IOW(CSQ_IOC_MAGIC, 0x21, struct csq_uring_cmd)

#endif /* _UAPI_LINUX_CSQ_H */
