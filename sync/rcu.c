/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sync/rcu.c: lazy urcu-memb registration and the fork hooks.
 *
 * Why lazy registration: an unregistered memb reader is silently
 * unprotected (a grace period does not wait for it), and callers' threads
 * must "just work". So the library registers a thread on its first call
 * and a pthread-key destructor unregisters it at thread exit.
 *
 * Guarantees (tests/unit/sync checks them):
 *  1. a thread is registered exactly once, however many caches it uses;
 *  2. a thread that called into the library is unregistered when it exits
 *     (pthread-key destructor), also after every cache was closed;
 *  3. threads created before a cache was opened work like the others;
 *  4. the main thread stays registered until process exit (key destructors
 *     do not run for it; liburcu tolerates that).
 *
 * Process-wide state, deliberately: the thread-local flag, one pthread
 * key created once (pthread_once), and the fork lock. None belongs to a
 * cache.
 *
 * The fork lock: every maintainer holds it shared through each step, the
 * fork hooks hold it exclusively from prepare to parent/child. So at
 * fork() no maintainer of any cache is inside a step (the allocator, a
 * batch, the policy): the child's copy of the library's memory is one a
 * step left, and no allocator lock is held by a thread the child lacks
 * (allocators without fork handlers, ASan's among them, would hang the
 * child's next allocation). Writer-preferring, so busy maintainers cannot
 * keep prepare waiting: it waits for at most one step of each.
 */
#include "sync/rcu.h"

#include <pthread.h>

#include "splitcache.h"

__thread int spc_rcu_registered;

static pthread_key_t spc_rcu_key;
static pthread_rwlock_t spc_fork_lock = PTHREAD_RWLOCK_WRITER_NONRECURSIVE_INITIALIZER_NP;
static pthread_once_t spc_rcu_once = PTHREAD_ONCE_INIT;

/* Runs at the exit of every thread that registered (value non-NULL). */
static void spc_rcu_thread_exit(void *value)
{
	(void)value;
	if (spc_rcu_registered) {
		urcu_memb_unregister_thread();
		spc_rcu_registered = 0;
	}
}

static int spc_rcu_key_ok; /* written once, under spc_rcu_once */

static void spc_rcu_make_key(void)
{
	spc_rcu_key_ok = pthread_key_create(&spc_rcu_key, spc_rcu_thread_exit) == 0;
}

/* The key is made when the library is loaded, before main, while the
 * process has few keys: so it is one of the first 32, which glibc keeps
 * in every thread's descriptor, and pthread_setspecific of such a key
 * never allocates; a registration cannot fail for want of memory. (At the
 * first registration instead, through pthread_once, if the constructor
 * did not run first.) */
__attribute__((constructor)) static void spc_rcu_load(void)
{
	(void)pthread_once(&spc_rcu_once, spc_rcu_make_key);
}

void spc_rcu_register_slow(void)
{
	if (spc_rcu_registered)
		return;
	if (pthread_once(&spc_rcu_once, spc_rcu_make_key) != 0 || !spc_rcu_key_ok)
		spc_die("pthread_key_create failed");
	/* Set the key first: if it cannot be set, the thread is never
	 * registered, so it can never exit registered (a dangling reader
	 * would stall every later grace period). */
	if (pthread_setspecific(spc_rcu_key, (void *)1) != 0)
		spc_die("pthread_setspecific failed");
	urcu_memb_register_thread();
	spc_rcu_registered = 1;
}

/* ---- fork hooks (public) ----------------------------------------------- */

void spc_fork_hold_shared(void)
{
	if (pthread_rwlock_rdlock(&spc_fork_lock) != 0)
		spc_die("pthread_rwlock_rdlock failed");
}

void spc_fork_release_shared(void)
{
	if (pthread_rwlock_unlock(&spc_fork_lock) != 0)
		spc_die("pthread_rwlock_unlock failed");
}

void spc_fork_prepare(void)
{
	/* Maintainers first: a step may wait for call_rcu callbacks
	 * (urcu_memb_barrier), which must still run until the step ends. */
	if (pthread_rwlock_wrlock(&spc_fork_lock) != 0)
		spc_die("pthread_rwlock_wrlock failed");
	urcu_memb_call_rcu_before_fork();
}

void spc_fork_parent(void)
{
	urcu_memb_call_rcu_after_fork_parent();
	if (pthread_rwlock_unlock(&spc_fork_lock) != 0)
		spc_die("pthread_rwlock_unlock failed");
}

void spc_fork_child(void)
{
	pthread_rwlockattr_t attr;

	urcu_memb_call_rcu_after_fork_child();
	/* The child has only the calling thread, whose thread id is not the
	 * one that locked: a fresh lock rather than an unlock. */
	if (pthread_rwlockattr_init(&attr) != 0 ||
	    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) != 0 ||
	    pthread_rwlock_init(&spc_fork_lock, &attr) != 0)
		spc_die("pthread_rwlock_init failed");
	pthread_rwlockattr_destroy(&attr);
}
