/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pools/pools.h: the memory layer as the rest of the library sees it.
 *
 * struct spc_mem owns the detected budget, its reservation and the two
 * pools; struct spc_pool is one pool: a jemalloc arena carved from the
 * reservation (a hard cap) plus a charge counter checked *before* every
 * allocation (memcached slabs.c). pools/ knows nothing of core/ or sync/.
 *
 * Charging contract (docs/memory.md, "Charging"):
 *   1. charge(pool, spc_pool_usable(pool, n) + overhead) before allocating;
 *   2. on allocation failure uncharge the same amount;
 *   3. uncharge only after the memory was really freed (after its grace
 *      period), so charged bytes never undercount what the pool holds.
 * spc_pool_charge fails with SPC_EFULL instead of passing the pool's limit,
 * so charged bytes never exceed the limit, whatever the threads do.
 */
#ifndef SPC_POOLS_H
#define SPC_POOLS_H

#include <stddef.h>
#include <stdint.h>

#include "splitcache.h"

struct spc_env;
struct spc_mem;
struct spc_pool;

#define SPC_MIB (UINT64_C(1) << 20)
#define SPC_MINIMAL_POOL_BYTES SPC_MIB              /* a "minimal" pool's target */
#define SPC_RECOMMENDED_MIN_BYTES (64 * SPC_MIB)    /* warn below this budget */
#define SPC_DEFAULT_MAX_BUDGET (UINT64_C(1) << 30)

/* Detects the budget, runs the reservation ladder, splits by cfg->mode and
 * creates both pools with their arenas. Never aborts for lack of memory:
 * if every rung fails it opens in degraded mode (minimal pools, reported).
 * Returns SPC_OK, SPC_EINVAL (bad mode/share), SPC_ECONFIG (bad
 * SPLITCACHE_MEMORY), SPC_ENOMEM (bookkeeping allocation failed; nothing
 * left behind). Context: any thread.
 * cfg NULL: defaults. env NULL: taken from cfg (log sink, fault hook); else
 * copied. *out is written only on SPC_OK.
 * Ownership: spc_mem_close frees. */
int spc_mem_open(const struct spc_config *cfg, const struct spc_env *env, struct spc_mem **out);
/* Destroys both arenas and releases the reservation. Every pool
 * allocation must have been freed before. NULL is a no-op.
 * Context: any thread; no other thread may use mem during or after. */
void spc_mem_close(struct spc_mem *mem);

/* The pool of id, NULL for an unknown id. Valid until spc_mem_close.
 * Context: any thread. */
struct spc_pool *spc_mem_pool(struct spc_mem *mem, enum spc_pool_id id);
/* The budget in force: the reserved rung, or 2 MiB when degraded.
 * Context: any thread. */
uint64_t spc_mem_budget(const struct spc_mem *mem);
/* Nonzero when no reservation succeeded and both pools are minimal.
 * Context: any thread. */
int spc_mem_degraded(const struct spc_mem *mem);

/* Pure split arithmetic of docs/memory.md: targets never sum above budget.
 * Returns SPC_OK or SPC_EINVAL (unknown mode, share outside (0,1), budget
 * below two minimal pools). Context: any thread. */
int spc_split_targets(uint64_t budget, enum spc_mode mode, double view_share,
                      uint64_t out[SPC_POOL_COUNT]);

/* The targets a mode and share give this handle's budget: the split of
 * docs/memory.md, or minimal pools when degraded (the same rule open used).
 * Returns SPC_OK or SPC_EINVAL (bad mode or share; out unchanged).
 * Context: any thread. */
int spc_mem_mode_targets(const struct spc_mem *mem, enum spc_mode mode, double view_share,
                         uint64_t out[SPC_POOL_COUNT]);

/* Records a new mode in the report. The caller (core) changes the pools'
 * targets in the order docs/memory.md gives: shrink one, let it shed, grow the
 * other. */
void spc_mem_note_mode(struct spc_mem *mem, enum spc_mode mode, double view_share);

/* Fills every field of the report, including charged bytes and arena
 * statistics of each pool. Context: any thread. */
void spc_mem_fill_report(struct spc_mem *mem, struct spc_mem_report *out);

/* ---- one pool ---------------------------------------------------------- */

/* Adds bytes to the charge if that keeps it within the limit.
 * Returns SPC_OK or SPC_EFULL (charge unchanged). Context: any thread. */
int spc_pool_charge(struct spc_pool *pool, uint64_t bytes);
/* Removes bytes charged earlier; when that brings a pool whose target
 * shrank down to it, trims the pool (spc_pool_set_target), once.
 * Context: any thread. */
void spc_pool_uncharge(struct spc_pool *pool, uint64_t bytes);
/* The bytes charged now (a relaxed read: exact, possibly a moment old).
 * Context: any thread. */
uint64_t spc_pool_charged(const struct spc_pool *pool);

/* Resident bytes the pool holds beyond its charge in the slab layer: free
 * slots of partly used slabs, slab headers and tails, one cached empty
 * slab per class (pools/slab.c). Small while the sizes in use stay the
 * same; grows when most entries of one size are evicted and survivors pin
 * their slabs. The report shows it; the bound on new slabs counts only
 * the free slots of partly used slabs (spc_pool_slabs_bound). A relaxed
 * read, a moment old; 0 without a slab layer. Context: any thread. */
uint64_t spc_pool_slab_excess(const struct spc_pool *pool);

/* The limit charges may not pass (= the target set by the split).
 * set_target takes effect for every charge not yet made: one racing a
 * lowering either lands before it, so the charged bytes the caller reads
 * after set_target returns include it, or is checked against the new
 * target (a charger that read the old one retries); lowering it below the
 * charged bytes refuses charges until the pool sheds. Lowering it also
 * gives the pool's free pages back to the system (spc_pool_trim) once the
 * charge is at or below the new target: at once when it already is, else
 * in the spc_pool_uncharge that brings it there (docs/memory.md, "Giving
 * memory back"). Context: any thread. */
uint64_t spc_pool_target(const struct spc_pool *pool);
void spc_pool_set_target(struct spc_pool *pool, uint64_t bytes);

/* The bytes an allocation of n really takes in this pool: for n up to
 * 2 KiB the slab layer's class size (pools/slab.h; free slots and slab
 * headers are reported, not charged), else its usable size (nallocx), plus the page jemalloc adds to every allocation above the
 * largest slab size (opt.cache_oblivious); what must be charged for it.
 * n > 0. Context: any thread. */
size_t spc_pool_usable(const struct spc_pool *pool, size_t n);

/* Gives every free page the pool keeps back to the system now: released
 * slabs' kept pages (spc_slabs_purge; the slab layer keeps up to 1/16 of
 * its chunks for reuse) and the arena's free extents (spc_arena_trim;
 * jemalloc would purge them after its 100 ms decay, at its next tick).
 * Costs a madvise per free extent or slab: called when a pool's target
 * shrinks (spc_pool_set_target), not on the hot path. Context: any thread. */
void spc_pool_trim(struct spc_pool *pool);

/* Allocates n > 0 bytes from the pool's arena (or plain malloc in the
 * sanitizer build). Does not charge. NULL when the arena's region is
 * exhausted, the system refuses, or the fault hook says so.
 * Context: any thread. */
void *spc_pool_alloc(struct spc_pool *pool, size_t n);
/* As spc_pool_alloc, and on failure *stranded says whether the pool's
 * budget refused the slab layer a new slab for n (spc_pool_slabs_bound):
 * an eviction that empties slabs can serve it. 0 for a refusal of the
 * fault hook or of the arena. Context: any thread. */
void *spc_pool_alloc_entry(struct spc_pool *pool, size_t n, int *stranded);
/* The bytes of the slab an entry of n bytes comes from (what a writer
 * that spc_pool_alloc_entry found stranded needs). Pure. */
uint64_t spc_pool_slab_need(size_t n);
/* Whether the pool's slabs may not grow now: its charge plus their free
 * slots (cached empty slabs aside) pass its target. Eviction brings it
 * back only as slabs empty. A relaxed read, a moment old; 0 without a
 * slab layer. Context: any thread. */
int spc_pool_slabs_bound(const struct spc_pool *pool);
/* Frees p, allocated with spc_pool_alloc(pool, n). Context: any thread
 * (the RCU callback thread included). */
void spc_pool_free(struct spc_pool *pool, void *p, size_t n);
/* Frees p[i], allocated with spc_pool_alloc(pool, n[i]), for i < count:
 * what count calls of spc_pool_free do, with one lock of a slab class per
 * run of its slots (spc_slabs_free_many). Context: any thread. */
void spc_pool_free_many(struct spc_pool *pool, void *const *p, const size_t *n, size_t count);
/* As spc_pool_alloc, aligned to align (a power of two, at most a page),
 * never from the slabs: the cache's index tables. Does not charge. */
void *spc_pool_alloc_aligned(struct spc_pool *pool, size_t n, size_t align);
/* Frees p, allocated with spc_pool_alloc_aligned(pool, n, align); a
 * block of SPC_POOL_PURGE_FREED bytes or more (an index table a resize
 * left) also gives the arena's free pages back to the system at once.
 * Context: any thread (the RCU callback thread included). */
#define SPC_POOL_PURGE_FREED ((size_t)64 << 10)
void spc_pool_free_aligned(struct spc_pool *pool, void *p, size_t n, size_t align);

/* The region a hard-capped pool carves from. Returns 1 and fills base and
 * size when the pool's arena is hooked on a region, else 0 (base NULL,
 * size 0). For tests and reports. Context: any thread. */
int spc_pool_region(const struct spc_pool *pool, const void **base, size_t *size);

#endif /* SPC_POOLS_H */
