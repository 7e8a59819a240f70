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
 * CPU per insert in phase B: the process's CPU time over the phase (every
 * thread, kernel time included) minus the readers', the monitor's and the
 * driver's, over the inserts the indexers made: the indexers' own work
 * plus everything the system does for those inserts in its background
 * threads (maintainer, reclamation), cpu_ns_per_insert. The background
 * part alone (without the indexers' threads) is bg_cpu_ns_per_insert.
 * Interrupts the system causes on the readers' CPUs (TLB shootdowns) are
 * charged to the readers and show in their rate, not here.
 *
 * A monitor thread samples every millisecond: per pool, charged - target
 * (the largest positive value is max_overshoot_bytes; peers: usage over
 * capacity where they report it) and the process RSS (largest value per
 * phase). rss_bytes is the largest RSS of the phase; the RSS before the
 * cache was opened (key arrays included) is given as baseline in params.
 *
 * --rounds N > 1 runs the same phases in interleaved slices with every
 * system open at once (sc_vdi_rounds.c says how); the threads below then
 * park between their system's slices. This file keeps one system at a
 * time otherwise, and the threads, the monitor and the rows both share.
 */
#include "vdi.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define READER_KEYS_LOG 20
#define POOL_INDEX 0
#define POOL_VIEW 1
#define INDEX_ID_BASE ((uint64_t)1 << 40)

enum { ROLE_READER, ROLE_INDEXER, ROLE_MONITOR };

static uint64_t thread_cpu(pthread_t t)
{
	clockid_t id;
	struct timespec ts;
	if (pthread_getcpuclockid(t, &id) != 0 || clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void vdi_cpu_mark(struct vdi_cpu *m, struct vdi *v)
{
	m->readers = m->indexers = 0;
	m->process = bench_process_cpu_ns();
	for (int t = 0; t < v->readers; t++)
		m->readers += thread_cpu(v->rt[t]);
	for (int t = 0; t < v->indexers; t++)
		m->indexers += thread_cpu(v->it[t]);
	m->others = thread_cpu(v->mt) + bench_thread_cpu_ns();
	m->inserts = atomic_load(&v->indexed);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Whether a thread of the role works in phase ph (STOP: it wakes to end). */
static int role_runs(int role, int ph)
{
	if (role == ROLE_INDEXER)
		return ph == PH_WARM || ph == PH_B || ph == PH_STOP;
	return ph != PH_PARK;
}

/* Parks the calling thread until its role runs again. The count and the
 * phase live under v->mu, so the driver that saw every thread parked also
 * sees every figure they wrote before (the mutex orders them). */
static void park(struct vdi *v, int role)
{
	pthread_mutex_lock(&v->mu);
	v->parked++;
	pthread_cond_broadcast(&v->parked_cv);
	while (!role_runs(role, atomic_load_explicit(&v->phase, memory_order_relaxed)))
		pthread_cond_wait(&v->run, &v->mu);
	v->parked--;
	pthread_mutex_unlock(&v->mu);
}

void vdi_set_phase(struct vdi *v, int phase)
{
	pthread_mutex_lock(&v->mu);
	/* the workers poll the phase relaxed every 64 operations (a flag, no
	 * data hangs off it); parked ones re-read it under the mutex */
	atomic_store_explicit(&v->phase, phase, memory_order_relaxed);
	pthread_cond_broadcast(&v->run);
	pthread_mutex_unlock(&v->mu);
}

void vdi_wait_parked(struct vdi *v, int n)
{
	pthread_mutex_lock(&v->mu);
	while (v->parked < n)
		pthread_cond_wait(&v->parked_cv, &v->mu);
	pthread_mutex_unlock(&v->mu);
}

static void *reader_main(void *arg)
{
	struct vdi_reader *rd = arg;
	struct vdi *v = rd->v;
	const struct bench_sys *sys = v->sys;
	unsigned char buf[VDI_VLEN];
	const size_t mask = ((size_t)1 << READER_KEYS_LOG) - 1;
	if (v->o->pin)
		bench_pin_self(rd->index);
	sys->thread_enter(v->h);
	bench_hist_init(&rd->hist[0]);
	bench_hist_init(&rd->hist[1]);
	uint64_t n = 0;
	int ph;
	while ((ph = atomic_load_explicit(&v->phase, memory_order_relaxed)) != PH_STOP) {
		if (ph == PH_PARK) {
			park(v, ROLE_READER);
			continue;
		}
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
	struct vdi_indexer *ix = arg;
	struct vdi *v = ix->v;
	const struct bench_sys *sys = v->sys;
	unsigned char key[BENCH_KEY_LEN], val[VDI_VLEN];
	memset(val, 0x3c, sizeof(val));
	if (v->o->pin)
		bench_pin_self(v->readers + ix->index);
	sys->thread_enter(v->h);
	uint64_t span = v->keyspace / (uint64_t)v->indexers;
	uint64_t base = INDEX_ID_BASE + span * (uint64_t)ix->index, i = 0;
	int ph;
	while ((ph = atomic_load_explicit(&v->phase, memory_order_relaxed)) != PH_STOP) {
		if (!role_runs(ROLE_INDEXER, ph)) {
			park(v, ROLE_INDEXER);
			continue;
		}
		uint64_t t0 = bench_now_ns(), ok = 0, bad = 0;
		for (int j = 0; j < 64; j++, i++) {
			bench_key_of(base + i % span, key);
			if (sys->set(v->h, POOL_INDEX, key, BENCH_KEY_LEN, val, VDI_VLEN) == 0)
				ok++;
			else
				bad++;
		}
		/* counters only: the driver reads them after the phase, no data
		 * is published through them */
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
		if (ph == PH_PARK) {
			park(v, ROLE_MONITOR);
			continue;
		}
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

uint64_t vdi_evictions(struct vdi *v)
{
	struct bench_sys_stats st;
	if (v->sys->stats(v->h, v->split ? POOL_INDEX : -1, &st) != 0 || !st.has_evictions)
		return UINT64_MAX;
	return st.evictions;
}

uint64_t vdi_index_capacity(const struct vdi *v)
{
	return (uint64_t)((double)v->budget * (1.0 - v->o->view_share)) /
	       (BENCH_KEY_LEN + VDI_VLEN + 64);
}

int vdi_open(struct vdi *v)
{
	const struct bench_opts *o = v->o;
	v->split = strncmp(v->sys->name, "splitcache", 10) == 0;
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->run, NULL);
	pthread_cond_init(&v->parked_cv, NULL);
	struct bench_sys_params p = {.budget_bytes = v->budget,
	                             .view_share = o->view_share,
	                             .value_len_hint = VDI_VLEN,
	                             .split = 1,
	                             .index_max_load = o->index_max_load};
	v->rs = calloc((size_t)v->readers, sizeof(*v->rs));
	v->xs = calloc((size_t)v->indexers, sizeof(*v->xs));
	uint64_t *ids = malloc(((size_t)1 << READER_KEYS_LOG) * sizeof(*ids));
	int ok = v->rs && v->xs && ids;
	for (int t = 0; ok && t < v->readers; t++) {
		struct vdi_reader *rd = &v->rs[t];
		rd->v = v;
		rd->index = t;
		rd->keys = malloc(((size_t)1 << READER_KEYS_LOG) * BENCH_KEY_LEN);
		ok = rd->keys != NULL;
		if (ok) {
			bench_fill_ids(ids, (size_t)1 << READER_KEYS_LOG, BENCH_DIST_ZIPF, VDI_HOT_KEYS,
			               0, o->seed * 7919ULL + (uint64_t)t);
			for (size_t i = 0; i < (size_t)1 << READER_KEYS_LOG; i++)
				bench_key_of(ids[i], rd->keys[i]);
		}
	}
	free(ids);
	v->rss0 = bench_rss_bytes();
	for (int t = 0; ok && t < v->indexers; t++) {
		v->xs[t].v = v;
		v->xs[t].index = t;
	}
	if (!ok || v->sys->open(&p, &v->h) != 0) {
		fprintf(stderr, "%s: %s\n", v->sys->name, ok ? "open failed" : "out of memory");
		v->h = NULL;
		return -1;
	}
	v->sys->thread_enter(v->h);
	unsigned char key[BENCH_KEY_LEN], val[VDI_VLEN];
	memset(val, 0x5a, sizeof(val));
	for (uint64_t i = 0; i < VDI_HOT_KEYS; i++) {
		bench_key_of(i, key);
		v->sys->set(v->h, POOL_VIEW, key, BENCH_KEY_LEN, val, VDI_VLEN);
	}
	v->sys->thread_exit(v->h);
	atomic_init(&v->indexed, 0);
	atomic_init(&v->failed, 0);
	return 0;
}

int vdi_start(struct vdi *v, int with_indexers)
{
	if (pthread_create(&v->mt, NULL, monitor_main, v) != 0)
		return -1;
	for (int t = 0; t < v->readers; t++)
		if (pthread_create(&v->rt[t], NULL, reader_main, &v->rs[t]) != 0)
			abort(); /* a run without all its readers measures something else */
	for (int t = 0; with_indexers && t < v->indexers; t++)
		if (pthread_create(&v->it[t], NULL, indexer_main, &v->xs[t]) != 0)
			abort();
	return 0;
}

void vdi_stop(struct vdi *v, int with_indexers)
{
	vdi_set_phase(v, PH_STOP);
	for (int t = 0; t < v->readers; t++)
		pthread_join(v->rt[t], NULL);
	for (int t = 0; with_indexers && t < v->indexers; t++)
		pthread_join(v->it[t], NULL);
	pthread_join(v->mt, NULL);
}

struct bench_row *vdi_add_row(struct vdi *v, int slot)
{
	struct bench_row *row = bench_report_add(v->r, v->sys->name);
	struct bench_hist *all = malloc(sizeof(*all));
	if (!row || !all) {
		free(all);
		return NULL;
	}
	snprintf(row->phase, sizeof(row->phase), "%s", slot ? "B" : "A");
	if (v->split)
		snprintf(row->policy, sizeof(row->policy), "%s",
		         strcmp(v->sys->name, "splitcache-clock") == 0    ? "clock"
		         : strcmp(v->sys->name, "splitcache-s3fifo") == 0 ? "s3fifo"
		                                                           : bench_splitcache_policy_name(0));
	bench_hist_init(all);
	uint64_t hits = 0, n = 0;
	for (int t = 0; t < v->readers; t++) {
		hits += v->rs[t].hits[slot];
		n += v->rs[t].ops[slot];
		bench_hist_merge(all, &v->rs[t].hist[slot]);
	}
	row->threads = v->readers;
	row->p50_ns = BENCH_NUM(bench_hist_quantile(all, 0.5));
	row->p99_ns = BENCH_NUM(bench_hist_quantile(all, 0.99));
	row->p999_ns = BENCH_NUM(bench_hist_quantile(all, 0.999));
	row->max_ns = BENCH_NUM(all->max);
	row->hit_ratio = BENCH_NUM(n ? (double)hits / (double)n : 0);
	row->lat = all;
	row->budget_bytes = BENCH_NUM(v->budget);
	if (v->have_over)
		row->max_overshoot_bytes = BENCH_NUM(v->max_over[slot]);
	row->inserts_per_sec = BENCH_NUM(0);
	return row;
}

void vdi_free(struct vdi *v)
{
	for (int t = 0; v->rs && t < v->readers; t++)
		free(v->rs[t].keys);
	free(v->rs);
	free(v->xs);
	v->rs = NULL;
	v->xs = NULL;
	pthread_cond_destroy(&v->parked_cv);
	pthread_cond_destroy(&v->run);
	pthread_mutex_destroy(&v->mu);
}

/* The rows of one system measured in one pass. */
static void one_pass_rows(struct vdi *v, const struct vdi_cpu *c0, const struct vdi_cpu *c1,
                          uint64_t ev0, uint64_t ev1, uint64_t t0, uint64_t t1)
{
	for (int slot = 0; slot < 2; slot++) {
		struct bench_row *row = vdi_add_row(v, slot);
		if (!row)
			break;
		double ops = 0;
		for (int t = 0; t < v->readers; t++)
			ops += v->rs[t].ns[slot] ? (double)v->rs[t].ops[slot] * 1e9 /
			                                   (double)v->rs[t].ns[slot]
			                         : 0;
		row->ops_per_sec = BENCH_NUM(ops);
		row->rss_bytes = BENCH_NUM(v->max_rss[slot]);
		if (slot == 0)
			continue;
		double ins = 0;
		for (int t = 0; t < v->indexers; t++)
			ins += v->xs[t].ns_b ? (double)v->xs[t].ops_b * 1e9 / (double)v->xs[t].ns_b : 0;
		row->inserts_per_sec = BENCH_NUM(ins);
		uint64_t n_ins = c1->inserts - c0->inserts;
		uint64_t rest = c1->process - c0->process,
		         mine = (c1->readers - c0->readers) + (c1->others - c0->others);
		rest = rest > mine ? rest - mine : 0;
		uint64_t ixcpu = c1->indexers - c0->indexers;
		if (n_ins) {
			row->cpu_ns_per_insert = BENCH_NUM((double)rest / (double)n_ins);
			row->bg_cpu_ns_per_insert =
				BENCH_NUM((double)(rest > ixcpu ? rest - ixcpu : 0) / (double)n_ins);
		}
		if (ev0 != UINT64_MAX && ev1 != UINT64_MAX)
			row->evictions_per_sec = BENCH_NUM((double)(ev1 - ev0) * 1e9 / (double)(t1 - t0));
	}
}

/* Thread body: one system's whole run (--rounds 1): open, phase A,
 * warm-up, phase B, rows, close. */
static void *vdi_driver(void *arg)
{
	struct vdi *v = arg;
	const struct bench_opts *o = v->o;
	if (vdi_open(v) != 0)
		goto out;
	atomic_init(&v->phase, PH_A);
	if (vdi_start(v, 0) != 0) {
		fprintf(stderr, "%s: pthread_create failed\n", v->sys->name);
		goto close;
	}
	bench_progress(o, "view-during-index: %s phase A", v->sys->name);
	sleep_ms((long)(o->duration_s * 1000));
	vdi_set_phase(v, PH_WARM);
	for (int t = 0; t < v->indexers; t++)
		if (pthread_create(&v->it[t], NULL, indexer_main, &v->xs[t]) != 0)
			abort();
	bench_progress(o, "view-during-index: %s warm-up", v->sys->name);
	uint64_t index_capacity = vdi_index_capacity(v);
	for (int waited = 0; waited < 5000; waited += 10) {
		if (atomic_load(&v->indexed) >= index_capacity)
			break;
		sleep_ms(10);
	}
	uint64_t ev0 = vdi_evictions(v), t0 = bench_now_ns();
	uint64_t failed0 = atomic_load(&v->failed);
	struct vdi_cpu c0, c1;
	vdi_set_phase(v, PH_B);
	vdi_cpu_mark(&c0, v);
	bench_progress(o, "view-during-index: %s phase B", v->sys->name);
	sleep_ms((long)(o->duration_s * 1000));
	vdi_cpu_mark(&c1, v);
	uint64_t ev1 = vdi_evictions(v), t1 = bench_now_ns();
	uint64_t failed1 = atomic_load(&v->failed);
	vdi_stop(v, 1);
	one_pass_rows(v, &c0, &c1, ev0, ev1, t0, t1);
	if (failed1 > failed0)
		fprintf(stderr, "%s: %llu inserts refused in phase B\n", v->sys->name,
		        (unsigned long long)(failed1 - failed0));
	fprintf(stderr, "%s: RSS before open %.1f MiB (reader key arrays included)\n",
	        v->sys->name, (double)v->rss0 / 1048576.0);
close:
	v->sys->close(v->h);
	malloc_trim(0); /* give freed memory back: the next system's RSS starts clean */
out:
	vdi_free(v);
	return NULL;
}

int bench_scenario_view_during_index(const struct bench_opts *o, struct bench_report *r)
{
	uint64_t budget = o->budget_bytes ? o->budget_bytes : (uint64_t)256 << 20;
	int indexers = o->indexers > 0 ? o->indexers : (bench_nproc() / 2 > 0 ? bench_nproc() / 2 : 1);
	uint64_t index_bytes = (uint64_t)((double)budget * (1.0 - o->view_share));
	uint64_t keyspace = 4 * (index_bytes / (BENCH_KEY_LEN + VDI_VLEN + 64));
	int rounds = o->rounds > 1 ? o->rounds : 1;
	char num[96];
	printf("view-during-index: budget %llu B (%.1f MiB), split mode, view share %.2f; hot set "
	       "%llu keys of 16 B + %d B values, scrambled Zipf(0.99); index key space %llu "
	       "keys (4x the index pool's estimated capacity); %d indexer(s); %g s per phase; "
	       "seed %llu%s",
	       (unsigned long long)budget, (double)budget / 1048576.0, o->view_share,
	       (unsigned long long)VDI_HOT_KEYS, VDI_VLEN, (unsigned long long)keyspace, indexers,
	       o->duration_s, (unsigned long long)o->seed, o->pin ? ", pinned" : "");
	if (rounds > 1)
		printf(", %d rounds interleaved (%g s per slice)", rounds, o->duration_s);
	printf("\n");
	bench_report_timed_params(r, o);
	bench_report_param(r, "budget_bytes",
	                   (snprintf(num, sizeof(num), "%llu", (unsigned long long)budget), num));
	bench_report_param(r, "view_share", (snprintf(num, sizeof(num), "%g", o->view_share), num));
	bench_report_param(r, "indexers", (snprintf(num, sizeof(num), "%d", indexers), num));
	bench_report_param(r, "hot_keys",
	                   (snprintf(num, sizeof(num), "%llu", (unsigned long long)VDI_HOT_KEYS), num));
	bench_report_param(r, "index_keyspace",
	                   (snprintf(num, sizeof(num), "%llu", (unsigned long long)keyspace), num));
	bench_report_param(r, "key_bytes", "16");
	bench_report_param(r, "value_bytes", "100");
	bench_report_param(r, "seed",
	                   (snprintf(num, sizeof(num), "%llu", (unsigned long long)o->seed), num));
	bench_report_param(r, "pinned", o->pin ? "true" : "false");
	if (rounds > 1) /* without the option the file stays as it always was */
		bench_report_param(r, "rounds", (snprintf(num, sizeof(num), "%d", rounds), num));
	int rc = 0;
	for (int ti = 0; rc == 0 && ti < o->n_threads; ti++) {
		struct vdi *vs = calloc((size_t)o->n_systems, sizeof(*vs));
		if (!vs)
			return -1;
		for (int s = 0; s < o->n_systems; s++) {
			vs[s].o = o;
			vs[s].r = r;
			vs[s].sys = o->systems[s];
			vs[s].budget = budget;
			vs[s].readers = o->threads[ti];
			vs[s].indexers = indexers;
			vs[s].keyspace = keyspace;
		}
		if (rounds > 1)
			rc = vdi_rounds(o, vs, o->n_systems);
		else
			for (int s = 0; s < o->n_systems; s++)
				bench_run_threads(1, vdi_driver, &vs[s], 0);
		free(vs);
	}
	bench_progress(o, "\n");
	return rc;
}
