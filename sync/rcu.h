/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sync/rcu.h: the RCU flavour of splitcache (urcu-memb) and lazy
 * per-thread registration.
 *
 * Every library entry point that reads or writes a cache calls
 * spc_rcu_ensure() first: the first call in a thread registers it with
 * urcu-memb, a pthread-key destructor unregisters it when the thread ends.
 * A thread is registered at most once, whatever number of caches it uses
 * and whether it was created before or after them; registration is
 * process-wide, not per cache, so a thread may outlive every cache.
 *
 * Only the explicit urcu_memb_* names are used, so no mapping macro of
 * <urcu.h> leaks into callers (docs/libraries.md).
 */
#ifndef SPC_SYNC_RCU_H
#define SPC_SYNC_RCU_H

#include <urcu/urcu-memb.h>

#include "base/base.h"

/* Nonzero once this thread is registered with urcu-memb. Thread-local:
 * one of the few process-wide variables the library keeps (docs/design.md
 * "State"; docs/style.md 13 allows the RCU machinery's own). */
extern __thread int spc_rcu_registered;

/* Registers the calling thread (slow path of spc_rcu_ensure).
 * Context: any thread not registered yet. Dies only if pthread fails. */
void spc_rcu_register_slow(void);

/* Makes sure the calling thread is a registered urcu-memb reader.
 * Cheap after the first call (one thread-local load).
 * Context: any thread. */
static inline void spc_rcu_ensure(void)
{
	if (__builtin_expect(!spc_rcu_registered, 0))
		spc_rcu_register_slow();
}

/* The fork lock (sync/rcu.c): a maintainer holds it shared through each
 * step, so spc_fork_prepare, which takes it exclusively, waits for the
 * step to end and keeps the next one from starting until fork is over.
 * Context: maintainer threads, holding no other lock of the library. */
void spc_fork_hold_shared(void);
void spc_fork_release_shared(void);

/* Read-side section of the calling thread (nestable). */
static inline void spc_rcu_read_lock(void)
{
	spc_rcu_ensure();
	urcu_memb_read_lock();
}

/* Whether the calling thread is registered already: a read path that
 * tests it once up front (and leaves the unregistered case to its slow
 * path) enters its section with spc_rcu_read_lock_registered. */
static inline int spc_rcu_is_registered(void)
{
	return spc_rcu_registered;
}

/* spc_rcu_read_lock without the registration test.
 * Context: a thread registered (spc_rcu_is_registered() nonzero); an
 * unregistered memb reader would be unprotected. */
static inline void spc_rcu_read_lock_registered(void)
{
	urcu_memb_read_lock();
}

static inline void spc_rcu_read_unlock(void)
{
	urcu_memb_read_unlock();
}

/* Debug-build assertion of the _rcu naming contract (docs/style.md 4). */
#define SPC_ASSERT_IN_RCU() SPC_DEBUG_CHECK(spc_rcu_registered && urcu_memb_read_ongoing())
#define SPC_ASSERT_NOT_IN_RCU() \
	SPC_DEBUG_CHECK(!spc_rcu_registered || !urcu_memb_read_ongoing())

#endif /* SPC_SYNC_RCU_H */
