/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/policy.h: eviction policies (ghost-steered S3-FIFO, S3-FIFO, CLOCK)
 * over opaque items.
 *
 * Context: every function here runs only on the owning pool's maintainer
 * (or, in synchronous-maintenance mode, the one thread that plays it). No
 * locks, no atomics except reading/clearing the items' access counters,
 * which readers bump concurrently with one relaxed test-before-set store.
 *
 * The policy never frees items and never touches the index: it orders them
 * and names victims. The maintainer unpublishes victims and reclaims them.
 * Items marked dead by a writer (replaced or deleted) stay queued until the
 * policy reaches them or a sweep collects them; the policy hands them back
 * through the same calls, flagged as dead, so the maintainer frees them
 * without counting an eviction.
 *
 * Determinism: the same sequence of admit/evict calls and the same access
 * counter values give the same victims. No clock, no randomness.
 */
#ifndef SPC_POLICY_H
#define SPC_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "splitcache.h"

struct spc_env;
struct spc_policy_state;

/* How the policy sees an item. All callbacks are cheap and run on the
 * maintainer; each gets ctx, the owner's context (the cache's pool), so
 * none needs a thread-local to reach it. freq is the item's access counter
 * (0..3, bumped by readers); set_freq sets it (maintainer only; the
 * policies lower it, and steered sets 2 on an item its ghost of M sends
 * back; a racing reader bump may be lost, which only makes the item look
 * colder). */
struct spc_policy_ops {
	unsigned (*freq)(void *ctx, const void *item);
	void (*set_freq)(void *ctx, void *item, unsigned freq);
	int (*dead)(void *ctx, const void *item);      /* replaced or deleted by a writer */
	uint64_t (*hash)(void *ctx, const void *item); /* key hash, for the ghost queue;
	                                                  the same value for an item
	                                                  every time (the policy may
	                                                  keep it while the item is
	                                                  queued) */
	/* Optional (NULL: none): item is queued a few places behind a head
	 * next() is working on, with counter 0, so it is likely among the
	 * next few victims: the owner may ask the CPU now for the lines the
	 * eviction of item will touch. It must change nothing the policy
	 * sees; item stays the policy's. */
	void (*ahead)(void *ctx, const void *item);
	void *ctx;                                     /* handed to every callback */
};

enum spc_victim_kind {
	SPC_VICTIM_NONE = 0, /* policy is empty */
	SPC_VICTIM_EVICT,    /* a live item chosen to make room */
	SPC_VICTIM_DEAD      /* a dead item collected on the way: free, not an eviction */
};

/* Creates a policy. ops (copied, ctx included) says how it sees items.
 * expected_items sizes the ghost and the queues'
 * directories at first and picks the queues' chunk size (all grow on
 * demand). Returns SPC_OK, SPC_EINVAL (unknown kind), SPC_ENOMEM. */
int spc_policy_create(enum spc_policy kind, const struct spc_policy_ops *ops,
                      const struct spc_env *env, size_t expected_items,
                      struct spc_policy_state **out);
/* Frees the policy's own memory; items are the caller's. */
void spc_policy_destroy(struct spc_policy_state *p);

/* Admits a newly published item. Returns SPC_OK or SPC_ENOMEM (a queue
 * could not grow; the item was not admitted and the caller must evict it
 * at once so the policy still tracks every live item). */
int spc_policy_admit(struct spc_policy_state *p, void *item);

/* Prepares the admission of item a few admissions from now: asks the CPU
 * for the ghost lines the admission will read and returns the hash it
 * will need (ops.hash's; 0 for CLOCK, which needs none). Changes nothing.
 * Returns: the value to hand to spc_policy_admit_hashed for item.
 * Context: the maintainer, like every call here. Ownership: item stays
 * the caller's; the policy keeps nothing of it. */
uint64_t spc_policy_admit_ahead(const struct spc_policy_state *p, const void *item);

/* spc_policy_admit, with item's hash from spc_policy_admit_ahead (so the
 * key is hashed once). The same result and the same state afterwards as
 * spc_policy_admit(p, item). Returns SPC_OK or SPC_ENOMEM, as
 * spc_policy_admit. Context, Ownership: as spc_policy_admit. */
int spc_policy_admit_hashed(struct spc_policy_state *p, void *item, uint64_t hash);

/* Removes and returns the next item to let go: a victim chosen by the
 * policy, or a dead item met on the way. Bounded work per call: at most
 * max_scan items are examined (second chances given) before it returns
 * SPC_VICTIM_NONE with *item NULL, so a maintainer step stays bounded. */
enum spc_victim_kind spc_policy_next(struct spc_policy_state *p, size_t max_scan, void **item);

/* Collects up to max_scan queued items that are dead, calling reclaim(arg,
 * item) for each and dropping them from the queues; live items keep their
 * order and counters. Returns how many items were examined. Used after
 * deletes and replacements so their memory comes back without pressure. */
size_t spc_policy_sweep(struct spc_policy_state *p, size_t max_scan,
                        void (*reclaim)(void *arg, void *item), void *arg);

/* Tells the policy that every item it will be given lies 8-byte aligned in
 * the region [base, base + size) (a pool's one contiguous mapping), so
 * that a queue slot holds a 32-bit offset from base in units of 8 bytes
 * instead of a pointer: the queues take half the memory. base NULL (size
 * ignored) goes back to pointer slots, which is also the state after
 * spc_policy_create. Nothing else changes: same victims, same ghost.
 * Returns SPC_OK; SPC_EINVAL when items are queued (the policy must be
 * empty), when base is not 8-byte aligned, or size is 0 or above 32 GiB
 * (2^32 offsets of 8 bytes). On SPC_EINVAL the policy is unchanged.
 * Context: maintainer only, while the policy is empty (before the first
 * admission, or after everything was evicted or swept).
 * Ownership: the policy keeps base; items handed to it afterwards must lie
 * in the region. Debug builds check that on every admission. */
int spc_policy_set_region(struct spc_policy_state *p, const void *base, size_t size);

/* Items queued (live and dead not yet collected). */
size_t spc_policy_size(const struct spc_policy_state *p);
/* Steady-state bytes per queued item of this policy as configured (slot
 * width included): an upper estimate the cache charges per entry. */
size_t spc_policy_item_bytes(const struct spc_policy_state *p);
/* Bytes of the policy's own structures (queues, ghost table). */
size_t spc_policy_memory(const struct spc_policy_state *p);
const char *spc_policy_name(enum spc_policy kind);

#endif /* SPC_POLICY_H */
