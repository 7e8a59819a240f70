/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sync/thread.c: pthread wrappers that die on failure, and deadlines.
 *
 * The library's mutexes and conditions guard short sections (a pool's
 * sleeping and waking, the batch free list, the view's requests); a
 * failing pthread call there means a broken invariant (a destroyed or
 * corrupt lock), which docs/style.md 6 lets abort, through spc_die with
 * file and line. Every condition waits on CLOCK_MONOTONIC, so a wait's
 * bound does not move when the wall clock is set.
 *
 * Guarantees (tests/unit/sync/test_thread.c):
 *  1. spc_timedwait returns 1 only once its deadline has been reached,
 *     and 0 when woken before it;
 *  2. a deadline is a normalised time (nanoseconds below one second)
 *     ms after the call, and spc_deadline_reached says no before it.
 */
#include "sync/thread.h"

#include <errno.h>

#include "base/base.h"

void spc_lock(pthread_mutex_t *m)
{
	if (pthread_mutex_lock(m) != 0)
		spc_die("pthread_mutex_lock failed");
}

void spc_unlock(pthread_mutex_t *m)
{
	if (pthread_mutex_unlock(m) != 0)
		spc_die("pthread_mutex_unlock failed");
}

void spc_mutex_init(pthread_mutex_t *m)
{
	if (pthread_mutex_init(m, NULL) != 0)
		spc_die("pthread_mutex_init failed");
}

void spc_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t ca;

	if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(cv, &ca) != 0)
		spc_die("pthread_cond_init failed");
	pthread_condattr_destroy(&ca);
}

void spc_deadline(struct timespec *ts, unsigned ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

int spc_deadline_reached(const struct timespec *end)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return !spc_ts_before(&now, end);
}

int spc_timedwait(pthread_cond_t *cv, pthread_mutex_t *m, const struct timespec *ts)
{
	int r = pthread_cond_timedwait(cv, m, ts);

	if (r != 0 && r != ETIMEDOUT)
		spc_die("pthread_cond_timedwait failed");
	return r == ETIMEDOUT;
}
