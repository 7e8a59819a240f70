/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The process's resident set, for the tests that check memory is given
 * back (assertions with wide margins, never on time). */
#ifndef SPC_TESTS_RSS_H
#define SPC_TESTS_RSS_H

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

/* Returns the resident bytes from /proc/self/statm. Context: a Check test. */
static inline uint64_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%lu %lu", &size, &resident), 2);
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

#endif
