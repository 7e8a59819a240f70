/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/sync/test_thread.c: the pthread wrappers and deadlines
 * (sync/thread.c guarantees 1-2). No timing bound is asserted: only
 * that a wait never ends early and that a woken waiter says so.
 */
#include <check.h>
#include <pthread.h>

#include "check_run.h"
#include "sync/thread.h"

START_TEST(deadline_is_normalised_and_ahead)
{
	struct timespec before, d;

	/* every millisecond count of one second, so the carry is met */
	for (unsigned ms = 0; ms < 2000; ms += 7) {
		clock_gettime(CLOCK_MONOTONIC, &before);
		spc_deadline(&d, ms);
		ck_assert_int_ge(d.tv_nsec, 0);
		ck_assert_int_lt(d.tv_nsec, 1000000000L);
		if (ms > 0) {
			struct timespec min = before;

			min.tv_sec += ms / 1000;
			min.tv_nsec += (long)(ms % 1000) * 1000000L;
			if (min.tv_nsec >= 1000000000L) {
				min.tv_sec++;
				min.tv_nsec -= 1000000000L;
			}
			ck_assert(!spc_ts_before(&d, &min));
		}
	}
	spc_deadline(&d, 60000);
	ck_assert(!spc_deadline_reached(&d));
	spc_deadline(&d, 0);
	ck_assert(spc_deadline_reached(&d));
}
END_TEST

START_TEST(timedwait_times_out_only_at_its_deadline)
{
	pthread_mutex_t m;
	pthread_cond_t cv;
	struct timespec d;
	int r;

	spc_mutex_init(&m);
	spc_cond_init(&cv);
	spc_deadline(&d, 20);
	spc_lock(&m);
	do
		r = spc_timedwait(&cv, &m, &d);
	while (r == 0); /* spurious wake-ups: wait on */
	spc_unlock(&m);
	ck_assert_int_eq(r, 1);
	ck_assert(spc_deadline_reached(&d));
	pthread_cond_destroy(&cv);
	pthread_mutex_destroy(&m);
}
END_TEST

struct waker {
	pthread_mutex_t m;
	pthread_cond_t cv;
	int flag;
};

static void *wake(void *arg)
{
	struct waker *w = arg;

	spc_lock(&w->m);
	w->flag = 1;
	pthread_cond_signal(&w->cv);
	spc_unlock(&w->m);
	return NULL;
}

START_TEST(timedwait_woken_says_zero)
{
	struct waker w = { .flag = 0 };
	struct timespec d;
	pthread_t t;
	int r = 0;

	spc_mutex_init(&w.m);
	spc_cond_init(&w.cv);
	spc_deadline(&d, 600000); /* far: only the signal ends the wait */
	spc_lock(&w.m);
	ck_assert_int_eq(pthread_create(&t, NULL, wake, &w), 0);
	while (!w.flag && r == 0)
		r = spc_timedwait(&w.cv, &w.m, &d);
	spc_unlock(&w.m);
	pthread_join(t, NULL);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(w.flag, 1);
	pthread_cond_destroy(&w.cv);
	pthread_mutex_destroy(&w.m);
}
END_TEST

static Suite *thread_suite(void)
{
	Suite *s = suite_create("thread");
	TCase *tc = tcase_create("thread");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, deadline_is_normalised_and_ahead);
	tcase_add_test(tc, timedwait_times_out_only_at_its_deadline);
	tcase_add_test(tc, timedwait_woken_says_zero);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(thread_suite());
}
