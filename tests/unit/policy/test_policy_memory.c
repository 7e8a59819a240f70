/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/policy/test_policy_memory.c: what the policies cost per item,
 * and the structures that make it small - chunks shared by the queues
 * (core/policy.c, "Queues"), the ghost's Bloom filters
 * (core/policy_ghost.c, tested in test_policy_ghost.c), 32-bit offset
 * slots (spc_policy_set_region).
 *
 * The memory figures come from a steady state: a cache of n items fed
 * with a skewed stream of keys until it admitted 2n items, so the queues
 * have turned over and the ghost is full. They are printed; the asserted
 * bounds are generous (growth timing moves the figures a little) but the
 * layouts before fail them: S3-FIFO took 36.7 bytes per item at 100,000
 * items before the chunks and the ghost table, 11.1 / 15.1 (offset /
 * pointer slots) with the exact ghost table before the Bloom filters;
 * CLOCK 10.5 before the chunks. Steered (two ghosts, 1.15 times the
 * items) must stay under S3-FIFO's bounds: it is charged the same.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "check_run.h"
#include "fake_item.h"

struct steady {
	size_t n;
	double per_item;
	double hit_ratio;
};

/* Runs a cache of n items over 2n admissions; returns the policy's bytes
 * per item at the end and the hit ratio of the run. */
static struct steady steady_run(enum spc_policy kind, size_t n, int region)
{
	size_t universe = 4 * n, admitted = 0, hits = 0, requests = 0, nfree = 0, i;
	struct fitem *it = calloc(n + 1, sizeof *it);
	int *cur = malloc(universe * sizeof(int)), *free_ids = malloc((n + 1) * sizeof(int));
	struct spc_policy_state *p = NULL;
	struct steady out = { .n = n };
	uint64_t seed = 7 + n;

	ck_assert(it && cur && free_ids);
	for (i = 0; i < universe; i++)
		cur[i] = -1;
	for (i = 0; i <= n; i++)
		free_ids[nfree++] = (int)(n - i);
	ck_assert_int_eq(spc_policy_create(kind, &fitem_ops, NULL, n, &p), SPC_OK);
	if (region)
		ck_assert_int_eq(spc_policy_set_region(p, it, (n + 1) * sizeof *it), SPC_OK);
	while (admitted < 2 * n) {
		/* the smaller of two uniform draws: key k has weight ~ (U - k) */
		size_t a = (size_t)(splitmix_test(&seed) % universe);
		size_t b = (size_t)(splitmix_test(&seed) % universe);
		size_t key = a < b ? a : b;
		struct fitem *x;
		void *v;

		requests++;
		if (cur[key] >= 0) {
			x = &it[cur[key]];
			if (x->freq < 3)
				x->freq++;
			hits++;
			continue;
		}
		while (spc_policy_size(p) >= n) {
			enum spc_victim_kind k = spc_policy_next(p, 64, &v);

			if (k == SPC_VICTIM_NONE)
				continue;
			FAST_ASSERT(k == SPC_VICTIM_EVICT);
			x = v;
			cur[x->hash] = -1;
			free_ids[nfree++] = (int)(x - it);
		}
		FAST_ASSERT(nfree > 0);
		x = &it[free_ids[--nfree]];
		x->hash = key;
		x->freq = 0;
		x->dead = 0;
		cur[key] = (int)(x - it);
		FAST_ASSERT(spc_policy_admit(p, x) == SPC_OK);
		admitted++;
	}
	ck_assert_uint_eq(spc_policy_size(p), n);
	out.per_item = (double)spc_policy_memory(p) / (double)n;
	out.hit_ratio = (double)hits / (double)requests;
	spc_policy_destroy(p);
	free(it);
	free(cur);
	free(free_ids);
	return out;
}

static const size_t sizes[] = { 2000, 100000, 1000000 };

static const enum spc_policy kinds[] = { SPC_POLICY_S3FIFO, SPC_POLICY_CLOCK,
	                                  SPC_POLICY_STEERED };

/* _i: (size index * 2 + region) * 3 + kind index. */
START_TEST(test_memory_per_item)
{
	enum spc_policy kind = kinds[_i % 3];
	int region = (_i / 3) & 1;
	size_t n = sizes[_i / 6];
	struct steady r = steady_run(kind, n, region);

	printf("%s, %s slots, %zu items, steady state: %.2f B of policy per item (hit ratio %.4f)\n",
	       spc_policy_name(kind), region ? "32-bit offset" : "pointer", n, r.per_item,
	       r.hit_ratio);
	fflush(stdout);
	if (n < 100000)
		return; /* small caches: a few spare chunks weigh more; printed only */
	if (kind == SPC_POLICY_S3FIFO)
		ck_assert(r.per_item < (region ? 7.0 : 11.0));
	else if (kind == SPC_POLICY_STEERED)
		ck_assert(r.per_item < (region ? 7.0 : 11.0)); /* the same charge */
	else
		ck_assert(r.per_item < (region ? 6.0 : 9.5));
}
END_TEST

/* The same stream gives the same hit ratio whatever the slots hold. */
START_TEST(test_region_same_victims)
{
	enum spc_policy kind = _i ? SPC_POLICY_CLOCK : SPC_POLICY_S3FIFO;
	struct steady a = steady_run(kind, 5000, 0), b = steady_run(kind, 5000, 1);

	ck_assert(a.hit_ratio == b.hit_ratio);
	ck_assert(b.per_item < a.per_item);
}
END_TEST

/* set_region only while empty, only 8-byte aligned regions up to 32 GiB;
 * a refusal changes nothing. */
START_TEST(test_region_contract)
{
	static struct fitem it[8];
	struct spc_policy_state *p = NULL;
	void *v;

	fitems_init(it, 8);
	ck_assert_int_eq(spc_policy_create(SPC_POLICY_S3FIFO, &fitem_ops, NULL, 8, &p), SPC_OK);
	ck_assert_int_eq(spc_policy_set_region(p, (char *)it + 4, sizeof it), SPC_EINVAL);
	ck_assert_int_eq(spc_policy_set_region(p, it, 0), SPC_EINVAL);
	if (sizeof(size_t) > 4)
		ck_assert_int_eq(spc_policy_set_region(p, it, (size_t)((uint64_t)1 << 36)), SPC_EINVAL);
	ck_assert_int_eq(spc_policy_admit(p, &it[0]), SPC_OK);
	ck_assert_int_eq(spc_policy_set_region(p, it, sizeof it), SPC_EINVAL);
	ck_assert_int_eq(spc_policy_next(p, 4, &v), SPC_VICTIM_EVICT);
	ck_assert_ptr_eq(v, &it[0]);
	/* empty again, the head inside a chunk: allowed */
	ck_assert_int_eq(spc_policy_set_region(p, it, sizeof it), SPC_OK);
	ck_assert_int_eq(spc_policy_admit(p, &it[1]), SPC_OK); /* h1001: no ghost, to S */
	ck_assert_int_eq(spc_policy_admit(p, &it[0]), SPC_OK); /* ghost hit: to M */
	ck_assert_uint_eq(q_count(p, 0), 1);
	ck_assert_uint_eq(q_count(p, 1), 1);
	ck_assert_int_eq(spc_policy_next(p, 4, &v), SPC_VICTIM_EVICT);
	ck_assert_ptr_eq(v, &it[1]);
	ck_assert_int_eq(spc_policy_next(p, 4, &v), SPC_VICTIM_EVICT);
	ck_assert_ptr_eq(v, &it[0]);
	ck_assert_int_eq(spc_policy_set_region(p, NULL, 0), SPC_OK); /* back to pointers */
	ck_assert_int_eq(spc_policy_admit(p, &it[2]), SPC_OK);
	spc_policy_destroy(p);
}
END_TEST

/* Chunks of 4 slots, 16 items in S, all hit twice: one next call promotes
 * all of them to M - S's chunks empty as M's fill, with the spare taken
 * first - without a single allocation, then evicts the first of them. */
START_TEST(test_promotion_without_allocation)
{
	struct fault_counter fc = { .armed = 1, .seen = 0, .fail_at = -1, .failures = 0 };
	struct spc_env env = { .fault = fault_nth, .fault_arg = &fc };
	static struct fitem it[17];
	struct spc_policy_state *p = NULL;
	int i, got[32], want[17];
	long seen;
	size_t owned;
	void *v;

	fitems_init(it, 17);
	ck_assert_int_eq(spc_policy_create(SPC_POLICY_S3FIFO, &fitem_ops, &env, 16, &p), SPC_OK);
	p->chunks.shift = 2;
	for (i = 0; i < 16; i++) {
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
		it[i].freq = 2;
	}
	ck_assert_uint_eq(q_count(p, 0), 16);
	owned = p->chunks.owned;
	/* 16 slots in 4 full chunks of S; the reservation keeps 16/4 + 2 * 6/4
	 * = 7 chunks: at most three free (M has none yet) */
	ck_assert_uint_le(p->chunks.nfree, 3);
	seen = fc.seen;
	fc.fail_at = seen; /* the next allocation would fail */
	ck_assert_int_eq(spc_policy_next(p, 100, &v), SPC_VICTIM_EVICT);
	ck_assert_ptr_eq(v, &it[0]);
	ck_assert_uint_eq(q_count(p, 0), 0);
	ck_assert_uint_eq(q_count(p, 1), 15);
	ck_assert_int_eq(fc.seen, seen);
	ck_assert_uint_eq(p->chunks.owned, owned);
	/* everything else in promotion order, counters cleared on the way */
	for (i = 1; i < 16; i++)
		want[i - 1] = i;
	ck_assert_int_eq(drain_ids(p, got, 32), 15);
	assert_ids(got, 15, want, 15);
	ck_assert_int_eq(fc.seen, seen);
	ck_assert_int_eq(fc.failures, 0);
	spc_policy_destroy(p);
}
END_TEST

static Suite *memory_suite(void)
{
	Suite *s = suite_create("policy-memory");
	TCase *tc = tcase_create("memory");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_memory_per_item, 0, 18);
	tcase_add_loop_test(tc, test_region_same_victims, 0, 2);
	tcase_add_test(tc, test_region_contract);
	tcase_add_test(tc, test_promotion_without_allocation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(memory_suite());
}
