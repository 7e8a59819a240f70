/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/core/test_backpressure.c: back-pressure that tells the truth.
 *
 * A write is refused only when something really ran out, and a waiting
 * writer is woken when room appears:
 *  - a writer that must reallocate gives its ring cell back before it
 *    waits, so other writers' records flow past it;
 *  - a touch that answered SPC_OK is not lost to a concurrent incr;
 *  - a long read section does not stall the maintainer's drain;
 *  - a large pool evicts on for a whole round of reclamation callbacks;
 *  - in synchronous mode, one waiter leaving does not erase another's need;
 *  - a charge given back wakes the writers waiting for room;
 *  - synchronous steps are covered by the fork lock;
 *  - free slots of a size in use count as room: a pool written with one
 *    size keeps its room live, not half of it in free slots;
 *  - a new size gets its slabs from the old one's: writes of it wait
 *    while eviction drains slabs, and are not refused.
 * No test asserts a duration: each waits for an event (with the test's
 * own timeout as the bound), so a regression shows as a refusal, a wrong
 * value or a hang that the timeout turns into a failure.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_run.h"
#include "core/cache.h"
#include "pools/slab.h"

static void nap_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Waits until *flag is nonzero (the test's timeout bounds the wait). */
static void wait_flag(const int *flag)
{
	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE))
		nap_ms(1);
}

static void raise_flag(int *flag)
{
	__atomic_store_n(flag, 1, __ATOMIC_RELEASE);
}

/* Opens a cache for one test. full_wait_ms is long (unless the test set
 * its own): a refusal then means the defect, not a maintainer thread that
 * a loaded machine or a sanitizer kept off the CPU for 100 ms. */
static struct spc_cache *open_with(struct spc_config *cfg, uint64_t budget, int sync)
{
	struct spc_cache *c = NULL;

	if (cfg->full_wait_ms == 100)
		cfg->full_wait_ms = 10000;
	cfg->use_env = 0;
	cfg->budget_bytes = budget;
	cfg->synchronous_maintenance = sync;
	ck_assert_int_eq(spc_open(cfg, &c), SPC_OK);
	return c;
}

static size_t ring_cells(struct spc_cache *c, enum spc_pool_id pool)
{
	return c->ps[pool].ring.mask + 1;
}

/* Sets n distinct small keys (prefix p); returns the first refusal's code,
 * or SPC_OK when every set succeeded. */
static int set_many(struct spc_cache *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char k[48];
		int r;

		snprintf(k, sizeof k, "%s-%zu", p, i);
		r = spc_set(c, SPC_POOL_INDEX, k, strlen(k), "value", 5);
		if (r != SPC_OK)
			return r;
	}
	return SPC_OK;
}

/* ---- 1. the ring cell is given back while the writer waits --------------- */

struct cell_case {
	struct spc_cache *c;
	pthread_t a;           /* the appender whose allocations are hooked */
	int a_known;
	int allocs;            /* A's allocations seen by the hook */
	int b_go, b_done;      /* B appends between A's two rounds */
	int set_go, set_done;  /* the setter runs while A's second round waits */
	int set_result;
	int a_result, b_result;
};

static int cell_hook(void *arg, enum spc_fault_site site, size_t bytes)
{
	struct cell_case *t = arg;
	int n;

	(void)bytes;
	if (site != SPC_FAULT_POOL_ALLOC || !__atomic_load_n(&t->a_known, __ATOMIC_ACQUIRE) ||
	    !pthread_equal(pthread_self(), t->a))
		return 0;
	n = __atomic_add_fetch(&t->allocs, 1, __ATOMIC_RELAXED);
	if (n == 1) {
		/* A's first round: B appends to the key, so A's plan changes
		 * size and A must reallocate. */
		raise_flag(&t->b_go);
		wait_flag(&t->b_done);
	} else if (n == 2) {
		/* A's second round allocates: it holds no cell now (the fix).
		 * Every set of the setter must get through meanwhile. */
		raise_flag(&t->set_go);
		wait_flag(&t->set_done);
	}
	return 0;
}

static void *cell_a(void *arg)
{
	struct cell_case *t = arg;

	t->a = pthread_self();
	__atomic_store_n(&t->a_known, 1, __ATOMIC_RELEASE);
	t->a_result = spc_store(t->c, SPC_POOL_INDEX, SPC_STORE_APPEND, "K", 1, "aaaa", 4, NULL,
	                        NULL);
	return NULL;
}

static void *cell_b(void *arg)
{
	struct cell_case *t = arg;

	wait_flag(&t->b_go);
	t->b_result = spc_store(t->c, SPC_POOL_INDEX, SPC_STORE_APPEND, "K", 1, "bb", 2, NULL,
	                        NULL);
	raise_flag(&t->b_done);
	return NULL;
}

static void *cell_setter(void *arg)
{
	struct cell_case *t = arg;

	wait_flag(&t->set_go);
	/* More keys than the ring holds: they pass the cell A held before
	 * the fix only if A gave it back. */
	t->set_result = set_many(t->c, "s", ring_cells(t->c, SPC_POOL_INDEX) * 3 / 2);
	raise_flag(&t->set_done);
	return NULL;
}

START_TEST(writer_gives_its_ring_cell_back_while_it_waits)
{
	static struct cell_case t;
	struct spc_config cfg;
	pthread_t a, b, s;
	char buf[16];
	size_t n;

	memset(&t, 0, sizeof t);
	spc_config_init(&cfg);
	cfg.fault = cell_hook;
	cfg.fault_arg = &t;
	t.c = open_with(&cfg, 8u << 20, 0);
	ck_assert_int_eq(spc_set(t.c, SPC_POOL_INDEX, "K", 1, "x", 1), SPC_OK);
	ck_assert_int_eq(pthread_create(&s, NULL, cell_setter, &t), 0);
	ck_assert_int_eq(pthread_create(&b, NULL, cell_b, &t), 0);
	ck_assert_int_eq(pthread_create(&a, NULL, cell_a, &t), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_join(s, NULL);
	ck_assert_int_ge(__atomic_load_n(&t.allocs, __ATOMIC_RELAXED), 2);
	ck_assert_int_eq(t.b_result, SPC_OK);
	ck_assert_int_eq(t.a_result, SPC_OK);
	ck_assert_msg(t.set_result == SPC_OK, "a set was refused: %s", spc_strerror(t.set_result));
	ck_assert_int_eq(spc_get(t.c, SPC_POOL_INDEX, "K", 1, buf, sizeof buf, &n), SPC_OK);
	ck_assert_uint_eq(n, 7);
	ck_assert(memcmp(buf, "xbbaaaa", 7) == 0);
	spc_close(t.c);
}
END_TEST

/* ---- 2. no acknowledged touch is lost to a concurrent incr ----------------- */

#define TOUCHES 3000u

struct touch_case {
	struct spc_cache *c;
	int stop;
	uint64_t incrs; /* incr calls finished */
	int incr_bad;   /* an incr that failed other than by a refusal */
};

static void *touch_incr(void *arg)
{
	struct touch_case *t = arg;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		int r = spc_incr(t->c, SPC_POOL_INDEX, "n", 1, 1, NULL, NULL);

		/* A refusal under load publishes nothing: not our subject. */
		if (r != SPC_OK && r != SPC_EFULL && r != SPC_EBUSY)
			__atomic_store_n(&t->incr_bad, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&t->incrs, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

static uint64_t expiry_of(struct spc_cache *c)
{
	struct spc_value v;
	char buf[32];

	ck_assert_int_eq(spc_get_item(c, SPC_POOL_INDEX, "n", 1, buf, sizeof buf, &v), SPC_OK);
	return v.expiry;
}

START_TEST(touch_is_not_lost_to_a_concurrent_incr)
{
	static struct touch_case t;
	struct spc_config cfg;
	struct spc_item item = { 0, 0, 0 };
	uint64_t base = spc_now(NULL) + 1000000, last = 0;
	pthread_t th;

#ifdef __SANITIZE_THREAD__
	/* liburcu 0.13 is not instrumented, so TSan sees neither the lfht's
	 * publication of the incr's new entry nor the grace period before a
	 * free: this loop, one key replaced as fast as it can be, makes it
	 * report the reader's load of the new entry's header as a race (in
	 * both modes; the synchronous one at every run). Both variants run in
	 * the other builds, ASan included. */
	return;
#endif
	memset(&t, 0, sizeof t);
	spc_config_init(&cfg);
	t.c = open_with(&cfg, 16u << 20, _i);
	item.expiry = base;
	ck_assert_int_eq(spc_store(t.c, SPC_POOL_INDEX, SPC_STORE_SET, "n", 1, "0", 1, &item, NULL),
	                 SPC_OK);
	ck_assert_int_eq(pthread_create(&th, NULL, touch_incr, &t), 0);
	for (uint64_t d = base + 1; d <= base + TOUCHES; d++) {
		uint64_t seen;

		if (spc_touch(t.c, SPC_POOL_INDEX, "n", 1, d) != SPC_OK)
			continue;
		last = d;
		/* Two more incrs finished: the one in flight when the touch
		 * returned (if any) has published. The deadline must be ours:
		 * an incr keeps the expiry. */
		seen = __atomic_load_n(&t.incrs, __ATOMIC_ACQUIRE);
		while (__atomic_load_n(&t.incrs, __ATOMIC_ACQUIRE) < seen + 2)
			sched_yield();
		ck_assert_msg(expiry_of(t.c) == d, "touch to %llu lost: expiry %llu",
		              (unsigned long long)d, (unsigned long long)expiry_of(t.c));
	}
	__atomic_store_n(&t.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	ck_assert_int_eq(t.incr_bad, 0);
	ck_assert_uint_gt(last, base);
	ck_assert_uint_eq(expiry_of(t.c), last);
	spc_close(t.c);
}
END_TEST

/* ---- 3. a long read section does not stall the maintainer -------------------- */

struct reader_case {
	struct spc_cache *c;
	int holding, release;
};

static void *long_reader(void *arg)
{
	struct reader_case *t = arg;

	spc_read_lock(t->c);
	raise_flag(&t->holding);
	wait_flag(&t->release); /* held until the writer is done */
	spc_read_unlock(t->c);
	return NULL;
}

START_TEST(long_reader_does_not_stall_writers)
{
	static struct reader_case t;
	struct spc_config cfg;
	pthread_t th;
	int r = SPC_OK;

	memset(&t, 0, sizeof t);
	spc_config_init(&cfg);
	t.c = open_with(&cfg, 8u << 20, 0);
	ck_assert_int_eq(pthread_create(&th, NULL, long_reader, &t), 0);
	wait_flag(&t.holding);
	/* A trickle of deletes, each followed by a maintainer step (the
	 * kick; a busy cache kicks it as often): every step has a dead entry
	 * to reclaim while no grace period can end. */
	for (int i = 0; i < 40 && r == SPC_OK; i++) {
		r = spc_set(t.c, SPC_POOL_INDEX, "d", 1, "v", 1);
		if (r == SPC_OK)
			r = spc_delete(t.c, SPC_POOL_INDEX, "d", 1);
		spc_kick(&t.c->ps[SPC_POOL_INDEX]);
		nap_ms(12);
	}
	if (r == SPC_OK)
		r = set_many(t.c, "r", ring_cells(t.c, SPC_POOL_INDEX) * 3 / 2);
	raise_flag(&t.release);
	pthread_join(th, NULL);
	ck_assert_msg(r == SPC_OK, "a write was refused under a long reader: %s", spc_strerror(r));
	spc_close(t.c);
}
END_TEST

/* ---- 3b. eviction goes on for a whole callback round -------------------- */

/* liburcu's call_rcu worker runs callbacks in rounds about 10 ms apart, so
 * what a pool can evict per round is what its batches hold. A reader that
 * stays in its section stands for one round: while it holds, a pool of
 * 64 MiB (64 batches) must evict more than 32 batches of 256 entries (the
 * limit that held eviction near 0.7 M entries/s). Writes go on until the
 * budget, not the batches, runs out. */
#define HOLD_POOL_BYTES ((uint64_t)64 << 20)
#define HOLD_MIN_EVICTIONS 12288u

static uint64_t evictions_of(struct spc_cache *c)
{
	struct spc_stats st;

	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	return st.evictions;
}

START_TEST(eviction_outlasts_a_callback_round)
{
	static struct reader_case t;
	struct spc_config cfg;
	struct spc_stats st;
	pthread_t th;
	uint64_t before, i = 0;
	char k[32];
	int r = SPC_OK;

	memset(&t, 0, sizeof t);
	spc_config_init(&cfg);
	cfg.mode = SPC_MODE_INDEXER;
	cfg.full_wait_ms = 200; /* the refusal ends the test's writes */
	t.c = open_with(&cfg, HOLD_POOL_BYTES, 0);
	/* Fill until the maintainer evicts, then let it settle between its
	 * watermarks. */
	while (evictions_of(t.c) == 0) {
		snprintf(k, sizeof k, "f-%llu", (unsigned long long)i++);
		ck_assert_int_eq(spc_set(t.c, SPC_POOL_INDEX, k, strlen(k), "v", 1), SPC_OK);
	}
	for (int n = 0; n < 200; n++) {
		ck_assert_int_eq(spc_stats(t.c, SPC_POOL_INDEX, &st), SPC_OK);
		if (st.reclaim_backlog_bytes == 0)
			break;
		nap_ms(10);
	}
	ck_assert_int_eq(pthread_create(&th, NULL, long_reader, &t), 0);
	wait_flag(&t.holding);
	before = evictions_of(t.c);
	while (r == SPC_OK && evictions_of(t.c) - before < HOLD_MIN_EVICTIONS) {
		snprintf(k, sizeof k, "h-%llu", (unsigned long long)i++);
		r = spc_set(t.c, SPC_POOL_INDEX, k, strlen(k), "v", 1);
	}
	raise_flag(&t.release);
	pthread_join(th, NULL);
	ck_assert_msg(evictions_of(t.c) - before >= HOLD_MIN_EVICTIONS,
	              "%llu evictions in one grace period, then %s",
	              (unsigned long long)(evictions_of(t.c) - before), spc_strerror(r));
	spc_close(t.c);
}
END_TEST

/* ---- 4. synchronous mode: room_need is a maximum over waiters ----------------- */

#define BIG_ITEM (600u * 1024)
#define BIG_STORES 48

struct need_case {
	struct spc_cache *c;
	int refused[2];
};

struct need_arg {
	struct need_case *t;
	int id;
};

static void *big_storer(void *arg)
{
	struct need_arg *a = arg;
	char *val = calloc(1, BIG_ITEM);

	ck_assert_ptr_nonnull(val);
	for (int i = 0; i < BIG_STORES; i++) {
		char k[32];
		int r;

		snprintf(k, sizeof k, "big-%d-%d", a->id, i);
		r = spc_set(a->t->c, SPC_POOL_INDEX, k, strlen(k), val, BIG_ITEM);
		if (r != SPC_OK) {
			a->t->refused[a->id] = r;
			break;
		}
	}
	free(val);
	return NULL;
}

START_TEST(sync_room_need_is_the_largest_need_of_the_waiters)
{
	static struct need_case t;
	struct need_arg args[2] = { { &t, 0 }, { &t, 1 } };
	struct spc_config cfg;
	pthread_t th[2];
	char *val = calloc(1, BIG_ITEM);

	ck_assert_ptr_nonnull(val);
	memset(&t, 0, sizeof t);
	spc_config_init(&cfg);
	t.c = open_with(&cfg, 8u << 20, 1);
	/* Fill the pool with big items until one had to evict. */
	for (int i = 0; i < 16; i++) {
		char k[32];

		snprintf(k, sizeof k, "fill-%d", i);
		ck_assert_int_eq(spc_set(t.c, SPC_POOL_INDEX, k, strlen(k), val, BIG_ITEM), SPC_OK);
	}
	free(val);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, big_storer, &args[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++)
		ck_assert_msg(t.refused[i] == SPC_OK, "storer %d refused: %s", i,
		              spc_strerror(t.refused[i]));
	spc_close(t.c);
}
END_TEST

/* ---- 5. a charge given back wakes the writers waiting for room ---------------- */

struct wake_case {
	struct spc_cache *c;
	pthread_t holder;
	int holder_known;
	uint64_t big;
	int holder_result, waiter_result;
};

static unsigned room_waiters(struct spc_cache *c)
{
	struct spc_pstate *ps = &c->ps[SPC_POOL_INDEX];
	unsigned n;

	spc_lock(&ps->mu);
	n = ps->room_waiters;
	spc_unlock(&ps->mu);
	return n;
}

/* The holder's allocation: it holds the charge until the waiter waits,
 * then fails (SPC_ENOMEM), which gives the charge back. */
static int wake_hook(void *arg, enum spc_fault_site site, size_t bytes)
{
	struct wake_case *t = arg;

	(void)bytes;
	if (site != SPC_FAULT_POOL_ALLOC || !__atomic_load_n(&t->holder_known, __ATOMIC_ACQUIRE) ||
	    !pthread_equal(pthread_self(), t->holder))
		return 0;
	while (room_waiters(t->c) == 0)
		nap_ms(1);
	return 1;
}

static void *wake_holder(void *arg)
{
	struct wake_case *t = arg;
	void *val = calloc(1, t->big);

	ck_assert_ptr_nonnull(val);
	t->holder = pthread_self();
	__atomic_store_n(&t->holder_known, 1, __ATOMIC_RELEASE);
	t->holder_result = spc_set(t->c, SPC_POOL_INDEX, "holder", 6, val, t->big);
	free(val);
	return NULL;
}

START_TEST(given_back_charge_wakes_a_waiting_writer)
{
	static struct wake_case t;
	struct spc_config cfg;
	pthread_t th;
	void *val;

	memset(&t, 0, sizeof t);
	spc_config_init(&cfg);
	cfg.full_wait_ms = 60000; /* a lost wake-up runs into the test's timeout */
	cfg.max_item_bytes = 8u << 20;
	cfg.fault = wake_hook;
	cfg.fault_arg = &t;
	t.c = open_with(&cfg, 8u << 20, 0);
	/* Two of these do not fit in the pool together; one does. */
	t.big = spc_pool_target(t.c->ps[SPC_POOL_INDEX].pool) * 6 / 10;
	val = calloc(1, t.big);
	ck_assert_ptr_nonnull(val);
	ck_assert_int_eq(pthread_create(&th, NULL, wake_holder, &t), 0);
	/* Wait until the holder holds its charge, then ask for as much. */
	while (spc_pool_charged(t.c->ps[SPC_POOL_INDEX].pool) < t.big)
		nap_ms(1);
	t.waiter_result = spc_set(t.c, SPC_POOL_INDEX, "waiter", 6, val, t.big);
	pthread_join(th, NULL);
	free(val);
	ck_assert_int_eq(t.holder_result, SPC_ENOMEM);
	ck_assert_int_eq(t.waiter_result, SPC_OK);
	spc_close(t.c);
}
END_TEST

/* ---- 6. fork while another thread runs synchronous steps ------------------------ */

#define FORK_TRIES 200

struct fork_case {
	struct spc_cache *c;
	int stop;
};

/* Steps only (no read section outside a step): the child's grace period
 * below must not wait for this thread. */
static void *stepper(void *arg)
{
	struct fork_case *t = arg;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE))
		spc_step_sync(&t->c->ps[SPC_POOL_INDEX], 1);
	return NULL;
}

START_TEST(fork_while_synchronous_steps_run)
{
	static struct fork_case t;
	struct spc_config cfg;
	pthread_t th;

#ifdef __SANITIZE_THREAD__
	return; /* TSan cannot start threads in a child of a threaded fork */
#endif
	memset(&t, 0, sizeof t);
	spc_config_init(&cfg);
	t.c = open_with(&cfg, 8u << 20, 1);
	ck_assert_int_eq(pthread_create(&th, NULL, stepper, &t), 0);
	for (int i = 0; i < FORK_TRIES; i++) {
		int status = 0;
		pid_t pid, done = 0;

		/* Work for the stepper: entries beyond max_entries to evict
		 * (each unpublished in a read section) and dead ones, which its
		 * forced steps reclaim with urcu_memb_synchronize_rcu. */
		for (int j = 0; j < 64; j++) {
			char k[16];

			snprintf(k, sizeof k, "f%d", j);
			ck_assert_int_eq(spc_set(t.c, SPC_POOL_INDEX, k, strlen(k), "v", 1), SPC_OK);
			if (j % 2)
				ck_assert_int_eq(spc_delete(t.c, SPC_POOL_INDEX, k, strlen(k)), SPC_OK);
		}
		spc_fork_prepare();
		pid = fork();
		ck_assert_int_ne(pid, -1);
		if (pid == 0) {
			/* A grace period needs liburcu's grace-period lock and
			 * its reader lists: it hangs (or crashes on half-moved
			 * lists) if the fork copied them in the stepper's
			 * urcu_memb_synchronize_rcu. */
			spc_fork_child();
			urcu_memb_synchronize_rcu();
			/* _exit: no exit handlers here. LeakSanitizer's check at
			 * exit locks the sanitizer's allocator, which another
			 * thread of the parent may have held at the fork (seen
			 * hanging under ASan); leaving cleanly through exit() is
			 * test_rcu's fork test. */
			_exit(0);
		}
		spc_fork_parent();
		for (int ms = 0; ms < 30000 && done == 0; ms++) {
			done = waitpid(pid, &status, WNOHANG);
			if (done == 0)
				nap_ms(1);
		}
		if (done == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			__atomic_store_n(&t.stop, 1, __ATOMIC_RELEASE);
			pthread_join(th, NULL);
			ck_abort_msg("child %d of %d hung after fork", i, FORK_TRIES);
		}
		ck_assert_int_eq(done, pid);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		              "child %d of %d failed: status %d", i, FORK_TRIES, status);
	}
	__atomic_store_n(&t.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	spc_close(t.c);
}
END_TEST

/* ---- 7. free slots of a size in use are room ------------------------------ */

#define SLAB_POOL_BYTES ((uint64_t)16 << 20)

/* Live bytes of the index pool and the room its entries have, after
 * quiescence (no backlog left). */
static void live_and_room(struct spc_cache *c, uint64_t *live, uint64_t *room)
{
	struct spc_stats st;

	ck_assert_int_eq(spc_cache_quiesce(c, 10000), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	ck_assert_uint_eq(st.reclaim_backlog_bytes, 0);
	*live = st.charged_bytes - st.index_bytes;
	*room = st.target_bytes - st.index_bytes;
}

/* Sets keys of prefix p in [from, to) with values of vlen bytes, in a
 * scrambled order; returns the first refusal's code, or SPC_OK. */
static int set_range(struct spc_cache *c, const char *p, size_t from, size_t to, size_t vlen)
{
	static char val[2048];

	ck_assert_uint_le(vlen, sizeof val);
	memset(val, 'v', vlen);
	for (size_t i = from; i < to; i++) {
		size_t k = from + (i - from) * 7919 % (to - from);
		char key[48];
		int r;

		snprintf(key, sizeof key, "%s-%zu", p, k);
		r = spc_set(c, SPC_POOL_INDEX, key, strlen(key), val, vlen);
		if (r != SPC_OK)
			return r;
	}
	return SPC_OK;
}

/* Churn of one size: three times the pool in distinct keys, then
 * overwrites and deletes among them. Eviction frees slots, not slabs, so
 * a maintainer that counted free slots as held kept evicting while the
 * slabs were full of them: the pool held 55 % of its room live. Free
 * slots of a size in use are reused first: the live bytes must stay near
 * the low watermark (90 % of the room). _i: synchronous. */
START_TEST(one_size_keeps_its_room_live)
{
	struct spc_config cfg;
	struct spc_cache *c;
	uint64_t live, room;
	size_t n = 3 * (SLAB_POOL_BYTES / 2 / 160);

	spc_config_init(&cfg);
	c = open_with(&cfg, SLAB_POOL_BYTES, _i);
	ck_assert_int_eq(set_range(c, "one", 0, n, 100), SPC_OK);
	for (size_t i = 0; i < n; i += 97) {
		char key[48];

		snprintf(key, sizeof key, "one-%zu", i);
		(void)spc_delete(c, SPC_POOL_INDEX, key, strlen(key));
	}
	ck_assert_int_eq(set_range(c, "one", n / 3, n, 100), SPC_OK);
	live_and_room(c, &live, &room);
	ck_assert_msg(live * 100 >= room * (cfg.low_watermark_pct - 5),
	              "live %llu of a room of %llu", (unsigned long long)live,
	              (unsigned long long)room);
	spc_close(c);
}
END_TEST

/* The pool is filled with one size, then written with another only,
 * twice over: the new size's slabs must come from the old size's, whose
 * free slots it cannot use. Every write gets through (the writer waits
 * while the maintainer evicts on held bytes until slabs are released);
 * the slabs never hold more than the target leaves beyond the charge
 * (the resident memory stays within the budget); and the new size ends
 * with most of the room, though survivors of the old one still pin some
 * slabs (before: a third of it). _i: synchronous. */
START_TEST(a_new_size_gets_the_old_sizes_slabs)
{
	struct spc_config cfg;
	struct spc_cache *c;
	struct spc_mem_report mr;
	struct spc_stats st;
	uint64_t live, room;

	spc_config_init(&cfg);
	c = open_with(&cfg, SLAB_POOL_BYTES, _i);
	ck_assert_int_eq(set_range(c, "small", 0, 2 * (SLAB_POOL_BYTES / 2 / 160), 100), SPC_OK);
	ck_assert_int_eq(set_range(c, "large", 0, 2 * (SLAB_POOL_BYTES / 2 / 1100), 1000), SPC_OK);
	live_and_room(c, &live, &room);
	ck_assert_int_eq(spc_memory_report(c, &mr), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	/* Two 64 KiB slabs of slack: two writers' slabs may pass at once. */
	ck_assert_msg(st.charged_bytes + mr.pools[SPC_POOL_INDEX].slab_held_bytes <=
	                  st.target_bytes + 2 * SPC_SLAB_BYTES,
	              "charged %llu, slabs hold %llu more, target %llu",
	              (unsigned long long)st.charged_bytes,
	              (unsigned long long)mr.pools[SPC_POOL_INDEX].slab_held_bytes,
	              (unsigned long long)st.target_bytes);
	ck_assert_msg(live * 2 >= room, "live %llu of a room of %llu", (unsigned long long)live,
	              (unsigned long long)room);
	spc_close(c);
}
END_TEST

static Suite *backpressure_suite(void)
{
	Suite *s = suite_create("backpressure");
	TCase *tc = tcase_create("truth");
	TCase *live = tcase_create("liveness");

	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, writer_gives_its_ring_cell_back_while_it_waits);
	tcase_add_loop_test(tc, touch_is_not_lost_to_a_concurrent_incr, 0, 2);
	tcase_add_test(tc, long_reader_does_not_stall_writers);
	tcase_add_test(tc, eviction_outlasts_a_callback_round);
	tcase_add_test(tc, sync_room_need_is_the_largest_need_of_the_waiters);
	tcase_add_test(tc, fork_while_synchronous_steps_run);
	tcase_add_loop_test(tc, one_size_keeps_its_room_live, 0, 2);
	tcase_add_loop_test(tc, a_new_size_gets_the_old_sizes_slabs, 0, 2);
	suite_add_tcase(s, tc);
	/* Shorter than the waiter's 60 s bound: a lost wake-up fails here. */
	tcase_set_timeout(live, 30);
	tcase_add_test(live, given_back_charge_wakes_a_waiting_writer);
	suite_add_tcase(s, live);
	return s;
}

int main(void)
{
	return spc_check_run(backpressure_suite());
}
