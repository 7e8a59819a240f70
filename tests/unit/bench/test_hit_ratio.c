/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_hit_ratio.c: the default policy against exact LRU and S3-FIFO on
 * shipped traces, replayed through the real cache (bench_replay_one, as
 * `splitcache-bench replay` does), at 10 % of each trace's distinct keys:
 *  - looping traces (lirs zigzag, backf: exact LRU is optimal there and
 *    S3-FIFO drops to a fifth of it) and one-hit-wonder traces (lirs
 *    multi2, multi3: S3-FIFO a third above LRU): the default must be >=
 *    lru-exact - 0.005 and >= s3fifo - 0.01 on each (S3-FIFO as default
 *    failed the first on both loops, CLOCK would fail the second on both
 *    one-hit-wonder traces). lirs ps is not among them: there the default
 *    is 0.013 below S3-FIFO (docs/policies.md lists every cell);
 *  - the default replays the same hits twice (no clock, no randomness);
 *  - `opt` (Belady's MIN) is >= every policy, and right on a hand-worked
 *    sequence.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

static const char *const files[] = {
	"lirs_zigzag.trace.gz", "lirs_backf.trace.gz", /* loops */
	"lirs_multi2.trace.gz", "lirs_multi3.trace.gz", /* one-hit wonders */
};

static double ratio(const struct bench_trace *t, const char *policy, uint64_t size,
                    uint64_t *hits_out)
{
	char err[256] = "";
	uint64_t hits = 0;

	ck_assert_msg(bench_replay_one(t, policy, size, 0, &hits, err, sizeof(err)) == 0, "%s: %s",
	              policy, err);
	if (hits_out)
		*hits_out = hits;
	return (double)hits / (double)t->n;
}

START_TEST(test_default_vs_lru_and_s3fifo)
{
	char path[512], err[256] = "";
	struct bench_trace t;
	enum bench_trace_format fmt;

	snprintf(path, sizeof(path), "%s/traces/%s", SPC_TEST_DATA_DIR, files[_i]);
	ck_assert_int_eq(bench_trace_format_guess(path, &fmt), 0);
	ck_assert_msg(bench_trace_load(path, fmt, &t, err, sizeof(err)) == 0, "%s", err);
	uint64_t size = (bench_trace_count_distinct(&t) + 5) / 10;
	uint64_t h1, h2;
	double lru = ratio(&t, "lru-exact", size, NULL);
	double s3 = ratio(&t, "s3fifo", size, NULL);
	double def = ratio(&t, "default", size, &h1);
	double opt = ratio(&t, "opt", size, NULL);
	double clock = ratio(&t, "clock", size, NULL);

	printf("%s, %llu entries: opt %.4f lru-exact %.4f default (%s) %.4f s3fifo %.4f "
	       "clock %.4f\n",
	       files[_i], (unsigned long long)size, opt, lru, bench_splitcache_policy_name(0), def,
	       s3, clock);
	fflush(stdout);
	ck_assert_msg(def >= lru - 0.005, "%s: default %.4f below lru-exact %.4f", files[_i], def,
	              lru);
	ck_assert_msg(def >= s3 - 0.01, "%s: default %.4f below s3fifo %.4f", files[_i], def, s3);
	ratio(&t, "default", size, &h2);
	ck_assert_uint_eq(h1, h2);
	ck_assert(opt >= lru && opt >= s3 && opt >= def && opt >= clock);
	bench_trace_free(&t);
}
END_TEST

START_TEST(test_default_is_steered)
{
	int pol = -1;

	ck_assert_str_eq(bench_splitcache_policy_name(0), "steered");
	ck_assert_int_eq(bench_splitcache_policy("default", &pol), 0);
	ck_assert_int_eq(pol, 0);
	ck_assert_int_eq(bench_splitcache_policy("s3fifo", &pol), 0);
	ck_assert_str_eq(bench_splitcache_policy_name(pol), "s3fifo");
	ck_assert_int_eq(bench_splitcache_policy("clock", &pol), 0);
	ck_assert_str_eq(bench_splitcache_policy_name(pol), "clock");
	ck_assert_int_eq(bench_splitcache_policy("lru", &pol), -1);
}
END_TEST

/* 1 2 3 1 2 3 with 2 entries. MIN: 1, 2 miss; 3 misses and evicts 2 (next
 * use t4, farther than 1's t3); 1 hits; 2 misses and evicts 1 (never
 * again; 3 comes at t5); 3 hits: 2 hits. LRU hits none. */
START_TEST(test_opt_by_hand)
{
	struct bench_trace_req reqs[6];
	static const uint64_t keys[6] = {1, 2, 3, 1, 2, 3};
	struct bench_trace t = {.reqs = reqs, .n = 6};
	uint64_t hits = 99;
	char err[256];

	for (int i = 0; i < 6; i++) {
		reqs[i].key = keys[i];
		reqs[i].size = 1;
	}
	ck_assert_int_eq(bench_replay_one(&t, "opt", 2, 0, &hits, err, sizeof(err)), 0);
	ck_assert_uint_eq(hits, 2);
	ck_assert_int_eq(bench_replay_one(&t, "lru-exact", 2, 0, &hits, err, sizeof(err)), 0);
	ck_assert_uint_eq(hits, 0);
	ck_assert_int_eq(bench_replay_one(&t, "opt", 3, 0, &hits, err, sizeof(err)), 0);
	ck_assert_uint_eq(hits, 3);
	ck_assert_int_eq(bench_replay_one(&t, "opt", 2, 1, &hits, err, sizeof(err)), -1);
	ck_assert_int_eq(bench_replay_one(&t, "belady", 2, 0, &hits, err, sizeof(err)), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bench-hit-ratio");
	TCase *tc = tcase_create("hit-ratio");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_default_vs_lru_and_s3fifo, 0,
	                    (int)(sizeof(files) / sizeof(files[0])));
	tcase_add_test(tc, test_default_is_steered);
	tcase_add_test(tc, test_opt_by_hand);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
