/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/hidx.h: the per-height index of the view pool: which entries are
 * filed at which height, so that removing every entry at or above a height
 * (a chain reorganisation) costs time proportional to what it removes.
 *
 * Context: every function runs on the view pool's maintainer only (or the
 * step lock's holder in synchronous mode). No locks, no atomics. Items are
 * opaque pointers (struct spc_entry * in the cache); the index never
 * dereferences them.
 *
 * Layout (core/hidx.c, docs/views.md): a treap of the heights present
 * (one node per height, priorities from a seeded hash of the height, so the
 * same calls give the same shape), each node holding a doubly linked list
 * of slots, one per item; a hash table from item pointer to slot makes
 * removing one item O(1). Cutting a suffix splits the treap once (O(log
 * heights)) and queues the detached subtree; its items are then taken out
 * one call at a time, so the maintainer's work per step stays bounded.
 */
#ifndef SPC_CORE_HIDX_H
#define SPC_CORE_HIDX_H

#include <stddef.h>
#include <stdint.h>

struct spc_env;
struct spc_hidx;

/* Creates an empty index. env's fault hook is consulted on every
 * allocation. Returns SPC_OK or SPC_ENOMEM. Ownership: env must outlive
 * the index; spc_hidx_destroy frees it. */
int spc_hidx_create(const struct spc_env *env, uint64_t seed, struct spc_hidx **out);
/* Frees the index's own memory (items are the caller's). NULL is fine. */
void spc_hidx_destroy(struct spc_hidx *x);

/* Files item at height. Returns SPC_OK, or SPC_ENOMEM (a table could not
 * grow; the index is unchanged: the caller must not keep the item live
 * without it). item must not be filed already. */
int spc_hidx_add(struct spc_hidx *x, void *item, uint64_t height);

/* Drops item wherever it is filed (also in a cut not yet taken).
 * Returns 1 when it was filed, 0 when it was not. */
int spc_hidx_remove(struct spc_hidx *x, const void *item);

/* Detaches every item filed at a height >= from (O(log heights)); they
 * stay filed (spc_hidx_remove finds them) until spc_hidx_take hands them
 * out. Items filed later are not part of the cut. */
void spc_hidx_cut(struct spc_hidx *x, uint64_t from);

/* Hands out one item of the cuts and unfiles it. Returns 1 and *item, or
 * 0 when every cut is empty. Amortised O(1). */
int spc_hidx_take(struct spc_hidx *x, void **item);

/* The lowest height filed outside the cuts and one item filed there (the
 * last one filed). Returns 1 and *item, *height (may be NULL), or 0 when
 * nothing is filed outside the cuts. The item stays filed. O(log heights). */
int spc_hidx_lowest(const struct spc_hidx *x, void **item, uint64_t *height);

/* Items filed (cuts not yet taken included). */
size_t spc_hidx_count(const struct spc_hidx *x);
/* Bytes of the index's own tables. */
size_t spc_hidx_memory(const struct spc_hidx *x);
/* Steady-state bytes per filed item, an upper estimate: a slot, a height
 * node (as if every item had its own height) and the hash table's cells
 * at its lowest load. The cache charges it per height entry. */
size_t spc_hidx_item_bytes(void);

#endif /* SPC_CORE_HIDX_H */
