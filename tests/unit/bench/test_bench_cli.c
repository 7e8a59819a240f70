/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_bench_cli.c: the splitcache-bench program as users run it (the
 * binary's path is argv[1]); the promises of docs/bench-format.md that
 * only the whole program keeps:
 *   - --plot FILE.png: gnuplot draws a real PNG (signature, IHDR of the
 *     bench's 1000x650 terminal, more than a few KiB of image data)
 *   - --progress: progress lines on stderr although stderr is a file;
 *     without it, none
 *   - replay of all 23 traces named without a folder: they are found in
 *     the default trace folder (tests/data/traces), and the JSON file
 *     parses with every trace in params.traces, whole (python3 -m
 *     json.tool, then the list read back)
 *   - --rounds N: per-round ops/s, their median, the median of per-round
 *     ratios; refused outside read-scaling, mixed and view-during-index
 *   - view-during-index --rounds N: per-round reader ops/s in both phases
 *     and per-round inserts/s in phase B, their medians, ratios that are
 *     medians of per-round ratios (a run where that differs from the ratio
 *     of the medians is required); without the option, the rows' keys of
 *     before
 * Every run writes into a fresh temporary folder.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_run.h"

static const char *bench_bin; /* argv[1] */
static char tmp[64];

static void tmp_setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/spc-bench-cli-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
}

static void tmp_teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
}

/* Runs the bench with args, stdout and stderr into files of tmp; returns
 * its exit status. */
static int run_bench(const char *args)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), "'%s' %s >'%s/out' 2>'%s/err' </dev/null", bench_bin, args,
	         tmp, tmp);
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Reads a file of tmp whole into a static buffer; returns its length. */
static size_t slurp(const char *name, unsigned char *buf, size_t cap)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s missing", path);
	size_t n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = 0;
	return n;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

START_TEST(test_plot_png)
{
	static unsigned char png[1 << 20];
	char args[256];
	snprintf(args, sizeof(args),
	         "read-scaling --duration 0.05 --threads 1,2 --systems mutex-lru,lfht-bare "
	         "--budget 16M --plot '%s/r.png'", tmp);
	ck_assert_int_eq(run_bench(args), 0);
	size_t n = slurp("r.png", png, sizeof(png));
	static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	ck_assert_uint_gt(n, 33);
	ck_assert_int_eq(memcmp(png, sig, 8), 0);
	ck_assert_int_eq(memcmp(png + 12, "IHDR", 4), 0);
	ck_assert_uint_eq(be32(png + 16), 1000); /* the bench's `set terminal png size 1000,650` */
	ck_assert_uint_eq(be32(png + 20), 650);
	/* axes, grid, two series and their titles: never a near-empty image */
	ck_assert_uint_gt(n, 4096);
	ck_assert_ptr_nonnull(memmem(png, n, "IEND", 4));
}
END_TEST

START_TEST(test_progress)
{
	static unsigned char err[1 << 16];
	const char *args = "read-scaling --duration 0.05 --threads 1 --systems mutex-lru --budget 16M";
	char with[256];

	/* stderr is a file: no progress unless asked for */
	ck_assert_int_eq(run_bench(args), 0);
	slurp("err", err, sizeof(err));
	ck_assert_ptr_null(strstr((char *)err, "read-scaling: mutex-lru, 1 thread(s)"));

	snprintf(with, sizeof(with), "%s --progress", args);
	ck_assert_int_eq(run_bench(with), 0);
	slurp("err", err, sizeof(err));
	ck_assert_ptr_nonnull(strstr((char *)err, "read-scaling: mutex-lru, 1 thread(s)"));
	ck_assert_ptr_nonnull(strchr((char *)err, '\r')); /* a line rewritten in place */
}
END_TEST

static const char *const traces[] = {
	"adaptsize_request.trace.xz", "address_gcc.trace.gz", "arc_OLTP.lis.zst",
	"cache2k_orm-busy.trace.xz", "cache2k_orm-night.trace.xz", "cache2k_web07.trace.xz",
	"cache2k_web12.trace.xz", "cloudphysics_w106.trace.xz", "corda_vaultservice.trace.gz",
	"lirs_2_pools.trace.gz", "lirs_backf.trace.gz", "lirs_cpp.trace.gz", "lirs_cs.trace.gz",
	"lirs_gli.trace.gz", "lirs_loop.trace.gz", "lirs_multi1.trace.gz", "lirs_multi2.trace.gz",
	"lirs_multi3.trace.gz", "lirs_ps.trace.gz", "lirs_scan.trace.gz", "lirs_sprite.trace.gz",
	"lirs_zigzag.trace.gz", "scarab-recs.trace.xz",
};
#define N_TRACES ((int)(sizeof(traces) / sizeof(traces[0])))

START_TEST(test_replay_all_traces_json)
{
	char list[2048] = "", args[4096], cmd[4096];
	for (int i = 0; i < N_TRACES; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? "," : "",
		         traces[i]);
	/* names without a folder: read from the default trace folder */
	snprintf(args, sizeof(args),
	         "replay --trace %s --policies lru-exact --sizes 10%% --json '%s/r.json'", list, tmp);
	ck_assert_int_eq(run_bench(args), 0);

	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 -m json.tool '%s/r.json' >/dev/null", tmp);
	ck_assert_int_eq(system(cmd), 0);
	/* the parameters name every trace, whole, in order, each path under the
	 * default folder; one result row per trace */
	snprintf(cmd, sizeof(cmd),
	         "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
	         "t=d[\"params\"][\"traces\"]; names=sys.argv[2].split(\",\"); "
	         "assert [p.rsplit(\"/\",1)[1] for p in t]==names, t; "
	         "assert all(p.startswith(sys.argv[3]+\"/\") for p in t), t; "
	         "assert sorted(r[\"trace\"] for r in d[\"results\"])==sorted(names)' "
	         "'%s/r.json' '%s' '%s/traces'",
	         tmp, list, SPC_TEST_DATA_DIR);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* --rounds: every row carries one ops/s per round, reports their median,
 * and its ratio is the median of the per-round ratios to the reference
 * system; the option is refused where it means nothing. */
START_TEST(test_rounds_interleaved)
{
	char args[512], cmd[2048];
	snprintf(args, sizeof(args),
	         "read-scaling --duration 0.05 --threads 1,2 --rounds 3 --keys 4096 "
	         "--systems splitcache,index-bare --json '%s/r.json'",
	         tmp);
	ck_assert_int_eq(run_bench(args), 0);
	snprintf(cmd, sizeof(cmd),
	         "/usr/bin/python3 -c 'import json,sys,statistics as st; "
	         "d=json.load(open(sys.argv[1])); assert d[\"params\"][\"rounds\"]==3; "
	         "rs=d[\"results\"]; assert len(rs)==4, rs; "
	         "v={(r[\"system\"],r[\"threads\"]): r for r in rs}\n"
	         "for r in rs:\n"
	         " q=r[\"ops_per_sec_rounds\"]; assert len(q)==3 and min(q)>0, q\n"
	         " assert r[\"ops_per_sec\"]==round(st.median(q)), r\n"
	         " assert r[\"rss_bytes\"] is None, r\n"
	         " b=v[(\"splitcache\",r[\"threads\"])][\"ops_per_sec_rounds\"]\n"
	         " want=st.median([x/y for x,y in zip(q,b)])\n"
	         " assert abs(r[\"ratio\"]-want)<1e-6*want, (r[\"ratio\"],want)' '%s/r.json'",
	         tmp);
	ck_assert_int_eq(system(cmd), 0);
	/* without --rounds: no per-round figures */
	snprintf(args, sizeof(args),
	         "read-scaling --duration 0.05 --threads 1 --keys 4096 --systems index-bare "
	         "--json '%s/one.json'",
	         tmp);
	ck_assert_int_eq(run_bench(args), 0);
	snprintf(cmd, sizeof(cmd),
	         "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
	         "assert d[\"params\"][\"rounds\"]==1; "
	         "assert all(r[\"ops_per_sec_rounds\"] is None for r in d[\"results\"])' "
	         "'%s/one.json'",
	         tmp);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(run_bench("read-scaling --rounds 0"), 2);
	ck_assert_int_eq(run_bench("read-scaling --rounds 65"), 2);
	ck_assert_int_eq(run_bench("memory --rounds 3"), 2);
}
END_TEST

/* The checks of one view-during-index --rounds 3 file (argv[1]); exit 0
 * when they hold and some non-reference row's median of per-round ratios
 * differs from the ratio of its medians (the run tells the two apart),
 * 3 when they hold but no row does, 1 when one fails. */
static const char vdi_rounds_check[] =
	"import json,sys,statistics as st\n"
	"d=json.load(open(sys.argv[1])); assert d['params']['rounds']==3, d['params']\n"
	"rs=d['results']; assert len(rs)==4, rs\n"
	"assert [(r['system'],r['phase']) for r in rs]==[('splitcache','A'),('splitcache','B'),"
	"('mutex-lru','A'),('mutex-lru','B')], rs\n"
	"ref={r['phase']: r for r in rs if r['system']=='mutex-lru'}\n"
	"def near(x,y): return abs(x-y)<=1e-5*abs(y)\n"
	"apart=0\n"
	"for r in rs:\n"
	" q=r['ops_per_sec_rounds']; b=ref[r['phase']]['ops_per_sec_rounds']\n"
	" assert len(q)==3 and min(q)>0, r\n"
	" assert r['ops_per_sec']==round(st.median(q)), r\n"
	" assert r['rss_bytes'] is None and r['ratio_vs']=='mutex-lru', r\n"
	" assert near(r['ratio'], st.median([x/y for x,y in zip(q,b)])), r\n"
	" apart+=not near(r['ratio'], st.median(q)/st.median(b))\n"
	" if r['phase']=='A':\n"
	"  assert r['inserts_per_sec_rounds'] is None and r['inserts_ratio'] is None, r\n"
	"  continue\n"
	" i=r['inserts_per_sec_rounds']; j=ref['B']['inserts_per_sec_rounds']\n"
	" assert len(i)==3 and min(i)>0, r\n"
	" assert r['inserts_per_sec']==round(st.median(i)), r\n"
	" assert near(r['inserts_ratio'], st.median([x/y for x,y in zip(i,j)])), r\n"
	" apart+=not near(r['inserts_ratio'], st.median(i)/st.median(j))\n"
	/* evictions: present, not necessarily > 0 (whether a system fills up
	 * within three 0.2 s slices depends on the machine's speed) */
	" assert r['cpu_ns_per_insert']>0 and r['evictions_per_sec']>=0, r\n"
	"sys.exit(0 if apart else 3)\n";

/* view-during-index --rounds: both phases' reader ops/s per round and
 * phase B's inserts/s per round, their medians, and ratios that are the
 * medians of per-round ratios, not ratios of medians. A run whose rounds
 * happen to give the same value both ways proves nothing, so runs are
 * repeated (at most 6) until one tells them apart. Without the option
 * the rows carry the keys they always had and params no "rounds". */
START_TEST(test_vdi_rounds)
{
	char args[512], cmd[4096];
	snprintf(cmd, sizeof(cmd), "%s/check.py", tmp);
	FILE *f = fopen(cmd, "w");
	ck_assert_ptr_nonnull(f);
	fputs(vdi_rounds_check, f);
	ck_assert_int_eq(fclose(f), 0);
	snprintf(args, sizeof(args),
	         "view-during-index --duration 0.2 --rounds 3 --threads 1 --indexers 1 "
	         "--budget 64M --systems splitcache,mutex-lru --json '%s/r.json'",
	         tmp);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 '%s/check.py' '%s/r.json'", tmp, tmp);
	int st = -1;
	for (int run = 0; run < 6; run++) {
		ck_assert_int_eq(run_bench(args), 0);
		st = system(cmd);
		ck_assert_msg(WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == 3),
		              "the rounds file fails its checks (run %d)", run);
		if (WEXITSTATUS(st) == 0)
			break;
	}
	ck_assert_msg(WEXITSTATUS(st) == 0,
	              "no run told the median of ratios from the ratio of medians");

	snprintf(args, sizeof(args),
	         "view-during-index --duration 0.1 --threads 1 --indexers 1 --budget 64M "
	         "--systems mutex-lru --json '%s/one.json'",
	         tmp);
	ck_assert_int_eq(run_bench(args), 0);
	snprintf(cmd, sizeof(cmd),
	         "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
	         "assert \"rounds\" not in d[\"params\"], d[\"params\"]; "
	         "keys=\"system phase threads ops_per_sec p50_ns p99_ns p999_ns inserts_per_sec "
	         "evictions_per_sec max_overshoot_bytes rss_bytes budget_bytes hit_ratio trace "
	         "size policy bytes_per_entry_overhead max_ns hits requests "
	         "rss_bytes_per_entry_overhead ratio_vs ratio cpu_ns_per_op cpu_ns_per_insert "
	         "bg_cpu_ns_per_insert settle_s settled ops_per_sec_rounds\".split(); "
	         "assert [list(r) for r in d[\"results\"]]==[keys, keys], d[\"results\"]; "
	         "assert all(r[\"ops_per_sec_rounds\"] is None and r[\"rss_bytes\"]>0 "
	         "for r in d[\"results\"])' '%s/one.json'",
	         tmp);
	ck_assert_int_eq(system(cmd), 0);
	ck_assert_int_eq(run_bench("view-during-index --rounds 0"), 2);
	ck_assert_int_eq(run_bench("view-during-index --rounds 65"), 2);
}
END_TEST

START_TEST(test_trace_dir_option)
{
	char args[512];
	/* --trace-dir wins over the default folder: an empty folder finds nothing */
	snprintf(args, sizeof(args),
	         "replay --trace lirs_loop.trace.gz --trace-dir '%s' --policies lru-exact "
	         "--sizes 100", tmp);
	ck_assert_int_eq(run_bench(args), 1);
	snprintf(args, sizeof(args),
	         "replay --trace lirs_loop.trace.gz --trace-dir '%s/traces' --policies lru-exact "
	         "--sizes 100", SPC_TEST_DATA_DIR);
	ck_assert_int_eq(run_bench(args), 0);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-splitcache-bench\n", argv[0]);
		return EXIT_FAILURE;
	}
	bench_bin = argv[1];
	Suite *s = suite_create("bench-cli");
	TCase *tc = tcase_create("cli");
	tcase_set_timeout(tc, 600);
	tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
	tcase_add_test(tc, test_plot_png);
	tcase_add_test(tc, test_progress);
	tcase_add_test(tc, test_replay_all_traces_json);
	tcase_add_test(tc, test_trace_dir_option);
	tcase_add_test(tc, test_rounds_interleaved);
	tcase_add_test(tc, test_vdi_rounds);
	suite_add_tcase(s, tc);
	return spc_check_run(s);
}
