/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sc_replay.c: the `replay` scenario: hit ratios of real traces.
 *
 * Each request is looked up; a miss inserts the key (every miss inserts,
 * cold start, hit ratio = hits / all requests). Policies:
 *   lru-exact  the bench's own exact LRU (lru.c): the reference
 *   opt        Belady's MIN (opt.c): offline, the limit of any policy
 *   arc, 2q, lru2  ARC, 2Q and LRU-2 (classic.c): published policies, to
 *              set a table against the literature's (sizes in entries)
 *   frc, lrfu, and 2q, lru2 with parameters  (tuned.c, lrfu.c): FRC_p and
 *              LRFU, every one with given parameters (frc:0.3) or tuned
 *              offline over a grid (lrfu:tune, or bare frc and lrfu); the
 *              row's policy names the parameters used
 *   default    splitcache itself with its default policy (printed as its
 *              name: steered)
 *   steered    splitcache itself (ghost-steered S3-FIFO) through the public API
 *   s3fifo     splitcache itself (policy S3-FIFO) through the public API
 *   clock      splitcache itself (policy CLOCK) through the public API
 * The real cache runs single-threaded with synchronous_maintenance = 1
 * (the maintainer's step runs in the caller's thread after each write),
 * so the figures are deterministic and come from the code users run, not
 * from a simulator copy of the policy.
 *
 * Sizes: entries by default (splitcache: max_entries of the index pool,
 * budget large enough that bytes never bind); with --unit bytes the size
 * bounds charged bytes (lru-exact: key + value + its entry header; the
 * cache: its budget in indexer mode). A size written `N%` is N per cent
 * of the trace's distinct keys. Keys are the trace's integers as 16-byte
 * keys (bench_key_of); values are 8 bytes, or the request's size in
 * bytes when the trace has sizes and the unit is bytes.
 */
#include "tuned.h"

#include <stdlib.h>
#include <string.h>

#define REPLAY_VLEN 8

static int replay_lru(const struct bench_trace *t, uint64_t size, int unit_bytes, uint64_t *hits)
{
	struct bench_lru *l = bench_lru_new(unit_bytes ? 0 : size, unit_bytes ? size : 0);
	if (!l)
		return -1;
	static const unsigned char zeros[1 << 16];
	unsigned char key[BENCH_KEY_LEN];
	uint64_t h = 0;
	for (size_t i = 0; i < t->n; i++) {
		bench_key_of(t->reqs[i].key, key);
		if (bench_lru_get(l, key, BENCH_KEY_LEN, NULL, 0, NULL)) {
			h++;
			continue;
		}
		size_t vlen = REPLAY_VLEN;
		if (unit_bytes && t->reqs[i].size > 1)
			vlen = t->reqs[i].size < sizeof(zeros) ? t->reqs[i].size : sizeof(zeros);
		if (bench_lru_set(l, key, BENCH_KEY_LEN, zeros, vlen) != 0) {
			bench_lru_free(l);
			return -1;
		}
	}
	bench_lru_free(l);
	*hits = h;
	return 0;
}

static int replay_cache(const struct bench_trace *t, const struct bench_sys *sys, int policy,
                        uint64_t size, int unit_bytes, uint64_t *hits, char *err, size_t errcap)
{
	char why[160] = "";
	if (!sys->available(why, sizeof(why))) {
		snprintf(err, errcap, "%s: %s", sys->name, why);
		return -1;
	}
	struct bench_sys_params p = {.synchronous = 1, .split = 0, .view_share = 0.5, .policy = policy};
	if (unit_bytes) {
		p.budget_bytes = size;
		p.max_entries = 0;
	} else {
		p.max_entries = size;
		/* room for every entry several times over: entries bind, not bytes */
		uint64_t b = size * 1024 + ((uint64_t)64 << 20);
		p.budget_bytes = b;
	}
	void *h = NULL;
	if (sys->open(&p, &h) != 0) {
		snprintf(err, errcap, "%s: open failed", sys->name);
		return -1;
	}
	static const unsigned char zeros[1 << 16];
	unsigned char key[BENCH_KEY_LEN];
	const int pool = 0; /* the index pool holds the cache in replay */
	uint64_t hcount = 0;
	sys->thread_enter(h);
	for (size_t i = 0; i < t->n; i++) {
		bench_key_of(t->reqs[i].key, key);
		if (sys->get(h, pool, key, BENCH_KEY_LEN, NULL, 0)) {
			hcount++;
			continue;
		}
		size_t vlen = REPLAY_VLEN;
		if (unit_bytes && t->reqs[i].size > 1)
			vlen = t->reqs[i].size < sizeof(zeros) ? t->reqs[i].size : sizeof(zeros);
		sys->set(h, pool, key, BENCH_KEY_LEN, zeros, vlen); /* refusals count as misses */
	}
	sys->thread_exit(h);
	sys->close(h);
	*hits = hcount;
	return 0;
}

int bench_replay_one(const struct bench_trace *t, const char *policy, uint64_t size,
                     int unit_bytes, uint64_t *hits, char *err, size_t errcap)
{
	int pol;

	if (strcmp(policy, "lru-exact") == 0) {
		if (replay_lru(t, size, unit_bytes, hits) != 0) {
			snprintf(err, errcap, "lru-exact: out of memory");
			return -1;
		}
		return 0;
	}
	if (strcmp(policy, "opt") == 0) {
		if (unit_bytes) {
			snprintf(err, errcap, "opt: sizes in entries only (--unit entries)");
			return -1;
		}
		if (bench_opt_hits(t, size, hits) != 0) {
			snprintf(err, errcap, "opt: out of memory");
			return -1;
		}
		return 0;
	}
	if (bench_tuned_is(policy)) {
		if (unit_bytes) {
			snprintf(err, errcap, "%s: sizes in entries only (--unit entries)", policy);
			return -1;
		}
		return bench_tuned_one(t, policy, size, hits, NULL, 0, err, errcap, NULL, NULL);
	}
	if (strcmp(policy, "arc") == 0 || strcmp(policy, "2q") == 0 || strcmp(policy, "lru2") == 0) {
		if (unit_bytes) {
			snprintf(err, errcap, "%s: sizes in entries only (--unit entries)", policy);
			return -1;
		}
		if (bench_classic_hits(t, policy, size, hits) != 0) {
			snprintf(err, errcap, "%s: out of memory", policy);
			return -1;
		}
		return 0;
	}
	if (bench_splitcache_policy(policy, &pol) == 0)
		return replay_cache(t, &bench_sys_splitcache, pol, size, unit_bytes, hits, err, errcap);
	snprintf(err, errcap,
	         "unknown policy '%s' (lru-exact, opt, arc, 2q, lru2, frc, lrfu, default, "
	         "steered, s3fifo, clock; frc, 2q, lru2, lrfu take :PARAMS or :tune)",
	         policy);
	return -1;
}

static void tune_progress(void *arg, const char *line)
{
	bench_progress(arg, "replay: tuning %s", line);
}

/* bench_replay_one, but a parameterised reference (tuned.h) also gives
 * the label of its parameters (the best ones when tuning), printed. */
static int replay_labelled(const struct bench_opts *o, const struct bench_trace *t,
                           const char *policy, uint64_t size, uint64_t *hits, char *label,
                           size_t cap, char *err, size_t errcap)
{
	if (!bench_tuned_is(policy) || o->unit_bytes)
		return bench_replay_one(t, policy, size, o->unit_bytes, hits, err, errcap);
	if (bench_tuned_one(t, policy, size, hits, label, cap, err, errcap, tune_progress,
	                    (void *)o) != 0)
		return -1;
	if (strstr(policy, "tune") || !strchr(policy, ':'))
		printf("replay: %s at %llu entries: best %s, %llu hits (%.2f %%)\n", policy,
		       (unsigned long long)size, label, (unsigned long long)*hits,
		       t->n ? 100.0 * (double)*hits / (double)t->n : 0);
	return 0;
}

int bench_scenario_replay(const struct bench_opts *o, struct bench_report *r)
{
	static const char *const default_policies[] = {"lru-exact", "opt", "steered", "s3fifo",
	                                                "clock"};
	const char *const *pols = o->n_policies ? o->policies : default_policies;
	int npol = o->n_policies ? o->n_policies : 5;
	char why[160];
	if (!o->n_policies && !bench_sys_splitcache.available(why, sizeof(why))) {
		fprintf(stderr, "replay: the cache's policies skipped: %s\n", why);
		npol = 2; /* lru-exact and opt only */
	}
	if (o->n_traces == 0) {
		fprintf(stderr, "replay: --trace FILE is required\n");
		return -1;
	}
	char *list = bench_json_str_list(o->traces, o->n_traces);
	bench_report_param(r, "duration_s", "null"); /* not timed: runs to completion */
	if (list)
		bench_report_param(r, "traces", list);
	free(list);
	list = bench_json_str_list(pols, npol);
	if (list)
		bench_report_param(r, "policies", list);
	free(list);
	bench_report_param(r, "unit", o->unit_bytes ? "\"bytes\"" : "\"entries\"");
	bench_report_param(r, "threads", "[1]");
	bench_report_param(r, "synchronous_maintenance", "true");
	int failures = 0;
	for (int ti = 0; ti < o->n_traces; ti++) {
		const char *path = o->traces[ti];
		enum bench_trace_format fmt = o->format;
		if (!o->have_format && bench_trace_format_guess(path, &fmt) != 0) {
			fprintf(stderr, "replay: %s: cannot guess the format; give --format\n", path);
			failures++;
			continue;
		}
		struct bench_trace t;
		char err[256];
		bench_progress(o, "replay: loading %s", path);
		if (bench_trace_load(path, fmt, &t, err, sizeof(err)) != 0) {
			fprintf(stderr, "replay: %s\n", err);
			failures++;
			continue;
		}
		bench_trace_count_distinct(&t);
		uint64_t sizes[BENCH_MAX_LIST * 2];
		int ns = 0;
		for (int i = 0; i < o->n_sizes; i++)
			sizes[ns++] = o->sizes[i];
		for (int i = 0; i < o->n_size_pcts; i++) {
			double base = o->unit_bytes ? (double)t.total_bytes : (double)t.distinct;
			uint64_t s = (uint64_t)(base * o->size_pcts[i] / 100.0 + 0.5);
			sizes[ns++] = s ? s : 1;
		}
		printf("replay: %s (format %s): %zu requests, %zu distinct keys; unit %s; sizes",
		       path, bench_trace_format_name(fmt), t.n, t.distinct,
		       o->unit_bytes ? "bytes" : "entries");
		for (int i = 0; i < ns; i++)
			printf(" %llu", (unsigned long long)sizes[i]);
		printf("; every miss inserts, cold start\n");
		for (int p = 0; p < npol; p++)
			for (int s = 0; s < ns; s++) {
				uint64_t hits = 0;
				bench_progress(o, "replay: %s %s size %llu", path, pols[p],
				               (unsigned long long)sizes[s]);
				char label[16] = "";
				if (replay_labelled(o, &t, pols[p], sizes[s], &hits, label, sizeof(label),
				                    err, sizeof(err)) != 0) {
					fprintf(stderr, "replay: %s\n", err);
					failures++;
					continue;
				}
				/* "default" is reported under the policy's own name */
				const char *pname = pols[p];
				int pol;
				if (strcmp(pname, "default") == 0 && bench_splitcache_policy(pname, &pol) == 0)
					pname = bench_splitcache_policy_name(pol);
				char sysbuf[8];
				if (label[0]) { /* a parameterised reference: system = its name */
					snprintf(sysbuf, sizeof(sysbuf), "%.*s", (int)strcspn(label, ":"),
					         label);
					pname = label;
				}
				const char *sysname = label[0] ? sysbuf
				                      : strcmp(pname, "lru-exact") == 0 ? "lru-exact"
				                      : strcmp(pname, "opt") == 0     ? "opt"
				                      : strcmp(pname, "arc") == 0     ? "arc"
				                      : strcmp(pname, "2q") == 0      ? "2q"
				                      : strcmp(pname, "lru2") == 0    ? "lru2"
				                      : strcmp(pname, "clock") == 0   ? "splitcache-clock"
				                      : strcmp(pname, "s3fifo") == 0  ? "splitcache-s3fifo"
				                                                      : "splitcache";
				struct bench_row *row = bench_report_add(r, sysname);
				if (!row)
					break;
				const char *base = strrchr(path, '/');
				snprintf(row->trace, sizeof(row->trace), "%s", base ? base + 1 : path);
				snprintf(row->policy, sizeof(row->policy), "%s", pname);
				row->threads = 1;
				row->size = BENCH_NUM(sizes[s]);
				row->hits = BENCH_NUM(hits);
				row->requests = BENCH_NUM(t.n);
				row->hit_ratio = BENCH_NUM(t.n ? (double)hits / (double)t.n : 0);
			}
		bench_trace_free(&t);
	}
	bench_progress(o, "\n");
	return failures ? -1 : 0;
}
