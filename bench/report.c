/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * report.c: result rows and the three ways they leave the bench: a table
 * on stdout, the JSON result file and a gnuplot PNG.
 *
 * JSON schema (docs/bench-format.md; names and units are the contract): an object
 * with "scenario", "params", "machine" and "results", one object per row
 * carrying every contract key in order, null where it does not apply,
 * followed by extra keys (max_ns, hits, requests,
 * rss_bytes_per_entry_overhead, ratio_vs, ratio, cpu_ns_per_op,
 * cpu_ns_per_insert, bg_cpu_ns_per_insert, settle_s, settled,
 * ops_per_sec_rounds; and, in a view-during-index file with --rounds only,
 * inserts_per_sec_rounds and inserts_ratio). Numbers
 * are printed with %.17g for ratios and as integers for counts, so the
 * file parses with any JSON reader and round-trips.
 *
 * Ratios: each row with ops/s gets "ratio" = its ops/s over the reference
 * row's (same phase and thread count) where the reference is mutex-lru
 * when present in the run, else the first system of the run. The table
 * prints the same ratio, so quotes can come straight from either output.
 * Rows measured in interleaved rounds (--rounds) carry each round's ops/s,
 * and their ratio is the median of the per-round ratios instead; phase-B
 * rows of view-during-index also each round's inserts/s, and their
 * inserts_ratio ("ins ratio" in the table) is formed the same way.
 */
#include "bench.h"

#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

void bench_report_init(struct bench_report *r, const char *scenario)
{
	memset(r, 0, sizeof(*r));
	r->scenario = scenario;
}

void bench_report_free(struct bench_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->rows[i].lat);
	free(r->rows);
	free(r->params_json);
	memset(r, 0, sizeof(*r));
}

struct bench_row *bench_report_add(struct bench_report *r, const char *system)
{
	if (r->n == r->cap) {
		size_t nc = r->cap ? r->cap * 2 : 16;
		struct bench_row *p = realloc(r->rows, nc * sizeof(*p));
		if (!p)
			return NULL;
		r->rows = p;
		r->cap = nc;
	}
	struct bench_row *row = &r->rows[r->n++];
	memset(row, 0, sizeof(*row));
	snprintf(row->system, sizeof(row->system), "%s", system);
	return row;
}

void bench_report_param(struct bench_report *r, const char *key, const char *json_value)
{
	size_t need = r->params_len + strlen(key) + strlen(json_value) + 8;
	if (need > r->params_cap) {
		size_t nc = r->params_cap ? r->params_cap : 256;
		while (nc < need)
			nc *= 2;
		char *p = realloc(r->params_json, nc);
		if (!p)
			return; /* this parameter is left out; the file still parses */
		r->params_json = p;
		r->params_cap = nc;
	}
	r->params_len += (size_t)snprintf(r->params_json + r->params_len,
	                                  r->params_cap - r->params_len, "%s\"%s\": %s",
	                                  r->params_len ? ", " : "", key, json_value);
}

void bench_report_timed_params(struct bench_report *r, const struct bench_opts *o)
{
	char num[32], list[256] = "[";

	snprintf(num, sizeof(num), "%g", o->duration_s);
	bench_report_param(r, "duration_s", num);
	snprintf(num, sizeof(num), "%g", o->index_max_load > 0 ? o->index_max_load : 2.0);
	bench_report_param(r, "index_max_load", num);
	for (int i = 0; i < o->n_threads; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%d", i ? ", " : "",
		         o->threads[i]);
	strncat(list, "]", sizeof(list) - strlen(list) - 1);
	bench_report_param(r, "threads", list);
}

static const char *ref_system(const struct bench_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->rows[i].system, "mutex-lru") == 0 && r->rows[i].ops_per_sec.has)
			return "mutex-lru";
	for (size_t i = 0; i < r->n; i++)
		if (r->rows[i].ops_per_sec.has)
			return r->rows[i].system;
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

struct bench_num bench_median(const double *v, int n)
{
	double w[BENCH_MAX_ROUNDS];
	int k = 0;
	for (int i = 0; i < n && k < BENCH_MAX_ROUNDS; i++)
		if (v[i] >= 0)
			w[k++] = v[i];
	if (k == 0)
		return (struct bench_num){0, 0};
	qsort(w, (size_t)k, sizeof(w[0]), cmp_double);
	return BENCH_NUM(k % 2 ? w[k / 2] : (w[k / 2 - 1] + w[k / 2]) / 2);
}

/* Rows measured in interleaved rounds: the median of the per-round
 * ratios of a figure given per round (each round's two slices ran close
 * in time, so a slow spell of the machine mostly cancels out). */
static struct bench_num round_ratio(const double *row, const double *ref, int n)
{
	double q[BENCH_MAX_ROUNDS];
	int k = 0;
	for (int i = 0; i < n; i++)
		if (ref[i] > 0)
			q[k++] = row[i] / ref[i];
	return bench_median(q, k);
}

static struct bench_num ratio_of(const struct bench_report *r, const struct bench_row *row)
{
	const char *ref = ref_system(r);
	struct bench_num none = {0, 0};
	if (!ref || !row->ops_per_sec.has)
		return none;
	for (size_t i = 0; i < r->n; i++) {
		const struct bench_row *o = &r->rows[i];
		if (strcmp(o->system, ref) != 0 || strcmp(o->phase, row->phase) != 0 ||
		    o->threads != row->threads || !o->ops_per_sec.has || o->ops_per_sec.v <= 0)
			continue;
		if (row->n_rounds > 1 && row->n_rounds == o->n_rounds)
			return round_ratio(row->round_ops, o->round_ops, row->n_rounds);
		return BENCH_NUM(row->ops_per_sec.v / o->ops_per_sec.v);
	}
	return none;
}

/* view-during-index with --rounds: a phase-B row's inserts/s over the
 * reference's (ref_system), the median of the per-round ratios; null for
 * rows without per-round inserts. */
static struct bench_num ins_ratio_of(const struct bench_report *r, const struct bench_row *row)
{
	const char *ref = ref_system(r);
	if (!ref || row->n_ins_rounds < 1)
		return (struct bench_num){0, 0};
	for (size_t i = 0; i < r->n; i++) {
		const struct bench_row *o = &r->rows[i];
		if (strcmp(o->system, ref) == 0 && strcmp(o->phase, row->phase) == 0 &&
		    o->threads == row->threads && o->n_ins_rounds == row->n_ins_rounds)
			return round_ratio(row->round_ins, o->round_ins, row->n_ins_rounds);
	}
	return (struct bench_num){0, 0};
}

/* Whether any row carries per-round inserts: the file then has two more
 * keys in every row. */
static int any_ins_rounds(const struct bench_report *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->rows[i].n_ins_rounds > 0)
			return 1;
	return 0;
}

static void put_num(FILE *f, const char *key, struct bench_num n, int integer)
{
	if (!n.has)
		fprintf(f, ", \"%s\": null", key);
	else if (integer)
		fprintf(f, ", \"%s\": %.0f", key, n.v);
	else
		fprintf(f, ", \"%s\": %.17g", key, n.v);
}

static void put_str(FILE *f, const char *key, const char *s)
{
	char buf[320] = "";
	if (!s || !*s) {
		fprintf(f, ", \"%s\": null", key);
		return;
	}
	bench_json_str(buf, sizeof(buf), s);
	fprintf(f, ", \"%s\": %s", key, buf);
}

int bench_report_json(const struct bench_report *r, FILE *f)
{
	char machine[2048];
	bench_machine_json(machine, sizeof(machine));
	fprintf(f, "{\n  \"scenario\": \"%s\",\n  \"params\": { %s },\n  \"machine\": { %s },\n",
	        r->scenario, r->params_json ? r->params_json : "", machine);
	fprintf(f, "  \"results\": [");
	const char *ref = ref_system(r);
	int ins_rounds = any_ins_rounds(r);
	for (size_t i = 0; i < r->n; i++) {
		const struct bench_row *w = &r->rows[i];
		char sys[64] = "";
		bench_json_str(sys, sizeof(sys), w->system);
		fprintf(f, "%s\n    { \"system\": %s", i ? "," : "", sys);
		put_str(f, "phase", w->phase);
		fprintf(f, ", \"threads\": %d", w->threads);
		put_num(f, "ops_per_sec", w->ops_per_sec, 1);
		put_num(f, "p50_ns", w->p50_ns, 1);
		put_num(f, "p99_ns", w->p99_ns, 1);
		put_num(f, "p999_ns", w->p999_ns, 1);
		put_num(f, "inserts_per_sec", w->inserts_per_sec, 1);
		put_num(f, "evictions_per_sec", w->evictions_per_sec, 1);
		put_num(f, "max_overshoot_bytes", w->max_overshoot_bytes, 1);
		put_num(f, "rss_bytes", w->rss_bytes, 1);
		put_num(f, "budget_bytes", w->budget_bytes, 1);
		put_num(f, "hit_ratio", w->hit_ratio, 0);
		put_str(f, "trace", w->trace);
		put_num(f, "size", w->size, 1);
		put_str(f, "policy", w->policy);
		put_num(f, "bytes_per_entry_overhead", w->bytes_per_entry_overhead, 0);
		put_num(f, "max_ns", w->max_ns, 1);
		put_num(f, "hits", w->hits, 1);
		put_num(f, "requests", w->requests, 1);
		put_num(f, "rss_bytes_per_entry_overhead", w->rss_bytes_per_entry_overhead, 0);
		struct bench_num ratio = ratio_of(r, w);
		put_str(f, "ratio_vs", ratio.has ? ref : NULL);
		put_num(f, "ratio", ratio, 0);
		put_num(f, "cpu_ns_per_op", w->cpu_ns_per_op, 1);
		put_num(f, "cpu_ns_per_insert", w->cpu_ns_per_insert, 1);
		put_num(f, "bg_cpu_ns_per_insert", w->bg_cpu_ns_per_insert, 1);
		put_num(f, "settle_s", w->settle_s, 0);
		if (w->settled.has)
			fprintf(f, ", \"settled\": %s", w->settled.v ? "true" : "false");
		else
			fprintf(f, ", \"settled\": null");
		if (w->n_rounds > 0) {
			fprintf(f, ", \"ops_per_sec_rounds\": [");
			for (int k = 0; k < w->n_rounds; k++)
				fprintf(f, "%s%.0f", k ? ", " : "", w->round_ops[k]);
			fprintf(f, "]");
		} else {
			fprintf(f, ", \"ops_per_sec_rounds\": null");
		}
		if (ins_rounds) {
			if (w->n_ins_rounds > 0) {
				fprintf(f, ", \"inserts_per_sec_rounds\": [");
				for (int k = 0; k < w->n_ins_rounds; k++)
					fprintf(f, "%s%.0f", k ? ", " : "", w->round_ins[k]);
				fprintf(f, "]");
			} else {
				fprintf(f, ", \"inserts_per_sec_rounds\": null");
			}
			put_num(f, "inserts_ratio", ins_ratio_of(r, w), 0);
		}
		fprintf(f, " }");
	}
	fprintf(f, "\n  ]\n}\n");
	return ferror(f) ? -1 : 0;
}

int bench_report_json_file(const struct bench_report *r, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return -1;
	}
	int rc = bench_report_json(r, f);
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* ---- table -------------------------------------------------------------- */

static void fmt_num(char *out, size_t cap, struct bench_num n, const char *kind)
{
	if (!n.has) {
		snprintf(out, cap, "-");
		return;
	}
	double v = n.v;
	if (strcmp(kind, "rate") == 0) {
		if (v >= 1e6)
			snprintf(out, cap, "%.2fM", v / 1e6);
		else if (v >= 1e3)
			snprintf(out, cap, "%.1fk", v / 1e3);
		else
			snprintf(out, cap, "%.0f", v);
	} else if (strcmp(kind, "ns") == 0) {
		if (v >= 1e6)
			snprintf(out, cap, "%.1fms", v / 1e6);
		else if (v >= 1e4)
			snprintf(out, cap, "%.1fus", v / 1e3);
		else
			snprintf(out, cap, "%.0fns", v);
	} else if (strcmp(kind, "bytes") == 0) {
		if (v >= 1048576.0 || v <= -1048576.0)
			snprintf(out, cap, "%.1fMiB", v / 1048576.0);
		else if (v >= 1024.0 || v <= -1024.0)
			snprintf(out, cap, "%.1fKiB", v / 1024.0);
		else
			snprintf(out, cap, "%.0fB", v);
	} else if (strcmp(kind, "ratio") == 0) {
		snprintf(out, cap, "%.2fx", v);
	} else if (strcmp(kind, "frac") == 0) {
		snprintf(out, cap, "%.4f", v);
	} else if (v == (double)(int64_t)v) {
		snprintf(out, cap, "%.0f", v);
	} else {
		snprintf(out, cap, "%.1f", v);
	}
}

struct col {
	const char *title, *kind;
	size_t off; /* offset of a bench_num in bench_row; SIZE_MAX: ratio, SIZE_MAX - 1:
	               inserts ratio */
};

#define COL(t, k, f) {t, k, offsetof(struct bench_row, f)}

static struct bench_num cell_of(const struct bench_report *r, const struct bench_row *w,
                                const struct col *c)
{
	if (c->off == (size_t)-1)
		return ratio_of(r, w);
	if (c->off == (size_t)-2)
		return ins_ratio_of(r, w);
	return *(const struct bench_num *)((const char *)w + c->off);
}

void bench_report_table(const struct bench_report *r, FILE *out)
{
	static const struct col cols[] = {
		COL("ops/s", "rate", ops_per_sec),
		{"ratio", "ratio", (size_t)-1},
		COL("p50", "ns", p50_ns),
		COL("p99", "ns", p99_ns),
		COL("p99.9", "ns", p999_ns),
		COL("max", "ns", max_ns),
		COL("ins/s", "rate", inserts_per_sec),
		{"ins ratio", "ratio", (size_t)-2},
		COL("evict/s", "rate", evictions_per_sec),
		COL("cpu/op", "ns", cpu_ns_per_op),
		COL("cpu/ins", "ns", cpu_ns_per_insert),
		COL("bgcpu/ins", "ns", bg_cpu_ns_per_insert),
		COL("overshoot", "bytes", max_overshoot_bytes),
		COL("rss", "bytes", rss_bytes),
		COL("budget", "bytes", budget_bytes),
		COL("size", "plain", size),
		COL("hits", "plain", hits),
		COL("requests", "plain", requests),
		COL("hit_ratio", "frac", hit_ratio),
		COL("B/entry", "plain", bytes_per_entry_overhead),
		COL("rssB/entry", "plain", rss_bytes_per_entry_overhead),
		COL("settle_s", "plain", settle_s),
	};
	enum { NC = sizeof(cols) / sizeof(cols[0]) };
	int used[NC] = {0};
	int any_phase = 0, any_policy = 0, any_trace = 0, any_rounds = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct bench_row *w = &r->rows[i];
		any_phase |= w->phase[0] != 0;
		any_policy |= w->policy[0] != 0;
		any_trace |= w->trace[0] != 0;
		any_rounds |= w->n_rounds > 1;
		for (int c = 0; c < NC; c++) {
			struct bench_num n = cell_of(r, w, &cols[c]);
			used[c] |= n.has;
		}
	}
	const char *ref = ref_system(r);
	if (used[1] && ref)
		fprintf(out, "ratio = ops/s over %s's at the same phase and thread count%s\n", ref,
		        any_rounds ? " (rounds: median of the per-round ratios; ops/s: median)" : "");
	int ins_used = 0;
	for (int c = 0; c < NC; c++)
		ins_used |= used[c] && cols[c].off == (size_t)-2;
	if (ins_used && ref)
		fprintf(out, "ins ratio = inserts/s over %s's in phase B, median of the per-round "
		        "ratios (inserts/s: median)\n", ref);
	fprintf(out, "%-17s", "system");
	if (any_phase)
		fprintf(out, " %-5s", "phase");
	fprintf(out, " %7s", "threads");
	if (any_policy)
		fprintf(out, " %-9s", "policy");
	if (any_trace)
		fprintf(out, " %-28s", "trace");
	for (int c = 0; c < NC; c++)
		if (used[c])
			fprintf(out, " %10s", cols[c].title);
	fputc('\n', out);
	for (size_t i = 0; i < r->n; i++) {
		const struct bench_row *w = &r->rows[i];
		fprintf(out, "%-17s", w->system);
		if (any_phase)
			fprintf(out, " %-5s", w->phase[0] ? w->phase : "-");
		fprintf(out, " %7d", w->threads);
		if (any_policy)
			fprintf(out, " %-9s", w->policy[0] ? w->policy : "-");
		if (any_trace) {
			const char *t = strrchr(w->trace, '/');
			fprintf(out, " %-28.28s", t ? t + 1 : (w->trace[0] ? w->trace : "-"));
		}
		for (int c = 0; c < NC; c++) {
			if (!used[c])
				continue;
			struct bench_num n = cell_of(r, w, &cols[c]);
			char cell[32];
			fmt_num(cell, sizeof(cell), n, cols[c].kind);
			fprintf(out, " %10s", cell);
		}
		fputc('\n', out);
	}
	fflush(out);
}

/* ---- plot --------------------------------------------------------------- */

static int find_gnuplot(char *path, size_t cap)
{
	const char *p = getenv("PATH");
	if (!p)
		p = "/usr/bin:/bin";
	while (*p) {
		size_t len = strcspn(p, ":");
		snprintf(path, cap, "%.*s/gnuplot", (int)len, p);
		if (access(path, X_OK) == 0)
			return 0;
		p += len;
		if (*p == ':')
			p++;
	}
	return -1;
}

/* Writes one data block per series (system/phase or policy), separated by
 * two blank lines for gnuplot's `index`; fills titles. */
static int write_data(const struct bench_report *r, FILE *f, char titles[][64], int max)
{
	int ns = 0;
	int is_replay = strcmp(r->scenario, "replay") == 0;
	int is_lat = strcmp(r->scenario, "view-during-index") == 0 ||
	             strcmp(r->scenario, "mixed") == 0;
	for (size_t i = 0; i < r->n && ns < max; i++) {
		const struct bench_row *w = &r->rows[i];
		char title[64];
		if (strcmp(r->scenario, "memory") == 0 && !w->rss_bytes_per_entry_overhead.has)
			continue; /* memory: only part (a) has a per-entry figure to draw */
		if (is_replay)
			snprintf(title, sizeof(title), "%s %.40s", w->policy, w->trace);
		else
			snprintf(title, sizeof(title), "%s%s%s", w->system, w->phase[0] ? " " : "",
			         w->phase);
		int seen = 0;
		for (int s = 0; s < ns; s++)
			seen |= strcmp(titles[s], title) == 0;
		if (seen)
			continue;
		snprintf(titles[ns], 64, "%s", title);
		if (ns)
			fprintf(f, "\n\n");
		for (size_t j = 0; j < r->n; j++) {
			const struct bench_row *o = &r->rows[j];
			char t2[64];
			if (is_replay)
				snprintf(t2, sizeof(t2), "%s %.40s", o->policy, o->trace);
			else
				snprintf(t2, sizeof(t2), "%s%s%s", o->system, o->phase[0] ? " " : "",
				         o->phase);
			if (strcmp(t2, title) != 0)
				continue;
			if (is_replay && o->size.has && o->hit_ratio.has) {
				fprintf(f, "%.0f %.6f\n", o->size.v, o->hit_ratio.v);
			} else if (is_lat && o->lat && o->lat->count) {
				uint64_t seen_n = 0;
				for (unsigned b = 0; b < BENCH_HIST_BUCKETS; b++) {
					if (!o->lat->buckets[b])
						continue;
					seen_n += o->lat->buckets[b];
					fprintf(f, "%llu %.6f\n", (unsigned long long)bench_hist_bucket_high(b),
					        (double)seen_n / (double)o->lat->count);
				}
			} else if (o->ops_per_sec.has) {
				fprintf(f, "%d %.0f\n", o->threads, o->ops_per_sec.v);
			} else if (o->rss_bytes_per_entry_overhead.has) {
				fprintf(f, "%d %.1f\n", (int)j, o->rss_bytes_per_entry_overhead.v);
			}
		}
		ns++;
	}
	return ns;
}

int bench_report_plot(const struct bench_report *r, const char *png)
{
	char gp[512];
	if (find_gnuplot(gp, sizeof(gp)) != 0) {
		fprintf(stderr, "plot: gnuplot not found in PATH; no plot drawn\n");
		return -1;
	}
	char dat[] = "/tmp/splitcache-bench-XXXXXX";
	int fd = mkstemp(dat);
	if (fd < 0) {
		perror("plot: mkstemp");
		return -1;
	}
	FILE *f = fdopen(fd, "w");
	char titles[64][64];
	int ns = write_data(r, f, titles, 64);
	fclose(f);
	char script[8192];
	size_t n = 0;
	const char *xl = "threads", *yl = "ops/s", *extra = "";
	if (strcmp(r->scenario, "replay") == 0)
		xl = "cache size", yl = "hit ratio", extra = "set logscale x\n";
	else if (strcmp(r->scenario, "view-during-index") == 0 || strcmp(r->scenario, "mixed") == 0)
		xl = "latency (ns)", yl = "fraction of sampled ops", extra = "set logscale x\n";
	else if (strcmp(r->scenario, "memory") == 0)
		xl = "row", yl = "RSS bytes per entry beyond key and value";
	n += (size_t)snprintf(script + n, sizeof(script) - n,
	                      "set terminal png size 1000,650\nset output '%s'\n"
	                      "set title 'splitcache-bench %s'\nset xlabel '%s'\nset ylabel '%s'\n"
	                      "set key outside right\nset grid\n%splot ",
	                      png, r->scenario, xl, yl, extra);
	for (int s = 0; s < ns && n < sizeof(script) - 200; s++)
		n += (size_t)snprintf(script + n, sizeof(script) - n,
		                      "%s'%s' index %d using 1:2 with %s title '%s'", s ? ", " : "",
		                      dat, s,
		                      strcmp(r->scenario, "memory") == 0 ? "points pt 7" : "linespoints",
		                      titles[s]);
	snprintf(script + n, sizeof(script) - n, "\n");
	char gpf[] = "/tmp/splitcache-bench-gp-XXXXXX";
	int gfd = mkstemp(gpf);
	FILE *g = gfd >= 0 ? fdopen(gfd, "w") : NULL;
	if (!g) {
		perror("plot: script");
		unlink(dat);
		return -1;
	}
	fputs(script, g);
	fclose(g);
	char *argv[] = {gp, gpf, NULL};
	pid_t pid;
	int rc = posix_spawn(&pid, gp, NULL, NULL, argv, environ);
	int status = 0;
	if (rc == 0)
		waitpid(pid, &status, 0);
	unlink(dat);
	unlink(gpf);
	if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "plot: gnuplot failed\n");
		return -1;
	}
	return 0;
}
