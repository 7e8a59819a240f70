/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/index_resize.c: the index's incremental resize, its sizes and its
 * census (core/index.h). The design is core/index.c's essay ("Resize" and
 * "Credit") and docs/concurrency.md ("Resize (the maintainer,
 * incremental)"): begin allocates the new table; the first steps zero it,
 * the one that finishes publishes it as the old table's future and waits
 * a grace period; a shrink then counts the old table's entries; the steps
 * move the old table's entries bucket by bucket, each under its home's
 * locks in both tables; the end makes the new table current and frees
 * the old one through call_rcu.
 *
 * Guarantees (tests/unit/index/test_index.c, test_index_stress.c): those
 * of core/index.c numbered 2 (lookups during a resize), 5 (a failed
 * allocation leaves the index serving; bytes are the tables in play) and
 * 7 (a resize ends).
 */
#include "core/index.h"

#include <string.h>

#include "core/index_int.h"
#include "sync/rcu.h"

/* call_rcu callback: a grace period after the table left every path a
 * reader or writer can take (resize end). */
static void table_retired(struct rcu_head *head)
{
	struct spc_index_table *t = caa_container_of(head, struct spc_index_table, rcu);
	struct spc_index *ix = t->owner;

	spc_index_table_free(ix, t);
	/* release: the free (and its gauge) before destroy's barrier sees 0 */
	__atomic_fetch_sub(&ix->retiring, 1, __ATOMIC_RELEASE);
}

/* ---- resize -------------------------------------------------------------------- */

int spc_index_resizing(const struct spc_index *ix)
{
	return ix->moving != NULL || ix->preparing != NULL;
}

int spc_index_resize_begin(struct spc_index *ix, size_t nbuckets)
{
	struct spc_index_table *f;

	SPC_ASSERT_NOT_IN_RCU();
	if (ix->moving || ix->preparing || nbuckets > SPC_INDEX_MAX_BUCKETS)
		return SPC_EINVAL;
	f = spc_index_table_new(ix, round_buckets(nbuckets));
	if (!f)
		return SPC_ENOMEM;
	/* Nobody can reach f yet: the steps zero it (the first touch of its
	 * pages included), then publish it (resize_publish). */
	ix->preparing = f;
	ix->cursor = 0;
	return SPC_OK;
}

/* The end of the preparation: f is zeroed; make it the current table's
 * future and wait until no writer can still insert into the old one. */
static void resize_publish(struct spc_index *ix)
{
	struct spc_index_table *t = ix->cur, *f = ix->preparing;

	/* Credit (essay): 7 x (new - old) buckets; below zero for a shrink,
	 * which counts the old table before moving and then sets it right.
	 * Relaxed: writers read it only after the release store of future
	 * below (their acquire of future) */
	__atomic_store_n(&ix->credit,
	                 (int64_t)ix->slots * ((int64_t)f->mask - (int64_t)t->mask),
	                 __ATOMIC_RELAXED);
	/* release: the zeroed table before anyone can reach it (pairs with
	 * the acquire loads of future in lookups and lock_key) */
	__atomic_store_n(&t->future, f, __ATOMIC_RELEASE);
	/* every writer that read future == NULL under its lock, and so may
	 * still insert into t, leaves its read section: from here on entries
	 * only leave t, and the cursor never has to come back */
	urcu_memb_synchronize_rcu();
	ix->preparing = NULL;
	ix->moving = t;
	ix->cursor = 0;
	ix->counting = f->mask < t->mask;
	ix->counted = 0;
}

/* A shrink's census: counts the entries of the next `buckets` buckets of
 * the old table (no writer inserts there any more: the count only
 * overstates what is left). Once all are counted, the credit becomes
 * 7 x new buckets - the count and the move begins. */
static void resize_count(struct spc_index *ix, struct spc_index_table *t, uint64_t buckets)
{
	uint64_t end = ix->cursor + buckets;

	if (end > t->mask + 1)
		end = t->mask + 1;
	for (; ix->cursor < end; ix->cursor++)
		for (unsigned s = 0; s < ix->slots; s++)
			/* relaxed: a count; the moves that follow read each
			 * slot again with acquire */
			ix->counted += slot_get(ix, &t->b[ix->cursor], s, __ATOMIC_RELAXED) != 0;
	if (ix->cursor <= t->mask)
		return;
	/* from 7 x (new - old) to 7 x new - counted */
	credit_give(ix, (int64_t)ix->slots * ((int64_t)t->mask + 1) - (int64_t)ix->counted);
	ix->counting = 0;
	ix->cursor = 0;
}

/* Moves the entry in slot *slot of bucket `at` of t to f. Returns SPC_OK
 * when the slot is empty (moved, or emptied by a writer; *moved counts
 * the moves), SPC_EFULL when f has no room. Context: the resizing thread,
 * in a read section. */
static int move_slot(struct spc_index *ix, struct spc_index_table *t, uint64_t at, unsigned s,
                     unsigned *moved)
{
	struct spc_index_table *f = t->future;
	struct spc_index_bucket *b = &t->b[at];

	for (;;) {
		/* acquire: the entry's key, read by ops.hash */
		uint64_t v = slot_get(ix, b, s, __ATOMIC_ACQUIRE);
		if (!v)
			return SPC_OK;
		uint64_t hash = ix->ops.hash(ix->ops.ctx, slot_entry(ix, v)) & ix->hash_mask;
		struct spc_index_bucket *bt = &t->b[hash & t->mask], *bf = &f->b[hash & f->mask];
		int rc = SPC_OK;
		bucket_lock(bt);
		bucket_lock(bf);
		/* relaxed: under the home's lock the slot can only change by
		 * our hand or not at all (a writer of this key waits) */
		if (slot_get(ix, b, s, __ATOMIC_RELAXED) == v) {
			/* a narrow value is the same reference in both
			 * tables; a wide one carries its tag along */
			rc = table_claim(ix, f, hash, v);
			if (rc == SPC_OK) {
				struct spot sp = {at, s};
				table_clear(ix, t, hash, &sp);
				(*moved)++;
			}
		}
		/* else a writer replaced or deleted it: look again */
		bucket_unlock(bf);
		bucket_unlock(bt);
		if (rc != SPC_OK)
			return rc;
	}
}

/* Asks the CPU for the entries of bucket b, the next one to move: each
 * move reads its entry's key to hash it, a cache miss per entry that the
 * bucket locks of the move before it would otherwise serialise. A
 * prefetch never faults: a slot a writer changes meanwhile costs nothing
 * but a useless prefetch. Context: the resizing thread, read section. */
static void prefetch_entries(const struct spc_index *ix, const struct spc_index_bucket *b)
{
	for (unsigned s = 0; s < ix->slots; s++) {
		/* relaxed: only an address to prefetch; move_slot reads the
		 * slot again with acquire before it uses the entry */
		uint64_t v = slot_get(ix, b, s, __ATOMIC_RELAXED);

		if (v)
			__builtin_prefetch(slot_entry(ix, v));
	}
}

/* Whether t's resize grows (its future has at least as many buckets). */
static int f_grows(const struct spc_index_table *t)
{
	return t->future->mask >= t->mask;
}

int spc_index_resize_step(struct spc_index *ix, size_t buckets)
{
	struct spc_index_table *t = ix->moving;
	int rc = SPC_OK;

	SPC_ASSERT_NOT_IN_RCU();
	if (ix->preparing) {
		/* zeroing a bucket costs far less than moving one (about 450
		 * slots of 64 buckets take what 1 MiB of memset takes): 256 x */
		struct spc_index_table *f = ix->preparing;
		uint64_t end = ix->cursor + (uint64_t)buckets * SPC_INDEX_ZERO_FACTOR;

		if (end > f->mask + 1)
			end = f->mask + 1;
		table_zero(f, ix->cursor, end);
		ix->cursor = end;
		if (end <= f->mask)
			return 1;
		resize_publish(ix);
		return 1;
	}
	if (!t)
		return 0;
	if (ix->counting) {
		resize_count(ix, t, (uint64_t)buckets * SPC_INDEX_ZERO_FACTOR);
		return 1;
	}
	/* the caller is registered (module contract): not spc_rcu_read_lock,
	 * whose lazy registration would register a thread that registered
	 * itself a second time */
	urcu_memb_read_lock();
	for (size_t k = 0; k < buckets && ix->cursor <= t->mask && rc == SPC_OK; k++) {
		unsigned moved = 0;

		if (ix->cursor < t->mask)
			prefetch_entries(ix, &t->b[ix->cursor + 1]);
		for (unsigned s = 0; s < ix->slots && rc == SPC_OK; s++)
			rc = move_slot(ix, t, ix->cursor, s, &moved);
		if (rc != SPC_OK)
			break;
		ix->cursor++;
		/* a growth: this bucket's reservation of 7 (12) slots in
		 * the new table is no longer needed but for the entries it
		 * moved (a shrink's credit already counts every entry) */
		if (f_grows(t))
			credit_give(ix, (int64_t)ix->slots - moved);
	}
	urcu_memb_read_unlock();
	if (rc != SPC_OK)
		return rc;
	if (ix->cursor <= t->mask)
		return 1;
	/* release: pairs with the acquire of cur (lookups, lock_key) */
	__atomic_store_n(&ix->cur, t->future, __ATOMIC_RELEASE);
	ix->moving = NULL;
	/* relaxed: counted before call_rcu can run the callback */
	__atomic_fetch_add(&ix->retiring, 1, __ATOMIC_RELAXED);
	/* freed once nobody who loaded cur == t is in a read section */
	urcu_memb_call_rcu(&t->rcu, table_retired);
	return 0;
}

int spc_index_resize(struct spc_index *ix, size_t nbuckets)
{
	int rc = spc_index_resize_begin(ix, nbuckets);

	if (rc != SPC_OK)
		return rc;
	while ((rc = spc_index_resize_step(ix, 1024)) == 1)
		;
	return rc;
}

/* ---- sizes and census ------------------------------------------------------------ */

unsigned spc_index_slots(const struct spc_index *ix)
{
	return ix->slots;
}

unsigned spc_index_grow_load(const struct spc_index *ix)
{
	return ix->base ? SPC_INDEX_NARROW_GROW_LOAD : SPC_INDEX_WIDE_GROW_LOAD;
}

size_t spc_index_buckets(const struct spc_index *ix)
{
	/* acquire: the table's mask is read through it */
	return (size_t)__atomic_load_n(&ix->cur, __ATOMIC_ACQUIRE)->mask + 1;
}

size_t spc_index_bytes(const struct spc_index *ix)
{
	/* relaxed: a gauge */
	return __atomic_load_n(&ix->bytes, __ATOMIC_RELAXED);
}

/* Every table in play, oldest first: moving (if any) then cur. */
static const struct spc_index_table *first_table(const struct spc_index *ix)
{
	return ix->moving ? ix->moving : __atomic_load_n(&ix->cur, __ATOMIC_ACQUIRE);
}

void spc_index_census_rcu(const struct spc_index *ix, struct spc_index_census *c)
{
	memset(c, 0, sizeof(*c));
	for (const struct spc_index_table *t = first_table(ix); t;
	     t = __atomic_load_n(&t->future, __ATOMIC_ACQUIRE)) {
		c->buckets += t->mask + 1;
		c->bytes += t->bytes;
		for (uint64_t i = 0; i <= t->mask; i++) {
			const struct spc_index_bucket *b = &t->b[i];
			/* relaxed: a diagnostic walk; exact only when quiescent */
			uint64_t head = __atomic_load_n(&b->head, __ATOMIC_RELAXED);
			c->overflow += head >> SPC_INDEX_COUNT_SHIFT;
			c->locked += head & SPC_INDEX_LOCK;
			for (unsigned s = 0; s < ix->slots; s++) {
				/* acquire: ops.hash reads the entry */
				uint64_t v = slot_get(ix, b, s, __ATOMIC_ACQUIRE);
				if (!v)
					continue;
				uint64_t h = ix->ops.hash(ix->ops.ctx, slot_entry(ix, v)) &
				             ix->hash_mask;
				size_t d = (size_t)((i - (h & t->mask)) & t->mask);
				c->entries++;
				c->displacement += d;
				if (d > c->max_probe)
					c->max_probe = d;
			}
		}
	}
}

void spc_index_for_each_rcu(const struct spc_index *ix, void (*fn)(void *arg, void *entry),
                            void *arg)
{
	for (const struct spc_index_table *t = first_table(ix); t;
	     t = __atomic_load_n(&t->future, __ATOMIC_ACQUIRE))
		for (uint64_t i = 0; i <= t->mask; i++)
			for (unsigned s = 0; s < ix->slots; s++) {
				/* acquire: fn reads the entry */
				uint64_t v = slot_get(ix, &t->b[i], s, __ATOMIC_ACQUIRE);
				if (v)
					fn(arg, slot_entry(ix, v));
			}
}
