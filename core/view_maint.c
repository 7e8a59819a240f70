/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/view_maint.c: the view namespaces' state (open, close) and the
 * maintainer's side of views: filing height entries by height, forgetting
 * them before they are freed, and serving reorganisations
 * (docs/views.md, docs/concurrency.md "Views"; the callers' side, the
 * namespaces and the tip, is core/view.c; sub-budgets core/view_budget.c).
 *
 * The view pool's maintainer admits every new entry from the writers'
 * ring; before the policy, it files each height entry in a per-height
 * index (core/hidx.c) under its height (spc_view_maint_file), and it drops
 * an entry from that index before reclamation can free it
 * (spc_view_maint_forget). The per-height index's bookkeeping is charged
 * with the entry by its writer (core/view.c) and given back here when the
 * entry leaves the index, or at once when it could not be filed (the
 * maintainer then evicts the entry).
 *
 * A reorganisation (spc_invalidate_from_height, a lower tip) is a request
 * {from, ring position T} posted under the pool's mu. The maintainer
 * serves it only once it has taken every ring record below T (a reserved
 * cell not yet filled holds it back), so every entry published by a
 * store that returned before the call is filed. It then cuts the index at
 * `from` and unpublishes the cut's entries one by one, at most
 * SPC_STEP_EVICT per step, each exactly like a delete (spc_kv_remove_rcu,
 * then spc_note_unpublished: dead, backlog, reclaimed after a grace period
 * by the usual path), and marks the request done under mu.
 *
 * Guarantees (tests/integration/views, tests/unit/core/test_view_index.c,
 * tests/fault/core/test_fault_views.c):
 *  1. the per-height index never holds an entry that was freed; every
 *     filed entry leaves it exactly once (forgotten, cut, or evicted for
 *     the height share), and its bookkeeping charge goes back then;
 *  2. a request is served only after every ring record below its T was
 *     taken, and marked done only when every entry of its cut was
 *     unpublished (by us, or by a writer first, who accounts it);
 *  3. the hooks return at once for the index pool and for entries outside
 *     SPC_NS_HEIGHT: plain and API entries cost nothing more.
 */
#include "core/view_maint.h"

#include "core/clock.h"
#include "core/hidx.h"
#include "core/kv_index.h"
#include "core/room.h"
#include "core/view_state.h"
#include "pools/pools.h"
#include "sync/rcu.h"
#include "sync/ring.h"
#include "sync/thread.h"

/* ---- life cycle ------------------------------------------------------------ */

int spc_view_open(struct spc_cache *c)
{
	double hs = c->cfg.view_height_share;
	struct spc_view *v;

	/* 0 (off) or inside (0, 1); the negated test also refuses NaN. */
	if (!(hs == 0.0 || (hs > 0.0 && hs < 1.0)))
		return SPC_EINVAL;
	v = spc_aligned_calloc(&c->env, SPC_CACHELINE, sizeof *v);
	if (!v)
		return SPC_ENOMEM;
	v->height_share = hs;
	if (spc_hidx_create(&c->env, c->seed, &v->hidx) != SPC_OK) {
		spc_free(v);
		return SPC_ENOMEM;
	}
	v->tip = UINT64_MAX;
	v->share = (uint32_t)spc_hidx_item_bytes();
	spc_mutex_init(&v->mu);
	c->view = v;
	return SPC_OK;
}

void spc_view_close(struct spc_cache *c)
{
	struct spc_view *v = c->view;

	if (!v)
		return;
	/* The entries are gone (close freed them); their bookkeeping too. */
	spc_pool_uncharge(c->ps[SPC_POOL_VIEW].pool, (uint64_t)spc_hidx_count(v->hidx) * v->share);
	spc_hidx_destroy(v->hidx);
	pthread_mutex_destroy(&v->mu);
	spc_free(v);
	c->view = NULL;
}

/* ---- the maintainer's side ----------------------------------------------------- */

static struct spc_view *spc_view_of(const struct spc_pstate *ps)
{
	return ps->id == SPC_POOL_VIEW ? ps->cache->view : NULL;
}

int spc_view_maint_file(struct spc_pstate *ps, struct spc_entry *e)
{
	struct spc_view *v = spc_view_of(ps);

	if (!v || spc_entry_ns(e) != SPC_NS_HEIGHT)
		return SPC_OK;
	if (spc_hidx_add(v->hidx, e, spc_entry_height(e)) != SPC_OK) {
		spc_maint_uncharge(ps, v->share);
		return SPC_ENOMEM;
	}
	spc_view_budget_filed(ps, v, e);
	return SPC_OK;
}

void spc_view_maint_forget(struct spc_pstate *ps, struct spc_entry *e)
{
	struct spc_view *v = spc_view_of(ps);

	if (v && spc_entry_ns(e) == SPC_NS_HEIGHT && spc_hidx_remove(v->hidx, e))
		spc_view_budget_unfiled(ps, v, e);
}

/* Marks the request served and wakes its caller. */
static void spc_view_maint_done(struct spc_pstate *ps, struct spc_view *v)
{
	spc_lock(&ps->mu);
	v->req_removed = v->removed;
	v->req_expired = v->expired;
	v->req = SPC_REQ_DONE;
	/* Relaxed: only a hint; req under mu is the truth. */
	__atomic_store_n(&v->posted, 0, __ATOMIC_RELAXED);
	spc_unlock(&ps->mu);
	v->cutting = 0;
	spc_room_wake(ps);
}

int spc_view_maint_step(struct spc_pstate *ps)
{
	struct spc_view *v = spc_view_of(ps);
	void *item;
	int capped;

	if (!v)
		return 0;
	capped = spc_view_budget_step(ps, v);
	/* Relaxed hint: the caller stores it under mu and then kicks; the
	 * maintainer takes mu before every step, which orders the two. A
	 * stale 0 costs one step's delay. */
	if (!v->cutting && !__atomic_load_n(&v->posted, __ATOMIC_RELAXED))
		return capped;
	if (!v->cutting) {
		int ready;
		uint64_t from;

		spc_lock(&ps->mu);
		ready = v->req == SPC_REQ_POSTED && spc_ring_head(&ps->ring) >= v->req_pos;
		from = v->req_from;
		spc_unlock(&ps->mu);
		if (!ready)
			return capped; /* a store below T has not filled its cell yet */
		spc_hidx_cut(v->hidx, from);
		v->cutting = 1;
		v->removed = v->expired = 0;
	}
	for (unsigned n = 0; n < SPC_STEP_EVICT; n++) {
		struct spc_entry *e;
		int r;

		if (!spc_hidx_take(v->hidx, &item)) {
			spc_view_maint_done(ps, v);
			return 1;
		}
		e = item;
		spc_view_budget_unfiled(ps, v, e); /* it left the index */
		spc_rcu_read_lock();
		r = spc_kv_remove_rcu(ps, spc_kv_entry_hash(ps, e), e);
		spc_rcu_read_unlock();
		/* Nonzero: a writer unpublished it first (replace, delete) and
		 * accounts it; the policy hands it back dead either way. */
		if (r == 0) {
			/* An expired entry was already a miss: an expiration, as
			 * when a delete meets one (we unpublished it: it stays
			 * ours to read until reclaimed). */
			if ((spc_entry_meta(e) & SPC_META_EXPIRY) && spc_entry_expired(ps->cache, e))
				v->expired++;
			else
				v->removed++;
			spc_note_unpublished(ps, e);
		}
	}
	return 1;
}
