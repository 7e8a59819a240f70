/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/debug_report.c: debug mode's reports, as text, JSON and a structure
 * (docs/api.md, "Debug mode"); the notes they read are taken by
 * core/debug.c.
 *
 * A report (serialised by report_mu) merges every thread's table of a pool
 * into a workspace allocated at the first enable: prefixes by (length,
 * bytes), pairs by (merged prefix, key hash), so a key read by two threads
 * counts once. Then, for each merged prefix P:
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
 * and the rest are listed by accesses (descending), then length, then
 * bytes, each with its share of all the pool's analysed lookups.
 *
 * Each table is locked in turn while it is merged; its owner meanwhile
 * skips its lookups and counts them (core/debug.c): a report never stops
 * a reader.
 *
 * Guarantees (tests/unit/core/test_debug.c, test_debug_runtime.c):
 *  1. the report is a pure function of the notes (deterministic order),
 *     in a caller's buffer: SPC_ERANGE and the needed length when small;
 *  2. the structure holds what the text shows, the first
 *     SPC_DEBUG_REPORT_MAX prefixes of each pool and the count of the rest;
 *  3. a report allocates nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "core/handle.h"
#include "sync/thread.h"
#include "core/debug_table.h"

/* Bytes of a rendered prefix (spc_key_render of SPC_DEBUG_PREFIX_MAX
 * bytes is at most 4 characters a byte plus its 4- and 8-byte values). */
#define SPC_DEBUG_RENDER_MAX 512u

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
			    spc_dbg_acc(q) * SPC_DBG_PCT >= spc_dbg_acc(p) * d->cover_pct)
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
		double share = total ? SPC_DBG_PCT * (double)spc_dbg_acc(p) / (double)total : 0.0;

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
		o->share_pct = out->accesses ? SPC_DBG_PCT * (double)spc_dbg_acc(p) / (double)out->accesses
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

