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
 * Each system is opened, filled and settled on a thread of its own and
 * closed on another; workers are fresh threads per measured slice; so no
 * thread of the process ever uses two systems (liburcu registration stays
 * simple). The per-thread key arrays are made once and shared by every
 * system.
 *
 * Rounds (--rounds N > 1): every system is opened first, then each round
 * measures every thread count on every system in turn, the order turning
 * by one system per round; a row reports the median of its N slices
 * (ops/s, CPU per operation and per insert), latency over all of them,
 * and each round's ops/s (ops_per_sec_rounds), from which the report
 * takes the median of per-round ratios. On a shared machine a slow spell
 * then hits every system's figures in turn instead of one system's whole
 * run. The price: every system's memory at once (so rows carry no RSS).
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
	int mixed;
	uint64_t n_keys;
	size_t vlen;
	uint64_t budget;
	/* per thread: its key array (and op array in mixed), made once and
	 * shared by every system and round */
	unsigned char (*keys[BENCH_MAX_THREADS])[BENCH_KEY_LEN];
	unsigned char *ops[BENCH_MAX_THREADS];
};

/* One system of the run: its handle from open to close, the settle that
 * followed its fill, and per thread count what its slices measured. */
struct tp_slot {
	const struct tp_run *run;
	const struct bench_sys *sys;
	void *h;
	int rc; /* 0: open, filled and settled */
	struct bench_row settle;
	struct tp_acc {
		double ops[BENCH_MAX_ROUNDS], cpu_op[BENCH_MAX_ROUNDS], bg_ins[BENCH_MAX_ROUNDS];
		int n;
		uint64_t hits, gets;
		struct bench_hist *all;
	} acc[BENCH_MAX_LIST];
};

static int make_worker_arrays(struct tp_run *run, int t)
{
	size_t n = (size_t)1 << TP_KEYS_LOG;
	uint64_t *ids = malloc(n * sizeof(*ids));
	run->keys[t] = malloc(n * BENCH_KEY_LEN);
	run->ops[t] = run->mixed ? malloc(n) : NULL;
	if (!ids || !run->keys[t] || (run->mixed && !run->ops[t])) {
		free(ids);
		return -1;
	}
	uint64_t seed = run->o->seed * 1000003ULL + (uint64_t)t;
	bench_fill_ids(ids, n, BENCH_DIST_ZIPF, run->n_keys, 0, seed);
	for (size_t i = 0; i < n; i++)
		bench_key_of(ids[i], run->keys[t][i]);
	free(ids);
	if (run->mixed) {
		/* cache_bench's default mix: 87 / 2 / 10 / 1 per cent */
		struct bench_rng rng;
		bench_rng_seed(&rng, seed ^ 0xabcdefULL);
		for (size_t i = 0; i < n; i++) {
			uint64_t x = bench_rng_below(&rng, 100);
			run->ops[t][i] =
			    x < 87 ? OP_GET_INSERT : x < 89 ? OP_INSERT : x < 99 ? OP_GET : OP_ERASE;
		}
	}
	return 0;
}

/* Thread body: opens the slot's system, fills it and settles. A thread
 * of its own, so no thread of the process ever uses two systems (liburcu
 * registration stays simple). */
static void *tp_open_main(void *arg)
{
	struct tp_slot *sl = arg;
	const struct tp_run *run = sl->run;
	struct bench_sys_params p = {.budget_bytes = run->budget,
	                             .view_share = 0.5,
	                             .value_len_hint = run->vlen,
	                             .split = 0,
	                             .index_max_load = run->o->index_max_load,
	                             .entries_hint = run->mixed ? 0 : run->n_keys};
	sl->rc = -1;
	if (sl->sys->open(&p, &sl->h) != 0) {
		fprintf(stderr, "%s: open failed\n", sl->sys->name);
		return NULL;
	}
	sl->sys->thread_enter(sl->h);
	unsigned char key[BENCH_KEY_LEN], val[256];
	memset(val, 0x5a, sizeof(val));
	/* read-scaling: every key; mixed: the resident quarter, as cache_bench
	 * fills before it measures */
	uint64_t fill = run->mixed ? run->n_keys / 4 : run->n_keys;
	for (uint64_t i = 0; i < fill; i++) {
		bench_key_of(i, key);
		sl->sys->set(sl->h, POOL_VIEW, key, BENCH_KEY_LEN, val, run->vlen);
	}
	sl->sys->thread_exit(sl->h);
	/* settle: background work the fill started (hash-table resize,
	 * maintenance) finishes before the first measured point */
	bench_settle(sl->sys, sl->h, &sl->settle);
	sl->rc = 0;
	return NULL;
}

/* Thread body: closes the slot's system (a fresh thread: close registers
 * with liburcu itself). */
static void *tp_close_main(void *arg)
{
	struct tp_slot *sl = arg;
	sl->sys->close(sl->h);
	malloc_trim(0); /* give freed memory back: the next system's RSS starts clean */
	return NULL;
}

/* Measures one slice: thread count ti of the run on the slot's system for
 * the run's duration, added to the slot's figures of that thread count.
 * Returns 0, or -1 (out of memory). */
static int tp_slice(struct tp_slot *sl, int ti)
{
	const struct tp_run *run = sl->run;
	const struct bench_opts *o = run->o;
	int nt = o->threads[ti];
	struct tp_acc *acc = &sl->acc[ti];
	struct tp_shared sh = {.sys = sl->sys, .h = sl->h, .pin = o->pin, .mixed = run->mixed,
	                       .vlen = run->vlen};
	atomic_init(&sh.stop, 0);
	struct tp_worker *ws = calloc((size_t)nt, sizeof(*ws));
	if (!acc->all)
		acc->all = malloc(sizeof(*acc->all));
	if (!ws || !acc->all) {
		free(ws);
		return -1;
	}
	if (acc->n == 0)
		bench_hist_init(acc->all);
	for (int t = 0; t < nt; t++) {
		ws[t].sh = &sh;
		ws[t].index = t;
		ws[t].keys = run->keys[t];
		ws[t].ops = run->ops[t];
	}
	bench_progress(o, "%s: %s, %d thread(s), %.1f s", run->r->scenario, sl->sys->name, nt,
	               o->duration_s);
	pthread_barrier_init(&sh.start, NULL, (unsigned)nt + 1);
	pthread_t tids[BENCH_MAX_THREADS];
	int started = 0;
	for (int t = 0; t < nt; t++)
		if (pthread_create(&tids[t], NULL, tp_worker_main, &ws[t]) == 0)
			started++;
	if (started != nt) {
		fprintf(stderr, "%s: pthread_create failed\n", sl->sys->name);
		abort(); /* the barrier would never open */
	}
	pthread_barrier_wait(&sh.start);
	uint64_t cpu0 = bench_process_cpu_ns(), own0 = bench_thread_cpu_ns();
	sleep_s(o->duration_s);
	atomic_store_explicit(&sh.stop, 1, memory_order_relaxed);
	for (int t = 0; t < nt; t++)
		pthread_join(tids[t], NULL);
	/* everything the process spent while the workers ran, and the part
	 * that was not the workers' (nor this thread's): the system's
	 * background threads (maintainers, reclamation) */
	uint64_t cpu = bench_process_cpu_ns() - cpu0, own = bench_thread_cpu_ns() - own0;
	pthread_barrier_destroy(&sh.start);

	double ops = 0;
	uint64_t sets = 0, n_ops = 0, wcpu = 0;
	for (int t = 0; t < nt; t++) {
		ops += (double)ws[t].n_ops * 1e9 / (double)(ws[t].elapsed_ns ? ws[t].elapsed_ns : 1);
		acc->hits += ws[t].hits;
		acc->gets += ws[t].gets;
		sets += ws[t].sets;
		n_ops += ws[t].n_ops;
		wcpu += ws[t].cpu_ns;
		bench_hist_merge(acc->all, &ws[t].hist);
	}
	free(ws);
	uint64_t bg = cpu > wcpu + own ? cpu - wcpu - own : 0;
	acc->ops[acc->n] = ops;
	acc->cpu_op[acc->n] = n_ops ? (double)cpu / (double)n_ops : -1;
	acc->bg_ins[acc->n] = sets ? (double)bg / (double)sets : -1;
	acc->n++;
	return 0;
}

/* The result row of one system at thread count ti: medians over its
 * slices, latency and hit ratio over all of them. */
static void tp_add_row(struct tp_slot *sl, int ti)
{
	struct tp_acc *acc = &sl->acc[ti];
	const struct tp_run *run = sl->run;
	if (acc->n == 0)
		return;
	struct bench_row *row = bench_report_add(run->r, sl->sys->name);
	if (!row)
		return;
	row->threads = run->o->threads[ti];
	row->settle_s = sl->settle.settle_s;
	row->settled = sl->settle.settled;
	row->ops_per_sec = bench_median(acc->ops, acc->n);
	if (acc->n > 1) {
		row->n_rounds = acc->n;
		memcpy(row->round_ops, acc->ops, sizeof(acc->ops[0]) * (size_t)acc->n);
	}
	row->p50_ns = BENCH_NUM(bench_hist_quantile(acc->all, 0.50));
	row->p99_ns = BENCH_NUM(bench_hist_quantile(acc->all, 0.99));
	row->p999_ns = BENCH_NUM(bench_hist_quantile(acc->all, 0.999));
	row->max_ns = BENCH_NUM(acc->all->max);
	row->hit_ratio = BENCH_NUM(acc->gets ? (double)acc->hits / (double)acc->gets : 0);
	row->cpu_ns_per_op = bench_median(acc->cpu_op, acc->n);
	row->bg_cpu_ns_per_insert = bench_median(acc->bg_ins, acc->n);
	row->budget_bytes = BENCH_NUM(run->budget);
	if (run->o->rounds <= 1) /* with rounds every system is open: not one system's RSS */
		row->rss_bytes = BENCH_NUM(bench_rss_bytes());
	if (strcmp(sl->sys->name, "splitcache-clock") == 0)
		snprintf(row->policy, sizeof(row->policy), "clock");
	else if (strcmp(sl->sys->name, "splitcache-s3fifo") == 0)
		snprintf(row->policy, sizeof(row->policy), "s3fifo");
	else if (strcmp(sl->sys->name, "splitcache") == 0 ||
	         strcmp(sl->sys->name, "splitcache-nocas") == 0)
		snprintf(row->policy, sizeof(row->policy), "%s", bench_splitcache_policy_name(0));
	row->lat = acc->all; /* the report owns it from here */
	acc->all = NULL;
}

/* One system at a time (--rounds 1): open, every thread count, close, so
 * only one system's memory is held at once. */
static void tp_one_by_one(struct tp_run *run, struct tp_slot *sl)
{
	const struct bench_opts *o = run->o;
	for (int s = 0; s < o->n_systems; s++) {
		bench_run_threads(1, tp_open_main, &sl[s], 0);
		if (sl[s].rc != 0)
			continue;
		for (int ti = 0; ti < o->n_threads; ti++)
			if (tp_slice(&sl[s], ti) != 0) {
				fprintf(stderr, "%s: out of memory\n", sl[s].sys->name);
				break;
			}
		for (int ti = 0; ti < o->n_threads; ti++)
			tp_add_row(&sl[s], ti);
		bench_run_threads(1, tp_close_main, &sl[s], 0);
	}
}

/* Every system open at once (--rounds N > 1): each round measures every
 * thread count on every system, the systems' order turning by one each
 * round, so a slow spell of the machine falls on each system in turn
 * rather than on one system's whole run. In mixed, each slice is followed
 * by a settle of its system, so its background work does not run into the
 * next system's slice. */
static void tp_interleaved(struct tp_run *run, struct tp_slot *sl)
{
	const struct bench_opts *o = run->o;
	int ns = o->n_systems;
	for (int s = 0; s < ns; s++)
		bench_run_threads(1, tp_open_main, &sl[s], 0);
	for (int rd = 0; rd < o->rounds; rd++)
		for (int ti = 0; ti < o->n_threads; ti++)
			for (int k = 0; k < ns; k++) {
				struct tp_slot *x = &sl[(k + rd) % ns];
				if (x->rc != 0)
					continue;
				if (tp_slice(x, ti) != 0) {
					fprintf(stderr, "%s: out of memory\n", x->sys->name);
					x->rc = -1;
					continue;
				}
				if (run->mixed) {
					struct bench_row ignored;
					bench_settle(x->sys, x->h, &ignored);
				}
			}
	for (int s = 0; s < ns; s++) {
		for (int ti = 0; ti < o->n_threads; ti++)
			tp_add_row(&sl[s], ti);
		if (sl[s].h)
			bench_run_threads(1, tp_close_main, &sl[s], 0);
	}
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
	bench_report_param(r, "rounds", (snprintf(num, sizeof(num), "%d",
	                                          o->rounds > 1 ? o->rounds : 1), num));
	if (mixed)
		bench_report_param(r, "mix", "\"87% lookup+insert-on-miss, 2% insert, 10% lookup, "
		                             "1% erase; resident ratio 0.25\"");
	printf("%s: %llu keys of 16 B, values %zu B, budget %llu B (%.1f MiB), scrambled "
	       "Zipf(0.99), seed %llu, %g s per point, threads",
	       r->scenario, (unsigned long long)run.n_keys, run.vlen, (unsigned long long)run.budget,
	       (double)run.budget / 1048576.0, (unsigned long long)o->seed, o->duration_s);
	for (int i = 0; i < o->n_threads; i++)
		printf(" %d", o->threads[i]);
	printf("%s", o->pin ? ", pinned" : "");
	if (o->rounds > 1)
		printf(", %d rounds interleaved", o->rounds);
	printf("\n");
	if (mixed)
		printf("mix: 87%% lookup then insert on miss, 2%% insert, 10%% lookup, 1%% erase; "
		       "resident ratio 0.25\n");
	int max_t = 0;
	for (int i = 0; i < o->n_threads; i++)
		max_t = o->threads[i] > max_t ? o->threads[i] : max_t;
	struct tp_slot *sl = calloc((size_t)o->n_systems, sizeof(*sl));
	int rc = sl ? 0 : -1;
	for (int t = 0; rc == 0 && t < max_t; t++)
		rc = make_worker_arrays(&run, t);
	if (rc != 0) {
		fprintf(stderr, "%s: out of memory for key arrays\n", r->scenario);
	} else {
		for (int s = 0; s < o->n_systems; s++) {
			sl[s].run = &run;
			sl[s].sys = o->systems[s];
			sl[s].rc = -1;
		}
		if (o->rounds > 1)
			tp_interleaved(&run, sl);
		else
			tp_one_by_one(&run, sl);
		for (int s = 0; sl && s < o->n_systems; s++)
			for (int ti = 0; ti < o->n_threads; ti++)
				free(sl[s].acc[ti].all);
	}
	for (int t = 0; t < max_t; t++) {
		free(run.keys[t]);
		free(run.ops[t]);
	}
	free(sl);
	bench_progress(o, "\n");
	return rc;
}

int bench_scenario_read_scaling(const struct bench_opts *o, struct bench_report *r)
{
	return run_throughput(o, r, 0);
}

int bench_scenario_mixed(const struct bench_opts *o, struct bench_report *r)
{
	return run_throughput(o, r, 1);
}
