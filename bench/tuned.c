/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tuned.c: replay references with a parameter, and their offline tuning.
 *
 * The ARC paper's Table IV (Megiddo and Modha, FAST 2003) sets ARC, which
 * has no parameter, against policies whose parameters were tuned offline
 * for each trace and size: FRC (ARC's lists with p fixed), LRU-2, 2Q and
 * LRFU. The bench's `arc`, `2q` and `lru2` replay one setting each; this
 * file gives each policy its parameters and finds the best ones:
 *
 *   frc:P          FRC_p, p = P times the cache (0..1)
 *   2q:KIN/KOUT    2Q, Kin and Kout as shares of the cache (2q = 2q:0.25/0.5)
 *   lru2:CRP/HIST  LRU-2, correlated-reference period CRP in requests and
 *                  the history of HIST times the cache in evicted keys
 *                  (`inf`: every key; lru2 = lru2:0/inf)
 *   lrfu:LAMBDA[/H] LRFU, lambda in 0..1, the CRF of H times the cache in
 *                  evicted keys kept (`inf`: all; default 0, none)
 *                  (bench/lrfu.c)
 *   NAME:tune, or the bare name for frc and lrfu: every point of the grid
 *                  below, the best kept (the first in grid order on a tie)
 *
 * The grids (documented in docs/policies.md):
 *   frc   P = 0, 0.01, ..., 1; then P +- 0.001 .. 0.009 around the best
 *   2q    Kin in 15 shares from 1 % to 75 %, Kout in 10 from 5 % to 400 %
 *   lru2  CRP in 0, 1, 2, 5, 10, 20, 50, 100 requests and 5 %, 10 %, 20 %,
 *         30 %, ... 90 % of the cache (increasing, below the cache's size),
 *         HIST in 0, 1/4, 1/2, 1, 2, 4, 8, inf
 *   lrfu  lambda = 10^(k/10), k = -60 .. 0 (1e-6 to 1, 61 points) with
 *         each history H of 0, 1/2, 1, 2, 4, inf; then, with the best
 *         point's H, 10^(j/200) for the 19 points on either side of its
 *         lambda (steps of 1.2 %, out to the coarse neighbours)
 * Every point is rounded as its label prints it (3 significant digits),
 * so a label given back as a policy replays the same figure.
 * The trace's keys are numbered once, then each point is one replay: no
 * randomness, so a tuning gives the same answer on every run.
 */
#include "tuned.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[] = {"arc", "frc", "2q", "lru2", "lrfu"};

/* Splits "NAME[:REST]"; returns the kind, or -1. rest: after ':', NULL
 * when there is no ':'. */
static int kind_of(const char *policy, const char **rest)
{
	const char *colon = strchr(policy, ':');
	size_t len = colon ? (size_t)(colon - policy) : strlen(policy);

	for (int k = BENCH_REF_FRC; k <= BENCH_REF_LRFU; k++)
		if (strlen(names[k]) == len && strncmp(policy, names[k], len) == 0) {
			*rest = colon ? colon + 1 : NULL;
			return k;
		}
	return -1;
}

int bench_tuned_is(const char *policy)
{
	const char *rest;
	int k = kind_of(policy, &rest);

	if (k < 0)
		return 0;
	return strchr(policy, ':') || k == BENCH_REF_FRC || k == BENCH_REF_LRFU;
}

static int num(const char *s, char **end, double *v)
{
	if (strncmp(s, "inf", 3) == 0) {
		*v = INFINITY;
		*end = (char *)s + 3;
		return 0;
	}
	*v = strtod(s, end);
	return *end == s || !isfinite(*v) ? -1 : 0;
}

/* Parses the parameters after "NAME:" (rest NULL: the bare name);
 * *tune set for "tune" and the bare name. */
static int parse(int kind, const char *rest, struct bench_ref *r, int *tune)
{
	char *end;
	double a = 0, b = 0;

	r->kind = (enum bench_ref_kind)kind;
	*tune = 0;
	if (!rest || strcmp(rest, "tune") == 0) {
		*tune = 1;
		r->a = r->b = 0;
		return 0;
	}
	if (num(rest, &end, &a) != 0)
		return -1;
	if (*end == '/') {
		if (kind == BENCH_REF_FRC || num(end + 1, &end, &b) != 0)
			return -1;
	} else if (kind == BENCH_REF_2Q || kind == BENCH_REF_LRU2) {
		return -1; /* two parameters */
	}
	if (*end)
		return -1;
	r->a = a;
	r->b = b;
	switch (kind) {
	case BENCH_REF_FRC:
		return a >= 0 && a <= 1 ? 0 : -1;
	case BENCH_REF_2Q:
		return a >= 0 && b >= 0 && !isinf(b) ? 0 : -1;
	case BENCH_REF_LRU2:
		return a >= 0 && a == floor(a) && a < 4e9 && b >= 0 ? 0 : -1;
	default:
		return a >= 0 && a <= 1 && b >= 0 ? 0 : -1;
	}
}

static void label_of(const struct bench_ref *r, char *out, size_t cap)
{
	switch (r->kind) {
	case BENCH_REF_FRC:
		snprintf(out, cap, "frc:%.3g", r->a);
		break;
	case BENCH_REF_2Q:
		snprintf(out, cap, "2q:%.3g/%.3g", r->a, r->b);
		break;
	case BENCH_REF_LRU2:
		if (isinf(r->b))
			snprintf(out, cap, "lru2:%.0f/inf", r->a);
		else
			snprintf(out, cap, "lru2:%.0f/%.3g", r->a, r->b);
		break;
	default: {
		/* lambda: 3 significant digits, below 0.01 as an integer
		 * mantissa ("372e-6"), so that every label fits 15 characters */
		char lam[16], hist[24] = "";
		if (r->a > 0 && r->a < 0.01) {
			int e = (int)floor(log10(r->a)) - 2;
			long m = lround(r->a / pow(10, e));

			if (m >= 1000) {
				m = lround((double)m / 10);
				e++;
			}
			while (m % 10 == 0) {
				m /= 10;
				e++;
			}
			snprintf(lam, sizeof(lam), "%lde%d", m, e);
		} else {
			snprintf(lam, sizeof(lam), "%.3g", r->a);
		}
		if (isinf(r->b))
			snprintf(hist, sizeof(hist), "/inf");
		else if (r->b > 0)
			snprintf(hist, sizeof(hist), "/%.3g", r->b);
		snprintf(out, cap, "lrfu:%s%s", lam, hist);
	}
	}
}

static int run(const uint32_t *ids, size_t n, uint32_t nkeys, const struct bench_ref *r,
               uint64_t size, uint64_t *hits)
{
	if (r->kind == BENCH_REF_LRFU)
		return bench_lrfu_run(ids, n, nkeys, r->a,
		                      isinf(r->b) ? UINT64_MAX : (uint64_t)(r->b * (double)size + 0.5),
		                      size, hits);
	return bench_classic_run(ids, n, nkeys, r, size, hits);
}

struct tuning {
	const uint32_t *ids;
	size_t n;
	uint32_t nkeys;
	uint64_t size, best_hits;
	struct bench_ref best;
	int tried, failed;
	void (*progress)(void *arg, const char *line);
	void *arg;
};

/* Replays one point, rounded as its label says (so that the label, given
 * back as a policy, replays exactly the same figure). */
static void try_one(struct tuning *tu, const struct bench_ref *point)
{
	uint64_t h = 0;
	char line[96], lab[32];
	struct bench_ref rr, *r = &rr;
	int tune_flag;

	label_of(point, lab, sizeof(lab));
	if (parse(point->kind, strchr(lab, ':') + 1, &rr, &tune_flag) != 0 ||
	    run(tu->ids, tu->n, tu->nkeys, r, tu->size, &h) != 0) {
		tu->failed = 1;
		return;
	}
	if (tu->tried == 0 || h > tu->best_hits) {
		tu->best_hits = h;
		tu->best = *r;
	}
	tu->tried++;
	if (tu->progress) {
		snprintf(line, sizeof(line), "%s size %llu: %llu hits", lab,
		         (unsigned long long)tu->size, (unsigned long long)h);
		tu->progress(tu->arg, line);
	}
}

static void tune(struct tuning *tu, const struct bench_ref *spec)
{
	static const double kin[] = {0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2,
	                             0.25, 0.3,  0.35, 0.4,  0.5,   0.6, 0.75};
	static const double kout[] = {0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4};
	static const double crp[] = {0, 1, 2, 5, 10, 20, 50, 100};
	static const double crp_share[] = {0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
	static const double hist[] = {0, 0.25, 0.5, 1, 2, 4, 8, INFINITY};
	struct bench_ref r = *spec;

	switch (spec->kind) {
	case BENCH_REF_FRC: {
		for (int i = 0; i <= 100; i++) {
			r.a = i / 100.0;
			try_one(tu, &r);
		}
		double mid = tu->best.a;
		for (int i = -9; i <= 9; i++) {
			r.a = mid + i / 1000.0;
			if (i != 0 && r.a >= 0 && r.a <= 1)
				try_one(tu, &r);
		}
		break;
	}
	case BENCH_REF_2Q:
		for (size_t i = 0; i < sizeof(kin) / sizeof(kin[0]); i++)
			for (size_t j = 0; j < sizeof(kout) / sizeof(kout[0]); j++) {
				r.a = kin[i];
				r.b = kout[j];
				try_one(tu, &r);
			}
		break;
	case BENCH_REF_LRU2: {
		size_t nc = sizeof(crp) / sizeof(crp[0]), ns = sizeof(crp_share) / sizeof(crp_share[0]);
		double prev = -1;
		for (size_t i = 0; i < nc + ns; i++) {
			double v = i < nc ? crp[i] : floor(crp_share[i - nc] * (double)tu->size);

			if (v <= prev || v >= (double)tu->size)
				continue; /* grid in increasing order, below the size */
			prev = v;
			for (size_t j = 0; j < sizeof(hist) / sizeof(hist[0]); j++) {
				r.a = v;
				r.b = hist[j];
				try_one(tu, &r);
			}
		}
		break;
	}
	default: {
		static const double keep[] = {0, 0.5, 1, 2, 4, INFINITY};
		struct bench_ref best = r;
		uint64_t best_hits = 0;

		/* each history over the coarse grid; then the fine grid around
		 * the best point, with its history */
		for (size_t h = 0; h < sizeof(keep) / sizeof(keep[0]); h++)
			for (int k = -60; k <= 0; k++) {
				r.a = pow(10, k / 10.0);
				r.b = keep[h];
				try_one(tu, &r);
				if (tu->best_hits > best_hits || (h == 0 && k == -60)) {
					best_hits = tu->best_hits;
					best = r;
				}
			}
		double e = round(log10(best.a) * 200);
		r.b = best.b;
		for (int j = -19; j <= 19; j++) {
			r.a = pow(10, (e + j) / 200.0);
			if (j != 0 && r.a <= 1)
				try_one(tu, &r);
		}
	}
	}
}

int bench_tuned_one(const struct bench_trace *t, const char *policy, uint64_t size,
                    uint64_t *hits, char *label, size_t labelcap, char *err, size_t errcap,
                    void (*progress)(void *arg, const char *line), void *arg)
{
	const char *rest = NULL;
	int kind = kind_of(policy, &rest), tuning = 0;
	struct bench_ref r;
	uint32_t nkeys = 0, *ids;
	struct tuning tu = {0};

	if (kind < 0 || (!rest && kind != BENCH_REF_FRC && kind != BENCH_REF_LRFU) ||
	    parse(kind, rest, &r, &tuning) != 0) {
		snprintf(err, errcap,
		         "%s: bad parameters (frc:P, 2q:KIN/KOUT, lru2:CRP/HIST, lrfu:LAMBDA[/H], "
		         "or NAME:tune)",
		         policy);
		return -1;
	}
	if (size == 0 || !(ids = bench_number_keys(t, &nkeys))) {
		snprintf(err, errcap, "%s: %s", policy, size ? "out of memory" : "size 0");
		return -1;
	}
	tu = (struct tuning){ids, t->n, nkeys, size, 0, r, 0, 0, progress, arg};
	if (tuning)
		tune(&tu, &r);
	else
		try_one(&tu, &r);
	free(ids);
	if (tu.failed || tu.tried == 0) {
		snprintf(err, errcap, "%s: out of memory", policy);
		return -1;
	}
	*hits = tu.best_hits;
	if (label)
		label_of(&tu.best, label, labelcap);
	return 0;
}
