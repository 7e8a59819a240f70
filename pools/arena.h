/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pools/arena.h: the reservation ladder and the per-pool arenas. Private
 * to pools/ and its unit tests.
 *
 * A reservation is address space only: one mapping, PROT_NONE and
 * MAP_NORESERVE, cut into one region per pool. A region becomes memory
 * page by page when its arena commits it (mprotect), so the reservation
 * costs nothing until used, also under overcommit_memory = 2.
 */
#ifndef SPC_ARENA_H
#define SPC_ARENA_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "splitcache.h"

#ifndef SPC_POOL_MALLOC
#include <jemalloc/jemalloc.h>
#endif

struct spc_env;

/* Address space added to each pool's region beyond the budget: jemalloc's
 * arena metadata, which comes out of the region (~2 MiB at creation, then
 * growing with the number of extents), extents stranded at the boundaries
 * of its growth steps, and alignment (8 MiB alone left a 1 GiB pool of
 * 4000-byte values at 96.7 % of its target).
 * Measured (docs/memory.md): 8 MiB + 1/16 of the rung lets a pool of 16 MiB
 * to 1 GiB reach its target with values of 100 B to 1 MiB. */
#define SPC_REGION_SLACK_FIXED (UINT64_C(8) << 20)
/* (rounded to 64 KiB: a page multiple for every page size Linux uses) */
#define SPC_REGION_SLACK(rung) (SPC_REGION_SLACK_FIXED + (rung) / 16 / 65536 * 65536)
/* Below this a region cannot host a jemalloc arena: plain arena instead. */
#define SPC_REGION_MIN_FOR_ARENA (UINT64_C(8) << 20)
/* jemalloc's decay times for the pool arenas: freed pages go back to the
 * system this fast (see arena.c; -1 and 1 s measured in docs/memory.md,
 * "Giving memory back"). Overridable at build time for such comparisons. */
#ifndef SPC_ARENA_DIRTY_DECAY_MS
#define SPC_ARENA_DIRTY_DECAY_MS 100
#endif
#ifndef SPC_ARENA_MUZZY_DECAY_MS
#define SPC_ARENA_MUZZY_DECAY_MS 0
#endif

struct spc_region {
	char *base; /* NULL: no region (degraded, or sanitizer build) */
	size_t size;
};

struct spc_reservation {
	void *map;        /* the one mapping, NULL when none */
	size_t map_bytes;
	uint64_t budget;  /* the rung that was reserved; 0 when degraded */
	struct spc_region regions[SPC_POOL_COUNT];
};

/* Rung n (0, 1, ...) of the ladder below budget: the budget, its halves
 * while above 16 MiB, then 16, 8, 4, 1 MiB (only rungs below the budget),
 * each rounded down to page. Returns 0 after the last rung. */
uint64_t spc_ladder_rung(uint64_t budget, unsigned n, size_t page);

/* Walks the ladder: for each rung reserves two regions of rung + slack
 * bytes (fault site SPC_FAULT_RESERVE, then mmap) and, when prefault is
 * set, commits and touches each pool's share of the rung (fault site
 * SPC_FAULT_COMMIT); a failure releases that rung and tries the next.
 * Records every attempt in r (attempts, n_attempts, reserved_bytes,
 * prefault). Returns SPC_OK with *res filled, or SPC_ENOMEM when every
 * rung failed (*res empty: the caller opens degraded).
 * Context: any thread. Ownership: spc_reservation_release frees. */
int spc_ladder_reserve(const struct spc_env *env, uint64_t budget, int prefault,
                       enum spc_mode mode, double view_share,
                       struct spc_reservation *res, struct spc_mem_report *r);
void spc_reservation_release(struct spc_reservation *res);

enum spc_arena_kind {
	SPC_ARENA_MALLOC = 0, /* plain malloc/free (sanitizer build or fallback) */
	SPC_ARENA_PLAIN,      /* jemalloc arena with default hooks: accounting only */
	SPC_ARENA_HOOKED      /* jemalloc arena carving only from its region */
};

struct spc_arena {
#ifndef SPC_POOL_MALLOC
	extent_hooks_t hooks; /* first member: jemalloc hands this pointer back */
#endif
	enum spc_arena_kind kind;
	unsigned index;       /* jemalloc arena index, 0 for SPC_ARENA_MALLOC */
	int flags;            /* MALLOCX_ARENA(index) | MALLOCX_TCACHE_NONE */
	size_t page;
	size_t small_max;     /* largest size served from a slab */
	size_t large_pad;     /* extra page of every larger allocation (jemalloc's
	                         opt.cache_oblivious), 0 when off */
	pthread_mutex_t lock; /* guards the bump pointer below (hooks only) */
	char *base;
	size_t size, used;
	uint64_t hook_failures; /* under lock */
};

/* Creates the arena of one pool: hooked on region when it is large enough,
 * else a plain jemalloc arena, else (or in SPC_POOL_MALLOC builds) plain
 * malloc. Consults fault site SPC_FAULT_ARENA once. Never fails: the kind
 * says what it became. Context: any thread. */
void spc_arena_init(struct spc_arena *a, const struct spc_env *env, struct spc_region region);
/* Destroys the jemalloc arena. Every allocation must have been freed.
 * Context: any thread, no concurrent use. */
void spc_arena_destroy(struct spc_arena *a);

/* n > 0 bytes from the arena; NULL when its region is exhausted (after one
 * purge and retry) or the system refuses. Context: any thread. */
void *spc_arena_alloc(struct spc_arena *a, size_t n);
/* n > 0 bytes aligned to align (a power of two >= the page), for the slab
 * layer's chunks (posix_memalign for SPC_ARENA_MALLOC). Same failure
 * rules as spc_arena_alloc. Context: any thread. */
void *spc_arena_alloc_aligned(struct spc_arena *a, size_t n, size_t align);
/* Frees p = spc_arena_alloc_aligned(a, n, align). Context: any thread. */
void spc_arena_free_aligned(struct spc_arena *a, void *p, size_t n, size_t align);
/* Frees p = spc_arena_alloc(a, n) (NULL: no-op). Context: any thread. */
void spc_arena_free(struct spc_arena *a, void *p, size_t n);
/* What an allocation of n occupies (see spc_pool_usable). Context: any. */
size_t spc_arena_usable(const struct spc_arena *a, size_t n);
/* Gives every free page of the arena back to the system now (jemalloc's
 * arena.<i>.purge: dirty and muzzy extents, coalesced on the way). Costs a
 * madvise per extent: for shrinking pools and explicit trims, not for the
 * hot path. Context: any thread. */
void spc_arena_trim(struct spc_arena *a);
/* Fills arena_* fields, arena_index and hard_capped. Context: any thread. */
void spc_arena_stats(struct spc_arena *a, struct spc_mem_pool_report *out);

#endif /* SPC_ARENA_H */
