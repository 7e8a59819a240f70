/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/io_uring.c: one worker's io_uring (service/io.h), over liburing.
 *
 * Why. Under a request/reply load (memcaslap: each connection waits for
 * its reply before the next request) an epoll worker makes a recv and a
 * send per request plus a share of epoll_wait: 2.3 system calls per
 * request, as memcached. On a virtual machine every system call is a trip
 * through the hypervisor's interrupt path, and that trip is most of the
 * server's CPU time (perf: a third of the samples in pvm_irq_enable).
 * With a ring the worker queues each connection's send and its next
 * receive as submissions and hands the whole batch to the kernel in one
 * io_uring_enter, which then waits for the next completions: one system
 * call per batch of completions, whatever the number of connections
 * behind it.
 *
 * How. The ring is single-issuer with deferred task work
 * (IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN, Linux 6.1):
 * completions are posted only when the worker asks for them, so the
 * network stack never interrupts the worker to run them and they arrive in
 * batches. Older kernels refuse those flags with EINVAL; the ring is then
 * made without them. The completion queue is 8 times the submission
 * queue, so a thousand connections each with a receive armed fit; past it
 * the kernel keeps overflowing completions (IORING_FEAT_NODROP) and hands
 * them over at the next wait. A full submission queue is submitted at
 * once (without waiting) to make room.
 *
 * Plain one-shot receives into the connection's own input buffer, not
 * multishot receives with provided buffers: a request split across reads
 * must be contiguous for the parser anyway, and re-arming a receive is a
 * submission queue entry, not a system call.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "service/io.h"

const char *spc_srv_io_name(enum spc_srv_io io)
{
	switch (io) {
	case SPC_SRV_IO_EPOLL:
		return "epoll";
	case SPC_SRV_IO_URING:
		return "uring";
	default:
		return "auto";
	}
}

#ifdef SPC_HAVE_LIBURING
#include <liburing.h>
struct spc_srv_ring {
	struct io_uring ring;
};

int spc_srv_ring_open(struct spc_srv_ring **out, unsigned entries)
{
	struct io_uring_params p = { 0 };
	struct spc_srv_ring *r = calloc(1, sizeof *r);
	int rc;

	*out = NULL;
	if (!r)
		return -ENOMEM;
	p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	p.cq_entries = entries * 8;
	rc = io_uring_queue_init_params(entries, &r->ring, &p);
	if (rc == -EINVAL) { /* before Linux 6.1 */
		p = (struct io_uring_params){ .flags = IORING_SETUP_CQSIZE, .cq_entries = entries * 8 };
		rc = io_uring_queue_init_params(entries, &r->ring, &p);
	}
	if (rc < 0) {
		free(r);
		return rc;
	}
	/* The ring's descriptor registered with the thread (Linux 5.18):
	 * each io_uring_enter then skips looking the file up. Where it is
	 * refused the ring works as well, through its descriptor. */
	(void)io_uring_register_ring_fd(&r->ring);
	*out = r;
	return 0;
}

void spc_srv_ring_close(struct spc_srv_ring *r)
{
	if (!r)
		return;
	io_uring_queue_exit(&r->ring);
	free(r);
}

/* A free submission entry: a full queue goes to the kernel first. */
static struct io_uring_sqe *sqe_get(struct spc_srv_ring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	while (!sqe) {
		io_uring_submit(&r->ring);
		sqe = io_uring_get_sqe(&r->ring);
	}
	return sqe;
}

void spc_srv_ring_recv(struct spc_srv_ring *r, int fd, void *buf, size_t len, uint64_t token)
{
	struct io_uring_sqe *sqe = sqe_get(r);

	io_uring_prep_recv(sqe, fd, buf, len, 0);
	io_uring_sqe_set_data64(sqe, token);
}

void spc_srv_ring_send(struct spc_srv_ring *r, int fd, const void *buf, size_t len,
		       uint64_t token)
{
	struct io_uring_sqe *sqe = sqe_get(r);

	io_uring_prep_send(sqe, fd, buf, len, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, token);
}

void spc_srv_ring_poll(struct spc_srv_ring *r, int fd, uint64_t token)
{
	struct io_uring_sqe *sqe = sqe_get(r);

	io_uring_prep_poll_add(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, token);
}

void spc_srv_ring_cancel(struct spc_srv_ring *r, uint64_t target)
{
	struct io_uring_sqe *sqe = sqe_get(r);

	io_uring_prep_cancel64(sqe, target, IORING_ASYNC_CANCEL_ALL);
	io_uring_sqe_set_data64(sqe, (target & ~(uint64_t)SPC_RING_OP_MASK) | SPC_RING_CANCEL);
}

int spc_srv_ring_wait(struct spc_srv_ring *r, unsigned wait_nr, unsigned timeout_us,
		      void (*done)(void *arg, uint64_t token, int res), void *arg)
{
	struct __kernel_timespec ts = { .tv_sec = timeout_us / 1000000,
					.tv_nsec = (long long)(timeout_us % 1000000) * 1000 };
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	int rc;

	rc = io_uring_submit_and_wait_timeout(&r->ring, &cqe, wait_nr, &ts, NULL);
	if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN)
		return rc;
	/* done() may queue submissions (never completions): the tail it
	 * reads is the kernel's, the head ours until the advance below. */
	io_uring_for_each_cqe(&r->ring, head, cqe) {
		done(arg, io_uring_cqe_get_data64(cqe), cqe->res);
		n++;
	}
	io_uring_cq_advance(&r->ring, n);
	return (int)n;
}

#else /* !SPC_HAVE_LIBURING: built without liburing, epoll only */

struct spc_srv_ring {
	int unused;
};

int spc_srv_ring_open(struct spc_srv_ring **out, unsigned entries)
{
	(void)entries;
	*out = NULL;
	return -ENOSYS;
}

void spc_srv_ring_close(struct spc_srv_ring *r)
{
	(void)r;
}


void spc_srv_ring_recv(struct spc_srv_ring *r, int fd, void *buf, size_t len, uint64_t token)
{
	(void)r, (void)fd, (void)buf, (void)len, (void)token;
}

void spc_srv_ring_send(struct spc_srv_ring *r, int fd, const void *buf, size_t len,
		       uint64_t token)
{
	(void)r, (void)fd, (void)buf, (void)len, (void)token;
}

void spc_srv_ring_poll(struct spc_srv_ring *r, int fd, uint64_t token)
{
	(void)r, (void)fd, (void)token;
}

void spc_srv_ring_cancel(struct spc_srv_ring *r, uint64_t target)
{
	(void)r, (void)target;
}

int spc_srv_ring_wait(struct spc_srv_ring *r, unsigned wait_nr, unsigned timeout_us,
		      void (*done)(void *arg, uint64_t token, int res), void *arg)
{
	(void)r, (void)wait_nr, (void)timeout_us, (void)done, (void)arg;
	return -ENOSYS;
}

#endif
