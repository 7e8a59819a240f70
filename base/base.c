/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * base/base.c: dying, logging, fault-aware allocation, string building,
 * status strings and size parsing. Nothing here keeps state: every
 * function works from its arguments (docs/style.md 13).
 */
#include "base/base.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void spc_die_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "splitcache: fatal at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

void spc_env_from_config(struct spc_env *env, const struct spc_config *cfg)
{
	env->log = cfg ? cfg->log : NULL;
	env->log_arg = cfg ? cfg->log_arg : NULL;
	env->fault = cfg ? cfg->fault : NULL;
	env->fault_arg = cfg ? cfg->fault_arg : NULL;
}

void spc_logf(const struct spc_env *env, enum spc_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (env && env->log) {
		env->log(env->log_arg, level, line);
		return;
	}
	if (level <= SPC_LOG_WARN)
		fprintf(stderr, "splitcache: %s: %s\n", names[level], line);
}

void *spc_calloc(const struct spc_env *env, size_t n, size_t size)
{
	if (spc_fault(env, SPC_FAULT_MALLOC, n * size))
		return NULL;
	return calloc(n, size);
}

void *spc_aligned_calloc(const struct spc_env *env, size_t align, size_t size)
{
	void *p = NULL;

	if (spc_fault(env, SPC_FAULT_MALLOC, size))
		return NULL;
	if (posix_memalign(&p, align, size) != 0)
		return NULL;
	memset(p, 0, size);
	return p;
}

void spc_free(void *p)
{
	free(p);
}

void spc_sb_init(struct spc_sb *sb, char *buf, size_t cap)
{
	sb->buf = buf;
	sb->cap = cap;
	sb->len = 0;
	if (cap > 0)
		buf[0] = '\0';
}

void spc_sb_vprintf(struct spc_sb *sb, const char *fmt, va_list ap)
{
	size_t room = sb->len < sb->cap ? sb->cap - sb->len : 0;
	int n = vsnprintf(room ? sb->buf + sb->len : NULL, room, fmt, ap);

	if (n > 0)
		sb->len += (size_t)n;
}

void spc_sb_printf(struct spc_sb *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	spc_sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

void spc_sb_json_str(struct spc_sb *sb, const char *s)
{
	spc_sb_printf(sb, "\"");
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			spc_sb_printf(sb, "\\%c", c);
		else if (c == '\n')
			spc_sb_printf(sb, "\\n");
		else if (c < 0x20 || c == 0x7f)
			spc_sb_printf(sb, "\\u%04x", c);
		else
			spc_sb_printf(sb, "%c", c);
	}
	spc_sb_printf(sb, "\"");
}

int spc_sb_finish(struct spc_sb *sb, size_t *needed)
{
	if (needed)
		*needed = sb->len;
	if (sb->cap > 0 && sb->len >= sb->cap)
		sb->buf[sb->cap - 1] = '\0';
	return sb->len < sb->cap ? SPC_OK : SPC_ERANGE;
}

const char *spc_strerror(int status)
{
	switch (status) {
	case SPC_OK: return "success";
	case SPC_ENOTFOUND: return "key not found";
	case SPC_EINVAL: return "invalid argument";
	case SPC_ENOMEM: return "out of memory (nothing was changed)";
	case SPC_EFULL: return "pool full: its bytes are at the limit, no room was made in time";
	case SPC_ETOOBIG: return "key or value too large";
	case SPC_EEXISTS: return "key exists or cas value no longer matches";
	case SPC_ESYS: return "a system call failed";
	case SPC_ECONFIG: return "invalid configuration value";
	case SPC_ETIMEDOUT: return "timed out";
	case SPC_ERANGE: return "output buffer too small";
	case SPC_ENOTNUM: return "value is not a decimal number";
	case SPC_EABOVETIP: return "height is above the tip";
	case SPC_ENOHEIGHT: return "no current view height is set";
	case SPC_EBUSY: return "maintainer behind: its queue is full or its reclamation batches are used up";
	default: return "unknown status code";
	}
}

int spc_parse_size(const char *text, uint64_t *out_bytes)
{
	const char *p = text;
	unsigned shift = 0;
	uint64_t v = 0;

	if (!text || !out_bytes)
		return SPC_EINVAL;
	while (isspace((unsigned char)*p))
		p++;
	if (!isdigit((unsigned char)*p))
		return SPC_EINVAL; /* empty, sign, or garbage */
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return SPC_EINVAL;
		v = v * 10 + d;
	}
	while (*p == ' ')
		p++;
	switch (toupper((unsigned char)*p)) {
	case '\0': break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	case 'B': break;
	default: return SPC_EINVAL;
	}
	if (*p) {
		p++;
		if (shift && (*p == 'i' || *p == 'I') && (p[1] == 'B' || p[1] == 'b'))
			p += 2;
		else if (shift && (*p == 'B' || *p == 'b'))
			p++;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p)
		return SPC_EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return SPC_EINVAL;
	*out_bytes = v << shift;
	return SPC_OK;
}

void spc_config_init(struct spc_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof *cfg);
	cfg->use_env = 1;
	cfg->mode = SPC_MODE_SPLIT;
	cfg->view_share = 0.5;
	cfg->view_height_share = 0.0; /* one shared view budget (docs/views.md) */
	cfg->policy = SPC_POLICY_STEERED;
	cfg->hash_seed = UINT64_C(0x5eed5b1dcac4e000); /* fixed: runs repeat */
	cfg->high_watermark_pct = 95;
	cfg->low_watermark_pct = 90;
	cfg->max_item_bytes = 1u << 20;
	cfg->full_wait_ms = 100;
	cfg->index_max_load = 2.0;
	cfg->debug_prefix_lens[0] = 4;
	cfg->debug_prefix_lens[1] = 8;
	cfg->debug_prefix_lens[2] = 16;
	cfg->debug_min_keys = 16;
	cfg->debug_prefix_rule = SPC_PREFIX_FIXED;
	cfg->debug_cover_pct = 0; /* the rule's own: 95 fixed, 80 slash */
}
