/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/fault/core/test_fault_core.c: fail the N-th allocation, for every
 * N, through spc_open, spc_set, spc_add, spc_delete, spc_set_mode, every
 * mode of spc_store, incr, touch (in place and by copy) and gat,
 * transient (only the N-th fails) and persistent (the N-th and every
 * later one fail), until the operation completes without meeting a fault.
 * After every failure the cache must be exactly as before (same contents,
 * same counters, same charge) and usable; the ASan build checks that no
 * failure leaks.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "core/cache.h"
#include "fault/core/nth_fault.h"

#define T0 1000000u /* the injected clock: constant */

static uint64_t fixed_clock(void *arg)
{
	(void)arg;
	return T0;
}

/* Set by a test that runs the cache without cas (cfg.no_cas). */
static int fault_no_cas;

static void config(struct spc_config *cfg, struct faults *f, int sync)
{
	spc_config_init(cfg);
	cfg->no_cas = fault_no_cas;
	cfg->clock = fixed_clock;
	cfg->use_env = 0;
	cfg->budget_bytes = 16u << 20;
	cfg->synchronous_maintenance = sync;
	cfg->fault = fault_hook;
	cfg->fault_arg = f;
}

#define NK 40

struct snapshot {
	unsigned char val[SPC_POOL_COUNT][NK][64];
	size_t len[SPC_POOL_COUNT][NK];
	int present[SPC_POOL_COUNT][NK];
	struct spc_value meta[SPC_POOL_COUNT][NK]; /* cas, flags, expiry */
	struct spc_stats st[SPC_POOL_COUNT];
};

static void take(struct spc_cache *c, struct snapshot *s)
{
	char k[16];

	memset(s, 0, sizeof *s);
	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		for (int i = 0; i < NK; i++) {
			snprintf(k, sizeof k, "f%d", i);
			s->present[p][i] = spc_get_item(c, p, k, strlen(k), s->val[p][i], 64,
			                                &s->meta[p][i]) == SPC_OK;
			s->len[p][i] = s->present[p][i] ? s->meta[p][i].len : 0;
			s->meta[p][i].data = NULL;
		}
		/* stats after the gets: hits and misses move with them */
		ck_assert_int_eq(spc_stats(c, p, &s->st[p]), SPC_OK);
	}
}

static void same(const struct snapshot *a, const struct snapshot *b)
{
	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		for (int i = 0; i < NK; i++) {
			ck_assert_int_eq(a->present[p][i], b->present[p][i]);
			if (a->present[p][i]) {
				ck_assert_uint_eq(a->len[p][i], b->len[p][i]);
				ck_assert_int_eq(memcmp(a->val[p][i], b->val[p][i], a->len[p][i]), 0);
				ck_assert_uint_eq(a->meta[p][i].cas, b->meta[p][i].cas);
				ck_assert_uint_eq(a->meta[p][i].flags, b->meta[p][i].flags);
				ck_assert_uint_eq(a->meta[p][i].expiry, b->meta[p][i].expiry);
			}
		}
		ck_assert_uint_eq(a->st[p].items, b->st[p].items);
		ck_assert_uint_eq(a->st[p].charged_bytes, b->st[p].charged_bytes);
		ck_assert_uint_eq(a->st[p].inserts, b->st[p].inserts);
		ck_assert_uint_eq(a->st[p].deletes, b->st[p].deletes);
		ck_assert_uint_eq(a->st[p].evictions, b->st[p].evictions);
		ck_assert_uint_eq(a->st[p].expirations, b->st[p].expirations);
		ck_assert_uint_eq(a->st[p].target_bytes, b->st[p].target_bytes);
	}
}

/* _i: bit 0 persistent, bit 1 synchronous maintenance */
START_TEST(open_fails_cleanly_at_every_allocation)
{
	struct faults f = { 0 };
	struct spc_config cfg;
	unsigned long n;

	config(&cfg, &f, (_i & 2) != 0);
	for (n = 1; n < 10000; n++) {
		struct spc_cache *c = (struct spc_cache *)&f; /* must be reset to NULL */
		int r;

		arm(&f, n, _i & 1);
		r = spc_open(&cfg, &c);
		disarm(&f);
		if (r == SPC_OK) {
			/* a reservation may fail and open degraded or smaller:
			 * still a working cache */
			char buf[4];
			size_t len;

			ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, "k", 1, "v", 1), SPC_OK);
			ck_assert_int_eq(spc_get(c, SPC_POOL_VIEW, "k", 1, buf, sizeof buf, &len), SPC_OK);
			spc_close(c);
			if (__atomic_load_n(&f.hit, __ATOMIC_RELAXED) == 0)
				break; /* completed without meeting a fault */
		} else {
			ck_assert(r == SPC_ENOMEM || r == SPC_ESYS);
			ck_assert_ptr_null(c);
			ck_assert_uint_gt(__atomic_load_n(&f.hit, __ATOMIC_RELAXED), 0);
		}
	}
	ck_assert_uint_lt(n, 10000);
}
END_TEST

enum op {
	OP_SET, OP_ADD_NEW, OP_ADD_EXISTING, OP_DELETE, OP_SET_MODE, OP_CLEAR, /* 0..5 */
	OP_SET_META, OP_REPLACE, OP_CAS, OP_APPEND, OP_PREPEND, OP_ADD_EXPIRED, /* 6..11 */
	OP_INCR, OP_TOUCH_COPY, OP_TOUCH_IN_PLACE, OP_GAT_COPY,                 /* 12..15 */
	OP_COUNT
};

#define K_NUM "f10"     /* index pool: "12345" */
#define K_SLOT "f11"    /* index pool: flags 7, an expiry slot */
#define K_EXPIRED "f12" /* index pool: expired (OP_ADD_EXPIRED only) */

static int run_op(struct spc_cache *c, enum op op, int round)
{
	struct spc_item meta = { 0xffffffffu, T0 + 100, 0 };
	struct spc_value got;
	char v[48], buf[64];

	snprintf(v, sizeof v, "round-%d-value", round);
	switch (op) {
	case OP_SET_META:
		return spc_store(c, SPC_POOL_VIEW, SPC_STORE_SET, "f3", 2, v, strlen(v), &meta, NULL);
	case OP_REPLACE:
		return spc_store(c, SPC_POOL_INDEX, SPC_STORE_REPLACE, "f3", 2, v, strlen(v), &meta,
		                 NULL);
	case OP_CAS:
		ck_assert_int_eq(spc_get_item(c, SPC_POOL_INDEX, "f4", 2, buf, sizeof buf, &got),
		                 SPC_OK);
		/* without cas: no cas matches, refused before any allocation */
		meta.cas = fault_no_cas ? 1 : got.cas;
		return spc_store(c, SPC_POOL_INDEX, SPC_STORE_CAS, "f4", 2, v, strlen(v), &meta, NULL);
	case OP_APPEND:
		return spc_store(c, SPC_POOL_INDEX, SPC_STORE_APPEND, K_SLOT, 3, v, strlen(v), NULL,
		                 NULL);
	case OP_PREPEND:
		return spc_store(c, SPC_POOL_INDEX, SPC_STORE_PREPEND, "f6", 2, v, strlen(v), NULL,
		                 NULL);
	case OP_ADD_EXPIRED:
		return spc_store(c, SPC_POOL_INDEX, SPC_STORE_ADD, K_EXPIRED, 3, v, strlen(v), NULL,
		                 NULL);
	case OP_INCR: return spc_incr(c, SPC_POOL_INDEX, K_NUM, 3, 99999, NULL, NULL);
	case OP_TOUCH_COPY: return spc_touch(c, SPC_POOL_INDEX, "f8", 2, T0 + 7);
	case OP_TOUCH_IN_PLACE: return spc_touch(c, SPC_POOL_INDEX, K_SLOT, 3, T0 + 9);
	case OP_GAT_COPY:
		return spc_gat(c, SPC_POOL_INDEX, "f9", 2, T0 + 8, buf, sizeof buf, &got);
	case OP_COUNT: break;
	case OP_SET: return spc_set(c, SPC_POOL_INDEX, "f3", 2, v, strlen(v));
	case OP_ADD_NEW: return spc_add(c, SPC_POOL_VIEW, "f39", 3, v, strlen(v));
	case OP_ADD_EXISTING: return spc_add(c, SPC_POOL_VIEW, "f5", 2, v, strlen(v));
	case OP_DELETE: return spc_delete(c, SPC_POOL_INDEX, "f7", 2);
	case OP_SET_MODE:
		return spc_set_mode(c, round & 1 ? SPC_MODE_VIEW : SPC_MODE_SPLIT, 0.5);
	case OP_CLEAR: return spc_clear(c, SPC_POOL_VIEW);
	}
	return SPC_EINVAL;
}

static void check_op(enum op op, int persistent, int sync)
{
	struct faults f = { 0 };
	struct spc_config cfg;
	struct spc_cache *c = NULL;
	struct snapshot before, after;
	unsigned long n, failures = 0;
	char k[16];

	if (op == OP_ADD_EXPIRED && !sync)
		return;
	config(&cfg, &f, sync);
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	for (unsigned long round = 0; round < 3; round++) {
		for (n = 1; n < 1000; n++) {
			int r;

			/* the same starting state for every N */
			for (int i = 0; i < NK - 1; i++) {
				snprintf(k, sizeof k, "f%d", i);
				ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, k, strlen(k), k, strlen(k)), SPC_OK);
				ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, k, strlen(k), "view", 4), SPC_OK);
			}
			ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, K_NUM, 3, "12345", 5), SPC_OK);
			ck_assert_int_eq(spc_store(c, SPC_POOL_INDEX, SPC_STORE_SET, K_SLOT, 3, "s", 1,
			                           &(struct spc_item){ 7, T0 + 50, 0 }, NULL),
			                 SPC_OK);
			/* An expired entry only where the op needs it, and only
			 * in synchronous mode: a maintainer thread might reclaim
			 * it between the two snapshots. */
			if (op == OP_ADD_EXPIRED)
				ck_assert_int_eq(spc_store(c, SPC_POOL_INDEX, SPC_STORE_SET, K_EXPIRED, 3,
				                           "x", 1, &(struct spc_item){ 0, T0, 0 }, NULL),
				                 SPC_OK);
			spc_delete(c, SPC_POOL_VIEW, "f39", 3);
			ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
			take(c, &before);
			arm(&f, n, persistent);
			r = run_op(c, op, (int)round);
			disarm(&f);
			ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
			take(c, &after);
			if (r == SPC_ENOMEM || (r == SPC_EFULL || r == SPC_EBUSY)) {
				ck_assert_uint_gt(__atomic_load_n(&f.hit, __ATOMIC_RELAXED), 0);
				failures++;
				/* the gets of take() moved hits/misses only */
				same(&before, &after);
				continue;
			}
			if (op == OP_ADD_EXISTING || (op == OP_CAS && fault_no_cas))
				ck_assert_int_eq(r, SPC_EEXISTS);
			else
				ck_assert_int_eq(r, SPC_OK);
			if (__atomic_load_n(&f.hit, __ATOMIC_RELAXED) == 0)
				break;
		}
		ck_assert_uint_lt(n, 1000);
	}
	/* every item operation that allocates met a fault at least once */
	if (op >= OP_SET_META && op != OP_TOUCH_IN_PLACE && !(op == OP_CAS && fault_no_cas))
		ck_assert_uint_gt(failures, 0);
	spc_close(c);
}

START_TEST(every_write_fails_cleanly)
{
	/* _i: no_cas * OP_COUNT * 4 + op * 4 + persistent * 2 + sync */
	int i = _i % (OP_COUNT * 4);

	fault_no_cas = _i >= OP_COUNT * 4;
	check_op((enum op)(i / 4), (i >> 1) & 1, i & 1);
	fault_no_cas = 0;
}
END_TEST

static void *warm_slab(void *arg)
{
	/* Same size as the entry below: its slab class gets its slab here. */
	ck_assert_int_eq(spc_set(arg, SPC_POOL_INDEX, "w", 1, "v", 1), SPC_OK);
	return NULL;
}

/* A thread whose statistics slot cannot be allocated still works, counted
 * in the cache's shared slot. The entry's slab is made by another thread
 * first, so the only bookkeeping allocation left for this thread's first
 * write is its statistics slot. Only this thread's allocations fail: a
 * maintainer admitting the entries meanwhile must not meet the fault (its
 * policy, unable to grow a queue, would take the new entry out again). */
START_TEST(stats_slot_allocation_failure_uses_shared_slot)
{
	struct faults f = { 0 };
	struct spc_config cfg;
	struct spc_cache *c = NULL;
	struct spc_stats st;
	pthread_t t;
	char buf[8];
	size_t n;

	config(&cfg, &f, 0);
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	ck_assert_int_eq(pthread_create(&t, NULL, warm_slab, c), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	__atomic_store_n(&f.only_malloc, 1, __ATOMIC_RELAXED);
	f.thread = pthread_self();
	f.one_thread = 1;
	arm(&f, 1, 1);
	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, "s", 1, "v", 1), SPC_OK);
	ck_assert_int_eq(spc_get(c, SPC_POOL_INDEX, "s", 1, buf, sizeof buf, &n), SPC_OK);
	ck_assert_int_eq(spc_get(c, SPC_POOL_INDEX, "t", 1, buf, sizeof buf, &n), SPC_ENOTFOUND);
	disarm(&f);
	ck_assert_uint_gt(__atomic_load_n(&f.hit, __ATOMIC_RELAXED), 0);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_eq(st.inserts, 2);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_uint_eq(st.misses, 1);
	ck_assert_uint_eq(st.items, 2);
	spc_close(c);
}
END_TEST

/* An index shrink that cannot get its smaller table is retried, and a
 * quiet cache is one whose index has its size: 12,000 entries grow the
 * index pool's table past its first size (1,024 buckets hold 10,240 at 10
 * per bucket with 12-slot lines, 6,144 with 7-slot lines); with every allocation failing
 * they are deleted, so the shrink after them fails; once the faults stop,
 * spc_cache_quiesce returns with the table back at its first size and the
 * charge where it began. _i: 0 a maintainer thread, 1 synchronous. */
START_TEST(index_shrink_failure_is_retried)
{
	enum { N = 12000 };
	struct faults f = { 0 };
	struct spc_config cfg;
	struct spc_cache *c = NULL;
	struct spc_stats base, st;
	char k[16];

	config(&cfg, &f, _i);
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &base), SPC_OK);
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof k, "g%d", i);
		ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, k, strlen(k), "v", 1), SPC_OK);
	}
	ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_eq(st.items, N);
	ck_assert_uint_gt(st.index_bytes, base.index_bytes);
	arm(&f, 1, 1);
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof k, "g%d", i);
		ck_assert_int_eq(spc_delete(c, SPC_POOL_INDEX, k, strlen(k)), SPC_OK);
	}
	/* gives the maintainer steps (its shrink fails); not quiet meanwhile */
	ck_assert_int_eq(spc_cache_quiesce(c, 300), SPC_ETIMEDOUT);
	disarm(&f);
	ck_assert_uint_gt(__atomic_load_n(&f.hit, __ATOMIC_RELAXED), 0);
	ck_assert_int_eq(spc_cache_quiesce(c, 20000), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_eq(st.items, 0);
	ck_assert_uint_eq(st.index_bytes, base.index_bytes);
	ck_assert_uint_eq(st.charged_bytes, base.charged_bytes);
	spc_close(c);
}
END_TEST

static Suite *fault_suite(void)
{
	Suite *s = suite_create("fault-core");
	TCase *tc = tcase_create("nth");

	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, open_fails_cleanly_at_every_allocation, 0, 4);
	tcase_add_loop_test(tc, every_write_fails_cleanly, 0, OP_COUNT * 8); /* cas, no cas */
	tcase_add_test(tc, stats_slot_allocation_failure_uses_shared_slot);
	tcase_add_loop_test(tc, index_shrink_failure_is_retried, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(fault_suite());
}
