/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sc_throughput.c: the scenarios `read-scaling` and `mixed`.
 *
 * read-scaling: the cache is filled with every key of a 2^18-key space
 *   (--keys; 16-byte keys, 64-byte values, well inside the budget: 256 MiB
 *   or 256 B per key, whichever is more), then for each
 *   thread count T, T threads each walk their own precomputed array of
 *   2^20 scrambled-Zipf(0.99) keys (different seed per thread) doing
 *   copy-out gets. Nothing random happens in the timed loop.
 * mixed: RocksDB cache_bench's default operation mix over a key space of
 *   2^20 keys (--keys) with a budget of 0.25 x keys x (key + value) bytes (its
 *   "resident ratio"): 87 % lookup then insert on miss, 2 % insert, 10 %
 *   lookup, 1 % erase. Keys are scrambled Zipf(0.99) (cache_bench skews
 *   its keys too); operations and keys are precomputed per thread.
 *
 * After the fill the driver settles (bench_settle: splitcache until its
 * statistics show no index resize and no reclamation left, at most 60 s;
 * the other systems a fixed 0.5 s) so that background work the fill
 * started is over: the points measure the steady state. Every row of the
 * system records settle_s and settled.
 *
 * Timing: all threads start on a barrier; the driver sleeps for the
 * duration and raises a stop flag that workers read (relaxed) every 64
 * operations. Every 64th operation is timed with CLOCK_MONOTONIC into the
 * thread's histogram (about 20 ns of timer cost over 64 operations).
 * ops/s = sum over threads of ops / the thread's own elapsed time.
 *
 * CPU: cpu_ns_per_op is the process's CPU time while the workers ran
 * (every thread: workers, the system's maintainers and reclamation,
 * kernel time included) over the operations done; in `mixed`,
 * bg_cpu_ns_per_insert is the part no worker spent (the system's
 * background threads) over the inserts (sets after a miss and plain
 * sets): what an insert costs after its caller has returned.
 *
 * Each system runs on a driver thread of its own, so no thread of the
 * process ever uses two systems (liburcu registration stays simple).
 */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TP_KEYS_LOG 20 /* per-thread key array: 2^20 entries */
#define POOL_VIEW 1

enum { OP_GET = 0, OP_GET_INSERT, OP_INSERT, OP_ERASE };

struct tp_shared {
	const struct bench_sys *sys;
	void *h;
	atomic_int stop;
	pthread_barrier_t start;
	int pin, mixed;
	size_t vlen;
};

struct tp_worker {
	struct tp_shared *sh;
	int index;
	unsigned char (*keys)[BENCH_KEY_LEN];
	unsigned char *ops;
	uint64_t n_ops, hits, gets, sets;
	uint64_t elapsed_ns, cpu_ns;
	struct bench_hist hist;
};

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void *tp_worker_main(void *arg)
{
	struct tp_worker *w = arg;
	struct tp_shared *sh = w->sh;
	const struct bench_sys *sys = sh->sys;
	unsigned char val[256] = {0}, buf[256];
	const size_t mask = ((size_t)1 << TP_KEYS_LOG) - 1;
	if (sh->pin)
		bench_pin_self(w->index);
	sys->thread_enter(sh->h);
	bench_hist_init(&w->hist);
	pthread_barrier_wait(&sh->start);
	uint64_t t0 = bench_now_ns(), c0 = bench_thread_cpu_ns(), n = 0, hits = 0, gets = 0,
	         sets = 0;
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		for (int j = 0; j < 64; j++, n++) {
			const unsigned char *k = w->keys[n & mask];
			int timed = j == 0;
			uint64_t ts = timed ? bench_now_ns() : 0;
			if (!sh->mixed) {
				hits += (uint64_t)sys->get(sh->h, POOL_VIEW, k, BENCH_KEY_LEN, buf, sizeof(buf));
				gets++;
			} else {
				switch (w->ops[n & mask]) {
				case OP_GET_INSERT:
					gets++;
					if (sys->get(sh->h, POOL_VIEW, k, BENCH_KEY_LEN, buf, sizeof(buf))) {
						hits++;
					} else {
						sys->set(sh->h, POOL_VIEW, k, BENCH_KEY_LEN, val, sh->vlen);
						sets++;
					}
					break;
				case OP_INSERT:
					sys->set(sh->h, POOL_VIEW, k, BENCH_KEY_LEN, val, sh->vlen);
					sets++;
					break;
				case OP_ERASE:
					sys->del(sh->h, POOL_VIEW, k, BENCH_KEY_LEN);
					break;
				default:
					gets++;
					hits += (uint64_t)sys->get(sh->h, POOL_VIEW, k, BENCH_KEY_LEN, buf,
					                           sizeof(buf));
				}
			}
			if (timed)
				bench_hist_add(&w->hist, bench_now_ns() - ts);
		}
	}
	w->elapsed_ns = bench_now_ns() - t0;
	w->cpu_ns = bench_thread_cpu_ns() - c0;
	w->n_ops = n;
	w->sets = sets;
	w->hits = hits;
	w->gets = gets;
	sys->thread_exit(sh->h);
	return NULL;
}

struct tp_run {
	const struct bench_opts *o;
	struct bench_report *r;
	const struct bench_sys *sys;
	int mixed;
	uint64_t n_keys;
	size_t vlen;
	uint64_t budget;
	int rc;
};

static int make_worker_arrays(struct tp_worker *w, const struct tp_run *run, int t)
{
	size_t n = (size_t)1 << TP_KEYS_LOG;
	uint64_t *ids = malloc(n * sizeof(*ids));
	w->keys = malloc(n * BENCH_KEY_LEN);
	w->ops = run->mixed ? malloc(n) : NULL;
	if (!ids || !w->keys || (run->mixed && !w->ops)) {
		free(ids);
		return -1;
	}
	uint64_t seed = run->o->seed * 1000003ULL + (uint64_t)t;
	bench_fill_ids(ids, n, BENCH_DIST_ZIPF, run->n_keys, 0, seed);
	for (size_t i = 0; i < n; i++)
		bench_key_of(ids[i], w->keys[i]);
	free(ids);
	if (run->mixed) {
		/* cache_bench's default mix: 87 / 2 / 10 / 1 per cent */
		struct bench_rng rng;
		bench_rng_seed(&rng, seed ^ 0xabcdefULL);
		for (size_t i = 0; i < n; i++) {
			uint64_t x = bench_rng_below(&rng, 100);
			w->ops[i] = x < 87 ? OP_GET_INSERT : x < 89 ? OP_INSERT : x < 99 ? OP_GET : OP_ERASE;
		}
	}
	return 0;
}

static void *tp_driver(void *arg)
{
	struct tp_run *run = arg;
	const struct bench_opts *o = run->o;
	struct bench_sys_params p = {.budget_bytes = run->budget,
	                             .view_share = 0.5,
	                             .value_len_hint = run->vlen,
	                             .split = 0,
	                             .index_max_load = o->index_max_load,
	                             .entries_hint = run->mixed ? 0 : run->n_keys};
	void *h = NULL;
	run->rc = -1;
	if (run->sys->open(&p, &h) != 0) {
		fprintf(stderr, "%s: open failed\n", run->sys->name);
		return NULL;
	}
	run->sys->thread_enter(h);
	unsigned char key[BENCH_KEY_LEN], val[256];
	memset(val, 0x5a, sizeof(val));
	/* read-scaling: every key; mixed: the resident quarter, as cache_bench
	 * fills before it measures */
	uint64_t fill = run->mixed ? run->n_keys / 4 : run->n_keys;
	for (uint64_t i = 0; i < fill; i++) {
		bench_key_of(i, key);
		run->sys->set(h, POOL_VIEW, key, BENCH_KEY_LEN, val, run->vlen);
	}
	run->sys->thread_exit(h);
	/* settle: background work the fill started (hash-table resize,
	 * maintenance) finishes before the first measured point */
	struct bench_row settle;
	bench_settle(run->sys, h, &settle);
	for (int ti = 0; ti < o->n_threads; ti++) {
		int nt = o->threads[ti];
		struct tp_shared sh = {.sys = run->sys, .h = h, .pin = o->pin, .mixed = run->mixed,
		                       .vlen = run->vlen};
		atomic_init(&sh.stop, 0);
		struct tp_worker *ws = calloc((size_t)nt, sizeof(*ws));
		int ok = ws != NULL;
		for (int t = 0; ok && t < nt; t++) {
			ws[t].sh = &sh;
			ws[t].index = t;
			ok = make_worker_arrays(&ws[t], run, t) == 0;
		}
		if (!ok) {
			fprintf(stderr, "%s: out of memory for key arrays\n", run->sys->name);
			break;
		}
		bench_progress(o, "%s: %s, %d thread(s), %.1f s", run->r->scenario, run->sys->name,
		               nt, o->duration_s);
		pthread_barrier_init(&sh.start, NULL, (unsigned)nt + 1);
		pthread_t tids[BENCH_MAX_THREADS];
		int started = 0;
		for (int t = 0; t < nt; t++)
			if (pthread_create(&tids[t], NULL, tp_worker_main, &ws[t]) == 0)
				started++;
		if (started != nt) {
			fprintf(stderr, "%s: pthread_create failed\n", run->sys->name);
			abort(); /* the barrier would never open */
		}
		pthread_barrier_wait(&sh.start);
		uint64_t cpu0 = bench_process_cpu_ns(), own0 = bench_thread_cpu_ns();
		sleep_s(o->duration_s);
		atomic_store_explicit(&sh.stop, 1, memory_order_relaxed);
		for (int t = 0; t < nt; t++)
			pthread_join(tids[t], NULL);
		/* everything the process spent while the workers ran, and the
		 * part that was not the workers' (nor this thread's): the
		 * system's background threads (maintainers, reclamation) */
		uint64_t cpu = bench_process_cpu_ns() - cpu0, own = bench_thread_cpu_ns() - own0;
		pthread_barrier_destroy(&sh.start);

		struct bench_row *row = bench_report_add(run->r, run->sys->name);
		struct bench_hist *all = malloc(sizeof(*all));
		if (!row || !all) {
			free(all);
			break;
		}
		bench_hist_init(all);
		double ops = 0;
		uint64_t hits = 0, gets = 0, sets = 0, n_ops = 0, wcpu = 0;
		for (int t = 0; t < nt; t++) {
			ops += (double)ws[t].n_ops * 1e9 / (double)(ws[t].elapsed_ns ? ws[t].elapsed_ns : 1);
			hits += ws[t].hits;
			gets += ws[t].gets;
			sets += ws[t].sets;
			n_ops += ws[t].n_ops;
			wcpu += ws[t].cpu_ns;
			bench_hist_merge(all, &ws[t].hist);
			free(ws[t].keys);
			free(ws[t].ops);
		}
		free(ws);
		row->threads = nt;
		row->settle_s = settle.settle_s;
		row->settled = settle.settled;
		row->ops_per_sec = BENCH_NUM(ops);
		row->p50_ns = BENCH_NUM(bench_hist_quantile(all, 0.50));
		row->p99_ns = BENCH_NUM(bench_hist_quantile(all, 0.99));
		row->p999_ns = BENCH_NUM(bench_hist_quantile(all, 0.999));
		row->max_ns = BENCH_NUM(all->max);
		row->hit_ratio = BENCH_NUM(gets ? (double)hits / (double)gets : 0);
		if (n_ops)
			row->cpu_ns_per_op = BENCH_NUM((double)cpu / (double)n_ops);
		if (sets) {
			uint64_t bg = cpu > wcpu + own ? cpu - wcpu - own : 0;
			row->bg_cpu_ns_per_insert = BENCH_NUM((double)bg / (double)sets);
		}
		row->budget_bytes = BENCH_NUM(run->budget);
		row->rss_bytes = BENCH_NUM(bench_rss_bytes());
		if (strcmp(run->sys->name, "splitcache-clock") == 0)
			snprintf(row->policy, sizeof(row->policy), "clock");
		else if (strcmp(run->sys->name, "splitcache-s3fifo") == 0)
			snprintf(row->policy, sizeof(row->policy), "s3fifo");
		else if (strcmp(run->sys->name, "splitcache") == 0 ||
		         strcmp(run->sys->name, "splitcache-nocas") == 0)
			snprintf(row->policy, sizeof(row->policy), "%s", bench_splitcache_policy_name(0));
		row->lat = all;
	}
	run->sys->close(h);
	malloc_trim(0); /* give freed memory back: the next system's RSS starts clean */
	run->rc = 0;
	return NULL;
}

static int run_throughput(const struct bench_opts *o, struct bench_report *r, int mixed)
{
	struct tp_run run = {.o = o, .r = r, .mixed = mixed};
	char num[64];
	if (mixed) {
		run.n_keys = o->keys ? o->keys : (uint64_t)1 << 20;
		run.vlen = 100;
		run.budget = o->budget_bytes ? o->budget_bytes
		                             : run.n_keys / 4 * (BENCH_KEY_LEN + run.vlen);
	} else {
		run.n_keys = o->keys ? o->keys : (uint64_t)1 << 18;
		run.vlen = 64;
		run.budget = o->budget_bytes ? o->budget_bytes : (uint64_t)256 << 20;
		if (!o->budget_bytes && run.n_keys * 256 > run.budget)
			run.budget = run.n_keys * 256;
	}
	bench_report_timed_params(r, o);
	bench_report_param(r, "budget_bytes", (snprintf(num, sizeof(num), "%llu",
	                                                (unsigned long long)run.budget), num));
	bench_report_param(r, "keys", (snprintf(num, sizeof(num), "%llu",
	                                        (unsigned long long)run.n_keys), num));
	bench_report_param(r, "key_bytes", "16");
	bench_report_param(r, "value_bytes", (snprintf(num, sizeof(num), "%zu", run.vlen), num));
	bench_report_param(r, "distribution", "\"scrambled-zipf-0.99\"");
	bench_report_param(r, "seed", (snprintf(num, sizeof(num), "%llu",
	                                        (unsigned long long)o->seed), num));
	bench_report_param(r, "latency_sampling", "\"every 64th op, CLOCK_MONOTONIC\"");
	bench_report_param(r, "pinned", o->pin ? "true" : "false");
	if (mixed)
		bench_report_param(r, "mix", "\"87% lookup+insert-on-miss, 2% insert, 10% lookup, "
		                             "1% erase; resident ratio 0.25\"");
	printf("%s: %llu keys of 16 B, values %zu B, budget %llu B (%.1f MiB), scrambled "
	       "Zipf(0.99), seed %llu, %g s per point, threads",
	       r->scenario, (unsigned long long)run.n_keys, run.vlen, (unsigned long long)run.budget,
	       (double)run.budget / 1048576.0, (unsigned long long)o->seed, o->duration_s);
	for (int i = 0; i < o->n_threads; i++)
		printf(" %d", o->threads[i]);
	printf("%s\n", o->pin ? ", pinned" : "");
	if (mixed)
		printf("mix: 87%% lookup then insert on miss, 2%% insert, 10%% lookup, 1%% erase; "
		       "resident ratio 0.25\n");
	for (int s = 0; s < o->n_systems; s++) {
		run.sys = o->systems[s];
		bench_run_threads(1, tp_driver, &run, 0);
	}
	bench_progress(o, "\n");
	return 0;
}

int bench_scenario_read_scaling(const struct bench_opts *o, struct bench_report *r)
{
	return run_throughput(o, r, 0);
}

int bench_scenario_mixed(const struct bench_opts *o, struct bench_report *r)
{
	return run_throughput(o, r, 1);
}
