/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/integration/cache/test_cache.c: the semantics of every cache
 * operation through the public API, two caches in one process, threads
 * created before the cache, the copy-out and zero-copy reads, set_mode.
 */
#include <check.h>

#include "check_run.h"
#include "open_cache.h"
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "splitcache.h"

static int get_str(struct spc_cache *c, enum spc_pool_id p, const char *k, char *buf, size_t cap)
{
	size_t n = 0;
	int r = spc_get(c, p, k, strlen(k), buf, cap - 1, &n);

	if (r == SPC_OK)
		buf[n] = '\0';
	return r;
}

START_TEST(set_get_replace_delete)
{
	struct spc_cache *c = open_cache(16u << 20, _i);
	char buf[64];
	struct spc_stats st;

	ck_assert_int_eq(get_str(c, SPC_POOL_INDEX, "k1", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, "k1", 2, "v1", 2), SPC_OK);
	ck_assert_int_eq(get_str(c, SPC_POOL_INDEX, "k1", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "v1");
	/* pools are separate namespaces */
	ck_assert_int_eq(get_str(c, SPC_POOL_VIEW, "k1", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, "k1", 2, "value2", 6), SPC_OK);
	ck_assert_int_eq(get_str(c, SPC_POOL_INDEX, "k1", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "value2");
	ck_assert_int_eq(spc_delete(c, SPC_POOL_INDEX, "k1", 2), SPC_OK);
	ck_assert_int_eq(spc_delete(c, SPC_POOL_INDEX, "k1", 2), SPC_ENOTFOUND);
	ck_assert_int_eq(get_str(c, SPC_POOL_INDEX, "k1", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_eq(st.inserts, 2);
	ck_assert_uint_eq(st.deletes, 1);
	ck_assert_uint_eq(st.items, 0);
	ck_assert_uint_eq(st.hits, 2);
	ck_assert_uint_eq(st.misses, 2);
	ck_assert_uint_eq(st.evictions, 0);
	spc_close(c);
}
END_TEST

/* spc_stats_reset zeroes the counters and leaves the gauges. */
START_TEST(stats_reset_counters_not_gauges)
{
	struct spc_cache *c = open_cache(16u << 20, _i);
	char buf[64];
	struct spc_stats st;

	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, "k1", 2, "v1", 2), SPC_OK);
	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, "k2", 2, "v2", 2), SPC_OK);
	ck_assert_int_eq(spc_delete(c, SPC_POOL_INDEX, "k2", 2), SPC_OK);
	ck_assert_int_eq(get_str(c, SPC_POOL_INDEX, "k1", buf, sizeof buf), SPC_OK);
	ck_assert_int_eq(get_str(c, SPC_POOL_INDEX, "zz", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_stats_reset(NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_stats_reset(c), SPC_OK);
	ck_assert_int_eq(spc_stats(c, -1, &st), SPC_OK);
	ck_assert_uint_eq(st.hits, 0);
	ck_assert_uint_eq(st.misses, 0);
	ck_assert_uint_eq(st.inserts, 0);
	ck_assert_uint_eq(st.deletes, 0);
	ck_assert_uint_eq(st.items, 1);            /* a gauge: still one entry */
	ck_assert_uint_gt(st.charged_bytes, 0);
	ck_assert_uint_gt(st.target_bytes, 0);
	/* counting goes on from zero */
	ck_assert_int_eq(get_str(c, SPC_POOL_INDEX, "k1", buf, sizeof buf), SPC_OK);
	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, "k3", 2, "v3", 2), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_uint_eq(st.misses, 0);
	ck_assert_uint_eq(st.inserts, 1);
	ck_assert_uint_eq(st.items, 2);
	spc_close(c);
}
END_TEST

START_TEST(add_only_if_absent)
{
	struct spc_cache *c = open_cache(16u << 20, _i);
	char buf[64];
	struct spc_stats st;

	ck_assert_int_eq(spc_add(c, SPC_POOL_VIEW, "a", 1, "1", 1), SPC_OK);
	ck_assert_int_eq(spc_add(c, SPC_POOL_VIEW, "a", 1, "2", 1), SPC_EEXISTS);
	ck_assert_int_eq(get_str(c, SPC_POOL_VIEW, "a", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "1");
	ck_assert_int_eq(spc_delete(c, SPC_POOL_VIEW, "a", 1), SPC_OK);
	ck_assert_int_eq(spc_add(c, SPC_POOL_VIEW, "a", 1, "3", 1), SPC_OK);
	ck_assert_int_eq(get_str(c, SPC_POOL_VIEW, "a", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "3");
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
	ck_assert_uint_eq(st.items, 1);
	ck_assert_uint_eq(st.inserts, 2);
	spc_close(c);
}
END_TEST

START_TEST(arguments_and_limits)
{
	struct spc_cache *c = open_cache(16u << 20, 0);
	static char big[70000];
	char buf[8];
	size_t n = 0;
	struct spc_stats st;

	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, "", 0, "v", 1), SPC_EINVAL);
	ck_assert_int_eq(spc_set(c, 7, "k", 1, "v", 1), SPC_EINVAL);
	ck_assert_int_eq(spc_set(NULL, SPC_POOL_INDEX, "k", 1, "v", 1), SPC_EINVAL);
	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, big, 65536, "v", 1), SPC_ETOOBIG);
	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, big, 65535, "v", 1), SPC_OK);
	ck_assert_int_eq(spc_get(c, SPC_POOL_INDEX, big, 65535, buf, sizeof buf, &n), SPC_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, "k", 1, big, (1u << 20) + 1), SPC_ETOOBIG);
	/* empty values are values */
	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, "e", 1, NULL, 0), SPC_OK);
	ck_assert_int_eq(spc_get(c, SPC_POOL_INDEX, "e", 1, NULL, 0, &n), SPC_OK);
	ck_assert_uint_eq(n, 0);
	/* ERANGE reports the needed length and copies nothing */
	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, "long", 4, "0123456789", 10), SPC_OK);
	memset(buf, 'x', sizeof buf);
	ck_assert_int_eq(spc_get(c, SPC_POOL_INDEX, "long", 4, buf, sizeof buf, &n), SPC_ERANGE);
	ck_assert_uint_eq(n, 10);
	ck_assert_int_eq(buf[0], 'x');
	ck_assert_int_eq(spc_delete(c, SPC_POOL_VIEW, "", 0), SPC_EINVAL);
	ck_assert_int_eq(spc_clear(c, 5), SPC_EINVAL);
	ck_assert_int_eq(spc_stats(c, 2, &st), SPC_EINVAL);
	ck_assert_int_eq(spc_set_mode(c, SPC_MODE_SPLIT, 1.5), SPC_EINVAL);
	ck_assert_int_eq(spc_set_mode(c, (enum spc_mode)9, 0.5), SPC_EINVAL);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_eq(st.items, 3);
	ck_assert_str_ne(spc_strerror(SPC_EFULL), spc_strerror(12345));
	spc_close(c);
}
END_TEST

START_TEST(zero_copy_read)
{
	struct spc_cache *c = open_cache(16u << 20, 0);
	struct spc_value v, v2;

	ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, "z", 1, "zero-copy", 9), SPC_OK);
	spc_read_lock(c);
	ck_assert_int_eq(spc_get_rcu(c, SPC_POOL_VIEW, "z", 1, &v), SPC_OK);
	ck_assert_int_eq(spc_get_rcu(c, SPC_POOL_VIEW, "nope", 4, &v2), SPC_ENOTFOUND);
	spc_read_unlock(c);
	ck_assert_uint_eq(v.len, 9);
	ck_assert_uint_eq(v.flags, 0);
	/* cas values are unique per store */
	ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, "z", 1, "zero-copy", 9), SPC_OK);
	spc_read_lock(c);
	spc_read_lock(c); /* nestable */
	ck_assert_int_eq(spc_get_rcu(c, SPC_POOL_VIEW, "z", 1, &v2), SPC_OK);
	ck_assert_int_eq(memcmp(v2.data, "zero-copy", 9), 0);
	spc_read_unlock(c);
	spc_read_unlock(c);
	ck_assert_uint_ne(v.cas, v2.cas);
	spc_close(c);
}
END_TEST

START_TEST(clear_pool)
{
	struct spc_cache *c = open_cache(16u << 20, _i);
	struct spc_stats st;
	char k[16], buf[16];

	for (int i = 0; i < 3000; i++) {
		snprintf(k, sizeof k, "k%d", i);
		ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, k, strlen(k), "v", 1), SPC_OK);
		ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, k, strlen(k), "w", 1), SPC_OK);
	}
	ck_assert_int_eq(spc_clear(c, SPC_POOL_INDEX), SPC_OK);
	ck_assert_int_eq(get_str(c, SPC_POOL_INDEX, "k7", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(get_str(c, SPC_POOL_VIEW, "k7", buf, sizeof buf), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_eq(st.items, 0);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_int_eq(spc_stats(c, -1, &st), SPC_OK);
	ck_assert_uint_eq(st.items, 3000);
	ck_assert_uint_eq(st.inserts, 6000);
	spc_close(c);
}
END_TEST

/* Clear resumes each read section at a key it copied (keys up to 256
 * bytes) and falls back to the table's start past longer ones: every key
 * goes, short, long or mixed. */
START_TEST(clear_every_key_whatever_its_length)
{
	struct spc_cache *c = open_cache(64u << 20, _i);
	struct spc_stats st;
	static char k[400];
	const int n = 5000;
	char buf[4];
	size_t len;

	memset(k, 'x', sizeof k);
	for (int i = 0; i < n; i++) {
		/* lengths 8 .. 407, two in five above the 256-byte anchor limit */
		len = 8 + (size_t)(i * 7919) % 400;
		if (len > sizeof k)
			len = sizeof k;
		snprintf(k, 8, "%07d", i);
		ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, k, len, "v", 1), SPC_OK);
	}
	ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, "keep", 4, "w", 1), SPC_OK);
	ck_assert_int_eq(spc_clear(c, SPC_POOL_INDEX), SPC_OK);
	for (int i = 0; i < n; i++) {
		len = 8 + (size_t)(i * 7919) % 400;
		if (len > sizeof k)
			len = sizeof k;
		snprintf(k, 8, "%07d", i);
		ck_assert_int_eq(spc_get(c, SPC_POOL_INDEX, k, len, buf, sizeof buf, &len),
		                 SPC_ENOTFOUND);
	}
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_eq(st.items, 0);
	ck_assert_int_eq(get_str(c, SPC_POOL_VIEW, "keep", buf, sizeof buf), SPC_OK);
	spc_close(c);
}
END_TEST

/* An item larger than its whole pool is refused at once (SPC_EFULL), and
 * the pool keeps everything it held: no eviction in vain. */
START_TEST(item_larger_than_its_pool_evicts_nothing)
{
	struct spc_cache *c = open_cache(16u << 20, _i);
	static char big[1u << 20];
	struct spc_stats st;
	char k[16], buf[4];

	/* Indexer mode: the view pool keeps 1 MiB, less than the item's charge. */
	ck_assert_int_eq(spc_set_mode(c, SPC_MODE_INDEXER, 0.5), SPC_OK);
	for (int i = 0; i < 100; i++) {
		snprintf(k, sizeof k, "k%d", i);
		ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, k, strlen(k), "v", 1), SPC_OK);
	}
	ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, "big", 3, big, sizeof big), SPC_EFULL);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
	ck_assert_uint_eq(st.items, 100);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_eq(st.efull, 1);
	ck_assert_int_eq(get_str(c, SPC_POOL_VIEW, "k0", buf, sizeof buf), SPC_OK);
	ck_assert_int_eq(get_str(c, SPC_POOL_VIEW, "big", buf, sizeof buf), SPC_ENOTFOUND);
	spc_close(c);
}
END_TEST

START_TEST(two_caches_one_process)
{
	struct spc_cache *a = open_cache(8u << 20, 0), *b = open_cache(8u << 20, 0);
	char buf[16];
	struct spc_stats sa, sb;

	ck_assert_int_eq(spc_set(a, SPC_POOL_INDEX, "k", 1, "A", 1), SPC_OK);
	ck_assert_int_eq(spc_set(b, SPC_POOL_INDEX, "k", 1, "B", 1), SPC_OK);
	ck_assert_int_eq(get_str(a, SPC_POOL_INDEX, "k", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "A");
	ck_assert_int_eq(get_str(b, SPC_POOL_INDEX, "k", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "B");
	spc_close(a);
	ck_assert_int_eq(get_str(b, SPC_POOL_INDEX, "k", buf, sizeof buf), SPC_OK);
	ck_assert_int_eq(spc_stats(b, -1, &sb), SPC_OK);
	ck_assert_uint_eq(sb.hits, 2);
	ck_assert_uint_eq(sb.items, 1);
	/* a new cache at possibly the same address starts from zero */
	a = open_cache(8u << 20, 0);
	ck_assert_int_eq(spc_stats(a, -1, &sa), SPC_OK);
	ck_assert_uint_eq(sa.hits, 0);
	ck_assert_uint_eq(sa.items, 0);
	spc_close(a);
	spc_close(b);
}
END_TEST

/* A thread created before the cache, using it, ending before close. */
struct early {
	pthread_barrier_t go;
	struct spc_cache *c;
	int result;
};

static void *early_thread(void *arg)
{
	struct early *e = arg;
	char buf[8];
	size_t n;

	pthread_barrier_wait(&e->go);
	e->result = spc_set(e->c, SPC_POOL_VIEW, "t", 1, "x", 1);
	if (e->result == SPC_OK)
		e->result = spc_get(e->c, SPC_POOL_VIEW, "t", 1, buf, sizeof buf, &n);
	return NULL;
}

START_TEST(thread_created_before_cache)
{
	struct early e;
	pthread_t t;
	struct spc_stats st;

	pthread_barrier_init(&e.go, NULL, 2);
	ck_assert_int_eq(pthread_create(&t, NULL, early_thread, &e), 0);
	e.c = open_cache(8u << 20, 0);
	pthread_barrier_wait(&e.go);
	pthread_join(t, NULL);
	ck_assert_int_eq(e.result, SPC_OK);
	/* counts of the exited thread are kept */
	ck_assert_int_eq(spc_stats(e.c, SPC_POOL_VIEW, &st), SPC_OK);
	ck_assert_uint_eq(st.hits, 1);
	ck_assert_uint_eq(st.inserts, 1);
	spc_close(e.c);
	pthread_barrier_destroy(&e.go);
}
END_TEST

START_TEST(set_mode_moves_targets)
{
	/* every set must succeed while the maintainer evicts: a long wait */
	struct spc_cache *c = open_cache_wait(32u << 20, _i, 10000);
	struct spc_stats si, sv;
	struct spc_mem_report r;
	char k[32], v[512];

	memset(v, 'v', sizeof v);
	for (int i = 0; i < 40000; i++) {
		snprintf(k, sizeof k, "key-%d", i);
		ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, k, strlen(k), v, sizeof v), SPC_OK);
	}
	ck_assert_int_eq(spc_set_mode(c, SPC_MODE_VIEW, 0.5), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &si), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &sv), SPC_OK);
	ck_assert_uint_le(si.charged_bytes, si.target_bytes);
	ck_assert_uint_lt(si.target_bytes, sv.target_bytes);
	ck_assert_uint_eq(si.target_bytes, 1u << 20);
	ck_assert_int_eq(spc_memory_report(c, &r), SPC_OK);
	ck_assert_int_eq(r.mode, SPC_MODE_VIEW); /* the mode requested is the mode used */
	ck_assert_int_eq(spc_set_mode(c, SPC_MODE_SPLIT, 0.25), SPC_OK);
	ck_assert_int_eq(spc_memory_report(c, &r), SPC_OK);
	ck_assert_int_eq(r.mode, SPC_MODE_SPLIT);
	ck_assert_int_eq(spc_set_mode(c, SPC_MODE_INDEXER, 0.5), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &sv), SPC_OK);
	ck_assert_uint_eq(sv.target_bytes, 1u << 20);
	spc_close(c);
}
END_TEST

/* A mode change that timed out leaves the shrunk pool shedding toward
 * its lowered target; the next mode may raise that target to a figure
 * still below the pool's charge. That call must wait for the shed too:
 * SPC_OK means every pool is within its target. The maintainers are held
 * (spc_fork_prepare) so that no shed can end while they are. */
START_TEST(set_mode_after_timeout_sheds_raised_pool)
{
	/* the default wait: a shed times out after 2 s (docs/api.md) */
	struct spc_cache *c = open_cache(16u << 20, 0);
	struct spc_stats s[2];
	char k[32], v[512];
	int i;

	memset(v, 'v', sizeof v);
	ck_assert_int_eq(spc_set_mode(c, SPC_MODE_VIEW, 0.5), SPC_OK);
	for (i = 0; i < 16000; i++) {
		snprintf(k, sizeof k, "view-%d", i);
		ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, k, strlen(k), v, sizeof v), SPC_OK);
	}
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &s[1]), SPC_OK);
	ck_assert_uint_gt(s[1].charged_bytes, 6u << 20); /* above a quarter of the budget */
	spc_fork_prepare();
	/* the view pool's target drops to 1 MiB; it cannot shed now */
	ck_assert_int_eq(spc_set_mode(c, SPC_MODE_INDEXER, 0.5), SPC_ETIMEDOUT);
	/* its target rises to a quarter of the budget, still below its charge */
	ck_assert_int_eq(spc_set_mode(c, SPC_MODE_SPLIT, 0.25), SPC_ETIMEDOUT);
	spc_fork_parent();
	ck_assert_int_eq(spc_set_mode(c, SPC_MODE_SPLIT, 0.25), SPC_OK);
	for (int p = 0; p < 2; p++) {
		ck_assert_int_eq(spc_stats(c, (enum spc_pool_id)p, &s[p]), SPC_OK);
		ck_assert_uint_le(s[p].charged_bytes, s[p].target_bytes);
	}
	spc_close(c);
}
END_TEST

/* Mode changes while a writer fills both pools and a reader reads. */
struct load {
	struct spc_cache *c;
	int stop;
	unsigned long stored, refused;
};

static void *load_writer(void *arg)
{
	struct load *l = arg;
	char k[32], v[300];
	unsigned long i = 0;

	memset(v, 'l', sizeof v);
	while (!__atomic_load_n(&l->stop, __ATOMIC_RELAXED)) {
		int r;

		snprintf(k, sizeof k, "load-%lu", i % 50000);
		r = spc_set(l->c, (enum spc_pool_id)(i & 1), k, strlen(k), v, sizeof v);
		if (r == SPC_OK)
			__atomic_fetch_add(&l->stored, 1, __ATOMIC_RELAXED);
		else if (r == SPC_EFULL || r == SPC_EBUSY || r == SPC_ENOMEM)
			l->refused++;
		else
			return (void *)1;
		i++;
	}
	return NULL;
}

START_TEST(set_mode_under_load)
{
	static const enum spc_mode modes[] = { SPC_MODE_VIEW, SPC_MODE_INDEXER, SPC_MODE_SPLIT };
	struct load l = { 0 };
	struct spc_mem_report rep;
	pthread_t w;
	void *res;
	uint64_t budget;

	l.c = open_cache(16u << 20, 0);
	ck_assert_int_eq(spc_memory_report(l.c, &rep), SPC_OK);
	budget = rep.pools[0].target_bytes + rep.pools[1].target_bytes;
	ck_assert_int_eq(pthread_create(&w, NULL, load_writer, &l), 0);
	for (int round = 0; round < 12; round++) {
		struct spc_stats s[2];
		unsigned long seen = __atomic_load_n(&l.stored, __ATOMIC_RELAXED);
		int r;

		/* let the writer store a few thousand entries between switches */
		while (__atomic_load_n(&l.stored, __ATOMIC_RELAXED) < seen + 3000)
			sched_yield();
		r = spc_set_mode(l.c, modes[round % 3], 0.3);

		ck_assert(r == SPC_OK || r == SPC_ETIMEDOUT);
		ck_assert_int_eq(spc_stats(l.c, SPC_POOL_INDEX, &s[0]), SPC_OK);
		ck_assert_int_eq(spc_stats(l.c, SPC_POOL_VIEW, &s[1]), SPC_OK);
		ck_assert_uint_le(s[0].target_bytes + s[1].target_bytes, budget);
		ck_assert_uint_le(s[0].charged_bytes + s[1].charged_bytes, budget);
		if (r == SPC_OK) {
			ck_assert_int_eq(spc_memory_report(l.c, &rep), SPC_OK);
			ck_assert_int_eq(rep.mode, modes[round % 3]);
		}
	}
	__atomic_store_n(&l.stop, 1, __ATOMIC_RELAXED);
	pthread_join(w, &res);
	ck_assert_ptr_null(res);
	ck_assert_uint_gt(l.stored, 0);
	spc_close(l.c);
}
END_TEST

static Suite *cache_suite(void)
{
	Suite *s = suite_create("cache");
	TCase *tc = tcase_create("api");

	tcase_set_timeout(tc, 60);
	/* _i: 0 = maintainer threads, 1 = synchronous maintenance */
	tcase_add_loop_test(tc, set_get_replace_delete, 0, 2);
	tcase_add_loop_test(tc, add_only_if_absent, 0, 2);
	tcase_add_loop_test(tc, stats_reset_counters_not_gauges, 0, 2);
	tcase_add_test(tc, arguments_and_limits);
	tcase_add_test(tc, zero_copy_read);
	tcase_add_loop_test(tc, clear_pool, 0, 2);
	tcase_add_loop_test(tc, clear_every_key_whatever_its_length, 0, 2);
	tcase_add_loop_test(tc, item_larger_than_its_pool_evicts_nothing, 0, 2);
	tcase_add_test(tc, two_caches_one_process);
	tcase_add_test(tc, thread_created_before_cache);
	tcase_add_loop_test(tc, set_mode_moves_targets, 0, 2);
	tcase_add_test(tc, set_mode_under_load);
	tcase_add_test(tc, set_mode_after_timeout_sheds_raised_pool);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(cache_suite());
}
