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
 *    is 0.011 below S3-FIFO (docs/policies.md lists every cell);
 *  - the default replays the same hits twice (no clock, no randomness);
 *  - `opt` (Belady's MIN) is >= every policy, and right on a hand-worked
 *    sequence;
 *  - `arc`, `2q` and `lru2` (bench/classic.c) right on hand-worked
 *    sequences where each differs from LRU;
 *  - arc_OLTP at the five sizes of the ARC paper's Table IV (Megiddo and
 *    Modha, FAST 2003): `arc` within 0.03 points of the paper's ARC
 *    column (equal at four sizes, 0.02 above at 1,000), the default at
 *    or above ARC and 2Q at every size and at or above LRFU, the paper's
 *    best policy there, at 1,000 (40.52 %) and 10,000 (63.54 %) entries
 *    (docs/policies.md).
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

static void replay_keys(const uint64_t *keys, int n, const char *policy, uint64_t size,
                        uint64_t *hits)
{
	struct bench_trace_req reqs[32];
	struct bench_trace t = {.reqs = reqs, .n = (size_t)n};
	char err[256];

	ck_assert_int_le(n, 32);
	for (int i = 0; i < n; i++) {
		reqs[i].key = keys[i];
		reqs[i].size = 1;
	}
	ck_assert_msg(bench_replay_one(&t, policy, size, 0, hits, err, sizeof(err)) == 0, "%s: %s",
	              policy, err);
}

/* Each sequence is one where the policy keeps what LRU lets go.
 * LRU-2, 2 entries, 1 1 2 3 1: 3 evicts 2 (requested once; 1 twice), so
 *   the last 1 hits: 2 hits; LRU evicts 1 there: 1 hit.
 * ARC, 2 entries, same sequence: 1 moved to T2 on its hit; 3 sends T1's 2
 *   to B1 (|T1| = 1 > p = 0); the last 1 hits: 2 hits.
 * 2Q, 4 entries (Kin 1, Kout 2), 1 2 3 4 5 1 6 7 8 9 1: 5 pushes 1 out of
 *   A1in into A1out; 1 comes back through A1out into Am, where the scan
 *   6..9 (which only cycles A1in) leaves it: the last 1 hits; LRU: 0.
 *   And 1 1 2 3 4 5 6 7 1: the hit in A1in does not move 1 to Am, so 1
 *   leaves through A1in and A1out before it comes back: 1 hit only. */
START_TEST(test_classic_by_hand)
{
	static const uint64_t a[] = {1, 1, 2, 3, 1};
	static const uint64_t b[] = {1, 2, 3, 4, 5, 1, 6, 7, 8, 9, 1};
	static const uint64_t c[] = {1, 1, 2, 3, 4, 5, 6, 7, 1};
	uint64_t hits = 99;
	char err[256];
	struct bench_trace t = {.reqs = NULL, .n = 0};

	replay_keys(a, 5, "lru-exact", 2, &hits);
	ck_assert_uint_eq(hits, 1);
	replay_keys(a, 5, "lru2", 2, &hits);
	ck_assert_uint_eq(hits, 2);
	replay_keys(a, 5, "arc", 2, &hits);
	ck_assert_uint_eq(hits, 2);
	replay_keys(b, 11, "lru-exact", 4, &hits);
	ck_assert_uint_eq(hits, 0);
	replay_keys(b, 11, "2q", 4, &hits);
	ck_assert_uint_eq(hits, 1);
	replay_keys(c, 9, "2q", 4, &hits);
	ck_assert_uint_eq(hits, 1);
	/* sizes in bytes are refused, as for opt */
	ck_assert_int_eq(bench_replay_one(&t, "arc", 2, 1, &hits, err, sizeof(err)), -1);
	ck_assert_int_eq(bench_replay_one(&t, "2q", 2, 1, &hits, err, sizeof(err)), -1);
	ck_assert_int_eq(bench_replay_one(&t, "lru2", 2, 1, &hits, err, sizeof(err)), -1);
}
END_TEST

/* The ARC paper's Table IV, arc_OLTP, hit ratios in %: its ARC column and
 * its LRFU figures at 1,000 and 10,000 entries. */
static const uint64_t oltp_sizes[5] = {1000, 2000, 5000, 10000, 15000};
static const double paper_arc[5] = {38.93, 46.08, 55.25, 61.87, 65.40};
/* What bench/classic.c gives there (hits of 914,145): a change to it shows. */
static const uint64_t arc_hits[5] = {356015, 421200, 505080, 565609, 597857};
static const uint64_t q2_hits[5] = {370413, 425181, 509434, 572115, 600772};
#define PAPER_LRFU_1000 40.52
#define PAPER_LRFU_10000 63.54

START_TEST(test_oltp_table_iv)
{
	char path[512], err[256] = "";
	struct bench_trace t;
	enum bench_trace_format fmt;

	snprintf(path, sizeof(path), "%s/traces/arc_OLTP.lis.zst", SPC_TEST_DATA_DIR);
	ck_assert_int_eq(bench_trace_format_guess(path, &fmt), 0);
	ck_assert_msg(bench_trace_load(path, fmt, &t, err, sizeof(err)) == 0, "%s", err);
	for (int i = 0; i < 5; i++) {
		uint64_t size = oltp_sizes[i], h1 = 0, h2 = 0, hq = 0;
		double arc = 100 * ratio(&t, "arc", size, &h1);
		double q2 = 100 * ratio(&t, "2q", size, &hq);
		double def = 100 * ratio(&t, "default", size, NULL);

		printf("arc_OLTP %llu entries: arc %.2f (paper %.2f) 2q %.2f default %.2f\n",
		       (unsigned long long)size, arc, paper_arc[i], q2, def);
		fflush(stdout);
		ratio(&t, "arc", size, &h2);
		ck_assert_uint_eq(h1, h2);
		ck_assert_uint_eq(h1, arc_hits[i]);
		ck_assert_uint_eq(hq, q2_hits[i]);
		ck_assert_msg(arc > paper_arc[i] - 0.03 && arc < paper_arc[i] + 0.03,
		              "arc %.2f, paper %.2f", arc, paper_arc[i]);
		ck_assert_msg(def >= paper_arc[i] && def >= arc && def >= q2,
		              "default %.2f below arc %.2f or 2q %.2f", def, arc, q2);
		if (size == 1000)
			ck_assert_msg(def >= PAPER_LRFU_1000, "default %.2f below LRFU", def);
		if (size == 10000)
			ck_assert_msg(def >= PAPER_LRFU_10000, "default %.2f below LRFU", def);
	}
	bench_trace_free(&t);
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
	tcase_add_test(tc, test_classic_by_hand);
	tcase_add_test(tc, test_oltp_table_iv);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
