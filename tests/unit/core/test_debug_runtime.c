/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/core/test_debug_runtime.c: debug mode switched at run time
 * (spc_debug_enable / spc_debug_disable / spc_debug_clear), the report as
 * a structure, and the slash prefix rule with its cover threshold on the
 * key shapes of a block indexer (/blockhash/byheight/<height>,
 * /blockhash/byhash/<hash20>, /txids/<hash32>).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "core/debug.h"
#include "splitcache.h"

static struct spc_cache *open_rule(int debug, enum spc_prefix_rule rule, unsigned cover,
                                   uint64_t min_keys)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 16u << 20;
	cfg.synchronous_maintenance = 1;
	cfg.debug = debug;
	cfg.debug_prefix_rule = rule;
	cfg.debug_cover_pct = cover;
	cfg.debug_min_keys = min_keys;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	return c;
}

static void get_k(struct spc_cache *c, const void *k, size_t klen, int times)
{
	char buf[8];
	size_t n;

	for (int i = 0; i < times; i++)
		(void)spc_get(c, SPC_POOL_INDEX, k, klen, buf, sizeof buf, &n);
}

static uint64_t accesses(struct spc_cache *c)
{
	struct spc_debug_report *r = malloc(sizeof *r);
	uint64_t n;

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(spc_debug_report(c, r), SPC_OK);
	n = r->pools[SPC_POOL_INDEX].accesses;
	free(r);
	return n;
}

/* Enable, disable, enable again, clear: exactly the lookups made while on
 * are counted, and the reports follow. */
START_TEST(enable_disable_clear)
{
	struct spc_cache *c = open_rule(0, SPC_PREFIX_FIXED, 0, 1);
	struct spc_debug_report *r = malloc(sizeof *r);
	char buf[4096];

	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(spc_debug_enabled(c), 0);
	ck_assert_int_eq(spc_debug_report(c, r), SPC_OK);
	ck_assert_int_eq(r->enabled, 0);
	ck_assert_uint_eq(r->pools[0].accesses + r->pools[1].accesses, 0);
	ck_assert_int_eq(spc_debug_report_text(c, -1, buf, sizeof buf, NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_debug_clear(c), SPC_OK); /* never enabled: nothing */
	get_k(c, "user/0001", 9, 3);                   /* off: not counted */

	ck_assert_int_eq(spc_debug_enable(c), SPC_OK);
	ck_assert_int_eq(spc_debug_enable(c), SPC_OK); /* twice: same state */
	ck_assert_int_eq(spc_debug_enabled(c), 1);
	get_k(c, "user/0001", 9, 5);
	ck_assert_uint_eq(accesses(c), 5);

	ck_assert_int_eq(spc_debug_disable(c), SPC_OK);
	ck_assert_int_eq(spc_debug_enabled(c), 0);
	get_k(c, "user/0001", 9, 7);
	ck_assert_uint_eq(accesses(c), 5); /* kept, not grown */
	ck_assert_int_eq(spc_debug_report_text(c, -1, buf, sizeof buf, NULL), SPC_OK);
	ck_assert_ptr_nonnull(strstr(buf, "pool index: 5 accesses (0 hits, 5 misses)"));

	ck_assert_int_eq(spc_debug_enable(c), SPC_OK);
	get_k(c, "user/0002", 9, 3);
	ck_assert_uint_eq(accesses(c), 8);
	ck_assert_int_eq(spc_debug_clear(c), SPC_OK);
	ck_assert_int_eq(spc_debug_enabled(c), 1); /* clear keeps it on */
	ck_assert_int_eq(spc_debug_report(c, r), SPC_OK);
	ck_assert_uint_eq(r->pools[0].accesses, 0);
	ck_assert_uint_eq(r->pools[0].n_prefixes, 0);
	ck_assert_uint_eq(r->pools[0].below_min_keys + r->pools[0].covered, 0);
	get_k(c, "user/0003", 9, 2);
	ck_assert_int_eq(spc_debug_report(c, r), SPC_OK);
	ck_assert_uint_eq(r->pools[0].accesses, 2);
	ck_assert_uint_eq(r->pools[0].prefixes[0].keys, 1); /* user/0001, 0002 forgotten */

	ck_assert_int_eq(spc_debug_enable(NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_debug_disable(NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_debug_clear(NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_debug_report(NULL, r), SPC_EINVAL);
	ck_assert_int_eq(spc_debug_report(c, NULL), SPC_EINVAL);
	free(r);
	spc_close(c);
}
END_TEST

/* A configuration that debug mode cannot use opens (debug off) and is
 * refused at enable, leaving the cache as it was. */
START_TEST(enable_checks_configuration)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 16u << 20;
	cfg.debug_prefix_lens[0] = 0;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	ck_assert_int_eq(spc_debug_enable(c), SPC_EINVAL);
	ck_assert_int_eq(spc_debug_enabled(c), 0);
	spc_close(c);
	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 16u << 20;
	cfg.debug_cover_pct = 101;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	ck_assert_int_eq(spc_debug_enable(c), SPC_EINVAL);
	spc_close(c);
	cfg.debug_cover_pct = 0;
	cfg.debug_prefix_rule = (enum spc_prefix_rule)7;
	cfg.debug = 1;
	c = NULL;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_EINVAL);
	ck_assert_ptr_null(c);
}
END_TEST

/* The structure holds what the text shows: the fixed lookups of
 * test_debug.c's first example, reduced. */
START_TEST(structure_matches_text)
{
	static const char *const keys[] = { "tx/00001/a", "tx/00001/b", "tx/00002/c" };
	static const int times[] = { 10, 9, 1 };
	struct spc_cache *c = open_rule(1, SPC_PREFIX_FIXED, 0, 2);
	struct spc_debug_report *r = malloc(sizeof *r);
	char buf[4096];

	ck_assert_ptr_nonnull(r);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, keys[i], 10, "v", 1), SPC_OK);
		get_k(c, keys[i], 10, times[i]);
	}
	ck_assert_int_eq(spc_debug_report(c, r), SPC_OK);
	ck_assert_int_eq(r->enabled, 1);
	ck_assert_int_eq(r->rule, SPC_PREFIX_FIXED);
	ck_assert_uint_eq(r->n_prefix_lens, 3);
	ck_assert_uint_eq(r->prefix_lens[0], 4);
	ck_assert_uint_eq(r->cover_pct, 95);
	ck_assert_uint_eq(r->min_keys, 2);
	ck_assert_uint_eq(r->pools[0].accesses, 20);
	ck_assert_uint_eq(r->pools[0].hits, 20);
	/* tx/0 (4) covered by tx/00001 (8): 19 of 20 */
	ck_assert_uint_eq(r->pools[0].n_prefixes, 1);
	ck_assert_uint_eq(r->pools[0].prefixes[0].len, 8);
	ck_assert_int_eq(memcmp(r->pools[0].prefixes[0].bytes, "tx/00001", 8), 0);
	ck_assert_uint_eq(r->pools[0].prefixes[0].hits, 19);
	ck_assert_uint_eq(r->pools[0].prefixes[0].keys, 2);
	ck_assert(r->pools[0].prefixes[0].share_pct > 94.99 && r->pools[0].prefixes[0].share_pct < 95.01);
	ck_assert_uint_eq(r->pools[0].covered, 1);
	ck_assert_uint_eq(r->pools[0].below_min_keys, 1); /* tx/00002 */
	ck_assert_int_eq(spc_debug_report_text(c, 0, buf, sizeof buf, NULL), SPC_OK);
	ck_assert_ptr_nonnull(strstr(buf, "    95.00%         19          0          2    8  tx/00001\n"));
	free(r);
	spc_close(c);
}
END_TEST

/* A hash-like byte string without '/' (so the slash rule sees no cut in it). */
static void fill_hash(unsigned char *h, size_t n, unsigned seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		h[i] = (unsigned char)(x >> 24);
		if (h[i] == '/')
			h[i] = 0x80;
	}
}

/* The indexer's key shapes: 20 heights read twice each, 8 block hashes
 * once each, 20 txids once each. */
static void indexer_lookups(struct spc_cache *c)
{
	unsigned char k[64];

	for (unsigned i = 0; i < 20; i++) {
		uint32_t h = 700000 + i;

		memcpy(k, "/blockhash/byheight/", 20);
		for (int b = 0; b < 4; b++)
			k[20 + b] = (unsigned char)(h >> (8 * b));
		ck_assert(memchr(k + 20, '/', 4) == NULL);
		get_k(c, k, 24, 2);
	}
	for (unsigned i = 0; i < 8; i++) {
		memcpy(k, "/blockhash/byhash/", 18);
		fill_hash(k + 18, 20, i);
		get_k(c, k, 38, 1);
	}
	for (unsigned i = 0; i < 20; i++) {
		memcpy(k, "/txids/", 7);
		fill_hash(k + 7, 32, 100 + i);
		get_k(c, k, 39, 1);
	}
}

static const struct spc_debug_prefix_stat *find(const struct spc_debug_pool_report *p,
                                                const char *prefix)
{
	for (unsigned i = 0; i < p->n_prefixes; i++)
		if (p->prefixes[i].len == strlen(prefix) &&
		    memcmp(p->prefixes[i].bytes, prefix, p->prefixes[i].len) == 0)
			return &p->prefixes[i];
	return NULL;
}

/* Slash rule, default 80 %: "/blockhash/" (48 accesses) is hidden behind
 * "/blockhash/byheight/" (40, 83 %); "/txids/" (7 bytes, no longer cut)
 * is its own family; "/blockhash/byhash/" has 8 keys, below min keys. */
START_TEST(slash_rule_on_indexer_keys)
{
	struct spc_cache *c = open_rule(1, SPC_PREFIX_SLASH, 0, 16);
	struct spc_debug_report *r = malloc(sizeof *r);
	const struct spc_debug_prefix_stat *s;
	char buf[4096];

	ck_assert_ptr_nonnull(r);
	indexer_lookups(c);
	ck_assert_int_eq(spc_debug_report(c, r), SPC_OK);
	ck_assert_int_eq(r->rule, SPC_PREFIX_SLASH);
	ck_assert_uint_eq(r->cover_pct, 80);
	ck_assert_uint_eq(r->pools[0].accesses, 68);
	ck_assert_uint_eq(r->pools[0].n_prefixes, 2);
	s = &r->pools[0].prefixes[0];
	ck_assert_uint_eq(s->len, 20);
	ck_assert_int_eq(memcmp(s->bytes, "/blockhash/byheight/", 20), 0);
	ck_assert_uint_eq(s->misses, 40);
	ck_assert_uint_eq(s->keys, 20);
	s = find(&r->pools[0], "/txids/");
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->keys, 20);
	ck_assert_uint_eq(s->misses, 20);
	ck_assert_ptr_null(find(&r->pools[0], "/blockhash/"));
	ck_assert_uint_eq(r->pools[0].covered, 1);
	ck_assert_uint_eq(r->pools[0].below_min_keys, 1); /* /blockhash/byhash/ */
	ck_assert_int_eq(spc_debug_report_text(c, 0, buf, sizeof buf, NULL), SPC_OK);
	ck_assert_ptr_nonnull(strstr(buf, "prefixes cut at '/', 8 to 64 bytes; min keys 16; a prefix "
	                                  "is left out when one longer prefix has >= 80% of its"));
	ck_assert_ptr_nonnull(strstr(buf, "    58.82%          0         40         20   20  "
	                                  "/blockhash/byheight/\n"));
	ck_assert_ptr_nonnull(strstr(buf, "    29.41%          0         20         20    7  /txids/\n"));
	ck_assert_int_eq(spc_debug_report_json(c, 0, buf, sizeof buf, NULL), SPC_OK);
	ck_assert_ptr_nonnull(strstr(buf, "\"cover_pct\": 80, \"rule\": \"slash\""));
	free(r);
	spc_close(c);
}
END_TEST

/* The threshold is the configuration's: at 90 % the 83 % share does not
 * cover, so "/blockhash/" is shown beside "/blockhash/byheight/". */
START_TEST(slash_rule_cover_threshold)
{
	struct spc_cache *c = open_rule(1, SPC_PREFIX_SLASH, 90, 16);
	struct spc_debug_report *r = malloc(sizeof *r);
	const struct spc_debug_prefix_stat *s;

	ck_assert_ptr_nonnull(r);
	indexer_lookups(c);
	ck_assert_int_eq(spc_debug_report(c, r), SPC_OK);
	ck_assert_uint_eq(r->cover_pct, 90);
	ck_assert_uint_eq(r->pools[0].n_prefixes, 3);
	s = &r->pools[0].prefixes[0];
	ck_assert_uint_eq(s->len, 11);
	ck_assert_int_eq(memcmp(s->bytes, "/blockhash/", 11), 0);
	ck_assert_uint_eq(s->misses, 48);
	ck_assert_uint_eq(s->keys, 28);
	ck_assert_uint_eq(r->pools[0].covered, 0);
	free(r);
	spc_close(c);
}
END_TEST

/* Deep keys count under at most the 8 deepest cuts; a key without '/' in
 * its first 64 bytes under none. */
START_TEST(slash_rule_bounds)
{
	struct spc_cache *c = open_rule(1, SPC_PREFIX_SLASH, 100, 1);
	struct spc_debug_report *r = malloc(sizeof *r);
	char deep[80];

	ck_assert_ptr_nonnull(r);
	/* cuts at 8, 10, ..., 64: 29 of them, the 8 deepest counted */
	memset(deep, 'a', sizeof deep);
	for (int i = 7; i < 64; i += 2)
		deep[i] = '/';
	get_k(c, deep, sizeof deep, 1);
	ck_assert_int_eq(spc_debug_report(c, r), SPC_OK);
	/* at 100 % every parent is covered by its child: only the deepest */
	ck_assert_uint_eq(r->pools[0].n_prefixes, 1);
	ck_assert_uint_eq(r->pools[0].prefixes[0].len, 64);
	ck_assert_uint_eq(r->pools[0].covered, 7);
	ck_assert_int_eq(spc_debug_clear(c), SPC_OK);
	memset(deep, 'b', sizeof deep);
	deep[70] = '/'; /* past 64 bytes: no cut */
	get_k(c, deep, sizeof deep, 1);
	ck_assert_int_eq(spc_debug_report(c, r), SPC_OK);
	ck_assert_uint_eq(r->pools[0].accesses, 1);
	ck_assert_uint_eq(r->pools[0].n_prefixes + r->pools[0].covered + r->pools[0].below_min_keys, 0);
	free(r);
	spc_close(c);
}
END_TEST

static Suite *debug_runtime_suite(void)
{
	Suite *s = suite_create("debug_runtime");
	TCase *tc = tcase_create("runtime");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, enable_disable_clear);
	tcase_add_test(tc, enable_checks_configuration);
	tcase_add_test(tc, structure_matches_text);
	tcase_add_test(tc, slash_rule_on_indexer_keys);
	tcase_add_test(tc, slash_rule_cover_threshold);
	tcase_add_test(tc, slash_rule_bounds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(debug_runtime_suite());
}
