/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/debug.h: debug mode, the key-prefix analysis of lookups (private to
 * core/; the public contract is in include/splitcache.h, the report format
 * in docs/api.md, "Debug mode").
 *
 * Off it costs one predictable branch in the read path (spc_lookup_rcu
 * tests cache->debug_on) and, until first enabled (cfg.debug at open or
 * spc_debug_enable), no memory at all. On, every lookup is noted in a
 * table of the calling thread (core/debug.c).
 */
#ifndef SPC_CORE_DEBUG_H
#define SPC_CORE_DEBUG_H

#include <stddef.h>
#include <stdint.h>

#include "splitcache.h"

struct spc_cache;

/* Longest prefix length accepted in cfg.debug_prefix_lens (bytes). */
#define SPC_DEBUG_PREFIX_MAX 64u
/* What one thread tracks per pool: distinct prefixes, and distinct
 * (prefix, key) pairs (the distinct-key sets). Powers of two. */
#define SPC_DEBUG_THREAD_PREFIXES 256u
#define SPC_DEBUG_THREAD_PAIRS 4096u
/* What a report merges per pool from all threads. Powers of two; the
 * prefix bound must fit the 16-bit prefix index of a pair. */
#define SPC_DEBUG_MERGE_PREFIXES 1024u
#define SPC_DEBUG_MERGE_PAIRS 16384u
/* A prefix is left out of the report when one longer prefix has at least
 * this % of its accesses ("covers it almost entirely"). */
#define SPC_DEBUG_COVER_PCT 95u
/* The slash rule (SPC_PREFIX_SLASH): shortest cut counted in full, and its
 * default cover threshold (cfg.debug_cover_pct 0). */
#define SPC_DEBUG_SLASH_MIN 8u
#define SPC_DEBUG_SLASH_COVER_PCT 80u

/* Sets up debug mode when c->cfg.debug is set, as spc_debug_enable (else
 * leaves c->debug NULL and allocates nothing). Needs c->cfg, c->env and
 * c->seed. Returns SPC_OK, SPC_EINVAL (bad rule or cover threshold; fixed
 * rule: no prefix length, or one above SPC_DEBUG_PREFIX_MAX), SPC_ENOMEM.
 * Context: spc_open. */
int spc_debug_open(struct spc_cache *c);
/* Frees every table; c->debug becomes NULL. No other thread may use the
 * cache. Context: spc_close, or spc_open's failure path. */
void spc_debug_close(struct spc_cache *c);

/* Records one lookup of key in pool (hit or miss) in this thread's prefix
 * table. Never blocks, never allocates after the thread's first note.
 * Context: read section (the read path, spc_lookup_key_rcu). */
void spc_debug_note(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen,
                    int hit);

#endif /* SPC_CORE_DEBUG_H */
