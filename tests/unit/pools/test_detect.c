/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of pools/detect.c (guarantees D1-D7) over fake trees.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "pools/detect.h"
#include "pools/pools.h"
#include "unit/pools/fake_tree.h"

#define PAGE 4096u

static struct fake_tree tree;

static void setup(void)
{
	ft_init(&tree);
}

static void teardown(void)
{
	ft_remove(&tree);
}

static void input(struct spc_detect_input *in)
{
	memset(in, 0, sizeof *in);
	in->root = tree.root;
	in->rlimits_given = 1;
	in->rlimit_as = UINT64_MAX;
	in->rlimit_data = UINT64_MAX;
	in->page_size = PAGE;
}

static const struct spc_mem_source *src(const struct spc_mem_report *r, const char *name)
{
	unsigned i;

	for (i = 0; i < r->n_sources; i++)
		if (strcmp(r->sources[i].name, name) == 0)
			return &r->sources[i];
	ck_abort_msg("no source %s", name);
	return NULL;
}

static int detect(struct spc_mem_report *r)
{
	struct spc_detect_input in;

	input(&in);
	memset(r, 0, sizeof *r);
	return spc_detect_budget(&in, r);
}

static uint64_t page_down(uint64_t v)
{
	return v - v % PAGE;
}

START_TEST(cgroup2_limited)
{
	struct spc_mem_report r;

	ft_write(&tree, "proc/self/cgroup", "0::/app\n");
	ft_write(&tree, "sys/fs/cgroup/app/memory.max", "314572800\n");
	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_uint_eq(r.budget_bytes, page_down(314572800ull * 3 / 5));
	ck_assert_str_eq(r.tightest_source, "cgroup2.memory.max");
	ck_assert_uint_eq(src(&r, "cgroup2.memory.max")->bytes, 314572800);
	ck_assert_ptr_nonnull(strstr(src(&r, "cgroup2.memory.max")->path, "/sys/fs/cgroup/app/memory.max"));
	ck_assert_int_eq(r.explicit_budget, 0);
	ck_assert_int_eq(r.below_recommended_minimum, 0);
	ck_assert_uint_eq(r.max_budget_bytes, SPC_DEFAULT_MAX_BUDGET);
}
END_TEST

/* memory.high on a parent is tighter than memory.max on the leaf. */
START_TEST(cgroup2_nested_high_on_parent)
{
	struct spc_mem_report r;

	ft_write(&tree, "proc/self/cgroup", "0::/a/b\n");
	ft_write(&tree, "sys/fs/cgroup/a/b/memory.max", "max\n");
	ft_write(&tree, "sys/fs/cgroup/a/b/memory.high", "max\n");
	ft_write(&tree, "sys/fs/cgroup/a/memory.max", "1073741824\n");
	ft_write(&tree, "sys/fs/cgroup/a/memory.high", "209715200\n");
	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_str_eq(r.tightest_source, "cgroup2.memory.high");
	ck_assert_uint_eq(src(&r, "cgroup2.memory.high")->bytes, 209715200);
	ck_assert_ptr_nonnull(strstr(src(&r, "cgroup2.memory.high")->path, "/a/memory.high"));
	ck_assert_uint_eq(src(&r, "cgroup2.memory.max")->bytes, 1073741824);
	ck_assert_uint_eq(r.budget_bytes, page_down(209715200ull * 3 / 5));
}
END_TEST

/* A tighter limit higher up wins over a looser one below (the walk). */
START_TEST(cgroup2_walks_to_root)
{
	struct spc_mem_report r;

	ft_write(&tree, "proc/self/cgroup", "0::/x/y/z\n");
	ft_write(&tree, "sys/fs/cgroup/x/y/z/memory.max", "900000000\n");
	ft_write(&tree, "sys/fs/cgroup/x/memory.max", "100000000\n");
	ft_write(&tree, "sys/fs/cgroup/memory.max", "800000000\n");
	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_uint_eq(src(&r, "cgroup2.memory.max")->bytes, 100000000);
	ck_assert_uint_eq(r.budget_bytes, page_down(60000000));
}
END_TEST

START_TEST(cgroup2_max_means_none)
{
	struct spc_mem_report r;

	ft_write(&tree, "proc/self/cgroup", "0::/svc\n");
	ft_write(&tree, "sys/fs/cgroup/svc/memory.max", "max\n");
	ft_write(&tree, "sys/fs/cgroup/svc/memory.high", "max\n");
	ft_meminfo(&tree, 8 * FT_GIB, 4 * FT_GIB);
	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_int_eq(src(&r, "cgroup2.memory.max")->has_bytes, 0);
	ck_assert_str_eq(src(&r, "cgroup2.memory.max")->note, "unlimited");
	ck_assert_str_eq(r.tightest_source, "meminfo.MemAvailable");
	ck_assert_uint_eq(r.budget_bytes, 1073741824);
}
END_TEST

START_TEST(cgroup1_limited)
{
	struct spc_mem_report r;

	ft_write(&tree, "proc/self/cgroup", "5:cpu,cpuacct:/\n4:memory:/docker/abc\n0::/\n");
	ft_write(&tree, "sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes", "536870912\n");
	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_str_eq(r.tightest_source, "cgroup1.memory.limit_in_bytes");
	ck_assert_uint_eq(r.budget_bytes, page_down(536870912ull * 3 / 5));
}
END_TEST

/* Inside a container the leaf path is absent; the mount root holds it. */
START_TEST(cgroup1_mount_root)
{
	struct spc_mem_report r;

	ft_write(&tree, "proc/self/cgroup", "4:memory:/docker/abc\n");
	ft_write(&tree, "sys/fs/cgroup/memory/memory.limit_in_bytes", "268435456\n");
	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_str_eq(r.tightest_source, "cgroup1.memory.limit_in_bytes");
	ck_assert_uint_eq(src(&r, "cgroup1.memory.limit_in_bytes")->bytes, 268435456);
}
END_TEST

START_TEST(cgroup1_unlimited_leaf_hierarchical_limit)
{
	struct spc_mem_report r;

	ft_write(&tree, "proc/self/cgroup", "4:memory:/job\n");
	ft_write(&tree, "sys/fs/cgroup/memory/job/memory.limit_in_bytes", "9223372036854771712\n");
	ft_write(&tree, "sys/fs/cgroup/memory/job/memory.stat",
	         "cache 0\nrss 4096\nhierarchical_memory_limit 268435456\n"
	         "hierarchical_memsw_limit 9223372036854771712\n");
	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_int_eq(src(&r, "cgroup1.memory.limit_in_bytes")->has_bytes, 0);
	ck_assert_str_eq(src(&r, "cgroup1.memory.limit_in_bytes")->note, "unlimited");
	ck_assert_str_eq(r.tightest_source, "cgroup1.hierarchical_memory_limit");
	ck_assert_uint_eq(r.budget_bytes, page_down(268435456ull * 3 / 5));
}
END_TEST

START_TEST(cgroup1_huge_value_is_unlimited)
{
	struct spc_mem_report r;

	ft_write(&tree, "proc/self/cgroup", "4:memory:/\n");
	ft_write(&tree, "sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
	ft_write(&tree, "sys/fs/cgroup/memory/memory.stat",
	         "hierarchical_memory_limit 9223372036854771712\n");
	ft_meminfo(&tree, 8 * FT_GIB, 4 * FT_GIB);
	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_uint_eq(r.budget_bytes, 1073741824);
	ck_assert_str_eq(r.tightest_source, "meminfo.MemAvailable");
	ck_assert_uint_eq(src(&r, "meminfo.MemAvailable")->candidate, 2 * 1073741824ull);
}
END_TEST

START_TEST(no_cgroup)
{
	struct spc_mem_report r;

	ft_meminfo(&tree, 8 * FT_GIB, 1 * FT_GIB);
	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_str_eq(src(&r, "cgroup2.memory.max")->note, "no /proc/self/cgroup");
	ck_assert_str_eq(r.tightest_source, "meminfo.MemAvailable");
	ck_assert_uint_eq(r.budget_bytes, 512ull << 20);
}
END_TEST

START_TEST(tiny_memavailable)
{
	struct spc_mem_report r;

	ft_meminfo(&tree, 8 * FT_GIB, 2048); /* 2 MiB available */
	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_str_eq(r.tightest_source, "meminfo.MemAvailable");
	ck_assert_uint_eq(r.budget_bytes, SPC_DETECT_FLOOR);
	ck_assert_int_eq(r.below_recommended_minimum, 1);
	ck_assert_uint_eq(r.recommended_min_bytes, SPC_RECOMMENDED_MIN_BYTES);
	ck_assert_uint_ge(r.n_warnings, 1);
	ck_assert_ptr_nonnull(strstr(r.warnings[r.n_warnings - 1], "recommended minimum"));
}
END_TEST

/* D2: every malformed limit file is skipped with a note; no crash. */
static const struct {
	const char *content, *note;
} malformed[] = {
	{ "", "empty" },
	{ "\n", "empty" },
	{ "garbage\n", "not a number" },
	{ "-5\n", "negative" },
	{ "99999999999999999999999\n", "overflows 64 bits" },
	{ "12abc\n", "trailing garbage" },
	{ "max\n", "unlimited" },
};

START_TEST(malformed_cgroup_files)
{
	struct spc_mem_report r;
	const struct spc_mem_source *s;

	ft_write(&tree, "proc/self/cgroup", "4:memory:/\n0::/\n");
	ft_write(&tree, "sys/fs/cgroup/memory.max", malformed[_i].content);
	ft_write(&tree, "sys/fs/cgroup/memory/memory.limit_in_bytes", malformed[_i].content);
	ft_write(&tree, "sys/fs/cgroup/memory/memory.stat",
	         "rss 1\nhierarchical_memory_limit garbage\n");
	ft_meminfo(&tree, 8 * FT_GIB, 1 * FT_GIB);
	ck_assert_int_eq(detect(&r), SPC_OK);
	s = src(&r, "cgroup2.memory.max");
	ck_assert_int_eq(s->has_bytes, 0);
	ck_assert_msg(strstr(s->note, malformed[_i].note), "note '%s' lacks '%s'", s->note,
	              malformed[_i].note);
	s = src(&r, "cgroup1.memory.limit_in_bytes");
	ck_assert_int_eq(s->has_bytes, 0);
	ck_assert_msg(strstr(s->note, malformed[_i].note), "note '%s'", s->note);
	ck_assert_int_eq(src(&r, "cgroup1.hierarchical_memory_limit")->has_bytes, 0);
	ck_assert_str_eq(r.tightest_source, "meminfo.MemAvailable");
	ck_assert_uint_eq(r.budget_bytes, 512ull << 20);
}
END_TEST

START_TEST(malformed_meminfo_and_cgroup_file)
{
	struct spc_mem_report r;

	ft_write(&tree, "proc/self/cgroup", "garbage without colons\n");
	ft_write(&tree, "proc/meminfo", "MemTotal: lots kB\nMemAvailable: -3 kB\n");
	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_int_eq(src(&r, "meminfo.MemAvailable")->has_bytes, 0);
	ck_assert_ptr_nonnull(strstr(src(&r, "meminfo.MemAvailable")->note, "negative"));
	ck_assert_int_eq(src(&r, "meminfo.MemTotal")->has_bytes, 0);
	ck_assert_str_eq(r.tightest_source, "fallback");
	ck_assert_uint_eq(r.budget_bytes, SPC_DETECT_FALLBACK);
}
END_TEST

START_TEST(empty_tree_uses_fallback)
{
	struct spc_mem_report r;

	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_str_eq(r.tightest_source, "fallback");
	ck_assert_uint_eq(r.budget_bytes, SPC_DETECT_FALLBACK);
	ck_assert_uint_ge(r.n_warnings, 1);
}
END_TEST

START_TEST(memtotal_only_gives_half)
{
	struct spc_mem_report r;

	ft_meminfo(&tree, 1 * FT_GIB, 0);
	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_str_eq(r.tightest_source, "meminfo.MemTotal");
	ck_assert_uint_eq(r.budget_bytes, 512ull << 20);
}
END_TEST

START_TEST(rlimits_halved)
{
	struct spc_detect_input in;
	struct spc_mem_report r;

	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	input(&in);
	in.rlimit_as = 314572800;
	in.rlimit_data = 400000000;
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(spc_detect_budget(&in, &r), SPC_OK);
	ck_assert_str_eq(r.tightest_source, "rlimit.as");
	ck_assert_uint_eq(r.budget_bytes, 157286400);
	ck_assert_uint_eq(src(&r, "rlimit.data")->candidate, 200000000);
}
END_TEST

START_TEST(commit_headroom_only_in_mode_2)
{
	struct spc_mem_report r;

	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB); /* CommitLimit 1000000, Committed 600000 kB */
	ft_write(&tree, "proc/sys/vm/overcommit_memory", "0\n");
	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_int_eq(src(&r, "commit.headroom")->has_bytes, 0);
	ck_assert_str_eq(r.tightest_source, "meminfo.MemAvailable");

	ft_write(&tree, "proc/sys/vm/overcommit_memory", "2\n");
	ck_assert_int_eq(detect(&r), SPC_OK);
	ck_assert_uint_eq(src(&r, "commit.headroom")->bytes, 400000ull * 1024);
	ck_assert_str_eq(r.tightest_source, "commit.headroom");
	ck_assert_uint_eq(r.budget_bytes, page_down(200000ull * 1024));
}
END_TEST

START_TEST(explicit_cut_to_raw_limit)
{
	struct spc_detect_input in;
	struct spc_mem_report r;

	ft_write(&tree, "proc/self/cgroup", "0::/\n");
	ft_write(&tree, "sys/fs/cgroup/memory.max", "314572800\n");
	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	input(&in);
	in.explicit_bytes = 512ull << 20;
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(spc_detect_budget(&in, &r), SPC_OK);
	ck_assert_int_eq(r.explicit_budget, 1);
	ck_assert_int_eq(r.explicit_cut, 1);
	ck_assert_uint_eq(r.budget_bytes, 314572800);
	ck_assert_str_eq(r.tightest_source, "cgroup2.memory.max");
	ck_assert_uint_eq(src(&r, "override")->bytes, 512ull << 20);

	/* 90 % of the container is allowed, uncut. */
	in.explicit_bytes = 283115520;
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(spc_detect_budget(&in, &r), SPC_OK);
	ck_assert_int_eq(r.explicit_cut, 0);
	ck_assert_uint_eq(r.budget_bytes, 283115520);
	ck_assert_str_eq(r.tightest_source, "override");
}
END_TEST

START_TEST(explicit_not_bounded_by_max_budget)
{
	struct spc_detect_input in;
	struct spc_mem_report r;

	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	input(&in);
	in.env_value = "2G";
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(spc_detect_budget(&in, &r), SPC_OK);
	ck_assert_uint_eq(r.budget_bytes, 2ull << 30);
	ck_assert_int_eq(r.explicit_cut, 0);
	ck_assert_str_eq(r.tightest_source, "override");
	ck_assert_ptr_nonnull(strstr(src(&r, "override")->note, "SPLITCACHE_MEMORY"));

	/* The config wins over the environment. */
	in.explicit_bytes = 100ull << 20;
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(spc_detect_budget(&in, &r), SPC_OK);
	ck_assert_uint_eq(r.budget_bytes, 100ull << 20);
}
END_TEST

START_TEST(garbage_env_is_econfig)
{
	static const char *bad[] = { "banana", "", "-1G", "12Q", "0", "99999999999T" };
	struct spc_detect_input in;
	struct spc_mem_report r;
	unsigned i;

	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		input(&in);
		in.env_value = bad[i];
		memset(&r, 0, sizeof r);
		ck_assert_int_eq(spc_detect_budget(&in, &r), SPC_ECONFIG);
		ck_assert_uint_ge(r.n_warnings, 1);
		ck_assert_ptr_nonnull(strstr(r.warnings[0], "SPLITCACHE_MEMORY"));
		ck_assert_uint_eq(r.budget_bytes, 0);
	}
}
END_TEST

START_TEST(max_budget_clamps_rule)
{
	struct spc_detect_input in;
	struct spc_mem_report r;

	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	input(&in);
	in.max_budget_bytes = 100000000;
	memset(&r, 0, sizeof r);
	ck_assert_int_eq(spc_detect_budget(&in, &r), SPC_OK);
	ck_assert_uint_eq(r.budget_bytes, page_down(100000000));
	ck_assert_uint_eq(r.max_budget_bytes, 100000000);
	ck_assert_str_eq(r.tightest_source, "meminfo.MemAvailable");
}
END_TEST

START_TEST(parse_values)
{
	uint64_t v = 0;
	const char *why = NULL;

	ck_assert_int_eq(spc_detect_parse(" 42 \n", &v, &why), SPC_DETECT_VALUE);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(spc_detect_parse("18446744073709551615", &v, &why), SPC_DETECT_VALUE);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_int_eq(spc_detect_parse("18446744073709551616", &v, &why), SPC_DETECT_MALFORMED);
	ck_assert_int_eq(spc_detect_parse("max\n", &v, &why), SPC_DETECT_NONE);
	ck_assert_int_eq(spc_detect_parse("maxi", &v, &why), SPC_DETECT_MALFORMED);
	ck_assert_int_eq(spc_detect_parse("1 2", &v, &why), SPC_DETECT_MALFORMED);
}
END_TEST

START_TEST(read_goes_under_root)
{
	char buf[8], path[256];

	ft_write(&tree, "proc/x", "0123456789");
	ck_assert_int_eq(spc_detect_read(tree.root, "proc/x", buf, sizeof buf, path, sizeof path),
	                 SPC_ERANGE);
	ck_assert_str_eq(buf, "0123456");
	ck_assert_ptr_eq(strstr(path, tree.root), path);
	ck_assert_int_eq(spc_detect_read(tree.root, "proc/y", buf, sizeof buf, NULL, 0),
	                 SPC_ENOTFOUND);
	ck_assert_int_eq(spc_detect_read(tree.root, "proc", buf, sizeof buf, NULL, 0), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_detect_read(tree.root, "proc/x", buf, 0, NULL, 0), SPC_EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pools.detect");
	TCase *tc = tcase_create("detect");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, cgroup2_limited);
	tcase_add_test(tc, cgroup2_nested_high_on_parent);
	tcase_add_test(tc, cgroup2_walks_to_root);
	tcase_add_test(tc, cgroup2_max_means_none);
	tcase_add_test(tc, cgroup1_limited);
	tcase_add_test(tc, cgroup1_mount_root);
	tcase_add_test(tc, cgroup1_unlimited_leaf_hierarchical_limit);
	tcase_add_test(tc, cgroup1_huge_value_is_unlimited);
	tcase_add_test(tc, no_cgroup);
	tcase_add_test(tc, tiny_memavailable);
	tcase_add_loop_test(tc, malformed_cgroup_files, 0, sizeof malformed / sizeof malformed[0]);
	tcase_add_test(tc, malformed_meminfo_and_cgroup_file);
	tcase_add_test(tc, empty_tree_uses_fallback);
	tcase_add_test(tc, memtotal_only_gives_half);
	tcase_add_test(tc, rlimits_halved);
	tcase_add_test(tc, commit_headroom_only_in_mode_2);
	tcase_add_test(tc, explicit_cut_to_raw_limit);
	tcase_add_test(tc, explicit_not_bounded_by_max_budget);
	tcase_add_test(tc, garbage_env_is_econfig);
	tcase_add_test(tc, max_budget_clamps_rule);
	tcase_add_test(tc, parse_values);
	tcase_add_test(tc, read_goes_under_root);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
