/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sc_vdi_rounds.c: `view-during-index --rounds N` (N > 1), the phases of
 * sc_vdi.c measured in interleaved slices.
 *
 * Why: one run gives each system's phase A, then its phase B, one system
 * after the other, each phase in one stretch of --duration seconds. On a
 * machine shared with other work a slow spell then lands on one system's
 * whole phase, and its ratio to the next system's says more about the
 * machine than about the systems. Here each system's phase is cut in N
 * slices spread over the run, next to the other systems' slices of the
 * same phase, as read-scaling's and mixed's --rounds do.
 *
 * How:
 *   1. Every system is opened and its hot set stored; its monitor, readers
 *      and indexers are started and park at once (condition variable:
 *      parked threads spend no CPU).
 *   2. Warm-up, once per system, alone: its readers and indexers run until
 *      the indexers have inserted as many entries as the index pool holds
 *      (at most 5 s), as in one run; then they park and the system settles
 *      (bench_settle: its background work ends before anything is timed).
 *   3. Each round: every system's phase-A slice in turn (its readers run
 *      for --duration seconds, every other thread of the process parked),
 *      then every system's phase-B slice in turn (its readers and indexers
 *      together), the systems' order turning by one each round. A slice
 *      ends when every thread of its system has parked again, so no
 *      worker of one system runs into another's slice; after a phase-B
 *      slice the system settles before the next slice starts.
 *   4. Rows per system and phase: ops/s, inserts/s, evictions/s and the
 *      CPU per insert are the medians of the slices; latency, hit ratio
 *      and overshoot are over every slice (the monitor samples during
 *      each slice of its system); each slice's ops/s (and inserts/s) in
 *      order, from which the report takes the median of per-round ratios.
 *
 * Phase A differs from one run's in one respect: it follows the warm-up,
 * so the index pool is full (and idle) while the readers read alone; the
 * readers still read only the view pool's hot set.
 *
 * CPU per insert, per phase-B slice: the process's CPU from the slice's
 * start to the end of the settle that follows it (so the background work
 * the slice's inserts caused is counted whole), minus the system's
 * readers', its monitor's and this thread's, over the slice's inserts;
 * the other systems' threads are parked and their caches settled, so
 * they add nothing but their own idle background threads. The background
 * part also leaves out the indexers' threads.
 *
 * Every system's memory is held at once, so the rows carry no RSS.
 */
#include "vdi.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One system of the interleaved run and what its slices measured. */
struct rsys {
	struct vdi *v;
	int rc; /* 0: open, its threads parked */
	int n_a, n_b;
	double a_ops[BENCH_MAX_ROUNDS], b_ops[BENCH_MAX_ROUNDS], b_ins[BENCH_MAX_ROUNDS];
	double b_cpu[BENCH_MAX_ROUNDS], b_bg[BENCH_MAX_ROUNDS], b_ev[BENCH_MAX_ROUNDS];
	uint64_t refused;
};

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* All threads of the system: readers, indexers and the monitor. */
static int n_threads(const struct vdi *v)
{
	return v->readers + v->indexers + 1;
}

/* Thread body: opens the system, stores its hot set and starts its
 * threads parked. A thread of its own, so no thread of the process uses
 * two systems (liburcu registration stays simple). */
static void *open_main(void *arg)
{
	struct rsys *x = arg;
	struct vdi *v = x->v;
	x->rc = -1;
	if (vdi_open(v) != 0)
		return NULL;
	atomic_init(&v->phase, PH_PARK);
	if (vdi_start(v, 1) != 0) {
		fprintf(stderr, "%s: pthread_create failed\n", v->sys->name);
		return NULL;
	}
	x->rc = 0;
	return NULL;
}

/* Thread body: closes the system (a fresh thread: close registers with
 * liburcu itself). */
static void *close_main(void *arg)
{
	struct vdi *v = arg;
	v->sys->close(v->h);
	malloc_trim(0);
	return NULL;
}

/* Parks every thread of v and waits until the system is still. */
static void park_all(struct vdi *v)
{
	vdi_set_phase(v, PH_PARK);
	vdi_wait_parked(v, n_threads(v));
}

static void warm_up(struct rsys *x)
{
	struct vdi *v = x->v;
	struct bench_row ignored;
	bench_progress(v->o, "view-during-index: %s warm-up", v->sys->name);
	vdi_set_phase(v, PH_WARM);
	uint64_t goal = vdi_index_capacity(v);
	for (int waited = 0; waited < 5000 && atomic_load(&v->indexed) < goal; waited += 10)
		sleep_s(0.01);
	park_all(v);
	bench_settle(v->sys, v->h, &ignored);
}

/* Sum over the readers of ops over their own busy time, between two
 * readings of their counters for phase slot. */
static double readers_rate(const struct vdi *v, int slot, const uint64_t *ops0,
                           const uint64_t *ns0)
{
	double r = 0;
	for (int t = 0; t < v->readers; t++) {
		uint64_t dn = v->rs[t].ns[slot] - ns0[t];
		if (dn)
			r += (double)(v->rs[t].ops[slot] - ops0[t]) * 1e9 / (double)dn;
	}
	return r;
}

/* One slice of phase A (slot 0) or B (slot 1) of x's system. Every thread
 * of the system is parked when it starts and when it returns, so its
 * counters are read without a race. */
static void slice(struct rsys *x, int slot)
{
	struct vdi *v = x->v;
	const struct bench_opts *o = v->o;
	uint64_t ops0[BENCH_MAX_THREADS], ns0[BENCH_MAX_THREADS];
	uint64_t ins0[BENCH_MAX_THREADS], ins_ns0[BENCH_MAX_THREADS];
	for (int t = 0; t < v->readers; t++) {
		ops0[t] = v->rs[t].ops[slot];
		ns0[t] = v->rs[t].ns[slot];
	}
	bench_progress(o, "view-during-index: %s phase %s, slice %d", v->sys->name,
	               slot ? "B" : "A", (slot ? x->n_b : x->n_a) + 1);
	if (slot == 0) {
		vdi_set_phase(v, PH_A);
		sleep_s(o->duration_s);
		park_all(v);
		x->a_ops[x->n_a++] = readers_rate(v, 0, ops0, ns0);
		return;
	}
	for (int t = 0; t < v->indexers; t++) {
		ins0[t] = v->xs[t].ops_b;
		ins_ns0[t] = v->xs[t].ns_b;
	}
	uint64_t failed0 = atomic_load(&v->failed), ev0 = vdi_evictions(v);
	struct vdi_cpu c0, c1;
	vdi_cpu_mark(&c0, v);
	uint64_t t0 = bench_now_ns();
	vdi_set_phase(v, PH_B);
	sleep_s(o->duration_s);
	park_all(v);
	uint64_t t1 = bench_now_ns(), ev1 = vdi_evictions(v);
	struct bench_row ignored;
	bench_settle(v->sys, v->h, &ignored); /* the slice's background work ends */
	vdi_cpu_mark(&c1, v);
	x->refused += atomic_load(&v->failed) - failed0;

	int k = x->n_b++;
	x->b_ops[k] = readers_rate(v, 1, ops0, ns0);
	double ins = 0;
	for (int t = 0; t < v->indexers; t++) {
		uint64_t dn = v->xs[t].ns_b - ins_ns0[t];
		if (dn)
			ins += (double)(v->xs[t].ops_b - ins0[t]) * 1e9 / (double)dn;
	}
	x->b_ins[k] = ins;
	uint64_t n_ins = c1.inserts - c0.inserts;
	uint64_t rest = c1.process - c0.process,
	         mine = (c1.readers - c0.readers) + (c1.others - c0.others);
	rest = rest > mine ? rest - mine : 0;
	uint64_t ixcpu = c1.indexers - c0.indexers;
	x->b_cpu[k] = n_ins ? (double)rest / (double)n_ins : -1;
	x->b_bg[k] = n_ins ? (double)(rest > ixcpu ? rest - ixcpu : 0) / (double)n_ins : -1;
	x->b_ev[k] = ev0 != UINT64_MAX && ev1 != UINT64_MAX
	                     ? (double)(ev1 - ev0) * 1e9 / (double)(t1 - t0)
	                     : -1;
}

static void add_rows(struct rsys *x)
{
	struct vdi *v = x->v;
	for (int slot = 0; slot < 2; slot++) {
		int n = slot ? x->n_b : x->n_a;
		const double *ops = slot ? x->b_ops : x->a_ops;
		if (n == 0)
			continue;
		struct bench_row *row = vdi_add_row(v, slot);
		if (!row)
			return;
		row->ops_per_sec = bench_median(ops, n);
		row->n_rounds = n;
		memcpy(row->round_ops, ops, sizeof(ops[0]) * (size_t)n);
		if (slot == 0)
			continue;
		row->inserts_per_sec = bench_median(x->b_ins, n);
		row->n_ins_rounds = n;
		memcpy(row->round_ins, x->b_ins, sizeof(x->b_ins[0]) * (size_t)n);
		row->cpu_ns_per_insert = bench_median(x->b_cpu, n);
		row->bg_cpu_ns_per_insert = bench_median(x->b_bg, n);
		row->evictions_per_sec = bench_median(x->b_ev, n);
	}
	if (x->refused)
		fprintf(stderr, "%s: %llu inserts refused in phase B\n", v->sys->name,
		        (unsigned long long)x->refused);
}

int vdi_rounds(const struct bench_opts *o, struct vdi *vs, int n)
{
	struct rsys *xs = calloc((size_t)n, sizeof(*xs));
	if (!xs)
		return -1;
	for (int s = 0; s < n; s++) {
		xs[s].v = &vs[s];
		bench_run_threads(1, open_main, &xs[s], 0);
		if (xs[s].rc == 0)
			vdi_wait_parked(&vs[s], n_threads(&vs[s]));
	}
	for (int s = 0; s < n; s++)
		if (xs[s].rc == 0)
			warm_up(&xs[s]);
	for (int rd = 0; rd < o->rounds; rd++)
		for (int slot = 0; slot < 2; slot++)
			for (int k = 0; k < n; k++) {
				struct rsys *x = &xs[(k + rd) % n];
				if (x->rc == 0)
					slice(x, slot);
			}
	for (int s = 0; s < n; s++) {
		struct vdi *v = &vs[s];
		if (xs[s].rc == 0) {
			vdi_stop(v, 1);
			add_rows(&xs[s]);
		}
		if (v->h)
			bench_run_threads(1, close_main, v, 0);
		vdi_free(v);
	}
	free(xs);
	return 0;
}
