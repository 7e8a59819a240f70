/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sync/ring.h: a bounded multi-producer, single-consumer ring of pointers
 * (after D. Vyukov's bounded MPMC queue: one sequence number per cell).
 *
 * Producers first *reserve* a cell, then *fill* it later (the cache
 * reserves before publishing an entry, so a full ring can be refused
 * while nothing is visible yet, and fills after publishing). A reserved
 * cell must always be filled, with NULL if the producer gave up; the
 * consumer skips NULL records. The consumer is one thread at a time
 * (the pool's maintainer).
 */
#ifndef SPC_SYNC_RING_H
#define SPC_SYNC_RING_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

struct spc_ring_cell {
	size_t seq;  /* atomic: cell state, see ring.c */
	void *data;  /* written by its producer before seq is released */
};

struct spc_ring {
	struct spc_ring_cell *cells;
	size_t mask;                                         /* capacity - 1 */
	_Alignas(SPC_CACHELINE) size_t tail;                 /* atomic: producers' position */
	_Alignas(SPC_CACHELINE) size_t head;                 /* consumer's position (owned) */
	size_t head_pub;                                     /* atomic: head for occupancy */
};

/* capacity: a power of two >= 2. Returns SPC_OK or SPC_ENOMEM. */
int spc_ring_init(struct spc_ring *r, const struct spc_env *env, size_t capacity);
void spc_ring_destroy(struct spc_ring *r);

/* Reserves one cell. Returns it, or NULL when the ring is full.
 * Context: any thread (lock-free). */
struct spc_ring_cell *spc_ring_reserve(struct spc_ring *r);

/* Fills a reserved cell (data may be NULL: "nothing"). Context: the
 * thread that reserved it. */
void spc_ring_fill(struct spc_ring_cell *c, void *data);

/* Takes the next record. Returns 1 and *data (maybe NULL), or 0 when the
 * next cell is empty or still reserved. Context: the consumer only. */
int spc_ring_take(struct spc_ring *r, void **data);

/* The record `ahead` places after the next one, if it is filled, without
 * taking it: returns its data (maybe NULL), or NULL when that cell is
 * empty or still reserved. For prefetching only: the record is the
 * consumer's to take later. Context: the consumer only. */
void *spc_ring_peek(const struct spc_ring *r, size_t ahead);

/* Positions handed out so far: every record reserved before the call
 * (in the order of the tail's updates) lies below it. Acquire: a caller
 * that learned of a reservation through other synchronisation sees it
 * here. Context: any thread. */
size_t spc_ring_tail(const struct spc_ring *r);

/* Records taken so far: every position below it was taken. Context: the
 * consumer only. */
static inline size_t spc_ring_head(const struct spc_ring *r)
{
	return r->head;
}

/* Records reserved and not yet taken (approximate under contention). */
size_t spc_ring_count(const struct spc_ring *r);

#endif /* SPC_SYNC_RING_H */
