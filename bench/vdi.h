/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vdi.h: the scenario `view-during-index` between its two files:
 * sc_vdi.c (the threads, one system at a time, the rows) and
 * sc_vdi_rounds.c (--rounds N: every system open at once, measured in
 * interleaved slices). Bench-only.
 */
#ifndef SPC_BENCH_VDI_H
#define SPC_BENCH_VDI_H

#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>

#define VDI_HOT_KEYS ((uint64_t)1 << 17)
#define VDI_VLEN 100

/* Phases of one system. PARK (rounds only): every thread of the system
 * waits on its condition variable, no CPU spent; in A the indexers park
 * too. */
enum { PH_IDLE = 0, PH_A = 1, PH_WARM = 2, PH_B = 3, PH_STOP = 4, PH_PARK = 5 };

struct vdi_reader {
	struct vdi *v;
	int index;
	unsigned char (*keys)[BENCH_KEY_LEN];
	/* per measured phase (0: A, 1: B), summed over every slice; written by
	 * the reader, read by the driver while the reader is parked or joined */
	uint64_t ops[2], hits[2], ns[2];
	struct bench_hist hist[2];
};

struct vdi_indexer {
	struct vdi *v;
	int index;
	uint64_t ops_b, ns_b; /* phase B, summed over every slice */
};

/* CPU clocks of a system's threads, read at the start and end of phase B. */
struct vdi_cpu {
	uint64_t process, readers, indexers, others, inserts;
};

/* One system under the scenario: its handle, its threads and what they
 * measured. */
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
	uint64_t rss0; /* RSS before the open, the readers' key arrays made */
	int readers, indexers;
	struct vdi_reader *rs;
	struct vdi_indexer *xs;
	pthread_t rt[BENCH_MAX_THREADS], it[BENCH_MAX_THREADS], mt;
	/* parking (rounds): phase changes are made under mu and broadcast on
	 * run; a thread that parks counts itself in parked and signals
	 * parked_cv, so the driver knows when the system is still */
	pthread_mutex_t mu;
	pthread_cond_t run, parked_cv;
	int parked;
	/* monitor results, per phase (index 0: A, 1: B), over every slice */
	uint64_t max_over[2], max_rss[2];
	int have_over;
};

/* Allocates the readers' key arrays, opens the system and fills its hot
 * set (the calling thread registers with the system for the fill).
 * Returns 0, or -1 (message on stderr; vdi_free releases what was made).
 * Context: the one thread that fills this system, before its threads start.
 * Ownership: v->h is v's until it is closed; v->rs, v->xs until vdi_free. */
int vdi_open(struct vdi *v);
/* Sets the phase and wakes the threads parked for it.
 * Context: the driver. */
void vdi_set_phase(struct vdi *v, int phase);
/* Starts the monitor, the readers and, when with_indexers, the indexers;
 * they run or park by the current phase. Returns 0, or -1 (no thread
 * could be made: none is left running). */
int vdi_start(struct vdi *v, int with_indexers);
/* Waits until all n threads of the system parked. Context: the driver,
 * after vdi_set_phase(v, PH_PARK) or PH_A (indexers). */
void vdi_wait_parked(struct vdi *v, int n);
/* Phase STOP, then joins every thread vdi_start made. */
void vdi_stop(struct vdi *v, int with_indexers);
/* Fills the CPU clocks of v's threads and of the process, and the inserts
 * so far; the calling thread counts as "others" with the monitor. */
void vdi_cpu_mark(struct vdi_cpu *m, struct vdi *v);
/* Evictions of the index pool (peers: the cache) so far; UINT64_MAX when
 * the system has no such statistic. */
uint64_t vdi_evictions(struct vdi *v);
/* The inserts the index pool is estimated to hold: the warm-up's goal. */
uint64_t vdi_index_capacity(const struct vdi *v);
/* Appends the row of phase slot (0: A, 1: B) of v with what every phase
 * shares: readers' latency and hit ratio over all their slices, budget,
 * overshoot, policy. Returns it, or NULL (out of memory). */
struct bench_row *vdi_add_row(struct vdi *v, int slot);
/* Releases the key arrays, thread records and parking primitives (not
 * the handle). Context: after vdi_open, every thread stopped. */
void vdi_free(struct vdi *v);

/* --rounds N > 1: the interleaved run of the n systems vs (sc_vdi_rounds.c),
 * their rows appended to each one's report. Returns 0, or -1 (out of
 * memory). */
int vdi_rounds(const struct bench_opts *o, struct vdi *vs, int n);

#endif /* SPC_BENCH_VDI_H */
