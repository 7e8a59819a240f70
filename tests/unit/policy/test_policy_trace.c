/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/policy/test_policy_trace.c: the policies driving a simulated
 * cache on a synthetic, deterministic Zipf-like trace.
 *
 *  - determinism (core/policy.c guarantee 5): the same trace, with deletes,
 *    replacements and sweeps, gives the same victims twice;
 *  - hit ratios: Zipf(0.99), 200,000 requests over 20,000 keys, a cache of
 *    2,000 items. S3-FIFO must be within 0.02 of CLOCK or better, and both
 *    above FIFO (CLOCK whose counters are never bumped: no second chance).
 *    These follow from the algorithms: on a skewed trace a second chance
 *    keeps hot keys, and S3-FIFO filters one-hit wonders out of M
 *    (Yang et al., SOSP 2023, section 5).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "check_run.h"
#include "fake_item.h"

#define ZIPF_KEYS 20000
#define ZIPF_REQUESTS 200000
#define ZIPF_CACHE 2000

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Key ranks drawn from Zipf(alpha) over nkeys by inverting the CDF; the
 * rank is scattered over the key space so hot keys are not neighbours. */
struct zipf {
	double *cdf;
	int nkeys;
	uint64_t seed;
};

static void zipf_init(struct zipf *z, int nkeys, double alpha, uint64_t seed)
{
	double sum = 0;
	int i;

	z->cdf = malloc(sizeof(double) * (size_t)nkeys);
	ck_assert_ptr_nonnull(z->cdf);
	for (i = 0; i < nkeys; i++) {
		sum += 1.0 / pow((double)(i + 1), alpha);
		z->cdf[i] = sum;
	}
	for (i = 0; i < nkeys; i++)
		z->cdf[i] /= sum;
	z->nkeys = nkeys;
	z->seed = seed;
}

static int zipf_next(struct zipf *z)
{
	double u = (double)(splitmix(&z->seed) >> 11) * (1.0 / 9007199254740992.0);
	int lo = 0, hi = z->nkeys - 1;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (z->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int)(((uint64_t)lo * 7919u) % (uint64_t)z->nkeys);
}

/* The simulated cache: one policy, the current item of each key, an item
 * pool (one fresh item per admission, so dead items can stay queued while
 * their key is stored again). Capacity counts queued items, dead ones
 * included: they hold memory until collected. */
struct sim {
	struct spc_policy_state *p;
	struct fitem **cur;
	struct fitem *pool;
	int npool;
	uint64_t hits, requests, evictions, dead_back;
	int bump;       /* readers bump counters on hits (0: plain FIFO) */
	int mutate;     /* deletes, replacements and sweeps too */
	int *victims;   /* pool index of each item handed back, or NULL */
	int nvictims;
	size_t memory;  /* the policy's bytes at the end of the run */
};

static void sim_reclaim(void *arg, void *item)
{
	struct sim *s = arg;
	struct fitem *it = item;

	FAST_ASSERT(it->dead == 1);
	it->dead = 2;
	s->dead_back++;
	if (s->victims)
		s->victims[s->nvictims++] = -1 - (int)(it - s->pool);
}

static void sim_make_room(struct sim *s)
{
	while (spc_policy_size(s->p) >= ZIPF_CACHE) {
		void *v;
		enum spc_victim_kind k = spc_policy_next(s->p, 16, &v);
		struct fitem *it = v;

		if (k == SPC_VICTIM_NONE)
			continue;
		if (k == SPC_VICTIM_EVICT) {
			FAST_ASSERT(!it->dead);
			FAST_ASSERT(s->cur[it->id] == it);
			s->cur[it->id] = NULL;
			s->evictions++;
		} else {
			FAST_ASSERT(it->dead == 1);
			it->dead = 2;
			s->dead_back++;
		}
		if (s->victims) {
			int idx = (int)(it - s->pool);

			s->victims[s->nvictims++] = k == SPC_VICTIM_EVICT ? idx : -1 - idx;
		}
	}
}

static void sim_run(struct sim *s, enum spc_policy kind, int requests)
{
	struct zipf z;
	uint64_t mseed = 99;
	int r;

	zipf_init(&z, ZIPF_KEYS, 0.99, 12345);
	s->cur = calloc(ZIPF_KEYS, sizeof *s->cur);
	s->pool = calloc((size_t)requests, sizeof *s->pool);
	ck_assert(s->cur && s->pool);
	s->npool = 0;
	ck_assert_int_eq(spc_policy_create(kind, &fitem_ops, NULL, ZIPF_CACHE, &s->p), SPC_OK);
	for (r = 0; r < requests; r++) {
		int key = zipf_next(&z);
		struct fitem *it = s->cur[key];
		unsigned m = s->mutate ? (unsigned)(splitmix(&mseed) % 64) : 64;

		s->requests++;
		if (it && m == 0) { /* delete */
			it->dead = 1;
			s->cur[key] = NULL;
			continue;
		}
		if (m == 1) /* sweep now and then */
			spc_policy_sweep(s->p, 64, sim_reclaim, s);
		if (it && m != 2) { /* hit (m == 2: a replacing write) */
			s->hits++;
			if (s->bump && it->freq < 3)
				it->freq++;
			continue;
		}
		if (it)
			it->dead = 1;
		s->cur[key] = NULL;
		sim_make_room(s);
		it = &s->pool[s->npool++];
		it->id = key;
		it->hash = splitmix(&(uint64_t){ (uint64_t)key });
		FAST_ASSERT(spc_policy_admit(s->p, it) == SPC_OK);
		s->cur[key] = it;
	}
	s->memory = spc_policy_memory(s->p);
	spc_policy_destroy(s->p);
	free(s->cur);
	free(s->pool);
	free(z.cdf);
}

static double hit_ratio(enum spc_policy kind, int bump, size_t *memory)
{
	struct sim s;

	memset(&s, 0, sizeof s);
	s.bump = bump;
	sim_run(&s, kind, ZIPF_REQUESTS);
	ck_assert_uint_eq(s.requests, ZIPF_REQUESTS);
	ck_assert_uint_gt(s.evictions, 0);
	*memory = s.memory;
	return (double)s.hits / (double)s.requests;
}

/* Exact LRU on the same trace, for scale (printed, not asserted): a doubly
 * linked list over the keys, most recent at the head. */
static double lru_hit_ratio(void)
{
	struct zipf z;
	int *prev = malloc(sizeof(int) * ZIPF_KEYS), *next = malloc(sizeof(int) * ZIPF_KEYS);
	char *in = calloc(ZIPF_KEYS, 1);
	int head = -1, tail = -1, count = 0, r;
	uint64_t hits = 0;

	ck_assert(prev && next && in);
	zipf_init(&z, ZIPF_KEYS, 0.99, 12345);
	for (r = 0; r < ZIPF_REQUESTS; r++) {
		int k = zipf_next(&z);

		if (in[k]) {
			hits++;
			if (k == head)
				continue;
			next[prev[k]] = next[k]; /* unlink (k is not the head) */
			if (next[k] >= 0)
				prev[next[k]] = prev[k];
			else
				tail = prev[k];
		} else if (count == ZIPF_CACHE) {
			int v = tail;

			tail = prev[v];
			next[tail] = -1;
			in[v] = 0;
		} else {
			count++;
		}
		in[k] = 1;
		prev[k] = -1;
		next[k] = head;
		if (head >= 0)
			prev[head] = k;
		head = k;
		if (tail < 0)
			tail = k;
	}
	free(prev);
	free(next);
	free(in);
	free(z.cdf);
	return (double)hits / ZIPF_REQUESTS;
}

START_TEST(test_hit_ratio_zipf)
{
	size_t m3, mc, mf;
	double s3 = hit_ratio(SPC_POLICY_S3FIFO, 1, &m3);
	double clock = hit_ratio(SPC_POLICY_CLOCK, 1, &mc);
	double fifo = hit_ratio(SPC_POLICY_CLOCK, 0, &mf);
	double lru = lru_hit_ratio();

	printf("hit ratio, Zipf(0.99), %d requests, %d keys, cache %d items: "
	       "s3fifo %.4f  clock %.4f  fifo %.4f  (exact LRU %.4f)\n",
	       ZIPF_REQUESTS, ZIPF_KEYS, ZIPF_CACHE, s3, clock, fifo, lru);
	printf("policy memory per cached item: s3fifo %.1f B  clock %.1f B\n",
	       (double)m3 / ZIPF_CACHE, (double)mc / ZIPF_CACHE);
	fflush(stdout);
	ck_assert_msg(s3 >= clock - 0.02, "s3fifo %.4f < clock %.4f - 0.02", s3, clock);
	ck_assert_msg(clock > fifo, "clock %.4f <= fifo %.4f", clock, fifo);
	ck_assert_msg(s3 > fifo, "s3fifo %.4f <= fifo %.4f", s3, fifo);
}
END_TEST

#define DET_REQUESTS 60000

/* Two runs of the same trace, with deletes, replacements and sweeps, give
 * the same victims in the same order, for both policies. */
START_TEST(test_determinism)
{
	enum spc_policy kind = _i ? SPC_POLICY_CLOCK : SPC_POLICY_S3FIFO;
	int *v[2];
	int n[2], run;
	uint64_t dead_back[2];

	for (run = 0; run < 2; run++) {
		struct sim s;

		memset(&s, 0, sizeof s);
		s.bump = 1;
		s.mutate = 1;
		s.victims = malloc(sizeof(int) * DET_REQUESTS * 2);
		ck_assert_ptr_nonnull(s.victims);
		sim_run(&s, kind, DET_REQUESTS);
		ck_assert_int_gt(s.nvictims, DET_REQUESTS / 10);
		ck_assert_uint_gt(s.dead_back, 0);
		v[run] = s.victims;
		n[run] = s.nvictims;
		dead_back[run] = s.dead_back;
	}
	ck_assert_int_eq(n[0], n[1]);
	ck_assert_uint_eq(dead_back[0], dead_back[1]);
	ck_assert(memcmp(v[0], v[1], sizeof(int) * (size_t)n[0]) == 0);
	free(v[0]);
	free(v[1]);
}
END_TEST

static Suite *trace_suite(void)
{
	Suite *s = suite_create("policy-trace");
	TCase *tc = tcase_create("trace");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_hit_ratio_zipf);
	tcase_add_loop_test(tc, test_determinism, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(trace_suite());
}
