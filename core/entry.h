/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/entry.h: one cached item, in one allocation from its pool.
 *
 *   offset 0   struct cds_lfht_node node   16  index linkage (lfht owns it)
 *          16  uint64_t cas                 8  unique per store (per cache)
 *          24  uint32_t vlen                4
 *          28  uint16_t klen                2  1..65535
 *          30  uint8_t  access              1  0..3, bumped by readers
 *          31  uint8_t  meta                1  pool, dead, has-flags, has-expiry
 *          32  [uint32_t flags]   present only when SPC_META_FLAGS
 *              [uint64_t expiry]  present only when SPC_META_EXPIRY
 *              key bytes, then value bytes
 *
 * A plain entry's header is 32 bytes. Everything but access and the dead
 * bit of meta is written before publication and never again; see
 * docs/concurrency.md for who touches access and meta.
 */
#ifndef SPC_CORE_ENTRY_H
#define SPC_CORE_ENTRY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <urcu/rculfhash.h>

struct spc_entry {
	struct cds_lfht_node node;
	uint64_t cas;
	uint32_t vlen;
	uint16_t klen;
	uint8_t access; /* atomic byte: readers' relaxed test-before-set */
	uint8_t meta;   /* atomic byte: SPC_META_DEAD set once by one unpublisher */
	unsigned char data[];
};

_Static_assert(sizeof(struct spc_entry) == 32, "plain entry header is 32 bytes");

#define SPC_META_POOL 0x01u   /* pool id (immutable) */
#define SPC_META_DEAD 0x02u   /* unpublished: replaced, deleted, cleared or evicted */
#define SPC_META_FLAGS 0x04u  /* a uint32_t of client flags follows the header */
#define SPC_META_EXPIRY 0x08u /* a uint64_t expiry follows (issue 5) */

#define SPC_ACCESS_MAX 3u
#define SPC_KEY_MAX 65535u

static inline size_t spc_entry_extra(unsigned meta)
{
	return ((meta & SPC_META_FLAGS) ? 4u : 0u) + ((meta & SPC_META_EXPIRY) ? 8u : 0u);
}

/* Bytes the allocation needs. */
static inline size_t spc_entry_size(unsigned meta, size_t klen, size_t vlen)
{
	return sizeof(struct spc_entry) + spc_entry_extra(meta) + klen + vlen;
}

static inline size_t spc_entry_alloc_size(const struct spc_entry *e)
{
	/* meta's immutable bits are read relaxed: they were written before
	 * publication and never change. */
	unsigned meta = __atomic_load_n(&e->meta, __ATOMIC_RELAXED);

	return spc_entry_size(meta, e->klen, e->vlen);
}

static inline const unsigned char *spc_entry_key(const struct spc_entry *e)
{
	return e->data + spc_entry_extra(__atomic_load_n(&e->meta, __ATOMIC_RELAXED));
}

static inline const unsigned char *spc_entry_value(const struct spc_entry *e)
{
	return spc_entry_key(e) + e->klen;
}

static inline uint32_t spc_entry_flags(const struct spc_entry *e)
{
	uint32_t f = 0;

	if (__atomic_load_n(&e->meta, __ATOMIC_RELAXED) & SPC_META_FLAGS)
		memcpy(&f, e->data, sizeof f);
	return f;
}

/* The cas, loaded with acquire: pairs with the writer's release store of
 * cas, its last write before publication (see core/cache.c). Call it
 * before reading the entry's other fields on a path that found it through
 * the index. */
static inline uint64_t spc_entry_acquire(const struct spc_entry *e)
{
	return __atomic_load_n(&e->cas, __ATOMIC_ACQUIRE);
}

static inline int spc_entry_dead(const struct spc_entry *e)
{
	/* Relaxed: the flag is advisory for readers (a dead entry is still
	 * valid memory until its grace period ends) and the maintainer reads
	 * it after the unpublisher's ring/lfht ordering. */
	return (__atomic_load_n(&e->meta, __ATOMIC_RELAXED) & SPC_META_DEAD) != 0;
}

static inline void spc_entry_mark_dead(struct spc_entry *e)
{
	/* RMW on the byte: the other bits are immutable, so a plain OR would
	 * do, but readers load the byte concurrently. Relaxed: the lfht
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

static inline int spc_entry_key_eq(const struct spc_entry *e, const void *key, size_t klen)
{
	return e->klen == klen && memcmp(spc_entry_key(e), key, klen) == 0;
}

static inline struct spc_entry *spc_entry_of(struct cds_lfht_node *n)
{
	return caa_container_of(n, struct spc_entry, node);
}

#endif /* SPC_CORE_ENTRY_H */
