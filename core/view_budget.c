/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/view_budget.c: the view pool's optional sub-budgets
 * (cfg.view_height_share; docs/views.md, "Sub-budgets"): height entries
 * within their share of the view pool, API and plain entries within the
 * rest, each evicting within its own.
 *
 * The maintainer alone knows which entries are height entries and what
 * they are charged (it files them in the per-height index, core/view.c),
 * so it keeps their sum (height_bytes) and enforces their share in its
 * own step, before the pool's eviction loop: above the share's high mark
 * it evicts the lowest heights (the oldest blocks) through the per-height
 * index down to the low mark. The other direction rides on the pool's
 * policy: when it picks a height entry as a victim while the heights are
 * within their share and the others are over theirs, the entry is handed
 * back to the policy and the next victim is taken (spc_view_maint_spare).
 * The writers' path is unchanged. The pool's watermarks apply to each
 * share, so two shares within their marks keep the pool within its own
 * and its policy idle.
 *
 * Guarantees (tests/integration/views/test_view_budget.c):
 *  1. after each maintainer step the filed height entries' charges are
 *     within the high mark of their share, and the ones evicted for it
 *     were the lowest heights; they count as evictions;
 *  2. while the heights are within their share and the others over
 *     theirs, the policy evicts no height entry for room (a forced
 *     eviction, spc_evict_to_percent, still takes from every entry);
 *  3. off (share 0), nothing here runs: one shared budget, as before.
 */
#include "core/view_maint.h"

#include <string.h>

#include "core/clock.h"
#include "core/forced.h"
#include "core/hidx.h"
#include "core/kv_index.h"
#include "core/policy.h"
#include "core/room.h"
#include "core/stats.h"
#include "core/view_state.h"
#include "pools/pools.h"
#include "sync/rcu.h"

/* Maintainer only: the sole writer of height_bytes. */
static void spc_view_height_bytes_add(struct spc_view *v, int64_t delta)
{
	/* Relaxed load + store: one writer; spc_view_budget loads relaxed. */
	__atomic_store_n(&v->height_bytes,
	                 __atomic_load_n(&v->height_bytes, __ATOMIC_RELAXED) + (uint64_t)delta,
	                 __ATOMIC_RELAXED);
}

void spc_view_budget_filed(struct spc_pstate *ps, struct spc_view *v, struct spc_entry *e)
{
	spc_view_height_bytes_add(v, (int64_t)(spc_entry_charge(ps, e) + v->share));
}

void spc_view_budget_unfiled(struct spc_pstate *ps, struct spc_view *v, struct spc_entry *e)
{
	spc_maint_uncharge(ps, v->share); /* maintainer context: waiters woken at the step's end */
	spc_view_height_bytes_add(v, -(int64_t)(spc_entry_charge(ps, e) + v->share));
}

/* The height share's marks in bytes: evicting starts above hi and stops
 * at lo (the pool's watermarks applied to the share), so heights within
 * their share never push the pool past its own high watermark. */
static void spc_view_share_marks(const struct spc_pstate *ps, double share, uint64_t *hi,
                                 uint64_t *lo)
{
	const struct spc_config *cfg = &ps->cache->cfg;
	double t = (double)spc_pool_target(ps->pool) * share;

	*hi = (uint64_t)(t / 100.0 * cfg->high_watermark_pct);
	*lo = (uint64_t)(t / 100.0 * cfg->low_watermark_pct);
}

/* Unpublishes a filed height entry for the sub-budget: like an eviction
 * (expired: an expiration). It left the index already. */
static void spc_view_maint_evict(struct spc_pstate *ps, struct spc_view *v, struct spc_entry *e)
{
	struct spc_cache *c = ps->cache;
	int r;

	spc_rcu_read_lock();
	r = spc_kv_remove_rcu(ps, spc_kv_entry_hash(ps, e), e);
	spc_rcu_read_unlock();
	/* Nonzero: a writer unpublished it first and accounts it; the
	 * policy hands it back dead. */
	if (r != 0)
		return;
	if ((spc_entry_meta(e) & SPC_META_EXPIRY) && spc_entry_expired(c, e)) {
		/* Relaxed store by the only writer; stats load it relaxed. */
		__atomic_store_n(&ps->expirations, ps->expirations + 1, __ATOMIC_RELAXED);
	} else {
		/* Relaxed stores by the only writer; stats load them relaxed. */
		__atomic_store_n(&ps->evictions, ps->evictions + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&v->height_evictions, v->height_evictions + 1, __ATOMIC_RELAXED);
		if (c->evict_hook)
			c->evict_hook(c->evict_hook_arg, ps->id, spc_entry_key(e), e->klen,
			              spc_entry_value(e), e->vlen,
			              spc_cas_shown(c, spc_entry_cas(e)));
	}
	spc_note_unpublished(ps, e);
	spc_count(c, SPC_POOL_VIEW, SPC_C_ITEMS, -1);
}

int spc_view_budget_step(struct spc_pstate *ps, struct spc_view *v)
{
	uint64_t hi, lo;
	unsigned n;

	if (v->height_share == 0.0)
		return 0;
	spc_view_share_marks(ps, v->height_share, &hi, &lo);
	if (v->height_bytes > hi)
		v->capping = 1;
	if (!v->capping)
		return 0;
	for (n = 0; n < SPC_STEP_EVICT && v->height_bytes > lo; n++) {
		void *item;
		struct spc_entry *e;

		if (!spc_hidx_lowest(v->hidx, &item, NULL))
			break;
		e = item;
		SPC_CHECK(spc_hidx_remove(v->hidx, e));
		spc_view_budget_unfiled(ps, v, e);
		spc_view_maint_evict(ps, v, e);
	}
	if (v->height_bytes <= lo)
		v->capping = 0;
	return n > 0;
}

int spc_view_maint_spare(struct spc_pstate *ps, struct spc_entry *e)
{
	struct spc_view *v = ps->id == SPC_POOL_VIEW ? ps->cache->view : NULL;
	uint64_t hi, lo, held, api_hi, api_lo;

	if (!v || v->height_share == 0.0 || spc_entry_ns(e) != SPC_NS_HEIGHT)
		return 0;
	spc_view_share_marks(ps, v->height_share, &hi, &lo);
	if (v->height_bytes > hi)
		return 0; /* over their own share: heights go first */
	if (spc_forced_over(ps))
		return 0; /* spc_evict_to_percent asks for the whole pool */
	spc_view_share_marks(ps, 1.0 - v->height_share, &api_hi, &api_lo);
	/* What the watermarks see (live bytes): with the heights within
	 * their share, the rest is the others'. Only when that is over their
	 * share are they what fills the pool, and one of them is found
	 * further on. */
	held = spc_live_bytes(ps);
	if (held <= v->height_bytes || held - v->height_bytes <= api_lo)
		return 0;
	return spc_policy_admit(ps->policy, e) == SPC_OK;
}

int spc_view_budget(struct spc_cache *c, struct spc_view_budget *out)
{
	struct spc_pstate *ps;
	struct spc_view *v;
	uint64_t live, hb, hi, lo;

	if (!c || !out)
		return SPC_EINVAL;
	ps = &c->ps[SPC_POOL_VIEW];
	v = c->view;
	memset(out, 0, sizeof *out);
	out->height_share = v->height_share;
	/* Relaxed: gauges written by the maintainer. */
	hb = __atomic_load_n(&v->height_bytes, __ATOMIC_RELAXED);
	out->height_evictions = __atomic_load_n(&v->height_evictions, __ATOMIC_RELAXED);
	live = spc_live_bytes(ps);
	out->height_bytes = hb;
	out->other_bytes = live > hb ? live - hb : 0;
	out->view_target_bytes = spc_pool_target(ps->pool);
	if (v->height_share != 0.0) {
		spc_view_share_marks(ps, v->height_share, &hi, &lo);
		out->height_cap_bytes = hi;
		spc_view_share_marks(ps, 1.0 - v->height_share, &hi, &lo);
		out->other_cap_bytes = hi;
	}
	return SPC_OK;
}
