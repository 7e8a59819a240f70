/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/sync/test_ring.c: the writers -> maintainer ring
 * (sync/ring.c guarantees 1-3).
 */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "sync/ring.h"

START_TEST(fifo_bounded_and_null_records)
{
	struct spc_ring r;
	struct spc_ring_cell *c[8];
	void *d;

	ck_assert_int_eq(spc_ring_init(&r, NULL, 6), SPC_EINVAL);
	ck_assert_int_eq(spc_ring_init(&r, NULL, 8), SPC_OK);
	ck_assert_int_eq(spc_ring_take(&r, &d), 0);
	for (int i = 0; i < 8; i++)
		ck_assert_ptr_nonnull(c[i] = spc_ring_reserve(&r));
	ck_assert_ptr_null(spc_ring_reserve(&r)); /* full */
	ck_assert_uint_eq(spc_ring_count(&r), 8);
	/* a reserved but unfilled cell blocks the consumer */
	spc_ring_fill(c[1], (void *)2);
	ck_assert_int_eq(spc_ring_take(&r, &d), 0);
	spc_ring_fill(c[0], NULL);
	ck_assert_int_eq(spc_ring_take(&r, &d), 1);
	ck_assert_ptr_null(d);
	ck_assert_int_eq(spc_ring_take(&r, &d), 1);
	ck_assert_ptr_eq(d, (void *)2);
	for (int i = 2; i < 8; i++)
		spc_ring_fill(c[i], (void *)(intptr_t)(i + 1));
	/* room again for the next lap */
	ck_assert_ptr_nonnull(c[0] = spc_ring_reserve(&r));
	spc_ring_fill(c[0], (void *)100);
	for (int i = 2; i < 8; i++) {
		ck_assert_int_eq(spc_ring_take(&r, &d), 1);
		ck_assert_ptr_eq(d, (void *)(intptr_t)(i + 1));
	}
	ck_assert_int_eq(spc_ring_take(&r, &d), 1);
	ck_assert_ptr_eq(d, (void *)100);
	ck_assert_int_eq(spc_ring_take(&r, &d), 0);
	spc_ring_destroy(&r);
}
END_TEST

/* spc_ring_peek sees a filled record ahead without taking it, and
 * nothing where a cell is empty or only reserved. */
START_TEST(peek_sees_filled_records_without_taking_them)
{
	struct spc_ring r;
	struct spc_ring_cell *c[3];
	void *d;

	ck_assert_int_eq(spc_ring_init(&r, NULL, 4), SPC_OK);
	ck_assert_ptr_null(spc_ring_peek(&r, 0)); /* empty */
	for (int i = 0; i < 3; i++)
		ck_assert_ptr_nonnull(c[i] = spc_ring_reserve(&r));
	spc_ring_fill(c[1], (void *)11);
	ck_assert_ptr_null(spc_ring_peek(&r, 0)); /* reserved, not filled */
	ck_assert_ptr_eq(spc_ring_peek(&r, 1), (void *)11);
	ck_assert_ptr_null(spc_ring_peek(&r, 2));
	ck_assert_ptr_null(spc_ring_peek(&r, 3)); /* never reserved */
	spc_ring_fill(c[0], (void *)10);
	spc_ring_fill(c[2], (void *)12);
	ck_assert_ptr_eq(spc_ring_peek(&r, 0), (void *)10);
	ck_assert_int_eq(spc_ring_take(&r, &d), 1); /* peeking took nothing */
	ck_assert_ptr_eq(d, (void *)10);
	ck_assert_ptr_eq(spc_ring_peek(&r, 0), (void *)11);
	ck_assert_ptr_eq(spc_ring_peek(&r, 1), (void *)12);
	ck_assert_ptr_null(spc_ring_peek(&r, 2));
	/* the next lap: the cell taken above holds a new record */
	ck_assert_ptr_nonnull(c[0] = spc_ring_reserve(&r));
	ck_assert_ptr_nonnull(c[1] = spc_ring_reserve(&r));
	spc_ring_fill(c[1], (void *)14);
	ck_assert_ptr_eq(spc_ring_peek(&r, 3), (void *)14);
	ck_assert_ptr_null(spc_ring_peek(&r, 2));
	spc_ring_fill(c[0], NULL);
	for (int i = 11; i <= 14; i++) {
		ck_assert_int_eq(spc_ring_take(&r, &d), 1);
		ck_assert_ptr_eq(d, i == 13 ? NULL : (void *)(intptr_t)i);
	}
	ck_assert_int_eq(spc_ring_take(&r, &d), 0);
	spc_ring_destroy(&r);
}
END_TEST

#define PRODUCERS 3
#define PER 30000

static struct spc_ring mr;

static void *producer(void *arg)
{
	uintptr_t id = (uintptr_t)arg;

	for (uintptr_t i = 1; i <= PER; i++) {
		struct spc_ring_cell *c;

		while (!(c = spc_ring_reserve(&mr)))
			sched_yield();
		spc_ring_fill(c, (void *)((id << 32) | i));
	}
	return NULL;
}

START_TEST(many_producers_every_record_once_in_order)
{
	pthread_t t[PRODUCERS];
	uintptr_t last[PRODUCERS] = { 0 };
	unsigned long got = 0;

	ck_assert_int_eq(spc_ring_init(&mr, NULL, 64), SPC_OK);
	for (uintptr_t i = 0; i < PRODUCERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, producer, (void *)i), 0);
	while (got < (unsigned long)PRODUCERS * PER) {
		void *d;

		if (!spc_ring_take(&mr, &d)) {
			sched_yield();
			continue;
		}
		uintptr_t v = (uintptr_t)d, id = v >> 32, seq = v & 0xffffffffu;

		ck_assert_uint_lt(id, PRODUCERS);
		ck_assert_uint_eq(seq, last[id] + 1); /* per producer: in order, once */
		last[id] = seq;
		got++;
	}
	for (int i = 0; i < PRODUCERS; i++)
		pthread_join(t[i], NULL);
	spc_ring_destroy(&mr);
}
END_TEST

static Suite *ring_suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("ring");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, fifo_bounded_and_null_records);
	tcase_add_test(tc, many_producers_every_record_once_in_order);
	tcase_add_test(tc, peek_sees_filled_records_without_taking_them);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(ring_suite());
}
