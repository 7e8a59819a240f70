/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/clock.h: the cache clock and the expiry test (core/clock.c).
 * Private to core/.
 */
#ifndef SPC_CORE_CLOCK_H
#define SPC_CORE_CLOCK_H

#include <stdint.h>

#include "core/entry.h"

struct spc_cache;

/* Nonzero when e has an expiry whose deadline has passed on the cache
 * clock (spc_now). Out of line: only entries with SPC_META_EXPIRY get
 * here. Context: the caller found e through the index, inside a read
 * section (or unpublished it itself). */
int spc_entry_expired(struct spc_cache *c, const struct spc_entry *e);

/* Claims an expired entry for the expiry reclaimer: replaces its passed
 * deadline (on the clock reading now) by SPC_EXPIRY_CLAIMED. Returns 1
 * when claimed (the entry is then expired for good: a touch's CAS fails
 * against the claim), 0 when its deadline has not passed (or a touch
 * moved it since). Context: the pool's maintainer; e has an expiry slot. */
int spc_expiry_claim(struct spc_entry *e, uint64_t now);

#endif /* SPC_CORE_CLOCK_H */
