/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/core/test_read_path.c: the read path's bound on looking
 * again (core/cache.h, SPC_READ_LOOKS): a get that keeps finding an entry
 * already taken out of the index answers after a few looks instead of
 * looping for as long as writers replace the key.
 *
 * Writers cannot be made to replace a key at every one of a reader's
 * looks on demand, so the test builds the state such a reader sees: the
 * entry in the index with its DEAD bit set, found dead at every look. The
 * cache runs its maintenance synchronously (no maintainer thread), and no
 * write happens while the bit is set, so nothing else sees that state.
 *
 * Also the plain gets' own code (core/kv.h, spc_read_path_inl with plain
 * set): the short keys' inline hash against XXH3's, the plain match on
 * every key length and on entries with optional fields or of another
 * namespace, and the counters' inline half against their out-of-line
 * one (core/stats.h).
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "check_run.h"
#include "core/cache.h"
#include "core/key.h"

static struct spc_cache *open_sync(void)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 64u << 20;
	cfg.synchronous_maintenance = 1;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	return c;
}

static struct spc_entry *entry_of(struct spc_cache *c, const char *key)
{
	struct spc_entry *e;

	spc_rcu_read_lock();
	e = spc_lookup_rcu(c, SPC_POOL_INDEX, key, strlen(key));
	spc_rcu_read_unlock();
	ck_assert_ptr_nonnull(e);
	return e;
}

START_TEST(a_get_stops_looking_at_an_entry_that_stays_dead)
{
	struct spc_cache *c = open_sync();
	const char *key = "key-of-sixteen-b";
	char buf[16] = { 0 };
	size_t vlen = 0;
	struct spc_entry *e;

	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, key, strlen(key), "value", 5), SPC_OK);
	e = entry_of(c, key);
	spc_entry_mark_dead(e);
	/* Without the bound this get never returns (Check's timeout fails
	 * the test): every look finds the same dead entry. With it, the
	 * answer is the entry last found, which was in the index. */
	ck_assert_int_eq(spc_get(c, SPC_POOL_INDEX, key, strlen(key), buf, sizeof buf, &vlen),
	                 SPC_OK);
	ck_assert_uint_eq(vlen, 5);
	ck_assert_mem_eq(buf, "value", 5);
	__atomic_fetch_and(&e->meta, (uint8_t)~SPC_META_DEAD, __ATOMIC_RELAXED);
	spc_close(c);
}
END_TEST

START_TEST(a_get_of_a_replaced_key_finds_the_new_value)
{
	struct spc_cache *c = open_sync();
	const char *key = "key-of-sixteen-b";
	char buf[16] = { 0 };
	size_t vlen = 0;

	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, key, strlen(key), "old", 3), SPC_OK);
	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, key, strlen(key), "newer", 5), SPC_OK);
	ck_assert_int_eq(spc_get(c, SPC_POOL_INDEX, key, strlen(key), buf, sizeof buf, &vlen),
	                 SPC_OK);
	ck_assert_uint_eq(vlen, 5);
	ck_assert_mem_eq(buf, "newer", 5);
	spc_close(c);
}
END_TEST

START_TEST(the_inline_hash_is_xxh3)
{
	unsigned char bytes[64];
	static const uint64_t seeds[] = { 0, 1, UINT64_C(0x5eed), UINT64_C(0xfedcba9876543210) };

	for (unsigned i = 0; i < sizeof bytes; i++)
		bytes[i] = (unsigned char)(i * 37 + 11);
	for (unsigned s = 0; s < sizeof seeds / sizeof seeds[0]; s++)
		for (size_t n = 0; n <= sizeof bytes; n++)
			ck_assert_uint_eq(spc_hash_bytes(bytes, n, seeds[s]),
			                  XXH3_64bits_withSeed(bytes, n, seeds[s]));
}
END_TEST

static void get_is(struct spc_cache *c, enum spc_pool_id pool, const char *key, size_t klen,
                   const char *want)
{
	char buf[64] = { 0 };
	size_t vlen = 0;
	struct spc_value v;

	ck_assert_int_eq(spc_get(c, pool, key, klen, buf, sizeof buf, &vlen), SPC_OK);
	ck_assert_uint_eq(vlen, strlen(want));
	ck_assert_mem_eq(buf, want, vlen);
	spc_read_lock(c);
	ck_assert_int_eq(spc_get_rcu(c, pool, key, klen, &v), SPC_OK);
	ck_assert_uint_eq(v.len, strlen(want));
	ck_assert_mem_eq(v.data, want, v.len);
	spc_read_unlock(c);
}

static void get_misses(struct spc_cache *c, enum spc_pool_id pool, const char *key, size_t klen)
{
	char buf[64];
	size_t vlen = 0;
	struct spc_value v;

	ck_assert_int_eq(spc_get(c, pool, key, klen, buf, sizeof buf, &vlen), SPC_ENOTFOUND);
	spc_read_lock(c);
	ck_assert_int_eq(spc_get_rcu(c, pool, key, klen, &v), SPC_ENOTFOUND);
	spc_read_unlock(c);
}

START_TEST(plain_gets_match_every_key_length_and_layout)
{
	struct spc_cache *c = open_sync();
	char key[101], val[32];
	struct spc_item it = { 7, 0, 0 };
	static const size_t lens[] = { 1, 7, 8, 9, 16, 17, 24, 32, 33, 100 };

	memset(key, 'k', sizeof key);
	for (unsigned i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		size_t n = lens[i];

		snprintf(val, sizeof val, "plain-%zu", n);
		ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, key, n, val, strlen(val)), SPC_OK);
		key[0] = 'f'; /* the same length, flags and an expiry: optional fields */
		it.expiry = spc_now(c) + 3600;
		snprintf(val, sizeof val, "flags-%zu", n);
		ck_assert_int_eq(spc_store(c, SPC_POOL_INDEX, SPC_STORE_SET, key, n, val,
		                           strlen(val), &it, NULL),
		                 SPC_OK);
		key[0] = 'k';
	}
	for (unsigned i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		size_t n = lens[i];

		snprintf(val, sizeof val, "plain-%zu", n);
		get_is(c, SPC_POOL_INDEX, key, n, val);
		key[0] = 'f';
		snprintf(val, sizeof val, "flags-%zu", n);
		get_is(c, SPC_POOL_INDEX, key, n, val);
		key[0] = 'k';
		/* one byte off at the end: a miss (the tag may still match) */
		key[n - 1] = 'x';
		get_misses(c, SPC_POOL_INDEX, key, n);
		key[n - 1] = 'k';
	}
	/* an already expired entry is a miss */
	it.expiry = 1;
	ck_assert_int_eq(spc_store(c, SPC_POOL_INDEX, SPC_STORE_SET, "expired-key-0001", 16, "v", 1,
	                           &it, NULL),
	                 SPC_OK);
	get_misses(c, SPC_POOL_INDEX, "expired-key-0001", 16);
	spc_close(c);
}
END_TEST

START_TEST(plain_gets_do_not_match_other_namespaces)
{
	struct spc_cache *c = open_sync();
	const char *key = "key-of-sixteen-b";

	ck_assert_int_eq(spc_set_at(c, 42, key, strlen(key), "at-42", 5), SPC_OK);
	ck_assert_int_eq(spc_api_set(c, key, "api", 3), SPC_OK);
	get_misses(c, SPC_POOL_VIEW, key, strlen(key));
	ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, key, strlen(key), "plain", 5), SPC_OK);
	get_is(c, SPC_POOL_VIEW, key, strlen(key), "plain");
	spc_close(c);
}
END_TEST

static void hits_misses_are(struct spc_cache *c, uint64_t hits, uint64_t misses)
{
	struct spc_stats st;

	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_eq(st.hits, hits);
	ck_assert_uint_eq(st.misses, misses);
}

/* A thread that alternates between two caches takes the counters'
 * out-of-line half on every switch; each cache still counts exactly its
 * own gets. */
START_TEST(counts_stay_exact_across_caches)
{
	struct spc_cache *a = open_sync(), *b = open_sync();
	char buf[16];
	size_t vlen;

	ck_assert_int_eq(spc_set(a, SPC_POOL_INDEX, "in-a", 4, "1", 1), SPC_OK);
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(spc_get(a, SPC_POOL_INDEX, "in-a", 4, buf, sizeof buf, &vlen),
		                 SPC_OK);
		ck_assert_int_eq(spc_get(a, SPC_POOL_INDEX, "in-a", 4, buf, sizeof buf, &vlen),
		                 SPC_OK);
		ck_assert_int_eq(spc_get(b, SPC_POOL_INDEX, "in-a", 4, buf, sizeof buf, &vlen),
		                 SPC_ENOTFOUND);
		ck_assert_int_eq(spc_get(a, SPC_POOL_INDEX, "not-in-a", 8, buf, sizeof buf, &vlen),
		                 SPC_ENOTFOUND);
	}
	hits_misses_are(a, 20, 10);
	hits_misses_are(b, 0, 10);
	spc_close(b);
	spc_close(a);
}
END_TEST

/* spc_get's common case (core/kv.h, spc_get_plain_inl) answers from the
 * key's home bucket alone; a key that overflowed past it is the slow
 * path's. With the index keeping one bit of each hash, 40 keys of 16
 * bytes share two home buckets and overflow past them: every one is
 * still found, absent keys miss, and the counts are exact, whichever
 * path answered. */
START_TEST(gets_past_the_home_bucket_find_every_key)
{
	struct spc_cache *c = open_sync();
	char key[17], buf[16];
	size_t vlen;

	spc_index_test_truncate(&c->ps[SPC_POOL_INDEX].ix, 1);
	for (unsigned i = 0; i < 40; i++) {
		snprintf(key, sizeof key, "present-key-%04u", i);
		ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, key, 16, key + 12, 4), SPC_OK);
	}
	for (unsigned i = 0; i < 40; i++) {
		snprintf(key, sizeof key, "present-key-%04u", i);
		vlen = 0;
		ck_assert_int_eq(spc_get(c, SPC_POOL_INDEX, key, 16, buf, sizeof buf, &vlen), SPC_OK);
		ck_assert_uint_eq(vlen, 4);
		ck_assert_mem_eq(buf, key + 12, 4);
		snprintf(key, sizeof key, "missing-key-%04u", i);
		ck_assert_int_eq(spc_get(c, SPC_POOL_INDEX, key, 16, buf, sizeof buf, &vlen),
		                 SPC_ENOTFOUND);
	}
	hits_misses_are(c, 40, 40);
	spc_close(c);
}
END_TEST

/* The same alternation as counts_stay_exact_across_caches with keys of
 * 16 bytes, the ones spc_get's common case takes: it counts into the
 * slot used last only when that slot is the cache's; a switch goes to
 * the slow path, which finds the slot. A value larger than the buffer
 * is a hit with nothing copied (SPC_ERANGE) on both paths. */
START_TEST(common_case_counts_stay_exact_across_caches)
{
	struct spc_cache *a = open_sync(), *b = open_sync();
	const char *in = "key-of-sixteen-a", *out = "key-of-sixteen-x";
	char buf[16], small[2] = { 'u', 'u' };
	size_t vlen;

	ck_assert_int_eq(spc_set(a, SPC_POOL_INDEX, in, 16, "123", 3), SPC_OK);
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(spc_get(a, SPC_POOL_INDEX, in, 16, buf, sizeof buf, &vlen), SPC_OK);
		ck_assert_int_eq(spc_get(a, SPC_POOL_INDEX, in, 16, small, sizeof small, &vlen),
		                 SPC_ERANGE);
		ck_assert_uint_eq(vlen, 3);
		ck_assert_int_eq(small[0], 'u');
		ck_assert_int_eq(spc_get(b, SPC_POOL_INDEX, in, 16, buf, sizeof buf, &vlen),
		                 SPC_ENOTFOUND);
		ck_assert_int_eq(spc_get(a, SPC_POOL_INDEX, out, 16, buf, sizeof buf, &vlen),
		                 SPC_ENOTFOUND);
	}
	hits_misses_are(a, 20, 10);
	hits_misses_are(b, 0, 10);
	spc_close(b);
	spc_close(a);
}
END_TEST

static Suite *read_path_suite(void)
{
	Suite *s = suite_create("read_path");
	TCase *tc = tcase_create("looks");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, a_get_stops_looking_at_an_entry_that_stays_dead);
	tcase_add_test(tc, a_get_of_a_replaced_key_finds_the_new_value);
	suite_add_tcase(s, tc);
	tc = tcase_create("plain");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, the_inline_hash_is_xxh3);
	tcase_add_test(tc, plain_gets_match_every_key_length_and_layout);
	tcase_add_test(tc, plain_gets_do_not_match_other_namespaces);
	tcase_add_test(tc, counts_stay_exact_across_caches);
	tcase_add_test(tc, gets_past_the_home_bucket_find_every_key);
	tcase_add_test(tc, common_case_counts_stay_exact_across_caches);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(read_path_suite());
}
