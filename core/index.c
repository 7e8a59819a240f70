/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/index.c: the slow paths of the hash index (core/index.h): writes,
 * the resize, census. The lookup is inline in the header.
 *
 * The design is in docs/concurrency.md ("The index"); in short. A table is
 * a power of two of 64-byte buckets, each a head word (writer lock bit,
 * overflow count) and 7 slots of tag << 44 | address >> 3. An entry sits in
 * its home bucket (hash & mask) or, when full, in the first later bucket
 * with a free slot (cyclically); every bucket it passes over counts it in
 * its overflow count, so a lookup goes on to the next bucket only while
 * the count is nonzero, and a delete, which decrements what the insert
 * incremented, leaves no tombstone (folly F14's scheme). All writes of one
 * key hold the lock of its home bucket (CLHT's per-bucket lock), so the
 * index holds a key at most once and a replace is one atomic store in
 * place. Other buckets an insert touches are changed without their lock:
 * free slots are claimed by CAS, counts by atomic add.
 *
 * Resize (rhashtable's idea: readers follow the old table's `future` when
 * they miss): begin allocates the new table; the first steps zero it
 * (bounded work each: a large table's first touch costs hundreds of ms),
 * and the one that finishes publishes it as the old table's future and
 * waits a grace period so that no writer still inserts into the old
 * table; steps move the old table's entries bucket by
 * bucket, each under its home's locks in both tables, inserting into the
 * new table before clearing the old slot; the end makes the new table
 * current and frees the old one through call_rcu, after a grace period.
 * Writers during a
 * resize lock the key's home in both tables (old first), look in both and
 * insert into the new one.
 *
 * Credit (why a move always ends). A move needs a free slot in the new
 * table for each entry it takes from the old one, while writers insert
 * new keys into the new table at their own pace. Were they to fill it,
 * the move could not go on, the resize could never end and the index
 * could not grow again: every insert would fail for good (the cache's
 * bulk load with two writers hung so whenever its maintainer lost the
 * CPU for a while). So writers spend a credit for each new key they put
 * into the new table during a resize and answer SPC_EFULL (try again)
 * when there is none; the credit is what the new table holds beyond the
 * old table's possible entries: at the publication 7 x (new buckets -
 * old buckets), and each bucket the move passes gives back the 7 slots it
 * reserved less the entries it moved. A growth (new >= 2 x old) starts
 * with 7 x old; a shrink would start below zero, so it first counts the
 * old table's entries (bounded steps, entries only leave it by then) and
 * starts from 7 x new - that count.
 *
 * Guarantees (tests/unit/index/test_index.c checks each):
 *  1. A lookup returns only an entry that match accepted and that was in
 *     the index at some moment of the lookup; never a freed entry when the
 *     owner frees a grace period after taking it out.
 *  2. A lookup finds a key present during the whole lookup, with any
 *     number of writers of other keys, tag collisions, overflowed buckets
 *     and a resize (either direction) running.
 *  3. No tombstones: with no writer running, the sum of the overflow
 *     counts equals the sum of the entries' displacements (buckets from
 *     home to slot) and no lock bit is set; an index emptied by deletes is
 *     all zeros, and refilling it costs what filling it did.
 *  4. A key is in the index at most once; add never replaces; set and
 *     replace swap in place; remove takes out exactly the entry given.
 *  5. A resize whose allocation fails returns SPC_ENOMEM and leaves the
 *     index as before and serving; the bytes the owner's allocator holds
 *     are always spc_index_bytes: the tables in play, and a retired one
 *     until its grace period ended; destroy frees them all.
 *  6. A writer waits for a lock held by a writer of the same home bucket
 *     or by the move of one entry: a few stores, never a grace period or
 *     an allocation.
 *  7. A resize ends: the new table always has a free slot for each entry
 *     left in the old one (Credit); writers' inserts of new keys during a
 *     resize fail with SPC_EFULL while the credit is spent, and succeed
 *     again once the move has made progress.
 *
 * Load. The owner doubles the table above SPC_INDEX_GROW_LOAD entries per
 * bucket (6 of 7 slots: F14 keeps 12 of 14) and halves it below
 * SPC_INDEX_SHRINK_LOAD: 10.7 B of buckets per entry at the top, 21.3 B
 * right after a doubling.
 */
#include "core/index.h"

#include <sched.h>
#include <string.h>

#include "sync/rcu.h"

#define SPC_INDEX_MAX_BUCKETS ((uint64_t)1 << 40)

/* ---- tables --------------------------------------------------------------- */

static uint64_t round_buckets(size_t n)
{
	uint64_t b = SPC_INDEX_MIN_BUCKETS;
	while (b < n)
		b <<= 1;
	return b;
}

static struct spc_index_table *table_new(struct spc_index *ix, uint64_t nbuckets)
{
	size_t bytes = sizeof(struct spc_index_table) + nbuckets * sizeof(struct spc_index_bucket);
	struct spc_index_table *t = ix->ops.alloc(ix->ops.ctx, bytes);

	if (!t)
		return NULL;
	SPC_CHECK(((uintptr_t)t & (SPC_CACHELINE - 1)) == 0);
	/* plain writes: the table is published later with a release store
	 * (future or cur). Only the header line here: the buckets are zeroed
	 * by table_zero, at once (init) or in steps (resize). */
	memset(t, 0, sizeof(struct spc_index_table));
	t->mask = nbuckets - 1;
	t->bytes = bytes;
	t->owner = ix;
	/* relaxed: a gauge (what the owner's allocator holds) */
	__atomic_fetch_add(&ix->bytes, bytes, __ATOMIC_RELAXED);
	return t;
}

/* Zeroes buckets [from, to) of a table nobody can reach yet. */
static void table_zero(struct spc_index_table *t, uint64_t from, uint64_t to)
{
	memset(&t->b[from], 0, (size_t)(to - from) * sizeof(struct spc_index_bucket));
}

static void table_free(struct spc_index *ix, struct spc_index_table *t)
{
	size_t bytes = t->bytes;

	ix->ops.free(ix->ops.ctx, t, bytes);
	/* relaxed: a gauge */
	__atomic_fetch_sub(&ix->bytes, bytes, __ATOMIC_RELAXED);
}

/* call_rcu callback: a grace period after the table left every path a
 * reader or writer can take (resize end). */
static void table_retired(struct rcu_head *head)
{
	struct spc_index_table *t = caa_container_of(head, struct spc_index_table, rcu);
	struct spc_index *ix = t->owner;

	table_free(ix, t);
	/* release: the free (and its gauge) before destroy's barrier sees 0 */
	__atomic_fetch_sub(&ix->retiring, 1, __ATOMIC_RELEASE);
}

int spc_index_init(struct spc_index *ix, const struct spc_index_ops *ops, size_t nbuckets)
{
	memset(ix, 0, sizeof(*ix));
	if (nbuckets > SPC_INDEX_MAX_BUCKETS)
		return SPC_EINVAL;
	ix->ops = *ops;
	ix->hash_mask = ~(uint64_t)0;
	ix->cur = table_new(ix, round_buckets(nbuckets));
	if (!ix->cur)
		return SPC_ENOMEM;
	table_zero(ix->cur, 0, ix->cur->mask + 1);
	return SPC_OK;
}

void spc_index_destroy(struct spc_index *ix)
{
	/* acquire: pairs with table_retired's release */
	if (__atomic_load_n(&ix->retiring, __ATOMIC_ACQUIRE))
		urcu_memb_barrier();
	if (ix->preparing) {
		table_free(ix, ix->preparing);
		ix->preparing = NULL;
	}
	if (ix->moving) {
		/* cur is moving's future; destroy during a resize frees both */
		table_free(ix, ix->moving->future);
		table_free(ix, ix->moving);
	} else if (ix->cur) {
		table_free(ix, ix->cur);
	}
	ix->cur = ix->moving = NULL;
}

void spc_index_test_truncate(struct spc_index *ix, unsigned bits)
{
	ix->hash_mask = bits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << bits) - 1);
}

/* ---- buckets ------------------------------------------------------------------ */

static void bucket_lock(struct spc_index_bucket *b)
{
	for (unsigned n = 0;; n++) {
		/* relaxed: a test before the locked instruction, so spinners
		 * share the line instead of bouncing it */
		if (!(__atomic_load_n(&b->head, __ATOMIC_RELAXED) & SPC_INDEX_LOCK) &&
		    /* acquire: the previous holder's slot and count writes
		     * happen before ours (pairs with bucket_unlock) */
		    !(__atomic_fetch_or(&b->head, SPC_INDEX_LOCK, __ATOMIC_ACQUIRE) & SPC_INDEX_LOCK))
			return;
		if (n >= 64)
			sched_yield(); /* the holder may be preempted (2 CPUs) */
	}
}

static void bucket_unlock(struct spc_index_bucket *b)
{
	/* release: our slot and count writes before the next holder's */
	__atomic_fetch_and(&b->head, ~SPC_INDEX_LOCK, __ATOMIC_RELEASE);
}

static int encode(uint64_t hash, const void *entry, uint64_t *v)
{
	uintptr_t a = (uintptr_t)entry;

	if (!a || (a & 7) || (uint64_t)a >> (SPC_INDEX_TAG_SHIFT + 3))
		return SPC_EINVAL;
	*v = (hash & SPC_INDEX_TAG_MASK) | (uint64_t)a >> 3;
	return SPC_OK;
}

/* Where a search stopped: the slot and its bucket's index. */
struct spot {
	uint64_t *slot;
	uint64_t at;
};

/* Looks in t, from hash's home while counts say so, for a slot whose value
 * is `ref` (ref != 0) or, when ref is 0, whose entry matches key.
 * Context: the caller holds the lock of hash's home in t. */
static int table_find(struct spc_index_table *t, uint64_t hash, uint64_t ref,
                      spc_index_match_fn *match, const void *key, struct spot *out)
{
	uint64_t want = hash & SPC_INDEX_TAG_MASK, i = hash & t->mask;

	for (uint64_t n = 0; n <= t->mask; n++) {
		struct spc_index_bucket *b = &t->b[i];
		for (unsigned s = 0; s < SPC_INDEX_SLOTS; s++) {
			/* acquire: pairs with the release that published the
			 * slot (match reads the entry's key) */
			uint64_t v = __atomic_load_n(&b->slot[s], __ATOMIC_ACQUIRE);
			if (!v)
				continue;
			if (ref ? v == ref
			        : (v & SPC_INDEX_TAG_MASK) == want && match(spc_index_entry_of(v), key)) {
				out->slot = &b->slot[s];
				out->at = i;
				return 1;
			}
		}
		/* acquire: as the lookup's load of the count */
		if (__atomic_load_n(&b->head, __ATOMIC_ACQUIRE) < SPC_INDEX_COUNT_ONE)
			return 0;
		i = (i + 1) & t->mask;
	}
	return 0;
}

/* Puts v (the reference of a key not in t) into the first free slot from
 * hash's home, counting it in every bucket it passes over. Returns SPC_OK,
 * or SPC_EFULL with t unchanged. Context: the caller holds the lock of
 * hash's home in t. */
static int table_claim(struct spc_index_table *t, uint64_t hash, uint64_t v)
{
	uint64_t home = hash & t->mask, i = home, n;

	for (n = 0; n <= t->mask; n++) {
		struct spc_index_bucket *b = &t->b[i];
		for (unsigned s = 0; s < SPC_INDEX_SLOTS; s++) {
			uint64_t zero = 0;
			/* relaxed test, then release CAS: the entry's bytes and the
			 * counts below before the reference (pairs with the
			 * readers' acquire load of the slot); a lost race means
			 * another writer took the slot: try the next */
			if (__atomic_load_n(&b->slot[s], __ATOMIC_RELAXED) == 0 &&
			    __atomic_compare_exchange_n(&b->slot[s], &zero, v, 0, __ATOMIC_RELEASE,
			                                __ATOMIC_RELAXED))
				return SPC_OK;
		}
		/* relaxed: this bucket counts the entry before the entry's
		 * slot is written; the slot's release CAS orders it */
		__atomic_fetch_add(&b->head, SPC_INDEX_COUNT_ONE, __ATOMIC_RELAXED);
		i = (i + 1) & t->mask;
	}
	/* every slot taken: give back what we counted */
	for (i = home; n > 0; n--, i = (i + 1) & t->mask)
		/* release: as a delete's decrement */
		__atomic_fetch_sub(&t->b[i].head, SPC_INDEX_COUNT_ONE, __ATOMIC_RELEASE);
	return SPC_EFULL;
}

/* Clears the slot at sp and uncounts the entry in [home, sp->at).
 * Context: the caller holds the lock of hash's home in t. */
static void table_clear(struct spc_index_table *t, uint64_t hash, const struct spot *sp)
{
	/* release: for a move, the entry's slot in the future table before
	 * it leaves this one (pairs with the readers' acquire of the slot) */
	__atomic_store_n(sp->slot, 0, __ATOMIC_RELEASE);
	for (uint64_t i = hash & t->mask; i != sp->at; i = (i + 1) & t->mask)
		/* release: same, for a reader that stops early on the count */
		__atomic_fetch_sub(&t->b[i].head, SPC_INDEX_COUNT_ONE, __ATOMIC_RELEASE);
}

/* ---- writers ------------------------------------------------------------------ */

/* The tables a write of one key works on, with the key's home locked in
 * each: t (where lookups of this writer start) and f (t's future, during a
 * resize; NULL otherwise). */
struct held {
	struct spc_index_table *t, *f;
	struct spc_index_bucket *bt, *bf;
};

static void lock_key(struct spc_index *ix, uint64_t hash, struct held *h)
{
	/* acquire: pairs with the resize end's release store of cur */
	h->t = __atomic_load_n(&ix->cur, __ATOMIC_ACQUIRE);
	h->bt = &h->t->b[hash & h->t->mask];
	bucket_lock(h->bt);
	/* acquire: pairs with resize_begin's release store of future. Read
	 * under the lock, inside the caller's read section: if it is NULL
	 * here, resize_begin's grace period waits for this write to end */
	h->f = __atomic_load_n(&h->t->future, __ATOMIC_ACQUIRE);
	h->bf = NULL;
	if (h->f) {
		h->bf = &h->f->b[hash & h->f->mask];
		bucket_lock(h->bf);
	}
}

static void unlock_key(struct held *h)
{
	if (h->bf)
		bucket_unlock(h->bf);
	bucket_unlock(h->bt);
}

/* Finds the key (ref or match) in t, then f. Returns the table or NULL. */
static struct spc_index_table *find_key(struct held *h, uint64_t hash, uint64_t ref,
                                        spc_index_match_fn *match, const void *key,
                                        struct spot *sp)
{
	if (table_find(h->t, hash, ref, match, key, sp))
		return h->t;
	if (h->f && table_find(h->f, hash, ref, match, key, sp))
		return h->f;
	return NULL;
}

/* A new key is going into f (a resize's new table): takes one credit.
 * Returns 0 when there is none (nothing taken). */
static int credit_take(struct spc_index *ix)
{
	/* relaxed: a count; the RMWs' total order is the whole guarantee
	 * (at most `credit` takes succeed before the mover gives more). A
	 * CAS, not a subtract that adds back when it went below zero: the
	 * add could land after the next resize's publication reset the
	 * count, and credit it with a slot it does not have. */
	int64_t c = __atomic_load_n(&ix->credit, __ATOMIC_RELAXED);

	while (c > 0)
		if (__atomic_compare_exchange_n(&ix->credit, &c, c - 1, 1, __ATOMIC_RELAXED,
		                                __ATOMIC_RELAXED))
			return 1;
	return 0;
}

static void credit_give(struct spc_index *ix, int64_t n)
{
	/* relaxed: as credit_take */
	__atomic_fetch_add(&ix->credit, n, __ATOMIC_RELAXED);
}

/* Inserts v (a key absent from both tables) into f when a resize is on,
 * else t. Context: the key's home locked (lock_key). */
static int claim_new(struct spc_index *ix, struct held *h, uint64_t hash, uint64_t v)
{
	if (!h->f)
		return table_claim(h->t, hash, v);
	if (!credit_take(ix))
		return SPC_EFULL;
	/* a failed claim keeps the credit spent: never more than exact
	 * (see credit_take) */
	return table_claim(h->f, hash, v);
}

/* add (replace == 0) and set (replace == 1). */
static int put(struct spc_index *ix, uint64_t hash, spc_index_match_fn *match, const void *key,
               void *entry, void **other, int replace)
{
	struct held h;
	struct spot sp;
	uint64_t v;
	int rc;

	*other = NULL;
	hash &= ix->hash_mask;
	if ((rc = encode(hash, entry, &v)) != SPC_OK)
		return rc;
	lock_key(ix, hash, &h);
	if (find_key(&h, hash, 0, match, key, &sp)) {
		*other = spc_index_entry_of(__atomic_load_n(sp.slot, __ATOMIC_RELAXED));
		if (replace)
			/* release: the new entry's bytes before its reference
			 * (pairs with the readers' acquire of the slot) */
			__atomic_store_n(sp.slot, v, __ATOMIC_RELEASE);
		rc = replace ? SPC_OK : SPC_EEXISTS;
	} else {
		rc = claim_new(ix, &h, hash, v);
	}
	unlock_key(&h);
	return rc;
}

int spc_index_add_rcu(struct spc_index *ix, uint64_t hash, spc_index_match_fn *match,
                      const void *key, void *entry, void **found)
{
	return put(ix, hash, match, key, entry, found, 0);
}

int spc_index_set_rcu(struct spc_index *ix, uint64_t hash, spc_index_match_fn *match,
                      const void *key, void *entry, void **old)
{
	return put(ix, hash, match, key, entry, old, 1);
}

int spc_index_replace_rcu(struct spc_index *ix, uint64_t hash, const void *old, void *entry)
{
	struct held h;
	struct spot sp;
	uint64_t v, ref;
	int rc;

	hash &= ix->hash_mask;
	if ((rc = encode(hash, entry, &v)) != SPC_OK || (rc = encode(hash, old, &ref)) != SPC_OK)
		return rc;
	lock_key(ix, hash, &h);
	rc = SPC_ENOTFOUND;
	if (find_key(&h, hash, ref, NULL, NULL, &sp)) {
		/* release: as in put */
		__atomic_store_n(sp.slot, v, __ATOMIC_RELEASE);
		rc = SPC_OK;
	}
	unlock_key(&h);
	return rc;
}

int spc_index_remove_rcu(struct spc_index *ix, uint64_t hash, const void *entry)
{
	struct held h;
	struct spot sp;
	struct spc_index_table *in;
	uint64_t ref;

	hash &= ix->hash_mask;
	if (encode(hash, entry, &ref) != SPC_OK)
		return SPC_ENOTFOUND;
	lock_key(ix, hash, &h);
	in = find_key(&h, hash, ref, NULL, NULL, &sp);
	if (in)
		table_clear(in, hash, &sp);
	unlock_key(&h);
	return in ? SPC_OK : SPC_ENOTFOUND;
}

void *spc_index_delete_rcu(struct spc_index *ix, uint64_t hash, spc_index_match_fn *match,
                           const void *key)
{
	struct held h;
	struct spot sp;
	struct spc_index_table *in;
	void *e = NULL;

	hash &= ix->hash_mask;
	lock_key(ix, hash, &h);
	in = find_key(&h, hash, 0, match, key, &sp);
	if (in) {
		e = spc_index_entry_of(__atomic_load_n(sp.slot, __ATOMIC_RELAXED));
		table_clear(in, hash, &sp);
	}
	unlock_key(&h);
	return e;
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
	f = table_new(ix, round_buckets(nbuckets));
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
	                 (int64_t)SPC_INDEX_SLOTS * ((int64_t)f->mask - (int64_t)t->mask),
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
		for (unsigned s = 0; s < SPC_INDEX_SLOTS; s++)
			/* relaxed: a count; the moves that follow read each
			 * slot again with acquire */
			ix->counted += __atomic_load_n(&t->b[ix->cursor].slot[s],
			                               __ATOMIC_RELAXED) != 0;
	if (ix->cursor <= t->mask)
		return;
	/* from 7 x (new - old) to 7 x new - counted */
	credit_give(ix, (int64_t)SPC_INDEX_SLOTS * ((int64_t)t->mask + 1) - (int64_t)ix->counted);
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
	uint64_t *slot = &t->b[at].slot[s];

	for (;;) {
		/* acquire: the entry's key, read by ops.hash */
		uint64_t v = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
		if (!v)
			return SPC_OK;
		uint64_t hash = ix->ops.hash(ix->ops.ctx, spc_index_entry_of(v)) & ix->hash_mask;
		struct spc_index_bucket *bt = &t->b[hash & t->mask], *bf = &f->b[hash & f->mask];
		int rc = SPC_OK;
		bucket_lock(bt);
		bucket_lock(bf);
		/* relaxed: under the home's lock the slot can only change by
		 * our hand or not at all (a writer of this key waits) */
		if (__atomic_load_n(slot, __ATOMIC_RELAXED) == v) {
			rc = table_claim(f, hash, v);
			if (rc == SPC_OK) {
				struct spot sp = {slot, at};
				table_clear(t, hash, &sp);
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

		for (unsigned s = 0; s < SPC_INDEX_SLOTS && rc == SPC_OK; s++)
			rc = move_slot(ix, t, ix->cursor, s, &moved);
		if (rc != SPC_OK)
			break;
		ix->cursor++;
		/* a growth: this bucket's reservation of 7 slots in the new
		 * table is no longer needed but for the entries it moved (a
		 * shrink's credit already counts every entry) */
		if (f_grows(t))
			credit_give(ix, (int64_t)SPC_INDEX_SLOTS - moved);
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
			for (unsigned s = 0; s < SPC_INDEX_SLOTS; s++) {
				/* acquire: ops.hash reads the entry */
				uint64_t v = __atomic_load_n(&b->slot[s], __ATOMIC_ACQUIRE);
				if (!v)
					continue;
				uint64_t h = ix->ops.hash(ix->ops.ctx, spc_index_entry_of(v)) &
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
			for (unsigned s = 0; s < SPC_INDEX_SLOTS; s++) {
				/* acquire: fn reads the entry */
				uint64_t v = __atomic_load_n(&t->b[i].slot[s], __ATOMIC_ACQUIRE);
				if (v)
					fn(arg, spc_index_entry_of(v));
			}
}
