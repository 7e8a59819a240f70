/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/core/test_view_index.c: the view pool's per-height index in
 * the cache: its bookkeeping charge (per height entry only, returned when
 * the entry leaves), and its life with eviction, replacement, delete and
 * clear: entries evicted under pressure leave the index (the ASan build
 * would report a reorganisation touching a freed entry), and a
 * reorganisation afterwards removes exactly the survivors. Every test runs
 * with a maintainer thread (_i 0) and synchronously (_i 1).
 */
#include <check.h>

#include "check_run.h"
#include "open_cache.h"
#include <stdio.h>
#include <string.h>

#include "core/cache.h"
#include "core/hidx.h"

static uint64_t charged(struct spc_cache *c, enum spc_pool_id p)
{
	struct spc_stats st;

	ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
	ck_assert_int_eq(spc_stats(c, p, &st), SPC_OK);
	return st.charged_bytes;
}

#define N 2000

START_TEST(bookkeeping_charged_per_height_entry_only)
{
	struct spc_cache *c = open_cache(32u << 20, _i);
	uint64_t base = charged(c, SPC_POOL_VIEW), plain, height, removed;
	char k[16], v[100];

	/* plain entries pay what they paid before: the same share as the
	 * index pool's, which knows nothing of heights */
	ck_assert_uint_eq(c->ps[SPC_POOL_VIEW].entry_share, c->ps[SPC_POOL_INDEX].entry_share);
	memset(v, 'v', sizeof v);
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof k, "k%05d", i);
		ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, k, strlen(k), v, sizeof v), SPC_OK);
	}
	plain = charged(c, SPC_POOL_VIEW) - base;
	ck_assert_int_eq(spc_clear(c, SPC_POOL_VIEW), SPC_OK);
	ck_assert_uint_eq(charged(c, SPC_POOL_VIEW), base);
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof k, "k%05d", i);
		ck_assert_int_eq(spc_set_at(c, (uint64_t)i / 10, k, strlen(k), v, sizeof v), SPC_OK);
	}
	height = charged(c, SPC_POOL_VIEW) - base;
	printf("view entries, 6-byte keys, 100-byte values: plain %.1f B, height %.1f B each "
	       "(index bookkeeping %zu B)\n",
	       (double)plain / N, (double)height / N, spc_hidx_item_bytes());
	/* the height field (8 B, slab-rounded) plus the index's share */
	ck_assert_uint_ge(height - plain, (uint64_t)N * spc_hidx_item_bytes());
	ck_assert_uint_le(height - plain, (uint64_t)N * (spc_hidx_item_bytes() + 16));
	/* replacements and deletes return theirs */
	for (int i = 0; i < N / 2; i++) {
		snprintf(k, sizeof k, "k%05d", i);
		ck_assert_int_eq(spc_set_at(c, (uint64_t)i / 10, k, strlen(k), v, sizeof v), SPC_OK);
	}
	ck_assert_uint_eq(charged(c, SPC_POOL_VIEW) - base, height);
	for (int i = 0; i < N / 4; i++) {
		snprintf(k, sizeof k, "k%05d", i);
		ck_assert_int_eq(spc_delete_at(c, (uint64_t)i / 10, k, strlen(k)), SPC_OK);
	}
	ck_assert_int_eq(spc_invalidate_from_height(c, 0, &removed), SPC_OK);
	ck_assert_uint_eq(removed, N - N / 4);
	ck_assert_uint_eq(charged(c, SPC_POOL_VIEW), base);
	/* a clear returns it too, and leaves nothing for a reorganisation */
	for (int i = 0; i < N; i++) {
		snprintf(k, sizeof k, "k%05d", i);
		ck_assert_int_eq(spc_set_at(c, (uint64_t)i / 10, k, strlen(k), v, sizeof v), SPC_OK);
	}
	ck_assert_int_eq(spc_clear(c, SPC_POOL_VIEW), SPC_OK);
	ck_assert_uint_eq(charged(c, SPC_POOL_VIEW), base);
	ck_assert_int_eq(spc_invalidate_from_height(c, 0, &removed), SPC_OK);
	ck_assert_uint_eq(removed, 0);
	spc_close(c);
}
END_TEST

static uint64_t height_evictions; /* atomic: the evict hook runs on the maintainer */

static void on_evict(void *arg, enum spc_pool_id pool, const void *key, size_t klen,
                     const void *val, size_t vlen, uint64_t cas)
{
	(void)arg, (void)key, (void)klen, (void)val, (void)vlen, (void)cas;
	if (pool == SPC_POOL_VIEW)
		__atomic_fetch_add(&height_evictions, 1, __ATOMIC_RELAXED);
}

START_TEST(evicted_entries_leave_the_index)
{
	struct spc_cache *c = open_cache(8u << 20, _i);
	uint64_t base = charged(c, SPC_POOL_VIEW), removed, written = 0;
	struct spc_stats st;
	char k[16], v[600];

	__atomic_store_n(&height_evictions, 0, __ATOMIC_RELAXED);
	spc_cache_set_evict_hook(c, on_evict, NULL);
	memset(v, 'v', sizeof v);
	for (int round = 0; round < 3; round++) {
		/* about three times what the view pool holds */
		for (int i = 0; i < 40000; i++) {
			snprintf(k, sizeof k, "k%05d", i);
			if (spc_set_at(c, (uint64_t)(round * 40000 + i) / 100, k, strlen(k), v, sizeof v) ==
			    SPC_OK)
				written++;
		}
		ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
		ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
		ck_assert_uint_gt(st.evictions, 0);
		/* a reorganisation of the top third touches survivors only */
		ck_assert_int_eq(spc_invalidate_from_height(c, (uint64_t)(round * 40000 + 26700) / 100,
		                                            &removed), SPC_OK);
		ck_assert_uint_gt(removed, 0);
	}
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
	ck_assert_int_eq(spc_invalidate_from_height(c, 0, &removed), SPC_OK);
	ck_assert_uint_eq(removed, st.items);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
	ck_assert_uint_eq(st.items, 0);
	ck_assert_uint_eq(st.evictions, __atomic_load_n(&height_evictions, __ATOMIC_RELAXED));
	ck_assert_uint_eq(st.inserts, written);
	ck_assert_uint_eq(st.inserts, st.evictions + st.deletes);
	ck_assert_uint_eq(charged(c, SPC_POOL_VIEW), base);
	spc_close(c);
}
END_TEST

static Suite *view_index_suite(void)
{
	Suite *s = suite_create("view-index");
	TCase *tc = tcase_create("index");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, bookkeeping_charged_per_height_entry_only, 0, 2);
	tcase_add_loop_test(tc, evicted_entries_leave_the_index, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(view_index_suite());
}
