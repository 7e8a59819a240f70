/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/integration/views/test_view_height.c: the current view height
 * (core/view_height.c guarantees 1-3): set / get / clear, every call at
 * the current height equal to the explicit call at that height, no height
 * refused, a reorganisation under it, and many threads reading and
 * writing while a chain thread moves the height up.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "open_cache.h"

START_TEST(set_get_clear)
{
	struct spc_cache *c = open_cache(16u << 20, 1);
	uint64_t h = 7;

	ck_assert_int_eq(spc_get_view_height(c, &h), SPC_ENOHEIGHT);
	ck_assert_uint_eq(h, 7);
	ck_assert_int_eq(spc_set_view_height(c, 0), SPC_OK);
	ck_assert_int_eq(spc_get_view_height(c, &h), SPC_OK);
	ck_assert_uint_eq(h, 0);
	ck_assert_int_eq(spc_set_view_height(c, UINT64_MAX - 1), SPC_OK);
	ck_assert_int_eq(spc_get_view_height(c, &h), SPC_OK);
	ck_assert_uint_eq(h, UINT64_MAX - 1);
	ck_assert_int_eq(spc_set_view_height(c, UINT64_MAX), SPC_EINVAL);
	ck_assert_int_eq(spc_get_view_height(c, &h), SPC_OK); /* unchanged */
	ck_assert_uint_eq(h, UINT64_MAX - 1);
	ck_assert_int_eq(spc_clear_view_height(c), SPC_OK);
	ck_assert_int_eq(spc_get_view_height(c, &h), SPC_ENOHEIGHT);
	ck_assert_int_eq(spc_set_view_height(NULL, 1), SPC_EINVAL);
	ck_assert_int_eq(spc_get_view_height(NULL, &h), SPC_EINVAL);
	ck_assert_int_eq(spc_get_view_height(c, NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_clear_view_height(NULL), SPC_EINVAL);
	spc_close(c);
}
END_TEST

/* Calls at the current height are the explicit calls at that height;
 * without one they refuse and touch nothing. */
START_TEST(calls_at_the_current_height)
{
	struct spc_cache *c = open_cache(16u << 20, 1);
	struct spc_value v;
	struct spc_item it = { 5, 0, 0 };
	char buf[16];
	size_t n = 0;
	uint64_t cas = 0, used = 0;
	struct spc_stats st;

	ck_assert_int_eq(spc_view_set(c, "k", 1, "x", 1), SPC_ENOHEIGHT);
	ck_assert_int_eq(spc_view_get(c, "k", 1, buf, sizeof buf, &n), SPC_ENOHEIGHT);
	ck_assert_int_eq(spc_view_delete(c, "k", 1), SPC_ENOHEIGHT);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
	ck_assert_uint_eq(st.items + st.misses + st.hits, 0); /* nothing read or written */

	ck_assert_int_eq(spc_set_view_height(c, 100), SPC_OK);
	ck_assert_int_eq(spc_view_set(c, "k", 1, "at100", 5), SPC_OK);
	ck_assert_int_eq(spc_get_at(c, 100, "k", 1, buf, sizeof buf, &n), SPC_OK);
	ck_assert_int_eq(memcmp(buf, "at100", 5), 0);
	ck_assert_int_eq(spc_get_at(c, 101, "k", 1, buf, sizeof buf, &n), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_get(c, SPC_POOL_VIEW, "k", 1, buf, sizeof buf, &n), SPC_ENOTFOUND);

	ck_assert_int_eq(spc_set_view_height(c, 101), SPC_OK);
	ck_assert_int_eq(spc_view_get(c, "k", 1, buf, sizeof buf, &n), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_view_store(c, SPC_STORE_ADD, "k", 1, "at101", 5, &it, &cas, &used),
	                 SPC_OK);
	ck_assert_uint_eq(used, 101);
	ck_assert_uint_ne(cas, 0);
	ck_assert_int_eq(spc_view_store(c, SPC_STORE_ADD, "k", 1, "again", 5, NULL, NULL, NULL),
	                 SPC_EEXISTS);
	ck_assert_int_eq(spc_view_get(c, "k", 1, buf, sizeof buf, &n), SPC_OK);
	ck_assert_int_eq(memcmp(buf, "at101", 5), 0);
	spc_read_lock(c);
	ck_assert_int_eq(spc_view_get_rcu(c, "k", 1, &v), SPC_OK);
	ck_assert_uint_eq(v.flags, 5);
	ck_assert_uint_eq(v.cas, cas);
	spc_read_unlock(c);

	ck_assert_int_eq(spc_set_view_height(c, 100), SPC_OK);
	ck_assert_int_eq(spc_view_delete(c, "k", 1), SPC_OK);
	ck_assert_int_eq(spc_get_at(c, 100, "k", 1, buf, sizeof buf, &n), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_get_at(c, 101, "k", 1, buf, sizeof buf, &n), SPC_OK);
	ck_assert_int_eq(spc_view_get(NULL, "k", 1, buf, sizeof buf, &n), SPC_EINVAL);
	spc_close(c);
}
END_TEST

/* A reorganisation leaves the current height alone: above the new tip,
 * reads miss and writes are refused until the height is set again. */
START_TEST(current_height_under_a_reorganisation)
{
	struct spc_cache *c = open_cache(16u << 20, 1);
	char buf[16];
	size_t n;
	uint64_t h;

	ck_assert_int_eq(spc_set_view_height(c, 10), SPC_OK);
	ck_assert_int_eq(spc_view_set(c, "k", 1, "v10", 3), SPC_OK);
	ck_assert_int_eq(spc_set_tip(c, 10), SPC_OK);
	ck_assert_int_eq(spc_set_tip(c, 9), SPC_OK); /* reorganisation: 10 is gone */
	ck_assert_int_eq(spc_get_view_height(c, &h), SPC_OK);
	ck_assert_uint_eq(h, 10);
	ck_assert_int_eq(spc_view_get(c, "k", 1, buf, sizeof buf, &n), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_view_set(c, "k", 1, "new", 3), SPC_EABOVETIP);
	ck_assert_int_eq(spc_set_view_height(c, 9), SPC_OK);
	ck_assert_int_eq(spc_view_set(c, "k", 1, "v9", 2), SPC_OK);
	ck_assert_int_eq(spc_view_get(c, "k", 1, buf, sizeof buf, &n), SPC_OK);
	ck_assert_int_eq(memcmp(buf, "v9", 2), 0);
	spc_close(c);
}
END_TEST

/* ---- many threads ---------------------------------------------------------- */

#define KEYS 32u
#define HEIGHTS 400u
#define THREADS 4

struct shared {
	struct spc_cache *c;
	int stop;      /* atomic */
	uint64_t bad;  /* atomic */
	uint64_t reads, hits, writes; /* atomic */
};

static void flag(struct shared *s)
{
	__atomic_fetch_add(&s->bad, 1, __ATOMIC_RELAXED);
}

/* Values name their height: "h=<height>". */
static uint64_t height_of(const char *v, size_t n)
{
	char tmp[32];

	if (n < 3 || n >= sizeof tmp || memcmp(v, "h=", 2) != 0)
		return UINT64_MAX;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	return strtoull(tmp + 2, NULL, 10);
}

static void *reader_main(void *arg)
{
	struct shared *s = arg;
	unsigned i = 0;

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		char k[16], buf[32];
		size_t n = 0;
		uint64_t before, after, got;
		int r;

		snprintf(k, sizeof k, "k%u", i++ % KEYS);
		if (spc_get_view_height(s->c, &before) != SPC_OK) {
			flag(s);
			continue;
		}
		r = spc_view_get(s->c, k, strlen(k), buf, sizeof buf, &n);
		if (spc_get_view_height(s->c, &after) != SPC_OK || after < before)
			flag(s);
		__atomic_fetch_add(&s->reads, 1, __ATOMIC_RELAXED);
		if (r == SPC_ENOTFOUND)
			continue;
		got = height_of(buf, n);
		/* Guarantee 1: stored at a height current during the call. */
		if (r != SPC_OK || got < before || got > after)
			flag(s);
		__atomic_fetch_add(&s->hits, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static unsigned writer_ids; /* atomic: each writer its own keys */

static void *writer_main(void *arg)
{
	struct shared *s = arg;
	unsigned i = 0, id = __atomic_fetch_add(&writer_ids, 1, __ATOMIC_RELAXED);

	while (!__atomic_load_n(&s->stop, __ATOMIC_RELAXED)) {
		char k[16], v[32], buf[32];
		size_t n = 0;
		uint64_t used = 0, cas = 0;
		int r;

		snprintf(k, sizeof k, "w%u/%u", id, i++ % KEYS);
		snprintf(v, sizeof v, "w%u", i);
		r = spc_view_store(s->c, SPC_STORE_SET, k, strlen(k), v, strlen(v), NULL, &cas, &used);
		if (r == SPC_EFULL || r == SPC_EBUSY)
			continue; /* the pool is full or its maintainer behind: allowed */
		if (r != SPC_OK) {
			flag(s);
			continue;
		}
		__atomic_fetch_add(&s->writes, 1, __ATOMIC_RELAXED);
		/* It landed at the height it reports (or a later store of
		 * this very key by this thread replaced it: none here). */
		r = spc_get_at(s->c, used, k, strlen(k), buf, sizeof buf, &n);
		if (r == SPC_ENOTFOUND)
			continue; /* evicted since: allowed */
		if (r != SPC_OK || n != strlen(v) || memcmp(buf, v, n) != 0)
			flag(s);
	}
	return NULL;
}

/* A chain thread stores KEYS entries at each height, then makes it
 * current; readers and writers work at whatever height is current. */
START_TEST(many_threads_follow_the_height)
{
	struct shared s = { 0 };
	pthread_t t[2 * THREADS];
	char k[16], v[32];
	int r;

	s.c = open_cache(64u << 20, 0);
	for (unsigned j = 0; j < KEYS; j++) {
		snprintf(k, sizeof k, "k%u", j);
		ck_assert_int_eq(spc_set_at(s.c, 1, k, strlen(k), "h=1", 3), SPC_OK);
	}
	ck_assert_int_eq(spc_set_view_height(s.c, 1), SPC_OK);
	for (int i = 0; i < THREADS; i++) {
		ck_assert_int_eq(pthread_create(&t[i], NULL, reader_main, &s), 0);
		ck_assert_int_eq(pthread_create(&t[THREADS + i], NULL, writer_main, &s), 0);
	}
	for (uint64_t h = 2; h <= HEIGHTS; h++) {
		for (unsigned j = 0; j < KEYS; j++) {
			snprintf(k, sizeof k, "k%u", j);
			snprintf(v, sizeof v, "h=%llu", (unsigned long long)h);
			while ((r = spc_set_at(s.c, h, k, strlen(k), v, strlen(v))) == SPC_EFULL || r == SPC_EBUSY)
				; /* the maintainer is behind: try again */
			ck_assert_int_eq(r, SPC_OK);
		}
		ck_assert_int_eq(spc_set_view_height(s.c, h), SPC_OK);
	}
	__atomic_store_n(&s.stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < 2 * THREADS; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	printf("view height: %llu reads (%llu hits), %llu writes over %u heights\n",
	       (unsigned long long)s.reads, (unsigned long long)s.hits,
	       (unsigned long long)s.writes, HEIGHTS);
	ck_assert_uint_eq(s.bad, 0);
	ck_assert_uint_gt(s.hits, 0);
	ck_assert_uint_gt(s.writes, 0);
	spc_close(s.c);
}
END_TEST

static Suite *view_height_suite(void)
{
	Suite *s = suite_create("view_height");
	TCase *tc = tcase_create("current");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, set_get_clear);
	tcase_add_test(tc, calls_at_the_current_height);
	tcase_add_test(tc, current_height_under_a_reorganisation);
	tcase_add_test(tc, many_threads_follow_the_height);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(view_height_suite());
}
