/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/stats.h: the per-thread counters of a cache (core/stats.c; the slot
 * types are core/handle.h's). spc_count is inline: every read counts a hit
 * or a miss. Private to core/.
 */
#ifndef SPC_CORE_STATS_H
#define SPC_CORE_STATS_H

#include <stdint.h>

#include "core/handle.h"

/* This thread's slots of the caches it used most recently. */
extern __thread struct spc_ttab_entry spc_ttab[SPC_TTAB_SIZE];
/* The entry of spc_ttab this thread used last: one compare on the read
 * path (a thread nearly always reads one cache at a time) instead of a
 * walk of the table. */
extern __thread struct spc_ttab_entry spc_tlast;

/* Finds or makes this thread's slot in c (slow path of spc_tslot).
 * Returns: the slot, or c's shared slot when one cannot be allocated
 * (never NULL). Context: any thread. Ownership: the slot is c's, freed by
 * spc_stats_fini. */
struct spc_tslot *spc_tslot_slow(struct spc_cache *c);

/* The walk of spc_ttab behind spc_tslot's one compare (core/stats.c).
 * Returns: this thread's slot in c (remembered in spc_tlast), or the
 * shared slot (not remembered). Context: any thread of the cache. */
struct spc_tslot *spc_tslot_find(struct spc_cache *c);

/* This thread's slot in c (never NULL: falls back to the shared slot). */
static inline struct spc_tslot *spc_tslot(struct spc_cache *c)
{
	if (__builtin_expect(spc_tlast.cache_id == c->id, 1))
		return spc_tlast.slot;
	return spc_tslot_find(c);
}

/* The out-of-line half of spc_count: finds the slot (spc_tslot_find)
 * and adds, atomically when it is the shared fallback. Context: as
 * spc_count. */
void spc_count_slow(struct spc_cache *c, enum spc_pool_id pool, enum spc_ctr k, int64_t n);

/* Adds n to counter k of pool in this thread's slot. Never blocks, never
 * fails. Context: any thread, in a read section or not. The inline half
 * is the slot this thread used last, which is never the shared fallback
 * (spc_tslot_find does not remember it): a plain single-writer add, no
 * test of the slot's kind on the read path. */
static inline void spc_count(struct spc_cache *c, enum spc_pool_id pool, enum spc_ctr k, int64_t n)
{
	if (__builtin_expect(spc_tlast.cache_id == c->id, 1)) {
		uint64_t *ctr = &spc_tlast.slot->c[pool][k];
		/* Single writer: relaxed load + store, no locked
		 * instruction; the relaxed store makes spc_stats'
		 * concurrent load race-free. */
		uint64_t v = __atomic_load_n(ctr, __ATOMIC_RELAXED);

		__atomic_store_n(ctr, v + (uint64_t)n, __ATOMIC_RELAXED);
	} else {
		spc_count_slow(c, pool, k, n);
	}
}

/* The slot spc_count's inline half would add to in c (the one this
 * thread used last), or NULL when spc_count would take its slow half: a
 * read path that finds it up front counts with spc_count_in and leaves
 * the NULL case to its own slow path. Context: any thread. */
static inline struct spc_tslot *spc_tslot_last(const struct spc_cache *c)
{
	return spc_tlast.cache_id == c->id ? spc_tlast.slot : NULL;
}

/* Adds n to counter k of pool in slot, a slot spc_tslot_last returned to
 * this thread: single writer, as spc_count's inline half. */
static inline void spc_count_in(struct spc_tslot *slot, enum spc_pool_id pool, enum spc_ctr k,
                                int64_t n)
{
	uint64_t *ctr = &slot->c[pool][k];
	/* relaxed load + store: as spc_count's */
	uint64_t v = __atomic_load_n(ctr, __ATOMIC_RELAXED);

	__atomic_store_n(ctr, v + (uint64_t)n, __ATOMIC_RELAXED);
}

/* Sets up c's statistics (no slot yet; the shared slot zeroed). Context:
 * spc_open, before c is shared. */
void spc_stats_init(struct spc_cache *c);
/* Frees every slot. Context: spc_close (or open's failure path), nobody
 * else uses c. */
void spc_stats_fini(struct spc_cache *c);

#endif /* SPC_CORE_STATS_H */
