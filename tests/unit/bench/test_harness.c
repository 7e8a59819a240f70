/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_harness.c: splitcache-bench's own modules on known data.
 *   - histogram: exact below 2^5, bounded relative error above, max exact
 *   - key generators: Zipf rank-0/1 frequencies against theory, uniform
 *     chi-square bound, determinism, scrambled items in range
 *   - exact LRU: victim order, entry and byte bounds
 *   - trace parsers on small synthetic files (plain, gzip)
 *   - JSON: every key of docs/bench-format.md's schema present, nulls where they do
 *     not apply, and the file parses (python3's json module when present)
 *   - a tiny read-scaling and replay end to end through the scenarios, and
 *     the mixed scenario with the RocksDB peers (rocksdb-lru, rocksdb-hcc)
 *     where this build has them (SPC_TEST_HAVE_ROCKSDB)
 *   - settling after a load: splitcache's settle callback returns once its
 *     index holds one table grown for the load and nothing waits for
 *     reclamation; the memory scenario's rows record settle_s and settled
 *     (true for splitcache, null for a peer that only pauses) in the JSON
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "bench.h"
#include "core/handle.h"
#include "splitcache.h"

START_TEST(test_hist_known)
{
	struct bench_hist h;
	bench_hist_init(&h);
	for (uint64_t v = 1; v <= 1000; v++)
		bench_hist_add(&h, v);
	ck_assert_uint_eq(h.count, 1000);
	ck_assert_uint_eq(h.max, 1000);
	ck_assert_uint_eq(bench_hist_quantile(&h, 1.0), 1000);
	uint64_t p50 = bench_hist_quantile(&h, 0.5), p99 = bench_hist_quantile(&h, 0.99);
	ck_assert(p50 >= 500 && p50 <= 500 + 500 / 32);
	ck_assert(p99 >= 990 && p99 <= 990 + 990 / 32);
	uint64_t p999 = bench_hist_quantile(&h, 0.999);
	ck_assert(p999 >= 999 && p999 <= 1000);

	/* exact below 32 */
	bench_hist_init(&h);
	for (uint64_t v = 0; v < 32; v++)
		bench_hist_add(&h, v);
	ck_assert_uint_eq(bench_hist_quantile(&h, 0.5), 15);
	ck_assert_uint_eq(bench_hist_quantile(&h, 0.0), 0);

	/* bucket bounds: v lands in the bucket whose high end is the first >= v */
	struct bench_rng r;
	bench_rng_seed(&r, 7);
	for (int i = 0; i < 100000; i++) {
		uint64_t v = bench_rng_next(&r) >> (bench_rng_next(&r) % 64);
		unsigned b = bench_hist_bucket(v);
		ck_assert(b < BENCH_HIST_BUCKETS);
		ck_assert(v <= bench_hist_bucket_high(b));
		if (b > 0)
			ck_assert(v > bench_hist_bucket_high(b - 1));
		ck_assert((double)(bench_hist_bucket_high(b) - v) <= (double)v / 32.0 + 1.0);
	}
	ck_assert_uint_eq(bench_hist_bucket_high(BENCH_HIST_BUCKETS - 1), UINT64_MAX);

	/* merge */
	struct bench_hist a, c;
	bench_hist_init(&a);
	bench_hist_init(&c);
	bench_hist_add(&a, 10);
	bench_hist_add(&c, 5000);
	bench_hist_merge(&a, &c);
	ck_assert_uint_eq(a.count, 2);
	ck_assert_uint_eq(a.max, 5000);
	ck_assert_uint_eq(a.min, 10);
	ck_assert_uint_eq(bench_hist_quantile(&a, 0.5), 10);
}
END_TEST

START_TEST(test_zipf_theory)
{
	struct bench_zipf z;
	ck_assert_int_eq(bench_zipf_init(&z, 0, 0.99), -1);
	ck_assert_int_eq(bench_zipf_init(&z, 10, 1.5), -1);
	ck_assert_int_eq(bench_zipf_init(&z, 10000, 0.99), 0);
	struct bench_rng r;
	bench_rng_seed(&r, 42);
	const int n = 1000000;
	int c0 = 0, c1 = 0;
	for (int i = 0; i < n; i++) {
		uint64_t k = bench_zipf_rank(&z, &r);
		ck_assert(k < 10000);
		c0 += k == 0;
		c1 += k == 1;
	}
	double p0 = bench_zipf_prob(&z, 0), p1 = bench_zipf_prob(&z, 1);
	double f0 = (double)c0 / n, f1 = (double)c1 / n;
	/* 1 M draws: sampling error of f0 ~0.4 % relative; allow 3 % */
	ck_assert_msg(fabs(f0 - p0) / p0 < 0.03, "rank 0: %f vs theory %f", f0, p0);
	ck_assert_msg(fabs(f1 - p1) / p1 < 0.05, "rank 1: %f vs theory %f", f1, p1);
	/* scrambled: in range, and the most popular item is not item 0 */
	uint64_t ids[4096];
	ck_assert_int_eq(bench_fill_ids(ids, 4096, BENCH_DIST_ZIPF, 10000, 100, 1), 0);
	for (int i = 0; i < 4096; i++)
		ck_assert(ids[i] >= 100 && ids[i] < 10100);
	uint64_t again[4096];
	bench_fill_ids(again, 4096, BENCH_DIST_ZIPF, 10000, 100, 1);
	ck_assert(memcmp(ids, again, sizeof(ids)) == 0);
	bench_fill_ids(again, 4096, BENCH_DIST_ZIPF, 10000, 100, 2);
	ck_assert(memcmp(ids, again, sizeof(ids)) != 0);
}
END_TEST

START_TEST(test_uniform_chi2)
{
	enum { BINS = 100, DRAWS = 500000 };
	uint64_t *ids = malloc(DRAWS * sizeof(*ids));
	ck_assert_ptr_nonnull(ids);
	ck_assert_int_eq(bench_fill_ids(ids, DRAWS, BENCH_DIST_UNIFORM, BINS, 0, 9), 0);
	long count[BINS] = {0};
	for (int i = 0; i < DRAWS; i++) {
		ck_assert(ids[i] < BINS);
		count[ids[i]]++;
	}
	double expect = (double)DRAWS / BINS, chi2 = 0;
	for (int b = 0; b < BINS; b++)
		chi2 += ((double)count[b] - expect) * ((double)count[b] - expect) / expect;
	/* 99 degrees of freedom: mean 99, sd 14; 6 sd is far in the tail */
	ck_assert_msg(chi2 < 99 + 6 * 14, "chi2 %f", chi2);
	free(ids);
	/* keys of distinct ids differ */
	unsigned char k1[16], k2[16];
	bench_key_of(1, k1);
	bench_key_of(2, k2);
	ck_assert(memcmp(k1, k2, 16) != 0);
}
END_TEST

START_TEST(test_lru_exact)
{
	struct bench_lru *l = bench_lru_new(3, 0);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(bench_lru_set(l, "a", 1, "1", 1), 0);
	ck_assert_int_eq(bench_lru_set(l, "b", 1, "2", 1), 0);
	ck_assert_int_eq(bench_lru_set(l, "c", 1, "3", 1), 0);
	char v = 0;
	size_t vl = 0;
	ck_assert_int_eq(bench_lru_get(l, "a", 1, &v, 1, &vl), 1); /* a is now most recent */
	ck_assert_int_eq(v, '1');
	ck_assert_uint_eq(vl, 1);
	ck_assert_int_eq(bench_lru_set(l, "d", 1, "4", 1), 0); /* evicts b */
	ck_assert_int_eq(bench_lru_get(l, "b", 1, NULL, 0, NULL), 0);
	ck_assert_int_eq(bench_lru_get(l, "c", 1, NULL, 0, NULL), 1);
	ck_assert_int_eq(bench_lru_get(l, "a", 1, NULL, 0, NULL), 1);
	ck_assert_int_eq(bench_lru_del(l, "a", 1), 1);
	ck_assert_int_eq(bench_lru_del(l, "a", 1), 0);
	struct bench_lru_stats st;
	bench_lru_stats(l, &st);
	ck_assert_uint_eq(st.items, 2);
	ck_assert_uint_eq(st.evictions, 1);
	bench_lru_free(l);

	/* byte bound, many entries (exercises growth of the table) */
	size_t per = 16 + 100 + bench_lru_entry_overhead();
	l = bench_lru_new(0, per * 1000);
	unsigned char key[16], val[100] = {0};
	for (uint64_t i = 0; i < 20000; i++) {
		bench_key_of(i, key);
		ck_assert_int_eq(bench_lru_set(l, key, 16, val, 100), 0);
		bench_lru_stats(l, &st);
		ck_assert(st.charged_bytes <= per * 1000);
	}
	ck_assert_uint_eq(st.items, 1000);
	bench_key_of(19999, key);
	ck_assert_int_eq(bench_lru_get(l, key, 16, NULL, 0, NULL), 1);
	bench_key_of(18999, key);
	ck_assert_int_eq(bench_lru_get(l, key, 16, NULL, 0, NULL), 0);
	bench_lru_free(l);
}
END_TEST

static void write_file(const char *path, const void *data, size_t n, int gz)
{
	if (gz) {
		gzFile g = gzopen(path, "wb");
		ck_assert_ptr_nonnull(g);
		ck_assert_int_eq(gzwrite(g, data, (unsigned)n), (int)n);
		gzclose(g);
	} else {
		FILE *f = fopen(path, "wb");
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(fwrite(data, 1, n, f), n);
		fclose(f);
	}
}

START_TEST(test_trace_parsers)
{
	char path[] = "/tmp/spc-bench-trace-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	struct bench_trace t;
	char err[256];

	const char lirs[] = "5\n*\n7\n\n5\n";
	write_file(path, lirs, strlen(lirs), 1);
	ck_assert_int_eq(bench_trace_load(path, BENCH_FMT_LIRS, &t, err, sizeof(err)), 0);
	ck_assert_uint_eq(t.n, 3);
	ck_assert_uint_eq(t.reqs[1].key, 7);
	ck_assert_uint_eq(bench_trace_count_distinct(&t), 2);
	bench_trace_free(&t);

	const char arc[] = "100 3 0 1\n7 1 0 2\n";
	write_file(path, arc, strlen(arc), 0);
	ck_assert_int_eq(bench_trace_load(path, BENCH_FMT_ARC, &t, err, sizeof(err)), 0);
	ck_assert_uint_eq(t.n, 4);
	ck_assert_uint_eq(t.reqs[2].key, 102);
	ck_assert_uint_eq(t.reqs[3].key, 7);
	bench_trace_free(&t);

	const char addr[] = "l 0x1fffff50 1\ns 0xA0 4\n";
	write_file(path, addr, strlen(addr), 1);
	ck_assert_int_eq(bench_trace_load(path, BENCH_FMT_ADDRESS, &t, err, sizeof(err)), 0);
	ck_assert_uint_eq(t.n, 2);
	ck_assert_uint_eq(t.reqs[0].key, 0x1fffff50);
	ck_assert_uint_eq(t.reqs[1].key, 0xa0);
	bench_trace_free(&t);

	const char as[] = "1 10 500\n2 11 7\n";
	write_file(path, as, strlen(as), 0);
	ck_assert_int_eq(bench_trace_load(path, BENCH_FMT_ADAPTSIZE, &t, err, sizeof(err)), 0);
	ck_assert_uint_eq(t.n, 2);
	ck_assert_uint_eq(t.reqs[0].key, 10);
	ck_assert_uint_eq(t.reqs[0].size, 500);
	ck_assert_uint_eq(t.total_bytes, 507);
	bench_trace_free(&t);

	const unsigned char be[] = {0, 0, 0, 1, 0x80, 0, 0, 2};
	write_file(path, be, sizeof(be), 1);
	ck_assert_int_eq(bench_trace_load(path, BENCH_FMT_U32BE, &t, err, sizeof(err)), 0);
	ck_assert_uint_eq(t.n, 2);
	ck_assert_uint_eq(t.reqs[1].key, 0x80000002u);
	bench_trace_free(&t);
	ck_assert_int_eq(bench_trace_load(path, BENCH_FMT_U64BE, &t, err, sizeof(err)), 0);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_uint_eq(t.reqs[0].key, 0x0000000180000002ULL);
	bench_trace_free(&t);

	const char bad[] = "12\nxyz\n";
	write_file(path, bad, strlen(bad), 0);
	ck_assert_int_eq(bench_trace_load(path, BENCH_FMT_LIRS, &t, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "line 2"));
	ck_assert_int_eq(bench_trace_load("/nonexistent/trace", BENCH_FMT_LIRS, &t, err, sizeof(err)),
	                 -1);
	unlink(path);
}
END_TEST

static const char *const schema_keys[] = {
	"\"scenario\"", "\"params\"", "\"machine\"", "\"cpus\"", "\"kernel\"", "\"compiler\"",
	"\"results\"", "\"system\"", "\"phase\"", "\"threads\"", "\"ops_per_sec\"", "\"p50_ns\"",
	"\"p99_ns\"", "\"p999_ns\"", "\"inserts_per_sec\"", "\"evictions_per_sec\"",
	"\"max_overshoot_bytes\"", "\"rss_bytes\"", "\"budget_bytes\"", "\"hit_ratio\"",
	"\"trace\"", "\"size\"", "\"policy\"", "\"bytes_per_entry_overhead\"",
	"\"cpu_ns_per_op\"", "\"cpu_ns_per_insert\"", "\"bg_cpu_ns_per_insert\"",
	"\"settle_s\"", "\"settled\"", NULL};

/* The whole file at path (up to 1 MiB), NUL-terminated, in a buffer the
 * next call reuses. */
static const char *slurp(const char *path)
{
	static char buf[1 << 20];
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

static void check_json_file(const char *path)
{
	const char *buf = slurp(path);
	size_t n = strlen(buf);
	for (int i = 0; schema_keys[i]; i++)
		ck_assert_msg(strstr(buf, schema_keys[i]) != NULL, "JSON lacks %s", schema_keys[i]);
	/* structure: braces and brackets balance outside strings */
	int depth = 0, in_str = 0;
	for (size_t i = 0; i < n; i++) {
		char c = buf[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"')
			in_str = 1;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']')
			ck_assert_int_ge(--depth, 0);
	}
	ck_assert_int_eq(depth, 0);
	ck_assert_int_eq(in_str, 0);
	if (access("/usr/bin/python3", X_OK) == 0) {
		char cmd[1024];
		snprintf(cmd, sizeof(cmd),
		         "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
		         "k=[\"system\",\"phase\",\"threads\",\"ops_per_sec\",\"p50_ns\",\"p99_ns\","
		         "\"p999_ns\",\"inserts_per_sec\",\"evictions_per_sec\",\"max_overshoot_bytes\","
		         "\"rss_bytes\",\"budget_bytes\",\"hit_ratio\",\"trace\",\"size\",\"policy\","
		         "\"bytes_per_entry_overhead\"]; "
		         "assert d[\"results\"] and all(x in r for r in d[\"results\"] for x in k)' %s",
		         path);
		ck_assert_int_eq(system(cmd), 0);
	}
}

START_TEST(test_json_schema)
{
	struct bench_report r;
	bench_report_init(&r, "replay");
	bench_report_param(&r, "duration_s", "3");
	struct bench_row *row = bench_report_add(&r, "lru-exact");
	ck_assert_ptr_nonnull(row);
	snprintf(row->trace, sizeof(row->trace), "x \"quoted\" trace");
	snprintf(row->policy, sizeof(row->policy), "lru-exact");
	row->hit_ratio = BENCH_NUM(0.328308966);
	row->size = BENCH_NUM(1000);
	row = bench_report_add(&r, "mutex-lru");
	row->ops_per_sec = BENCH_NUM(12345);
	row->threads = 2;
	char path[] = "/tmp/spc-bench-json-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(bench_report_json_file(&r, path), 0);
	check_json_file(path);
	const char *buf = slurp(path);
	ck_assert_ptr_nonnull(strstr(buf, "\"ops_per_sec\": null")); /* replay row */
	ck_assert_ptr_nonnull(strstr(buf, "\"ops_per_sec\": 12345"));
	ck_assert_ptr_nonnull(strstr(buf, "\\\"quoted\\\""));
	unlink(path);
	bench_report_free(&r);
}
END_TEST

/* lfht-dense: the bare table grown by the cache's doubling rule keeps every
 * key through its resizes: values read back, replacements seen, deletions
 * gone. 20 000 keys at load 2 take it from 1 024 to 16 384 buckets. */
START_TEST(test_lfht_dense)
{
	const struct bench_sys *sys = &bench_sys_lfht_dense;
	struct bench_sys_params p = {.budget_bytes = 64 << 20, .index_max_load = 2.0};
	void *h = NULL;
	char key[16], val[32], out[32];
	const int n = 20000;

	ck_assert_int_eq(sys->open(&p, &h), 0);
	sys->thread_enter(h);
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof key, "k%014d", i);
		snprintf(val, sizeof val, "v%030d", i);
		ck_assert_int_eq(sys->set(h, 0, key, sizeof key, val, sizeof val), 0);
	}
	for (int i = 0; i < n; i += 2) {
		snprintf(key, sizeof key, "k%014d", i);
		ck_assert_int_eq(sys->del(h, 0, key, sizeof key), 1);
	}
	for (int i = 1; i < n; i += 4) {
		snprintf(key, sizeof key, "k%014d", i);
		snprintf(val, sizeof val, "w%030d", i);
		ck_assert_int_eq(sys->set(h, 0, key, sizeof key, val, sizeof val), 0);
	}
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof key, "k%014d", i);
		int hit = sys->get(h, 0, key, sizeof key, out, sizeof out);
		ck_assert_int_eq(hit, i % 2);
		if (hit) {
			snprintf(val, sizeof val, "%c%030d", i % 4 == 1 ? 'w' : 'v', i);
			ck_assert_int_eq(memcmp(out, val, sizeof val), 0);
		}
	}
	sys->thread_exit(h);
	sys->close(h);
}
END_TEST

/* view-during-index: phase B carries the CPU per insert, its background
 * share beside it (a test of its own: the scenario fills a hot set and
 * warms the index pool up, seconds under a sanitizer) */
START_TEST(test_vdi_cpu_per_insert)
{
	struct bench_opts v;
	struct bench_report r;
	char path[] = "/tmp/spc-bench-json-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	memset(&v, 0, sizeof(v));
	v.duration_s = 0.05;
	v.threads[0] = 1;
	v.n_threads = 1;
	v.seed = 1;
	v.view_share = 0.5;
	v.systems[v.n_systems++] = &bench_sys_splitcache;
	v.systems[v.n_systems++] = &bench_sys_mutex_lru;
	v.indexers = 1;
	v.budget_bytes = 16 << 20;
	bench_report_init(&r, "view-during-index");
	ck_assert_int_eq(bench_scenario_view_during_index(&v, &r), 0);
	ck_assert_uint_eq(r.n, 4);
	for (size_t i = 0; i < r.n; i++) {
		const struct bench_row *w = &r.rows[i];
		int b = strcmp(w->phase, "B") == 0;
		ck_assert(!b || (w->cpu_ns_per_insert.has && w->cpu_ns_per_insert.v > 0));
		ck_assert(!b || w->bg_cpu_ns_per_insert.has);
		ck_assert(!b || w->bg_cpu_ns_per_insert.v <= w->cpu_ns_per_insert.v);
		ck_assert(b || !w->cpu_ns_per_insert.has);
	}
	ck_assert_int_eq(bench_report_json_file(&r, path), 0);
	check_json_file(path);
	bench_report_free(&r);
	unlink(path);
}
END_TEST

/* view-during-index --rounds 2 through the library (the threads park
 * between their system's slices: the sanitizer builds run this): every row
 * has a figure per round, phase B an insert rate per round and the CPU per
 * insert, no row an RSS; the file parses with the two extra keys */
START_TEST(test_vdi_rounds_parked)
{
	struct bench_opts v;
	struct bench_report r;
	char path[] = "/tmp/spc-bench-json-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	close(fd);
	memset(&v, 0, sizeof(v));
	v.duration_s = 0.05;
	v.threads[0] = 1;
	v.n_threads = 1;
	v.seed = 1;
	v.view_share = 0.5;
	v.rounds = 2;
	v.systems[v.n_systems++] = &bench_sys_splitcache;
	v.systems[v.n_systems++] = &bench_sys_mutex_lru;
	v.indexers = 1;
	v.budget_bytes = 16 << 20;
	bench_report_init(&r, "view-during-index");
	ck_assert_int_eq(bench_scenario_view_during_index(&v, &r), 0);
	ck_assert_uint_eq(r.n, 4);
	for (size_t i = 0; i < r.n; i++) {
		const struct bench_row *w = &r.rows[i];
		int b = strcmp(w->phase, "B") == 0;
		ck_assert_int_eq(w->n_rounds, 2);
		ck_assert(w->round_ops[0] > 0 && w->round_ops[1] > 0);
		ck_assert(!w->rss_bytes.has);
		ck_assert_int_eq(w->n_ins_rounds, b ? 2 : 0);
		ck_assert(!b || (w->round_ins[0] > 0 && w->round_ins[1] > 0));
		ck_assert(!b || (w->cpu_ns_per_insert.has && w->cpu_ns_per_insert.v > 0));
		ck_assert(b || !w->cpu_ns_per_insert.has);
	}
	ck_assert_int_eq(bench_report_json_file(&r, path), 0);
	check_json_file(path);
	const char *buf = slurp(path);
	ck_assert_ptr_nonnull(strstr(buf, "\"inserts_per_sec_rounds\": ["));
	ck_assert_ptr_nonnull(strstr(buf, "\"inserts_ratio\": 1 }"));
	bench_report_free(&r);
	unlink(path);
}
END_TEST

START_TEST(test_scenarios_end_to_end)
{
	struct bench_opts o;
	memset(&o, 0, sizeof(o));
	o.duration_s = 0.05;
	o.threads[0] = 1;
	o.n_threads = 1;
	o.seed = 1;
	o.view_share = 0.5;
	o.systems[o.n_systems++] = &bench_sys_mutex_lru;
	o.systems[o.n_systems++] = &bench_sys_lfht_bare;
	o.budget_bytes = 64 << 20;
	struct bench_report r;
	bench_report_init(&r, "read-scaling");
	ck_assert_int_eq(bench_scenario_read_scaling(&o, &r), 0);
	ck_assert_uint_eq(r.n, 2);
	for (size_t i = 0; i < r.n; i++) {
		ck_assert(r.rows[i].ops_per_sec.has && r.rows[i].ops_per_sec.v > 0);
		ck_assert(r.rows[i].hit_ratio.v == 1.0); /* pre-populated: 100 % hits */
		/* the process's CPU over the operations: some, and no background
		 * share without inserts */
		ck_assert(r.rows[i].cpu_ns_per_op.has && r.rows[i].cpu_ns_per_op.v > 0);
		ck_assert(!r.rows[i].bg_cpu_ns_per_insert.has && !r.rows[i].cpu_ns_per_insert.has);
	}
	char path[] = "/tmp/spc-bench-json-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	ck_assert_int_eq(bench_report_json_file(&r, path), 0);
	check_json_file(path);
	bench_report_free(&r);

#ifdef SPC_TEST_HAVE_ROCKSDB
	/* the RocksDB peers beside mutex-lru in one run: both built, both open,
	 * both measured, each with a ratio against mutex-lru */
	{
		struct bench_opts m = o;
		char why[160] = "";
		ck_assert_msg(bench_sys_rocksdb_lru.available(why, sizeof(why)), "%s", why);
		ck_assert_msg(bench_sys_rocksdb_hcc.available(why, sizeof(why)), "%s", why);
		m.n_systems = 0;
		m.systems[m.n_systems++] = &bench_sys_mutex_lru;
		m.systems[m.n_systems++] = &bench_sys_rocksdb_lru;
		m.systems[m.n_systems++] = &bench_sys_rocksdb_hcc;
		bench_report_init(&r, "mixed");
		ck_assert_int_eq(bench_scenario_mixed(&m, &r), 0);
		int seen_lru = 0, seen_hcc = 0;
		for (size_t i = 0; i < r.n; i++) {
			const struct bench_row *w = &r.rows[i];
			ck_assert(w->ops_per_sec.has && w->ops_per_sec.v > 0);
			ck_assert(w->cpu_ns_per_op.has && w->cpu_ns_per_op.v > 0);
			ck_assert(w->bg_cpu_ns_per_insert.has); /* the mix inserts on misses */
			seen_lru |= strcmp(w->system, "rocksdb-lru") == 0;
			seen_hcc |= strcmp(w->system, "rocksdb-hcc") == 0;
		}
		ck_assert(seen_lru && seen_hcc);
		ck_assert_int_eq(bench_report_json_file(&r, path), 0);
		check_json_file(path);
		bench_report_free(&r);
	}
#endif

	/* replay through the scenario on a small real trace */
	char trace[512];
	snprintf(trace, sizeof(trace), "%s/traces/lirs_loop.trace.gz", SPC_TEST_DATA_DIR);
	o.traces[0] = trace;
	o.n_traces = 1;
	o.policies[0] = "lru-exact";
	o.n_policies = 1;
	o.sizes[0] = 1011; /* every distinct key fits: only cold misses */
	o.sizes[1] = 1010; /* a loop one entry too large: LRU never hits */
	o.n_sizes = 2;
	bench_report_init(&r, "replay");
	ck_assert_int_eq(bench_scenario_replay(&o, &r), 0);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq((uint64_t)r.rows[0].hits.v, 505500 - 1011);
	ck_assert(r.rows[1].hits.v < 505500 - 1011);
	ck_assert_int_eq(bench_report_json_file(&r, path), 0);
	check_json_file(path);
	bench_report_free(&r);
	unlink(path);
}
END_TEST

/* What splitcache's settle takes for one index table: 64 x (1 + 2^k)
 * bytes; the two tables of a resize (either direction, or a retired table
 * awaiting its grace period) are never taken for one. */
START_TEST(test_settle_one_table)
{
	ck_assert(!bench_splitcache_one_table(0));
	for (uint64_t k = 1; k <= 30; k++) {
		uint64_t one = 64 * (1 + ((uint64_t)1 << k));
		ck_assert_msg(bench_splitcache_one_table(one), "2^%llu buckets", (unsigned long long)k);
		/* growing from 2^k buckets to 2^(k+1), or shrinking back */
		ck_assert(!bench_splitcache_one_table(one + 64 * (1 + ((uint64_t)1 << (k + 1)))));
		if (k > 1)
			ck_assert(!bench_splitcache_one_table(one + 64 * (1 + ((uint64_t)1 << (k - 1)))));
		ck_assert(!bench_splitcache_one_table(one + 8));
		ck_assert(!bench_splitcache_one_table(64 * ((uint64_t)1 << k)));
	}
	ck_assert(!bench_splitcache_one_table(64));
}
END_TEST

/* 20 000 entries are more than the index's first table takes (1 024
 * buckets x 10 with 12-slot lines, x 6 with 7-slot lines: its
 * spc_index_grow_load), so the load makes at least one resize due: settled
 * means it is over (one table, large enough for every entry) and the
 * backlog is empty. Without a settle callback, settled stays null. */
START_TEST(test_settle_splitcache)
{
	struct bench_sys_params p = {.budget_bytes = 64 << 20, .view_share = 0.5,
	                             .value_len_hint = 64};
	void *h = NULL;
	ck_assert_ptr_nonnull(bench_sys_splitcache.settle);
	ck_assert_int_eq(bench_sys_splitcache.open(&p, &h), 0);
	bench_sys_splitcache.thread_enter(h);
	unsigned char key[BENCH_KEY_LEN], val[64] = {0};
	uint64_t n = 20000;
	for (uint64_t i = 0; i < n; i++) {
		bench_key_of(i, key);
		ck_assert_int_eq(bench_sys_splitcache.set(h, 1, key, sizeof(key), val, sizeof(val)), 0);
	}
	bench_sys_splitcache.thread_exit(h);
	struct bench_row row;
	memset(&row, 0, sizeof(row));
	bench_settle(&bench_sys_splitcache, h, &row);
	ck_assert(row.settle_s.has && row.settle_s.v >= 0);
	ck_assert(row.settled.has && row.settled.v == 1);
	struct spc_stats st;
	for (int pool = 0; pool < SPC_POOL_COUNT; pool++) {
		ck_assert_int_eq(spc_stats(h, pool, &st), SPC_OK);
		ck_assert_uint_eq(st.reclaim_backlog_bytes, 0);
		/* one table: a 64-byte header line + 2^k buckets of 64 bytes */
		ck_assert_uint_eq(st.index_bytes % 64, 0);
		uint64_t buckets = st.index_bytes / 64 - 1;
		ck_assert_uint_eq(buckets & (buckets - 1), 0);
		const struct spc_index *ix = &((struct spc_cache *)h)->ps[pool].ix;
		if (pool == 1)
			ck_assert_uint_ge(buckets * spc_index_grow_load(ix), n); /* the growth ended */
	}
	ck_assert_int_eq(spc_stats(h, 1, &st), SPC_OK);
	ck_assert_uint_eq(st.items, n);
	bench_sys_splitcache.close(h);

	/* a system without the callback: the fixed pause, settled null */
	ck_assert_ptr_null(bench_sys_mutex_lru.settle);
	ck_assert_int_eq(bench_sys_mutex_lru.open(&p, &h), 0);
	memset(&row, 0, sizeof(row));
	bench_settle(&bench_sys_mutex_lru, h, &row);
	ck_assert(row.settle_s.has && !row.settled.has);
	bench_sys_mutex_lru.close(h);
}
END_TEST

/* The memory scenario reads its figures after bench_settle and says so in
 * every phase-a row and in the JSON file. */
START_TEST(test_settle_memory_json)
{
	struct bench_opts o;
	memset(&o, 0, sizeof(o));
	o.seed = 1;
	o.entries = 20000;
	o.budget_bytes = 4 << 20;
	o.systems[o.n_systems++] = &bench_sys_splitcache;
	o.systems[o.n_systems++] = &bench_sys_mutex_lru;
	struct bench_report r;
	bench_report_init(&r, "memory");
	ck_assert_int_eq(bench_scenario_memory(&o, &r), 0);
	ck_assert_uint_eq(r.n, 4);
	int seen = 0;
	for (size_t i = 0; i < r.n; i++) {
		const struct bench_row *w = &r.rows[i];
		int sc = strcmp(w->system, "splitcache") == 0;
		if (strcmp(w->phase, "a") != 0) {
			ck_assert(!w->settle_s.has && !w->settled.has);
			continue;
		}
		seen++;
		ck_assert(w->settle_s.has);
		ck_assert(sc ? w->settled.has && w->settled.v == 1 : !w->settled.has);
		ck_assert(w->bytes_per_entry_overhead.has || !sc);
	}
	ck_assert_int_eq(seen, 2);
	char path[] = "/tmp/spc-bench-settle-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	ck_assert_int_eq(bench_report_json_file(&r, path), 0);
	check_json_file(path);
	const char *buf = slurp(path);
	ck_assert_ptr_nonnull(strstr(buf, "\"settled\": true"));  /* splitcache, phase a */
	ck_assert_ptr_nonnull(strstr(buf, "\"settled\": null"));  /* mutex-lru, phase b rows */
	ck_assert_ptr_null(strstr(buf, "\"settled\": false"));
	if (access("/usr/bin/python3", X_OK) == 0) {
		char cmd[1024];
		snprintf(cmd, sizeof(cmd),
		         "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
		         "a=[x for x in d[\"results\"] if x[\"phase\"]==\"a\"]; "
		         "assert len(a)==2 and all(isinstance(x[\"settle_s\"], (int, float)) for x in a); "
		         "assert [x[\"settled\"] for x in a]==[True, None]' %s",
		         path);
		ck_assert_int_eq(system(cmd), 0);
	}
	bench_report_free(&r);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bench-harness");
	TCase *tc = tcase_create("harness");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_hist_known);
	tcase_add_test(tc, test_zipf_theory);
	tcase_add_test(tc, test_uniform_chi2);
	tcase_add_test(tc, test_lru_exact);
	tcase_add_test(tc, test_trace_parsers);
	tcase_add_test(tc, test_json_schema);
	tcase_add_test(tc, test_lfht_dense);
	tcase_add_test(tc, test_scenarios_end_to_end);
	tcase_add_test(tc, test_vdi_cpu_per_insert);
	tcase_add_test(tc, test_vdi_rounds_parked);
	tcase_add_test(tc, test_settle_one_table);
	tcase_add_test(tc, test_settle_splitcache);
	tcase_add_test(tc, test_settle_memory_json);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
