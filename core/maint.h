/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/maint.h: the pool maintainer (core/maint.c): its life cycle, and
 * what writers, waits and set_mode call to feed it or to step it in
 * synchronous mode. Private to core/.
 *
 * Naming (docs/style.md 4): the spc_maint_* functions run only on the
 * pool's maintainer (debug builds assert it); the functions declared here
 * run on writers', set_mode's or close's threads and only wake, feed or
 * step the maintainer.
 */
#ifndef SPC_CORE_MAINT_H
#define SPC_CORE_MAINT_H

struct spc_pstate;

/* Sets up a pool's maintainer state (batches, conditions); starts no
 * thread. Returns SPC_OK, SPC_ENOMEM. */
int spc_ps_init(struct spc_pstate *ps);
/* Starts the maintainer thread. Returns SPC_OK, SPC_ESYS. */
int spc_ps_start(struct spc_pstate *ps);
/* Stops and joins the thread (if any), flushing its last batch. */
void spc_ps_stop(struct spc_pstate *ps);
/* Frees the batches (after urcu_memb_barrier). */
void spc_ps_fini(struct spc_pstate *ps);

/* After a write: wake the maintainer if it has work, or run one step in
 * the caller's thread in synchronous mode. Context: not in read section. */
void spc_after_write(struct spc_pstate *ps);

/* One maintenance step in the caller's thread (synchronous mode only).
 * force: reclaim the current batch even if not full. Returns nonzero when
 * it did work. Context: not in read section. */
int spc_step_sync(struct spc_pstate *ps, int force);

/* Runs one step now if the cache is synchronous (else wakes the
 * maintainer). Returns nonzero when the step did work. */
int spc_poke(struct spc_pstate *ps);

#endif /* SPC_CORE_MAINT_H */
