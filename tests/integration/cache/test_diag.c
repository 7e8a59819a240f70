/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/integration/cache/test_diag.c: forced eviction, the limits and
 * the debug report through the public API only, and the regressions of
 * the seed system (a forced eviction that evicted nothing, a view write
 * seen from the index pool).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_run.h"
#include "splitcache.h"

#define NKEYS 3000
#define LONG_MS 10000u

struct log {
	unsigned warnings;
	char last[512];
};

static void capture(void *arg, enum spc_log_level level, const char *message)
{
	struct log *l = arg;

	/* Sanitizer builds give the pools plain malloc, and say so for each
	 * pool: a property of the build, not of the budget under test. */
	if (level == SPC_LOG_WARN && !strstr(message, "bounded by its charge only")) {
		l->warnings++;
		snprintf(l->last, sizeof l->last, "%s", message);
	}
}

static struct spc_cache *open_cache(uint64_t budget, int sync, struct log *l)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = budget;
	cfg.synchronous_maintenance = sync;
	if (l) {
		cfg.log = capture;
		cfg.log_arg = l;
	}
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	return c;
}

static struct spc_stats stats_of(struct spc_cache *c, int pool)
{
	struct spc_stats st;

	ck_assert_int_eq(spc_stats(c, pool, &st), SPC_OK);
	return st;
}

/* Stats once the reclamation backlog is gone (bounded wait). */
static struct spc_stats settled(struct spc_cache *c, int pool)
{
	struct timespec nap = { 0, 1000000 };
	struct spc_stats st = stats_of(c, pool);

	for (int i = 0; i < 5000 && st.reclaim_backlog_bytes; i++) {
		nanosleep(&nap, NULL);
		st = stats_of(c, pool);
	}
	ck_assert_uint_eq(st.reclaim_backlog_bytes, 0);
	return st;
}

/* Regression: the seed system's evict_to_percent was a no-op. Items and
 * bytes must drop, and evictions grow by exactly what was removed. */
START_TEST(forced_eviction_really_evicts)
{
	struct spc_cache *c = open_cache(16u << 20, _i, NULL);
	struct spc_stats a, b;
	char k[32], v[64];
	uint64_t ev = 0;

	memset(v, 'x', sizeof v);
	for (int i = 0; i < NKEYS; i++) {
		snprintf(k, sizeof k, "really/%05d", i);
		ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, k, strlen(k), v, sizeof v), SPC_OK);
	}
	a = settled(c, SPC_POOL_VIEW);
	ck_assert_uint_eq(a.items, NKEYS);
	ck_assert_int_eq(spc_evict_to_percent(c, SPC_POOL_VIEW, 50, LONG_MS, &ev), SPC_OK);
	b = settled(c, SPC_POOL_VIEW);
	ck_assert_uint_lt(b.items, a.items);
	/* of the entries' bytes: the index's tables are no entry's */
	ck_assert_uint_le(b.charged_bytes - b.index_bytes, (a.charged_bytes - a.index_bytes) / 2);
	ck_assert_uint_gt(ev, 0);
	ck_assert_uint_eq(b.evictions - a.evictions, ev);
	ck_assert_uint_eq(a.items - b.items, ev);
	spc_close(c);
}
END_TEST

/* Regression: a write to the view pool is invisible in the index pool
 * and charged to the view pool only. */
START_TEST(view_write_does_not_leak_into_index)
{
	struct spc_cache *c = open_cache(16u << 20, _i, NULL);
	struct spc_stats ia, ib, va, vb;
	char buf[16];
	size_t n;

	ia = settled(c, SPC_POOL_INDEX);
	va = settled(c, SPC_POOL_VIEW);
	ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, "shared-key", 10, "view-value", 10), SPC_OK);
	ck_assert_int_eq(spc_get(c, SPC_POOL_INDEX, "shared-key", 10, buf, sizeof buf, &n),
	                 SPC_ENOTFOUND);
	ck_assert_int_eq(spc_get(c, SPC_POOL_VIEW, "shared-key", 10, buf, sizeof buf, &n), SPC_OK);
	ck_assert_int_eq(memcmp(buf, "view-value", 10), 0);
	ib = settled(c, SPC_POOL_INDEX);
	vb = settled(c, SPC_POOL_VIEW);
	ck_assert_uint_eq(ib.items, ia.items);
	ck_assert_uint_eq(ib.charged_bytes, ia.charged_bytes);
	ck_assert_uint_eq(ib.inserts, ia.inserts);
	ck_assert_uint_eq(vb.items, va.items + 1);
	ck_assert_uint_gt(vb.charged_bytes, va.charged_bytes);
	ck_assert_uint_eq(vb.inserts, va.inserts + 1);
	/* the same key in the index pool is another entry */
	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, "shared-key", 10, "index", 5), SPC_OK);
	ck_assert_int_eq(spc_get(c, SPC_POOL_VIEW, "shared-key", 10, buf, sizeof buf, &n), SPC_OK);
	ck_assert_uint_eq(n, 10);
	ck_assert_int_eq(spc_get(c, SPC_POOL_INDEX, "shared-key", 10, buf, sizeof buf, &n), SPC_OK);
	ck_assert_uint_eq(n, 5);
	spc_close(c);
}
END_TEST

/* The limits: the budget in force, the one recommended minimum, and a
 * warning through the log sink at open when below it. */
START_TEST(limits_and_below_minimum_warning)
{
	struct log l = { 0 };
	struct spc_cache *c = open_cache(32u << 20, 0, &l);
	struct spc_mem_report rep;

	ck_assert_uint_eq(spc_recommended_minimum(), 64u << 20);
	ck_assert_int_eq(spc_memory_report(c, &rep), SPC_OK);
	ck_assert_uint_eq(spc_recommended_minimum(), rep.recommended_min_bytes);
	ck_assert_uint_eq(spc_actual_memory_limit(c), rep.budget_bytes);
	ck_assert_uint_le(spc_actual_memory_limit(c), 32u << 20);
	ck_assert_int_ne(spc_below_recommended_minimum(c), 0);
	ck_assert_int_ne(rep.below_recommended_minimum, 0);
	ck_assert_uint_ge(l.warnings, 1);
	ck_assert_ptr_nonnull(strstr(l.last, "below the recommended minimum"));
	spc_close(c);

	memset(&l, 0, sizeof l);
	c = open_cache(spc_recommended_minimum(), 0, &l);
	ck_assert_uint_eq(spc_actual_memory_limit(c), spc_recommended_minimum());
	ck_assert_int_eq(spc_below_recommended_minimum(c), 0);
	ck_assert_uint_eq(l.warnings, 0);
	spc_close(c);
	ck_assert_uint_eq(spc_actual_memory_limit(NULL), 0);
	ck_assert_int_eq(spc_below_recommended_minimum(NULL), 0);
}
END_TEST

/* Debug mode end to end: the report reflects the lookups, fits a buffer
 * sized from *needed, and is refused when debug is off. */
START_TEST(debug_report_round_trip)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;
	char k[32], small[8], *buf;
	size_t need = 0, n;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 16u << 20;
	cfg.debug = 1;
	cfg.debug_min_keys = 4;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	for (int i = 0; i < 100; i++) {
		snprintf(k, sizeof k, "height/000000000/%03d", i);
		ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, k, strlen(k), "h", 1), SPC_OK);
		ck_assert_int_eq(spc_get(c, SPC_POOL_VIEW, k, strlen(k), small, sizeof small, &n),
		                 SPC_OK);
	}
	ck_assert_int_eq(spc_debug_report_text(c, -1, small, sizeof small, &need), SPC_ERANGE);
	buf = malloc(need + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(spc_debug_report_text(c, -1, buf, need + 1, &n), SPC_OK);
	ck_assert_uint_eq(n, need);
	ck_assert_ptr_nonnull(strstr(buf, "pool view: 100 accesses (100 hits, 0 misses)\n"));
	/* "heig" (4) and "height/0" (8) are covered by "height/000000000" (16) */
	ck_assert_ptr_nonnull(strstr(buf, "   100.00%        100          0        100   16  "
	                                  "height/000000000\n"));
	ck_assert_ptr_nonnull(strstr(buf, "left out: 0 below min keys, 2 covered"));
	free(buf);
	spc_close(c);
	c = open_cache(16u << 20, 0, NULL);
	ck_assert_int_eq(spc_debug_report_json(c, -1, small, sizeof small, &need), SPC_EINVAL);
	spc_close(c);
}
END_TEST

static Suite *diag_suite(void)
{
	Suite *s = suite_create("diag");
	TCase *tc = tcase_create("public");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, forced_eviction_really_evicts, 0, 2);
	tcase_add_loop_test(tc, view_write_does_not_leak_into_index, 0, 2);
	tcase_add_test(tc, limits_and_below_minimum_warning);
	tcase_add_test(tc, debug_report_round_trip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(diag_suite());
}
