/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/index_int.h: what the index's two files share (core/index.c: tables
 * and writers; core/index_resize.c: the resize and the census): the
 * bucket lock, claiming and clearing a slot, the credit, a table's life.
 * Private to the index module; core/index.c's essay is the design.
 */
#ifndef SPC_CORE_INDEX_INT_H
#define SPC_CORE_INDEX_INT_H

#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "core/index.h"

#define SPC_INDEX_MAX_BUCKETS ((uint64_t)1 << 40)

/* Where a search stopped: the slot and its bucket's index. */
struct spot {
	uint64_t *slot;
	uint64_t at;
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

/* Puts v (the reference of a key not in t) into the first free slot from
 * hash's home, counting it in every bucket it passes over. Returns SPC_OK,
 * or SPC_EFULL with t unchanged. Context: the caller holds the lock of
 * hash's home in t. */
static inline int table_claim(struct spc_index_table *t, uint64_t hash, uint64_t v)
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
static inline void table_clear(struct spc_index_table *t, uint64_t hash, const struct spot *sp)
{
	/* release: for a move, the entry's slot in the future table before
	 * it leaves this one (pairs with the readers' acquire of the slot) */
	__atomic_store_n(sp->slot, 0, __ATOMIC_RELEASE);
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
