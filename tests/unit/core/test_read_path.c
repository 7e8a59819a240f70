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
 */
#include <check.h>
#include <string.h>

#include "check_run.h"
#include "core/cache.h"

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

static Suite *read_path_suite(void)
{
	Suite *s = suite_create("read_path");
	TCase *tc = tcase_create("looks");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, a_get_stops_looking_at_an_entry_that_stays_dead);
	tcase_add_test(tc, a_get_of_a_replaced_key_finds_the_new_value);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(read_path_suite());
}
