/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * keygen.c: random numbers and key distributions, used only outside the
 * timed loops (every scenario precomputes per-thread arrays of ids).
 *
 * - xoshiro256** (Blackman & Vigna) seeded by splitmix64: fast, 256 bits
 *   of state, reproducible from one 64-bit seed.
 * - Zipf: the rejection-free generator of Gray et al. ("Quickly generating
 *   billion-record synthetic databases", SIGMOD 1994) as YCSB uses it,
 *   constant theta = 0.99. It needs zeta(n, theta) = sum_{i=1..n} i^-theta,
 *   computed once per generator (O(n)). Ranks 0 and 1 are drawn exactly;
 *   higher ranks follow the continuous approximation.
 * - Scrambled Zipf: the rank goes through a bijective 64-bit mixer and is
 *   reduced modulo n, so the popular items are spread over the key space
 *   instead of clustering at its start (YCSB's ScrambledZipfianGenerator
 *   hashes the same way; a few ranks may collide, as in YCSB).
 *
 * Guarantees (tests/unit/bench): the frequency of rank 0 matches
 * 1/zeta(n, theta) within sampling error; uniform draws pass a chi-square
 * bound; the same seed gives the same sequence.
 */
#include "bench.h"

#include <math.h>
#include <stdlib.h>

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void bench_rng_seed(struct bench_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t bench_rng_next(struct bench_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double bench_rng_double(struct bench_rng *r)
{
	return (double)(bench_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t bench_rng_below(struct bench_rng *r, uint64_t n)
{
	/* rejection: drop the top partial range so every value is equally likely */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = bench_rng_next(r);
	while (x >= limit);
	return x % n;
}

static double zeta(uint64_t n, double theta)
{
	double sum = 0;
	for (uint64_t i = 1; i <= n; i++)
		sum += pow((double)i, -theta);
	return sum;
}

int bench_zipf_init(struct bench_zipf *z, uint64_t n, double theta)
{
	if (n == 0 || !(theta > 0 && theta < 1))
		return -1;
	z->n = n;
	z->theta = theta;
	z->alpha = 1.0 / (1.0 - theta);
	z->zetan = zeta(n, theta);
	double zeta2 = zeta(2, theta);
	z->half_pow_theta = pow(0.5, theta);
	z->eta = (1.0 - pow(2.0 / (double)n, 1.0 - theta)) / (1.0 - zeta2 / z->zetan);
	return 0;
}

uint64_t bench_zipf_rank(const struct bench_zipf *z, struct bench_rng *r)
{
	double u = bench_rng_double(r);
	double uz = u * z->zetan;
	if (uz < 1.0)
		return 0;
	if (uz < 1.0 + z->half_pow_theta)
		return z->n > 1 ? 1 : 0;
	uint64_t k = (uint64_t)((double)z->n * pow(z->eta * u - z->eta + 1.0, z->alpha));
	return k < z->n ? k : z->n - 1;
}

uint64_t bench_zipf_scrambled(const struct bench_zipf *z, struct bench_rng *r)
{
	return bench_mix64(bench_zipf_rank(z, r) + 0x2545f4914f6cdd1dULL) % z->n;
}

double bench_zipf_prob(const struct bench_zipf *z, uint64_t k)
{
	return pow((double)(k + 1), -z->theta) / z->zetan;
}

int bench_fill_ids(uint64_t *ids, size_t count, enum bench_dist dist, uint64_t n,
                   uint64_t base, uint64_t seed)
{
	struct bench_rng r;
	bench_rng_seed(&r, seed);
	if (n == 0)
		return -1;
	if (dist == BENCH_DIST_UNIFORM) {
		for (size_t i = 0; i < count; i++)
			ids[i] = base + bench_rng_below(&r, n);
		return 0;
	}
	struct bench_zipf z;
	if (bench_zipf_init(&z, n, 0.99) != 0)
		return -1;
	for (size_t i = 0; i < count; i++)
		ids[i] = base + bench_zipf_scrambled(&z, &r);
	return 0;
}
