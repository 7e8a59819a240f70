/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/reclaim.c: batched reclamation, the maintainer's half of the
 * reclamation rule (docs/concurrency.md, "The reclamation rule").
 *
 * The maintainer puts every entry it or a writer unpublished into the
 * pool's current batch (spc_maint_reclaim); a full batch, or one a waiter
 * needs now, goes to urcu_memb_call_rcu as one callback, which frees the
 * entries after the grace period, uncharges them in one go, returns the batch to
 * the free list and wakes whoever waits for room. A batch that is not
 * full waits for more entries unless room is wanted or it is
 * SPC_BATCH_HOLD_MS old, so a trickle of deletes costs one grace period
 * per SPC_BATCH_HOLD_MS, and a long read section cannot tie up every
 * batch within a few steps. When no batch is free the step takes no
 * victim and no dead entry (spc_maint_has_slot: the pool is starved,
 * refusals say so); only an entry the policy could not admit makes the
 * maintainer wait for the callbacks (urcu_memb_barrier). In synchronous
 * mode a batch is reclaimed in the step itself after
 * urcu_memb_synchronize_rcu, so the caller sees the room at once.
 *
 * Dead entries (replaced, deleted, cleared) are found by sweeping the
 * policy's queues, one visit per queued item: spc_maint_dead_due starts
 * a pass only when it pays for itself, or when they were left alone a
 * while, or room is wanted.
 *
 * Freeing only in callbacks keeps one call_rcu per batch and every free
 * of a published entry on the RCU worker, where the TSan suppressions for
 * liburcu's invisible grace periods apply (core/maint.c's essay, step 4).
 *
 * Guarantees (tests/unit/core/test_backpressure.c, test_accounting.c,
 * tests/stress):
 *  1. an entry is freed only after it was unpublished and a grace period
 *     passed, exactly once, and its charge leaves the backlog and the pool
 *     together;
 *  2. the maintainer never waits for a grace period while a batch is free
 *     (threaded mode);
 *  3. a forgotten height entry: spc_view_maint_forget runs before an entry
 *     joins a batch, so no index points at a freed entry.
 */
#include "core/reclaim.h"

#include <time.h>

#include "core/forced.h"
#include "core/policy.h"
#include "core/room.h"
#include "core/view_maint.h"
#include "pools/pools.h"
#include "sync/rcu.h"
#include "sync/thread.h"

/* How far ahead spc_batch_free_entries prefetches. */
#define SPC_RECLAIM_PREFETCH 4u

/* Frees one unpublished entry whose grace period has passed. */
static void spc_free_entry(struct spc_pstate *ps, struct spc_entry *e)
{
	uint64_t charge = spc_entry_charge(ps, e);

	spc_pool_free(ps->pool, spc_entry_base(e), spc_entry_alloc_size(e));
	/* Relaxed: the backlog is a gauge; the uncharge below is what
	 * writers wait for, and they are woken through ps->mu. */
	__atomic_fetch_sub(&ps->backlog, charge, __ATOMIC_RELAXED);
	spc_pool_uncharge(ps->pool, charge);
}

/* Frees a batch's entries and gives their charges back in one go: one
 * subtraction from the backlog and one uncharge per batch, not per entry
 * (both counters are shared with every writer: an atomic per entry
 * bounced their line for each), and frees the slots with one lock of a
 * slab class per run of its slots, not one per entry (the writers take
 * the same lock for every insert). The backlog still goes first, as in
 * spc_free_entry. The entry a few places ahead is prefetched: its size
 * and its slab are read here long after the maintainer last touched it. */
static void spc_batch_free_entries(struct spc_batch *b)
{
	struct spc_pstate *ps = b->ps;
	uint64_t charge = 0;
	unsigned n = b->n;
	void *base[SPC_BATCH_ENTRIES];
	size_t size[SPC_BATCH_ENTRIES];

	if (n == 0)
		return;
	for (unsigned i = 0; i < n; i++) {
		struct spc_entry *e = b->e[i];

		if (i + SPC_RECLAIM_PREFETCH < n)
			__builtin_prefetch(b->e[i + SPC_RECLAIM_PREFETCH]);
		charge += spc_entry_charge(ps, e);
		base[i] = spc_entry_base(e);
		size[i] = spc_entry_alloc_size(e);
	}
	spc_pool_free_many(ps->pool, base, size, n);
	b->n = 0;
	if (charge == 0)
		return;
	/* Relaxed: as in spc_free_entry. */
	__atomic_fetch_sub(&ps->backlog, charge, __ATOMIC_RELAXED);
	spc_pool_uncharge(ps->pool, charge);
}

static void spc_batch_put(struct spc_pstate *ps, struct spc_batch *b)
{
	spc_lock(&ps->batch_mu);
	b->next = ps->free_batches;
	ps->free_batches = b;
	ps->free_count++;
	spc_unlock(&ps->batch_mu);
}

static struct spc_batch *spc_batch_get(struct spc_pstate *ps)
{
	struct spc_batch *b;

	spc_lock(&ps->batch_mu);
	b = ps->free_batches;
	if (b) {
		ps->free_batches = b->next;
		ps->free_count--;
	} else if (ps->fresh < ps->nbatches) {
		/* First use: its page is touched now, not at open. */
		b = &ps->batches[ps->fresh++];
		b->ps = ps;
		ps->free_count--;
	}
	spc_unlock(&ps->batch_mu);
	return b;
}

size_t spc_maint_capacity(struct spc_pstate *ps)
{
	size_t n;

	spc_lock(&ps->batch_mu);
	n = (size_t)ps->free_count * SPC_BATCH_ENTRIES;
	spc_unlock(&ps->batch_mu);
	return n + (ps->cur ? SPC_BATCH_ENTRIES - ps->cur->n : 0);
}

int spc_maint_has_slot(struct spc_pstate *ps)
{
	if (!ps->cur)
		ps->cur = spc_batch_get(ps);
	if (!ps->cur) {
		ps->step_starved = 1;
		return 0;
	}
	return 1;
}

/* call_rcu callback (the RCU worker thread): the grace period of every
 * entry in the batch has passed. */
static void spc_batch_cb(struct rcu_head *head)
{
	struct spc_batch *b = caa_container_of(head, struct spc_batch, head);
	struct spc_pstate *ps = b->ps;

	spc_batch_free_entries(b);
	spc_batch_put(ps, b);
	spc_room_wake(ps);
}

/* Whether a batch that is not full is worth a grace period now: someone
 * waits for room (a writer's need, the watermark's hysteresis, a forced
 * eviction), or it has held its first entry for SPC_BATCH_HOLD_MS. */
static int spc_maint_flush_due(struct spc_pstate *ps)
{
	struct timespec now;
	long ms;

	/* Relaxed: advisory, as in spc_maint_over. */
	if (__atomic_load_n(&ps->room_need, __ATOMIC_RELAXED) || ps->evicting ||
	    spc_forced_over(ps))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long)(now.tv_sec - ps->cur_since.tv_sec) * 1000 +
	     (now.tv_nsec - ps->cur_since.tv_nsec) / 1000000;
	return ms >= (long)SPC_BATCH_HOLD_MS;
}

void spc_maint_flush(struct spc_pstate *ps, int force)
{
	struct spc_batch *b = ps->cur;

	SPC_DEBUG_CHECK(spc_is_maintainer(ps));
	if (!b || b->n == 0)
		return;
	if (ps->cache->sync_mode) {
		if (!force && b->n < SPC_BATCH_ENTRIES)
			return;
		/* Synchronous: wait for the grace period here (we are not in a
		 * read section) so the room is there when the step returns. */
		urcu_memb_synchronize_rcu();
		spc_batch_free_entries(b);
		ps->room_freed = 1;
		return;
	}
	if (!force && b->n < SPC_BATCH_ENTRIES && !spc_maint_flush_due(ps))
		return;
	ps->cur = NULL;
	urcu_memb_call_rcu(&b->head, spc_batch_cb);
}

void spc_maint_reclaim(struct spc_pstate *ps, struct spc_entry *e)
{
	SPC_DEBUG_CHECK(spc_is_maintainer(ps));
	spc_view_maint_forget(ps, e); /* no index may point at it once freed */
	if (spc_entry_meta(e) & SPC_META_EXPIRY)
		ps->expiry_items--; /* counted when admitted (spc_maint_step) */
	if (!ps->cur)
		ps->cur = spc_batch_get(ps);
	if (!ps->cur) {
		/* Every batch is waiting for its grace period. The step's
		 * eviction and sweeps ask spc_maint_has_slot first, so only an
		 * entry the policy could not admit (its queues could not grow)
		 * gets here: wait for the callbacks (never in a read section or
		 * a callback here), which returns every batch. */
		urcu_memb_barrier();
		ps->cur = spc_batch_get(ps);
		SPC_CHECK(ps->cur != NULL);
	}
	if (ps->cur->n == 0)
		clock_gettime(CLOCK_MONOTONIC, &ps->cur_since);
	ps->cur->e[ps->cur->n++] = e;
	if (ps->cur->n == SPC_BATCH_ENTRIES)
		spc_maint_flush(ps, 1);
}

void spc_maint_reclaim_dead(struct spc_pstate *ps, struct spc_entry *e)
{
	/* Relaxed: a gauge for the sweep decision. */
	__atomic_fetch_sub(&ps->dead_pending, 1, __ATOMIC_RELAXED);
	spc_maint_reclaim(ps, e);
}

void spc_ps_free_all(struct spc_pstate *ps)
{
	void *item;

	while (spc_ring_take(&ps->ring, &item))
		if (item)
			spc_free_entry(ps, item);
	while (spc_policy_size(ps->policy) > 0) {
		if (spc_policy_next(ps->policy, SIZE_MAX, &item) == SPC_VICTIM_NONE)
			spc_die("policy holds items it will not return");
		spc_free_entry(ps, item);
	}
	if (ps->cur) {
		spc_batch_free_entries(ps->cur);
		spc_batch_put(ps, ps->cur);
		ps->cur = NULL;
	}
}

/* A pass over the queues for dead entries starts when they are at least
 * 1 in SPC_DEAD_SHARE of the queued items, or have been left alone
 * SPC_DEAD_QUIET_MS (no new one meanwhile), or a writer waits for room. */
#define SPC_DEAD_SHARE 8u
#define SPC_DEAD_QUIET_MS 100u

/* See core/reclaim.h. The cost it avoids: each dead entry costs a visit
 * of the queues to find, so a sweep per step while any was pending cost
 * up to a pass over every queued item per handful found; under a steady
 * 10 % of overwrites that took most of the maintainer's time. */
int spc_maint_dead_due(struct spc_pstate *ps)
{
	/* Relaxed: hints; a dead entry missed is met by a later pass. */
	uint64_t dead = __atomic_load_n(&ps->dead_pending, __ATOMIC_RELAXED);
	struct timespec ts;
	uint64_t ms;

	if (!dead) {
		ps->dead_pass_left = 0;
		ps->dead_seen = 0;
		return 0;
	}
	if (ps->dead_pass_left)
		return 1;
	if (ps->cache->sync_mode || dead * SPC_DEAD_SHARE >= spc_policy_size(ps->policy) ||
	    __atomic_load_n(&ps->room_need, __ATOMIC_RELAXED))
		goto start;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
	if (dead != ps->dead_seen) {
		ps->dead_seen = dead;
		ps->dead_seen_ms = ms;
		return 0;
	}
	if (ms - ps->dead_seen_ms < SPC_DEAD_QUIET_MS)
		return 0;
start:
	ps->dead_pass_left = spc_policy_size(ps->policy);
	ps->dead_seen = 0;
	return ps->dead_pass_left != 0;
}
