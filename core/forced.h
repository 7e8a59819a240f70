/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/forced.h: forced-eviction requests, the list a caller of
 * spc_evict_to_percent / spc_evict_to_target posts to and the pool's
 * maintainer serves (core/forced.c; the callers' side is core/evict.c,
 * the handshake docs/concurrency.md "Forced eviction"). Private to core/.
 */
#ifndef SPC_CORE_FORCED_H
#define SPC_CORE_FORCED_H

#include <stdint.h>

struct spc_pstate;

/* One open request; lives on the caller's stack, linked in
 * ps->forced_reqs under ps->mu while open. */
struct spc_evict_req {
	struct spc_evict_req *next;
	uint64_t goal;    /* live bytes to reach */
	uint64_t evicted; /* evictions made while it was open (under mu) */
	int done;         /* the maintainer met the goal (under mu) */
};

/* Maintainer only: nonzero while an open forced-eviction request wants the
 * pool's live bytes lower (spc_maint_over evicts then). */
int spc_forced_over(const struct spc_pstate *ps);
/* Maintainer only, at the end of every step: credits the step's evictions
 * to the open requests and completes those whose goal is reached. */
void spc_forced_settle(struct spc_pstate *ps);

/* Links req (goal set, the rest zero) into the pool's open requests.
 * Context: a caller, holding no lock of the pool. Ownership: req stays
 * the caller's; it must stay valid until spc_forced_withdraw. */
void spc_forced_post(struct spc_pstate *ps, struct spc_evict_req *req);
/* Ends req: unlinks it if the maintainer has not completed it (the
 * maintainer then stops at its next test), and returns its evictions in
 * *evicted (may be NULL). Returns req->done as read under mu.
 * Context: the caller that posted req, holding no lock of the pool. */
int spc_forced_withdraw(struct spc_pstate *ps, struct spc_evict_req *req, uint64_t *evicted);

#endif /* SPC_CORE_FORCED_H */
