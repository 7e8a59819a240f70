/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/stress/stress_cache.c: readers, writers, the maintainers, mode
 * switches and clears, all at once, for a bounded time.
 *
 *   stress_cache SECONDS [READERS [WRITERS [nocas]]]
 *
 * nocas: the cache keeps no cas (cfg.no_cas): entries are published
 * without a cas store, by meta's release store and the index alone.
 *
 * Every value encodes its key, a version and a checksum. Each key belongs
 * to one writer, so its versions only grow. The test asserts:
 *  1. no torn or freed read: every value a reader sees has the right key,
 *     a valid checksum, and (per reader and key) a version never older
 *     than one it saw before;
 *  2. no overshoot: sampled, each pool's charged bytes stay within its
 *     target while no mode change runs (after one that returned SPC_OK,
 *     even when an earlier one timed out), and the two pools within the
 *     budget always;
 *  3. no lost acknowledged write: at the end, every key's last
 *     acknowledged store is in the cache unless the maintainer evicted
 *     exactly that version (eviction log below) or a clear ran after it
 *     began; a key whose last acknowledged operation was a delete is
 *     absent;
 *  4. stats agree with the eviction log.
 * It stops by itself after SECONDS; no timing is asserted.
 */
#include <check.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_run.h"
#include "core/cache.h"
#include "stress/stress_common.h"

#define NKEYS 6000u
#define MAXV 700u
#define MAX_THREADS 16

static unsigned opt_seconds = 3, opt_readers = 2, opt_writers = 2;
static int opt_no_cas;

struct key_state {
	uint64_t acked;       /* version of the last acknowledged store, 0 none */
	int deleted;          /* last acknowledged operation was a delete */
	uint64_t clears_at;   /* clears started when that operation began */
	int clear_running;    /* a clear was running when it began */
};

struct shared {
	struct spc_cache *cache;
	uint64_t budget;
	int stop;                                   /* atomic */
	uint64_t evicted[SPC_POOL_COUNT][NKEYS];    /* atomic: highest evicted version */
	uint64_t hook_evictions[SPC_POOL_COUNT];    /* atomic */
	uint64_t clears_started[SPC_POOL_COUNT];    /* atomic */
	uint64_t clears_done[SPC_POOL_COUNT];       /* atomic */
	int mode_changing;                          /* atomic */
	int mode_shedding;                          /* atomic: last set_mode timed out */
	uint64_t mode_timeouts;
	uint64_t mode_gen;                          /* atomic */
	struct key_state keys[SPC_POOL_COUNT][NKEYS]; /* written by the owning writer */
	uint64_t reads, hits, writes, write_ok, efull, deletes, mode_changes, clears, samples;
	uint64_t bad;                               /* atomic: failed checks */
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

static uint64_t fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* Value: u32 key, u32 len, u64 version, payload, u64 checksum. */
static size_t make_value(unsigned char *buf, unsigned key, uint64_t version)
{
	uint64_t x = version * 0x9e3779b97f4a7c15ull ^ key;
	size_t len = 24 + (size_t)(x % (MAXV - 24 - 16)), i;
	uint32_t k = key, l = (uint32_t)len;
	uint64_t sum;

	memcpy(buf, &k, 4);
	memcpy(buf + 4, &l, 4);
	memcpy(buf + 8, &version, 8);
	for (i = 16; i < len - 8; i++)
		buf[i] = (unsigned char)(x >> ((i & 7) * 8)) ^ (unsigned char)i;
	sum = fnv(buf, len - 8);
	memcpy(buf + len - 8, &sum, 8);
	return len;
}

/* Returns the version, or 0 when the value is not a valid one for key. */
static uint64_t check_value(const unsigned char *buf, size_t len, unsigned key)
{
	uint32_t k, l;
	uint64_t v, sum;

	if (len < 24)
		return 0;
	memcpy(&k, buf, 4);
	memcpy(&l, buf + 4, 4);
	memcpy(&v, buf + 8, 8);
	memcpy(&sum, buf + len - 8, 8);
	if (k != key || l != len || sum != fnv(buf, len - 8))
		return 0;
	return v;
}

static void key_name(char *k, size_t cap, unsigned key)
{
	snprintf(k, cap, "stress-%05u", key);
}

static void on_evict(void *arg, enum spc_pool_id pool, const void *key, size_t klen,
                     const void *val, size_t vlen, uint64_t cas)
{
	char k[32];
	unsigned idx;
	uint64_t v;

	(void)arg, (void)cas;
	if (klen >= sizeof k)
		return flag_bad("evicted key too long");
	memcpy(k, key, klen);
	k[klen] = '\0';
	idx = (unsigned)strtoul(k + 7, NULL, 10);
	v = check_value(val, vlen, idx);
	if (idx >= NKEYS || !v)
		return flag_bad("evicted a torn value: key %u pool %u", idx, (unsigned)pool);
	__atomic_fetch_add(&g->hook_evictions[pool], 1, __ATOMIC_RELAXED);
	/* only the maintainer of this pool writes here: a plain max is fine,
	 * atomics keep the final reader race-free */
	if (__atomic_load_n(&g->evicted[pool][idx], __ATOMIC_RELAXED) < v)
		__atomic_store_n(&g->evicted[pool][idx], v, __ATOMIC_RELAXED);
}

static uint64_t xs(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int stopping(void)
{
	return __atomic_load_n(&g->stop, __ATOMIC_RELAXED);
}

static void *reader(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 7919 + 1, reads = 0, hits = 0;
	static __thread uint64_t seen[SPC_POOL_COUNT][NKEYS];
	unsigned char buf[MAXV];
	char k[32];

	memset(seen, 0, sizeof seen);
	while (!stopping()) {
		uint64_t x = xs(&seed), v = 0;
		unsigned key = (unsigned)(x % NKEYS);
		int pool = (int)((x >> 32) & 1), r;
		size_t n = 0;

		key_name(k, sizeof k, key);
		if ((x >> 40) & 1) {
			struct spc_value val;

			spc_read_lock(g->cache);
			r = spc_get_rcu(g->cache, pool, k, strlen(k), &val);
			if (r == SPC_OK)
				v = check_value(val.data, val.len, key);
			spc_read_unlock(g->cache);
		} else {
			r = spc_get(g->cache, pool, k, strlen(k), buf, sizeof buf, &n);
			if (r == SPC_OK)
				v = check_value(buf, n, key);
		}
		reads++;
		if (r == SPC_OK) {
			hits++;
			if (!v)
				flag_bad("torn or freed value: key %u pool %u", key, (unsigned)pool);
			else if (v < seen[pool][key])
				flag_bad("version went back: key %u pool %u version %llu", key,
				     (unsigned)pool, (unsigned long long)v);
			else
				seen[pool][key] = v;
		} else if (r != SPC_ENOTFOUND) {
			flag_bad("reader got status %d for key %u", r, key);
		}
	}
	__atomic_fetch_add(&g->reads, reads, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g->hits, hits, __ATOMIC_RELAXED);
	return NULL;
}

static void *writer(void *arg)
{
	unsigned id = (unsigned)(uintptr_t)arg;
	uint64_t seed = id * 104729 + 3, version = 0, writes = 0, ok = 0, efull = 0, dels = 0;
	unsigned char buf[MAXV];
	char k[32];

	while (!stopping()) {
		uint64_t x = xs(&seed);
		unsigned key = (unsigned)(x % (NKEYS / opt_writers)) * opt_writers + id;
		int pool = (int)((x >> 32) & 1), what = (int)((x >> 36) % 10), r;
		struct key_state *ks;
		uint64_t cs, cd;

		if (key >= NKEYS)
			continue;
		ks = &g->keys[pool][key];
		key_name(k, sizeof k, key);
		cs = __atomic_load_n(&g->clears_started[pool], __ATOMIC_ACQUIRE);
		cd = __atomic_load_n(&g->clears_done[pool], __ATOMIC_ACQUIRE);
		writes++;
		if (what == 0) {
			r = spc_delete(g->cache, pool, k, strlen(k));
			if (r != SPC_OK && r != SPC_ENOTFOUND)
				flag_bad("delete status %d key %u", r, key);
			dels++;
			ks->deleted = 1;
			ks->acked = 0;
		} else {
			size_t n = make_value(buf, key, ++version);

			r = what == 1 ? spc_add(g->cache, pool, k, strlen(k), buf, n)
			              : spc_set(g->cache, pool, k, strlen(k), buf, n);
			if (r == SPC_OK) {
				ok++;
				ks->acked = version;
				ks->deleted = 0;
			} else if ((r == SPC_EFULL || r == SPC_EBUSY) || r == SPC_ENOMEM) {
				efull++;
				continue; /* cache unchanged: the previous state holds */
			} else if (r != SPC_EEXISTS) {
				flag_bad("store status %d key %u", r, key);
				continue;
			} else {
				continue;
			}
		}
		ks->clears_at = cs;
		ks->clear_running = cd != cs;
	}
	__atomic_fetch_add(&g->writes, writes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g->write_ok, ok, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g->efull, efull, __ATOMIC_RELAXED);
	__atomic_fetch_add(&g->deletes, dels, __ATOMIC_RELAXED);
	return NULL;
}

/* Switches modes and clears pools now and then. */
static void *chaos(void *arg)
{
	static const enum spc_mode modes[] = { SPC_MODE_INDEXER, SPC_MODE_SPLIT, SPC_MODE_VIEW,
	                                       SPC_MODE_SPLIT };
	static const double shares[] = { 0.5, 0.3, 0.5, 0.6 };
	unsigned i = 0;

	(void)arg;
	while (!stopping()) {
		int r;

		stress_nap_us(150000);
		if (stopping())
			break;
		if (i % 4 == 3) {
			int pool = (int)((i / 4) & 1);

			__atomic_fetch_add(&g->clears_started[pool], 1, __ATOMIC_ACQ_REL);
			if (spc_clear(g->cache, pool) != SPC_OK)
				flag_bad("clear failed");
			__atomic_fetch_add(&g->clears_done[pool], 1, __ATOMIC_ACQ_REL);
			g->clears++;
		} else {
			__atomic_store_n(&g->mode_changing, 1, __ATOMIC_SEQ_CST);
			__atomic_fetch_add(&g->mode_gen, 1, __ATOMIC_SEQ_CST);
			r = spc_set_mode(g->cache, modes[i % 4], shares[i % 4]);
			if (r != SPC_OK && r != SPC_ETIMEDOUT)
				flag_bad("set_mode status %d", r);
			/* after a timeout the shrunk pool keeps its new, lower
			 * target while its maintainer is still shedding: the
			 * pools' sum stays within the budget, checked always */
			__atomic_store_n(&g->mode_shedding, r == SPC_ETIMEDOUT, __ATOMIC_SEQ_CST);
			g->mode_timeouts += r == SPC_ETIMEDOUT;
			__atomic_store_n(&g->mode_changing, 0, __ATOMIC_SEQ_CST);
			g->mode_changes++;
		}
		i++;
	}
	return NULL;
}

static void *sampler(void *arg)
{
	(void)arg;
	while (!stopping()) {
		struct spc_stats s[SPC_POOL_COUNT];
		uint64_t gen = __atomic_load_n(&g->mode_gen, __ATOMIC_SEQ_CST);
		int quiet = !__atomic_load_n(&g->mode_changing, __ATOMIC_SEQ_CST) &&
		            !__atomic_load_n(&g->mode_shedding, __ATOMIC_SEQ_CST);

		for (int p = 0; p < SPC_POOL_COUNT; p++)
			spc_stats(g->cache, p, &s[p]);
		if (s[0].charged_bytes + s[1].charged_bytes > g->budget)
			flag_bad("pools above the budget: %llu",
			     (unsigned long long)(s[0].charged_bytes + s[1].charged_bytes));
		if (quiet && !__atomic_load_n(&g->mode_changing, __ATOMIC_SEQ_CST) &&
		    !__atomic_load_n(&g->mode_shedding, __ATOMIC_SEQ_CST) &&
		    gen == __atomic_load_n(&g->mode_gen, __ATOMIC_SEQ_CST)) {
			for (int p = 0; p < SPC_POOL_COUNT; p++)
				if (s[p].charged_bytes > s[p].target_bytes)
					flag_bad("pool %d above its target by %llu", p,
					         (unsigned long long)(s[p].charged_bytes -
					                              s[p].target_bytes));
		}
		g->samples++;
		stress_nap_us(2000);
	}
	return NULL;
}

static void verify_final(void)
{
	unsigned char buf[MAXV];
	char k[32];
	uint64_t lost_excused = 0;

	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		uint64_t clears = __atomic_load_n(&g->clears_started[p], __ATOMIC_ACQUIRE);

		for (unsigned key = 0; key < NKEYS; key++) {
			struct key_state *ks = &g->keys[p][key];
			size_t n = 0;
			int r;
			uint64_t v = 0;

			key_name(k, sizeof k, key);
			r = spc_get(g->cache, p, k, strlen(k), buf, sizeof buf, &n);
			if (r == SPC_OK) {
				v = check_value(buf, n, key);
				if (!v)
					flag_bad("final: torn value key %u pool %u", key, (unsigned)p);
			}
			if (ks->deleted) {
				if (r == SPC_OK)
					flag_bad("final: deleted key %u pool %u came back as %llu", key,
					     (unsigned)p, (unsigned long long)v);
			} else if (ks->acked) {
				int excused = ks->clear_running || clears > ks->clears_at ||
				              __atomic_load_n(&g->evicted[p][key], __ATOMIC_RELAXED) == ks->acked;

				if (r == SPC_OK && v != ks->acked && !(excused && v < ks->acked))
					flag_bad("final: key %u pool %u holds version %llu, not the last acked",
					     key, (unsigned)p, (unsigned long long)v);
				if (r != SPC_OK && !excused)
					flag_bad("final: lost acknowledged write key %u pool %u version %llu",
					     key, (unsigned)p, (unsigned long long)ks->acked);
				lost_excused += r != SPC_OK;
			}
		}
	}
	printf("stress: %llu acknowledged keys absent at the end, each evicted or cleared\n",
	       (unsigned long long)lost_excused);
}

START_TEST(readers_writers_maintainers_modes_clears)
{
	pthread_t rt[MAX_THREADS], wt[MAX_THREADS], ct, st;
	struct spc_stats s;

	g = calloc(1, sizeof *g);
	ck_assert_ptr_nonnull(g);
	g->cache = stress_open_cas(&g->budget, opt_no_cas);
	spc_cache_set_evict_hook(g->cache, on_evict, NULL);
	for (unsigned i = 0; i < opt_readers; i++)
		ck_assert_int_eq(pthread_create(&rt[i], NULL, reader, (void *)(uintptr_t)i), 0);
	for (unsigned i = 0; i < opt_writers; i++)
		ck_assert_int_eq(pthread_create(&wt[i], NULL, writer, (void *)(uintptr_t)i), 0);
	ck_assert_int_eq(pthread_create(&ct, NULL, chaos, NULL), 0);
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
	verify_final();
	ck_assert_int_eq(spc_stats(g->cache, -1, &s), SPC_OK);
	printf("stress%s: %u s, %u readers, %u writers: %llu reads (%llu hits), %llu writes "
	       "(%llu stored, %llu EFULL/ENOMEM, %llu deletes), %llu evictions, %llu mode "
	       "changes (%llu timed out), %llu clears, %llu samples\n",
	       opt_no_cas ? " (no cas)" : "", opt_seconds, opt_readers, opt_writers,
	       (unsigned long long)g->reads,
	       (unsigned long long)g->hits, (unsigned long long)g->writes,
	       (unsigned long long)g->write_ok, (unsigned long long)g->efull,
	       (unsigned long long)g->deletes, (unsigned long long)s.evictions,
	       (unsigned long long)g->mode_changes, (unsigned long long)g->mode_timeouts,
	       (unsigned long long)g->clears,
	       (unsigned long long)g->samples);
	ck_assert_uint_eq(s.evictions, g->hook_evictions[0] + g->hook_evictions[1]);
	ck_assert_uint_eq(s.reclaim_backlog_bytes, 0);
	ck_assert_msg(g->bad == 0, "%llu failed checks, first: %s", (unsigned long long)g->bad,
	              g->why);
	ck_assert_uint_gt(g->reads, 0);
	ck_assert_uint_gt(g->write_ok, 0);
	spc_close(g->cache);
	free(g);
}
END_TEST

int main(int argc, char **argv)
{
	if (spc_stress_arg(argc, argv, 1, &opt_seconds) || spc_stress_arg(argc, argv, 2, &opt_readers) ||
	    spc_stress_arg(argc, argv, 3, &opt_writers) || opt_seconds == 0 || opt_readers == 0 ||
	    opt_writers == 0 || opt_readers > MAX_THREADS || opt_writers > MAX_THREADS ||
	    (argc > 4 && strcmp(argv[4], "nocas") != 0)) {
		fprintf(stderr, "usage: %s SECONDS [READERS(1..16) [WRITERS(1..16) [nocas]]]\n",
		        argv[0]);
		return 2;
	}
	opt_no_cas = argc > 4;
	return spc_stress_run("stress", "cache", readers_writers_maintainers_modes_clears, opt_seconds);
}
