/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hist.c: a log-linear histogram for sampled latencies (nanoseconds).
 *
 * The layout is HdrHistogram's idea reduced to its core: values below
 * 2^S (S = BENCH_HIST_SUB) get one bucket each; every larger power of two
 * [2^e, 2^(e+1)) is cut into 2^S equal sub-buckets. Adding is a count of
 * leading zeros, a shift and an increment; no allocation, no lock (each
 * thread owns one histogram; they are merged after the run).
 *
 * Guarantees (checked by tests/unit/bench):
 *  1. bench_hist_bucket is monotonic and bench_hist_bucket_high(b) is the
 *     largest value that lands in bucket b.
 *  2. A quantile is never below the true value and exceeds it by less
 *     than 1/2^S of it (3.2 % for S = 5); values below 2^S are exact.
 *  3. The maximum is exact and bounds every quantile.
 */
#include "bench.h"

#include <string.h>

void bench_hist_init(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned bench_hist_bucket(uint64_t v)
{
	if (v < (1u << BENCH_HIST_SUB))
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* e >= S */
	unsigned sub = (unsigned)(v >> (e - BENCH_HIST_SUB)) & ((1u << BENCH_HIST_SUB) - 1);
	return ((e - BENCH_HIST_SUB + 1) << BENCH_HIST_SUB) + sub;
}

uint64_t bench_hist_bucket_high(unsigned b)
{
	if (b < (1u << BENCH_HIST_SUB))
		return b;
	unsigned group = b >> BENCH_HIST_SUB;
	unsigned sub = b & ((1u << BENCH_HIST_SUB) - 1);
	unsigned shift = group - 1; /* e - S */
	uint64_t low = ((uint64_t)((1u << BENCH_HIST_SUB) + sub)) << shift;
	return low + ((uint64_t)1 << shift) - 1;
}

void bench_hist_add(struct bench_hist *h, uint64_t v)
{
	h->buckets[bench_hist_bucket(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
	if (v < h->min)
		h->min = v;
}

void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	if (src->max > dst->max)
		dst->max = src->max;
	if (src->min < dst->min)
		dst->min = src->min;
}

uint64_t bench_hist_quantile(const struct bench_hist *h, double q)
{
	if (h->count == 0)
		return 0;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	/* rank: the ceil(q * count)-th smallest value, at least the first */
	uint64_t rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			uint64_t hi = bench_hist_bucket_high(i);
			return hi < h->max ? hi : h->max;
		}
	}
	return h->max;
}
