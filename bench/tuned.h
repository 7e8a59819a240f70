/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tuned.h: replay references with parameters (bench/classic.c: ARC, FRC,
 * 2Q, LRU-2; bench/lrfu.c: LRFU) and their offline tuning (bench/tuned.c):
 * the columns of the ARC paper's Table IV whose parameters its authors
 * tuned for each trace. Bench-only, sizes in entries.
 */
#ifndef SPC_BENCH_TUNED_H
#define SPC_BENCH_TUNED_H

#include "bench.h"

enum bench_ref_kind { BENCH_REF_ARC, BENCH_REF_FRC, BENCH_REF_2Q, BENCH_REF_LRU2, BENCH_REF_LRFU };

/* One policy with its parameters.
 *   frc   a: p, T1's fixed target, as a share of the cache (0..1)
 *   2q    a: Kin, b: Kout, as shares of the cache (each at least 1 entry)
 *   lru2  a: correlated-reference period in requests (held below the
 *         cache's size); b: keys whose history is kept once evicted, as a
 *         multiple of the cache (INFINITY: every key)
 *   lrfu  a: lambda (0..1); b: keys whose CRF is kept once evicted, as
 *         a multiple of the cache (0: none; INFINITY: every key) */
struct bench_ref {
	enum bench_ref_kind kind;
	double a, b;
};

/* Numbers the keys of t: ids[i] is the number of request i's key, 0 ..
 * *nkeys - 1, in key order. Returns the array (the caller frees it), NULL
 * when out of memory or the trace has 2^32 requests or more. */
uint32_t *bench_number_keys(const struct bench_trace *t, uint32_t *nkeys);

/* Hits of arc, frc, 2q or lru2 (r) on the numbered requests ids[0..n-1]
 * with a cache of `size` entries, demand paging. Returns 0, or -1 when
 * out of memory, size is 0 or r is not one of these. */
int bench_classic_run(const uint32_t *ids, size_t n, uint32_t nkeys, const struct bench_ref *r,
                      uint64_t size, uint64_t *hits);

/* Hits of LRFU with this lambda (0..1), keeping the CRF of the last
 * `history` keys evicted (0: none, UINT64_MAX: all; see lrfu.c), as
 * bench_classic_run. Returns 0, or -1 when out of memory, size is 0 or
 * lambda is out of range. */
int bench_lrfu_run(const uint32_t *ids, size_t n, uint32_t nkeys, double lambda,
                   uint64_t history, uint64_t size, uint64_t *hits);

/* Whether policy is a parameterised reference: "frc", "lrfu" or one of
 * "frc", "lrfu", "2q", "lru2" followed by ":PARAMS" or ":tune". */
int bench_tuned_is(const char *policy);

/* Replays t through such a policy at `size` entries. With ":tune", every
 * parameter of the policy's grid is replayed and the best kept (the
 * smallest parameter on a tie). Fills hits and, when label is not NULL,
 * the policy with the parameters used, e.g. "lrfu:0.00046" (at most 15
 * characters). Returns 0, or -1 with why in err (bad parameters, out of
 * memory). progress: called with a line of text per parameter replayed
 * during a tuning (NULL: silent). */
int bench_tuned_one(const struct bench_trace *t, const char *policy, uint64_t size,
                    uint64_t *hits, char *label, size_t labelcap, char *err, size_t errcap,
                    void (*progress)(void *arg, const char *line), void *arg);

#endif /* SPC_BENCH_TUNED_H */
