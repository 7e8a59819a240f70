/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/policy/test_policy_ghost.c: S3-FIFO's ghost, the rotating
 * Bloom filters of core/policy_ghost.c, against its guarantees:
 *  1. no false negative during the 3 * cap - blocks additions after a
 *     hash's own (checked at every step, for ghosts of 18 to 40,000);
 *  2. forgotten 4 * cap - 1 additions later, except as a false positive; a
 *     removed hash is absent at once, and other hashes seldom suffer;
 *  3. false positives below 2 % on large samples;
 *  4. an addition changes at most 16 words, in at most two blocks; a
 *     removal at most one word per generation;
 *  5. growth under a failed allocation changes nothing, and a successful
 *     one keeps every answer;
 *  6. the same operations give the same bits.
 * The hashes are weak on purpose (multiples of one constant): the ghost
 * must mix them itself.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "check_run.h"
#include "fake_item.h"

static uint64_t hash_of(size_t i)
{
	return 0x5bd1e995ull * (uint64_t)(i + 1);
}

/* Generation capacity and blocks for a limit (core/policy_ghost.c). */
static size_t cap_of(size_t limit)
{
	size_t c = (2 * limit + 6) / 7;

	return c ? c : 1;
}

static size_t blocks_of(size_t cap)
{
	return (cap + 41) / 42;
}

static struct spc_policy_ghost make_ghost(size_t limit)
{
	struct spc_policy_ghost empty, g;

	memset(&empty, 0, sizeof empty);
	ck_assert_int_eq(spc_policy_ghost_prepare(NULL, &empty, limit, &g), SPC_OK);
	ck_assert_ptr_nonnull(g.bits);
	ck_assert_uint_ge(g.room, limit);
	return g;
}

static const size_t limits[] = { 18, 500, 40000 };
static const size_t small_limits[] = { 18, 500, 5000 };

/* Guarantees 1 to 3 on a long stream of distinct hashes. */
START_TEST(test_ghost_window)
{
	size_t limit = limits[_i], cap = cap_of(limit), safe = 3 * cap - blocks_of(cap);
	size_t total = 10 * limit + 1234, i, recent = 0, n_old = 0, fp_old = 0, fp_new = 0;
	struct spc_policy_ghost g = make_ghost(limit);

	for (i = 0; i < total; i++) {
		spc_policy_ghost_add(&g, hash_of(i), limit);
		/* the hash followed by `safe` additions is still there */
		if (i >= safe)
			FAST_ASSERT(spc_policy_ghost_has(&g, hash_of(i - safe)));
		/* the one added 4 * cap - 1 additions ago is gone */
		if (i + 1 >= 4 * cap) {
			n_old++;
			fp_old += (size_t)spc_policy_ghost_has(&g, hash_of(i + 1 - 4 * cap));
		}
	}
	for (i = 0; i < total; i++) {
		int has = spc_policy_ghost_has(&g, hash_of(i));

		if (i + safe + 1 >= total)
			FAST_ASSERT(has);
		if (i + 4 * cap < total)
			continue;
		recent += (size_t)has;
	}
	for (i = 0; i < 100000; i++)
		fp_new += (size_t)spc_policy_ghost_has(&g, hash_of(total + 1000 + i));
	printf("ghost of %zu: cap %zu, %zu B; remembers %zu of the last %zu; false positives: "
	       "%.3f %% of expired hashes, %.3f %% of new ones\n",
	       limit, cap, spc_policy_ghost_memory(&g), recent, 4 * cap,
	       100.0 * (double)fp_old / (double)n_old, 100.0 * (double)fp_new / 100000.0);
	fflush(stdout);
	/* about the limit: between 3 * cap - blocks and 4 * cap */
	ck_assert_uint_ge(recent, safe);
	ck_assert_uint_le(recent, 4 * cap);
	ck_assert_uint_le(fp_old * 50, n_old);
	ck_assert_uint_le(fp_new * 50, 100000);
	ck_assert_uint_eq(g.added, total);
	spc_policy_ghost_fini(&g);
}
END_TEST

/* Removal: the removed hash is absent at once and until added again;
 * removing an absent hash changes nothing; few other hashes suffer. */
START_TEST(test_ghost_remove)
{
	const size_t limit = 40000, nrm = 1000;
	size_t cap = cap_of(limit), safe = 3 * cap - blocks_of(cap), total = 2 * limit;
	size_t i, lost = 0, mem = 0;
	struct spc_policy_ghost g = make_ghost(limit);
	uint64_t *snap;

	for (i = 0; i < total; i++)
		spc_policy_ghost_add(&g, hash_of(i), limit);
	for (i = 0; i < safe - 1; i++)
		FAST_ASSERT(spc_policy_ghost_has(&g, hash_of(total - 1 - i)));
	mem = spc_policy_ghost_memory(&g);
	snap = malloc(mem);
	ck_assert_ptr_nonnull(snap);
	/* an absent hash: nothing changes */
	for (i = 0; i < 100; i++) {
		uint64_t h = hash_of(total + 7 + i);

		if (spc_policy_ghost_has(&g, h))
			continue; /* a false positive: removal would clear a bit */
		memcpy(snap, g.bits, mem);
		spc_policy_ghost_remove(&g, h);
		ck_assert(memcmp(snap, g.bits, mem) == 0);
	}
	/* remove every 8th of the last additions (an earlier removal may
	 * have made one absent already: counted below) */
	for (i = 0; i < nrm; i++) {
		uint64_t h = hash_of(total - 1 - 8 * i);

		spc_policy_ghost_remove(&g, h);
		ck_assert(!spc_policy_ghost_has(&g, h));
	}
	for (i = 0; i < safe - 1; i++) {
		int removed = i % 8 == 0 && i / 8 < nrm;
		int has = spc_policy_ghost_has(&g, hash_of(total - 1 - i));

		if (removed)
			FAST_ASSERT(!has);
		else
			lost += (size_t)!has;
	}
	printf("ghost of %zu: %zu removals made %zu other hashes absent\n", limit, nrm, lost);
	fflush(stdout);
	ck_assert_uint_le(lost, 2 * nrm);
	/* added again: back */
	spc_policy_ghost_add(&g, hash_of(total - 1), limit);
	ck_assert(spc_policy_ghost_has(&g, hash_of(total - 1)));
	free(snap);
	spc_policy_ghost_fini(&g);
}
END_TEST

/* Words that differ between two copies of the bits, and in how many
 * distinct blocks. */
static size_t words_changed(const uint64_t *a, const uint64_t *b, size_t words, size_t *blocks)
{
	size_t i, n = 0, last = (size_t)-1;

	*blocks = 0;
	for (i = 0; i < words; i++) {
		if (a[i] == b[i])
			continue;
		n++;
		if (i / 8 != last) {
			(*blocks)++;
			last = i / 8;
		}
	}
	return n;
}

/* Bounded work, seen in the memory it touches: an addition sets bits in
 * one block and clears at most 8 words of the oldest generation; a
 * removal clears at most one word per generation. */
START_TEST(test_ghost_bounded_work)
{
	size_t limit = small_limits[_i], i, n, blocks, max_add = 0, cleared_total = 0;
	struct spc_policy_ghost g = make_ghost(limit);
	size_t mem = spc_policy_ghost_memory(&g), words = mem / sizeof(uint64_t);
	uint64_t *snap = malloc(mem);

	ck_assert_ptr_nonnull(snap);
	for (i = 0; i < 12 * cap_of(limit); i++) {
		memcpy(snap, g.bits, mem);
		spc_policy_ghost_add(&g, hash_of(i), limit);
		n = words_changed(snap, g.bits, words, &blocks);
		FAST_ASSERT(n <= 16 && blocks <= 2);
		if (n > max_add)
			max_add = n;
		if (i % 3 == 0) {
			size_t j = i / 3;

			memcpy(snap, g.bits, mem);
			spc_policy_ghost_remove(&g, hash_of(j));
			n = words_changed(snap, g.bits, words, &blocks);
			FAST_ASSERT(n <= SPC_POLICY_GHOST_GENS);
			cleared_total += n;
		}
	}
	/* the checks were not vacuous: additions did clear, removals did too */
	ck_assert_uint_gt(max_add, 8);
	ck_assert_uint_gt(cleared_total, 0);
	free(snap);
	spc_policy_ghost_fini(&g);
}
END_TEST

/* Growth: a failed allocation leaves the ghost as it was; a successful one
 * keeps every answer; the bigger ghost then keeps the new window. */
START_TEST(test_ghost_growth)
{
	struct fault_counter fc = { .armed = 1, .seen = 0, .fail_at = 0, .failures = 0 };
	struct spc_env env = { .fault = fault_nth, .fault_arg = &fc };
	const size_t small = 1000, big = 20000, n = 5000;
	struct spc_policy_ghost g = make_ghost(small), copy, fresh;
	size_t mem0, i, cap, safe;
	uint64_t *bits0;
	char *ans = malloc(2 * n);

	ck_assert_ptr_nonnull(ans);
	for (i = 0; i < n; i++) {
		spc_policy_ghost_add(&g, hash_of(i), small);
		if (i % 5 == 0)
			spc_policy_ghost_remove(&g, hash_of(i / 2));
	}
	for (i = 0; i < 2 * n; i++)
		ans[i] = (char)spc_policy_ghost_has(&g, hash_of(i));
	/* room enough: nothing to do */
	ck_assert_int_eq(spc_policy_ghost_prepare(&env, &g, small, &fresh), SPC_OK);
	ck_assert_ptr_null(fresh.bits);
	ck_assert_int_eq(fc.seen, 0);
	/* the allocation fails: SPC_ENOMEM, nothing changed */
	mem0 = spc_policy_ghost_memory(&g);
	bits0 = malloc(mem0);
	ck_assert_ptr_nonnull(bits0);
	memcpy(bits0, g.bits, mem0);
	copy = g;
	ck_assert_int_eq(spc_policy_ghost_prepare(&env, &g, big, &fresh), SPC_ENOMEM);
	ck_assert_int_eq(fc.failures, 1);
	ck_assert_ptr_null(fresh.bits);
	spc_policy_ghost_install(&g, &fresh);
	ck_assert(memcmp(&copy, &g, sizeof g) == 0);
	ck_assert(memcmp(bits0, g.bits, mem0) == 0);
	/* it succeeds: same answers, more memory */
	ck_assert_int_eq(spc_policy_ghost_prepare(&env, &g, big, &fresh), SPC_OK);
	ck_assert_ptr_nonnull(fresh.bits);
	ck_assert(memcmp(bits0, g.bits, mem0) == 0); /* g untouched until install */
	spc_policy_ghost_install(&g, &fresh);
	ck_assert_ptr_null(fresh.bits);
	ck_assert_uint_ge(g.room, big);
	ck_assert_uint_gt(spc_policy_ghost_memory(&g), mem0);
	for (i = 0; i < 2 * n; i++)
		FAST_ASSERT(spc_policy_ghost_has(&g, hash_of(i)) == ans[i]);
	/* after four generations of the new size, the new window holds */
	cap = cap_of(big);
	safe = 3 * cap - blocks_of(cap);
	for (i = n; i < n + 6 * cap; i++) {
		spc_policy_ghost_add(&g, hash_of(i), big);
		if (i >= n + 4 * cap)
			FAST_ASSERT(spc_policy_ghost_has(&g, hash_of(i + 1 - safe)));
	}
	free(bits0);
	free(ans);
	spc_policy_ghost_fini(&g);
}
END_TEST

/* The same additions, removals and growth give the same bits twice. */
START_TEST(test_ghost_determinism)
{
	struct spc_policy_ghost g[2], fresh;
	uint64_t seed;
	int run;
	size_t i;

	for (run = 0; run < 2; run++) {
		size_t limit = 300;

		g[run] = make_ghost(limit);
		seed = 99;
		for (i = 0; i < 50000; i++) {
			uint64_t r = splitmix_test(&seed);

			if (i == 20000) {
				limit = 3000;
				ck_assert_int_eq(spc_policy_ghost_prepare(NULL, &g[run], limit, &fresh),
				                 SPC_OK);
				spc_policy_ghost_install(&g[run], &fresh);
			}
			if (r % 4 == 0)
				spc_policy_ghost_remove(&g[run], hash_of((size_t)(r >> 8) % 5000));
			else
				spc_policy_ghost_add(&g[run], hash_of((size_t)(r >> 8) % 5000), limit);
		}
	}
	ck_assert_uint_eq(g[0].added, g[1].added);
	ck_assert_uint_eq(g[0].cur, g[1].cur);
	ck_assert_uint_eq(g[0].cleared, g[1].cleared);
	ck_assert(memcmp(g[0].gen, g[1].gen, sizeof g[0].gen) == 0);
	ck_assert_uint_eq(spc_policy_ghost_memory(&g[0]), spc_policy_ghost_memory(&g[1]));
	ck_assert(memcmp(g[0].bits, g[1].bits, spc_policy_ghost_memory(&g[0])) == 0);
	spc_policy_ghost_fini(&g[0]);
	spc_policy_ghost_fini(&g[1]);
}
END_TEST

static Suite *ghost_suite(void)
{
	Suite *s = suite_create("policy-ghost");
	TCase *tc = tcase_create("ghost");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_ghost_window, 0, 3);
	tcase_add_test(tc, test_ghost_remove);
	tcase_add_loop_test(tc, test_ghost_bounded_work, 0, 3);
	tcase_add_test(tc, test_ghost_growth);
	tcase_add_test(tc, test_ghost_determinism);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(ghost_suite());
}
