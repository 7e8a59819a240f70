/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sys_splitcache.c: splitcache itself, through its public header only.
 *
 * Four systems: `splitcache` (the cache's default policy, ghost-steered
 * S3-FIFO), `splitcache-clock` and `splitcache-s3fifo` (the default before
 * it, kept beside it so speed figures compare the two in one run), and
 * `splitcache-nocas` (the default policy, entries without cas: cfg.no_cas,
 * memcached's -C; 8 bytes less per entry). The
 * cache is opened in split mode with the budget and view share the
 * scenario chose; environment variables are ignored (use_env = 0) so a
 * run is reproducible. Reads use spc_get: one library
 * call that enters a read section, looks up, copies the value out and
 * leaves, which is the work of the peers' copy-out lookups (lfht-bare's
 * get does the same in one function). The zero-copy path (spc_read_lock,
 * spc_get_rcu, copy, spc_read_unlock) does the same work in three calls
 * and was measured about 10 % slower per get (docs/benchmarks.md,
 * read-scaling); it is for callers that use the value in place.
 *
 * Settling (sc_settle). After a load the maintainers may still be at
 * work: a resize of a pool's index holds both tables (both charged) until
 * the last bucket has moved and a grace period has passed, and replaced
 * or evicted entries wait in the reclamation backlog. The public
 * statistics tell when that is over. docs/concurrency.md ("Layout") gives
 * a table's bytes: one 64-byte header line and a power of two (at least
 * 2) of 64-byte buckets, 64 x (1 + 2^k). While a resize runs, or a
 * retired table waits for its grace period, a pool holds two tables,
 * 64 x (2 + 2^a + 2^b), and 1 + 2^a + 2^b (a, b >= 1) is odd and above
 * 1, never a power of two: so index_bytes = 64 x (1 + 2^k) says "one
 * table" exactly (0, no table at all, is not a settled index). The cache is settled when every pool holds one table and no
 * backlog, and these gauges, the items and the charge have not moved,
 * and the process spent under a tenth of a CPU, for SC_SETTLE_QUIET
 * consecutive polls: a maintainer still admitting the last writes of the
 * load, or about to begin a resize the load made due, shows in one of
 * them. What the statistics do not say: whether the maintainer has a
 * resize due that it has not begun (the quiet polls stand in for it).
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "splitcache.h"

static int sc_available(char *why, size_t cap)
{
	return 1;
}

static const struct {
	const char *name;
	enum spc_policy policy;
} sc_policies[] = {
	{"s3fifo", SPC_POLICY_S3FIFO},
	{"clock", SPC_POLICY_CLOCK},
	{"steered", SPC_POLICY_STEERED},
};

int bench_splitcache_policy(const char *name, int *policy)
{
	if (strcmp(name, "default") == 0) {
		*policy = 0;
		return 0;
	}
	for (size_t i = 0; i < sizeof(sc_policies) / sizeof(sc_policies[0]); i++)
		if (strcmp(name, sc_policies[i].name) == 0) {
			*policy = (int)sc_policies[i].policy + 1;
			return 0;
		}
	return -1;
}

const char *bench_splitcache_policy_name(int policy)
{
	struct spc_config cfg;
	enum spc_policy pol;

	spc_config_init(&cfg);
	pol = policy > 0 ? (enum spc_policy)(policy - 1) : cfg.policy;
	for (size_t i = 0; i < sizeof(sc_policies) / sizeof(sc_policies[0]); i++)
		if (sc_policies[i].policy == pol)
			return sc_policies[i].name;
	return "unknown";
}

/* pol: enum spc_policy + 1, or 0 for the cache's default; no_cas: entries
 * without cas. */
static int open_with_policy(const struct bench_sys_params *p, void **out, int pol, int no_cas)
{
	struct spc_config cfg;
	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.no_cas = no_cas;
	cfg.budget_bytes = p->budget_bytes;
	if (p->budget_bytes > cfg.max_budget_bytes)
		cfg.max_budget_bytes = p->budget_bytes;
	cfg.mode = p->split ? SPC_MODE_SPLIT : SPC_MODE_VIEW;
	cfg.view_share = p->view_share > 0 ? p->view_share : 0.5;
	if (pol > 0)
		cfg.policy = (enum spc_policy)(pol - 1);
	cfg.synchronous_maintenance = p->synchronous;
	if (p->index_max_load > 0)
		cfg.index_max_load = p->index_max_load;
	if (p->max_entries) {
		/* replay: the index pool is the cache, bounded in entries */
		cfg.mode = SPC_MODE_INDEXER;
		cfg.max_entries[SPC_POOL_INDEX] = p->max_entries;
	}
	struct spc_cache *c = NULL;
	int rc = spc_open(&cfg, &c);
	if (rc != SPC_OK) {
		fprintf(stderr, "splitcache: spc_open: %s\n", spc_strerror(rc));
		return -1;
	}
	*out = c;
	return 0;
}

static int open_default(const struct bench_sys_params *p, void **out)
{
	return open_with_policy(p, out, p->policy, 0);
}

static int open_nocas(const struct bench_sys_params *p, void **out)
{
	return open_with_policy(p, out, p->policy, 1);
}

static int open_clock(const struct bench_sys_params *p, void **out)
{
	return open_with_policy(p, out, SPC_POLICY_CLOCK + 1, 0);
}

static int open_s3fifo(const struct bench_sys_params *p, void **out)
{
	return open_with_policy(p, out, SPC_POLICY_S3FIFO + 1, 0);
}

static void sc_close(void *h)
{
	spc_close(h);
}

/* sc_get's rare case: the value is larger than cap (spc_get copied
 * nothing, SPC_ERANGE): its prefix, through the zero-copy path. */
static __attribute__((noinline)) int sc_get_prefix(void *h, int pool, const void *key, size_t klen,
                                                   void *buf, size_t cap)
{
	struct spc_value v;
	int rc;

	spc_read_lock(h);
	rc = spc_get_rcu(h, (enum spc_pool_id)pool, key, klen, &v);
	if (rc == SPC_OK)
		memcpy(buf, v.data, v.len < cap ? v.len : cap);
	spc_read_unlock(h);
	return rc == SPC_OK;
}

/* Copies min(vlen, cap) bytes of a hit, like the peers. spc_get copies
 * nothing when the value is larger than cap (SPC_ERANGE): then, rarely,
 * sc_get_prefix copies the prefix. The arguments that case needs are
 * kept in memory across the call (one store each) rather than in
 * callee-saved registers (a push and a pop each, on every get): the
 * wrapper costs what a caller's own call of spc_get costs. */
static int sc_get(void *h, int pool, const void *key, size_t klen, void *buf, size_t cap)
{
	struct {
		void *h, *buf;
		const void *key;
		size_t klen, cap, vlen;
		int pool;
	} a = {h, buf, key, klen, buf ? cap : 0, 0, pool};
	int rc;

	/* the compiler keeps a in memory: its address escapes here */
	__asm__ volatile("" : : "r"(&a) : "memory");
	rc = spc_get(h, (enum spc_pool_id)pool, key, klen, buf, a.cap, &a.vlen);
	if (__builtin_expect(rc == SPC_ERANGE, 0) && a.cap > 0)
		return sc_get_prefix(a.h, a.pool, a.key, a.klen, a.buf, a.cap);
	return rc == SPC_OK || rc == SPC_ERANGE;
}

static int sc_set(void *h, int pool, const void *key, size_t klen, const void *val,
                  size_t vlen)
{
	return spc_set(h, (enum spc_pool_id)pool, key, klen, val, vlen) == SPC_OK ? 0 : -1;
}

static int sc_del(void *h, int pool, const void *key, size_t klen)
{
	return spc_delete(h, (enum spc_pool_id)pool, key, klen) == SPC_OK;
}

static int sc_stats(void *h, int pool, struct bench_sys_stats *out)
{
	struct spc_stats st;
	memset(out, 0, sizeof(*out));
	if (spc_stats(h, pool, &st) != SPC_OK)
		return -1;
	out->has_evictions = out->has_charged = 1;
	out->evictions = st.evictions;
	out->charged_bytes = st.charged_bytes;
	out->target_bytes = st.target_bytes;
	out->items = st.items;
	return 0;
}

/* Polls of sc_settle, 10 ms apart, that must see the cache quiet in a row. */
#define SC_SETTLE_POLL_NS 10000000L
#define SC_SETTLE_QUIET 10

int bench_splitcache_one_table(uint64_t bytes)
{
	uint64_t b;

	if (bytes == 0 || bytes % 64 != 0)
		return 0;
	b = bytes / 64 - 1;
	return b >= 2 && (b & (b - 1)) == 0;
}

/* What a poll compares with the previous one; 0 when some pool is still
 * resizing or reclaiming. */
static int sc_snapshot(void *h, uint64_t snap[SPC_POOL_COUNT][3])
{
	int quiet = 1;

	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		struct spc_stats st;

		if (spc_stats(h, p, &st) != SPC_OK)
			return 0;
		quiet &= st.reclaim_backlog_bytes == 0 && bench_splitcache_one_table(st.index_bytes);
		snap[p][0] = st.index_bytes;
		snap[p][1] = st.items;
		snap[p][2] = st.charged_bytes;
	}
	return quiet;
}

static int sc_settle(void *h, double max_s)
{
	uint64_t prev[SPC_POOL_COUNT][3] = {{0}}, cur[SPC_POOL_COUNT][3] = {{0}};
	uint64_t t0 = bench_now_ns(), t = t0, cpu = bench_process_cpu_ns();
	int run = 0;

	sc_snapshot(h, prev);
	while ((double)(t - t0) < max_s * 1e9) {
		nanosleep(&(struct timespec){0, SC_SETTLE_POLL_NS}, NULL);
		uint64_t t1 = bench_now_ns(), cpu1 = bench_process_cpu_ns();
		/* a tenth of the wall time that passed (on a loaded machine a
		 * poll may sleep longer than asked) */
		int quiet = sc_snapshot(h, cur) && memcmp(cur, prev, sizeof(cur)) == 0 &&
		            (cpu1 - cpu) * 10 < t1 - t;

		run = quiet ? run + 1 : 0;
		if (run >= SC_SETTLE_QUIET)
			return 1;
		memcpy(prev, cur, sizeof(prev));
		cpu = cpu1;
		t = t1;
	}
	return 0;
}

static void sc_thread(void *h)
{
	/* the library registers its callers with RCU lazily */
}

/* The systems differ in name, description and configuration only. */
#define SC_SYSTEM(NAME, WHAT, OPEN)                                                        \
	{                                                                                  \
		.name = NAME, .what = WHAT, .available = sc_available, .open = OPEN,      \
		.close = sc_close, .thread_enter = sc_thread, .thread_exit = sc_thread,   \
		.get = sc_get, .set = sc_set, .del = sc_del, .stats = sc_stats,           \
		.settle = sc_settle,                                                       \
	}

const struct bench_sys bench_sys_splitcache = SC_SYSTEM("splitcache",
	"this project, default policy (ghost-steered S3-FIFO)",
	open_default);

const struct bench_sys bench_sys_splitcache_clock = SC_SYSTEM("splitcache-clock",
	"this project, policy CLOCK",
	open_clock);

const struct bench_sys bench_sys_splitcache_s3fifo = SC_SYSTEM("splitcache-s3fifo",
	"this project, policy S3-FIFO (the default before steered)",
	open_s3fifo);

const struct bench_sys bench_sys_splitcache_nocas = SC_SYSTEM("splitcache-nocas",
	"this project, default policy, entries without cas (no_cas, memcached -C)",
	open_nocas);
