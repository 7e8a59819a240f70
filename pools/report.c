/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pools/report.c: the memory report as text and as JSON.
 *
 * Both renderings are pure functions of struct spc_mem_report written
 * through the bounded string builder of base/, so they never allocate and
 * never overflow: a buffer too small yields SPC_ERANGE and the length that
 * would have been needed, and the caller retries with a larger one.
 *
 * JSON keys (issue 2; more may be added, none renamed): budget_bytes,
 * max_budget_bytes, tightest_source, sources [{name, bytes|null, path|null,
 * note|null}], reservation {attempts [{bytes, ok, error|null}],
 * reserved_bytes, prefault}, mode, view_share, pools {index, view:
 * {target_bytes, ...}}, recommended_min_bytes, below_recommended_minimum,
 * degraded. Added: explicit_budget, explicit_cut, rule, candidate_bytes
 * per source, charged bytes and arena statistics per pool, warnings.
 *
 * Guarantees (tests/unit/pools/test_report.c):
 *  R1. The output is always NUL-terminated when cap > 0; *needed is the
 *      full length; SPC_ERANGE exactly when it did not fit.
 *  R2. The JSON holds every key above; strings are escaped.
 */
#include <stdio.h>

#include "base/base.h"
#include "pools/detect.h"
#include "pools/pools.h"

static const char *mode_name(enum spc_mode m)
{
	switch (m) {
	case SPC_MODE_INDEXER: return "indexer";
	case SPC_MODE_VIEW: return "view";
	case SPC_MODE_SPLIT: return "split";
	}
	return "unknown";
}

static const char *pool_name(int i)
{
	return i == SPC_POOL_INDEX ? "index" : "view";
}

/* Bytes as "12.50 MiB" into a small buffer. */
static const char *human_str(uint64_t b, char *buf, size_t cap)
{
	if (b >= (UINT64_C(1) << 30))
		snprintf(buf, cap, "%.2f GiB", (double)b / (double)(UINT64_C(1) << 30));
	else
		snprintf(buf, cap, "%.2f MiB", (double)b / (double)SPC_MIB);
	return buf;
}

void spc_detect_log(const struct spc_env *env, const struct spc_mem_report *r,
                    unsigned first_warning, unsigned end_warning)
{
	char h[32];

	for (unsigned i = 0; i < r->n_sources && i < SPC_MEM_MAX_SOURCES; i++) {
		const struct spc_mem_source *s = &r->sources[i];
		char where[440];

		/* "(file; note)", "(file)", "(note)" or nothing. */
		if (s->path[0] || s->note[0])
			snprintf(where, sizeof where, " (%s%s%s)", s->path, s->path[0] && s->note[0] ? "; " : "",
			         s->note);
		else
			where[0] = '\0';
		if (!s->has_bytes)
			spc_logf(env, SPC_LOG_INFO, "Detected %s: no limit%s", s->name, where);
		else if (s->candidate)
			spc_logf(env, SPC_LOG_INFO, "Detected %s: %llu bytes%s, candidate %llu bytes",
			         s->name, (unsigned long long)s->bytes, where,
			         (unsigned long long)s->candidate);
		else
			spc_logf(env, SPC_LOG_INFO, "Detected %s: %llu bytes%s", s->name,
			         (unsigned long long)s->bytes, where);
	}
	for (unsigned i = first_warning; i < end_warning && i < r->n_warnings && i < 8; i++)
		spc_logf(env, SPC_LOG_WARN, "%s", r->warnings[i]);
	spc_logf(env, SPC_LOG_INFO, "Detected budget %llu bytes (%s), decided by %s%s: %s",
	         (unsigned long long)r->budget_bytes, human_str(r->budget_bytes, h, sizeof h),
	         r->tightest_source ? r->tightest_source : "-",
	         r->explicit_budget ? (r->explicit_cut ? " (explicit budget, cut)" :
	                                                 " (explicit budget)") : "",
	         r->rule);
}

static void human(struct spc_sb *sb, uint64_t b)
{
	if (b >= (UINT64_C(1) << 30))
		spc_sb_printf(sb, "%.2f GiB", (double)b / (double)(UINT64_C(1) << 30));
	else
		spc_sb_printf(sb, "%.2f MiB", (double)b / (double)SPC_MIB);
}

int spc_mem_report_text(const struct spc_mem_report *r, char *buf, size_t cap, size_t *needed)
{
	struct spc_sb sb;
	unsigned i;

	if (!r || (!buf && cap))
		return SPC_EINVAL;
	spc_sb_init(&sb, buf, cap);
	spc_sb_printf(&sb, "splitcache memory report\n\nbudget: %llu bytes (",
	              (unsigned long long)r->budget_bytes);
	human(&sb, r->budget_bytes);
	spc_sb_printf(&sb, "), decided by %s%s\n", r->tightest_source ? r->tightest_source : "-",
	              r->explicit_budget ? (r->explicit_cut ? " (explicit budget, cut)" :
	                                                      " (explicit budget)") : "");
	spc_sb_printf(&sb, "rule:    budget = min(0.6 x cgroup limit, 0.5 x MemAvailable, RLIMIT_AS / 2,\n"
	              "                      RLIMIT_DATA / 2, commit headroom / 2 when overcommit_memory = 2)\n"
	              "         clamped to [4 MiB, max budget], rounded down to a page;\n"
	              "         an explicit budget replaces it, cut to the tightest raw limit\n");
	spc_sb_printf(&sb, "applied: %s\n", r->rule);
	spc_sb_printf(&sb, "max budget (bounds the automatic rule only): %llu bytes\n\n",
	              (unsigned long long)r->max_budget_bytes);
	spc_sb_printf(&sb, "sources:\n  %-34s %20s %20s  %s\n", "name", "limit (bytes)",
	              "candidate (bytes)", "file / note");
	for (i = 0; i < r->n_sources && i < SPC_MEM_MAX_SOURCES; i++) {
		const struct spc_mem_source *s = &r->sources[i];
		char lim[24] = "-", cand[24] = "-";

		if (s->has_bytes) {
			snprintf(lim, sizeof lim, "%llu", (unsigned long long)s->bytes);
			if (s->candidate)
				snprintf(cand, sizeof cand, "%llu", (unsigned long long)s->candidate);
		}
		spc_sb_printf(&sb, "  %-34s %20s %20s  %s%s%s\n", s->name ? s->name : "?", lim, cand,
		              s->path, s->path[0] && s->note[0] ? " -- " : "", s->note);
	}
	spc_sb_printf(&sb, "\nreservation ladder (prefault %s):\n", r->prefault ? "on" : "off");
	for (i = 0; i < r->n_attempts && i < SPC_MEM_MAX_ATTEMPTS; i++)
		spc_sb_printf(&sb, "  %12llu bytes  %s%s\n", (unsigned long long)r->attempts[i].bytes,
		              r->attempts[i].ok ? "ok" : "failed: ", r->attempts[i].error);
	spc_sb_printf(&sb, "  reserved: %llu bytes%s\n\n", (unsigned long long)r->reserved_bytes,
	              r->degraded ? " -- DEGRADED: minimal pools" : "");
	spc_sb_printf(&sb, "mode: %s", mode_name(r->mode));
	if (r->mode == SPC_MODE_SPLIT)
		spc_sb_printf(&sb, ", view share %.4g", r->view_share);
	spc_sb_printf(&sb, "\npools:\n");
	for (i = 0; i < SPC_POOL_COUNT; i++) {
		const struct spc_mem_pool_report *p = &r->pools[i];

		spc_sb_printf(&sb, "  %-5s target %12llu  charged %12llu  %s", pool_name((int)i),
		              (unsigned long long)p->target_bytes, (unsigned long long)p->charged_bytes,
		              p->hard_capped ? "hard cap" : "no hard cap (charge only)");
		if (p->arena_index)
			spc_sb_printf(&sb, ", arena %u: allocated %llu active %llu resident %llu mapped %llu",
			              p->arena_index, (unsigned long long)p->arena_allocated,
			              (unsigned long long)p->arena_active,
			              (unsigned long long)p->arena_resident,
			              (unsigned long long)p->arena_mapped);
		if (p->slab_chunk_bytes)
			spc_sb_printf(&sb, "\n        slabs %llu (%llu B in chunks of %llu): live %llu B in %llu slots, "
			              "held beyond charged %llu B",
			              (unsigned long long)p->slab_slabs,
			              (unsigned long long)p->slab_inuse_bytes,
			              (unsigned long long)p->slab_chunk_bytes,
			              (unsigned long long)p->slab_live_bytes,
			              (unsigned long long)p->slab_live_slots,
			              (unsigned long long)p->slab_held_bytes);
		spc_sb_printf(&sb, "\n");
	}
	spc_sb_printf(&sb, "\nrecommended minimum: %llu bytes -- %s\n",
	              (unsigned long long)r->recommended_min_bytes,
	              r->below_recommended_minimum ? "BELOW" : "ok");
	spc_sb_printf(&sb, "degraded: %s\n", r->degraded ? "yes" : "no");
	if (r->n_warnings) {
		spc_sb_printf(&sb, "warnings:\n");
		for (i = 0; i < r->n_warnings && i < 8; i++)
			spc_sb_printf(&sb, "  - %s\n", r->warnings[i]);
	}
	return spc_sb_finish(&sb, needed);
}

static void json_str_or_null(struct spc_sb *sb, const char *s)
{
	if (s && *s)
		spc_sb_json_str(sb, s);
	else
		spc_sb_printf(sb, "null");
}

static const char *jbool(int v)
{
	return v ? "true" : "false";
}

int spc_mem_report_json(const struct spc_mem_report *r, char *buf, size_t cap, size_t *needed)
{
	struct spc_sb sb;
	unsigned i;

	if (!r || (!buf && cap))
		return SPC_EINVAL;
	spc_sb_init(&sb, buf, cap);
	spc_sb_printf(&sb, "{\"budget_bytes\": %llu, \"max_budget_bytes\": %llu, \"tightest_source\": ",
	              (unsigned long long)r->budget_bytes, (unsigned long long)r->max_budget_bytes);
	json_str_or_null(&sb, r->tightest_source);
	spc_sb_printf(&sb, ", \"explicit_budget\": %s, \"explicit_cut\": %s, \"rule\": ",
	              jbool(r->explicit_budget), jbool(r->explicit_cut));
	spc_sb_json_str(&sb, r->rule);
	spc_sb_printf(&sb, ",\n \"sources\": [");
	for (i = 0; i < r->n_sources && i < SPC_MEM_MAX_SOURCES; i++) {
		const struct spc_mem_source *s = &r->sources[i];

		spc_sb_printf(&sb, "%s\n  {\"name\": ", i ? "," : "");
		json_str_or_null(&sb, s->name);
		if (s->has_bytes)
			spc_sb_printf(&sb, ", \"bytes\": %llu", (unsigned long long)s->bytes);
		else
			spc_sb_printf(&sb, ", \"bytes\": null");
		/* A candidate of 0 with a limit of 0 is real (no commit
		 * headroom); otherwise 0 means the source gives none. */
		if (s->has_bytes && (s->candidate || s->bytes == 0))
			spc_sb_printf(&sb, ", \"candidate_bytes\": %llu",
			              (unsigned long long)s->candidate);
		else
			spc_sb_printf(&sb, ", \"candidate_bytes\": null");
		spc_sb_printf(&sb, ", \"path\": ");
		json_str_or_null(&sb, s->path);
		spc_sb_printf(&sb, ", \"note\": ");
		json_str_or_null(&sb, s->note);
		spc_sb_printf(&sb, "}");
	}
	spc_sb_printf(&sb, "],\n \"reservation\": {\"attempts\": [");
	for (i = 0; i < r->n_attempts && i < SPC_MEM_MAX_ATTEMPTS; i++) {
		spc_sb_printf(&sb, "%s{\"bytes\": %llu, \"ok\": %s, \"error\": ", i ? ", " : "",
		              (unsigned long long)r->attempts[i].bytes, jbool(r->attempts[i].ok));
		json_str_or_null(&sb, r->attempts[i].error);
		spc_sb_printf(&sb, "}");
	}
	spc_sb_printf(&sb, "], \"reserved_bytes\": %llu, \"prefault\": %s},\n",
	              (unsigned long long)r->reserved_bytes, jbool(r->prefault));
	spc_sb_printf(&sb, " \"mode\": \"%s\", \"view_share\": %.6g,\n \"pools\": {",
	              mode_name(r->mode), r->view_share);
	for (i = 0; i < SPC_POOL_COUNT; i++) {
		const struct spc_mem_pool_report *p = &r->pools[i];

		spc_sb_printf(&sb, "%s\"%s\": {\"target_bytes\": %llu, \"charged_bytes\": %llu, "
		              "\"hard_capped\": %s, \"arena_index\": %u, \"arena_allocated_bytes\": %llu, "
		              "\"arena_active_bytes\": %llu, \"arena_resident_bytes\": %llu, "
		              "\"arena_mapped_bytes\": %llu, \"slab_chunk_bytes\": %llu, "
		              "\"slab_inuse_bytes\": %llu, \"slab_live_bytes\": %llu, "
		              "\"slab_held_bytes\": %llu, \"slab_live_slots\": %llu, \"slab_slabs\": %llu, "
		              "\"slab_free_slabs\": %llu}",
		              i ? ",\n   " : "", pool_name((int)i), (unsigned long long)p->target_bytes,
		              (unsigned long long)p->charged_bytes, jbool(p->hard_capped), p->arena_index,
		              (unsigned long long)p->arena_allocated, (unsigned long long)p->arena_active,
		              (unsigned long long)p->arena_resident, (unsigned long long)p->arena_mapped,
		              (unsigned long long)p->slab_chunk_bytes, (unsigned long long)p->slab_inuse_bytes,
		              (unsigned long long)p->slab_live_bytes, (unsigned long long)p->slab_held_bytes,
		              (unsigned long long)p->slab_live_slots, (unsigned long long)p->slab_slabs,
		              (unsigned long long)p->slab_free_slabs);
	}
	spc_sb_printf(&sb, "},\n \"recommended_min_bytes\": %llu, \"below_recommended_minimum\": %s, "
	              "\"degraded\": %s,\n \"warnings\": [",
	              (unsigned long long)r->recommended_min_bytes,
	              jbool(r->below_recommended_minimum), jbool(r->degraded));
	for (i = 0; i < r->n_warnings && i < 8; i++) {
		spc_sb_printf(&sb, "%s", i ? ", " : "");
		spc_sb_json_str(&sb, r->warnings[i]);
	}
	spc_sb_printf(&sb, "]}\n");
	return spc_sb_finish(&sb, needed);
}
