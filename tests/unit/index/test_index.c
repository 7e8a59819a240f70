/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/index/test_index.c: the index alone, on one thread but for
 * the slot races (core/index.c guarantees 1, 3, 4, 5 and 7;
 * test_index_stress.c runs 1, 2 and 6 with threads). Argument `narrow`:
 * every test in the 12-slot layout (entries in a region), else 7 slots.
 */
#include <check.h>
#include <pthread.h>
#include <stdlib.h>

#include "check_run.h"
#include "index_fixture.h"
#include "sync/rcu.h"

/* Writes through the index inside a read section, as callers must. */
static int add(struct spc_index *ix, struct tent *e, void **found)
{
	spc_rcu_read_lock();
	int rc = spc_index_add_rcu(ix, tent_hash_of(e->id), tent_match, &e->id, e, found);
	spc_rcu_read_unlock();
	return rc;
}

static int set(struct spc_index *ix, struct tent *e, void **old)
{
	spc_rcu_read_lock();
	int rc = spc_index_set_rcu(ix, tent_hash_of(e->id), tent_match, &e->id, e, old);
	spc_rcu_read_unlock();
	return rc;
}

static struct tent *del(struct spc_index *ix, uint64_t id)
{
	spc_rcu_read_lock();
	struct tent *e = spc_index_delete_rcu(ix, tent_hash_of(id), tent_match, &id);
	spc_rcu_read_unlock();
	return e;
}

static void census(struct spc_index *ix, struct spc_index_census *c)
{
	spc_rcu_read_lock();
	spc_index_census_rcu(ix, c);
	spc_rcu_read_unlock();
}

/* Guarantee 3's invariant, and the entry count. */
static void check_quiet(struct spc_index *ix, size_t entries)
{
	struct spc_index_census c;
	urcu_memb_barrier(); /* retired tables freed */
	census(ix, &c);
	ck_assert_uint_eq(c.entries, entries);
	ck_assert_uint_eq(c.overflow, c.displacement);
	ck_assert_uint_eq(c.locked, 0);
	ck_assert_uint_eq(c.bytes, spc_index_bytes(ix));
}

/* Adds ids [from, to) with version 0; every add must succeed. */
static void fill(struct spc_index *ix, uint64_t from, uint64_t to)
{
	void *found;
	for (uint64_t id = from; id < to; id++)
		ck_assert_int_eq(add(ix, tent_new(id, 0), &found), SPC_OK);
}

/* Checks that ids [from, to) are present and [to, to + absent) are not. */
static void check_ids(struct spc_index *ix, uint64_t from, uint64_t to, uint64_t absent)
{
	for (uint64_t id = from; id < to; id++) {
		struct tent *e = tent_find(ix, id);
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(e->id, id);
	}
	for (uint64_t id = to; id < to + absent; id++)
		ck_assert_ptr_null(tent_find(ix, id));
}

static void free_one(void *arg, void *entry)
{
	(void)arg;
	tent_free(entry);
}

static void teardown(struct spc_index *ix, struct talloc *a)
{
	spc_rcu_read_lock();
	spc_index_for_each_rcu(ix, free_one, NULL);
	spc_rcu_read_unlock();
	spc_index_destroy(ix);
	ck_assert_int_eq(talloc_live(a), 0);
	ck_assert_uint_eq(talloc_bytes(a), 0);
}

START_TEST(add_set_replace_remove_delete)
{
	struct talloc a = {0};
	struct spc_index_ops ops = talloc_ops(&a);
	struct spc_index ix;
	struct tent *e1 = tent_new(7, 1), *e2 = tent_new(7, 2), *e3 = tent_new(7, 3);
	void *other;

	ck_assert_int_eq(spc_index_init(&ix, &ops, 5), SPC_OK);
	ck_assert_uint_eq(spc_index_buckets(&ix), 8); /* rounded up */
	ck_assert_uint_eq(talloc_bytes(&a), spc_index_bytes(&ix));
	ck_assert_ptr_null(tent_find(&ix, 7));
	ck_assert_int_eq(add(&ix, e1, &other), SPC_OK);
	ck_assert_ptr_null(other);
	ck_assert_ptr_eq(tent_find(&ix, 7), e1);
	/* add never replaces */
	ck_assert_int_eq(add(&ix, e2, &other), SPC_EEXISTS);
	ck_assert_ptr_eq(other, e1);
	ck_assert_ptr_eq(tent_find(&ix, 7), e1);
	/* set replaces in place and hands the old one back */
	ck_assert_int_eq(set(&ix, e2, &other), SPC_OK);
	ck_assert_ptr_eq(other, e1);
	ck_assert_ptr_eq(tent_find(&ix, 7), e2);
	check_quiet(&ix, 1);
	/* replace is a compare-and-swap on the entry */
	spc_rcu_read_lock();
	ck_assert_int_eq(spc_index_replace_rcu(&ix, tent_hash_of(7), e1, e3), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_index_replace_rcu(&ix, tent_hash_of(7), e2, e3), SPC_OK);
	/* remove by identity: only the entry given */
	ck_assert_int_eq(spc_index_remove_rcu(&ix, tent_hash_of(7), e2), SPC_ENOTFOUND);
	spc_rcu_read_unlock();
	ck_assert_ptr_eq(tent_find(&ix, 7), e3);
	spc_rcu_read_lock();
	ck_assert_int_eq(spc_index_remove_rcu(&ix, tent_hash_of(7), e3), SPC_OK);
	spc_rcu_read_unlock();
	ck_assert_ptr_null(tent_find(&ix, 7));
	ck_assert_ptr_null(del(&ix, 7));
	ck_assert_int_eq(add(&ix, e1, &other), SPC_OK);
	ck_assert_ptr_eq(del(&ix, 7), e1);
	check_quiet(&ix, 0);
	/* references the slots cannot hold are refused */
	spc_rcu_read_lock();
	if (tent_region.base) {
		uint64_t outside[2] = {7, 0};
		ck_assert_int_eq(spc_index_add_rcu(&ix, 1, tent_match, &e1->id, outside, &other),
		                 SPC_EINVAL);
	}
	ck_assert_int_eq(spc_index_add_rcu(&ix, 1, tent_match, &e1->id, (char *)e1 + 4, &other),
	                 SPC_EINVAL);
	ck_assert_int_eq(spc_index_add_rcu(&ix, 1, tent_match, &e1->id,
	                                   (void *)(uintptr_t)(UINT64_C(1) << 47), &other),
	                 SPC_EINVAL);
	spc_rcu_read_unlock();
	tent_free(e1);
	tent_free(e2);
	tent_free(e3);
	teardown(&ix, &a);
}
END_TEST

START_TEST(tag_collisions_forced)
{
	struct talloc a = {0};
	struct spc_index_ops ops = talloc_ops(&a);
	struct spc_index ix;

	ck_assert_int_eq(spc_index_init(&ix, &ops, 64), SPC_OK);
	/* 3 bits: every tag 0, every home among the first 8 buckets */
	spc_index_test_truncate(&ix, 3);
	fill(&ix, 0, 300);
	tent_matches = 0;
	check_ids(&ix, 0, 300, 100);
	/* the tags did not filter: lookups compared foreign keys */
	ck_assert_uint_gt(tent_matches, 3 * 400);
	struct spc_index_census c;
	census(&ix, &c);
	ck_assert_uint_gt(c.max_probe, 8); /* overflowed well past the homes */
	check_quiet(&ix, 300);
	/* deletes of every other id keep the rest reachable */
	for (uint64_t id = 0; id < 300; id += 2)
		tent_free(del(&ix, id));
	for (uint64_t id = 0; id < 300; id++)
		ck_assert(!tent_find(&ix, id) == !(id & 1));
	check_quiet(&ix, 150);
	teardown(&ix, &a);
}
END_TEST

START_TEST(full_buckets_and_overflow)
{
	struct talloc a = {0};
	struct spc_index_ops ops = talloc_ops(&a);
	struct spc_index ix;
	void *other;

	ck_assert_int_eq(spc_index_init(&ix, &ops, 4), SPC_OK);
	const uint64_t S = spc_index_slots(&ix);
	ck_assert_uint_eq(S, tent_region.base ? 12 : 7);
	spc_index_test_truncate(&ix, 1); /* homes: buckets 0 and 1 */
	fill(&ix, 0, 4 * S);
	check_ids(&ix, 0, 4 * S, 0);
	check_quiet(&ix, 4 * S);
	/* no free slot anywhere: refused, nothing changed */
	struct tent *x = tent_new(1000, 0);
	ck_assert_int_eq(add(&ix, x, &other), SPC_EFULL);
	ck_assert_int_eq(set(&ix, x, &other), SPC_EFULL);
	ck_assert_ptr_null(tent_find(&ix, 1000));
	check_quiet(&ix, 4 * S);
	/* a set of a present key still works in a full table */
	struct tent *y = tent_new(3, 9);
	ck_assert_int_eq(set(&ix, y, &other), SPC_OK);
	tent_free(other);
	ck_assert_ptr_eq(tent_find(&ix, 3), y);
	/* one delete makes room for one */
	tent_free(del(&ix, 5));
	ck_assert_int_eq(add(&ix, x, &other), SPC_OK);
	ck_assert_ptr_eq(tent_find(&ix, 1000), x);
	check_ids(&ix, 6, 4 * S, 0);
	check_quiet(&ix, 4 * S);
	teardown(&ix, &a);
}
END_TEST

START_TEST(deletes_leave_nothing)
{
	struct talloc a = {0}, b = {0};
	struct spc_index_ops ops = talloc_ops(&a), fops = talloc_ops(&b);
	struct spc_index ix, fresh;
	struct spc_index_census c, f;
	const uint64_t n = 6 * 256;

	ck_assert_int_eq(spc_index_init(&ix, &ops, 256), SPC_OK);
	spc_index_test_truncate(&ix, 7); /* overflow on purpose */
	for (unsigned round = 0; round < 20; round++) {
		uint64_t base = (uint64_t)round * 100000;
		fill(&ix, base, base + n);
		check_quiet(&ix, n);
		if (round == 19)
			break;
		for (uint64_t id = base; id < base + n; id++)
			tent_free(del(&ix, id));
		/* emptied: every head and slot is zero again */
		census(&ix, &c);
		ck_assert_uint_eq(c.entries, 0);
		ck_assert_uint_eq(c.overflow, 0);
		for (uint64_t i = 0; i <= ix.cur->mask; i++)
			ck_assert_uint_eq(ix.cur->b[i].head, 0);
	}
	/* the 20th fill is laid out exactly as a fresh index's */
	ck_assert_int_eq(spc_index_init(&fresh, &fops, 256), SPC_OK);
	spc_index_test_truncate(&fresh, 7);
	fill(&fresh, 19 * 100000, 19 * 100000 + n);
	census(&ix, &c);
	census(&fresh, &f);
	ck_assert_uint_eq(c.overflow, f.overflow);
	ck_assert_uint_eq(c.displacement, f.displacement);
	ck_assert_uint_eq(c.max_probe, f.max_probe);
	teardown(&fresh, &b);
	teardown(&ix, &a);
}
END_TEST

START_TEST(resize_both_ways_in_steps)
{
	struct talloc a = {0};
	struct spc_index_ops ops = talloc_ops(&a);
	struct spc_index ix;
	void *other;

	ck_assert_int_eq(spc_index_init(&ix, &ops, 16), SPC_OK);
	spc_index_test_truncate(&ix, _i ? 6 : 64);
	fill(&ix, 0, 96);
	/* grow 16 -> 64 one bucket per step (the new table zeroed first, 256
	 * buckets per step), writing in between */
	ck_assert_int_eq(spc_index_resize_begin(&ix, 64), SPC_OK);
	ck_assert_int_eq(spc_index_resize_begin(&ix, 64), SPC_EINVAL); /* one at a time */
	ck_assert_uint_eq(talloc_bytes(&a), spc_index_bytes(&ix));
	uint64_t next = 96;
	int rc, steps = 0;
	do {
		check_ids(&ix, 0, next, 10);
		fill(&ix, next, next + 2);
		next += 2;
		struct tent *y = tent_new(steps % next, 1);
		ck_assert_int_eq(set(&ix, y, &other), SPC_OK);
		tent_free(other);
		rc = spc_index_resize_step(&ix, 1);
		steps++;
	} while (rc == 1);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(steps, 1 + 16); /* 64 new buckets zeroed in one step, 16 moved 1 a step */
	ck_assert(!spc_index_resizing(&ix));
	ck_assert_uint_eq(spc_index_buckets(&ix), 64);
	check_ids(&ix, 0, next, 10);
	check_quiet(&ix, next);
	ck_assert_uint_eq(talloc_bytes(&a), spc_index_bytes(&ix));
	/* shrink 64 -> 32, deleting in between */
	ck_assert_int_eq(spc_index_resize_begin(&ix, 32), SPC_OK);
	uint64_t gone = 0;
	do {
		tent_free(del(&ix, gone++));
		rc = spc_index_resize_step(&ix, 3);
	} while (rc == 1);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(spc_index_buckets(&ix), 32);
	check_ids(&ix, gone, next, 10);
	for (uint64_t id = 0; id < gone; id++)
		ck_assert_ptr_null(tent_find(&ix, id));
	check_quiet(&ix, next - gone);
	/* a step with nothing in progress is a no-op */
	ck_assert_int_eq(spc_index_resize_step(&ix, 1), 0);
	teardown(&ix, &a);
}
END_TEST

/* Guarantee 7: writers cannot fill a resize's new table before the move
 * is over. A growth 16 -> 32 of a full table (S x 16 entries, S the slots
 * per bucket): once the new table is published, new keys take credit,
 * S x 16 of it, then are
 * refused with SPC_EFULL (nothing changed) while replacing a present key
 * still works; each moving step gives back what it freed, and the resize
 * ends. Without the credit the writer filled the new table (32 x S slots)
 * and the move stopped with SPC_EFULL for good. A shrink 32 -> 16 then
 * counts before moving: new keys are refused until the census is done,
 * and it ends too. */
START_TEST(resize_ends_whatever_writers_do)
{
	struct talloc a = {0};
	struct spc_index_ops ops = talloc_ops(&a);
	struct spc_index ix;
	void *other;
	uint64_t S, next, refused = 0;
	int rc;

	ck_assert_int_eq(spc_index_init(&ix, &ops, 16), SPC_OK);
	S = spc_index_slots(&ix);
	next = S * 16;
	fill(&ix, 0, next);
	ck_assert_int_eq(spc_index_resize_begin(&ix, 32), SPC_OK);
	ck_assert_int_eq(spc_index_resize_step(&ix, 1), 1); /* zeroed, published */
	for (;;) {
		struct tent *e = tent_new(next, 0);
		if ((rc = add(&ix, e, &other)) != SPC_OK) {
			tent_free(e);
			break;
		}
		next++;
	}
	ck_assert_int_eq(rc, SPC_EFULL);
	ck_assert_uint_eq(next, S * 16 + S * 16); /* the credit: S x (32 - 16) */
	struct tent *y = tent_new(3, 1);
	ck_assert_int_eq(set(&ix, y, &other), SPC_OK); /* present: no credit needed */
	tent_free(other);
	do {
		struct tent *e = tent_new(next, 0);
		rc = add(&ix, e, &other);
		if (rc == SPC_OK)
			next++;
		else
			tent_free(e), refused++;
		ck_assert(rc == SPC_OK || rc == SPC_EFULL);
		rc = spc_index_resize_step(&ix, 1);
	} while (rc == 1);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(spc_index_buckets(&ix), 32);
	ck_assert_uint_gt(refused, 0);
	check_ids(&ix, 0, next, 10);
	check_quiet(&ix, next);
	/* shrink: delete down to S x 16 - 8 entries, then 32 -> 16 */
	while (next > S * 16 - 8)
		tent_free(del(&ix, --next));
	ck_assert_int_eq(spc_index_resize_begin(&ix, 16), SPC_OK);
	ck_assert_int_eq(spc_index_resize_step(&ix, 1), 1); /* zeroed, published */
	struct tent *e = tent_new(next, 0);
	ck_assert_int_eq(add(&ix, e, &other), SPC_EFULL); /* counting: no credit yet */
	ck_assert_int_eq(spc_index_resize_step(&ix, 1), 1); /* counted: 8 slots of credit */
	for (unsigned i = 0; i < 8; i++) {
		ck_assert_int_eq(add(&ix, e, &other), SPC_OK);
		e = tent_new(++next, 0);
	}
	ck_assert_int_eq(add(&ix, e, &other), SPC_EFULL);
	tent_free(e);
	while ((rc = spc_index_resize_step(&ix, 1)) == 1)
		;
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(spc_index_buckets(&ix), 16);
	check_ids(&ix, 0, next, 10);
	check_quiet(&ix, next);
	teardown(&ix, &a);
}
END_TEST

/* Guarantee 5: the N-th allocation fails, for every N up to a run with no
 * failure (init, then grow/shrink cycles). */
START_TEST(resize_alloc_fails_at_every_n)
{
	struct talloc a = {.fail_at = _i + 1};
	struct spc_index_ops ops = talloc_ops(&a);
	struct spc_index ix;
	static const size_t sizes[] = {64, 16, 128, 8, 32};
	int failed = 0;

	int rc = spc_index_init(&ix, &ops, 8);
	if (rc == SPC_ENOMEM) {
		ck_assert_int_eq(talloc_live(&a), 0);
		return;
	}
	ck_assert_int_eq(rc, SPC_OK);
	fill(&ix, 0, 40);
	for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t before = spc_index_buckets(&ix);
		rc = spc_index_resize(&ix, sizes[k]);
		if (rc == SPC_ENOMEM) {
			/* unchanged, serving, nothing leaked; then retried */
			failed++;
			ck_assert(!spc_index_resizing(&ix));
			ck_assert_uint_eq(spc_index_buckets(&ix), before);
			ck_assert_uint_eq(talloc_live(&a), 1);
			check_ids(&ix, 0, 40, 5);
			check_quiet(&ix, 40);
			rc = spc_index_resize(&ix, sizes[k]);
		}
		ck_assert_int_eq(rc, SPC_OK);
		ck_assert_uint_eq(spc_index_buckets(&ix), sizes[k]);
		ck_assert_uint_eq(talloc_bytes(&a), spc_index_bytes(&ix));
		check_ids(&ix, 0, 40, 5);
		check_quiet(&ix, 40);
	}
	/* N = 1 fails init; N = 2..6 each fail one resize; N = 7 none */
	ck_assert_int_eq(failed, _i >= 1 && _i <= 5);
	teardown(&ix, &a);
}
END_TEST

/* The layout follows the region the owner gives: 12 slots for a region
 * up to 32 GiB (8-aligned), 7 otherwise. The index never touches the
 * region itself. */
START_TEST(layout_chosen_by_region)
{
	struct talloc a = {0};
	struct spc_index_ops ops = talloc_ops(&a);
	struct spc_index ix;
	static const struct {
		uintptr_t base;
		uint64_t bytes;
		unsigned slots;
	} cases[] = {
		{0, 0, 7},
		{0x10000, (uint64_t)1 << 20, 12},
		{0x10000, SPC_INDEX_NARROW_MAX_REGION, 12},
		{0x10000, SPC_INDEX_NARROW_MAX_REGION + 8, 7},
		{0x10004, (uint64_t)1 << 20, 7},
		{0x10000, 0, 7},
	};

	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		ops.region = (const void *)cases[k].base;
		ops.region_bytes = (size_t)cases[k].bytes;
		ck_assert_int_eq(spc_index_init(&ix, &ops, 8), SPC_OK);
		ck_assert_uint_eq(spc_index_slots(&ix), cases[k].slots);
		ck_assert_uint_eq(spc_index_grow_load(&ix), cases[k].slots == 12 ? 10 : 6);
		spc_index_destroy(&ix);
	}
	ck_assert_int_eq(talloc_live(&a), 0);
}
END_TEST

/* Ids whose home in a table of 8 buckets is bucket 0. */
static uint64_t home0_id(uint64_t after)
{
	uint64_t id = after + 1;
	while (tent_hash_of(id) & 7)
		id++;
	return id;
}

/* A line filled to its last slot holds every entry of its home without
 * overflow, and with full tags a lookup compares about one key; one entry
 * more goes to the next bucket and is counted in its home; deletes give
 * the counts back. */
START_TEST(one_line_full_then_next)
{
	struct talloc a = {0};
	struct spc_index_ops ops = talloc_ops(&a);
	struct spc_index ix;
	struct spc_index_census c;
	uint64_t ids[13], id = 0;
	void *other;

	ck_assert_int_eq(spc_index_init(&ix, &ops, 8), SPC_OK);
	const unsigned S = spc_index_slots(&ix);
	for (unsigned k = 0; k <= S; k++)
		ids[k] = id = home0_id(id);
	for (unsigned k = 0; k < S; k++)
		ck_assert_int_eq(add(&ix, tent_new(ids[k], 0), &other), SPC_OK);
	census(&ix, &c);
	ck_assert_uint_eq(c.entries, S);
	ck_assert_uint_eq(c.max_probe, 0);
	ck_assert_uint_eq(ix.cur->b[0].head, 0); /* full, nothing passed over */
	tent_matches = 0;
	for (unsigned k = 0; k < S; k++)
		ck_assert_ptr_nonnull(tent_find(&ix, ids[k]));
	/* tags filter: about one compare per lookup (8-bit tags: 12 x 1/256
	 * false matches per line at most) */
	ck_assert_uint_le(tent_matches, S + 2);
	/* one more overflows into bucket 1, counted in bucket 0 */
	ck_assert_int_eq(add(&ix, tent_new(ids[S], 0), &other), SPC_OK);
	census(&ix, &c);
	ck_assert_uint_eq(c.max_probe, 1);
	ck_assert_uint_eq(c.overflow, 1);
	ck_assert_uint_eq(ix.cur->b[0].head, SPC_INDEX_COUNT_ONE);
	for (unsigned k = 0; k <= S; k++)
		ck_assert_ptr_nonnull(tent_find(&ix, ids[k]));
	/* a delete in the full line leaves the overflowed one reachable */
	tent_free(del(&ix, ids[0]));
	ck_assert_ptr_nonnull(tent_find(&ix, ids[S]));
	tent_free(del(&ix, ids[S]));
	ck_assert_uint_eq(ix.cur->b[0].head, 0);
	check_ids(&ix, 1, 1, 0);
	for (unsigned k = 1; k < S; k++)
		ck_assert_ptr_nonnull(tent_find(&ix, ids[k]));
	check_quiet(&ix, S - 1);
	teardown(&ix, &a);
}
END_TEST

/* Claims racing removals on one slot: a table of 2 buckets, full but for
 * RACERS slots; RACERS threads each insert a new key, must find it, delete
 * it, again and again. Keys of both homes share the free slots, so a
 * writer claims slots of the other bucket (without its lock) that a
 * writer of that bucket has just freed. Each thread holds at most one
 * slot: an insert never finds the table full. A store order that let a
 * claim end with another key's tag (tag before the reference's CAS, or a
 * removal that clears the tag) makes a find fail. */
#define RACERS 8
#if defined(__SANITIZE_THREAD__)
#define RACE_ROUNDS 5000 /* 5-20x slower: within Check's timeout */
#else
#define RACE_ROUNDS 100000
#endif

struct race {
	struct spc_index *ix;
	unsigned n;
	unsigned long missed;
};

static void *racer(void *arg)
{
	struct race *r = arg;
	void *other;

	spc_rcu_ensure();
	for (unsigned k = 0; k < RACE_ROUNDS; k++) {
		uint64_t id = ((uint64_t)(r->n + 1) << 32) | k;
		struct tent *e = tent_new(id, 0);
		spc_rcu_read_lock();
		int rc = spc_index_add_rcu(r->ix, tent_hash_of(id), tent_match, &id, e, &other);
		spc_rcu_read_unlock();
		if (rc != SPC_OK)
			abort();
		if (tent_find(r->ix, id) != e)
			r->missed++;
		spc_rcu_read_lock();
		struct tent *d = spc_index_delete_rcu(r->ix, tent_hash_of(id), tent_match, &id);
		spc_rcu_read_unlock();
		if (d != e) { /* a lost tag: no delete either; stop here */
			r->missed++;
			break;
		}
		/* nobody else can hold it: taken out by us, never looked up
		 * by another thread's key (different ids) */
		urcu_memb_call_rcu(&e->rcu, tent_free_cb);
	}
	return NULL;
}

START_TEST(claims_race_removals)
{
	struct talloc a = {0};
	struct spc_index_ops ops = talloc_ops(&a);
	struct spc_index ix;
	struct race r[RACERS];
	pthread_t th[RACERS];

	ck_assert_int_eq(spc_index_init(&ix, &ops, 2), SPC_OK);
	const uint64_t resident = 2 * spc_index_slots(&ix) - RACERS;
	fill(&ix, 0, resident);
	for (unsigned k = 0; k < RACERS; k++) {
		r[k] = (struct race){&ix, k, 0};
		ck_assert_int_eq(pthread_create(&th[k], NULL, racer, &r[k]), 0);
	}
	for (unsigned k = 0; k < RACERS; k++) {
		ck_assert_int_eq(pthread_join(th[k], NULL), 0);
		ck_assert_uint_eq(r[k].missed, 0);
	}
	check_ids(&ix, 0, resident, 10);
	check_quiet(&ix, resident);
	teardown(&ix, &a);
}
END_TEST

int main(int argc, char **argv)
{
	int narrow = tent_layout_arg(argc, argv, 1);
	Suite *s = suite_create(narrow ? "index-narrow" : "index");
	TCase *tc = tcase_create("index");

	tcase_add_test(tc, add_set_replace_remove_delete);
	tcase_add_test(tc, tag_collisions_forced);
	tcase_add_test(tc, full_buckets_and_overflow);
	tcase_add_test(tc, deletes_leave_nothing);
	tcase_add_loop_test(tc, resize_both_ways_in_steps, 0, 2);
	tcase_add_test(tc, resize_ends_whatever_writers_do);
	tcase_add_loop_test(tc, resize_alloc_fails_at_every_n, 0, 7);
	tcase_add_test(tc, layout_chosen_by_region);
	tcase_add_test(tc, one_line_full_then_next);
	tcase_add_test(tc, claims_race_removals);
	suite_add_tcase(s, tc);
	return spc_check_run(s);
}
