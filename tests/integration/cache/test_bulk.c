/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/integration/cache/test_bulk.c: a bulk load into a pool with room
 * for every entry (issue 13: with the lfht, the writers' ring filled while
 * the maintainer resized the index and sets were refused with SPC_EFULL
 * in a pool one third full).
 *
 * 2^20 sets (2^18 under ASan, 2^17 under TSan) of 16-byte keys and 8-byte
 * values into an indexer-mode cache whose index pool holds them several
 * times over: from the index's first table of 1 024 buckets that is four
 * resizes or more (the first jumps to 16 384 buckets, then doublings),
 * each run by the maintainer in bounded steps while the sets go on. Every
 * set answers SPC_OK, every key reads back with its value, nothing is
 * evicted, and the items count is exact; with one writer, with two
 * writing disjoint halves of the keys, and with two writers while the
 * maintainer runs at the lowest priority (nice 19): on a busy machine it
 * then gets the CPU only when the writers wait, and the writers fill the
 * index's new table while a resize moves the old one into it. Before the
 * index kept its writers' credit (core/index.c, "Credit") the new table
 * filled up, the move could not finish and every set waited out its bound
 * (the test hung). A set may wait for the maintainer, so the writers get
 * a long bound (full_wait_ms: a loaded machine or the low priority must
 * not make it run out, a stuck index does), and a writer stops at its
 * first refusal.
 */
#include <check.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "check_run.h"
#include "splitcache.h"

#if defined(__SANITIZE_THREAD__)
#define NKEYS (1u << 17) /* TSan: ten times slower than ASan; still two resizes */
#elif defined(__SANITIZE_ADDRESS__)
#define NKEYS (1u << 18)
#else
#define NKEYS (1u << 20)
#endif
#define BUDGET (512ull << 20)

struct writer {
	struct spc_cache *c;
	unsigned first, step;
	unsigned refused; /* sets that did not answer SPC_OK */
	int last_error;
};

static void key_of(unsigned i, char k[17])
{
	snprintf(k, 17, "bulk%012u", i);
}

static void *write_keys(void *arg)
{
	struct writer *w = arg;
	char k[17];

	for (unsigned i = w->first; i < NKEYS; i += w->step) {
		uint64_t v = (uint64_t)i * 2654435761u;
		int r;

		key_of(i, k);
		r = spc_set(w->c, SPC_POOL_INDEX, k, 16, &v, sizeof v);
		if (r != SPC_OK) {
			/* stop: a stuck index would make every later set
			 * wait out its bound */
			w->refused++;
			w->last_error = r;
			break;
		}
	}
	return NULL;
}

/* Lowers the index pool's maintainer thread to nice 19 (found by its name,
 * spc-maint-index, which the call_rcu thread it may start inherits).
 * Returns how many threads. */
static unsigned nice_maintainer_once(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	unsigned n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		char path[300], comm[32] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof comm, f) && strncmp(comm, "spc-maint-index", 15) == 0) {
			ck_assert_int_eq(setpriority(PRIO_PROCESS, (id_t)atoi(de->d_name), 19), 0);
			n++;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

/* nice_maintainer_once until the maintainer has named itself (it does so
 * first thing; spc_open does not wait for it). */
static unsigned nice_maintainer(void)
{
	unsigned n;

	for (unsigned tries = 0; (n = nice_maintainer_once()) == 0 && tries < 10000; tries++)
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	return n;
}

static void bulk(unsigned writers, int slow_maintainer)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;
	struct writer w[2];
	pthread_t t[2];
	struct spc_stats st;
	unsigned missing = 0, wrong = 0, refused = 0;
	char k[17];

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = BUDGET;
	cfg.mode = SPC_MODE_INDEXER;
	/* the bound of a writer's wait for the maintainer: long, so that
	 * a machine busy with other work (or the nice 19 below) cannot make
	 * it run out; a stuck index still makes it run out */
	cfg.full_wait_ms = 20000;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	if (slow_maintainer)
		ck_assert_uint_ge(nice_maintainer(), 1);
	for (unsigned i = 0; i < writers; i++) {
		w[i] = (struct writer){ c, i, writers, 0, SPC_OK };
		ck_assert_int_eq(pthread_create(&t[i], NULL, write_keys, &w[i]), 0);
	}
	for (unsigned i = 0; i < writers; i++) {
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
		refused += w[i].refused;
		if (w[i].refused)
			fprintf(stderr, "writer %u: %u sets refused, last %s\n", i, w[i].refused,
			       spc_strerror(w[i].last_error));
	}
	ck_assert_uint_eq(refused, 0);
	for (unsigned i = 0; i < NKEYS; i++) {
		uint64_t v = 0, want = (uint64_t)i * 2654435761u;
		size_t n = 0;

		key_of(i, k);
		if (spc_get(c, SPC_POOL_INDEX, k, 16, &v, sizeof v, &n) != SPC_OK)
			missing++;
		else if (n != sizeof v || v != want)
			wrong++;
	}
	ck_assert_uint_eq(missing, 0);
	ck_assert_uint_eq(wrong, 0);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &st), SPC_OK);
	printf("bulk, %u writer(s): %u sets, items %llu, evictions %llu, efull %llu, "
	       "charged %llu of %llu B, index %llu B\n",
	       writers, NKEYS, (unsigned long long)st.items, (unsigned long long)st.evictions,
	       (unsigned long long)st.efull, (unsigned long long)st.charged_bytes,
	       (unsigned long long)st.target_bytes, (unsigned long long)st.index_bytes);
	ck_assert_uint_eq(st.items, NKEYS);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_uint_eq(st.efull, 0);
	ck_assert_uint_eq(st.busy_ring + st.busy_batches, 0);
	spc_close(c);
}

START_TEST(one_writer)
{
	bulk(1, 0);
}
END_TEST

START_TEST(two_writers)
{
	bulk(2, 0);
}
END_TEST

START_TEST(two_writers_slow_maintainer)
{
	bulk(2, 1);
}
END_TEST

static Suite *bulk_suite(void)
{
	Suite *s = suite_create("bulk");
	TCase *tc = tcase_create("load");

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, one_writer);
	tcase_add_test(tc, two_writers);
	tcase_add_test(tc, two_writers_slow_maintainer);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(bulk_suite());
}
