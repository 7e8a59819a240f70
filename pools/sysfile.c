/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pools/sysfile.c: the one place that reads /proc and /sys (docs/style.md 14),
 * and the parser for the numbers found there.
 *
 * spc_detect_read() takes a root directory and a path relative to it, so a
 * test hands detection a fake tree by passing its own root; nothing else in
 * the library opens a /proc or /sys file. Both functions work on caller
 * buffers and never allocate, so detection still works when memory is
 * short (detect.c, D7).
 *
 * Guarantees (tests/unit/pools/test_detect.c, parse_values and
 * read_goes_under_root):
 *  S1. A file longer than the buffer is SPC_ERANGE with its start kept,
 *      NUL-terminated; a missing or unreadable path (a directory included)
 *      is SPC_ENOTFOUND; nothing is read outside root.
 *  S2. spc_detect_parse accepts exactly: optional white space, decimal
 *      digits that fit 64 bits, optional white space; or the word "max".
 *      Empty, negative, overflowing and trailing garbage are MALFORMED with
 *      a reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pools/detect.h"

int spc_detect_read(const char *root, const char *rel, char *buf, size_t cap,
                    char *path, size_t path_cap)
{
	char full[512];
	size_t len = 0;
	int fd, rc = SPC_OK;

	if (cap == 0)
		return SPC_EINVAL;
	buf[0] = '\0';
	if (!root || !*root)
		root = "/";
	snprintf(full, sizeof full, "%s%s%s", root,
	         root[strlen(root) - 1] == '/' ? "" : "/", rel);
	if (path && path_cap)
		snprintf(path, path_cap, "%s", full);
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return SPC_ENOTFOUND;
	/* /proc and /sys files report size 0: read until end of file. */
	for (;;) {
		ssize_t n;

		if (len == cap - 1) {
			char extra;

			if (read(fd, &extra, 1) > 0)
				rc = SPC_ERANGE;
			break;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = SPC_ENOTFOUND; /* e.g. EISDIR, EACCES */
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	close(fd);
	return rc;
}

enum spc_detect_value spc_detect_parse(const char *text, uint64_t *out, const char **why)
{
	const char *p = text;
	uint64_t v = 0;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p == '\0') {
		*why = "empty";
		return SPC_DETECT_MALFORMED;
	}
	if (strncmp(p, "max", 3) == 0) {
		p += 3;
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (*p == '\0')
			return SPC_DETECT_NONE;
		*why = "not a number";
		return SPC_DETECT_MALFORMED;
	}
	if (*p == '-') {
		*why = "negative";
		return SPC_DETECT_MALFORMED;
	}
	if (*p < '0' || *p > '9') {
		*why = "not a number";
		return SPC_DETECT_MALFORMED;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10) {
			*why = "overflows 64 bits";
			return SPC_DETECT_MALFORMED;
		}
		v = v * 10 + d;
	}
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p != '\0') {
		*why = "trailing garbage";
		return SPC_DETECT_MALFORMED;
	}
	*out = v;
	return SPC_DETECT_VALUE;
}
