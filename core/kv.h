/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/kv.h: the key-value engine (core/kv.c): get, store and delete of
 * every namespace, and the read path, inline (docs/style.md 10): the
 * public calls of core/cache.c, the namespaces of core/view.c and the
 * item calls of core/item.c are thin wrappers. Private to core/.
 */
#ifndef SPC_CORE_KV_H
#define SPC_CORE_KV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/clock.h"
#include "core/debug.h"
#include "core/entry.h"
#include "core/handle.h"
#include "core/key.h"
#include "core/kv_index.h"
#include "core/stats.h"
#include "splitcache.h"
#include "sync/rcu.h"

/* Lookups a get makes at most when it keeps finding entries that were
 * just taken out of the index (spc_lookup_key_rcu_inl). */
#define SPC_READ_LOOKS 4u

static inline int spc_pool_ok(int pool)
{
	return pool == SPC_POOL_INDEX || pool == SPC_POOL_VIEW;
}

/* The read path (docs/style.md 10): hash, lookup, touch, count. Never
 * allocates, never blocks. Context: read section of a registered thread.
 * Forced inline into the public gets (core/cache.c), so that a get is
 * one call deep; callgrind put the call and the registers it saves at 19
 * instructions of about 330 per get (docs/benchmarks.md, "One spc_get
 * hit, profiled"). plain: a constant, nonzero when k is a plain key
 * (SPC_NS_PLAIN) known as such before the caller's read lock: then
 * nothing out of line is handed k's address (spc_match_plain), so the
 * compiler keeps k in registers; with k's address escaping, the read
 * lock's compiler barrier made it reload k's fields from the stack
 * after it (docs/benchmarks.md, "2026-12-06: the get path's
 * instructions"). Other callers use spc_lookup_key_rcu, which the
 * compiler may keep out of line. */
static inline __attribute__((always_inline)) struct spc_entry *
spc_read_path_inl(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k,
                  const int plain)
{
	struct spc_pstate *ps = &c->ps[pool];
	uint64_t hash = plain ? spc_hash_bytes(k->key, k->klen, c->seed) : spc_key_hash(c, k);
	struct spc_entry *e = NULL;
	unsigned looks = 1;

	SPC_ASSERT_IN_RCU();
again:
	e = plain ? spc_kv_lookup_plain_rcu(ps, hash, k) : spc_kv_lookup_rcu(ps, hash, k);
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

/* The read path of a key of any namespace. Returns, Context: as
 * spc_read_path_inl. */
static inline __attribute__((always_inline)) struct spc_entry *
spc_lookup_key_rcu_inl(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k)
{
	return spc_read_path_inl(c, pool, k, 0);
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

	return spc_read_path_inl(c, pool, &k, 1);
}

/* The value of e, found by a lookup in this read section: the acquire of
 * meta first (spc_entry_acquire, which reads the cas when there is one),
 * then the immutable fields. An entry
 * without optional fields (the common case) has no flags, no expiry and
 * its value right after the key. */
static inline void spc_value_of(const struct spc_entry *e, struct spc_value *out)
{
	unsigned meta = spc_entry_acquire_meta(e, &out->cas);

	out->len = e->vlen;
	if (__builtin_expect((meta & SPC_META_OPTIONAL) == 0, 1)) {
		out->data = e->data + e->klen;
		out->flags = 0;
		out->expiry = 0;
	} else {
		out->data = spc_entry_value(e);
		out->flags = spc_entry_flags(e);
		out->expiry = spc_entry_expiry(e);
	}
}

/* The value bytes of e, found by a lookup in this read section, for the
 * copy-out get, which needs neither the cas nor flags nor expiry: the
 * acquire of meta (as spc_value_of's; no cas load), then the immutable
 * fields. */
static inline const unsigned char *spc_value_data(const struct spc_entry *e)
{
	/* acquire: pairs with the writer's spc_entry_publish (entry.h) */
	unsigned meta = __atomic_load_n(&e->meta, __ATOMIC_ACQUIRE);

	if (__builtin_expect((meta & SPC_META_OPTIONAL) == 0, 1))
		return e->data + e->klen;
	return spc_entry_value(e);
}

static inline int spc_key_ok(const struct spc_key *k)
{
	return k->key && k->klen != 0 && k->klen <= SPC_KEY_MAX;
}

/* The bodies of the two reads, inlined into each public call (docs/style.md
 * 10): spc_get_rcu and spc_get (core/cache.c) reach the index in one call,
 * not through spc_get_key_rcu / spc_get_key, and the plain namespace
 * folds away (plain: a constant, as spc_read_path_inl's). Returns and
 * context as spc_get_rcu / spc_get. */
static inline __attribute__((always_inline)) int
spc_get_key_rcu_inl(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k,
                    struct spc_value *out, const int plain)
{
	struct spc_entry *e;

	if (!c || !spc_pool_ok(pool) || !spc_key_ok(k) || !out)
		return SPC_EINVAL;
	e = spc_read_path_inl(c, pool, k, plain);
	if (!e)
		return SPC_ENOTFOUND;
	spc_value_of(e, out);
	return SPC_OK;
}

static inline __attribute__((always_inline)) int
spc_get_key_inl(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k, void *buf,
                size_t cap, size_t *vlen, const int plain)
{
	struct spc_entry *e;
	int r = SPC_OK;

	/* one branch: the tests are cheap and have no side effect */
	if (__builtin_expect(!c | !spc_pool_ok(pool) | !spc_key_ok(k) | !vlen | (!buf & (cap > 0)),
	                     0))
		return SPC_EINVAL;
	spc_rcu_read_lock();
	e = spc_read_path_inl(c, pool, k, plain);
	if (!e) {
		r = SPC_ENOTFOUND;
	} else {
		const unsigned char *data = spc_value_data(e);
		size_t len = e->vlen;

		*vlen = len;
		if (cap < len)
			r = SPC_ERANGE;
		else if (len)
			memcpy(buf, data, len);
	}
	spc_rcu_read_unlock();
	return r;
}

/* spc_get in full (spc_get_key_inl of the plain key): spc_get's slow
 * path (spc_get_plain_inl). Returns and context as spc_get (in a read
 * section or not). */
int spc_get_plain(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen,
                  void *buf, size_t cap, size_t *vlen);

/* spc_get, inlined into it: the common case in straight code that calls
 * nothing but the copy's memcpy, everything else through spc_get_plain.
 * The common case: a plain key of 8 to 16 bytes (XXH3 and the key
 * compare inline, no memcmp), a registered thread whose last-used
 * statistics slot is c's, debug mode off, the key's home bucket enough
 * to answer (spc_kv_home_plain_rcu: no overflow, no resize) and an entry
 * found neither dead nor with optional fields (flags, expiry). Anything
 * else, bad arguments included, goes to spc_get_plain before any side
 * effect (no count, no touch, nothing written), which answers with the
 * same meaning: before the read lock as a tail call, after it inside the
 * section (nested). So no key is built on the stack and reloaded after
 * the read lock's compiler barrier (nothing out of line gets its
 * address), and the registration, the walk past the home bucket, the
 * dead entry's second look, the expiry clock, the debug note and the
 * statistics slot's search are the slow path's (docs/benchmarks.md,
 * "2026-12-06: spc_get's common case"). Returns, Context: as spc_get. */
static inline __attribute__((always_inline)) int
spc_get_plain_inl(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen,
                  void *buf, size_t cap, size_t *vlen)
{
	struct spc_key k = { key, klen, SPC_NS_PLAIN, 0 };
	struct spc_tslot *slot;
	struct spc_entry *e;
	uint64_t hash;
	int walk, r;

	/* cheap tests without side effects, one predictable branch each
	 * (klen - 8 wraps below 8) */
	if (__builtin_expect(!c, 0) || __builtin_expect(!key, 0) ||
	    __builtin_expect((unsigned)pool > SPC_POOL_VIEW, 0) ||
	    __builtin_expect(klen - 8 > 8, 0) || __builtin_expect(!vlen, 0) ||
	    __builtin_expect(!buf && cap > 0, 0))
		return spc_get_plain(c, pool, key, klen, buf, cap, vlen);
	slot = spc_tslot_last(c);
	/* relaxed: as spc_read_path_inl's load of debug_on */
	if (__builtin_expect(!slot, 0) || __builtin_expect(!spc_rcu_is_registered(), 0) ||
	    __builtin_expect(__atomic_load_n(&c->debug_on, __ATOMIC_RELAXED) != 0, 0))
		return spc_get_plain(c, pool, key, klen, buf, cap, vlen);
	hash = spc_hash_bytes(key, klen, c->seed);
	spc_rcu_read_lock_registered();
	e = spc_kv_home_plain_rcu(&c->ps[pool], hash, &k, &walk);
	if (e) {
		/* acquire: pairs with the writer's spc_entry_publish, as
		 * spc_value_data's */
		unsigned meta = __atomic_load_n(&e->meta, __ATOMIC_ACQUIRE);
		size_t len;

		if (__builtin_expect((meta & (SPC_META_DEAD | SPC_META_OPTIONAL)) != 0, 0))
			goto slow;
		len = e->vlen;
		*vlen = len;
		spc_entry_touch(e);
		spc_count_in(slot, pool, SPC_C_HITS, 1);
		r = SPC_ERANGE;
		if (cap >= len) {
			if (len)
				memcpy(buf, e->data + e->klen, len);
			r = SPC_OK;
		}
	} else {
		if (__builtin_expect(walk, 0))
			goto slow;
		spc_count_in(slot, pool, SPC_C_MISSES, 1);
		r = SPC_ENOTFOUND;
	}
	spc_rcu_read_unlock();
	return r;
slow:
	r = spc_get_plain(c, pool, key, klen, buf, cap, vlen);
	spc_rcu_read_unlock();
	return r;
}

/* The lookups of every namespace (core/kv.c); spc_get_rcu / spc_get and
 * the view namespaces' reads are thin wrappers. Returns and context as
 * spc_get_rcu / spc_get. */
int spc_get_key_rcu(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k,
                    struct spc_value *out);
int spc_get_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k, void *buf,
                size_t cap, size_t *vlen);

/* The store and delete of every namespace (core/kv.c); the public calls
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

#endif /* SPC_CORE_KV_H */
