/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of giving memory back: pools/pool.c P5 (a pool whose target
 * shrinks trims itself), P6 (a freed index table goes back at once) and
 * pools/slab.c S7 (released slabs keep their
 * pages only up to a bound; a trim gives them back). Asserted on the
 * process's resident set with wide margins, never on time. The
 * SPC_POOL_MALLOC build (sanitizers) has no arenas nor slabs: skipped.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_run.h"
#include "rss.h"
#include "pools/pools.h"
#include "pools/slab.h"

#ifndef SPC_POOL_MALLOC
static struct spc_mem *open_mem(uint64_t budget)
{
	struct spc_config cfg;
	struct spc_mem *mem = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = budget;
	ck_assert_int_eq(spc_mem_open(&cfg, NULL, &mem), SPC_OK);
	return mem;
}

/* Fills pool p with allocations of n bytes (charged, every byte written)
 * until the charge refuses; returns how many, pointers in *out. */
static size_t fill_pool(struct spc_pool *p, size_t n, char ***out)
{
	size_t u = spc_pool_usable(p, n), cap = spc_pool_target(p) / u + 1, count = 0;
	char **ptrs = calloc(cap, sizeof *ptrs);
	int nulls = 0;

	ck_assert_ptr_nonnull(ptrs);
	/* (one check at the end: Check's assertions cost a write each) */
	while (count < cap && spc_pool_charge(p, u) == SPC_OK) {
		ptrs[count] = spc_pool_alloc(p, n);
		if (!ptrs[count]) {
			nulls++;
			spc_pool_uncharge(p, u);
			break;
		}
		memset(ptrs[count], 0x5a, n);
		count++;
	}
	ck_assert_int_eq(nulls, 0);
	*out = ptrs;
	return count;
}
#endif /* !SPC_POOL_MALLOC */

/* The pools keep freed pages for reuse (slabs up to 1/16 of their chunks,
 * jemalloc until its decay time passes and it ticks: docs/memory.md,
 * "Giving memory back"); a pool whose target shrinks gives them back at
 * once when its charge is down to the new target:
 * (a) in the uncharge that gets it there, (b) at once when it already is.
 * Sizes: a slab class, a jemalloc bin, a jemalloc large extent. Asserted
 * on the process's resident set with wide margins (half of what was
 * freed), never on time. */
START_TEST(shrink_gives_memory_back)
{
#ifdef SPC_POOL_MALLOC
	printf("SKIP shrink_gives_memory_back: SPC_POOL_MALLOC build\n");
#else
	static const size_t sizes[] = { 100, 4000, 200000 };
	size_t n = sizes[_i], u, count, i, half;
	struct spc_mem *mem = open_mem(32ull << 20);
	struct spc_pool *p = spc_mem_pool(mem, SPC_POOL_INDEX);
	uint64_t rss0, full, target, filled;
	char **ptrs;

	target = spc_pool_target(p);
	u = spc_pool_usable(p, n);
	rss0 = rss_bytes();
	count = fill_pool(p, n, &ptrs);
	full = rss_bytes();
	filled = (uint64_t)count * n;
	ck_assert_uint_gt(filled, target / 2);
	ck_assert_uint_ge(full, rss0 + filled / 2);

	/* (a) Half the target: nothing goes back while the charge is above
	 * it; freeing more than half crosses it and trims the pool. */
	spc_pool_set_target(p, target / 2);
	half = count / 2 + count / 8;
	for (i = 0; i < half; i++) {
		spc_pool_free(p, ptrs[i], n);
		spc_pool_uncharge(p, u);
	}
	ck_assert_uint_le(spc_pool_charged(p), target / 2);
	ck_assert_msg(rss_bytes() + (uint64_t)half * n / 2 <= full,
	              "size %zu: resident %llu after freeing %llu of %llu (full %llu)", n,
	              (unsigned long long)rss_bytes(), (unsigned long long)half * n,
	              (unsigned long long)filled, (unsigned long long)full);

	/* Growing back and filling again reuses the region. */
	spc_pool_set_target(p, target);
	for (i = 0; i < half; i++) {
		if (spc_pool_charge(p, u) != SPC_OK || !(ptrs[i] = spc_pool_alloc(p, n)))
			break;
		memset(ptrs[i], 0x3c, n);
	}
	ck_assert_uint_eq(i, half);

	/* (b) Everything freed with the target unchanged, then a shrink: the
	 * charge is already below the new target, the pages go back at once. */
	for (i = 0; i < count; i++) {
		spc_pool_free(p, ptrs[i], n);
		spc_pool_uncharge(p, u);
	}
	free(ptrs);
	spc_pool_set_target(p, SPC_MINIMAL_POOL_BYTES);
	ck_assert_msg(rss_bytes() <= rss0 + filled / 4,
	              "size %zu: resident %llu after a shrink to 1 MiB, %llu before the fill", n,
	              (unsigned long long)rss_bytes(), (unsigned long long)rss0);
	spc_mem_close(mem);
#endif
}
END_TEST

/* S7: released slabs keep their pages only up to 1/SPC_SLAB_KEEP_DIV of
 * their chunks; spc_pool_trim gives the kept ones back. 32 chunks of
 * 2 MiB are filled with 100-byte slots (every byte written); one slot per
 * chunk stays live so no chunk goes back to the arena; the rest is freed.
 * Asserted on the resident set with wide margins: released slabs beyond
 * the bound keep only their header page (12 of 16 KiB go back), and the
 * trim returns most of the kept slabs' 4 MiB. */
START_TEST(released_slabs_keep_bounded_pages)
{
#ifdef SPC_POOL_MALLOC
	printf("SKIP released_slabs_keep_bounded_pages: SPC_POOL_MALLOC build\n");
#else
	struct spc_mem *mem = open_mem(256ull << 20);
	struct spc_pool *p = spc_mem_pool(mem, SPC_POOL_INDEX);
	size_t per_slab = spc_slab_slots(spc_slab_class_of(100));
	size_t per_chunk = ((size_t)2 << 20) / SPC_SLAB_SMALL_BYTES * per_slab;
	size_t n = 32 * per_chunk, i, nulls = 0;
	void **ptrs = calloc(n, sizeof *ptrs);
	uint64_t full, freed, trimmed;

	ck_assert_ptr_nonnull(ptrs);
	for (i = 0; i < n; i++) { /* (one check at the end: Check's cost a write) */
		ptrs[i] = spc_pool_alloc(p, 100);
		if (!ptrs[i])
			nulls++;
		else
			memset(ptrs[i], 0x5a, 100);
	}
	ck_assert_uint_eq(nulls, 0);
	full = rss_bytes();
	for (i = 0; i < n; i++)
		if (i % per_chunk != 0)
			spc_pool_free(p, ptrs[i], 100);
	freed = rss_bytes();
	ck_assert_msg(freed + (24u << 20) <= full, "resident %llu after the frees, %llu before",
	              (unsigned long long)freed, (unsigned long long)full);
	spc_pool_trim(p);
	trimmed = rss_bytes();
	ck_assert_msg(trimmed + (2u << 20) <= freed, "resident %llu after the trim, %llu before",
	              (unsigned long long)trimmed, (unsigned long long)freed);
	for (i = 0; i < n; i += per_chunk)
		spc_pool_free(p, ptrs[i], 100);
	free(ptrs);
	spc_mem_close(mem);
#endif
}
END_TEST

/* P6: an index table a resize leaves (an aligned block of 64 KiB or
 * more) goes back to the system when it is freed, although the arena
 * sees too few calls to purge by its decay. 8 tables of 1 MiB, every byte
 * written, then freed: the resident set falls by at least half of them.
 * Fails when the free leaves the pages to jemalloc's decay. */
START_TEST(freed_tables_go_back)
{
#ifdef SPC_POOL_MALLOC
	printf("SKIP freed_tables_go_back: SPC_POOL_MALLOC build\n");
#else
	struct spc_mem *mem = open_mem(64ull << 20);
	struct spc_pool *p = spc_mem_pool(mem, SPC_POOL_INDEX);
	const size_t n = (size_t)1 << 20;
	uint64_t full, freed;
	void *t[8];
	size_t i;

	for (i = 0; i < 8; i++) {
		t[i] = spc_pool_alloc_aligned(p, n, 64);
		ck_assert_ptr_nonnull(t[i]);
		memset(t[i], 0x5a, n);
	}
	full = rss_bytes();
	for (i = 0; i < 8; i++)
		spc_pool_free_aligned(p, t[i], n, 64);
	freed = rss_bytes();
	ck_assert_msg(freed + 4 * n <= full, "resident %llu after freeing 8 MiB of tables, %llu before",
	              (unsigned long long)freed, (unsigned long long)full);
	spc_mem_close(mem);
#endif
}
END_TEST

int main(void)
{
	Suite *s = suite_create("give-back");
	TCase *tc = tcase_create("give-back");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, shrink_gives_memory_back, 0, 3);
	tcase_add_test(tc, released_slabs_keep_bounded_pages);
	tcase_add_test(tc, freed_tables_go_back);
	suite_add_tcase(s, tc);
	return spc_check_run(s);
}
