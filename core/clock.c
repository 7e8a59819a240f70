/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/clock.c: the cache clock and expiry.
 *
 * Expiry is an absolute deadline in seconds on the cache clock (spc_now:
 * the configured clock, or CLOCK_REALTIME_COARSE seconds, a vDSO read
 * with the same seconds as CLOCK_REALTIME). An entry whose deadline is
 * <= now is a miss for every read and every write: readers test it in
 * spc_lookup_key_rcu only when the entry has an expiry slot.
 *
 * The slot is the only mutable word of an entry's body: touch stores a
 * new deadline in place (core/item.c) and the maintainer's expiry
 * reclaimer claims an expired entry by replacing its passed deadline with
 * SPC_EXPIRY_CLAIMED (spc_expiry_claim), both with a relaxed CAS, so a
 * touch never revives an entry the maintainer is unpublishing
 * (docs/concurrency.md, "Touch's in-place store and expiry").
 *
 * Guarantees (tests/integration/cache/test_items.c, tests/stress):
 *  1. an entry with a deadline at or before the clock is expired for
 *     every reader, and one without a slot never is;
 *  2. a claimed entry is expired whatever the clock says, and stays so:
 *     a touch's CAS fails against the claim.
 */
#include "core/clock.h"

#include <time.h>

#include "core/handle.h"

uint64_t spc_now(struct spc_cache *c)
{
	struct timespec ts;

	if (c && c->cfg.clock)
		return c->cfg.clock(c->cfg.clock_arg);
	/* COARSE: the tick's time, no hardware read; whole seconds are all
	 * we keep. */
	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (uint64_t)ts.tv_sec;
}

int spc_entry_expired(struct spc_cache *c, const struct spc_entry *e)
{
	const uint64_t *slot = spc_entry_expiry_slot((struct spc_entry *)e);
	uint64_t deadline;

	if (!slot)
		return 0;
	/* The acquire orders the slot's initial (plain) write before our
	 * load for ThreadSanitizer; the relaxed load pairs with touch's and
	 * the reclaimer's relaxed CAS: any value either stored is a valid
	 * answer (docs/concurrency.md, "touch"). */
	(void)spc_entry_acquire(e);
	deadline = __atomic_load_n(slot, __ATOMIC_RELAXED);
	return deadline != 0 && spc_deadline_passed(deadline, spc_now(c));
}

int spc_expiry_claim(struct spc_entry *e, uint64_t now)
{
	uint64_t *slot = spc_entry_expiry_slot(e);
	uint64_t seen;

	/* Acquire on meta: the slot's initial write was plain (TSan). */
	(void)spc_entry_acquire(e);
	seen = __atomic_load_n(slot, __ATOMIC_RELAXED);
	/* Relaxed CAS, pairing with touch's: the two race on this word
	 * alone; whichever CAS lands first decides, the other reloads. */
	do {
		if (!spc_deadline_passed(seen, now))
			return 0;
	} while (!__atomic_compare_exchange_n(slot, &seen, SPC_EXPIRY_CLAIMED, 0, __ATOMIC_RELAXED,
	                                      __ATOMIC_RELAXED));
	return 1;
}
