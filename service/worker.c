/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/worker.c: one event loop per worker thread.
 *
 * Each worker owns an epoll instance, its connections and its counters.
 * Every worker watches every listener with EPOLLEXCLUSIVE, so the kernel
 * wakes one idle worker per incoming connection, without a dispatcher
 * thread. (Why plain epoll and not libevent: docs/service.md.)
 *
 * Balance. The worker that accepts a connection gives it to the worker
 * with the fewest connections (itself on a tie): it counts the connection
 * in that worker's load at once, queues the descriptor on it and wakes it
 * through its eventfd; the owner takes its queue at its next wakeup. The
 * choice and the count are made under accept_mu, so a burst of connects
 * (a client pool opening 32 connections at once) spreads evenly: waking
 * alone, the first worker to wake would take the whole burst, and its
 * clients would queue behind one core while the other worker slept. A
 * connection then lives on its owner, and no connection state is ever
 * shared.
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
 * (exec.c), the worker stops reading that connection, sends, and resumes
 * the reply when the client has read enough; a client that reads slowly
 * gets the whole reply slowly, in bounded memory. A connection that makes
 * no progress for idle_timeout seconds (nothing read, nothing sent) is
 * closed, when a timeout is set. Buffers that a large request or reply
 * grew are given back once empty.
 *
 * Shutdown: the main thread sets srv->stopping and wakes each worker
 * through its eventfd. The worker stops accepting, stops reading, keeps
 * sending what its connections already have pending (replies to requests
 * already read, a suspended get finished) for up to SPC_SRV_DRAIN_MS, then
 * closes every connection and returns.
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
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "service/server.h"

#define SPC_SRV_EVENTS 256           /* epoll events taken per wait */
#define SPC_SRV_TICK_MS 1000          /* idle checks, drain checks */
#define SPC_SRV_ACCEPTS_PER_EVENT 64
#define SPC_SRV_DRAIN_MS 2000         /* how long shutdown waits for output */
#define SPC_SRV_IN_INITIAL 16384
#define SPC_SRV_OUT_SOFT (256u * 1024) /* a get reply pauses past this */
#define SPC_SRV_OUT_KEEP (64u * 1024)  /* an empty output buffer above this is freed */

static const char e_too_many[] = "ERROR Too many open connections\r\n";

enum src_kind { SRC_LISTENER, SRC_WAKE, SRC_CONN };

struct src {
	enum src_kind kind;
};

struct lsrc {
	struct src src;
	struct spc_srv_listener *l;
};

/* A connection accepted by one worker for another. */
struct handoff {
	int fd;
	struct spc_srv_listener *l;
};

struct conn {
	struct src src;
	int fd;
	struct spc_srv_worker *w;
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
	struct conn *prev, *next;
};

struct spc_srv_worker {
	struct spc_server *srv;
	unsigned id;
	pthread_t thread;
	bool started;
	int epfd;
	int wakefd;
	int spare_fd;            /* /dev/null, given back when out of fds */
	struct src wake;
	struct lsrc lsrc[SPC_SRV_MAX_LISTENERS];
	struct conn *conns;
	unsigned nconns;
	unsigned load;           /* atomic: nconns + handed in, not yet taken */
	pthread_mutex_t hand_mu; /* guards hand, hand_n, hand_cap */
	struct handoff *hand;
	unsigned hand_n, hand_cap;
	struct spc_srv_counters cnt;
};

/* ---- output -------------------------------------------------------------- */

/* grow() of a connection's output: doubling, never past opt.out_max. */
static int out_grow(struct spc_proto_out *out, size_t need)
{
	struct conn *c = out->arg;
	size_t max = c->w->srv->opt.out_max, cap = out->cap ? out->cap : 4096;
	char *p;

	if (need > max) {
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

static size_t pending(const struct conn *c)
{
	return c->out.len - c->out_off;
}

/* Sends what is pending. Returns false when the connection broke. */
static bool conn_flush(struct conn *c)
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
		spc_srv_count(&c->w->cnt.bytes_written, (uint64_t)n);
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

static void conn_close(struct conn *c)
{
	struct spc_srv_worker *w = c->w;

	epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->nconns--;
	__atomic_sub_fetch(&w->load, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&w->srv->curr_conns, 1, __ATOMIC_RELAXED);
	free(c->in);
	spc_proto_out_free(&c->out);
	free(c);
}

static void conn_interest(struct conn *c)
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
	if (epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &e) == 0)
		c->interest = ev;
}

/* Handles one exec result for a request of `consumed` bytes. */
static void conn_result(struct conn *c, enum spc_srv_exec r, const struct spc_proto_req *req)
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
static void conn_auth(struct conn *c, enum spc_proto_status st, const struct spc_proto_req *req)
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

		reply = spc_srv_auth_check(c->w->srv->auth, req->data, req->bytes, &ok);
		spc_srv_count(&c->w->cnt.auth_cmds, 1);
		if (!ok)
			spc_srv_count(&c->w->cnt.auth_errors, 1);
		c->authed = ok;
	}
	if (spc_proto_puts(&c->out, reply) != SPC_OK)
		c->closing = true;
}

/* Parses and executes every complete request in the input buffer. */
static void conn_process(struct conn *c)
{
	struct spc_server *srv = c->w->srv;
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
		conn_result(c, spc_srv_exec(&c->ctx, &req), &req);
	}
}

/* RD_SHORT: data, fewer bytes than asked for (the socket is empty now). */
enum rd { RD_DATA, RD_SHORT, RD_AGAIN, RD_EOF, RD_ERR };

/* Reads up to read_max bytes, growing the input buffer as far as the
 * longest acceptable request. */
static enum rd conn_read(struct conn *c)
{
	struct spc_server *srv = c->w->srv;
	size_t in_max = srv->limits.get_line_max + srv->limits.item_max + srv->limits.read_max +
			srv->limits.line_max;
	size_t room, want;
	ssize_t n;

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
			return RD_ERR;
		c->in = p;
		c->in_cap = cap;
		room = cap - c->in_len;
	}
	if (room == 0)
		return RD_ERR; /* the parser refuses anything this long */
	want = room < srv->limits.read_max ? room : srv->limits.read_max;
	n = recv(c->fd, c->in + c->in_len, want, MSG_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? RD_AGAIN : RD_ERR;
	if (n == 0)
		return RD_EOF;
	c->in_len += (size_t)n;
	c->last_active = c->ctx.now;
	spc_srv_count(&c->w->cnt.bytes_read, (uint64_t)n);
	return (size_t)n < want ? RD_SHORT : RD_DATA;
}

/* Gives back buffers a large request or reply grew, once they are empty,
 * so that idle connections cost SPC_SRV_IN_INITIAL bytes each. */
static void conn_trim(struct conn *c)
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

/* Everything a wakeup does for one connection. */
static void conn_run(struct conn *c)
{
	unsigned reads = 0;
	bool drained = false;

	for (;;) {
		if (c->suspended) {
			if (pending(c) > c->ctx.out_soft / 2)
				break; /* wait until the client has read enough */
			conn_result(c, spc_srv_exec(&c->ctx, &c->req), &c->req);
			if (!c->suspended && !c->closing)
				conn_process(c);
		} else if (!c->closing) {
			conn_process(c);
		}
		if (c->capped)
			goto close; /* a reply passed the output cap */
		if (!conn_flush(c))
			goto close;
		if (c->suspended)
			continue;
		if (c->closing || c->eof || drained || reads++ >= c->w->srv->opt.reads_per_event)
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
	conn_trim(c);
	conn_interest(c);
	return;
close:
	if (c->capped) {
		spc_srv_count(&c->w->cnt.conns_closed_output, 1);
		spc_srv_log(c->w->srv, SPC_SRV_LOG_INFO, "closing a connection: output over %zu bytes",
			    c->w->srv->opt.out_max);
	}
	conn_close(c);
}

/* Makes fd a connection of w, whose load already counts it.
 * Context: w's thread. */
static void conn_new(struct spc_srv_worker *w, int fd, struct spc_srv_listener *l)
{
	struct spc_server *srv = w->srv;
	struct epoll_event e;
	struct conn *c;
	int one = 1;

	if (__atomic_add_fetch(&srv->curr_conns, 1, __ATOMIC_RELAXED) > srv->opt.max_conns) {
		ssize_t n = send(fd, e_too_many, sizeof e_too_many - 1, MSG_NOSIGNAL | MSG_DONTWAIT);

		(void)n; /* best effort, as memcached */
		close(fd);
		__atomic_sub_fetch(&srv->curr_conns, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&w->load, 1, __ATOMIC_RELAXED);
		spc_srv_count(&w->cnt.rejected_connections, 1);
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
		__atomic_sub_fetch(&w->load, 1, __ATOMIC_RELAXED);
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "out of memory accepting a connection");
		return;
	}
	if (l->unix_path[0] == '\0')
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->src.kind = SRC_CONN;
	c->fd = fd;
	c->w = w;
	c->in_cap = SPC_SRV_IN_INITIAL;
	c->out.grow = out_grow;
	c->out.arg = c;
	c->first = true;
	c->authed = !w->srv->auth;
	c->ctx.srv = srv;
	c->ctx.cnt = &w->cnt;
	c->ctx.pool = l->pool;
	c->ctx.out = &c->out;
	c->ctx.out_soft = srv->opt.out_max / 2 < SPC_SRV_OUT_SOFT ? srv->opt.out_max / 2
								 : SPC_SRV_OUT_SOFT;
	c->ctx.now = spc_srv_now();
	c->last_active = c->ctx.now;
	c->interest = EPOLLIN;
	e.events = EPOLLIN;
	e.data.ptr = &c->src;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e) != 0) {
		free(c->in);
		free(c);
		close(fd);
		__atomic_sub_fetch(&srv->curr_conns, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&w->load, 1, __ATOMIC_RELAXED);
		return;
	}
	c->next = w->conns;
	if (w->conns)
		w->conns->prev = c;
	w->conns = c;
	w->nconns++;
	spc_srv_count(&w->cnt.total_connections, 1);
}

/* Serialises every accept4 of the process with refuse_one's
 * close-accept-reopen of its spare descriptor: the descriptor table is the
 * process's, so without it another worker's accept could take the slot
 * the spare just gave back, and the refusal (and the spare) would be lost. */
static pthread_mutex_t accept_mu = PTHREAD_MUTEX_INITIALIZER;

/* Out of file descriptors with a connection waiting: the level-triggered
 * listener would wake us again at once, forever. Give back the spare
 * descriptor, take the connection, refuse it as memcached refuses one
 * past -c, and take the spare again. */
static void refuse_one(struct spc_srv_worker *w, struct spc_srv_listener *l)
{
	/* Context: accept_mu held. */
	int fd;

	if (w->spare_fd >= 0)
		close(w->spare_fd);
	fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = send(fd, e_too_many, sizeof e_too_many - 1, MSG_NOSIGNAL | MSG_DONTWAIT);

		(void)n; /* best effort */
		close(fd);
		spc_srv_count(&w->cnt.rejected_connections, 1);
	}
	w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	spc_srv_log(w->srv, SPC_SRV_LOG_ERR, "accept: out of file descriptors (raise ulimit -n)");
}

/* The worker with the fewest connections, self on a tie.
 * Context: accept_mu held, so no other accept raises a load meanwhile
 * (closes may lower one: the choice is then off by that close). */
static struct spc_srv_worker *least_loaded(struct spc_srv_worker *self)
{
	struct spc_server *srv = self->srv;
	struct spc_srv_worker *best = self;
	unsigned best_load = __atomic_load_n(&self->load, __ATOMIC_RELAXED), i;

	for (i = 0; i < srv->nworkers; i++) {
		struct spc_srv_worker *w = &srv->workers[i];
		unsigned load = __atomic_load_n(&w->load, __ATOMIC_RELAXED);

		if (load < best_load) {
			best = w;
			best_load = load;
		}
	}
	return best;
}

/* Queues fd on w and wakes it. Returns false when the queue cannot grow
 * (the caller keeps the connection). Context: another worker's thread. */
static bool hand_to(struct spc_srv_worker *w, int fd, struct spc_srv_listener *l)
{
	uint64_t one = 1;
	ssize_t n;

	pthread_mutex_lock(&w->hand_mu);
	if (w->hand_n == w->hand_cap) {
		unsigned cap = w->hand_cap ? w->hand_cap * 2 : 16;
		struct handoff *p = realloc(w->hand, cap * sizeof *p);

		if (!p) {
			pthread_mutex_unlock(&w->hand_mu);
			return false;
		}
		w->hand = p;
		w->hand_cap = cap;
	}
	w->hand[w->hand_n].fd = fd;
	w->hand[w->hand_n].l = l;
	/* Relaxed store: the owner's unlocked test is a hint; it reads the
	 * queue under hand_mu. */
	__atomic_store_n(&w->hand_n, w->hand_n + 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&w->hand_mu);
	/* Fails only if the counter would overflow, that is when the owner
	 * has not read it for 2^64 wakeups: the queue is taken anyway at the
	 * owner's next wakeup, at the latest after SPC_SRV_TICK_MS. */
	n = write(w->wakefd, &one, sizeof one);
	(void)n;
	return true;
}

/* Takes the connections other workers handed to w: serves them, or, once
 * w is draining, closes them. Context: w's thread. */
static void take_handoffs(struct spc_srv_worker *w, bool draining)
{
	struct handoff *hand;
	unsigned n, i;

	if (__atomic_load_n(&w->hand_n, __ATOMIC_RELAXED) == 0)
		return;
	pthread_mutex_lock(&w->hand_mu);
	hand = w->hand;
	n = w->hand_n;
	w->hand = NULL;
	w->hand_cap = 0;
	__atomic_store_n(&w->hand_n, 0, __ATOMIC_RELAXED); /* read unlocked above */
	pthread_mutex_unlock(&w->hand_mu);
	for (i = 0; i < n; i++) {
		if (draining) {
			close(hand[i].fd);
			__atomic_sub_fetch(&w->load, 1, __ATOMIC_RELAXED);
		} else {
			conn_new(w, hand[i].fd, hand[i].l);
		}
	}
	free(hand);
}

static void accept_some(struct spc_srv_worker *w, struct spc_srv_listener *l)
{
	unsigned i;

	for (i = 0; i < SPC_SRV_ACCEPTS_PER_EVENT; i++) {
		struct spc_srv_worker *to = w;
		int fd, err;

		pthread_mutex_lock(&accept_mu);
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		err = errno;
		if (fd < 0 && (err == EMFILE || err == ENFILE))
			refuse_one(w, l);
		if (fd >= 0) {
			to = least_loaded(w);
			__atomic_add_fetch(&to->load, 1, __ATOMIC_RELAXED);
			if (to != w && !hand_to(to, fd, l)) {
				__atomic_sub_fetch(&to->load, 1, __ATOMIC_RELAXED);
				__atomic_add_fetch(&w->load, 1, __ATOMIC_RELAXED);
				to = w;
			}
		}
		pthread_mutex_unlock(&accept_mu);
		if (fd < 0)
			return; /* EAGAIN: another worker took it, or none left */
		if (to == w)
			conn_new(w, fd, l);
		else
			spc_srv_count(&w->cnt.conns_handed_off, 1);
	}
}

unsigned spc_srv_worker_conns(struct spc_server *srv, unsigned i)
{
	return i < srv->nworkers ? __atomic_load_n(&srv->workers[i].load, __ATOMIC_RELAXED) : 0;
}

const struct spc_srv_counters *spc_srv_worker_counters(struct spc_server *srv, unsigned i)
{
	return i < srv->nworkers ? &srv->workers[i].cnt : NULL;
}

/* ---- the loop ------------------------------------------------------------- */

static void idle_check(struct spc_srv_worker *w, uint64_t now)
{
	unsigned timeout = w->srv->opt.idle_timeout_s;
	struct conn *c, *next;

	for (c = w->conns; c; c = next) {
		next = c->next;
		c->ctx.now = now;
		if (timeout && now > c->last_active + timeout) {
			spc_srv_count(&w->cnt.conns_closed_idle, 1);
			spc_srv_log(w->srv, SPC_SRV_LOG_DEBUG, "closing an idle connection");
			conn_close(c);
		}
	}
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Stops accepting and reading: every connection sends what it has. */
static void drain_begin(struct spc_srv_worker *w)
{
	struct conn *c, *next;
	unsigned i;

	for (i = 0; i < w->srv->nlisteners; i++)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->srv->listeners[i].fd, NULL);
	for (c = w->conns; c; c = next) {
		next = c->next;
		c->closing = true;
		conn_run(c);
	}
}

static void *worker_main(void *arg)
{
	struct spc_srv_worker *w = arg;
	struct epoll_event ev[SPC_SRV_EVENTS];
	uint64_t last_tick = mono_ms(), drain_until = 0;
	bool draining = false;
	char name[16];

	/* "spc-worker-N", cut to the kernel's 15 bytes; for top and perf. */
	snprintf(name, sizeof name, "spc-worker-%u", w->id);
	pthread_setname_np(pthread_self(), name);

	for (;;) {
		int n, i;
		uint64_t now, ms;
		struct conn *c;

		/* Before waiting: a handoff queued before this worker first
		 * waited has no wakeup of its own to come. */
		take_handoffs(w, draining);
		n = epoll_wait(w->epfd, ev, SPC_SRV_EVENTS, SPC_SRV_TICK_MS);
		now = spc_srv_now();

		for (i = 0; i < n; i++) {
			struct src *s = ev[i].data.ptr;

			if (s->kind == SRC_LISTENER) {
				if (!draining)
					accept_some(w, ((struct lsrc *)s)->l);
			} else if (s->kind == SRC_WAKE) {
				uint64_t v;
				ssize_t r = read(w->wakefd, &v, sizeof v);

				(void)r; /* handoffs are taken below */
			} else {
				c = (struct conn *)s;
				c->ctx.now = now;
				conn_run(c);
			}
		}
		ms = mono_ms();
		if (!draining && __atomic_load_n(&w->srv->stopping, __ATOMIC_ACQUIRE)) {
			draining = true;
			drain_until = ms + SPC_SRV_DRAIN_MS;
			drain_begin(w);
		}
		if (draining && (w->nconns == 0 || ms >= drain_until))
			break;
		if (ms >= last_tick + SPC_SRV_TICK_MS) {
			last_tick = ms;
			idle_check(w, now);
		}
	}
	while (w->conns)
		conn_close(w->conns);
	take_handoffs(w, true);
	return NULL;
}

/* ---- start, stop ------------------------------------------------------- */

/* Context: every worker joined (none can hand w a connection any more). */
static void worker_fini(struct spc_srv_worker *w)
{
	for (unsigned i = 0; i < w->hand_n; i++)
		close(w->hand[i].fd);
	free(w->hand);
	pthread_mutex_destroy(&w->hand_mu);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->wakefd >= 0)
		close(w->wakefd);
	if (w->spare_fd >= 0)
		close(w->spare_fd);
}

static int worker_init(struct spc_server *srv, struct spc_srv_worker *w, unsigned id)
{
	struct epoll_event e;
	unsigned i;

	w->srv = srv;
	w->id = id;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (w->epfd < 0 || w->wakefd < 0 || w->spare_fd < 0)
		return SPC_ESYS;
	w->wake.kind = SRC_WAKE;
	e.events = EPOLLIN;
	e.data.ptr = &w->wake;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &e) != 0)
		return SPC_ESYS;
	for (i = 0; i < srv->nlisteners; i++) {
		w->lsrc[i].src.kind = SRC_LISTENER;
		w->lsrc[i].l = &srv->listeners[i];
		/* EXCLUSIVE: one worker woken per connection, not all. */
		e.events = EPOLLIN | EPOLLEXCLUSIVE;
		e.data.ptr = &w->lsrc[i].src;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, srv->listeners[i].fd, &e) != 0)
			return SPC_ESYS;
	}
	return SPC_OK;
}

int spc_srv_workers_start(struct spc_server *srv)
{
	unsigned i;

	srv->workers = calloc(srv->opt.threads, sizeof *srv->workers);
	if (!srv->workers)
		return SPC_ENOMEM;
	srv->nworkers = srv->opt.threads;
	for (i = 0; i < srv->nworkers; i++) {
		srv->workers[i].epfd = srv->workers[i].wakefd = srv->workers[i].spare_fd = -1;
		srv->workers[i].hand_mu = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	}
	/* Every worker set up before any runs: a running worker may hand a
	 * connection to any other. */
	for (i = 0; i < srv->nworkers; i++) {
		if (worker_init(srv, &srv->workers[i], i) != SPC_OK) {
			spc_srv_workers_stop(srv);
			return SPC_ESYS;
		}
	}
	for (i = 0; i < srv->nworkers; i++) {
		struct spc_srv_worker *w = &srv->workers[i];

		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			spc_srv_workers_stop(srv);
			return SPC_ESYS;
		}
		w->started = true;
	}
	return SPC_OK;
}

void spc_srv_workers_stop(struct spc_server *srv)
{
	unsigned i;

	/* Release: the workers' acquire load of stopping sees every store
	 * the main thread made before it. */
	__atomic_store_n(&srv->stopping, 1, __ATOMIC_RELEASE);
	for (i = 0; i < srv->nworkers; i++) {
		uint64_t one = 1;

		if (srv->workers[i].started && write(srv->workers[i].wakefd, &one, sizeof one) < 0)
			spc_srv_log(srv, SPC_SRV_LOG_ERR, "waking worker %u failed", i);
	}
	/* Join all before freeing any: a worker still running may hand a
	 * connection to one that already stopped. */
	for (i = 0; i < srv->nworkers; i++) {
		if (srv->workers[i].started)
			pthread_join(srv->workers[i].thread, NULL);
	}
	for (i = 0; i < srv->nworkers; i++)
		worker_fini(&srv->workers[i]);
	free(srv->workers);
	srv->workers = NULL;
	srv->nworkers = 0;
}

/* Every worker's counters summed, as they run. */
static void counters_raw(struct spc_server *srv, struct spc_srv_counters *out)
{
	const size_t n = sizeof *out / sizeof(uint64_t);
	uint64_t *dst = (uint64_t *)out;
	unsigned i;
	size_t j;

	memset(out, 0, sizeof *out);
	for (i = 0; i < srv->nworkers; i++) {
		const uint64_t *src = (const uint64_t *)&srv->workers[i].cnt;

		for (j = 0; j < n; j++)
			dst[j] += spc_srv_read(&src[j]);
	}
}

void spc_srv_counters_sum(struct spc_server *srv, struct spc_srv_counters *out)
{
	const size_t n = sizeof *out / sizeof(uint64_t);
	const uint64_t *base = (const uint64_t *)&srv->reset_base;
	uint64_t *dst = (uint64_t *)out;
	size_t j;

	counters_raw(srv, out);
	pthread_mutex_lock(&srv->reset_mu);
	for (j = 0; j < n; j++) /* counters only grow: never below the base */
		dst[j] = dst[j] > base[j] ? dst[j] - base[j] : 0;
	pthread_mutex_unlock(&srv->reset_mu);
}

void spc_srv_stats_reset(struct spc_server *srv)
{
	struct spc_srv_counters now;

	counters_raw(srv, &now);
	pthread_mutex_lock(&srv->reset_mu);
	srv->reset_base = now;
	pthread_mutex_unlock(&srv->reset_mu);
	spc_stats_reset(srv->cache);
}
