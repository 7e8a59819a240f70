/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/debug_table.c: debug mode's tables (core/debug_table.h).
 *
 * Two open-addressed arrays per table, linear probing, at most half full
 * (each has twice as many cells as entries it accepts): prefix slots hold
 * a prefix index + 1 into the prefixes array (insertion order, so a merge
 * can map a thread's prefix indices to the workspace's); pair cells hold
 * one word, the key hash's top 48 bits above the prefix index + 1, so a
 * pair is found and stored in one compare. Nothing is ever deleted but
 * by a reset, which zeroes the arrays. A prefix or pair that finds its
 * table full is not stored: the callers count it as "not tracked".
 *
 * Guarantees (tests/unit/core/test_debug.c "bounded_tables_report_overflow"):
 *  1. never more than the capacities: a full table refuses, never grows;
 *  2. a pair is counted once however often it is noted (distinct keys).
 */
#include "core/debug_table.h"

#include <string.h>

#define SPC_GOLDEN UINT64_C(0x9e3779b97f4a7c15)

size_t spc_dbg_table_bytes(uint32_t cap_prefixes, uint32_t cap_pairs)
{
	return (size_t)cap_prefixes * sizeof(struct spc_dbg_prefix) +
	       (size_t)cap_pairs * 2 * sizeof(uint64_t) + (size_t)cap_prefixes * 2 * sizeof(uint16_t);
}

/* Points t's arrays into *mem (8-aligned, zeroed) and advances it. */
void spc_dbg_table_carve(struct spc_dbg_table *t, char **mem, uint32_t cap_prefixes,
                                uint32_t cap_pairs)
{
	memset(t, 0, sizeof *t);
	t->cap_prefixes = cap_prefixes;
	t->cap_pairs = cap_pairs;
	t->prefixes = (struct spc_dbg_prefix *)(void *)*mem;
	*mem += (size_t)cap_prefixes * sizeof(struct spc_dbg_prefix);
	t->pairs = (uint64_t *)(void *)*mem;
	*mem += (size_t)cap_pairs * 2 * sizeof(uint64_t);
	t->slots = (uint16_t *)(void *)*mem;
	*mem += (size_t)cap_prefixes * 2 * sizeof(uint16_t);
}

void spc_dbg_table_reset(struct spc_dbg_table *t)
{
	memset(t->prefixes, 0, (size_t)t->cap_prefixes * sizeof *t->prefixes);
	memset(t->pairs, 0, (size_t)t->cap_pairs * 2 * sizeof *t->pairs);
	memset(t->slots, 0, (size_t)t->cap_prefixes * 2 * sizeof *t->slots);
	t->n_prefixes = t->n_pairs = 0;
	t->hits = t->misses = t->untracked_prefixes = t->untracked_keys = t->busy = 0;
}

/* The index of prefix (bytes, len, hash) in t, added if new; -1 when new
 * and the table is full. */
int32_t spc_dbg_prefix_get(struct spc_dbg_table *t, const void *bytes, unsigned len,
                                  uint64_t hash)
{
	uint32_t mask = t->cap_prefixes * 2 - 1;
	struct spc_dbg_prefix *p;

	for (uint32_t i = (uint32_t)hash & mask;; i = (i + 1) & mask) {
		uint16_t s = t->slots[i];

		if (s == 0) {
			if (t->n_prefixes == t->cap_prefixes)
				return -1;
			p = &t->prefixes[t->n_prefixes];
			p->hash = hash;
			p->len = (uint8_t)len;
			memcpy(p->bytes, bytes, len);
			t->slots[i] = (uint16_t)++t->n_prefixes;
			return (int32_t)t->n_prefixes - 1;
		}
		p = &t->prefixes[s - 1];
		if (p->hash == hash && p->len == len && memcmp(p->bytes, bytes, len) == 0)
			return (int32_t)s - 1;
	}
}

/* Adds the pair (prefix index, key hash word). Returns 1 when new, 0 when
 * there already, -1 when new and the table is full. */
static int spc_dbg_pair_add(struct spc_dbg_table *t, uint32_t idx, uint64_t key_word)
{
	uint64_t w = (key_word & ~SPC_PAIR_IDX_MASK) | (idx + 1);
	uint32_t mask = t->cap_pairs * 2 - 1;

	for (uint32_t i = (uint32_t)((w * SPC_GOLDEN) >> 32) & mask;; i = (i + 1) & mask) {
		if (t->pairs[i] == w)
			return 0;
		if (t->pairs[i] == 0) {
			if (t->n_pairs == t->cap_pairs)
				return -1;
			t->pairs[i] = w;
			t->n_pairs++;
			return 1;
		}
	}
}

/* Counts one access of prefix idx (hit or miss) and its key. */
void spc_dbg_count(struct spc_dbg_table *t, int32_t idx, uint64_t hits, uint64_t misses,
                          uint64_t key_word)
{
	t->prefixes[idx].hits += hits;
	t->prefixes[idx].misses += misses;
	switch (spc_dbg_pair_add(t, (uint32_t)idx, key_word)) {
	case 1: t->prefixes[idx].keys++; break;
	case 0: break;
	default: t->untracked_keys++; break;
	}
}

