/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/conn_ring.c: one connection's cycle over its worker's io_uring
 * (--io uring, io.h), the same steps as conn.c's over epoll.
 *
 * A connection on a ring has at most one receive and one send queued. A
 * receive is kept queued into the free end of the input buffer, so that
 * buffer is compacted or grown only before one is queued. Each completion
 * is parsed and executed as under epoll; the pending output is handed to
 * the kernel as it is (the buffer moves to c->tx) and the connection's
 * next replies go into a buffer of their own meanwhile. Both count
 * against --max-output, so a client that sends and does not read is
 * closed at the cap, as under epoll; a suspended multi-get resumes when
 * both together fall below half the soft limit. Every completion of a
 * batch queues what its connection needs next, and the worker's next wait
 * submits the whole lot -- every connection's reply and next receive --
 * in one system call (worker.c).
 *
 * A connection closed with a request still in the ring keeps its
 * descriptor and buffers: the ring may not have seen the descriptor yet
 * (a queued receive would then find the number reused by the next accept)
 * and writes into the buffers until the request completes. It is shut
 * down, its requests cancelled, and it waits on set->dead for its last
 * completion (or the ring's end) to be freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "service/conn.h"
#include "service/conn_int.h"
#include "service/exec.h"
#include "service/io.h"
#include "service/server.h"

static uint64_t token(struct spc_srv_conn *c, enum spc_srv_ring_op op)
{
	return (uint64_t)(uintptr_t)c | op;
}

/* Output pending: not sent yet, in the kernel's hands or not. */
static size_t ring_pending(const struct spc_srv_conn *c)
{
	return spc_srv_conn_pending(c) + (c->tx_len - c->tx_off);
}

static void send_rest(struct spc_srv_conn *c)
{
	c->tx_busy = true;
	c->set->ring_sends++;
	spc_srv_ring_send(c->set->ring, c->fd, c->tx + c->tx_off, c->tx_len - c->tx_off,
			  token(c, SPC_RING_SEND));
}

/* Hands the pending output to the kernel; replies go on into the spare
 * buffer (the last send's, kept when small). */
static void send_pending(struct spc_srv_conn *c)
{
	char *spare = c->tx;
	size_t spare_cap = c->tx_cap;

	c->tx = c->out.data;
	c->tx_cap = c->out.cap;
	c->tx_off = c->out_off;
	c->tx_len = c->out.len;
	c->out.data = spare;
	c->out.cap = spare_cap;
	c->out.len = c->out_off = 0;
	send_rest(c);
}

void spc_srv_conn_ring_step(struct spc_srv_conn *c)
{
	if (c->suspended) {
		if (ring_pending(c) <= c->ctx.out_soft / 2) {
			spc_srv_conn_result(c, spc_srv_exec(&c->ctx, &c->req), &c->req);
			if (!c->suspended && !c->closing)
				spc_srv_conn_process(c);
		}
	} else if (!c->closing) {
		spc_srv_conn_process(c);
	}
	if (c->capped)
		goto close; /* a reply passed the output cap */
	if (spc_srv_conn_pending(c) > 0 && !c->tx_busy)
		send_pending(c);
	if ((c->closing || c->eof) && !c->suspended && ring_pending(c) == 0)
		goto close;
	if (!c->rx_busy && !c->suspended && !c->closing && !c->eof) {
		size_t want;

		spc_srv_conn_trim(c);
		want = spc_srv_conn_room(c);
		if (want == 0)
			goto close;
		c->rx_busy = true;
		spc_srv_ring_recv(c->set->ring, c->fd, c->in + c->in_len, want,
				  token(c, SPC_RING_RECV));
	}
	return;
close:
	if (c->capped) {
		spc_srv_count(&c->set->t->cnt.conns_closed_output, 1);
		spc_srv_log(c->set->srv, SPC_SRV_LOG_INFO, "closing a connection: output over %zu bytes",
			    c->set->srv->opt.out_max);
	}
	spc_srv_conn_close(c);
}

void spc_srv_conn_ring_bury(struct spc_srv_conn *c)
{
	struct spc_srv_conns *set = c->set;

	c->dead = true;
	shutdown(c->fd, SHUT_RDWR);
	if (c->rx_busy)
		spc_srv_ring_cancel(set->ring, token(c, SPC_RING_RECV));
	if (c->tx_busy)
		spc_srv_ring_cancel(set->ring, token(c, SPC_RING_SEND));
	c->prev = NULL;
	c->next = set->dead;
	if (set->dead)
		set->dead->prev = c;
	set->dead = c;
}

static void unbury(struct spc_srv_conn *c)
{
	struct spc_srv_conns *set = c->set;

	if (c->prev)
		c->prev->next = c->next;
	else
		set->dead = c->next;
	if (c->next)
		c->next->prev = c->prev;
	spc_srv_conn_free(c);
}

void spc_srv_conns_ring_done(struct spc_srv_conns *set, uint64_t tok, int res)
{
	unsigned op = (unsigned)(tok & SPC_RING_OP_MASK);
	struct spc_srv_conn *c = (struct spc_srv_conn *)(uintptr_t)(tok & ~(uint64_t)SPC_RING_OP_MASK);

	if (op != SPC_RING_RECV && op != SPC_RING_SEND)
		return; /* a cancel's own completion (c may be gone) */
	if (op == SPC_RING_RECV)
		c->rx_busy = false;
	else
		c->tx_busy = false;
	if (c->dead) {
		if (!c->rx_busy && !c->tx_busy)
			unbury(c);
		return;
	}
	c->ctx.now = spc_srv_now();
	if (res == -EINTR || res == -EAGAIN) {
		/* nothing moved: queued again below */
	} else if (res < 0) {
		spc_srv_conn_close(c);
		return;
	} else if (op == SPC_RING_RECV && res == 0) {
		c->eof = true;
	} else if (op == SPC_RING_RECV) {
		c->in_len += (size_t)res;
		set->ring_recvs++;
		c->last_active = c->ctx.now;
		spc_srv_count(&set->t->cnt.bytes_read, (uint64_t)res);
	} else {
		c->tx_off += (size_t)res;
		c->last_active = c->ctx.now;
		spc_srv_count(&set->t->cnt.bytes_written, (uint64_t)res);
	}
	if (op == SPC_RING_SEND && c->tx_off < c->tx_len) {
		send_rest(c); /* a short send: the rest, before anything newer */
	} else if (op == SPC_RING_SEND) {
		c->tx_off = c->tx_len = 0;
		if (c->tx_cap > SPC_SRV_OUT_KEEP) { /* a large reply's buffer goes back */
			free(c->tx);
			c->tx = NULL;
			c->tx_cap = 0;
		}
	}
	spc_srv_conn_ring_step(c);
}

void spc_srv_conns_ring_free(struct spc_srv_conns *set)
{
	while (set->dead)
		unbury(set->dead);
}
