/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * base/base.h: the leaf module every other part of the library may use.
 * It knows nothing of pools, sync or core: dying on a broken invariant,
 * logging through the configured sink, allocation that honours the fault
 * hook, and a bounded string builder for text and JSON reports.
 */
#ifndef SPC_BASE_H
#define SPC_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "splitcache.h"

#define SPC_CACHELINE 64

/* Aborts with file, line and reason. Only for broken invariants and failed
 * pthread calls (docs/style.md 6); never for a failed allocation. */
_Noreturn void spc_die_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define spc_die(...) spc_die_at(__FILE__, __LINE__, __VA_ARGS__)

/* Checked in every build: the cost is a predictable branch. */
#define SPC_CHECK(cond)                                                       \
	do {                                                                  \
		if (__builtin_expect(!(cond), 0))                             \
			spc_die("invariant failed: %s", #cond);               \
	} while (0)

/* Checked in debug builds only (contract assertions, docs/style.md 4). */
#ifdef NDEBUG
#define SPC_DEBUG_CHECK(cond) ((void)0)
#else
#define SPC_DEBUG_CHECK(cond) SPC_CHECK(cond)
#endif

/* Where log lines and allocation faults go; copied from the config. */
struct spc_env {
	spc_log_fn *log;
	void *log_arg;
	spc_fault_fn *fault;
	void *fault_arg;
};

void spc_env_from_config(struct spc_env *env, const struct spc_config *cfg);

/* Formats one line and hands it to env->log (stderr for warnings and errors
 * when no sink is set). Context: any thread. */
void spc_logf(const struct spc_env *env, enum spc_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Nonzero when the fault hook asks this allocation of `site` to fail. */
static inline int spc_fault(const struct spc_env *env, enum spc_fault_site site, size_t bytes)
{
	return env && env->fault && env->fault(env->fault_arg, site, bytes);
}

/* Library bookkeeping allocations (not entries): calloc/free that consult
 * the fault hook first. NULL on failure; never aborts. */
void *spc_calloc(const struct spc_env *env, size_t n, size_t size);
void *spc_aligned_calloc(const struct spc_env *env, size_t align, size_t size);
void spc_free(void *p);

/* A bounded string builder over a caller's buffer: never overflows, keeps
 * the length it would have needed so callers can report SPC_ERANGE. */
struct spc_sb {
	char *buf;
	size_t cap;
	size_t len; /* bytes wanted so far, may exceed cap - 1 */
};

void spc_sb_init(struct spc_sb *sb, char *buf, size_t cap);
void spc_sb_printf(struct spc_sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void spc_sb_vprintf(struct spc_sb *sb, const char *fmt, va_list ap);
/* Appends s as a JSON string literal, quotes included. */
void spc_sb_json_str(struct spc_sb *sb, const char *s);
/* SPC_OK if everything fit, SPC_ERANGE otherwise; *needed gets the length. */
int spc_sb_finish(struct spc_sb *sb, size_t *needed);

#endif /* SPC_BASE_H */
