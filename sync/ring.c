/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sync/ring.c: the writers -> maintainer queue.
 *
 * Algorithm (Vyukov, "Bounded MPMC queue", 1024cores.net, reduced to one
 * consumer). Cell i starts with seq = i. For position pos:
 *   seq == pos        the cell is free for the producer that claims pos;
 *   seq == pos + 1    the producer filled it: the consumer may take it;
 *   seq == pos + cap  the consumer emptied it for the next lap.
 * A producer claims pos by a CAS on tail after seeing seq == pos; the
 * consumer owns head alone.
 *
 * Guarantees (tests/unit/sync/test_ring.c):
 *  1. every filled record is taken exactly once, in claim order;
 *  2. reserve never blocks and fails only when capacity records are
 *     reserved and not yet taken;
 *  3. the consumer never reads a cell's data before its producer's fill
 *     (release on fill pairs with acquire on take).
 */
#include "sync/ring.h"

#include <string.h>

int spc_ring_init(struct spc_ring *r, const struct spc_env *env, size_t capacity)
{
	memset(r, 0, sizeof *r);
	if (capacity < 2 || (capacity & (capacity - 1)) != 0)
		return SPC_EINVAL;
	r->cells = spc_aligned_calloc(env, SPC_CACHELINE, capacity * sizeof *r->cells);
	if (!r->cells)
		return SPC_ENOMEM;
	r->mask = capacity - 1;
	for (size_t i = 0; i < capacity; i++)
		r->cells[i].seq = i; /* before any thread sees the ring */
	return SPC_OK;
}

void spc_ring_destroy(struct spc_ring *r)
{
	spc_free(r->cells);
	r->cells = NULL;
}

struct spc_ring_cell *spc_ring_reserve(struct spc_ring *r)
{
	/* Relaxed: tail is only a hint until the CAS below decides. */
	size_t pos = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);

	for (;;) {
		struct spc_ring_cell *c = &r->cells[pos & r->mask];
		/* Acquire pairs with the consumer's release in spc_ring_take:
		 * we must not reuse a cell before the consumer is done reading
		 * its previous data. */
		size_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);
		intptr_t dif = (intptr_t)seq - (intptr_t)pos;

		if (dif == 0) {
			/* Relaxed CAS: claiming pos orders nothing by itself;
			 * the cell's seq carries the data's ordering. */
			if (__atomic_compare_exchange_n(&r->tail, &pos, pos + 1, 1,
			                                __ATOMIC_RELAXED, __ATOMIC_RELAXED))
				return c;
		} else if (dif < 0) {
			return NULL; /* full: the consumer has not emptied this cell */
		} else {
			pos = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
		}
	}
}

void spc_ring_fill(struct spc_ring_cell *c, void *data)
{
	/* Our claimed position is seq's current value (set by the consumer or
	 * init); data is written before seq is released. */
	size_t seq = __atomic_load_n(&c->seq, __ATOMIC_RELAXED);

	c->data = data;
	/* Release: the consumer's acquire of seq == pos + 1 must see data
	 * (and the entry the pointer leads to, built before publication). */
	__atomic_store_n(&c->seq, seq + 1, __ATOMIC_RELEASE);
}

int spc_ring_take(struct spc_ring *r, void **data)
{
	size_t pos = r->head;
	struct spc_ring_cell *c = &r->cells[pos & r->mask];
	/* Acquire pairs with spc_ring_fill's release: data is complete. */
	size_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);

	if (seq != pos + 1)
		return 0;
	*data = c->data;
	r->head = pos + 1;
	/* Relaxed: head_pub only feeds the occupancy estimate. */
	__atomic_store_n(&r->head_pub, pos + 1, __ATOMIC_RELAXED);
	/* Release: a producer that sees the next lap's seq must not have its
	 * data overwritten by our read above (pairs with reserve's acquire). */
	__atomic_store_n(&c->seq, pos + r->mask + 1, __ATOMIC_RELEASE);
	return 1;
}

void *spc_ring_peek(const struct spc_ring *r, size_t ahead)
{
	size_t pos = r->head + ahead;
	const struct spc_ring_cell *c = &r->cells[pos & r->mask];
	/* Acquire as spc_ring_take: data is the filler's, complete. The
	 * filler cannot change it before we take it (seq stays pos + 1). */
	size_t seq = __atomic_load_n(&c->seq, __ATOMIC_ACQUIRE);

	return seq == pos + 1 ? c->data : NULL;
}

size_t spc_ring_tail(const struct spc_ring *r)
{
	/* Acquire: pairs with nothing in the ring itself (claims are relaxed
	 * CASes); it orders the caller's later reads after this one, and the
	 * load still returns at least every claim that happens-before it. */
	return __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
}

size_t spc_ring_count(const struct spc_ring *r)
{
	/* Relaxed loads: an estimate for waking the maintainer early. */
	size_t t = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
	size_t h = __atomic_load_n(&r->head_pub, __ATOMIC_RELAXED);

	return t >= h ? t - h : 0;
}
