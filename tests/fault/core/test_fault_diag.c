/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/fault/core/test_fault_diag.c: fail the N-th allocation, for every
 * N (transient and persistent), through spc_open with debug mode on,
 * through lookups noted by debug mode and the reports, and through
 * spc_evict_to_percent, until the operation completes without meeting a
 * fault. Nothing may crash or leak (the ASan build checks), every lookup
 * is either analysed or counted as skipped, and the cache stays
 * consistent (items = the keys found, charged = their charges).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "core/cache.h"
#include "fault/core/nth_fault.h"

static void config(struct spc_config *cfg, struct faults *f, int sync)
{
	spc_config_init(cfg);
	cfg->use_env = 0;
	cfg->budget_bytes = 16u << 20;
	cfg->synchronous_maintenance = sync;
	cfg->debug = 1;
	cfg->debug_min_keys = 1;
	cfg->fault = fault_hook;
	cfg->fault_arg = f;
}

#define LOOKUPS 10
#define NK 500

static unsigned long long field(const char *buf, const char *after)
{
	const char *p = strstr(buf, after);

	ck_assert_ptr_nonnull(p);
	return strtoull(p + strlen(after), NULL, 10);
}

/* _i: bit 0 persistent, bit 1 synchronous maintenance */
START_TEST(open_with_debug_fails_cleanly)
{
	struct faults f = { 0 };
	struct spc_config cfg;
	unsigned long n;

	config(&cfg, &f, (_i & 2) != 0);
	for (n = 1; n < 10000; n++) {
		struct spc_cache *c = (struct spc_cache *)&f; /* must be reset to NULL */
		char buf[4096];
		size_t len;
		int r;

		arm(&f, n, _i & 1);
		r = spc_open(&cfg, &c);
		disarm(&f);
		if (r != SPC_OK) {
			ck_assert(r == SPC_ENOMEM || r == SPC_ESYS);
			ck_assert_ptr_null(c);
			ck_assert_uint_gt(__atomic_load_n(&f.hit, __ATOMIC_RELAXED), 0);
			continue;
		}
		ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, "key/1", 5, "v", 1), SPC_OK);
		ck_assert_int_eq(spc_get(c, SPC_POOL_VIEW, "key/1", 5, buf, sizeof buf, &len), SPC_OK);
		ck_assert_int_eq(spc_debug_report_text(c, -1, buf, sizeof buf, NULL), SPC_OK);
		spc_close(c);
		if (__atomic_load_n(&f.hit, __ATOMIC_RELAXED) == 0)
			break;
	}
	ck_assert_uint_lt(n, 10000);
}
END_TEST

struct lookups {
	struct spc_cache *c;
};

static void *lookups_main(void *arg)
{
	struct lookups *l = arg;
	char k[16], buf[8];
	size_t len;

	for (int i = 0; i < LOOKUPS; i++) {
		snprintf(k, sizeof k, "note/%d", i);
		(void)spc_get(l->c, SPC_POOL_INDEX, k, strlen(k), buf, sizeof buf, &len);
	}
	return NULL;
}

/* A fresh thread's first lookups (its statistics slot and its debug
 * table are allocated then) and a report, failing the N-th allocation. */
START_TEST(notes_and_reports_fail_cleanly)
{
	struct faults f = { 0 };
	struct spc_config cfg;
	struct spc_cache *c = NULL;
	unsigned long n;

	config(&cfg, &f, _i & 2 ? 1 : 0);
	for (n = 1; n < 1000; n++) {
		struct lookups l;
		pthread_t t;
		char buf[8192];

		ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
		l.c = c;
		arm(&f, n, _i & 1);
		ck_assert_int_eq(pthread_create(&t, NULL, lookups_main, &l), 0);
		ck_assert_int_eq(pthread_join(t, NULL), 0);
		ck_assert_int_eq(spc_debug_report_json(c, SPC_POOL_INDEX, buf, sizeof buf, NULL),
		                 SPC_OK);
		disarm(&f);
		ck_assert_uint_eq(field(buf, "\"accesses\": ") + field(buf, "\"skipped_lookups\": "),
		                  LOOKUPS);
		ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &(struct spc_stats){ 0 }), SPC_OK);
		spc_close(c);
		if (__atomic_load_n(&f.hit, __ATOMIC_RELAXED) == 0)
			break;
	}
	ck_assert_uint_lt(n, 1000);
}
END_TEST

/* Forced eviction allocates nothing; under every N it still completes and
 * leaves the accounting exact. */
START_TEST(evict_to_percent_under_faults)
{
	struct faults f = { 0 };
	struct spc_config cfg;
	struct spc_cache *c = NULL;
	unsigned long n;
	char k[16], buf[16];
	size_t len;

	config(&cfg, &f, _i & 2 ? 1 : 0);
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	for (n = 1; n < 1000; n++) {
		struct spc_stats a, b;
		uint64_t ev = 0, found = 0, a_ix, b_ix;

		for (int i = 0; i < NK; i++) {
			snprintf(k, sizeof k, "ev/%d", i);
			ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, k, strlen(k), "value", 5), SPC_OK);
		}
		ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
		ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &a), SPC_OK);
		a_ix = spc_kv_bytes(&c->ps[SPC_POOL_INDEX]);
		arm(&f, n, _i & 1);
		ck_assert_int_eq(spc_evict_to_percent(c, SPC_POOL_INDEX, 50, 10000, &ev), SPC_OK);
		disarm(&f);
		ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
		ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &b), SPC_OK);
		b_ix = spc_kv_bytes(&c->ps[SPC_POOL_INDEX]);
		for (int i = 0; i < NK; i++) {
			snprintf(k, sizeof k, "ev/%d", i);
			found += spc_get(c, SPC_POOL_INDEX, k, strlen(k), buf, sizeof buf, &len) == SPC_OK;
		}
		ck_assert_uint_eq(found, b.items);
		ck_assert_uint_eq(a.items - b.items, b.evictions - a.evictions);
		ck_assert_uint_eq(ev, b.evictions - a.evictions);
		/* of the entries' bytes: the index's tables (compact
		 * build) are no entry's */
		ck_assert_uint_le(b.charged_bytes - b_ix, (a.charged_bytes - a_ix) / 2);
		if (__atomic_load_n(&f.hit, __ATOMIC_RELAXED) == 0)
			break;
	}
	ck_assert_uint_lt(n, 1000);
	spc_close(c);
}
END_TEST

static Suite *fault_suite(void)
{
	Suite *s = suite_create("fault-diag");
	TCase *tc = tcase_create("nth");

	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, open_with_debug_fails_cleanly, 0, 4);
	tcase_add_loop_test(tc, notes_and_reports_fail_cleanly, 0, 4);
	tcase_add_loop_test(tc, evict_to_percent_under_faults, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(fault_suite());
}
