/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_traces.c: every trace of tests/data/traces is read once and its
 * request and distinct-key counts are compared with the table of the
 * traces' README (tests/data/traces/README.md). The ARC OLTP trace also checks
 * the README's replay figure: exact LRU with 1000 entries hits 300,122 of
 * 914,145 requests (ARC paper, Table IV), and the bench's opt (Belady's
 * MIN) against the paper's MIN column: 490,093 hits (53.61 %) at 1000,
 * 667,490 (73.02 %) at 10000.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct expect {
	const char *file;
	const char *format;
	size_t requests, distinct;
};

static const struct expect traces[] = {
	{"lirs_2_pools.trace.gz", "lirs", 100000, 9939},
	{"lirs_backf.trace.gz", "lirs", 9000, 751},
	{"lirs_cpp.trace.gz", "lirs", 9047, 1223},
	{"lirs_cs.trace.gz", "lirs", 6781, 1409},
	{"lirs_gli.trace.gz", "lirs", 6015, 2529},
	{"lirs_loop.trace.gz", "lirs", 505500, 1011},
	{"lirs_multi1.trace.gz", "lirs", 15858, 2606},
	{"lirs_multi2.trace.gz", "lirs", 26311, 5684},
	{"lirs_multi3.trace.gz", "lirs", 30241, 7454},
	{"lirs_ps.trace.gz", "lirs", 10448, 3083},
	{"lirs_scan.trace.gz", "lirs", 50025, 2001},
	{"lirs_sprite.trace.gz", "lirs", 133996, 7075},
	{"lirs_zigzag.trace.gz", "lirs", 52001, 2001},
	{"arc_OLTP.lis.zst", "arc", 914145, 186880},
	{"cache2k_orm-busy.trace.xz", "cache2k", 5000000, 76349},
	{"cache2k_orm-night.trace.xz", "cache2k", 5000000, 86466},
	{"cache2k_web07.trace.xz", "cache2k", 76118, 20484},
	{"cache2k_web12.trace.xz", "cache2k", 95607, 13756},
	{"cloudphysics_w106.trace.xz", "cloudphysics", 5292456, 275171},
	{"corda_vaultservice.trace.gz", "corda", 135702, 90468},
	{"scarab-recs.trace.xz", "scarab", 1245184, 258368},
	{"address_gcc.trace.gz", "address", 515683, 35070},
	{"adaptsize_request.trace.xz", "adaptsize", 66987, 36815},
};
#define N_TRACES ((int)(sizeof(traces) / sizeof(traces[0])))

START_TEST(test_trace_counts)
{
	const struct expect *e = &traces[_i];
	char path[512], err[256] = "";
	snprintf(path, sizeof(path), "%s/traces/%s", SPC_TEST_DATA_DIR, e->file);
	enum bench_trace_format fmt, guessed;
	ck_assert_int_eq(bench_trace_format_parse(e->format, &fmt), 0);
	ck_assert_int_eq(bench_trace_format_guess(path, &guessed), 0);
	ck_assert_int_eq(guessed, fmt);
	struct bench_trace t;
	int rc = bench_trace_load(path, fmt, &t, err, sizeof(err));
	ck_assert_msg(rc == 0, "%s: %s", e->file, err);
	ck_assert_msg(t.n == e->requests, "%s: %zu requests, expected %zu", e->file, t.n,
	              e->requests);
	size_t d = bench_trace_count_distinct(&t);
	ck_assert_msg(d == e->distinct, "%s: %zu distinct keys, expected %zu", e->file, d,
	              e->distinct);
	if (strcmp(e->format, "lirs") == 0) /* README: 6 k - 506 k requests, 0.7 k - 10 k keys */
		ck_assert(t.n >= 6000 && t.n <= 506000 && d >= 700 && d <= 10000);
	if (strcmp(e->format, "cache2k") == 0) /* README: 76 k - 5 M, 14 k - 86 k (rounded) */
		ck_assert(t.n >= 76000 && t.n <= 5000000 && d >= 13500 && d <= 86500);
	if (strcmp(e->format, "adaptsize") == 0)
		ck_assert(t.total_bytes > t.n); /* sizes were read */
	if (strcmp(e->format, "arc") == 0) {
		/* the README's check: exact LRU, 1000 entries, cold start */
		uint64_t hits = 0;
		ck_assert_int_eq(bench_replay_one(&t, "lru-exact", 1000, 0, &hits, err, sizeof(err)), 0);
		ck_assert_msg(hits == 300122, "ARC OLTP LRU(1000): %llu hits, expected 300122",
		              (unsigned long long)hits);
		/* Belady's MIN, demand paging: the paper's MIN column, 53.61 % at
		 * 1000 entries and 73.02 % at 10000 */
		ck_assert_int_eq(bench_replay_one(&t, "opt", 1000, 0, &hits, err, sizeof(err)), 0);
		ck_assert_msg(hits == 490093, "ARC OLTP MIN(1000): %llu hits, expected 490093",
		              (unsigned long long)hits);
		ck_assert_int_eq(bench_replay_one(&t, "opt", 10000, 0, &hits, err, sizeof(err)), 0);
		ck_assert_msg(hits == 667490, "ARC OLTP MIN(10000): %llu hits, expected 667490",
		              (unsigned long long)hits);
	}
	bench_trace_free(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bench-traces");
	TCase *tc = tcase_create("traces");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_trace_counts, 0, N_TRACES);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
