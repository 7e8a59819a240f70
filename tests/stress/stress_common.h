/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/stress/stress_common.h: what the stress programs share: the cache
 * they open and their naps. Header-only (static functions).
 */
#ifndef SPC_TESTS_STRESS_COMMON_H
#define SPC_TESTS_STRESS_COMMON_H

#include <stdint.h>
#include <time.h>

#include <check.h>

#include "splitcache.h"

/* The stress budget: small, so the maintainers evict all the time. */
#define STRESS_BUDGET (8u << 20)
/* Writers give up on a full pool quickly, so refusals happen too. */
#define STRESS_FULL_WAIT_MS 20u

/* Opens the stress cache (environment ignored); *budget receives the sum
 * of the two pools' targets, the bound the samplers check. */
/* The stress cache; no_cas: entries without cas (cfg.no_cas), whose
 * publication has no cas store to lean on. */
static inline struct spc_cache *stress_open_cas(uint64_t *budget, int no_cas)
{
	struct spc_config cfg;
	struct spc_mem_report rep;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.no_cas = no_cas;
	cfg.budget_bytes = STRESS_BUDGET;
	cfg.full_wait_ms = STRESS_FULL_WAIT_MS;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	ck_assert_int_eq(spc_memory_report(c, &rep), SPC_OK);
	*budget = rep.pools[0].target_bytes + rep.pools[1].target_bytes;
	return c;
}

static inline struct spc_cache *stress_open(uint64_t *budget)
{
	return stress_open_cas(budget, 0);
}

static inline void stress_nap_us(uint64_t us)
{
	struct timespec ts = { (time_t)(us / 1000000), (long)(us % 1000000) * 1000L };

	nanosleep(&ts, NULL);
}

#endif /* SPC_TESTS_STRESS_COMMON_H */
