/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/room.c: a pool's room, the shared part every actor touches: the
 * bytes its entries hold (live and held bytes, the room the index's
 * tables leave), giving bytes back and waking whoever waits for room,
 * waking the maintainer, and noting an entry a writer unpublished.
 *
 * These touch only a pool's shared fields (charge, backlog, dead count,
 * mu, the two conditions, kicked), never the maintainer's own state, so
 * the writers' paths, the index seam and the maintainer's hooks all call
 * down here and nothing here calls up (docs/design.md, "Inside core/").
 *
 * Waking (docs/concurrency.md, "Waking the maintainer" and "Budget and
 * back-pressure"): every uncharge outside the maintainer's step bumps
 * room_gen under mu and broadcasts room_cv when writers wait; the
 * maintainer's step uncharges through spc_maint_uncharge and wakes once,
 * at the end of its step. A kick is one relaxed load while one is
 * pending; the exchange elects one waker, whose signal under mu cannot
 * be lost because the maintainer tests kicked under mu before it sleeps.
 *
 * Guarantees (tests/unit/core/test_backpressure.c, test_accounting.c):
 *  1. no lost wake-up: room_gen moves under mu with every uncharge;
 *  2. live bytes never count an entry twice (backlog is added after the
 *     charge it describes) and exclude the index's tables;
 *  3. an unpublished entry is counted in the backlog and the dead count
 *     before its dead flag is released, so the maintainer that sees the
 *     flag sees the accounting.
 */
#include "core/room.h"

#include "core/index.h"
#include "pools/pools.h"
#include "sync/thread.h"

/* The bytes of the index's tables charged to the pool
 * (core/kv_index_compact.c). The index seam's spc_kv_bytes says the
 * same; read here from the index itself, below the seam. */
static uint64_t spc_room_index_bytes(const struct spc_pstate *ps)
{
	return spc_index_bytes(&ps->ix);
}

/* The pool this thread maintains (set by the maintainer thread itself,
 * so the check does not race with pthread_create storing the id). */
static __thread const struct spc_pstate *spc_maint_current;

void spc_maint_thread_set(const struct spc_pstate *ps)
{
	spc_maint_current = ps;
}

int spc_is_maintainer(const struct spc_pstate *ps)
{
	if (ps->cache->sync_mode)
		return ps->in_step;
	return spc_maint_current == ps;
}

/* ---- bytes ---------------------------------------------------------------- */

uint64_t spc_live_bytes(const struct spc_pstate *ps)
{
	uint64_t charged = spc_pool_charged(ps->pool);
	/* Relaxed: an estimate; backlog is added after the charge it
	 * describes, so charged - backlog never counts an entry twice. */
	uint64_t backlog = __atomic_load_n(&ps->backlog, __ATOMIC_RELAXED);
	/* The index's tables are charged too but are no entry's: eviction cannot bring them below a table. */
	uint64_t other = backlog + spc_room_index_bytes(ps);

	return charged > other ? charged - other : 0;
}

uint64_t spc_entry_room(const struct spc_pstate *ps, uint64_t target)
{
	uint64_t ix = spc_room_index_bytes(ps);

	return target > ix ? target - ix : 0;
}

/* ---- giving back and waking ---------------------------------------------- */

void spc_room_wake(struct spc_pstate *ps)
{
	spc_lock(&ps->mu);
	ps->room_gen++;
	if (ps->room_waiters && pthread_cond_broadcast(&ps->room_cv) != 0)
		spc_die("pthread_cond_broadcast failed");
	spc_unlock(&ps->mu);
}

void spc_uncharge(struct spc_pstate *ps, uint64_t bytes)
{
	spc_pool_uncharge(ps->pool, bytes);
	spc_room_wake(ps);
}

void spc_maint_uncharge(struct spc_pstate *ps, uint64_t bytes)
{
	SPC_DEBUG_CHECK(spc_is_maintainer(ps));
	spc_pool_uncharge(ps->pool, bytes);
	ps->room_freed = 1; /* waiters are woken at the end of the step */
}

void spc_kick(struct spc_pstate *ps)
{
	/* Relaxed test first: while a kick is pending, writers pay one load.
	 * The exchange elects one waker; the signal under mu cannot be lost
	 * because the maintainer checks kicked under mu before waiting. */
	if (__atomic_load_n(&ps->kicked, __ATOMIC_RELAXED))
		return;
	if (__atomic_exchange_n(&ps->kicked, 1, __ATOMIC_RELAXED))
		return;
	spc_lock(&ps->mu);
	if (pthread_cond_signal(&ps->maint_cv) != 0)
		spc_die("pthread_cond_signal failed");
	spc_unlock(&ps->mu);
}

void spc_note_unpublished(struct spc_pstate *ps, struct spc_entry *e)
{
	uint64_t dead;

	/* The caller found e through the index: acquire its contents. */
	(void)spc_entry_acquire(e);
	/* Relaxed adds: gauges read by stats and the maintainer; what orders
	 * them before the maintainer's reclamation is the release below. */
	__atomic_fetch_add(&ps->backlog, spc_entry_charge(ps, e), __ATOMIC_RELAXED);
	dead = __atomic_add_fetch(&ps->dead_pending, 1, __ATOMIC_RELAXED);
	/* Release: pairs with spc_op_dead's acquire; the maintainer frees the
	 * entry only after seeing the flag, so our accounting comes first. */
	__atomic_fetch_or(&e->meta, SPC_META_DEAD, __ATOMIC_RELEASE);
	if (!ps->cache->sync_mode && (dead & 1023) == 0)
		spc_kick(ps);
}
