/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/core/test_hidx.c: the per-height index (core/hidx.c) against
 * a brute-force model: random adds, removes, cuts and takes, heights
 * mostly growing with jumps back, as a chain follower and historical
 * queries make them. Checks guarantees 1-4 of core/hidx.c, and that every
 * allocation failure leaves the index as it was.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "base/base.h"
#include "core/hidx.h"

#define NITEMS 4000

enum { UNFILED, LIVE, CUT };

struct model {
	int state[NITEMS];
	uint64_t height[NITEMS];
	size_t count;
};

static uint64_t items_mem[NITEMS]; /* their addresses are the items */

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int index_of(void *item)
{
	ptrdiff_t i = (uint64_t *)item - items_mem;

	ck_assert(i >= 0 && i < NITEMS);
	return (int)i;
}

static void take_one(struct spc_hidx *x, struct model *m)
{
	void *item;
	int i;

	if (!spc_hidx_take(x, &item)) {
		for (i = 0; i < NITEMS; i++)
			ck_assert_int_ne(m->state[i], CUT);
		return;
	}
	i = index_of(item);
	ck_assert_int_eq(m->state[i], CUT);
	m->state[i] = UNFILED;
	m->count--;
}

static void run(uint64_t seed, unsigned ops, uint64_t spread)
{
	struct spc_hidx *x;
	struct model *m = calloc(1, sizeof *m);
	uint64_t tip = 1000;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(spc_hidx_create(NULL, seed, &x), SPC_OK);
	for (unsigned op = 0; op < ops; op++) {
		uint64_t r = xs(&seed);
		int i = (int)(r % NITEMS);
		unsigned what = (unsigned)((r >> 32) % 100);

		if (what < 55) {
			uint64_t h;

			if (m->state[i] != UNFILED)
				continue;
			/* mostly at the tip, sometimes historical */
			if ((r >> 40) % 4)
				h = tip + ((r >> 44) % 2);
			else
				h = (r >> 20) % (tip + 1 + spread);
			if ((r >> 50) % 64 == 0)
				h = UINT64_MAX - (r >> 58) % 2; /* the extremes */
			if ((r >> 53) % 7 == 0)
				tip++;
			ck_assert_int_eq(spc_hidx_add(x, &items_mem[i], h), SPC_OK);
			m->state[i] = LIVE;
			m->height[i] = h;
			m->count++;
		} else if (what < 80) {
			ck_assert_int_eq(spc_hidx_remove(x, &items_mem[i]), m->state[i] != UNFILED);
			if (m->state[i] != UNFILED)
				m->count--;
			m->state[i] = UNFILED;
		} else if (what < 82) {
			uint64_t from = tip >= 20 ? tip - (r >> 40) % 20 : 0;

			if ((r >> 60) == 0)
				from = 0;
			spc_hidx_cut(x, from);
			for (int k = 0; k < NITEMS; k++)
				if (m->state[k] == LIVE && m->height[k] >= from)
					m->state[k] = CUT;
			tip = from;
		} else {
			take_one(x, m);
		}
		ck_assert_uint_eq(spc_hidx_count(x), m->count);
	}
	/* drain every cut, then the rest by removal */
	for (;;) {
		void *item;
		int i;

		if (!spc_hidx_take(x, &item))
			break;
		i = index_of(item);
		ck_assert_int_eq(m->state[i], CUT);
		m->state[i] = UNFILED;
		m->count--;
	}
	for (int i = 0; i < NITEMS; i++) {
		ck_assert_int_ne(m->state[i], CUT);
		ck_assert_int_eq(spc_hidx_remove(x, &items_mem[i]), m->state[i] == LIVE);
	}
	ck_assert_uint_eq(spc_hidx_count(x), 0);
	spc_hidx_cut(x, 0);
	ck_assert_int_eq(spc_hidx_take(x, &(void *){ NULL }), 0);
	spc_hidx_destroy(x);
	free(m);
}

START_TEST(matches_model)
{
	run(0x1234567u + (uint64_t)_i * 7919u, 200000, _i % 2 ? 0 : 50);
}
END_TEST

START_TEST(cut_hands_out_exactly_the_suffix)
{
	struct spc_hidx *x;
	int seen[300] = { 0 };
	void *item;
	size_t n = 0;

	ck_assert_int_eq(spc_hidx_create(NULL, 1, &x), SPC_OK);
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(spc_hidx_add(x, &items_mem[i], (uint64_t)(i / 3)), SPC_OK);
	spc_hidx_cut(x, 90); /* heights 90..99: items 270..299 */
	ck_assert_int_eq(spc_hidx_remove(x, &items_mem[271]), 1); /* from the cut */
	ck_assert_int_eq(spc_hidx_add(x, &items_mem[271], 95), SPC_OK); /* after: kept */
	while (spc_hidx_take(x, &item)) {
		int i = index_of(item);

		ck_assert(i >= 270 && i != 271);
		ck_assert_int_eq(seen[i]++, 0);
		n++;
	}
	ck_assert_uint_eq(n, 29);
	ck_assert_uint_eq(spc_hidx_count(x), 271);
	spc_hidx_cut(x, 95);
	ck_assert_int_eq(spc_hidx_take(x, &item), 1);
	ck_assert_ptr_eq(item, &items_mem[271]);
	ck_assert_int_eq(spc_hidx_take(x, &item), 0);
	spc_hidx_destroy(x);
}
END_TEST

/* Lowest: the lowest live height and an item filed there; cut heights
 * are not live; taking the lowest one by one empties by height. */
START_TEST(lowest_walks_up_by_height)
{
	struct spc_hidx *x;
	void *item;
	uint64_t h = 0, last = 0;
	int n = 0;

	ck_assert_int_eq(spc_hidx_create(NULL, 3, &x), SPC_OK);
	ck_assert_int_eq(spc_hidx_lowest(x, &item, &h), 0);
	/* heights out of order, two items per height */
	for (int i = 0; i < 200; i++)
		ck_assert_int_eq(spc_hidx_add(x, &items_mem[i], (uint64_t)((i * 37) % 100) + 10), SPC_OK);
	ck_assert_int_eq(spc_hidx_lowest(x, &item, &h), 1);
	ck_assert_uint_eq(h, 10);
	spc_hidx_cut(x, 60); /* 60..109 leave the live heights */
	while (spc_hidx_lowest(x, &item, &h)) {
		int i = index_of(item);

		ck_assert_uint_eq((uint64_t)((i * 37) % 100) + 10, h);
		ck_assert_uint_ge(h, last);
		ck_assert_uint_lt(h, 60);
		last = h;
		ck_assert_int_eq(spc_hidx_remove(x, item), 1);
		n++;
	}
	ck_assert_int_eq(n, 100); /* heights 10..59, two each */
	ck_assert_uint_eq(spc_hidx_count(x), 100); /* the cut's, not taken yet */
	ck_assert_int_eq(spc_hidx_lowest(x, &item, NULL), 0);
	spc_hidx_destroy(x);
}
END_TEST

struct faults {
	unsigned long calls, nth;
};

static int fail_nth(void *arg, enum spc_fault_site site, size_t bytes)
{
	struct faults *f = arg;

	(void)site, (void)bytes;
	return f->nth && ++f->calls == f->nth;
}

/* Fail the N-th allocation for every N while the tables grow: the add
 * that meets it reports SPC_ENOMEM and the index is as before. */
START_TEST(allocation_failure_changes_nothing)
{
	struct faults f = { 0, 0 };
	struct spc_env env = { NULL, NULL, fail_nth, &f };
	struct spc_hidx *x;
	unsigned long n;

	for (n = 1; n < 64; n++) {
		int failed = 0;

		f.calls = 0;
		f.nth = n;
		if (spc_hidx_create(&env, 3, &x) != SPC_OK)
			continue;
		for (int i = 0; i < 2000; i++) {
			int r = spc_hidx_add(x, &items_mem[i], (uint64_t)i / 5);

			if (r == SPC_ENOMEM) {
				ck_assert_int_eq(failed, 0);
				failed = 1;
				ck_assert_uint_eq(spc_hidx_count(x), (size_t)i);
				ck_assert_int_eq(spc_hidx_remove(x, &items_mem[i]), 0);
				ck_assert_int_eq(spc_hidx_add(x, &items_mem[i], (uint64_t)i / 5), SPC_OK);
			} else {
				ck_assert_int_eq(r, SPC_OK);
			}
		}
		ck_assert_uint_eq(spc_hidx_count(x), 2000);
		spc_hidx_cut(x, 200); /* items 1000.. */
		for (int i = 1000; i < 2000; i++) {
			void *item;

			ck_assert_int_eq(spc_hidx_take(x, &item), 1);
			ck_assert_int_ge(index_of(item), 1000);
		}
		ck_assert_uint_eq(spc_hidx_count(x), 1000);
		spc_hidx_destroy(x);
		if (f.calls < n)
			break; /* met no fault: every allocation site was covered */
	}
	ck_assert_uint_lt(n, 64);
}
END_TEST

static Suite *hidx_suite(void)
{
	Suite *s = suite_create("hidx");
	TCase *tc = tcase_create("model");

	tcase_add_loop_test(tc, matches_model, 0, 4);
	tcase_add_test(tc, cut_hands_out_exactly_the_suffix);
	tcase_add_test(tc, lowest_walks_up_by_height);
	tcase_add_test(tc, allocation_failure_changes_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(hidx_suite());
}
