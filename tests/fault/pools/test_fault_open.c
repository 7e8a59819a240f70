/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fail-the-N-th-call over spc_mem_open / use / mode change / spc_mem_close
 * (SQLite's out-of-memory testing, docs/style.md 12): the fault hook counts every
 * call of every site and refuses call N (transient) or call N and all after
 * it (persistent), for N = 1, 2, ... until a run never reaches call N.
 * Every run must end without a crash and without a leak (the ASan build
 * checks leaks; here open file descriptors and mappings are counted), and
 * a failed open must leave *out as it was (P3, P4).
 */
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"
#include "pools/pools.h"

struct plan {
	int n;          /* the call to fail (1-based) */
	int persistent; /* fail every call from n on */
	int calls;
	int failed;     /* how many calls were refused */
};

static int fault_fn(void *arg, enum spc_fault_site site, size_t bytes)
{
	struct plan *p = arg;

	(void)site;
	(void)bytes;
	p->calls++;
	if (p->calls == p->n || (p->persistent && p->calls > p->n)) {
		p->failed++;
		return 1;
	}
	return 0;
}

static void quiet(void *arg, enum spc_log_level level, const char *message)
{
	(void)arg;
	(void)level;
	(void)message;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static int count_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int n = 0, c;

	ck_assert_ptr_nonnull(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* One run under the plan. Returns 1 when the plan's call N was reached. */
static int one_run(struct plan *p, enum spc_mode mode)
{
	struct spc_config cfg;
	struct spc_mem *mem = (struct spc_mem *)(uintptr_t)0x5bc; /* sentinel */
	struct spc_mem_report r;
	char json[1 << 15];
	int rc, i;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 16ull << 20;
	cfg.mode = mode;
	cfg.fault = fault_fn;
	cfg.fault_arg = p;
	cfg.log = quiet;
	rc = spc_mem_open(&cfg, NULL, &mem);
	if (rc != SPC_OK) {
		ck_assert_int_eq(rc, SPC_ENOMEM);
		ck_assert_ptr_eq(mem, (struct spc_mem *)(uintptr_t)0x5bc);
		ck_assert_int_ge(p->failed, 1);
		return p->calls >= p->n;
	}
	/* Open succeeded, perhaps degraded or on fallback arenas: it must
	 * still be consistent and usable. */
	spc_mem_fill_report(mem, &r);
	ck_assert_uint_le(r.pools[0].target_bytes + r.pools[1].target_bytes, spc_mem_budget(mem));
	if (r.degraded)
		ck_assert_uint_eq(r.pools[0].target_bytes, SPC_MINIMAL_POOL_BYTES);
	for (i = 0; i < SPC_POOL_COUNT; i++) {
		struct spc_pool *pool = spc_mem_pool(mem, (enum spc_pool_id)i);
		size_t u = spc_pool_usable(pool, 200);
		void *q;

		ck_assert_int_eq(spc_pool_charge(pool, u), SPC_OK);
		q = spc_pool_alloc(pool, 200);
		if (q) {
			memset(q, 7, 200);
			spc_pool_free(pool, q, 200);
		}
		spc_pool_uncharge(pool, u);
		ck_assert_uint_eq(spc_pool_charged(pool), 0);
	}
	/* A mode change as core does it: shrink one, then grow the other. */
	{
		uint64_t t[SPC_POOL_COUNT];

		ck_assert_int_eq(spc_mem_mode_targets(mem, SPC_MODE_VIEW, 0.5, t), SPC_OK);
		ck_assert_uint_le(t[0] + t[1], spc_mem_budget(mem));
		spc_pool_set_target(spc_mem_pool(mem, SPC_POOL_INDEX), t[SPC_POOL_INDEX]);
		spc_pool_set_target(spc_mem_pool(mem, SPC_POOL_VIEW), t[SPC_POOL_VIEW]);
		spc_mem_note_mode(mem, SPC_MODE_VIEW, 0.5);
		spc_mem_fill_report(mem, &r);
		ck_assert_int_eq(r.mode, SPC_MODE_VIEW);
		ck_assert_uint_eq(r.pools[SPC_POOL_VIEW].target_bytes, t[SPC_POOL_VIEW]);
	}
	spc_mem_fill_report(mem, &r);
	ck_assert_int_eq(spc_mem_report_json(&r, json, sizeof json, NULL), SPC_OK);
	spc_mem_close(mem);
	return p->calls >= p->n;
}

static void fault_loop(int persistent, enum spc_mode mode)
{
	int fds = count_entries("/proc/self/fd"), maps, n, reached = 1;
	struct plan warm = { 0, 0, 0, 0 };

	/* One clean run first so that lazily created state (jemalloc's own
	 * arenas and caches) exists before counting mappings. */
	one_run(&warm, mode);
	maps = count_maps();
	for (n = 1; reached; n++) {
		struct plan p = { n, persistent, 0, 0 };

		reached = one_run(&p, mode);
		ck_assert_int_eq(count_entries("/proc/self/fd"), fds);
		ck_assert_int_lt(n, 1000);
	}
	ck_assert_int_gt(n, 3); /* the loop really exercised several calls */
	/* Arenas destroyed and regions unmapped: no mapping left behind
	 * (a few of jemalloc's own may come and go). */
	ck_assert_int_le(count_maps(), maps + 8);
}

START_TEST(fail_nth_transient)
{
	fault_loop(0, (enum spc_mode)_i);
}
END_TEST

START_TEST(fail_nth_persistent)
{
	fault_loop(1, (enum spc_mode)_i);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fault.pools");
	TCase *tc = tcase_create("open");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, fail_nth_transient, SPC_MODE_INDEXER, SPC_MODE_SPLIT + 1);
	tcase_add_loop_test(tc, fail_nth_persistent, SPC_MODE_INDEXER, SPC_MODE_SPLIT + 1);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
