/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/conn_ring.c: one connection's cycle over its worker's io_uring
 * (--io uring, io.h), the same steps as conn.c's over epoll.
 *
 * A connection on a ring has at most one receive and one send queued.
 * The receive is multishot where the ring has provided buffers (io.h):
 * armed once, it completes with each arrival of data, copied into the
 * input buffer; it is stopped (cancelled) while the connection wants no
 * input -- a suspended get, closing -- as epoll stops asking, and armed
 * again when the kernel ends it (end of file, no buffer free, its own
 * reasons). While a get is suspended its keys point into the input
 * buffer, which must not move: what arrives before the cancel takes
 * effect and does not fit its free end waits in c->held until the get is
 * done. Without provided buffers the receive is one-shot into the free
 * end of the input buffer, which is then compacted or grown only before
 * one is queued. Each completion
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

/* Appends n received bytes to the input buffer. While a get is
 * suspended its keys point into that buffer, which must not move: bytes
 * that do not fit its free end wait in c->held. Returns false when out
 * of memory or past the longest request the parser takes. */
static bool take_held(struct spc_srv_conn *c);

static bool take_in(struct spc_srv_conn *c, const char *p, size_t n)
{
	/* Bytes held earlier come first. */
	if (!c->suspended && c->held_len > 0 && !take_held(c))
		return false;
	while (n > 0) {
		size_t room = c->in_cap - c->in_len, k;

		if (c->suspended && (c->held_len > 0 || room < n)) {
			char *h = realloc(c->held, c->held_len + n);

			if (!h)
				return false;
			memcpy(h + c->held_len, p, n);
			c->held = h;
			c->held_len += n;
			return true;
		}
		if (!c->suspended)
			room = spc_srv_conn_room(c);
		if (room == 0)
			return false;
		k = room < n ? room : n;
		memcpy(c->in + c->in_len, p, k);
		c->in_len += k;
		p += k;
		n -= k;
	}
	return true;
}

/* The bytes held while a get was suspended go into the input buffer. */
static bool take_held(struct spc_srv_conn *c)
{
	char *h = c->held;
	size_t n = c->held_len;
	bool ok;

	c->held = NULL;
	c->held_len = 0;
	ok = take_in(c, h, n);
	free(h);
	return ok;
}

/* Queues c's next receive: multishot into the ring's provided buffers
 * when it has them, else one-shot into the free end of the input
 * buffer. Returns false when the input buffer cannot take more. */
static bool recv_arm(struct spc_srv_conn *c)
{
	struct spc_srv_ring *ring = c->set->ring;
	size_t want;

	c->rx_busy = true;
	c->rx_multi = spc_srv_ring_multishot(ring);
	if (c->rx_multi) {
		spc_srv_ring_recv_multi(ring, c->fd, token(c, SPC_RING_RECV));
		return true;
	}
	spc_srv_conn_trim(c);
	want = spc_srv_conn_room(c);
	if (want == 0) {
		c->rx_busy = false;
		return false;
	}
	spc_srv_ring_recv(ring, c->fd, c->in + c->in_len, want, token(c, SPC_RING_RECV));
	return true;
}

void spc_srv_conn_ring_step(struct spc_srv_conn *c)
{
	bool want_in;

	if (c->suspended && ring_pending(c) <= c->ctx.out_soft / 2)
		spc_srv_conn_result(c, spc_srv_exec(&c->ctx, &c->req), &c->req);
	if (!c->suspended && c->held_len > 0 && !take_held(c))
		goto close;
	if (!c->suspended && !c->closing)
		spc_srv_conn_process(c);
	if (c->capped)
		goto close; /* a reply passed the output cap */
	if (spc_srv_conn_pending(c) > 0 && !c->tx_busy)
		send_pending(c);
	if ((c->closing || c->eof) && !c->suspended && ring_pending(c) == 0)
		goto close;
	want_in = !c->suspended && !c->closing && !c->eof;
	if (!c->rx_busy && want_in && !recv_arm(c))
		goto close;
	if (c->rx_busy && c->rx_multi && !want_in && !c->rx_cancel) {
		/* A multishot receive stays armed: stop it while nothing is
		 * read (a suspended get, closing), as epoll stops asking. */
		c->rx_cancel = true;
		spc_srv_ring_cancel(c->set->ring, token(c, SPC_RING_RECV));
	}
	if (c->rx_multi && !c->suspended)
		spc_srv_conn_trim(c); /* the kernel does not write into c->in */
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

void spc_srv_conns_ring_done(struct spc_srv_conns *set, const struct spc_srv_ring_cqe *cqe)
{
	uint64_t tok = cqe->token;
	unsigned op = (unsigned)(tok & SPC_RING_OP_MASK);
	struct spc_srv_conn *c = (struct spc_srv_conn *)(uintptr_t)(tok & ~(uint64_t)SPC_RING_OP_MASK);
	int res = cqe->res;

	if (op != SPC_RING_RECV && op != SPC_RING_SEND)
		return; /* a cancel's own completion (c may be gone) */
	if (op == SPC_RING_RECV && !cqe->more)
		c->rx_busy = c->rx_cancel = false; /* a multishot one ended too */
	else if (op == SPC_RING_SEND)
		c->tx_busy = false;
	if (c->dead) {
		if (!c->rx_busy && !c->tx_busy)
			unbury(c);
		return;
	}
	c->ctx.now = spc_srv_now();
	if (res == -ENOBUFS) {
		spc_srv_count(&set->t->cnt.recv_nobufs, 1);
		/* Relaxed: a gauge for stats; the ring grew before this call */
		__atomic_store_n(&set->t->recv_buf_bytes,
				 (uint64_t)spc_srv_ring_buffers(set->ring) * SPC_SRV_RING_BUF_SIZE,
				 __ATOMIC_RELAXED);
	}
	if (res == -EINTR || res == -EAGAIN || res == -ENOBUFS || res == -ECANCELED) {
		/* nothing moved (ENOBUFS: no provided buffer was free, they
		 * are back now; ECANCELED: stopped while nothing was read):
		 * queued again below when input is wanted */
	} else if (res < 0) {
		spc_srv_conn_close(c);
		return;
	} else if (op == SPC_RING_RECV && res == 0) {
		c->eof = true;
	} else if (op == SPC_RING_RECV) {
		if (!cqe->data)
			c->in_len += (size_t)res; /* one-shot: read into c->in */
		else if (!take_in(c, cqe->data, (size_t)res)) {
			spc_srv_conn_close(c);
			return;
		}
		c->last_active = c->ctx.now;
		spc_srv_count(&set->t->cnt.bytes_read, (uint64_t)res);
		if (cqe->cut)
			return; /* the rest of this read comes next: parse them together */
		set->ring_recvs++;
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
