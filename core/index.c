/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/index.c: the slow paths of the hash index (core/index.h): tables and
 * writes; the resize and the census are core/index_resize.c. The lookup
 * is inline in the header.
 *
 * The design is in docs/concurrency.md ("The index"); in short. A table is
 * a power of two of 64-byte buckets, each a 4-byte head (writer lock bit,
 * overflow count) and, narrow (the owner gave a region of at most 32 GiB),
 * 12 one-byte tags and 12 four-byte references (offset in the region / 8
 * + 1) or, wide, 7 slots of tag << 44 | address >> 3. An entry sits in
 * its home bucket (hash & mask) or, when full, in the first later bucket
 * with a free slot (cyclically); every bucket it passes over counts it in
 * its overflow count, so a lookup goes on to the next bucket only while
 * the count is nonzero, and a delete, which decrements what the insert
 * incremented, leaves no tombstone (folly F14's scheme). All writes of one
 * key hold the lock of its home bucket (CLHT's per-bucket lock), so the
 * index holds a key at most once and a replace is one atomic store in
 * place. Other buckets an insert touches are changed without their lock:
 * free slots are claimed by CAS, counts by atomic add. A narrow slot's
 * reference is its ownership: the claimer whose CAS of the reference won
 * writes the tag (release, after the reference), under its key's home
 * lock; a delete stores 0 into the reference only, never the tag, so no
 * claim and removal racing on one slot can leave a tag with another
 * entry's reference (docs/concurrency.md, "Who may write a narrow slot").
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
 * reserved less the entries it moved (12 and 12 x in the narrow layout).
 * A growth (new >= 2 x old) starts with 7 x old; a shrink would start
 * below zero, so it first counts the old table's entries (bounded steps,
 * entries only leave it by then) and starts from 7 x new - that count.
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
 * Load. The owner doubles the table above spc_index_grow_load entries per
 * bucket (narrow 10 of 12 slots, wide 6 of 7: F14 keeps 12 of 14) and
 * halves it below SPC_INDEX_SHRINK_LOAD: narrow 6.4 B of buckets per entry
 * at the top, 12.8 B right after a doubling; wide 10.7 and 21.3 B.
 */
#include "core/index.h"

#include <sched.h>
#include <string.h>

#include "core/index_int.h"
#include "sync/rcu.h"

/* ---- tables --------------------------------------------------------------- */

struct spc_index_table *spc_index_table_new(struct spc_index *ix, uint64_t nbuckets)
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

void spc_index_table_free(struct spc_index *ix, struct spc_index_table *t)
{
	size_t bytes = t->bytes;

	ix->ops.free(ix->ops.ctx, t, bytes);
	/* relaxed: a gauge */
	__atomic_fetch_sub(&ix->bytes, bytes, __ATOMIC_RELAXED);
}

void *spc_index_walk_wide_rcu(const struct spc_index_table *t, uint64_t hash,
                              spc_index_match_fn *match, const void *key)
{
	return spc_index_walk_wide(t, hash, match, key);
}

void *spc_index_walk_narrow_rcu(const struct spc_index_table *t, uintptr_t base, uint64_t hash,
                                spc_index_match_fn *match, const void *key)
{
	return spc_index_walk_narrow(t, base, hash, match, key);
}

int spc_index_init(struct spc_index *ix, const struct spc_index_ops *ops, size_t nbuckets)
{
	memset(ix, 0, sizeof(*ix));
	if (nbuckets > SPC_INDEX_MAX_BUCKETS)
		return SPC_EINVAL;
	ix->ops = *ops;
	ix->hash_mask = ~(uint64_t)0;
	ix->slots = SPC_INDEX_WIDE_SLOTS;
	if (ops->region && ((uintptr_t)ops->region & 7) == 0 && ops->region_bytes > 0 &&
	    (uint64_t)ops->region_bytes <= SPC_INDEX_NARROW_MAX_REGION) {
		/* reference 1 is the region's first word: 0 stays free */
		ix->base = (uintptr_t)ops->region - 8;
		ix->end = (uintptr_t)ops->region + ops->region_bytes;
		ix->slots = SPC_INDEX_NARROW_SLOTS;
	}
	ix->cur = spc_index_table_new(ix, round_buckets(nbuckets));
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
		spc_index_table_free(ix, ix->preparing);
		ix->preparing = NULL;
	}
	if (ix->moving) {
		/* cur is moving's future; destroy during a resize frees both */
		spc_index_table_free(ix, ix->moving->future);
		spc_index_table_free(ix, ix->moving);
	} else if (ix->cur) {
		spc_index_table_free(ix, ix->cur);
	}
	ix->cur = ix->moving = NULL;
}

void spc_index_test_truncate(struct spc_index *ix, unsigned bits)
{
	ix->hash_mask = bits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << bits) - 1);
}

/* ---- buckets ------------------------------------------------------------------ */

/* The slot value of entry under hash (wide: tag | address >> 3; narrow:
 * the reference), or SPC_EINVAL when the layout cannot hold it. */
static int encode(const struct spc_index *ix, uint64_t hash, const void *entry, uint64_t *v)
{
	uintptr_t a = (uintptr_t)entry;

	if (!a || (a & 7))
		return SPC_EINVAL;
	if (ix->base) {
		/* inside the region; a region of exactly 32 GiB cannot name
		 * its last word (reference 2^32) */
		if (a <= ix->base || a >= ix->end || ((a - ix->base) >> 3) > UINT32_MAX)
			return SPC_EINVAL;
		*v = (a - ix->base) >> 3;
		return SPC_OK;
	}
	if ((uint64_t)a >> (SPC_INDEX_TAG_SHIFT + 3))
		return SPC_EINVAL;
	*v = (hash & SPC_INDEX_TAG_MASK) | (uint64_t)a >> 3;
	return SPC_OK;
}

/* Looks in t, from hash's home while counts say so, for a slot whose value
 * is `ref` (ref != 0) or, when ref is 0, whose entry matches key.
 * Context: the caller holds the lock of hash's home in t. */
static int table_find(const struct spc_index *ix, struct spc_index_table *t, uint64_t hash,
                      uint64_t ref, spc_index_match_fn *match, const void *key, struct spot *out)
{
	uint64_t i = hash & t->mask;

	for (uint64_t n = 0; n <= t->mask; n++) {
		struct spc_index_bucket *b = &t->b[i];
		for (unsigned s = 0; s < ix->slots; s++) {
			/* acquire: pairs with the release that published the
			 * slot (match reads the entry's key) */
			uint64_t v = slot_get(ix, b, s, __ATOMIC_ACQUIRE);
			if (!v)
				continue;
			if (ref ? v == ref
			        : slot_tag_is(ix, b, s, v, hash) && match(slot_entry(ix, v), key)) {
				out->at = i;
				out->s = s;
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
static struct spc_index_table *find_key(const struct spc_index *ix, struct held *h, uint64_t hash, uint64_t ref,
                                        spc_index_match_fn *match, const void *key,
                                        struct spot *sp)
{
	if (table_find(ix, h->t, hash, ref, match, key, sp))
		return h->t;
	if (h->f && table_find(ix, h->f, hash, ref, match, key, sp))
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

/* Inserts v (a key absent from both tables) into f when a resize is on,
 * else t. Context: the key's home locked (lock_key). */
static int claim_new(struct spc_index *ix, struct held *h, uint64_t hash, uint64_t v)
{
	if (!h->f)
		return table_claim(ix, h->t, hash, v);
	if (!credit_take(ix))
		return SPC_EFULL;
	/* a failed claim keeps the credit spent: never more than exact
	 * (see credit_take) */
	return table_claim(ix, h->f, hash, v);
}

/* add (replace == 0) and set (replace == 1). */
static int put(struct spc_index *ix, uint64_t hash, spc_index_match_fn *match, const void *key,
               void *entry, void **other, int replace)
{
	struct held h;
	struct spot sp;
	struct spc_index_table *in;
	uint64_t v;
	int rc;

	*other = NULL;
	hash &= ix->hash_mask;
	if ((rc = encode(ix, hash, entry, &v)) != SPC_OK)
		return rc;
	lock_key(ix, hash, &h);
	if ((in = find_key(ix, &h, hash, 0, match, key, &sp))) {
		/* relaxed: under the key's lock only we change this slot */
		*other = slot_entry(ix, slot_get(ix, &in->b[sp.at], sp.s, __ATOMIC_RELAXED));
		if (replace)
			/* release (in slot_put): the new entry's bytes before
			 * its reference; same key, same tag */
			slot_put(ix, &in->b[sp.at], sp.s, v);
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
	struct spc_index_table *in;
	uint64_t v, ref;
	int rc;

	hash &= ix->hash_mask;
	if ((rc = encode(ix, hash, entry, &v)) != SPC_OK ||
	    (rc = encode(ix, hash, old, &ref)) != SPC_OK)
		return rc;
	lock_key(ix, hash, &h);
	rc = SPC_ENOTFOUND;
	if ((in = find_key(ix, &h, hash, ref, NULL, NULL, &sp))) {
		/* release (in slot_put): as in put */
		slot_put(ix, &in->b[sp.at], sp.s, v);
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
	if (encode(ix, hash, entry, &ref) != SPC_OK)
		return SPC_ENOTFOUND;
	lock_key(ix, hash, &h);
	in = find_key(ix, &h, hash, ref, NULL, NULL, &sp);
	if (in)
		table_clear(ix, in, hash, &sp);
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
	in = find_key(ix, &h, hash, 0, match, key, &sp);
	if (in) {
		/* relaxed: under the key's lock only we change this slot */
		e = slot_entry(ix, slot_get(ix, &in->b[sp.at], sp.s, __ATOMIC_RELAXED));
		table_clear(ix, in, hash, &sp);
	}
	unlock_key(&h);
	return e;
}
