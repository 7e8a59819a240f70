/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/core/test_determinism.c: the same single-threaded sequence
 * of operations gives the same hits, misses and evictions on every run
 * and in every memory budget that is not exhausted (synchronous
 * maintenance, capacity set by max_entries), for every policy.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "splitcache.h"

struct outcome {
	uint64_t hits, misses, evictions, items;
	uint64_t digest; /* of every operation's result */
};

static struct outcome replay(uint64_t budget, enum spc_policy pol)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;
	struct spc_stats st;
	struct outcome o = { 0, 0, 0, 0, 1469598103934665603ull };
	uint64_t x = 88172645463325252ull;
	char k[32], v[64], buf[64];

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = budget;
	cfg.synchronous_maintenance = 1;
	cfg.policy = pol;
	cfg.max_entries[SPC_POOL_INDEX] = 1500;
	cfg.max_entries[SPC_POOL_VIEW] = 700;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	for (int op = 0; op < 60000; op++) {
		int p, r;
		unsigned key;
		size_t n;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		p = (int)(x & 1);
		/* skewed keys: small ids are hot */
		key = (unsigned)((x >> 8) % 5000);
		if ((x >> 40) & 1)
			key %= 400;
		snprintf(k, sizeof k, "det-%u", key);
		switch ((x >> 20) % 10) {
		case 0: case 1: case 2:
			snprintf(v, sizeof v, "value-%u-%d", key, op);
			r = spc_set(c, p, k, strlen(k), v, strlen(v));
			break;
		case 3:
			r = spc_delete(c, p, k, strlen(k));
			break;
		default:
			r = spc_get(c, p, k, strlen(k), buf, sizeof buf, &n);
			if (r == SPC_ENOTFOUND) {
				snprintf(v, sizeof v, "fill-%u", key);
				r = 100 + spc_add(c, p, k, strlen(k), v, strlen(v));
			}
			break;
		}
		o.digest = (o.digest ^ (uint64_t)(r + 1000)) * 1099511628211ull;
	}
	ck_assert_int_eq(spc_stats(c, -1, &st), SPC_OK);
	o.hits = st.hits;
	o.misses = st.misses;
	o.evictions = st.evictions;
	o.items = st.items;
	spc_close(c);
	return o;
}

START_TEST(same_sequence_same_results)
{
	static const enum spc_policy pols[] = { SPC_POLICY_S3FIFO, SPC_POLICY_CLOCK,
		                                SPC_POLICY_STEERED };
	enum spc_policy pol = pols[_i];
	struct outcome ref = replay(16u << 20, pol);
	static const uint64_t budgets[] = { 16u << 20, 24u << 20, 64u << 20 };

	ck_assert_uint_gt(ref.evictions, 0);
	ck_assert_uint_gt(ref.hits, 0);
	for (unsigned b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
		struct outcome o = replay(budgets[b], pol);

		ck_assert_uint_eq(o.hits, ref.hits);
		ck_assert_uint_eq(o.misses, ref.misses);
		ck_assert_uint_eq(o.evictions, ref.evictions);
		ck_assert_uint_eq(o.items, ref.items);
		ck_assert_uint_eq(o.digest, ref.digest);
	}
}
END_TEST

static Suite *det_suite(void)
{
	Suite *s = suite_create("determinism");
	TCase *tc = tcase_create("replay");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, same_sequence_same_results, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(det_suite());
}
