/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_install.c: what `make install` promises, on a staging prefix.
 * `cmake --install BUILD --prefix TMP/x` (the command `make install
 * PREFIX=...` runs), then README.md's example program is built against the
 * installed files only, twice, and run:
 *   - with pkg-config: splitcache.pc points into TMP/x although the build
 *     was configured for another prefix (it is relocatable);
 *   - with CMake: find_package(splitcache) and splitcache::splitcache.
 * Arguments: cmake, the C compiler, the build folder (see CMakeLists.txt).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_run.h"

static const char *cmake_bin, *cc_bin, *build_dir;
static char tmp[64], prefix[128], libdir[256];

static void sh(const char *cmd)
{
	int st = system(cmd);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "failed: %s", cmd);
}

static void install_setup(void)
{
	char cmd[1024];
	snprintf(tmp, sizeof(tmp), "/tmp/spc-install-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	snprintf(prefix, sizeof(prefix), "%s/x", tmp);
	snprintf(libdir, sizeof(libdir), "%s/%s", prefix, SPC_INSTALL_LIBDIR);
	snprintf(cmd, sizeof(cmd), "'%s' --install '%s' --prefix '%s' >'%s/install.log'", cmake_bin,
	         build_dir, prefix, tmp);
	sh(cmd);
}

static void install_teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmp);
}

START_TEST(test_pkg_config)
{
	char cmd[2048], flags[1024] = "";
	snprintf(cmd, sizeof(cmd),
	         "PKG_CONFIG_PATH='%s/pkgconfig' PKG_CONFIG_LIBDIR= pkg-config --cflags --libs "
	         "splitcache",
	         libdir);
	FILE *p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(fgets(flags, sizeof(flags), p));
	ck_assert_int_eq(pclose(p), 0);
	flags[strcspn(flags, "\n")] = 0;
	/* every folder it names is inside the staging prefix */
	ck_assert_msg(strstr(flags, "-I/usr/local") == NULL && strstr(flags, "-L/usr/local") == NULL,
	              "pkg-config points outside the prefix: %s", flags);
	char want[512];
	snprintf(want, sizeof(want), "-I%s", prefix);
	ck_assert_msg(strstr(flags, want) != NULL, "no %s in: %s", want, flags);
	snprintf(want, sizeof(want), "-L%s", prefix);
	ck_assert_msg(strstr(flags, want) != NULL, "no %s in: %s", want, flags);

	snprintf(cmd, sizeof(cmd),
	         "'%s' -o '%s/app' '%s/tests/integration/readme/readme_example.c' %s && "
	         "LD_LIBRARY_PATH='%s' '%s/app' | grep -qx 'utxo:42 = outputs'",
	         cc_bin, tmp, SPC_TEST_SOURCE_DIR, flags, libdir, tmp);
	sh(cmd);
}
END_TEST

START_TEST(test_cmake_find_package)
{
	char path[256], cmd[2048];
	snprintf(path, sizeof(path), "%s/proj", tmp);
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && cp '%s/tests/integration/readme/readme_example.c' '%s/app.c'",
	         path, SPC_TEST_SOURCE_DIR, path);
	sh(cmd);
	snprintf(cmd, sizeof(cmd), "%s/CMakeLists.txt", path);
	FILE *f = fopen(cmd, "w");
	ck_assert_ptr_nonnull(f);
	fputs("cmake_minimum_required(VERSION 3.18)\n"
	      "project(app C)\n"
	      "find_package(splitcache 0.1 REQUIRED)\n"
	      "add_executable(app app.c)\n"
	      "target_link_libraries(app PRIVATE splitcache::splitcache)\n",
	      f);
	ck_assert_int_eq(fclose(f), 0);
	snprintf(cmd, sizeof(cmd),
	         "cd '%s' && '%s' -S . -B b -DCMAKE_C_COMPILER='%s' -DCMAKE_PREFIX_PATH='%s' "
	         ">cmake.log 2>&1 && '%s' --build b >>cmake.log 2>&1 || { cat cmake.log; exit 1; }",
	         path, cmake_bin, cc_bin, prefix, cmake_bin);
	sh(cmd);
	/* the package found is the staged one, not another installed copy */
	snprintf(cmd, sizeof(cmd), "grep -q 'splitcache_DIR:PATH=%s/' '%s/b/CMakeCache.txt'", prefix,
	         path);
	sh(cmd);
	snprintf(cmd, sizeof(cmd), "LD_LIBRARY_PATH='%s' '%s/b/app' | grep -qx 'utxo:42 = outputs'",
	         libdir, path);
	sh(cmd);
}
END_TEST

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s CMAKE CC BUILD-DIR\n", argv[0]);
		return EXIT_FAILURE;
	}
	cmake_bin = argv[1];
	cc_bin = argv[2];
	build_dir = argv[3];
	Suite *s = suite_create("install");
	TCase *tc = tcase_create("install");
	tcase_set_timeout(tc, 240);
	tcase_add_checked_fixture(tc, install_setup, install_teardown);
	tcase_add_test(tc, test_pkg_config);
	tcase_add_test(tc, test_cmake_find_package);
	suite_add_tcase(s, tc);
	return spc_check_run(s);
}
