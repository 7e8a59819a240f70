/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/policy/test_policy.c: the eviction rules of S3-FIFO and CLOCK
 * on small hand-made sequences. Every expected victim order below was
 * worked out by hand from the rules in the essays of core/policy_clock.c
 * and core/policy_s3fifo.c; the comments show the queues step by step.
 * Ids in an order: n = evicted item n, -1 - n = dead item n handed back.
 */
#include <check.h>
#include <stdlib.h>

#include "check_run.h"
#include "fake_item.h"

static struct spc_policy_state *mk(enum spc_policy kind, size_t expected)
{
	struct spc_policy_state *p = NULL;

	ck_assert_int_eq(spc_policy_create(kind, &fitem_ops, NULL, expected, &p), SPC_OK);
	ck_assert_ptr_nonnull(p);
	return p;
}

static void admit_all(struct spc_policy_state *p, struct fitem *it, int from, int to)
{
	int i;

	for (i = from; i < to; i++)
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
}

START_TEST(test_create_args)
{
	struct spc_policy_state *p = (void *)1;
	struct spc_policy_ops bad = fitem_ops;

	ck_assert_int_eq(spc_policy_create((enum spc_policy)7, &fitem_ops, NULL, 4, &p), SPC_EINVAL);
	ck_assert_ptr_null(p);
	bad.hash = NULL;
	ck_assert_int_eq(spc_policy_create(SPC_POLICY_CLOCK, &bad, NULL, 4, &p), SPC_EINVAL);
	ck_assert_int_eq(spc_policy_create(SPC_POLICY_CLOCK, NULL, NULL, 4, &p), SPC_EINVAL);
	ck_assert_str_eq(spc_policy_name(SPC_POLICY_S3FIFO), "s3fifo");
	ck_assert_str_eq(spc_policy_name(SPC_POLICY_CLOCK), "clock");
	p = mk(SPC_POLICY_S3FIFO, 0);
	ck_assert_uint_eq(spc_policy_size(p), 0);
	ck_assert_uint_gt(spc_policy_memory(p), 0);
	spc_policy_destroy(p);
	spc_policy_destroy(NULL);
}
END_TEST

/* CLOCK, queue A B C D, counters B=1 D=2:
 *   A(0) victim                      -> B C D
 *   B(1) cleared, to tail; C(0) victim -> D B
 *   D(2) cleared (not decremented), to tail; B(0) victim -> D
 *   D(0) victim. */
START_TEST(test_clock_order)
{
	struct fitem it[4];
	struct spc_policy_state *p = mk(SPC_POLICY_CLOCK, 4);
	int got[8], n;
	static const int want[] = { 0, 2, 1, 3 };

	fitems_init(it, 4);
	it[1].freq = 1;
	it[3].freq = 2;
	admit_all(p, it, 0, 4);
	ck_assert_uint_eq(spc_policy_size(p), 4);
	n = drain_ids(p, got, 8);
	assert_ids(got, n, want, 4);
	ck_assert_uint_eq(it[3].freq, 0);
	spc_policy_destroy(p);
}
END_TEST

/* CLOCK, five items all hit once. max_scan 3 gives 0, 1, 2 their second
 * chance and finds nobody: NONE. Queue 3 4 0 1 2, counters 1 1 0 0 0:
 * max_scan 2 clears 3 and 4: NONE again; then 0 is the victim. */
START_TEST(test_clock_max_scan)
{
	struct fitem it[5];
	struct spc_policy_state *p = mk(SPC_POLICY_CLOCK, 2);
	void *v = (void *)1;
	int i, got[8], n;
	static const int want[] = { 1, 2, 3, 4 };

	fitems_init(it, 5);
	for (i = 0; i < 5; i++)
		it[i].freq = 1;
	admit_all(p, it, 0, 5);
	ck_assert_int_eq(spc_policy_next(p, 0, &v), SPC_VICTIM_NONE);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(it[0].freq, 1); /* max_scan 0 examines nothing */
	ck_assert_int_eq(spc_policy_next(p, 3, &v), SPC_VICTIM_NONE);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(it[0].freq + it[1].freq + it[2].freq, 0);
	ck_assert_uint_eq(it[3].freq + it[4].freq, 2);
	ck_assert_uint_eq(spc_policy_size(p), 5);
	ck_assert_int_eq(spc_policy_next(p, 2, &v), SPC_VICTIM_NONE); /* clears 3, 4 */
	ck_assert_int_eq(spc_policy_next(p, 1, &v), SPC_VICTIM_EVICT);
	ck_assert_ptr_eq(v, &it[0]);
	n = drain_ids(p, got, 8);
	assert_ids(got, n, want, 4);
	spc_policy_destroy(p);
}
END_TEST

/* CLOCK with a dead item: 0(1) 1(3, dead) 2 3.
 *   0 cleared, to tail; 1 dead -> DEAD at once whatever its counter.
 *   then 2, 3, 0. */
START_TEST(test_clock_dead)
{
	struct fitem it[4];
	struct spc_policy_state *p = mk(SPC_POLICY_CLOCK, 4);
	int got[8], n;
	static const int want[] = { -2, 2, 3, 0 };

	fitems_init(it, 4);
	it[0].freq = 1;
	it[1].freq = 3;
	it[1].dead = 1;
	admit_all(p, it, 0, 4);
	n = drain_ids(p, got, 8);
	assert_ids(got, n, want, 4);
	spc_policy_destroy(p);
}
END_TEST

/* S3-FIFO, ten new items (all in S, M empty), counters 2:2, 5:2, 7:1.
 *   S=0..9            10*10 >= 10: S. 0 victim (ghost +h0)
 *   S=1..9            1 victim
 *   S=2..9            2 (freq 2 > 1) promoted to M with freq 0; 3 victim
 *   S=4..9 M=2        4 victim
 *   S=5..9 M=2        5 promoted; 6 victim
 *   S=7 8 9 M=2 5     7 (freq 1: not > 1) victim, then 8, 9
 *   S empty, M=2 5    2, 5 (freq reset on promotion). */
START_TEST(test_s3fifo_one_hit_wonders_first)
{
	struct fitem it[10];
	struct spc_policy_state *p = mk(SPC_POLICY_S3FIFO, 10);
	int got[16], n;
	static const int want[] = { 0, 1, 3, 4, 6, 7, 8, 9, 2, 5 };

	fitems_init(it, 10);
	it[2].freq = 2;
	it[5].freq = 2;
	it[7].freq = 1;
	admit_all(p, it, 0, 10);
	ck_assert_uint_eq(q_count(p, 0), 10);
	ck_assert_uint_eq(q_count(p, 1), 0);
	n = drain_ids(p, got, 16);
	assert_ids(got, n, want, 10);
	ck_assert_uint_eq(it[2].freq, 0);
	spc_policy_destroy(p);
}
END_TEST

/* S3-FIFO ghost and the 10 % rule. Twenty items are admitted and drained
 * (all from S, in order), then 44..47 (peak still 20): 24 additions to a
 * ghost of limit 18, in generations of 6 (core/policy_ghost.c). The
 * fourth generation is full at the 24th: the first (h0..h5) is cleared
 * then, h6..h19 and h44..h47 remain. Then:
 *   admit 6..19, 44..47   ghost hits: straight to M
 *   admit 100     new: S;  admit 0: its hash expired: S
 *   S=100 0  M=6..19 44..47  total 20: 10*2 >= 20 -> S: 100 victim
 *   S=0      total 19: 10 < 19 -> M: 6 victim ... 14 victim (total 10)
 *   total 10: 10*1 >= 10 -> S: 0 victim, then M: 15..19, 44..47. */
START_TEST(test_s3fifo_ghost_and_small_share)
{
	struct fitem it[101];
	struct spc_policy_state *p = mk(SPC_POLICY_S3FIFO, 4);
	int got[64], n, i;
	int want[64], nw = 0;

	fitems_init(it, 101);
	admit_all(p, it, 0, 20);
	n = drain_ids(p, got, 64);
	for (i = 0; i < 20; i++)
		want[nw++] = i;
	assert_ids(got, n, want, nw);
	admit_all(p, it, 44, 48);
	ck_assert_int_eq(drain_ids(p, got, 64), 4);

	admit_all(p, it, 6, 20);
	admit_all(p, it, 44, 48);
	ck_assert_uint_eq(q_count(p, 0), 0);
	ck_assert_uint_eq(q_count(p, 1), 18);
	ck_assert_int_eq(spc_policy_admit(p, &it[100]), SPC_OK);
	ck_assert_int_eq(spc_policy_admit(p, &it[0]), SPC_OK);
	ck_assert_uint_eq(q_count(p, 0), 2);
	ck_assert_uint_eq(q_count(p, 1), 18);

	nw = 0;
	want[nw++] = 100;
	for (i = 6; i <= 14; i++)
		want[nw++] = i;
	want[nw++] = 0;
	for (i = 15; i < 20; i++)
		want[nw++] = i;
	for (i = 44; i < 48; i++)
		want[nw++] = i;
	n = drain_ids(p, got, 64);
	assert_ids(got, n, want, nw);
	spc_policy_destroy(p);
}
END_TEST

/* An eviction from M takes the hash out of the ghost and puts nothing in;
 * a dead item met in S puts nothing in. */
START_TEST(test_s3fifo_ghost_membership)
{
	struct fitem it[4];
	struct spc_policy_state *p = mk(SPC_POLICY_S3FIFO, 4);
	void *v;

	fitems_init(it, 4);
	admit_all(p, it, 0, 1);
	ck_assert_int_eq(spc_policy_next(p, 8, &v), SPC_VICTIM_EVICT); /* 0 from S: ghost h0 */
	ck_assert_int_eq(spc_policy_admit(p, &it[0]), SPC_OK);
	ck_assert_uint_eq(q_count(p, 1), 1); /* ghost hit: M */
	ck_assert_int_eq(spc_policy_admit(p, &it[1]), SPC_OK);
	ck_assert_uint_eq(q_count(p, 0), 1); /* new: S */
	ck_assert_int_eq(spc_policy_next(p, 8, &v), SPC_VICTIM_EVICT);
	ck_assert_ptr_eq(v, &it[1]); /* S holds >= 10 %: S first, ghost h1 */
	ck_assert_int_eq(spc_policy_next(p, 8, &v), SPC_VICTIM_EVICT);
	ck_assert_ptr_eq(v, &it[0]); /* from M: h0 leaves the ghost */
	ck_assert_int_eq(spc_policy_admit(p, &it[0]), SPC_OK);
	ck_assert_uint_eq(q_count(p, 0), 1); /* new again: S */
	ck_assert_uint_eq(q_count(p, 1), 0);
	/* dead in S: handed back, no ghost entry */
	it[2].dead = 1;
	ck_assert_int_eq(spc_policy_admit(p, &it[2]), SPC_OK);
	ck_assert_int_eq(spc_policy_next(p, 8, &v), SPC_VICTIM_EVICT);
	ck_assert_ptr_eq(v, &it[0]);
	ck_assert_int_eq(spc_policy_next(p, 8, &v), SPC_VICTIM_DEAD);
	ck_assert_ptr_eq(v, &it[2]);
	it[2].dead = 0;
	ck_assert_int_eq(spc_policy_admit(p, &it[2]), SPC_OK);
	ck_assert_uint_eq(q_count(p, 0), 1);
	/* h1 is still a ghost: 1 goes to M */
	ck_assert_int_eq(spc_policy_admit(p, &it[1]), SPC_OK);
	ck_assert_uint_eq(q_count(p, 1), 1);
	spc_policy_destroy(p);
}
END_TEST

/* S3-FIFO second chances in M: ghost hits put 0..4 in M with counters
 * 0, 2, 0, 3, 0 and one new item 9 goes to S.
 *   total 6, S=9: 10 * 1 >= 6: S: 9 victim
 *   M=0 1 2 3 4: 0 victim
 *   M=1 2 3 4    1(2->1) to tail; 2 victim
 *   M=3 4 1      3(3->2) to tail; 4 victim
 *   M=1 3        1(1->0), 3(2->1), 1 victim; 3(1->0), 3 victim */
START_TEST(test_s3fifo_second_chance)
{
	struct fitem it[10];
	struct spc_policy_state *p = mk(SPC_POLICY_S3FIFO, 1);
	int got[16], n, i;
	void *v;
	static const int want[] = { 9, 0, 2, 4, 1, 3 };

	fitems_init(it, 10);
	admit_all(p, it, 0, 5);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(spc_policy_next(p, 8, &v), SPC_VICTIM_EVICT);
	/* peak 5: the ghost keeps 5 - 0 = 5 hashes: all of them */
	admit_all(p, it, 0, 5);
	ck_assert_uint_eq(q_count(p, 1), 5);
	it[1].freq = 2;
	it[3].freq = 3;
	ck_assert_int_eq(spc_policy_admit(p, &it[9]), SPC_OK);
	ck_assert_uint_eq(q_count(p, 0), 1);
	n = drain_ids(p, got, 16);
	assert_ids(got, n, want, 6);
	spc_policy_destroy(p);
}
END_TEST

/* S3-FIFO bounded work: five new items with counters 3.
 *   max_scan 3: 0, 1, 2 promoted, no victim: NONE.
 *   S=3 4 M=0 1 2 (counters 0): 20 >= 5: S; 3, 4 promoted, S empty:
 *   M: 0 victim - the third item examined. */
START_TEST(test_s3fifo_max_scan)
{
	struct fitem it[5];
	struct spc_policy_state *p = mk(SPC_POLICY_S3FIFO, 5);
	void *v = (void *)1;
	int i;

	fitems_init(it, 5);
	for (i = 0; i < 5; i++)
		it[i].freq = 3;
	admit_all(p, it, 0, 5);
	ck_assert_int_eq(spc_policy_next(p, 3, &v), SPC_VICTIM_NONE);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(q_count(p, 0), 2);
	ck_assert_uint_eq(q_count(p, 1), 3);
	ck_assert_uint_eq(it[0].freq, 0);
	ck_assert_uint_eq(it[3].freq, 3);
	ck_assert_int_eq(spc_policy_next(p, 3, &v), SPC_VICTIM_EVICT);
	ck_assert_ptr_eq(v, &it[0]);
	ck_assert_uint_eq(spc_policy_size(p), 4);
	ck_assert_uint_eq(q_count(p, 0), 0);
	ck_assert_uint_eq(it[3].freq, 0);
	spc_policy_destroy(p);
}
END_TEST

/* Dead items in both S3-FIFO queues, counters and dead flags mixed:
 * ghost hits put 0..3 in M; 4..7 new in S. 1 (M) and 5, 6 (S) die; 5 had a
 * counter of 3, 1 of 2.  S=4 5 6 7  M=0 1 2 3, total 8: 40 >= 8: S.
 *   4 victim; 5 dead; 6 dead; 7 victim (ghost h4, h7 - never h5, h6)
 *   M: 0 victim; 1 dead; 2, 3 victims. */
START_TEST(test_s3fifo_dead)
{
	struct fitem it[8];
	struct spc_policy_state *p = mk(SPC_POLICY_S3FIFO, 8);
	void *v;
	int got[16], n, i;
	static const int want[] = { 4, -6, -7, 7, 0, -2, 2, 3 };

	fitems_init(it, 8);
	admit_all(p, it, 0, 4);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(spc_policy_next(p, 8, &v), SPC_VICTIM_EVICT);
	admit_all(p, it, 0, 8);
	ck_assert_uint_eq(q_count(p, 1), 4);
	it[1].dead = 1;
	it[1].freq = 2;
	it[5].dead = 1;
	it[5].freq = 3;
	it[6].dead = 1;
	n = drain_ids(p, got, 16);
	assert_ids(got, n, want, 8);
	/* 5 and 6 left no ghost: new again, to S; 4 and 7 did: to M */
	it[5].dead = it[6].dead = 0;
	admit_all(p, it, 4, 8);
	ck_assert_uint_eq(q_count(p, 0), 2);
	ck_assert_uint_eq(q_count(p, 1), 2);
	spc_policy_destroy(p);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, test_create_args);
	tcase_add_test(tc, test_clock_order);
	tcase_add_test(tc, test_clock_max_scan);
	tcase_add_test(tc, test_clock_dead);
	tcase_add_test(tc, test_s3fifo_one_hit_wonders_first);
	tcase_add_test(tc, test_s3fifo_ghost_and_small_share);
	tcase_add_test(tc, test_s3fifo_ghost_membership);
	tcase_add_test(tc, test_s3fifo_second_chance);
	tcase_add_test(tc, test_s3fifo_max_scan);
	tcase_add_test(tc, test_s3fifo_dead);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(policy_suite());
}
