/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/view_state.h: the view namespaces' state (struct spc_view), shared
 * by core/view.c (tip, requests), core/view_maint.c (the per-height index,
 * serving requests) and core/view_budget.c (sub-budgets). Private to core/. Who touches which
 * field: docs/concurrency.md, "View state".
 */
#ifndef SPC_CORE_VIEW_STATE_H
#define SPC_CORE_VIEW_STATE_H

#include <pthread.h>
#include <stdint.h>

#include "base/base.h"

struct spc_entry;
struct spc_hidx;
struct spc_pstate;

enum spc_view_req_state { SPC_REQ_NONE = 0, SPC_REQ_POSTED, SPC_REQ_DONE };

struct spc_view_count {
	_Alignas(SPC_CACHELINE) uint64_t n; /* atomic: stores in flight */
};

struct spc_view {
	_Alignas(SPC_CACHELINE) uint64_t tip; /* atomic (SC): highest height allowed */
	_Alignas(SPC_CACHELINE) uint64_t epoch; /* atomic (SC): bumped by every lowering */
	struct spc_view_count inflight[2];      /* by epoch parity */
	int posted;                  /* atomic: a request waits (hint for the maintainer) */

	pthread_mutex_t mu;          /* serialises set_tip and invalidations */

	/* The request: under the view pool's ps->mu. */
	enum spc_view_req_state req;
	uint64_t req_from;
	size_t req_pos;              /* ring position every record below must be taken */
	uint64_t req_removed;
	uint64_t req_expired;

	/* Maintainer-owned. */
	struct spc_hidx *hidx;
	int cutting;                 /* the request's cut is being handed out */
	uint64_t removed;            /* live entries it unpublished so far */
	uint64_t expired;            /* expired ones (counted as expirations) */
	uint32_t share;              /* bookkeeping bytes charged per height entry */

	/* Sub-budgets (cfg.view_height_share; 0: off). height_bytes and
	 * height_evictions are written by the maintainer only (relaxed
	 * stores) and read by spc_view_budget (relaxed loads). */
	double height_share;
	uint64_t height_bytes;       /* atomic: charges of the filed height entries */
	uint64_t height_evictions;   /* atomic: height entries evicted for their share */
	int capping;                 /* maintainer: between the share's high and low mark */
};

/* Sub-budgets (core/view_budget.c). Context: the view pool's maintainer
 * only (or the step lock's holder in synchronous mode). */

/* A height entry e was filed in the per-height index: its charge joins
 * the height share. */
void spc_view_budget_filed(struct spc_pstate *ps, struct spc_view *v, struct spc_entry *e);
/* A height entry left the per-height index: its bookkeeping charge goes
 * back to the pool, its bytes leave the height share. */
void spc_view_budget_unfiled(struct spc_pstate *ps, struct spc_view *v, struct spc_entry *e);
/* Keeps the height entries within their share: above its high mark,
 * evicts the lowest heights down to its low mark, in bounded work.
 * Returns nonzero when it evicted. */
int spc_view_budget_step(struct spc_pstate *ps, struct spc_view *v);

#endif /* SPC_CORE_VIEW_STATE_H */
