/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/wait.h: bounded waits of writers and set_mode for the pool's
 * maintainer (back-pressure; core/wait.c). Private to core/.
 */
#ifndef SPC_CORE_WAIT_H
#define SPC_CORE_WAIT_H

#include <stddef.h>
#include <stdint.h>

struct spc_pstate;
struct spc_ring_cell;

/* Charges bytes, waiting up to full_wait_ms for room. Returns SPC_OK,
 * SPC_EFULL (the pool's bytes stayed at its limit; at once when bytes
 * exceed the pool's whole target) or SPC_EBUSY (the maintainer ran out of
 * free batches, so it could not make room); nothing is charged on error.
 * Counts the refusal (efull or busy_batches). Context: not in read
 * section, holding no ring cell. */
int spc_wait_charge(struct spc_pstate *ps, uint64_t bytes);

/* Reserves a ring cell, waiting up to full_wait_ms. Returns the cell, or
 * NULL on timeout (counted as busy_ring or busy_batches: the caller
 * returns SPC_EBUSY). Ownership: the caller must fill the cell
 * (spc_ring_fill), with NULL if it gives up. Context: not in read
 * section. */
struct spc_ring_cell *spc_wait_ring_cell(struct spc_pstate *ps);
/* Waits up to full_wait_ms for an allocation of size that the slab layer
 * could not serve while its slabs held stranded bytes (spc_pool_alloc_entry):
 * the writer counts in slab_short, so the maintainer evicts until slabs
 * are released, and retries at every uncharge. The caller
 * keeps its charge meanwhile. Returns the allocation, or NULL when the
 * deadline passed or the retry failed for another reason (the caller
 * gives its charge back and refuses). Context: not in read section,
 * holding no ring cell. */
void *spc_wait_slab(struct spc_pstate *ps, size_t size);

/* Waits until the pool's charge is <= target (bounded by ms). Returns
 * SPC_OK or SPC_ETIMEDOUT. Context: not in read section. */
int spc_wait_shed(struct spc_pstate *ps, uint64_t target, unsigned ms);

#endif /* SPC_CORE_WAIT_H */
