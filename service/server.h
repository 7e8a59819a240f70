/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/server.h: the server handle (struct spc_server: settings,
 * listeners, the cache, the item layer) and its log and counters
 * (server.c). Every file of splitcached may include it; it includes only
 * the files below it (store.h, proto.h). The files and the one way their
 * calls go: docs/service.md, "How the service is built".
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

#include "service/io.h"
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
	enum spc_srv_io io;        /* --io; auto is resolved at start (worker.c) */
};



struct spc_srv_auth; /* -Y: the user:password pairs (auth.h) */

/* Counters of one worker; written by it alone (relaxed atomics so the
 * stats reader in another worker sees whole values). */
struct spc_srv_counters {
	uint64_t cmd_get, cmd_set, cmd_touch, cmd_flush, get_hits, get_misses, get_expired;
	uint64_t delete_hits, delete_misses, incr_hits, incr_misses, decr_hits, decr_misses;
	uint64_t cas_hits, cas_misses, cas_badval, touch_hits, touch_misses;
	uint64_t bytes_read, bytes_written, total_connections, rejected_connections;
	uint64_t conns_closed_output, conns_closed_idle;
	uint64_t recv_nobufs;      /* io_uring: multishot receives ended for want of a buffer */
	uint64_t conns_handed_off; /* accepted here, given to a less loaded worker */
	uint64_t auth_cmds, auth_errors; /* -Y */
};

/* One worker's tally: its counters and its load, written by that worker
 * (load also by the worker that hands it a connection, atomically). */
struct spc_srv_tally {
	struct spc_srv_counters cnt;
	unsigned load;           /* atomic: connections served + handed in, not yet taken */
	uint64_t recv_buf_bytes; /* atomic: bytes of the worker's io_uring receive buffers */
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
	struct spc_srv_tally *tallies; /* one per worker (server.c) */
	unsigned ntallies;
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

/* ---- the handle's log and counters (server.c) ---------------------------- */

/* A zeroed handle with its reset lock. Returns SPC_OK or SPC_ENOMEM (*out
 * NULL). Context: main thread. Ownership: freed with spc_srv_free. */
int spc_srv_new(struct spc_server **out);
/* Frees the handle (srv may be NULL); what its fields own (the cache,
 * listeners, auth table) is released by their owners first. Context:
 * main thread, no worker running. */
void spc_srv_free(struct spc_server *srv);

/* Logs one line on stderr, "<UTC time> splitcached[<pid>]: <level>: <text>",
 * when level <= the server's verbosity (errors and warnings: always).
 * Context: any thread. */
void spc_srv_log(struct spc_server *srv, enum spc_srv_log level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The library's log sink (spc_config.log, arg the handle): its errors and
 * warnings always, as what they are; info at -v, debug at -vv. Context:
 * any thread. */
void spc_srv_lib_log(void *arg, enum spc_log_level level, const char *message);

/* Relaxed counter add (single writer). */
static inline void spc_srv_count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline uint64_t spc_srv_read(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* Allocates n zeroed tallies (srv->tallies). Returns SPC_OK or
 * SPC_ENOMEM. Context: main thread, before the workers start. */
int spc_srv_tallies_open(struct spc_server *srv, unsigned n);
/* Frees them. Context: main thread, every worker joined. */
void spc_srv_tallies_close(struct spc_server *srv);
/* Connections worker i serves or was handed (0 past the last worker).
 * Context: any thread; a relaxed snapshot. */
unsigned spc_srv_worker_conns(struct spc_server *srv, unsigned i);
/* Worker i's counters (NULL past the last worker): read them with
 * spc_srv_read. Context: any thread while the workers run. */
const struct spc_srv_counters *spc_srv_worker_counters(struct spc_server *srv, unsigned i);
/* Bytes of io_uring receive buffers every worker has together (a gauge:
 * "stats reset" leaves it). Context: any thread; a relaxed snapshot. */
uint64_t spc_srv_recv_buffer_bytes(struct spc_server *srv);
/* Sums every worker's counters into *out. Context: any thread. */
void spc_srv_counters_sum(struct spc_server *srv, struct spc_srv_counters *out);
/* stats reset: from now on spc_srv_counters_sum counts from zero (the
 * per-worker counters of "stats workers" are not reset), and the cache's
 * counters too (spc_stats_reset). Context: any thread. */
void spc_srv_stats_reset(struct spc_server *srv);

#endif /* SPC_SRV_SERVER_H */
