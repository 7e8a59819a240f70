/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of pools/ladder.c (L1-L4) and the degraded open (P3).
 */
#include <check.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#include "pools/arena.h"
#include "pools/pools.h"

#define PAGE ((size_t)sysconf(_SC_PAGESIZE))

/* Fails the first `fail_first` calls of `site` (all when < 0). */
struct fault_plan {
	enum spc_fault_site site;
	int fail_first;
	int calls;
};

static int fault_fn(void *arg, enum spc_fault_site site, size_t bytes)
{
	struct fault_plan *f = arg;

	(void)bytes;
	if (site != f->site)
		return 0;
	f->calls++;
	return f->fail_first < 0 || f->calls <= f->fail_first;
}

static void env_with(struct spc_env *env, struct fault_plan *f)
{
	memset(env, 0, sizeof *env);
	env->fault = fault_fn;
	env->fault_arg = f;
}

START_TEST(rungs_decrease_to_one_mib)
{
	static const uint64_t budgets[] = { 1ull << 30, 188743680, 16ull << 20, 17ull << 20,
	                                    5ull << 20, 4ull << 20, 3ull << 20, 1ull << 20,
	                                    (1ull << 40) + 12345 };
	unsigned b;

	for (b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
		uint64_t prev = UINT64_MAX, rung = 0, last = 0;
		unsigned n;

		for (n = 0; (rung = spc_ladder_rung(budgets[b], n, PAGE)) != 0; n++) {
			ck_assert_uint_lt(rung, prev);
			ck_assert_uint_eq(rung % PAGE, 0);
			ck_assert_uint_le(rung, budgets[b]);
			prev = last = rung;
			ck_assert_uint_lt(n, 64);
		}
		ck_assert_uint_eq(last, 1ull << 20);
	}
}
END_TEST

START_TEST(rungs_of_one_gib)
{
	static const uint64_t want[] = { 1024, 512, 256, 128, 64, 32, 16, 8, 4, 1 };
	unsigned n;

	for (n = 0; n < sizeof want / sizeof want[0]; n++)
		ck_assert_uint_eq(spc_ladder_rung(1ull << 30, n, 4096), want[n] << 20);
	ck_assert_uint_eq(spc_ladder_rung(1ull << 30, n, 4096), 0);
}
END_TEST

/* L2, L3, L4: the first k reservations fail, rung k is reserved. */
START_TEST(first_k_reservations_fail)
{
	struct fault_plan f = { SPC_FAULT_RESERVE, _i, 0 };
	struct spc_reservation res;
	struct spc_mem_report r;
	struct spc_env env;
	uint64_t budget = 64ull << 20;
	unsigned i;

	env_with(&env, &f);
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(spc_ladder_reserve(&env, budget, 0, SPC_MODE_SPLIT, 0.5, &res, &r), SPC_OK);
	ck_assert_uint_eq(r.n_attempts, (unsigned)_i + 1);
	for (i = 0; i < (unsigned)_i; i++) {
		ck_assert_int_eq(r.attempts[i].ok, 0);
		ck_assert_str_ne(r.attempts[i].error, "");
		ck_assert_uint_eq(r.attempts[i].bytes, spc_ladder_rung(budget, i, PAGE));
	}
	ck_assert_int_eq(r.attempts[_i].ok, 1);
	ck_assert_str_eq(r.attempts[_i].error, "");
	ck_assert_uint_eq(res.budget, spc_ladder_rung(budget, (unsigned)_i, PAGE));
	ck_assert_uint_eq(r.reserved_bytes, res.budget);
	for (i = 0; i < SPC_POOL_COUNT; i++) {
		ck_assert_ptr_nonnull(res.regions[i].base);
		ck_assert_uint_eq(res.regions[i].size, res.budget + SPC_REGION_SLACK(res.budget));
	}
	ck_assert(res.regions[0].base + res.regions[0].size <= res.regions[1].base);
	spc_reservation_release(&res);
	ck_assert_ptr_null(res.map);
}
END_TEST

START_TEST(all_reservations_fail)
{
	struct fault_plan f = { SPC_FAULT_RESERVE, -1, 0 };
	struct spc_reservation res;
	struct spc_mem_report r;
	struct spc_env env;
	unsigned i, rungs = 0;

	while (spc_ladder_rung(1ull << 30, rungs, PAGE))
		rungs++;
	env_with(&env, &f);
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(spc_ladder_reserve(&env, 1ull << 30, 0, SPC_MODE_SPLIT, 0.5, &res, &r),
	                 SPC_ENOMEM);
	ck_assert_ptr_null(res.map);
	ck_assert_uint_eq(r.n_attempts, rungs);
	ck_assert_uint_eq(r.reserved_bytes, 0);
	for (i = 0; i < rungs; i++) {
		ck_assert_int_eq(r.attempts[i].ok, 0);
		ck_assert_ptr_nonnull(strstr(r.attempts[i].error, "reserve"));
	}
}
END_TEST

static void small_config(struct spc_config *cfg, uint64_t budget)
{
	spc_config_init(cfg);
	cfg->use_env = 0;
	cfg->budget_bytes = budget;
}

/* P3: every rung refused -> degraded, and the pools still work. */
START_TEST(degraded_still_usable)
{
	struct fault_plan f = { SPC_FAULT_RESERVE, -1, 0 };
	struct spc_config cfg;
	struct spc_mem_report r;
	struct spc_mem *mem = NULL;
	int i;

	small_config(&cfg, 64ull << 20);
	cfg.fault = fault_fn;
	cfg.fault_arg = &f;
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &mem), SPC_OK);
	ck_assert_int_eq(spc_mem_degraded(mem), 1);
	ck_assert_uint_eq(spc_mem_budget(mem), 2 * SPC_MINIMAL_POOL_BYTES);
	spc_mem_fill_report(mem, &r);
	ck_assert_int_eq(r.degraded, 1);
	ck_assert_uint_eq(r.reserved_bytes, 0);
	ck_assert_uint_ge(r.n_attempts, 2);
	for (i = 0; i < SPC_POOL_COUNT; i++) {
		struct spc_pool *p = spc_mem_pool(mem, (enum spc_pool_id)i);
		size_t u = spc_pool_usable(p, 1000);
		void *q;

		ck_assert_uint_eq(r.pools[i].target_bytes, SPC_MINIMAL_POOL_BYTES);
		ck_assert_int_eq(r.pools[i].hard_capped, 0);
		ck_assert_int_eq(spc_pool_charge(p, u), SPC_OK);
		q = spc_pool_alloc(p, 1000);
		ck_assert_ptr_nonnull(q);
		memset(q, 0xab, 1000);
		spc_pool_free(p, q, 1000);
		spc_pool_uncharge(p, u);
		ck_assert_int_eq(spc_pool_charge(p, SPC_MINIMAL_POOL_BYTES + 1), SPC_EFULL);
		ck_assert_uint_eq(spc_pool_charged(p), 0);
	}
	spc_mem_close(mem);
}
END_TEST

/* Prefault commits each pool's share; a refused commit steps down. */
START_TEST(prefault_falls_down_the_ladder)
{
	struct fault_plan f = { SPC_FAULT_COMMIT, 1, 0 };
	struct spc_config cfg;
	struct spc_mem_report r;
	struct spc_mem *mem = NULL;

	small_config(&cfg, 16ull << 20);
	cfg.prefault = 1;
	cfg.fault = fault_fn;
	cfg.fault_arg = &f;
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &mem), SPC_OK);
	spc_mem_fill_report(mem, &r);
	ck_assert_int_eq(r.prefault, 1);
	ck_assert_uint_eq(r.n_attempts, 2);
	ck_assert_int_eq(r.attempts[0].ok, 0);
	ck_assert_ptr_nonnull(strstr(r.attempts[0].error, "commit"));
	ck_assert_uint_eq(r.attempts[0].bytes, 16ull << 20);
	ck_assert_int_eq(r.attempts[1].ok, 1);
	ck_assert_uint_eq(r.reserved_bytes, 8ull << 20);
	ck_assert_uint_eq(spc_mem_budget(mem), 8ull << 20);
	ck_assert_uint_eq(r.budget_bytes, 8ull << 20);
	ck_assert_int_eq(r.degraded, 0);
	spc_mem_close(mem);
}
END_TEST

/* Prefault that succeeds really commits: the pages are writable. */
START_TEST(prefault_commits_pages)
{
	struct spc_reservation res;
	struct spc_mem_report r;
	uint64_t t[SPC_POOL_COUNT];
	unsigned i;

	memset(&r, 0, sizeof r);
	ck_assert_int_eq(spc_ladder_reserve(NULL, 8ull << 20, 1, SPC_MODE_SPLIT, 0.25, &res, &r),
	                 SPC_OK);
	ck_assert_int_eq(spc_split_targets(res.budget, SPC_MODE_SPLIT, 0.25, t), SPC_OK);
	for (i = 0; i < SPC_POOL_COUNT; i++) {
		volatile char *b = (volatile char *)res.regions[i].base;

		b[0] = 1; /* would fault on a PROT_NONE page */
		b[t[i] - 1] = 2;
		ck_assert_int_eq(b[0] + b[t[i] - 1], 3);
	}
	spc_reservation_release(&res);
}
END_TEST

/* spc_mem_probe predicts what spc_mem_open builds; a 4 MiB budget and the
 * 1 MiB rung still get hard-capped arenas, and targets never sum above the
 * budget. */
START_TEST(probe_predicts_open)
{
	struct fault_plan f = { SPC_FAULT_RESERVE, _i, 0 };
	struct spc_config cfg;
	struct spc_mem_report probe, opened;
	struct spc_mem *mem = NULL;
	int i;

	small_config(&cfg, 4ull << 20);
	cfg.fault = fault_fn;
	cfg.fault_arg = &f;
	ck_assert_int_eq(spc_mem_probe(&cfg, &probe), SPC_OK);
	f.calls = 0;
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &mem), SPC_OK);
	spc_mem_fill_report(mem, &opened);
	ck_assert_uint_eq(probe.budget_bytes, opened.budget_bytes);
	ck_assert_uint_eq(opened.budget_bytes, _i == 0 ? 4ull << 20 : 1ull << 20);
	ck_assert_int_eq(opened.below_recommended_minimum, 1);
	ck_assert_uint_le(opened.pools[0].target_bytes + opened.pools[1].target_bytes,
	                  opened.budget_bytes);
	for (i = 0; i < SPC_POOL_COUNT; i++) {
		struct spc_pool *p = spc_mem_pool(mem, (enum spc_pool_id)i);
		void *q;

		ck_assert_uint_eq(probe.pools[i].target_bytes, opened.pools[i].target_bytes);
		ck_assert_int_eq(probe.pools[i].hard_capped, opened.pools[i].hard_capped);
#ifndef SPC_POOL_MALLOC
		/* Even the 1 MiB rung's region (1 MiB + 8 MiB slack) hosts an arena. */
		ck_assert_int_eq(opened.pools[i].hard_capped, 1);
#endif
		q = spc_pool_alloc(p, 5000);
		ck_assert_ptr_nonnull(q);
		spc_pool_free(p, q, 5000);
	}
	spc_mem_close(mem);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pools.ladder");
	TCase *tc = tcase_create("ladder");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, rungs_decrease_to_one_mib);
	tcase_add_test(tc, rungs_of_one_gib);
	tcase_add_loop_test(tc, first_k_reservations_fail, 0, 5);
	tcase_add_test(tc, all_reservations_fail);
	tcase_add_test(tc, degraded_still_usable);
	tcase_add_test(tc, prefault_falls_down_the_ladder);
	tcase_add_test(tc, prefault_commits_pages);
	tcase_add_loop_test(tc, probe_predicts_open, 0, 2);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
