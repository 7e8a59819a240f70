/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Integration tests: the real splitcache-mem binary over fake trees
 * (--root), under prlimit, with bad arguments and a bad SPLITCACHE_MEMORY.
 * These are the acceptance checks of issue 2.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "unit/pools/fake_tree.h"

#define TOOL SPC_TEST_BINARY_DIR "/service/splitcache-mem"
#define PAGE 4096ull

extern char **environ;

static struct fake_tree tree;
static char out[1 << 16], err[4096];

static void setup(void)
{
	ft_init(&tree);
}

static void teardown(void)
{
	ft_remove(&tree);
}

static void slurp(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	ssize_t n;

	while ((n = read(fd, buf + len, cap - 1 - len)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			len += (size_t)n;
	buf[len] = '\0';
	close(fd);
}

/* Runs argv with SPLITCACHE_MEMORY removed from the environment, or set to
 * env_mem when not NULL. Returns the exit status; out and err hold the
 * output (stderr read after stdout: the reports are small). */
static int run(const char *env_mem, char *const argv[])
{
	int po[2], pe[2], status = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(po), 0);
	ck_assert_int_eq(pipe(pe), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		if (env_mem)
			setenv("SPLITCACHE_MEMORY", env_mem, 1);
		else
			unsetenv("SPLITCACHE_MEMORY");
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	slurp(po[0], out, sizeof out);
	slurp(pe[0], err, sizeof err);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status), "killed by signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

/* The number after "key": (first occurrence after `after`, if given). */
static uint64_t json_u64(const char *after, const char *key)
{
	char pat[96];
	const char *p = after ? strstr(out, after) : out;

	ck_assert_msg(p, "no %s in:\n%s", after, out);
	snprintf(pat, sizeof pat, "\"%s\": ", key);
	p = strstr(p, pat);
	ck_assert_msg(p, "no %s in:\n%s", key, out);
	return strtoull(p + strlen(pat), NULL, 10);
}

static void json_str_is(const char *key, const char *want)
{
	char pat[160];

	snprintf(pat, sizeof pat, "\"%s\": \"%s\"", key, want);
	ck_assert_msg(strstr(out, pat), "want %s in:\n%s", pat, out);
}

START_TEST(cgroup2_limit_decides)
{
	char *argv[] = { TOOL, "--json", "--root", tree.root, NULL };

	ft_write(&tree, "proc/self/cgroup", "0::/\n");
	ft_write(&tree, "sys/fs/cgroup/memory.max", "314572800\n");
	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	ck_assert_int_eq(run(NULL, argv), 0);
	ck_assert_uint_eq(json_u64(NULL, "budget_bytes"), 314572800ull * 6 / 10 / PAGE * PAGE);
	json_str_is("tightest_source", "cgroup2.memory.max");
	ck_assert_ptr_nonnull(strstr(out, "\"degraded\": false"));
}
END_TEST

START_TEST(cgroup1_unlimited_memavailable_decides)
{
	char *argv[] = { TOOL, "--json", "--root", tree.root, NULL };

	ft_write(&tree, "proc/self/cgroup", "4:memory:/\n");
	ft_write(&tree, "sys/fs/cgroup/memory/memory.limit_in_bytes", "9223372036854771712\n");
	ft_meminfo(&tree, 8 * FT_GIB, 4 * FT_GIB);
	ck_assert_int_eq(run(NULL, argv), 0);
	ck_assert_uint_eq(json_u64(NULL, "budget_bytes"), 1073741824);
	json_str_is("tightest_source", "meminfo.MemAvailable");
	ck_assert_uint_eq(json_u64(NULL, "max_budget_bytes"), 1073741824);
}
END_TEST

START_TEST(prlimit_as)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
	printf("SKIP prlimit_as: sanitizer runtimes need far more address space than 300 MB\n");
#else
	char *argv[] = { "/usr/bin/prlimit", "--as=314572800", TOOL, "--json", NULL };

	if (access(argv[0], X_OK) != 0) {
		printf("SKIP prlimit_as: no /usr/bin/prlimit\n");
		return;
	}
	ck_assert_int_eq(run(NULL, argv), 0);
	ck_assert_uint_le(json_u64(NULL, "budget_bytes"), 157286400);
	ck_assert_uint_gt(json_u64(NULL, "budget_bytes"), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"name\": \"rlimit.as\", \"bytes\": 314572800"));
#endif
}
END_TEST

START_TEST(bad_env_exits_2)
{
	char *argv[] = { TOOL, NULL };

	ck_assert_int_eq(run("banana", argv), 2);
	ck_assert_ptr_nonnull(strstr(err, "SPLITCACHE_MEMORY"));
	ck_assert_ptr_null(strchr(err, '\n') ? strchr(strchr(err, '\n') + 1, '\n') : NULL);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(good_env_is_used)
{
	char *argv[] = { TOOL, "--json", "--root", tree.root, NULL };

	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	ck_assert_int_eq(run("512M", argv), 0);
	ck_assert_uint_eq(json_u64(NULL, "budget_bytes"), 512ull << 20);
	json_str_is("tightest_source", "override");
}
END_TEST

START_TEST(bad_arguments_exit_2)
{
	static const char *bad[][2] = {
		{ "--mode", "bogus" }, { "--view-share", "1.5" }, { "--view-share", "0" },
		{ "--view-share", "x" }, { "--budget", "banana" }, { "--max-budget", "-1" },
		{ "--frobnicate", NULL }, { "--root", NULL },
	};
	unsigned i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *argv[] = { TOOL, (char *)bad[i][0], (char *)bad[i][1], NULL };

		ck_assert_msg(run(NULL, argv) == 2, "%s %s", bad[i][0], bad[i][1]);
		ck_assert_ptr_nonnull(strstr(err, "splitcache-mem: "));
	}
}
END_TEST

START_TEST(mode_indexer)
{
	char *argv[] = { TOOL, "--json", "--root", tree.root, "--mode", "indexer", NULL };
	uint64_t budget;

	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	ck_assert_int_eq(run(NULL, argv), 0);
	budget = json_u64(NULL, "budget_bytes");
	ck_assert_uint_eq(json_u64("\"view\": {", "target_bytes"), 1048576);
	ck_assert_uint_eq(json_u64("\"index\": {", "target_bytes"), budget - 1048576);
	json_str_is("mode", "indexer");
}
END_TEST

START_TEST(mode_split_quarter)
{
	char *argv[] = { TOOL, "--json", "--root", tree.root, "--mode", "split",
	                 "--view-share", "0.25", NULL };
	uint64_t budget, index, view;

	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	ck_assert_int_eq(run(NULL, argv), 0);
	budget = json_u64(NULL, "budget_bytes");
	index = json_u64("\"index\": {", "target_bytes");
	view = json_u64("\"view\": {", "target_bytes");
	ck_assert_uint_eq(index, 3 * view);
	ck_assert_uint_le(index + view, budget);
	ck_assert_ptr_nonnull(strstr(out, "\"view_share\": 0.25"));
}
END_TEST

START_TEST(text_report_and_options)
{
	char *argv[] = { TOOL, "--root", tree.root, "--budget", "64M", "--prefault", NULL };
	char *argv2[] = { TOOL, "--json", "--root", tree.root, "--max-budget=100M", NULL };

	ft_meminfo(&tree, 32 * FT_GIB, 16 * FT_GIB);
	ck_assert_int_eq(run(NULL, argv), 0);
	ck_assert_ptr_nonnull(strstr(out, "budget: 67108864 bytes"));
	ck_assert_ptr_nonnull(strstr(out, "rule:"));
	ck_assert_ptr_nonnull(strstr(out, "prefault on"));
	ck_assert_ptr_nonnull(strstr(out, "meminfo.MemAvailable"));
	ck_assert_int_eq(run(NULL, argv2), 0);
	ck_assert_uint_eq(json_u64(NULL, "budget_bytes"), 100ull * 1024 * 1024);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("integration.mem");
	TCase *tc = tcase_create("splitcache-mem");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, cgroup2_limit_decides);
	tcase_add_test(tc, cgroup1_unlimited_memavailable_decides);
	tcase_add_test(tc, prlimit_as);
	tcase_add_test(tc, bad_env_exits_2);
	tcase_add_test(tc, good_env_is_used);
	tcase_add_test(tc, bad_arguments_exit_2);
	tcase_add_test(tc, mode_indexer);
	tcase_add_test(tc, mode_split_quarter);
	tcase_add_test(tc, text_report_and_options);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
