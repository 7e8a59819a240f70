/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/wait.c: bounded waits of writers and set_mode for the maintainer
 * (back-pressure), and the small pthread helpers of core/.
 *
 * A writer whose charge the pool refuses does not overshoot and does not
 * spin: it registers as a waiter under the pool's mu (with the bytes it
 * needs in room_need, which the maintainer's eviction test reads), kicks
 * the maintainer and sleeps on room_cv until the deadline. Every
 * reclamation callback and every target increase bumps room_gen and
 * broadcasts, so a waiter retries exactly when room may have appeared.
 * In synchronous mode there is nobody to wait for: the waiter runs
 * maintenance steps itself (forcing reclamation) while they make progress.
 *
 * Guarantees (tests/integration/cache, tests/stress):
 *  1. no wait is longer than its bound (full_wait_ms, or set_mode's);
 *  2. a wait that ends without room leaves nothing charged;
 *  3. no lost wake-up: room_gen is read under mu before the charge is
 *     retried, and compared under mu before sleeping.
 */
#include "core/cache.h"

#include <errno.h>
#include <time.h>

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

/* 1 when the deadline passed. */
int spc_timedwait(pthread_cond_t *cv, pthread_mutex_t *m, const struct timespec *ts)
{
	int r = pthread_cond_timedwait(cv, m, ts);

	if (r != 0 && r != ETIMEDOUT)
		spc_die("pthread_cond_timedwait failed");
	return r == ETIMEDOUT;
}


int spc_wait_charge(struct spc_pstate *ps, uint64_t bytes)
{
	struct timespec ts;
	int ok = 0;

	SPC_ASSERT_NOT_IN_RCU();
	if (spc_pool_charge(ps->pool, bytes) == SPC_OK)
		return SPC_OK;
	/* Larger than the whole pool: no eviction can make room, so refuse
	 * now rather than let the maintainer empty the pool in vain. */
	if (bytes > spc_pool_target(ps->pool))
		return SPC_EFULL;
	if (ps->cache->sync_mode) {
		/* Relaxed: only this thread steps in synchronous mode. */
		__atomic_store_n(&ps->room_need, bytes, __ATOMIC_RELAXED);
		for (;;) {
			int work = spc_step_sync(ps, 1);

			ok = spc_pool_charge(ps->pool, bytes) == SPC_OK;
			if (ok || !work)
				break;
		}
		__atomic_store_n(&ps->room_need, 0, __ATOMIC_RELAXED);
		return ok ? SPC_OK : SPC_EFULL;
	}
	spc_deadline(&ts, ps->cache->cfg.full_wait_ms);
	spc_lock(&ps->mu);
	ps->room_waiters++;
	/* Relaxed: advisory for the maintainer's next step. */
	if (__atomic_load_n(&ps->room_need, __ATOMIC_RELAXED) < bytes)
		__atomic_store_n(&ps->room_need, bytes, __ATOMIC_RELAXED);
	for (;;) {
		uint64_t gen = ps->room_gen;
		int timed_out = 0;

		spc_unlock(&ps->mu);
		ok = spc_pool_charge(ps->pool, bytes) == SPC_OK;
		if (!ok)
			spc_kick(ps);
		spc_lock(&ps->mu);
		if (ok)
			break;
		if (ps->room_gen == gen)
			timed_out = spc_timedwait(&ps->room_cv, &ps->mu, &ts);
		if (timed_out) {
			ok = spc_pool_charge(ps->pool, bytes) == SPC_OK;
			break;
		}
	}
	if (--ps->room_waiters == 0)
		__atomic_store_n(&ps->room_need, 0, __ATOMIC_RELAXED);
	spc_unlock(&ps->mu);
	return ok ? SPC_OK : SPC_EFULL;
}

struct spc_ring_cell *spc_wait_ring_cell(struct spc_pstate *ps)
{
	struct spc_ring_cell *c = spc_ring_reserve(&ps->ring);
	struct timespec now, end;

	if (c)
		return c;
	if (ps->cache->sync_mode) {
		spc_step_sync(ps, 0);
		return spc_ring_reserve(&ps->ring);
	}
	spc_deadline(&end, ps->cache->cfg.full_wait_ms);
	for (;;) {
		struct timespec nap = { 0, 200000 }; /* 0.2 ms */

		spc_kick(ps);
		nanosleep(&nap, NULL);
		c = spc_ring_reserve(&ps->ring);
		if (c)
			return c;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			return NULL;
	}
}

int spc_wait_shed(struct spc_pstate *ps, uint64_t target, unsigned ms)
{
	struct timespec ts;
	int timed_out = 0;

	SPC_ASSERT_NOT_IN_RCU();
	if (ps->cache->sync_mode) {
		while (spc_step_sync(ps, 1) && spc_pool_charged(ps->pool) > target)
			;
		return spc_pool_charged(ps->pool) <= target ? SPC_OK : SPC_ETIMEDOUT;
	}
	spc_deadline(&ts, ms);
	spc_lock(&ps->mu);
	ps->room_waiters++;
	while (spc_pool_charged(ps->pool) > target && !timed_out) {
		uint64_t gen = ps->room_gen;

		spc_unlock(&ps->mu);
		spc_kick(ps);
		spc_lock(&ps->mu);
		if (ps->room_gen == gen)
			timed_out = spc_timedwait(&ps->room_cv, &ps->mu, &ts);
	}
	ps->room_waiters--;
	spc_unlock(&ps->mu);
	return spc_pool_charged(ps->pool) <= target ? SPC_OK : SPC_ETIMEDOUT;
}

