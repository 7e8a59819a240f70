/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/policy.c: what the eviction policies share: the queues, creation,
 * dispatch, the sweep, sizes. The policies themselves are in
 * core/policy_steered.c (ghost-steered S3-FIFO, the default),
 * core/policy_s3fifo.c (Yang et al., SOSP 2023) and core/policy_clock.c
 * (Corbato 1968); each has its own essay.
 *
 * Queues
 * ----
 * A queue is a ring of item slots kept in fixed-size chunks (2^shift
 * slots, 64 to 512 by the expected items) found through a small directory
 * of chunk pointers (core/policy_ring.h). The chunks belong to the policy, not to a queue:
 * a chunk the head of S empties may next hold the tail of M, so S3-FIFO's
 * two queues share one reservation instead of each keeping room for every
 * item, and no queue ever copies its items to grow.
 *
 * No double reservation, and still no allocation in next or the sweep: a
 * queue whose head and tail span u slots touches at most u / C + 2 chunks
 * of C slots (a partly used chunk at each end). Eviction and the sweep
 * never increase the slots taken over all queues (a promotion or a second
 * chance pops before it pushes; the sweep only drops slots), so if the
 * policy owns (U + nq * (2C - 2)) / C chunks for the U slots taken after
 * an admission, every push until the next admission finds a free chunk.
 * Admission reserves exactly that (spc_policy_chunks_reserve), and each
 * directory room for what its queue may come to span (M: every slot of S
 * and M); everything is obtained through spc_calloc, so the fault hook
 * reaches it, and nothing is installed before all of it was obtained: a
 * failed admission changes nothing. Free chunks beyond that reservation
 * and one spare are given back after an admission and after a sweep.
 * Directories are never shrunk: they cost 8 bytes per C items of the peak.
 *
 * Slots
 * -----
 * A slot is an item pointer, 8 bytes. When the owner says where all items
 * live (spc_policy_set_region: a pool's one contiguous region, items
 * 8-byte aligned), a slot is the item's offset from the region's start in
 * units of 8 bytes, 4 bytes, for regions up to 32 GiB: the queues take
 * half the memory. The switch is allowed only while the policy is empty
 * (chunks change size); sanitizer builds and degraded pools, whose items
 * come from malloc, keep pointers. Nothing but the slots' width changes.
 *
 * Sweep
 * -----
 * spc_policy_sweep compacts dead items out of the queues in place, the way
 * a two-finger compaction does: a read cursor (gap_hi) examines items in
 * queue order, dead ones are handed to reclaim and dropped, live ones are
 * copied down to a write cursor (gap_lo). Between two calls the space
 * between the fingers is a gap that pops skip; the gap closes when the read
 * cursor reaches the tail (the chunks past the new tail go back to the
 * free list) or when the head reaches it (so do the chunks it skips).
 * Chunks never move, so growth no longer closes a gap: a sweep and the
 * admissions that grow the queues interleave freely.
 * The cursor persists across calls and moves from queue to queue (S, then
 * M, then S again for S3-FIFO and steered), so repeated calls cover every
 * queue.
 *
 * Lookahead
 * ---------
 * An eviction touches memory the maintainer has not seen for a long
 * while: the item, its ghost block, and (the owner's) the index bucket
 * it is removed from; one after the other they were most of the
 * maintainer's time (docs/benchmarks.md, 2026-12-06). So every pop asks
 * for the item SPC_POLICY_PREFETCH places on, and next() looks at the
 * one SPC_POLICY_AHEAD places on (spc_policy_ahead): if its counter is 0
 * it will likely be a victim, so its hash is computed into a small memo
 * (the eviction takes it from there instead of hashing the key again)
 * and its ghost lines and, through ops.ahead, the owner's lines are asked
 * for. Admission has the same in spc_policy_admit_ahead, which the
 * maintainer calls a few ring records ahead. None of it decides anything:
 * victims, ghosts and counters are the same with or without it.
 *
 * Guarantees (tests/unit/policy checks them, by hand-made cases and by
 * random operations compared with a plain-array model of both policies)
 *  1. A failed admission (SPC_ENOMEM) leaves the policy unchanged: same
 *     size, same memory, same victims afterwards as if it never happened.
 *     (Tests run with chunks of 4 to 16 slots so that every chunk
 *     boundary case is met, and fail every N-th allocation.)
 *  2. spc_policy_next and spc_policy_sweep never allocate and examine at
 *     most max_scan items per call.
 *  3. A sweep never changes the relative order of live items, nor their
 *     counters, nor which queue they are in; it drops every dead item it
 *     examines. A call stops at the end of a cycle over all queues (it then
 *     returns less than max_scan and never examines an item twice), so two
 *     calls with max_scan >= size in a row examine every queued item. It
 *     returns 0 only when max_scan is 0 or every queue is empty.
 *  4. Dead items are handed back (by next as SPC_VICTIM_DEAD, or to the
 *     sweep's reclaim) exactly once, never as SPC_VICTIM_EVICT.
 *  5. No clock, no randomness, no globals: the same calls with the same
 *     counters give the same results, with pointer slots or offset slots.
 */
#include "core/policy.h"

#include <string.h>

#include "base/base.h"
#include "core/policy_ring.h"

size_t spc_policy_pow2(size_t n)
{
	size_t c = 1;

	while (c < n && c <= SIZE_MAX / 4)
		c <<= 1;
	return c < n ? SIZE_MAX / 2 + 1 : c;
}

int spc_policy_dir_prepare(const struct spc_env *env, const struct spc_policy_ring *r,
                           unsigned shift, size_t used, void ***dir, size_t *cap)
{
	size_t need = spc_policy_span(used, shift);
	uint64_t k, hi;

	*dir = NULL;
	*cap = r->dir_cap;
	if (r->dir && need <= r->dir_cap)
		return SPC_OK;
	*cap = spc_policy_pow2(need < 4 ? 4 : need);
	if (*cap > SIZE_MAX / 4 / sizeof(void *))
		return SPC_ENOMEM;
	*dir = spc_calloc(env, *cap, sizeof(void *));
	if (!*dir)
		return SPC_ENOMEM;
	hi = (r->tail + ((uint64_t)1 << shift) - 1) >> shift;
	for (k = r->head >> shift; r->dir && k < hi; k++)
		(*dir)[k & (*cap - 1)] = r->dir[k & (r->dir_cap - 1)];
	return SPC_OK;
}

void spc_policy_dir_install(struct spc_policy_ring *r, void **dir, size_t cap)
{
	if (!dir)
		return;
	spc_free(r->dir);
	r->dir = dir;
	r->dir_cap = cap;
}

size_t spc_policy_used(const struct spc_policy_state *p)
{
	size_t used = 0;
	unsigned i;

	for (i = 0; i < p->nq; i++)
		used += spc_policy_ring_used(&p->q[i]);
	return used;
}

/* Chunks that `used` slots over nq queues may span at once: every queue
 * may have a partly used chunk at each end. */
static size_t chunks_need(const struct spc_policy_state *p, size_t used)
{
	uint64_t c = (uint64_t)1 << p->chunks.shift;

	return (size_t)(((uint64_t)used + p->nq * (2 * c - 2)) >> p->chunks.shift);
}

int spc_policy_chunks_reserve(struct spc_policy_state *p, size_t used)
{
	struct spc_policy_chunks *c = &p->chunks;
	size_t need = chunks_need(p, used), got = 0;
	void *list = NULL;

	while (c->owned + got < need) {
		void *chunk = spc_calloc(&p->env, (size_t)1 << c->shift, spc_policy_slot_bytes(c));

		if (!chunk) {
			while (list) {
				void *next = *(void **)list;

				spc_free(list);
				list = next;
			}
			return SPC_ENOMEM;
		}
		*(void **)chunk = list;
		list = chunk;
		got++;
	}
	while (list) {
		void *next = *(void **)list;

		spc_policy_chunk_put(c, list);
		list = next;
	}
	c->owned += got;
	return SPC_OK;
}

void spc_policy_chunks_trim(struct spc_policy_state *p, size_t used)
{
	struct spc_policy_chunks *c = &p->chunks;
	size_t need = chunks_need(p, used);

	/* One chunk of slack: a cache that admits and evicts in turn around
	 * a chunk boundary does not allocate and free the same chunk. */
	while (c->nfree > 0 && c->owned > need + 1) {
		c->owned--;
		spc_free(spc_policy_chunk_take(c));
	}
}

static int ring_init(const struct spc_env *env, struct spc_policy_ring *r, unsigned shift,
                     size_t expected)
{
	memset(r, 0, sizeof *r);
	return spc_policy_dir_prepare(env, r, shift, expected, &r->dir, &r->dir_cap);
}

int spc_policy_create(enum spc_policy kind, const struct spc_policy_ops *ops,
                      const struct spc_env *env, size_t expected_items,
                      struct spc_policy_state **out)
{
	struct spc_policy_state *p;
	unsigned i;

	if (!out)
		return SPC_EINVAL;
	*out = NULL;
	if (!ops || !ops->freq || !ops->set_freq || !ops->dead || !ops->hash)
		return SPC_EINVAL;
	if (kind != SPC_POLICY_S3FIFO && kind != SPC_POLICY_CLOCK && kind != SPC_POLICY_STEERED)
		return SPC_EINVAL;
	p = spc_calloc(env, 1, sizeof *p);
	if (!p)
		return SPC_ENOMEM;
	p->kind = kind;
	p->ops = *ops;
	if (env)
		p->env = *env;
	p->nq = kind == SPC_POLICY_CLOCK ? 1 : 2;
	/* Chunks of at most a sixty-fourth of the expected items, 64 to 512
	 * slots: the few spare and partly used chunks stay a small share of
	 * a small cache, and a chunk is never so small that allocator
	 * overhead counts. */
	p->chunks.shift = 6;
	while (p->chunks.shift < SPC_POLICY_CHUNK_SHIFT &&
	       ((size_t)64 << p->chunks.shift) <= expected_items)
		p->chunks.shift++;
	for (i = 0; i < p->nq; i++) {
		if (ring_init(env, &p->q[i], p->chunks.shift, expected_items) != SPC_OK) {
			spc_policy_destroy(p);
			return SPC_ENOMEM;
		}
	}
	if ((kind == SPC_POLICY_S3FIFO && spc_policy_s3fifo_init(p, expected_items) != SPC_OK) ||
	    (kind == SPC_POLICY_STEERED && spc_policy_steered_init(p, expected_items) != SPC_OK)) {
		spc_policy_destroy(p);
		return SPC_ENOMEM;
	}
	*out = p;
	return SPC_OK;
}

void spc_policy_destroy(struct spc_policy_state *p)
{
	unsigned i;

	if (!p)
		return;
	for (i = 0; i < SPC_POLICY_MAX_QUEUES; i++) {
		struct spc_policy_ring *r = &p->q[i];

		if (r->dir)
			spc_policy_ring_release(&p->chunks, r, r->head >> p->chunks.shift,
			                        (r->tail + ((uint64_t)1 << p->chunks.shift) - 1) >>
			                                p->chunks.shift);
		spc_free(r->dir);
	}
	while (p->chunks.free)
		spc_free(spc_policy_chunk_take(&p->chunks));
	if (p->kind == SPC_POLICY_S3FIFO)
		spc_policy_s3fifo_fini(p);
	if (p->kind == SPC_POLICY_STEERED)
		spc_policy_steered_fini(p);
	spc_free(p);
}

int spc_policy_admit(struct spc_policy_state *p, void *item)
{
	SPC_DEBUG_CHECK(p && item);
	if (p->kind == SPC_POLICY_CLOCK)
		return spc_policy_clock_admit(p, item); /* no ghost: no hash */
	return spc_policy_admit_hashed(p, item, p->ops.hash(p->ops.ctx, item));
}

uint64_t spc_policy_admit_ahead(const struct spc_policy_state *p, const void *item)
{
	uint64_t h;

	SPC_DEBUG_CHECK(p && item);
	if (p->kind == SPC_POLICY_CLOCK)
		return 0;
	h = p->ops.hash(p->ops.ctx, item);
	/* admission asks the ghost(s) about h: every generation's block */
	spc_policy_ghost_prefetch(&p->ghost, h, SPC_GHOST_ASK);
	if (p->kind == SPC_POLICY_STEERED)
		spc_policy_ghost_prefetch(&p->mghost, h, SPC_GHOST_ASK);
	return h;
}

int spc_policy_admit_hashed(struct spc_policy_state *p, void *item, uint64_t hash)
{
	SPC_DEBUG_CHECK(p && item);
	SPC_DEBUG_CHECK(p->kind == SPC_POLICY_CLOCK || hash == p->ops.hash(p->ops.ctx, item));
	if (p->kind == SPC_POLICY_S3FIFO)
		return spc_policy_s3fifo_admit(p, item, hash);
	if (p->kind == SPC_POLICY_STEERED)
		return spc_policy_steered_admit(p, item, hash);
	return spc_policy_clock_admit(p, item);
}

enum spc_victim_kind spc_policy_next(struct spc_policy_state *p, size_t max_scan, void **item)
{
	SPC_DEBUG_CHECK(p && item);
	*item = NULL;
	if (p->kind == SPC_POLICY_S3FIFO)
		return spc_policy_s3fifo_next(p, max_scan, item);
	if (p->kind == SPC_POLICY_STEERED)
		return spc_policy_steered_next(p, max_scan, item);
	return spc_policy_clock_next(p, max_scan, item);
}

/* Ends the pass over ring r: the gap, now at the tail, is given back, and
 * with it the chunks past the new tail. */
static void sweep_close(struct spc_policy_chunks *c, struct spc_policy_ring *r)
{
	uint64_t round = ((uint64_t)1 << c->shift) - 1;

	spc_policy_ring_release(c, r, (r->gap_lo + round) >> c->shift, (r->tail + round) >> c->shift);
	r->tail = r->gap_lo;
	r->gap_hi = r->gap_lo;
}

size_t spc_policy_sweep(struct spc_policy_state *p, size_t max_scan,
                        void (*reclaim)(void *arg, void *item), void *arg)
{
	size_t examined = 0;
	unsigned wraps = 0;

	SPC_DEBUG_CHECK(p && reclaim);
	while (examined < max_scan) {
		struct spc_policy_ring *r = &p->q[p->sweep_q];
		void *it;

		if (r->gap_hi == r->tail) {
			/* This queue's pass is over: the next queue's pass
			 * starts at its head. A call ends with a cycle over
			 * all queues, so it never examines an item twice;
			 * one that found its cycle already over starts the
			 * next (a second wrap: every queue is empty). */
			sweep_close(&p->chunks, r);
			p->sweep_q = (p->sweep_q + 1) % p->nq;
			r = &p->q[p->sweep_q];
			r->gap_lo = r->gap_hi = r->head;
			if (p->sweep_q == 0 && (examined > 0 || ++wraps == 2))
				break;
			continue;
		}
		it = spc_policy_ring_get(&p->chunks, r, r->gap_hi);
		r->gap_hi++;
		examined++;
		/* The dead test reads every item: ask for one ahead. */
		spc_policy_ring_prefetch(&p->chunks, r, r->gap_hi + SPC_POLICY_PREFETCH);
		if (p->ops.dead(p->ops.ctx, it)) {
			p->total--;
			spc_policy_forget(p, it);
			reclaim(arg, it);
		} else {
			/* Slide the live item down over the gap: order kept. */
			spc_policy_ring_set(&p->chunks, r, r->gap_lo, it);
			r->gap_lo++;
		}
		if (r->gap_hi == r->tail)
			sweep_close(&p->chunks, r);
	}
	spc_policy_chunks_trim(p, spc_policy_used(p));
	return examined;
}

int spc_policy_set_region(struct spc_policy_state *p, const void *base, size_t size)
{
	uint64_t round;
	unsigned i;

	if (!p || spc_policy_used(p) != 0)
		return SPC_EINVAL;
	if (base && ((uintptr_t)base % 8 != 0 || size == 0 || (uint64_t)size > ((uint64_t)1 << 35)))
		return SPC_EINVAL;
	/* Chunks change size: an empty queue may still hold the chunk its
	 * head stopped in; give every chunk back, then restart positions. */
	round = ((uint64_t)1 << p->chunks.shift) - 1;
	for (i = 0; i < p->nq; i++) {
		struct spc_policy_ring *r = &p->q[i];

		spc_policy_ring_release(&p->chunks, r, r->head >> p->chunks.shift,
		                        (r->tail + round) >> p->chunks.shift);
		r->head = r->gap_lo = r->gap_hi = r->tail = 0;
	}
	while (p->chunks.free)
		spc_free(spc_policy_chunk_take(&p->chunks));
	p->chunks.owned = 0;
	p->chunks.base = (uintptr_t)base;
	p->chunks.size = base ? size : 0;
	return SPC_OK;
}

size_t spc_policy_size(const struct spc_policy_state *p)
{
	return p ? p->total : 0;
}

size_t spc_policy_item_bytes(const struct spc_policy_state *p)
{
	size_t slot = spc_policy_slot_bytes(&p->chunks);

	/* A slot, a quarter more for partly used and spare chunks and the
	 * directories, and for S3-FIFO the ghost (Bloom filters of 12.2 bits
	 * per hash for 8/7 of 0.9 of the items: 1.6 B, 1.8 B at most after
	 * growth rounded its room up; 2 B); for steered its two ghosts
	 * (1.15 of the items: 1.75 B, about 2.0 B measured; 2 B), its total
	 * measured at 6.1 / 10.2 B. Above what test_policy_memory
	 * measures in steady state (S3-FIFO 5.7 / 9.8 B, CLOCK 4.0 / 8.0 B
	 * with offset / pointer slots), so charges built on it do not
	 * undercount. */
	return slot + slot / 4 + (p->kind == SPC_POLICY_CLOCK ? 0 : 2);
}

size_t spc_policy_memory(const struct spc_policy_state *p)
{
	size_t bytes, i;

	if (!p)
		return 0;
	bytes = sizeof *p;
	for (i = 0; i < p->nq; i++)
		bytes += p->q[i].dir_cap * sizeof(void *);
	bytes += p->chunks.owned * ((size_t)1 << p->chunks.shift) * spc_policy_slot_bytes(&p->chunks);
	if (p->kind == SPC_POLICY_S3FIFO)
		bytes += spc_policy_s3fifo_memory(p);
	if (p->kind == SPC_POLICY_STEERED)
		bytes += spc_policy_steered_memory(p);
	return bytes;
}

const char *spc_policy_name(enum spc_policy kind)
{
	switch (kind) {
	case SPC_POLICY_S3FIFO: return "s3fifo";
	case SPC_POLICY_CLOCK: return "clock";
	case SPC_POLICY_STEERED: return "steered";
	}
	return "unknown";
}
