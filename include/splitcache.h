/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * splitcache.h: the one public header of splitcache.
 *
 * A concurrent, memory-bounded key-value cache whose budget is detected at
 * open and split into an index pool (writers building an index) and a view
 * pool (readers answering queries). Readers never lock; one maintainer
 * thread per pool evicts. Handles are opaque. A call that can fail
 * returns an int status (SPC_OK = 0 or a negative enum spc_status) and
 * reports results through out-parameters; the calls that cannot fail
 * return nothing or a value instead (spc_strerror, spc_config_init,
 * spc_close, spc_read_lock, spc_read_unlock, spc_now, spc_tip,
 * spc_actual_memory_limit, spc_recommended_minimum,
 * spc_below_recommended_minimum and spc_debug_enabled: flags, spc_fork_*).
 * Full contracts: docs/api.md.
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
	SPC_EFULL = -4,     /* pool's bytes at its limit; maintainer made no room in time */
	SPC_ETOOBIG = -5,   /* key or value longer than allowed */
	SPC_EEXISTS = -6,   /* add: key present; cas: cas value no longer matches */
	SPC_ESYS = -7,      /* a system call failed (thread, mmap) */
	SPC_ECONFIG = -8,   /* bad configuration (e.g. SPLITCACHE_MEMORY) */
	SPC_ETIMEDOUT = -9, /* a bounded wait ran out */
	SPC_ERANGE = -10,   /* output buffer too small; the needed length is reported */
	SPC_ENOTNUM = -11,  /* incr/decr on a value that is not a decimal number */
	SPC_EABOVETIP = -12, /* height above the tip set with spc_set_tip */
	SPC_ENOHEIGHT = -13, /* no current view height (spc_set_view_height) */
	SPC_EBUSY = -14     /* the maintainer is behind (its queue stayed full, or
	                       every reclamation batch awaits a grace period): room
	                       may exist; nothing was changed, retry later */
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
/* Eviction policies (docs/policies.md). Every one keeps the readers' path
 * the same: a hit is one relaxed test-before-set of the entry's access
 * counter, no lock, no queue move; the pool's maintainer alone orders
 * entries and picks victims. All are deterministic: the same sequence of
 * operations gives the same victims.
 *   SPC_POLICY_STEERED  ghost-steered S3-FIFO, the default: S3-FIFO whose
 *                       small queue grows when keys it let go come back and
 *                       shrinks when keys the main queue let go do, so it
 *                       filters one-hit wonders like S3-FIFO and holds
 *                       loops like CLOCK (within 0.004 of exact LRU on
 *                       every trace measured). 7 B per entry with the
 *                       index pool's offsets, like S3-FIFO.
 *   SPC_POLICY_S3FIFO   S3-FIFO (SOSP 2023), the default before: best where
 *                       one-hit wonders dominate, far below LRU on loops.
 *   SPC_POLICY_CLOCK    CLOCK, second chance: LRU's lock-free stand-in;
 *                       5 B per entry, no ghost. */
enum spc_policy { SPC_POLICY_S3FIFO = 0, SPC_POLICY_CLOCK = 1, SPC_POLICY_STEERED = 2 };
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

/* The cache's clock, in whole seconds; expiry deadlines are read against
 * it. Must never go backwards by much and be cheap. Context: called on any
 * thread (readers of entries that have an expiry, maintainers), possibly
 * concurrently; must not call back into the cache. */
typedef uint64_t spc_clock_fn(void *arg);

#define SPC_DEBUG_MAX_PREFIXES 8

/* How debug mode cuts keys into prefixes (docs/api.md, "Debug mode"). */
enum spc_prefix_rule {
	SPC_PREFIX_FIXED = 0, /* the lengths of debug_prefix_lens (4, 8, 16) */
	SPC_PREFIX_SLASH = 1  /* every '/'-ended prefix of 8 to 64 bytes */
};

struct spc_config {
	uint64_t budget_bytes;     /* 0: SPLITCACHE_MEMORY if set, else detect */
	uint64_t max_budget_bytes; /* 0: 1 GiB; bounds the automatic rule only */
	int use_env;               /* read SPLITCACHE_MEMORY (default 1) */
	const char *root;          /* where /proc and /sys are read (default "/") */
	enum spc_mode mode;        /* default SPC_MODE_SPLIT */
	double view_share;         /* split mode, in (0, 1); default 0.5 */
	double view_height_share;  /* view sub-budgets: 0 (default) one shared
	                              budget; in (0, 1) height entries may hold
	                              this share of the view pool, API and
	                              plain entries the rest, each evicting
	                              within its own (0.5: the original's
	                              50/50); docs/views.md */
	int prefault;              /* commit pages up front (default 0) */
	enum spc_policy policy;    /* default SPC_POLICY_STEERED */
	uint64_t hash_seed;        /* fixed default; change it for adversarial keys */
	unsigned high_watermark_pct; /* maintainer starts evicting above (default 95) */
	unsigned low_watermark_pct;  /* and evicts down to (default 90) % of target */
	uint32_t max_item_bytes;   /* largest value (default 1 MiB) */
	uint32_t full_wait_ms;     /* writer's bounded wait before SPC_EFULL (default 100) */
	uint64_t max_entries[SPC_POOL_COUNT]; /* 0: bounded by bytes only */
	double index_max_load;     /* checked (range (0, 64]) and
	                              otherwise ignored: it tuned the former
	                              index; see docs/api.md */
	int synchronous_maintenance; /* no maintainer threads: the maintenance
	                                step runs in the writer's thread after
	                                each write (deterministic; single-writer
	                                replay and tests) */
	int no_cas;                /* nonzero: entries keep no cas (memcached's
	                              -C), 8 bytes less per entry; every cas
	                              read is 0 and every request that names a
	                              cas is refused as a mismatch (SPC_EEXISTS,
	                              SPC_ENOTFOUND when the key is absent);
	                              default 0; docs/api.md, "Without cas" */
	spc_clock_fn *clock;       /* NULL: CLOCK_REALTIME seconds (unix time) */
	void *clock_arg;
	int debug;                 /* key-prefix statistics from open (off: one
	                              branch per lookup; spc_debug_enable) */
	enum spc_prefix_rule debug_prefix_rule; /* default SPC_PREFIX_FIXED */
	unsigned debug_cover_pct;  /* a prefix is hidden when one longer prefix
	                              has >= this % of its accesses; 0: the
	                              rule's (fixed 95, slash 80); 1..100 */
	unsigned debug_prefix_lens[SPC_DEBUG_MAX_PREFIXES]; /* prefix lengths in
	                              bytes, 1..64, 0-terminated (default 4, 8,
	                              16); others: spc_open gives SPC_EINVAL */
	uint64_t debug_min_keys;   /* a prefix is reported from this many
	                              distinct keys (default 16) */
	spc_log_fn *log;           /* decisions at SPC_LOG_INFO, warnings at
	                              SPC_LOG_WARN (docs/memory.md, "The log");
	                              NULL: warnings to stderr, nothing else */
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
 * Context: any thread. Inside it, only reads (spc_get_rcu, spc_get,
 * spc_get_at_rcu, ...): never block or sleep, and never call a writing
 * function of the cache (every call marked "not in read section": a
 * writer may wait for room, which the section would hold up; debug builds
 * abort). Reclamation waits for every open section. */
void spc_read_lock(struct spc_cache *cache);
/* Ends the section begun by the matching spc_read_lock; pointers obtained
 * inside it must not be used after. Context: read section. */
void spc_read_unlock(struct spc_cache *cache);

struct spc_value {
	const void *data; /* valid until the caller's spc_read_unlock */
	size_t len;
	uint32_t flags;   /* client flags (memcached semantics) */
	uint64_t cas;     /* unique per store */
	uint64_t expiry;  /* absolute deadline on the cache clock, 0: none */
};

/* Zero-copy lookup. Returns SPC_OK (out filled: data, len, flags, cas,
 * expiry), SPC_ENOTFOUND (also for an expired entry), SPC_EINVAL.
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

/* Removes a key. Returns SPC_OK, SPC_ENOTFOUND (also when the entry had
 * expired: it is removed and counted as an expiration), SPC_EINVAL.
 * Context: any thread, not in read section. */
int spc_delete(struct spc_cache *cache, enum spc_pool_id pool, const void *key, size_t klen);

/* Removes every entry of a pool (not counted as evictions). Returns SPC_OK,
 * SPC_EINVAL. Context: any thread, not in read section. */
int spc_clear(struct spc_cache *cache, enum spc_pool_id pool);

/* Changes mode and view share at run time. The shrinking pool first evicts
 * down to its new target (and so does any pool still above its new target
 * after an earlier call timed out), then the other grows. Returns SPC_OK
 * (every pool's charge is within its new target), SPC_EINVAL,
 * SPC_ETIMEDOUT (a pool could not shed in time: the lowered targets hold,
 * none is raised until the next call).
 * Context: any thread, not in read section. */
int spc_set_mode(struct spc_cache *cache, enum spc_mode mode, double view_share);

/* Lowers (or restores) at run time the memory the pools split: bytes at
 * most the budget reserved at open; 0 restores the whole budget. The
 * pools get new targets for the current mode and view share, shrinking
 * pools first, as spc_set_mode. The memory report keeps the reserved
 * budget; spc_stats' target_bytes show the new split.
 * Returns SPC_OK, SPC_ERANGE (above the reserved budget: a cache never
 * grows past what it reserved), SPC_EINVAL (NULL cache, or too small to
 * give each pool its minimum: nothing changed), SPC_ETIMEDOUT (as
 * spc_set_mode: the new targets of the shrinking pools hold).
 * Context: any thread, not in read section; serialised with spc_set_mode.
 * Ownership: nothing allocated. */
int spc_set_memory_limit(struct spc_cache *cache, uint64_t bytes);

/* ---- memcached item semantics (docs/api.md, "Items") -------------------------
 * Every pool. Entries carry 32-bit client flags, a 64-bit cas unique per
 * store and an optional expiry: an absolute deadline in seconds on the
 * cache clock (spc_now); an entry whose deadline is <= now is a miss for
 * every call and the maintainer reclaims it before live entries. Readers
 * stay lock-free; every write keeps the budget rules of spc_set. */

enum spc_store_mode {
	SPC_STORE_SET = 0,  /* insert or replace */
	SPC_STORE_ADD,      /* only if absent: else SPC_EEXISTS */
	SPC_STORE_REPLACE,  /* only if present: else SPC_ENOTFOUND */
	SPC_STORE_CAS,      /* only if present (SPC_ENOTFOUND) with the cas in
	                       item->cas (else SPC_EEXISTS) */
	SPC_STORE_APPEND,   /* value += val; flags and expiry kept; SPC_ENOTFOUND
	                       when absent; item->cas, when nonzero, must match */
	SPC_STORE_PREPEND   /* value = val + value; as APPEND */
};

struct spc_item {
	uint32_t flags;  /* client flags (ignored by APPEND/PREPEND) */
	uint64_t expiry; /* absolute deadline on the cache clock; 0: never,
	                    1: already expired (reserved); ignored by
	                    APPEND/PREPEND */
	uint64_t cas;    /* the cas the entry must still have (CAS, APPEND,
	                    PREPEND); 0: no check (not allowed for CAS) */
};

/* The cache clock now, in seconds. Context: any thread. */
uint64_t spc_now(struct spc_cache *cache);

/* The general store. item NULL: flags 0, no expiry, no cas. *cas_out (may
 * be NULL) receives the new entry's cas. Atomic against concurrent stores
 * of the same key (a replace in the index's slot; no lock). Returns SPC_OK, SPC_EINVAL,
 * SPC_ETOOBIG (also when append/prepend would pass the item maximum),
 * SPC_ENOMEM, SPC_EFULL, SPC_EEXISTS, SPC_ENOTFOUND (as the mode says);
 * the cache is unchanged on every error. Context: any thread, not in read
 * section. */
int spc_store(struct spc_cache *cache, enum spc_pool_id pool, enum spc_store_mode mode,
              const void *key, size_t klen, const void *val, size_t vlen,
              const struct spc_item *item, uint64_t *cas_out);

/* Copy-out lookup with the entry's metadata: out->data = buf, out->len,
 * flags, cas, expiry. Returns as spc_get (SPC_ERANGE: out->len says how
 * much is needed). Context: any thread. */
int spc_get_item(struct spc_cache *cache, enum spc_pool_id pool, const void *key, size_t klen,
                 void *buf, size_t cap, struct spc_value *out);

/* Adds delta to (decr: subtracts it from) a value that is a decimal
 * number of at most 20 digits that fits 64 bits. incr wraps at 2^64, decr
 * stops at 0. Flags and expiry kept, a new cas. cas_expect nonzero: the
 * entry must still have it (else SPC_EEXISTS). *value_out and *cas_out may
 * be NULL. Returns SPC_OK, SPC_ENOTFOUND, SPC_ENOTNUM, SPC_EEXISTS,
 * SPC_EINVAL, SPC_ENOMEM, SPC_EFULL. Context: any thread, not in read
 * section. */
int spc_arith(struct spc_cache *cache, enum spc_pool_id pool, const void *key, size_t klen,
              int decr, uint64_t delta, uint64_t cas_expect, uint64_t *value_out,
              uint64_t *cas_out);
/* spc_arith(..., 0, delta, 0, ...). Context: as spc_arith. */
int spc_incr(struct spc_cache *cache, enum spc_pool_id pool, const void *key, size_t klen,
             uint64_t delta, uint64_t *value_out, uint64_t *cas_out);
/* spc_arith(..., 1, delta, 0, ...). Context: as spc_arith. */
int spc_decr(struct spc_cache *cache, enum spc_pool_id pool, const void *key, size_t klen,
             uint64_t delta, uint64_t *value_out, uint64_t *cas_out);

/* Sets a present entry's expiry (0: never); the cas is kept. Returns
 * SPC_OK, SPC_ENOTFOUND, SPC_EINVAL, SPC_ENOMEM, SPC_EFULL. Context: any
 * thread, not in read section. */
int spc_touch(struct spc_cache *cache, enum spc_pool_id pool, const void *key, size_t klen,
              uint64_t expiry);

/* Get-and-touch: spc_touch then the copy-out of spc_get_item, as one
 * operation on the same entry. Returns as both; SPC_ERANGE (out->len says
 * how much is needed) touches nothing. Context: any thread, not
 * in read section. */
int spc_gat(struct spc_cache *cache, enum spc_pool_id pool, const void *key, size_t klen,
            uint64_t expiry, void *buf, size_t cap, struct spc_value *out);

/* Delete only if the entry still has cas_expect (0: any). Returns SPC_OK,
 * SPC_ENOTFOUND, SPC_EEXISTS, SPC_EINVAL. Context: any thread, not in read
 * section. */
int spc_delete_cas(struct spc_cache *cache, enum spc_pool_id pool, const void *key, size_t klen,
                   uint64_t cas_expect);

/* ---- view namespaces (docs/views.md) -------------------------------------
 * The view pool holds, besides its plain entries (spc_set on SPC_POOL_VIEW),
 * entries partitioned by block height, (height, key), and named API
 * entries. The three are isolated from each other (the same key bytes in
 * two namespaces are two entries) and share the view pool's budget. */

/* Stores (height, key). Refused with SPC_EABOVETIP when height is above
 * the tip (spc_set_tip), also when the tip is lowered below it while the
 * store runs: then nothing is left behind. Modes and item as spc_store.
 * Each height entry is also charged the per-height index's bookkeeping
 * (56 B, docs/views.md).
 * Context: any thread, not in read section. */
int spc_store_at(struct spc_cache *cache, uint64_t height, enum spc_store_mode mode,
                 const void *key, size_t klen, const void *val, size_t vlen,
                 const struct spc_item *item, uint64_t *cas_out);
/* spc_store_at(..., SPC_STORE_SET, ..., NULL, NULL). Context: as above. */
int spc_set_at(struct spc_cache *cache, uint64_t height, const void *key, size_t klen,
               const void *val, size_t vlen);
/* Copy-out lookup of (height, key); as spc_get. Context: any thread. */
int spc_get_at(struct spc_cache *cache, uint64_t height, const void *key, size_t klen,
               void *buf, size_t cap, size_t *vlen);
/* Zero-copy lookup of (height, key); as spc_get_rcu. Context: read section. */
int spc_get_at_rcu(struct spc_cache *cache, uint64_t height, const void *key, size_t klen,
                   struct spc_value *out);
/* Removes (height, key). As spc_delete. Context: any thread, not in read
 * section. */
int spc_delete_at(struct spc_cache *cache, uint64_t height, const void *key, size_t klen);
/* Removes (height, key) only if its entry still has cas_expect (0: any).
 * As spc_delete_cas. Context: any thread, not in read section. */
int spc_delete_at_cas(struct spc_cache *cache, uint64_t height, const void *key, size_t klen,
                      uint64_t cas_expect);
/* incr (decr 0) or decr of (height, key); as spc_arith, plus SPC_EABOVETIP
 * (and then nothing changed). Context: any thread, not in read section. */
int spc_arith_at(struct spc_cache *cache, uint64_t height, const void *key, size_t klen, int decr,
                 uint64_t delta, uint64_t cas_expect, uint64_t *value_out, uint64_t *cas_out);
/* Sets the expiry of (height, key), keeping its cas; as spc_touch, plus
 * SPC_EABOVETIP. Context: any thread, not in read section. */
int spc_touch_at(struct spc_cache *cache, uint64_t height, const void *key, size_t klen,
                 uint64_t expiry);
/* Get-and-touch of (height, key); as spc_gat, plus SPC_EABOVETIP.
 * Context: any thread, not in read section. */
int spc_gat_at(struct spc_cache *cache, uint64_t height, const void *key, size_t klen,
               uint64_t expiry, void *buf, size_t cap, struct spc_value *out);

/* The current view height (docs/views.md, "The current height"): one per
 * cache, read once by each call below, so a call works entirely at the
 * height current when it began; another thread's set_view_height after
 * that does not change it mid-call. Unchanged by reorganisations and by
 * spc_set_tip: a writer at a height above the tip gets SPC_EABOVETIP,
 * a reader at a height whose entries were removed misses, until the
 * application sets the height again. For threads that each need their
 * own height, the explicit calls (spc_get_at, ...) remain. */

/* Sets it (any height but UINT64_MAX). Returns SPC_OK, SPC_EINVAL.
 * Context: any thread. */
int spc_set_view_height(struct spc_cache *cache, uint64_t height);
/* *height receives it. Returns SPC_OK, SPC_ENOHEIGHT (none set),
 * SPC_EINVAL. Context: any thread. */
int spc_get_view_height(struct spc_cache *cache, uint64_t *height);
/* Forgets it: calls at the current height return SPC_ENOHEIGHT until it
 * is set again. Returns SPC_OK, SPC_EINVAL. Context: any thread. */
int spc_clear_view_height(struct spc_cache *cache);
/* spc_store_at at the current height; *height_out (may be NULL) receives
 * the height used. Returns as spc_store_at, plus SPC_ENOHEIGHT (nothing
 * stored). Context: any thread, not in read section. */
int spc_view_store(struct spc_cache *cache, enum spc_store_mode mode, const void *key,
                   size_t klen, const void *val, size_t vlen, const struct spc_item *item,
                   uint64_t *cas_out, uint64_t *height_out);
/* spc_set_at at the current height. Returns as spc_set_at, plus
 * SPC_ENOHEIGHT. Context: any thread, not in read section. */
int spc_view_set(struct spc_cache *cache, const void *key, size_t klen, const void *val,
                 size_t vlen);
/* spc_get_at at the current height. Returns as spc_get_at, plus
 * SPC_ENOHEIGHT. Context: any thread. */
int spc_view_get(struct spc_cache *cache, const void *key, size_t klen, void *buf, size_t cap,
                 size_t *vlen);
/* spc_get_at_rcu at the current height. Returns as spc_get_at_rcu, plus
 * SPC_ENOHEIGHT. Context: read section. */
int spc_view_get_rcu(struct spc_cache *cache, const void *key, size_t klen,
                     struct spc_value *out);
/* spc_delete_at at the current height. Returns as spc_delete_at, plus
 * SPC_ENOHEIGHT. Context: any thread, not in read section. */
int spc_view_delete(struct spc_cache *cache, const void *key, size_t klen);

/* Chain reorganisation: removes every height-partitioned entry at or
 * above height, in time proportional to what it removes; readers are
 * never blocked (each entry is unpublished like a delete; a reader inside
 * a read section keeps what it already holds). Every store that returned
 * before the call is removed; one running concurrently may survive (never
 * half). *removed (may be NULL) receives the count (entries that had
 * already expired count as expirations instead). Not counted as
 * evictions. Returns SPC_OK, SPC_EINVAL.
 * Context: any thread, not in read section. */
int spc_invalidate_from_height(struct spc_cache *cache, uint64_t height, uint64_t *removed);

/* Sets the tip: stores above it are refused with SPC_EABOVETIP. Lowering
 * it removes the entries above the new tip (as spc_invalidate_from_height
 * (tip + 1)), after waiting for height stores already running (bounded by
 * full_wait_ms) and for the maintainer; serialised with invalidations.
 * Raising it later does not bring them back. The initial tip
 * is UINT64_MAX (no limit). Returns SPC_OK, SPC_EINVAL. Context: any
 * thread, not in read section. */
int spc_set_tip(struct spc_cache *cache, uint64_t tip);
/* The current tip. Context: any thread. */
uint64_t spc_tip(struct spc_cache *cache);

/* Named API entries: name is a NUL-terminated string of 1..65535 bytes.
 * spc_api_set is spc_set on the view pool, in the API namespace of its
 * own. Context: any thread, not in read section. */
int spc_api_set(struct spc_cache *cache, const char *name, const void *val, size_t vlen);
/* As spc_get on the view pool, in the API namespace. Context: any thread. */
int spc_api_get(struct spc_cache *cache, const char *name, void *buf, size_t cap, size_t *vlen);
/* As spc_delete on the view pool, in the API namespace. Context: any
 * thread, not in read section. */
int spc_api_delete(struct spc_cache *cache, const char *name);

/* View sub-budgets (cfg.view_height_share), as they stand. */
struct spc_view_budget {
	double height_share;        /* 0: off, one shared budget */
	uint64_t view_target_bytes; /* the view pool's target */
	uint64_t height_bytes;      /* charges of the height entries filed */
	uint64_t other_bytes;       /* the rest of the pool's live bytes: API
	                               and plain entries (and height entries not
	                               filed yet) */
	uint64_t height_cap_bytes;  /* heights start evicting above (0: off) */
	uint64_t other_cap_bytes;   /* the others' share at the same mark */
	uint64_t height_evictions;  /* height entries evicted for their share */
};

/* Fills *out (gauges read without stopping anyone: each exact, the set
 * not a snapshot). Returns SPC_OK, SPC_EINVAL. Context: any thread. */
int spc_view_budget(struct spc_cache *cache, struct spc_view_budget *out);

/* ---- forced eviction, limits --------------------------------------------- */

/* Evicts until the pool's live bytes (charged minus the reclamation
 * backlog, which is freed within a grace period) are at most pct % of
 * what they were at the call (pct 0..100; 0 empties it), in the
 * maintainer's bounded steps; entries removed count as evictions. Returns
 * when done (SPC_OK) or after timeout_ms (SPC_ETIMEDOUT, the maintainer
 * stops at its next step; in synchronous-maintenance mode also as soon as
 * a step makes no progress).
 * *evicted (may be NULL) receives how many this call evicted. Returns also
 * SPC_EINVAL. Context: any thread, not in read section. */
int spc_evict_to_percent(struct spc_cache *cache, enum spc_pool_id pool, unsigned pct,
                         unsigned timeout_ms, uint64_t *evicted);
/* Evict to target with hysteresis: when the pool holds more than 110 % of
 * its target, evicts down to 90 % of it; otherwise does nothing. Returns as
 * spc_evict_to_percent. Context: as above. */
int spc_evict_to_target(struct spc_cache *cache, enum spc_pool_id pool, unsigned timeout_ms,
                        uint64_t *evicted);

/* The budget the cache actually runs with (after detection, clamps and
 * the reservation ladder). Context: any thread. */
uint64_t spc_actual_memory_limit(struct spc_cache *cache);
/* The smallest budget splitcache recommends (docs/memory.md). Context:
 * any thread. */
uint64_t spc_recommended_minimum(void);
/* Nonzero when the actual limit is below spc_recommended_minimum(); spc_open
 * then also warns through the log callback. Context: any thread. */
int spc_below_recommended_minimum(struct spc_cache *cache);

/* ---- debug mode: key-prefix analysis (docs/api.md, "Debug mode") --------- */

/* Renders a key readably: '/'-separated segments; printable text (ASCII
 * and valid UTF-8) as is, other bytes of a mostly-text segment as \xNN;
 * 20- and 32-byte binary as labelled hashes ("hash20:...", "hash32:...");
 * other binary as hex (4 and 8 bytes also as little-endian integers, long
 * ones shortened). Format: docs/api.md.
 * buf always NUL-terminated when cap > 0; *needed (may be NULL) receives
 * the full length. Returns SPC_OK, SPC_ERANGE, SPC_EINVAL. Context: any
 * thread. */
int spc_key_render(const void *key, size_t klen, char *buf, size_t cap, size_t *needed);

/* Switches key-prefix analysis on: lookups from now on are noted (added to
 * what was noted before; spc_debug_clear starts afresh). The first enable
 * of a cache (or cfg.debug at open) allocates the state, which then stays
 * until spc_close. Safe while other threads read and write: a lookup that
 * races with the switch is noted or not, never half. Returns SPC_OK,
 * SPC_EINVAL (NULL cache; bad debug_prefix_rule, debug_cover_pct or, for
 * the fixed rule, debug_prefix_lens in the open configuration),
 * SPC_ENOMEM (the cache is unchanged). Context: any thread. */
int spc_debug_enable(struct spc_cache *cache);
/* Switches it off: lookups are no longer noted (one branch each); what was
 * noted stays readable in the reports. Returns SPC_OK, SPC_EINVAL (NULL).
 * Context: any thread. */
int spc_debug_disable(struct spc_cache *cache);
/* Nonzero while debug mode is on. Context: any thread. */
int spc_debug_enabled(struct spc_cache *cache);
/* Forgets every note (both pools, every thread's table); on or off stays
 * as it is. Lookups running concurrently may land before or after the
 * clear. Returns SPC_OK (also when never enabled), SPC_EINVAL (NULL).
 * Context: any thread. */
int spc_debug_clear(struct spc_cache *cache);

/* The key-prefix report of a pool (-1: both): per prefix, hits, misses,
 * distinct keys and share of accesses, by the configured rule, prefixes
 * with fewer than debug_min_keys keys left out, and a prefix dropped when
 * one longer prefix has at least debug_cover_pct % of its accesses. As
 * text or JSON into buf, like spc_mem_report_text. Returns SPC_OK,
 * SPC_ERANGE, SPC_EINVAL (debug mode never enabled). Context: any thread. */
int spc_debug_report_text(struct spc_cache *cache, int pool, char *buf, size_t cap,
                          size_t *needed);
/* The same report as one JSON object (keys in docs/api.md, "Debug mode").
 * Returns as spc_debug_report_text. Context: any thread. */
int spc_debug_report_json(struct spc_cache *cache, int pool, char *buf, size_t cap,
                          size_t *needed);

#define SPC_DEBUG_REPORT_MAX 64 /* prefixes per pool in the structure */

struct spc_debug_prefix_stat {
	uint8_t bytes[64];   /* the prefix (spc_key_render shows it) */
	unsigned len;
	uint64_t hits, misses, keys; /* keys: distinct */
	double share_pct;    /* of the pool's analysed lookups */
};

struct spc_debug_pool_report {
	uint64_t accesses, hits, misses;    /* lookups analysed */
	uint64_t below_min_keys, covered;   /* prefixes left out */
	uint64_t untracked_prefix_notes, untracked_key_notes, skipped_lookups;
	uint64_t more_prefixes;             /* shown ones past SPC_DEBUG_REPORT_MAX */
	unsigned n_prefixes;                /* in report order */
	struct spc_debug_prefix_stat prefixes[SPC_DEBUG_REPORT_MAX];
};

struct spc_debug_report {
	int enabled;                        /* spc_debug_enabled at the call */
	enum spc_prefix_rule rule;
	unsigned prefix_lens[SPC_DEBUG_MAX_PREFIXES], n_prefix_lens; /* fixed rule */
	uint64_t min_keys;
	unsigned cover_pct;
	struct spc_debug_pool_report pools[SPC_POOL_COUNT];
};

/* The same report as a structure, both pools, the first
 * SPC_DEBUG_REPORT_MAX prefixes of each in report order. A cache whose
 * debug mode was never enabled gives an empty report (enabled 0).
 * Returns SPC_OK, SPC_EINVAL (NULL). Context: any thread. Ownership: *out
 * is the caller's (about 14 KiB: keep it off small stacks). */
int spc_debug_report(struct spc_cache *cache, struct spc_debug_report *out);

struct spc_stats {
	uint64_t hits, misses;
	uint64_t items;           /* live entries */
	uint64_t charged_bytes;   /* live entries + index_bytes + reclamation backlog */
	uint64_t target_bytes;
	uint64_t evictions;       /* entries removed to make room (never replacements) */
	uint64_t inserts;         /* successful stores of a new or replacing entry */
	uint64_t deletes;
	uint64_t efull;           /* writes refused with SPC_EFULL (pool full) */
	uint64_t reclaim_backlog_bytes; /* unpublished, awaiting a grace period */
	uint64_t expirations;     /* expired entries removed (by the maintainer, a
	                             replacing write or a delete); never evictions */
	uint64_t busy_ring;       /* writes refused with SPC_EBUSY: the maintainer's
	                             queue (ring) stayed full */
	uint64_t busy_batches;    /* writes refused with SPC_EBUSY: every
	                             reclamation batch awaited its grace period, so
	                             the maintainer could not make room */
	uint64_t index_bytes;     /* the index's tables charged to the pool (a
	                             gauge) */
};

/* Statistics of one pool, or of both summed when pool is -1.
 * Returns SPC_OK, SPC_EINVAL. Context: any thread. Counters are read
 * without stopping writers: each is exact, the set is not a snapshot. */
int spc_stats(struct spc_cache *cache, int pool, struct spc_stats *out);

/* Resets the counters of both pools: from this call on, spc_stats reports
 * hits, misses, inserts, deletes, efull, evictions and expirations counted
 * since the reset. The gauges -- items, charged_bytes, target_bytes,
 * reclaim_backlog_bytes, index_bytes -- describe the cache as it is and are not
 * touched. Operations running during the call land on either side of it.
 * Returns SPC_OK, SPC_EINVAL (cache NULL). Context: any thread, not in
 * read section; takes the statistics lock, never blocks readers or
 * writers. Ownership: nothing allocated. */
int spc_stats_reset(struct spc_cache *cache);

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
