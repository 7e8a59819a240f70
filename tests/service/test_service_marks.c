/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/marks.c alone: what a slot remembers, memcached's once-a-minute
 * last access, a newer item's slot never overwritten by an older one, and
 * the win token claimed by exactly one of two threads racing for it.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>

#include "service/marks.h"
#include "splitcache.h"

#define SLOTS (UINT64_C(1) << SPC_SRV_MARKS_BITS)
#define RACE_ITEMS 20000

static struct spc_srv_marks t;

static void setup(void)
{
	ck_assert_int_eq(spc_srv_marks_init(&t), SPC_OK);
}

static void teardown(void)
{
	spc_srv_marks_fini(&t);
}

START_TEST(test_put_get_fetch)
{
	struct spc_srv_mark m;

	ck_assert(!spc_srv_marks_get(&t, 5, &m));
	ck_assert_uint_eq(m.marks, 0);
	spc_srv_marks_put(&t, 5, SPC_SRV_MARK_KEY_B64, 1000);
	ck_assert(spc_srv_marks_get(&t, 5, &m));
	ck_assert_uint_eq(m.marks, SPC_SRV_MARK_KEY_B64);
	ck_assert_uint_eq(m.atime, 1000);
	/* a read sets fetched; the last access moves once a minute only */
	spc_srv_marks_fetch(&t, 5, 1059);
	ck_assert(spc_srv_marks_get(&t, 5, &m));
	ck_assert_uint_eq(m.marks, SPC_SRV_MARK_KEY_B64 | SPC_SRV_MARK_FETCHED);
	ck_assert_uint_eq(m.atime, 1000);
	spc_srv_marks_fetch(&t, 5, 1060);
	ck_assert(spc_srv_marks_get(&t, 5, &m));
	ck_assert_uint_eq(m.atime, 1060);
	/* an item the table never saw gets a slot at its first read */
	spc_srv_marks_fetch(&t, 6, 2000);
	ck_assert(spc_srv_marks_get(&t, 6, &m));
	ck_assert_uint_eq(m.marks, SPC_SRV_MARK_FETCHED);
}
END_TEST

START_TEST(test_claim_once)
{
	struct spc_srv_mark m;

	spc_srv_marks_put(&t, 9, SPC_SRV_MARK_STALE, 1);
	ck_assert(spc_srv_marks_claim(&t, 9, 2));
	ck_assert(!spc_srv_marks_claim(&t, 9, 3));
	ck_assert(spc_srv_marks_get(&t, 9, &m));
	ck_assert_uint_eq(m.marks, SPC_SRV_MARK_STALE | SPC_SRV_MARK_WON);
	/* a new item (new cas) starts without a token */
	spc_srv_marks_put(&t, 10, SPC_SRV_MARK_STALE, 4);
	ck_assert(spc_srv_marks_claim(&t, 10, 5));
}
END_TEST

/* Items SLOTS cas apart share a slot: the newer keeps it. */
START_TEST(test_newer_item_keeps_slot)
{
	struct spc_srv_mark m;
	uint64_t old = 7, young = 7 + SLOTS;

	spc_srv_marks_put(&t, old, SPC_SRV_MARK_STALE, 1);
	spc_srv_marks_put(&t, young, 0, 2);
	ck_assert(!spc_srv_marks_get(&t, old, &m)); /* lost: reads as unknown */
	spc_srv_marks_put(&t, old, SPC_SRV_MARK_STALE, 3);
	spc_srv_marks_fetch(&t, old, 4);
	ck_assert(spc_srv_marks_get(&t, young, &m));
	ck_assert_uint_eq(m.marks, 0);
	ck_assert_uint_eq(m.atime, 2);
	/* the old item's token cannot be kept: every caller wins */
	ck_assert(spc_srv_marks_claim(&t, old, 5));
	ck_assert(spc_srv_marks_claim(&t, old, 5));
}
END_TEST

struct racer {
	unsigned wins;
};

static void *race_main(void *arg)
{
	struct racer *r = arg;

	for (uint64_t cas = 1; cas <= RACE_ITEMS; cas++) {
		spc_srv_marks_fetch(&t, cas, 100);
		if (spc_srv_marks_claim(&t, cas, 100))
			r->wins++;
	}
	return NULL;
}

/* Two threads claim the token of the same items: one winner each. */
START_TEST(test_claim_race)
{
	struct racer r[2] = { { 0 }, { 0 } };
	pthread_t th[2];

	for (uint64_t cas = 1; cas <= RACE_ITEMS; cas++)
		spc_srv_marks_put(&t, cas, SPC_SRV_MARK_STALE, 50);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, race_main, &r[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ck_assert_uint_eq(r[0].wins + r[1].wins, RACE_ITEMS);
	for (uint64_t cas = 1; cas <= RACE_ITEMS; cas++) {
		struct spc_srv_mark m;

		ck_assert(spc_srv_marks_get(&t, cas, &m));
		ck_assert_uint_eq(m.marks, SPC_SRV_MARK_STALE | SPC_SRV_MARK_WON |
					   SPC_SRV_MARK_FETCHED);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("service_marks");
	TCase *tc = tcase_create("marks");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_put_get_fetch);
	tcase_add_test(tc, test_claim_once);
	tcase_add_test(tc, test_newer_item_keeps_slot);
	tcase_add_test(tc, test_claim_race);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
