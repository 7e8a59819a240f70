/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/core/test_evict.c: forced eviction (core/evict.c guarantees
 * 1-5), evict to target with hysteresis, the mode in force, and eviction
 * counting when a full pool makes room for one entry at a time.
 *
 * _i of the loop tests: 0 threaded maintainers, 1 synchronous maintenance.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_run.h"
#include "core/cache.h"

#define NKEYS 2000
#define VLEN 100
#define LONG_MS 10000u

static struct spc_cache *open_cache(int sync, uint64_t max_index_entries)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 16u << 20;
	cfg.synchronous_maintenance = sync;
	cfg.max_entries[SPC_POOL_INDEX] = max_index_entries;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	return c;
}

static void key_of(int i, char *k, size_t cap)
{
	snprintf(k, cap, "evict-key-%06d", i);
}

static void fill(struct spc_cache *c, enum spc_pool_id pool, int n)
{
	char k[32], v[VLEN];

	memset(v, 'v', sizeof v);
	for (int i = 0; i < n; i++) {
		key_of(i, k, sizeof k);
		ck_assert_int_eq(spc_set(c, pool, k, strlen(k), v, sizeof v), SPC_OK);
	}
	ck_assert_int_eq(spc_cache_quiesce(c, LONG_MS), SPC_OK);
}

/* The pool's statistics (pool -1: both pools'), charged_bytes without
 * the index's tables (index_bytes: the compact build's, 0 for the lfht):
 * no eviction can take those, the percentages are of the entries' bytes. */
static struct spc_stats stats_of(struct spc_cache *c, int pool)
{
	struct spc_stats st;

	ck_assert_int_eq(spc_stats(c, pool, &st), SPC_OK);
	st.charged_bytes -= st.index_bytes;
	return st;
}

/* Keys of the universe still present. */
static uint64_t present(struct spc_cache *c, enum spc_pool_id pool)
{
	char k[32], buf[VLEN];
	uint64_t n = 0;
	size_t len;

	for (int i = 0; i < NKEYS; i++) {
		key_of(i, k, sizeof k);
		n += spc_get(c, pool, k, strlen(k), buf, sizeof buf, &len) == SPC_OK;
	}
	return n;
}

/* Evicts to pct and checks guarantee 5: *evicted = evictions growth =
 * items drop; bytes at most pct % of the start (no slack: the maintainer
 * stops only once live bytes are within the goal). */
static void check_percent(struct spc_cache *c, unsigned pct)
{
	struct spc_stats a, b;
	uint64_t ev = UINT64_MAX;

	a = stats_of(c, SPC_POOL_INDEX);
	ck_assert_uint_eq(a.items, NKEYS);
	ck_assert_int_eq(spc_evict_to_percent(c, SPC_POOL_INDEX, pct, LONG_MS, &ev), SPC_OK);
	ck_assert_int_eq(spc_cache_quiesce(c, LONG_MS), SPC_OK);
	b = stats_of(c, SPC_POOL_INDEX);
	ck_assert_uint_le(b.charged_bytes, a.charged_bytes / 100 * pct +
	                                       a.charged_bytes % 100 * pct / 100);
	ck_assert_uint_eq(b.evictions - a.evictions, ev);
	ck_assert_uint_eq(a.items - b.items, ev);
	ck_assert_uint_eq(present(c, SPC_POOL_INDEX), b.items);
	if (pct < 100)
		ck_assert_uint_gt(ev, 0);
	else
		ck_assert_uint_eq(ev, 0);
	/* the other pool is untouched */
	ck_assert_uint_eq(stats_of(c, SPC_POOL_VIEW).evictions, 0);
	ck_assert_ptr_null(c->ps[SPC_POOL_INDEX].forced_reqs);
	ck_assert_uint_eq(c->ps[SPC_POOL_INDEX].forced_goal, 0);
}

/* _i: pct index * 2 + sync. 50 halves, 0 empties, 100 does nothing. */
START_TEST(percent_evicts_exactly)
{
	static const unsigned pcts[] = { 50, 0, 100 };
	unsigned pct = pcts[_i / 2];
	struct spc_cache *c = open_cache(_i & 1, 0);
	struct spc_stats st;

	fill(c, SPC_POOL_INDEX, NKEYS);
	check_percent(c, pct);
	st = stats_of(c, SPC_POOL_INDEX);
	if (pct == 0) {
		ck_assert_uint_eq(st.items, 0);
		ck_assert_uint_eq(st.charged_bytes, 0);
	} else if (pct == 100) {
		ck_assert_uint_eq(st.items, NKEYS);
	}
	spc_close(c);
}
END_TEST

START_TEST(arguments)
{
	struct spc_cache *c = open_cache(0, 0);
	uint64_t ev = 7;

	ck_assert_int_eq(spc_evict_to_percent(c, SPC_POOL_INDEX, 101, 10, &ev), SPC_EINVAL);
	ck_assert_uint_eq(ev, 0);
	ck_assert_int_eq(spc_evict_to_percent(c, (enum spc_pool_id)2, 50, 10, NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_evict_to_percent(NULL, SPC_POOL_INDEX, 50, 10, NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_evict_to_target(NULL, SPC_POOL_INDEX, 10, NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_evict_to_target(c, (enum spc_pool_id)-1, 10, NULL), SPC_EINVAL);
	/* an empty pool: nothing to do, at once */
	ck_assert_int_eq(spc_evict_to_percent(c, SPC_POOL_VIEW, 0, 0, &ev), SPC_OK);
	ck_assert_uint_eq(ev, 0);
	spc_close(c);
}
END_TEST

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The maintainer is held up (the test holds its batch lock, which its
 * first eviction needs): the call times out after its bound, withdraws its
 * request, and the cache stays consistent once the maintainer resumes. */
START_TEST(timeout_withdraws_the_request)
{
	struct spc_cache *c = open_cache(0, 0);
	struct spc_pstate *ps = &c->ps[SPC_POOL_INDEX];
	struct spc_stats a, b;
	struct timespec t0;
	uint64_t ev = UINT64_MAX;

	fill(c, SPC_POOL_INDEX, NKEYS);
	a = stats_of(c, SPC_POOL_INDEX);
	spc_lock(&ps->batch_mu);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(spc_evict_to_percent(c, SPC_POOL_INDEX, 10, 50, &ev), SPC_ETIMEDOUT);
	ck_assert(ms_since(&t0) >= 49.0);
	ck_assert(ms_since(&t0) < 5000.0);
	ck_assert_uint_eq(ev, 0); /* no step was settled */
	ck_assert_ptr_null(ps->forced_reqs);
	ck_assert_uint_eq(__atomic_load_n(&ps->forced_goal, __ATOMIC_RELAXED), 0);
	spc_unlock(&ps->batch_mu);
	ck_assert_int_eq(spc_cache_quiesce(c, LONG_MS), SPC_OK);
	b = stats_of(c, SPC_POOL_INDEX);
	/* the maintainer stopped at its next test: far above the 10 % goal */
	ck_assert_uint_gt(b.items, NKEYS / 2);
	ck_assert_uint_eq(a.items - b.items, b.evictions - a.evictions);
	ck_assert_uint_eq(present(c, SPC_POOL_INDEX), b.items);
	/* and the next request works */
	ck_assert_int_eq(spc_evict_to_percent(c, SPC_POOL_INDEX, 0, LONG_MS, &ev), SPC_OK);
	ck_assert_int_eq(spc_cache_quiesce(c, LONG_MS), SPC_OK);
	ck_assert_uint_eq(stats_of(c, SPC_POOL_INDEX).items, 0);
	spc_close(c);
}
END_TEST

struct load {
	struct spc_cache *c;
	int stop; /* atomic */
	int writer;
	unsigned seed;
};

static void *load_main(void *arg)
{
	struct load *l = arg;
	char k[32], v[VLEN], buf[VLEN];
	size_t len;

	memset(v, 'w', sizeof v);
	while (!__atomic_load_n(&l->stop, __ATOMIC_RELAXED)) {
		int i = (int)(rand_r(&l->seed) % NKEYS);

		key_of(i, k, sizeof k);
		if (l->writer) {
			int r = spc_set(l->c, SPC_POOL_INDEX, k, strlen(k), v, sizeof v);

			ck_assert(r == SPC_OK || (r == SPC_EFULL || r == SPC_EBUSY));
		} else {
			(void)spc_get(l->c, SPC_POOL_INDEX, k, strlen(k), buf, sizeof buf, &len);
		}
	}
	return NULL;
}

/* A reader and a writer run during forced evictions (bounded: a few
 * calls of at most 2 s); afterwards the accounting is exact. */
START_TEST(under_readers_and_writers)
{
	struct spc_cache *c = open_cache(0, 0);
	struct load l[2] = { { c, 0, 0, 1 }, { c, 0, 1, 2 } };
	pthread_t t[2];
	struct spc_stats st;
	uint64_t ev;

	fill(c, SPC_POOL_INDEX, NKEYS);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, load_main, &l[i]), 0);
	for (unsigned round = 0; round < 4; round++) {
		int r = spc_evict_to_percent(c, SPC_POOL_INDEX, round * 25, 2000, &ev);

		ck_assert(r == SPC_OK || r == SPC_ETIMEDOUT);
	}
	for (int i = 0; i < 2; i++) {
		__atomic_store_n(&l[i].stop, 1, __ATOMIC_RELAXED);
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	}
	ck_assert_int_eq(spc_cache_quiesce(c, LONG_MS), SPC_OK);
	st = stats_of(c, SPC_POOL_INDEX);
	ck_assert_uint_eq(present(c, SPC_POOL_INDEX), st.items);
	ck_assert_uint_eq(st.reclaim_backlog_bytes, 0);
	ck_assert_ptr_null(c->ps[SPC_POOL_INDEX].forced_reqs);
	spc_close(c);
}
END_TEST

struct caller {
	struct spc_cache *c;
	unsigned pct;
	int r;
	uint64_t ev;
};

static void *caller_main(void *arg)
{
	struct caller *k = arg;

	k->r = spc_evict_to_percent(k->c, SPC_POOL_INDEX, k->pct, LONG_MS, &k->ev);
	return NULL;
}

/* Two callers at once, each with its own goal: both complete, the pool
 * ends within the lower goal, and every eviction was served to someone. */
START_TEST(concurrent_callers)
{
	struct spc_cache *c = open_cache(_i, 0);
	struct caller k[2] = { { c, 60, -1, 0 }, { c, 30, -1, 0 } };
	struct spc_stats a, b;
	pthread_t t[2];

	fill(c, SPC_POOL_INDEX, NKEYS);
	a = stats_of(c, SPC_POOL_INDEX);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, caller_main, &k[i]), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	ck_assert_int_eq(k[0].r, SPC_OK);
	ck_assert_int_eq(k[1].r, SPC_OK);
	ck_assert_int_eq(spc_cache_quiesce(c, LONG_MS), SPC_OK);
	b = stats_of(c, SPC_POOL_INDEX);
	/* each call measured its goal against what the pool held when it
	 * came: the later one may have started from less */
	ck_assert_uint_le(b.charged_bytes, a.charged_bytes * 60 / 100);
	ck_assert_uint_eq(a.items - b.items, b.evictions - a.evictions);
	ck_assert_uint_le(k[0].ev, b.evictions - a.evictions);
	ck_assert_uint_le(k[1].ev, b.evictions - a.evictions);
	ck_assert_uint_eq(present(c, SPC_POOL_INDEX), b.items);
	ck_assert_ptr_null(c->ps[SPC_POOL_INDEX].forced_reqs);
	spc_close(c);
}
END_TEST

/* Hysteresis: nothing at or below 110 % of the target, down to 90 % of it
 * above. The charge is raised above the target by lowering the target
 * (as set_mode does) in synchronous mode, where nothing evicts between
 * the writes. */
START_TEST(evict_to_target_hysteresis)
{
	struct spc_cache *c = open_cache(1, 0);
	struct spc_pstate *ps = &c->ps[SPC_POOL_INDEX];
	uint64_t target0 = spc_pool_target(ps->pool), live, ev = 9;
	struct spc_stats a, b;

	fill(c, SPC_POOL_INDEX, NKEYS);
	live = spc_live_bytes(ps);
	ck_assert_uint_eq(live, stats_of(c, SPC_POOL_INDEX).charged_bytes);
	/* below the target: nothing */
	ck_assert_int_eq(spc_evict_to_target(c, SPC_POOL_INDEX, LONG_MS, &ev), SPC_OK);
	ck_assert_uint_eq(ev, 0);
	/* live = exactly 110 % of the target: still nothing */
	spc_pool_set_target(ps->pool, live / 110 * 100 + 100);
	a = stats_of(c, SPC_POOL_INDEX);
	ck_assert_uint_le(live, spc_pool_target(ps->pool) / 100 * 110);
	ck_assert_int_eq(spc_evict_to_target(c, SPC_POOL_INDEX, LONG_MS, &ev), SPC_OK);
	ck_assert_uint_eq(ev, 0);
	b = stats_of(c, SPC_POOL_INDEX);
	ck_assert_uint_eq(b.evictions, a.evictions);
	ck_assert_uint_eq(b.items, NKEYS);
	/* above 110 %: down to 90 % */
	spc_pool_set_target(ps->pool, live / 2);
	ck_assert_int_eq(spc_evict_to_target(c, SPC_POOL_INDEX, LONG_MS, &ev), SPC_OK);
	/* synchronous steps free their batches before returning: no quiesce
	 * (its steps would evict on, for the watermarks of the low target) */
	b = stats_of(c, SPC_POOL_INDEX);
	ck_assert_uint_eq(b.reclaim_backlog_bytes, 0);
	ck_assert_uint_le(b.charged_bytes, live / 2 / 100 * 90);
	ck_assert_uint_gt(ev, 0);
	ck_assert_uint_eq(b.evictions - a.evictions, ev);
	ck_assert_uint_eq(a.items - b.items, ev);
	spc_pool_set_target(ps->pool, target0);
	spc_close(c);
}
END_TEST

static void check_mode(struct spc_cache *c, enum spc_mode mode, double share)
{
	struct spc_mem_report rep;
	uint64_t want[SPC_POOL_COUNT];

	ck_assert_int_eq(spc_memory_report(c, &rep), SPC_OK);
	ck_assert_int_eq(rep.mode, mode);
	if (mode == SPC_MODE_SPLIT)
		ck_assert(rep.view_share == share);
	ck_assert_int_eq(spc_mem_mode_targets(c->mem, mode, share, want), SPC_OK);
	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		ck_assert_uint_eq(rep.pools[p].target_bytes, want[p]);
		ck_assert_uint_eq(stats_of(c, p).target_bytes, want[p]);
	}
}

/* Regression: the mode asked for (at open, then with spc_set_mode) is the
 * mode the report and the targets show, never silently replaced. */
START_TEST(mode_requested_is_mode_used)
{
	static const enum spc_mode modes[] = { SPC_MODE_INDEXER, SPC_MODE_VIEW, SPC_MODE_SPLIT };
	static const double share = 0.25;

	for (unsigned i = 0; i < 3; i++) {
		struct spc_config cfg;
		struct spc_cache *c = NULL;

		spc_config_init(&cfg);
		cfg.use_env = 0;
		cfg.budget_bytes = 16u << 20;
		cfg.mode = modes[i];
		cfg.view_share = share;
		ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
		check_mode(c, modes[i], share);
		for (unsigned j = 0; j < 3; j++) {
			ck_assert_int_eq(spc_set_mode(c, modes[(i + j + 1) % 3], 0.75), SPC_OK);
			check_mode(c, modes[(i + j + 1) % 3], 0.75);
		}
		spc_close(c);
	}
}
END_TEST

/* Regression: a pool full by its entry bound makes room for each new
 * entry by evicting exactly one, and counts exactly that. */
START_TEST(evictions_counted_when_one_makes_room_for_one)
{
	enum { FULL = 100, MORE = 50 };
	struct spc_cache *c = open_cache(1, FULL);
	char k[32], v[VLEN];

	memset(v, 'f', sizeof v);
	for (int i = 0; i < FULL; i++) {
		key_of(i, k, sizeof k);
		ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, k, strlen(k), v, sizeof v), SPC_OK);
	}
	ck_assert_uint_eq(stats_of(c, SPC_POOL_INDEX).evictions, 0);
	for (int i = 0; i < MORE; i++) {
		struct spc_stats st;

		key_of(FULL + i, k, sizeof k);
		ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, k, strlen(k), v, sizeof v), SPC_OK);
		st = stats_of(c, SPC_POOL_INDEX);
		ck_assert_uint_eq(st.evictions, (uint64_t)i + 1);
		ck_assert_uint_eq(st.items, FULL);
		ck_assert_uint_eq(st.inserts, (uint64_t)FULL + i + 1);
	}
	ck_assert_int_eq(spc_cache_quiesce(c, LONG_MS), SPC_OK);
	ck_assert_uint_eq(present(c, SPC_POOL_INDEX), FULL);
	ck_assert_uint_eq(stats_of(c, -1).evictions, MORE);
	spc_close(c);
}
END_TEST

static Suite *evict_suite(void)
{
	Suite *s = suite_create("evict");
	TCase *tc = tcase_create("forced");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, percent_evicts_exactly, 0, 6);
	tcase_add_test(tc, arguments);
	tcase_add_test(tc, timeout_withdraws_the_request);
	tcase_add_test(tc, under_readers_and_writers);
	tcase_add_loop_test(tc, concurrent_callers, 0, 2);
	tcase_add_test(tc, evict_to_target_hysteresis);
	tcase_add_test(tc, mode_requested_is_mode_used);
	tcase_add_test(tc, evictions_counted_when_one_makes_room_for_one);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(evict_suite());
}
