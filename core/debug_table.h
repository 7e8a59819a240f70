/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/debug_table.h: debug mode's tables, shared by the noting and
 * switching side (core/debug.c) and the reports (core/debug_report.c).
 * Private to core/. A table is one pool's notes: prefixes with their hits,
 * misses and distinct keys, and the set of (prefix, key hash) pairs the
 * distinct keys are counted from, both open-addressed arrays of fixed size
 * carved from one allocation (core/debug_table.c).
 *
 * Context: a table is used by one thread at a time (its owner under the
 * table's mu, or a report or clear under report_mu and that mu); nothing
 * here locks or allocates.
 */
#ifndef SPC_CORE_DEBUG_TABLE_H
#define SPC_CORE_DEBUG_TABLE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "core/debug.h"
#include "splitcache.h"

/* Pair words: the key hash's top 48 bits above a 16-bit prefix index + 1. */
#define SPC_PAIR_IDX_BITS 16u
#define SPC_PAIR_IDX_MASK ((UINT64_C(1) << SPC_PAIR_IDX_BITS) - 1)
#define SPC_DBG_PCT 100u

_Static_assert(SPC_DEBUG_MERGE_PREFIXES < SPC_PAIR_IDX_MASK, "prefix index must fit a pair");
_Static_assert(SPC_DEBUG_PREFIX_MAX <= UINT8_MAX, "prefix length is kept in a byte");

struct spc_dbg_prefix {
	uint64_t hash;   /* of (length, bytes) */
	uint64_t hits, misses;
	uint64_t keys;   /* distinct keys (merged tables) */
	uint8_t len;
	uint8_t left_out; /* report: 0 shown, 1 below min keys, 2 covered */
	uint8_t bytes[SPC_DEBUG_PREFIX_MAX];
};

/* One pool's notes: open addressing, at most half full. */
struct spc_dbg_table {
	uint32_t cap_prefixes, n_prefixes;
	uint32_t cap_pairs, n_pairs;
	struct spc_dbg_prefix *prefixes; /* cap_prefixes, in insertion order */
	uint64_t *pairs;                 /* 2 x cap_pairs words, 0: empty */
	uint16_t *slots;                 /* 2 x cap_prefixes: prefix index + 1, 0: empty */
	uint64_t hits, misses;           /* lookups analysed */
	uint64_t untracked_prefixes;     /* prefix notes that found the table full */
	uint64_t untracked_keys;         /* pair notes that found the table full */
	uint64_t busy;                   /* merged: lookups skipped (busy, lost) */
};

/* One thread's tables in one cache. */
struct spc_dbg_tab {
	pthread_mutex_t mu;       /* owner: try-lock only; report: lock */
	struct spc_dbg_tab *next; /* set before the table is linked, then fixed */
	pthread_t owner;
	uint64_t busy[SPC_POOL_COUNT]; /* owner's relaxed stores: lookups skipped
	                                  while a report held mu */
	uint64_t busy_base[SPC_POOL_COUNT]; /* busy at the last clear (report_mu) */
	struct spc_dbg_table pool[SPC_POOL_COUNT];
};

struct spc_debug {
	unsigned lens[SPC_DEBUG_MAX_PREFIXES]; /* ascending, distinct (fixed rule) */
	unsigned n_lens;
	enum spc_prefix_rule rule;
	unsigned cover_pct;               /* a covered prefix is left out */
	uint64_t min_keys;
	uint64_t seed;
	struct spc_dbg_tab *tabs;         /* atomic: push-only list head */
	uint64_t lost[SPC_POOL_COUNT];    /* atomic: lookups of threads without a table */
	uint64_t lost_base[SPC_POOL_COUNT]; /* lost at the last clear (report_mu) */
	pthread_mutex_t report_mu;        /* one report at a time: the workspace */
	struct spc_dbg_table merged;      /* workspace, under report_mu */
	int32_t map[SPC_DEBUG_THREAD_PREFIXES]; /* thread prefix -> merged, -1: none */
};

/* Bytes of one table's arrays for these capacities (powers of two). */
size_t spc_dbg_table_bytes(uint32_t cap_prefixes, uint32_t cap_pairs);
/* Points t's arrays into *mem (8-aligned, zeroed, spc_dbg_table_bytes
 * long) and advances it; counters zero. */
void spc_dbg_table_carve(struct spc_dbg_table *t, char **mem, uint32_t cap_prefixes,
                         uint32_t cap_pairs);
/* Empties t: no prefix, no pair, every counter zero. */
void spc_dbg_table_reset(struct spc_dbg_table *t);
/* The index of prefix (bytes, len, hash) in t, added if new; -1 when new
 * and the table is full. */
int32_t spc_dbg_prefix_get(struct spc_dbg_table *t, const void *bytes, unsigned len,
                           uint64_t hash);
/* Counts hits and misses of prefix idx and the pair (idx, key_word): a
 * new pair is a new distinct key; a pair that finds the table full is
 * counted as untracked. */
void spc_dbg_count(struct spc_dbg_table *t, int32_t idx, uint64_t hits, uint64_t misses,
                   uint64_t key_word);

#endif /* SPC_CORE_DEBUG_TABLE_H */
