/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test_readme.c: README.md's C example is readme_example.c, byte for byte
 * (the first ```c block after "## Use it from C"), so the program the
 * tests compile and run (readme_example) is the one users read.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	static char bufs[2][1 << 16];
	static int which;
	char *buf = bufs[which++ % 2];
	size_t n = fread(buf, 1, sizeof(bufs[0]) - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

START_TEST(test_readme_block_is_the_example)
{
	char *readme = slurp(SPC_TEST_SOURCE_DIR "/README.md");
	const char *file = slurp(SPC_TEST_SOURCE_DIR "/tests/integration/readme/readme_example.c");
	char *sec = strstr(readme, "\n## Use it from C\n");
	ck_assert_ptr_nonnull(sec);
	char *start = strstr(sec, "\n```c\n");
	ck_assert_ptr_nonnull(start);
	start += strlen("\n```c\n");
	char *end = strstr(start, "\n```\n");
	ck_assert_ptr_nonnull(end);
	end[1] = 0; /* keep the block's last newline */
	ck_assert_msg(strcmp(start, file) == 0,
	              "README.md's C example differs from tests/integration/readme/readme_example.c");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("readme");
	TCase *tc = tcase_create("readme");
	tcase_add_test(tc, test_readme_block_is_the_example);
	suite_add_tcase(s, tc);
	return spc_check_run(s);
}
