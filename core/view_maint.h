/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/view_maint.h: the view namespaces' state and the pool maintainer's
 * view hooks (core/view_maint.c, sub-budgets core/view_budget.c). Private
 * to core/.
 *
 * The hooks run on every pool's maintainer (core/maint.c calls them) and
 * return at once for the index pool and for entries outside SPC_NS_HEIGHT.
 * Context, for every hook: the pool's maintainer only, or the step lock's
 * holder in synchronous mode.
 */
#ifndef SPC_CORE_VIEW_MAINT_H
#define SPC_CORE_VIEW_MAINT_H

struct spc_cache;
struct spc_pstate;
struct spc_entry;

/* Sets up the view namespaces' state (tip, request, per-height index).
 * Called by spc_open after the pools exist, before the maintainers start.
 * Returns SPC_OK, SPC_EINVAL (cfg.view_height_share outside 0 or (0, 1))
 * or SPC_ENOMEM. Ownership: c->view, freed by spc_view_close. */
int spc_view_open(struct spc_cache *c);
/* Frees it (NULL state is fine). Called with the maintainers stopped. */
void spc_view_close(struct spc_cache *c);

/* Files a newly admitted height entry by height. Returns SPC_OK, or
 * SPC_ENOMEM: it was not filed, its bookkeeping charge is returned, and
 * the caller must evict it at once. */
int spc_view_maint_file(struct spc_pstate *ps, struct spc_entry *e);
/* Drops an entry from the per-height index before it can be freed
 * (eviction, reclamation of a dead entry). */
void spc_view_maint_forget(struct spc_pstate *ps, struct spc_entry *e);
/* Keeps height entries within their sub-budget (cfg.view_height_share),
 * then serves the posted reorganisation, if any, in bounded work. Returns
 * nonzero when it did some. */
int spc_view_maint_step(struct spc_pstate *ps);
/* Sub-budgets (core/view_budget.c): called for each live victim the
 * pool's policy chose. When e is a height entry within its share while
 * the other entries are over theirs, gives it back to the policy and
 * returns 1 (the caller looks for another victim); else returns 0 (the
 * caller evicts it). */
int spc_view_maint_spare(struct spc_pstate *ps, struct spc_entry *e);

#endif /* SPC_CORE_VIEW_MAINT_H */
