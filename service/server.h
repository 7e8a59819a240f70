/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/server.h: splitcached's parts and what they share.
 *
 *   splitcached.c  the cache, listeners, signals, start and stop
 *   options.c      the command line (memcached's options and ours)
 *   auth.c         -Y: memcached's ASCII authentication file
 *   startup.c      -d, -P, -r, -k, -u and the hash seed
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

/* Log levels as -v counts them; warnings are printed always, as errors. */
enum spc_srv_log {
	SPC_SRV_LOG_ERR = 0, SPC_SRV_LOG_INFO = 1, SPC_SRV_LOG_DEBUG = 2, SPC_SRV_LOG_WARN = 3
};

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
	bool mode_set;             /* --mode given (else from the listeners) */
	double view_share;
	int verbose;               /* -v count */
	bool allow_remote;         /* bind a non-loopback address */
	unsigned unix_mask;        /* -a: mode of a unix socket file */
	unsigned backlog;          /* -b */
	unsigned reads_per_event;  /* -R */
	const char *pid_file;      /* -P */
	const char *user;          /* -u */
	const char *auth_file;     /* -Y */
	bool daemon;               /* -d */
	bool core_dumps;           /* -r */
	bool lock_memory;          /* -k */
	bool prefault;             /* -L */
	bool no_cas;               /* -C */
	bool no_evict;             /* -M */
	bool no_flush;             /* -F */
	uint64_t hash_seed;        /* --hash-seed */
	bool hash_seed_set;        /* else a random seed */
	uint32_t full_wait_ms;     /* --full-wait-ms: a store's wait for room */
};

/* Fills *o with the defaults. Context: main thread. */
void spc_srv_options_default(struct spc_srv_options *o);
/* Parses the command line (options.c); may print --help/--version and
 * exit 0. Returns 0, or the exit status of a usage error (64, the
 * message already printed). Ownership: *o points into argv. Context:
 * main thread, once. */
int spc_srv_options_parse(int argc, char **argv, struct spc_srv_options *o);

/* ---- start-up steps (startup.c) ---------------------------------------- */

struct spc_server;

/* p, or p made absolute under the working directory (into buf) so that
 * it names the same file after -d's chdir("/"). Context: main thread. */
const char *spc_srv_keep_path(const char *p, char *buf, size_t cap);
/* -d: daemon(3). Returns 0, -1 (logged). Context: main, before threads. */
int spc_srv_detach(struct spc_server *srv);
/* -P: writes the pid. Returns 0, -1 (logged). Context: main thread. */
int spc_srv_write_pid_file(struct spc_server *srv, const char *path);
/* -r: raises the core limit; a failure is a warning. Context: main. */
void spc_srv_raise_core(struct spc_server *srv);
/* -k: mlockall as pages are touched; a failure is a warning. Context:
 * main thread, before the cache opens. */
void spc_srv_lock_memory(struct spc_server *srv);
/* --hash-seed, else 64 bits from getrandom. Context: main thread. */
uint64_t spc_srv_hash_seed(struct spc_server *srv);
/* -u: as root, switches every thread to the user (not root: ignored).
 * Returns 0, -1 (logged). Context: main thread, after bind and open. */
int spc_srv_drop_privileges(struct spc_server *srv);
/* -Y: loads srv->auth. Returns 0, -1 (logged). Context: main thread. */
int spc_srv_load_auth(struct spc_server *srv);

/* ---- -Y authentication (auth.c) ------------------------------------------ */

struct spc_srv_auth; /* the user:password pairs of the file */

/* Reads memcached's auth file: "user:password" lines. Returns SPC_OK,
 * SPC_EINVAL (no valid line), SPC_ENOMEM, SPC_ESYS (cannot read: errno
 * kept). Ownership: *out freed with spc_srv_auth_free. Context: main. */
int spc_srv_auth_load(const char *path, struct spc_srv_auth **out);
void spc_srv_auth_free(struct spc_srv_auth *a);
/* Checks a "user password" token (the data of the authenticating set).
 * Returns the reply memcached sends: "STORED\r\n",
 * "CLIENT_ERROR authentication failure\r\n" or "CLIENT_ERROR bad
 * authentication token format\r\n"; *ok tells success. Context: any
 * thread (the table is read-only once loaded). */
const char *spc_srv_auth_check(const struct spc_srv_auth *a, const char *tok, size_t len,
			       bool *ok);

/* Counters of one worker; written by it alone (relaxed atomics so the
 * stats reader in another worker sees whole values). */
struct spc_srv_counters {
	uint64_t cmd_get, cmd_set, cmd_touch, cmd_flush, get_hits, get_misses, get_expired;
	uint64_t delete_hits, delete_misses, incr_hits, incr_misses, decr_hits, decr_misses;
	uint64_t cas_hits, cas_misses, cas_badval, touch_hits, touch_misses;
	uint64_t bytes_read, bytes_written, total_connections, rejected_connections;
	uint64_t conns_closed_output, conns_closed_idle;
	uint64_t conns_handed_off; /* accepted here, given to a less loaded worker */
	uint64_t auth_cmds, auth_errors; /* -Y */
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
	struct spc_srv_auth *auth;   /* -Y; NULL: no authentication */
	pthread_mutex_t reset_mu;    /* guards reset_base */
	struct spc_srv_counters reset_base; /* the sums at the last stats reset */
};

/* Logs one line on stderr, "<UTC time> splitcached[<pid>]: <level>: <text>",
 * when level <= the server's verbosity (errors and warnings: always).
 * Context: any thread. */
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
/* stats reset: from now on spc_srv_counters_sum counts from zero (the
 * per-worker counters of "stats workers" are not reset), and the cache's
 * counters too (spc_stats_reset). Context: any thread. */
void spc_srv_stats_reset(struct spc_server *srv);

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
