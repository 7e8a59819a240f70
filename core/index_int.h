/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/index_int.h: what the index's two files share (core/index.c: tables
 * and writers; core/index_resize.c: the resize and the census): the
 * bucket lock, a slot in either layout, claiming and clearing it, the
 * credit, a table's life.
 * Private to the index module; core/index.c's essay is the design.
 */
#ifndef SPC_CORE_INDEX_INT_H
#define SPC_CORE_INDEX_INT_H

#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "core/index.h"

#define SPC_INDEX_MAX_BUCKETS ((uint64_t)1 << 40)

/* Where a search stopped: the bucket's index and the slot in it. */
struct spot {
	uint64_t at;
	unsigned s;
};

/* Allocates a table of nbuckets buckets (a power of two) through ops.alloc
 * and counts its bytes; only its header line is written (the buckets are
 * zeroed by table_zero, at once or in steps). Returns NULL when alloc
 * fails. Context: the owner (init) or the resizing thread. */
struct spc_index_table *spc_index_table_new(struct spc_index *ix, uint64_t nbuckets);
/* Gives t back through ops.free and uncounts its bytes. Context: nobody
 * can reach t any more (destroy, or a grace period after it was retired). */
void spc_index_table_free(struct spc_index *ix, struct spc_index_table *t);

static inline uint64_t round_buckets(size_t n)
{
	uint64_t b = SPC_INDEX_MIN_BUCKETS;
	while (b < n)
		b <<= 1;
	return b;
}

/* Zeroes buckets [from, to) of a table nobody can reach yet. */
static inline void table_zero(struct spc_index_table *t, uint64_t from, uint64_t to)
{
	memset(&t->b[from], 0, (size_t)(to - from) * sizeof(struct spc_index_bucket));
}

static inline void bucket_lock(struct spc_index_bucket *b)
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

static inline void bucket_unlock(struct spc_index_bucket *b)
{
	/* release: our slot and count writes before the next holder's */
	__atomic_fetch_and(&b->head, ~SPC_INDEX_LOCK, __ATOMIC_RELEASE);
}

/* ---- slots, in either layout ------------------------------------------
 * A slot's value v: wide, the 8-byte tagged address; narrow, the 4-byte
 * reference. 0 is free in both. */

/* The value of slot s of b; mo the memory order of the load. */
static inline uint64_t slot_get(const struct spc_index *ix, const struct spc_index_bucket *b,
                                unsigned s, int mo)
{
	if (ix->base)
		return __atomic_load_n(&b->n.ref[s], mo);
	return __atomic_load_n(&b->w.slot[s], mo);
}

static inline void *slot_entry(const struct spc_index *ix, uint64_t v)
{
	return ix->base ? spc_index_narrow_entry(ix->base, (uint32_t)v) : spc_index_entry_of(v);
}

/* Whether slot s of b (value v != 0) carries hash's tag. Context: the
 * caller holds the lock of hash's home (an entry of that key has its tag
 * written: its writer held the same lock). */
static inline int slot_tag_is(const struct spc_index *ix, const struct spc_index_bucket *b,
                              unsigned s, uint64_t v, uint64_t hash)
{
	if (!ix->base)
		return (v & SPC_INDEX_TAG_MASK) == (hash & SPC_INDEX_TAG_MASK);
	/* relaxed: under the home's lock (above); a tag of another key
	 * only sends us to its key compare */
	uint32_t w = __atomic_load_n(&b->n.tag[s / 4], __ATOMIC_RELAXED);
	return ((w >> (8 * (s % 4))) & 0xffu) == (uint32_t)(hash >> SPC_INDEX_NARROW_TAG_SHIFT);
}

/* Replaces (v != 0, same key) or frees (v == 0) slot s of b. Only the
 * reference: a free slot keeps its stale tag (the claimer who wins the
 * slot writes the next one; a remover that cleared the tag could clear
 * the tag of a claimer that won the slot in between). Context: the
 * caller holds the lock of the home of the slot's key. */
static inline void slot_put(const struct spc_index *ix, struct spc_index_bucket *b, unsigned s,
                            uint64_t v)
{
	/* release: a replace's new entry bytes, or a move's slot in the
	 * future table, before this store (pairs with the readers' acquire
	 * of the slot; and, freeing, with the next claimer's acq_rel CAS:
	 * the previous tag write before the next) */
	if (ix->base)
		__atomic_store_n(&b->n.ref[s], (uint32_t)v, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&b->w.slot[s], v, __ATOMIC_RELEASE);
}

/* Takes slot s of b if free: v into it, then (narrow) the tag. Returns 1
 * when taken, 0 when another writer holds it. Context: the caller holds
 * the lock of hash's home (not necessarily of b). */
static inline int slot_take(const struct spc_index *ix, struct spc_index_bucket *b, unsigned s,
                            uint64_t v, uint64_t hash)
{
	if (!ix->base) {
		uint64_t zero = 0;
		/* relaxed test, then release CAS: the entry's bytes and the
		 * counts before the reference (pairs with the readers'
		 * acquire load of the slot) */
		return __atomic_load_n(&b->w.slot[s], __ATOMIC_RELAXED) == 0 &&
		       __atomic_compare_exchange_n(&b->w.slot[s], &zero, v, 0, __ATOMIC_RELEASE,
		                                   __ATOMIC_RELAXED);
	}
	uint32_t zero = 0;
	/* relaxed test, then acq_rel CAS on the reference: it makes us the
	 * slot's one owner until our key's remover frees it (that remover
	 * holds our home's lock, so not before we are done with the tag).
	 * Release: the entry's bytes and the counts before the reference.
	 * Acquire: reads the 0 of the remover's release store, so the
	 * previous owner's tag write is ordered before ours (otherwise the
	 * older tag could land last and hide our entry from its lookups). */
	if (__atomic_load_n(&b->n.ref[s], __ATOMIC_RELAXED) != 0 ||
	    !__atomic_compare_exchange_n(&b->n.ref[s], &zero, (uint32_t)v, 0, __ATOMIC_ACQ_REL,
	                                 __ATOMIC_RELAXED))
		return 0;
	uint32_t *tw = &b->n.tag[s / 4], sh = 8 * (s % 4);
	uint32_t tag = (uint32_t)(hash >> SPC_INDEX_NARROW_TAG_SHIFT) << sh;
	/* relaxed: the CAS below orders; the word holds three other slots'
	 * tags, which their owners may change meanwhile: a CAS loop */
	uint32_t old = __atomic_load_n(tw, __ATOMIC_RELAXED);
	/* release: the reference (stored above) before the tag; a reader's
	 * acquire of the tag word then finds our reference (or a later one) */
	while (!__atomic_compare_exchange_n(tw, &old, (old & ~(0xffu << sh)) | tag, 1,
	                                    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
	return 1;
}

/* Puts v (the value of a key not in t) into the first free slot from
 * hash's home, counting it in every bucket it passes over. Returns SPC_OK,
 * or SPC_EFULL with t unchanged. Context: the caller holds the lock of
 * hash's home in t. */
static inline int table_claim(const struct spc_index *ix, struct spc_index_table *t,
                              uint64_t hash, uint64_t v)
{
	uint64_t home = hash & t->mask, i = home, n;

	for (n = 0; n <= t->mask; n++) {
		struct spc_index_bucket *b = &t->b[i];
		for (unsigned s = 0; s < ix->slots; s++)
			/* a lost race means another writer took the slot: try
			 * the next */
			if (slot_take(ix, b, s, v, hash))
				return SPC_OK;
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
static inline void table_clear(const struct spc_index *ix, struct spc_index_table *t,
                               uint64_t hash, const struct spot *sp)
{
	/* release (in slot_put): for a move, the entry's slot in the future
	 * table before it leaves this one */
	slot_put(ix, &t->b[sp->at], sp->s, 0);
	for (uint64_t i = hash & t->mask; i != sp->at; i = (i + 1) & t->mask)
		/* release: same, for a reader that stops early on the count */
		__atomic_fetch_sub(&t->b[i].head, SPC_INDEX_COUNT_ONE, __ATOMIC_RELEASE);
}

static inline void credit_give(struct spc_index *ix, int64_t n)
{
	/* relaxed: as credit_take */
	__atomic_fetch_add(&ix->credit, n, __ATOMIC_RELAXED);
}

#endif /* SPC_CORE_INDEX_INT_H */
