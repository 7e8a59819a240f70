/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sync/thread.h: the pthread calls of the library, wrapped so that a
 * failure dies (docs/style.md 6: a failed pthread call may abort, through
 * spc_die), and deadlines on CLOCK_MONOTONIC, the clock every condition
 * of the library waits on.
 *
 * Context, for the whole module: any thread; nothing here allocates.
 */
#ifndef SPC_SYNC_THREAD_H
#define SPC_SYNC_THREAD_H

#include <pthread.h>
#include <time.h>

/* Locks / unlocks m. Returns: nothing (dies when pthread fails).
 * Context: any thread; spc_unlock by the holder. */
void spc_lock(pthread_mutex_t *m);
void spc_unlock(pthread_mutex_t *m);

/* Initialises m with default attributes and cv to wait on
 * CLOCK_MONOTONIC. Returns: nothing (dies when pthread fails).
 * Ownership: the caller destroys both (pthread_*_destroy). */
void spc_mutex_init(pthread_mutex_t *m);
void spc_cond_init(pthread_cond_t *cv);

/* *ts = now + ms on CLOCK_MONOTONIC. Context: any thread. */
void spc_deadline(struct timespec *ts, unsigned ms);

/* Nonzero once CLOCK_MONOTONIC has reached *end. Context: any thread. */
int spc_deadline_reached(const struct timespec *end);

/* a < b, both CLOCK_MONOTONIC times. */
static inline int spc_ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Waits on cv (initialised by spc_cond_init) until *ts. Returns 1 when
 * the deadline passed, 0 when woken (spuriously or not). Context: the
 * caller holds m. */
int spc_timedwait(pthread_cond_t *cv, pthread_mutex_t *m, const struct timespec *ts);

#endif /* SPC_SYNC_THREAD_H */
