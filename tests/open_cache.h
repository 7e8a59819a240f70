/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/open_cache.h: opening a cache for a test: a fixed budget, the
 * environment ignored, threaded or synchronous maintenance. Header-only.
 */
#ifndef SPC_TESTS_OPEN_CACHE_H
#define SPC_TESTS_OPEN_CACHE_H

#include <check.h>

#include "splitcache.h"

/* Opens a cache of budget bytes (sync: no maintainer threads; wait_ms:
 * the writers' full_wait_ms, 0 for the default); fails the test when it
 * cannot. A test whose writes must all succeed while the maintainer
 * evicts gives a long wait: a loaded machine (or a sanitizer) can keep
 * the maintainer off the CPU for longer than the default 100 ms. */
static inline struct spc_cache *open_cache_wait(uint64_t budget, int sync, uint32_t wait_ms)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = budget;
	cfg.synchronous_maintenance = sync;
	if (wait_ms)
		cfg.full_wait_ms = wait_ms;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* open_cache_wait with the default wait. */
static inline struct spc_cache *open_cache(uint64_t budget, int sync)
{
	return open_cache_wait(budget, sync, 0);
}

#endif /* SPC_TESTS_OPEN_CACHE_H */
