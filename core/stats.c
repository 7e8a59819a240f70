/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/stats.c: per-thread statistics slots and spc_stats.
 *
 * Hot counters (hits, misses, inserts, deletes, EFULL, the item delta) are
 * kept per thread and per cache so that no two threads write the same
 * cache line: a thread finds its slot by one compare with the entry it
 * used last (spc_tlast), else through a small thread-local table keyed by
 * the cache's process-unique id; on a miss it looks for a slot it
 * owns in the cache's list (the table may have forgotten it), else
 * allocates one and links it. Counters that only the maintainer changes
 * (evictions, the expirations it reclaims) live in the pool state;
 * charged bytes and the reclamation backlog come from the pool's own
 * atomics.
 *
 * Guarantees (tests/unit/core/test_stats.c, tests/integration/cache):
 *  1. each counter is exact once writers are quiet: no increment is lost
 *     (single writer per slot; atomic adds on the shared fallback slot);
 *  2. a failed slot allocation never fails an operation: the shared
 *     fallback slot is used instead;
 *  3. counts of exited threads are kept until the cache closes;
 *  4. spc_stats_reset zeroes what spc_stats reports for the counters
 *     (hits ... expirations) by keeping their raw sums as a base, under
 *     slots_mu; the gauges (items, bytes, targets, backlog) read the raw
 *     state and are untouched, so guarantee 5 still holds;
 *  5. items = inserts of new keys - deletes - clears - evictions - expired
 *     entries unpublished by the maintainer or a delete, exactly (an
 *     expired entry replaced by a write is an expiration that leaves
 *     items unchanged).
 */
#include "core/stats.h"

#include <string.h>

#include "core/kv_index.h"
#include "pools/pools.h"
#include "sync/thread.h"

__thread struct spc_ttab_entry spc_ttab[SPC_TTAB_SIZE];
__thread struct spc_ttab_entry spc_tlast;
static __thread unsigned spc_ttab_next;

struct spc_tslot *spc_tslot_find(struct spc_cache *c)
{
	struct spc_tslot *s = NULL;

	for (unsigned i = 0; i < SPC_TTAB_SIZE; i++)
		if (spc_ttab[i].cache_id == c->id) {
			s = spc_ttab[i].slot;
			break;
		}
	if (!s) {
		s = spc_tslot_slow(c);
		if (s == &c->shared_slot)
			return s; /* not remembered: a real slot is retried later */
	}
	spc_tlast.cache_id = c->id;
	spc_tlast.slot = s;
	return s;
}

void spc_count_slow(struct spc_cache *c, enum spc_pool_id pool, enum spc_ctr k, int64_t n)
{
	struct spc_tslot *s = spc_tslot_find(c);

	if (s->shared) {
		/* Shared fallback slot: several writers, so an atomic add. */
		__atomic_fetch_add(&s->c[pool][k], (uint64_t)n, __ATOMIC_RELAXED);
	} else {
		/* Single writer: as spc_count's inline half. */
		uint64_t v = __atomic_load_n(&s->c[pool][k], __ATOMIC_RELAXED);

		__atomic_store_n(&s->c[pool][k], v + (uint64_t)n, __ATOMIC_RELAXED);
	}
}

void spc_stats_init(struct spc_cache *c)
{
	memset(&c->shared_slot, 0, sizeof c->shared_slot);
	c->shared_slot.shared = 1;
	c->slots = NULL;
}

void spc_stats_fini(struct spc_cache *c)
{
	struct spc_tslot *s = c->slots;

	while (s) {
		struct spc_tslot *next = s->next;

		spc_free(s);
		s = next;
	}
	c->slots = NULL;
}

struct spc_tslot *spc_tslot_slow(struct spc_cache *c)
{
	pthread_t self = pthread_self();
	struct spc_tslot *s;
	unsigned i;

	spc_lock(&c->slots_mu);
	for (s = c->slots; s; s = s->next)
		if (pthread_equal(s->owner, self))
			break; /* ours (or a dead thread's with our id: safe, single writer) */
	if (!s) {
		s = spc_aligned_calloc(&c->env, SPC_CACHELINE, sizeof *s);
		if (s) {
			s->owner = self;
			s->next = c->slots;
			c->slots = s;
		}
	}
	spc_unlock(&c->slots_mu);
	if (!s)
		return &c->shared_slot; /* guarantee 2; not remembered: retry later */
	i = spc_ttab_next++ % SPC_TTAB_SIZE;
	spc_ttab[i].cache_id = c->id;
	spc_ttab[i].slot = s;
	return s;
}

static void spc_sum_slot(const struct spc_tslot *s, int pool, uint64_t acc[SPC_C_COUNT])
{
	for (int k = 0; k < SPC_C_COUNT; k++)
		/* Relaxed: pairs with the owner's relaxed store; exact per
		 * counter, not a snapshot across counters. */
		acc[k] += __atomic_load_n(&s->c[pool][k], __ATOMIC_RELAXED);
}

/* The raw sums of one pool: counters since open, gauges now. Called with
 * slots_mu held. */
static void spc_pool_raw(struct spc_cache *c, int pool, struct spc_stats *out)
{
	struct spc_pstate *ps = &c->ps[pool];
	uint64_t acc[SPC_C_COUNT] = { 0 };
	uint64_t ev, ex;

	for (const struct spc_tslot *s = c->slots; s; s = s->next)
		spc_sum_slot(s, pool, acc);
	spc_sum_slot(&c->shared_slot, pool, acc);
	/* Relaxed: single-writer counter of the maintainer. */
	ev = __atomic_load_n(&ps->evictions, __ATOMIC_RELAXED);
	/* Relaxed: single-writer counter of the maintainer. */
	ex = __atomic_load_n(&ps->expirations, __ATOMIC_RELAXED);

	memset(out, 0, sizeof *out);
	out->hits = acc[SPC_C_HITS];
	out->misses = acc[SPC_C_MISSES];
	out->inserts = acc[SPC_C_INSERTS];
	out->deletes = acc[SPC_C_DELETES];
	out->efull = acc[SPC_C_EFULL];
	out->busy_ring = acc[SPC_C_BUSY_RING];
	out->busy_batches = acc[SPC_C_BUSY_BATCH];
	/* The delta wraps back to the true count; a sum read while writers
	 * run may be transiently below zero: report 0 then. */
	if ((int64_t)(acc[SPC_C_ITEMS] - ev - ex) > 0)
		out->items = acc[SPC_C_ITEMS] - ev - ex;
	out->evictions = ev;
	out->charged_bytes = spc_pool_charged(ps->pool);
	out->target_bytes = spc_pool_target(ps->pool);
	/* Relaxed: a gauge. */
	out->reclaim_backlog_bytes = __atomic_load_n(&ps->backlog, __ATOMIC_RELAXED);
	out->index_bytes = spc_kv_bytes(ps);
	out->expirations = acc[SPC_C_EXPIRED] + ex;
}

/* a - b for a counter that only grows; 0 if a reset raced the read. */
static uint64_t spc_since(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

static void spc_pool_stats(struct spc_cache *c, int pool, struct spc_stats *out)
{
	const struct spc_stats *b = &c->reset_base[pool];
	struct spc_stats r;

	spc_lock(&c->slots_mu);
	spc_pool_raw(c, pool, &r);
	out->hits += spc_since(r.hits, b->hits);
	out->misses += spc_since(r.misses, b->misses);
	out->inserts += spc_since(r.inserts, b->inserts);
	out->deletes += spc_since(r.deletes, b->deletes);
	out->efull += spc_since(r.efull, b->efull);
	out->busy_ring += spc_since(r.busy_ring, b->busy_ring);
	out->busy_batches += spc_since(r.busy_batches, b->busy_batches);
	out->evictions += spc_since(r.evictions, b->evictions);
	out->expirations += spc_since(r.expirations, b->expirations);
	spc_unlock(&c->slots_mu);
	out->items += r.items;
	out->charged_bytes += r.charged_bytes;
	out->target_bytes += r.target_bytes;
	out->reclaim_backlog_bytes += r.reclaim_backlog_bytes;
	out->index_bytes += r.index_bytes;
}

int spc_stats(struct spc_cache *c, int pool, struct spc_stats *out)
{
	if (!c || !out || pool < -1 || pool >= SPC_POOL_COUNT)
		return SPC_EINVAL;
	memset(out, 0, sizeof *out);
	for (int p = 0; p < SPC_POOL_COUNT; p++)
		if (pool == -1 || pool == p)
			spc_pool_stats(c, p, out);
	return SPC_OK;
}

int spc_stats_reset(struct spc_cache *c)
{
	if (!c)
		return SPC_EINVAL;
	spc_lock(&c->slots_mu);
	for (int p = 0; p < SPC_POOL_COUNT; p++)
		spc_pool_raw(c, p, &c->reset_base[p]);
	spc_unlock(&c->slots_mu);
	return SPC_OK;
}
