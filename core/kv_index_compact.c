/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/kv_index_compact.c: the cache's index as core/index.c (core/kv_index.h
 * is the seam the rest of core sees). docs/concurrency.md ("The index", "Moving the cache
 * onto it") is the design; what this file adds is the owner's part:
 *
 * Charging. The tables come from the pool's arena (64-byte aligned) and
 * are charged to the pool when allocated, uncharged when freed (on the
 * call_rcu thread for a table a resize retired): the pool's charge is
 * exactly the live entries' charges + the index's bytes (spc_kv_bytes) +
 * the backlog. A refused charge is an allocation failure: the index
 * keeps its table and keeps serving, the maintainer tries again later.
 *
 * Growth. Writers can publish up to a ring's worth of entries the
 * maintainer has not yet admitted (each holds a ring cell), so the index
 * must have room for the policy's entries plus the ring's
 * filled cells: the maintainer doubles when that sum passes
 * spc_index_grow_load per bucket (10 of 12 slots with the pool's region,
 * 6 of 7 without). A resize is begun by the maintainer (one grace
 * period) and moved SPC_KV_STEP_BUCKETS buckets per maintainer step
 * (about 450 slots, each move two bucket locks held for a few stores), so
 * a writer never waits on the resize for more than one entry's move and
 * the maintainer never stops draining its ring for a whole table. A
 * growth that fails to allocate (or to charge) is retried
 * SPC_KV_RETRY_STEPS steps later. Below SPC_INDEX_SHRINK_LOAD entries per
 * bucket the maintainer halves the table, the same way, down to
 * SPC_INDEX_INIT_BUCKETS. Writers that still find no free slot (the ring
 * filled faster than the maintainer grew) kick it and try again, a bounded
 * number of times, before answering SPC_EFULL (core/edit.c).
 *
 * The hash of an entry is recomputed from its key (spc_kv_entry_hash;
 * the maintainer's unlink and the resize's moves only).
 */
#include "core/kv_index.h"

#include "core/room.h"
#include "pools/pools.h"
#include "sync/rcu.h"


/* Buckets the maintainer moves per step during a resize. */
#define SPC_KV_STEP_BUCKETS 64u
/* Steps between a failed resize_begin and the next attempt. */
#define SPC_KV_RETRY_STEPS 64

static void *spc_kv_alloc(void *ctx, size_t bytes)
{
	struct spc_pstate *ps = ctx;
	void *p;

	if (spc_pool_charge(ps->pool, bytes) != SPC_OK)
		return NULL;
	p = spc_pool_alloc_aligned(ps->pool, bytes, SPC_CACHELINE);
	if (!p)
		spc_pool_uncharge(ps->pool, bytes);
	return p;
}

static void spc_kv_free(void *ctx, void *p, size_t bytes)
{
	struct spc_pstate *ps = ctx;

	spc_pool_free_aligned(ps->pool, p, bytes, SPC_CACHELINE);
	spc_uncharge(ps, bytes);
}

static uint64_t spc_kv_hash(void *ctx, const void *entry)
{
	return spc_kv_entry_hash(ctx, entry);
}

/* Entries published beyond the policy's: the ring's filled cells. */
static size_t spc_kv_headroom(const struct spc_pstate *ps)
{
	return spc_ring_count(&ps->ring);
}

int spc_kv_init(struct spc_pstate *ps)
{
	struct spc_index_ops ops = { spc_kv_alloc, spc_kv_free, spc_kv_hash, ps, NULL, 0 };

	/* Every entry of a pool with a region lies in it: the index keeps
	 * 4-byte references, 12 per line. No region (sanitizer builds,
	 * degraded pools) or one above 32 GiB: 8-byte slots, 7 per line
	 * (spc_index_init decides). */
	if (!spc_pool_region(ps->pool, &ops.region, &ops.region_bytes)) {
		ops.region = NULL;
		ops.region_bytes = 0;
	}
	ps->ix_retry = 0;
	ps->ix_need = 0;
	return spc_index_init(&ps->ix, &ops, SPC_INDEX_INIT_BUCKETS) == SPC_OK ? SPC_OK
	                                                                       : SPC_ENOMEM;
}

void spc_kv_destroy(struct spc_pstate *ps)
{
	if (!ps->ix.cur)
		return;
	spc_index_destroy(&ps->ix);
	ps->ix.cur = NULL;
}

struct spc_kv_clear {
	struct spc_pstate *ps;
	uint64_t n;
};

static void spc_kv_clear_one(void *arg, void *entry)
{
	struct spc_kv_clear *k = arg;
	struct spc_entry *e = entry;

	if (spc_kv_remove_rcu(k->ps, spc_kv_entry_hash(k->ps, e), e) == SPC_OK) {
		spc_note_unpublished(k->ps, e);
		k->n++;
	}
}

/* One read section over the whole index: a removal never moves another
 * entry (no tombstone, no back-shift), so the walk sees every entry that
 * was there when it started and is not moved by a concurrent resize.
 * TODO(issue 13): bounded sections (a cursor over buckets). */
uint64_t spc_kv_unpublish_all(struct spc_pstate *ps)
{
	struct spc_kv_clear k = { ps, 0 };

	spc_rcu_read_lock();
	spc_index_for_each_rcu(&ps->ix, spc_kv_clear_one, &k);
	spc_rcu_read_unlock();
	return k.n;
}

/* The step's decision, kept where other threads can read it. */
static int spc_kv_due(struct spc_pstate *ps, int due)
{
	/* Relaxed: a hint for the maintainer's sleep and the quiet test,
	 * which reads it again after the maintainer was seen asleep. */
	if (__atomic_load_n(&ps->ix_due, __ATOMIC_RELAXED) != due)
		__atomic_store_n(&ps->ix_due, due, __ATOMIC_RELAXED);
	return due;
}

int spc_kv_maint(struct spc_pstate *ps, size_t items)
{
	size_t need = items + spc_kv_headroom(ps), buckets;
	size_t grow = spc_index_grow_load(&ps->ix);

	if (spc_index_resizing(&ps->ix)) {
		int r = spc_index_resize_step(&ps->ix, SPC_KV_STEP_BUCKETS);

		if (r != 0) {
			spc_kv_due(ps, r == 1);
			return r == 1;
		}
		/* Over: another size may be due at once (a shrink halves once
		 * per resize), and ix_due must not read "settled" between the
		 * two, or a quiet test could pass in the gap. */
	}
	buckets = spc_index_buckets(&ps->ix);
	if (need > buckets * grow) {
		while (need > buckets * grow)
			buckets <<= 1;
	} else if (need < buckets * SPC_INDEX_SHRINK_LOAD && buckets > SPC_INDEX_INIT_BUCKETS) {
		buckets >>= 1;
	} else {
		ps->ix_retry = 0;
		ps->ix_need = 0;
		spc_kv_due(ps, 0);
		return 0;
	}
	spc_kv_due(ps, 1);
	if (ps->ix_retry > 0) {
		ps->ix_retry--;
		return 0;
	}
	if (spc_index_resize_begin(&ps->ix, buckets) != SPC_OK) {
		/* The old table keeps serving; try again later, and
		 * meanwhile evict for the new table's bytes when it grows
		 * (spc_maint_over): a growth the pool cannot pay for would
		 * leave writers without a slot. */
		ps->ix_retry = SPC_KV_RETRY_STEPS;
		if (buckets > spc_index_buckets(&ps->ix))
			ps->ix_need = (buckets + 1) * sizeof(struct spc_index_bucket);
		return 0;
	}
	ps->ix_need = 0;
	return 1;
}

int spc_kv_settled(const struct spc_pstate *ps)
{
	return !__atomic_load_n(&ps->ix_due, __ATOMIC_RELAXED);
}

uint64_t spc_kv_room_need(const struct spc_pstate *ps)
{
	return ps->ix_need;
}

uint64_t spc_kv_bytes(const struct spc_pstate *ps)
{
	return spc_index_bytes(&ps->ix);
}

struct spc_kv_walk {
	void (*fn)(void *arg, struct spc_entry *e);
	void *arg;
};

static void spc_kv_walk_one(void *arg, void *entry)
{
	struct spc_kv_walk *w = arg;

	w->fn(w->arg, entry);
}

void spc_kv_for_each_rcu(struct spc_pstate *ps, void (*fn)(void *arg, struct spc_entry *e),
                         void *arg)
{
	struct spc_kv_walk w = { fn, arg };

	spc_index_for_each_rcu(&ps->ix, spc_kv_walk_one, &w);
}

