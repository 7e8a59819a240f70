/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/integration/mem/test_shrink_rss.c: a pool that shrinks gives its
 * memory back to the system.
 *
 * The pools keep freed pages for reuse (the slab layer up to 1/16 of its
 * chunks, jemalloc for its decay time, 100 ms from its next tick:
 * docs/memory.md, "Giving memory back"); a pool whose target shrinks,
 * through spc_set_mode or spc_set_memory_limit, gives the pages it no
 * longer needs back at once. Each test fills the index pool of a 64 MiB
 * cache (32 MiB) with 3000-byte values (served by the pool's jemalloc
 * arena),
 * well past its target, then shrinks it and checks the process's resident
 * set: it must fall by at least 12 MiB (the shrink frees about 24 to
 * 31 MiB). Synchronous maintenance frees before the call returns; with a
 * maintainer thread the test waits for the drop (30 s at most, a bound
 * for loaded sanitizer-free CI machines, not a timing assertion).
 * SPC_POOL_MALLOC builds (sanitizers) have no arenas: skipped.
 */
#include <check.h>

#include "check_run.h"
#include "rss.h"
#include "open_cache.h"
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "splitcache.h"

#define MIB (UINT64_C(1) << 20)
#define VLEN 3000

#ifndef SPC_POOL_MALLOC
static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}
#endif /* !SPC_POOL_MALLOC */

/* _i: bit 0 threaded maintenance, bit 1 spc_set_memory_limit instead of
 * spc_set_mode. */
START_TEST(shrink_gives_memory_back)
{
#ifdef SPC_POOL_MALLOC
	printf("SKIP shrink_gives_memory_back: SPC_POOL_MALLOC build\n");
#else
	int threaded = _i & 1, by_limit = (_i >> 1) & 1;
	struct spc_cache *c = open_cache(64 * MIB, !threaded);
	struct spc_stats st;
	static char v[VLEN];
	char k[32];
	unsigned long stored = 0;
	uint64_t full, now;

	memset(v, 'v', sizeof v);
	for (int i = 0; i < 3 * (int)(32 * MIB / VLEN); i++) {
		snprintf(k, sizeof k, "k-%d", i);
		if (spc_set(c, SPC_POOL_INDEX, k, strlen(k), v, sizeof v) == SPC_OK)
			stored++;
	}
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_gt(stored, 32 * MIB / VLEN);
	ck_assert_uint_gt(st.charged_bytes, 24 * MIB);
	full = rss_bytes();
	if (by_limit)
		ck_assert_int_eq(spc_set_memory_limit(c, 16 * MIB), SPC_OK);
	else
		ck_assert_int_eq(spc_set_mode(c, SPC_MODE_VIEW, 0.5), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_le(st.charged_bytes, by_limit ? 8 * MIB : 1 * MIB);
	now = rss_bytes();
	for (int waited = 0; threaded && now + 12 * MIB > full && waited < 30000; waited += 20) {
		sleep_ms(20);
		now = rss_bytes();
	}
	ck_assert_msg(now + 12 * MIB <= full, "resident %llu after the shrink, %llu before",
	              (unsigned long long)now, (unsigned long long)full);
	spc_close(c);
#endif
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shrink-rss");
	TCase *tc = tcase_create("shrink");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, shrink_gives_memory_back, 0, 4);
	suite_add_tcase(s, tc);
	return spc_check_run(s);
}
