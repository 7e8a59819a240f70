/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/fault/core/nth_fault.h: the fault hook of the core fault suites:
 * fail the N-th allocation the library asks for (transient), or the N-th
 * and every later one (persistent), optionally only bookkeeping
 * allocations (SPC_FAULT_MALLOC). Arm before the operation, disarm after;
 * `hit` then says whether a fault was met. Header-only (static functions).
 */
#ifndef SPC_TESTS_NTH_FAULT_H
#define SPC_TESTS_NTH_FAULT_H

#include <pthread.h>

#include "splitcache.h"

/* Every field is accessed atomically (relaxed): faults also strike the
 * maintainer threads while the test arms and disarms. */
struct faults {
	unsigned long calls; /* allocations seen while armed */
	unsigned long nth;   /* 0: disarmed */
	int persistent;
	int only_malloc;     /* fail SPC_FAULT_MALLOC sites only */
	int one_thread;      /* count and fail only `thread`'s allocations
	                        (set before arming, not atomically) */
	pthread_t thread;
	unsigned long hit;   /* faults injected */
};

static inline int fault_hook(void *arg, enum spc_fault_site site, size_t bytes)
{
	struct faults *f = arg;
	unsigned long n, nth = __atomic_load_n(&f->nth, __ATOMIC_RELAXED);

	(void)bytes;
	if (!nth)
		return 0;
	if (__atomic_load_n(&f->only_malloc, __ATOMIC_RELAXED) && site != SPC_FAULT_MALLOC)
		return 0;
	if (f->one_thread && !pthread_equal(pthread_self(), f->thread))
		return 0;
	n = __atomic_add_fetch(&f->calls, 1, __ATOMIC_RELAXED);
	if (n == nth || (__atomic_load_n(&f->persistent, __ATOMIC_RELAXED) && n > nth)) {
		__atomic_fetch_add(&f->hit, 1, __ATOMIC_RELAXED);
		return 1;
	}
	return 0;
}

static inline void arm(struct faults *f, unsigned long nth, int persistent)
{
	__atomic_store_n(&f->calls, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&f->hit, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&f->persistent, persistent, __ATOMIC_RELAXED);
	__atomic_store_n(&f->nth, nth, __ATOMIC_RELAXED);
}

static inline void disarm(struct faults *f)
{
	__atomic_store_n(&f->nth, 0, __ATOMIC_RELAXED);
}

#endif /* SPC_TESTS_NTH_FAULT_H */
