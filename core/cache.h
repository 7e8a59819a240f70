/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/cache.h: the cache handle, its two pools' runtime state, the
 * per-thread statistics slots and the inlined read path.
 *
 * Private to core/ (and its tests). The public contract is in
 * include/splitcache.h, the full picture of who touches what in
 * docs/concurrency.md.
 */
#ifndef SPC_CORE_CACHE_H
#define SPC_CORE_CACHE_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#if SPC_INDEX_COMPACT
#include "core/index.h"
#else
#include <urcu/rculfhash.h>
#endif

#include "base/base.h"
#include "core/handle.h"
#include "core/key.h"
#include "core/kv_index.h"
#include "core/maint.h"
#include "core/clock.h"
#include "core/debug.h"
#include "core/entry.h"
#include "core/forced.h"
#include "core/policy.h"
#include "core/reclaim.h"
#include "core/room.h"
#include "core/stats.h"
#include "core/view_maint.h"
#include "core/wait.h"
#include "pools/pools.h"
#include "splitcache.h"
#include "sync/rcu.h"
#include "sync/ring.h"
#include "sync/thread.h"

/* Tests only (internal, not exported): called on the maintainer for every
 * entry evicted to make room, after it was unpublished. Set right after
 * spc_open, before any write. */
void spc_cache_set_evict_hook(struct spc_cache *c, spc_evict_hook_fn *fn, void *arg);

/* Tests and tools (internal): waits up to ms until both maintainers have
 * admitted every record, reclaimed every dead entry and every batch's
 * grace period ended (backlog 0), and both maintainers sleep (what their
 * steps wrote is then visible to the caller). Returns SPC_OK or SPC_ETIMEDOUT.
 * Context: not in read section; no concurrent writers. */
int spc_cache_quiesce(struct spc_cache *c, unsigned ms);


/* The read path (docs/style.md 10): hash, lookup, touch, count. Never
 * allocates, never blocks. Context: read section of a registered thread.
 * Forced inline into the public gets (core/cache.c), so that a get is
 * one call deep (the hash aside); callgrind put the call and the
 * registers it saves at 19 instructions of about 330 per get
 * (docs/benchmarks.md, "One spc_get hit, profiled"). Other callers use
 * spc_lookup_key_rcu, which the compiler may keep out of line. */
static inline __attribute__((always_inline)) struct spc_entry *
spc_lookup_key_rcu_inl(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k)
{
	uint64_t hash = spc_key_hash(c, k);
	struct spc_entry *e = NULL;

	unsigned looks = 1;

	SPC_ASSERT_IN_RCU();
again:
	e = spc_kv_lookup_rcu(&c->ps[pool], hash, k, NULL);
	if (e) {
		unsigned meta = spc_entry_meta(e);

		/* One predictable branch for plain entries. The dead flag is
		 * set after the entry left the index (replaced, deleted,
		 * evicted): look again, so a get racing with a replace finds
		 * the new entry instead of a miss. At most SPC_READ_LOOKS
		 * looks, so that writers replacing the key without pause
		 * cannot keep a reader looping: the last dead entry found is
		 * the answer, linearised at the load of its slot (it was in
		 * the index then, and stays valid memory until the section
		 * ends). Expired entries are misses. */
		if (__builtin_expect((meta & (SPC_META_DEAD | SPC_META_EXPIRY)) != 0, 0)) {
			if ((meta & SPC_META_DEAD) && looks++ < SPC_READ_LOOKS)
				goto again;
			if ((meta & SPC_META_EXPIRY) && spc_entry_expired(c, e))
				e = NULL;
		}
	}
	if (e) {
		spc_entry_touch(e);
		spc_count(c, pool, SPC_C_HITS, 1);
	} else {
		spc_count(c, pool, SPC_C_MISSES, 1);
	}
	/* Relaxed: toggled at run time; a lookup racing with the toggle may
	 * be noted or not. spc_debug_note reaches the state by an acquire. */
	if (__builtin_expect(__atomic_load_n(&c->debug_on, __ATOMIC_RELAXED) != 0, 0))
		spc_debug_note(c, pool, k->key, k->klen, e != NULL);
	return e;
}

/* The same read path, for the other callers (inlined or not, as the
 * compiler sees fit). Returns, Context: as spc_lookup_key_rcu_inl. */
static inline struct spc_entry *spc_lookup_key_rcu(struct spc_cache *c, enum spc_pool_id pool,
                                                   const struct spc_key *k)
{
	return spc_lookup_key_rcu_inl(c, pool, k);
}

/* The plain namespace's read path (inlined: the namespace folds away). */
static inline struct spc_entry *spc_lookup_rcu(struct spc_cache *c, enum spc_pool_id pool,
                                               const void *key, size_t klen)
{
	struct spc_key k = { key, klen, SPC_NS_PLAIN, 0 };

	return spc_lookup_key_rcu(c, pool, &k);
}

/* The lookups of every namespace (core/cache.c); spc_get_rcu / spc_get and
 * the view namespaces' reads are thin wrappers. Returns and context as
 * spc_get_rcu / spc_get. */
int spc_get_key_rcu(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k,
                    struct spc_value *out);
int spc_get_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k, void *buf,
                size_t cap, size_t *vlen);

/* The store and delete of every namespace (core/cache.c); the public calls
 * are thin wrappers. Modes, item and cas_out as spc_store; returns and
 * context as spc_store / spc_delete. */
int spc_store_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k,
                  enum spc_store_mode mode, const void *val, size_t vlen,
                  const struct spc_item *item, uint64_t *cas_out);
int spc_delete_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k);
/* The answer of a cache without cas (no_cas) to a request that names a
 * cas, which no entry can match: SPC_EEXISTS when k has a live entry,
 * SPC_ENOTFOUND when not (memcached -C's EXISTS / NOT_FOUND). Changes
 * nothing. Context: registered thread, not in read section. */
int spc_cas_refused(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k);
/* As spc_delete_key, only if the live entry's cas is cas_expect (0: any):
 * SPC_EEXISTS otherwise, and nothing is removed. */
int spc_delete_key_cas(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k,
                       uint64_t cas_expect);
/* spc_arith, spc_gat and spc_touch (out NULL) of a validated key of any
 * namespace (core/item.c). spc_gat_key's *cas_out (may be NULL) is set
 * only when a new entry was published: a touch in place publishes none. */
int spc_arith_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k, int decr,
                  uint64_t delta, uint64_t cas_expect, uint64_t *value_out, uint64_t *cas_out);
int spc_gat_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k,
                uint64_t expiry, void *buf, size_t cap, struct spc_value *out, uint64_t *cas_out);

#endif /* SPC_CORE_CACHE_H */
