/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/policy_ring.h: private to core/policy*.c. The queue every policy is
 * built from (a growable ring of item pointers with at most one gap, the
 * trace of an unfinished sweep), the policy state, and the entry points the
 * per-policy files give to core/policy.c.
 *
 * Positions are absolute 64-bit counters (never wrap in practice); a
 * position's slot is pos & (cap - 1), cap a power of two. Invariant:
 *
 *     head <= gap_lo <= gap_hi <= tail,   tail - head <= cap
 *
 * Items live at [head, gap_lo) and [gap_hi, tail); [gap_lo, gap_hi) is the
 * gap a sweep leaves behind it while it compacts (dead items removed, live
 * ones slid down to gap_lo). gap_hi is also the sweep cursor of this queue.
 * The gap vanishes when the head reaches it, when the sweep reaches the
 * tail, or when the ring is copied (to grow or to shrink).
 *
 * Context: maintainer only, like everything in core/policy.h.
 */
#ifndef SPC_POLICY_RING_H
#define SPC_POLICY_RING_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "core/policy.h"

struct spc_policy_ring {
	void **slot;
	size_t cap;      /* power of two, >= 1 */
	size_t min_cap;  /* first capacity: trimming stops there */
	uint64_t head;   /* oldest item (popped next) */
	uint64_t gap_lo; /* where the sweep writes the next live item it keeps */
	uint64_t gap_hi; /* next position the sweep examines */
	uint64_t tail;   /* one past the newest item */
};

/* The ghost of S3-FIFO: a FIFO of 32-bit key-hash fingerprints numbered by
 * a sequence (seq s lives in ring[s & (ring_cap - 1)] while oldest <= s <
 * next) plus an open-addressing table (linear probing, load <= 1/2) whose
 * slots hold a 32-bit tag of the seq of the newest ring entry of a
 * fingerprint (1 + seq mod (2^32 - 1)), 0 when empty. */
struct spc_policy_ghost {
	uint32_t *ring;
	size_t ring_cap;  /* power of two, <= 2^30 */
	uint64_t oldest;  /* seq of the oldest entry; seqs start at 1 */
	uint64_t next;    /* seq the next entry gets */
	uint32_t *table;
	size_t table_cap; /* power of two, 2 * ring_cap */
};

#define SPC_POLICY_MAX_QUEUES 2

struct spc_policy_state {
	enum spc_policy kind;
	struct spc_policy_ops ops;
	struct spc_env env;      /* copied: faults and logs of the owner */
	unsigned nq;             /* queues in use: CLOCK 1, S3-FIFO 2 (S, M) */
	struct spc_policy_ring q[SPC_POLICY_MAX_QUEUES];
	size_t total;            /* items queued in all queues */
	size_t peak;             /* largest total so far: the cache's size as the
	                            policy sees it (sizes the S3-FIFO ghost) */
	unsigned sweep_q;        /* queue the sweep is compacting */
	struct spc_policy_ghost ghost; /* S3-FIFO only */
};

/* Items in the ring (the gap excluded). */
static inline size_t spc_policy_ring_count(const struct spc_policy_ring *r)
{
	return (size_t)((r->gap_lo - r->head) + (r->tail - r->gap_hi));
}

/* Slots taken (items and gap). */
static inline size_t spc_policy_ring_used(const struct spc_policy_ring *r)
{
	return (size_t)(r->tail - r->head);
}

static inline void **spc_policy_ring_at(const struct spc_policy_ring *r, uint64_t pos)
{
	return &r->slot[pos & (r->cap - 1)];
}

/* Appends at the tail. The caller made room (used < cap). */
static inline void spc_policy_ring_push(struct spc_policy_ring *r, void *item)
{
	SPC_DEBUG_CHECK(spc_policy_ring_used(r) < r->cap);
	*spc_policy_ring_at(r, r->tail) = item;
	r->tail++;
}

/* Removes and returns the oldest item. The ring must not be empty. A gap
 * reached by the head is skipped (and so closed); a sweep cursor the head
 * passes moves along with it. */
static inline void *spc_policy_ring_pop(struct spc_policy_ring *r)
{
	void *item;

	SPC_DEBUG_CHECK(spc_policy_ring_count(r) > 0);
	if (r->head == r->gap_lo) {
		r->head = r->gap_hi;
		r->gap_lo = r->gap_hi;
	}
	item = *spc_policy_ring_at(r, r->head);
	r->head++;
	if (r->gap_lo < r->head) {
		r->gap_lo = r->head;
		r->gap_hi = r->head;
	}
	return item;
}

/* Allocates a copy of r with room for at least `need` slots in *fresh
 * (nothing allocated and fresh->slot NULL when r already has the room).
 * r is not changed. Returns SPC_OK or SPC_ENOMEM. */
int spc_policy_ring_prepare(const struct spc_env *env, const struct spc_policy_ring *r,
                            size_t need, struct spc_policy_ring *fresh);
/* Replaces r by a ring prepared from it (no-op if fresh->slot is NULL). */
void spc_policy_ring_install(struct spc_policy_ring *r, struct spc_policy_ring *fresh);
/* Halves r when `need` (the slots r must keep, >= its items) is at most a
 * quarter of its capacity and r stays at or above its first capacity. An
 * allocation failure leaves r as it was (nothing to report). */
void spc_policy_ring_trim(const struct spc_env *env, struct spc_policy_ring *r, size_t need);

/* Smallest power of two >= n (1 for n = 0); SIZE_MAX / 2 + 1 caps it. */
size_t spc_policy_pow2(size_t n);

/* S3-FIFO (core/policy_s3fifo.c). */
int spc_policy_s3fifo_init(struct spc_policy_state *p, size_t expected_items);
int spc_policy_s3fifo_admit(struct spc_policy_state *p, void *item);
enum spc_victim_kind spc_policy_s3fifo_next(struct spc_policy_state *p, size_t max_scan,
                                            void **item);
void spc_policy_s3fifo_fini(struct spc_policy_state *p);
size_t spc_policy_s3fifo_memory(const struct spc_policy_state *p);

/* CLOCK (core/policy_clock.c). */
int spc_policy_clock_admit(struct spc_policy_state *p, void *item);
enum spc_victim_kind spc_policy_clock_next(struct spc_policy_state *p, size_t max_scan,
                                           void **item);

#endif /* SPC_POLICY_RING_H */
