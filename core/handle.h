/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/handle.h: the cache handle (struct spc_cache), a pool's runtime
 * state (struct spc_pstate), a reclamation batch and the per-thread
 * statistics slots: types only, no function. Every module of core/ below
 * the public front reads these fields; which module writes which, and
 * under what ordering, is docs/concurrency.md ("Who touches which
 * field"). Private to core/ (and its tests).
 */
#ifndef SPC_CORE_HANDLE_H
#define SPC_CORE_HANDLE_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "core/index.h"
#include <urcu/urcu-memb.h>

#include "base/base.h"
#include "splitcache.h"
#include "sync/ring.h"

/* Entries per reclamation batch (one call_rcu each). */
#define SPC_BATCH_ENTRIES 256u
/* Batches per pool: one per SPC_BATCH_POOL_BYTES of the pool's target at
 * open, at least SPC_BATCHES_MIN and at most SPC_BATCHES_MAX. liburcu's
 * call_rcu worker runs the queued callbacks in rounds about 10 ms apart,
 * so a pool cannot evict faster than the entries its batches hold per
 * round: 32 batches (8,192 entries) held eviction near 0.7 M/s whatever
 * the writers did; 128 hold 32,768 (about 3 M/s). Not more than one per
 * MiB: with one per 256 KiB, mixed's 29 MiB pool hit 4 points less often
 * than with 32, measured while the watermarks still counted free slab
 * slots as held bytes (what a round frees came back as free slots). */
#define SPC_BATCHES_MIN 32u
#define SPC_BATCHES_MAX 128u
#define SPC_BATCH_POOL_BYTES ((uint64_t)1 << 20)
/* A batch that is not full is handed to call_rcu only when room is wanted
 * (waiters, watermark, forced eviction, stop) or after it has held its
 * first entry this long: a trickle of deletes costs one grace period per
 * SPC_BATCH_HOLD_MS, not one per maintainer step (core/maint.c). */
#define SPC_BATCH_HOLD_MS 50u

/* Bounded work per maintainer step. */
#define SPC_STEP_DRAIN 4096u   /* ring records admitted per step */
#define SPC_STEP_EVICT 1024u   /* victims taken per step */
#define SPC_STEP_SCAN 256u     /* items examined per spc_policy_next */
#define SPC_STEP_SWEEP 2048u   /* items examined per sweep */

/* ---- per-thread statistics --------------------------------------------- */

enum spc_ctr {
	SPC_C_HITS,
	SPC_C_MISSES,
	SPC_C_INSERTS,
	SPC_C_DELETES,
	SPC_C_EFULL,      /* refused: SPC_EFULL (the pool's bytes at its limit) */
	SPC_C_BUSY_RING,  /* refused: SPC_EBUSY, the ring stayed full */
	SPC_C_BUSY_BATCH, /* refused: SPC_EBUSY, the maintainer had no free batch */
	SPC_C_ITEMS, /* signed delta stored as two's complement */
	SPC_C_EXPIRED, /* expired entries a writer replaced or a delete removed */
	SPC_C_COUNT
};

/* One thread's counters in one cache. Written by that thread alone
 * (relaxed load + store), read by spc_stats (relaxed loads). The shared
 * fallback slot (used when a slot could not be allocated) is written with
 * atomic adds instead. Slots stay linked until the cache closes, so counts
 * of exited threads are kept. */
struct spc_tslot {
	_Alignas(SPC_CACHELINE) uint64_t c[SPC_POOL_COUNT][SPC_C_COUNT];
	struct spc_tslot *next;
	pthread_t owner;
	int shared;
};

#define SPC_TTAB_SIZE 8u

struct spc_ttab_entry {
	uint64_t cache_id; /* 0: empty (ids start at 1) */
	struct spc_tslot *slot;
};

/* ---- reclamation batch --------------------------------------------------- */

struct spc_pstate;
struct spc_view;
struct spc_evict_req;
struct spc_debug;
struct spc_entry;
struct spc_policy_state;
struct spc_pool;
struct spc_mem;

typedef void spc_evict_hook_fn(void *arg, enum spc_pool_id pool, const void *key,
                               size_t klen, const void *val, size_t vlen, uint64_t cas);

struct spc_batch {
	struct rcu_head head;     /* call_rcu linkage */
	struct spc_pstate *ps;
	struct spc_batch *next;   /* free list (under batch_mu) */
	unsigned n;
	struct spc_entry *e[SPC_BATCH_ENTRIES];
};

/* ---- one pool ------------------------------------------------------------ */

struct spc_pstate {
	struct spc_cache *cache;
	enum spc_pool_id id;
	struct spc_pool *pool;        /* pools/: charge, target, arena */
	struct spc_index ix;          /* the index (core/kv_index.h) */
	int ix_retry;                 /* maintainer: steps to wait before the
	                                 next resize_begin after ENOMEM */
	uint64_t ix_need;             /* maintainer: bytes of the table it could
	                                 not get (0: none); it evicts for them */
	int ix_due;                   /* atomic: the index is resizing or wants
	                                 another size (spc_kv_maint) */
	struct spc_policy_state *policy; /* maintainer only */
	struct spc_ring ring;         /* writers -> maintainer */
	uint64_t max_entries;         /* 0: none */
	uint32_t entry_share;         /* charge per entry beyond its usable size */

	/* Shared counters, each on its own line (writers and maintainer). */
	_Alignas(SPC_CACHELINE) uint64_t backlog;   /* atomic: bytes unpublished, not yet freed */
	_Alignas(SPC_CACHELINE) uint64_t dead_pending; /* atomic: dead entries not yet reclaimed */
	_Alignas(SPC_CACHELINE) int kicked;         /* atomic: a wake-up is pending */
	uint64_t room_need;           /* atomic: largest charge a waiting writer
	                                 needs; written under mu, read relaxed */
	int starved;                  /* atomic: the maintainer's last step lacked a
	                                 free batch (refusals count busy_batches) */
	uint64_t evictions;           /* atomic: written by the maintainer only */
	uint64_t expirations;         /* atomic: expired entries the maintainer
	                                 unpublished; written by it only */
	/* Forced eviction (core/evict.c): the lowest goal of the open
	 * requests in live bytes, plus one; 0: none. Written under mu,
	 * read relaxed by the maintainer. */
	uint64_t forced_goal;

	/* Sleeping and waking: mu guards stop, shed and the two conditions. */
	_Alignas(SPC_CACHELINE) pthread_mutex_t mu;
	pthread_cond_t maint_cv;      /* maintainer sleeps here */
	pthread_cond_t room_cv;       /* writers and set_mode wait for room */
	int stop;
	int idle;                     /* the maintainer sleeps after a step
	                                 that found no work (tests' quiesce) */
	unsigned room_waiters;        /* writers blocked on room_cv */
	unsigned room_needers;        /* writers whose need is in room_need (the
	                                 last one to leave clears it) */
	uint64_t room_gen;            /* bumped on every broadcast of room_cv */
	unsigned slab_short;          /* atomic: writers waiting for a slab the
	                                 pool's budget refused (written under mu,
	                                 read relaxed by the maintainer) */
	struct spc_evict_req *forced_reqs; /* open forced-eviction requests */

	/* Maintainer-owned (or the step lock's holder in synchronous mode). */
	pthread_t thread;
	int has_thread;
	int evicting;                 /* hysteresis: between high and low mark */
	size_t dead_pass_left;        /* items the current pass for dead entries
	                                 has yet to visit (0: no pass) */
	uint64_t dead_seen;           /* dead_pending when the maintainer last
	                                 looked, and when it last changed */
	uint64_t dead_seen_ms;        /* (monotonic ms) */
	size_t expiry_items;          /* queued entries that have an expiry slot */
	uint64_t maint_now;           /* the cache clock read at the start of
	                                 this step (0: no entry had an expiry
	                                 then); the policy's dead test reads it */
	uint64_t expiry_second;       /* cache clock of the current expiry pass */
	size_t expiry_scan_left;      /* items the current expiry pass has yet to
	                                 sweep (one pass per clock second) */
	size_t expiry_found;          /* expired entries the current pass took */
	struct spc_batch *cur;        /* batch being filled */
	struct timespec cur_since;    /* when cur got its first entry */
	int room_freed;               /* the step uncharged bytes: wake waiters */
	int step_starved;             /* this step lacked a free batch */
	pthread_mutex_t step_mu;      /* synchronous mode: one step at a time */
	int in_step;                  /* synchronous mode: step_mu is held */
	uint64_t forced_mark;         /* evictions already settled (evict.c) */

	/* Batches: one array allocated at open, handed out in order the first
	 * time each is needed (so a pool that never evicts fast never touches
	 * most of its pages), then recycled through free_batches by the RCU
	 * callback. */
	pthread_mutex_t batch_mu;
	struct spc_batch *free_batches;
	unsigned free_count;          /* batches free: on free_batches or never
	                                 used (under batch_mu) */
	unsigned fresh;               /* batches[fresh..] never used (batch_mu) */
	struct spc_batch *batches;    /* the array, freed at close */
	unsigned nbatches;            /* its length (spc_ps_init) */
};

struct spc_cache {
	uint64_t id;                  /* unique in the process, keys spc_ttab */
	struct spc_config cfg;        /* copy; cfg.root not kept */
	struct spc_env env;
	struct spc_mem *mem;
	uint64_t seed;
	int sync_mode;
	_Alignas(SPC_CACHELINE) uint64_t cas_next; /* atomic */
	struct spc_pstate ps[SPC_POOL_COUNT];
	pthread_mutex_t mode_mu;      /* serialises spc_set_mode, guards limit_bytes */
	uint64_t limit_bytes;         /* spc_set_memory_limit; 0: the budget */
	pthread_mutex_t slots_mu;     /* guards the slots list and reset_base */
	/* Counters at the last spc_stats_reset, per pool (spc_stats reports
	 * the raw sums minus these; gauges are never based). */
	struct spc_stats reset_base[SPC_POOL_COUNT];
	struct spc_tslot *slots;
	struct spc_tslot shared_slot;
	spc_evict_hook_fn *evict_hook; /* tests only; set before any write */
	void *evict_hook_arg;
	struct spc_view *view;        /* tip, reorganisations, per-height index (core/view.c) */
	struct spc_debug *debug;      /* atomic: debug mode's state (core/debug.c),
	                                 NULL until first enabled, then fixed */
	int debug_on;                 /* atomic: lookups are noted (spc_debug_enable) */
	uint64_t view_height;         /* atomic: current view height + 1, 0: none
	                                 (core/view_height.c) */
};

/* The cas the caller sees of an entry whose cas is cas: 0 in a cache
 * without cas (no_cas), whose height entries keep one for the view's own
 * use only (core/edit.c). */
static inline uint64_t spc_cas_shown(const struct spc_cache *c, uint64_t cas)
{
	return c->cfg.no_cas ? 0 : cas;
}

#endif /* SPC_CORE_HANDLE_H */
