/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pools/pool.c: the memory layer's handle (struct spc_mem) and its two
 * pools: detect -> reserve -> split -> arenas, then charging.
 *
 * Opening runs the pipeline of docs/memory.md once: detection (detect.c) gives
 * the budget, the ladder (ladder.c) reserves it or a smaller rung, the
 * split gives each pool its target, and each pool gets an arena carved
 * from its region (arena.c). If no rung can be reserved the handle opens
 * *degraded*: both pools get the minimal 1 MiB target on plain arenas.
 *
 * Charging (memcached slabs.c: check the budget before allocating). Each
 * pool keeps the bytes it holds in one atomic counter on a cache line of
 * its own, so writers of one pool never slow down the other pool or the
 * readers. spc_pool_charge is a compare-and-swap loop that refuses (EFULL)
 * a charge that would pass the target instead of adding and backing out:
 * the counter itself never exceeds the target, not even for an instant.
 * The counters publish nothing else (the allocation that follows a charge
 * is ordered by jemalloc's own synchronisation, not by ours), with one
 * exception: a lowered target. A charger that read the old target could
 * otherwise land its compare-and-swap after the lowering and after the
 * shed that followed it (spc_set_mode) had seen the pool within the new
 * target, leaving the pool above it. So the counter's top 16 bits are a
 * generation that a lowering bumps (release) after storing the target: a
 * charger's CAS from a value older than the bump fails, and the reload
 * (acquire) that follows sees the new target; one that succeeds came
 * before the bump, where the shed's own read of the charge sees it.
 *
 * Guarantees (tests/unit/pools/test_pool.c, test_give_back.c (P5) and
 * tests/fault/pools check):
 *  P1. spc_split_targets: targets never sum above the budget; indexer and
 *      view leave the other pool exactly 1 MiB; split gives view
 *      view_share x budget rounded down to a page, index the rest.
 *  P2. Charged bytes never exceed the target, whatever threads do.
 *  P3. spc_mem_open never aborts for lack of memory: every rung refused ->
 *      degraded = 1, pools still allocate, charge and free.
 *  P4. A failed spc_mem_open leaves nothing behind (memory, mappings,
 *      arenas) and *out unchanged.
 *  P5. A pool whose target is lowered gives its free pages back to the
 *      system (spc_pool_trim) once its charge is at or below the new
 *      target: at once if it already is, else in the uncharge that gets it
 *      there. The slabs keep freed pages otherwise (slab.c), the arenas
 *      until their decay time passes and jemalloc ticks (arena.c).
 *  P6. A freed aligned block of SPC_POOL_PURGE_FREED bytes or more (an
 *      index table) leaves no dirty page in the pool's arena.
 */
#include "pools/pools.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "pools/arena.h"
#include "pools/detect.h"
#include "pools/slab.h"

struct spc_pool {
	/* Written by every charge and uncharge of this pool: alone on its
	 * line so the other pool's writers and the readers never share it. */
	_Alignas(SPC_CACHELINE) _Atomic uint64_t charged;
	char pad_[SPC_CACHELINE - sizeof(_Atomic uint64_t)];
	/* Read by every charge, written only on mode changes. */
	_Alignas(SPC_CACHELINE) _Atomic uint64_t target;
	/* Nonzero: the target shrank to this and the pool's free pages go
	 * back (spc_pool_trim) once the charge is at or below it. Read by
	 * every uncharge, written on mode changes and by that one trim. */
	_Atomic uint64_t purge_at;
	enum spc_pool_id id;
	const struct spc_env *env; /* the owning handle's */
	struct spc_arena arena;
	struct spc_slabs *slabs; /* sizes up to 2 KiB; NULL: all from the arena */
};

struct spc_mem {
	struct spc_pool pools[SPC_POOL_COUNT]; /* first: keeps their alignment */
	struct spc_env env;
	struct spc_reservation res;
	uint64_t budget; /* what the split divides: the reserved rung, or the
	                    two minimal pools when degraded */
	pthread_mutex_t report_lock; /* guards report.mode and view_share */
	struct spc_mem_report report; /* detection and ladder, as opened */
};

int spc_split_targets(uint64_t budget, enum spc_mode mode, double view_share,
                      uint64_t out[SPC_POOL_COUNT])
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), view;

	if (budget < 2 * SPC_MINIMAL_POOL_BYTES)
		return SPC_EINVAL;
	switch (mode) {
	case SPC_MODE_INDEXER:
		out[SPC_POOL_VIEW] = SPC_MINIMAL_POOL_BYTES;
		out[SPC_POOL_INDEX] = budget - SPC_MINIMAL_POOL_BYTES;
		return SPC_OK;
	case SPC_MODE_VIEW:
		out[SPC_POOL_INDEX] = SPC_MINIMAL_POOL_BYTES;
		out[SPC_POOL_VIEW] = budget - SPC_MINIMAL_POOL_BYTES;
		return SPC_OK;
	case SPC_MODE_SPLIT:
		if (!(view_share > 0.0 && view_share < 1.0) || isnan(view_share))
			return SPC_EINVAL;
		view = (uint64_t)((double)budget * view_share);
		if (view > budget)
			view = budget;
		view -= view % page;
		out[SPC_POOL_VIEW] = view;
		out[SPC_POOL_INDEX] = (budget - view) - (budget - view) % page;
		return SPC_OK;
	}
	return SPC_EINVAL;
}

static int check_mode(enum spc_mode mode, double view_share)
{
	uint64_t t[SPC_POOL_COUNT];

	/* Any budget large enough shows whether mode and share are valid. */
	return spc_split_targets(SPC_DEFAULT_MAX_BUDGET, mode, view_share, t);
}

/* The targets a handle opens with: the split of the budget; when the
 * budget is below two minimal pools (the 1 MiB rung), half each, so the
 * targets still never sum above the budget; minimal pools when degraded. */
static void open_targets(uint64_t budget, int degraded, enum spc_mode mode, double share,
                         uint64_t targets[SPC_POOL_COUNT])
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (degraded) {
		targets[0] = targets[1] = SPC_MINIMAL_POOL_BYTES;
	} else if (spc_split_targets(budget, mode, share, targets) != SPC_OK) {
		targets[0] = targets[1] = budget / 2 - budget / 2 % page;
	}
}

static const char *mode_word(enum spc_mode m)
{
	return m == SPC_MODE_INDEXER ? "indexer" : m == SPC_MODE_VIEW ? "view" : "split";
}

/* The slab layer's bound (spc_slabs_set_bound): a new slab is taken
 * only while the pool's charge plus its free slots (room for their own
 * classes only; the one cached empty slab per class aside, which any
 * allocation of its class takes first) stay within the target. The new
 * slab's own free slots are not counted before it is taken, so a pool of
 * one size fills to its charge; the resident memory may pass the target
 * by the slabs taken at once (one per writer, 64 KiB at most each) and
 * the headers and tails the charge never counts (about 1 %). Relaxed
 * reads, a moment old. */
static int slabs_within(const struct spc_pool *pool)
{
	return spc_pool_charged(pool) + spc_slabs_free_slot_bytes(pool->slabs) <=
	       spc_pool_target(pool);
}

#ifndef SPC_POOL_MALLOC /* no slab layer in sanitizer builds */
static int slab_may_grow(void *arg, uint64_t bytes)
{
	(void)bytes;
	return slabs_within(arg);
}
#endif

static void pools_init(struct spc_mem *mem, int degraded, enum spc_mode mode, double share)
{
	uint64_t targets[SPC_POOL_COUNT];
	int i;

	open_targets(mem->budget, degraded, mode, share, targets);
	spc_logf(&mem->env, SPC_LOG_INFO,
	         "Split %llu bytes (mode %s, view share %.2f%s): index pool %llu bytes, "
	         "view pool %llu bytes",
	         (unsigned long long)mem->budget, mode_word(mode), share,
	         degraded ? ", degraded: minimal pools" : "", (unsigned long long)targets[0],
	         (unsigned long long)targets[1]);
	for (i = 0; i < SPC_POOL_COUNT; i++) {
		struct spc_pool *p = &mem->pools[i];

		p->id = (enum spc_pool_id)i;
		p->env = &mem->env;
		atomic_init(&p->charged, 0);
		atomic_init(&p->target, targets[i]);
		atomic_init(&p->purge_at, 0);
		spc_arena_init(&p->arena, &mem->env, mem->res.regions[i]);
		p->slabs = NULL;
#ifndef SPC_POOL_MALLOC /* sanitizers: one malloc per entry (slab.c) */
		if (p->arena.kind != SPC_ARENA_MALLOC)
			p->slabs = spc_slabs_create(&p->arena, &mem->env,
			                            p->arena.kind == SPC_ARENA_HOOKED ? p->arena.size : 0);
		if (p->slabs)
			spc_slabs_set_bound(p->slabs, slab_may_grow, p);
#endif
		if (p->arena.kind != SPC_ARENA_HOOKED && !degraded) {
			spc_report_warn(&mem->report, "%s pool: %s, bounded by its charge only",
			                i == SPC_POOL_INDEX ? "index" : "view",
			                p->arena.kind == SPC_ARENA_PLAIN ? "plain arena" : "malloc");
			spc_logf(&mem->env, SPC_LOG_WARN, "%s", mem->report.warnings[mem->report.n_warnings - 1]);
		}
	}
}

static void quiet_log(void *arg, enum spc_log_level level, const char *message)
{
	(void)arg;
	(void)level;
	(void)message;
}

/* Detection and the ladder into r; budget for the split into *budget.
 * With res == NULL the reservation is released at once and nothing is
 * logged (spc_mem_probe); else every decision is logged as it is made. */
static int detect_and_reserve(const struct spc_config *cfg, const struct spc_env *env,
                              struct spc_mem_report *r, struct spc_reservation *res,
                              uint64_t *budget)
{
	struct spc_detect_input in;
	struct spc_reservation tmp;
	struct spc_env quiet;
	unsigned warned;
	int rc;

	if (!res) {
		quiet = *env;
		quiet.log = quiet_log;
		env = &quiet;
	}
	spc_detect_input_from_config(&in, cfg);
	rc = spc_detect_budget(&in, r);
	if (rc != SPC_OK)
		return rc;
	/* The below-minimum warning, when detection added it (last), is
	 * logged once by spc_mem_open, after every other decision. */
	spc_detect_log(env, r, 0, r->n_warnings - (r->below_recommended_minimum ? 1u : 0u));
	warned = r->n_warnings;
	r->mode = cfg->mode;
	r->view_share = cfg->view_share;
	rc = spc_ladder_reserve(env, r->budget_bytes, cfg->prefault, cfg->mode, cfg->view_share,
	                        res ? res : &tmp, r);
	if (rc == SPC_OK) {
		*budget = (res ? res : &tmp)->budget;
		if (*budget < r->budget_bytes)
			spc_report_warn(r, "reserved %llu of the %llu budget: using that",
			                (unsigned long long)*budget, (unsigned long long)r->budget_bytes);
	} else {
		r->degraded = 1;
		*budget = 2 * SPC_MINIMAL_POOL_BYTES;
		spc_report_warn(r, "every reservation failed: degraded, minimal pools of 1 MiB");
	}
	/* The ladder's warning as it is made (degraded: spc_mem_open says it). */
	if (!r->degraded)
		for (unsigned i = warned; i < r->n_warnings && i < 8; i++)
			spc_logf(env, SPC_LOG_WARN, "%s", r->warnings[i]);
	/* The report shows the budget in force, which the ladder may have
	 * lowered; the rule line keeps what detection chose. */
	r->budget_bytes = *budget;
	if (*budget < SPC_RECOMMENDED_MIN_BYTES && !r->below_recommended_minimum) {
		r->below_recommended_minimum = 1;
		spc_report_warn(r, "budget %llu is below the recommended minimum of %llu bytes",
		                (unsigned long long)*budget,
		                (unsigned long long)SPC_RECOMMENDED_MIN_BYTES);
	}
	if (!res)
		spc_reservation_release(&tmp);
	return SPC_OK;
}

int spc_mem_open(const struct spc_config *cfg, const struct spc_env *env, struct spc_mem **out)
{
	struct spc_config defaults;
	struct spc_env own;
	struct spc_mem *mem;
	int rc;

	if (!out)
		return SPC_EINVAL;
	if (!cfg) {
		spc_config_init(&defaults);
		cfg = &defaults;
	}
	if (!env) {
		spc_env_from_config(&own, cfg);
		env = &own;
	}
	if (check_mode(cfg->mode, cfg->view_share) != SPC_OK)
		return SPC_EINVAL;
	mem = spc_aligned_calloc(env, SPC_CACHELINE, sizeof *mem);
	if (!mem)
		return SPC_ENOMEM;
	mem->env = *env;
	rc = detect_and_reserve(cfg, &mem->env, &mem->report, &mem->res, &mem->budget);
	if (rc != SPC_OK) {
		spc_logf(env, SPC_LOG_ERROR, "%s",
		         mem->report.n_warnings ? mem->report.warnings[0] : spc_strerror(rc));
		spc_free(mem);
		return rc;
	}
	if (pthread_mutex_init(&mem->report_lock, NULL) != 0)
		spc_die("pthread_mutex_init");
	pools_init(mem, mem->report.degraded, cfg->mode, cfg->view_share);
	if (mem->report.degraded)
		spc_logf(env, SPC_LOG_WARN, "no memory could be reserved: running degraded");
	if (mem->report.below_recommended_minimum)
		spc_logf(env, SPC_LOG_WARN, "budget %llu is below the recommended minimum of %llu bytes",
		         (unsigned long long)mem->budget,
		         (unsigned long long)SPC_RECOMMENDED_MIN_BYTES);
	*out = mem;
	return SPC_OK;
}

void spc_mem_close(struct spc_mem *mem)
{
	int i;

	if (!mem)
		return;
	for (i = 0; i < SPC_POOL_COUNT; i++) {
		spc_slabs_destroy(mem->pools[i].slabs);
		spc_arena_destroy(&mem->pools[i].arena);
	}
	spc_reservation_release(&mem->res);
	if (pthread_mutex_destroy(&mem->report_lock) != 0)
		spc_die("pthread_mutex_destroy");
	spc_free(mem);
}

struct spc_pool *spc_mem_pool(struct spc_mem *mem, enum spc_pool_id id)
{
	if ((unsigned)id >= SPC_POOL_COUNT)
		return NULL;
	return &mem->pools[id];
}

uint64_t spc_mem_budget(const struct spc_mem *mem)
{
	return mem->budget;
}

int spc_mem_degraded(const struct spc_mem *mem)
{
	return mem->report.degraded;
}

int spc_mem_mode_targets(const struct spc_mem *mem, enum spc_mode mode, double view_share,
                         uint64_t out[SPC_POOL_COUNT])
{
	if (check_mode(mode, view_share) != SPC_OK)
		return SPC_EINVAL;
	open_targets(mem->budget, mem->report.degraded, mode, view_share, out);
	return SPC_OK;
}

void spc_mem_note_mode(struct spc_mem *mem, enum spc_mode mode, double view_share)
{
	if (pthread_mutex_lock(&mem->report_lock) != 0)
		spc_die("pthread_mutex_lock");
	mem->report.mode = mode;
	mem->report.view_share = view_share;
	if (pthread_mutex_unlock(&mem->report_lock) != 0)
		spc_die("pthread_mutex_unlock");
	spc_logf(&mem->env, SPC_LOG_INFO, "Mode set to %s, view share %.2f", mode_word(mode),
	         view_share);
}

void spc_mem_fill_report(struct spc_mem *mem, struct spc_mem_report *out)
{
	int i;

	if (pthread_mutex_lock(&mem->report_lock) != 0)
		spc_die("pthread_mutex_lock");
	*out = mem->report;
	if (pthread_mutex_unlock(&mem->report_lock) != 0)
		spc_die("pthread_mutex_unlock");
	for (i = 0; i < SPC_POOL_COUNT; i++) {
		struct spc_pool *p = &mem->pools[i];

		spc_arena_stats(&p->arena, &out->pools[i]);
		spc_slabs_stats(p->slabs, &out->pools[i]);
		out->pools[i].target_bytes = spc_pool_target(p);
		out->pools[i].charged_bytes = spc_pool_charged(p);
	}
}

int spc_mem_probe(const struct spc_config *cfg, struct spc_mem_report *out)
{
	struct spc_config defaults;
	struct spc_env env;
	uint64_t budget = 0, targets[SPC_POOL_COUNT];
	int rc, i;

	if (!out)
		return SPC_EINVAL;
	memset(out, 0, sizeof *out);
	if (!cfg) {
		spc_config_init(&defaults);
		cfg = &defaults;
	}
	spc_env_from_config(&env, cfg);
	out->mode = cfg->mode;
	out->view_share = cfg->view_share;
	if (check_mode(cfg->mode, cfg->view_share) != SPC_OK) {
		spc_report_warn(out, "invalid mode %d or view share %g", (int)cfg->mode,
		                cfg->view_share);
		return SPC_EINVAL;
	}
	rc = detect_and_reserve(cfg, &env, out, NULL, &budget);
	if (rc != SPC_OK)
		return rc;
	open_targets(budget, out->degraded, cfg->mode, cfg->view_share, targets);
	for (i = 0; i < SPC_POOL_COUNT; i++) {
		out->pools[i].target_bytes = targets[i];
		/* What open would build: hooked when the region can host it. */
		out->pools[i].hard_capped = 0;
#ifndef SPC_POOL_MALLOC
		out->pools[i].hard_capped = !out->degraded &&
		                            budget + SPC_REGION_SLACK(budget) >= SPC_REGION_MIN_FOR_ARENA;
#endif
	}
	return SPC_OK;
}

/* ---- one pool ---------------------------------------------------------- */

/* The charge word: bytes below SPC_CHARGE_GEN, a generation above (its
 * bumps wrap harmlessly: only a change matters). */
#define SPC_CHARGE_GEN ((uint64_t)1 << 48)
#define SPC_CHARGE_BYTES (SPC_CHARGE_GEN - 1)

int spc_pool_charge(struct spc_pool *pool, uint64_t bytes)
{
	/* Acquire: pairs with the release bump of a lowering target, so a
	 * word of the new generation comes with the new target (essay). */
	uint64_t cur = atomic_load_explicit(&pool->charged, memory_order_acquire);

	do {
		/* Relaxed: ordered by the acquire of the word above or of
		 * the failed CAS below. */
		uint64_t limit = atomic_load_explicit(&pool->target, memory_order_relaxed);
		uint64_t used = cur & SPC_CHARGE_BYTES;

		if (limit > SPC_CHARGE_BYTES)
			limit = SPC_CHARGE_BYTES; /* bytes never carry into the generation */
		if (bytes > limit || used > limit - bytes)
			return SPC_EFULL;
		/* Acquire on failure (the reloaded word, as above; on
		 * success too, as C11 wants it no weaker): the CAS fails
		 * against a generation bump, so the check runs again with the
		 * new target (P2). */
	} while (!atomic_compare_exchange_weak_explicit(&pool->charged, &cur, cur + bytes,
	                                                memory_order_acquire,
	                                                memory_order_acquire));
	return SPC_OK;
}

/* The pool shrank to purge_at and its charge is now at or below it: the
 * memory of everything evicted for the shrink has been freed, so give the
 * free pages back, once (the exchange elects one caller). */
static void purge_after_shrink(struct spc_pool *pool, uint64_t charged)
{
	/* Relaxed: purge_at publishes nothing; a stale zero skips a check,
	 * a stale value is settled by the exchange below. */
	uint64_t at = atomic_load_explicit(&pool->purge_at, memory_order_relaxed);

	if (at == 0 || charged > at)
		return;
	/* Relaxed exchange: only its atomicity matters (one caller purges). */
	if (atomic_exchange_explicit(&pool->purge_at, 0, memory_order_relaxed) != 0)
		spc_pool_trim(pool);
}

void spc_pool_uncharge(struct spc_pool *pool, uint64_t bytes)
{
	/* Relaxed: a pure counter (see spc_pool_charge). */
	uint64_t before = atomic_fetch_sub_explicit(&pool->charged, bytes, memory_order_relaxed) &
	                  SPC_CHARGE_BYTES;

	SPC_DEBUG_CHECK(before >= bytes);
	purge_after_shrink(pool, before - bytes);
}

uint64_t spc_pool_charged(const struct spc_pool *pool)
{
	/* Relaxed: statistics and eviction decisions tolerate a stale value. */
	return atomic_load_explicit(&pool->charged, memory_order_relaxed) & SPC_CHARGE_BYTES;
}

uint64_t spc_pool_slab_excess(const struct spc_pool *pool)
{
	return spc_slabs_excess(pool->slabs);
}

uint64_t spc_pool_target(const struct spc_pool *pool)
{
	/* Relaxed: see spc_pool_charge. */
	return atomic_load_explicit(&pool->target, memory_order_relaxed);
}

void spc_pool_set_target(struct spc_pool *pool, uint64_t bytes)
{
	/* Relaxed: the target orders nothing; chargers read it afresh. */
	uint64_t old = atomic_exchange_explicit(&pool->target, bytes, memory_order_relaxed);

	if (bytes >= old) {
		/* Relaxed: see purge_after_shrink; a grown pool purges nothing. */
		atomic_store_explicit(&pool->purge_at, 0, memory_order_relaxed);
		return;
	}
	/* Release: the new target before the new generation; a charger
	 * that read the old target fails its CAS against the bump and
	 * reloads both (essay). */
	atomic_fetch_add_explicit(&pool->charged, SPC_CHARGE_GEN, memory_order_release);
	/* A shrink: the pages freed while the pool sheds down to the new
	 * target go back once it is there (the arenas never purge on a
	 * timer). Already there: now. Relaxed: see purge_after_shrink. */
	atomic_store_explicit(&pool->purge_at, bytes ? bytes : 1, memory_order_relaxed);
	purge_after_shrink(pool, spc_pool_charged(pool));
}

size_t spc_pool_usable(const struct spc_pool *pool, size_t n)
{
	if (pool->slabs && n > 0 && n <= SPC_SLAB_MAX_CLASS)
		return spc_slab_class_size(spc_slab_class_of(n));
	return spc_arena_usable(&pool->arena, n);
}

void spc_pool_trim(struct spc_pool *pool)
{
	spc_slabs_purge(pool->slabs);
	spc_arena_trim(&pool->arena);
}

void *spc_pool_alloc(struct spc_pool *pool, size_t n)
{
	int stranded;

	return spc_pool_alloc_entry(pool, n, &stranded);
}

void *spc_pool_alloc_entry(struct spc_pool *pool, size_t n, int *stranded)
{
	void *p;

	*stranded = 0;
	if (n == 0 || spc_fault(pool->env, SPC_FAULT_POOL_ALLOC, n))
		return NULL;
	if (!pool->slabs || n > SPC_SLAB_MAX_CLASS)
		return spc_arena_alloc(&pool->arena, n);
	p = spc_slabs_alloc(pool->slabs, n);
	if (!p)
		*stranded = !slabs_within(pool);
	return p;
}

int spc_pool_slabs_bound(const struct spc_pool *pool)
{
	return pool->slabs && !slabs_within(pool);
}

uint64_t spc_pool_slab_need(size_t n)
{
	return n > 0 && n <= SPC_SLAB_MAX_CLASS ? spc_slab_bytes(spc_slab_class_of(n)) : 0;
}

void spc_pool_free(struct spc_pool *pool, void *p, size_t n)
{
	if (pool->slabs && n <= SPC_SLAB_MAX_CLASS) {
		spc_slabs_free(pool->slabs, p, n);
		return;
	}
	spc_arena_free(&pool->arena, p, n);
}

void spc_pool_free_many(struct spc_pool *pool, void *const *p, const size_t *n, size_t count)
{
	size_t i = 0;

	while (i < count) {
		size_t j = i;

		if (!pool->slabs || n[i] > SPC_SLAB_MAX_CLASS) {
			spc_arena_free(&pool->arena, p[i], n[i]);
			i++;
			continue;
		}
		while (j < count && n[j] <= SPC_SLAB_MAX_CLASS)
			j++;
		spc_slabs_free_many(pool->slabs, p + i, n + i, j - i);
		i = j;
	}
}

void *spc_pool_alloc_aligned(struct spc_pool *pool, size_t n, size_t align)
{
	if (n == 0 || spc_fault(pool->env, SPC_FAULT_POOL_ALLOC, n))
		return NULL;
	return spc_arena_alloc_aligned(&pool->arena, n, align);
}

void spc_pool_free_aligned(struct spc_pool *pool, void *p, size_t n, size_t align)
{
	spc_arena_free_aligned(&pool->arena, p, n, align);
	/* An index table left behind by a resize: its pages go back now.
	 * jemalloc would purge them once their decay time passed and the
	 * arena ticked, but the arena of a pool whose entries come from the
	 * slabs sees a call per 2 MiB chunk: the tables freed at each
	 * doubling stayed resident (2.5 MB at 200,000 entries, 13 B per
	 * entry). Once per resize: no churn to spare. */
	if (n >= SPC_POOL_PURGE_FREED)
		spc_arena_trim(&pool->arena);
}

int spc_pool_region(const struct spc_pool *pool, const void **base, size_t *size)
{
	*base = pool->arena.kind == SPC_ARENA_HOOKED ? pool->arena.base : NULL;
	*size = pool->arena.kind == SPC_ARENA_HOOKED ? pool->arena.size : 0;
	return pool->arena.kind == SPC_ARENA_HOOKED;
}
