/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/policy_s3fifo.c: S3-FIFO, from J. Yang, Y. Zhang, Z. Qiu, Y. Yue and
 * K. V. Rashmi, "FIFO queues are all you need for cache eviction", SOSP
 * 2023 (section 4, "S3-FIFO design", and its Algorithm 1).
 *
 * Idea
 * ----
 * Most objects of skewed workloads are requested once in a short window
 * ("one-hit wonders"). S3-FIFO demotes them quickly: new items wait in a
 * small FIFO S (about 10 % of the items); those not reused while in S leave
 * the cache from S, and only their key hash is remembered in a ghost FIFO G.
 * Items reused in S, and items whose hash is still in G when they come back,
 * live in the main FIFO M, which evicts like CLOCK with a 2-bit counter.
 * Promotion is lazy: a hit only bumps the item's counter (done by readers,
 * without a lock); items move between queues only when they reach a head.
 *
 * Rules, as implemented (paper's Algorithm 1; freq is the item's counter,
 * 0..3, read through ops->freq, lowered through ops->set_freq):
 *   admit(x):  if hash(x) is in G: append x to M; else append x to S.
 *   next():    work on S if 10 * |S| >= |S| + |M| (|S| at least 10 % of the
 *              queued items) or M is empty, else on M; the choice holds for
 *              the call until S runs empty (then M), as the paper's evictS
 *              loops until it evicts.
 *     from S:  pop the head t; if freq(t) > 1 (Algorithm 1's test: hit at
 *              least twice since admission) set freq(t) = 0 and append t to
 *              M; else t is the victim and hash(t) is appended to G.
 *              (Descriptions of S3-FIFO differ on this threshold, some
 *              promote on any hit; we follow the pseudocode. An item hit
 *              once still benefits: its hash goes to G and its next miss
 *              admits it to M. On the Zipf(0.99) trace of the unit tests
 *              the two thresholds gave hit ratios 0.737 and 0.738, with
 *              the exact ghost the Bloom filters replaced.)
 *     from M:  pop the head t; if freq(t) > 0 set freq(t) = freq(t) - 1 and
 *              append t to M (second chance); else t is the victim and
 *              hash(t) is removed from G if it is there.
 *   (Algorithm 1 removes hash(x) from G on the ghost hit instead. Our G
 *   is made of Bloom filters, whose removals make a few other hashes
 *   forget; removing at the eviction from M removes far fewer, and is
 *   the same while a key comes back only after it left the cache:
 *   core/policy_ghost.c, "Removal".)
 *   Any dead item met at a head is returned at once as SPC_VICTIM_DEAD,
 *   without a ghost entry (it was replaced or deleted, not evicted).
 *
 * The ghost holds as many hashes as M holds at the nominal split of a full
 * cache: P - P / 10, where P is the largest number of items ever queued
 * (the policy does not know the cache's capacity; the peak is the nearest
 * thing it sees, and unlike the current count it does not shrink the
 * ghost while the maintainer drains the cache). Older hashes expire in
 * FIFO order, by generations: the ghost (core/policy_ghost.c) is four
 * rotating blocked Bloom filters, so a hash is remembered for 0.86 to
 * 1.14 times that many evictions from S, and a hash never evicted is
 * taken for a ghost with odds of about 1 %. Membership, insertion,
 * removal and expiry are O(1) and never allocate.
 * Limitation: when a pool shrinks for good (a mode change), the ghost
 * keeps the size of the old peak, so it remembers somewhat more than M
 * then holds.
 *
 * Memory: S and M draw their slots from one set of chunks (core/policy.c,
 * "Queues"), so the queues cost one slot per queued item plus a few
 * chunks, not room for every item in each queue: 8 B, or 4 B once
 * spc_policy_set_region lets slots hold 32-bit offsets. Admission
 * reserves the chunks and the ghost so that next() never allocates. The
 * ghost takes 12.2 bits per remembered hash in four generations of 2/7 of
 * the limit each, for 0.9 of the peak items: 1.6 B per item. Measured in
 * a steady state (tests/unit/policy/test_policy_memory.c): 9.6-9.8 B per
 * item at 100,000 and 1,000,000 items with pointer slots, 5.6-5.7 B with
 * offsets (15.1 and 11.1 B with the exact ghost table the filters
 * replaced; 36.7 B at 100,000 before the chunks).
 *
 * Guarantees (tests/unit/policy checks them)
 *  1. A new item whose hash is not in G goes to S; one whose hash is in G
 *     goes to M. An item evicted from M takes its hash out of G.
 *  2. Items not reused twice in S are evicted from S, in admission order,
 *     before any item of M, as long as S holds >= 10 % of the items.
 *  3. An item evicted from S has its hash in G afterwards (until it ages
 *     out: core/policy_ghost.c, guarantee 1); an item evicted from M, or
 *     dead, does not add to G.
 *  4. M gives an item with counter c exactly c more laps (second chances)
 *     when it gets no new hit meanwhile.
 *  5. Dead items come back as SPC_VICTIM_DEAD, never as SPC_VICTIM_EVICT.
 *  6. At most max_scan items are examined per call; SPC_VICTIM_NONE when
 *     none of them could go.
 *  7. A failed admission (SPC_ENOMEM) changes nothing, the ghost included.
 */
#include <string.h>

#include "base/base.h"
#include "core/policy.h"
#include "core/policy_ring.h"

/* Promotion test of Algorithm 1: freq > 1. */
#define S3FIFO_PROMOTE_MIN 2u

static size_t ghost_limit(size_t queued)
{
	return queued - queued / 10;
}

int spc_policy_s3fifo_init(struct spc_policy_state *p, size_t expected_items)
{
	struct spc_policy_ghost empty;

	memset(&empty, 0, sizeof empty);
	return spc_policy_ghost_prepare(&p->env, &empty, ghost_limit(expected_items), &p->ghost);
}

void spc_policy_s3fifo_fini(struct spc_policy_state *p)
{
	spc_policy_ghost_fini(&p->ghost);
}

size_t spc_policy_s3fifo_memory(const struct spc_policy_state *p)
{
	return spc_policy_ghost_memory(&p->ghost);
}

int spc_policy_s3fifo_admit(struct spc_policy_state *p, void *item, uint64_t h)
{
	struct spc_policy_ring *s = &p->q[0], *m = &p->q[1];
	unsigned shift = p->chunks.shift;
	size_t used = spc_policy_used(p) + 1, cap_s, cap_m;
	void **dir_s, **dir_m;
	struct spc_policy_ghost fg;

	/* Reserve first, install only when everything was obtained: S takes
	 * the item now; M may later receive every item of S (promotions in
	 * next, which must not allocate); chunks for every slot taken; the
	 * ghost grows with the queued items. */
	if (spc_policy_dir_prepare(&p->env, s, shift, spc_policy_ring_used(s) + 1, &dir_s, &cap_s) !=
	    SPC_OK)
		return SPC_ENOMEM;
	if (spc_policy_dir_prepare(&p->env, m, shift, used, &dir_m, &cap_m) != SPC_OK) {
		spc_free(dir_s);
		return SPC_ENOMEM;
	}
	if (spc_policy_ghost_prepare(&p->env, &p->ghost,
	                             ghost_limit(p->peak > p->total ? p->peak : p->total + 1),
	                             &fg) != SPC_OK) {
		spc_free(dir_s);
		spc_free(dir_m);
		return SPC_ENOMEM;
	}
	if (spc_policy_chunks_reserve(p, used) != SPC_OK) {
		spc_free(dir_s);
		spc_free(dir_m);
		spc_free(fg.mem);
		return SPC_ENOMEM;
	}
	spc_policy_dir_install(s, dir_s, cap_s);
	spc_policy_dir_install(m, dir_m, cap_m);
	spc_policy_ghost_install(&p->ghost, &fg);

	if (spc_policy_ghost_has(&p->ghost, h))
		spc_policy_ring_push(&p->chunks, m, item);
	else
		spc_policy_ring_push(&p->chunks, s, item);
	p->total++;
	if (p->total > p->peak)
		p->peak = p->total;
	spc_policy_chunks_trim(p, used);
	return SPC_OK;
}

enum spc_victim_kind spc_policy_s3fifo_next(struct spc_policy_state *p, size_t max_scan,
                                            void **item)
{
	struct spc_policy_ring *s = &p->q[0], *m = &p->q[1];
	size_t examined;
	int small;

	if (p->total == 0)
		return SPC_VICTIM_NONE;
	small = 10 * spc_policy_ring_count(s) >= p->total || spc_policy_ring_count(m) == 0;
	for (examined = 0; examined < max_scan; examined++) {
		void *it;
		unsigned f;

		if (small && spc_policy_ring_count(s) == 0)
			small = 0; /* everything in S was promoted: go on with M */
		it = spc_policy_ring_pop(&p->chunks, small ? s : m);
		/* from S a victim's hash goes to G; from M it leaves G */
		if (small)
			spc_policy_ahead(p, s, NULL, &p->ghost);
		else
			spc_policy_ahead(p, m, &p->ghost, NULL);
		if (p->ops.dead(p->ops.ctx, it)) {
			p->total--;
			spc_policy_forget(p, it);
			*item = it;
			return SPC_VICTIM_DEAD;
		}
		f = p->ops.freq(p->ops.ctx, it);
		if (small && f >= S3FIFO_PROMOTE_MIN) {
			p->ops.set_freq(p->ops.ctx, it, 0);
			spc_policy_ring_push(&p->chunks, m, it);
			continue;
		}
		if (!small && f > 0) {
			p->ops.set_freq(p->ops.ctx, it, f - 1);
			spc_policy_ring_push(&p->chunks, m, it);
			continue;
		}
		p->total--;
		if (small)
			spc_policy_ghost_add(&p->ghost, spc_policy_hash_leaving(p, it),
			                     ghost_limit(p->peak));
		else
			spc_policy_ghost_remove(&p->ghost, spc_policy_hash_leaving(p, it));
		*item = it;
		return SPC_VICTIM_EVICT;
	}
	return SPC_VICTIM_NONE;
}
