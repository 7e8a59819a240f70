/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/evict.c: forced eviction (spc_evict_to_percent, spc_evict_to_target),
 * the callers' side, and the limits of an open cache (actual limit,
 * recommended minimum). The request list and the maintainer's side are
 * core/forced.c.
 *
 * The maintainer alone evicts (docs/concurrency.md), so a caller that wants
 * a pool smaller does not evict itself: it posts a request and waits.
 *
 *   caller                                   maintainer (one step)
 *   ------                                   ---------------------
 *   goal = live bytes x pct / 100
 *   lock mu; link req {goal}; forced_goal =
 *     min(open goals) + 1; room_waiters++
 *   unlock; kick; lock ------------------->  spc_maint_over: live > goal - 1
 *   wait on room_cv (until done or the         -> evict (bounded, as any step)
 *     deadline; re-kick every                spc_forced_settle (end of step):
 *     SPC_FORCED_POLL_MS)                      lock mu; credit the step's
 *                                              evictions to every open req;
 *                                              live <= req.goal -> done,
 *                                              unlink; recompute forced_goal;
 *   <------------------------------------      room_gen++, broadcast room_cv
 *   done: SPC_OK; deadline: unlink the
 *   request (the maintainer stops at its
 *   next test), SPC_ETIMEDOUT; *evicted = req.evicted (read under mu)
 *
 * "What the pool holds" is its live bytes: charged minus the reclamation
 * backlog (spc_live_bytes). An evicted entry leaves the live bytes at once;
 * its memory stays charged until its grace period ends (~10 ms later), as
 * for every eviction (docs/memory.md). In synchronous mode there is no
 * maintainer thread: the caller posts the same request and runs the steps
 * itself (spc_step_sync, which frees each batch before it returns).
 *
 * Guarantees (tests/unit/core/test_evict.c, tests/integration/cache):
 *  1. only the maintainer (or the step lock's holder) evicts; every entry a
 *     request removes counts in the pool's evictions and in *evicted;
 *  2. on SPC_OK the pool's live bytes were at most the goal when the
 *     maintainer completed the request; with no concurrent writers they
 *     still are when the call returns;
 *  3. a request never outlives its call: on timeout it is withdrawn under
 *     mu before the call returns, so the maintainer stops at its next test;
 *  4. concurrent callers each get their own request; the maintainer serves
 *     the lowest goal first and completes each as soon as its goal is met;
 *  5. with no concurrent writer, *evicted equals the growth of the pool's
 *     evictions counter and the drop of its items (tests check all three).
 */
#include "core/forced.h"

#include <time.h>

#include "core/handle.h"
#include "core/maint.h"
#include "core/room.h"
#include "pools/pools.h"
#include "sync/rcu.h"
#include "sync/thread.h"

/* How often a waiting caller re-kicks the maintainer: covers a goal that a
 * concurrent delete met while the maintainer slept. */
#define SPC_FORCED_POLL_MS 10u

/* The hysteresis of spc_evict_to_target, in % of the pool's target. */
#define SPC_TARGET_START_PCT 110u
#define SPC_TARGET_STOP_PCT 90u

#define SPC_PCT_MAX 100u

/* ---- caller side ------------------------------------------------------------ */

/* Synchronous mode: the caller is the maintainer, one step at a time under
 * the step lock, until its request is done, a step does no work, or the
 * deadline passes. Returns SPC_OK or SPC_ETIMEDOUT. */
static int spc_forced_run_sync(struct spc_pstate *ps, struct spc_evict_req *req,
                               const struct timespec *end)
{
	int done, work;

	for (;;) {
		work = spc_step_sync(ps, 1);
		spc_lock(&ps->mu);
		done = req->done;
		spc_unlock(&ps->mu);
		if (done || !work || spc_deadline_reached(end))
			break;
	}
	return done ? SPC_OK : SPC_ETIMEDOUT;
}

/* Threaded mode: kick and wait on room_cv for the maintainer's verdict. */
static int spc_forced_wait(struct spc_pstate *ps, struct spc_evict_req *req,
                           const struct timespec *end)
{
	struct timespec slice;
	int done;

	spc_lock(&ps->mu);
	ps->room_waiters++;
	while (!req->done) {
		uint64_t gen = ps->room_gen;

		spc_unlock(&ps->mu);
		spc_kick(ps);
		spc_lock(&ps->mu);
		if (req->done || spc_deadline_reached(end))
			break;
		if (ps->room_gen != gen)
			continue;
		spc_deadline(&slice, SPC_FORCED_POLL_MS);
		if (spc_ts_before(end, &slice))
			slice = *end;
		spc_timedwait(&ps->room_cv, &ps->mu, &slice);
	}
	ps->room_waiters--;
	done = req->done;
	spc_unlock(&ps->mu);
	return done ? SPC_OK : SPC_ETIMEDOUT;
}

/* Evicts the pool down to goal live bytes within timeout_ms (the request
 * handshake above). Returns SPC_OK or SPC_ETIMEDOUT; *evicted (may be
 * NULL) gets the evictions made while the request was open. */
static int spc_forced_evict(struct spc_pstate *ps, uint64_t goal, unsigned timeout_ms,
                            uint64_t *evicted)
{
	struct spc_evict_req req = { NULL, goal, 0, 0 };
	struct timespec end;
	int r;

	spc_deadline(&end, timeout_ms);
	spc_forced_post(ps, &req);
	if (ps->cache->sync_mode)
		r = spc_forced_run_sync(ps, &req, &end);
	else
		r = spc_forced_wait(ps, &req, &end);
	(void)spc_forced_withdraw(ps, &req, evicted); /* guarantee 3 */
	return r;
}

static int spc_evict_args_ok(const struct spc_cache *c, enum spc_pool_id pool)
{
	return c && (pool == SPC_POOL_INDEX || pool == SPC_POOL_VIEW);
}

int spc_evict_to_percent(struct spc_cache *c, enum spc_pool_id pool, unsigned pct,
                         unsigned timeout_ms, uint64_t *evicted)
{
	struct spc_pstate *ps;
	uint64_t live;

	if (evicted)
		*evicted = 0;
	if (!spc_evict_args_ok(c, pool) || pct > SPC_PCT_MAX)
		return SPC_EINVAL;
	SPC_ASSERT_NOT_IN_RCU();
	spc_rcu_ensure();
	ps = &c->ps[pool];
	live = spc_live_bytes(ps);
	/* pct of what the pool holds now; 100 (or an empty pool) asks nothing */
	if (pct == SPC_PCT_MAX || live == 0)
		return SPC_OK;
	return spc_forced_evict(ps, live / SPC_PCT_MAX * pct + live % SPC_PCT_MAX * pct / SPC_PCT_MAX,
	                        timeout_ms, evicted);
}

int spc_evict_to_target(struct spc_cache *c, enum spc_pool_id pool, unsigned timeout_ms,
                        uint64_t *evicted)
{
	struct spc_pstate *ps;
	uint64_t target;

	if (evicted)
		*evicted = 0;
	if (!spc_evict_args_ok(c, pool))
		return SPC_EINVAL;
	SPC_ASSERT_NOT_IN_RCU();
	spc_rcu_ensure();
	ps = &c->ps[pool];
	target = spc_pool_target(ps->pool);
	/* Hysteresis: start only above 110 % of the target, stop at 90 %. */
	if (spc_live_bytes(ps) <= target / SPC_PCT_MAX * SPC_TARGET_START_PCT)
		return SPC_OK;
	return spc_forced_evict(ps, target / SPC_PCT_MAX * SPC_TARGET_STOP_PCT, timeout_ms,
	                        evicted);
}

/* ---- limits ---------------------------------------------------------------------- */

uint64_t spc_actual_memory_limit(struct spc_cache *c)
{
	return c ? spc_mem_budget(c->mem) : 0;
}

uint64_t spc_recommended_minimum(void)
{
	return SPC_RECOMMENDED_MIN_BYTES;
}

int spc_below_recommended_minimum(struct spc_cache *c)
{
	return c && spc_mem_budget(c->mem) < SPC_RECOMMENDED_MIN_BYTES;
}
