/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/policy.c: what both eviction policies share: the queues, creation,
 * dispatch, the sweep, sizes. The policies themselves are in
 * core/policy_s3fifo.c (Yang et al., SOSP 2023) and core/policy_clock.c
 * (Corbato 1968); each has its own essay.
 *
 * Queues
 * ------
 * A queue is a ring of item pointers whose capacity doubles on demand
 * (core/policy_ring.h). Growing copies the ring into a fresh array from
 * spc_calloc, so the fault hook reaches it, and only after every array an
 * admission needs was obtained is anything installed: a failed admission
 * changes nothing. Eviction (spc_policy_next) and the sweep never allocate:
 * admission reserves, for every queue an item may later be moved to, the
 * room that move could take (see each policy's admit). A ring that uses a
 * quarter of its slots or less is halved after an admission (never below
 * its first size, an eighth of it for S3-FIFO's S); when that allocation
 * fails, the ring stays as it was and the admission still succeeds:
 * capacity never changes which items go.
 *
 * Sweep
 * -----
 * spc_policy_sweep compacts dead items out of the queues in place, the way
 * a two-finger compaction does: a read cursor (gap_hi) examines items in
 * queue order, dead ones are handed to reclaim and dropped, live ones are
 * copied down to a write cursor (gap_lo). Between two calls the space
 * between the fingers is a gap that pops skip; the gap closes when the read
 * cursor reaches the tail, when the head reaches it, or when the ring is
 * copied (grown or trimmed).
 * The cursor persists across calls and moves from queue to queue (S, then
 * M, then S again for S3-FIFO), so repeated calls cover every queue.
 *
 * Guarantees (tests/unit/policy checks them, by hand-made cases and by
 * random operations compared with a plain-array model of both policies)
 *  1. A failed admission (SPC_ENOMEM) leaves the policy unchanged: same
 *     size, same memory, same victims afterwards as if it never happened.
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
 *     counters give the same results.
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

/* Allocates ring `fresh` of cap slots (cap >= items of r) holding r's
 * items in queue order, the gap left out and the sweep cursor on the same
 * item. r is not changed. */
static int ring_copy(const struct spc_env *env, const struct spc_policy_ring *r, size_t cap,
                     struct spc_policy_ring *fresh)
{
	uint64_t pos, out = 0;

	memset(fresh, 0, sizeof *fresh);
	fresh->slot = spc_calloc(env, cap, sizeof(void *));
	if (!fresh->slot)
		return SPC_ENOMEM;
	fresh->cap = cap;
	fresh->min_cap = r->min_cap;
	for (pos = r->head; pos < r->gap_lo; pos++)
		fresh->slot[out++] = *spc_policy_ring_at(r, pos);
	fresh->gap_lo = fresh->gap_hi = out;
	for (pos = r->gap_hi; pos < r->tail; pos++)
		fresh->slot[out++] = *spc_policy_ring_at(r, pos);
	fresh->head = 0;
	fresh->tail = out;
	return SPC_OK;
}

int spc_policy_ring_prepare(const struct spc_env *env, const struct spc_policy_ring *r,
                            size_t need, struct spc_policy_ring *fresh)
{
	size_t cap = r->cap;

	memset(fresh, 0, sizeof *fresh);
	if (need <= cap && r->slot)
		return SPC_OK;
	while (cap < need && cap <= SIZE_MAX / sizeof(void *) / 4)
		cap <<= 1;
	if (cap < need)
		return SPC_ENOMEM;
	return ring_copy(env, r, cap, fresh);
}

void spc_policy_ring_trim(const struct spc_env *env, struct spc_policy_ring *r, size_t need)
{
	struct spc_policy_ring fresh;

	SPC_DEBUG_CHECK(need >= spc_policy_ring_count(r));
	if (r->cap / 2 < r->min_cap || need > r->cap / 4)
		return;
	/* A failure only keeps the memory a little longer. */
	if (ring_copy(env, r, r->cap / 2, &fresh) == SPC_OK)
		spc_policy_ring_install(r, &fresh);
}

void spc_policy_ring_install(struct spc_policy_ring *r, struct spc_policy_ring *fresh)
{
	if (!fresh->slot)
		return;
	spc_free(r->slot);
	*r = *fresh;
	fresh->slot = NULL;
}

static int ring_init(const struct spc_env *env, struct spc_policy_ring *r, size_t expected)
{
	memset(r, 0, sizeof *r);
	r->cap = spc_policy_pow2(expected < 8 ? 8 : expected);
	r->min_cap = r->cap;
	r->slot = spc_calloc(env, r->cap, sizeof(void *));
	return r->slot ? SPC_OK : SPC_ENOMEM;
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
	if (kind != SPC_POLICY_S3FIFO && kind != SPC_POLICY_CLOCK)
		return SPC_EINVAL;
	p = spc_calloc(env, 1, sizeof *p);
	if (!p)
		return SPC_ENOMEM;
	p->kind = kind;
	p->ops = *ops;
	if (env)
		p->env = *env;
	p->nq = kind == SPC_POLICY_S3FIFO ? 2 : 1;
	for (i = 0; i < p->nq; i++) {
		if (ring_init(env, &p->q[i], expected_items) != SPC_OK) {
			spc_policy_destroy(p);
			return SPC_ENOMEM;
		}
	}
	if (kind == SPC_POLICY_S3FIFO && spc_policy_s3fifo_init(p, expected_items) != SPC_OK) {
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
	for (i = 0; i < SPC_POLICY_MAX_QUEUES; i++)
		spc_free(p->q[i].slot);
	if (p->kind == SPC_POLICY_S3FIFO)
		spc_policy_s3fifo_fini(p);
	spc_free(p);
}

int spc_policy_admit(struct spc_policy_state *p, void *item)
{
	SPC_DEBUG_CHECK(p && item);
	if (p->kind == SPC_POLICY_S3FIFO)
		return spc_policy_s3fifo_admit(p, item);
	return spc_policy_clock_admit(p, item);
}

enum spc_victim_kind spc_policy_next(struct spc_policy_state *p, size_t max_scan, void **item)
{
	SPC_DEBUG_CHECK(p && item);
	*item = NULL;
	if (p->kind == SPC_POLICY_S3FIFO)
		return spc_policy_s3fifo_next(p, max_scan, item);
	return spc_policy_clock_next(p, max_scan, item);
}

/* Ends the pass over ring r: the gap, now at the tail, is given back. */
static void sweep_close(struct spc_policy_ring *r)
{
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
			sweep_close(r);
			p->sweep_q = (p->sweep_q + 1) % p->nq;
			r = &p->q[p->sweep_q];
			r->gap_lo = r->gap_hi = r->head;
			if (p->sweep_q == 0 && (examined > 0 || ++wraps == 2))
				break;
			continue;
		}
		it = *spc_policy_ring_at(r, r->gap_hi);
		r->gap_hi++;
		examined++;
		if (p->ops.dead(it)) {
			p->total--;
			reclaim(arg, it);
		} else {
			/* Slide the live item down over the gap: order kept. */
			*spc_policy_ring_at(r, r->gap_lo) = it;
			r->gap_lo++;
		}
		if (r->gap_hi == r->tail)
			sweep_close(r);
	}
	return examined;
}

size_t spc_policy_size(const struct spc_policy_state *p)
{
	return p ? p->total : 0;
}

size_t spc_policy_memory(const struct spc_policy_state *p)
{
	size_t bytes, i;

	if (!p)
		return 0;
	bytes = sizeof *p;
	for (i = 0; i < p->nq; i++)
		bytes += p->q[i].cap * sizeof(void *);
	if (p->kind == SPC_POLICY_S3FIFO)
		bytes += spc_policy_s3fifo_memory(p);
	return bytes;
}

const char *spc_policy_name(enum spc_policy kind)
{
	switch (kind) {
	case SPC_POLICY_S3FIFO: return "s3fifo";
	case SPC_POLICY_CLOCK: return "clock";
	}
	return "unknown";
}
