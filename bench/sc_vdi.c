/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sc_vdi.c: the headline scenario, `view-during-index`.
 *
 * splitcache is opened in split mode (budget default 256 MiB, view share
 * 0.5). The view pool is filled with a hot set of 2^17 keys (16-byte keys,
 * 100-byte values: about 15 MiB of data, well inside its half); readers do
 * copy-out gets on it from precomputed scrambled-Zipf(0.99) key arrays.
 *
 *   Phase A: readers alone, for --duration seconds.
 *   Warm-up: indexer threads start inserting fresh keys into the index
 *            pool; not measured, until they have inserted as many entries
 *            as the index pool can hold (or 5 s passed).
 *   Phase B: the same readers while the indexers keep inserting as fast
 *            as they can, for --duration seconds.
 *
 * Indexer keys: each indexer cycles through its share of a key space four
 * times the index pool's capacity in entries (capacity estimated as the
 * pool's bytes over 16 + 100 + 64 bytes), so every insert is of a key
 * evicted long ago and the maintainer evicts continuously. Indexer keys
 * are derived from a counter with one 64-bit mix (a few ns next to an
 * insert) instead of a 48 MB array, which would inflate the RSS figure.
 *
 * Peers run the same phases with one cache of the whole budget holding
 * both key sets (mutex-lru: behind one lock). Readers may then miss: the
 * hit ratio of readers is reported per phase (isolation in one number).
 *
 * A monitor thread samples every millisecond: per pool, charged - target
 * (the largest positive value is max_overshoot_bytes; peers: usage over
 * capacity where they report it) and the process RSS (largest value per
 * phase). rss_bytes is the largest RSS of the phase; the RSS before the
 * cache was opened (key arrays included) is given as baseline in params.
 */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOT_KEYS ((uint64_t)1 << 17)
#define READER_KEYS_LOG 20
#define VLEN 100
#define POOL_INDEX 0
#define POOL_VIEW 1
#define INDEX_ID_BASE ((uint64_t)1 << 40)

enum { PH_IDLE = 0, PH_A = 1, PH_WARM = 2, PH_B = 3, PH_STOP = 4 };

struct vdi {
	const struct bench_opts *o;
	struct bench_report *r;
	const struct bench_sys *sys;
	void *h;
	int split; /* splitcache: pools; peers: one cache */
	atomic_int phase;
	atomic_uint_fast64_t indexed; /* successful inserts since phase WARM */
	atomic_uint_fast64_t failed;
	uint64_t keyspace, budget;
	int readers, indexers;
	/* monitor results, per phase (index 0: A, 1: B) */
	uint64_t max_over[2], max_rss[2];
	int have_over;
};

struct reader {
	struct vdi *v;
	int index;
	unsigned char (*keys)[BENCH_KEY_LEN];
	uint64_t ops[2], hits[2], ns[2];
	struct bench_hist hist[2];
};

struct indexer {
	struct vdi *v;
	int index;
	uint64_t ops_b, ns_b;
};

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	struct vdi *v = rd->v;
	const struct bench_sys *sys = v->sys;
	unsigned char buf[VLEN];
	const size_t mask = ((size_t)1 << READER_KEYS_LOG) - 1;
	if (v->o->pin)
		bench_pin_self(rd->index);
	sys->thread_enter(v->h);
	bench_hist_init(&rd->hist[0]);
	bench_hist_init(&rd->hist[1]);
	uint64_t n = 0;
	int ph;
	while ((ph = atomic_load_explicit(&v->phase, memory_order_relaxed)) != PH_STOP) {
		int slot = ph == PH_A ? 0 : ph == PH_B ? 1 : -1;
		uint64_t t0 = bench_now_ns(), hits = 0;
		struct bench_hist *hist = slot >= 0 ? &rd->hist[slot] : NULL;
		for (int j = 0; j < 64; j++, n++) {
			const unsigned char *k = rd->keys[n & mask];
			uint64_t ts = j == 0 ? bench_now_ns() : 0;
			hits += (uint64_t)sys->get(v->h, POOL_VIEW, k, BENCH_KEY_LEN, buf, sizeof(buf));
			if (j == 0 && hist)
				bench_hist_add(hist, bench_now_ns() - ts);
		}
		if (slot >= 0) {
			rd->ops[slot] += 64;
			rd->hits[slot] += hits;
			rd->ns[slot] += bench_now_ns() - t0;
		}
	}
	sys->thread_exit(v->h);
	return NULL;
}

static void *indexer_main(void *arg)
{
	struct indexer *ix = arg;
	struct vdi *v = ix->v;
	const struct bench_sys *sys = v->sys;
	unsigned char key[BENCH_KEY_LEN], val[VLEN];
	memset(val, 0x3c, sizeof(val));
	if (v->o->pin)
		bench_pin_self(v->readers + ix->index);
	sys->thread_enter(v->h);
	uint64_t span = v->keyspace / (uint64_t)v->indexers;
	uint64_t base = INDEX_ID_BASE + span * (uint64_t)ix->index, i = 0;
	int ph;
	while ((ph = atomic_load_explicit(&v->phase, memory_order_relaxed)) != PH_STOP) {
		uint64_t t0 = bench_now_ns(), ok = 0, bad = 0;
		for (int j = 0; j < 64; j++, i++) {
			bench_key_of(base + i % span, key);
			if (sys->set(v->h, POOL_INDEX, key, BENCH_KEY_LEN, val, VLEN) == 0)
				ok++;
			else
				bad++;
		}
		atomic_fetch_add_explicit(&v->indexed, ok, memory_order_relaxed);
		atomic_fetch_add_explicit(&v->failed, bad, memory_order_relaxed);
		if (ph == PH_B) {
			ix->ops_b += ok;
			ix->ns_b += bench_now_ns() - t0;
		}
	}
	sys->thread_exit(v->h);
	return NULL;
}

static void *monitor_main(void *arg)
{
	struct vdi *v = arg;
	int ph;
	while ((ph = atomic_load_explicit(&v->phase, memory_order_relaxed)) != PH_STOP) {
		int slot = ph == PH_A ? 0 : ph == PH_B ? 1 : -1;
		if (slot >= 0) {
			int pools[2] = {POOL_INDEX, POOL_VIEW}, np = v->split ? 2 : 1;
			if (!v->split)
				pools[0] = -1;
			for (int p = 0; p < np; p++) {
				struct bench_sys_stats st;
				if (v->sys->stats(v->h, pools[p], &st) == 0 && st.has_charged) {
					v->have_over = 1;
					if (st.charged_bytes > st.target_bytes &&
					    st.charged_bytes - st.target_bytes > v->max_over[slot])
						v->max_over[slot] = st.charged_bytes - st.target_bytes;
				}
			}
			uint64_t rss = bench_rss_bytes();
			if (rss > v->max_rss[slot])
				v->max_rss[slot] = rss;
		}
		sleep_ms(1);
	}
	return NULL;
}

static uint64_t evictions_now(struct vdi *v)
{
	struct bench_sys_stats st;
	if (v->sys->stats(v->h, v->split ? POOL_INDEX : -1, &st) != 0 || !st.has_evictions)
		return UINT64_MAX;
	return st.evictions;
}

static void *vdi_driver(void *arg)
{
	struct vdi *v = arg;
	const struct bench_opts *o = v->o;
	v->split = strncmp(v->sys->name, "splitcache", 10) == 0;
	struct bench_sys_params p = {.budget_bytes = v->budget,
	                             .view_share = o->view_share,
	                             .value_len_hint = VLEN,
	                             .split = 1,
	                             .index_max_load = o->index_max_load};
	struct reader *rs = calloc((size_t)v->readers, sizeof(*rs));
	struct indexer *xs = calloc((size_t)v->indexers, sizeof(*xs));
	uint64_t *ids = malloc(((size_t)1 << READER_KEYS_LOG) * sizeof(*ids));
	int ok = rs && xs && ids;
	for (int t = 0; ok && t < v->readers; t++) {
		rs[t].v = v;
		rs[t].index = t;
		rs[t].keys = malloc(((size_t)1 << READER_KEYS_LOG) * BENCH_KEY_LEN);
		ok = rs[t].keys != NULL;
		if (ok) {
			bench_fill_ids(ids, (size_t)1 << READER_KEYS_LOG, BENCH_DIST_ZIPF, HOT_KEYS, 0,
			               o->seed * 7919ULL + (uint64_t)t);
			for (size_t i = 0; i < (size_t)1 << READER_KEYS_LOG; i++)
				bench_key_of(ids[i], rs[t].keys[i]);
		}
	}
	free(ids);
	uint64_t rss0 = bench_rss_bytes();
	if (!ok || v->sys->open(&p, &v->h) != 0) {
		fprintf(stderr, "%s: %s\n", v->sys->name, ok ? "open failed" : "out of memory");
		goto out;
	}
	v->sys->thread_enter(v->h);
	unsigned char key[BENCH_KEY_LEN], val[VLEN];
	memset(val, 0x5a, sizeof(val));
	for (uint64_t i = 0; i < HOT_KEYS; i++) {
		bench_key_of(i, key);
		v->sys->set(v->h, POOL_VIEW, key, BENCH_KEY_LEN, val, VLEN);
	}
	v->sys->thread_exit(v->h);
	for (int t = 0; t < v->indexers; t++) {
		xs[t].v = v;
		xs[t].index = t;
	}
	atomic_init(&v->phase, PH_IDLE);
	atomic_init(&v->indexed, 0);
	atomic_init(&v->failed, 0);
	pthread_t rt[BENCH_MAX_THREADS], it[BENCH_MAX_THREADS], mt;
	atomic_store(&v->phase, PH_A);
	pthread_create(&mt, NULL, monitor_main, v);
	for (int t = 0; t < v->readers; t++)
		pthread_create(&rt[t], NULL, reader_main, &rs[t]);
	bench_progress(o, "view-during-index: %s phase A", v->sys->name);
	sleep_ms((long)(o->duration_s * 1000));
	atomic_store(&v->phase, PH_WARM);
	for (int t = 0; t < v->indexers; t++)
		pthread_create(&it[t], NULL, indexer_main, &xs[t]);
	bench_progress(o, "view-during-index: %s warm-up", v->sys->name);
	uint64_t index_capacity = (uint64_t)((double)v->budget * (1.0 - o->view_share)) /
	                          (BENCH_KEY_LEN + VLEN + 64);
	for (int waited = 0; waited < 5000; waited += 10) {
		if (atomic_load(&v->indexed) >= index_capacity)
			break;
		sleep_ms(10);
	}
	uint64_t ev0 = evictions_now(v), t0 = bench_now_ns();
	uint64_t failed0 = atomic_load(&v->failed);
	atomic_store(&v->phase, PH_B);
	bench_progress(o, "view-during-index: %s phase B", v->sys->name);
	sleep_ms((long)(o->duration_s * 1000));
	uint64_t ev1 = evictions_now(v), t1 = bench_now_ns();
	uint64_t failed1 = atomic_load(&v->failed);
	atomic_store(&v->phase, PH_STOP);
	for (int t = 0; t < v->readers; t++)
		pthread_join(rt[t], NULL);
	for (int t = 0; t < v->indexers; t++)
		pthread_join(it[t], NULL);
	pthread_join(mt, NULL);

	for (int slot = 0; slot < 2; slot++) {
		struct bench_row *row = bench_report_add(v->r, v->sys->name);
		struct bench_hist *all = malloc(sizeof(*all));
		if (!row || !all) {
			free(all);
			break;
		}
		snprintf(row->phase, sizeof(row->phase), "%s", slot ? "B" : "A");
		if (v->split)
			snprintf(row->policy, sizeof(row->policy), "%s",
			         strcmp(v->sys->name, "splitcache-clock") == 0    ? "clock"
			         : strcmp(v->sys->name, "splitcache-s3fifo") == 0 ? "s3fifo"
			                                                           : bench_splitcache_policy_name(0));
		bench_hist_init(all);
		double ops = 0;
		uint64_t hits = 0, n = 0;
		for (int t = 0; t < v->readers; t++) {
			ops += rs[t].ns[slot] ? (double)rs[t].ops[slot] * 1e9 / (double)rs[t].ns[slot] : 0;
			hits += rs[t].hits[slot];
			n += rs[t].ops[slot];
			bench_hist_merge(all, &rs[t].hist[slot]);
		}
		row->threads = v->readers;
		row->ops_per_sec = BENCH_NUM(ops);
		row->p50_ns = BENCH_NUM(bench_hist_quantile(all, 0.5));
		row->p99_ns = BENCH_NUM(bench_hist_quantile(all, 0.99));
		row->p999_ns = BENCH_NUM(bench_hist_quantile(all, 0.999));
		row->max_ns = BENCH_NUM(all->max);
		row->hit_ratio = BENCH_NUM(n ? (double)hits / (double)n : 0);
		row->lat = all;
		row->budget_bytes = BENCH_NUM(v->budget);
		row->rss_bytes = BENCH_NUM(v->max_rss[slot]);
		if (v->have_over)
			row->max_overshoot_bytes = BENCH_NUM(v->max_over[slot]);
		if (slot == 1) {
			double ins = 0;
			for (int t = 0; t < v->indexers; t++)
				ins += xs[t].ns_b ? (double)xs[t].ops_b * 1e9 / (double)xs[t].ns_b : 0;
			row->inserts_per_sec = BENCH_NUM(ins);
			if (ev0 != UINT64_MAX && ev1 != UINT64_MAX)
				row->evictions_per_sec =
					BENCH_NUM((double)(ev1 - ev0) * 1e9 / (double)(t1 - t0));
			if (failed1 > failed0)
				fprintf(stderr, "%s: %llu inserts refused in phase B\n", v->sys->name,
				        (unsigned long long)(failed1 - failed0));
		} else {
			row->inserts_per_sec = BENCH_NUM(0);
		}
	}
	fprintf(stderr, "%s: RSS before open %.1f MiB (reader key arrays included)\n",
	        v->sys->name, (double)rss0 / 1048576.0);
	v->sys->close(v->h);
	malloc_trim(0); /* give freed memory back: the next system's RSS starts clean */
out:
	for (int t = 0; rs && t < v->readers; t++)
		free(rs[t].keys);
	free(rs);
	free(xs);
	return NULL;
}

int bench_scenario_view_during_index(const struct bench_opts *o, struct bench_report *r)
{
	uint64_t budget = o->budget_bytes ? o->budget_bytes : (uint64_t)256 << 20;
	int indexers = o->indexers > 0 ? o->indexers : (bench_nproc() / 2 > 0 ? bench_nproc() / 2 : 1);
	uint64_t index_bytes = (uint64_t)((double)budget * (1.0 - o->view_share));
	uint64_t keyspace = 4 * (index_bytes / (BENCH_KEY_LEN + VLEN + 64));
	char num[96];
	printf("view-during-index: budget %llu B (%.1f MiB), split mode, view share %.2f; hot set "
	       "%llu keys of 16 B + %d B values, scrambled Zipf(0.99); index key space %llu "
	       "keys (4x the index pool's estimated capacity); %d indexer(s); %g s per phase; "
	       "seed %llu%s\n",
	       (unsigned long long)budget, (double)budget / 1048576.0, o->view_share,
	       (unsigned long long)HOT_KEYS, VLEN, (unsigned long long)keyspace, indexers,
	       o->duration_s, (unsigned long long)o->seed, o->pin ? ", pinned" : "");
	bench_report_timed_params(r, o);
	bench_report_param(r, "budget_bytes",
	                   (snprintf(num, sizeof(num), "%llu", (unsigned long long)budget), num));
	bench_report_param(r, "view_share", (snprintf(num, sizeof(num), "%g", o->view_share), num));
	bench_report_param(r, "indexers", (snprintf(num, sizeof(num), "%d", indexers), num));
	bench_report_param(r, "hot_keys",
	                   (snprintf(num, sizeof(num), "%llu", (unsigned long long)HOT_KEYS), num));
	bench_report_param(r, "index_keyspace",
	                   (snprintf(num, sizeof(num), "%llu", (unsigned long long)keyspace), num));
	bench_report_param(r, "key_bytes", "16");
	bench_report_param(r, "value_bytes", "100");
	bench_report_param(r, "seed",
	                   (snprintf(num, sizeof(num), "%llu", (unsigned long long)o->seed), num));
	bench_report_param(r, "pinned", o->pin ? "true" : "false");
	for (int ti = 0; ti < o->n_threads; ti++)
		for (int s = 0; s < o->n_systems; s++) {
			struct vdi *v = calloc(1, sizeof(*v));
			if (!v)
				return -1;
			v->o = o;
			v->r = r;
			v->sys = o->systems[s];
			v->budget = budget;
			v->readers = o->threads[ti];
			v->indexers = indexers;
			v->keyspace = keyspace;
			bench_run_threads(1, vdi_driver, v, 0);
			free(v);
		}
	bench_progress(o, "\n");
	return 0;
}
