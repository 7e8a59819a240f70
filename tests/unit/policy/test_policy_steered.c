/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/policy/test_policy_steered.c: the rules of ghost-steered
 * S3-FIFO (core/policy_steered.c) on hand-made sequences, its target at
 * both bounds, and admission under allocation failure.
 * Ids in an order: n = evicted item n, -1 - n = dead item n handed back.
 */
#include <check.h>
#include <stdlib.h>

#include "check_run.h"
#include "fake_item.h"

static struct spc_policy_state *mk(size_t expected, const struct spc_env *env)
{
	struct spc_policy_state *p = NULL;

	ck_assert_int_eq(spc_policy_create(SPC_POLICY_STEERED, &fitem_ops, env, expected, &p),
	                 SPC_OK);
	ck_assert_ptr_nonnull(p);
	return p;
}

static void admit_all(struct spc_policy_state *p, struct fitem *it, int from, int to)
{
	int i;

	for (i = from; i < to; i++)
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
}

START_TEST(test_steered_name_and_memory)
{
	struct spc_policy_state *p = mk(0, NULL);

	ck_assert_str_eq(spc_policy_name(SPC_POLICY_STEERED), "steered");
	ck_assert_uint_eq(spc_policy_size(p), 0);
	ck_assert_uint_gt(spc_policy_memory(p), 0);
	/* the same charge per entry as S3-FIFO: slot, a quarter, 2 B of ghosts */
	ck_assert_uint_eq(spc_policy_item_bytes(p), 8 + 2 + 2);
	ck_assert_uint_ge(spc_policy_steered_target(p), 1);
	spc_policy_destroy(p);
}
END_TEST

/* Expected 10: s_target 1. S = A(1) B(2) C(0) D(0).
 *   |S| 4 >= 1: S. A hit once: back to S's tail, counter 0; B hit twice:
 *   to M, counter 0; C never hit: victim, h(C) to GS.   S = D A  M = B
 *   D victim; then A (its second lap, not hit again); S empty: M, B.
 * C, D, A came back through GS: to M, each raising the target by 1. */
START_TEST(test_steered_laps_in_s)
{
	struct fitem it[4];
	struct spc_policy_state *p = mk(10, NULL);
	int got[8], n;
	static const int want[] = { 2, 3, 0, 1 };

	fitems_init(it, 4);
	admit_all(p, it, 0, 4);
	ck_assert_uint_eq(spc_policy_steered_target(p), 1);
	it[0].freq = 1;
	it[1].freq = 2;
	n = drain_ids(p, got, 8);
	assert_ids(got, n, want, 4);
	ck_assert_uint_eq(it[0].freq, 0);
	ck_assert_uint_eq(it[1].freq, 0);
	admit_all(p, it, 2, 4);
	admit_all(p, it, 0, 1);
	ck_assert_uint_eq(q_count(p, 0), 0);
	ck_assert_uint_eq(q_count(p, 1), 3);
	ck_assert_uint_eq(spc_policy_steered_target(p), 4); /* 1 + 3, below the peak 4 */
	spc_policy_destroy(p);
}
END_TEST

/* Below a tenth: expected 40, 40 items admitted, the target at its floor
 * 40 / 20 = 2, and 2 * 10 < 40: S only filters one-hit wonders, so one
 * hit is enough. S = A(1) B(2) C(0) ...: A moves to M (not a second lap
 * in S, as in test_steered_laps_in_s where the target, 1, is a tenth of
 * the peak, 4, or more), B moves to M, C is the victim. */
START_TEST(test_steered_promotes_hit_once_below_a_tenth)
{
	enum { N = 40 };
	static struct fitem it[N];
	struct spc_policy_state *p = mk(N, NULL);
	void *v;

	fitems_init(it, N);
	admit_all(p, it, 0, N);
	ck_assert_uint_eq(spc_policy_steered_target(p), N / 20);
	it[0].freq = 1;
	it[1].freq = 2;
	ck_assert_int_eq(spc_policy_next(p, 4, &v), SPC_VICTIM_EVICT);
	ck_assert_ptr_eq(v, &it[2]);
	ck_assert_uint_eq(q_count(p, 1), 2);
	ck_assert_uint_eq(q_count(p, 0), N - 3);
	ck_assert_uint_eq(it[0].freq, 0);
	ck_assert_uint_eq(it[1].freq, 0);
	spc_policy_destroy(p);
}
END_TEST

/* Both bounds. The target starts at the floor, 1, and follows it up to
 * 200 / 20 = 10 while 200 items come in. They are evicted from S, all come
 * back (GS): each return raises the target by 1, capped at the peak, 200. They now sit in M;
 * evicted from M (S is empty, below the target) one goes to GM; back at
 * once, it lowers the target by 3, down to the floor, 10, and comes with
 * a counter of 2 (two laps of credit). */
START_TEST(test_steered_target_bounds)
{
	enum { N = 200 };
	static struct fitem it[N];
	struct spc_policy_state *p = mk(N, NULL);
	void *v;
	int i;

	fitems_init(it, N);
	ck_assert_uint_eq(spc_policy_steered_target(p), 1);
	admit_all(p, it, 0, N);
	ck_assert_uint_eq(spc_policy_steered_target(p), N / 20);
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(spc_policy_next(p, 4, &v), SPC_VICTIM_EVICT);
		ck_assert_ptr_eq(v, &it[i]);
	}
	for (i = 0; i < N; i++) {
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
		ck_assert_uint_eq(spc_policy_steered_target(p),
		                  N / 20 + i + 1 < N ? N / 20 + i + 1 : N);
	}
	ck_assert_uint_eq(q_count(p, 1), N);
	ck_assert_uint_eq(spc_policy_steered_target(p), N);
	/* S is empty, below the target: M gives. Each victim comes straight
	 * back through GM. */
	for (i = 0; i < N / 2; i++) {
		size_t want = N > 3 * (i + 1) + N / 20 ? N - 3 * (size_t)(i + 1) : N / 20;

		ck_assert_int_eq(spc_policy_next(p, 4, &v), SPC_VICTIM_EVICT);
		ck_assert_ptr_eq(v, &it[i]);
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
		ck_assert_uint_eq(spc_policy_steered_target(p), want);
		ck_assert_uint_eq(it[i].freq, 2);
	}
	ck_assert_uint_eq(q_count(p, 0), 0);
	ck_assert_uint_eq(q_count(p, 1), N);
	ck_assert_uint_eq(spc_policy_steered_target(p), N / 20);
	spc_policy_destroy(p);
}
END_TEST

/* The ghosts' window: a hash evicted from S is a ghost for about 0.9 of
 * the peak evictions from S (core/policy_ghost.c: at least 3/4 of that,
 * at most 8/7), then forgotten: a key that comes back that late is new. */
START_TEST(test_steered_ghost_window)
{
	enum { N = 1000, LATE = 2 * N };
	static struct fitem it[N + LATE];
	struct spc_policy_state *p = mk(N, NULL);
	void *v;
	int i;

	fitems_init(it, N + LATE);
	admit_all(p, it, 0, N);
	/* evict item 0 from S, then keep the cache full of new items that
	 * leave from S unhit: each eviction adds one hash to GS */
	ck_assert_int_eq(spc_policy_next(p, 4, &v), SPC_VICTIM_EVICT);
	ck_assert_ptr_eq(v, &it[0]);
	for (i = N; i < N + N / 2; i++) {
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
		ck_assert_int_eq(spc_policy_next(p, 4, &v), SPC_VICTIM_EVICT);
	}
	/* N/2 evictions later, well inside the window: still a ghost */
	ck_assert(spc_policy_ghost_has(&p->ghost, it[0].hash));
	for (; i < N + LATE; i++) {
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
		ck_assert_int_eq(spc_policy_next(p, 4, &v), SPC_VICTIM_EVICT);
	}
	/* 2 N evictions later, past 8/7 of 0.9 N: forgotten */
	ck_assert(!spc_policy_ghost_has(&p->ghost, it[0].hash));
	spc_policy_destroy(p);
}
END_TEST

/* Dead items come back as dead, with no ghost and no steering. */
START_TEST(test_steered_dead)
{
	struct fitem it[4];
	struct spc_policy_state *p = mk(4, NULL);
	int got[8], n;
	size_t t;
	static const int want[] = { 0, -2, 2, 3 };

	fitems_init(it, 4);
	admit_all(p, it, 0, 4);
	it[1].dead = 1;
	it[1].freq = 3;
	t = spc_policy_steered_target(p);
	n = drain_ids(p, got, 8);
	assert_ids(got, n, want, 4);
	it[1].dead = 0;
	ck_assert_int_eq(spc_policy_admit(p, &it[1]), SPC_OK); /* no ghost: S */
	ck_assert_uint_eq(q_count(p, 0), 1);
	ck_assert_uint_eq(spc_policy_steered_target(p), t);
	spc_policy_destroy(p);
}
END_TEST

/* One run of a random stream (keys hit, admitted, evicted over a cache of
 * CAP items growing to CAP + STEPS / 20), where every fail_every-th
 * admission (none when 0) sees its first allocation fail. A
 * failed admission must change nothing: size, memory, target, queues;
 * then it is retried and succeeds. Writes the victims' ids into out. */
static int fault_run(long fail_every, int *out, int cap_out)
{
	enum { KEYS = 900, CAP = 20, STEPS = 6000 };
	struct fault_counter fc = { .armed = 0, .seen = 0, .fail_at = -1, .failures = 0 };
	struct spc_env env = { .fault = fault_nth, .fault_arg = &fc };
	static struct fitem it[KEYS];
	static int resident[KEYS];
	struct spc_policy_state *p;
	uint64_t seed = 42;
	int step, n = 0;
	void *v;

	fitems_init(it, KEYS);
	memset(resident, 0, sizeof resident);
	p = mk(16, &env);
	p->chunks.shift = 2; /* chunks of 4 slots: every boundary is met */
	fc.armed = 1;
	for (step = 0; step < STEPS; step++) {
		/* keys 0..59 hot, the rest a colder stream */
		uint64_t r = splitmix_test(&seed);
		int k = (r & 1) ? (int)((r >> 8) % 60) : (int)((r >> 8) % KEYS);

		if (resident[k]) {
			if (it[k].freq < 3)
				it[k].freq++;
			continue;
		}
		if (fail_every > 0 && step % fail_every == 0)
			fc.fail_at = fc.seen; /* its next allocation, if any, fails */
		for (;;) {
			size_t size = spc_policy_size(p), mem = spc_policy_memory(p);
			size_t t = spc_policy_steered_target(p), s = q_count(p, 0), m = q_count(p, 1);
			int rc = spc_policy_admit(p, &it[k]);

			if (rc == SPC_OK)
				break;
			FAST_ASSERT(rc == SPC_ENOMEM);
			FAST_ASSERT(spc_policy_size(p) == size && spc_policy_memory(p) == mem);
			FAST_ASSERT(spc_policy_steered_target(p) == t);
			FAST_ASSERT(q_count(p, 0) == s && q_count(p, 1) == m);
			fc.fail_at = -1;
		}
		fc.fail_at = -1;
		it[k].freq = 0;
		resident[k] = 1;
		/* the cache grows through the run, so admissions keep
		 * allocating (chunks, directories, ghosts) */
		while (spc_policy_size(p) > (size_t)(CAP + step / 20)) {
			FAST_ASSERT(spc_policy_next(p, 1000, &v) == SPC_VICTIM_EVICT);
			resident[((struct fitem *)v)->id] = 0;
			FAST_ASSERT(n < cap_out);
			out[n++] = ((struct fitem *)v)->id;
		}
		FAST_ASSERT(spc_policy_steered_target(p) >= 1 &&
		            spc_policy_steered_target(p) <= p->peak);
	}
	if (fail_every > 0)
		ck_assert_int_gt(fc.failures, 0);
	spc_policy_destroy(p);
	return n;
}

START_TEST(test_steered_enomem_changes_nothing)
{
	static int a[8000], b[8000];
	static const long every[] = { 1, 2, 7 };
	int na = fault_run(0, a, 8000), nb, i;

	ck_assert_int_gt(na, 1000);
	for (i = 0; i < 3; i++) {
		nb = fault_run(every[i], b, 8000);
		assert_ids(b, nb, a, na);
	}
}
END_TEST

/* The same stream twice: the same victims (no clock, no randomness). */
START_TEST(test_steered_deterministic)
{
	static int a[8000], b[8000];
	int na = fault_run(0, a, 8000), nb = fault_run(0, b, 8000);

	assert_ids(b, nb, a, na);
}
END_TEST

static Suite *steered_suite(void)
{
	Suite *s = suite_create("policy-steered");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, test_steered_name_and_memory);
	tcase_add_test(tc, test_steered_laps_in_s);
	tcase_add_test(tc, test_steered_promotes_hit_once_below_a_tenth);
	tcase_add_test(tc, test_steered_target_bounds);
	tcase_add_test(tc, test_steered_ghost_window);
	tcase_add_test(tc, test_steered_dead);
	tcase_add_test(tc, test_steered_enomem_changes_nothing);
	tcase_add_test(tc, test_steered_deterministic);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(steered_suite());
}
