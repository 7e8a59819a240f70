/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/key.h: a key as the index sees it (namespace, height, bytes), its
 * hash and its match against an entry. Inline only, no .c file. Private
 * to core/.
 */
#ifndef SPC_CORE_KEY_H
#define SPC_CORE_KEY_H

#include <stddef.h>
#include <stdint.h>

/* xxhash.h in header-only mode: XXH3 is compiled into the library, so the
 * read path hashes with a local call (the compiler keeps spc_key_hash out
 * of line: XXH3's long-key branches are large) instead of a call through
 * the PLT into libxxhash; 4 instructions less per get. Same function, same
 * values. Defined here, before the first inclusion; the names stay static. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/entry.h"
#include "core/handle.h"

/* A key as the index sees it: namespace, height (SPC_NS_HEIGHT only) and
 * the key bytes. Plain keys are {key, klen, SPC_NS_PLAIN, 0}. */
struct spc_key {
	const void *key;
	size_t klen;
	unsigned ns;     /* enum spc_ns */
	uint64_t height; /* 0 unless ns is SPC_NS_HEIGHT */
};

/* Seed mixers for the namespaced keys: each (namespace, height) hashes with
 * its own seed, so equal key bytes at two heights land apart. Odd 64-bit
 * constants (the golden ratio's and a Murmur3 finaliser's). */
#define SPC_NS_SEED_MUL UINT64_C(0x9e3779b97f4a7c15)
#define SPC_HEIGHT_SEED_MUL UINT64_C(0xff51afd7ed558ccd)

/* XXH3-64 of n bytes at p with seed: keys of up to 16 bytes (the common
 * ones) inline, through XXH3's own short-input function (what
 * XXH3_64bits_withSeed calls for them, so the values are the same:
 * tests/unit/core/test_read_path.c checks every length to 64); longer ones
 * through the out-of-line call, whose long-input branches are large. The
 * call and its saved registers were 6 of a get's instructions, and the
 * registers it clobbers cost the read path spills around it. */
static inline uint64_t spc_hash_bytes(const void *p, size_t n, uint64_t seed)
{
	if (__builtin_expect(n <= 16, 1))
		return XXH3_len_0to16_64b((const xxh_u8 *)p, n, XXH3_kSecret, seed);
	return XXH3_64bits_withSeed(p, n, seed);
}

static inline uint64_t spc_key_hash(const struct spc_cache *c, const struct spc_key *k)
{
	uint64_t seed = c->seed;

	if (k->ns != SPC_NS_PLAIN)
		seed ^= k->ns * SPC_NS_SEED_MUL + k->height * SPC_HEIGHT_SEED_MUL;
	return spc_hash_bytes(k->key, k->klen, seed);
}

/* The match for every key: namespace, length, bytes, and the height in
 * the height namespace. Out of line (noinline): spc_match_entry's
 * uncommon case. */
static __attribute__((noinline, unused)) int spc_match_any(const struct spc_entry *e,
                                                         const struct spc_key *lk)
{
	return spc_entry_ns(e) == lk->ns && spc_entry_key_eq(e, lk->key, lk->klen) &&
	       (lk->ns != SPC_NS_HEIGHT || spc_entry_height(e) == lk->height);
}

/* The index's match: k is a struct spc_key. The index calls it only for
 * an entry whose tag equals the key's, so it is nearly always a match. The common case (a plain key of 8 to 32 bytes
 * against an entry without optional fields) is compared here, inline and
 * without a call, so the callback stays a leaf function; everything else
 * goes to spc_match_any. */
static inline int spc_match_entry(const struct spc_entry *e, const void *k)
{
	const struct spc_key *lk = k;
	size_t klen = lk->klen;

	if (__builtin_expect((spc_entry_meta(e) & (SPC_META_OPTIONAL | SPC_META_NS)) == 0 &&
	                     lk->ns == SPC_NS_PLAIN && klen >= 8 && klen <= 32, 1))
		return e->klen == klen && spc_bytes_eq(e->data, lk->key, klen);
	return spc_match_any(e, lk);
}

/* The match of a plain key (k: a struct spc_key of SPC_NS_PLAIN), for
 * the plain gets (spc_get, spc_get_rcu): all of it inline, with no call
 * that takes k's address (spc_match_entry's spc_match_any does), so the
 * compiler keeps the key in registers instead of building it on the
 * stack and reloading it after every call. The same answer as
 * spc_match_entry for a plain key: an entry of another namespace never
 * matches; one with optional fields has its key after them. */
static inline int spc_match_plain(const struct spc_entry *e, const void *k)
{
	const struct spc_key *lk = k;
	unsigned meta = spc_entry_meta(e);

	if (__builtin_expect((meta & (SPC_META_OPTIONAL | SPC_META_NS)) == 0, 1))
		return e->klen == lk->klen && spc_bytes_eq(e->data, lk->key, lk->klen);
	return spc_meta_ns(meta) == SPC_NS_PLAIN && e->klen == lk->klen &&
	       spc_bytes_eq(e->data + spc_entry_extra(meta), lk->key, lk->klen);
}

/* The key of an entry, as the index sees it. */
static inline struct spc_key spc_entry_skey(const struct spc_entry *e)
{
	return (struct spc_key){ spc_entry_key(e), e->klen, spc_entry_ns(e), spc_entry_height(e) };
}

#endif /* SPC_CORE_KEY_H */
