/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/index/test_index_stress.c: readers, writers and a resizing
 * thread on one index for a given number of seconds (core/index.c
 * guarantees 1, 2, 4 and 6 under contention; 3 and 5 at the end).
 *
 * Keys: STABLE ids that are always present (writers only replace them:
 * readers must find each one every time, also during a resize), VOLATILE
 * ids that writers add, set, replace and delete, and SHARED ids that every
 * writer sets at once (the index must hold each at most once). Stable and
 * volatile ids belong to one writer each (id % writers), which therefore
 * knows what the index must hold at the end. Entries replaced or deleted
 * are freed through call_rcu; readers check every entry they get (its id,
 * a checksum of id and version, a magic the free overwrites; ASan sees a
 * freed one directly). The resizer cycles the table between 512 and 4096
 * buckets in steps of 1 to 4 buckets, with one allocation in three
 * failing. The run is repeated with the hash truncated to 10 bits (every
 * tag equal: readers dereference foreign entries all the time).
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>

#include "check_run.h"
#include "index_fixture.h"
#include "sync/rcu.h"

#define READERS 2
#define WRITERS 2
#define STABLE 256u
#define VOLATILE 2048u
#define SHARED 16u
#define ID_SHARED (STABLE + VOLATILE)

static unsigned opt_seconds = 3;

/* TSan reports (and suppresses) liburcu's unseen grace period for every
 * entry freed after a reader saw it, at a cost that grows with their
 * number: under TSan a writer goes at full speed for its first writes only,
 * then writes once per millisecond. */
#if defined(__SANITIZE_THREAD__)
#define FULL_SPEED_WRITES 20000u
#else
#define FULL_SPEED_WRITES UINT64_MAX
#endif

struct run {
	struct spc_index ix;
	struct talloc alloc;
	int stop;             /* atomic: relaxed flag */
	unsigned long reads, misses, bad, writes, resizes, enomem, efull;
	/* per writer: its ids' current entries (NULL: absent) */
	struct tent *own[STABLE + VOLATILE];
};

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *reader(void *arg)
{
	struct run *r = arg;
	uint64_t s = 0x1234567 + (uintptr_t)&s, reads = 0, misses = 0, bad = 0;

	spc_rcu_ensure();
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		uint64_t id = rng_next(&s) % (ID_SHARED + SHARED);
		urcu_memb_read_lock();
		const struct tent *e =
			spc_index_lookup_rcu(&r->ix, tent_hash_of(id), tent_match, &id);
		if (e) {
			if (e->id != id || __atomic_load_n(&e->magic, __ATOMIC_RELAXED) != TENT_ALIVE ||
			    e->check != (id ^ e->version ^ TENT_ALIVE))
				bad++;
		} else if (id < STABLE) {
			misses++; /* a stable id is always present */
		}
		urcu_memb_read_unlock();
		reads++;
	}
	__atomic_fetch_add(&r->reads, reads, __ATOMIC_RELAXED);
	__atomic_fetch_add(&r->misses, misses, __ATOMIC_RELAXED);
	__atomic_fetch_add(&r->bad, bad, __ATOMIC_RELAXED);
	return NULL;
}

struct writer_arg {
	struct run *r;
	unsigned w;
};

static void retire(struct tent *e)
{
	if (e)
		urcu_memb_call_rcu(&e->rcu, tent_free_cb);
}

/* A writer refused for lack of credit (a resize keeps the new table's
 * slots for the old one's entries) tries again: counts it, yields.
 * Returns 0 once the run stops (the refusal then stands). */
static int again(struct run *r)
{
	__atomic_fetch_add(&r->efull, 1, __ATOMIC_RELAXED);
	sched_yield();
	return !__atomic_load_n(&r->stop, __ATOMIC_RELAXED);
}

static void *writer(void *arg)
{
	struct writer_arg *wa = arg;
	struct run *r = wa->r;
	uint64_t s = 0x9abcdef + wa->w * 7919, version = 1, writes = 0, bad = 0;
	void *other;

	spc_rcu_ensure();
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		if (writes >= FULL_SPEED_WRITES) {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
		uint64_t x = rng_next(&s), id;
		unsigned op = (unsigned)(x >> 60) & 7;
		if (op == 7) { /* a shared id, set by every writer */
			id = ID_SHARED + (x % SHARED);
			struct tent *e = tent_new(id, version++);
			int rc;
			do {
				urcu_memb_read_lock();
				rc = spc_index_set_rcu(&r->ix, tent_hash_of(id), tent_match, &id, e,
				                       &other);
				urcu_memb_read_unlock();
			} while (rc == SPC_EFULL && again(r));
			bad += rc != SPC_OK && rc != SPC_EFULL;
			if (rc == SPC_EFULL)
				tent_free(e);
			retire(other);
			writes++;
			continue;
		}
		id = x % (STABLE + VOLATILE);
		id -= id % WRITERS;
		id += wa->w;
		if (id >= STABLE + VOLATILE)
			continue;
		struct tent *cur = r->own[id], *e = tent_new(id, version++);
		urcu_memb_read_lock();
		if (id < STABLE || (cur && op < 3)) {
			/* replace (compare-and-swap) or set: must find cur */
			int rc = op & 1 ? spc_index_replace_rcu(&r->ix, tent_hash_of(id), cur, e)
			                : spc_index_set_rcu(&r->ix, tent_hash_of(id), tent_match, &id,
			                                    e, &other);
			bad += rc != SPC_OK || (!(op & 1) && other != cur);
		} else if (cur) {
			/* delete by key or by identity */
			if (op & 1)
				bad += spc_index_remove_rcu(&r->ix, tent_hash_of(id), cur) != SPC_OK;
			else
				bad += spc_index_delete_rcu(&r->ix, tent_hash_of(id), tent_match, &id) != cur;
			tent_free(e);
			e = NULL;
		} else {
			int rc;
			/* a new key during a resize may find no credit:
			 * SPC_EFULL, try again outside the section (the
			 * resizer's grace period waits for it) */
			while ((rc = spc_index_add_rcu(&r->ix, tent_hash_of(id), tent_match, &id, e,
			                               &other)) == SPC_EFULL) {
				urcu_memb_read_unlock();
				if (!again(r)) {
					urcu_memb_read_lock();
					break;
				}
				urcu_memb_read_lock();
			}
			if (rc == SPC_EFULL) {
				tent_free(e);
				e = NULL;
			}
			bad += rc != SPC_OK && rc != SPC_EFULL;
		}
		urcu_memb_read_unlock();
		retire(cur);
		r->own[id] = e;
		writes++;
	}
	__atomic_fetch_add(&r->writes, writes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&r->bad, bad, __ATOMIC_RELAXED);
	return NULL;
}

/* The maintainer's part: resize up and down in small steps. */
static void *resizer(void *arg)
{
	struct run *r = arg;
	uint64_t s = 0x5555;
	size_t sizes[] = {4096, 512, 2048, 1024};
	unsigned k = 0;

	spc_rcu_ensure();
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		r->alloc.fail_all = rng_next(&s) % 3 == 0;
		int rc = spc_index_resize_begin(&r->ix, sizes[k % 4]);
		r->alloc.fail_all = 0;
		if (rc == SPC_ENOMEM) {
			r->enomem++;
			continue;
		}
		ck_assert_int_eq(rc, SPC_OK);
		while ((rc = spc_index_resize_step(&r->ix, 1 + rng_next(&s) % 4)) == 1)
			;
		ck_assert_int_eq(rc, 0);
		r->resizes++;
		k++;
	}
	return NULL;
}

static void count_ids(void *arg, void *entry)
{
	unsigned *seen = arg;
	seen[((struct tent *)entry)->id]++;
}

static void run_once(unsigned bits, unsigned seconds)
{
	static struct run r;
	struct spc_index_ops ops;
	pthread_t rd[READERS], wr[WRITERS], rs;
	struct writer_arg wa[WRITERS];
	void *other;

	memset(&r, 0, sizeof(r));
	ops = talloc_ops(&r.alloc);
	spc_rcu_ensure();
	ck_assert_int_eq(spc_index_init(&r.ix, &ops, 1024), SPC_OK);
	spc_index_test_truncate(&r.ix, bits);
	for (uint64_t id = 0; id < STABLE; id++) {
		r.own[id] = tent_new(id, 0);
		urcu_memb_read_lock();
		ck_assert_int_eq(spc_index_add_rcu(&r.ix, tent_hash_of(id), tent_match, &id,
		                                   r.own[id], &other), SPC_OK);
		urcu_memb_read_unlock();
	}
	for (unsigned i = 0; i < READERS; i++)
		ck_assert_int_eq(pthread_create(&rd[i], NULL, reader, &r), 0);
	for (unsigned i = 0; i < WRITERS; i++) {
		wa[i] = (struct writer_arg){&r, i};
		ck_assert_int_eq(pthread_create(&wr[i], NULL, writer, &wa[i]), 0);
	}
	ck_assert_int_eq(pthread_create(&rs, NULL, resizer, &r), 0);
	struct timespec ts = {(time_t)seconds, 0};
	nanosleep(&ts, NULL);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < READERS; i++)
		pthread_join(rd[i], NULL);
	for (unsigned i = 0; i < WRITERS; i++)
		pthread_join(wr[i], NULL);
	pthread_join(rs, NULL);
	printf("stress_index: bits %u, %u s: %lu reads, %lu writes, %lu resizes, %lu refused "
	       "allocations, %lu inserts retried for credit\n", bits, seconds, r.reads, r.writes,
	       r.resizes, r.enomem, r.efull);
	ck_assert_uint_eq(r.bad, 0);
	ck_assert_uint_eq(r.misses, 0);
	ck_assert_uint_gt(r.resizes, 0);

	/* the end state: exactly the writers' view, each id once */
	static unsigned seen[ID_SHARED + SHARED];
	size_t expect = 0;
	memset(seen, 0, sizeof(seen));
	urcu_memb_read_lock();
	spc_index_for_each_rcu(&r.ix, count_ids, seen);
	struct spc_index_census c;
	spc_index_census_rcu(&r.ix, &c);
	urcu_memb_read_unlock();
	for (unsigned id = 0; id < STABLE + VOLATILE; id++) {
		ck_assert_uint_eq(seen[id], r.own[id] != NULL);
		expect += r.own[id] != NULL;
		if (r.own[id])
			ck_assert_ptr_eq(tent_find(&r.ix, id), r.own[id]);
	}
	for (unsigned id = ID_SHARED; id < ID_SHARED + SHARED; id++) {
		ck_assert_uint_le(seen[id], 1);
		expect += seen[id];
	}
	ck_assert_uint_eq(c.entries, expect);
	ck_assert_uint_eq(c.overflow, c.displacement);
	ck_assert_uint_eq(c.locked, 0);
	ck_assert_uint_eq(c.bytes, talloc_bytes(&r.alloc));
	ck_assert_int_eq(talloc_live(&r.alloc), 1);
	/* shared ids out first: their deletes compare keys of other entries */
	for (unsigned id = ID_SHARED; id < ID_SHARED + SHARED; id++) {
		if (!seen[id])
			continue;
		uint64_t key = id;
		urcu_memb_read_lock();
		tent_free(spc_index_delete_rcu(&r.ix, tent_hash_of(id), tent_match, &key));
		urcu_memb_read_unlock();
	}
	for (unsigned id = 0; id < STABLE + VOLATILE; id++)
		if (r.own[id])
			tent_free(r.own[id]);
	urcu_memb_barrier();
	spc_index_destroy(&r.ix);
	ck_assert_int_eq(talloc_live(&r.alloc), 0);
	ck_assert_uint_eq(talloc_bytes(&r.alloc), 0);
}

START_TEST(readers_writers_resizes)
{
	run_once(64, (opt_seconds + 1) / 2);
	run_once(10, opt_seconds / 2 ? opt_seconds / 2 : 1);
}
END_TEST

int main(int argc, char **argv)
{
	if (spc_stress_arg(argc, argv, 1, &opt_seconds) || opt_seconds == 0) {
		fprintf(stderr, "usage: %s SECONDS [narrow]\n", argv[0]);
		return 2;
	}
	/* narrow: the 12-slot layout, entries in a region (index_fixture.h) */
	int narrow = tent_layout_arg(argc, argv, 2);
	return spc_stress_run(narrow ? "stress-index-narrow" : "stress-index", "index",
	                      readers_writers_resizes, opt_seconds);
}
