/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/server.h: splitcached's parts and what they share.
 *
 *   splitcached.c  options, the cache, listeners, signals, start and stop
 *   worker.c       one epoll loop per thread: accept, read, write, timeouts
 *   exec.c         classic text commands against the item layer
 *   exec_meta.c    meta commands (mg ms md ma mn me)
 *   exec_stats.c   stats
 *   marks.c        per-item marks of the meta commands (marks.h)
 *   store.c        memcached items over the cache (store.h)
 *
 * Threads: the main thread waits for signals and runs delayed flushes;
 * each worker owns its connections (no connection is ever touched by two
 * threads). Shared state: the cache (thread-safe, lock-free on the
 * request path), the counters below (atomics), and the flags that stop
 * the server (atomics).
 */
#ifndef SPC_SRV_SERVER_H
#define SPC_SRV_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "service/proto.h"
#include "service/store.h"
#include "splitcache.h"

#define SPC_SRV_VERSION "1.6.0-splitcache-" SPC_VERSION_STRING
#define SPC_SRV_MAX_LISTENERS 4
#define SPC_SRV_ADDR_MAX 256

/* Log levels as -v counts them. */
enum spc_srv_log { SPC_SRV_LOG_ERR = 0, SPC_SRV_LOG_INFO = 1, SPC_SRV_LOG_DEBUG = 2 };

struct spc_srv_options {
	char index_listen[SPC_SRV_ADDR_MAX]; /* "host:port" or "unix:/path"; "" none */
	char view_listen[SPC_SRV_ADDR_MAX];
	const char *port_file;     /* where the bound addresses are written */
	uint64_t budget;           /* -m; 0: detect */
	unsigned max_conns;        /* -c */
	size_t item_max;           /* -I */
	unsigned threads;          /* -t */
	unsigned idle_timeout_s;   /* 0: none */
	size_t line_max;           /* longest request line without its end */
	size_t out_max;            /* per-connection pending output cap */
	enum spc_mode mode;
	double view_share;
	int verbose;               /* -v count */
	bool allow_remote;         /* bind a non-loopback address */
};

/* Counters of one worker; written by it alone (relaxed atomics so the
 * stats reader in another worker sees whole values). */
struct spc_srv_counters {
	uint64_t cmd_get, cmd_set, cmd_touch, cmd_flush, get_hits, get_misses, get_expired;
	uint64_t delete_hits, delete_misses, incr_hits, incr_misses, decr_hits, decr_misses;
	uint64_t cas_hits, cas_misses, cas_badval, touch_hits, touch_misses;
	uint64_t bytes_read, bytes_written, total_connections, rejected_connections;
	uint64_t conns_closed_output, conns_closed_idle;
	uint64_t conns_handed_off; /* accepted here, given to a less loaded worker */
};

struct spc_srv_listener {
	int fd;
	enum spc_pool_id pool;
	char addr[SPC_SRV_ADDR_MAX]; /* as bound (port resolved) */
	char unix_path[SPC_SRV_ADDR_MAX]; /* to unlink at exit; "" for TCP */
};

struct spc_srv_worker;

struct spc_server {
	struct spc_srv_options opt;
	struct spc_cache *cache;
	struct spc_srv_store store;
	struct spc_proto_limits limits;
	struct spc_srv_listener listeners[SPC_SRV_MAX_LISTENERS];
	unsigned nlisteners;
	struct spc_srv_worker *workers;
	unsigned nworkers;
	uint64_t started;            /* unix time */
	uint64_t budget;             /* the budget the cache runs with */
	uint64_t curr_conns;         /* atomic */
	int stopping;                /* atomic: stop accepting, drain, exit */
	int verbose;                 /* atomic: current log level (verbosity) */
	uint64_t flush_at[SPC_POOL_COUNT]; /* atomic: delayed flush deadline, 0 none */
};

/* Logs one line on stderr when level <= the server's verbosity. */
void spc_srv_log(struct spc_server *srv, enum spc_srv_log level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Relaxed counter add (single writer). */
static inline void spc_srv_count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline uint64_t spc_srv_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* ---- workers (worker.c) ---------------------------------------------- */

/* Creates and starts srv->opt.threads workers serving srv->listeners.
 * Returns SPC_OK, SPC_ENOMEM, SPC_ESYS. Context: main thread. */
int spc_srv_workers_start(struct spc_server *srv);
/* Asks every worker to stop (close listeners, finish in-flight requests,
 * flush, close), waits for them and frees them. Context: main thread. */
void spc_srv_workers_stop(struct spc_server *srv);
/* Connections worker i serves or was handed (0 past the last worker).
 * Context: any thread; a relaxed snapshot. */
unsigned spc_srv_worker_conns(struct spc_server *srv, unsigned i);
/* Worker i's counters (NULL past the last worker): read them with
 * spc_srv_read. Context: any thread while the workers run. */
const struct spc_srv_counters *spc_srv_worker_counters(struct spc_server *srv, unsigned i);
/* Sums every worker's counters into *out. Context: any thread. */
void spc_srv_counters_sum(struct spc_server *srv, struct spc_srv_counters *out);

/* ---- one connection's requests (exec.c, exec_meta.c) ------------------ */

/* What exec does with a request. */
enum spc_srv_exec {
	SPC_SRV_DONE = 0,  /* reply written; the request is consumed */
	SPC_SRV_SUSPEND,   /* a get reply is partly written: call again when the
	                      output drained (cursor kept in the context) */
	SPC_SRV_CLOSE      /* close the connection after flushing the output */
};

/* The per-connection state exec needs. */
struct spc_srv_ctx {
	struct spc_server *srv;
	struct spc_srv_counters *cnt;
	enum spc_pool_id pool;          /* the listener's pool */
	struct spc_proto_out *out;
	size_t out_soft;                /* suspend a get reply past this */
	size_t get_pos;                 /* next key of a suspended get */
	bool get_started;
	uint64_t now;
};

/* Executes one parsed request, appending its reply to ctx->out.
 * Returns SPC_SRV_DONE, SPC_SRV_SUSPEND or SPC_SRV_CLOSE (quit, or the
 * output cap refused the reply). Context: the connection's worker. */
enum spc_srv_exec spc_srv_exec(struct spc_srv_ctx *ctx, const struct spc_proto_req *req);
/* Meta commands (exec_meta.c). Same contract. */
enum spc_srv_exec spc_srv_exec_meta(struct spc_srv_ctx *ctx, const struct spc_proto_req *req);
/* A request the parser refused (exec.c): its error line, and what
 * memcached does besides: a set or ms too large drops the old value.
 * Same contract as spc_srv_exec. */
enum spc_srv_exec spc_srv_exec_error(struct spc_srv_ctx *ctx, const struct spc_proto_req *req);
/* stats [args] (exec_stats.c). Same contract. */
enum spc_srv_exec spc_srv_exec_stats(struct spc_srv_ctx *ctx, const struct spc_proto_req *req);

/* memcached exptime -> absolute expiry for the item layer: 0 never;
 * already expired -> 1 (a time in the past). */
uint64_t spc_srv_expiry(int64_t exptime, uint64_t now);

#endif /* SPC_SRV_SERVER_H */
