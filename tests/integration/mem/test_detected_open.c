/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/integration/mem/test_detected_open.c: a cache opened on a budget
 * it *detected* (a fake /proc and /sys under cfg.root), its decisions as
 * they reach the log callback, and that cache filled to its limit.
 *
 *  - the log: one info line per source read ("Detected <source>: ..."),
 *    the budget with its rule, each step of the reservation ladder, the
 *    prefault, the split; warnings (a malformed file, a step down the
 *    ladder, a budget below the recommended minimum) at SPC_LOG_WARN;
 *  - the fill: writes of 4 KiB values up to three times the pool's target
 *    never take its charge past the target (sampled after every write),
 *    end in evictions, and are refused only with SPC_EFULL or SPC_EBUSY
 *    (threaded maintenance; never in synchronous mode).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "check_run.h"
#include "splitcache.h"
#include "unit/pools/fake_tree.h"

#define MAX_LINES 128

struct log {
	unsigned n;
	enum spc_log_level level[MAX_LINES];
	char line[MAX_LINES][512];
};

static void capture(void *arg, enum spc_log_level level, const char *message)
{
	struct log *l = arg;

	if (l->n < MAX_LINES) {
		l->level[l->n] = level;
		snprintf(l->line[l->n], sizeof l->line[0], "%s", message);
		l->n++;
	}
}

/* The index of the first line at level that starts with prefix and
 * contains part (NULL: anything), or -1. */
static int find(const struct log *l, enum spc_log_level level, const char *prefix,
                const char *part)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->level[i] == level && strncmp(l->line[i], prefix, strlen(prefix)) == 0 &&
		    (!part || strstr(l->line[i], part)))
			return (int)i;
	return -1;
}

/* Lines at level, but the pools' "bounded by its charge only" warnings:
 * sanitizer builds route pool allocations through malloc, without a hard
 * cap, and say so (pools/arena.h); that is not what these tests look at. */
static unsigned count(const struct log *l, enum spc_log_level level)
{
	unsigned n = 0;

	for (unsigned i = 0; i < l->n; i++)
		n += l->level[i] == level && !strstr(l->line[i], "bounded by its charge only");
	return n;
}

static void dump(const struct log *l)
{
	for (unsigned i = 0; i < l->n; i++)
		fprintf(stderr, "  [%d] %s\n", (int)l->level[i], l->line[i]);
}

/* A container of limit_bytes (cgroup v2, path /svc), 16 GiB of RAM. */
static void make_tree(struct fake_tree *t, unsigned long long limit_bytes, const char *high)
{
	char v[32];

	ft_init(t);
	ft_write(t, "proc/self/cgroup", "0::/svc\n");
	snprintf(v, sizeof v, "%llu\n", limit_bytes);
	ft_write(t, "sys/fs/cgroup/svc/memory.max", v);
	ft_write(t, "sys/fs/cgroup/svc/memory.high", high);
	ft_write(t, "sys/fs/cgroup/memory.max", "max\n");
	ft_write(t, "proc/sys/vm/overcommit_memory", "0\n");
	ft_meminfo(t, 16 * FT_GIB, 8 * FT_GIB);
}

/* The rlimits of this process limit nothing here (else the fake tree
 * would not decide alone). */
static void require_open_rlimits(void)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_AS, &rl), 0);
	ck_assert(rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (4ull << 30));
	ck_assert_int_eq(getrlimit(RLIMIT_DATA, &rl), 0);
	ck_assert(rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= (4ull << 30));
}

static struct spc_cache *open_detected(const struct fake_tree *t, struct log *l, int prefault,
                                       int sync, spc_fault_fn *fault)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.root = t->root;
	cfg.prefault = prefault;
	cfg.synchronous_maintenance = sync;
	cfg.log = capture;
	cfg.log_arg = l;
	cfg.fault = fault;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	return c;
}

/* 128 MiB container: budget 0.6 x 134217728 = 80530636, page-rounded
 * 80527360; every source logged, then the budget, the reservation, the
 * split, in that order; no warning. */
START_TEST(decisions_logged_in_order)
{
	struct fake_tree t;
	struct log *l = calloc(1, sizeof *l);
	struct spc_cache *c;
	char want[512];
	int src, budget, reserved, split;

	ck_assert_ptr_nonnull(l);
	require_open_rlimits();
	make_tree(&t, 134217728ull, "max\n");
	c = open_detected(&t, l, 0, 1, NULL);
	ck_assert_uint_eq(spc_actual_memory_limit(c), 80527360ull);
	snprintf(want, sizeof want,
	         "Detected cgroup2.memory.max: 134217728 bytes (%s/sys/fs/cgroup/svc/memory.max), "
	         "candidate 80530636 bytes", t.root);
	src = find(l, SPC_LOG_INFO, want, NULL);
	if (src < 0 || getenv("SPC_TEST_DUMP_LOG"))
		dump(l);
	ck_assert_int_ge(src, 0);
	ck_assert_int_ge(find(l, SPC_LOG_INFO, "Detected meminfo.MemAvailable: 8589934592 bytes (",
	                      "candidate 4294967296 bytes"), 0);
	ck_assert_int_ge(find(l, SPC_LOG_INFO, "Detected meminfo.MemTotal: 17179869184 bytes (",
	                      "limits nothing"), 0);
	ck_assert_int_ge(find(l, SPC_LOG_INFO, "Detected cgroup2.memory.high: no limit (", NULL), 0);
	ck_assert_int_ge(find(l, SPC_LOG_INFO, "Detected cgroup1.memory.limit_in_bytes: no limit (",
	                      "no memory controller"), 0);
	ck_assert_int_ge(find(l, SPC_LOG_INFO, "Detected commit.headroom: no limit (",
	                      "overcommit_memory=0"), 0);
	ck_assert_int_ge(find(l, SPC_LOG_INFO, "Detected rlimit.as: ", NULL), 0);
	ck_assert_int_ge(find(l, SPC_LOG_INFO, "Detected override: no limit (", "the rule decides"), 0);
	budget = find(l, SPC_LOG_INFO,
	              "Detected budget 80527360 bytes (76.80 MiB), decided by cgroup2.memory.max: "
	              "budget = min(cgroup2.memory.max=80530636, meminfo.MemAvailable=4294967296",
	              NULL);
	reserved = find(l, SPC_LOG_INFO, "Reserved 80527360 bytes of budget: ",
	                "prefault off: pages are committed on first use");
	split = find(l, SPC_LOG_INFO, "Split 80527360 bytes (mode split, view share 0.50): "
	                              "index pool ", "view pool ");
	ck_assert_int_gt(budget, src);
	ck_assert_int_gt(reserved, budget);
	ck_assert_int_gt(split, reserved);
	ck_assert_int_eq(find(l, SPC_LOG_INFO, "Reserving ", NULL), -1); /* no step down */
	ck_assert_uint_eq(count(l, SPC_LOG_WARN) + count(l, SPC_LOG_ERROR), 0);
	/* a run-time decision too */
	ck_assert_int_eq(spc_set_mode(c, SPC_MODE_VIEW, 0.5), SPC_OK);
	ck_assert_int_ge(find(l, SPC_LOG_INFO, "Mode set to view, view share 0.50", NULL), 0);
	spc_close(c);
	ft_remove(&t);
	free(l);
}
END_TEST

/* Prefault: each pool's share preallocated, logged per pool. */
START_TEST(prefault_logged)
{
	struct fake_tree t;
	struct log *l = calloc(1, sizeof *l);
	struct spc_cache *c;

	ck_assert_ptr_nonnull(l);
	require_open_rlimits();
	make_tree(&t, 120ull << 20, "max\n");
	c = open_detected(&t, l, 1, 1, NULL);
	ck_assert_int_ge(find(l, SPC_LOG_INFO, "Successfully preallocated ",
	                      "bytes for the index pool (committed and touched)"), 0);
	ck_assert_int_ge(find(l, SPC_LOG_INFO, "Successfully preallocated ",
	                      "bytes for the view pool (committed and touched)"), 0);
	ck_assert_int_gt(find(l, SPC_LOG_INFO, "Reserved ", NULL),
	                 find(l, SPC_LOG_INFO, "Successfully preallocated ", "view pool"));
	ck_assert_int_eq(find(l, SPC_LOG_INFO, "Reserved ", "prefault off"), -1);
	spc_close(c);
	ft_remove(&t);
	free(l);
}
END_TEST

static unsigned reserve_calls; /* the fault hook's count (one test at a time) */

static int fail_first_reserve(void *arg, enum spc_fault_site site, size_t bytes)
{
	(void)arg;
	(void)bytes;
	return site == SPC_FAULT_RESERVE && __atomic_fetch_add(&reserve_calls, 1, __ATOMIC_RELAXED) == 0;
}

/* Warnings at SPC_LOG_WARN: a malformed memory.high, the ladder's step
 * down (logged as the step happens, at info), the reservation below the
 * budget, the budget below the recommended minimum (last). */
START_TEST(warnings_at_warn_level)
{
	struct fake_tree t;
	struct log *l = calloc(1, sizeof *l);
	struct spc_cache *c;
	int step, reserved, last;

	ck_assert_ptr_nonnull(l);
	require_open_rlimits();
	make_tree(&t, 134217728ull, "lots\n");
	reserve_calls = 0;
	c = open_detected(&t, l, 0, 1, fail_first_reserve);
	ck_assert_uint_eq(spc_actual_memory_limit(c), 40263680ull);
	ck_assert_int_ge(find(l, SPC_LOG_WARN, "", "memory.high: not a number, skipped"), 0);
	step = find(l, SPC_LOG_INFO, "Reserving 80527360 bytes failed (reserve: refused by the "
	                             "fault hook): trying the next rung", NULL);
	reserved = find(l, SPC_LOG_INFO, "Reserved 40263680 bytes of budget: ", NULL);
	if (step < 0 || reserved < 0)
		dump(l);
	ck_assert_int_ge(step, 0);
	ck_assert_int_gt(reserved, step);
	ck_assert_int_gt(find(l, SPC_LOG_WARN, "reserved 40263680 of the 80527360 budget: using that",
	                      NULL), reserved);
	last = find(l, SPC_LOG_WARN, "budget 40263680 is below the recommended minimum", NULL);
	ck_assert_int_ge(last, 0);
	ck_assert_uint_eq(count(l, SPC_LOG_WARN), 3);
	ck_assert_uint_eq(count(l, SPC_LOG_ERROR), 0);
	for (unsigned i = (unsigned)last + 1; i < l->n; i++)
		ck_assert(l->level[i] != SPC_LOG_WARN || strstr(l->line[i], "bounded by its charge only"));
	spc_close(c);
	ft_remove(&t);
	free(l);
}
END_TEST

/* Fills the index pool of a cache on a detected budget to three times its
 * target with 4 KiB values: the charge never passes the target, the pool
 * evicts, writes fail only with SPC_EFULL or SPC_EBUSY (never in synchronous
 * mode). */
START_TEST(detected_budget_filled_to_its_limit)
{
	struct fake_tree t;
	struct log *l = calloc(1, sizeof *l);
	struct spc_cache *c;
	struct spc_stats st;
	struct spc_mem_report *rep = malloc(sizeof *rep);
	static char val[4096];
	uint64_t n, ok = 0, efull = 0, busy = 0, peak = 0;
	char k[32];
	int sync = _i;

	ck_assert_ptr_nonnull(l);
	ck_assert_ptr_nonnull(rep);
	require_open_rlimits();
	make_tree(&t, 134217728ull, "max\n");
	c = open_detected(&t, l, 0, sync, NULL);
	ck_assert_int_eq(spc_memory_report(c, rep), SPC_OK);
	ck_assert_str_eq(rep->tightest_source, "cgroup2.memory.max");
	ck_assert_int_eq(rep->explicit_budget, 0);
	ck_assert_uint_eq(rep->budget_bytes, 80527360ull);
	ck_assert_uint_le(rep->pools[0].target_bytes + rep->pools[1].target_bytes, rep->budget_bytes);
	memset(val, 'v', sizeof val);
	n = 3 * rep->pools[SPC_POOL_INDEX].target_bytes / sizeof val;
	for (uint64_t i = 0; i < n; i++) {
		int r;

		snprintf(k, sizeof k, "fill/%08llu", (unsigned long long)i);
		r = spc_set(c, SPC_POOL_INDEX, k, strlen(k), val, sizeof val);
		ck_assert_msg(r == SPC_OK || r == SPC_EFULL || r == SPC_EBUSY, "set %llu: %s", (unsigned long long)i,
		              spc_strerror(r));
		ok += r == SPC_OK;
		efull += r == SPC_EFULL;
		busy += r == SPC_EBUSY;
		ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
		ck_assert_uint_le(st.charged_bytes, st.target_bytes);
		if (st.charged_bytes > peak)
			peak = st.charged_bytes;
	}
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_gt(st.evictions, 0);
	ck_assert_uint_eq(st.efull, efull);
	ck_assert_uint_eq(st.busy_ring + st.busy_batches, busy);
	ck_assert_uint_gt(ok, n / 2);
	if (sync)
		ck_assert_uint_eq(efull + busy, 0);
	/* filled: the peak came within 20 % of the target */
	ck_assert_uint_ge(peak, st.target_bytes / 10 * 8);
	ck_assert_uint_le(st.items * sizeof val, st.target_bytes);
	ck_assert_int_eq(spc_memory_report(c, rep), SPC_OK);
	ck_assert_uint_le(rep->pools[0].charged_bytes + rep->pools[1].charged_bytes, rep->budget_bytes);
	printf("detected budget %llu: %llu writes, %llu ok, %llu EFULL, %llu evictions, peak %llu of "
	       "%llu (%s)\n",
	       (unsigned long long)rep->budget_bytes, (unsigned long long)n, (unsigned long long)ok,
	       (unsigned long long)efull, (unsigned long long)st.evictions, (unsigned long long)peak,
	       (unsigned long long)st.target_bytes, sync ? "synchronous" : "threaded");
	spc_close(c);
	ft_remove(&t);
	free(rep);
	free(l);
}
END_TEST

static Suite *detected_suite(void)
{
	Suite *s = suite_create("detected_open");
	TCase *tc = tcase_create("detected");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, decisions_logged_in_order);
	tcase_add_test(tc, prefault_logged);
	tcase_add_test(tc, warnings_at_warn_level);
	tcase_add_loop_test(tc, detected_budget_filled_to_its_limit, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(detected_suite());
}
