/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/conn.c: one connection: its input and output buffers, the
 * parse-execute-send cycle and its bounds.
 *
 * A connection belongs to one worker (worker.c) for its whole life and is
 * touched by that worker's thread only; the worker calls in here when
 * epoll reports the connection ready, on its idle tick and at shutdown.
 * Requests go down to the parser (proto.h) and the commands (exec.h);
 * nothing here calls back up into the worker.
 *
 * A connection's life, level-triggered:
 *
 *   read  up to read_max bytes (16 KiB, memcached's read size), then
 *   parse every complete request in the input buffer and execute it in
 *         order, appending replies to one output buffer, then
 *   send  the whole output at once (one send per batch of pipelined
 *         requests), and repeat while there is input, at most
 *         -R (opt.reads_per_event) times so one busy client cannot starve
 *         the others of its worker. A read that returned less than it
 *         asked for emptied the socket: after its requests are answered
 *         the connection goes back to epoll without a read that could
 *         only fail with EAGAIN (level-triggered, so data that arrived
 *         meanwhile wakes it again at once). One recv per request, not
 *         two, for a client that waits for each reply.
 *
 * Bounds. The input buffer grows only as far as the longest request the
 * parser can accept (a get line of get_line_max, or a line plus a data
 * block of item_max); larger requests are refused by the parser before
 * that. The output buffer's grow() refuses to pass opt.out_max: a reply
 * that does not fit closes the connection at once, so a client that sends
 * requests and never reads its replies is cut off once its pending output
 * passes the cap. Multi-key gets stream: past out_soft the reply stops
 * (exec.c), the connection stops reading, sends, and resumes the reply
 * when the client has read enough; a client that reads slowly gets the
 * whole reply slowly, in bounded memory. A connection that makes no
 * progress for idle_timeout seconds (nothing read, nothing sent) is
 * closed, when a timeout is set. Buffers that a large request or reply
 * grew are given back once empty.
 *
 * With io_uring (--io, io.h) the same cycle runs on completions instead
 * of readiness: conn_ring.c.
 *
 * Guarantees (tests/service):
 *  1. Replies go out in request order, on every connection.
 *  2. Per-connection memory is bounded by the input and output caps.
 *  3. A connection past the cap, idle or broken is closed; the others on
 *     the same worker keep being served.
 *  4. Past max_conns a new connection gets "ERROR Too many open
 *     connections" and is closed (memcached's behaviour).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "service/auth.h"
#include "service/conn.h"
#include "service/conn_int.h"
#include "service/exec.h"
#include "service/server.h"

/* ---- output -------------------------------------------------------------- */

/* grow() of a connection's output: doubling, never past opt.out_max. */
static int out_grow(struct spc_proto_out *out, size_t need)
{
	struct spc_srv_conn *c = out->arg;
	size_t max = c->set->srv->opt.out_max, cap = out->cap ? out->cap : 4096;
	size_t sending = c->tx_len - c->tx_off; /* io_uring: counts against the cap too */
	char *p;

	if (need > max || sending > max - need) {
		c->capped = true;
		return -1;
	}
	while (cap < need)
		cap = cap > max / 2 ? max : cap * 2;
	p = realloc(out->data, cap);
	if (!p) {
		c->capped = true;
		return -1;
	}
	out->data = p;
	out->cap = cap;
	return 0;
}

static size_t pending(const struct spc_srv_conn *c)
{
	return spc_srv_conn_pending(c);
}

/* Sends what is pending. Returns false when the connection broke. */
static bool conn_flush(struct spc_srv_conn *c)
{
	while (pending(c) > 0) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return false;
		}
		c->out_off += (size_t)n;
		c->last_active = c->ctx.now;
		spc_srv_count(&c->set->t->cnt.bytes_written, (uint64_t)n);
	}
	if (c->out_off == c->out.len) {
		c->out_off = c->out.len = 0;
	} else if (c->out_off > 0) {
		memmove(c->out.data, c->out.data + c->out_off, pending(c));
		c->out.len = pending(c);
		c->out_off = 0;
	}
	return true;
}

/* ---- connections ------------------------------------------------------ */

void spc_srv_conn_free(struct spc_srv_conn *c)
{
	close(c->fd);
	free(c->tx);
	free(c->held);
	free(c->in);
	spc_proto_out_free(&c->out);
	free(c);
}

void spc_srv_conn_close(struct spc_srv_conn *c)
{
	struct spc_srv_conns *set = c->set;

	if (!set->ring)
		epoll_ctl(set->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->prev)
		c->prev->next = c->next;
	else
		set->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	set->n--;
	/* Relaxed, here and in spc_srv_conn_new: load is the hint the
	 * accepting worker balances by (read under accept_mu, worker.c),
	 * curr_conns the count -c and stats compare; both are counts only,
	 * they order no other memory. */
	__atomic_sub_fetch(&set->t->load, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&set->srv->curr_conns, 1, __ATOMIC_RELAXED);
	if (c->rx_busy || c->tx_busy)
		spc_srv_conn_ring_bury(c); /* freed at its last completion */
	else
		spc_srv_conn_free(c);
}

static void conn_interest(struct spc_srv_conn *c)
{
	uint32_t ev = 0;
	struct epoll_event e;

	if (!c->suspended && !c->closing && !c->eof)
		ev |= EPOLLIN;
	if (pending(c) > 0)
		ev |= EPOLLOUT;
	if (ev == c->interest)
		return;
	e.events = ev;
	e.data.ptr = &c->src;
	if (epoll_ctl(c->set->epfd, EPOLL_CTL_MOD, c->fd, &e) == 0)
		c->interest = ev;
}

void spc_srv_conn_result(struct spc_srv_conn *c, enum spc_srv_exec r,
			 const struct spc_proto_req *req)
{
	switch (r) {
	case SPC_SRV_DONE:
		c->in_off += req->consumed;
		c->suspended = false;
		break;
	case SPC_SRV_SUSPEND:
		/* Only get-family requests suspend; their keys point into the
		 * input buffer (never into req->keybuf), which stays put: the
		 * connection reads nothing until the request is done. */
		if (&c->req != req)
			c->req = *req;
		c->suspended = true;
		break;
	case SPC_SRV_CLOSE:
		c->in_off += req->consumed;
		c->suspended = false;
		c->closing = true;
		break;
	}
}

/* -Y: what a connection that has not authenticated gets for a request or
 * a parse error (st); see auth.c for memcached's replies. */
static void conn_auth(struct spc_srv_conn *c, enum spc_proto_status st, const struct spc_proto_req *req)
{
	static const char unauth[] = "CLIENT_ERROR unauthenticated\r\n";
	const char *reply = unauth;

	c->in_off += req->consumed;
	if (st == SPC_PROTO_ERROR) {
		if (req->action == SPC_PROTO_SWALLOW)
			c->swallow = req->swallow;
		else if (req->action == SPC_PROTO_CLOSE)
			c->closing = true;
	} else if (req->cmd == SPC_PROTO_SET) {
		bool ok;

		reply = spc_srv_auth_check(c->set->srv->auth, req->data, req->bytes, &ok);
		spc_srv_count(&c->set->t->cnt.auth_cmds, 1);
		if (!ok)
			spc_srv_count(&c->set->t->cnt.auth_errors, 1);
		c->authed = ok;
	}
	if (spc_proto_puts(&c->out, reply) != SPC_OK)
		c->closing = true;
}

void spc_srv_conn_process(struct spc_srv_conn *c)
{
	struct spc_server *srv = c->set->srv;
	struct spc_proto_req req;

	if (c->first && c->in_len > c->in_off) {
		c->first = false;
		if (spc_proto_is_binary(c->in + c->in_off, c->in_len - c->in_off)) {
			c->closing = true;
			c->in_off = c->in_len;
			return;
		}
	}
	while (!c->closing && !c->suspended && c->in_off < c->in_len) {
		size_t avail = c->in_len - c->in_off;
		enum spc_proto_status st;

		if (c->swallow) {
			size_t n = c->swallow < avail ? (size_t)c->swallow : avail;

			c->swallow -= n;
			c->in_off += n;
			continue;
		}
		st = spc_proto_parse(&srv->limits, c->in + c->in_off, avail, &req);
		if (st == SPC_PROTO_NEED_MORE)
			break;
		if (!c->authed) {
			conn_auth(c, st, &req);
			continue;
		}
		if (st == SPC_PROTO_ERROR) {
			c->in_off += req.consumed;
			if (spc_srv_exec_error(&c->ctx, &req) != SPC_SRV_DONE)
				c->closing = true;
			if (req.action == SPC_PROTO_SWALLOW)
				c->swallow = req.swallow;
			else if (req.action == SPC_PROTO_CLOSE)
				c->closing = true;
			continue;
		}
		spc_srv_conn_result(c, spc_srv_exec(&c->ctx, &req), &req);
	}
}

/* RD_SHORT: data, fewer bytes than asked for (the socket is empty now). */
enum rd { RD_DATA, RD_SHORT, RD_AGAIN, RD_EOF, RD_ERR };

size_t spc_srv_conn_room(struct spc_srv_conn *c)
{
	struct spc_server *srv = c->set->srv;
	size_t in_max = srv->limits.get_line_max + srv->limits.item_max + srv->limits.read_max +
			srv->limits.line_max;
	size_t room;

	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	room = c->in_cap - c->in_len;
	if (room < srv->limits.read_max && c->in_cap < in_max) {
		size_t cap = c->in_cap * 2 < in_max ? c->in_cap * 2 : in_max;
		char *p = realloc(c->in, cap);

		if (!p)
			return 0;
		c->in = p;
		c->in_cap = cap;
		room = cap - c->in_len;
	}
	return room < srv->limits.read_max ? room : srv->limits.read_max;
}

/* Reads up to read_max bytes. */
static enum rd conn_read(struct spc_srv_conn *c)
{
	size_t want = spc_srv_conn_room(c);
	ssize_t n;

	if (want == 0)
		return RD_ERR; /* out of memory, or longer than the parser takes */
	n = recv(c->fd, c->in + c->in_len, want, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? RD_AGAIN : RD_ERR;
	if (n == 0)
		return RD_EOF;
	c->in_len += (size_t)n;
	c->last_active = c->ctx.now;
	spc_srv_count(&c->set->t->cnt.bytes_read, (uint64_t)n);
	return (size_t)n < want ? RD_SHORT : RD_DATA;
}

void spc_srv_conn_trim(struct spc_srv_conn *c)
{
	if (!c->suspended && c->in_off == c->in_len && c->in_cap > SPC_SRV_IN_INITIAL) {
		char *p = realloc(c->in, SPC_SRV_IN_INITIAL);

		c->in_off = c->in_len = 0;
		if (p) {
			c->in = p;
			c->in_cap = SPC_SRV_IN_INITIAL;
		}
	}
	if (pending(c) == 0 && c->out.cap > SPC_SRV_OUT_KEEP)
		spc_proto_out_free(&c->out);
}

void spc_srv_conn_run(struct spc_srv_conn *c, uint64_t now)
{
	unsigned reads = 0;
	bool drained = false;

	c->ctx.now = now;
	for (;;) {
		if (c->suspended) {
			/* Send first: woken for output, a connection whose
			 * pending reply is over the mark must send to get
			 * below it (breaking out before the send left it
			 * stalled, woken for output again and again). */
			if (!conn_flush(c))
				goto close;
			if (pending(c) > c->ctx.out_soft / 2)
				break; /* wait until the client has read enough */
			spc_srv_conn_result(c, spc_srv_exec(&c->ctx, &c->req), &c->req);
			if (!c->suspended && !c->closing)
				spc_srv_conn_process(c);
		} else if (!c->closing) {
			spc_srv_conn_process(c);
		}
		if (c->capped)
			goto close; /* a reply passed the output cap */
		if (!conn_flush(c))
			goto close;
		if (c->suspended)
			continue;
		if (c->closing || c->eof || drained || reads++ >= c->set->srv->opt.reads_per_event)
			break;
		switch (conn_read(c)) {
		case RD_SHORT:
			drained = true;
			continue;
		case RD_DATA:
			continue;
		case RD_AGAIN:
			break;
		case RD_EOF:
			c->eof = true;
			break;
		case RD_ERR:
			goto close;
		}
		break;
	}
	if ((c->closing || c->eof) && !c->suspended && pending(c) == 0)
		goto close;
	spc_srv_conn_trim(c);
	conn_interest(c);
	return;
close:
	if (c->capped) {
		spc_srv_count(&c->set->t->cnt.conns_closed_output, 1);
		spc_srv_log(c->set->srv, SPC_SRV_LOG_INFO, "closing a connection: output over %zu bytes",
			    c->set->srv->opt.out_max);
	}
	spc_srv_conn_close(c);
}

void spc_srv_conn_refuse(int fd)
{
	static const char e_too_many[] = "ERROR Too many open connections\r\n";
	ssize_t n = send(fd, e_too_many, sizeof e_too_many - 1, MSG_NOSIGNAL | MSG_DONTWAIT);

	(void)n; /* best effort, as memcached */
	close(fd);
}

void spc_srv_conn_new(struct spc_srv_conns *set, int fd, const struct spc_srv_listener *l)
{
	struct spc_server *srv = set->srv;
	struct epoll_event e;
	struct spc_srv_conn *c;
	int one = 1;

	if (__atomic_add_fetch(&srv->curr_conns, 1, __ATOMIC_RELAXED) > srv->opt.max_conns) {
		spc_srv_conn_refuse(fd);
		__atomic_sub_fetch(&srv->curr_conns, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&set->t->load, 1, __ATOMIC_RELAXED);
		spc_srv_count(&set->t->cnt.rejected_connections, 1);
		return;
	}
	c = calloc(1, sizeof *c);
	if (c)
		c->in = malloc(SPC_SRV_IN_INITIAL);
	if (!c || !c->in) {
		if (c)
			free(c);
		close(fd);
		__atomic_sub_fetch(&srv->curr_conns, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&set->t->load, 1, __ATOMIC_RELAXED);
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "out of memory accepting a connection");
		return;
	}
	if (l->unix_path[0] == '\0')
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->src.kind = SPC_SRV_SRC_CONN;
	c->fd = fd;
	c->set = set;
	c->in_cap = SPC_SRV_IN_INITIAL;
	c->out.grow = out_grow;
	c->out.arg = c;
	c->first = true;
	c->authed = !srv->auth;
	c->ctx.srv = srv;
	c->ctx.cnt = &set->t->cnt;
	c->ctx.pool = l->pool;
	c->ctx.out = &c->out;
	c->ctx.out_soft = srv->opt.out_max / 2 < SPC_SRV_OUT_SOFT ? srv->opt.out_max / 2
								 : SPC_SRV_OUT_SOFT;
	c->ctx.now = spc_srv_now();
	c->last_active = c->ctx.now;
	c->interest = EPOLLIN;
	e.events = EPOLLIN;
	e.data.ptr = &c->src;
	if (!set->ring && epoll_ctl(set->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
		free(c->in);
		free(c);
		close(fd);
		__atomic_sub_fetch(&srv->curr_conns, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&set->t->load, 1, __ATOMIC_RELAXED);
		return;
	}
	c->next = set->head;
	if (set->head)
		set->head->prev = c;
	set->head = c;
	set->n++;
	spc_srv_count(&set->t->cnt.total_connections, 1);
	if (set->ring)
		spc_srv_conn_ring_step(c); /* its first receive */
}

void spc_srv_conns_idle(struct spc_srv_conns *set, uint64_t now)
{
	unsigned timeout = set->srv->opt.idle_timeout_s;
	struct spc_srv_conn *c, *next;

	for (c = set->head; c; c = next) {
		next = c->next;
		c->ctx.now = now;
		if (timeout && now > c->last_active + timeout) {
			spc_srv_count(&set->t->cnt.conns_closed_idle, 1);
			spc_srv_log(set->srv, SPC_SRV_LOG_DEBUG, "closing an idle connection");
			spc_srv_conn_close(c);
		}
	}
}

void spc_srv_conns_drain(struct spc_srv_conns *set)
{
	struct spc_srv_conn *c, *next;

	for (c = set->head; c; c = next) {
		next = c->next;
		c->closing = true;
		if (set->ring)
			spc_srv_conn_ring_step(c);
		else
			spc_srv_conn_run(c, c->ctx.now);
	}
}

void spc_srv_conns_close(struct spc_srv_conns *set)
{
	while (set->head)
		spc_srv_conn_close(set->head);
}
