/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pools/detect.h: detection of the memory budget (docs/memory.md "The
 * rule", "The sources"). Private to pools/ and its unit tests.
 *
 * Every /proc and /sys file is read through spc_detect_read(), which takes
 * a root path, so tests hand the detector a fake tree (docs/style.md 14).
 * Resource limits come from getrlimit() unless the input overrides them.
 */
#ifndef SPC_DETECT_H
#define SPC_DETECT_H

#include <stddef.h>
#include <stdint.h>

#include "splitcache.h"

#define SPC_DETECT_FLOOR (UINT64_C(4) << 20) /* lowest budget the rule gives */
#define SPC_DETECT_UNLIMITED (UINT64_C(1) << 62) /* cgroup values >= this: none */
/* Budget when no source at all applies (no cgroup, no meminfo, no rlimit):
 * the fixed size the system we replace fell back to. */
#define SPC_DETECT_FALLBACK (UINT64_C(64) << 20)

/* Everything detection depends on besides the files under root. */
struct spc_detect_input {
	const char *root;          /* NULL or "": "/" */
	uint64_t explicit_bytes;   /* 0: none (config budget_bytes) */
	const char *env_value;     /* SPLITCACHE_MEMORY's value, NULL if unset */
	uint64_t max_budget_bytes; /* 0: SPC_DEFAULT_MAX_BUDGET */
	int rlimits_given;         /* 1: use the two below instead of getrlimit */
	uint64_t rlimit_as;        /* UINT64_MAX: unlimited */
	uint64_t rlimit_data;
	size_t page_size;          /* 0: sysconf(_SC_PAGESIZE) */
};

/* Fills in from cfg: root, explicit budget, SPLITCACHE_MEMORY (getenv,
 * only when cfg->use_env), max budget; rlimits from getrlimit at detection.
 * cfg may be NULL (defaults). Context: any thread (getenv: no thread may
 * be changing the environment). */
void spc_detect_input_from_config(struct spc_detect_input *in, const struct spc_config *cfg);

/* Reads the file <root>/<rel> (rel without a leading '/') into buf,
 * NUL-terminated, at most cap - 1 bytes; path (may be NULL) receives the
 * full path, truncated to path_cap. The one function that reads /proc and
 * /sys. Returns SPC_OK, SPC_ENOTFOUND (missing or unreadable), SPC_ERANGE
 * (the file is longer than cap - 1; buf holds its start), SPC_EINVAL
 * (cap == 0). Context: any thread. Never allocates. */
int spc_detect_read(const char *root, const char *rel, char *buf, size_t cap,
                    char *path, size_t path_cap);

/* How a limit file's content parses. */
enum spc_detect_value {
	SPC_DETECT_VALUE = 0,     /* *out holds the number */
	SPC_DETECT_NONE,          /* "max": no limit */
	SPC_DETECT_MALFORMED      /* *why says what is wrong */
};

/* Parses one decimal number with optional surrounding white space, or the
 * word "max". Context: any thread. Ownership: *why is a static string. */
enum spc_detect_value spc_detect_parse(const char *text, uint64_t *out, const char **why);

/* Runs the whole detection: fills the report's sources, budget_bytes,
 * max_budget_bytes, tightest_source, explicit_budget, explicit_cut, rule,
 * recommended_min_bytes, below_recommended_minimum and warnings. Other
 * fields are left as they are.
 * Returns SPC_OK or SPC_ECONFIG (SPLITCACHE_MEMORY is not a size; the first
 * warning names the variable; budget_bytes is then 0).
 * Context: any thread. Never allocates. */
int spc_detect_budget(const struct spc_detect_input *in, struct spc_mem_report *r);

/* Appends a warning line to the report (dropped when 8 are there). */
void spc_report_warn(struct spc_mem_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* SPC_DETECT_H */
