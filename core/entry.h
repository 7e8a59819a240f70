/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/entry.h: one cached item, in one allocation from its pool.
 *
 *   [uint64_t cas]        8  before the header, only when SPC_META_CAS:
 *                            unique per store (per cache)
 *           0  uint32_t vlen                4
 *           4  uint16_t klen                2  1..65535
 *           6  uint8_t  access              1  0..3, bumped by readers
 *           7  uint8_t  meta                1  pool, dead, has-flags,
 *                                              has-expiry, namespace, has-cas
 *           8  [uint64_t expiry]  present only when SPC_META_EXPIRY
 *              [uint64_t height]  present only in SPC_NS_HEIGHT
 *              [uint32_t flags]   present only when SPC_META_FLAGS
 *              key bytes, then value bytes
 *
 * An entry points at its header; a cache that keeps cas (the
 * default; struct spc_config's no_cas turns it off) puts the cas in the
 * 8 bytes before it, so the allocation starts at spc_entry_base(e). The
 * header, the key and the value sit at the same offsets in both layouts:
 * the read path does not ask which one it has, only spc_entry_cas does
 * (meta's SPC_META_CAS bit). A plain entry's header is 8 bytes, 16 with
 * its cas.
 *
 * The optional fields come in that order so the two 8-byte ones stay
 * 8-aligned (expiry is stored atomically by touch). Everything but
 * access, expiry and the dead bit of meta is written before publication
 * and never again; the writer's last initialising write is a release
 * store of meta (spc_entry_publish), which every path that reaches an
 * entry pairs with an acquire load of meta (spc_entry_acquire); see
 * docs/concurrency.md for who touches access, expiry and meta.
 */
#ifndef SPC_CORE_ENTRY_H
#define SPC_CORE_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>


struct spc_entry {
	uint32_t vlen;
	uint16_t klen;
	uint8_t access; /* atomic byte: readers' relaxed test-before-set */
	uint8_t meta;   /* atomic byte: release-stored once at publication,
	                   SPC_META_DEAD set once by one unpublisher */
	unsigned char data[];
};

_Static_assert(sizeof(struct spc_entry) == 8, "plain entry header is 8 bytes");

#define SPC_META_POOL 0x01u   /* pool id (immutable) */
#define SPC_META_DEAD 0x02u   /* unpublished: replaced, deleted, cleared or evicted */
#define SPC_META_FLAGS 0x04u  /* a uint32_t of client flags follows the header */
#define SPC_META_EXPIRY 0x08u /* a uint64_t expiry deadline follows */
#define SPC_META_NS_SHIFT 4u
#define SPC_META_NS 0x30u     /* namespace (immutable), one of enum spc_ns */
#define SPC_META_CAS 0x40u    /* a uint64_t cas precedes the header (immutable) */

/* Bytes before the header: the cas, when the entry has one. */
#define SPC_ENTRY_CAS_BYTES 8u

/* Namespaces: the same key bytes in two namespaces are two entries. */
enum spc_ns {
	SPC_NS_PLAIN = 0,  /* spc_set & co. on either pool */
	SPC_NS_HEIGHT = 1, /* view pool: (height, key); the height follows */
	SPC_NS_API = 2     /* view pool: named API entries */
};

/* The meta bits that put optional fields before the key (flags, expiry,
 * and the height namespace's height). An entry with none of them has its
 * key at data[0]: the read path's fast case. */
#define SPC_META_OPTIONAL \
	(SPC_META_FLAGS | SPC_META_EXPIRY | ((unsigned)SPC_NS_HEIGHT << SPC_META_NS_SHIFT))

_Static_assert(((unsigned)SPC_NS_API << SPC_META_NS_SHIFT & SPC_META_OPTIONAL) == 0,
               "only the height namespace has a field of its own");

#define SPC_ACCESS_MAX 3u
#define SPC_KEY_MAX 65535u

static inline unsigned spc_meta_ns(unsigned meta)
{
	return (meta & SPC_META_NS) >> SPC_META_NS_SHIFT;
}

/* Bytes of optional fields between the header and the key. */
static inline size_t spc_entry_extra(unsigned meta)
{
	return ((meta & SPC_META_EXPIRY) ? 8u : 0u) +
	       (spc_meta_ns(meta) == SPC_NS_HEIGHT ? 8u : 0u) + ((meta & SPC_META_FLAGS) ? 4u : 0u);
}

/* Bytes before the header of an entry with this meta (its cas, or none). */
static inline size_t spc_entry_pre(unsigned meta)
{
	return (meta & SPC_META_CAS) ? SPC_ENTRY_CAS_BYTES : 0u;
}

/* Bytes the allocation needs (the cas included when meta has
 * SPC_META_CAS). */
static inline size_t spc_entry_size(unsigned meta, size_t klen, size_t vlen)
{
	return spc_entry_pre(meta) + sizeof(struct spc_entry) + spc_entry_extra(meta) + klen +
	       vlen;
}

/* The entry in an allocation at mem for an entry with this meta. */
static inline struct spc_entry *spc_entry_in(void *mem, unsigned meta)
{
	return (struct spc_entry *)(void *)((unsigned char *)mem + spc_entry_pre(meta));
}

static inline size_t spc_entry_alloc_size(const struct spc_entry *e)
{
	/* meta's immutable bits are read relaxed: they were written before
	 * publication and never change. */
	unsigned meta = __atomic_load_n(&e->meta, __ATOMIC_RELAXED);

	return spc_entry_size(meta, e->klen, e->vlen);
}

/* The start of e's allocation (what the pool frees). */
static inline void *spc_entry_base(struct spc_entry *e)
{
	return (unsigned char *)e - spc_entry_pre(__atomic_load_n(&e->meta, __ATOMIC_RELAXED));
}

static inline const unsigned char *spc_entry_key(const struct spc_entry *e)
{
	return e->data + spc_entry_extra(__atomic_load_n(&e->meta, __ATOMIC_RELAXED));
}

static inline const unsigned char *spc_entry_value(const struct spc_entry *e)
{
	return spc_entry_key(e) + e->klen;
}

static inline unsigned spc_entry_meta(const struct spc_entry *e)
{
	return __atomic_load_n(&e->meta, __ATOMIC_RELAXED);
}

static inline unsigned spc_entry_ns(const struct spc_entry *e)
{
	return spc_meta_ns(spc_entry_meta(e));
}

/* The expiry slot (NULL when the entry has none). 8-aligned: data[] is at
 * offset 8 of an 8-aligned header, and expiry
 * comes first. */
static inline uint64_t *spc_entry_expiry_slot(struct spc_entry *e)
{
	return (spc_entry_meta(e) & SPC_META_EXPIRY) ? (uint64_t *)(void *)e->data : NULL;
}

/* The expiry deadline, 0 when none. Relaxed: touch may store a new one
 * concurrently; either value is a valid answer. */
static inline uint64_t spc_entry_expiry(const struct spc_entry *e)
{
	uint64_t *slot = spc_entry_expiry_slot((struct spc_entry *)e);

	return slot ? __atomic_load_n(slot, __ATOMIC_RELAXED) : 0;
}

/* The deadline the expiry reclaimer stores in a slot it claims
 * (core/maint.c, spc_op_dead): passed whatever the clock says, so a touch
 * that loses the race to it sees the entry expired. A caller's deadline of
 * 1 therefore also means "already expired" (docs/api.md, "Items"). */
#define SPC_EXPIRY_CLAIMED UINT64_C(1)

/* Nonzero when deadline (0: none) has passed at now. */
static inline int spc_deadline_passed(uint64_t deadline, uint64_t now)
{
	return deadline != 0 && (deadline <= now || deadline == SPC_EXPIRY_CLAIMED);
}

/* The height of an SPC_NS_HEIGHT entry, 0 for the others. */
static inline uint64_t spc_entry_height(const struct spc_entry *e)
{
	unsigned meta = spc_entry_meta(e);
	uint64_t h = 0;

	if (spc_meta_ns(meta) == SPC_NS_HEIGHT)
		memcpy(&h, e->data + ((meta & SPC_META_EXPIRY) ? 8u : 0u), sizeof h);
	return h;
}

static inline uint32_t spc_entry_flags(const struct spc_entry *e)
{
	unsigned meta = spc_entry_meta(e);
	uint32_t f = 0;

	if (meta & SPC_META_FLAGS)
		memcpy(&f, e->data + spc_entry_extra(meta) - sizeof f, sizeof f);
	return f;
}

/* Writes the optional fields of a new entry whose meta is already set
 * (before publication). */
static inline void spc_entry_init_extra(struct spc_entry *e, uint64_t expiry, uint64_t height,
                                        uint32_t flags)
{
	unsigned meta = e->meta;
	unsigned char *p = e->data;

	if (meta & SPC_META_EXPIRY) {
		memcpy(p, &expiry, sizeof expiry);
		p += sizeof expiry;
	}
	if (spc_meta_ns(meta) == SPC_NS_HEIGHT) {
		memcpy(p, &height, sizeof height);
		p += sizeof height;
	}
	if (meta & SPC_META_FLAGS)
		memcpy(p, &flags, sizeof flags);
}

/* The cas, 0 when the entry has none (a cache without cas). Written
 * before publication and never again: call it after spc_entry_acquire
 * on a path that found e through the index (or on the writer's own). */
static inline uint64_t spc_entry_cas(const struct spc_entry *e)
{
	uint64_t cas = 0;

	if (__atomic_load_n(&e->meta, __ATOMIC_RELAXED) & SPC_META_CAS)
		memcpy(&cas, (const unsigned char *)e - SPC_ENTRY_CAS_BYTES, sizeof cas);
	return cas;
}

/* The writer's last initialising write: meta again, with release. Every
 * field (the cas before the header included) is written before it; the
 * index publishes e after it. Free on x86 and ARMv8 (plain store / stlr). */
static inline void spc_entry_publish(struct spc_entry *e, unsigned meta)
{
	__atomic_store_n(&e->meta, (uint8_t)meta, __ATOMIC_RELEASE);
}

/* Meta loaded with acquire, then the cas (0: none): pairs with the
 * writer's spc_entry_publish, so every initialising write of e is
 * visible after it, whichever way the caller reached e (the index's slot
 * is loaded with acquire too; a ring cell or a policy slot may not be).
 * The dead bit's later fetch_or continues the release sequence. Call it
 * before reading the entry's other fields on a path that found it through
 * the index, a ring or a policy slot. */
static inline uint64_t spc_entry_acquire(const struct spc_entry *e)
{
	uint64_t cas = 0;

	if (__atomic_load_n(&e->meta, __ATOMIC_ACQUIRE) & SPC_META_CAS)
		memcpy(&cas, (const unsigned char *)e - SPC_ENTRY_CAS_BYTES, sizeof cas);
	return cas;
}

/* As spc_entry_acquire, returning the meta it loaded and the cas in *cas:
 * for a reader that needs both (one load of meta instead of two). */
static inline unsigned spc_entry_acquire_meta(const struct spc_entry *e, uint64_t *cas)
{
	unsigned meta = __atomic_load_n(&e->meta, __ATOMIC_ACQUIRE);

	*cas = 0;
	if (meta & SPC_META_CAS)
		memcpy(cas, (const unsigned char *)e - SPC_ENTRY_CAS_BYTES, sizeof *cas);
	return meta;
}

static inline int spc_entry_dead(const struct spc_entry *e)
{
	/* Relaxed: the flag is advisory for readers (a dead entry is still
	 * valid memory until its grace period ends) and the maintainer reads
	 * it after the unpublisher's ring ordering. */
	return (__atomic_load_n(&e->meta, __ATOMIC_RELAXED) & SPC_META_DEAD) != 0;
}

static inline void spc_entry_mark_dead(struct spc_entry *e)
{
	/* RMW on the byte: the other bits are immutable, so a plain OR would
	 * do, but readers load the byte concurrently. Relaxed: the index
	 * removal that precedes it is what makes the entry unreachable. */
	__atomic_fetch_or(&e->meta, SPC_META_DEAD, __ATOMIC_RELAXED);
}

/* The reader's hit mark: at most one relaxed store, and only when it
 * changes the value, so a hot entry's line is not written on every hit. */
static inline void spc_entry_touch(struct spc_entry *e)
{
	unsigned a = __atomic_load_n(&e->access, __ATOMIC_RELAXED);

	if (a < SPC_ACCESS_MAX)
		__atomic_store_n(&e->access, (uint8_t)(a + 1), __ATOMIC_RELAXED);
}

/* Nonzero when the n bytes at a and b are equal. Keys of 8 to 32 bytes
 * (the common ones) are compared inline with two or four overlapping
 * 8-byte loads; the others through memcmp. The read path calls this for
 * every entry whose tag matches; a call to memcmp there cost a third of
 * the key comparison. */
static inline int spc_bytes_eq(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;
	uint64_t x0, x1, y0, y1, d;

	if (n < 8 || n > 32)
		return memcmp(p, q, n) == 0;
	memcpy(&x0, p, 8);
	memcpy(&y0, q, 8);
	memcpy(&x1, p + n - 8, 8);
	memcpy(&y1, q + n - 8, 8);
	d = (x0 ^ y0) | (x1 ^ y1);
	if (n > 16) {
		memcpy(&x0, p + 8, 8);
		memcpy(&y0, q + 8, 8);
		memcpy(&x1, p + n - 16, 8);
		memcpy(&y1, q + n - 16, 8);
		d |= (x0 ^ y0) | (x1 ^ y1);
	}
	return d == 0;
}

static inline int spc_entry_key_eq(const struct spc_entry *e, const void *key, size_t klen)
{
	return e->klen == klen && spc_bytes_eq(spc_entry_key(e), key, klen);
}


#endif /* SPC_CORE_ENTRY_H */
