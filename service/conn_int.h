/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/conn_int.h: inside the connection module, what conn.c (the
 * cycle over epoll) and conn_ring.c (the same cycle over io_uring) share:
 * a connection's fields and the steps of its cycle. Not for the worker.
 */
#ifndef SPC_SRV_CONN_INT_H
#define SPC_SRV_CONN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "service/conn.h"
#include "service/exec_ctx.h"
#include "service/proto.h"

#define SPC_SRV_IN_INITIAL 16384
#define SPC_SRV_OUT_SOFT (256u * 1024) /* a get reply pauses past this */
#define SPC_SRV_OUT_KEEP (64u * 1024)  /* an empty output buffer above this is freed */

struct spc_srv_conn {
	struct spc_srv_src src; /* first: epoll data points here */
	int fd;
	struct spc_srv_conns *set; /* the worker's connections it belongs to */
	char *in;
	size_t in_off, in_len, in_cap;
	uint64_t swallow;        /* input bytes still to discard */
	struct spc_proto_out out;
	size_t out_off;          /* bytes of out already sent */
	struct spc_srv_ctx ctx;
	struct spc_proto_req req; /* the suspended get */
	bool suspended, closing, eof, capped, first;
	bool authed;             /* -Y: authenticated (or no -Y) */
	uint32_t interest;       /* current epoll events */
	uint64_t last_active;    /* unix time of the last progress */
	struct spc_srv_conn *prev, *next;
	/* io_uring only (conn_ring.c) */
	bool rx_busy, tx_busy;   /* a receive, a send queued or in flight */
	bool rx_multi;           /* the receive is multishot (provided buffers) */
	bool rx_cancel;          /* its cancel is queued (suspended, closing) */
	char *held;              /* multishot bytes that came while suspended */
	size_t held_len;
	bool dead;               /* closed, on set->dead until its last completion */
	char *tx;                /* the output the kernel is sending */
	size_t tx_off, tx_len, tx_cap; /* its bytes sent, its bytes, its size */
};

/* Output not handed to the kernel yet. */
static inline size_t spc_srv_conn_pending(const struct spc_srv_conn *c)
{
	return c->out.len - c->out_off;
}

/* conn.c */

/* Parses and executes every complete request in the input buffer.
 * Context: c's worker. */
void spc_srv_conn_process(struct spc_srv_conn *c);
/* Applies one exec result to c: consumed, suspended, closing. Context:
 * c's worker. */
void spc_srv_conn_result(struct spc_srv_conn *c, enum spc_srv_exec r,
			 const struct spc_proto_req *req);
/* Makes room for the next read (compacting, growing the input buffer as
 * far as the longest acceptable request). Returns how many bytes to ask
 * for (at most read_max); 0 when out of memory or past the longest
 * request. Context: c's worker, no receive in flight. */
size_t spc_srv_conn_room(struct spc_srv_conn *c);
/* Gives back buffers a large request or reply grew, once they are empty,
 * so that idle connections cost SPC_SRV_IN_INITIAL bytes each. Context:
 * c's worker, no receive in flight. */
void spc_srv_conn_trim(struct spc_srv_conn *c);
/* Closes c's descriptor and frees it (spc_srv_conn_close has unlinked
 * it). Context: c's worker, nothing of c in a ring. */
void spc_srv_conn_free(struct spc_srv_conn *c);

/* conn_ring.c */

/* Everything a completion does for c: execute what was read (while a
 * send is in flight too), hand the pending output to the kernel, queue
 * the next receive; may close c. Context: c's worker. */
void spc_srv_conn_ring_step(struct spc_srv_conn *c);

/* A closed connection with requests still in its worker's ring: shut
 * down, cancelled, kept on set->dead until its last completion frees it.
 * Context: c's worker. */
void spc_srv_conn_ring_bury(struct spc_srv_conn *c);

#endif /* SPC_SRV_CONN_INT_H */
