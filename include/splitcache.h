/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * splitcache.h: the one public header of splitcache.
 *
 * A concurrent, memory-bounded key-value cache whose budget is detected at
 * open and split into an index pool (writers building an index) and a view
 * pool (readers answering queries). Readers never lock; one maintainer
 * thread per pool evicts. Handles are opaque; every call returns an
 * spc_status (0 or a negative code) and reports results through
 * out-parameters. Full contracts: docs/api.md.
 *
 * Context words used below:
 *   any thread   - any thread of the process; no registration needed (the
 *                  library registers callers with RCU lazily).
 *   read section - between spc_read_lock() and spc_read_unlock() of the
 *                  same thread.
 *   not in read section - must not be called inside a read section.
 */
#ifndef SPLITCACHE_H
#define SPLITCACHE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SPC_VERSION_STRING "0.1.0"

/* ---- status codes ------------------------------------------------------ */

enum spc_status {
	SPC_OK = 0,
	SPC_ENOTFOUND = -1, /* key absent (or expired) */
	SPC_EINVAL = -2,    /* bad argument */
	SPC_ENOMEM = -3,    /* an allocation failed; nothing was changed */
	SPC_EFULL = -4,     /* pool at its hard limit; maintainer made no room in time */
	SPC_ETOOBIG = -5,   /* key or value longer than allowed */
	SPC_EEXISTS = -6,   /* add: key present; cas: cas value no longer matches */
	SPC_ESYS = -7,      /* a system call failed (thread, mmap) */
	SPC_ECONFIG = -8,   /* bad configuration (e.g. SPLITCACHE_MEMORY) */
	SPC_ETIMEDOUT = -9, /* a bounded wait ran out */
	SPC_ERANGE = -10,   /* output buffer too small; the needed length is reported */
	SPC_ENOTNUM = -11,  /* incr/decr on a value that is not a decimal number */
	SPC_EABOVETIP = -12 /* height above the tip set with spc_set_tip */
};

/* Returns a static, human-readable description of any status (unknown
 * codes included). Context: any thread. */
const char *spc_strerror(int status);

/* Parses a size: "65536", "512K", "512M", "1G", "2T" (also "KiB", "MB", ...,
 * powers of 1024; case-insensitive; optional spaces before the suffix).
 * Returns SPC_OK, or SPC_EINVAL for garbage, negatives, empty strings and
 * values that overflow 64 bits. Context: any thread. */
int spc_parse_size(const char *text, uint64_t *out_bytes);

/* ---- configuration ----------------------------------------------------- */

enum spc_pool_id { SPC_POOL_INDEX = 0, SPC_POOL_VIEW = 1 };
#define SPC_POOL_COUNT 2

enum spc_mode { SPC_MODE_INDEXER = 0, SPC_MODE_VIEW = 1, SPC_MODE_SPLIT = 2 };
enum spc_policy { SPC_POLICY_S3FIFO = 0, SPC_POLICY_CLOCK = 1 };
enum spc_log_level { SPC_LOG_ERROR = 0, SPC_LOG_WARN, SPC_LOG_INFO, SPC_LOG_DEBUG };

/* Log sink; message has no trailing newline. Context: called on any
 * library thread (callers', maintainers'); must not call back into the
 * cache. */
typedef void spc_log_fn(void *arg, enum spc_log_level level, const char *message);

/* Fault injection for tests: called before every allocation or reservation
 * the library makes; a nonzero return makes that one fail as if the system
 * had refused it. Must be thread-safe. */
enum spc_fault_site {
	SPC_FAULT_MALLOC = 0,  /* library bookkeeping (handles, tables, queues) */
	SPC_FAULT_RESERVE,     /* reserving address space for the budget */
	SPC_FAULT_COMMIT,      /* committing (prefaulting) reserved pages */
	SPC_FAULT_ARENA,       /* creating a pool's jemalloc arena */
	SPC_FAULT_POOL_ALLOC,  /* an entry allocation in a pool */
	SPC_FAULT_THREAD       /* creating a maintainer thread */
};
/* The hook's type. Context: called on any library thread, possibly
 * concurrently; must not call back into the cache. */
typedef int spc_fault_fn(void *arg, enum spc_fault_site site, size_t bytes);

struct spc_config {
	uint64_t budget_bytes;     /* 0: SPLITCACHE_MEMORY if set, else detect */
	uint64_t max_budget_bytes; /* 0: 1 GiB; bounds the automatic rule only */
	int use_env;               /* read SPLITCACHE_MEMORY (default 1) */
	const char *root;          /* where /proc and /sys are read (default "/") */
	enum spc_mode mode;        /* default SPC_MODE_SPLIT */
	double view_share;         /* split mode, in (0, 1); default 0.5 */
	int prefault;              /* commit pages up front (default 0) */
	enum spc_policy policy;    /* default SPC_POLICY_S3FIFO */
	uint64_t hash_seed;        /* fixed default; change it for adversarial keys */
	unsigned high_watermark_pct; /* maintainer starts evicting above (default 95) */
	unsigned low_watermark_pct;  /* and evicts down to (default 90) % of target */
	uint32_t max_item_bytes;   /* largest value (default 1 MiB) */
	uint32_t full_wait_ms;     /* writer's bounded wait before SPC_EFULL (default 100) */
	uint64_t max_entries[SPC_POOL_COUNT]; /* 0: bounded by bytes only */
	double index_max_load;     /* entries per index bucket before the index
	                              doubles (default 2.0, range (0, 64]):
	                              lower is faster lookups, more memory
	                              (0.5: ~+36 B per entry); see docs/api.md */
	int synchronous_maintenance; /* no maintainer threads: the maintenance
	                                step runs in the writer's thread after
	                                each write (deterministic; single-writer
	                                replay and tests) */
	spc_log_fn *log;           /* NULL: warnings to stderr, nothing else */
	void *log_arg;
	spc_fault_fn *fault;       /* NULL in production */
	void *fault_arg;
};

/* Fills cfg with the defaults above. Context: any thread. */
void spc_config_init(struct spc_config *cfg);

/* ---- memory report ----------------------------------------------------- */

#define SPC_MEM_MAX_SOURCES 16
#define SPC_MEM_MAX_ATTEMPTS 48

struct spc_mem_source {
	const char *name;   /* "cgroup2.memory.max", "meminfo.MemAvailable", ... */
	int has_bytes;      /* 0: the source applies no limit or was unreadable */
	uint64_t bytes;     /* the raw limit it states */
	uint64_t candidate; /* what the rule derives from it (e.g. 0.6 x limit) */
	char path[256];     /* file read, "" for rlimits */
	char note[160];     /* why skipped, "unlimited", ... ("" if none) */
};

struct spc_mem_attempt {
	uint64_t bytes;
	int ok;
	char error[96]; /* strerror of the failure, "" when ok */
};

struct spc_mem_pool_report {
	uint64_t target_bytes;  /* what the split gives this pool */
	uint64_t charged_bytes; /* live entries plus those awaiting reclamation */
	uint64_t arena_allocated, arena_active, arena_resident, arena_mapped;
	unsigned arena_index;   /* jemalloc arena, 0 when none */
	int hard_capped;        /* arena carved from the reservation */
	/* The slab layer (pools/slab.c) for entries up to 2 KiB; zeros when
	 * off (sanitizer builds, malloc fallback). */
	uint64_t slab_chunk_bytes;  /* chunks held from the arena for slabs */
	uint64_t slab_inuse_bytes;  /* slabs given to size classes (resident) */
	uint64_t slab_live_bytes;   /* class sizes of live slots: what was charged */
	uint64_t slab_held_bytes;   /* inuse - live: free slots, headers, tails,
	                               cached empty slabs; resident but not charged */
	uint64_t slab_live_slots, slab_slabs, slab_free_slabs; /* free: in chunks,
	                               pages returned to the system */
};

struct spc_mem_report {
	uint64_t budget_bytes;
	uint64_t max_budget_bytes;
	const char *tightest_source; /* name of the source that decided, or "override" */
	int explicit_budget;          /* budget given by config or SPLITCACHE_MEMORY */
	int explicit_cut;             /* the explicit budget was cut to the sources */
	char rule[256];               /* the rule as applied, one line */
	unsigned n_sources;
	struct spc_mem_source sources[SPC_MEM_MAX_SOURCES];
	unsigned n_attempts;
	struct spc_mem_attempt attempts[SPC_MEM_MAX_ATTEMPTS];
	uint64_t reserved_bytes;
	int prefault;
	enum spc_mode mode;
	double view_share;
	struct spc_mem_pool_report pools[SPC_POOL_COUNT];
	uint64_t recommended_min_bytes;
	int below_recommended_minimum;
	int degraded; /* every reservation failed: minimal cache */
	unsigned n_warnings;
	char warnings[8][160];
};

/* Detects, reserves (then releases) and splits as spc_open would, without
 * opening a cache; fills *out. Returns SPC_OK, SPC_ECONFIG (bad
 * SPLITCACHE_MEMORY; *out names it in warnings[0]), SPC_EINVAL, SPC_ENOMEM.
 * Context: any thread. */
int spc_mem_probe(const struct spc_config *cfg, struct spc_mem_report *out);

/* Renders a report as text or JSON into buf (always NUL-terminated when
 * cap > 0). *needed (may be NULL) receives the full length without the NUL.
 * Returns SPC_OK or SPC_ERANGE when truncated. Context: any thread. */
int spc_mem_report_text(const struct spc_mem_report *r, char *buf, size_t cap, size_t *needed);
/* The same report as one JSON object (keys in docs/memory.md).
 * Returns SPC_OK or SPC_ERANGE. Context: any thread. */
int spc_mem_report_json(const struct spc_mem_report *r, char *buf, size_t cap, size_t *needed);

/* ---- the cache --------------------------------------------------------- */

struct spc_cache;

/* Opens a cache: detects the budget, reserves it, creates both pools and
 * their maintainer threads. cfg is copied (root and strings too).
 * Returns SPC_OK, SPC_EINVAL, SPC_ECONFIG, SPC_ENOMEM, SPC_ESYS; never
 * aborts when memory is short (degraded mode is SPC_OK, reported).
 * Context: any thread, not in read section. Ownership: spc_close frees. */
int spc_open(const struct spc_config *cfg, struct spc_cache **out);

/* Stops the maintainers, frees every entry after a grace period, destroys
 * the arenas. No other thread may use the cache during or after the call.
 * Context: any thread, not in read section. */
void spc_close(struct spc_cache *cache);

/* Read-side section for zero-copy reads. Nestable; cheap (no syscall).
 * Context: any thread. Never block, sleep or call a writing function of
 * the cache for long inside it: reclamation waits for it. */
void spc_read_lock(struct spc_cache *cache);
/* Ends the section begun by the matching spc_read_lock; pointers obtained
 * inside it must not be used after. Context: read section. */
void spc_read_unlock(struct spc_cache *cache);

struct spc_value {
	const void *data; /* valid until the caller's spc_read_unlock */
	size_t len;
	uint32_t flags;   /* client flags (memcached semantics) */
	uint64_t cas;     /* unique per store */
};

/* Zero-copy lookup. Returns SPC_OK (out filled), SPC_ENOTFOUND, SPC_EINVAL.
 * Context: read section. Ownership: out->data belongs to the cache and
 * stays valid and unchanged until this thread leaves its read section. */
int spc_get_rcu(struct spc_cache *cache, enum spc_pool_id pool,
                const void *key, size_t klen, struct spc_value *out);

/* Copy-out lookup: copies the value into buf. *vlen receives its length.
 * Returns SPC_OK, SPC_ENOTFOUND, SPC_ERANGE (cap < length; nothing copied,
 * *vlen says how much is needed), SPC_EINVAL. Context: any thread. */
int spc_get(struct spc_cache *cache, enum spc_pool_id pool,
            const void *key, size_t klen, void *buf, size_t cap, size_t *vlen);

/* Insert or replace. Visible to every lookup that starts after it returns.
 * Returns SPC_OK, SPC_EINVAL, SPC_ETOOBIG, SPC_ENOMEM, SPC_EFULL (the cache
 * is unchanged on every error). Context: any thread, not in read section. */
int spc_set(struct spc_cache *cache, enum spc_pool_id pool,
            const void *key, size_t klen, const void *val, size_t vlen);

/* Insert only if absent. Returns as spc_set, plus SPC_EEXISTS.
 * Context: any thread, not in read section. */
int spc_add(struct spc_cache *cache, enum spc_pool_id pool,
            const void *key, size_t klen, const void *val, size_t vlen);

/* Removes a key. Returns SPC_OK, SPC_ENOTFOUND, SPC_EINVAL.
 * Context: any thread, not in read section. */
int spc_delete(struct spc_cache *cache, enum spc_pool_id pool, const void *key, size_t klen);

/* Removes every entry of a pool (not counted as evictions). Returns SPC_OK,
 * SPC_EINVAL. Context: any thread, not in read section. */
int spc_clear(struct spc_cache *cache, enum spc_pool_id pool);

/* Changes mode and view share at run time. The shrinking pool first evicts
 * down to its new target, then the other grows. Returns SPC_OK, SPC_EINVAL,
 * SPC_ETIMEDOUT (the shrinking pool could not shed in time: its new target
 * holds, the other keeps its old target until the next call).
 * Context: any thread, not in read section. */
int spc_set_mode(struct spc_cache *cache, enum spc_mode mode, double view_share);

struct spc_stats {
	uint64_t hits, misses;
	uint64_t items;           /* live entries */
	uint64_t charged_bytes;   /* live entries + reclamation backlog */
	uint64_t target_bytes;
	uint64_t evictions;       /* entries removed to make room (never replacements) */
	uint64_t inserts;         /* successful stores of a new or replacing entry */
	uint64_t deletes;
	uint64_t efull;           /* writes refused with SPC_EFULL */
	uint64_t reclaim_backlog_bytes; /* unpublished, awaiting a grace period */
	uint64_t expirations;
};

/* Statistics of one pool, or of both summed when pool is -1.
 * Returns SPC_OK, SPC_EINVAL. Context: any thread. Counters are read
 * without stopping writers: each is exact, the set is not a snapshot. */
int spc_stats(struct spc_cache *cache, int pool, struct spc_stats *out);

/* The memory report of an open cache (charged bytes and arena statistics
 * included). Returns SPC_OK, SPC_EINVAL. Context: any thread. */
int spc_memory_report(struct spc_cache *cache, struct spc_mem_report *out);

/* fork() without exec after a cache was opened: call prepare in the parent
 * before fork, then parent in the parent and child in the child. Caches
 * opened before the fork must not be used in the child. Context: any
 * thread, not in read section. */
void spc_fork_prepare(void);
/* In the parent after fork(). Context: the thread that called prepare. */
void spc_fork_parent(void);
/* In the child after fork(); the child should exec or exit. Context: the
 * child's only thread. */
void spc_fork_child(void);

#ifdef __cplusplus
}
#endif
#endif /* SPLITCACHE_H */
