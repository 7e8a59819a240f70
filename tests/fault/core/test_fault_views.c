/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/fault/core/test_fault_views.c: fail the N-th allocation, for every
 * N, through spc_set_at, spc_api_set, spc_invalidate_from_height,
 * spc_set_tip and spc_touch_at (its copy path, as arith's), transient and persistent, with a maintainer thread and
 * synchronously, until the operation completes without meeting a fault.
 * After a failure the view namespaces are exactly as before (contents,
 * counters, charge); after a success the operation's effect is there. The
 * per-height index's own growth failing on the maintainer evicts the new
 * entry at once and returns its bookkeeping charge. The ASan build checks
 * that nothing leaks.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "core/cache.h"

/* Our own hook rather than nth_fault.h: faults here also strike the
 * maintainer thread while the test thread arms and disarms, so every
 * shared field is read atomically. */
struct faults {
	unsigned long calls; /* atomic */
	unsigned long nth;   /* atomic; 0: disarmed */
	int persistent;      /* atomic */
	unsigned long hit;   /* atomic */
};

static int fault_hook(void *arg, enum spc_fault_site site, size_t bytes)
{
	struct faults *f = arg;
	unsigned long n, nth = __atomic_load_n(&f->nth, __ATOMIC_RELAXED);

	(void)site, (void)bytes;
	if (!nth)
		return 0;
	n = __atomic_add_fetch(&f->calls, 1, __ATOMIC_RELAXED);
	if (n == nth || (__atomic_load_n(&f->persistent, __ATOMIC_RELAXED) && n > nth)) {
		__atomic_fetch_add(&f->hit, 1, __ATOMIC_RELAXED);
		return 1;
	}
	return 0;
}

static void arm(struct faults *f, unsigned long nth, int persistent)
{
	__atomic_store_n(&f->calls, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&f->hit, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&f->persistent, persistent, __ATOMIC_RELAXED);
	__atomic_store_n(&f->nth, nth, __ATOMIC_RELAXED);
}

static void disarm(struct faults *f)
{
	__atomic_store_n(&f->nth, 0, __ATOMIC_RELAXED);
}

/* The small budgets here are below the recommended minimum on purpose. */
static void quiet(void *arg, enum spc_log_level level, const char *message)
{
	(void)arg, (void)level, (void)message;
}

static struct spc_cache *open_cache(struct faults *f, int sync)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 16u << 20;
	cfg.synchronous_maintenance = sync;
	cfg.fault = fault_hook;
	cfg.fault_arg = f;
	cfg.log = quiet;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	return c;
}

#define NK 40
#define H0 10u                 /* key i lives at height H0 + i */
#define CUT (H0 + NK / 2)      /* invalidations and lowerings cut here */

struct snapshot {
	char at[NK][64], api[NK][64];
	int has_at[NK], has_api[NK];
	struct spc_stats st;
	uint64_t tip;
};

static void key_of(char *k, size_t cap, int i)
{
	snprintf(k, cap, "v%d", i);
}

static void take(struct spc_cache *c, struct snapshot *s)
{
	char k[16];
	size_t n;

	memset(s, 0, sizeof *s);
	for (int i = 0; i < NK; i++) {
		key_of(k, sizeof k, i);
		s->has_at[i] = spc_get_at(c, H0 + (uint64_t)i, k, strlen(k), s->at[i], 63, &n) == SPC_OK;
		s->has_api[i] = spc_api_get(c, k, s->api[i], 63, &n) == SPC_OK;
	}
	ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &s->st), SPC_OK);
	s->tip = spc_tip(c);
}

static void same(const struct snapshot *a, const struct snapshot *b)
{
	for (int i = 0; i < NK; i++) {
		ck_assert_int_eq(a->has_at[i], b->has_at[i]);
		ck_assert_int_eq(a->has_api[i], b->has_api[i]);
		ck_assert_str_eq(a->at[i], b->at[i]);
		ck_assert_str_eq(a->api[i], b->api[i]);
	}
	ck_assert_uint_eq(a->st.items, b->st.items);
	ck_assert_uint_eq(a->st.charged_bytes, b->st.charged_bytes);
	ck_assert_uint_eq(a->st.inserts, b->st.inserts);
	ck_assert_uint_eq(a->st.deletes, b->st.deletes);
	ck_assert_uint_eq(a->st.evictions, b->st.evictions);
	ck_assert_uint_eq(a->tip, b->tip);
}

/* The same starting state for every N: keys 0..NK-2 at their heights and
 * as API names, key NK-1 absent, no tip. */
static void reset(struct spc_cache *c)
{
	char k[16];

	ck_assert_int_eq(spc_set_tip(c, UINT64_MAX), SPC_OK);
	for (int i = 0; i < NK - 1; i++) {
		key_of(k, sizeof k, i);
		ck_assert_int_eq(spc_set_at(c, H0 + (uint64_t)i, k, strlen(k), k, strlen(k)), SPC_OK);
		ck_assert_int_eq(spc_api_set(c, k, k, strlen(k)), SPC_OK);
	}
	key_of(k, sizeof k, NK - 1);
	spc_delete_at(c, H0 + NK - 1, k, strlen(k));
	spc_api_delete(c, k);
}

enum op {
	OP_SET_AT_NEW,
	OP_SET_AT_REPLACE,
	OP_API_SET_NEW,
	OP_INVALIDATE,
	OP_SET_TIP,
	OP_TOUCH_AT,
	OP_N
};

/* A deadline touch sets: far ahead of the cache clock (unix seconds). */
#define FAR_DEADLINE (UINT64_C(1) << 40)

static int run_op(struct spc_cache *c, enum op op, uint64_t *removed)
{
	char k[16];

	key_of(k, sizeof k, op == OP_SET_AT_REPLACE || op == OP_TOUCH_AT ? 3 : NK - 1);
	switch (op) {
	case OP_SET_AT_NEW:
	case OP_SET_AT_REPLACE:
		return spc_set_at(c, H0 + (op == OP_SET_AT_REPLACE ? 3u : NK - 1u), k, strlen(k),
		                  "new", 3);
	case OP_API_SET_NEW: return spc_api_set(c, k, "new", 3);
	case OP_INVALIDATE: return spc_invalidate_from_height(c, CUT, removed);
	case OP_SET_TIP: return spc_set_tip(c, CUT - 1);
	/* key 3 has no expiry slot: the touch publishes a copy with one */
	case OP_TOUCH_AT: return spc_touch_at(c, H0 + 3u, k, strlen(k), FAR_DEADLINE);
	case OP_N: break;
	}
	return SPC_EINVAL;
}

/* The effect of a successful op, against the state before it. */
static void check_effect(enum op op, const struct snapshot *b, const struct snapshot *a,
                         uint64_t removed)
{
	switch (op) {
	case OP_SET_AT_NEW:
	case OP_SET_AT_REPLACE: {
		int i = op == OP_SET_AT_REPLACE ? 3 : NK - 1;

		/* present, or evicted at once because the maintainer could not
		 * file it (its index failed to grow) */
		if (a->has_at[i])
			ck_assert_str_eq(a->at[i], "new");
		else
			ck_assert_uint_eq(a->st.evictions, b->st.evictions + 1);
		ck_assert_uint_eq(a->st.inserts, b->st.inserts + 1);
		break;
	}
	case OP_API_SET_NEW:
		ck_assert(a->has_api[NK - 1]);
		ck_assert_str_eq(a->api[NK - 1], "new");
		break;
	case OP_INVALIDATE:
	case OP_SET_TIP:
		for (int i = 0; i < NK; i++) {
			ck_assert_int_eq(a->has_at[i], b->has_at[i] && H0 + (uint64_t)i < CUT);
			ck_assert_int_eq(a->has_api[i], b->has_api[i]);
		}
		if (op == OP_INVALIDATE)
			ck_assert_uint_eq(removed, NK / 2 - 1);
		else
			ck_assert_uint_eq(a->tip, CUT - 1);
		ck_assert_uint_eq(a->st.deletes, b->st.deletes + NK / 2 - 1);
		ck_assert_uint_eq(a->st.items, b->st.items - (NK / 2 - 1));
		ck_assert_uint_eq(a->st.evictions, b->st.evictions);
		break;
	case OP_TOUCH_AT:
		/* the same value (a touch is not a store), or evicted at once
		 * as a store above */
		if (a->has_at[3])
			ck_assert_str_eq(a->at[3], "v3");
		else
			ck_assert_uint_eq(a->st.evictions, b->st.evictions + 1);
		ck_assert_uint_eq(a->st.inserts, b->st.inserts);
		break;
	case OP_N: break;
	}
}

static void check_op(enum op op, int persistent, int sync)
{
	struct faults f = { 0, 0, 0, 0 };
	struct spc_cache *c = open_cache(&f, sync);
	struct snapshot before, after;
	unsigned long n;

	for (n = 1; n < 1000; n++) {
		uint64_t removed = 0;
		int r;

		reset(c);
		take(c, &before);
		arm(&f, n, persistent);
		r = run_op(c, op, &removed);
		disarm(&f);
		take(c, &after);
		if (r == SPC_ENOMEM || (r == SPC_EFULL || r == SPC_EBUSY)) {
			ck_assert_uint_gt(__atomic_load_n(&f.hit, __ATOMIC_RELAXED), 0);
			same(&before, &after);
			continue;
		}
		ck_assert_int_eq(r, SPC_OK);
		check_effect(op, &before, &after, removed);
		if (__atomic_load_n(&f.hit, __ATOMIC_RELAXED) == 0)
			break;
	}
	ck_assert_uint_lt(n, 1000);
	spc_close(c);
}

START_TEST(view_ops_fail_cleanly)
{
	/* _i: op * 4 + persistent * 2 + sync */
	check_op((enum op)(_i / 4), (_i >> 1) & 1, _i & 1);
}
END_TEST

/* The per-height index grows on the maintainer when the 49th entry is
 * filed (tables of 64 at load 3/4): fail that growth, for every N, on a
 * fresh cache. The entry is evicted at once, its bookkeeping charge comes
 * back, and a reorganisation later finds exactly the others. */
START_TEST(index_growth_failure_evicts_cleanly)
{
	const int filed = 48;
	unsigned long n;
	char k[16];

	for (n = 1; n < 200; n++) {
		struct faults f = { 0, 0, 0, 0 };
		struct spc_cache *c = open_cache(&f, _i & 1);
		struct spc_stats base, st;
		uint64_t removed;
		int r, hit;

		ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
		ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &base), SPC_OK);
		for (int i = 0; i < filed; i++) {
			key_of(k, sizeof k, i);
			ck_assert_int_eq(spc_set_at(c, (uint64_t)i, k, strlen(k), "v", 1), SPC_OK);
		}
		ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
		arm(&f, n, (_i >> 1) & 1);
		r = spc_set_at(c, 1000, "new", 3, "v", 1);
		ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
		disarm(&f);
		hit = __atomic_load_n(&f.hit, __ATOMIC_RELAXED) > 0;
		ck_assert(r == SPC_OK || r == SPC_ENOMEM);
		ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
		ck_assert_uint_eq(st.items, (uint64_t)filed + (r == SPC_OK && st.evictions == 0));
		ck_assert_int_eq(spc_invalidate_from_height(c, 0, &removed), SPC_OK);
		ck_assert_uint_eq(removed, st.items);
		ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
		ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
		ck_assert_uint_eq(st.charged_bytes, base.charged_bytes);
		spc_close(c);
		if (!hit)
			break;
	}
	ck_assert_uint_lt(n, 200);
}
END_TEST

static Suite *fault_suite(void)
{
	Suite *s = suite_create("fault-views");
	TCase *tc = tcase_create("nth");

	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, view_ops_fail_cleanly, 0, OP_N * 4);
	tcase_add_loop_test(tc, index_growth_failure_evicts_cleanly, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(fault_suite());
}
