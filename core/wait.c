/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/wait.c: bounded waits of writers and set_mode for the maintainer
 * (back-pressure).
 *
 * A writer whose charge the pool refuses does not overshoot and does not
 * spin: it registers as a waiter under the pool's mu (its need raises
 * room_need to the largest need of the registered writers; the last one
 * to leave clears it; the maintainer's eviction test reads it), kicks the
 * maintainer and sleeps on room_cv until the deadline. Every uncharge
 * (reclamation callbacks, a writer giving back a charge it could not use,
 * the per-height index's bookkeeping) and every target increase bumps
 * room_gen and broadcasts, so a waiter retries exactly when room may have
 * appeared. In synchronous mode there is nobody to wait for: the waiter
 * runs maintenance steps itself (forcing reclamation) while they make
 * progress, registered the same way, since several threads may step.
 *
 * A writer whose allocation the slab layer refused (a new slab would pass
 * the pool's target while slabs of other sizes hold free slots,
 * spc_pool_alloc_entry) waits the same way with its charge held
 * (spc_wait_slab): it counts in slab_short, which makes the maintainer
 * evict while the pool's slabs may not grow (spc_pool_slabs_bound), and
 * retries at every room_gen bump; its need for a slab is in room_need
 * too, so partial reclamation batches go at once.
 *
 * A refused write says what ran out: SPC_EFULL when the pool's bytes
 * stayed at its limit, SPC_EBUSY when the maintainer was behind (its ring
 * stayed full, or it had no free reclamation batch and so could not make
 * room); each cause has its own counter.
 *
 * Guarantees (tests/integration/cache, tests/unit/core/test_backpressure.c,
 * tests/stress):
 *  1. no wait is longer than its bound (full_wait_ms, or set_mode's);
 *  2. a wait that ends without room leaves nothing charged;
 *  3. no lost wake-up: room_gen is read under mu before the charge is
 *     retried, and compared under mu before sleeping; every uncharge bumps
 *     it under mu;
 *  4. room_need is the largest need of the writers waiting now, in both
 *     modes.
 */
#include "core/wait.h"

#include <sched.h>
#include <time.h>

#include "core/handle.h"
#include "core/maint.h"
#include "core/room.h"
#include "core/stats.h"
#include "pools/pools.h"
#include "sync/rcu.h"
#include "sync/ring.h"
#include "sync/thread.h"

/* Registers a writer that needs bytes: room_need becomes the largest
 * need of the registered writers (the maintainer's eviction test reads
 * it). Context: mu held. */
static void spc_need_enter(struct spc_pstate *ps, uint64_t bytes)
{
	ps->room_needers++;
	/* Relaxed: the maintainer reads it as advisory; every writer of it
	 * holds mu, so the maximum is never lowered by a racing store. */
	if (__atomic_load_n(&ps->room_need, __ATOMIC_RELAXED) < bytes)
		__atomic_store_n(&ps->room_need, bytes, __ATOMIC_RELAXED);
}

/* The writer no longer needs room; the last one clears room_need.
 * Context: mu held. */
static void spc_need_leave(struct spc_pstate *ps)
{
	if (--ps->room_needers == 0)
		__atomic_store_n(&ps->room_need, 0, __ATOMIC_RELAXED); /* as above */
}

/* The refusal of a write that could not get room: SPC_EBUSY when the
 * maintainer lacked free batches (it could not evict or reclaim: the
 * room it would have made is held by reclamation), else SPC_EFULL (the
 * pool's bytes are at its limit). Counted here, once per refused write. */
static int spc_refuse_charge(struct spc_pstate *ps)
{
	/* Relaxed: a hint about the cause, written by the maintainer. */
	int busy = __atomic_load_n(&ps->starved, __ATOMIC_RELAXED);

	spc_count(ps->cache, ps->id, busy ? SPC_C_BUSY_BATCH : SPC_C_EFULL, 1);
	return busy ? SPC_EBUSY : SPC_EFULL;
}

/* Synchronous mode: the waiter steps itself while the steps make
 * progress. Several writer threads may wait at once; each registers its
 * need under mu, so one that gets its room cannot erase another's. */
static int spc_wait_charge_sync(struct spc_pstate *ps, uint64_t bytes)
{
	struct timespec end, now;
	uint64_t gen;
	int ok = 0;

	spc_deadline(&end, ps->cache->cfg.full_wait_ms);
	spc_lock(&ps->mu);
	spc_need_enter(ps, bytes);
	gen = ps->room_gen;
	spc_unlock(&ps->mu);
	/* Until the room is ours, or a step found nothing to do, no room
	 * appeared meanwhile and no record waits in the ring, or the
	 * deadline passed (other writers kept taking the room). Another
	 * writer's step that freed room bumps room_gen when it ends; if that
	 * writer took the room, our next step evicts for us. */
	for (;;) {
		int work = spc_step_sync(ps, 1), moved;

		ok = spc_pool_charge(ps->pool, bytes) == SPC_OK;
		if (ok)
			break;
		if (!work) {
			/* A step of another writer may be under way, its
			 * victims not yet freed: let it end, then look again. */
			spc_lock(&ps->step_mu);
			spc_unlock(&ps->step_mu);
			ok = spc_pool_charge(ps->pool, bytes) == SPC_OK;
			if (ok)
				break;
		}
		spc_lock(&ps->mu);
		moved = ps->room_gen != gen;
		gen = ps->room_gen;
		spc_unlock(&ps->mu);
		if (!work && !moved) {
			/* Records wait behind a cell another writer has
			 * reserved and will fill in a moment (it publishes in
			 * a read section, no wait): what it holds back can be
			 * evicted then. Otherwise nothing can make room. */
			if (spc_ring_count(&ps->ring) == 0)
				break;
			sched_yield();
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			break;
	}
	spc_lock(&ps->mu);
	spc_need_leave(ps);
	spc_unlock(&ps->mu);
	return ok ? SPC_OK : spc_refuse_charge(ps);
}

int spc_wait_charge(struct spc_pstate *ps, uint64_t bytes)
{
	struct timespec ts;
	int ok = 0;

	SPC_ASSERT_NOT_IN_RCU();
	if (spc_pool_charge(ps->pool, bytes) == SPC_OK)
		return SPC_OK;
	/* Larger than the whole pool: no eviction can make room, so refuse
	 * now rather than let the maintainer empty the pool in vain. */
	if (bytes > spc_pool_target(ps->pool)) {
		spc_count(ps->cache, ps->id, SPC_C_EFULL, 1);
		return SPC_EFULL;
	}
	if (ps->cache->sync_mode)
		return spc_wait_charge_sync(ps, bytes);
	spc_deadline(&ts, ps->cache->cfg.full_wait_ms);
	spc_lock(&ps->mu);
	ps->room_waiters++;
	spc_need_enter(ps, bytes);
	for (;;) {
		uint64_t gen = ps->room_gen;
		int timed_out = 0;

		spc_unlock(&ps->mu);
		ok = spc_pool_charge(ps->pool, bytes) == SPC_OK;
		if (!ok)
			spc_kick(ps);
		spc_lock(&ps->mu);
		if (ok)
			break;
		/* Every uncharge bumps room_gen under mu (spc_uncharge, the
		 * batch callbacks, the end of a maintainer step that gave
		 * bytes back): a change since our failed charge is room. */
		if (ps->room_gen == gen)
			timed_out = spc_timedwait(&ps->room_cv, &ps->mu, &ts);
		if (timed_out) {
			ok = spc_pool_charge(ps->pool, bytes) == SPC_OK;
			break;
		}
	}
	ps->room_waiters--;
	spc_need_leave(ps);
	spc_unlock(&ps->mu);
	return ok ? SPC_OK : spc_refuse_charge(ps);
}

struct spc_ring_cell *spc_wait_ring_cell(struct spc_pstate *ps)
{
	struct spc_ring_cell *c = spc_ring_reserve(&ps->ring);
	struct timespec now, end;

	if (c)
		return c;
	if (ps->cache->sync_mode) {
		spc_step_sync(ps, 0);
		c = spc_ring_reserve(&ps->ring);
		goto out;
	}
	spc_deadline(&end, ps->cache->cfg.full_wait_ms);
	for (;;) {
		struct timespec nap = { 0, 200000 }; /* 0.2 ms */

		spc_kick(ps);
		nanosleep(&nap, NULL);
		c = spc_ring_reserve(&ps->ring);
		if (c)
			return c;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			break;
	}
out:
	/* Relaxed: a hint about the cause, written by the maintainer. */
	if (!c)
		spc_count(ps->cache, ps->id,
		          __atomic_load_n(&ps->starved, __ATOMIC_RELAXED) ? SPC_C_BUSY_BATCH
		                                                         : SPC_C_BUSY_RING,
		          1);
	return c;
}

void *spc_wait_slab(struct spc_pstate *ps, size_t size)
{
	struct timespec end;
	int stranded = 1, timed_out = 0;
	void *p = NULL;

	SPC_ASSERT_NOT_IN_RCU();
	spc_deadline(&end, ps->cache->cfg.full_wait_ms);
	spc_lock(&ps->mu);
	/* Relaxed: the maintainer reads it as a hint; writers hold mu. */
	__atomic_store_n(&ps->slab_short, ps->slab_short + 1, __ATOMIC_RELAXED);
	spc_need_enter(ps, spc_pool_slab_need(size));
	if (ps->cache->sync_mode) {
		/* Steps of our own, while they find work: each evicts
		 * while the slabs may not grow and frees its victims before
		 * it returns. */
		spc_unlock(&ps->mu);
		while (stranded && !p && spc_step_sync(ps, 1) && !spc_deadline_reached(&end))
			p = spc_pool_alloc_entry(ps->pool, size, &stranded);
		spc_lock(&ps->mu);
	} else {
		ps->room_waiters++;
		while (stranded && !p) {
			uint64_t gen = ps->room_gen;

			spc_unlock(&ps->mu);
			p = spc_pool_alloc_entry(ps->pool, size, &stranded);
			if (!p)
				spc_kick(ps);
			spc_lock(&ps->mu);
			if (p || timed_out)
				break;
			/* Slabs are released by reclamation, which uncharges
			 * and bumps room_gen after: a change is worth a retry. */
			if (ps->room_gen == gen)
				timed_out = spc_timedwait(&ps->room_cv, &ps->mu, &end);
		}
		ps->room_waiters--;
	}
	spc_need_leave(ps);
	__atomic_store_n(&ps->slab_short, ps->slab_short - 1, __ATOMIC_RELAXED);
	spc_unlock(&ps->mu);
	return p;
}

int spc_wait_shed(struct spc_pstate *ps, uint64_t target, unsigned ms)
{
	struct timespec ts;
	int timed_out = 0;

	SPC_ASSERT_NOT_IN_RCU();
	if (ps->cache->sync_mode) {
		while (spc_step_sync(ps, 1) && spc_pool_charged(ps->pool) > target)
			;
		return spc_pool_charged(ps->pool) <= target ? SPC_OK : SPC_ETIMEDOUT;
	}
	spc_deadline(&ts, ms);
	spc_lock(&ps->mu);
	ps->room_waiters++;
	while (spc_pool_charged(ps->pool) > target && !timed_out) {
		uint64_t gen = ps->room_gen;

		spc_unlock(&ps->mu);
		spc_kick(ps);
		spc_lock(&ps->mu);
		if (ps->room_gen == gen)
			timed_out = spc_timedwait(&ps->room_cv, &ps->mu, &ts);
	}
	ps->room_waiters--;
	spc_unlock(&ps->mu);
	return spc_pool_charged(ps->pool) <= target ? SPC_OK : SPC_ETIMEDOUT;
}

