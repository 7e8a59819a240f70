/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/policy_ring.h: private to core/policy*.c. The queue every policy is
 * built from (a chunked ring of item slots with at most one gap, the
 * trace of an unfinished sweep), the policy state, and the entry points the
 * per-policy files give to core/policy.c.
 *
 * Positions are absolute 64-bit counters (never wrap in practice). The
 * slots live in chunks of 2^shift slots (shift is the policy's, the same
 * for all its queues): position pos is slot pos & (2^shift - 1) of chunk
 * number pos >> shift, found through the ring's directory, a small array
 * of chunk pointers indexed by chunk number & (dir_cap - 1). Invariant:
 *
 *     head <= gap_lo <= gap_hi <= tail
 *     chunks present: numbers [head >> shift, (tail + 2^shift - 1) >> shift)
 *     (that many <= dir_cap, a power of two)
 *
 * Items live at [head, gap_lo) and [gap_hi, tail); [gap_lo, gap_hi) is the
 * gap a sweep leaves behind it while it compacts (dead items removed, live
 * ones slid down to gap_lo). gap_hi is also the sweep cursor of this queue.
 * The gap vanishes when the head reaches it or when the sweep reaches the
 * tail. A chunk the head leaves, or the tail gives back, goes to the
 * policy's free list (struct spc_policy_chunks); a push that starts a chunk
 * takes one from there. Chunks never move, so a queue never copies items.
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
	void **dir;      /* chunk pointers, by chunk number & (dir_cap - 1) */
	size_t dir_cap;  /* power of two, >= 1 */
	uint64_t head;   /* oldest item (popped next) */
	uint64_t gap_lo; /* where the sweep writes the next live item it keeps */
	uint64_t gap_hi; /* next position the sweep examines */
	uint64_t tail;   /* one past the newest item */
};

/* Largest chunk: 512 slots, 4 KiB of pointers (2 KiB of offsets); small
 * caches get smaller ones (spc_policy_create). */
#define SPC_POLICY_CHUNK_SHIFT 9u

/* The chunks of one policy, shared by its queues. A slot is an item
 * pointer, or, once spc_policy_set_region gave the region all items come
 * from, the item's offset from base in units of 8 bytes (32 bits: regions
 * up to 32 GiB). Free chunks are linked through their first bytes. owned
 * counts chunks in queues and free ones. */
struct spc_policy_chunks {
	void *free;
	size_t nfree;
	size_t owned;
	unsigned shift;  /* chunk = 2^shift slots; changed only while empty */
	uintptr_t base;  /* region of the items, 0 when slots are pointers */
	size_t size;     /* its bytes */
};

/* Bytes of one slot. */
static inline size_t spc_policy_slot_bytes(const struct spc_policy_chunks *c)
{
	return c->base ? sizeof(uint32_t) : sizeof(void *);
}

/* The ghost of S3-FIFO (core/policy_ghost.c): SPC_POLICY_GHOST_GENS
 * blocked Bloom filters, the generations, in one cache-line-aligned
 * allocation of `slot` blocks each, interleaved (block b of generation i
 * is block b * GENS + i of the allocation). The newest (cur) takes the additions;
 * the oldest, (cur + 1) % GENS, is cleared a few words per addition near
 * the end and becomes the newest once the newest took cap additions. */
#define SPC_POLICY_GHOST_GENS 4u

struct spc_policy_ghost_gen {
	size_t blocks;    /* blocks in use (0: never started), <= slot */
	size_t cap;       /* additions it takes while newest */
	size_t adds;      /* additions it took */
};

struct spc_policy_ghost {
	void *mem;        /* the allocation (NULL: none) */
	uint64_t *bits;   /* in it, cache-line aligned: GENS * slot blocks
	                     of 8 words, interleaved */
	size_t slot;      /* blocks room per generation */
	size_t room;      /* largest limit the slots hold at full density */
	struct spc_policy_ghost_gen gen[SPC_POLICY_GHOST_GENS];
	unsigned cur;     /* the newest generation */
	size_t cleared;   /* words of the oldest generation cleared so far */
	uint64_t added;   /* additions since creation */
};

/* Most hashes the ghost remembers. */
#define SPC_POLICY_GHOST_MAX ((size_t)1 << 30)

/* Nonzero when h is (probably) a ghost: added lately, or a false positive. */
int spc_policy_ghost_has(const struct spc_policy_ghost *g, uint64_t h);
/* Adds hash h; the ghost remembers about the last `limit` additions
 * (core/policy_ghost.c, guarantees 1 and 2). */
void spc_policy_ghost_add(struct spc_policy_ghost *g, uint64_t h, size_t limit);
/* Makes h absent (until added again, or a false positive); may make a
 * few other hashes absent too (core/policy_ghost.c, "Removal"). */
void spc_policy_ghost_remove(struct spc_policy_ghost *g, uint64_t h);
/* Builds in *fresh a copy of g with room for a limit of `need`, or leaves
 * fresh->mem NULL when g has the room. g is not changed. Returns SPC_OK
 * or SPC_ENOMEM. */
int spc_policy_ghost_prepare(const struct spc_env *env, const struct spc_policy_ghost *g,
                             size_t need, struct spc_policy_ghost *fresh);
void spc_policy_ghost_install(struct spc_policy_ghost *g, struct spc_policy_ghost *fresh);
void spc_policy_ghost_fini(struct spc_policy_ghost *g);
size_t spc_policy_ghost_memory(const struct spc_policy_ghost *g);

/* Asks the CPU for the ghost's lines an operation on hash h will touch:
 * SPC_GHOST_ASK, every generation's block (spc_policy_ghost_has and
 * spc_policy_ghost_remove read them); SPC_GHOST_ADD, the newest one's, for
 * writing (spc_policy_ghost_add). Changes nothing, never faults. */
enum spc_ghost_use { SPC_GHOST_ASK, SPC_GHOST_ADD };
void spc_policy_ghost_prefetch(const struct spc_policy_ghost *g, uint64_t h, enum spc_ghost_use use);

#define SPC_POLICY_MAX_QUEUES 2

/* How far ahead of a queue's head next() looks for the eviction after
 * the next few (spc_policy_ahead): the item there had its first line
 * asked for SPC_POLICY_PREFETCH - SPC_POLICY_AHEAD pops ago, so its
 * counter and key are at hand; its hash and the lines its eviction will
 * touch (ghost, and through ops.ahead the owner's index bucket) are asked
 * for now, a few evictions before they are needed. */
#define SPC_POLICY_AHEAD 4u

/* Key hashes computed ahead (spc_policy_ahead), by item: a small
 * direct-mapped table, so that the eviction does not hash the key again.
 * An entry names an item that is queued: it is dropped when its item
 * leaves the policy (next's victim or dead item, the sweep's reclaim), so
 * an address the owner frees and reuses for another key never finds a
 * stale hash. A collision only overwrites an entry (the hash is computed
 * again later). */
#define SPC_POLICY_MEMO_BITS 6u
#define SPC_POLICY_MEMO (1u << SPC_POLICY_MEMO_BITS)

struct spc_policy_memo {
	const void *item; /* NULL: free */
	uint64_t hash;
};

struct spc_policy_state {
	enum spc_policy kind;
	struct spc_policy_ops ops;
	struct spc_env env;      /* copied: faults and logs of the owner */
	unsigned nq;             /* queues in use: CLOCK 1, S3-FIFO 2 (S, M) */
	struct spc_policy_ring q[SPC_POLICY_MAX_QUEUES];
	struct spc_policy_chunks chunks;
	size_t total;            /* items queued in all queues */
	size_t peak;             /* largest total so far: the cache's size as the
	                            policy sees it (sizes the S3-FIFO ghost) */
	unsigned sweep_q;        /* queue the sweep is compacting */
	struct spc_policy_ghost ghost; /* S3-FIFO, steered: evicted from S */
	struct spc_policy_ghost mghost; /* steered: evicted from M */
	size_t s_target;         /* steered: items S may hold before M gives */
	struct spc_policy_memo memo[SPC_POLICY_MEMO]; /* hashes computed ahead */
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

/* The item at position pos of r (which must hold one). */
static inline void *spc_policy_ring_get(const struct spc_policy_chunks *c,
                                        const struct spc_policy_ring *r, uint64_t pos)
{
	void *chunk = r->dir[(pos >> c->shift) & (r->dir_cap - 1)];
	size_t i = (size_t)(pos & (((uint64_t)1 << c->shift) - 1));

	if (c->base)
		return (void *)(c->base + ((uintptr_t)((const uint32_t *)chunk)[i] << 3));
	return ((void **)chunk)[i];
}

static inline void spc_policy_ring_set(const struct spc_policy_chunks *c,
                                       struct spc_policy_ring *r, uint64_t pos, void *item)
{
	void *chunk = r->dir[(pos >> c->shift) & (r->dir_cap - 1)];
	size_t i = (size_t)(pos & (((uint64_t)1 << c->shift) - 1));

	if (c->base) {
		uintptr_t off = (uintptr_t)item - c->base;

		SPC_DEBUG_CHECK((uintptr_t)item >= c->base && off < c->size && off % 8 == 0);
		((uint32_t *)chunk)[i] = (uint32_t)(off >> 3);
	} else {
		((void **)chunk)[i] = item;
	}
}

/* Chunks a ring with `used` slots taken may span (the head and the tail may
 * each sit inside a chunk). */
static inline size_t spc_policy_span(size_t used, unsigned shift)
{
	return (size_t)(((uint64_t)used + ((uint64_t)2 << shift) - 2) >> shift);
}

/* A chunk left by a queue goes to the free list. */
static inline void spc_policy_chunk_put(struct spc_policy_chunks *c, void *chunk)
{
	*(void **)chunk = c->free;
	c->free = chunk;
	c->nfree++;
}

/* Takes a chunk from the free list (which must not be empty). */
static inline void *spc_policy_chunk_take(struct spc_policy_chunks *c)
{
	void *chunk = c->free;

	SPC_DEBUG_CHECK(chunk != NULL);
	c->free = *(void **)chunk;
	c->nfree--;
	return chunk;
}

/* Hands chunks numbered [lo, hi) of r back to the free list. */
static inline void spc_policy_ring_release(struct spc_policy_chunks *c,
                                           struct spc_policy_ring *r, uint64_t lo, uint64_t hi)
{
	for (; lo < hi; lo++) {
		void **at = &r->dir[lo & (r->dir_cap - 1)];

		spc_policy_chunk_put(c, *at);
		*at = NULL;
	}
}

/* Appends at the tail. The caller reserved the chunk and directory room a
 * new chunk may need (core/policy.c, spc_policy_reserve). */
static inline void spc_policy_ring_push(struct spc_policy_chunks *c, struct spc_policy_ring *r,
                                        void *item)
{
	if ((r->tail & (((uint64_t)1 << c->shift) - 1)) == 0) {
		SPC_DEBUG_CHECK((r->tail >> c->shift) - (r->head >> c->shift) < r->dir_cap);
		r->dir[(r->tail >> c->shift) & (r->dir_cap - 1)] = spc_policy_chunk_take(c);
	}
	spc_policy_ring_set(c, r, r->tail, item);
	r->tail++;
}

/* How far ahead of the head spc_policy_ring_pop (and of the cursor,
 * spc_policy_sweep) prefetches: the callers read each item they pop or
 * sweep (its dead flag, its access counter, its key's hash), a likely
 * cache miss each, one after the other; asking for the item this many
 * places further on while this one is worked on overlaps those misses
 * (docs/benchmarks.md, 2026-12-06). */
#define SPC_POLICY_PREFETCH 8u

/* The item at pos, if pos holds one ([head, gap_lo) or [gap_hi, tail):
 * its chunk is present), else NULL. */
static inline void *spc_policy_ring_at(const struct spc_policy_chunks *c,
                                       const struct spc_policy_ring *r, uint64_t pos)
{
	if (pos < r->gap_lo || (pos >= r->gap_hi && pos < r->tail))
		return spc_policy_ring_get(c, r, pos);
	return NULL;
}

/* Asks the CPU for the first bytes of the item at pos, if pos holds one.
 * A prefetch never faults and changes nothing: any value of an item is
 * safe. */
static inline void spc_policy_ring_prefetch(const struct spc_policy_chunks *c,
                                            const struct spc_policy_ring *r, uint64_t pos)
{
	const char *it = spc_policy_ring_at(c, r, pos);

	if (it) {
		__builtin_prefetch(it);
		__builtin_prefetch(it + 32); /* the key, when the line ends early */
	}
}

/* Removes and returns the oldest item. The ring must not be empty. A gap
 * reached by the head is skipped (and so closed); a sweep cursor the head
 * passes moves along with it. Chunks the head leaves are freed. */
static inline void *spc_policy_ring_pop(struct spc_policy_chunks *c, struct spc_policy_ring *r)
{
	void *item;

	SPC_DEBUG_CHECK(spc_policy_ring_count(r) > 0);
	if (r->head == r->gap_lo) {
		spc_policy_ring_release(c, r, r->head >> c->shift, r->gap_hi >> c->shift);
		r->head = r->gap_hi;
		r->gap_lo = r->gap_hi;
	}
	item = spc_policy_ring_get(c, r, r->head);
	r->head++;
	if ((r->head & (((uint64_t)1 << c->shift) - 1)) == 0)
		spc_policy_ring_release(c, r, (r->head >> c->shift) - 1, r->head >> c->shift);
	if (r->gap_lo < r->head) {
		r->gap_lo = r->head;
		r->gap_hi = r->head;
	}
	spc_policy_ring_prefetch(c, r, r->head + SPC_POLICY_PREFETCH);
	return item;
}

static inline struct spc_policy_memo *spc_policy_memo_of(struct spc_policy_state *p,
                                                        const void *item)
{
	/* multiply-shift of the address: slab-allocated items sit at strides
	 * that plain low bits would fold onto a few slots */
	uint64_t a = (uint64_t)(uintptr_t)item * 0x9e3779b97f4a7c15ull;

	return &p->memo[a >> (64u - SPC_POLICY_MEMO_BITS)];
}

/* The hash of a queued item (ops.hash's), computed once and kept in the
 * memo until the item leaves. */
static inline uint64_t spc_policy_hash_ahead(struct spc_policy_state *p, const void *item)
{
	struct spc_policy_memo *m = spc_policy_memo_of(p, item);

	if (m->item != item) {
		m->hash = p->ops.hash(p->ops.ctx, item);
		m->item = item;
	}
	return m->hash;
}

/* The hash of an item leaving the policy: from the memo if it is there
 * (and dropped from it), else computed. */
static inline uint64_t spc_policy_hash_leaving(struct spc_policy_state *p, const void *item)
{
	struct spc_policy_memo *m = spc_policy_memo_of(p, item);

	if (m->item == item) {
		m->item = NULL;
		return m->hash;
	}
	return p->ops.hash(p->ops.ctx, item);
}

/* An item leaves the policy without its hash being needed (dead). */
static inline void spc_policy_forget(struct spc_policy_state *p, const void *item)
{
	struct spc_policy_memo *m = spc_policy_memo_of(p, item);

	if (m->item == item)
		m->item = NULL;
}

/* The lookahead of next(), right after a pop from r: the item
 * SPC_POLICY_AHEAD places behind r's head, when it looks like a victim
 * (counter 0: a racing hit or a dead flag only waste the work), has its
 * hash computed (into the memo) and the lines its eviction will touch
 * asked for: `ask`'s generations (a removal reads them), `add`'s newest
 * (an addition writes it), either NULL, and the owner's (ops.ahead). */
static inline void spc_policy_ahead(struct spc_policy_state *p, const struct spc_policy_ring *r,
                                    const struct spc_policy_ghost *ask,
                                    const struct spc_policy_ghost *add)
{
	const void *it = spc_policy_ring_at(&p->chunks, r, r->head + SPC_POLICY_AHEAD);

	if (!it || p->ops.freq(p->ops.ctx, it) != 0)
		return;
	if (ask || add) {
		uint64_t h = spc_policy_hash_ahead(p, it);

		if (ask)
			spc_policy_ghost_prefetch(ask, h, SPC_GHOST_ASK);
		if (add)
			spc_policy_ghost_prefetch(add, h, SPC_GHOST_ADD);
	}
	if (p->ops.ahead)
		p->ops.ahead(p->ops.ctx, it);
}

/* Directories for a ring that may come to hold `used` slots: allocates in
 * *dir a bigger copy of r's (NULL when r's is big enough; *cap its size).
 * Returns SPC_OK or SPC_ENOMEM; r is not changed. */
int spc_policy_dir_prepare(const struct spc_env *env, const struct spc_policy_ring *r,
                           unsigned shift, size_t used, void ***dir, size_t *cap);
void spc_policy_dir_install(struct spc_policy_ring *r, void **dir, size_t cap);

/* Makes sure p owns chunks for `used` slots over all its queues (see the
 * essay of core/policy.c). Allocates into the free list; on failure frees
 * what it got and returns SPC_ENOMEM, p unchanged. */
int spc_policy_chunks_reserve(struct spc_policy_state *p, size_t used);
/* Gives back free chunks beyond what `used` slots need (plus one spare). */
void spc_policy_chunks_trim(struct spc_policy_state *p, size_t used);
/* Slots taken in all queues, gaps included. */
size_t spc_policy_used(const struct spc_policy_state *p);

/* Smallest power of two >= n (1 for n = 0); SIZE_MAX / 2 + 1 caps it. */
size_t spc_policy_pow2(size_t n);

/* S3-FIFO (core/policy_s3fifo.c). */
int spc_policy_s3fifo_init(struct spc_policy_state *p, size_t expected_items);
int spc_policy_s3fifo_admit(struct spc_policy_state *p, void *item, uint64_t hash);
enum spc_victim_kind spc_policy_s3fifo_next(struct spc_policy_state *p, size_t max_scan,
                                            void **item);
void spc_policy_s3fifo_fini(struct spc_policy_state *p);
size_t spc_policy_s3fifo_memory(const struct spc_policy_state *p);

/* Ghost-steered S3-FIFO (core/policy_steered.c). */
int spc_policy_steered_init(struct spc_policy_state *p, size_t expected_items);
int spc_policy_steered_admit(struct spc_policy_state *p, void *item, uint64_t hash);
enum spc_victim_kind spc_policy_steered_next(struct spc_policy_state *p, size_t max_scan,
                                             void **item);
void spc_policy_steered_fini(struct spc_policy_state *p);
size_t spc_policy_steered_memory(const struct spc_policy_state *p);
/* The items S may hold before evictions turn to M (for tests). */
size_t spc_policy_steered_target(const struct spc_policy_state *p);

/* CLOCK (core/policy_clock.c). */
int spc_policy_clock_admit(struct spc_policy_state *p, void *item);
enum spc_victim_kind spc_policy_clock_next(struct spc_policy_state *p, size_t max_scan,
                                           void **item);

#endif /* SPC_POLICY_RING_H */
