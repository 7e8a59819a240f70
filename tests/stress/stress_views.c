/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/stress/stress_views.c: readers reading heights while writers store
 * at heights around the tip, and a chain thread advances the tip, lowers
 * it (reorganisations) and invalidates, for a bounded time.
 *
 *   stress_views SECONDS [READERS [WRITERS]]
 *
 * Every value encodes its height, its key, a version and a checksum. The
 * test asserts:
 *  1. no torn or freed read: every value a reader sees (copy-out or
 *     zero-copy) is a valid value of that very (height, key) or API name;
 *  2. after every spc_set_tip(t) that lowers the tip returns, a reader
 *     finds no entry above t (the chain thread alone moves the tip, so it
 *     cannot rise during the check); the same at the end;
 *  3. a store refused with SPC_EABOVETIP was above the tip when it began,
 *     or a lowering ran during it;
 *  4. the view pool's charge never passes its target, the pools never
 *     pass the budget;
 *  5. stats agree with the eviction log; nothing is left in reclamation.
 * It stops by itself after SECONDS; no timing is asserted.
 */
#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_run.h"
#include "core/cache.h"
#include "stress/stress_common.h"

#define NKEYS 48u          /* keys per height */
#define NAMES 64u          /* API names */
#define WINDOW 6u          /* writers store at tip - WINDOW + 1 .. tip + 1 */
#define MAXV 400u
#define MAX_THREADS 16
#define START_TIP 100u
#define MAX_REORG 5u       /* a lowering goes back at most this far */

static unsigned opt_seconds = 3, opt_readers = 2, opt_writers = 2;

struct shared {
	struct spc_cache *cache;
	uint64_t budget;
	int stop;                  /* atomic */
	uint64_t tip;              /* atomic: the chain thread's last tip */
	uint64_t highest;          /* the highest tip (read after the chain thread ended) */
	uint64_t base_charge;      /* the view pool's charge before any write */
	uint64_t lowerings;        /* atomic: lowerings begun */
	uint64_t lowered;          /* atomic: lowerings done */
	uint64_t hook_evictions;   /* atomic */
	uint64_t reads, hits, writes, stored, above, efull, advances, reorgs, invalidations;
	uint64_t invalidated, samples;
	uint64_t bad;              /* atomic */
	char why[256];
};

static struct shared *g;

static void flag_bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void flag_bad(const char *fmt, ...)
{
	va_list ap;

	if (__atomic_fetch_add(&g->bad, 1, __ATOMIC_RELAXED) == 0) {
		va_start(ap, fmt);
		vsnprintf(g->why, sizeof g->why, fmt, ap);
		va_end(ap);
	}
}

static int stopping(void)
{
	return __atomic_load_n(&g->stop, __ATOMIC_RELAXED);
}

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* Value: u64 height, u32 key, u32 len, u64 version, payload, u64 sum.
 * API names use height UINT64_MAX. */
static size_t make_value(unsigned char *buf, uint64_t height, unsigned key, uint64_t version)
{
	uint64_t x = (version * 0x9e3779b97f4a7c15ull) ^ (height << 8) ^ key;
	size_t len = 32 + (size_t)(x % (MAXV - 32 - 8)), i;
	uint32_t k = key, l = (uint32_t)len;
	uint64_t sum;

	memcpy(buf, &height, 8);
	memcpy(buf + 8, &k, 4);
	memcpy(buf + 12, &l, 4);
	memcpy(buf + 16, &version, 8);
	for (i = 24; i < len - 8; i++)
		buf[i] = (unsigned char)(x >> ((i & 7) * 8)) ^ (unsigned char)i;
	sum = fnv(buf, len - 8);
	memcpy(buf + len - 8, &sum, 8);
	return len;
}

static int value_ok(const unsigned char *buf, size_t len, uint64_t height, unsigned key)
{
	uint64_t h, sum;
	uint32_t k, l;

	if (len < 32)
		return 0;
	memcpy(&h, buf, 8);
	memcpy(&k, buf + 8, 4);
	memcpy(&l, buf + 12, 4);
	memcpy(&sum, buf + len - 8, 8);
	return h == height && k == key && l == len && sum == fnv(buf, len - 8);
}

static void key_name(char *k, size_t cap, unsigned key)
{
	snprintf(k, cap, "view-%03u", key);
}

static void api_name(char *k, size_t cap, unsigned name)
{
	snprintf(k, cap, "api/%03u", name);
}

static void on_evict(void *arg, enum spc_pool_id pool, const void *key, size_t klen,
                     const void *val, size_t vlen, uint64_t cas)
{
	(void)arg, (void)key, (void)klen, (void)val, (void)vlen, (void)cas;
	__atomic_fetch_add(&g->hook_evictions, 1, __ATOMIC_RELAXED);
	if (pool != SPC_POOL_VIEW)
		flag_bad("an index pool eviction: views wrote there");
}

static uint64_t tip_now(void)
{
	return __atomic_load_n(&g->tip, __ATOMIC_ACQUIRE);
}

static void *reader(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 7919 + 1, reads = 0, hits = 0;
	unsigned char buf[MAXV];
	char k[32];

	while (!stopping()) {
		uint64_t x = xs(&seed), tip = tip_now();
		uint64_t h = tip + 2 - x % (WINDOW + MAX_REORG + 4);
		unsigned key = (unsigned)((x >> 20) % NKEYS);
		size_t n = 0;
		int r, ok = 1;

		if ((x >> 40) % 8 == 0) {
			api_name(k, sizeof k, key % NAMES);
			r = spc_api_get(g->cache, k, buf, sizeof buf, &n);
			if (r == SPC_OK)
				ok = value_ok(buf, n, UINT64_MAX, key % NAMES);
		} else if ((x >> 44) & 1) {
			struct spc_value v;

			key_name(k, sizeof k, key);
			spc_read_lock(g->cache);
			r = spc_get_at_rcu(g->cache, h, k, strlen(k), &v);
			if (r == SPC_OK)
				ok = value_ok(v.data, v.len, h, key);
			spc_read_unlock(g->cache);
		} else {
			key_name(k, sizeof k, key);
			r = spc_get_at(g->cache, h, k, strlen(k), buf, sizeof buf, &n);
			if (r == SPC_OK)
				ok = value_ok(buf, n, h, key);
		}
		reads++;
		if (r == SPC_OK) {
			hits++;
			if (!ok)
				flag_bad("torn or freed value: height %llu key %u", (unsigned long long)h, key);
		} else if (r != SPC_ENOTFOUND) {
			flag_bad("reader got status %d", r);
		}
	}
	__atomic_fetch_add(&g->reads, reads, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g->hits, hits, __ATOMIC_RELAXED);
	return NULL;
}

static void *writer(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 104729 + 3, version = 0;
	uint64_t writes = 0, stored = 0, above = 0, efull = 0;
	unsigned char buf[MAXV];
	char k[32];

	while (!stopping()) {
		/* Lowerings done, then the tip: if no lowering begins before the
		 * call ends, the tip only rises from tip0 meanwhile. */
		uint64_t done0 = __atomic_load_n(&g->lowered, __ATOMIC_ACQUIRE);
		uint64_t tip0 = spc_tip(g->cache);
		uint64_t x = xs(&seed), tip = tip_now();
		uint64_t h = tip + 1 - (x % (WINDOW + 1)); /* sometimes above the tip */
		unsigned key = (unsigned)((x >> 20) % NKEYS), what = (unsigned)((x >> 32) % 16);
		size_t n;
		int r;

		writes++;
		if (what == 0) {
			key_name(k, sizeof k, key);
			r = spc_delete_at(g->cache, h, k, strlen(k));
			if (r != SPC_OK && r != SPC_ENOTFOUND)
				flag_bad("delete_at status %d", r);
			continue;
		}
		if (what == 1) {
			api_name(k, sizeof k, key % NAMES);
			n = make_value(buf, UINT64_MAX, key % NAMES, ++version);
			r = spc_api_set(g->cache, k, buf, n);
		} else {
			key_name(k, sizeof k, key);
			n = make_value(buf, h, key, ++version);
			r = what == 2 ? spc_store_at(g->cache, h, SPC_STORE_ADD, k, strlen(k), buf, n,
			                             NULL, NULL)
			              : spc_set_at(g->cache, h, k, strlen(k), buf, n);
		}
		if (r == SPC_OK) {
			stored++;
		} else if (r == SPC_EABOVETIP) {
			above++;
			if (h <= tip0 && __atomic_load_n(&g->lowerings, __ATOMIC_ACQUIRE) == done0)
				flag_bad("refused at height %llu, tip %llu, no lowering",
				         (unsigned long long)h, (unsigned long long)tip0);
		} else if ((r == SPC_EFULL || r == SPC_EBUSY) || r == SPC_ENOMEM) {
			efull++;
		} else if (r != SPC_EEXISTS) {
			flag_bad("store status %d", r);
		}
	}
	__atomic_fetch_add(&g->writes, writes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g->stored, stored, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g->above, above, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g->efull, efull, __ATOMIC_RELAXED);
	return NULL;
}

/* No entry in (lo, hi]: what a reader must see after the tip fell to lo. */
static void check_nothing_above(uint64_t lo, uint64_t hi, const char *when)
{
	unsigned char buf[MAXV];
	char k[32];

	for (uint64_t h = lo + 1; h <= hi && h > lo; h++) {
		for (unsigned key = 0; key < NKEYS; key++) {
			size_t n;

			key_name(k, sizeof k, key);
			if (spc_get_at(g->cache, h, k, strlen(k), buf, sizeof buf, &n) == SPC_OK)
				flag_bad("%s: height %llu key %u visible above tip %llu", when,
				         (unsigned long long)h, key, (unsigned long long)lo);
		}
	}
}

/* Entries present now (writers stopped): every name and (height, key). */
static uint64_t count_present(void)
{
	unsigned char buf[MAXV];
	uint64_t n = 0;
	char k[32];
	size_t len;

	for (unsigned i = 0; i < NAMES; i++) {
		api_name(k, sizeof k, i);
		n += spc_api_get(g->cache, k, buf, sizeof buf, &len) == SPC_OK;
	}
	for (uint64_t h = 0; h <= g->highest + 1; h++) {
		for (unsigned key = 0; key < NKEYS; key++) {
			key_name(k, sizeof k, key);
			n += spc_get_at(g->cache, h, k, strlen(k), buf, sizeof buf, &len) == SPC_OK;
		}
	}
	return n;
}

static void *chain(void *arg)
{
	uint64_t seed = 0xc0ffee, tip = START_TIP, highest = START_TIP;

	(void)arg;
	while (!stopping()) {
		uint64_t x = xs(&seed);
		unsigned what = (unsigned)(x % 8);

		stress_nap_us(2000);
		if (what < 5) {
			tip += 1 + (x >> 8) % 2;
			if (spc_set_tip(g->cache, tip) != SPC_OK)
				flag_bad("set_tip (raise) failed");
			g->advances++;
		} else if (what < 7) {
			uint64_t lower = tip - 1 - (x >> 8) % MAX_REORG;

			__atomic_fetch_add(&g->lowerings, 1, __ATOMIC_ACQ_REL);
			__atomic_store_n(&g->tip, lower, __ATOMIC_RELEASE);
			if (spc_set_tip(g->cache, lower) != SPC_OK)
				flag_bad("set_tip (lower) failed");
			__atomic_fetch_add(&g->lowered, 1, __ATOMIC_ACQ_REL);
			check_nothing_above(lower, highest + 1, "after set_tip");
			tip = lower;
			g->reorgs++;
		} else {
			uint64_t removed = 0, from = tip - (x >> 8) % WINDOW;

			if (spc_invalidate_from_height(g->cache, from, &removed) != SPC_OK)
				flag_bad("invalidate failed");
			g->invalidations++;
			g->invalidated += removed;
		}
		if (tip > highest)
			highest = tip;
		__atomic_store_n(&g->tip, tip, __ATOMIC_RELEASE);
	}
	check_nothing_above(tip, highest + 1, "at the end");
	g->highest = highest;
	return NULL;
}

static void *sampler(void *arg)
{
	(void)arg;
	while (!stopping()) {
		struct spc_stats s[SPC_POOL_COUNT];

		for (int p = 0; p < SPC_POOL_COUNT; p++)
			spc_stats(g->cache, p, &s[p]);
		if (s[0].charged_bytes + s[1].charged_bytes > g->budget)
			flag_bad("pools above the budget");
		if (s[SPC_POOL_VIEW].charged_bytes > s[SPC_POOL_VIEW].target_bytes)
			flag_bad("view pool above its target by %llu",
			         (unsigned long long)(s[SPC_POOL_VIEW].charged_bytes -
			                              s[SPC_POOL_VIEW].target_bytes));
		if (s[SPC_POOL_INDEX].inserts)
			flag_bad("a view write reached the index pool");
		g->samples++;
		stress_nap_us(2000);
	}
	return NULL;
}

START_TEST(readers_writers_tip_reorganisations)
{
	pthread_t rt[MAX_THREADS], wt[MAX_THREADS], ct, st;
	struct spc_stats s;

	g = calloc(1, sizeof *g);
	ck_assert_ptr_nonnull(g);
	g->cache = stress_open(&g->budget);
	spc_cache_set_evict_hook(g->cache, on_evict, NULL);
	g->tip = START_TIP;
	ck_assert_int_eq(spc_stats(g->cache, SPC_POOL_VIEW, &s), SPC_OK);
	g->base_charge = s.charged_bytes;
	ck_assert_int_eq(spc_set_tip(g->cache, START_TIP), SPC_OK);
	for (unsigned i = 0; i < opt_readers; i++)
		ck_assert_int_eq(pthread_create(&rt[i], NULL, reader, (void *)(uintptr_t)(i + 1)), 0);
	for (unsigned i = 0; i < opt_writers; i++)
		ck_assert_int_eq(pthread_create(&wt[i], NULL, writer, (void *)(uintptr_t)(i + 1)), 0);
	ck_assert_int_eq(pthread_create(&ct, NULL, chain, NULL), 0);
	ck_assert_int_eq(pthread_create(&st, NULL, sampler, NULL), 0);
	stress_nap_us(opt_seconds * UINT64_C(1000000));
	__atomic_store_n(&g->stop, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < opt_readers; i++)
		pthread_join(rt[i], NULL);
	for (unsigned i = 0; i < opt_writers; i++)
		pthread_join(wt[i], NULL);
	pthread_join(ct, NULL);
	pthread_join(st, NULL);
	ck_assert_int_eq(spc_cache_quiesce(g->cache, 20000), SPC_OK);
	ck_assert_int_eq(spc_stats(g->cache, SPC_POOL_VIEW, &s), SPC_OK);
	printf("stress_views: %u s, %u readers, %u writers: %llu reads (%llu hits), %llu writes "
	       "(%llu stored, %llu above the tip, %llu EFULL/ENOMEM), tip %llu: %llu advances, "
	       "%llu lowerings, %llu invalidations (%llu entries), %llu evictions, %llu items, "
	       "%llu samples\n",
	       opt_seconds, opt_readers, opt_writers, (unsigned long long)g->reads,
	       (unsigned long long)g->hits, (unsigned long long)g->writes,
	       (unsigned long long)g->stored, (unsigned long long)g->above,
	       (unsigned long long)g->efull, (unsigned long long)spc_tip(g->cache),
	       (unsigned long long)g->advances, (unsigned long long)g->reorgs,
	       (unsigned long long)g->invalidations, (unsigned long long)g->invalidated,
	       (unsigned long long)s.evictions, (unsigned long long)s.items,
	       (unsigned long long)g->samples);
	ck_assert_uint_eq(s.evictions, __atomic_load_n(&g->hook_evictions, __ATOMIC_RELAXED));
	ck_assert_uint_eq(s.items, count_present());
	/* everything out: the charge is back where it started */
	{
		uint64_t removed = 0;
		struct spc_stats e;

		ck_assert_int_eq(spc_clear(g->cache, SPC_POOL_VIEW), SPC_OK);
		ck_assert_int_eq(spc_invalidate_from_height(g->cache, 0, &removed), SPC_OK);
		ck_assert_uint_eq(removed, 0);
		ck_assert_int_eq(spc_cache_quiesce(g->cache, 20000), SPC_OK);
		ck_assert_int_eq(spc_stats(g->cache, SPC_POOL_VIEW, &e), SPC_OK);
		ck_assert_uint_eq(e.items, 0);
		ck_assert_uint_eq(e.charged_bytes, g->base_charge);
	}
	ck_assert_uint_eq(s.reclaim_backlog_bytes, 0);
	ck_assert_msg(g->bad == 0, "%llu failed checks, first: %s", (unsigned long long)g->bad,
	              g->why);
	ck_assert_uint_gt(g->hits, 0);
	ck_assert_uint_gt(g->stored, 0);
	ck_assert_uint_gt(g->reorgs, 0);
	spc_close(g->cache);
	free(g);
}
END_TEST

int main(int argc, char **argv)
{
	if (spc_stress_arg(argc, argv, 1, &opt_seconds) || spc_stress_arg(argc, argv, 2, &opt_readers) ||
	    spc_stress_arg(argc, argv, 3, &opt_writers) || opt_seconds == 0 || opt_readers == 0 ||
	    opt_writers == 0 || opt_readers > MAX_THREADS || opt_writers > MAX_THREADS) {
		fprintf(stderr, "usage: %s SECONDS [READERS(1..16) [WRITERS(1..16)]]\n", argv[0]);
		return 2;
	}
	return spc_stress_run("stress", "views", readers_writers_tip_reorganisations, opt_seconds);
}
