/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/io.h: the workers' I/O backends.
 *
 * A worker moves its connections' bytes either with epoll (readiness, then
 * one recv and one send per request, worker.c) or with an io_uring of its
 * own (io_uring.c): receives and sends are queued as submissions and the
 * whole batch -- every connection's reply, every re-armed receive -- goes
 * to the kernel in one io_uring_enter, which also waits for the next
 * completions. Under a request/reply load that is one system call per
 * batch instead of two per request.
 *
 * --io chooses: `epoll`, `uring`, or `auto` (the default: io_uring when the
 * kernel lets the process set one up, epoll otherwise -- a container whose
 * seccomp filter refuses io_uring_setup gets EPERM or ENOSYS, the fallback
 * is logged). Without liburing at build time, `auto` is epoll and `uring`
 * is refused.
 */
#ifndef SPC_SRV_IO_H
#define SPC_SRV_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum spc_srv_io { SPC_SRV_IO_AUTO = 0, SPC_SRV_IO_EPOLL, SPC_SRV_IO_URING };

/* The name of a backend ("auto", "epoll", "uring"). Context: any. */
const char *spc_srv_io_name(enum spc_srv_io io);

/* What a completion was for: the low bits of its token (the rest is the
 * connection's address, aligned to 8). */
enum spc_srv_ring_op {
	SPC_RING_RECV = 0, SPC_RING_SEND = 1, SPC_RING_POLL = 2, SPC_RING_CANCEL = 3
};
#define SPC_RING_OP_MASK 3u

struct spc_srv_ring; /* one worker's io_uring */

/* Multishot receives land in the ring's provided buffers, each of
 * memcached's read size (the parser's read_max: a line that arrives whole
 * within one read is served whatever its length, so a completion must
 * bring as much as a read would). A worker starts with
 * SPC_SRV_RING_BUFS_FIRST of them (256 KiB) and doubles them each time a
 * receive finds none free, up to SPC_SRV_RING_BUFS (2 MiB): the kernel
 * takes them in ring order, so every buffer provided is soon memory in
 * use, and a worker with a few dozen connections needs a few dozen. A
 * tick (a second or more) in which none ran out takes it back to the
 * start set (spc_srv_ring_trim). */
#define SPC_SRV_RING_BUFS 128
#define SPC_SRV_RING_BUFS_FIRST 16
#define SPC_SRV_RING_BUF_SIZE 16384

/* Requests a worker queues before it submits them in the middle of a
 * batch, so that the replies computed first leave first; also the most
 * requests a wait waits for (worker.c). At 32 or fewer connections per
 * worker a batch is one chunk, submitted with the next wait. */
#define SPC_SRV_RING_CHUNK 32

/* One completion as spc_srv_ring_wait hands it over. */
struct spc_srv_ring_cqe {
	uint64_t token;
	int res;          /* as the system call would return it (negative errno) */
	bool more;        /* a multishot request stays armed: more completions come */
	const char *data; /* a multishot receive's res bytes, valid during the call only */
	bool cut;         /* they stop at the end of a buffer that took part of a read,
			   * and the socket holds more: the next completion goes on */
};
typedef void spc_srv_ring_done_fn(void *arg, const struct spc_srv_ring_cqe *c);

/* Tries to set up a ring (the probe of --io auto, and each worker's own).
 * Returns 0, or a negative errno: -ENOSYS without kernel or build
 * support, -EPERM where seccomp or kernel.io_uring_disabled refuse it,
 * -ENOMEM. Ownership: *out closed with spc_srv_ring_close. Context: the
 * thread that will use the ring alone (it is set up single-issuer). */
int spc_srv_ring_open(struct spc_srv_ring **out, unsigned entries);
/* Frees the ring; requests still in flight are cancelled by the kernel.
 * Context: the ring's thread. */
void spc_srv_ring_close(struct spc_srv_ring *r);

/* Queue one request; nothing reaches the kernel before spc_srv_ring_wait
 * (which submits it, at the latest, before it waits).
 * The buffer must stay in place until the request's completion.
 * Context: the ring's thread. */
void spc_srv_ring_recv(struct spc_srv_ring *r, int fd, void *buf, size_t len, uint64_t token);
void spc_srv_ring_send(struct spc_srv_ring *r, int fd, const void *buf, size_t len,
		       uint64_t token);
/* True when the ring has provided buffers, so spc_srv_ring_recv_multi
 * can be used. Context: the ring's thread. */
bool spc_srv_ring_multishot(const struct spc_srv_ring *r);
/* Provided buffers the ring has now (0: none), between
 * SPC_SRV_RING_BUFS_FIRST and SPC_SRV_RING_BUFS. Context: the ring's
 * thread. */
unsigned spc_srv_ring_buffers(const struct spc_srv_ring *r);
/* The worker's tick: when the ring has more than its start set and no
 * receive ran out of buffers since the last call (a burst is over), back
 * to SPC_SRV_RING_BUFS_FIRST; the pages of every buffer go back to the
 * system (io_uring.c). Returns the buffers the ring has now (0: none).
 * Context: the ring's thread, between waits, a second or more apart. */
unsigned spc_srv_ring_trim(struct spc_srv_ring *r);
/* A multishot receive on fd: one completion per arrival of data, its
 * bytes in a provided buffer (c->data) that goes back to the ring after
 * the completion's call; armed while c->more. It ends (a completion
 * without more) at end of file (res 0), on an error, when no provided
 * buffer was free (-ENOBUFS: the buffers of the last wait are back by
 * the next one, and the ring has twice as many, up to SPC_SRV_RING_BUFS,
 * when the completion is handed over) or whenever the kernel ends it: then it is queued again
 * if data is still wanted. */
void spc_srv_ring_recv_multi(struct spc_srv_ring *r, int fd, uint64_t token);
/* One-shot readiness (POLLIN) of fd: completes at once when fd is ready. */
void spc_srv_ring_poll(struct spc_srv_ring *r, int fd, uint64_t token);
/* Cancels every request whose token is `target`; the cancelled ones
 * complete with -ECANCELED, the cancel itself with `target | CANCEL`. */
void spc_srv_ring_cancel(struct spc_srv_ring *r, uint64_t target);

/* Submits everything queued and waits, up to timeout_us, until the
 * sends queued since the last submission have completed and wait_nr
 * completions more are there; then calls done(arg, c) for every
 * completion there is (after the timeout: fewer, or none), in order.
 * done() may queue requests, never wait; whenever SPC_SRV_RING_CHUNK are
 * queued they are submitted before the next completion is handed over.
 * Returns the number of completions handled, or a negative errno.
 * Context: the ring's thread. */
int spc_srv_ring_wait(struct spc_srv_ring *r, unsigned wait_nr, unsigned timeout_us,
		      spc_srv_ring_done_fn *done, void *arg);

#endif /* SPC_SRV_IO_H */
