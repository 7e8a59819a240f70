/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/sync/test_rcu.c: lazy registration (sync/rcu.c guarantees
 * 1-3): once per thread, whatever the number of caches; threads that exit
 * leave no reader behind (grace periods still complete); a thread may
 * outlive the cache it used and go on with another one; fork hooks: they
 * hold the maintainers between steps, and a child can exit.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_run.h"
#include "splitcache.h"
#include "sync/rcu.h"

static struct spc_cache *open_cache(void)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 8u << 20;
	/* the fork test's fills evict: room for a maintainer on a loaded
	 * machine (100 ms ran out, 1 run in 5 under ctest) */
	cfg.full_wait_ms = 5000;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	return c;
}

struct two {
	struct spc_cache *a, *b;
	pthread_barrier_t mid;
	int ok;
};

static void *user(void *arg)
{
	struct two *t = arg;
	char buf[4];
	size_t n;
	int ok = !spc_rcu_registered;

	spc_read_lock(t->a);
	ok &= spc_rcu_registered && urcu_memb_read_ongoing();
	spc_read_unlock(t->a);
	ok &= spc_set(t->a, SPC_POOL_INDEX, "x", 1, "1", 1) == SPC_OK;
	ok &= spc_set(t->b, SPC_POOL_INDEX, "x", 1, "2", 1) == SPC_OK; /* no second registration */
	ok &= !urcu_memb_read_ongoing();
	pthread_barrier_wait(&t->mid); /* main closes cache a now */
	pthread_barrier_wait(&t->mid);
	ok &= spc_get(t->b, SPC_POOL_INDEX, "x", 1, buf, sizeof buf, &n) == SPC_OK && buf[0] == '2';
	t->ok = ok;
	return NULL;
}

START_TEST(register_once_and_outlive_a_cache)
{
	struct two t;
	pthread_t th;

	t.a = open_cache();
	t.b = open_cache();
	pthread_barrier_init(&t.mid, NULL, 2);
	ck_assert_int_eq(pthread_create(&th, NULL, user, &t), 0);
	pthread_barrier_wait(&t.mid);
	spc_close(t.a);
	pthread_barrier_wait(&t.mid);
	pthread_join(th, NULL);
	ck_assert(t.ok);
	spc_close(t.b); /* grace periods complete: the exited thread is gone */
	pthread_barrier_destroy(&t.mid);
}
END_TEST

static void *short_lived(void *arg)
{
	char buf[4];
	size_t n;

	spc_get(arg, SPC_POOL_VIEW, "k", 1, buf, sizeof buf, &n);
	return NULL;
}

START_TEST(exited_threads_leave_no_reader)
{
	struct spc_cache *c = open_cache();

	for (int i = 0; i < 64; i++) {
		pthread_t th;

		ck_assert_int_eq(pthread_create(&th, NULL, short_lived, c), 0);
		pthread_join(th, NULL);
	}
	/* set + delete make the maintainer reclaim, which needs grace periods */
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, "k", 1, "v", 1), SPC_OK);
		ck_assert_int_eq(spc_delete(c, SPC_POOL_VIEW, "k", 1), SPC_OK);
	}
	urcu_memb_synchronize_rcu();
	spc_close(c);
}
END_TEST

/* Sets distinct 4-KiB items into the index pool until one is refused;
 * returns the first refusal's code, or SPC_OK if all n were stored. */
static int fill(struct spc_cache *c, unsigned first, unsigned n)
{
	static char val[4096];

	for (unsigned i = first; i < first + n; i++) {
		char key[16];
		int rc;

		snprintf(key, sizeof key, "k%u", i);
		rc = spc_set(c, SPC_POOL_INDEX, key, strlen(key), val, sizeof val);
		if (rc != SPC_OK)
			return rc;
	}
	return SPC_OK;
}

START_TEST(prepare_holds_the_maintainers)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;
	struct spc_stats st;
	unsigned n = (8u << 20) / 4096 * 2; /* twice the whole budget */

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 8u << 20;
	/* Long: only the held phase waits it out (once), and the released
	 * phase must not be refused because a loaded sanitizer build's
	 * maintainer needed more than a second to catch up with the backlog
	 * the hold left. */
	cfg.full_wait_ms = 5000;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	/* Held, no maintainer steps: nothing is evicted, the pool fills and
	 * writers are refused after their bounded wait. (call_rcu is paused
	 * too, so EFULL alone would not show the hold: evicted entries stay
	 * charged until reclaimed. The eviction count does.) */
	spc_fork_prepare();
	ck_assert_int_eq(fill(c, 0, n), SPC_EFULL);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_eq(st.evictions, 0);
	spc_fork_parent();
	/* Released, the maintainer evicts again and every write fits. */
	int rc = fill(c, n, n);
	if (rc != SPC_OK) {
		ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
		fprintf(stderr, "refused: charged %llu of %llu, index %llu, backlog %llu, items %llu, evictions %llu\n",
		        (unsigned long long)st.charged_bytes, (unsigned long long)st.target_bytes,
		        (unsigned long long)st.index_bytes, (unsigned long long)st.reclaim_backlog_bytes,
		        (unsigned long long)st.items, (unsigned long long)st.evictions);
	}
	ck_assert_int_eq(rc, SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_gt(st.evictions, 0);
	spc_close(c);
}
END_TEST

START_TEST(fork_hooks_let_the_child_exit)
{
	struct spc_cache *c;

#ifdef __SANITIZE_THREAD__
	return; /* TSan cannot start threads in a child of a threaded fork */
#endif
	c = open_cache();
	/* Several forks, each while the maintainer has work (a burst of
	 * writes that evict, an unpublished entry for call_rcu). */
	for (unsigned round = 0; round < 8; round++) {
		pid_t pid;
		int status = 0;

		ck_assert_int_eq(fill(c, round * 1024, 1024), SPC_OK);
		ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, "k", 1, "v", 1), SPC_OK);
		ck_assert_int_eq(spc_delete(c, SPC_POOL_VIEW, "k", 1), SPC_OK);
		spc_fork_prepare();
		pid = fork();
		ck_assert_int_ne(pid, -1);
		if (pid == 0) {
			/* The child may not use caches of the parent (contract)
			 * and, with the parent's maintainers registered as
			 * readers, should exec or exit; what must work is
			 * leaving cleanly (exit handlers of liburcu and of the
			 * sanitizers included) instead of hanging on call_rcu's
			 * state or on a lock a vanished thread held. */
			spc_fork_child();
			exit(0);
		}
		spc_fork_parent();
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_msg(WIFEXITED(status), "child killed by signal %d", WTERMSIG(status));
		ck_assert_int_eq(WEXITSTATUS(status), 0);
	}
	spc_close(c);
}
END_TEST

static Suite *rcu_suite(void)
{
	Suite *s = suite_create("rcu");
	TCase *tc = tcase_create("registration");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, register_once_and_outlive_a_cache);
	tcase_add_test(tc, exited_threads_leave_no_reader);
	tcase_add_test(tc, prepare_holds_the_maintainers);
	tcase_add_test(tc, fork_hooks_let_the_child_exit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(rcu_suite());
}
