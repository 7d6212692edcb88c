/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM csq

#if !defined(_CSQ_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _CSQ_TRACE_H

#include <linux/tracepoint.h>

#include "csq.h"

DECLARE_EVENT_CLASS(csq_req_class,
		    TP_PROTO(const struct csq *csq, const struct csq_req *req),
		    TP_ARGS(csq, req),
		    TP_STRUCT__entry(__field(const void *, csq)
				     __field(const void *, req)
				     __field(unsigned int, nr_reqs)),
		    TP_fast_assign(__entry->csq = csq;
				   __entry->req = req;
				   __entry->nr_reqs = csq->nr_reqs;),
		    TP_printk("csq=%p req=%p nr_reqs=%u",
			      __entry->csq, __entry->req, __entry->nr_reqs)
);

/* Linked and armed, under the queue lock. */
DEFINE_EVENT(csq_req_class, csq_insert,
	     TP_PROTO(const struct csq *csq, const struct csq_req *req),
	     TP_ARGS(csq, req)
);

/* Claimed by csq_remove_req(), csq_remove_next_req() or csq_flush(). */
DEFINE_EVENT(csq_req_class, csq_claim,
	     TP_PROTO(const struct csq *csq, const struct csq_req *req),
	     TP_ARGS(csq, req)
);

/* Unlinked by the cancel path, before complete_canceled. */
DEFINE_EVENT(csq_req_class, csq_cancel,
	     TP_PROTO(const struct csq *csq, const struct csq_req *req),
	     TP_ARGS(csq, req)
);

TRACE_EVENT(csq_req_complete,
	    TP_PROTO(const struct csq_req *req, int status, size_t information),
	    TP_ARGS(req, status, information),
	    TP_STRUCT__entry(__field(const void *, req)
			     __field(int, status)
			     __field(size_t, information)),
	    TP_fast_assign(__entry->req = req;
			   __entry->status = status;
			   __entry->information = information;),
	    TP_printk("req=%p status=%d information=%zu",
		      __entry->req, __entry->status, __entry->information)
);

#endif /* _CSQ_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE csq_trace
#include <trace/define_trace.h>
