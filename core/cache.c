/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/cache.c: the public front of the cache: open, close, the plain
 * namespace's reads and writes (thin wrappers over the key-value engine,
 * core/kv.c), clear, set_mode, the memory limit, reports. The rest of
 * core/ lies below it, in one chain (docs/design.md, "Inside core/").
 *
 * A cache is two pools; each pool is an index (core/kv_index.h over
 * core/index.c; XXH3-64 with the configured seed), a ring to its
 * maintainer, and the maintainer's policy (core/maint.c). Entries (core/entry.h) are immutable
 * once published; a store publishes a new entry and retires the old one.
 *
 * A write, in order (every early return undoes the steps before it, so an
 * error leaves the cache exactly as it was):
 *   1. validate;              SPC_EINVAL, SPC_ETOOBIG
 *   2. charge the pool;       SPC_EFULL (SPC_EBUSY: no free batch) after a
 *                             bounded wait (wait.c)
 *   3. allocate the entry;    SPC_ENOMEM (uncharge)
 *   4. reserve a ring cell;   SPC_EBUSY after a bounded wait (free, uncharge)
 *   5. publish in the index: set for set; for the other modes the
 *      mode's plan is checked against the entry found in the same read
 *      section, then a replace of that entry (add_unique when there
 *      was none), retried from the lookup when another write got there
 *      first (core/edit.c); a plan's refusal (SPC_EEXISTS, SPC_ENOTFOUND,
 *      SPC_ETOOBIG for append) frees the never-published entry at once;
 *   6. fill the ring cell: from here the maintainer owns the entry;
 *   7. retire the replaced entry (spc_note_unpublished: backlog, dead flag).
 * Step 4 comes before 5 so that nothing is visible when the ring is full;
 * 6 comes after 5 so the maintainer never sees an unpublished new entry.
 * Steps 2 to 7 are core/edit.c's engine, shared with every store mode
 * (core/kv.c), incr/decr and touch (core/item.c).
 *
 * Guarantees (tests/integration/cache, tests/fault/core):
 *  1. a store is visible to every lookup that starts after it returns;
 *  2. every error code leaves the cache unchanged (no entry, no charge, no
 *     counter moved except the refusal's: efull, busy_ring, busy_batches);
 *  3. a reader never sees a torn entry (entries are built before the
 *     index's publication barrier) nor a freed one (maint.c, guarantee 4);
 *  4. deletes and clears never count as evictions; replacements neither;
 *     an expired entry a write replaces or a delete removes counts as an
 *     expiration (and the delete answers SPC_ENOTFOUND);
 *  5. several caches coexist: all state hangs off the handle (the only
 *     process-wide data is the RCU registration of sync/rcu.c, the per-
 *     thread slot table of stats.c and the cache id counter below).
 */
#include "core/cache.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* Process-unique cache ids (never reused, so a thread's slot table can
 * never mistake a new cache for a closed one at the same address). */
static uint64_t spc_next_cache_id = 1;

#define SPC_MODE_WAIT_MIN_MS 2000u

void spc_cache_set_evict_hook(struct spc_cache *c, spc_evict_hook_fn *fn, void *arg)
{
	c->evict_hook = fn;
	c->evict_hook_arg = arg;
}

/* ---- open / close ------------------------------------------------------- */

static int spc_cfg_check(const struct spc_config *cfg)
{
	if (cfg->policy != SPC_POLICY_S3FIFO && cfg->policy != SPC_POLICY_CLOCK &&
	    cfg->policy != SPC_POLICY_STEERED)
		return SPC_EINVAL;
	if (cfg->high_watermark_pct == 0 || cfg->high_watermark_pct > 100 ||
	    cfg->low_watermark_pct >= cfg->high_watermark_pct)
		return SPC_EINVAL;
	if (cfg->max_item_bytes == 0)
		return SPC_EINVAL;
	if (!(cfg->index_max_load > 0.0 && cfg->index_max_load <= 64.0))
		return SPC_EINVAL;
	return SPC_OK;
}

static void spc_pool_teardown(struct spc_pstate *ps)
{
	spc_kv_destroy(ps);
	spc_ps_fini(ps);
}

static int spc_pool_setup(struct spc_cache *c, enum spc_pool_id id)
{
	struct spc_pstate *ps = &c->ps[id];
	int r;

	ps->cache = c;
	ps->id = id;
	ps->pool = spc_mem_pool(c->mem, id);
	ps->max_entries = c->cfg.max_entries[id];
	r = spc_ps_init(ps);
	if (r != SPC_OK)
		return r;
	r = spc_kv_init(ps);
	if (r != SPC_OK)
		spc_ps_fini(ps);
	return r;
}

int spc_open(const struct spc_config *cfg, struct spc_cache **out)
{
	struct spc_cache *c;
	struct spc_env env;
	int r, p, set_up = 0;

	if (!cfg || !out)
		return SPC_EINVAL;
	*out = NULL;
	r = spc_cfg_check(cfg);
	if (r != SPC_OK)
		return r;
	SPC_ASSERT_NOT_IN_RCU();
	spc_rcu_ensure();
	spc_env_from_config(&env, cfg);
	c = spc_aligned_calloc(&env, SPC_CACHELINE, sizeof *c);
	if (!c)
		return SPC_ENOMEM;
	c->cfg = *cfg;
	c->cfg.root = NULL;
	c->env = env;
	c->seed = cfg->hash_seed;
	/* Debug level only: the seed is what a key flood would need. */
	spc_logf(&c->env, SPC_LOG_DEBUG, "index hash seed %llu", (unsigned long long)c->seed);
	c->sync_mode = cfg->synchronous_maintenance != 0;
	/* Relaxed: uniqueness is all we need. */
	c->id = __atomic_fetch_add(&spc_next_cache_id, 1, __ATOMIC_RELAXED);
	c->cas_next = 1;
	spc_stats_init(c);
	spc_mutex_init(&c->mode_mu);
	spc_mutex_init(&c->slots_mu);
	r = spc_debug_open(c);
	if (r != SPC_OK)
		goto fail;
	r = spc_mem_open(cfg, &c->env, &c->mem);
	if (r != SPC_OK)
		goto fail;
	for (p = 0; p < SPC_POOL_COUNT; p++, set_up++) {
		r = spc_pool_setup(c, (enum spc_pool_id)p);
		if (r != SPC_OK)
			goto fail;
	}
	r = spc_view_open(c);
	if (r != SPC_OK)
		goto fail;
	if (!c->sync_mode) {
		for (p = 0; p < SPC_POOL_COUNT; p++) {
			r = spc_ps_start(&c->ps[p]);
			if (r != SPC_OK)
				goto fail;
		}
	}
	*out = c;
	return SPC_OK;
fail:
	for (p = 0; p < SPC_POOL_COUNT; p++)
		spc_ps_stop(&c->ps[p]);
	spc_view_close(c);
	for (p = 0; p < set_up; p++)
		spc_pool_teardown(&c->ps[p]);
	if (c->mem)
		spc_mem_close(c->mem);
	spc_debug_close(c);
	pthread_mutex_destroy(&c->mode_mu);
	pthread_mutex_destroy(&c->slots_mu);
	spc_stats_fini(c);
	spc_free(c);
	return r;
}

void spc_close(struct spc_cache *c)
{
	if (!c)
		return;
	SPC_ASSERT_NOT_IN_RCU();
	spc_rcu_ensure();
	for (int p = 0; p < SPC_POOL_COUNT; p++)
		spc_ps_stop(&c->ps[p]);
	/* Every batch handed to call_rcu must be freed before its pool goes. */
	urcu_memb_barrier();
	for (int p = 0; p < SPC_POOL_COUNT; p++)
		spc_kv_unpublish_all(&c->ps[p]);
	/* Nobody may read any more (contract), but a grace period costs
	 * little and covers a caller that broke it by a hair. */
	urcu_memb_synchronize_rcu();
	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		spc_ps_free_all(&c->ps[p]);
		spc_pool_teardown(&c->ps[p]);
	}
	spc_view_close(c);
	spc_mem_close(c->mem);
	spc_debug_close(c);
	pthread_mutex_destroy(&c->mode_mu);
	pthread_mutex_destroy(&c->slots_mu);
	spc_stats_fini(c);
	spc_free(c);
}

/* ---- reads -------------------------------------------------------------------- */

void spc_read_lock(struct spc_cache *c)
{
	(void)c;
	spc_rcu_read_lock();
}

void spc_read_unlock(struct spc_cache *c)
{
	(void)c;
	SPC_ASSERT_IN_RCU();
	spc_rcu_read_unlock();
}

int spc_get_rcu(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen,
                struct spc_value *out)
{
	struct spc_key k = { key, klen, SPC_NS_PLAIN, 0 };

	return spc_get_key_rcu_inl(c, pool, &k, out, 1);
}

int spc_get(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen, void *buf,
            size_t cap, size_t *vlen)
{
	return spc_get_plain_inl(c, pool, key, klen, buf, cap, vlen);
}

/* ---- writes ------------------------------------------------------------------- */

int spc_store(struct spc_cache *c, enum spc_pool_id pool, enum spc_store_mode mode,
              const void *key, size_t klen, const void *val, size_t vlen,
              const struct spc_item *item, uint64_t *cas_out)
{
	struct spc_key k = { key, klen, SPC_NS_PLAIN, 0 };

	return spc_store_key(c, pool, &k, mode, val, vlen, item, cas_out);
}

int spc_set(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen,
            const void *val, size_t vlen)
{
	struct spc_key k = { key, klen, SPC_NS_PLAIN, 0 };

	return spc_store_key(c, pool, &k, SPC_STORE_SET, val, vlen, NULL, NULL);
}

int spc_add(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen,
            const void *val, size_t vlen)
{
	struct spc_key k = { key, klen, SPC_NS_PLAIN, 0 };

	return spc_store_key(c, pool, &k, SPC_STORE_ADD, val, vlen, NULL, NULL);
}

int spc_delete_cas(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen,
                   uint64_t cas_expect)
{
	struct spc_key k = { key, klen, SPC_NS_PLAIN, 0 };

	return spc_delete_key_cas(c, pool, &k, cas_expect);
}

int spc_delete(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen)
{
	struct spc_key k = { key, klen, SPC_NS_PLAIN, 0 };

	return spc_delete_key(c, pool, &k);
}

int spc_clear(struct spc_cache *c, enum spc_pool_id pool)
{
	uint64_t n;

	if (!c || !spc_pool_ok(pool))
		return SPC_EINVAL;
	SPC_ASSERT_NOT_IN_RCU();
	spc_rcu_ensure();
	n = spc_kv_unpublish_all(&c->ps[pool]);
	spc_count(c, pool, SPC_C_ITEMS, -(int64_t)n);
	if (c->sync_mode)
		spc_after_write(&c->ps[pool]);
	else
		spc_kick(&c->ps[pool]);
	return SPC_OK;
}

/* ---- mode ----------------------------------------------------------------------- */

/* The budget the pools split: the reserved one, or the run-time limit
 * below it (spc_set_memory_limit). Called with mode_mu held. */
static uint64_t spc_split_budget(const struct spc_cache *c)
{
	uint64_t b = spc_mem_budget(c->mem);

	return c->limit_bytes && c->limit_bytes < b ? c->limit_bytes : b;
}

/* New targets for mode, view_share and the split budget. Called with
 * mode_mu held. */
static int spc_retarget(struct spc_cache *c, enum spc_mode mode, double view_share)
{
	uint64_t want[SPC_POOL_COUNT];
	unsigned ms;
	int r = SPC_OK;

	if (mode != SPC_MODE_SPLIT)
		view_share = c->cfg.view_share; /* unused by the split, kept for the report */
	if (spc_split_targets(spc_split_budget(c), mode, view_share, want) != SPC_OK)
		return SPC_EINVAL;
	ms = c->cfg.full_wait_ms * 10u > SPC_MODE_WAIT_MIN_MS ? c->cfg.full_wait_ms * 10u
	                                                       : SPC_MODE_WAIT_MIN_MS;
	/* Shrink first: lower the target (charges above it are refused from
	 * now on), let the maintainer evict down, and only then grow the
	 * other pool, so the two never sum above the budget. Every pool is
	 * waited for whose charge is above its new target, not only the ones
	 * lowered now: after a call that timed out, a pool may still be
	 * shedding toward the lower target it got then, and a new mode may
	 * raise that target to a figure still below its charge. So SPC_OK
	 * means every pool's charge is within its new target. */
	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		struct spc_pstate *ps = &c->ps[p];

		if (want[p] < spc_pool_target(ps->pool))
			spc_pool_set_target(ps->pool, want[p]);
		if (spc_pool_charged(ps->pool) > want[p] && spc_wait_shed(ps, want[p], ms) != SPC_OK)
			r = SPC_ETIMEDOUT;
	}
	if (r == SPC_OK) {
		for (int p = 0; p < SPC_POOL_COUNT; p++) {
			struct spc_pstate *ps = &c->ps[p];

			if (want[p] > spc_pool_target(ps->pool)) {
				spc_pool_set_target(ps->pool, want[p]);
				spc_room_wake(ps);
			}
		}
		c->cfg.mode = mode;
		c->cfg.view_share = view_share;
		spc_mem_note_mode(c->mem, mode, view_share);
	}
	return r;
}

int spc_set_mode(struct spc_cache *c, enum spc_mode mode, double view_share)
{
	int r;

	if (!c)
		return SPC_EINVAL;
	SPC_ASSERT_NOT_IN_RCU();
	spc_rcu_ensure();
	spc_lock(&c->mode_mu);
	r = spc_retarget(c, mode, view_share);
	spc_unlock(&c->mode_mu);
	return r;
}

int spc_set_memory_limit(struct spc_cache *c, uint64_t bytes)
{
	uint64_t old;
	int r;

	if (!c)
		return SPC_EINVAL;
	if (bytes > spc_mem_budget(c->mem))
		return SPC_ERANGE;
	SPC_ASSERT_NOT_IN_RCU();
	spc_rcu_ensure();
	spc_lock(&c->mode_mu);
	old = c->limit_bytes;
	c->limit_bytes = bytes;
	r = spc_retarget(c, c->cfg.mode, c->cfg.view_share);
	if (r == SPC_EINVAL)
		c->limit_bytes = old; /* too small to split: nothing changed */
	spc_unlock(&c->mode_mu);
	return r;
}

/* ---- quiescence (tests) ---------------------------------------------------------- */

static int spc_quiet(struct spc_pstate *ps)
{
	/* Relaxed: the test calls this with writers stopped; the barrier in
	 * the caller ordered the callbacks' updates. */
	return spc_ring_count(&ps->ring) == 0 &&
	       __atomic_load_n(&ps->dead_pending, __ATOMIC_RELAXED) == 0 &&
	       __atomic_load_n(&ps->backlog, __ATOMIC_RELAXED) == 0 && spc_kv_settled(ps);
}

/* Whether every maintainer thread is asleep after a step without work.
 * Seen under each pool's mu, which the maintainer held when it went to
 * sleep: everything its steps wrote (the policy's state included) happens
 * before the caller's next read. */
static int spc_maintainers_idle(struct spc_cache *c)
{
	int idle = 1;

	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		struct spc_pstate *ps = &c->ps[p];

		if (!ps->has_thread)
			continue;
		spc_lock(&ps->mu);
		idle &= ps->idle;
		spc_unlock(&ps->mu);
	}
	return idle;
}

static int spc_all_quiet(struct spc_cache *c)
{
	int quiet = 1;

	for (int p = 0; p < SPC_POOL_COUNT; p++)
		quiet &= spc_quiet(&c->ps[p]);
	return quiet;
}

/* Quiet is checked after a barrier, and once every maintainer is seen
 * asleep, after a second one: a maintainer's last step before it went to
 * sleep may have handed something to call_rcu after the first barrier (a
 * reclamation batch, or the index table a resize retired, which stays
 * charged until its callback runs); the second barrier waits for it, so
 * the caller reads the counters with it freed and uncharged. */
int spc_cache_quiesce(struct spc_cache *c, unsigned ms)
{
	struct timespec nap = { 0, 1000000 };

	SPC_ASSERT_NOT_IN_RCU();
	spc_rcu_ensure();
	for (unsigned waited = 0; waited <= ms; waited++) {
		for (int p = 0; p < SPC_POOL_COUNT; p++) {
			while (spc_poke(&c->ps[p]))
				;
		}
		urcu_memb_barrier(); /* every handed-over batch is freed */
		if (spc_all_quiet(c) && spc_maintainers_idle(c)) {
			urcu_memb_barrier(); /* and what the last steps handed over */
			if (spc_all_quiet(c))
				return SPC_OK;
		}
		nanosleep(&nap, NULL);
	}
	return SPC_ETIMEDOUT;
}

/* ---- reports ---------------------------------------------------------------------- */

int spc_memory_report(struct spc_cache *c, struct spc_mem_report *out)
{
	if (!c || !out)
		return SPC_EINVAL;
	spc_mem_fill_report(c->mem, out);
	return SPC_OK;
}
