/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/core/test_debug.c: debug mode (core/debug.c guarantees 1-5):
 * the exact text and JSON reports of fixed lookups, the rule that leaves
 * out a prefix covered by a longer one, min keys, the bounds of the
 * tables, lookups skipped while a report runs, and debug off.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "core/cache.h"
#include "core/debug.h"

struct mallocs {
	unsigned long n; /* atomic: SPC_FAULT_MALLOC calls */
};

static int count_mallocs(void *arg, enum spc_fault_site site, size_t bytes)
{
	(void)bytes;
	if (site == SPC_FAULT_MALLOC)
		__atomic_fetch_add(&((struct mallocs *)arg)->n, 1, __ATOMIC_RELAXED);
	return 0;
}

static struct spc_cache *open_debug(int debug, const unsigned *lens, uint64_t min_keys,
                                    struct mallocs *m)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 16u << 20;
	cfg.synchronous_maintenance = 1;
	cfg.debug = debug;
	if (lens) {
		memset(cfg.debug_prefix_lens, 0, sizeof cfg.debug_prefix_lens);
		for (unsigned i = 0; lens[i]; i++)
			cfg.debug_prefix_lens[i] = lens[i];
	}
	cfg.debug_min_keys = min_keys;
	if (m) {
		cfg.fault = count_mallocs;
		cfg.fault_arg = m;
	}
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	return c;
}

static void set_s(struct spc_cache *c, enum spc_pool_id p, const char *k)
{
	ck_assert_int_eq(spc_set(c, p, k, strlen(k), "v", 1), SPC_OK);
}

static void get_n(struct spc_cache *c, enum spc_pool_id p, const char *k, int times)
{
	char buf[8];
	size_t n;

	for (int i = 0; i < times; i++)
		(void)spc_get(c, p, k, strlen(k), buf, sizeof buf, &n);
}

/* The fixed lookups (docs/api.md, "Debug mode", works this example):
 * index: user/001 x2, user/002, user/003 hit, user/004 misses;
 * item/aaa1, item/bbb2 hit, item/ccc3 misses; "abc" (shorter than every
 * prefix) misses; tx/00001/a x10, tx/00001/b x9, tx/00002/c hit (tx/0 is
 * covered: 19 of its 20 accesses, 95 %, are tx/00001's); zz/00001/a x9,
 * zz/00001/b x9, zz/00002/c hit (zz/0 stays: 18 of 19 is 94.7 %).
 * view: v/1234 misses. */
static void fixed_inputs(struct spc_cache *c)
{
	static const char *const idx[] = { "user/001",   "user/002",   "user/003",
		                           "item/aaa1",  "item/bbb2",  "tx/00001/a",
		                           "tx/00001/b", "tx/00002/c", "zz/00001/a",
		                           "zz/00001/b", "zz/00002/c" };

	for (unsigned i = 0; i < sizeof idx / sizeof idx[0]; i++)
		set_s(c, SPC_POOL_INDEX, idx[i]);
	get_n(c, SPC_POOL_INDEX, "user/001", 2);
	get_n(c, SPC_POOL_INDEX, "user/002", 1);
	get_n(c, SPC_POOL_INDEX, "user/003", 1);
	get_n(c, SPC_POOL_INDEX, "user/004", 1);
	get_n(c, SPC_POOL_INDEX, "item/aaa1", 1);
	get_n(c, SPC_POOL_INDEX, "item/bbb2", 1);
	get_n(c, SPC_POOL_INDEX, "item/ccc3", 1);
	get_n(c, SPC_POOL_INDEX, "abc", 1);
	get_n(c, SPC_POOL_INDEX, "tx/00001/a", 10);
	get_n(c, SPC_POOL_INDEX, "tx/00001/b", 9);
	get_n(c, SPC_POOL_INDEX, "tx/00002/c", 1);
	get_n(c, SPC_POOL_INDEX, "zz/00001/a", 9);
	get_n(c, SPC_POOL_INDEX, "zz/00001/b", 9);
	get_n(c, SPC_POOL_INDEX, "zz/00002/c", 1);
	get_n(c, SPC_POOL_VIEW, "v/1234", 1);
}

static const char expected_text[] =
	"splitcache debug report: prefix lengths 4 8; min keys 2; a prefix is left out when "
	"one longer prefix has >= 95% of its accesses\n"
	"pool index: 48 accesses (45 hits, 3 misses)\n"
	"     share       hits     misses       keys  len  prefix\n"
	"    39.58%         19          0          3    4  zz/0\n"
	"    39.58%         19          0          2    8  tx/00001\n"
	"    37.50%         18          0          2    8  zz/00001\n"
	"    10.42%          4          1          4    4  user\n"
	"     6.25%          2          1          3    4  item\n"
	"left out: 9 below min keys, 1 covered by a longer prefix\n"
	"not tracked: 0 prefix notes (prefix table full), 0 key notes (key table full), "
	"0 lookups skipped (table busy or unallocated)\n";

static const char expected_json[] =
	"{\"prefix_lens\": [4, 8], \"min_keys\": 2, \"cover_pct\": 95, \"rule\": \"fixed\", \"pools\": [\n"
	"  {\"pool\": \"index\", \"accesses\": 48, \"hits\": 45, \"misses\": 3, \"prefixes\": [\n"
	"    {\"prefix\": \"zz/0\", \"len\": 4, \"hits\": 19, \"misses\": 0, \"keys\": 3, "
	"\"share_pct\": 39.58},\n"
	"    {\"prefix\": \"tx/00001\", \"len\": 8, \"hits\": 19, \"misses\": 0, \"keys\": 2, "
	"\"share_pct\": 39.58},\n"
	"    {\"prefix\": \"zz/00001\", \"len\": 8, \"hits\": 18, \"misses\": 0, \"keys\": 2, "
	"\"share_pct\": 37.50},\n"
	"    {\"prefix\": \"user\", \"len\": 4, \"hits\": 4, \"misses\": 1, \"keys\": 4, "
	"\"share_pct\": 10.42},\n"
	"    {\"prefix\": \"item\", \"len\": 4, \"hits\": 2, \"misses\": 1, \"keys\": 3, "
	"\"share_pct\": 6.25}],\n"
	"   \"below_min_keys\": 9, \"covered\": 1, \"untracked_prefix_notes\": 0, "
	"\"untracked_key_notes\": 0, \"skipped_lookups\": 0},\n"
	"  {\"pool\": \"view\", \"accesses\": 1, \"hits\": 0, \"misses\": 1, \"prefixes\": [],\n"
	"   \"below_min_keys\": 1, \"covered\": 0, \"untracked_prefix_notes\": 0, "
	"\"untracked_key_notes\": 0, \"skipped_lookups\": 0}]}\n";

START_TEST(report_text_exact)
{
	static const unsigned lens[] = { 8, 4, 8, 0 }; /* sorted and deduplicated */
	struct spc_cache *c = open_debug(1, lens, 2, NULL);
	char buf[4096];
	size_t need = 0;

	fixed_inputs(c);
	ck_assert_int_eq(spc_debug_report_text(c, SPC_POOL_INDEX, buf, sizeof buf, &need), SPC_OK);
	ck_assert_str_eq(buf, expected_text);
	ck_assert_uint_eq(need, strlen(expected_text));
	/* a report changes nothing: the same again */
	ck_assert_int_eq(spc_debug_report_text(c, SPC_POOL_INDEX, buf, sizeof buf, NULL), SPC_OK);
	ck_assert_str_eq(buf, expected_text);
	/* too small: SPC_ERANGE, NUL-terminated prefix, the length needed */
	ck_assert_int_eq(spc_debug_report_text(c, SPC_POOL_INDEX, buf, 40, &need), SPC_ERANGE);
	ck_assert_uint_eq(need, strlen(expected_text));
	ck_assert_uint_eq(strlen(buf), 39);
	ck_assert_int_eq(strncmp(buf, expected_text, 39), 0);
	ck_assert_int_eq(spc_debug_report_text(c, SPC_POOL_INDEX, NULL, 0, &need), SPC_ERANGE);
	ck_assert_uint_eq(need, strlen(expected_text));
	spc_close(c);
}
END_TEST

START_TEST(report_json_exact)
{
	static const unsigned lens[] = { 4, 8, 0 };
	struct spc_cache *c = open_debug(1, lens, 2, NULL);
	char buf[4096];
	size_t need = 0;

	fixed_inputs(c);
	ck_assert_int_eq(spc_debug_report_json(c, -1, buf, sizeof buf, &need), SPC_OK);
	ck_assert_str_eq(buf, expected_json);
	ck_assert_uint_eq(need, strlen(expected_json));
	ck_assert_int_eq(spc_debug_report_json(c, 2, buf, sizeof buf, &need), SPC_EINVAL);
	ck_assert_int_eq(spc_debug_report_json(c, -2, buf, sizeof buf, &need), SPC_EINVAL);
	ck_assert_int_eq(spc_debug_report_json(c, -1, NULL, 8, &need), SPC_EINVAL);
	spc_close(c);
}
END_TEST

static void cover_inputs(struct spc_cache *c)
{
	set_s(c, SPC_POOL_VIEW, "only/one-key");
	get_n(c, SPC_POOL_VIEW, "only/one-key", 20); /* "only" covered by "only/one" */
	get_n(c, SPC_POOL_VIEW, "half/aaaa", 1);     /* "half": two keys of one access each */
	get_n(c, SPC_POOL_VIEW, "half/bbbb", 1);
}

/* min keys decides what is shown; at 1 the single-key prefixes come back
 * and now cover their 4-byte parents where they take >= 95 %. */
START_TEST(min_keys_and_cover_rule)
{
	static const unsigned lens[] = { 4, 8, 0 };
	struct spc_cache *c = open_debug(1, lens, 1, NULL);
	char buf[4096];

	cover_inputs(c);
	ck_assert_int_eq(spc_debug_report_text(c, SPC_POOL_VIEW, buf, sizeof buf, NULL), SPC_OK);
	ck_assert_ptr_nonnull(strstr(buf, "    90.91%         20          0          1    8  only/one\n"));
	ck_assert_ptr_null(strstr(buf, "  only\n"));
	ck_assert_ptr_nonnull(strstr(buf, "     9.09%          0          2          2    4  half\n"));
	ck_assert_ptr_nonnull(strstr(buf, "     4.55%          0          1          1    8  half/aaa\n"));
	ck_assert_ptr_nonnull(strstr(buf, "left out: 0 below min keys, 1 covered by a longer prefix\n"));
	spc_close(c);
	/* at 3 keys nothing is shown */
	c = open_debug(1, lens, 3, NULL);
	cover_inputs(c);
	ck_assert_int_eq(spc_debug_report_text(c, SPC_POOL_VIEW, buf, sizeof buf, NULL), SPC_OK);
	ck_assert_ptr_nonnull(strstr(buf, "left out: 5 below min keys, 0 covered by a longer prefix\n"));
	spc_close(c);
}
END_TEST

/* Binary keys render through spc_key_render. */
START_TEST(binary_prefix_rendered)
{
	static const unsigned lens[] = { 4, 0 };
	struct spc_cache *c = open_debug(1, lens, 1, NULL);
	char buf[4096];

	get_n(c, SPC_POOL_INDEX, "\x2a\x01\x02\x03xyz", 1);
	ck_assert_int_eq(spc_debug_report_json(c, SPC_POOL_INDEX, buf, sizeof buf, NULL), SPC_OK);
	ck_assert_ptr_nonnull(strstr(buf, "{\"prefix\": \"0x2a010203(=50463018)\", \"len\": 4"));
	spc_close(c);
}
END_TEST

static unsigned long long field(const char *buf, const char *after)
{
	const char *p = strstr(buf, after);

	ck_assert_ptr_nonnull(p);
	return strtoull(p + strlen(after), NULL, 10);
}

/* The tables are bounded: prefixes and pairs beyond a thread's capacity
 * are counted and reported, never stored. */
START_TEST(bounded_tables_report_overflow)
{
	static const unsigned four[] = { 4, 0 }, two[] = { 2, 0 };
	struct spc_cache *c = open_debug(1, four, 1, NULL);
	char buf[1 << 16], k[16];

	for (unsigned i = 0; i < SPC_DEBUG_THREAD_PREFIXES + 44; i++) {
		snprintf(k, sizeof k, "%04u", i);
		get_n(c, SPC_POOL_INDEX, k, 1);
	}
	ck_assert_int_eq(spc_debug_report_json(c, SPC_POOL_INDEX, buf, sizeof buf, NULL), SPC_OK);
	ck_assert_uint_eq(field(buf, "\"untracked_prefix_notes\": "), 44);
	ck_assert_uint_eq(field(buf, "\"accesses\": "), SPC_DEBUG_THREAD_PREFIXES + 44);
	spc_close(c);

	c = open_debug(1, two, 1, NULL);
	for (unsigned i = 0; i < SPC_DEBUG_THREAD_PAIRS + 100; i++) {
		snprintf(k, sizeof k, "k/%06u", i);
		get_n(c, SPC_POOL_INDEX, k, 1);
	}
	ck_assert_int_eq(spc_debug_report_text(c, SPC_POOL_INDEX, buf, sizeof buf, NULL), SPC_OK);
	ck_assert_ptr_nonnull(strstr(buf, "     4196       4096    2  k/\n"));
	ck_assert_ptr_nonnull(strstr(buf, "not tracked: 0 prefix notes (prefix table full), "
	                                  "100 key notes (key table full)"));
	spc_close(c);
}
END_TEST

struct reader {
	struct spc_cache *c;
	unsigned n;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	char k[16];

	for (unsigned i = 0; i < r->n; i++) {
		snprintf(k, sizeof k, "r/%05u", i % 1000);
		get_n(r->c, SPC_POOL_VIEW, k, 1);
	}
	return NULL;
}

/* Readers in several threads while reports run: every lookup is either
 * analysed or counted as skipped; a key read by two threads counts once. */
START_TEST(threads_merge_and_skip_counted)
{
	static const unsigned lens[] = { 2, 0 };
	struct spc_cache *c = open_debug(1, lens, 1, NULL);
	struct reader r[2] = { { c, 20000 }, { c, 20000 } };
	pthread_t t[2];
	char buf[8192];

	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, reader_main, &r[i]), 0);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(spc_debug_report_json(c, -1, buf, sizeof buf, NULL), SPC_OK);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	ck_assert_int_eq(spc_debug_report_json(c, SPC_POOL_VIEW, buf, sizeof buf, NULL), SPC_OK);
	ck_assert_uint_eq(field(buf, "\"accesses\": ") + field(buf, "\"skipped_lookups\": "), 40000);
	/* both threads read the same 1000 keys */
	ck_assert_uint_eq(field(buf, "\"keys\": "), 1000);
	spc_close(c);
}
END_TEST

/* Debug off: no table, no allocation by lookups, reports refused. */
START_TEST(debug_off_costs_nothing)
{
	struct mallocs m = { 0 };
	struct spc_cache *c = open_debug(0, NULL, 16, &m);
	char buf[64];
	size_t need = 5;
	unsigned long before;

	ck_assert_ptr_null(c->debug);
	get_n(c, SPC_POOL_INDEX, "warm", 1); /* this thread's statistics slot */
	before = __atomic_load_n(&m.n, __ATOMIC_RELAXED);
	get_n(c, SPC_POOL_INDEX, "user/1", 100);
	ck_assert_uint_eq(__atomic_load_n(&m.n, __ATOMIC_RELAXED), before);
	ck_assert_int_eq(spc_debug_report_text(c, -1, buf, sizeof buf, &need), SPC_EINVAL);
	ck_assert_int_eq(spc_debug_report_json(c, -1, buf, sizeof buf, &need), SPC_EINVAL);
	ck_assert_int_eq(spc_debug_report_text(NULL, -1, buf, sizeof buf, &need), SPC_EINVAL);
	spc_close(c);

	/* on: one table at this thread's first lookup, none after */
	c = open_debug(1, NULL, 16, &m);
	ck_assert_ptr_nonnull(c->debug);
	get_n(c, SPC_POOL_INDEX, "warm", 1);
	before = __atomic_load_n(&m.n, __ATOMIC_RELAXED);
	get_n(c, SPC_POOL_INDEX, "user/1", 100);
	ck_assert_uint_eq(__atomic_load_n(&m.n, __ATOMIC_RELAXED), before);
	spc_close(c);
}
END_TEST

START_TEST(bad_prefix_lengths_refused)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 16u << 20;
	cfg.debug = 1;
	cfg.debug_prefix_lens[0] = 0;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_EINVAL);
	ck_assert_ptr_null(c);
	cfg.debug_prefix_lens[0] = SPC_DEBUG_PREFIX_MAX + 1;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_EINVAL);
	cfg.debug_prefix_lens[0] = SPC_DEBUG_PREFIX_MAX;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	spc_close(c);
}
END_TEST

static Suite *debug_suite(void)
{
	Suite *s = suite_create("debug");
	TCase *tc = tcase_create("report");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, report_text_exact);
	tcase_add_test(tc, report_json_exact);
	tcase_add_test(tc, min_keys_and_cover_rule);
	tcase_add_test(tc, binary_prefix_rendered);
	tcase_add_test(tc, bounded_tables_report_overflow);
	tcase_add_test(tc, threads_merge_and_skip_counted);
	tcase_add_test(tc, debug_off_costs_nothing);
	tcase_add_test(tc, bad_prefix_lengths_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(debug_suite());
}
