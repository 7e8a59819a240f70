/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/forced.c: forced-eviction requests, the maintainer's side.
 *
 * A caller that wants a pool smaller (core/evict.c) does not evict
 * itself: the maintainer alone evicts (docs/concurrency.md). It posts a
 * request {goal in live bytes} here and waits on the pool's room_cv. The
 * pool keeps the lowest open goal plus one in forced_goal (0: none),
 * written under mu whenever the list changes, so the maintainer's test in
 * every step (spc_forced_over, from spc_maint_over) is one relaxed load
 * and, only with a request open, a look at live bytes. At the end of
 * every step the maintainer settles the list (spc_forced_settle): the
 * step's evictions are credited to every open request, those whose goal
 * is met are marked done and unlinked, and the waiters are woken with a
 * room_gen bump. A caller whose wait ran out withdraws its request under
 * mu before it returns, so a request never outlives its call.
 *
 * Guarantees (tests/unit/core/test_evict.c):
 *  1. forced_goal is the lowest open goal plus one, or 0, whenever mu is
 *     released;
 *  2. a request is completed only when the pool's live bytes were at most
 *     its goal at the end of a maintainer step, and is credited with
 *     every eviction of the steps it was open;
 *  3. after spc_forced_withdraw the request is in no list: the
 *     maintainer never touches it again.
 */
#include "core/forced.h"

#include "core/handle.h"
#include "core/room.h"
#include "sync/thread.h"

int spc_forced_over(const struct spc_pstate *ps)
{
	/* Relaxed: set under mu by a caller that then kicks; the maintainer
	 * locks mu before each step, which orders the store before this load.
	 * A stale 0 costs one step's delay, a stale goal one extra test. */
	uint64_t g = __atomic_load_n(&ps->forced_goal, __ATOMIC_RELAXED);

	return g != 0 && spc_live_bytes(ps) > g - 1;
}

/* The lowest open goal, plus one (0: none). Caller holds ps->mu. */
static uint64_t spc_forced_goal_locked(const struct spc_pstate *ps)
{
	uint64_t g = 0;

	for (const struct spc_evict_req *r = ps->forced_reqs; r; r = r->next)
		if (g == 0 || r->goal + 1 < g)
			g = r->goal + 1;
	return g;
}

/* Unlinks req (if still linked) and recomputes the goal. Caller holds mu. */
static void spc_forced_unlink_locked(struct spc_pstate *ps, struct spc_evict_req *req)
{
	for (struct spc_evict_req **pp = &ps->forced_reqs; *pp; pp = &(*pp)->next) {
		if (*pp == req) {
			*pp = req->next;
			break;
		}
	}
	/* Relaxed: read by spc_forced_over, see there. */
	__atomic_store_n(&ps->forced_goal, spc_forced_goal_locked(ps), __ATOMIC_RELAXED);
}

void spc_forced_settle(struct spc_pstate *ps)
{
	/* Relaxed: the maintainer is the only writer of evictions. */
	uint64_t ev = __atomic_load_n(&ps->evictions, __ATOMIC_RELAXED);
	uint64_t delta = ev - ps->forced_mark;
	uint64_t live;
	int completed = 0;

	ps->forced_mark = ev;
	/* Relaxed: a request posted after this load is settled next step. */
	if (__atomic_load_n(&ps->forced_goal, __ATOMIC_RELAXED) == 0)
		return;
	live = spc_live_bytes(ps);
	spc_lock(&ps->mu);
	for (struct spc_evict_req *r = ps->forced_reqs, *next; r; r = next) {
		next = r->next;
		r->evicted += delta;
		if (live <= r->goal) {
			r->done = 1;
			spc_forced_unlink_locked(ps, r);
			completed = 1;
		}
	}
	if (completed) {
		ps->room_gen++;
		if (pthread_cond_broadcast(&ps->room_cv) != 0)
			spc_die("pthread_cond_broadcast failed");
	}
	spc_unlock(&ps->mu);
}

void spc_forced_post(struct spc_pstate *ps, struct spc_evict_req *req)
{
	spc_lock(&ps->mu);
	req->next = ps->forced_reqs;
	ps->forced_reqs = req;
	/* Relaxed: see spc_forced_over. */
	__atomic_store_n(&ps->forced_goal, spc_forced_goal_locked(ps), __ATOMIC_RELAXED);
	spc_unlock(&ps->mu);
}

int spc_forced_withdraw(struct spc_pstate *ps, struct spc_evict_req *req, uint64_t *evicted)
{
	int done;

	spc_lock(&ps->mu);
	done = req->done;
	if (!done)
		spc_forced_unlink_locked(ps, req); /* guarantee 3 */
	if (evicted)
		*evicted = req->evicted;
	spc_unlock(&ps->mu);
	return done;
}
