/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/worker.c: one event loop per worker thread.
 *
 * Each worker owns an epoll instance, its connections (conn.c) and its
 * tally (server.c). Every worker watches every listener with
 * EPOLLEXCLUSIVE, so the kernel wakes one idle worker per incoming
 * connection, without a dispatcher thread. (Why plain epoll and not
 * libevent: docs/service.md.) The loop accepts, hands connections over,
 * and gives each ready connection to conn.c; what a connection does with
 * its bytes is conn.c's, and nothing below calls back up into the loop.
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
 * With --io uring (io.h) the loop waits on the worker's io_uring instead:
 * one io_uring_enter submits every connection's queued sends and
 * receives and waits for the next completions (conn_ring.c handles
 * them). Listeners and the eventfd stay on epfd, which the ring polls, so
 * accepting and the hand-off are the same for both.
 *
 * Shutdown: the main thread sets srv->stopping and wakes each worker
 * through its eventfd. The worker stops accepting, stops reading, keeps
 * sending what its connections already have pending (replies to requests
 * already read, a suspended get finished) for up to SPC_SRV_DRAIN_MS, then
 * closes every connection and returns.
 *
 * Guarantees (tests/service):
 *  1. A burst of connections spreads over the workers by load.
 *  2. Out of file descriptors, a waiting connection is refused as past
 *     -c, and the loop keeps serving the others (no busy loop).
 *  3. At shutdown, replies to requests already read are sent, for up to
 *     SPC_SRV_DRAIN_MS, before the connections close.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "service/conn.h"
#include "service/io.h"
#include "service/server.h"
#include "service/worker.h"

#define SPC_SRV_EVENTS 256           /* epoll events taken per wait */
#define SPC_SRV_TICK_MS 1000          /* idle checks, drain checks */
#define SPC_SRV_ACCEPTS_PER_EVENT 64
#define SPC_SRV_DRAIN_MS 2000         /* how long shutdown waits for output */
#define SPC_SRV_RING_ENTRIES 256      /* io_uring submission queue (completions: 8x) */
#define SPC_SRV_RING_LINGER_US 1000   /* ring_turn's longest wait for one more */
#define SPC_SRV_RING_BATCH_US 200     /* ring_turn's longest wait for a whole batch */

struct lsrc {
	struct spc_srv_src src;
	struct spc_srv_listener *l;
};

/* A connection accepted by one worker for another. */
struct handoff {
	int fd;
	struct spc_srv_listener *l;
};

struct spc_srv_worker {
	struct spc_server *srv;
	unsigned id;
	pthread_t thread;
	bool started;
	int epfd;
	int wakefd;
	int spare_fd;            /* /dev/null, given back when out of fds */
	struct spc_srv_src wake;
	struct lsrc lsrc[SPC_SRV_MAX_LISTENERS];
	struct spc_srv_conns conns; /* what it serves (conn.c) */
	struct spc_srv_tally *t; /* counters and load (server.c) */
	pthread_mutex_t hand_mu; /* guards hand, hand_n, hand_cap */
	struct handoff *hand;
	unsigned hand_n, hand_cap;
	bool ring_polled;        /* io_uring: epfd (listeners, wakefd) ready */
};

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
		spc_srv_conn_refuse(fd);
		spc_srv_count(&w->t->cnt.rejected_connections, 1);
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
	unsigned best_load = __atomic_load_n(&self->t->load, __ATOMIC_RELAXED), i;

	for (i = 0; i < srv->nworkers; i++) {
		struct spc_srv_worker *w = &srv->workers[i];
		unsigned load = __atomic_load_n(&w->t->load, __ATOMIC_RELAXED);

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
			__atomic_sub_fetch(&w->t->load, 1, __ATOMIC_RELAXED);
		} else {
			spc_srv_conn_new(&w->conns, hand[i].fd, hand[i].l);
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
			__atomic_add_fetch(&to->t->load, 1, __ATOMIC_RELAXED);
			if (to != w && !hand_to(to, fd, l)) {
				__atomic_sub_fetch(&to->t->load, 1, __ATOMIC_RELAXED);
				__atomic_add_fetch(&w->t->load, 1, __ATOMIC_RELAXED);
				to = w;
			}
		}
		pthread_mutex_unlock(&accept_mu);
		if (fd < 0)
			return; /* EAGAIN: another worker took it, or none left */
		if (to == w)
			spc_srv_conn_new(&w->conns, fd, l);
		else
			spc_srv_count(&w->t->cnt.conns_handed_off, 1);
	}
}

/* ---- the loop ------------------------------------------------------------- */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Stops accepting and reading: every connection sends what it has. */
static void drain_begin(struct spc_srv_worker *w)
{
	unsigned i;

	for (i = 0; i < w->srv->nlisteners; i++)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->srv->listeners[i].fd, NULL);
	spc_srv_conns_drain(&w->conns);
}

/* ---- io_uring (io.h; the connections' side is conn_ring.c) ------------------ */

/* One completion: the epfd poll is the loop's, the rest its connections'. */
static void ring_done(void *arg, const struct spc_srv_ring_cqe *c)
{
	struct spc_srv_worker *w = arg;

	if ((c->token & SPC_RING_OP_MASK) == SPC_RING_POLL)
		w->ring_polled = true;
	else
		spc_srv_conns_ring_done(&w->conns, c);
}

/* Submits what the last batch queued, waits for completions and handles
 * them; when the listeners or the wakefd are ready (a poll of epfd, which
 * holds only those on a ring), takes their events into ev. Returns the
 * number of events in ev. */
static int ring_turn(struct spc_srv_worker *w, struct epoll_event *ev)
{
	unsigned sends = w->conns.ring_sends, batch = w->conns.ring_recvs, us;
	int n;

	/* A send to a client that reads completes as it is submitted; its
	 * completion alone must not end the wait, or each batch would take
	 * two system calls (one that submits and returns at once with the
	 * sends' completions, one that waits for the next requests). So
	 * wait for the sends just queued and then for requests.
	 *
	 * How many requests: as many as the last wait brought, for at most
	 * SPC_SRV_RING_BATCH_US. Each connection answered in that batch has
	 * just been handed its reply and, under a load of clients that wait
	 * for their replies, sends its next request soon: waiting for the
	 * batch to come back whole means one wake-up per batch instead of
	 * one per request or two, and on a virtual machine a wake-up (the
	 * context switch, the interrupt through the hypervisor) costs more
	 * than the requests it serves (perf: a sixth of the worker's time in
	 * the switch out of io_cqring_wait, 0.3 to 0.45 switches per request
	 * against 0.14 batched; docs/benchmarks.md). The ring posts the
	 * completions only when the count is reached (deferred task work),
	 * so the worker sleeps once. A lone client (a batch of one) never
	 * waits for anyone; when the load falls, a wait that ends on the
	 * timeout brings a smaller batch, and the next waits for that many.
	 * Without requests, one more completion, for at most
	 * SPC_SRV_RING_LINGER_US after sends (in case a send has to wait for
	 * its client to read), else a tick.
	 *
	 * At most SPC_SRV_RING_CHUNK requests, though: with hundreds of
	 * connections a batch is the worker's every connection, all in lock
	 * step, and waiting for the last of them leaves the first ones
	 * waiting too (measured at 1,000 connections: waits of 500
	 * requests, docs/benchmarks.md). Past a chunk the worker wakes,
	 * serves what has come by then, in order, and the rest follows in
	 * the next wait; a wake-up per 32 requests is still far fewer than
	 * one per request. */
	w->conns.ring_sends = 0;
	w->conns.ring_recvs = 0;
	if (batch > 1)
		us = SPC_SRV_RING_BATCH_US;
	else
		us = sends ? SPC_SRV_RING_LINGER_US : SPC_SRV_TICK_MS * 1000u;
	if (batch > SPC_SRV_RING_CHUNK)
		batch = SPC_SRV_RING_CHUNK;
	n = spc_srv_ring_wait(w->conns.ring, batch > 1 ? batch : 1, us, ring_done, w);
	if (n < 0)
		spc_srv_log(w->srv, SPC_SRV_LOG_ERR, "worker %u: io_uring_enter: %s", w->id,
			    strerror(-n));
	if (!w->ring_polled)
		return 0;
	w->ring_polled = false;
	spc_srv_ring_poll(w->conns.ring, w->epfd, (uint64_t)(uintptr_t)w | SPC_RING_POLL);
	return epoll_wait(w->epfd, ev, SPC_SRV_EVENTS, 0);
}

/* --io uring (resolved from auto at start): this worker's own ring, made
 * on its thread (single issuer); where it cannot be made, epoll. */
static void ring_start(struct spc_srv_worker *w)
{
	int rc;

	if (w->srv->opt.io != SPC_SRV_IO_URING)
		return;
	rc = spc_srv_ring_open(&w->conns.ring, SPC_SRV_RING_ENTRIES);
	if (rc < 0) {
		spc_srv_log(w->srv, SPC_SRV_LOG_WARN, "worker %u: io_uring: %s: using epoll", w->id,
			    strerror(-rc));
		return;
	}
	/* Relaxed: a gauge for stats (conn_ring.c updates it as it grows) */
	__atomic_store_n(&w->t->recv_buf_bytes,
			 (uint64_t)spc_srv_ring_buffers(w->conns.ring) * SPC_SRV_RING_BUF_SIZE,
			 __ATOMIC_RELAXED);
	spc_srv_ring_poll(w->conns.ring, w->epfd, (uint64_t)(uintptr_t)w | SPC_RING_POLL);
}

/* The tick's part for the ring: receive buffers past the start set go
 * back once a burst is over (io_uring.c, spc_srv_ring_trim). */
static void ring_trim(struct spc_srv_worker *w)
{
	if (!w->conns.ring)
		return;
	/* Relaxed: a gauge for stats, as in ring_start */
	__atomic_store_n(&w->t->recv_buf_bytes,
			 (uint64_t)spc_srv_ring_trim(w->conns.ring) * SPC_SRV_RING_BUF_SIZE,
			 __ATOMIC_RELAXED);
}

static void ring_stop(struct spc_srv_worker *w)
{
	if (!w->conns.ring)
		return;
	spc_srv_ring_close(w->conns.ring); /* cancels what is in flight */
	w->conns.ring = NULL;
	spc_srv_conns_ring_free(&w->conns);
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
	ring_start(w);

	for (;;) {
		int n, i;
		uint64_t now, ms;

		/* Before waiting: a handoff queued before this worker first
		 * waited has no wakeup of its own to come. */
		take_handoffs(w, draining);
		if (w->conns.ring)
			n = ring_turn(w, ev);
		else
			n = epoll_wait(w->epfd, ev, SPC_SRV_EVENTS, SPC_SRV_TICK_MS);
		now = spc_srv_now();

		for (i = 0; i < n; i++) {
			struct spc_srv_src *s = ev[i].data.ptr;

			if (s->kind == SPC_SRV_SRC_LISTENER) {
				if (!draining)
					accept_some(w, ((struct lsrc *)s)->l);
			} else if (s->kind == SPC_SRV_SRC_WAKE) {
				uint64_t v;
				ssize_t r = read(w->wakefd, &v, sizeof v);

				(void)r; /* handoffs are taken below */
			} else {
				spc_srv_conn_run((struct spc_srv_conn *)s, now);
			}
		}
		ms = mono_ms();
		if (!draining && __atomic_load_n(&w->srv->stopping, __ATOMIC_ACQUIRE)) {
			draining = true;
			drain_until = ms + SPC_SRV_DRAIN_MS;
			drain_begin(w);
		}
		if (draining && (w->conns.n == 0 || ms >= drain_until))
			break;
		if (ms >= last_tick + SPC_SRV_TICK_MS) {
			last_tick = ms;
			spc_srv_conns_idle(&w->conns, now);
			ring_trim(w);
		}
	}
	spc_srv_conns_close(&w->conns);
	take_handoffs(w, true);
	ring_stop(w);
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
	w->t = &srv->tallies[id];
	w->conns.srv = srv;
	w->conns.t = w->t;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (w->epfd < 0 || w->wakefd < 0 || w->spare_fd < 0)
		return SPC_ESYS;
	w->conns.epfd = w->epfd;
	w->wake.kind = SPC_SRV_SRC_WAKE;
	e.events = EPOLLIN;
	e.data.ptr = &w->wake;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wakefd, &e) != 0)
		return SPC_ESYS;
	for (i = 0; i < srv->nlisteners; i++) {
		w->lsrc[i].src.kind = SPC_SRV_SRC_LISTENER;
		w->lsrc[i].l = &srv->listeners[i];
		/* EXCLUSIVE: one worker woken per connection, not all. */
		e.events = EPOLLIN | EPOLLEXCLUSIVE;
		e.data.ptr = &w->lsrc[i].src;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, srv->listeners[i].fd, &e) != 0)
			return SPC_ESYS;
	}
	return SPC_OK;
}

/* --io: auto becomes uring where a ring can be set up here, else epoll
 * (a warning); uring that cannot be set up fails the start. Returns
 * SPC_OK, SPC_ESYS. Context: main thread. */
static int io_choose(struct spc_server *srv)
{
	struct spc_srv_ring *r;
	int rc;

	if (srv->opt.io == SPC_SRV_IO_EPOLL) {
		spc_srv_log(srv, SPC_SRV_LOG_INFO, "io: epoll");
		return SPC_OK;
	}
	rc = spc_srv_ring_open(&r, 8);
	spc_srv_ring_close(r);
	if (rc == 0) {
		srv->opt.io = SPC_SRV_IO_URING;
		spc_srv_log(srv, SPC_SRV_LOG_INFO, "io: io_uring");
		return SPC_OK;
	}
	if (srv->opt.io == SPC_SRV_IO_URING) {
		spc_srv_log(srv, SPC_SRV_LOG_ERR, "--io uring: io_uring cannot be set up: %s",
			    strerror(-rc));
		return SPC_ESYS;
	}
	srv->opt.io = SPC_SRV_IO_EPOLL;
	spc_srv_log(srv, SPC_SRV_LOG_WARN, "io: epoll: io_uring unavailable (%s)", strerror(-rc));
	return SPC_OK;
}

int spc_srv_workers_start(struct spc_server *srv)
{
	unsigned i;

	if (io_choose(srv) != SPC_OK)
		return SPC_ESYS;

	if (spc_srv_tallies_open(srv, srv->opt.threads) != SPC_OK)
		return SPC_ENOMEM;
	srv->workers = calloc(srv->opt.threads, sizeof *srv->workers);
	if (!srv->workers) {
		spc_srv_tallies_close(srv);
		return SPC_ENOMEM;
	}
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
	spc_srv_tallies_close(srv);
}
