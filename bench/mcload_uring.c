/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mcload_uring.c: mcload's thread loop over io_uring (liburing), the
 * default where the kernel lets the process set up a ring.
 *
 * Why. The epoll loop makes a read and a write per request plus a share of
 * epoll_wait: about 2 system calls per request, as many as a server that
 * answers with epoll. On a virtual machine each system call is a trip
 * through the hypervisor, and that trip is a large part of the client's
 * CPU time, so an epoll client pinned to one CPU runs out of CPU at about
 * the rate a server pinned to the other CPU answers: the comparison then
 * measures the client. Through a ring, the sends and receives of every
 * connection that got a reply go to the kernel in one io_uring_enter,
 * which also waits for the next completions.
 *
 * How. Each connection has at most one receive (into its input buffer,
 * after what the parser left there) and one send (of its unsent output)
 * in flight; user_data is the connection's address with bit 0 telling the
 * two apart. A receive's completion is parsed (mcload_conn.c), one new
 * request is written for each reply completed, the send is armed if none
 * is in flight, and the receive is armed again. A send's completion
 * advances the output; new output appended meanwhile is sent next. The
 * ring is single-issuer with deferred task work (Linux 6.1; without it on
 * older kernels), so completions come in batches when the loop asks.
 *
 * Closing a connection with operations in flight: shutdown() ends its
 * receive (which completes with 0); the buffers stay until every
 * operation of the thread has completed, which the end of the loop waits
 * for before the ring is torn down.
 */
#include "mcload.h"

#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OP_SEND 1u

struct uloop {
	struct io_uring ring;
	unsigned pending; /* operations submitted, not yet completed */
	unsigned live;    /* connections still open */
	int closing;      /* the run is over: completions only end operations */
	struct mcl_thread *t;
};

static struct io_uring_sqe *get_sqe(struct uloop *u)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
	}
	return sqe;
}

static void arm_recv(struct uloop *u, struct mcl_conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(u);
	io_uring_prep_recv(sqe, c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c);
	c->recv_busy = 1;
	u->pending++;
}

static void arm_send(struct uloop *u, struct mcl_conn *c)
{
	if (c->send_busy || c->out_off == c->out_len)
		return;
	struct io_uring_sqe *sqe = get_sqe(u);
	io_uring_prep_send(sqe, c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)c | OP_SEND);
	c->send_busy = 1;
	u->pending++;
}

static void drop(struct uloop *u, struct mcl_conn *c)
{
	shutdown(c->fd, SHUT_RDWR);
	close(c->fd); /* the ring holds its own reference until the ops end */
	c->fd = -1;
	u->live--;
}

static void on_error(struct uloop *u, struct mcl_conn *c, int res)
{
	fprintf(stderr, "mcload: connection %u: %s with %u request(s) in flight\n", c->id,
		res == 0 ? "closed by the server" : strerror(-res), c->inflight);
	u->t->st.errors++;
	drop(u, c);
}

static void on_cqe(struct uloop *u, struct io_uring_cqe *cqe, uint64_t now, int issuing)
{
	struct mcl_thread *t = u->t;
	const struct mcl_conf *cf = t->cf;
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	struct mcl_conn *c = (struct mcl_conn *)(uintptr_t)(ud & ~(uint64_t)OP_SEND);
	int res = cqe->res;
	u->pending--;
	if (u->closing) {
		if (ud & OP_SEND)
			c->send_busy = 0;
		else
			c->recv_busy = 0;
		return;
	}
	if (ud & OP_SEND) {
		c->send_busy = 0;
		if (c->fd < 0)
			return;
		if (res < 0 && res != -EAGAIN && res != -EINTR) {
			on_error(u, c, res);
			return;
		}
		if (res > 0)
			c->out_off += (size_t)res;
		if (c->out_off == c->out_len)
			c->out_off = c->out_len = 0;
		else
			mcl_conn_compact_out(c);
		arm_send(u, c);
		return;
	}
	c->recv_busy = 0;
	if (c->fd < 0)
		return;
	if (res == 0 || (res < 0 && res != -EAGAIN && res != -EINTR)) {
		on_error(u, c, res);
		return;
	}
	if (res > 0) {
		c->in_len += (size_t)res;
		int k = mcl_conn_parse(c, cf, &t->st, now, issuing);
		if (k < 0 || (issuing && mcl_conn_refill(c, cf, &t->st, (unsigned)k, now) != 0)) {
			drop(u, c);
			return;
		}
	}
	arm_send(u, c);
	arm_recv(u, c);
}

/* Handles every completion there is; returns how many. */
static unsigned reap(struct uloop *u, uint64_t now, int issuing)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	io_uring_for_each_cqe(&u->ring, head, cqe) {
		on_cqe(u, cqe, now, issuing);
		n++;
	}
	io_uring_cq_advance(&u->ring, n);
	return n;
}

static int ring_init(struct uloop *u, unsigned nconns)
{
	unsigned entries = 8;
	while (entries < 2 * nconns && entries < 4096)
		entries *= 2;
	struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER |
					      IORING_SETUP_DEFER_TASKRUN,
				     .cq_entries = 4 * entries };
	int rc = io_uring_queue_init_params(entries, &u->ring, &p);
	if (rc == -EINVAL) {
		p = (struct io_uring_params){ .flags = IORING_SETUP_CQSIZE, .cq_entries = 4 * entries };
		rc = io_uring_queue_init_params(entries, &u->ring, &p);
	}
	return rc;
}

int mcl_uring_available(void)
{
	struct uloop u;
	if (ring_init(&u, 1) != 0)
		return 0;
	io_uring_queue_exit(&u.ring);
	return 1;
}

void *mcl_run_uring(void *arg)
{
	struct mcl_thread *t = arg;
	const struct mcl_conf *cf = t->cf;
	struct uloop u = { .t = t, .live = t->nconns };
	int rc = ring_init(&u, t->nconns);
	if (rc != 0) {
		fprintf(stderr, "mcload: io_uring: %s\n", strerror(-rc));
		t->st.errors++;
		return NULL;
	}
	uint64_t now = mcl_now_ns();
	for (unsigned i = 0; i < t->nconns; i++) {
		struct mcl_conn *c = &t->conns[i];
		if (mcl_conn_refill(c, cf, &t->st, cf->depth, now) != 0) {
			drop(&u, c);
			continue;
		}
		arm_send(&u, c);
		arm_recv(&u, c);
	}
	int issuing = 1;
	uint64_t drain_end = 0;
	while (u.live) {
		if (mcl_run_over(t, now, &issuing, &drain_end))
			break;
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 20000000 };
		io_uring_submit_and_wait_timeout(&u.ring, &cqe, 1, &ts, NULL);
		now = mcl_now_ns();
		reap(&u, now, issuing);
	}
	if (issuing)
		t->stop_ns = now < t->end_ns ? now : t->end_ns;
	mcl_count_missing(t);
	/* end every receive still armed, then wait for all to complete */
	u.closing = 1;
	for (unsigned i = 0; i < t->nconns; i++)
		if (t->conns[i].fd >= 0)
			shutdown(t->conns[i].fd, SHUT_RDWR);
	uint64_t give_up = mcl_now_ns() + MCL_DRAIN_NS;
	while (u.pending && mcl_now_ns() < give_up) {
		struct io_uring_cqe *cqe;
		struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 50000000 };
		io_uring_submit_and_wait_timeout(&u.ring, &cqe, 1, &ts, NULL);
		reap(&u, mcl_now_ns(), 0);
	}
	io_uring_queue_exit(&u.ring);
	return NULL;
}
