/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/check_run.h: the one way a test program runs its Check suite, so
 * each main() is a line. Header-only (static functions).
 */
#ifndef SPC_TESTS_CHECK_RUN_H
#define SPC_TESTS_CHECK_RUN_H

#include <stdio.h>
#include <stdlib.h>

#include <check.h>

/* Runs every test of s (CK_NORMAL output), frees the runner. Returns the
 * process exit status: EXIT_SUCCESS when no test failed. */
static inline int spc_check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* A stress program's main: one suite of one case holding test, with a
 * Check timeout of ten times its duration plus two minutes (sanitizer
 * builds run several times slower; the test itself stops after seconds). */
static inline int spc_stress_run(const char *suite, const char *tcase, const TTest *test,
                                 unsigned seconds)
{
	Suite *s = suite_create(suite);
	TCase *tc = tcase_create(tcase);

	tcase_set_timeout(tc, seconds * 10 + 120);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
	return spc_check_run(s);
}

/* Parses argv[i] as an unsigned count into *out when present. Returns 0
 * when absent or valid, -1 on garbage. */
static inline int spc_stress_arg(int argc, char **argv, int i, unsigned *out)
{
	char *end;
	unsigned long v;

	if (argc <= i)
		return 0;
	v = strtoul(argv[i], &end, 10);
	if (*argv[i] == '\0' || *end != '\0' || v > 1000000)
		return -1;
	*out = (unsigned)v;
	return 0;
}

#endif /* SPC_TESTS_CHECK_RUN_H */
