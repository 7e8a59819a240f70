/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/kv_index.h: the seam between the cache and its index (core/index.c:
 * cache-line buckets of tagged 8-byte references to the entry's address;
 * tables from the pool's arena, charged exactly, core/kv_index_compact.c).
 * Every index operation of core/ goes through the functions here.
 *
 * The lookups are inline, the rest out of line.
 *
 * Return codes of the writes are the cache's: SPC_OK, SPC_EEXISTS,
 * SPC_ENOTFOUND, SPC_EFULL (no free slot, the maintainer's
 * growth fell behind or failed to allocate; the writer's "no room").
 *
 * Context, for the whole module: registered threads; *_rcu inside a
 * read-side section, the rest outside any.
 */
#ifndef SPC_CORE_KV_INDEX_H
#define SPC_CORE_KV_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "core/entry.h"
#include "core/handle.h"
#include "core/key.h"

/* Initial (and minimum allocated) buckets of each pool's index. */
#define SPC_INDEX_INIT_BUCKETS 1024ul


static inline int spc_kv_match(const void *e, const void *k)
{
	return spc_match_entry(e, k);
}

static inline int spc_kv_match_plain(const void *e, const void *k)
{
	return spc_match_plain(e, k);
}

static inline int spc_kv_same(const void *e, const void *k)
{
	return e == k;
}

/* The entry of key k (hash = spc_key_hash(c, k)), or NULL.
 * Returns: valid until the section ends. Context: read section. */
static inline struct spc_entry *spc_kv_lookup_rcu(struct spc_pstate *ps, uint64_t hash,
                                                  const struct spc_key *k)
{
	return spc_index_lookup_rcu(&ps->ix, hash, spc_kv_match, k);
}

/* The same for a plain key (k->ns == SPC_NS_PLAIN): the match is all
 * inline (spc_match_plain). Returns, Context: as spc_kv_lookup_rcu. */
static inline __attribute__((always_inline)) struct spc_entry *
spc_kv_lookup_plain_rcu(struct spc_pstate *ps, uint64_t hash, const struct spc_key *k)
{
	return spc_index_lookup_rcu(&ps->ix, hash, spc_kv_match_plain, k);
}

/* The home bucket's part of spc_kv_lookup_plain_rcu (spc_index_home_rcu):
 * the entry, or NULL with *walk nonzero when only the full lookup can
 * tell. Returns, Context: as spc_kv_lookup_rcu. */
static inline __attribute__((always_inline)) struct spc_entry *
spc_kv_home_plain_rcu(struct spc_pstate *ps, uint64_t hash, const struct spc_key *k, int *walk)
{
	return spc_index_home_rcu(&ps->ix, hash, spc_kv_match_plain, k, walk);
}

/* Asks the CPU for the bucket line of hash, for writing: a write
 * computes its key's hash, then charges and allocates before it locks
 * that line, so the likely cache miss on it runs during that work
 * (core/edit.c). A prefetch changes nothing and never faults.
 * Context: read section (the table stays allocated). */
static inline void spc_kv_prefetch_rcu(struct spc_pstate *ps, uint64_t hash)
{
	/* acquire, as lookups: the table's mask is read through it */
	const struct spc_index_table *t = __atomic_load_n(&ps->ix.cur, __ATOMIC_ACQUIRE);

	__builtin_prefetch(&t->b[hash & ps->ix.hash_mask & t->mask], 1);
}

/* The hash the index files e under: its key's. */
static inline uint64_t spc_kv_entry_hash(const struct spc_pstate *ps, const struct spc_entry *e)
{
	struct spc_key k = spc_entry_skey(e);

	return spc_key_hash(ps->cache, &k);
}

/* A hash of e's key for the policy (its ghost): stable per key and the
 * same in every cache: the key hashed with seed 0 and its namespace mixed
 * in. */
static inline uint64_t spc_kv_policy_hash(const struct spc_entry *e)
{
	struct spc_key k = spc_entry_skey(e);
	uint64_t seed = 0;

	if (k.ns != SPC_NS_PLAIN)
		seed ^= k.ns * SPC_NS_SEED_MUL + k.height * SPC_HEIGHT_SEED_MUL;
	return XXH3_64bits_withSeed(k.key, k.klen, seed);
}

/* Nonzero while e is in the index (not replaced, deleted or evicted).
 * Context: read section, e found in it or held by the caller. */
static inline int spc_kv_linked_rcu(struct spc_pstate *ps, const struct spc_entry *e)
{
	return spc_index_lookup_rcu(&ps->ix, spc_kv_entry_hash(ps, e), spc_kv_same, e) != NULL;
}

/* Inserts e unless its key is present. Returns SPC_OK, SPC_EEXISTS (*found
 * = the present entry) or SPC_EFULL. */
static inline int spc_kv_add_rcu(struct spc_pstate *ps, uint64_t hash, const struct spc_key *k,
                                 struct spc_entry *e, struct spc_entry **found)
{
	void *f = NULL;
	int r = spc_index_add_rcu(&ps->ix, hash, spc_kv_match, k, e, &f);

	*found = f;
	return r == SPC_EINVAL ? SPC_EFULL : r;
}

/* Inserts e, replacing the present entry of its key if any (*old, or
 * NULL). Returns SPC_OK or SPC_EFULL. */
static inline int spc_kv_set_rcu(struct spc_pstate *ps, uint64_t hash, const struct spc_key *k,
                                 struct spc_entry *e, struct spc_entry **old)
{
	void *o = NULL;
	int r = spc_index_set_rcu(&ps->ix, hash, spc_kv_match, k, e, &o);

	*old = o;
	return r == SPC_EINVAL ? SPC_EFULL : r;
}

/* Replaces old (found by spc_kv_lookup_rcu in this section) by e, both
 * under the same key (hash). Returns SPC_OK, or SPC_ENOTFOUND when old
 * left the index meanwhile. */
static inline int spc_kv_replace_rcu(struct spc_pstate *ps, uint64_t hash,
                                     struct spc_entry *old, struct spc_entry *e)
{
	return spc_index_replace_rcu(&ps->ix, hash, old, e) == SPC_OK ? SPC_OK : SPC_ENOTFOUND;
}

/* Takes e out (by identity). Returns SPC_OK, or SPC_ENOTFOUND when
 * someone else did. hash: e's (spc_kv_entry_hash). */
static inline int spc_kv_remove_rcu(struct spc_pstate *ps, uint64_t hash, struct spc_entry *e)
{
	return spc_index_remove_rcu(&ps->ix, hash, e);
}


/* ---- out of line (core/kv_index_compact.c) ---- */

/* Creates ps's index (ps->pool and ps->cache set). Returns SPC_OK or
 * SPC_ENOMEM. Context: open, before the pool is shared. */
int spc_kv_init(struct spc_pstate *ps);
/* Frees the index (entries already taken out and freed). Context: close,
 * after the last grace period. */
void spc_kv_destroy(struct spc_pstate *ps);
/* Unpublishes every entry (spc_note_unpublished for each, exactly like a
 * delete) in one read section over the whole index (grace periods wait
 * for the walk). Returns how many. Entries published
 * concurrently may survive. Context: outside any read section. */
uint64_t spc_kv_unpublish_all(struct spc_pstate *ps);
/* The maintainer's index work for one step: grows (or shrinks) the index
 * for `items` entries, a bounded amount per call. Returns nonzero while a
 * resize goes on (step again soon). Context: the maintainer (or the
 * synchronous step), outside any read section. */
int spc_kv_maint(struct spc_pstate *ps, size_t items);
/* Whether the index had the size its last spc_kv_maint wanted, with no
 * resize going on or waiting for a retry: a maintainer that goes to sleep
 * while this is 0 comes back soon, and a quiet cache (spc_cache_quiesce)
 * waits for it. Context: any thread. */
int spc_kv_settled(const struct spc_pstate *ps);
/* Bytes the maintainer should make room for so that the index can grow
 * (a growth refused for lack of room), or 0. Context: the maintainer. */
uint64_t spc_kv_room_need(const struct spc_pstate *ps);
/* Bytes of the index's tables, charged to the pool. Context: any
 * thread. */
uint64_t spc_kv_bytes(const struct spc_pstate *ps);
/* Calls fn for every entry in the index. For tests and diagnostics.
 * Context: read section (or no concurrent user). */
void spc_kv_for_each_rcu(struct spc_pstate *ps, void (*fn)(void *arg, struct spc_entry *e),
                         void *arg);

#endif /* SPC_CORE_KV_INDEX_H */
