/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/maint.c: the pool maintainer, eviction and batched reclamation.
 *
 * One maintainer per pool owns the policy (core/policy.h) and is the only
 * code that frees a published entry. Writers publish an entry in the
 * index, then hand it to the maintainer through the pool's ring
 * (sync/ring.h). A maintainer step, bounded in work:
 *   1. drains the ring into the policy (spc_policy_admit; an entry the
 *      policy cannot take is evicted at once, so the policy tracks every
 *      entry it will ever have to free);
 *      The view pool's per-height index files height entries first
 *      (spc_maint_admit, core/view.c), under the same rule;
 *   1b. grows or shrinks the index, in bounded steps, when its load
 *      leaves the band core/kv_index_compact.c sets (spc_kv_maint);
 *   1c. serves a posted chain reorganisation of the view pool, in bounded
 *      work per step (spc_view_maint_step, core/view.c);
 *   2. evicts while live bytes (charged - backlog - index) are above the
 *      high watermark, down to the low watermark (hysteresis), while items are
 *      above max_entries, while a blocked writer needs room, and while a
 *      writer waits for a slab the pool's budget refuses (its slabs' free
 *      slots of other sizes hold the room: core/wait.c): a victim is
 *      unpublished (the index's remove) in a short read section and put in
 *      the current batch; dead entries met on the way (replaced, deleted,
 *      cleared) go to the batch too, without counting as evictions;
 *   2b. evicts while an open forced-eviction request (core/evict.c) wants
 *      live bytes lower, and at the end of the step settles the requests
 *      (credits the step's evictions, completes those whose goal is met);
 *   3. sweeps the policy for dead entries writers left, a pass at a time
 *      when they are 1 in 8 of the queued items, or were left alone
 *      100 ms, or a writer waits for room (spc_maint_dead_due,
 *      core/reclaim.c), so their memory comes back without pressure;
 *   3b. reclaims expired entries before live ones. The policy's dead test
 *      (spc_op_dead) also answers yes for an entry whose expiry deadline
 *      has passed on the clock read at the step's start, after claiming
 *      it (its slot set to SPC_EXPIRY_CLAIMED with a CAS, so a racing
 *      touch cannot revive it); the maintainer then unpublishes it
 *      (the index's remove) and counts an expiration, never an eviction. So
 *      eviction (2) takes every expired entry it meets as it goes; while
 *      entries with an expiry are queued, each new clock second starts a
 *      pass of bounded sweeps over every queued item (repeated while a
 *      pass finds expired entries: second chances may move items behind
 *      the cursor), and a step that needs room sweeps before it picks
 *      live victims;
 *   4. hands the batch to reclamation: one urcu_memb_call_rcu per batch;
 *      the callback frees its entries, then uncharges them all at once.
 *      A batch that is not full waits for more entries unless room is
 *      wanted or it is
 *      SPC_BATCH_HOLD_MS old (a long read section must not tie up every
 *      batch in a few steps). If no batch struct is free, the step takes
 *      no victim and no dead entry (spc_maint_has_slot; the pool is marked
 *      starved, refusals say so) and goes on draining the ring; it never
 *      waits for a grace period, except for an entry the policy could not
 *      admit (urcu_memb_barrier then). (Deviation from "synchronize_rcu,
 *      then free directly": freeing only in callbacks keeps one call_rcu per batch and keeps
 *      every free of a published entry on the RCU worker, where the TSan
 *      suppressions for liburcu's invisible grace periods apply.) In
 *      synchronous mode every step ends with urcu_memb_synchronize_rcu and
 *      a direct free, so the caller sees the room at once and results do
 *      not depend on callback timing.
 *
 * The rule that makes this safe (docs/concurrency.md, "reclamation"):
 * an entry is freed only by reclamation, only after it was unpublished and
 * a grace period passed, and only once: whoever unpublishes it (the one
 * removal or replace in the index that succeeded) accounts it as backlog and
 * marks it dead; the maintainer alone takes it out of the policy and
 * frees it.
 *
 * Guarantees (tests check them):
 *  1. a pool's charge never passes its target (pools/ refuses the charge;
 *     writers wait a bounded time, then SPC_EFULL, or SPC_EBUSY when no
 *     batch was free);
 *  2. charged = sum of live entries' charges + backlog, after quiescence;
 *  3. evictions count exactly the entries the maintainer unpublished to
 *     make room, never replacements, deletes, clears or expired entries;
 *     expirations count each expired entry unpublished exactly once
 *     (by the maintainer here, or by the write that replaced it);
 *  4. no entry is freed while a reader that found it is in its section;
 *  5. in synchronous mode the same sequence of calls gives the same
 *     victims, whatever the byte budget as long as it is not exhausted;
 *  6. no step waits for a grace period while records wait in the ring
 *     (threaded mode; tests/unit/core/test_backpressure.c), and every
 *     synchronous step holds the fork lock.
 */
#include "core/maint.h"
#include "core/maint_ops.h"

#include "core/clock.h"
#include "core/forced.h"
#include "core/kv_index.h"
#include "core/policy.h"
#include "core/reclaim.h"
#include "core/room.h"
#include "core/view_maint.h"
#include "pools/pools.h"
#include "sync/rcu.h"
#include "sync/thread.h"

#include <signal.h>
#include <time.h>

#define SPC_IDLE_MS 10u       /* sleep when dead entries or records wait */
#define SPC_IDLE_LONG_MS 100u /* sleep when there is nothing at all */
#define SPC_DRAIN_PREFETCH 8u  /* ring records ahead whose entry is prefetched */
#define SPC_DRAIN_AHEAD 4u     /* ring records ahead whose admission is prepared */

/* Unpublishes a victim and reclaims it: an eviction, or, when expired
 * is set, an expiration (spc_op_dead claimed it). Returns 1 when we
 * unpublished it, 0 when a writer had. */
static int spc_maint_unpublish(struct spc_pstate *ps, struct spc_entry *e, int expired)
{
	int r;

	SPC_DEBUG_CHECK(spc_is_maintainer(ps));
	spc_rcu_read_lock();
	r = spc_kv_remove_rcu(ps, spc_kv_entry_hash(ps, e), e);
	spc_rcu_read_unlock();
	if (r != SPC_OK) {
		/* A writer won (replace, delete, clear): wait until it has
		 * finished its accounting, which ends with the release of the
		 * dead flag (a few instructions away). */
		while (!spc_op_dead_flag(e))
			sched_yield();
		spc_maint_reclaim_dead(ps, e);
		return 0;
	}
	/* Relaxed: backlog is a gauge; the index removal above is what
	 * hides the entry. */
	__atomic_fetch_add(&ps->backlog, spc_entry_charge(ps, e), __ATOMIC_RELAXED);
	spc_entry_mark_dead(e);
	if (expired) {
		/* Relaxed store by the only writer; stats load it relaxed. */
		__atomic_store_n(&ps->expirations, ps->expirations + 1, __ATOMIC_RELAXED);
		ps->expiry_found++;
		spc_maint_reclaim(ps, e);
		return 1;
	}
	/* Relaxed store by the only writer; stats load it relaxed. */
	__atomic_store_n(&ps->evictions, ps->evictions + 1, __ATOMIC_RELAXED);
	if (ps->cache->evict_hook)
		ps->cache->evict_hook(ps->cache->evict_hook_arg, ps->id, spc_entry_key(e),
		                      e->klen, spc_entry_value(e), e->vlen,
		                      spc_cas_shown(ps->cache, spc_entry_cas(e)));
	spc_maint_reclaim(ps, e);
	return 1;
}

static int spc_maint_evict_one(struct spc_pstate *ps, struct spc_entry *e)
{
	return spc_maint_unpublish(ps, e, 0);
}

/* An item the policy handed back as dead (spc_op_dead): unpublished by a
 * writer, or expired and claimed, still published: unpublish it then. */
static void spc_maint_collect(struct spc_pstate *ps, struct spc_entry *e)
{
	if (spc_op_dead_flag(e))
		spc_maint_reclaim_dead(ps, e);
	else
		spc_maint_unpublish(ps, e, 1);
}

static void spc_sweep_cb(void *arg, void *item)
{
	spc_maint_collect(arg, item);
}

/* Admits one record from the ring: the view pool's per-height index files
 * it first (core/view.c), then the policy (h: e's hash for it, from
 * spc_policy_admit_ahead). An entry either cannot take is evicted at
 * once, so both still track every entry they will be asked to let go
 * of. */
static void spc_maint_admit(struct spc_pstate *ps, struct spc_entry *e, uint64_t h)
{
	SPC_DEBUG_CHECK(spc_is_maintainer(ps));
	if (spc_view_maint_file(ps, e) != SPC_OK ||
	    spc_policy_admit_hashed(ps->policy, e, h) != SPC_OK)
		spc_maint_evict_one(ps, e);
}

/* ---- one step ---------------------------------------------------------------- */

static int spc_maint_over(struct spc_pstate *ps)
{
	const struct spc_config *cfg = &ps->cache->cfg;
	uint64_t target = spc_pool_target(ps->pool);
	uint64_t live = spc_live_bytes(ps);
	/* Relaxed: advisory sizes. */
	uint64_t need = __atomic_load_n(&ps->room_need, __ATOMIC_RELAXED);
	uint64_t ix_need = spc_kv_room_need(ps);
	uint64_t dead = __atomic_load_n(&ps->dead_pending, __ATOMIC_RELAXED);
	size_t queued = spc_policy_size(ps->policy);

	if (spc_forced_over(ps))
		return 1;
	/* A writer waits for a slab that the pool's budget refuses while
	 * slabs hold free slots of other sizes (core/wait.c, spc_wait_slab):
	 * evict until enough of them empty. Not while the backlog is more
	 * than a band of the room: its entries come back as free slots
	 * without evicting a live one (the writer needs room_need too, so
	 * the sweep for dead entries runs), which the writer retries at
	 * every uncharge. Relaxed: advisory. */
	if (__atomic_load_n(&ps->slab_short, __ATOMIC_RELAXED) && spc_pool_slabs_bound(ps->pool) &&
	    __atomic_load_n(&ps->backlog, __ATOMIC_RELAXED) <=
	        spc_entry_room(ps, target) / 100 * (100 - cfg->high_watermark_pct))
		return 1;
	if (ps->max_entries && queued > dead && queued - dead > ps->max_entries)
		return 1;
	if (live > spc_entry_room(ps, target) / 100 * cfg->high_watermark_pct)
		ps->evicting = 1;
	if (ps->evicting && live <= spc_entry_room(ps, target) / 100 * cfg->low_watermark_pct)
		ps->evicting = 0;
	if (ps->evicting)
		return 1;
	if (ix_need > need)
		need = ix_need;
	return need && live + spc_kv_bytes(ps) + need > target;
}

/* One bounded sweep of the policy's queues: collects the dead entries
 * writers left and the expired ones (spc_op_dead). Returns nonzero when
 * the caller should step again soon: the pass for dead entries
 * (spc_maint_dead_due) or this second's expiry pass is not over. */
static int spc_maint_sweep(struct spc_pstate *ps)
{
	/* Every item examined may be reclaimed: examine no more than the
	 * batches can take without waiting for a grace period. */
	size_t cap = spc_maint_capacity(ps);
	size_t seen;
	int work = 0;

	if (cap == 0) {
		ps->step_starved = 1;
		return 0;
	}
	seen = spc_policy_sweep(ps->policy, cap < SPC_STEP_SWEEP ? cap : SPC_STEP_SWEEP,
	                        spc_sweep_cb, ps);

	if (ps->dead_pass_left) {
		ps->dead_pass_left -= seen < ps->dead_pass_left ? seen : ps->dead_pass_left;
		/* Relaxed: a hint; a dead entry missed is met by a later pass. */
		if (!__atomic_load_n(&ps->dead_pending, __ATOMIC_RELAXED))
			ps->dead_pass_left = 0;
		if (seen && ps->dead_pass_left)
			work = 1;
	}
	if (ps->expiry_scan_left) {
		ps->expiry_scan_left -= seen < ps->expiry_scan_left ? seen : ps->expiry_scan_left;
		/* A pass is as many items as were queued, but eviction's
		 * second chances move items behind the cursor meanwhile, so
		 * a pass may miss some. A pass that took expired entries is
		 * followed by another; one that took none ends them until
		 * the clock's next second (at most one pass in vain). */
		if (!ps->expiry_scan_left && ps->expiry_found) {
			ps->expiry_found = 0;
			ps->expiry_scan_left = spc_policy_size(ps->policy);
		}
	}
	if (seen && ps->expiry_scan_left)
		work = 1;
	return work;
}

/* Reads the cache clock for this step, when entries with an expiry are
 * queued, and starts a new expiry pass (one sweep over every queued item)
 * when the clock's second moved: expired entries come back within about
 * a second plus a pass, without memory pressure. */
static void spc_maint_clock(struct spc_pstate *ps)
{
	ps->maint_now = ps->expiry_items ? spc_now(ps->cache) : 0;
	if (ps->maint_now && ps->maint_now != ps->expiry_second) {
		ps->expiry_second = ps->maint_now;
		ps->expiry_scan_left = spc_policy_size(ps->policy);
		ps->expiry_found = 0;
	}
	if (!ps->expiry_items)
		ps->expiry_scan_left = 0;
}

/* One bounded step. Returns nonzero when it did some work (the caller
 * steps again before sleeping). force: reclaim the batch even if not full
 * (synchronous mode; the threaded maintainer always hands it over). */
static int spc_maint_step(struct spc_pstate *ps, int force)
{
	int work = 0;
	void *item;
	unsigned n;

	SPC_DEBUG_CHECK(spc_is_maintainer(ps));
	ps->step_starved = 0;
	spc_maint_clock(ps);
	/* The admissions of this step, as a pipeline over the ring's records:
	 * the entry SPC_DRAIN_PREFETCH records on is asked for (the writer
	 * built it on another CPU; admission reads its meta and key), the
	 * one SPC_DRAIN_AHEAD records on, at hand by then, is hashed and its
	 * ghost lines asked for (spc_policy_admit_ahead), so that admitting
	 * a record seldom waits for memory. ahead[] holds those hashes by
	 * ring position; a record still in the ring is not freed (it is
	 * admitted first), so its slot cannot name a reused address. */
	struct spc_drain_ahead {
		void *item;
		uint64_t h;
	} ahead[SPC_DRAIN_AHEAD] = { { NULL, 0 } };
	for (n = 0; n < SPC_STEP_DRAIN; n++) {
		struct spc_drain_ahead *a = &ahead[spc_ring_head(&ps->ring) % SPC_DRAIN_AHEAD];
		void *next;
		uint64_t h = 0;

		if (!spc_ring_take(&ps->ring, &item))
			break;
		if (item)
			h = a->item == item ? a->h : spc_policy_admit_ahead(ps->policy, item);
		/* the record SPC_DRAIN_AHEAD on takes the slot just used */
		a->item = spc_ring_peek(&ps->ring, SPC_DRAIN_AHEAD - 1);
		if (a->item)
			a->h = spc_policy_admit_ahead(ps->policy, a->item);
		next = spc_ring_peek(&ps->ring, SPC_DRAIN_PREFETCH - 1);
		if (next)
			__builtin_prefetch(next);
		work = 1;
		if (!item)
			continue;
		/* Counted before admission: every entry that reaches
		 * spc_maint_reclaim was counted, admitted or not. */
		if (spc_entry_meta(item) & SPC_META_EXPIRY)
			ps->expiry_items++;
		spc_maint_admit(ps, item, h);
	}
	if (spc_kv_maint(ps, spc_policy_size(ps->policy)))
		work = 1;
	if (spc_view_maint_step(ps))
		work = 1;
	spc_maint_clock(ps);
	/* Expired entries go before live ones: during this second's pass,
	 * and whenever room is needed, sweep before choosing victims. */
	if (ps->expiry_items && (ps->expiry_scan_left || spc_maint_over(ps)))
		work |= spc_maint_sweep(ps);
	for (n = 0; n < SPC_STEP_EVICT && spc_maint_over(ps) && spc_maint_has_slot(ps); n++) {
		enum spc_victim_kind k = spc_policy_next(ps->policy, SPC_STEP_SCAN, &item);

		if (k == SPC_VICTIM_NONE) {
			if (spc_policy_size(ps->policy) == 0)
				break;
			continue; /* second chances given: scan on */
		}
		work = 1;
		if (k == SPC_VICTIM_DEAD)
			spc_maint_collect(ps, item);
		else if (!spc_view_maint_spare(ps, item)) /* view sub-budgets */
			spc_maint_evict_one(ps, item);
	}
	if (spc_maint_dead_due(ps))
		work |= spc_maint_sweep(ps);
	spc_forced_settle(ps);
	spc_maint_flush(ps, force);
	/* Relaxed: a hint for the refusal's cause (core/wait.c); stored
	 * only on a change, the line is shared with writers. */
	if (__atomic_load_n(&ps->starved, __ATOMIC_RELAXED) != ps->step_starved)
		__atomic_store_n(&ps->starved, ps->step_starved, __ATOMIC_RELAXED);
	if (ps->room_freed) {
		ps->room_freed = 0;
		spc_room_wake(ps);
	}
	return work;
}

/* Synchronous mode: one step in the caller's thread. Returns its work.
 * Under the fork lock (shared), like the threaded maintainer's steps: a
 * step may be in the allocator or in urcu_memb_synchronize_rcu (liburcu's
 * grace-period lock held), which fork() must not copy. Taken first, with
 * no lock of the pool held (callers may hold mode_mu or the view's mu,
 * which spc_fork_prepare never takes). */
int spc_step_sync(struct spc_pstate *ps, int force)
{
	int work;

	spc_fork_hold_shared();
	spc_lock(&ps->step_mu);
	ps->in_step = 1;
	work = spc_maint_step(ps, force);
	ps->in_step = 0;
	spc_unlock(&ps->step_mu);
	spc_fork_release_shared();
	return work;
}

/* ---- the thread ------------------------------------------------------------------ */

static void *spc_maint_main(void *arg)
{
	struct spc_pstate *ps = arg;
	struct timespec ts;
	sigset_t all;

	/* Signals go to the application's threads, not ours (and not to the
	 * call_rcu worker, which inherits this mask if we create it). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	/* Named for top, perf and gdb; a failure changes nothing else. */
	pthread_setname_np(pthread_self(), ps->id == SPC_POOL_INDEX ? "spc-maint-index" : "spc-maint-view");
	spc_maint_thread_set(ps);
	spc_rcu_ensure();
	spc_lock(&ps->mu);
	while (!ps->stop) {
		int work;

		spc_unlock(&ps->mu);
		/* Relaxed: clearing before the step means a writer's kick
		 * during the step is seen at the check below (under mu). */
		__atomic_store_n(&ps->kicked, 0, __ATOMIC_RELAXED);
		spc_fork_hold_shared();
		work = spc_maint_step(ps, 0);
		spc_fork_release_shared();
		spc_lock(&ps->mu);
		if (ps->stop)
			break;
		if (!work && !__atomic_load_n(&ps->kicked, __ATOMIC_RELAXED)) {
			/* Relaxed: a hint. Dead entries left, or an index
			 * resize waiting for its retry: come back soon;
			 * otherwise sleep longer (writers kick when it
			 * matters: watermark, ring a quarter full, waiters). */
			spc_deadline(&ts, __atomic_load_n(&ps->dead_pending, __ATOMIC_RELAXED) ||
			                          spc_ring_count(&ps->ring) || (ps->cur && ps->cur->n) ||
			                          !spc_kv_settled(ps)
			                      ? SPC_IDLE_MS
			                      : SPC_IDLE_LONG_MS);
			ps->idle = 1;
			spc_timedwait(&ps->maint_cv, &ps->mu, &ts);
			ps->idle = 0;
		}
	}
	spc_unlock(&ps->mu);
	spc_fork_hold_shared();
	spc_maint_flush(ps, 1);
	spc_fork_release_shared();
	return NULL;
}

int spc_poke(struct spc_pstate *ps)
{
	if (ps->cache->sync_mode)
		return spc_step_sync(ps, 1);
	spc_kick(ps);
	return 0;
}

void spc_after_write(struct spc_pstate *ps)
{
	uint64_t target;

	SPC_ASSERT_NOT_IN_RCU();
	if (ps->cache->sync_mode) {
		spc_step_sync(ps, 0);
		return;
	}
	target = spc_pool_target(ps->pool);
	if (spc_live_bytes(ps) > spc_entry_room(ps, target) / 100 * ps->cache->cfg.high_watermark_pct ||
	    spc_ring_count(&ps->ring) > (ps->ring.mask + 1) / 4 ||
	    (ps->max_entries && spc_ring_count(&ps->ring) > 0))
		spc_kick(ps);
}

/* ---- life cycle ---------------------------------------------------------------------- */

/* How many reclamation batches a pool of this target gets (core/handle.h,
 * SPC_BATCH_POOL_BYTES). */
static unsigned spc_batches_for(uint64_t target)
{
	uint64_t n = target / SPC_BATCH_POOL_BYTES;

	if (n < SPC_BATCHES_MIN)
		return SPC_BATCHES_MIN;
	return n > SPC_BATCHES_MAX ? SPC_BATCHES_MAX : (unsigned)n;
}

int spc_ps_init(struct spc_pstate *ps)
{
	struct spc_cache *c = ps->cache;
	struct spc_policy_ops ops;
	uint64_t target = spc_pool_target(ps->pool);
	size_t cap = 1024;
	int r;

	while (cap < 65536 && cap < target / 512)
		cap <<= 1;
	r = spc_ring_init(&ps->ring, &c->env, cap);
	if (r != SPC_OK)
		return r;
	ops = spc_entry_ops;
	ops.ctx = ps;
	r = spc_policy_create(c->cfg.policy, &ops, &c->env,
	                      ps->max_entries ? ps->max_entries : cap, &ps->policy);
	if (r != SPC_OK)
		goto fail_ring;
	{
		const void *base;
		size_t size;

		/* Every entry of a hard-capped pool lies in its region, so the
		 * policy may keep 32-bit offsets instead of pointers (half the
		 * queue memory). Pools without a region (sanitizer builds,
		 * fallbacks) or over 32 GiB keep pointer slots: set_region
		 * refuses and nothing changes. */
		if (spc_pool_region(ps->pool, &base, &size))
			(void)spc_policy_set_region(ps->policy, base, size);
	}
	/* The index's tables are charged as they are allocated
	 * (core/kv_index_compact.c): an entry's share is the policy's. */
	ps->entry_share = (uint32_t)spc_policy_item_bytes(ps->policy);
	ps->nbatches = spc_batches_for(target);
	ps->batches = spc_calloc(&c->env, ps->nbatches, sizeof *ps->batches);
	if (!ps->batches) {
		r = SPC_ENOMEM;
		goto fail_policy;
	}
	ps->free_count = ps->nbatches; /* all fresh: spc_batch_get */
	spc_mutex_init(&ps->mu);
	spc_mutex_init(&ps->step_mu);
	spc_mutex_init(&ps->batch_mu);
	spc_cond_init(&ps->maint_cv);
	spc_cond_init(&ps->room_cv);
	return SPC_OK;
fail_policy:
	spc_policy_destroy(ps->policy);
	ps->policy = NULL;
fail_ring:
	spc_ring_destroy(&ps->ring);
	return r;
}

int spc_ps_start(struct spc_pstate *ps)
{
	if (spc_fault(&ps->cache->env, SPC_FAULT_THREAD, 0))
		return SPC_ESYS;
	if (pthread_create(&ps->thread, NULL, spc_maint_main, ps) != 0)
		return SPC_ESYS;
	ps->has_thread = 1;
	return SPC_OK;
}

void spc_ps_stop(struct spc_pstate *ps)
{
	if (ps->has_thread) {
		spc_lock(&ps->mu);
		ps->stop = 1;
		if (pthread_cond_signal(&ps->maint_cv) != 0)
			spc_die("pthread_cond_signal failed");
		spc_unlock(&ps->mu);
		if (pthread_join(ps->thread, NULL) != 0)
			spc_die("pthread_join failed");
		ps->has_thread = 0;
	}
}

void spc_ps_fini(struct spc_pstate *ps)
{
	spc_policy_destroy(ps->policy);
	ps->policy = NULL;
	spc_ring_destroy(&ps->ring);
	/* Every callback has run (the caller's urcu_memb_barrier) and each
	 * ended by returning its batch under batch_mu. Taking it here turns
	 * that into an order ThreadSanitizer can see too: it cannot see
	 * liburcu's barrier, and would call the free below a race with the
	 * callbacks' reads of their batches. */
	spc_lock(&ps->batch_mu);
	spc_unlock(&ps->batch_mu);
	spc_free(ps->batches);
	ps->batches = NULL;
	pthread_mutex_destroy(&ps->mu);
	pthread_mutex_destroy(&ps->step_mu);
	pthread_mutex_destroy(&ps->batch_mu);
	pthread_cond_destroy(&ps->maint_cv);
	pthread_cond_destroy(&ps->room_cv);
}
