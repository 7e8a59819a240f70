/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pools/detect.c: how much memory may this cache use?
 *
 * Allocating to find out proves nothing under Linux overcommit (a 1 GiB
 * malloc succeeds 47 times on a 23 GiB machine), so we read the limits the
 * kernel will really enforce and take the tightest (docs/memory.md, "The rule"):
 *
 *   budget = min( 0.6 x cgroup limit          tightest of cgroup v2
 *                                              memory.max / memory.high on
 *                                              the path to the root, cgroup
 *                                              v1 memory.limit_in_bytes and
 *                                              hierarchical_memory_limit
 *               , 0.5 x MemAvailable
 *               , RLIMIT_AS / 2, RLIMIT_DATA / 2
 *               , (CommitLimit - Committed_AS) / 2   overcommit_memory = 2 only )
 *   clamped to [4 MiB, max_budget], rounded down to a page.
 *
 * The factors leave room for everything that is not the cache: the
 * program, its stacks, jemalloc metadata, the hash table's buckets (which
 * live in the process malloc). Runtimes that size themselves from the
 * container pick similar shares (JVM 25 %, .NET 75 %, Go automemlimit 90 %).
 * MemTotal is reported but limits nothing; when no source applies at all
 * the budget is MemTotal / 2, and without even MemTotal a fixed 64 MiB
 * (SPC_DETECT_FALLBACK, tightest_source "fallback").
 *
 * An explicit budget (config budget_bytes, else SPLITCACHE_MEMORY) replaces
 * the rule and is not bounded by max_budget, but it is never above the
 * tightest *raw* limit: a user may hand the cache 90 % of a container,
 * never more than the container.
 *
 * Guarantees (tests/unit/pools/test_detect.c checks each):
 *  D1. Every file is read through spc_detect_read(root, ...) (sysfile.c):
 *      a fake tree under root fully decides the result (besides rlimits,
 *      which the input may override).
 *  D2. A missing, empty, garbage, negative, overflowing or "max" file is
 *      skipped with a note on its source; detection never fails for it.
 *  D3. cgroup values >= 2^62 (v1's 9223372036854771712) mean "no limit".
 *  D4. The budget is the rule above exactly; tightest_source names the
 *      source with the smallest candidate before clamping.
 *  D5. An explicit budget is cut to the tightest raw limit, and the report
 *      says so (explicit_cut, a warning, tightest_source = the cutter).
 *  D6. A SPLITCACHE_MEMORY that is not a size is SPC_ECONFIG with a
 *      warning naming the variable, never a silent default.
 *  D7. Nothing here allocates: detection works when memory is short.
 */
#include "pools/detect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/base.h"
#include "pools/pools.h"

/* Fixed slots: every source appears in every report, applying or not. */
enum {
	S_CG2_MAX, S_CG2_HIGH, S_CG1_LIMIT, S_CG1_HIER, S_AVAIL, S_TOTAL,
	S_RL_AS, S_RL_DATA, S_COMMIT, S_OVERRIDE, S_COUNT
};

static const struct {
	const char *name;
	unsigned num, den; /* candidate = bytes * num / den; 0/0: no candidate */
} src_info[S_COUNT] = {
	[S_CG2_MAX] = { "cgroup2.memory.max", 3, 5 },
	[S_CG2_HIGH] = { "cgroup2.memory.high", 3, 5 },
	[S_CG1_LIMIT] = { "cgroup1.memory.limit_in_bytes", 3, 5 },
	[S_CG1_HIER] = { "cgroup1.hierarchical_memory_limit", 3, 5 },
	[S_AVAIL] = { "meminfo.MemAvailable", 1, 2 },
	[S_TOTAL] = { "meminfo.MemTotal", 0, 0 },
	[S_RL_AS] = { "rlimit.as", 1, 2 },
	[S_RL_DATA] = { "rlimit.data", 1, 2 },
	[S_COMMIT] = { "commit.headroom", 1, 2 },
	[S_OVERRIDE] = { "override", 0, 0 },
};

void spc_detect_input_from_config(struct spc_detect_input *in, const struct spc_config *cfg)
{
	memset(in, 0, sizeof *in);
	in->root = cfg ? cfg->root : NULL;
	in->explicit_bytes = cfg ? cfg->budget_bytes : 0;
	in->max_budget_bytes = cfg ? cfg->max_budget_bytes : 0;
	if (!cfg || cfg->use_env)
		in->env_value = getenv("SPLITCACHE_MEMORY");
}

void spc_report_warn(struct spc_mem_report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->n_warnings >= sizeof r->warnings / sizeof r->warnings[0])
		return;
	va_start(ap, fmt);
	vsnprintf(r->warnings[r->n_warnings], sizeof r->warnings[0], fmt, ap);
	va_end(ap);
	r->n_warnings++;
}

static void note(struct spc_mem_source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct spc_mem_source *s, const char *fmt, ...)
{
	size_t len = strlen(s->note);
	va_list ap;

	if (len > 0 && len + 2 < sizeof s->note) {
		memcpy(s->note + len, "; ", 3);
		len += 2;
	}
	if (len + 1 >= sizeof s->note)
		return;
	va_start(ap, fmt);
	vsnprintf(s->note + len, sizeof s->note - len, fmt, ap);
	va_end(ap);
}

/* Offers a limit to a source: it keeps the smallest one it was offered. */
static void offer(struct spc_mem_source *s, uint64_t bytes, const char *path)
{
	if (s->has_bytes && s->bytes <= bytes)
		return;
	s->has_bytes = 1;
	s->bytes = bytes;
	snprintf(s->path, sizeof s->path, "%s", path);
}

/* One cgroup limit file: a number (< 2^62) limits; "max", huge values and
 * missing files do not; anything else is noted and skipped (D2, D3). */
struct level_count {
	unsigned missing, unlimited;
};

static void cgroup_value(struct spc_mem_report *r, struct spc_mem_source *s, const char *text,
                         const char *path, const char *rel, struct level_count *c)
{
	const char *why = "";
	uint64_t v = 0;

	switch (spc_detect_parse(text, &v, &why)) {
	case SPC_DETECT_NONE:
		c->unlimited++;
		if (!s->path[0])
			snprintf(s->path, sizeof s->path, "%s", path);
		return;
	case SPC_DETECT_MALFORMED:
		note(s, "%s: %s, skipped", rel, why);
		spc_report_warn(r, "%s: %s, skipped", path, why);
		return;
	case SPC_DETECT_VALUE:
		break;
	}
	if (v >= SPC_DETECT_UNLIMITED) {
		c->unlimited++;
		if (!s->path[0])
			snprintf(s->path, sizeof s->path, "%s", path);
		return;
	}
	offer(s, v, path);
}

static void cgroup_file(const char *root, struct spc_mem_report *r, struct spc_mem_source *s,
                        const char *dir, const char *file, struct level_count *c)
{
	char rel[600], path[256], buf[64];
	int rc;

	snprintf(rel, sizeof rel, "%s/%s", dir, file);
	rc = spc_detect_read(root, rel, buf, sizeof buf, path, sizeof path);
	if (rc == SPC_ENOTFOUND) {
		c->missing++;
		return;
	}
	if (rc == SPC_ERANGE) {
		note(s, "%s: too long, skipped", rel);
		spc_report_warn(r, "%s: too long, skipped", path);
		return;
	}
	cgroup_value(r, s, buf, path, rel, c);
}

/* v1's memory.stat carries the limit of the whole path to the root. */
static void cgroup1_stat(const char *root, struct spc_mem_report *r, struct spc_mem_source *s,
                         const char *dir, struct level_count *c)
{
	char rel[600], path[256], buf[8192], val[64];
	const char *key = "hierarchical_memory_limit ", *p;
	size_t n;

	snprintf(rel, sizeof rel, "%s/memory.stat", dir);
	if (spc_detect_read(root, rel, buf, sizeof buf, path, sizeof path) == SPC_ENOTFOUND) {
		c->missing++;
		return;
	}
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, strlen(key)) == 0)
			break;
	if (!p || !*p) {
		c->missing++;
		return;
	}
	p += strlen(key);
	n = strcspn(p, "\n");
	if (n >= sizeof val)
		n = sizeof val - 1;
	memcpy(val, p, n);
	val[n] = '\0';
	cgroup_value(r, s, val, path, rel, c);
}

static void finish_cgroup(struct spc_mem_source *s, const struct level_count *c, const char *what)
{
	if (s->has_bytes)
		return;
	if (c->unlimited)
		note(s, "unlimited");
	else if (!s->note[0])
		note(s, "%s", what);
}

/* Finds this process's cgroup path: v2 ("0::/p") or v1 (a line whose
 * controller list holds "memory"). Returns 0 when absent. */
static int cgroup_path(const char *cg, int v2, char *out, size_t cap)
{
	const char *line;

	for (line = cg; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *c1 = strchr(line, ':'), *c2, *end = line + strcspn(line, "\n");
		size_t n;

		if (!c1 || c1 > end || !(c2 = strchr(c1 + 1, ':')) || c2 > end)
			continue;
		if (v2) {
			if (strncmp(line, "0::", 3) != 0)
				continue;
		} else {
			const char *p = c1 + 1;
			int found = 0;

			while (p < c2) {
				size_t w = strcspn(p, ",:");

				if (w == 6 && strncmp(p, "memory", 6) == 0)
					found = 1;
				p += w + 1;
			}
			if (!found)
				continue;
		}
		n = (size_t)(end - (c2 + 1));
		if (n >= cap)
			return 0;
		memcpy(out, c2 + 1, n);
		out[n] = '\0';
		while (n > 1 && out[n - 1] == '/')
			out[--n] = '\0';
		return out[0] == '/';
	}
	return 0;
}

static void detect_cgroup2(const char *root, const char *cg, struct spc_mem_report *r)
{
	struct spc_mem_source *mx = &r->sources[S_CG2_MAX], *hi = &r->sources[S_CG2_HIGH];
	struct level_count cmax = { 0, 0 }, chigh = { 0, 0 };
	char p[256], dir[300];

	if (!cg || !cgroup_path(cg, 1, p, sizeof p)) {
		note(mx, cg ? "no cgroup v2 entry in /proc/self/cgroup" : "no /proc/self/cgroup");
		note(hi, cg ? "no cgroup v2 entry in /proc/self/cgroup" : "no /proc/self/cgroup");
		return;
	}
	snprintf(dir, sizeof dir, "sys/fs/cgroup%s", strcmp(p, "/") == 0 ? "" : p);
	/* Walk from the process's cgroup up to the root: every level's limit
	 * applies to the process, so the tightest one on the path wins. */
	for (;;) {
		char *slash;

		cgroup_file(root, r, mx, dir, "memory.max", &cmax);
		cgroup_file(root, r, hi, dir, "memory.high", &chigh);
		if (strcmp(dir, "sys/fs/cgroup") == 0)
			break;
		slash = strrchr(dir, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	finish_cgroup(mx, &cmax, "not found on the path to the root");
	finish_cgroup(hi, &chigh, "not found on the path to the root");
}

static void detect_cgroup1(const char *root, const char *cg, struct spc_mem_report *r)
{
	struct spc_mem_source *li = &r->sources[S_CG1_LIMIT], *hi = &r->sources[S_CG1_HIER];
	struct level_count cl = { 0, 0 }, ch = { 0, 0 };
	char p[256], dir[300];

	if (!cg || !cgroup_path(cg, 0, p, sizeof p)) {
		note(li, cg ? "no memory controller in /proc/self/cgroup" : "no /proc/self/cgroup");
		note(hi, cg ? "no memory controller in /proc/self/cgroup" : "no /proc/self/cgroup");
		return;
	}
	/* The leaf named in /proc/self/cgroup, then the mount's root: inside
	 * a container the mount often shows the container's own group at its
	 * root and the leaf path does not exist. */
	snprintf(dir, sizeof dir, "sys/fs/cgroup/memory%s", strcmp(p, "/") == 0 ? "" : p);
	cgroup_file(root, r, li, dir, "memory.limit_in_bytes", &cl);
	cgroup1_stat(root, r, hi, dir, &ch);
	if (strcmp(p, "/") != 0) {
		cgroup_file(root, r, li, "sys/fs/cgroup/memory", "memory.limit_in_bytes", &cl);
		cgroup1_stat(root, r, hi, "sys/fs/cgroup/memory", &ch);
	}
	finish_cgroup(li, &cl, "not found");
	finish_cgroup(hi, &ch, "not found");
}

/* "Key:   123 kB" of /proc/meminfo, in bytes. Returns 1 when found. */
static int meminfo_field(struct spc_mem_report *r, const char *mi, const char *key,
                         struct spc_mem_source *s, uint64_t *out)
{
	size_t klen = strlen(key);
	const char *p, *why = "";
	char val[64];
	size_t n;
	uint64_t v = 0;

	for (p = mi; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == ':')
			break;
	if (!p || !*p) {
		note(s, "%s not in meminfo", key);
		return 0;
	}
	p += klen + 1;
	n = strcspn(p, "\n");
	if (n >= sizeof val)
		n = sizeof val - 1;
	memcpy(val, p, n);
	val[n] = '\0';
	if (n >= 2 && strcmp(val + n - 2, "kB") == 0)
		val[n - 2] = '\0';
	if (spc_detect_parse(val, &v, &why) != SPC_DETECT_VALUE || v > UINT64_MAX / 1024) {
		if (v > UINT64_MAX / 1024)
			why = "overflows 64 bits";
		note(s, "%s: %s, skipped", key, why);
		spc_report_warn(r, "meminfo %s: %s, skipped", key, why);
		return 0;
	}
	*out = v * 1024;
	return 1;
}

static void detect_meminfo(const char *root, struct spc_mem_report *r)
{
	struct spc_mem_source *av = &r->sources[S_AVAIL], *to = &r->sources[S_TOTAL];
	struct spc_mem_source *co = &r->sources[S_COMMIT];
	char mi[8192], path[256], oc[64];
	uint64_t v = 0, lim = 0, used = 0, mode = 0;
	const char *why = "";
	int rc;

	rc = spc_detect_read(root, "proc/meminfo", mi, sizeof mi, path, sizeof path);
	snprintf(av->path, sizeof av->path, "%s", path);
	snprintf(to->path, sizeof to->path, "%s", path);
	if (rc == SPC_ENOTFOUND) {
		note(av, "not readable");
		note(to, "not readable");
		note(co, "meminfo not readable");
		return;
	}
	if (meminfo_field(r, mi, "MemAvailable", av, &v))
		offer(av, v, path);
	if (meminfo_field(r, mi, "MemTotal", to, &v)) {
		offer(to, v, path);
		note(to, "reported only; limits nothing");
	}
	rc = spc_detect_read(root, "proc/sys/vm/overcommit_memory", oc, sizeof oc, co->path,
	                     sizeof co->path);
	if (rc != SPC_OK || spc_detect_parse(oc, &mode, &why) != SPC_DETECT_VALUE) {
		note(co, "overcommit_memory unreadable, not a limit");
		return;
	}
	if (mode != 2) {
		note(co, "overcommit_memory=%llu: not a limit", (unsigned long long)mode);
		return;
	}
	if (!meminfo_field(r, mi, "CommitLimit", co, &lim) ||
	    !meminfo_field(r, mi, "Committed_AS", co, &used))
		return;
	offer(co, lim > used ? lim - used : 0, path);
	note(co, "overcommit_memory=2: CommitLimit %llu - Committed_AS %llu",
	     (unsigned long long)lim, (unsigned long long)used);
}

static void detect_rlimit(int which, int given, uint64_t value, struct spc_mem_source *s)
{
	struct rlimit rl;

	if (!given) {
		if (getrlimit(which, &rl) != 0) {
			note(s, "getrlimit failed");
			return;
		}
		value = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : (uint64_t)rl.rlim_cur;
	}
	if (value == UINT64_MAX)
		note(s, "unlimited");
	else
		offer(s, value, "");
	s->path[0] = '\0';
}

static uint64_t share_of(uint64_t bytes, unsigned num, unsigned den)
{
	return bytes / den * num + bytes % den * num / den;
}

/* The explicit budget: config first, then SPLITCACHE_MEMORY (D5, D6). */
static int explicit_budget(const struct spc_detect_input *in, struct spc_mem_report *r,
                           uint64_t *out)
{
	struct spc_mem_source *ov = &r->sources[S_OVERRIDE];
	uint64_t v = 0;

	if (in->explicit_bytes) {
		v = in->explicit_bytes;
		note(ov, "from the configuration (budget_bytes)");
	} else if (in->env_value) {
		if (spc_parse_size(in->env_value, &v) != SPC_OK || v == 0) {
			spc_report_warn(r, "SPLITCACHE_MEMORY='%.80s' is not a size (use e.g. 512M, 1G, 65536)",
			                in->env_value);
			note(ov, "SPLITCACHE_MEMORY is not a size");
			return SPC_ECONFIG;
		}
		note(ov, "from SPLITCACHE_MEMORY=%.60s", in->env_value);
	} else {
		note(ov, "none: the rule decides");
		return SPC_ENOTFOUND;
	}
	ov->has_bytes = 1;
	ov->bytes = v;
	*out = v;
	return SPC_OK;
}

int spc_detect_budget(const struct spc_detect_input *in, struct spc_mem_report *r)
{
	char cg[4096];
	const char *root = in->root && *in->root ? in->root : "/";
	const char *tight = NULL, *raw_tight = NULL;
	uint64_t best = UINT64_MAX, raw = UINT64_MAX, maxb, budget, expl = 0, page;
	struct spc_sb rule;
	int rc, i;

	page = in->page_size ? in->page_size : (uint64_t)sysconf(_SC_PAGESIZE);
	memset(r->sources, 0, sizeof r->sources);
	r->n_sources = S_COUNT;
	for (i = 0; i < S_COUNT; i++)
		r->sources[i].name = src_info[i].name;

	rc = spc_detect_read(root, "proc/self/cgroup", cg, sizeof cg, NULL, 0);
	detect_cgroup2(root, rc == SPC_ENOTFOUND ? NULL : cg, r);
	detect_cgroup1(root, rc == SPC_ENOTFOUND ? NULL : cg, r);
	detect_meminfo(root, r);
	detect_rlimit(RLIMIT_AS, in->rlimits_given, in->rlimit_as, &r->sources[S_RL_AS]);
	detect_rlimit(RLIMIT_DATA, in->rlimits_given, in->rlimit_data, &r->sources[S_RL_DATA]);

	/* D4: the candidates, their minimum and who gave it. */
	for (i = 0; i < S_COUNT; i++) {
		struct spc_mem_source *s = &r->sources[i];

		if (!s->has_bytes || !src_info[i].den)
			continue;
		s->candidate = share_of(s->bytes, src_info[i].num, src_info[i].den);
		if (s->candidate < best) {
			best = s->candidate;
			tight = s->name;
		}
		if (s->bytes < raw) {
			raw = s->bytes;
			raw_tight = s->name;
		}
	}
	maxb = in->max_budget_bytes ? in->max_budget_bytes : SPC_DEFAULT_MAX_BUDGET;
	if (maxb < SPC_DETECT_FLOOR) {
		spc_report_warn(r, "max budget %llu raised to the 4 MiB floor", (unsigned long long)maxb);
		maxb = SPC_DETECT_FLOOR;
	}
	r->max_budget_bytes = maxb;
	r->recommended_min_bytes = SPC_RECOMMENDED_MIN_BYTES;
	spc_sb_init(&rule, r->rule, sizeof r->rule);

	rc = explicit_budget(in, r, &expl);
	if (rc == SPC_ECONFIG) {
		r->budget_bytes = 0;
		r->tightest_source = "override";
		spc_sb_printf(&rule, "invalid SPLITCACHE_MEMORY: no budget");
		return SPC_ECONFIG;
	}
	if (rc == SPC_OK) {
		r->explicit_budget = 1;
		if (!raw_tight && r->sources[S_TOTAL].has_bytes) {
			raw = r->sources[S_TOTAL].bytes;
			raw_tight = r->sources[S_TOTAL].name;
		}
		budget = expl;
		if (budget < SPC_DETECT_FLOOR) {
			budget = SPC_DETECT_FLOOR;
			spc_report_warn(r, "explicit budget %llu raised to the 4 MiB floor",
			                (unsigned long long)expl);
		}
		r->tightest_source = "override";
		if (budget > raw) {
			budget = raw;
			r->explicit_cut = 1;
			r->tightest_source = raw_tight;
			spc_report_warn(r, "explicit budget %llu cut to %llu, the limit of %s",
			                (unsigned long long)expl, (unsigned long long)raw, raw_tight);
		}
		budget -= budget % page;
		spc_sb_printf(&rule, "budget = min(explicit %llu, tightest raw limit %s) = %llu",
		              (unsigned long long)expl, raw_tight ? raw_tight : "none",
		              (unsigned long long)budget);
	} else {
		if (!tight && r->sources[S_TOTAL].has_bytes) {
			struct spc_mem_source *t = &r->sources[S_TOTAL];

			best = t->candidate = t->bytes / 2;
			tight = t->name;
			spc_report_warn(r, "no source limits memory: using MemTotal / 2");
		} else if (!tight) {
			best = SPC_DETECT_FALLBACK;
			tight = "fallback";
			spc_report_warn(r, "no source readable: using the fixed 64 MiB fallback");
		}
		r->tightest_source = tight;
		budget = best < SPC_DETECT_FLOOR ? SPC_DETECT_FLOOR : best > maxb ? maxb : best;
		budget -= budget % page;
		const char *sep = "";

		spc_sb_printf(&rule, "budget = min(");
		for (i = 0; i < S_COUNT; i++) {
			const struct spc_mem_source *s = &r->sources[i];

			if (s->has_bytes && src_info[i].den) {
				spc_sb_printf(&rule, "%s%s=%llu", sep, s->name,
				              (unsigned long long)s->candidate);
				sep = ", ";
			}
		}
		spc_sb_printf(&rule, ")=%llu (%s), clamp [4 MiB, %llu], page-rounded = %llu",
		              (unsigned long long)best, tight, (unsigned long long)maxb,
		              (unsigned long long)budget);
	}
	(void)spc_sb_finish(&rule, NULL);
	r->budget_bytes = budget;
	r->below_recommended_minimum = budget < SPC_RECOMMENDED_MIN_BYTES;
	if (r->below_recommended_minimum)
		spc_report_warn(r, "budget %llu is below the recommended minimum of %llu bytes",
		                (unsigned long long)budget, (unsigned long long)SPC_RECOMMENDED_MIN_BYTES);
	return SPC_OK;
}
