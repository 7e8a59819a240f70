/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mcload.h: the two halves of mcload, the memcached-protocol load
 * generator: mcload.c (options, threads, epoll loop, report) and
 * mcload_conn.c (one connection: the requests it writes and the check of
 * every reply it reads).
 *
 * Context: a connection and its counters belong to one thread (struct
 * mcl_thread) from the start of the run to its end; nothing here locks.
 * Ownership: main() allocates the connections and threads and frees them
 * after every thread is joined; a loop closes the descriptor of a
 * connection it gives up on and leaves its buffers to main().
 */
#ifndef SPC_MCLOAD_H
#define SPC_MCLOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bench.h"

/* What every connection of a run shares (read-only once the run starts). */
struct mcl_conf {
	unsigned key_size;   /* bytes per key, 8..250 */
	unsigned value_size; /* bytes per value */
	uint64_t keys;       /* key space: indices 0..keys-1 */
	unsigned mget;       /* keys per get (1: single-key get) */
	unsigned depth;      /* requests in flight per connection */
	unsigned set_per_mille; /* share of sets, per 1000 requests */
};

/* One thread's counters (owned by it; summed after the run). */
struct mcl_stats {
	uint64_t requests; /* replies checked and complete (before the deadline) */
	uint64_t gets, sets, hits, misses;
	uint64_t errors;   /* wrong or missing replies, closed connections */
	struct bench_hist lat; /* ns from the request's write to its reply */
};

/* One in-flight request: its kind, write time and keys. */
struct mcl_req {
	uint64_t sent_ns;
	uint32_t *keys; /* conf->mget slots (a set uses keys[0]) */
	unsigned nkeys;
	unsigned next;  /* get: first key a VALUE may still name */
	uint8_t is_set;
};

/* One connection. buffers are sized once from the configuration. */
struct mcl_conn {
	int fd;
	unsigned id;
	uint64_t rng;
	char *in;  size_t in_len, in_cap;
	char *out; size_t out_len, out_off, out_cap;
	struct mcl_req *ring; /* depth slots: head is the oldest in flight */
	unsigned head, inflight;
	size_t value_left; /* bytes of a VALUE's data (and CRLF) still to come */
	uint32_t value_key;
	char *scratch;     /* value_size + 2 bytes: the expected data */
	uint8_t recv_busy, send_busy; /* io_uring: an operation in flight */
};

/* One thread of the run: its connections, deadline and counters. */
struct mcl_thread {
	pthread_t tid;
	const struct mcl_conf *cf;
	struct mcl_conn *conns;
	unsigned nconns;
	uint64_t end_ns;
	uint64_t stop_ns; /* when it stopped issuing (deadline or signal) */
	struct mcl_stats st;
};

/* Set by SIGINT/SIGTERM: the threads stop issuing at their next wake-up. */
extern atomic_int mcl_stop;
#define MCL_DRAIN_NS 2000000000ULL

uint64_t mcl_now_ns(void);
/* The thread loops (arg: struct mcl_thread): epoll (mcload.c) and
 * io_uring (mcload_uring.c, when built with liburing). */
void *mcl_run_epoll(void *arg);
void *mcl_run_uring(void *arg);
/* Returns 1 when this process can set up a ring (mcload_uring.c). */
int mcl_uring_available(void);
/* The end of a thread's run, shared by both loops: every connection still
 * open with requests in flight is counted as that many missing replies. */
void mcl_count_missing(struct mcl_thread *t);
/* The loops' clock check, at each wake-up: once the deadline passed or a
 * signal came, *issuing drops to 0 and the drain (MCL_DRAIN_NS for the
 * replies in flight) begins. Returns 1 when the loop should end: not
 * issuing, and no open connection waits for a reply or the drain is over. */
int mcl_run_over(struct mcl_thread *t, uint64_t now, int *issuing, uint64_t *drain_end);

/* Sets up conn (fd already connected). Returns 0, -1 on out of memory. */
int mcl_conn_init(struct mcl_conn *c, const struct mcl_conf *cf, int fd, unsigned id,
		  uint64_t seed);
/* Moves the unsent output to the buffer's start (no write in flight). */
void mcl_conn_compact_out(struct mcl_conn *c);
/* Frees its buffers and closes its descriptor. */
void mcl_conn_fini(struct mcl_conn *c);
/* Appends one request (random mix) to the output buffer, stamped now_ns.
 * Returns 0, or -1 when depth requests are already in flight or the
 * buffer has no room (neither happens when a caller issues one request
 * per reply: the buffer holds 2 x depth requests). */
int mcl_conn_issue(struct mcl_conn *c, const struct mcl_conf *cf, uint64_t now_ns);
/* Issues n requests; on no room prints and counts an error, returns -1. */
int mcl_conn_refill(struct mcl_conn *c, const struct mcl_conf *cf, struct mcl_stats *st,
		    unsigned n, uint64_t now_ns);
/* Parses what sits in c->in: every complete reply is checked and
 * counted in st (counted as a request only when counted is true).
 * Returns the number of replies completed, or -1 after a wrong reply
 * (printed on stderr with the connection's id, counted in st->errors):
 * the connection is then out of step and must be closed. */
int mcl_conn_parse(struct mcl_conn *c, const struct mcl_conf *cf, struct mcl_stats *st,
		   uint64_t now_ns, int counted);

/* The key of index i (key_size bytes, not terminated) and its value. */
void mcl_key(char *dst, unsigned key_size, uint64_t i);
void mcl_value(char *dst, const struct mcl_conf *cf, uint64_t i);

#endif
