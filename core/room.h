/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/room.h: a pool's room (core/room.c): its entries' bytes, giving
 * bytes back and waking, kicking the maintainer, noting an unpublished
 * entry. Private to core/.
 */
#ifndef SPC_CORE_ROOM_H
#define SPC_CORE_ROOM_H

#include <stdint.h>

#include "core/entry.h"
#include "core/handle.h"
#include "pools/pools.h"

/* The charge of an entry: usable size plus its share of index and policy. */
static inline uint64_t spc_entry_charge(const struct spc_pstate *ps, const struct spc_entry *e)
{
	return spc_pool_usable(ps->pool, spc_entry_alloc_size(e)) + ps->entry_share;
}

/* charged - backlog - index bytes: bytes of live entries (an estimate
 * under writers), what the watermarks see. The slab layer's free slots do
 * not count: a size in use reuses its own first, and a writer whose size
 * cannot get a slab waits while the maintainer empties some
 * (spc_wait_slab). Context: any thread. */
uint64_t spc_live_bytes(const struct spc_pstate *ps);
/* What target leaves for entries: target less the index's tables
 * (charged to the pool). The watermarks
 * compare the entries' bytes with it, so that the pool's charge, tables
 * included, settles below its target. Context: any thread. */
uint64_t spc_entry_room(const struct spc_pstate *ps, uint64_t target);

/* Wakes writers and set_mode waiting for room (after a target grew, or
 * bytes were uncharged): bumps room_gen under mu. Context: any thread
 * holding no lock of the pool. */
void spc_room_wake(struct spc_pstate *ps);
/* Gives bytes back to the pool and wakes whoever waits for room: every
 * uncharge outside the maintainer goes through here, so no waiter sleeps
 * to its deadline while room exists. Context: not the maintainer's step
 * (it uses spc_maint_uncharge). */
void spc_uncharge(struct spc_pstate *ps, uint64_t bytes);
/* The maintainer's (or synchronous stepper's) uncharge: the waiters are
 * woken once, at the end of its step. Context: the maintainer. */
void spc_maint_uncharge(struct spc_pstate *ps, uint64_t bytes);
/* Wakes the maintainer (cheap if a wake-up is already pending).
 * Context: any thread. */
void spc_kick(struct spc_pstate *ps);
/* Notes an entry unpublished by a writer (replace, delete, clear): it is
 * dead, its bytes are backlog, the maintainer will reclaim it.
 * Context: any thread; the caller's own removal or replace took e out. */
void spc_note_unpublished(struct spc_pstate *ps, struct spc_entry *e);

/* The maintainer thread names its pool (debug builds check the spc_maint_
 * naming contract with it, docs/style.md 4). Context: the maintainer
 * thread, first thing. */
void spc_maint_thread_set(const struct spc_pstate *ps);
/* Nonzero when the caller is ps's maintainer: its thread, or the step
 * lock's holder in synchronous mode. Context: any thread. */
int spc_is_maintainer(const struct spc_pstate *ps);

#endif /* SPC_CORE_ROOM_H */
