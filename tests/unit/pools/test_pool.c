/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of pools/pool.c (P1, P2), pools/arena.c (A1-A3) and
 * pools/report.c (R1, R2); P5 and S7 in test_give_back.c.
 */
#include <check.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#ifndef SPC_POOL_MALLOC
#include <jemalloc/jemalloc.h>
#endif
#include "pools/pools.h"

static void small_config(struct spc_config *cfg, uint64_t budget)
{
	spc_config_init(cfg);
	cfg->use_env = 0;
	cfg->budget_bytes = budget;
}

/* ---- P1: split arithmetic ---------------------------------------------- */

START_TEST(split_never_above_budget)
{
	static const uint64_t budgets[] = { 2ull << 20, 4ull << 20, (4ull << 20) + 1, 188743680,
	                                    1ull << 30, (3ull << 30) + 7, 1ull << 40 };
	static const double shares[] = { 0.001, 0.1, 0.25, 0.5, 0.75, 0.999 };
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), t[SPC_POOL_COUNT];
	unsigned b, s;

	for (b = 0; b < sizeof budgets / sizeof budgets[0]; b++) {
		uint64_t B = budgets[b];

		ck_assert_int_eq(spc_split_targets(B, SPC_MODE_INDEXER, 0.5, t), SPC_OK);
		ck_assert_uint_eq(t[SPC_POOL_VIEW], SPC_MINIMAL_POOL_BYTES);
		ck_assert_uint_eq(t[SPC_POOL_INDEX], B - SPC_MINIMAL_POOL_BYTES);
		ck_assert_int_eq(spc_split_targets(B, SPC_MODE_VIEW, 0.5, t), SPC_OK);
		ck_assert_uint_eq(t[SPC_POOL_INDEX], SPC_MINIMAL_POOL_BYTES);
		ck_assert_uint_eq(t[SPC_POOL_VIEW], B - SPC_MINIMAL_POOL_BYTES);
		for (s = 0; s < sizeof shares / sizeof shares[0]; s++) {
			ck_assert_int_eq(spc_split_targets(B, SPC_MODE_SPLIT, shares[s], t), SPC_OK);
			ck_assert_uint_le(t[0] + t[1], B);
			ck_assert_uint_eq(t[0] % page, 0);
			ck_assert_uint_eq(t[1] % page, 0);
			/* Rounding loses less than two pages. */
			ck_assert_uint_lt(B - (t[0] + t[1]), 2 * page);
			ck_assert_uint_le(t[SPC_POOL_VIEW], (uint64_t)((double)B * shares[s]));
		}
	}
}
END_TEST

START_TEST(split_quarter_is_three_to_one)
{
	uint64_t t[SPC_POOL_COUNT];

	ck_assert_int_eq(spc_split_targets(1ull << 30, SPC_MODE_SPLIT, 0.25, t), SPC_OK);
	ck_assert_uint_eq(t[SPC_POOL_VIEW], 1ull << 28);
	ck_assert_uint_eq(t[SPC_POOL_INDEX], 3 * t[SPC_POOL_VIEW]);
}
END_TEST

START_TEST(split_invalid)
{
	uint64_t t[SPC_POOL_COUNT];

	ck_assert_int_eq(spc_split_targets(1ull << 30, (enum spc_mode)7, 0.5, t), SPC_EINVAL);
	ck_assert_int_eq(spc_split_targets(1ull << 30, SPC_MODE_SPLIT, 0.0, t), SPC_EINVAL);
	ck_assert_int_eq(spc_split_targets(1ull << 30, SPC_MODE_SPLIT, 1.0, t), SPC_EINVAL);
	ck_assert_int_eq(spc_split_targets(1ull << 30, SPC_MODE_SPLIT, -0.5, t), SPC_EINVAL);
	ck_assert_int_eq(spc_split_targets(1ull << 30, SPC_MODE_SPLIT, NAN, t), SPC_EINVAL);
	ck_assert_int_eq(spc_split_targets(SPC_MINIMAL_POOL_BYTES, SPC_MODE_INDEXER, 0.5, t),
	                 SPC_EINVAL);
}
END_TEST

START_TEST(open_rejects_bad_mode)
{
	struct spc_config cfg;
	struct spc_mem *mem = (struct spc_mem *)&cfg; /* must stay untouched */
	struct spc_mem_report r;

	small_config(&cfg, 16ull << 20);
	cfg.view_share = 1.5;
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &mem), SPC_EINVAL);
	ck_assert_ptr_eq(mem, (struct spc_mem *)&cfg);
	ck_assert_int_eq(spc_mem_probe(&cfg, &r), SPC_EINVAL);
	cfg.view_share = 0.5;
	cfg.mode = (enum spc_mode)9;
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &mem), SPC_EINVAL);
}
END_TEST

/* ---- P2: charging ------------------------------------------------------ */

START_TEST(charge_exact)
{
	struct spc_config cfg;
	struct spc_mem *mem = NULL;
	struct spc_pool *p;

	small_config(&cfg, 16ull << 20);
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &mem), SPC_OK);
	p = spc_mem_pool(mem, SPC_POOL_VIEW);
	ck_assert_ptr_null(spc_mem_pool(mem, (enum spc_pool_id)2));
	spc_pool_set_target(p, 1000);
	ck_assert_uint_eq(spc_pool_target(p), 1000);
	ck_assert_int_eq(spc_pool_charge(p, 600), SPC_OK);
	ck_assert_int_eq(spc_pool_charge(p, 400), SPC_OK);
	ck_assert_int_eq(spc_pool_charge(p, 1), SPC_EFULL);
	ck_assert_uint_eq(spc_pool_charged(p), 1000);
	spc_pool_uncharge(p, 400);
	ck_assert_int_eq(spc_pool_charge(p, UINT64_MAX), SPC_EFULL);
	ck_assert_int_eq(spc_pool_charge(p, UINT64_MAX - 100), SPC_EFULL);
	ck_assert_uint_eq(spc_pool_charged(p), 600);
	/* Shrinking below the charge refuses new charges until shed. */
	spc_pool_set_target(p, 500);
	ck_assert_int_eq(spc_pool_charge(p, 1), SPC_EFULL);
	spc_pool_uncharge(p, 600);
	ck_assert_int_eq(spc_pool_charge(p, 500), SPC_OK);
	spc_pool_uncharge(p, 500);
	/* The other pool is independent. */
	ck_assert_uint_eq(spc_pool_charged(spc_mem_pool(mem, SPC_POOL_INDEX)), 0);
	spc_mem_close(mem);
}
END_TEST

struct hammer {
	struct spc_pool *pool;
	uint64_t target;
	unsigned seed;
	_Atomic int over; /* set when a thread saw charged > target */
	_Atomic uint64_t ok;
};

static void *hammer_thread(void *arg)
{
	struct hammer *h = arg;
	unsigned x = h->seed;
	int i;

	for (i = 0; i < 200000; i++) {
		uint64_t n;

		x = x * 1103515245u + 12345u;
		n = 1 + (x >> 8) % 3000;
		if (spc_pool_charge(h->pool, n) == SPC_OK) {
			atomic_fetch_add(&h->ok, 1);
			if (spc_pool_charged(h->pool) > h->target)
				atomic_store(&h->over, 1);
			spc_pool_uncharge(h->pool, n);
		} else if (spc_pool_charged(h->pool) > h->target) {
			atomic_store(&h->over, 1);
		}
	}
	return NULL;
}

START_TEST(charge_never_passes_target_two_threads)
{
	struct spc_config cfg;
	struct spc_mem *mem = NULL;
	struct hammer h[2];
	pthread_t t[2];
	int i;

	small_config(&cfg, 16ull << 20);
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &mem), SPC_OK);
	spc_pool_set_target(spc_mem_pool(mem, SPC_POOL_INDEX), 5000);
	for (i = 0; i < 2; i++) {
		memset(&h[i], 0, sizeof h[i]);
		h[i].pool = spc_mem_pool(mem, SPC_POOL_INDEX);
		h[i].target = 5000;
		h[i].seed = 17u + (unsigned)i * 7919u;
		ck_assert_int_eq(pthread_create(&t[i], NULL, hammer_thread, &h[i]), 0);
	}
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(atomic_load(&h[i].over), 0);
		ck_assert_uint_gt(atomic_load(&h[i].ok), 0);
	}
	ck_assert_uint_eq(spc_pool_charged(spc_mem_pool(mem, SPC_POOL_INDEX)), 0);
	spc_mem_close(mem);
}
END_TEST

/* ---- A1-A3: arenas ----------------------------------------------------- */

/* Allocates n-byte blocks until the pool says no; every pointer must lie
 * inside the region (A1). min_share: the part of the region that must have
 * been handed out (a fresh region: half; after churn jemalloc may not
 * coalesce retained pieces across its growth steps, so less). */
static __attribute__((unused)) /* no caller in SPC_POOL_MALLOC builds */
void alloc_until_null(struct spc_pool *p, size_t n, const char *base, size_t size,
                      unsigned min_share_pct)
{
	size_t cap = size / n * 2 + 16, count = 0, i;
	void **ptrs = calloc(cap, sizeof *ptrs);
	int got_null = 0;

	ck_assert_ptr_nonnull(ptrs);
	while (count < cap) {
		char *q = spc_pool_alloc(p, n);

		if (!q) {
			got_null = 1;
			break;
		}
		ck_assert_msg(q >= base && q + n <= base + size, "%p outside [%p, %p)", (void *)q,
		              (const void *)base, (const void *)(base + size));
		q[0] = 1;
		q[n - 1] = 2;
		ptrs[count++] = q;
	}
	ck_assert_msg(got_null, "the region never ran out");
	ck_assert_uint_ge(count, 1);
	ck_assert_uint_ge(count * spc_pool_usable(p, n), size / 100 * min_share_pct);
	for (i = 0; i < count; i++)
		spc_pool_free(p, ptrs[i], n);
	free(ptrs);
}

START_TEST(arena_stays_in_region)
{
#ifdef SPC_POOL_MALLOC
	printf("SKIP arena_stays_in_region: SPC_POOL_MALLOC build has no jemalloc arenas\n");
#else
	static const size_t sizes[] = { 48, 4000, 64 << 10, 1 << 20 };
	struct spc_config cfg;
	struct spc_mem *mem = NULL;
	struct spc_mem_report r;
	const void *base;
	size_t size;
	int i;

	small_config(&cfg, 16ull << 20);
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &mem), SPC_OK);
	spc_mem_fill_report(mem, &r);
	for (i = 0; i < SPC_POOL_COUNT; i++) {
		struct spc_pool *p = spc_mem_pool(mem, (enum spc_pool_id)i);

		ck_assert_int_eq(spc_pool_region(p, &base, &size), 1);
		ck_assert_uint_eq(size, (16u << 20) + (8u << 20) + (1u << 20));
		ck_assert_int_eq(r.pools[i].hard_capped, 1);
		ck_assert_uint_ge(r.pools[i].arena_index, 1);
		/* Both pools, one size each, then the same pool again after
		 * freeing: retained extents are reused, still inside. */
		alloc_until_null(p, sizes[i], base, size, 80);
		alloc_until_null(p, sizes[i + 2], base, size, 25);
	}
	spc_mem_close(mem);
#endif
}
END_TEST

/* After a mode change one pool may hold almost the whole budget: its
 * region must let it reach its target. Charge-then-allocate until the
 * charge says EFULL; no allocation may fail before, none may land outside. */
START_TEST(pool_reaches_target_after_mode_change)
{
#ifdef SPC_POOL_MALLOC
	printf("SKIP pool_reaches_target_after_mode_change: SPC_POOL_MALLOC build\n");
#else
	static const size_t sizes[] = { 100, 4000, 16000, 200000, 1 << 20 };
	size_t n = sizes[_i], u, count = 0, cap, i;
	struct spc_config cfg;
	struct spc_mem *mem = NULL;
	struct spc_pool *p;
	uint64_t t[SPC_POOL_COUNT];
	const void *base;
	size_t size;
	char **ptrs;

	small_config(&cfg, 16ull << 20);
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &mem), SPC_OK);
	ck_assert_int_eq(spc_mem_mode_targets(mem, SPC_MODE_INDEXER, 0.5, t), SPC_OK);
	spc_pool_set_target(spc_mem_pool(mem, SPC_POOL_VIEW), t[SPC_POOL_VIEW]);
	p = spc_mem_pool(mem, SPC_POOL_INDEX);
	spc_pool_set_target(p, t[SPC_POOL_INDEX]);
	ck_assert_uint_eq(spc_pool_target(p), (15ull << 20));
	ck_assert_int_eq(spc_pool_region(p, &base, &size), 1);
	u = spc_pool_usable(p, n);
	cap = t[SPC_POOL_INDEX] / u + 1;
	ptrs = calloc(cap, sizeof *ptrs);
	ck_assert_ptr_nonnull(ptrs);
	while (spc_pool_charge(p, u) == SPC_OK) {
		char *q = spc_pool_alloc(p, n);

		ck_assert_msg(q, "size %zu: NULL after %zu allocations, charged %llu of %llu", n,
		              count, (unsigned long long)spc_pool_charged(p),
		              (unsigned long long)spc_pool_target(p));
		ck_assert(q >= (const char *)base && q + n <= (const char *)base + size);
		ptrs[count++] = q;
	}
	ck_assert_uint_gt(spc_pool_charged(p) + u, spc_pool_target(p));
	for (i = 0; i < count; i++) {
		spc_pool_free(p, ptrs[i], n);
		spc_pool_uncharge(p, u);
	}
	free(ptrs);
	spc_mem_close(mem);
#endif
}
END_TEST

START_TEST(usable_size)
{
	struct spc_config cfg;
	struct spc_mem *mem = NULL;
	struct spc_pool *p;
	size_t n;

	small_config(&cfg, 16ull << 20);
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &mem), SPC_OK);
	p = spc_mem_pool(mem, SPC_POOL_INDEX);
	for (n = 1; n < 100000; n = n * 3 + 1) {
		size_t u = spc_pool_usable(p, n);

		ck_assert_uint_ge(u, n);
#ifdef SPC_POOL_MALLOC
		ck_assert_uint_eq(u, (n + 15) & ~(size_t)15);
#else
		/* Up to 2 KiB: the slab layer's finer class (test_slab.c);
		 * above: jemalloc's size class, plus the cache-oblivious
		 * page jemalloc really occupies beyond its slab sizes. */
		if (n <= 2048)
			ck_assert_uint_le(u, nallocx(n, 0));
		else
			ck_assert_msg(u == nallocx(n, 0) ||
			              u == nallocx(n, 0) + (size_t)sysconf(_SC_PAGESIZE),
			              "usable(%zu) = %zu, nallocx %zu", n, u, nallocx(n, 0));
#endif
	}
	spc_mem_close(mem);
}
END_TEST

/* Two handles at once: no global state (docs/style.md 13). */
START_TEST(two_handles)
{
	struct spc_config cfg;
	struct spc_mem *a = NULL, *b = NULL;
	void *p, *q;

	small_config(&cfg, 16ull << 20);
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &a), SPC_OK);
	cfg.budget_bytes = 32ull << 20;
	cfg.mode = SPC_MODE_INDEXER;
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &b), SPC_OK);
	ck_assert_uint_eq(spc_mem_budget(a), 16ull << 20);
	ck_assert_uint_eq(spc_mem_budget(b), 32ull << 20);
	ck_assert_uint_eq(spc_pool_target(spc_mem_pool(b, SPC_POOL_VIEW)), SPC_MINIMAL_POOL_BYTES);
	p = spc_pool_alloc(spc_mem_pool(a, SPC_POOL_VIEW), 100);
	q = spc_pool_alloc(spc_mem_pool(b, SPC_POOL_VIEW), 100);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	spc_pool_free(spc_mem_pool(a, SPC_POOL_VIEW), p, 100);
	spc_pool_free(spc_mem_pool(b, SPC_POOL_VIEW), q, 100);
	spc_mem_close(b);
	spc_mem_close(a);
}
END_TEST

/* Frees may come from another thread (the call_rcu worker): allocate on
 * this thread, free on a second one, then reuse the pool. */
struct cross {
	struct spc_pool *pool;
	void **ptrs;
	size_t count, n;
};

static void *free_all(void *arg)
{
	struct cross *c = arg;
	size_t i;

	for (i = 0; i < c->count; i++)
		spc_pool_free(c->pool, c->ptrs[i], c->n);
	return NULL;
}

START_TEST(free_on_another_thread)
{
	struct spc_config cfg;
	struct spc_mem *mem = NULL;
	struct cross c;
	void *ptrs[2000];
	pthread_t t;
	size_t i;

	small_config(&cfg, 16ull << 20);
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &mem), SPC_OK);
	c.pool = spc_mem_pool(mem, SPC_POOL_VIEW);
	c.ptrs = ptrs;
	c.count = 2000;
	c.n = 3000;
	for (i = 0; i < c.count; i++) {
		ptrs[i] = spc_pool_alloc(c.pool, c.n);
		ck_assert_ptr_nonnull(ptrs[i]);
		memset(ptrs[i], (int)i, c.n);
	}
	ck_assert_int_eq(pthread_create(&t, NULL, free_all, &c), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	for (i = 0; i < c.count; i++) {
		ptrs[i] = spc_pool_alloc(c.pool, c.n);
		ck_assert_ptr_nonnull(ptrs[i]);
	}
	ck_assert_int_eq(pthread_create(&t, NULL, free_all, &c), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	spc_pool_trim(c.pool);
	spc_mem_close(mem);
}
END_TEST

/* The report may be read while the mode is noted and pools are charged
 * (TSan checks the locking). */
struct reporter {
	struct spc_mem *mem;
	_Atomic int stop;
};

static void *report_loop(void *arg)
{
	struct reporter *rp = arg;
	struct spc_mem_report *r = malloc(sizeof *r);

	ck_assert_ptr_nonnull(r);
	while (!atomic_load(&rp->stop)) {
		spc_mem_fill_report(rp->mem, r);
		ck_assert(r->mode == SPC_MODE_SPLIT || r->mode == SPC_MODE_VIEW);
	}
	free(r);
	return NULL;
}

START_TEST(report_during_mode_changes)
{
	struct spc_config cfg;
	struct reporter rp;
	pthread_t t;
	uint64_t tg[SPC_POOL_COUNT];
	int i;

	small_config(&cfg, 16ull << 20);
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &rp.mem), SPC_OK);
	atomic_init(&rp.stop, 0);
	ck_assert_int_eq(pthread_create(&t, NULL, report_loop, &rp), 0);
	for (i = 0; i < 2000; i++) {
		enum spc_mode m = i % 2 ? SPC_MODE_VIEW : SPC_MODE_SPLIT;
		struct spc_pool *p = spc_mem_pool(rp.mem, SPC_POOL_INDEX);

		ck_assert_int_eq(spc_mem_mode_targets(rp.mem, m, 0.5, tg), SPC_OK);
		spc_pool_set_target(p, tg[SPC_POOL_INDEX]);
		spc_pool_set_target(spc_mem_pool(rp.mem, SPC_POOL_VIEW), tg[SPC_POOL_VIEW]);
		spc_mem_note_mode(rp.mem, m, 0.5);
		if (spc_pool_charge(p, 100) == SPC_OK)
			spc_pool_uncharge(p, 100);
	}
	atomic_store(&rp.stop, 1);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(spc_mem_mode_targets(rp.mem, SPC_MODE_SPLIT, 2.0, tg), SPC_EINVAL);
	spc_mem_close(rp.mem);
}
END_TEST

/* ---- R1, R2: the report ------------------------------------------------ */

START_TEST(report_renders)
{
	static const char *keys[] = {
		"\"budget_bytes\"", "\"max_budget_bytes\"", "\"tightest_source\"", "\"sources\"",
		"\"name\"", "\"bytes\"", "\"path\"", "\"note\"", "\"reservation\"", "\"attempts\"",
		"\"ok\"", "\"error\"", "\"reserved_bytes\"", "\"prefault\"", "\"mode\": \"view\"",
		"\"view_share\"", "\"pools\"", "\"index\"", "\"view\"", "\"target_bytes\"",
		"\"recommended_min_bytes\"", "\"below_recommended_minimum\"", "\"degraded\": false",
		"\"charged_bytes\": 4096", "\"explicit_cut\"",
	};
	static const char *names[] = { "cgroup2.memory.max", "cgroup2.memory.high",
	                               "cgroup1.memory.limit_in_bytes", "meminfo.MemAvailable",
	                               "meminfo.MemTotal", "rlimit.as", "rlimit.data",
	                               "commit.headroom", "override" };
	struct spc_config cfg;
	struct spc_mem *mem = NULL;
	struct spc_mem_report r;
	char *buf = malloc(1 << 16), tiny[16];
	size_t needed = 0, needed2 = 0;
	unsigned i;

	ck_assert_ptr_nonnull(buf);
	small_config(&cfg, 16ull << 20);
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &mem), SPC_OK);
	ck_assert_int_eq(spc_pool_charge(spc_mem_pool(mem, SPC_POOL_VIEW), 4096), SPC_OK);
	spc_mem_note_mode(mem, SPC_MODE_VIEW, 0.5);
	spc_mem_fill_report(mem, &r);
	ck_assert_int_eq(r.mode, SPC_MODE_VIEW);
	ck_assert_int_eq(spc_mem_report_json(&r, buf, 1 << 16, &needed), SPC_OK);
	ck_assert_uint_eq(strlen(buf), needed);
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		ck_assert_msg(strstr(buf, keys[i]), "JSON lacks %s:\n%s", keys[i], buf);
	ck_assert_int_eq(spc_mem_report_json(&r, tiny, sizeof tiny, &needed2), SPC_ERANGE);
	ck_assert_uint_eq(needed2, needed);
	ck_assert_uint_eq(strlen(tiny), sizeof tiny - 1);
	ck_assert_int_eq(spc_mem_report_text(&r, buf, 1 << 16, &needed), SPC_OK);
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		ck_assert_msg(strstr(buf, names[i]), "text lacks %s", names[i]);
	ck_assert_ptr_nonnull(strstr(buf, "rule:"));
	ck_assert_int_eq(spc_mem_report_text(&r, tiny, sizeof tiny, &needed2), SPC_ERANGE);
	ck_assert_uint_eq(needed2, needed);
	spc_pool_uncharge(spc_mem_pool(mem, SPC_POOL_VIEW), 4096);
	spc_mem_close(mem);
	free(buf);
}
END_TEST

START_TEST(json_escapes_strings)
{
	struct spc_mem_report r;
	char buf[8192];

	memset(&r, 0, sizeof r);
	r.tightest_source = "a\"b\\c\n";
	ck_assert_int_eq(spc_mem_report_json(&r, buf, sizeof buf, NULL), SPC_OK);
	ck_assert_ptr_nonnull(strstr(buf, "\"a\\\"b\\\\c\\n\""));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pools.pool");
	TCase *tc = tcase_create("pool");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, split_never_above_budget);
	tcase_add_test(tc, split_quarter_is_three_to_one);
	tcase_add_test(tc, split_invalid);
	tcase_add_test(tc, open_rejects_bad_mode);
	tcase_add_test(tc, charge_exact);
	tcase_add_test(tc, charge_never_passes_target_two_threads);
	tcase_add_test(tc, arena_stays_in_region);
	tcase_add_loop_test(tc, pool_reaches_target_after_mode_change, 0, 5);
	tcase_add_test(tc, usable_size);
	tcase_add_test(tc, two_handles);
	tcase_add_test(tc, free_on_another_thread);
	tcase_add_test(tc, report_during_mode_changes);
	tcase_add_test(tc, report_renders);
	tcase_add_test(tc, json_escapes_strings);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
