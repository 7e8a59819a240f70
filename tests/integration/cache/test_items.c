/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/integration/cache/test_items.c: memcached item semantics through
 * the public API: every store mode, flags, cas, expiry on an injected
 * clock, incr/decr with memcached's edge cases, touch, gat, delete_cas,
 * and the expirations statistic. Loop tests run with maintainer threads
 * (_i 0) and synchronous maintenance (_i 1).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_run.h"
#include "splitcache.h"

/* The injected cache clock (cfg.clock): a test variable. */
static uint64_t test_clock;

static uint64_t clock_fn(void *arg)
{
	return __atomic_load_n((uint64_t *)arg, __ATOMIC_RELAXED);
}

static void set_clock(uint64_t t)
{
	__atomic_store_n(&test_clock, t, __ATOMIC_RELAXED);
}

#define T0 1000000u /* the clock's start in these tests */

static struct spc_cache *open_items(int sync, uint32_t max_item)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 16u << 20;
	cfg.synchronous_maintenance = sync;
	cfg.clock = clock_fn;
	cfg.clock_arg = &test_clock;
	if (max_item)
		cfg.max_item_bytes = max_item;
	set_clock(T0);
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	return c;
}

#define P SPC_POOL_INDEX

static int store(struct spc_cache *c, enum spc_store_mode m, const char *k, const char *v,
                 uint32_t flags, uint64_t expiry, uint64_t cas, uint64_t *cas_out)
{
	struct spc_item it = { flags, expiry, cas };

	return spc_store(c, P, m, k, strlen(k), v, strlen(v), &it, cas_out);
}

/* spc_get_item into a NUL-terminated string. */
static int item(struct spc_cache *c, const char *k, char *buf, size_t cap, struct spc_value *v)
{
	int r = spc_get_item(c, P, k, strlen(k), buf, cap - 1, v);

	if (r == SPC_OK)
		buf[v->len] = '\0';
	return r;
}

static struct spc_stats stats(struct spc_cache *c)
{
	struct spc_stats st;

	ck_assert_int_eq(spc_stats(c, P, &st), SPC_OK);
	return st;
}

START_TEST(store_modes)
{
	struct spc_cache *c = open_items(_i, 0);
	struct spc_value v;
	uint64_t cas1, cas2, cas3;
	char buf[64];

	/* replace, cas, append, prepend on a missing key */
	ck_assert_int_eq(store(c, SPC_STORE_REPLACE, "k", "x", 0, 0, 0, NULL), SPC_ENOTFOUND);
	ck_assert_int_eq(store(c, SPC_STORE_CAS, "k", "x", 0, 0, 7, NULL), SPC_ENOTFOUND);
	ck_assert_int_eq(store(c, SPC_STORE_APPEND, "k", "x", 0, 0, 0, NULL), SPC_ENOTFOUND);
	ck_assert_int_eq(store(c, SPC_STORE_PREPEND, "k", "x", 0, 0, 0, NULL), SPC_ENOTFOUND);
	ck_assert_int_eq(item(c, "k", buf, sizeof buf, &v), SPC_ENOTFOUND);
	/* add, then add again */
	ck_assert_int_eq(store(c, SPC_STORE_ADD, "k", "one", 5, 0, 0, &cas1), SPC_OK);
	ck_assert_int_eq(store(c, SPC_STORE_ADD, "k", "two", 6, 0, 0, NULL), SPC_EEXISTS);
	ck_assert_int_eq(item(c, "k", buf, sizeof buf, &v), SPC_OK);
	ck_assert_str_eq(buf, "one");
	ck_assert_uint_eq(v.flags, 5);
	ck_assert_uint_eq(v.cas, cas1);
	ck_assert_uint_eq(v.expiry, 0);
	/* replace gives a new cas, new flags */
	ck_assert_int_eq(store(c, SPC_STORE_REPLACE, "k", "three", 9, 0, 0, &cas2), SPC_OK);
	ck_assert_uint_ne(cas1, cas2);
	ck_assert_int_eq(item(c, "k", buf, sizeof buf, &v), SPC_OK);
	ck_assert_str_eq(buf, "three");
	ck_assert_uint_eq(v.flags, 9);
	ck_assert_uint_eq(v.cas, cas2);
	/* cas: mismatch, then match */
	ck_assert_int_eq(store(c, SPC_STORE_CAS, "k", "four", 1, 0, cas1, NULL), SPC_EEXISTS);
	ck_assert_int_eq(store(c, SPC_STORE_CAS, "k", "four", 1, 0, cas2, &cas3), SPC_OK);
	ck_assert_int_eq(item(c, "k", buf, sizeof buf, &v), SPC_OK);
	ck_assert_str_eq(buf, "four");
	ck_assert_uint_eq(v.cas, cas3);
	ck_assert_int_eq(store(c, SPC_STORE_CAS, "k", "five", 1, 0, cas2, NULL), SPC_EEXISTS);
	/* append / prepend keep flags and expiry (given ones ignored) */
	ck_assert_int_eq(store(c, SPC_STORE_APPEND, "k", "-a", 77, T0 + 50, 0, &cas1), SPC_OK);
	ck_assert_int_eq(store(c, SPC_STORE_PREPEND, "k", "p-", 77, 0, 0, &cas2), SPC_OK);
	ck_assert_int_eq(item(c, "k", buf, sizeof buf, &v), SPC_OK);
	ck_assert_str_eq(buf, "p-four-a");
	ck_assert_uint_eq(v.flags, 1);
	ck_assert_uint_eq(v.expiry, 0);
	ck_assert_uint_eq(v.cas, cas2);
	ck_assert_uint_ne(cas1, cas2);
	/* append with a cas: mismatch, then match */
	ck_assert_int_eq(store(c, SPC_STORE_APPEND, "k", "!", 0, 0, cas1, NULL), SPC_EEXISTS);
	ck_assert_int_eq(store(c, SPC_STORE_APPEND, "k", "!", 0, 0, cas2, NULL), SPC_OK);
	ck_assert_int_eq(item(c, "k", buf, sizeof buf, &v), SPC_OK);
	ck_assert_str_eq(buf, "p-four-a!");
	/* set over everything; flags round trip: 0 and 0xffffffff */
	ck_assert_int_eq(store(c, SPC_STORE_SET, "k", "s", 0xffffffffu, 0, 0, NULL), SPC_OK);
	ck_assert_int_eq(item(c, "k", buf, sizeof buf, &v), SPC_OK);
	ck_assert_uint_eq(v.flags, 0xffffffffu);
	ck_assert_int_eq(store(c, SPC_STORE_SET, "k", "s", 0, 0, 0, NULL), SPC_OK);
	ck_assert_int_eq(item(c, "k", buf, sizeof buf, &v), SPC_OK);
	ck_assert_uint_eq(v.flags, 0);
	/* cas on a deleted entry */
	ck_assert_int_eq(spc_get_item(c, P, "k", 1, buf, sizeof buf, &v), SPC_OK);
	cas1 = v.cas;
	ck_assert_int_eq(spc_delete(c, P, "k", 1), SPC_OK);
	ck_assert_int_eq(store(c, SPC_STORE_CAS, "k", "x", 0, 0, cas1, NULL), SPC_ENOTFOUND);
	/* item NULL: flags 0, no expiry; spc_set/spc_add are the same */
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_SET, "n", 1, "v", 1, NULL, NULL), SPC_OK);
	ck_assert_int_eq(item(c, "n", buf, sizeof buf, &v), SPC_OK);
	ck_assert_uint_eq(v.flags, 0);
	ck_assert_uint_eq(v.expiry, 0);
	ck_assert_uint_ne(v.cas, 0);
	spc_close(c);
}
END_TEST

START_TEST(store_arguments)
{
	struct spc_cache *c = open_items(1, 16);
	struct spc_item zero = { 0, 0, 0 };
	char big[17];

	memset(big, 'b', sizeof big);
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_CAS, "k", 1, "v", 1, NULL, NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_CAS, "k", 1, "v", 1, &zero, NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_store(c, P, (enum spc_store_mode)42, "k", 1, "v", 1, NULL, NULL),
	                 SPC_EINVAL);
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_SET, NULL, 1, "v", 1, NULL, NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_SET, "k", 0, "v", 1, NULL, NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_store(c, (enum spc_pool_id)3, SPC_STORE_SET, "k", 1, "v", 1, NULL,
	                           NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_SET, "k", 1, big, 17, NULL, NULL), SPC_ETOOBIG);
	/* append past the item maximum: ETOOBIG, value unchanged */
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_SET, "k", 1, big, 10, NULL, NULL), SPC_OK);
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_APPEND, "k", 1, big, 6, NULL, NULL), SPC_OK);
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_APPEND, "k", 1, big, 1, NULL, NULL), SPC_ETOOBIG);
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_PREPEND, "k", 1, big, 1, NULL, NULL),
	                 SPC_ETOOBIG);
	{
		char buf[32];
		size_t n;

		ck_assert_int_eq(spc_get(c, P, "k", 1, buf, sizeof buf, &n), SPC_OK);
		ck_assert_uint_eq(n, 16);
	}
	/* empty appends and values are fine */
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_APPEND, "k", 1, NULL, 0, NULL, NULL), SPC_OK);
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_SET, "e", 1, NULL, 0, NULL, NULL), SPC_OK);
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_APPEND, "e", 1, "x", 1, NULL, NULL), SPC_OK);
	spc_close(c);
}
END_TEST

/* Waits (bounded) until the pool counted n expirations, writing a "poke"
 * key meanwhile: in synchronous mode the maintenance steps run in writes. */
/* Pokes the maintainer with a write of "poke" (at least once, so the
 * item count that follows does not depend on whether the maintainer was
 * faster) until n expirations are counted. */
static void wait_expirations(struct spc_cache *c, uint64_t n)
{
	int tries = 0;

	do {
		struct timespec ms = { 0, 1000000 };

		ck_assert_int_eq(spc_set(c, P, "poke", 4, "x", 1), SPC_OK);
		nanosleep(&ms, NULL);
	} while (++tries < 5000 && stats(c).expirations < n);
}

/* An entry with a deadline: visible at deadline - 1, gone at the deadline
 * for every read, counted as a miss; the maintainer reclaims it as an
 * expiration and items drop. */
START_TEST(expiry_on_injected_clock)
{
	struct spc_cache *c = open_items(_i, 0);
	struct spc_value v;
	struct spc_stats st;
	char buf[64];
	size_t n;
	uint64_t misses;

	ck_assert_uint_eq(spc_now(c), T0);
	ck_assert_int_eq(store(c, SPC_STORE_SET, "e", "soon", 3, T0 + 10, 0, NULL), SPC_OK);
	ck_assert_int_eq(store(c, SPC_STORE_SET, "f", "later", 0, T0 + 100, 0, NULL), SPC_OK);
	ck_assert_int_eq(store(c, SPC_STORE_SET, "g", "never", 0, 0, 0, NULL), SPC_OK);
	set_clock(T0 + 9);
	ck_assert_int_eq(item(c, "e", buf, sizeof buf, &v), SPC_OK);
	ck_assert_str_eq(buf, "soon");
	ck_assert_uint_eq(v.expiry, T0 + 10);
	ck_assert_uint_eq(v.flags, 3);
	set_clock(T0 + 10);
	misses = stats(c).misses;
	ck_assert_int_eq(item(c, "e", buf, sizeof buf, &v), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_get(c, P, "e", 1, buf, sizeof buf, &n), SPC_ENOTFOUND);
	spc_read_lock(c);
	ck_assert_int_eq(spc_get_rcu(c, P, "e", 1, &v), SPC_ENOTFOUND);
	spc_read_unlock(c);
	ck_assert_uint_eq(stats(c).misses, misses + 3);
	/* writes see it absent too */
	ck_assert_int_eq(store(c, SPC_STORE_REPLACE, "e", "x", 0, 0, 0, NULL), SPC_ENOTFOUND);
	ck_assert_int_eq(store(c, SPC_STORE_APPEND, "e", "x", 0, 0, 0, NULL), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_touch(c, P, "e", 1, T0 + 1000), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_incr(c, P, "e", 1, 1, NULL, NULL), SPC_ENOTFOUND);
	ck_assert_int_eq(item(c, "f", buf, sizeof buf, &v), SPC_OK);
	ck_assert_int_eq(item(c, "g", buf, sizeof buf, &v), SPC_OK);
	/* the maintainer reclaims it: an expiration, not an eviction */
	wait_expirations(c, 1);
	st = stats(c);
	ck_assert_uint_eq(st.expirations, 1);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_eq(st.items, 3); /* f, g and the poke */
	/* everything expires; items drop to 0 */
	set_clock(T0 + 100);
	wait_expirations(c, 2);
	st = stats(c);
	ck_assert_uint_eq(st.expirations, 2);
	ck_assert_uint_eq(st.items, 2);
	ck_assert_int_eq(spc_delete(c, P, "g", 1), SPC_OK);
	ck_assert_int_eq(spc_delete(c, P, "poke", 4), SPC_OK);
	ck_assert_uint_eq(stats(c).items, 0);
	spc_close(c);
}
END_TEST

/* Writes that meet an expired entry: add and set replace it and count it
 * as an expiration; delete removes it, counts it and says ENOTFOUND;
 * cas and delete_cas say ENOTFOUND. */
START_TEST(writes_over_expired)
{
	struct spc_cache *c = open_items(_i, 0);
	struct spc_value v;
	struct spc_stats st;
	uint64_t cas;
	char buf[64];

	ck_assert_int_eq(store(c, SPC_STORE_SET, "a", "old", 0, T0 + 5, 0, &cas), SPC_OK);
	ck_assert_int_eq(store(c, SPC_STORE_SET, "s", "old", 0, T0 + 5, 0, NULL), SPC_OK);
	ck_assert_int_eq(store(c, SPC_STORE_SET, "d", "old", 0, T0 + 5, 0, NULL), SPC_OK);
	ck_assert_int_eq(store(c, SPC_STORE_ADD, "a", "new", 0, 0, 0, NULL), SPC_EEXISTS);
	set_clock(T0 + 5);
	ck_assert_int_eq(store(c, SPC_STORE_CAS, "a", "new", 0, 0, cas, NULL), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_delete_cas(c, P, "a", 1, cas), SPC_ENOTFOUND);
	ck_assert_int_eq(store(c, SPC_STORE_ADD, "a", "new", 0, 0, 0, NULL), SPC_OK);
	ck_assert_int_eq(store(c, SPC_STORE_SET, "s", "new", 0, 0, 0, NULL), SPC_OK);
	ck_assert_int_eq(spc_delete(c, P, "d", 1), SPC_ENOTFOUND);
	ck_assert_int_eq(item(c, "a", buf, sizeof buf, &v), SPC_OK);
	ck_assert_str_eq(buf, "new");
	ck_assert_uint_eq(v.expiry, 0);
	ck_assert_int_eq(item(c, "s", buf, sizeof buf, &v), SPC_OK);
	ck_assert_str_eq(buf, "new");
	st = stats(c);
	/* a delete_cas that found "a" expired removed it already: the add
	 * then inserted a new key; set replaced "s"; delete removed "d" */
	ck_assert_uint_eq(st.expirations, 3);
	ck_assert_uint_eq(st.items, 2);
	ck_assert_uint_eq(st.deletes, 0);
	ck_assert_uint_eq(st.evictions, 0);
	spc_close(c);
}
END_TEST

START_TEST(arith_semantics)
{
	struct spc_cache *c = open_items(_i, 0);
	struct spc_value v;
	uint64_t val, cas, cas2;
	char buf[64];

	ck_assert_int_eq(spc_incr(c, P, "n", 1, 1, &val, NULL), SPC_ENOTFOUND);
	ck_assert_int_eq(store(c, SPC_STORE_SET, "n", "41", 0xabcd, T0 + 500, 0, &cas), SPC_OK);
	ck_assert_int_eq(spc_incr(c, P, "n", 1, 1, &val, &cas2), SPC_OK);
	ck_assert_uint_eq(val, 42);
	ck_assert_uint_ne(cas, cas2);
	ck_assert_int_eq(item(c, "n", buf, sizeof buf, &v), SPC_OK);
	ck_assert_str_eq(buf, "42");
	ck_assert_uint_eq(v.flags, 0xabcd);
	ck_assert_uint_eq(v.expiry, T0 + 500);
	ck_assert_uint_eq(v.cas, cas2);
	/* cas_expect */
	ck_assert_int_eq(spc_arith(c, P, "n", 1, 0, 1, cas, &val, NULL), SPC_EEXISTS);
	ck_assert_int_eq(spc_arith(c, P, "n", 1, 1, 2, cas2, &val, NULL), SPC_OK);
	ck_assert_uint_eq(val, 40);
	/* decr floors at 0; the result is not padded */
	ck_assert_int_eq(spc_decr(c, P, "n", 1, 1000, &val, NULL), SPC_OK);
	ck_assert_uint_eq(val, 0);
	ck_assert_int_eq(item(c, "n", buf, sizeof buf, &v), SPC_OK);
	ck_assert_str_eq(buf, "0");
	/* incr wraps at 2^64 */
	ck_assert_int_eq(store(c, SPC_STORE_SET, "n", "18446744073709551615", 0, 0, 0, NULL), SPC_OK);
	ck_assert_int_eq(spc_incr(c, P, "n", 1, 1, &val, NULL), SPC_OK);
	ck_assert_uint_eq(val, 0);
	ck_assert_int_eq(item(c, "n", buf, sizeof buf, &v), SPC_OK);
	ck_assert_str_eq(buf, "0");
	ck_assert_int_eq(spc_incr(c, P, "n", 1, UINT64_MAX, &val, NULL), SPC_OK);
	ck_assert_int_eq(item(c, "n", buf, sizeof buf, &v), SPC_OK);
	ck_assert_str_eq(buf, "18446744073709551615");
	ck_assert_int_eq(spc_incr(c, P, "n", 1, 3, &val, NULL), SPC_OK);
	ck_assert_uint_eq(val, 2);
	/* memcached's padded decr results parse: trailing spaces */
	ck_assert_int_eq(store(c, SPC_STORE_SET, "n", "9  ", 0, 0, 0, NULL), SPC_OK);
	ck_assert_int_eq(spc_incr(c, P, "n", 1, 1, &val, NULL), SPC_OK);
	ck_assert_uint_eq(val, 10);
	/* leading zeros, 20 digits */
	ck_assert_int_eq(store(c, SPC_STORE_SET, "n", "00000000000000000007", 0, 0, 0, NULL), SPC_OK);
	ck_assert_int_eq(spc_incr(c, P, "n", 1, 0, &val, NULL), SPC_OK);
	ck_assert_uint_eq(val, 7);
	ck_assert_int_eq(item(c, "n", buf, sizeof buf, &v), SPC_OK);
	ck_assert_str_eq(buf, "7");
	spc_close(c);
}
END_TEST

START_TEST(arith_not_a_number)
{
	static const char *bad[] = { "", "abc", "12abc", "-1", "+1", " 1", "1 x", "1\r\n",
	                             "000000000000000000001", "18446744073709551616",
	                             "99999999999999999999", "1.5", " " };
	struct spc_cache *c = open_items(1, 0);
	struct spc_value v;
	uint64_t cas, val = 12345;
	char buf[64];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ck_assert_int_eq(store(c, SPC_STORE_SET, "n", bad[i], 0, 0, 0, &cas), SPC_OK);
		ck_assert_msg(spc_incr(c, P, "n", 1, 1, &val, NULL) == SPC_ENOTNUM, "value '%s'",
		              bad[i]);
		ck_assert_int_eq(spc_decr(c, P, "n", 1, 1, &val, NULL), SPC_ENOTNUM);
		ck_assert_uint_eq(val, 12345);
		/* unchanged */
		ck_assert_int_eq(item(c, "n", buf, sizeof buf, &v), SPC_OK);
		ck_assert_str_eq(buf, bad[i]);
		ck_assert_uint_eq(v.cas, cas);
	}
	spc_close(c);
}
END_TEST

START_TEST(touch_and_gat)
{
	struct spc_cache *c = open_items(_i, 0);
	struct spc_value v;
	uint64_t cas;
	char buf[64];

	ck_assert_int_eq(spc_touch(c, P, "t", 1, T0 + 5), SPC_ENOTFOUND);
	/* no expiry slot: the copy path, cas kept */
	ck_assert_int_eq(store(c, SPC_STORE_SET, "t", "value", 8, 0, 0, &cas), SPC_OK);
	ck_assert_int_eq(spc_touch(c, P, "t", 1, T0 + 5), SPC_OK);
	ck_assert_int_eq(item(c, "t", buf, sizeof buf, &v), SPC_OK);
	ck_assert_str_eq(buf, "value");
	ck_assert_uint_eq(v.cas, cas);
	ck_assert_uint_eq(v.flags, 8);
	ck_assert_uint_eq(v.expiry, T0 + 5);
	/* with a slot: in place, later and back to never */
	ck_assert_int_eq(spc_touch(c, P, "t", 1, T0 + 50), SPC_OK);
	set_clock(T0 + 20);
	ck_assert_int_eq(item(c, "t", buf, sizeof buf, &v), SPC_OK);
	ck_assert_uint_eq(v.cas, cas);
	ck_assert_uint_eq(v.expiry, T0 + 50);
	ck_assert_int_eq(spc_touch(c, P, "t", 1, 0), SPC_OK);
	set_clock(T0 + 1000);
	ck_assert_int_eq(item(c, "t", buf, sizeof buf, &v), SPC_OK);
	ck_assert_uint_eq(v.expiry, 0);
	/* an entry without a slot touched to 0: nothing to do */
	ck_assert_int_eq(store(c, SPC_STORE_SET, "u", "u", 0, 0, 0, &cas), SPC_OK);
	ck_assert_int_eq(spc_touch(c, P, "u", 1, 0), SPC_OK);
	/* gat: touch and copy-out of the same entry */
	memset(&v, 0, sizeof v);
	ck_assert_int_eq(spc_gat(c, P, "u", 1, T0 + 1010, buf, sizeof buf, &v), SPC_OK);
	ck_assert_uint_eq(v.len, 1);
	ck_assert_int_eq(memcmp(buf, "u", 1), 0);
	ck_assert_uint_eq(v.cas, cas);
	ck_assert_uint_eq(v.expiry, T0 + 1010);
	ck_assert_int_eq(spc_gat(c, P, "u", 1, T0 + 1020, buf, sizeof buf, &v), SPC_OK);
	ck_assert_uint_eq(v.expiry, T0 + 1020);
	/* gat with a short buffer: ERANGE with the length, nothing touched */
	ck_assert_int_eq(spc_gat(c, P, "t", 1, T0 + 1001, buf, 2, &v), SPC_ERANGE);
	ck_assert_uint_eq(v.len, 5);
	ck_assert_int_eq(item(c, "t", buf, sizeof buf, &v), SPC_OK);
	ck_assert_uint_eq(v.expiry, 0);
	ck_assert_int_eq(spc_gat(c, P, "zz", 2, T0, buf, sizeof buf, &v), SPC_ENOTFOUND);
	/* the touched deadline holds */
	set_clock(T0 + 1020);
	ck_assert_int_eq(item(c, "u", buf, sizeof buf, &v), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_gat(c, P, "u", 1, T0 + 2000, buf, sizeof buf, &v), SPC_ENOTFOUND);
	spc_close(c);
}
END_TEST

START_TEST(delete_cas_semantics)
{
	struct spc_cache *c = open_items(_i, 0);
	uint64_t cas, cas2;

	ck_assert_int_eq(spc_delete_cas(c, P, "d", 1, 0), SPC_ENOTFOUND);
	ck_assert_int_eq(store(c, SPC_STORE_SET, "d", "1", 0, 0, 0, &cas), SPC_OK);
	ck_assert_int_eq(store(c, SPC_STORE_SET, "d", "2", 0, 0, 0, &cas2), SPC_OK);
	ck_assert_int_eq(spc_delete_cas(c, P, "d", 1, cas), SPC_EEXISTS);
	ck_assert_int_eq(spc_delete_cas(c, P, "d", 1, cas2), SPC_OK);
	ck_assert_int_eq(spc_delete_cas(c, P, "d", 1, cas2), SPC_ENOTFOUND);
	ck_assert_int_eq(store(c, SPC_STORE_SET, "d", "3", 0, 0, 0, NULL), SPC_OK);
	ck_assert_int_eq(spc_delete_cas(c, P, "d", 1, 0), SPC_OK);
	ck_assert_uint_eq(stats(c).deletes, 2);
	ck_assert_uint_eq(stats(c).items, 0);
	ck_assert_int_eq(spc_delete_cas(c, P, NULL, 1, 0), SPC_EINVAL);
	spc_close(c);
}
END_TEST

/* The default clock is unix time in seconds. */
START_TEST(default_clock)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;
	uint64_t now = (uint64_t)time(NULL);

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 16u << 20;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	ck_assert_uint_le(spc_now(c), now + 1);
	ck_assert_uint_ge(spc_now(c) + 1, now);
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_SET, "k", 1, "v", 1,
	                           &(struct spc_item){ 0, now + 3600, 0 }, NULL), SPC_OK);
	ck_assert_int_eq(spc_store(c, P, SPC_STORE_SET, "old", 3, "v", 1,
	                           &(struct spc_item){ 0, now - 10, 0 }, NULL), SPC_OK);
	{
		char buf[4];
		size_t n;

		ck_assert_int_eq(spc_get(c, P, "k", 1, buf, sizeof buf, &n), SPC_OK);
		ck_assert_int_eq(spc_get(c, P, "old", 3, buf, sizeof buf, &n), SPC_ENOTFOUND);
	}
	spc_close(c);
}
END_TEST

static Suite *items_suite(void)
{
	Suite *s = suite_create("items");
	TCase *tc = tcase_create("api");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, store_modes, 0, 2);
	tcase_add_test(tc, store_arguments);
	tcase_add_loop_test(tc, expiry_on_injected_clock, 0, 2);
	tcase_add_loop_test(tc, writes_over_expired, 0, 2);
	tcase_add_loop_test(tc, arith_semantics, 0, 2);
	tcase_add_test(tc, arith_not_a_number);
	tcase_add_loop_test(tc, touch_and_gat, 0, 2);
	tcase_add_loop_test(tc, delete_cas_semantics, 0, 2);
	tcase_add_test(tc, default_clock);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(items_suite());
}
