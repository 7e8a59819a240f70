/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/integration/views/test_view_budget.c: view sub-budgets
 * (cfg.view_height_share, docs/views.md "Sub-budgets"): a flood of height
 * entries leaves the API entries resident and is evicted within its own
 * share, lowest heights first; a flood of API entries leaves the height
 * entries within their share resident; with one shared budget (the
 * default) the same floods evict the other kind, which is what the
 * setting is for. Synchronous and threaded maintenance.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "core/cache.h"

#define BUDGET (16u << 20)   /* view pool: 8 MiB */
#define VAL 1024u
#define RESIDENT 500u        /* entries of the kind that must stay */
#define FLOOD 40000u         /* ~45 MiB of the other kind */

static struct spc_cache *open_shared(double height_share, int sync)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = BUDGET;
	cfg.synchronous_maintenance = sync;
	cfg.view_height_share = height_share;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	return c;
}

static char val[VAL];

static void api_put(struct spc_cache *c, unsigned i)
{
	char name[32];
	int r;

	snprintf(name, sizeof name, "api/%06u", i);
	while ((r = spc_api_set(c, name, val, sizeof val)) == SPC_EFULL || r == SPC_EBUSY)
		; /* threaded: the maintainer is behind */
	ck_assert_int_eq(r, SPC_OK);
}

static int api_here(struct spc_cache *c, unsigned i)
{
	char name[32], buf[VAL];
	size_t n;

	snprintf(name, sizeof name, "api/%06u", i);
	return spc_api_get(c, name, buf, sizeof buf, &n) == SPC_OK;
}

static void height_put(struct spc_cache *c, uint64_t h, unsigned i)
{
	char k[32];
	int r;

	snprintf(k, sizeof k, "tx/%06u", i);
	while ((r = spc_set_at(c, h, k, strlen(k), val, sizeof val)) == SPC_EFULL || r == SPC_EBUSY)
		;
	ck_assert_int_eq(r, SPC_OK);
}

static int height_here(struct spc_cache *c, uint64_t h, unsigned i)
{
	char k[32], buf[VAL];
	size_t n;

	snprintf(k, sizeof k, "tx/%06u", i);
	return spc_get_at(c, h, k, strlen(k), buf, sizeof buf, &n) == SPC_OK;
}

static void settle(struct spc_cache *c)
{
	/* Lets a threaded maintainer finish what the floods left. */
	ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
}

static unsigned api_resident(struct spc_cache *c)
{
	unsigned n = 0;

	for (unsigned i = 0; i < RESIDENT; i++)
		n += api_here(c, i);
	return n;
}

/* Heights 1..FLOOD, one 1 KiB entry each, after RESIDENT API entries.
 * The flood pauses for the maintainer every 256 heights: the share is
 * enforced by the maintainer, and a writer that outruns it in threaded
 * mode can still push the pool past its watermark, where the pool-wide
 * eviction may take API entries (docs/views.md, "Sub-budgets"). */
static void height_flood(struct spc_cache *c)
{
	for (unsigned i = 0; i < RESIDENT; i++)
		api_put(c, i);
	for (unsigned h = 1; h <= FLOOD; h++) {
		height_put(c, h, h);
		if (h % 256 == 0)
			settle(c);
	}
	settle(c);
}

START_TEST(height_flood_leaves_api_entries_resident)
{
	struct spc_cache *c = open_shared(0.5, _i);
	struct spc_view_budget b;
	struct spc_stats st;

	memset(val, 'v', sizeof val);
	height_flood(c);
	ck_assert_uint_eq(api_resident(c), RESIDENT);
	ck_assert_int_eq(spc_view_budget(c, &b), SPC_OK);
	ck_assert(b.height_share == 0.5);
	ck_assert_uint_gt(b.height_evictions, 0);
	ck_assert_uint_le(b.height_bytes, b.height_cap_bytes);
	ck_assert_uint_le(b.height_cap_bytes, b.view_target_bytes / 2);
	ck_assert_uint_ge(b.other_bytes, RESIDENT * VAL);
	/* within their share, the lowest heights went first */
	ck_assert(height_here(c, FLOOD, FLOOD));
	ck_assert(!height_here(c, 1, 1));
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
	ck_assert_uint_le(st.charged_bytes, st.target_bytes);
	ck_assert_uint_ge(st.evictions, b.height_evictions);
	printf("sub-budgets on (%s): %u of %u API entries resident, %llu height evictions, "
	       "heights %llu of cap %llu bytes\n",
	       _i ? "synchronous" : "threaded", api_resident(c), RESIDENT,
	       (unsigned long long)b.height_evictions, (unsigned long long)b.height_bytes,
	       (unsigned long long)b.height_cap_bytes);
	spc_close(c);
}
END_TEST

/* The control: one shared budget, the same flood evicts API entries. */
START_TEST(height_flood_evicts_api_entries_when_shared)
{
	struct spc_cache *c = open_shared(0.0, _i);
	struct spc_view_budget b;
	unsigned left;

	memset(val, 'v', sizeof val);
	height_flood(c);
	left = api_resident(c);
	ck_assert_int_eq(spc_view_budget(c, &b), SPC_OK);
	ck_assert(b.height_share == 0.0);
	ck_assert_uint_eq(b.height_cap_bytes, 0);
	ck_assert_uint_eq(b.height_evictions, 0);
	printf("one shared budget (%s): %u of %u API entries resident\n",
	       _i ? "synchronous" : "threaded", left, RESIDENT);
	ck_assert_uint_lt(left, RESIDENT);
	spc_close(c);
}
END_TEST

/* The other way: API entries flood, height entries within their share
 * stay; with one shared budget they do not. */
START_TEST(api_flood_leaves_height_entries_resident)
{
	struct spc_cache *on = open_shared(0.5, _i), *off = open_shared(0.0, _i);
	struct spc_cache *cs[2] = { on, off };
	unsigned left[2] = { 0, 0 };

	memset(val, 'v', sizeof val);
	for (int k = 0; k < 2; k++) {
		for (unsigned i = 0; i < RESIDENT; i++)
			height_put(cs[k], 7, i);
		for (unsigned i = 0; i < FLOOD; i++)
			api_put(cs[k], i);
		settle(cs[k]);
		for (unsigned i = 0; i < RESIDENT; i++)
			left[k] += height_here(cs[k], 7, i);
		if (getenv("SPC_TEST_VERBOSE")) {
			struct spc_view_budget b;
			struct spc_stats st;

			spc_view_budget(cs[k], &b);
			spc_stats(cs[k], SPC_POOL_VIEW, &st);
			printf("k=%d heights %llu other %llu hcap %llu ocap %llu hev %llu ev %llu items %llu\n", k,
			       (unsigned long long)b.height_bytes, (unsigned long long)b.other_bytes,
			       (unsigned long long)b.height_cap_bytes, (unsigned long long)b.other_cap_bytes,
			       (unsigned long long)b.height_evictions, (unsigned long long)st.evictions,
			       (unsigned long long)st.items);
		}
	}
	printf("API flood (%s): %u of %u height entries resident with sub-budgets, %u shared\n",
	       _i ? "synchronous" : "threaded", left[0], RESIDENT, left[1]);
	ck_assert_uint_eq(left[0], RESIDENT);
	ck_assert_uint_lt(left[1], RESIDENT);
	spc_close(on);
	spc_close(off);
}
END_TEST

START_TEST(bad_share_refused)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;
	static const double bad[] = { -0.1, 1.0, 1.5 };

	for (unsigned i = 0; i < 3; i++) {
		spc_config_init(&cfg);
		cfg.use_env = 0;
		cfg.budget_bytes = BUDGET;
		cfg.view_height_share = bad[i];
		ck_assert_int_eq(spc_open(&cfg, &c), SPC_EINVAL);
		ck_assert_ptr_null(c);
	}
	ck_assert_int_eq(spc_view_budget(NULL, NULL), SPC_EINVAL);
}
END_TEST

static Suite *view_budget_suite(void)
{
	Suite *s = suite_create("view_budget");
	TCase *tc = tcase_create("shares");

	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, height_flood_leaves_api_entries_resident, 0, 2);
	tcase_add_loop_test(tc, height_flood_evicts_api_entries_when_shared, 0, 2);
	tcase_add_loop_test(tc, api_flood_leaves_height_entries_resident, 0, 2);
	tcase_add_test(tc, bad_share_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(view_budget_suite());
}
