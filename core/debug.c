/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/debug.c: debug mode, per-prefix hits, misses, distinct keys and
 * share of accesses (the seed system's key-prefix hit analysis).
 *
 * Noting. Every lookup (spc_lookup_rcu) of a cache opened with cfg.debug
 * calls spc_debug_note, which records it in a table of the calling thread:
 * per pool, the lookup counts, and for each configured prefix length L
 * that the key reaches (klen >= L) the prefix's hits or misses and the
 * pair (prefix, 48-bit key hash) in a set, from which a report counts the
 * distinct keys exactly (up to a 48-bit hash collision, ~3e-8 at 4096
 * keys). A thread's table is allocated at its first note in that cache
 * (spc_calloc: bookkeeping, fault-aware), linked with one compare-and-swap
 * into a push-only list, and found again through a small thread-local
 * array keyed by the cache's process-unique id. Both tables of a thread
 * are open-addressed arrays of fixed size (core/debug.h): nothing is
 * allocated after the first note; a prefix or pair that finds its table
 * full is counted as "not tracked" and the report says how many.
 *
 * Readers never block on another thread. A table has a mutex that only
 * its owner and the report take; the owner only try-locks it: when a
 * report holds it, the lookup is counted in the table's `busy` counter and
 * not analysed. A thread whose table could not be allocated counts its
 * lookup in the cache's `lost` counter (an atomic add: only under memory
 * failure) and tries again at its next lookup.
 *
 * Reporting. spc_debug_report_* (serialised by report_mu) merges every
 * thread's table of a pool into a workspace allocated at open: prefixes by
 * (length, bytes), pairs by (merged prefix, key hash), so a key read by
 * two threads counts once. Then, for each merged prefix P:
 *   - fewer than cfg.debug_min_keys distinct keys: left out ("below min
 *     keys");
 *   - a longer prefix Q that starts with P, itself with at least
 *     debug_min_keys keys, has >= SPC_DEBUG_COVER_PCT % (95 %) of P's
 *     accesses: left out ("covered"): Q says the same, more precisely.
 *     A chain P < Q < R keeps only the longest link that still covers;
 * and the rest are printed by accesses (descending), then length, then
 * bytes, each with its share of all the pool's analysed lookups.
 *
 * Guarantees (tests/unit/core/test_debug.c, tests/fault/core):
 *  1. debug off: c->debug is NULL, nothing is allocated, the reports say
 *     SPC_EINVAL; the read path pays one predictable branch;
 *  2. a reader never waits for another thread (try-lock only) and never
 *     allocates after its first note;
 *  3. memory is bounded: one fixed table per thread that reads the cache,
 *     one fixed workspace per cache; every note that did not fit is
 *     counted and reported;
 *  4. the report is a pure function of the notes (deterministic order),
 *     in a caller's buffer: SPC_ERANGE and the needed length when small;
 *  5. a failed allocation never fails a lookup nor leaves a half-made
 *     table behind.
 */
#include "core/debug.h"

#include <stdlib.h>
#include <string.h>

#include "core/cache.h"

/* Thread-local remembered tables (of the caches this thread read last). */
#define SPC_DEBUG_TLS 4u
/* Bytes of a rendered prefix (spc_key_render of SPC_DEBUG_PREFIX_MAX
 * bytes is at most 4 characters a byte plus its 4- and 8-byte values). */
#define SPC_DEBUG_RENDER_MAX 512u
/* Pair words: the key hash's top 48 bits above a 16-bit prefix index + 1. */
#define SPC_PAIR_IDX_BITS 16u
#define SPC_PAIR_IDX_MASK ((UINT64_C(1) << SPC_PAIR_IDX_BITS) - 1)
#define SPC_GOLDEN UINT64_C(0x9e3779b97f4a7c15)
#define SPC_PCT 100u

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
	struct spc_dbg_table pool[SPC_POOL_COUNT];
};

struct spc_debug {
	unsigned lens[SPC_DEBUG_MAX_PREFIXES]; /* ascending, distinct */
	unsigned n_lens;
	uint64_t min_keys;
	uint64_t seed;
	struct spc_dbg_tab *tabs;         /* atomic: push-only list head */
	uint64_t lost[SPC_POOL_COUNT];    /* atomic: lookups of threads without a table */
	pthread_mutex_t report_mu;        /* one report at a time: the workspace */
	struct spc_dbg_table merged;      /* workspace, under report_mu */
	int32_t map[SPC_DEBUG_THREAD_PREFIXES]; /* thread prefix -> merged, -1: none */
};

static __thread struct {
	uint64_t cache_id;
	struct spc_dbg_tab *tab;
} spc_dbg_tls[SPC_DEBUG_TLS];
static __thread unsigned spc_dbg_tls_next;

/* ---- tables -------------------------------------------------------------- */

static size_t spc_dbg_table_bytes(uint32_t cap_prefixes, uint32_t cap_pairs)
{
	return (size_t)cap_prefixes * sizeof(struct spc_dbg_prefix) +
	       (size_t)cap_pairs * 2 * sizeof(uint64_t) + (size_t)cap_prefixes * 2 * sizeof(uint16_t);
}

/* Points t's arrays into *mem (8-aligned, zeroed) and advances it. */
static void spc_dbg_table_carve(struct spc_dbg_table *t, char **mem, uint32_t cap_prefixes,
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

static void spc_dbg_table_reset(struct spc_dbg_table *t)
{
	memset(t->prefixes, 0, (size_t)t->cap_prefixes * sizeof *t->prefixes);
	memset(t->pairs, 0, (size_t)t->cap_pairs * 2 * sizeof *t->pairs);
	memset(t->slots, 0, (size_t)t->cap_prefixes * 2 * sizeof *t->slots);
	t->n_prefixes = t->n_pairs = 0;
	t->hits = t->misses = t->untracked_prefixes = t->untracked_keys = t->busy = 0;
}

/* The index of prefix (bytes, len, hash) in t, added if new; -1 when new
 * and the table is full. */
static int32_t spc_dbg_prefix_get(struct spc_dbg_table *t, const void *bytes, unsigned len,
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
static void spc_dbg_count(struct spc_dbg_table *t, int32_t idx, uint64_t hits, uint64_t misses,
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

static void spc_dbg_record(const struct spc_debug *d, struct spc_dbg_table *t, const void *key,
                           size_t klen, int hit)
{
	uint64_t key_word = XXH3_64bits_withSeed(key, klen, d->seed);

	if (hit)
		t->hits++;
	else
		t->misses++;
	for (unsigned i = 0; i < d->n_lens && d->lens[i] <= klen; i++) {
		unsigned len = d->lens[i];
		int32_t idx = spc_dbg_prefix_get(t, key, len,
		                                 XXH3_64bits_withSeed(key, len, d->seed + len));

		if (idx < 0)
			t->untracked_prefixes++;
		else
			spc_dbg_count(t, idx, hit != 0, hit == 0, key_word);
	}
}

/* ---- the reader's side ------------------------------------------------------ */

static struct spc_dbg_tab *spc_dbg_tab_new(struct spc_cache *c)
{
	size_t bytes = sizeof(struct spc_dbg_tab) +
	               SPC_POOL_COUNT * spc_dbg_table_bytes(SPC_DEBUG_THREAD_PREFIXES,
	                                                    SPC_DEBUG_THREAD_PAIRS);
	struct spc_dbg_tab *t = spc_calloc(&c->env, 1, bytes);
	char *mem;

	if (!t)
		return NULL;
	mem = (char *)(t + 1);
	for (int p = 0; p < SPC_POOL_COUNT; p++)
		spc_dbg_table_carve(&t->pool[p], &mem, SPC_DEBUG_THREAD_PREFIXES,
		                    SPC_DEBUG_THREAD_PAIRS);
	if (pthread_mutex_init(&t->mu, NULL) != 0)
		spc_die("pthread_mutex_init failed");
	t->owner = pthread_self();
	return t;
}

/* This thread's table in c, made and linked at its first note; NULL when
 * it cannot be allocated (retried next time). */
static struct spc_dbg_tab *spc_dbg_mine(struct spc_cache *c, struct spc_debug *d)
{
	pthread_t self = pthread_self();
	struct spc_dbg_tab *t, *head;
	unsigned i;

	for (i = 0; i < SPC_DEBUG_TLS; i++)
		if (spc_dbg_tls[i].cache_id == c->id)
			return spc_dbg_tls[i].tab;
	/* Acquire: pairs with the release of the push below, so a table
	 * found here is seen complete. */
	for (t = __atomic_load_n(&d->tabs, __ATOMIC_ACQUIRE); t; t = t->next)
		if (pthread_equal(t->owner, self))
			break; /* ours, or an exited thread's with our id: one owner */
	if (!t) {
		t = spc_dbg_tab_new(c);
		if (!t)
			return NULL;
		head = __atomic_load_n(&d->tabs, __ATOMIC_RELAXED);
		do
			t->next = head;
		/* Release: publishes the table's initialisation with the link;
		 * a failed exchange reloads head and retries. */
		while (!__atomic_compare_exchange_n(&d->tabs, &head, t, 1, __ATOMIC_RELEASE,
		                                    __ATOMIC_RELAXED));
	}
	i = spc_dbg_tls_next++ % SPC_DEBUG_TLS;
	spc_dbg_tls[i].cache_id = c->id;
	spc_dbg_tls[i].tab = t;
	return t;
}

void spc_debug_note(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen,
                    int hit)
{
	struct spc_debug *d = c->debug;
	struct spc_dbg_tab *t = spc_dbg_mine(c, d);

	if (!t) {
		/* Relaxed: a counter; only threads without memory get here. */
		__atomic_fetch_add(&d->lost[pool], 1, __ATOMIC_RELAXED);
		return;
	}
	if (pthread_mutex_trylock(&t->mu) != 0) {
		/* A report holds our table: skip, never wait (guarantee 2).
		 * Relaxed load + store: we are the only writer; the report
		 * reads it relaxed. */
		__atomic_store_n(&t->busy[pool], __atomic_load_n(&t->busy[pool], __ATOMIC_RELAXED) + 1,
		                 __ATOMIC_RELAXED);
		return;
	}
	spc_dbg_record(d, &t->pool[pool], key, klen, hit);
	spc_unlock(&t->mu);
}

/* ---- open / close ------------------------------------------------------------- */

static int spc_unsigned_cmp(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return (x > y) - (x < y);
}

int spc_debug_open(struct spc_cache *c)
{
	struct spc_debug *d;
	unsigned lens[SPC_DEBUG_MAX_PREFIXES], n = 0;
	char *mem;

	c->debug = NULL;
	if (!c->cfg.debug)
		return SPC_OK;
	for (unsigned i = 0; i < SPC_DEBUG_MAX_PREFIXES && c->cfg.debug_prefix_lens[i]; i++) {
		if (c->cfg.debug_prefix_lens[i] > SPC_DEBUG_PREFIX_MAX)
			return SPC_EINVAL;
		lens[n++] = c->cfg.debug_prefix_lens[i];
	}
	if (n == 0)
		return SPC_EINVAL;
	d = spc_calloc(&c->env, 1,
	               sizeof *d + spc_dbg_table_bytes(SPC_DEBUG_MERGE_PREFIXES, SPC_DEBUG_MERGE_PAIRS));
	if (!d)
		return SPC_ENOMEM;
	qsort(lens, n, sizeof lens[0], spc_unsigned_cmp);
	for (unsigned i = 0; i < n; i++)
		if (d->n_lens == 0 || d->lens[d->n_lens - 1] != lens[i])
			d->lens[d->n_lens++] = lens[i];
	d->min_keys = c->cfg.debug_min_keys;
	d->seed = c->seed;
	mem = (char *)(d + 1);
	spc_dbg_table_carve(&d->merged, &mem, SPC_DEBUG_MERGE_PREFIXES, SPC_DEBUG_MERGE_PAIRS);
	if (pthread_mutex_init(&d->report_mu, NULL) != 0)
		spc_die("pthread_mutex_init failed");
	c->debug = d;
	return SPC_OK;
}

void spc_debug_close(struct spc_cache *c)
{
	struct spc_debug *d = c->debug;
	struct spc_dbg_tab *t, *next;

	if (!d)
		return;
	for (t = d->tabs; t; t = next) {
		next = t->next;
		pthread_mutex_destroy(&t->mu);
		spc_free(t);
	}
	pthread_mutex_destroy(&d->report_mu);
	spc_free(d);
	c->debug = NULL;
}

/* ---- merging and rendering ------------------------------------------------------- */

/* Merges one thread's table of a pool into the workspace. Caller holds
 * report_mu and the table's mu. */
static void spc_dbg_merge_one(struct spc_debug *d, const struct spc_dbg_table *from)
{
	struct spc_dbg_table *m = &d->merged;

	m->hits += from->hits;
	m->misses += from->misses;
	m->untracked_prefixes += from->untracked_prefixes;
	m->untracked_keys += from->untracked_keys;
	for (uint32_t j = 0; j < from->n_prefixes; j++) {
		const struct spc_dbg_prefix *p = &from->prefixes[j];

		d->map[j] = spc_dbg_prefix_get(m, p->bytes, p->len, p->hash);
		if (d->map[j] < 0) {
			m->untracked_prefixes += p->hits + p->misses;
		} else {
			m->prefixes[d->map[j]].hits += p->hits;
			m->prefixes[d->map[j]].misses += p->misses;
		}
	}
	for (uint32_t i = 0; i < from->cap_pairs * 2; i++) {
		uint64_t w = from->pairs[i];
		int32_t idx;

		if (w == 0)
			continue;
		idx = d->map[(w & SPC_PAIR_IDX_MASK) - 1];
		if (idx >= 0)
			spc_dbg_count(m, idx, 0, 0, w);
	}
}

/* Fills the workspace with pool's notes from every thread. */
static void spc_dbg_merge(struct spc_debug *d, int pool)
{
	spc_dbg_table_reset(&d->merged);
	/* Relaxed: a counter. */
	d->merged.busy = __atomic_load_n(&d->lost[pool], __ATOMIC_RELAXED);
	/* Acquire: pairs with the release that linked each table. */
	for (struct spc_dbg_tab *t = __atomic_load_n(&d->tabs, __ATOMIC_ACQUIRE); t; t = t->next) {
		spc_lock(&t->mu);
		spc_dbg_merge_one(d, &t->pool[pool]);
		spc_unlock(&t->mu);
		/* Relaxed: the owner's counter, exact once it is quiet. */
		d->merged.busy += __atomic_load_n(&t->busy[pool], __ATOMIC_RELAXED);
	}
}

static uint64_t spc_dbg_acc(const struct spc_dbg_prefix *p)
{
	return p->hits + p->misses;
}

/* Marks each merged prefix shown (0), below min keys (1) or covered (2). */
static void spc_dbg_classify(struct spc_debug *d)
{
	struct spc_dbg_table *m = &d->merged;

	for (uint32_t i = 0; i < m->n_prefixes; i++) {
		struct spc_dbg_prefix *p = &m->prefixes[i];

		p->left_out = p->keys < d->min_keys ? 1 : 0;
		for (uint32_t j = 0; j < m->n_prefixes && !p->left_out; j++) {
			const struct spc_dbg_prefix *q = &m->prefixes[j];

			if (q->len > p->len && q->keys >= d->min_keys &&
			    memcmp(q->bytes, p->bytes, p->len) == 0 &&
			    spc_dbg_acc(q) * SPC_PCT >= spc_dbg_acc(p) * SPC_DEBUG_COVER_PCT)
				p->left_out = 2;
		}
	}
}

/* Report order: accesses descending, then length, then bytes. */
static int spc_dbg_prefix_cmp(const void *a, const void *b)
{
	const struct spc_dbg_prefix *x = a, *y = b;
	uint64_t ax = spc_dbg_acc(x), ay = spc_dbg_acc(y);

	if (ax != ay)
		return ax > ay ? -1 : 1;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->bytes, y->bytes, x->len);
}

static const char *spc_dbg_pool_name(int pool)
{
	return pool == SPC_POOL_INDEX ? "index" : "view";
}

/* One pool in text or JSON. The workspace holds its merged, classified,
 * sorted notes. */
static void spc_dbg_render_pool(const struct spc_debug *d, int pool, int json, int first,
                                struct spc_sb *sb)
{
	const struct spc_dbg_table *m = &d->merged;
	uint64_t total = m->hits + m->misses, below = 0, covered = 0;
	char name[SPC_DEBUG_RENDER_MAX];
	int shown = 0;

	if (json)
		spc_sb_printf(sb, "%s\n  {\"pool\": \"%s\", \"accesses\": %llu, \"hits\": %llu, "
		              "\"misses\": %llu, \"prefixes\": [",
		              first ? "" : ",", spc_dbg_pool_name(pool), (unsigned long long)total,
		              (unsigned long long)m->hits, (unsigned long long)m->misses);
	else
		spc_sb_printf(sb, "pool %s: %llu accesses (%llu hits, %llu misses)\n"
		              "%10s %10s %10s %10s %4s  %s\n",
		              spc_dbg_pool_name(pool), (unsigned long long)total,
		              (unsigned long long)m->hits, (unsigned long long)m->misses, "share",
		              "hits", "misses", "keys", "len", "prefix");
	for (uint32_t i = 0; i < m->n_prefixes; i++) {
		const struct spc_dbg_prefix *p = &m->prefixes[i];
		double share = total ? SPC_PCT * (double)spc_dbg_acc(p) / (double)total : 0.0;

		below += p->left_out == 1;
		covered += p->left_out == 2;
		if (p->left_out)
			continue;
		/* Truncated renderings stay NUL-terminated: fine for a report. */
		(void)spc_key_render(p->bytes, p->len, name, sizeof name, NULL);
		if (json) {
			spc_sb_printf(sb, "%s\n    {\"prefix\": ", shown ? "," : "");
			spc_sb_json_str(sb, name);
			spc_sb_printf(sb, ", \"len\": %u, \"hits\": %llu, \"misses\": %llu, "
			              "\"keys\": %llu, \"share_pct\": %.2f}",
			              p->len, (unsigned long long)p->hits, (unsigned long long)p->misses,
			              (unsigned long long)p->keys, share);
		} else {
			spc_sb_printf(sb, "%9.2f%% %10llu %10llu %10llu %4u  %s\n", share,
			              (unsigned long long)p->hits, (unsigned long long)p->misses,
			              (unsigned long long)p->keys, p->len, name);
		}
		shown++;
	}
	if (json)
		spc_sb_printf(sb, "],\n   \"below_min_keys\": %llu, \"covered\": %llu, "
		              "\"untracked_prefix_notes\": %llu, \"untracked_key_notes\": %llu, "
		              "\"skipped_lookups\": %llu}",
		              (unsigned long long)below, (unsigned long long)covered,
		              (unsigned long long)m->untracked_prefixes,
		              (unsigned long long)m->untracked_keys, (unsigned long long)m->busy);
	else
		spc_sb_printf(sb, "left out: %llu below min keys, %llu covered by a longer prefix\n"
		              "not tracked: %llu prefix notes (prefix table full), %llu key notes "
		              "(key table full), %llu lookups skipped (table busy or unallocated)\n",
		              (unsigned long long)below, (unsigned long long)covered,
		              (unsigned long long)m->untracked_prefixes,
		              (unsigned long long)m->untracked_keys, (unsigned long long)m->busy);
}

static int spc_dbg_report(struct spc_cache *c, int pool, int json, char *buf, size_t cap,
                          size_t *needed)
{
	struct spc_debug *d;
	struct spc_sb sb;
	int first = 1;

	if (!c || !c->debug || pool < -1 || pool >= SPC_POOL_COUNT || (!buf && cap > 0))
		return SPC_EINVAL;
	d = c->debug;
	spc_sb_init(&sb, buf, cap);
	if (json) {
		spc_sb_printf(&sb, "{\"prefix_lens\": [");
		for (unsigned i = 0; i < d->n_lens; i++)
			spc_sb_printf(&sb, "%s%u", i ? ", " : "", d->lens[i]);
		spc_sb_printf(&sb, "], \"min_keys\": %llu, \"cover_pct\": %u, \"pools\": [",
		              (unsigned long long)d->min_keys, SPC_DEBUG_COVER_PCT);
	} else {
		spc_sb_printf(&sb, "splitcache debug report: prefix lengths");
		for (unsigned i = 0; i < d->n_lens; i++)
			spc_sb_printf(&sb, " %u", d->lens[i]);
		spc_sb_printf(&sb, "; min keys %llu; a prefix is left out when one longer prefix "
		              "has >= %u%% of its accesses\n",
		              (unsigned long long)d->min_keys, SPC_DEBUG_COVER_PCT);
	}
	spc_lock(&d->report_mu);
	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		if (pool != -1 && pool != p)
			continue;
		spc_dbg_merge(d, p);
		spc_dbg_classify(d);
		qsort(d->merged.prefixes, d->merged.n_prefixes, sizeof *d->merged.prefixes,
		      spc_dbg_prefix_cmp);
		spc_dbg_render_pool(d, p, json, first, &sb);
		first = 0;
	}
	spc_unlock(&d->report_mu);
	if (json)
		spc_sb_printf(&sb, "]}\n");
	return spc_sb_finish(&sb, needed);
}

int spc_debug_report_text(struct spc_cache *c, int pool, char *buf, size_t cap, size_t *needed)
{
	return spc_dbg_report(c, pool, 0, buf, cap, needed);
}

int spc_debug_report_json(struct spc_cache *c, int pool, char *buf, size_t cap, size_t *needed)
{
	return spc_dbg_report(c, pool, 1, buf, cap, needed);
}
