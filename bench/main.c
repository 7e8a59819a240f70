/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * main.c: splitcache-bench's command line. Parses the options of
 * docs/bench-format.md, checks which systems are available in this build,
 * runs one scenario, prints its table on stdout and writes --json / --plot.
 * A trace named without a '/' that is not in the working folder is read
 * from the trace folder: --trace-dir, else the repository's
 * tests/data/traces (SPC_BENCH_TRACE_DIR, fixed at build time).
 * Exit status: 0 success, 1 a scenario or output failed, 2 usage error.
 */
#include "bench.h"
#include "splitcache.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SPC_BENCH_TRACE_DIR
#define SPC_BENCH_TRACE_DIR "tests/data/traces"
#endif

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: splitcache-bench SCENARIO [options]\n"
	        "scenarios: read-scaling, view-during-index, mixed, replay, memory\n"
	        "common options:\n"
	        "  --duration S       seconds per measured point (default 3)\n"
	        "  --threads LIST     thread counts, e.g. 1,2 or 1-4 (default 1..nproc;\n"
	        "                     view-during-index: readers, default nproc/2)\n"
	        "  --seed N           seed of every generator (default 42)\n"
	        "  --systems LIST     comma-separated (default: all built)\n"
	        "  --json FILE        write the result file (docs/bench-format.md)\n"
	        "  --plot FILE.png    draw the result with gnuplot\n"
	        "  --progress         progress on stderr even when it is not a terminal\n"
	        "  --pin              pin worker threads to CPUs\n"
	        "  --budget SIZE      budget (e.g. 256M; default per scenario)\n"
	        "  --index-load F     entries per bucket before lfht-dense grows (default 2); also\n"
	        "                     passed as splitcache's index_max_load, which it checks only\n"
	        "view-during-index: --indexers N (default nproc/2), --view-share F (0.5)\n"
	        "                   --rounds N  every system opened and warmed up first, then\n"
	        "                     each round a phase-A slice of every system in turn (its\n"
	        "                     readers alone, every other system parked), then a\n"
	        "                     phase-B slice of each (readers and indexers), the order\n"
	        "                     turning each round; ops/s, ins/s, cpu: medians of the\n"
	        "                     slices; ratio, ins ratio: medians of per-round ratios\n"
	        "replay: --trace FILE[,FILE...] [--format FMT] --sizes N|N%%[,...]\n"
	        "        [--policies P[,P...]] [--unit entries|bytes]\n"
	        "        policies: lru-exact opt arc 2q lru2 frc lrfu default steered s3fifo\n"
	        "        clock (default: lru-exact opt steered s3fifo clock; opt arc 2q lru2\n"
	        "        frc lrfu: entries only); with parameters: frc:P (p / size),\n"
	        "        2q:KIN/KOUT (shares of size), lru2:CRP/HIST (period in requests,\n"
	        "        history / size or inf), lrfu:LAMBDA[/H] (H: evicted keys whose\n"
	        "        CRF is kept / size or inf, default 0); NAME:tune (bare frc, lrfu\n"
	        "        too): the best over a grid (docs/policies.md)\n"
	        "        formats: lirs arc cache2k cloudphysics corda scarab address adaptsize\n"
	        "        [--trace-dir DIR]: where a FILE named without '/' is looked up when\n"
	        "        it is not in the working folder (default " SPC_BENCH_TRACE_DIR ")\n"
	        "read-scaling, mixed: --keys N  key space (default 2^18 read-scaling,\n"
	        "                     2^20 mixed; e.g. 16M: every get goes to DRAM)\n"
	        "                     --rounds N  every system opened at once, each point\n"
	        "                     measured N times in interleaved slices (order turning\n"
	        "                     each round); ops/s and cpu: medians, ratio: median of\n"
	        "                     the per-round ratios (default 1: one system at a time;\n"
	        "                     1..64, also in view-during-index)\n"
	        "memory: --entries N (default 1048576)\n"
	        "systems:");
	for (const struct bench_sys *const *s = bench_systems_all(); *s; s++) {
		char why[160] = "";
		int ok = (*s)->available(why, sizeof(why));
		fprintf(f, "\n  %-17s %s%s%s", (*s)->name, (*s)->what, ok ? "" : " [unavailable: ",
		        ok ? "" : why);
		if (!ok)
			fputc(']', f);
	}
	fputc('\n', f);
}

static int split_list(char *s, const char **out, int max)
{
	int n = 0;
	for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
		if (n >= max)
			return -1;
		out[n++] = tok;
	}
	return n;
}

/* Numbers and sizes ("42", "256M", "1G") through the library's own parser,
 * so every splitcache program reads sizes alike. */
static int parse_u64(const char *s, uint64_t *out)
{
	return spc_parse_size(s, out) == SPC_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *scenario = argv[1];
	struct bench_opts o;
	memset(&o, 0, sizeof(o));
	o.duration_s = 3;
	o.seed = 42;
	o.view_share = 0.5;
	o.progress = isatty(STDERR_FILENO);
	char *systems_arg = NULL, *policies_arg = NULL, *traces_arg = NULL;
	const char *trace_dir = SPC_BENCH_TRACE_DIR;
	char *trace_paths[BENCH_MAX_LIST] = {NULL};
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;
		if (strcmp(a, "--progress") == 0) {
			o.progress = 1;
			takes = 0;
		} else if (strcmp(a, "--pin") == 0) {
			o.pin = 1;
			takes = 0;
		} else if (!v) {
			fprintf(stderr, "%s: missing value\n", a);
			return 2;
		} else if (strcmp(a, "--duration") == 0) {
			o.duration_s = atof(v);
			if (!(o.duration_s > 0)) {
				fprintf(stderr, "--duration: must be > 0\n");
				return 2;
			}
		} else if (strcmp(a, "--threads") == 0) {
			o.n_threads = bench_parse_int_list(v, o.threads, BENCH_MAX_LIST);
			if (o.n_threads <= 0) {
				fprintf(stderr, "--threads: bad list '%s'\n", v);
				return 2;
			}
			for (int t = 0; t < o.n_threads; t++)
				if (o.threads[t] > BENCH_MAX_THREADS) {
					fprintf(stderr, "--threads: at most %d\n", BENCH_MAX_THREADS);
					return 2;
				}
		} else if (strcmp(a, "--seed") == 0) {
			if (parse_u64(v, &o.seed) != 0) {
				fprintf(stderr, "--seed: bad number\n");
				return 2;
			}
		} else if (strcmp(a, "--systems") == 0) {
			systems_arg = strdup(v);
		} else if (strcmp(a, "--json") == 0) {
			o.json_path = v;
		} else if (strcmp(a, "--plot") == 0) {
			o.plot_path = v;
		} else if (strcmp(a, "--index-load") == 0) {
			o.index_max_load = atof(v);
			if (!(o.index_max_load > 0 && o.index_max_load <= 64)) {
				fprintf(stderr, "--index-load: must be in (0, 64]\n");
				return 2;
			}
		} else if (strcmp(a, "--budget") == 0) {
			if (parse_u64(v, &o.budget_bytes) != 0 || o.budget_bytes == 0) {
				fprintf(stderr, "--budget: bad size '%s'\n", v);
				return 2;
			}
		} else if (strcmp(a, "--trace") == 0) {
			traces_arg = strdup(v);
		} else if (strcmp(a, "--trace-dir") == 0) {
			trace_dir = v;
		} else if (strcmp(a, "--format") == 0) {
			if (bench_trace_format_parse(v, &o.format) != 0) {
				fprintf(stderr, "--format: unknown '%s'\n", v);
				return 2;
			}
			o.have_format = 1;
		} else if (strcmp(a, "--sizes") == 0) {
			char *copy = strdup(v), *save = NULL;
			for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				size_t len = strlen(tok);
				if (len > 1 && tok[len - 1] == '%' && o.n_size_pcts < BENCH_MAX_LIST) {
					o.size_pcts[o.n_size_pcts++] = atof(tok);
				} else if (o.n_sizes < BENCH_MAX_LIST &&
				           parse_u64(tok, &o.sizes[o.n_sizes]) == 0 && o.sizes[o.n_sizes]) {
					o.n_sizes++;
				} else {
					fprintf(stderr, "--sizes: bad size '%s'\n", tok);
					free(copy);
					return 2;
				}
			}
			free(copy);
		} else if (strcmp(a, "--policies") == 0) {
			policies_arg = strdup(v);
		} else if (strcmp(a, "--unit") == 0) {
			if (strcmp(v, "bytes") == 0)
				o.unit_bytes = 1;
			else if (strcmp(v, "entries") != 0) {
				fprintf(stderr, "--unit: entries or bytes\n");
				return 2;
			}
		} else if (strcmp(a, "--keys") == 0) {
			if (parse_u64(v, &o.keys) != 0 || o.keys < 1024 || o.keys > (UINT64_C(1) << 32)) {
				fprintf(stderr, "--keys: a number in [1024, 2^32]\n");
				return 2;
			}
		} else if (strcmp(a, "--rounds") == 0) {
			char *end = NULL;
			long n = strtol(v, &end, 10);
			if (!end || *end || n < 1 || n > BENCH_MAX_ROUNDS) {
				fprintf(stderr, "--rounds: 1..%d\n", BENCH_MAX_ROUNDS);
				return 2;
			}
			o.rounds = (int)n;
		} else if (strcmp(a, "--entries") == 0) {
			if (parse_u64(v, &o.entries) != 0 || o.entries == 0) {
				fprintf(stderr, "--entries: bad number\n");
				return 2;
			}
		} else if (strcmp(a, "--indexers") == 0) {
			o.indexers = atoi(v);
			if (o.indexers <= 0 || o.indexers > BENCH_MAX_THREADS) {
				fprintf(stderr, "--indexers: 1..%d\n", BENCH_MAX_THREADS);
				return 2;
			}
		} else if (strcmp(a, "--view-share") == 0) {
			o.view_share = atof(v);
			if (!(o.view_share > 0 && o.view_share < 1)) {
				fprintf(stderr, "--view-share: in (0, 1)\n");
				return 2;
			}
		} else {
			fprintf(stderr, "unknown option '%s'\n", a);
			usage(stderr);
			return 2;
		}
		i += takes;
	}
	if (o.rounds > 1 && strcmp(scenario, "read-scaling") != 0 && strcmp(scenario, "mixed") != 0 &&
	    strcmp(scenario, "view-during-index") != 0) {
		fprintf(stderr, "--rounds: read-scaling, mixed and view-during-index only\n");
		return 2;
	}
	if (policies_arg)
		o.n_policies = split_list(policies_arg, o.policies, BENCH_MAX_LIST);
	if (traces_arg) {
		o.n_traces = split_list(traces_arg, o.traces, BENCH_MAX_LIST);
		if (o.n_traces < 0) {
			fprintf(stderr, "--trace: at most %d files\n", BENCH_MAX_LIST);
			return 2;
		}
	}
	for (int i = 0; i < o.n_traces; i++) {
		if (strchr(o.traces[i], '/') || access(o.traces[i], F_OK) == 0)
			continue;
		size_t len = strlen(trace_dir) + strlen(o.traces[i]) + 2;
		trace_paths[i] = malloc(len);
		if (!trace_paths[i]) {
			fprintf(stderr, "--trace: out of memory\n");
			return 1;
		}
		snprintf(trace_paths[i], len, "%s/%s", trace_dir, o.traces[i]);
		o.traces[i] = trace_paths[i];
	}
	if (o.n_threads == 0) {
		int n = bench_nproc();
		if (strcmp(scenario, "view-during-index") == 0) {
			o.threads[0] = n / 2 > 0 ? n / 2 : 1;
			o.n_threads = 1;
		} else {
			for (int t = 1; t <= n && t <= BENCH_MAX_THREADS && o.n_threads < BENCH_MAX_LIST; t++)
				o.threads[o.n_threads++] = t;
		}
	}
	/* systems: the list given, or every one available in this build */
	if (systems_arg) {
		const char *names[BENCH_MAX_LIST];
		int n = split_list(systems_arg, names, BENCH_MAX_LIST);
		for (int i = 0; i < n; i++) {
			const struct bench_sys *s = bench_system_find(names[i]);
			char why[160] = "";
			if (!s) {
				fprintf(stderr, "--systems: unknown system '%s'\n", names[i]);
				return 2;
			}
			if (!s->available(why, sizeof(why))) {
				fprintf(stderr, "%s: not available: %s\n", s->name, why);
				continue;
			}
			o.systems[o.n_systems++] = s;
		}
	} else {
		for (const struct bench_sys *const *s = bench_systems_all(); *s; s++) {
			char why[160] = "";
			if ((*s)->available(why, sizeof(why)))
				o.systems[o.n_systems++] = *s;
			else if (strcmp(scenario, "replay") != 0)
				fprintf(stderr, "%s: not available: %s\n", (*s)->name, why);
		}
	}
	struct bench_report r;
	int rc;
	if (strcmp(scenario, "read-scaling") == 0) {
		bench_report_init(&r, "read-scaling");
		rc = bench_scenario_read_scaling(&o, &r);
	} else if (strcmp(scenario, "mixed") == 0) {
		bench_report_init(&r, "mixed");
		rc = bench_scenario_mixed(&o, &r);
	} else if (strcmp(scenario, "view-during-index") == 0) {
		bench_report_init(&r, "view-during-index");
		rc = bench_scenario_view_during_index(&o, &r);
	} else if (strcmp(scenario, "replay") == 0) {
		bench_report_init(&r, "replay");
		rc = bench_scenario_replay(&o, &r);
	} else if (strcmp(scenario, "memory") == 0) {
		bench_report_init(&r, "memory");
		rc = bench_scenario_memory(&o, &r);
	} else {
		fprintf(stderr, "unknown scenario '%s'\n", scenario);
		usage(stderr);
		return 2;
	}
	int status = rc == 0 ? 0 : 1;
	if (r.n > 0 || rc == 0)
		bench_report_table(&r, stdout);
	if (o.json_path && bench_report_json_file(&r, o.json_path) != 0)
		status = 1;
	if (o.plot_path && bench_report_plot(&r, o.plot_path) != 0)
		status = 1;
	bench_report_free(&r);
	free(systems_arg);
	free(policies_arg);
	free(traces_arg);
	for (int i = 0; i < BENCH_MAX_LIST; i++)
		free(trace_paths[i]);
	return status;
}
