/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pools/slab.h: fine size classes for small entries, between spc_pool_* and
 * the pool's jemalloc arena. Private to pools/ and its unit tests.
 *
 * An allocation of n <= SPC_SLAB_MAX_CLASS bytes takes one slot of the
 * smallest class >= n from a 16 or 64 KiB slab of that class; larger go to
 * the arena directly. The algorithm, its limits and its guarantees are in
 * the essay at the top of slab.c.
 */
#ifndef SPC_SLAB_H
#define SPC_SLAB_H

#include <stddef.h>
#include <stdint.h>

#include "splitcache.h"

struct spc_arena;
struct spc_env;
struct spc_slabs;

/* Slabs are aligned to their size: 16 KiB for classes up to 256 bytes (at
 * least 63 slots), 64 KiB above (at least 31 slots of 2 KiB). Header and
 * tail cost at most 3.3 % of a slab's slots (2048 B), 0.6 % for 168 B. */
#define SPC_SLAB_SMALL_BYTES ((size_t)16 << 10)
#define SPC_SLAB_BYTES ((size_t)64 << 10)
#define SPC_SLAB_SMALL_CLASSES 32         /* classes 0..31 (<= 256 B) use small slabs */
#define SPC_SLAB_HEADER 64                /* the slab's header, first cache line */
#define SPC_SLAB_MAX_CLASS 2048           /* larger sizes go to the arena */
/* 8-byte steps 8..256, 16-byte to 512, 32-byte to 1 KiB, 64-byte to 2 KiB */
#define SPC_SLAB_NCLASSES (32 + 16 + 16 + 16)
/* Released slabs keep their pages while they stay within 1/SPC_SLAB_KEEP_DIV
 * of their slab size's chunk bytes (slab.c, "released slabs"); beyond it a
 * released slab's pages go back to the system at once. 0: every release
 * gives its pages back. */
#ifndef SPC_SLAB_KEEP_DIV
#define SPC_SLAB_KEEP_DIV 16
#endif

/* The class index of a size 1 <= n <= SPC_SLAB_MAX_CLASS: the smallest
 * class whose size is >= n. Pure. Context: any thread. */
static inline unsigned spc_slab_class_of(size_t n)
{
	if (n <= 256)
		return n <= 8 ? 0 : (unsigned)((n - 1) / 8);
	if (n <= 512)
		return 32 + (unsigned)((n - 257) / 16);
	if (n <= 1024)
		return 48 + (unsigned)((n - 513) / 32);
	return 64 + (unsigned)((n - 1025) / 64);
}

/* The size of class i < SPC_SLAB_NCLASSES (a multiple of 8). Pure. */
static inline size_t spc_slab_class_size(unsigned i)
{
	if (i < 32)
		return 8 * ((size_t)i + 1);
	if (i < 48)
		return 256 + 16 * ((size_t)i - 31);
	if (i < 64)
		return 512 + 32 * ((size_t)i - 47);
	return 1024 + 64 * ((size_t)i - 63);
}

/* The slab size of class i. Pure. */
static inline size_t spc_slab_bytes(unsigned i)
{
	return i < SPC_SLAB_SMALL_CLASSES ? SPC_SLAB_SMALL_BYTES : SPC_SLAB_BYTES;
}

/* Slots of class i in one slab (after the header). Pure. */
static inline size_t spc_slab_slots(unsigned i)
{
	return (spc_slab_bytes(i) - SPC_SLAB_HEADER) / spc_slab_class_size(i);
}

/* Creates a slab layer over arena a (any kind; pool.c creates none for
 * malloc arenas and in SPC_POOL_MALLOC builds, so ASan sees each entry's
 * lifetime). Returns NULL when its bookkeeping cannot be allocated (fault
 * site SPC_FAULT_MALLOC): the pool then allocates every size from the
 * arena; never fatal. region_bytes sizes the chunks (0: no region).
 * Context: any thread. Ownership: spc_slabs_destroy frees. */
struct spc_slabs *spc_slabs_create(struct spc_arena *a, const struct spc_env *env,
                                   size_t region_bytes);
/* Bounds the slab layer's growth: a new slab of bytes is taken only
 * while may_grow(arg, bytes) says yes (pools/pool.c: while the pool's
 * charge plus its free slots stay within its target), so stranded slots
 * cannot carry the resident memory past the budget; an allocation it
 * refuses returns NULL. Without a bound, slabs grow up to the region.
 * Context: after create, before any allocation. */
void spc_slabs_set_bound(struct spc_slabs *s, int (*may_grow)(void *arg, uint64_t bytes),
                         void *arg);
/* Gives every chunk back to the arena, live slots or not, and frees the
 * bookkeeping. NULL is a no-op. Context: any thread, no concurrent use;
 * before the arena is destroyed. */
void spc_slabs_destroy(struct spc_slabs *s);

/* One slot of class spc_slab_class_of(n), 0 < n <= SPC_SLAB_MAX_CLASS;
 * NULL when no slab has a free slot and no new chunk can be had (region
 * exhausted, system refusal, fault site SPC_FAULT_MALLOC for a chunk's
 * descriptor). The slot is 8-byte aligned, its content undefined.
 * Context: any thread. */
void *spc_slabs_alloc(struct spc_slabs *s, size_t n);
/* Frees p = spc_slabs_alloc(s, n). Context: any thread (the RCU callback
 * thread included). */
void spc_slabs_free(struct spc_slabs *s, void *p, size_t n);
/* Frees p[i] = spc_slabs_alloc(s, n[i]) for i < count, as count calls of
 * spc_slabs_free would, but takes a class's lock once for a run of
 * consecutive slots of that class (at most SPC_SLAB_FREE_RUN of them, so
 * a writer waiting for the class waits for one short run) and updates
 * the statistics once per run. For the RCU callbacks, which free a
 * batch of evicted entries at a time. Context: any thread. */
#define SPC_SLAB_FREE_RUN 32u
void spc_slabs_free_many(struct spc_slabs *s, void *const *p, const size_t *n, size_t count);

/* Gives the pages of every released slab back to the system (all but
 * each slab's header page). For a pool that shrank, or an explicit trim.
 * Takes the layer's chunk lock across the madvise calls. NULL is a no-op.
 * Context: any thread. */
void spc_slabs_purge(struct spc_slabs *s);

/* Bytes of slabs given to classes minus the class bytes of live slots:
 * resident memory the charge does not count (free slots, headers, tails,
 * cached empty slabs). Relaxed reads, a moment old. NULL s: 0.
 * Context: any thread. */
uint64_t spc_slabs_excess(const struct spc_slabs *s);
/* The part of the excess that is free slots of partly used slabs (the
 * cached empty slabs aside: any allocation of their class takes them
 * first): room for entries of their classes, stranded for the others.
 * Relaxed reads, a moment old. NULL s: 0. Context: any thread. */
uint64_t spc_slabs_free_slot_bytes(const struct spc_slabs *s);
/* Fills the slab_* fields of out (a moment old, without locks).
 * NULL s: zeros. Context: any thread. */
void spc_slabs_stats(const struct spc_slabs *s, struct spc_mem_pool_report *out);

#endif /* SPC_SLAB_H */
