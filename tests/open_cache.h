/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/open_cache.h: opening a cache for a test: a fixed budget, the
 * environment ignored, threaded or synchronous maintenance. Header-only.
 */
#ifndef SPC_TESTS_OPEN_CACHE_H
#define SPC_TESTS_OPEN_CACHE_H

#include <check.h>

#include "splitcache.h"

/* Opens a cache of budget bytes (sync: no maintainer threads); fails the
 * test when it cannot. */
static inline struct spc_cache *open_cache(uint64_t budget, int sync)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = budget;
	cfg.synchronous_maintenance = sync;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	ck_assert_ptr_nonnull(c);
	return c;
}

#endif /* SPC_TESTS_OPEN_CACHE_H */
