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
 * Reporting (core/debug_report.c) merges the tables under report_mu;
 * the tables themselves are core/debug_table.c.
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
 *  4. a failed allocation never fails a lookup nor leaves a half-made
 *     table behind.
 */
#include "core/debug.h"

#include <stdlib.h>
#include <string.h>

/* XXH3 compiled in, as for the index's hash (core/cache.h). */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/handle.h"
#include "sync/thread.h"
#include "core/debug_table.h"

/* Thread-local remembered tables (of the caches this thread read last). */
#define SPC_DEBUG_TLS 4u

static __thread struct {
	uint64_t cache_id;
	struct spc_dbg_tab *tab;
} spc_dbg_tls[SPC_DEBUG_TLS];
static __thread unsigned spc_dbg_tls_next;

/* ---- noting ------------------------------------------------------------------ */

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
	if (cfg->debug_cover_pct > SPC_DBG_PCT)
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

