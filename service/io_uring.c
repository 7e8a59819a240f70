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
 * Receives are multishot (Linux 5.19): armed once per connection, each
 * arrival of data completes into one of the worker's provided buffers
 * (a buffer ring registered with the ring, up to SPC_SRV_RING_BUFS of the
 * parser's read size: SPC_SRV_RING_BUFS_FIRST at first, doubled whenever
 * a receive finds none free), whose bytes the connection copies into its input
 * buffer -- a request split across reads must be contiguous for the
 * parser anyway -- and the buffer goes back to the ring as soon as its
 * completion is handled. Against a one-shot receive re-armed per request
 * that saves, per request, a submission, the kernel's attempt to read
 * at once and the poll armed and torn down behind it (measured: a sixth
 * less CPU per request with 32 or 1,000 memcaslap connections,
 * docs/benchmarks.md). When every buffer is taken, the kernel ends the
 * receives that find none (-ENOBUFS); the buffers are back by the next
 * wait, where the connection arms its receive again, and the worker has
 * twice as many (up to SPC_SRV_RING_BUFS). The buffers are one mapping
 * whose pages become memory only once the kernel fills them, so the
 * buffers never provided cost nothing. Where the kernel
 * has no buffer rings, receives are one-shot into the input buffer.
 *
 * Giving them back. Once grown, the buffers stayed memory for good: the
 * kernel takes them in ring order, so every one in circulation is soon
 * resident, 2 MiB per worker after a single pipelined burst. At each of
 * its ticks (a second or more apart) the worker calls spc_srv_ring_trim:
 * when no receive ran out since the last tick, the ring goes back to its
 * start set. Buffers past it are no longer given to the kernel when they
 * come back, and every buffer's pages go back to the system at once
 * (MADV_DONTNEED over the whole mapping: the start set's too, which the
 * next receives fault in again as they fill them). Those still queued
 * in the kernel's ring come back one by one as receives take them; a
 * write into a page given back faults a fresh zero page in, so nothing
 * but memory is at stake, and each comes back empty again when dropped.
 * The one hazard is a buffer the kernel has filled and whose completion
 * we have not seen: its bytes would be lost. The kernel fills buffers
 * only in this thread's io_uring_enter (deferred task work) or, on older
 * kernels, in task work run on this thread's return from a system call;
 * a trim runs only with the completion queue empty and nothing in the
 * kernel's overflow list, and gives the pages back in one madvise: no
 * filled buffer awaits its completion then, and nothing fills one before
 * the madvise is done. Each buffer is queued at most once (a bit per
 * buffer), so growing again after a trim never queues one still in the
 * kernel's ring twice.
 *
 * Buffers are consumed incrementally where the kernel can (Linux 6.12,
 * IOU_PBUF_RING_INC): each receive takes only the bytes it brings from
 * the buffer in use, the next goes on after them, and the buffer goes
 * back once the kernel has filled it. Without it every receive takes a
 * whole 16 KiB buffer for a request of 50 bytes, and 500 connections
 * whose requests come in one wait need 500 buffers: with 128 the rest
 * end for want of one, are armed again and end again, over and over
 * (measured: ten such ends per request at 1,000 connections, and the
 * connections that lost that race served a wait or more later; none
 * with incremental buffers, a third less CPU per request,
 * docs/benchmarks.md). A read that the end of a buffer cut short goes
 * on in the next buffer at once; its completion says so (cut), and the
 * connection parses both parts together, so a line is cut only where a
 * read of memcached's size would cut it.
 *
 * Submission in chunks. The completions of one wait are handled in
 * order, and each queues its connection's reply; whenever
 * SPC_SRV_RING_CHUNK requests are queued they are submitted at once, so
 * the first reply of a batch of hundreds leaves before the last request
 * is even parsed, and a worker preempted in the middle of a batch holds
 * back only the replies it has not computed yet. At most a few dozen
 * connections per worker, a batch is one chunk: one io_uring_enter per
 * batch, as before.
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
#include <sys/mman.h>

#define BUFS SPC_SRV_RING_BUFS
#define BUF_SIZE SPC_SRV_RING_BUF_SIZE
#define BGID 0

/* Incremental consumption of provided buffers (Linux 6.12); older
 * headers lack the names, older kernels refuse the flag (EINVAL). */
#ifndef IOU_PBUF_RING_INC
#define IOU_PBUF_RING_INC 2
#endif
#ifndef IORING_CQE_F_BUF_MORE
#define IORING_CQE_F_BUF_MORE (1U << 4)
#endif

struct spc_srv_ring {
	struct io_uring ring;
	struct io_uring_buf_ring *br; /* NULL: no provided buffers, one-shot receives */
	char *bufs;                   /* room for BUFS buffers of BUF_SIZE bytes */
	unsigned provided;            /* buffers in circulation: the first `provided` */
	unsigned sends;               /* sends queued since the last submission */
	bool inc;                     /* consumed incrementally: off[] says where */
	uint32_t off[BUFS];           /* inc: bytes of each buffer already handed over */
	uint64_t queued[BUFS / 64];   /* bit per buffer: in the kernel's ring */
	uint64_t ran_out;             /* receives that found no buffer */
	uint64_t ran_out_trim;        /* ran_out at the last spc_srv_ring_trim */
	size_t br_size;
};

static bool buf_queued(const struct spc_srv_ring *r, unsigned bid)
{
	return (r->queued[bid / 64] >> (bid % 64)) & 1u;
}

/* Queues buffer bid for the kernel at offset `at` past the ring's tail
 * (made visible by the next io_uring_buf_ring_advance). */
static void buf_give(struct spc_srv_ring *r, unsigned bid, int at)
{
	r->queued[bid / 64] |= UINT64_C(1) << (bid % 64);
	io_uring_buf_ring_add(r->br, r->bufs + (size_t)bid * BUF_SIZE, BUF_SIZE,
			      (unsigned short)bid, io_uring_buf_ring_mask(BUFS), at);
}

/* Pages of buffers [from, to) back to the system (they read as zeros). */
static void bufs_forget(struct spc_srv_ring *r, unsigned from, unsigned to)
{
	if (from < to)
		(void)madvise(r->bufs + (size_t)from * BUF_SIZE, (size_t)(to - from) * BUF_SIZE,
			      MADV_DONTNEED);
}

/* The provided-buffer ring of multishot receives (Linux 5.19). Returns
 * false where the kernel has none (receives are then one-shot). */
static bool bufs_open(struct spc_srv_ring *r)
{
	struct io_uring_buf_reg reg = { 0 };
	void *p;

	r->br_size = BUFS * sizeof(struct io_uring_buf);
	p = mmap(NULL, r->br_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return false;
	/* A mapping of its own: pages no buffer was ever given out of stay
	 * untouched (a malloc'd block may reuse memory already resident). */
	r->bufs = mmap(NULL, (size_t)BUFS * BUF_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r->bufs == MAP_FAILED)
		r->bufs = NULL;
	reg.ring_addr = (uint64_t)(uintptr_t)p;
	reg.ring_entries = BUFS;
	reg.bgid = BGID;
	reg.pad = IOU_PBUF_RING_INC; /* the flags field of newer headers */
	r->inc = r->bufs && io_uring_register_buf_ring(&r->ring, &reg, 0) == 0;
	reg.pad = 0; /* refused (before Linux 6.12): whole buffers */
	if (!r->bufs || (!r->inc && io_uring_register_buf_ring(&r->ring, &reg, 0) != 0)) {
		munmap(p, r->br_size);
		if (r->bufs)
			munmap(r->bufs, (size_t)BUFS * BUF_SIZE);
		r->bufs = NULL;
		return false;
	}
	r->br = p;
	io_uring_buf_ring_init(r->br);
	r->provided = SPC_SRV_RING_BUFS_FIRST;
	for (unsigned i = 0; i < r->provided; i++)
		buf_give(r, i, (int)i);
	io_uring_buf_ring_advance(r->br, (int)r->provided);
	return true;
}

bool spc_srv_ring_multishot(const struct spc_srv_ring *r)
{
	return r->br != NULL;
}

unsigned spc_srv_ring_buffers(const struct spc_srv_ring *r)
{
	return r->br ? r->provided : 0;
}

unsigned spc_srv_ring_trim(struct spc_srv_ring *r)
{
	if (!r->br)
		return 0;
	if (r->ran_out != r->ran_out_trim) {
		r->ran_out_trim = r->ran_out; /* a burst still on: keep them */
		return r->provided;
	}
	/* Only with no filled buffer awaiting its completion (essay): the
	 * completion queue drained and no overflow kept in the kernel. */
	if (r->provided == SPC_SRV_RING_BUFS_FIRST || io_uring_cq_ready(&r->ring) != 0 ||
	    io_uring_cq_has_overflow(&r->ring))
		return r->provided;
	r->provided = SPC_SRV_RING_BUFS_FIRST;
	bufs_forget(r, 0, BUFS);
	return r->provided;
}

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
	(void)bufs_open(r);
	*out = r;
	return 0;
}

void spc_srv_ring_close(struct spc_srv_ring *r)
{
	if (!r)
		return;
	io_uring_queue_exit(&r->ring); /* unregisters the buffer ring too */
	if (r->br) {
		munmap(r->br, r->br_size);
		munmap(r->bufs, (size_t)BUFS * BUF_SIZE);
	}
	free(r);
}

/* A free submission entry: a full queue goes to the kernel first. */
static struct io_uring_sqe *sqe_get(struct spc_srv_ring *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	while (!sqe) {
		io_uring_submit(&r->ring);
		r->sends = 0;
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

void spc_srv_ring_recv_multi(struct spc_srv_ring *r, int fd, uint64_t token)
{
	struct io_uring_sqe *sqe = sqe_get(r);

	io_uring_prep_recv_multishot(sqe, fd, NULL, 0, 0);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, token);
}

void spc_srv_ring_send(struct spc_srv_ring *r, int fd, const void *buf, size_t len,
		       uint64_t token)
{
	struct io_uring_sqe *sqe = sqe_get(r);

	io_uring_prep_send(sqe, fd, buf, len, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, token);
	r->sends++;
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

/* Hands the completions the kernel has posted to done(), in order,
 * giving buffers back as their bytes are taken; whenever
 * SPC_SRV_RING_CHUNK requests are queued, submits them before going on.
 * Returns how many completions were handled. */
static unsigned reap(struct spc_srv_ring *r, spc_srv_ring_done_fn *done, void *arg)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	bool more = true;

	while (more) {
		unsigned got = 0;
		int bufs_back = 0;

		more = false;
		/* done() may queue submissions; the tail this reads is the
		 * kernel's, the head ours until the advance below. */
		io_uring_for_each_cqe(&r->ring, head, cqe) {
			struct spc_srv_ring_cqe c = { .token = io_uring_cqe_get_data64(cqe),
						      .res = cqe->res,
						      .more = (cqe->flags & IORING_CQE_F_MORE) != 0 };
			unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
			bool buf = (cqe->flags & IORING_CQE_F_BUFFER) && r->br && bid < BUFS;
			bool back = buf;

			if (buf)
				c.data = r->bufs + (size_t)bid * BUF_SIZE + (r->inc ? r->off[bid] : 0);
			if (buf && r->inc) {
				/* the kernel goes on filling this buffer after
				 * these bytes, until it sends one without BUF_MORE */
				uint32_t at = r->off[bid];

				r->off[bid] += c.res > 0 ? (uint32_t)c.res : 0;
				back = !(cqe->flags & IORING_CQE_F_BUF_MORE);
				/* A read the buffer's rest cut short: the kernel
				 * goes on in the next buffer at once. */
				c.cut = back && at > 0 && r->off[bid] == BUF_SIZE && c.more &&
					(cqe->flags & IORING_CQE_F_SOCK_NONEMPTY);
				if (back)
					r->off[bid] = 0;
			}
			if (back) /* the kernel is done with it: no longer in its ring */
				r->queued[bid / 64] &= ~(UINT64_C(1) << (bid % 64));
			if (c.res == -ENOBUFS && r->br &&
			    (c.token & SPC_RING_OP_MASK) == SPC_RING_RECV) {
				r->ran_out++;
				if (r->provided < BUFS) {
					/* every buffer was taken: twice as many from
					 * now on (the ring has room: each buffer is
					 * queued at most once, BUFS at most; one still
					 * queued from before a trim is there already) */
					for (unsigned i = r->provided; i < 2 * r->provided; i++)
						if (!buf_queued(r, i))
							buf_give(r, i, bufs_back++);
					r->provided *= 2;
				}
			}
			done(arg, &c);
			if (back && bid < r->provided) /* copied: the buffer goes back at once */
				buf_give(r, bid, bufs_back++);
			else if (back) /* past the ring's start set since a trim: dropped */
				bufs_forget(r, bid, bid + 1);
			got++;
			if (io_uring_sq_ready(&r->ring) >= SPC_SRV_RING_CHUNK) {
				more = true;
				break;
			}
		}
		/* Release store of the buffer ring's tail: the kernel reads the
		 * entries written above only after it sees the new tail. */
		if (bufs_back)
			io_uring_buf_ring_advance(r->br, bufs_back);
		io_uring_cq_advance(&r->ring, got);
		n += got;
		if (more) {
			/* A chunk of replies leaves now rather than after the
			 * whole batch: the first request of a batch of hundreds
			 * is not kept waiting for the last one's turn. */
			io_uring_submit(&r->ring);
			r->sends = 0;
		}
	}
	return n;
}

int spc_srv_ring_wait(struct spc_srv_ring *r, unsigned wait_nr, unsigned timeout_us,
		      spc_srv_ring_done_fn *done, void *arg)
{
	struct __kernel_timespec ts = { .tv_sec = timeout_us / 1000000,
					.tv_nsec = (long long)(timeout_us % 1000000) * 1000 };
	struct io_uring_cqe *cqe;
	unsigned want = r->sends + io_uring_cq_ready(&r->ring) + wait_nr;
	int rc;

	r->sends = 0;
	rc = io_uring_submit_and_wait_timeout(&r->ring, &cqe, want, &ts, NULL);
	if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN)
		return rc;
	return (int)reap(r, done, arg);
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

bool spc_srv_ring_multishot(const struct spc_srv_ring *r)
{
	(void)r;
	return false;
}

unsigned spc_srv_ring_trim(struct spc_srv_ring *r)
{
	(void)r;
	return 0;
}

void spc_srv_ring_recv_multi(struct spc_srv_ring *r, int fd, uint64_t token)
{
	(void)r, (void)fd, (void)token;
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
		      spc_srv_ring_done_fn *done, void *arg)
{
	(void)r, (void)wait_nr, (void)timeout_us, (void)done, (void)arg;
	return -ENOSYS;
}

#endif
