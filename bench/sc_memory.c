/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sc_memory.c: the `memory` scenario.
 *
 * (a) Overhead per entry: each system is opened with a budget large
 *     enough for N entries (default 2^20; --entries) of 32-byte keys and
 *     100-byte values (4 x their payload), the N entries are stored, and
 *     two figures are reported per system:
 *       bytes_per_entry_overhead      (charged bytes / items) - 132, from
 *                                     the system's own accounting
 *                                     (splitcache: spc_stats charged_bytes;
 *                                     RocksDB: GetUsage with its metadata
 *                                     charge; lfht-bare: none, null)
 *       rss_bytes_per_entry_overhead  (RSS after - RSS before) / items - 132
 *     both read once the system settled after the last store
 *     (bench_settle: splitcache until no index resize and no reclamation
 *     is left, at most 60 s; the others after a fixed 0.5 s); the row
 *     records settle_s and settled.
 *     rocksdb-hcc is skipped here: 7.8's HyperClockCache takes 16-byte keys
 *     only.
 * (b) Bound: each system gets the budget (default 64 MiB; --budget) and
 *     ten times that many bytes are written as fresh 16-byte keys with
 *     values of mixed sizes (16 B .. 4 KiB, log-uniform, precomputed);
 *     a monitor samples RSS every millisecond; the row reports the peak
 *     RSS above the RSS before opening (rss_bytes) against budget_bytes,
 *     and the largest charged-over-target overshoot.
 */
#include "bench.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MEM_KLEN 32
#define MEM_VLEN 100
#define POOL_VIEW 1

struct mem_run {
	const struct bench_opts *o;
	struct bench_report *r;
	const struct bench_sys *sys;
	uint64_t budget;
	atomic_int stop;
	void *h;
	uint64_t peak_rss, max_over;
	int have_over;
};

static void sleep_1ms(void)
{
	struct timespec ts = {0, 1000000L};
	nanosleep(&ts, NULL);
}

static void *mem_monitor(void *arg)
{
	struct mem_run *m = arg;
	while (!atomic_load(&m->stop)) {
		uint64_t rss = bench_rss_bytes();
		if (rss > m->peak_rss)
			m->peak_rss = rss;
		struct bench_sys_stats st;
		if (m->sys->stats(m->h, -1, &st) == 0 && st.has_charged) {
			m->have_over = 1;
			if (st.charged_bytes > st.target_bytes &&
			    st.charged_bytes - st.target_bytes > m->max_over)
				m->max_over = st.charged_bytes - st.target_bytes;
		}
		sleep_1ms();
	}
	return NULL;
}

static void *overhead_driver(void *arg)
{
	struct mem_run *m = arg;
	uint64_t n = m->o->entries ? m->o->entries : (uint64_t)1 << 20;
	struct bench_sys_params p = {.budget_bytes = n * (MEM_KLEN + MEM_VLEN) * 4,
	                             .view_share = 0.5,
	                             .value_len_hint = MEM_VLEN,
	                             .split = 0};
	uint64_t rss0 = bench_rss_bytes();
	void *h = NULL;
	if (m->sys->open(&p, &h) != 0) {
		fprintf(stderr, "memory: %s: open failed\n", m->sys->name);
		return NULL;
	}
	m->sys->thread_enter(h);
	unsigned char key[MEM_KLEN], val[MEM_VLEN];
	memset(val, 0x77, sizeof(val));
	memset(key, 0, sizeof(key));
	uint64_t stored = 0;
	for (uint64_t i = 0; i < n; i++) {
		bench_key_of(i, key);
		bench_key_of(~i, key + BENCH_KEY_LEN);
		stored += m->sys->set(h, POOL_VIEW, key, MEM_KLEN, val, MEM_VLEN) == 0;
	}
	m->sys->thread_exit(h);
	/* background work the load started (an index resize, whose two tables
	 * are both held until it ends, and reclamation) finishes before the
	 * figures are read */
	struct bench_row settle;
	bench_settle(m->sys, h, &settle);
	uint64_t rss1 = bench_rss_bytes();
	struct bench_sys_stats st;
	int have = m->sys->stats(h, POOL_VIEW, &st) == 0;
	struct bench_row *row = bench_report_add(m->r, m->sys->name);
	if (row) {
		uint64_t items = have && st.items ? st.items : stored;
		snprintf(row->phase, sizeof(row->phase), "a");
		row->threads = 1;
		row->size = BENCH_NUM(items);
		if (have && st.has_charged && items)
			row->bytes_per_entry_overhead =
				BENCH_NUM((double)st.charged_bytes / (double)items - (MEM_KLEN + MEM_VLEN));
		if (items)
			row->rss_bytes_per_entry_overhead = BENCH_NUM(
				(double)(rss1 > rss0 ? rss1 - rss0 : 0) / (double)items - (MEM_KLEN + MEM_VLEN));
		row->rss_bytes = BENCH_NUM(rss1 > rss0 ? rss1 - rss0 : 0);
		row->budget_bytes = BENCH_NUM(p.budget_bytes);
		row->settle_s = settle.settle_s;
		row->settled = settle.settled;
	}
	m->sys->close(h);
	malloc_trim(0); /* give freed memory back: the next system's RSS starts clean */
	return NULL;
}

static void *bound_driver(void *arg)
{
	struct mem_run *m = arg;
	/* value sizes: log-uniform 16 B .. 4 KiB, precomputed */
	enum { NSZ = 1 << 16 };
	uint16_t *sizes = malloc(NSZ * sizeof(*sizes));
	unsigned char *val = calloc(1, 4096);
	if (!sizes || !val) {
		free(sizes);
		free(val);
		return NULL;
	}
	struct bench_rng rng;
	bench_rng_seed(&rng, m->o->seed ^ 0x6d656dULL);
	for (int i = 0; i < NSZ; i++)
		sizes[i] = (uint16_t)exp(log(16.0) + bench_rng_double(&rng) * (log(4096.0) - log(16.0)));
	struct bench_sys_params p = {.budget_bytes = m->budget,
	                             .view_share = 0.5,
	                             .value_len_hint = 700,
	                             .split = 0};
	uint64_t rss0 = bench_rss_bytes();
	if (m->sys->open(&p, &m->h) != 0) {
		fprintf(stderr, "memory: %s: open failed\n", m->sys->name);
		free(sizes);
		free(val);
		return NULL;
	}
	m->peak_rss = rss0;
	atomic_init(&m->stop, 0);
	pthread_t mt;
	pthread_create(&mt, NULL, mem_monitor, m);
	m->sys->thread_enter(m->h);
	unsigned char key[BENCH_KEY_LEN];
	uint64_t written = 0, target = m->budget * 10, refused = 0;
	for (uint64_t i = 0; written < target; i++) {
		size_t vlen = sizes[i & (NSZ - 1)];
		bench_key_of(i + ((uint64_t)1 << 42), key);
		if (m->sys->set(m->h, POOL_VIEW, key, BENCH_KEY_LEN, val, vlen) != 0)
			refused++;
		written += BENCH_KEY_LEN + vlen;
	}
	m->sys->thread_exit(m->h);
	atomic_store(&m->stop, 1);
	pthread_join(mt, NULL);
	struct bench_row *row = bench_report_add(m->r, m->sys->name);
	if (row) {
		snprintf(row->phase, sizeof(row->phase), "b");
		row->threads = 1;
		row->rss_bytes = BENCH_NUM(m->peak_rss > rss0 ? m->peak_rss - rss0 : 0);
		row->budget_bytes = BENCH_NUM(m->budget);
		if (m->have_over)
			row->max_overshoot_bytes = BENCH_NUM(m->max_over);
	}
	if (refused)
		fprintf(stderr, "memory: %s refused %llu writes\n", m->sys->name,
		        (unsigned long long)refused);
	m->sys->close(m->h);
	malloc_trim(0); /* give freed memory back: the next system's RSS starts clean */
	free(sizes);
	free(val);
	return NULL;
}

int bench_scenario_memory(const struct bench_opts *o, struct bench_report *r)
{
	uint64_t n = o->entries ? o->entries : (uint64_t)1 << 20;
	uint64_t budget = o->budget_bytes ? o->budget_bytes : (uint64_t)64 << 20;
	char num[64];
	printf("memory: (a) %llu entries of %d-byte keys + %d-byte values, budget 4x payload; "
	       "(b) budget %llu B (%.1f MiB), 10x written as 16-byte keys + values of 16 B..4 KiB "
	       "(log-uniform, seed %llu)\n",
	       (unsigned long long)n, MEM_KLEN, MEM_VLEN, (unsigned long long)budget,
	       (double)budget / 1048576.0, (unsigned long long)o->seed);
	bench_report_param(r, "duration_s", "null"); /* not timed: runs to completion */
	bench_report_param(r, "entries", (snprintf(num, sizeof(num), "%llu", (unsigned long long)n), num));
	bench_report_param(r, "key_bytes_a", "32");
	bench_report_param(r, "value_bytes_a", "100");
	bench_report_param(r, "budget_bytes",
	                   (snprintf(num, sizeof(num), "%llu", (unsigned long long)budget), num));
	bench_report_param(r, "threads", "[1]");
	bench_report_param(r, "seed", (snprintf(num, sizeof(num), "%llu", (unsigned long long)o->seed), num));
	for (int s = 0; s < o->n_systems; s++) {
		struct mem_run m = {.o = o, .r = r, .sys = o->systems[s], .budget = budget};
		bench_progress(o, "memory: %s (a)", m.sys->name);
		if (strcmp(m.sys->name, "rocksdb-hcc") == 0)
			fprintf(stderr, "memory: rocksdb-hcc skipped in (a): 16-byte keys only\n");
		else
			bench_run_threads(1, overhead_driver, &m, 0);
		bench_progress(o, "memory: %s (b)", m.sys->name);
		bench_run_threads(1, bound_driver, &m, 0);
	}
	bench_progress(o, "\n");
	return 0;
}
