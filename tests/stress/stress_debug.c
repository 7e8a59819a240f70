/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/stress/stress_debug.c: debug mode switched on and off, cleared and
 * reported while readers and writers run, for a bounded time.
 *
 *   stress_debug SECONDS [READERS [WRITERS]]
 *
 * Readers read (copy-out and zero-copy) keys that writers keep storing;
 * a switcher thread enables, disables, clears and reads the three reports
 * in a loop. The test asserts:
 *  1. nothing breaks: every value read is the value of its key (no torn or
 *     freed read; the sanitizer builds see the rest);
 *  2. after the last clear, with debug mode on and the writers and the
 *     switcher stopped, the readers' counted lookups are exactly what the
 *     report holds (analysed plus skipped): no note is lost or doubled;
 *  3. every report the switcher took is well formed (SPC_OK; the
 *     structure's analysed lookups never pass what readers made).
 * It stops by itself after SECONDS; no timing is asserted.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_run.h"
#include "stress/stress_common.h"

#define NKEYS 512u
#define MAX_THREADS 16

static unsigned opt_seconds = 3, opt_readers = 2, opt_writers = 2;

struct shared {
	struct spc_cache *cache;
	int stop;          /* atomic: readers, writers, switcher stop */
	int phase2;        /* atomic: final phase: readers count their lookups */
	uint64_t lookups;  /* atomic: lookups made in the final phase */
	uint64_t made;     /* atomic: every lookup made */
	uint64_t bad;      /* atomic */
	uint64_t toggles, reports;
};

static struct shared g;

static void key_of(unsigned i, char *k, size_t cap)
{
	snprintf(k, cap, "/blockhash/byheight/%06u", i);
}

static void value_of(unsigned i, char *v, size_t cap)
{
	snprintf(v, cap, "value-of-%06u", i);
}

static void *reader_main(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u + 1;
	char k[40], want[40], buf[64];

	while (!__atomic_load_n(&g.stop, __ATOMIC_RELAXED)) {
		unsigned i = (seed = seed * 1103515245u + 12345u) % NKEYS;
		struct spc_value v;
		size_t n = 0;
		int r;

		key_of(i, k, sizeof k);
		value_of(i, want, sizeof want);
		if (i & 1) {
			r = spc_get(g.cache, SPC_POOL_VIEW, k, strlen(k), buf, sizeof buf, &n);
			if (r == SPC_OK && (n != strlen(want) || memcmp(buf, want, n) != 0))
				__atomic_fetch_add(&g.bad, 1, __ATOMIC_RELAXED);
		} else {
			spc_read_lock(g.cache);
			r = spc_get_rcu(g.cache, SPC_POOL_VIEW, k, strlen(k), &v);
			if (r == SPC_OK && (v.len != strlen(want) || memcmp(v.data, want, v.len) != 0))
				__atomic_fetch_add(&g.bad, 1, __ATOMIC_RELAXED);
			spc_read_unlock(g.cache);
		}
		if (r != SPC_OK && r != SPC_ENOTFOUND)
			__atomic_fetch_add(&g.bad, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&g.made, 1, __ATOMIC_RELAXED);
		/* Relaxed: the main thread reads it after joining us. */
		if (__atomic_load_n(&g.phase2, __ATOMIC_RELAXED))
			__atomic_fetch_add(&g.lookups, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *writer_main(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg * 40503u + 7;
	char k[40], v[40];

	while (!__atomic_load_n(&g.stop, __ATOMIC_RELAXED)) {
		unsigned i = (seed = seed * 1103515245u + 12345u) % NKEYS;
		int r;

		key_of(i, k, sizeof k);
		value_of(i, v, sizeof v);
		r = (seed >> 20) % 8 == 0 ? spc_delete(g.cache, SPC_POOL_VIEW, k, strlen(k))
		                          : spc_set(g.cache, SPC_POOL_VIEW, k, strlen(k), v, strlen(v));
		if (r != SPC_OK && r != SPC_ENOTFOUND && r != SPC_EFULL && r != SPC_EBUSY)
			__atomic_fetch_add(&g.bad, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *switcher_main(void *arg)
{
	struct spc_debug_report *rep = malloc(sizeof *rep);
	char *buf = malloc(1 << 16);
	unsigned n = 0;

	(void)arg;
	if (!rep || !buf) {
		__atomic_fetch_add(&g.bad, 1, __ATOMIC_RELAXED);
		free(rep);
		free(buf);
		return NULL;
	}
	while (!__atomic_load_n(&g.stop, __ATOMIC_RELAXED)) {
		int r = SPC_OK;

		switch (n++ % 6) {
		case 0: r = spc_debug_enable(g.cache); break;
		case 1: r = spc_debug_report_text(g.cache, -1, buf, 1 << 16, NULL); break;
		case 2: r = spc_debug_disable(g.cache); break;
		case 3: r = spc_debug_report_json(g.cache, SPC_POOL_VIEW, buf, 1 << 16, NULL); break;
		case 4: r = spc_debug_clear(g.cache); break;
		case 5:
			r = spc_debug_report(g.cache, rep);
			/* Relaxed: a bound, read after the report. */
			if (r == SPC_OK && rep->pools[SPC_POOL_VIEW].accesses >
			                       __atomic_load_n(&g.made, __ATOMIC_RELAXED))
				r = -100;
			g.reports++;
			break;
		}
		if (r != SPC_OK && r != SPC_EINVAL) /* EINVAL: a report before the first enable */
			__atomic_fetch_add(&g.bad, 1, __ATOMIC_RELAXED);
		g.toggles++;
		stress_nap_us(200);
	}
	free(rep);
	free(buf);
	return NULL;
}

START_TEST(toggle_under_readers_and_writers)
{
	pthread_t r[MAX_THREADS], w[MAX_THREADS], sw;
	struct spc_debug_report *rep = malloc(sizeof *rep);
	uint64_t budget, counted;
	char k[40], v[40];

	ck_assert_ptr_nonnull(rep);
	g.cache = stress_open(&budget);
	for (unsigned i = 0; i < NKEYS; i++) {
		key_of(i, k, sizeof k);
		value_of(i, v, sizeof v);
		ck_assert_int_eq(spc_set(g.cache, SPC_POOL_VIEW, k, strlen(k), v, strlen(v)), SPC_OK);
	}
	for (unsigned i = 0; i < opt_readers; i++)
		ck_assert_int_eq(pthread_create(&r[i], NULL, reader_main, (void *)(uintptr_t)(i + 1)), 0);
	for (unsigned i = 0; i < opt_writers; i++)
		ck_assert_int_eq(pthread_create(&w[i], NULL, writer_main, (void *)(uintptr_t)(i + 1)), 0);
	ck_assert_int_eq(pthread_create(&sw, NULL, switcher_main, NULL), 0);
	stress_nap_us((uint64_t)opt_seconds * 1000000u);
	/* Phase 2: switcher and writers stop; debug on, cleared; readers
	 * count what they read from now on. */
	__atomic_store_n(&g.stop, 1, __ATOMIC_RELAXED);
	ck_assert_int_eq(pthread_join(sw, NULL), 0);
	for (unsigned i = 0; i < opt_writers; i++)
		ck_assert_int_eq(pthread_join(w[i], NULL), 0);
	for (unsigned i = 0; i < opt_readers; i++)
		ck_assert_int_eq(pthread_join(r[i], NULL), 0);
	ck_assert_int_eq(spc_debug_enable(g.cache), SPC_OK);
	ck_assert_int_eq(spc_debug_clear(g.cache), SPC_OK);
	__atomic_store_n(&g.stop, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&g.phase2, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < opt_readers; i++)
		ck_assert_int_eq(pthread_create(&r[i], NULL, reader_main, (void *)(uintptr_t)(i + 1)), 0);
	stress_nap_us(200000);
	__atomic_store_n(&g.stop, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < opt_readers; i++)
		ck_assert_int_eq(pthread_join(r[i], NULL), 0);
	ck_assert_int_eq(spc_debug_report(g.cache, rep), SPC_OK);
	counted = rep->pools[SPC_POOL_VIEW].accesses + rep->pools[SPC_POOL_VIEW].skipped_lookups;
	printf("stress_debug: %llu lookups, %llu switches, %llu structure reports; final phase "
	       "%llu lookups, %llu counted\n",
	       (unsigned long long)g.made, (unsigned long long)g.toggles,
	       (unsigned long long)g.reports, (unsigned long long)g.lookups,
	       (unsigned long long)counted);
	ck_assert_uint_eq(__atomic_load_n(&g.bad, __ATOMIC_RELAXED), 0);
	ck_assert_uint_gt(g.lookups, 0);
	ck_assert_uint_eq(counted, g.lookups);
	free(rep);
	spc_close(g.cache);
}
END_TEST

int main(int argc, char **argv)
{
	if (spc_stress_arg(argc, argv, 1, &opt_seconds) || spc_stress_arg(argc, argv, 2, &opt_readers) ||
	    spc_stress_arg(argc, argv, 3, &opt_writers) || opt_seconds == 0 || opt_readers == 0 ||
	    opt_readers > MAX_THREADS || opt_writers == 0 || opt_writers > MAX_THREADS) {
		fprintf(stderr, "usage: %s SECONDS [READERS(1..16) [WRITERS(1..16)]]\n", argv[0]);
		return EXIT_FAILURE;
	}
	return spc_stress_run("stress", "debug", toggle_under_readers_and_writers, opt_seconds);
}
