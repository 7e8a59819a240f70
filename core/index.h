/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/index.h: the hash index of a pool: buckets of one cache line holding
 * tagged references to entries (12 or 7 per line), RCU-protected readers, per-bucket
 * writer locks, an incremental resize run by one thread (the maintainer).
 * docs/concurrency.md ("The index") is the design; core/index.c's essay
 * holds the numbered guarantees tests/unit/index/ checks.
 *
 * Entries are opaque to the index: 8-aligned addresses below 2^47 that the
 * owner allocated, keeps alive for a grace period after it took them out,
 * and compares through its own `match` (key given by the caller) or by
 * identity. The owner computes every hash (e.g. XXH3-64 of the key); the
 * index takes the home bucket from its low bits and a tag from its high
 * bits (20 bits in the wide layout, 8 in the narrow one). When the owner
 * gives a region of at most 32 GiB holding every entry, slots are 4-byte
 * offsets into it, 12 per line (narrow); otherwise 8-byte addresses, 7 per
 * line (wide).
 *
 * Context, for the whole module: every thread that calls a function here
 * is registered with urcu-memb (sync/rcu.h). Lookups, inserts, replaces and
 * deletes run inside the caller's read-side section; resize, init and
 * destroy outside any.
 */
#ifndef SPC_CORE_INDEX_H
#define SPC_CORE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include <urcu/urcu-memb.h>

#include "base/base.h"

/* Two layouts of a 64-byte bucket, chosen per index at init
 * (docs/concurrency.md, "Layout"). Both start with a 4-byte head:
 * bit 0 the writer lock, bits 1-31 the overflow count (entries that
 * passed over this bucket to a later one).
 *
 * Wide (no region): 7 slots of 8 bytes at offset 8; a slot is
 * tag << 44 | address >> 3 (the tag is the hash's bits 44-63), 0 free.
 *
 * Narrow (the owner gave a region of at most 32 GiB): 12 one-byte tags
 * (the hash's bits 56-63; slot s's tag is byte s % 4 of tag[s / 4]) and
 * 12 four-byte references: (address - region base) / 8 + 1, 0 free. */
#define SPC_INDEX_WIDE_SLOTS 7u
#define SPC_INDEX_NARROW_SLOTS 12u
#define SPC_INDEX_TAG_SHIFT 44u
#define SPC_INDEX_TAG_MASK (~(uint64_t)0 << SPC_INDEX_TAG_SHIFT)
#define SPC_INDEX_REF_MASK (~SPC_INDEX_TAG_MASK)
#define SPC_INDEX_NARROW_TAG_SHIFT 56u
/* The largest region the narrow layout takes: 2^32 references of 8 B. */
#define SPC_INDEX_NARROW_MAX_REGION ((uint64_t)1 << 35)
#define SPC_INDEX_LOCK 1u
#define SPC_INDEX_COUNT_SHIFT 1u
#define SPC_INDEX_COUNT_ONE (1u << SPC_INDEX_COUNT_SHIFT)
/* The owner's resize rule (core/index.c, "Load"): grow (double) above
 * 6 entries per bucket (wide: 6 of 7 slots) or 10 (narrow: 10 of 12),
 * shrink (halve) below 1. spc_index_grow_load gives the index's own. */
#define SPC_INDEX_WIDE_GROW_LOAD 6u
#define SPC_INDEX_NARROW_GROW_LOAD 10u
#define SPC_INDEX_SHRINK_LOAD 1u
#define SPC_INDEX_MIN_BUCKETS 2u
/* A resize step zeroes (or counts) this many buckets for each bucket it
 * would move: zeroing and counting cost that much less. */
#define SPC_INDEX_ZERO_FACTOR 256u

/* head is the first word of either layout (the union's members that
 * name it are never used: head is). */
struct spc_index_bucket {
	union {
		uint32_t head; /* atomic: lock bit, overflow count */
		struct {
			uint32_t head_, pad;
			uint64_t slot[SPC_INDEX_WIDE_SLOTS]; /* atomic: tagged addresses */
		} w;
		struct {
			uint32_t head_;
			uint32_t tag[SPC_INDEX_NARROW_SLOTS / 4]; /* atomic: 4 tags each */
			uint32_t ref[SPC_INDEX_NARROW_SLOTS];     /* atomic: references */
		} n;
	};
} __attribute__((aligned(SPC_CACHELINE)));

_Static_assert(sizeof(struct spc_index_bucket) == SPC_CACHELINE, "a bucket is one line");

struct spc_index;

/* One bucket array, allocated in one piece (header line + buckets). */
struct spc_index_table {
	uint64_t mask;                  /* nbuckets - 1, immutable */
	struct spc_index_table *future; /* atomic: table it moves to, or NULL */
	size_t bytes;                   /* of this allocation, immutable */
	struct spc_index *owner;        /* for the call_rcu that frees it */
	struct rcu_head rcu;
	struct spc_index_bucket b[] __attribute__((aligned(SPC_CACHELINE)));
};

/* What the owner gives the index. alloc returns `bytes` bytes aligned to
 * 64 (their contents need not be zero), or NULL; free takes them back.
 * region/region_bytes: where every entry lies (8-aligned inside it), for
 * the narrow layout; NULL (or a region above 32 GiB or not 8-aligned):
 * the wide layout.
 * hash returns the hash the owner would compute for the entry's key (only
 * resize and census ask). alloc and hash are called by the resizing
 * thread, init and census; free by destroy and by liburcu's call_rcu
 * thread (a table retired by a resize is freed after a grace period). */
struct spc_index_ops {
	void *(*alloc)(void *ctx, size_t bytes);
	void (*free)(void *ctx, void *p, size_t bytes);
	uint64_t (*hash)(void *ctx, const void *entry);
	void *ctx;
	const void *region;
	size_t region_bytes;
};

/* Compares an entry's key with the caller's key: nonzero when equal. */
typedef int spc_index_match_fn(const void *entry, const void *key);

struct spc_index {
	/* read by every lookup */
	struct spc_index_table *cur; /* atomic: the table new lookups start in */
	uint64_t hash_mask;          /* ~0; the test hook narrows it */
	uintptr_t base;              /* narrow: region - 8 (reference 1 is
	                                the region's first word); wide: 0 */
	uintptr_t end;               /* narrow: region + region_bytes */
	unsigned slots;              /* per bucket: 7 (wide) or 12 (narrow) */
	/* the owner's and the maintainer's */
	struct spc_index_ops ops;
	struct spc_index_table *moving; /* the table being emptied, or NULL */
	struct spc_index_table *preparing; /* the next table, being zeroed, or NULL */
	uint64_t cursor;                /* next bucket of `preparing` to zero,
	                                   or of `moving` to count or move */
	uint64_t counted;               /* a shrink's census of `moving` so far */
	int counting;                   /* a shrink counts `moving` before moving */
	size_t bytes;                   /* atomic: of the tables allocated */
	unsigned long retiring;         /* atomic: tables waiting for call_rcu */
	/* atomic: during a move, how many more new keys writers may put into
	 * the new table (each takes one; the move gives back what its
	 * progress frees): the new table always keeps a free slot for every
	 * entry the old one may still hold. Its own line: written by writers
	 * during a resize only. */
	_Alignas(SPC_CACHELINE) int64_t credit;
};

/* Creates an index of nbuckets buckets (rounded up to a power of two, at
 * least SPC_INDEX_MIN_BUCKETS). Returns SPC_OK, SPC_ENOMEM (alloc failed;
 * nothing to destroy) or SPC_EINVAL (nbuckets above 2^40). The layout is
 * narrow when ops->region is set, 8-aligned and ops->region_bytes is at
 * most 32 GiB (SPC_INDEX_NARROW_MAX_REGION), wide otherwise.
 * Ownership: ops (copied) must stay valid until spc_index_destroy.
 * Context: any thread, before the index is shared. */
int spc_index_init(struct spc_index *ix, const struct spc_index_ops *ops, size_t nbuckets);
/* Frees the bucket arrays (entries are the owner's: take them out first,
 * or not, they are not touched); waits for the call_rcu of retired tables
 * (urcu_memb_barrier) when one is pending. Context: nobody else uses the
 * index; a registered thread outside any read-side section. */
void spc_index_destroy(struct spc_index *ix);

/* The entry a wide slot refers to. */
static inline void *spc_index_entry_of(uint64_t v)
{
	return (void *)(uintptr_t)((v & SPC_INDEX_REF_MASK) << 3);
}

/* The entry a narrow reference (nonzero) stands for. */
static inline void *spc_index_narrow_entry(uintptr_t base, uint32_t ref)
{
	return (void *)(base + ((uintptr_t)ref << 3));
}

/* The entry of wide bucket b whose tag is want and whose key matches, or
 * NULL: one bucket's part of every lookup and walk. */
static inline __attribute__((always_inline)) void *
spc_index_scan_wide(const struct spc_index_bucket *b, uint64_t want, spc_index_match_fn *match,
                    const void *key)
{
	for (unsigned s = 0; s < SPC_INDEX_WIDE_SLOTS; s++) {
		/* acquire: pairs with the writer's release CAS or store of the
		 * slot: the entry's bytes before its reference */
		uint64_t v = __atomic_load_n(&b->w.slot[s], __ATOMIC_ACQUIRE);
		if ((v & SPC_INDEX_TAG_MASK) == want && v) {
			void *e = spc_index_entry_of(v);
			if (match(e, key))
				return e;
		}
	}
	return NULL;
}

/* A narrow slot whose tag matched: its entry if the slot holds one and
 * the key matches, else NULL. Shared by both narrow scans. */
static inline __attribute__((always_inline)) void *
spc_index_narrow_try(const struct spc_index_bucket *b, unsigned s, uintptr_t base,
                     spc_index_match_fn *match, const void *key)
{
	/* acquire: pairs with the writer's release CAS or store of the
	 * reference: the entry's bytes before the reference */
	uint32_t r = __atomic_load_n(&b->n.ref[s], __ATOMIC_ACQUIRE);

	if (r) {
		void *e = spc_index_narrow_entry(base, r);
		if (match(e, key))
			return e;
	}
	return NULL;
}

/* One tag word's part of spc_index_scan_narrow (the portable scan): its
 * four tags compared at once (want: the tag byte in each byte). */
static inline __attribute__((always_inline)) void *
spc_index_scan_narrow_word(const struct spc_index_bucket *b, unsigned w, uint32_t want,
                           uintptr_t base, spc_index_match_fn *match, const void *key)
{
	/* acquire: pairs with the claimer's release CAS of the tag word,
	 * which follows its CAS of the reference: a tag seen means its
	 * reference (or a later one) is seen */
	uint32_t x = __atomic_load_n(&b->n.tag[w], __ATOMIC_ACQUIRE) ^ want;
	uint32_t m = (x - 0x01010101u) & ~x & 0x80808080u;

	while (m) {
		unsigned s = w * 4 + ((unsigned)__builtin_ctz(m) >> 3);
		void *e;

		m &= m - 1;
		e = spc_index_narrow_try(b, s, base, match, key);
		if (e)
			return e;
	}
	return NULL;
}

/* Whether spc_index_scan_narrow compares the twelve tags with one SSE2
 * compare (x86-64, where SSE2 is baseline) rather than word by word. Not
 * under ThreadSanitizer, which cannot see the vector load as the atomic
 * loads it stands for (below), nor where the bytes of a word are not in
 * address order. -DSPC_INDEX_SIMD=0 forces the word scan (a test does). */
#if defined(__SANITIZE_THREAD__)
#define SPC_INDEX_SIMD 0
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SPC_INDEX_SIMD 0
#endif
#endif
#ifndef SPC_INDEX_SIMD
#if defined(__SSE2__) && defined(__x86_64__)
#define SPC_INDEX_SIMD 1
#else
#define SPC_INDEX_SIMD 0
#endif
#endif
#if SPC_INDEX_SIMD
#include <emmintrin.h>
#endif

/* The same in the narrow layout: the entry of bucket b whose tag byte is
 * want's (want: that byte in each byte) and whose key matches, or NULL.
 * A reference is loaded only for a tag that matches (or, in the portable
 * scan, for a byte above a match: the zero-byte test's borrow may flag
 * it; harmless, the key decides).
 *
 * On x86-64 one aligned 16-byte load reads the head and the twelve tags
 * (slot s's tag is byte 4 + s of the line: byte s % 4 of tag[s / 4],
 * little-endian), one byte compare and one mask give every slot whose tag
 * matches: 8 instructions where the three words took about 24. What the
 * word loads' acquire gives, this load gives too, on x86-64 only: every
 * byte it returns is one some store wrote (a byte never tears), and the
 * processor keeps it ordered before the later loads of the reference and
 * of the entry (x86 loads are not reordered with other loads; the
 * reference's load is also data-dependent on the mask, so the compiler
 * cannot hoist it either). The head's four bytes are masked off. */
static inline __attribute__((always_inline)) void *
spc_index_scan_narrow(const struct spc_index_bucket *b, uint32_t want, uintptr_t base,
                      spc_index_match_fn *match, const void *key)
{
#if SPC_INDEX_SIMD
	__m128i line = _mm_load_si128((const __m128i *)(const void *)b);
	unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(line, _mm_set1_epi8((char)want))) >> 4;

	while (m) {
		unsigned s = (unsigned)__builtin_ctz(m);
		void *e;

		m &= m - 1;
		e = spc_index_narrow_try(b, s, base, match, key);
		if (e)
			return e;
	}
	return NULL;
#else
	for (unsigned w = 0; w < SPC_INDEX_NARROW_SLOTS / 4; w++) {
		void *e = spc_index_scan_narrow_word(b, w, want, base, match, key);
		if (e)
			return e;
	}
	return NULL;
#endif
}

/* The full walk in the wide layout, from t: the home bucket, the buckets
 * its overflow count sends on to, then the future table (during a resize).
 * spc_index_lookup_wide's rare case. */
static inline void *spc_index_walk_wide(const struct spc_index_table *t, uint64_t hash,
                                          spc_index_match_fn *match, const void *key)
{
	const uint64_t want = hash & SPC_INDEX_TAG_MASK;

	do {
		uint64_t i = hash & t->mask;
		for (uint64_t n = 0; n <= t->mask; n++) {
			const struct spc_index_bucket *b = &t->b[i];
			void *e = spc_index_scan_wide(b, want, match, key);
			if (e)
				return e;
			/* acquire: pairs with the release fetch-sub of a delete or
			 * move: a count that dropped to 0 because an entry moved to
			 * the future table makes that table's slot visible */
			if (__atomic_load_n(&b->head, __ATOMIC_ACQUIRE) < SPC_INDEX_COUNT_ONE)
				break;
			i = (i + 1) & t->mask;
		}
		/* acquire: pairs with resize_begin's release store of future
		 * (the new table zeroed before it is searched) */
		t = __atomic_load_n(&t->future, __ATOMIC_ACQUIRE);
	} while (t);
	return NULL;
}

/* The full walk in the narrow layout, from t, as spc_index_walk_wide,
 * each bucket scanned by spc_index_scan_narrow. */
static inline void *spc_index_walk_narrow(const struct spc_index_table *t, uintptr_t base,
                                            uint64_t hash, spc_index_match_fn *match,
                                            const void *key)
{
	const uint32_t want = (uint32_t)(hash >> SPC_INDEX_NARROW_TAG_SHIFT) * 0x01010101u;

	do {
		uint64_t i = hash & t->mask;
		for (uint64_t n = 0; n <= t->mask; n++) {
			const struct spc_index_bucket *b = &t->b[i];
			void *e = spc_index_scan_narrow(b, want, base, match, key);
			if (e)
				return e;
			/* acquire: as in the wide walk */
			if (__atomic_load_n(&b->head, __ATOMIC_ACQUIRE) < SPC_INDEX_COUNT_ONE)
				break;
			i = (i + 1) & t->mask;
		}
		/* acquire: as in the wide walk */
		t = __atomic_load_n(&t->future, __ATOMIC_ACQUIRE);
	} while (t);
	return NULL;
}

/* The full walks out of line (core/index.c), match called through its
 * pointer: the lookups' rare case (the home bucket has overflowed, or a
 * resize is on). Returns, Context: as spc_index_lookup_rcu. */
void *spc_index_walk_wide_rcu(const struct spc_index_table *t, uint64_t hash,
                              spc_index_match_fn *match, const void *key);
void *spc_index_walk_narrow_rcu(const struct spc_index_table *t, uintptr_t base, uint64_t hash,
                                spc_index_match_fn *match, const void *key);

/* Whether a lookup that missed in t's bucket b must walk on: b has
 * overflowed, or t has a future table. */
static inline int spc_index_walk_on(const struct spc_index_table *t,
                                    const struct spc_index_bucket *b)
{
	/* acquire: as the walks' loads of the count and of future */
	return __atomic_load_n(&b->head, __ATOMIC_ACQUIRE) >= SPC_INDEX_COUNT_ONE ||
	       __atomic_load_n(&t->future, __ATOMIC_ACQUIRE) != NULL;
}

/* The lookup in the wide layout, from t: the home bucket inline, straight
 * code with few live values; the rest of the walk (the same walk again,
 * from the home bucket) out of line. Loads and orders as the walk's. */
static inline void *spc_index_lookup_wide(const struct spc_index_table *t, uint64_t hash,
                                          spc_index_match_fn *match, const void *key)
{
	const uint64_t want = hash & SPC_INDEX_TAG_MASK;
	const struct spc_index_bucket *b = &t->b[hash & t->mask];
	void *e = spc_index_scan_wide(b, want, match, key);

	if (e)
		return e;
	if (__builtin_expect(spc_index_walk_on(t, b), 0))
		return spc_index_walk_wide_rcu(t, hash, match, key);
	return NULL;
}

/* The lookup in the narrow layout, from t: the home bucket inline, the
 * rest out of line, as spc_index_lookup_wide. */
static inline void *spc_index_lookup_narrow(const struct spc_index_table *t, uintptr_t base,
                                            uint64_t hash, spc_index_match_fn *match,
                                            const void *key)
{
	const uint32_t want = (uint32_t)(hash >> SPC_INDEX_NARROW_TAG_SHIFT) * 0x01010101u;
	const struct spc_index_bucket *b = &t->b[hash & t->mask];
	void *e = spc_index_scan_narrow(b, want, base, match, key);

	if (e)
		return e;
	if (__builtin_expect(spc_index_walk_on(t, b), 0))
		return spc_index_walk_narrow_rcu(t, base, hash, match, key);
	return NULL;
}

/* The entry whose key matches, or NULL. Wait-free: no lock, no write, no
 * retry; reads one bucket line in the common case, and dereferences (calls
 * match on) only entries whose tag (20 bits wide, 8 narrow) equals the
 * hash's. One branch on the layout per lookup.
 * Returns: a pointer valid until the caller leaves its read-side section.
 * Context: inside a read-side section. match is inlined when the caller
 * passes a function it defines static inline. */
static inline __attribute__((always_inline)) void *
spc_index_lookup_rcu(const struct spc_index *ix, uint64_t hash,
                                         spc_index_match_fn *match, const void *key)
{
	/* acquire: pairs with the resize's release store of cur (the new
	 * table's buckets and moved slots before the table is reachable) */
	const struct spc_index_table *t = __atomic_load_n(&ix->cur, __ATOMIC_ACQUIRE);

	hash &= ix->hash_mask;
	if (ix->base)
		return spc_index_lookup_narrow(t, ix->base, hash, match, key);
	return spc_index_lookup_wide(t, hash, match, key);
}

/* The home bucket's part of spc_index_lookup_rcu, for a caller that
 * keeps the rest of the walk out of line itself: the entry whose key
 * matches in the home bucket of the current table, or NULL; then *walk
 * is nonzero when the key may still be further on (the bucket has
 * overflowed, or a resize is on) and only spc_index_lookup_rcu can tell.
 * Nothing here hands key's address to a function out of line, so a
 * caller whose match is inline can keep its key in registers.
 * Returns: as spc_index_lookup_rcu. Context: inside a read-side section. */
static inline __attribute__((always_inline)) void *
spc_index_home_rcu(const struct spc_index *ix, uint64_t hash, spc_index_match_fn *match,
                   const void *key, int *walk)
{
	/* acquire: as spc_index_lookup_rcu's */
	const struct spc_index_table *t = __atomic_load_n(&ix->cur, __ATOMIC_ACQUIRE);
	const struct spc_index_bucket *b;
	void *e;

	hash &= ix->hash_mask;
	b = &t->b[hash & t->mask];
	if (ix->base)
		e = spc_index_scan_narrow(b, (uint32_t)(hash >> SPC_INDEX_NARROW_TAG_SHIFT) * 0x01010101u,
		                          ix->base, match, key);
	else
		e = spc_index_scan_wide(b, hash & SPC_INDEX_TAG_MASK, match, key);
	*walk = !e && spc_index_walk_on(t, b);
	return e;
}

/* Inserts entry under key unless the key is present.
 * Returns SPC_OK; SPC_EEXISTS with *found = the present entry (entry was
 * not inserted); SPC_EFULL (no free slot in the whole table: the owner
 * grows long before; or, during a resize, no credit: the new table's free
 * slots are kept for the old table's entries until the move frees some;
 * nothing changed, try again after the resizing thread's next step);
 * SPC_EINVAL (entry not 8-aligned, or
 * not below 2^47 (wide), or not inside the region (narrow)). Context: inside a read-side section. */
int spc_index_add_rcu(struct spc_index *ix, uint64_t hash, spc_index_match_fn *match,
                      const void *key, void *entry, void **found);
/* Inserts entry under key, replacing the present entry if any (in its
 * slot, atomically). Returns SPC_OK with *old = the replaced entry or
 * NULL; SPC_EFULL, SPC_EINVAL as spc_index_add_rcu.
 * Ownership: *old belongs to the caller (free it after a grace period). */
int spc_index_set_rcu(struct spc_index *ix, uint64_t hash, spc_index_match_fn *match,
                      const void *key, void *entry, void **old);
/* Replaces old by entry (same key, same hash) if old is still in the
 * index: the compare-and-swap of the replace loop. Returns SPC_OK, or
 * SPC_ENOTFOUND (old was replaced or removed meanwhile; nothing changed),
 * SPC_EINVAL as above. Context: inside a read-side section. */
int spc_index_replace_rcu(struct spc_index *ix, uint64_t hash, const void *old, void *entry);
/* Takes entry out if it is still in the index (by identity: the
 * maintainer's unlink of a victim). Returns SPC_OK or SPC_ENOTFOUND.
 * Context: inside a read-side section. */
int spc_index_remove_rcu(struct spc_index *ix, uint64_t hash, const void *entry);
/* Takes out the entry whose key matches. Returns it (the caller's, free
 * it after a grace period), or NULL when absent. Context: as above. */
void *spc_index_delete_rcu(struct spc_index *ix, uint64_t hash, spc_index_match_fn *match,
                           const void *key);

/* Starts moving every entry to a new table of nbuckets buckets (rounded
 * as for init): allocates it; the steps zero it (256 x `buckets` buckets
 * per step), publish it (one grace period, in the step that finishes the
 * zeroing) and then move the entries. Returns SPC_OK; SPC_ENOMEM (alloc
 * failed: the index is as before and keeps serving; try again later);
 * SPC_EINVAL (a resize is in progress, or nbuckets above 2^40).
 * Context: the index's one resizing thread, outside any read section. */
int spc_index_resize_begin(struct spc_index *ix, size_t nbuckets);
/* Zeroes the next 256 x `buckets` buckets of the new table (publishing it
 * once all are: one grace period), or (a shrink) counts the entries of
 * the next 256 x `buckets` buckets of the old table, or moves the entries
 * of the next `buckets` buckets of the old table (each
 * entry: two bucket locks held for a few stores), in a read-side section
 * of its own; when the old table is empty, makes the new one current and
 * hands the old one to call_rcu (ops.free after a grace period).
 * Returns 1 while the resize goes on, 0 once it is over (or none was in
 * progress), SPC_EFULL when the new table is full (cannot happen: the
 * writers' credit keeps a slot for every entry of the old table).
 * Context: the resizing thread, outside any read section. */
int spc_index_resize_step(struct spc_index *ix, size_t buckets);
/* begin + steps until done. Returns what begin or a step returned. */
int spc_index_resize(struct spc_index *ix, size_t nbuckets);
/* Nonzero while a resize is in progress. Context: the resizing thread. */
int spc_index_resizing(const struct spc_index *ix);

/* Slots per bucket: 7 (wide layout) or 12 (narrow). Context: any thread. */
unsigned spc_index_slots(const struct spc_index *ix);
/* The owner's growth threshold in entries per bucket: 6 (wide) or 10
 * (narrow). Context: any thread. */
unsigned spc_index_grow_load(const struct spc_index *ix);
/* Buckets of the current table. Context: any thread. */
size_t spc_index_buckets(const struct spc_index *ix);
/* Bytes of the bucket arrays allocated and not yet freed (both tables
 * during a resize, and a retired table until its call_rcu ran): what the
 * owner's allocator holds. Context: any thread. */
size_t spc_index_bytes(const struct spc_index *ix);

/* A walk of every table in play, for tests and diagnostics. */
struct spc_index_census {
	size_t entries;        /* occupied slots */
	size_t buckets;        /* of every table in play */
	size_t bytes;          /* of the tables in play */
	uint64_t overflow;     /* sum of the overflow counts */
	uint64_t displacement; /* sum over entries of buckets from home to slot */
	uint64_t locked;       /* buckets whose lock bit is set */
	size_t max_probe;      /* largest displacement of one entry */
};

/* Fills *c (asks ops.hash for every entry). With no writer running,
 * overflow == displacement and locked == 0 (core/index.c, guarantee 3);
 * once no table waits for its grace period, bytes == spc_index_bytes.
 * Context: a read-side section, or no concurrent user. */
void spc_index_census_rcu(const struct spc_index *ix, struct spc_index_census *c);
/* Calls fn for every entry in every table in play. Context: as census. */
void spc_index_for_each_rcu(const struct spc_index *ix, void (*fn)(void *arg, void *entry),
                            void *arg);

/* Test hook: from now on the index keeps only the low `bits` bits of
 * every hash (0 < bits <= 64; 64 restores the full hash): every tag is 0
 * and every home is among the first 2^bits buckets, so lookups meet
 * foreign entries and buckets overflow. Context: before any entry. */
void spc_index_test_truncate(struct spc_index *ix, unsigned bits);

#endif /* SPC_CORE_INDEX_H */
