/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/debug.c: debug mode, per-prefix hits, misses, distinct keys and
 * share of accesses (the seed system's key-prefix hit analysis).
 *
 * Switching. The state (struct spc_debug: rule, workspace, the list of
 * thread tables) is allocated at the first enable (cfg.debug at open, or
 * spc_debug_enable), published with one compare-and-swap (release) and
 * then kept until close, so a reader that saw it can use it at any time
 * after; a second enabler that loses the exchange frees its own copy. The
 * read path tests the flag c->debug_on (relaxed: a lookup racing with a
 * switch is noted or not) and spc_debug_note loads the state with an
 * acquire. Off again, notes stop; the tables stay, readable by the
 * reports, until spc_debug_clear empties them (under report_mu and each
 * table's mu, as a report reads them: an owner meanwhile skips, counted).
 *
 * Noting. Every lookup (spc_lookup_rcu) while debug mode is on calls
 * spc_debug_note, which records it in a table of the calling thread:
 * per pool, the lookup counts, and for each prefix of the key under the
 * rule -- fixed: each configured length L that the key reaches (klen >=
 * L); slash: each prefix that ends with '/' and is 8..64 bytes long (the
 * deepest 8; a key without one counts under its longest shorter '/'-ended
 * prefix, "/txids/"; a key without '/' in its first 64 bytes under none)
 * -- the prefix's hits or misses and the
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
 *     debug_min_keys keys, has >= cover % of P's accesses (cfg.
 *     debug_cover_pct; by default 95 % with the fixed rule, 80 % with the
 *     slash rule, where a key counts under each of its '/'-ended
 *     prefixes, so "/blockhash/" is hidden behind "/blockhash/byheight/"
 *     when 80 % of its lookups go there): left out ("covered"): Q says
 *     the same, more precisely.
 *     A chain P < Q < R keeps only the longest link that still covers;
 * and the rest are printed by accesses (descending), then length, then
 * bytes, each with its share of all the pool's analysed lookups.
 *
 * Guarantees (tests/unit/core/test_debug.c, tests/fault/core):
 *  1. never enabled: c->debug is NULL, nothing is allocated, the text and
 *     JSON reports say SPC_EINVAL; off, the read path pays one predictable
 *     branch; switching on and off under readers and writers is safe
 *     (tests/stress/stress_debug.c, under TSan too);
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

/* Notes one prefix of a key. */
static void spc_dbg_note_prefix(const struct spc_debug *d, struct spc_dbg_table *t,
                                const void *key, unsigned len, int hit, uint64_t key_word)
{
	int32_t idx = spc_dbg_prefix_get(t, key, len, XXH3_64bits_withSeed(key, len, d->seed + len));

	if (idx < 0)
		t->untracked_prefixes++;
	else
		spc_dbg_count(t, idx, hit != 0, hit == 0, key_word);
}

/* The slash rule's cuts of a key: the lengths of its prefixes that end
 * with '/' and are SPC_DEBUG_SLASH_MIN..SPC_DEBUG_PREFIX_MAX bytes long,
 * the deepest SPC_DEBUG_MAX_PREFIXES of them, ascending; without one, the
 * longest shorter cut ("/txids/"). Returns how many. */
static unsigned spc_dbg_slash_cuts(const unsigned char *k, size_t klen,
                                   unsigned cuts[SPC_DEBUG_MAX_PREFIXES])
{
	size_t end = klen < SPC_DEBUG_PREFIX_MAX ? klen : SPC_DEBUG_PREFIX_MAX;
	unsigned n = 0, short_cut = 0;

	for (size_t i = 0; i < end; i++) {
		unsigned len = (unsigned)i + 1;

		if (k[i] != '/')
			continue;
		if (len < SPC_DEBUG_SLASH_MIN) {
			short_cut = len;
			continue;
		}
		if (n == SPC_DEBUG_MAX_PREFIXES) {
			memmove(cuts, cuts + 1, (n - 1) * sizeof cuts[0]);
			n--;
		}
		cuts[n++] = len;
	}
	if (n == 0 && short_cut)
		cuts[n++] = short_cut;
	return n;
}

static void spc_dbg_record(const struct spc_debug *d, struct spc_dbg_table *t, const void *key,
                           size_t klen, int hit)
{
	uint64_t key_word = XXH3_64bits_withSeed(key, klen, d->seed);

	if (hit)
		t->hits++;
	else
		t->misses++;
	if (d->rule == SPC_PREFIX_SLASH) {
		unsigned cuts[SPC_DEBUG_MAX_PREFIXES];
		unsigned n = spc_dbg_slash_cuts(key, klen, cuts);

		for (unsigned i = 0; i < n; i++)
			spc_dbg_note_prefix(d, t, key, cuts[i], hit, key_word);
		return;
	}
	for (unsigned i = 0; i < d->n_lens && d->lens[i] <= klen; i++)
		spc_dbg_note_prefix(d, t, key, d->lens[i], hit, key_word);
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
	/* Acquire: pairs with the release that published the state in
	 * spc_debug_enable, so its tables are seen initialised. NULL only
	 * for a reader that saw debug_on before the pointer (not possible
	 * after the release/acquire pair, but cheap to be sure of). */
	struct spc_debug *d = __atomic_load_n(&c->debug, __ATOMIC_ACQUIRE);
	struct spc_dbg_tab *t;

	if (!d)
		return;
	t = spc_dbg_mine(c, d);
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

/* Checks the configuration's debug fields; fills lens (sorted, distinct)
 * and the cover threshold. Returns SPC_OK or SPC_EINVAL. */
static int spc_dbg_config(const struct spc_config *cfg, unsigned lens[SPC_DEBUG_MAX_PREFIXES],
                          unsigned *n_lens, unsigned *cover_pct)
{
	unsigned raw[SPC_DEBUG_MAX_PREFIXES], n = 0;

	if (cfg->debug_prefix_rule != SPC_PREFIX_FIXED && cfg->debug_prefix_rule != SPC_PREFIX_SLASH)
		return SPC_EINVAL;
	if (cfg->debug_cover_pct > SPC_PCT)
		return SPC_EINVAL;
	*cover_pct = cfg->debug_cover_pct ? cfg->debug_cover_pct :
	             cfg->debug_prefix_rule == SPC_PREFIX_SLASH ? SPC_DEBUG_SLASH_COVER_PCT :
	                                                          SPC_DEBUG_COVER_PCT;
	*n_lens = 0;
	if (cfg->debug_prefix_rule == SPC_PREFIX_SLASH)
		return SPC_OK; /* the lengths are not used */
	for (unsigned i = 0; i < SPC_DEBUG_MAX_PREFIXES && cfg->debug_prefix_lens[i]; i++) {
		if (cfg->debug_prefix_lens[i] > SPC_DEBUG_PREFIX_MAX)
			return SPC_EINVAL;
		raw[n++] = cfg->debug_prefix_lens[i];
	}
	if (n == 0)
		return SPC_EINVAL;
	qsort(raw, n, sizeof raw[0], spc_unsigned_cmp);
	for (unsigned i = 0; i < n; i++)
		if (*n_lens == 0 || lens[*n_lens - 1] != raw[i])
			lens[(*n_lens)++] = raw[i];
	return SPC_OK;
}

/* Allocates and publishes the state (once per cache). Returns SPC_OK,
 * SPC_EINVAL, SPC_ENOMEM. */
static int spc_dbg_create(struct spc_cache *c)
{
	struct spc_debug *d, *expected = NULL;
	unsigned lens[SPC_DEBUG_MAX_PREFIXES], n = 0, cover = 0;
	char *mem;
	int r;

	/* Acquire: pairs with the release below (another enabler's). */
	if (__atomic_load_n(&c->debug, __ATOMIC_ACQUIRE))
		return SPC_OK;
	r = spc_dbg_config(&c->cfg, lens, &n, &cover);
	if (r != SPC_OK)
		return r;
	d = spc_calloc(&c->env, 1,
	               sizeof *d + spc_dbg_table_bytes(SPC_DEBUG_MERGE_PREFIXES, SPC_DEBUG_MERGE_PAIRS));
	if (!d)
		return SPC_ENOMEM;
	memcpy(d->lens, lens, sizeof lens);
	d->n_lens = n;
	d->rule = c->cfg.debug_prefix_rule;
	d->cover_pct = cover;
	d->min_keys = c->cfg.debug_min_keys;
	d->seed = c->seed;
	mem = (char *)(d + 1);
	spc_dbg_table_carve(&d->merged, &mem, SPC_DEBUG_MERGE_PREFIXES, SPC_DEBUG_MERGE_PAIRS);
	if (pthread_mutex_init(&d->report_mu, NULL) != 0)
		spc_die("pthread_mutex_init failed");
	/* Release: publishes the initialised state to readers (acquire in
	 * spc_debug_note) and reports. Only one enabler wins; a loser frees
	 * its own copy, which nobody saw. */
	if (!__atomic_compare_exchange_n(&c->debug, &expected, d, 0, __ATOMIC_RELEASE,
	                                 __ATOMIC_ACQUIRE)) {
		pthread_mutex_destroy(&d->report_mu);
		spc_free(d);
	}
	return SPC_OK;
}

int spc_debug_open(struct spc_cache *c)
{
	c->debug = NULL;
	c->debug_on = 0;
	if (!c->cfg.debug)
		return SPC_OK;
	return spc_debug_enable(c);
}

int spc_debug_enable(struct spc_cache *c)
{
	int r;

	if (!c)
		return SPC_EINVAL;
	r = spc_dbg_create(c);
	if (r != SPC_OK)
		return r;
	/* Relaxed: the flag only says whether to note; spc_debug_note
	 * reaches the state through the acquire load of c->debug. */
	__atomic_store_n(&c->debug_on, 1, __ATOMIC_RELAXED);
	return SPC_OK;
}

int spc_debug_disable(struct spc_cache *c)
{
	if (!c)
		return SPC_EINVAL;
	/* Relaxed: lookups that already passed the test finish their note
	 * (the state stays until close); later ones skip it. */
	__atomic_store_n(&c->debug_on, 0, __ATOMIC_RELAXED);
	return SPC_OK;
}

int spc_debug_enabled(struct spc_cache *c)
{
	/* Relaxed: a snapshot of the flag. */
	return c ? __atomic_load_n(&c->debug_on, __ATOMIC_RELAXED) : 0;
}

int spc_debug_clear(struct spc_cache *c)
{
	struct spc_debug *d;

	if (!c)
		return SPC_EINVAL;
	/* Acquire: pairs with the release in spc_dbg_create. */
	d = __atomic_load_n(&c->debug, __ATOMIC_ACQUIRE);
	if (!d)
		return SPC_OK; /* never enabled: nothing to clear */
	spc_lock(&d->report_mu);
	for (int p = 0; p < SPC_POOL_COUNT; p++)
		/* Relaxed: a counter; later losses count from here. */
		d->lost_base[p] = __atomic_load_n(&d->lost[p], __ATOMIC_RELAXED);
	/* Acquire: pairs with the release that linked each table. */
	for (struct spc_dbg_tab *t = __atomic_load_n(&d->tabs, __ATOMIC_ACQUIRE); t; t = t->next) {
		spc_lock(&t->mu);
		for (int p = 0; p < SPC_POOL_COUNT; p++) {
			spc_dbg_table_reset(&t->pool[p]);
			/* Relaxed: the owner's counter; it skips while we hold mu. */
			t->busy_base[p] = __atomic_load_n(&t->busy[p], __ATOMIC_RELAXED);
		}
		spc_unlock(&t->mu);
	}
	spc_unlock(&d->report_mu);
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
	d->merged.busy = __atomic_load_n(&d->lost[pool], __ATOMIC_RELAXED) - d->lost_base[pool];
	/* Acquire: pairs with the release that linked each table. */
	for (struct spc_dbg_tab *t = __atomic_load_n(&d->tabs, __ATOMIC_ACQUIRE); t; t = t->next) {
		spc_lock(&t->mu);
		spc_dbg_merge_one(d, &t->pool[pool]);
		spc_unlock(&t->mu);
		/* Relaxed: the owner's counter, exact once it is quiet. */
		d->merged.busy += __atomic_load_n(&t->busy[pool], __ATOMIC_RELAXED) - t->busy_base[pool];
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
			    spc_dbg_acc(q) * SPC_PCT >= spc_dbg_acc(p) * d->cover_pct)
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

/* Merges, classifies and sorts one pool's notes into the workspace.
 * Caller holds report_mu. */
static void spc_dbg_prepare(struct spc_debug *d, int pool)
{
	spc_dbg_merge(d, pool);
	spc_dbg_classify(d);
	qsort(d->merged.prefixes, d->merged.n_prefixes, sizeof *d->merged.prefixes,
	      spc_dbg_prefix_cmp);
}

static void spc_dbg_header(const struct spc_debug *d, int json, struct spc_sb *sb)
{
	if (json) {
		spc_sb_printf(sb, "{\"prefix_lens\": [");
		for (unsigned i = 0; i < d->n_lens; i++)
			spc_sb_printf(sb, "%s%u", i ? ", " : "", d->lens[i]);
		spc_sb_printf(sb, "], \"min_keys\": %llu, \"cover_pct\": %u, \"rule\": \"%s\", "
		              "\"pools\": [",
		              (unsigned long long)d->min_keys, d->cover_pct,
		              d->rule == SPC_PREFIX_SLASH ? "slash" : "fixed");
		return;
	}
	if (d->rule == SPC_PREFIX_SLASH) {
		spc_sb_printf(sb, "splitcache debug report: prefixes cut at '/', %u to %u bytes",
		              SPC_DEBUG_SLASH_MIN, SPC_DEBUG_PREFIX_MAX);
	} else {
		spc_sb_printf(sb, "splitcache debug report: prefix lengths");
		for (unsigned i = 0; i < d->n_lens; i++)
			spc_sb_printf(sb, " %u", d->lens[i]);
	}
	spc_sb_printf(sb, "; min keys %llu; a prefix is left out when one longer prefix "
	              "has >= %u%% of its accesses\n",
	              (unsigned long long)d->min_keys, d->cover_pct);
}

/* The state of c when it has ever been enabled, else NULL. */
static struct spc_debug *spc_dbg_state(struct spc_cache *c)
{
	/* Acquire: pairs with the release in spc_dbg_create. */
	return c ? __atomic_load_n(&c->debug, __ATOMIC_ACQUIRE) : NULL;
}

static int spc_dbg_report(struct spc_cache *c, int pool, int json, char *buf, size_t cap,
                          size_t *needed)
{
	struct spc_debug *d = spc_dbg_state(c);
	struct spc_sb sb;
	int first = 1;

	if (!d || pool < -1 || pool >= SPC_POOL_COUNT || (!buf && cap > 0))
		return SPC_EINVAL;
	spc_sb_init(&sb, buf, cap);
	spc_dbg_header(d, json, &sb);
	spc_lock(&d->report_mu);
	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		if (pool != -1 && pool != p)
			continue;
		spc_dbg_prepare(d, p);
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

/* One pool of the structure: the workspace holds its prepared notes. */
static void spc_dbg_fill_pool(const struct spc_debug *d, struct spc_debug_pool_report *out)
{
	const struct spc_dbg_table *m = &d->merged;

	out->hits = m->hits;
	out->misses = m->misses;
	out->accesses = m->hits + m->misses;
	out->untracked_prefix_notes = m->untracked_prefixes;
	out->untracked_key_notes = m->untracked_keys;
	out->skipped_lookups = m->busy;
	for (uint32_t i = 0; i < m->n_prefixes; i++) {
		const struct spc_dbg_prefix *p = &m->prefixes[i];
		struct spc_debug_prefix_stat *o;

		out->below_min_keys += p->left_out == 1;
		out->covered += p->left_out == 2;
		if (p->left_out)
			continue;
		if (out->n_prefixes == SPC_DEBUG_REPORT_MAX) {
			out->more_prefixes++;
			continue;
		}
		o = &out->prefixes[out->n_prefixes++];
		memcpy(o->bytes, p->bytes, p->len);
		o->len = p->len;
		o->hits = p->hits;
		o->misses = p->misses;
		o->keys = p->keys;
		o->share_pct = out->accesses ? SPC_PCT * (double)spc_dbg_acc(p) / (double)out->accesses
		                             : 0.0;
	}
}

int spc_debug_report(struct spc_cache *c, struct spc_debug_report *out)
{
	struct spc_debug *d = spc_dbg_state(c);

	if (!c || !out)
		return SPC_EINVAL;
	memset(out, 0, sizeof *out);
	out->enabled = spc_debug_enabled(c);
	if (!d)
		return SPC_OK; /* never enabled: nothing noted */
	out->rule = d->rule;
	memcpy(out->prefix_lens, d->lens, sizeof out->prefix_lens);
	out->n_prefix_lens = d->n_lens;
	out->min_keys = d->min_keys;
	out->cover_pct = d->cover_pct;
	spc_lock(&d->report_mu);
	for (int p = 0; p < SPC_POOL_COUNT; p++) {
		spc_dbg_prepare(d, p);
		spc_dbg_fill_pool(d, &out->pools[p]);
	}
	spc_unlock(&d->report_mu);
	return SPC_OK;
}
