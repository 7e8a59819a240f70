/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/reclaim.h: batched reclamation (core/reclaim.c). Context, unless
 * said otherwise: the pool's maintainer only, or the step lock's holder
 * in synchronous mode (docs/style.md 4: spc_maint_*). Private to core/.
 */
#ifndef SPC_CORE_RECLAIM_H
#define SPC_CORE_RECLAIM_H

#include <stddef.h>

struct spc_entry;
struct spc_pstate;

/* Entries the maintainer can reclaim now without waiting for a grace
 * period: room left in the current batch plus the free batches. */
size_t spc_maint_capacity(struct spc_pstate *ps);
/* Whether one more entry can be reclaimed without waiting: the current
 * batch has room (it is handed over as soon as it is full), or a free one
 * can start. When not, the step stops taking victims and dead entries
 * (they stay in the policy until a callback returns a batch) and marks
 * the pool starved, so refusals name the cause; the ring is still
 * drained. */
int spc_maint_has_slot(struct spc_pstate *ps);
/* Hands the current batch to reclamation: always when it is full or force
 * is set; otherwise (threaded) only when spc_maint_flush_due says so, so
 * a trickle of dead entries does not cost a grace period per step and a
 * long read section cannot tie up every batch within a few steps. In
 * synchronous mode a batch is reclaimed only when full or when force is
 * set (someone needs the room now): one grace period per batch there
 * too, and since eviction decisions look at live bytes only (charged -
 * backlog), when the room comes back never changes which entries are
 * evicted. */
void spc_maint_flush(struct spc_pstate *ps, int force);
/* Adds an unpublished entry to the current batch. */
void spc_maint_reclaim(struct spc_pstate *ps, struct spc_entry *e);
/* A dead entry a writer unpublished: its backlog is already counted. */
void spc_maint_reclaim_dead(struct spc_pstate *ps, struct spc_entry *e);
/* Whether this step sweeps the queues for the dead entries writers left
 * (replaced, deleted, cleared), starting a pass (one visit of every queued
 * item, counted down by the sweep in dead_pass_left) when it pays for
 * itself: dead entries at least 1 in 8 of the queued items (at most 8
 * visits per entry freed), or left alone 100 ms with no new one (their
 * memory still comes back without pressure), or a writer waiting for
 * room. Until then their memory is charged as backlog and eviction takes
 * any it meets. Synchronous mode starts a pass whenever one is pending:
 * its steps must not depend on the clock. */
int spc_maint_dead_due(struct spc_pstate *ps);
/* Close: frees every entry still held by the ring, the policy and the
 * current batch. All entries must be unpublished and a grace period
 * passed. Context: spc_close, the maintainers stopped. */
void spc_ps_free_all(struct spc_pstate *ps);

#endif /* SPC_CORE_RECLAIM_H */
