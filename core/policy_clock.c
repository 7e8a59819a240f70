/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/policy_clock.c: CLOCK, the second-chance approximation of LRU
 * (F. J. Corbato, "A paging experiment with the Multics system", MIT
 * Project MAC report MAC-M-384, 1968; the "clock" name comes from the
 * picture of a hand sweeping a circular list of pages).
 *
 * Algorithm
 * ---------
 * Every item carries an access counter that readers bump on a hit (the
 * reference bit of the paging literature; ours counts 0..3). Items wait in
 * one FIFO in admission order. To find a victim the hand looks at the
 * oldest item:
 *   - counter > 0: the item was used since the hand last passed; it gets a
 *     second chance: the counter is cleared to 0 and the item goes to the
 *     back of the queue;
 *   - counter == 0: the item is the victim.
 * Here the circular list is a FIFO with reinsertion: popping the head and
 * appending it at the tail is exactly moving the hand one step past an
 * item, so the two formulations name the same victims in the same order.
 * The counter is cleared, not decremented, as the single reference bit of
 * the original is: one second chance per lap, however hot the item.
 *
 * Memory: one slot per item in chunks (core/policy.c, "Queues"), 8 B as a
 * pointer or 4 B as an offset into the items' region (spc_policy_set_region),
 * plus a few spare chunks: 8.0-8.1 B or 4.0-4.1 B per item at 100,000 and
 * 1,000,000 items (tests/unit/policy/test_policy_memory.c).
 *
 * Guarantees (tests/unit/policy checks them)
 *  1. Victims come in the order the hand meets unreferenced items: an item
 *     admitted earlier and never hit goes before one admitted later; an item
 *     hit since the hand last passed survives one more lap.
 *  2. A dead item met at the head is returned as SPC_VICTIM_DEAD at once,
 *     whatever its counter; it is never returned as SPC_VICTIM_EVICT.
 *  3. One call examines at most max_scan items and returns SPC_VICTIM_NONE
 *     when each of them earned a second chance (or the queue is empty);
 *     the next call goes on where it stopped.
 *  4. Admission fails only with SPC_ENOMEM, and then changes nothing.
 */
#include "base/base.h"
#include "core/policy.h"
#include "core/policy_ring.h"

int spc_policy_clock_admit(struct spc_policy_state *p, void *item)
{
	struct spc_policy_ring *r = &p->q[0];
	size_t used = spc_policy_ring_used(r) + 1, cap;
	void **dir;

	/* Reinsertion pops before it pushes, so room for one more slot per
	 * item admitted is all the queue ever needs: next never allocates. */
	if (spc_policy_dir_prepare(&p->env, r, p->chunks.shift, used, &dir, &cap) != SPC_OK)
		return SPC_ENOMEM;
	if (spc_policy_chunks_reserve(p, used) != SPC_OK) {
		spc_free(dir);
		return SPC_ENOMEM;
	}
	spc_policy_dir_install(r, dir, cap);
	spc_policy_ring_push(&p->chunks, r, item);
	p->total++;
	spc_policy_chunks_trim(p, used);
	return SPC_OK;
}

enum spc_victim_kind spc_policy_clock_next(struct spc_policy_state *p, size_t max_scan,
                                           void **item)
{
	struct spc_policy_ring *r = &p->q[0];
	size_t examined;

	for (examined = 0; examined < max_scan && p->total > 0; examined++) {
		void *it = spc_policy_ring_pop(&p->chunks, r);

		spc_policy_ahead(p, r, NULL, NULL); /* no ghost: the owner's lines */
		if (p->ops.dead(p->ops.ctx, it)) {
			p->total--;
			*item = it;
			return SPC_VICTIM_DEAD;
		}
		if (p->ops.freq(p->ops.ctx, it) > 0) {
			p->ops.set_freq(p->ops.ctx, it, 0);
			spc_policy_ring_push(&p->chunks, r, it);
			continue;
		}
		p->total--;
		*item = it;
		return SPC_VICTIM_EVICT;
	}
	return SPC_VICTIM_NONE;
}
