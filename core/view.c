/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/view.c: the view pool's namespaces: height-partitioned entries
 * (height, key) and named API entries; the tip; chain reorganisations,
 * the callers' side (docs/views.md, docs/concurrency.md "Views"). The
 * maintainer's side (the per-height index, serving a request) is
 * core/view_maint.c, the sub-budgets core/view_budget.c.
 *
 * Both namespaces live in the view pool's one index, budget and policy,
 * next to its plain entries. A namespace is part of the key (struct
 * spc_key: namespace and height go into the hash seed and into spc_match),
 * so the same key bytes as a plain entry, at two heights or as an API name
 * are distinct entries. Stores, lookups and deletes are the core's
 * (spc_store_key, spc_lookup_key_rcu, spc_delete_key).
 *
 * Reorganisations. spc_invalidate_from_height(h) must remove every height
 * entry >= h without blocking readers and in time proportional to what it
 * removes. The view pool's maintainer, which admits every new entry from
 * the writers' ring, files height entries in a per-height index
 * (core/hidx.c) and drops them from it before they can be freed. The
 * caller posts a request {from, ring position T} under the pool's mu and
 * waits; the maintainer serves it only once it has taken every ring record
 * below T (a reserved cell not yet filled holds it back), so every entry
 * published by a store that returned before the call is filed. It then
 * cuts the index at h and unpublishes the cut's entries one by one, at
 * most SPC_STEP_EVICT per step, each exactly like a delete (spc_kv_remove_rcu,
 * then spc_note_unpublished: dead, backlog, reclaimed after a grace
 * period by the usual path). Readers in a read section keep the entry
 * they hold; a later lookup misses. Requests are served one at a time
 * (view->mu serialises the callers).
 *
 * The tip. A store at a height above the tip is refused. Lowering the tip
 * races with stores that checked the old tip and have not published yet;
 * left alone, such a store would publish above the new tip after the
 * reorganisation was served. Stores therefore announce themselves, in an
 * epoch-split in-flight count (the two-counter scheme of SRCU; McKenney,
 * "Sleepable RCU", LWN 2006):
 *
 *   store_at(h)                           set_tip(t), t below the old tip
 *   -----------                           -------------------------------
 *   e = epoch; inflight[e&1]++  (SC)      tip = t                     (SC)
 *   epoch still e? else undo, retry (SC)  e = epoch++                 (SC)
 *   h > tip ? refuse               (SC)   wait inflight[e&1] == 0     (SC)
 *   publish, fill the ring cell           post {t + 1, T = ring tail}, wait
 *   h > tip ? withdraw own entry,  (SC)
 *             refuse
 *   inflight[e&1]--        (release)
 *
 * All marked operations are sequentially consistent, so either the store
 * reads the new tip before it publishes (refused, nothing visible), or
 * set_tip sees its count and waits until it has published and filled its
 * cell, below T: the reorganisation removes it. A store that announced
 * in the new epoch reads the new tip (the epoch increment follows the tip
 * store). A store whose count set_tip waited for may still see the new tip
 * after publishing: it withdraws its own entry (if still its own: the cas
 * matches) before it leaves, so it also returns SPC_EABOVETIP.
 *
 * Guarantees (tests/integration/views, tests/stress/stress_views.c,
 * tests/fault/core/test_fault_views.c):
 *  1. the namespaces are isolated from each other, from plain view
 *     entries and from the index pool; their charges go to the view pool;
 *  2. a store that returned before spc_invalidate_from_height(h) was
 *     called is gone when the call returns if its height is >= h; a
 *     store running concurrently may stay (it is then ordered after the
 *     reorganisation: it was published after the call read T) or go;
 *     nothing below h is touched;
 *  3. when spc_set_tip(t) returns, no entry above t is in the index, and
 *     no store above t succeeds until the tip is raised; a store above t
 *     that returned SPC_OK was ordered before the call and is removed;
 *  4. readers never block and never see freed memory; entries removed by
 *     a reorganisation count as deletes (expired ones, already misses, as
 *     expirations), never as evictions;
 *  5. the per-height index's bookkeeping is charged to the view pool per
 *     height entry (writers charge it with the entry here; the maintainer
 *     returns it when the entry leaves the index, core/view_maint.c), so
 *     plain entries cost nothing more;
 *  6. sub-budgets: core/view_budget.c.
 */
#include <string.h>
#include <time.h>

#include "core/item.h"
#include "core/key.h"
#include "core/kv.h"
#include "core/kv_index.h"
#include "core/maint.h"
#include "core/room.h"
#include "core/stats.h"
#include "core/view_state.h"
#include "core/wait.h"
#include "sync/rcu.h"
#include "sync/ring.h"
#include "sync/thread.h"

#include "core/view_state.h"

/* A waiting reorganisation re-kicks the maintainer this often (covers a
 * ring cell filled while the maintainer slept). */
#define SPC_VIEW_POLL_MS 10u
/* Pause of a caller waiting for announced stores or, in synchronous
 * mode, for a writer to fill its ring cell: 0.1 ms. */
#define SPC_VIEW_NAP_NS 100000L

static void spc_view_nap(void)
{
	struct timespec ts = { 0, SPC_VIEW_NAP_NS };

	nanosleep(&ts, NULL);
}

/* ---- the callers' side: requests ------------------------------------------------ */

/* Posts a reorganisation from `from` and waits until the maintainer served
 * it. Counts the live entries removed as deletes of the view pool (expired
 * ones, already misses, as expirations). Returns how many live ones.
 * Context: view->mu held, not in read section. */
static uint64_t spc_view_reorg_locked(struct spc_cache *c, uint64_t from)
{
	struct spc_pstate *ps = &c->ps[SPC_POOL_VIEW];
	struct spc_view *v = c->view;
	uint64_t removed, expired;

	spc_lock(&ps->mu);
	/* Read under mu, after every store that returned before us filled
	 * its cell: those cells lie below it. */
	v->req_pos = spc_ring_tail(&ps->ring);
	v->req_from = from;
	v->req_removed = 0;
	v->req = SPC_REQ_POSTED;
	/* Relaxed: a hint for the maintainer's lock-free test; the request
	 * itself is read under mu, which this store precedes. */
	__atomic_store_n(&v->posted, 1, __ATOMIC_RELAXED);
	ps->room_waiters++;
	while (v->req != SPC_REQ_DONE) {
		uint64_t gen = ps->room_gen;
		struct timespec ts;

		spc_unlock(&ps->mu);
		if (c->sync_mode) {
			if (!spc_step_sync(ps, 1))
				spc_view_nap(); /* a writer still fills a cell below T */
		} else {
			spc_kick(ps);
		}
		spc_lock(&ps->mu);
		if (!c->sync_mode && v->req != SPC_REQ_DONE && ps->room_gen == gen) {
			spc_deadline(&ts, SPC_VIEW_POLL_MS);
			spc_timedwait(&ps->room_cv, &ps->mu, &ts);
		}
	}
	if (--ps->room_waiters == 0)
		__atomic_store_n(&ps->room_need, 0, __ATOMIC_RELAXED);
	removed = v->req_removed;
	expired = v->req_expired;
	v->req = SPC_REQ_NONE;
	spc_unlock(&ps->mu);
	spc_count(c, SPC_POOL_VIEW, SPC_C_ITEMS, -(int64_t)(removed + expired));
	spc_count(c, SPC_POOL_VIEW, SPC_C_DELETES, (int64_t)removed);
	spc_count(c, SPC_POOL_VIEW, SPC_C_EXPIRED, (int64_t)expired);
	if (c->sync_mode)
		spc_step_sync(ps, 1); /* reclaim what it removed, as a delete would */
	return removed;
}

/* ---- the callers' side: the in-flight count ---------------------------------------- */

/* Announces a height store; returns the epoch parity to leave with. */
static unsigned spc_view_enter(struct spc_view *v)
{
	for (;;) {
		/* SC, all three: the store-load pairs with set_tip's (see the
		 * essay); an RMW or load outside the single total order would let
		 * both sides miss each other. */
		uint64_t e = __atomic_load_n(&v->epoch, __ATOMIC_SEQ_CST);
		unsigned i = (unsigned)(e & 1);

		__atomic_fetch_add(&v->inflight[i].n, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&v->epoch, __ATOMIC_SEQ_CST) == e)
			return i;
		/* A lowering flipped the epoch meanwhile and may not wait for
		 * this count: announce again in the new epoch. */
		__atomic_fetch_sub(&v->inflight[i].n, 1, __ATOMIC_RELEASE);
	}
}

static void spc_view_leave(struct spc_view *v, unsigned i)
{
	/* Release: pairs with the acquire in spc_view_wait_stores; the store's
	 * publication and ring fill happen before set_tip reads the ring tail. */
	__atomic_fetch_sub(&v->inflight[i].n, 1, __ATOMIC_RELEASE);
}

/* After storing a lower tip: waits until every store announced before
 * has finished. Context: view->mu held, not in read section. */
static void spc_view_wait_stores(struct spc_view *v)
{
	uint64_t e = __atomic_fetch_add(&v->epoch, 1, __ATOMIC_SEQ_CST);

	/* SC load: see spc_view_enter. Bounded: a store takes at most about
	 * twice full_wait_ms (room, ring cell). */
	while (__atomic_load_n(&v->inflight[e & 1].n, __ATOMIC_SEQ_CST) != 0)
		spc_view_nap();
}

/* A store that saw the tip drop below its height after publishing: removes
 * its own entry if nobody replaced or removed it since (same cas). */
static void spc_view_withdraw(struct spc_cache *c, const struct spc_key *k, uint64_t cas)
{
	struct spc_pstate *ps = &c->ps[SPC_POOL_VIEW];
	struct spc_entry *gone = NULL;
	uint64_t hash = spc_key_hash(c, k);
	struct spc_entry *e;

	spc_rcu_read_lock();
	e = spc_kv_lookup_rcu(ps, hash, k);
	if (e && spc_entry_acquire(e) == cas && spc_kv_remove_rcu(ps, hash, e) == SPC_OK)
		gone = e;
	spc_rcu_read_unlock();
	if (!gone)
		return;
	spc_note_unpublished(ps, gone);
	spc_count(c, SPC_POOL_VIEW, SPC_C_ITEMS, -1);
	spc_count(c, SPC_POOL_VIEW, SPC_C_DELETES, 1);
	spc_after_write(ps);
}

/* The longest API name, without its NUL (a key is at most SPC_KEY_MAX). */
#define SPC_API_NAME_MAX SPC_KEY_MAX

/* The key of an API name: its bytes without the NUL. Returns SPC_OK or
 * SPC_EINVAL (NULL, empty, or no NUL within SPC_API_NAME_MAX bytes). */
static int spc_api_key(const char *name, struct spc_key *k)
{
	size_t n;

	if (!name)
		return SPC_EINVAL;
	n = strnlen(name, SPC_API_NAME_MAX + 1);
	if (n == 0 || n > SPC_API_NAME_MAX)
		return SPC_EINVAL;
	*k = (struct spc_key){ name, n, SPC_NS_API, 0 };
	return SPC_OK;
}

/* ---- height-partitioned entries ----------------------------------------- */

/* One write of a height-partitioned entry, run by spc_write_at: publishes
 * at most one entry of k and sets *cas to its cas (left 0 when it
 * published none, as a touch in place). */
typedef int spc_at_write_fn(struct spc_cache *c, const struct spc_key *k, void *arg,
                            uint64_t *cas);

/* Every write of (height, key): refused above the tip, the per-height
 * index's share charged with the entry it publishes, and withdrawn when
 * the tip fell below the height while it ran. */
static int spc_write_at(struct spc_cache *c, uint64_t height, const void *key, size_t klen,
                        spc_at_write_fn *write, void *arg, uint64_t *cas_out)
{
	struct spc_key k = { key, klen, SPC_NS_HEIGHT, height };
	struct spc_pstate *ps;
	struct spc_view *v;
	uint64_t cas = 0;
	unsigned epoch;
	int r;

	SPC_ASSERT_NOT_IN_RCU();
	spc_rcu_ensure();
	ps = &c->ps[SPC_POOL_VIEW];
	v = c->view;
	epoch = spc_view_enter(v);
	if (height > __atomic_load_n(&v->tip, __ATOMIC_SEQ_CST)) {
		r = SPC_EABOVETIP;
		goto out;
	}
	/* The per-height index's bookkeeping, charged with the entry and
	 * returned by the maintainer when the entry leaves the index. */
	r = spc_wait_charge(ps, v->share); /* counts its refusal */
	if (r != SPC_OK)
		goto out;
	r = write(c, &k, arg, &cas);
	if (r != SPC_OK || cas == 0) {
		spc_uncharge(ps, v->share); /* nothing was published: wakes waiters */
		goto out;
	}
	/* SC: see the essay; a lowering we missed before publishing. */
	if (height > __atomic_load_n(&v->tip, __ATOMIC_SEQ_CST)) {
		spc_view_withdraw(c, &k, cas);
		r = SPC_EABOVETIP;
		goto out;
	}
	if (cas_out)
		*cas_out = spc_cas_shown(c, cas);
out:
	spc_view_leave(v, epoch);
	return r;
}

struct spc_store_at_arg {
	enum spc_store_mode mode;
	const void *val;
	size_t vlen;
	const struct spc_item *item;
};

static int spc_store_at_write(struct spc_cache *c, const struct spc_key *k, void *arg,
                              uint64_t *cas)
{
	const struct spc_store_at_arg *a = arg;

	return spc_store_key(c, SPC_POOL_VIEW, k, a->mode, a->val, a->vlen, a->item, cas);
}

int spc_store_at(struct spc_cache *c, uint64_t height, enum spc_store_mode mode, const void *key,
                 size_t klen, const void *val, size_t vlen, const struct spc_item *item,
                 uint64_t *cas_out)
{
	struct spc_store_at_arg a = { mode, val, vlen, item };

	/* klen above SPC_KEY_MAX is the core's SPC_ETOOBIG. */
	if (!c || !key || klen == 0 || (!val && vlen > 0))
		return SPC_EINVAL;
	return spc_write_at(c, height, key, klen, spc_store_at_write, &a, cas_out);
}

struct spc_arith_at_arg {
	int decr;
	uint64_t delta, cas_expect;
	uint64_t *value_out;
};

static int spc_arith_at_write(struct spc_cache *c, const struct spc_key *k, void *arg,
                              uint64_t *cas)
{
	const struct spc_arith_at_arg *a = arg;

	return spc_arith_key(c, SPC_POOL_VIEW, k, a->decr, a->delta, a->cas_expect, a->value_out,
	                     cas);
}

int spc_arith_at(struct spc_cache *c, uint64_t height, const void *key, size_t klen, int decr,
                 uint64_t delta, uint64_t cas_expect, uint64_t *value_out, uint64_t *cas_out)
{
	struct spc_arith_at_arg a = { decr != 0, delta, cas_expect, value_out };

	if (!c || !key || klen == 0 || klen > SPC_KEY_MAX)
		return SPC_EINVAL;
	return spc_write_at(c, height, key, klen, spc_arith_at_write, &a, cas_out);
}

struct spc_gat_at_arg {
	uint64_t expiry;
	void *buf;
	size_t cap;
	struct spc_value *out;
};

static int spc_gat_at_write(struct spc_cache *c, const struct spc_key *k, void *arg, uint64_t *cas)
{
	const struct spc_gat_at_arg *a = arg;

	return spc_gat_key(c, SPC_POOL_VIEW, k, a->expiry, a->buf, a->cap, a->out, cas);
}

int spc_gat_at(struct spc_cache *c, uint64_t height, const void *key, size_t klen,
               uint64_t expiry, void *buf, size_t cap, struct spc_value *out)
{
	struct spc_gat_at_arg a = { expiry, buf, cap, out };
	int r;

	if (!c || !key || klen == 0 || klen > SPC_KEY_MAX || !out || (!buf && cap > 0))
		return SPC_EINVAL;
	r = spc_write_at(c, height, key, klen, spc_gat_at_write, &a, NULL);
	out->cas = spc_cas_shown(c, out->cas); /* height entries' own cas */
	return r;
}

int spc_touch_at(struct spc_cache *c, uint64_t height, const void *key, size_t klen,
                 uint64_t expiry)
{
	struct spc_gat_at_arg a = { expiry, NULL, 0, NULL };

	if (!c || !key || klen == 0 || klen > SPC_KEY_MAX)
		return SPC_EINVAL;
	return spc_write_at(c, height, key, klen, spc_gat_at_write, &a, NULL);
}

int spc_set_at(struct spc_cache *c, uint64_t height, const void *key, size_t klen,
               const void *val, size_t vlen)
{
	return spc_store_at(c, height, SPC_STORE_SET, key, klen, val, vlen, NULL, NULL);
}

int spc_get_at(struct spc_cache *c, uint64_t height, const void *key, size_t klen, void *buf,
               size_t cap, size_t *vlen)
{
	struct spc_key k = { key, klen, SPC_NS_HEIGHT, height };

	return spc_get_key(c, SPC_POOL_VIEW, &k, buf, cap, vlen);
}

int spc_get_at_rcu(struct spc_cache *c, uint64_t height, const void *key, size_t klen,
                   struct spc_value *out)
{
	struct spc_key k = { key, klen, SPC_NS_HEIGHT, height };
	int r = spc_get_key_rcu(c, SPC_POOL_VIEW, &k, out);

	if (r == SPC_OK)
		out->cas = spc_cas_shown(c, out->cas); /* height entries' own cas */
	return r;
}

int spc_delete_at(struct spc_cache *c, uint64_t height, const void *key, size_t klen)
{
	struct spc_key k = { key, klen, SPC_NS_HEIGHT, height };

	return spc_delete_key(c, SPC_POOL_VIEW, &k);
}

int spc_delete_at_cas(struct spc_cache *c, uint64_t height, const void *key, size_t klen,
                      uint64_t cas_expect)
{
	struct spc_key k = { key, klen, SPC_NS_HEIGHT, height };

	return spc_delete_key_cas(c, SPC_POOL_VIEW, &k, cas_expect);
}

/* ---- named API entries ---------------------------------------------------- */

int spc_api_set(struct spc_cache *c, const char *name, const void *val, size_t vlen)
{
	struct spc_key k;

	if (!c || spc_api_key(name, &k) != SPC_OK)
		return SPC_EINVAL;
	return spc_store_key(c, SPC_POOL_VIEW, &k, SPC_STORE_SET, val, vlen, NULL, NULL);
}

int spc_api_get(struct spc_cache *c, const char *name, void *buf, size_t cap, size_t *vlen)
{
	struct spc_key k;

	if (!c || spc_api_key(name, &k) != SPC_OK)
		return SPC_EINVAL;
	return spc_get_key(c, SPC_POOL_VIEW, &k, buf, cap, vlen);
}

int spc_api_delete(struct spc_cache *c, const char *name)
{
	struct spc_key k;

	if (!c || spc_api_key(name, &k) != SPC_OK)
		return SPC_EINVAL;
	return spc_delete_key(c, SPC_POOL_VIEW, &k);
}

/* ---- the tip and reorganisations ------------------------------------------------------ */

int spc_invalidate_from_height(struct spc_cache *c, uint64_t height, uint64_t *removed)
{
	uint64_t n;

	if (!c)
		return SPC_EINVAL;
	SPC_ASSERT_NOT_IN_RCU();
	spc_rcu_ensure();
	spc_lock(&c->view->mu);
	n = spc_view_reorg_locked(c, height);
	spc_unlock(&c->view->mu);
	if (removed)
		*removed = n;
	return SPC_OK;
}

int spc_set_tip(struct spc_cache *c, uint64_t tip)
{
	struct spc_view *v;
	uint64_t old;

	if (!c)
		return SPC_EINVAL;
	SPC_ASSERT_NOT_IN_RCU();
	spc_rcu_ensure();
	v = c->view;
	spc_lock(&v->mu);
	/* Relaxed: only set_tip stores the tip, and it holds mu. */
	old = __atomic_load_n(&v->tip, __ATOMIC_RELAXED);
	/* SC: pairs with the stores' loads (essay). */
	__atomic_store_n(&v->tip, tip, __ATOMIC_SEQ_CST);
	if (tip < old) {
		spc_view_wait_stores(v);
		(void)spc_view_reorg_locked(c, tip + 1); /* tip < old <= UINT64_MAX */
	}
	spc_unlock(&v->mu);
	return SPC_OK;
}

uint64_t spc_tip(struct spc_cache *c)
{
	/* Relaxed: a snapshot; stores decide on their own SC loads. */
	return c ? __atomic_load_n(&c->view->tip, __ATOMIC_RELAXED) : UINT64_MAX;
}
