/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/core/test_accounting.c: exact accounting.
 *
 * After any sequence of operations and a quiesce, each pool's charged
 * bytes equal the sum of its live entries' charges plus the index's bytes
 * (index_bytes: the compact index's tables, charged as allocated, 0 for
 * the lfht; the backlog is then zero); in synchronous mode, before the
 * quiesce too, with the backlog as the third term; items equal the live entries, and evictions equal every entry the
 * maintainer removed to make room: inserts of new keys - deletes - clears
 * - live items, never replacements.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_run.h"
#include "core/cache.h"

#define NKEYS 4000

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Set by a test that runs without cas (cfg.no_cas) before open_small. */
static int test_no_cas;

static struct spc_cache *open_small(uint64_t budget, int sync, enum spc_policy pol,
                                    uint64_t max_entries)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.no_cas = test_no_cas;
	cfg.use_env = 0;
	cfg.budget_bytes = budget;
	cfg.synchronous_maintenance = sync;
	cfg.policy = pol;
	cfg.max_entries[SPC_POOL_INDEX] = max_entries;
	cfg.max_entries[SPC_POOL_VIEW] = max_entries;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	return c;
}

static void key_of(int i, char *k, size_t cap)
{
	snprintf(k, cap, "acct-key-%06d", i);
}

/* Sum of live charges and number of live keys, found by asking the cache
 * about every key of the universe. */
static void live_sum(struct spc_cache *c, int pool, uint64_t *bytes, uint64_t *items)
{
	static char buf[8192];
	char k[32];
	size_t n;

	*bytes = 0;
	*items = 0;
	for (int i = 0; i < NKEYS; i++) {
		key_of(i, k, sizeof k);
		if (spc_get(c, pool, k, strlen(k), buf, sizeof buf, &n) == SPC_OK) {
			/* the header, 8 bytes more with the cas */
			unsigned meta = c->cfg.no_cas ? 0u : SPC_META_CAS;

			*bytes += spc_pool_usable(c->ps[pool].pool, spc_entry_size(meta, strlen(k), n)) +
			          c->ps[pool].entry_share;
			(*items)++;
		}
	}
}

static uint64_t hook_evictions[2];
/* The key a synchronous write is storing, and whether its own maintenance
 * steps evicted it meanwhile (they run in the writer's thread). Atomic
 * anyway: the hook runs on a maintainer thread in threaded mode. */
static const char *hook_key;
static int hook_key_evicted;

static void count_eviction(void *arg, enum spc_pool_id pool, const void *key, size_t klen,
                           const void *val, size_t vlen, uint64_t cas)
{
	(void)arg, (void)val, (void)vlen, (void)cas;
	__atomic_fetch_add(&hook_evictions[pool], 1, __ATOMIC_RELAXED);
	const char *k = __atomic_load_n(&hook_key, __ATOMIC_ACQUIRE);

	if (k && klen == strlen(k) && memcmp(key, k, klen) == 0)
		__atomic_store_n(&hook_key_evicted, 1, __ATOMIC_RELAXED);
}

/* The identity at any moment of a synchronous cache (nothing runs
 * between the calls): charged = live entries' charges + the index's
 * tables + the backlog (entries unpublished, not yet reclaimed). */
static void check_identity_now(struct spc_cache *c)
{
	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		struct spc_stats st;
		uint64_t bytes, items;

		ck_assert_int_eq(spc_stats(c, p, &st), SPC_OK);
		live_sum(c, p, &bytes, &items);
		ck_assert_uint_eq(st.index_bytes, spc_kv_bytes(&c->ps[p]));
		ck_assert_uint_gt(st.index_bytes, 0); /* the tables are charged */
		ck_assert_uint_eq(st.charged_bytes,
		                  bytes + st.index_bytes + st.reclaim_backlog_bytes);
	}
}

static void check_exact(struct spc_cache *c, uint64_t new_inserts[2], uint64_t removed[2])
{
	if (c->sync_mode)
		check_identity_now(c);
	ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		struct spc_stats st;
		uint64_t bytes, items;

		ck_assert_int_eq(spc_stats(c, p, &st), SPC_OK);
		live_sum(c, p, &bytes, &items);
		ck_assert_uint_eq(st.reclaim_backlog_bytes, 0);
		ck_assert_uint_eq(st.index_bytes, spc_kv_bytes(&c->ps[p]));
		ck_assert_uint_eq(st.charged_bytes, bytes + st.index_bytes);
		ck_assert_uint_eq(st.items, items);
		ck_assert_uint_le(st.charged_bytes, st.target_bytes);
		ck_assert_uint_eq(st.evictions, __atomic_load_n(&hook_evictions[p], __ATOMIC_RELAXED));
		/* every entry that went away without a delete/clear was evicted
		 * (exact bookkeeping of new keys is only possible when no
		 * maintainer runs between the test's get and set) */
		if (c->sync_mode)
			ck_assert_uint_eq(st.evictions, new_inserts[p] - removed[p] - items);
	}
}

/* _i: bit 0 synchronous, bit 1 clock policy, bit 2 without cas */
START_TEST(charged_equals_live_after_any_sequence)
{
	struct spc_cache *c;

	test_no_cas = (_i & 4) != 0;
	c = open_small(6u << 20, _i & 1, (_i & 2) ? SPC_POLICY_CLOCK : SPC_POLICY_S3FIFO, 0);
	static char val[6000];
	static unsigned char present[2][NKEYS];
	uint64_t new_inserts[2] = { 0, 0 }, removed[2] = { 0, 0 };
	char k[32];

	memset(present, 0, sizeof present);
	memset(hook_evictions, 0, sizeof hook_evictions);
	spc_cache_set_evict_hook(c, count_eviction, NULL);
	memset(val, 'a', sizeof val);
	rng_state = 0x1234567 + (uint64_t)_i;
	for (int op = 0; op < 30000; op++) {
		int p = (int)(rng() & 1), i = (int)(rng() % NKEYS), what = (int)(rng() % 100);
		size_t vlen = (size_t)(rng() % ((rng() & 7) == 0 ? sizeof val : 300));
		int r;

		key_of(i, k, sizeof k);
		if (what < 60 || what >= 99) {
			/* present[] may be stale after evictions: ask the cache */
			size_t n;
			int had = spc_get(c, p, k, strlen(k), NULL, 0, &n) != SPC_ENOTFOUND;

			__atomic_store_n(&hook_key_evicted, 0, __ATOMIC_RELAXED);
			/* Synchronous only: a maintainer thread would read k
			 * while the next operation writes it. */
			if (c->sync_mode)
				__atomic_store_n(&hook_key, (const char *)k, __ATOMIC_RELEASE);
			r = (what & 1) ? spc_set(c, p, k, strlen(k), val, vlen)
			               : spc_add(c, p, k, strlen(k), val, vlen);
			__atomic_store_n(&hook_key, NULL, __ATOMIC_RELEASE);
			ck_assert(r == SPC_OK || r == SPC_EEXISTS || (r == SPC_EFULL || r == SPC_EBUSY));
			if (r == SPC_EEXISTS)
				ck_assert(had);
			/* A write that waited for room or a slab ran steps that
			 * may have evicted the very key: it is new again. */
			if (r == SPC_OK && (!had || __atomic_load_n(&hook_key_evicted, __ATOMIC_RELAXED)))
				new_inserts[p]++;
		} else if (what < 95) {
			r = spc_delete(c, p, k, strlen(k));
			ck_assert(r == SPC_OK || r == SPC_ENOTFOUND);
			if (r == SPC_OK)
				removed[p]++;
		} else if (what == 95 && (rng() % 50) == 0) {
			struct spc_stats st;

			ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
			ck_assert_int_eq(spc_stats(c, p, &st), SPC_OK);
			ck_assert_int_eq(spc_clear(c, p), SPC_OK);
			removed[p] += st.items;
		}
		/* the race between get and set above is with the maintainer
		 * only: it can evict the key in between, counted as an eviction
		 * of the old entry; the new one is then a new insert. */
	}
	(void)present;
	check_exact(c, new_inserts, removed);
	spc_close(c);
}
END_TEST

/* The original's eviction counter missed the case where one eviction
 * makes room for exactly one insert. Fill to capacity, then every further
 * insert of a new key must count exactly one eviction. */
START_TEST(evictions_counted_when_one_eviction_makes_room_for_one_insert)
{
	struct spc_cache *c = open_small(16u << 20, 1, (_i & 1) ? SPC_POLICY_CLOCK : SPC_POLICY_S3FIFO, 100);
	struct spc_stats st;
	char k[32];

	for (int i = 0; i < 100; i++) {
		key_of(i, k, sizeof k);
		ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, k, strlen(k), "v", 1), SPC_OK);
	}
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_eq(st.items, 100);
	for (int i = 100; i < 150; i++) {
		key_of(i, k, sizeof k);
		ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, k, strlen(k), "v", 1), SPC_OK);
		ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
		ck_assert_uint_eq(st.evictions, (uint64_t)(i - 99));
		ck_assert_uint_eq(st.items, 100);
	}
	/* replacements are never evictions */
	for (int i = 140; i < 150; i++) {
		key_of(i, k, sizeof k);
		ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, k, strlen(k), "w", 1), SPC_OK);
	}
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_eq(st.evictions, 50);
	spc_close(c);
}
END_TEST

/* Byte-bounded: with the threaded maintainer, a pool far smaller than
 * what is written never passes its target and counts every eviction. */
START_TEST(byte_budget_evictions_exact)
{
	struct spc_cache *c = open_small(4u << 20, _i, SPC_POLICY_S3FIFO, 0);
	static char val[1000];
	struct spc_stats st;
	uint64_t ok = 0;
	char k[32];

	for (int i = 0; i < 20000; i++) {
		int r;

		snprintf(k, sizeof k, "b%d", i);
		r = spc_set(c, SPC_POOL_VIEW, k, strlen(k), val, sizeof val);
		ck_assert(r == SPC_OK || (r == SPC_EFULL || r == SPC_EBUSY));
		ok += r == SPC_OK;
		ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
		ck_assert_uint_le(st.charged_bytes, st.target_bytes);
	}
	ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
	ck_assert_uint_eq(st.inserts, ok);
	ck_assert_uint_gt(st.evictions, 0);
	ck_assert_uint_eq(st.evictions + st.items, ok);
	spc_close(c);
}
END_TEST

/* ---- items: flags, expiry, every store mode ---------------------------- */

static uint64_t acct_clock;

static uint64_t acct_clock_fn(void *arg)
{
	return __atomic_load_n((uint64_t *)arg, __ATOMIC_RELAXED);
}

struct index_sum {
	struct spc_pstate *ps;
	uint64_t bytes, items, expiring;
};

static void index_sum_one(void *arg, struct spc_entry *e)
{
	struct index_sum *s = arg;

	(void)spc_entry_acquire(e);
	s->bytes += spc_entry_charge(s->ps, e);
	s->items++;
	s->expiring += spc_entry_expiry(e) != 0;
}

/* Published entries of a pool, read from the index itself: their count,
 * the sum of their charges, and how many still have a deadline to come. */
static void index_sum(struct spc_cache *c, int pool, uint64_t *bytes, uint64_t *items,
                      uint64_t *expiring)
{
	struct index_sum s = { &c->ps[pool], 0, 0, 0 };

	spc_rcu_read_lock();
	spc_kv_for_each_rcu(s.ps, index_sum_one, &s);
	spc_rcu_read_unlock();
	*bytes = s.bytes;
	*items = s.items;
	*expiring = s.expiring;
}

/* Random stores of every mode with flags and expiries, incr/decr, touch,
 * gat, deletes, on a clock that moves: after everything expired and the
 * maintainers were quiesced, charged bytes are the sum of the published
 * entries' charges (each with its flags and expiry fields), items their
 * number, and every expired entry was counted as an expiration.
 * _i: bit 0 synchronous, bit 1 without cas. */
START_TEST(charged_equals_live_with_items)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;
	static char val[2000];
	uint64_t bytes, items, expiring;
	struct spc_stats st;
	char k[32];

	spc_config_init(&cfg);
	cfg.use_env = 0;
	/* 80 slab size classes of up to 64 KiB slabs are all in use here: a
	 * pool of a few MiB would be held by its slabs alone (pools/slab.h) */
	cfg.budget_bytes = 24u << 20;
	cfg.max_item_bytes = 8192; /* appends grow values up to it */
	cfg.synchronous_maintenance = _i & 1;
	cfg.no_cas = (_i & 2) != 0;
	cfg.clock = acct_clock_fn;
	cfg.clock_arg = &acct_clock;
	acct_clock = 5000;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	memset(val, '7', sizeof val);
	rng_state = 0xabcdef + (uint64_t)_i;
	for (int op = 0; op < 40000; op++) {
		int p = (int)(rng() & 1), i = (int)(rng() % 600), what = (int)(rng() % 12);
		uint64_t now = __atomic_load_n(&acct_clock, __ATOMIC_RELAXED);
		struct spc_item it = { (rng() & 1) ? (uint32_t)rng() : 0,
		                       (rng() & 1) ? now + rng() % 20 : 0, 0 };
		size_t vlen = 1 + (size_t)(rng() % ((rng() & 7) == 0 ? sizeof val : 20));
		struct spc_value v;
		char buf[sizeof val + 32];
		int r;

		if (op % 500 == 0)
			__atomic_store_n(&acct_clock, now + 1, __ATOMIC_RELAXED);
		key_of(i, k, sizeof k);
		if (what < 6) {
			if (what == 3 && spc_get_item(c, p, k, strlen(k), buf, sizeof buf, &v) == SPC_OK)
				it.cas = v.cas;
			if (what == 3 && !it.cas)
				it.cas = 1;
			r = spc_store(c, p, (enum spc_store_mode)what, k, strlen(k), val, vlen, &it,
			              NULL);
			ck_assert(r == SPC_OK || r == SPC_EEXISTS || r == SPC_ENOTFOUND ||
			          (r == SPC_EFULL || r == SPC_EBUSY) || r == SPC_ETOOBIG);
		} else if (what < 8) {
			r = spc_arith(c, p, k, strlen(k), what == 7, rng() % 1000, 0, NULL, NULL);
			ck_assert(r == SPC_OK || r == SPC_ENOTFOUND || r == SPC_ENOTNUM ||
			          (r == SPC_EFULL || r == SPC_EBUSY));
		} else if (what == 8) {
			r = spc_touch(c, p, k, strlen(k), it.expiry);
			ck_assert(r == SPC_OK || r == SPC_ENOTFOUND || (r == SPC_EFULL || r == SPC_EBUSY));
		} else if (what == 9) {
			r = spc_gat(c, p, k, strlen(k), it.expiry, buf, sizeof buf, &v);
			ck_assert(r == SPC_OK || r == SPC_ENOTFOUND || (r == SPC_EFULL || r == SPC_EBUSY) ||
			          r == SPC_ERANGE);
		} else if (what == 10) {
			snprintf(val, 21, "%llu", (unsigned long long)(rng() % 100000));
			r = spc_store(c, p, SPC_STORE_SET, k, strlen(k), val, strlen(val), &it, NULL);
			memset(val, '7', 24);
			ck_assert(r == SPC_OK || (r == SPC_EFULL || r == SPC_EBUSY));
		} else {
			r = spc_delete(c, p, k, strlen(k));
			ck_assert(r == SPC_OK || r == SPC_ENOTFOUND);
		}
	}
	/* everything with a deadline expires; wait until it is reclaimed */
	__atomic_store_n(&acct_clock, acct_clock + 1000, __ATOMIC_RELAXED);
	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		for (int tries = 0; tries < 10000; tries++) {
			struct timespec ms = { 0, 1000000 };

			ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
			index_sum(c, p, &bytes, &items, &expiring);
			if (expiring == 0)
				break;
			nanosleep(&ms, NULL);
		}
		ck_assert_uint_eq(expiring, 0);
	}
	ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		index_sum(c, p, &bytes, &items, &expiring);
		ck_assert_int_eq(spc_stats(c, p, &st), SPC_OK);
		ck_assert_uint_eq(st.reclaim_backlog_bytes, 0);
		ck_assert_uint_eq(st.charged_bytes, bytes + spc_kv_bytes(&c->ps[p]));
		ck_assert_uint_eq(st.items, items);
		ck_assert_uint_gt(st.expirations, 0);
		ck_assert_uint_le(st.charged_bytes, st.target_bytes);
		printf("items (%s, pool %d): %llu live, %llu inserts, %llu expirations, "
		       "%llu evictions, %llu deletes\n", (_i & 1) ? "sync" : "threads", p,
		       (unsigned long long)st.items, (unsigned long long)st.inserts,
		       (unsigned long long)st.expirations, (unsigned long long)st.evictions,
		       (unsigned long long)st.deletes);
	}
	spc_close(c);
}
END_TEST

/* One entry, with and without cas: the charge is the pool's usable size
 * of the entry's bytes, and those are 8 fewer without cas (the same size
 * class may round both up alike, so the unrounded sizes are compared). */
START_TEST(no_cas_charges_8_bytes_less)
{
	uint64_t raw[2];

	for (int no_cas = 0; no_cas < 2; no_cas++) {
		struct spc_cache *c;
		struct spc_stats st;
		struct spc_value v;
		/* 17 + 8 + 100 + 8 (+ 8 cas): the cas crosses a size class */
		static const char key[] = "no-cas-key-000017";
		char val[100];

		test_no_cas = no_cas;
		c = open_small(16u << 20, 1, SPC_POLICY_S3FIFO, 0);
		ck_assert_int_eq(c->cfg.no_cas, no_cas);
		memset(val, 'x', sizeof val);
		ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, key, strlen(key), val, sizeof val), SPC_OK);
		ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
		ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
		raw[no_cas] = spc_entry_size(no_cas ? 0u : SPC_META_CAS, strlen(key), sizeof val);
		ck_assert_uint_eq(st.charged_bytes - st.index_bytes,
		                  spc_pool_usable(c->ps[SPC_POOL_INDEX].pool, raw[no_cas]) +
		                          c->ps[SPC_POOL_INDEX].entry_share);
		spc_read_lock(c);
		ck_assert_int_eq(spc_get_rcu(c, SPC_POOL_INDEX, key, strlen(key), &v), SPC_OK);
		if (no_cas)
			ck_assert_uint_eq(v.cas, 0);
		else
			ck_assert_uint_ne(v.cas, 0);
		spc_read_unlock(c);
		spc_close(c);
	}
	test_no_cas = 0;
	ck_assert_uint_eq(raw[0] - raw[1], 8);
}
END_TEST

static Suite *acct_suite(void)
{
	Suite *s = suite_create("accounting");
	TCase *tc = tcase_create("exact");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, charged_equals_live_after_any_sequence, 0, 8);
	tcase_add_loop_test(tc, evictions_counted_when_one_eviction_makes_room_for_one_insert, 0, 2);
	tcase_add_loop_test(tc, byte_budget_evictions_exact, 0, 2);
	tcase_add_loop_test(tc, charged_equals_live_with_items, 0, 4);
	tcase_add_test(tc, no_cas_charges_8_bytes_less);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(acct_suite());
}
