/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/pools/fake_tree.h: fake /proc and /sys trees for the memory
 * tests. A tree is a temporary directory; files are written with their
 * parent directories; the tree is removed at the end. Header-only so the
 * unit, fault and integration suites share it.
 */
#ifndef SPC_TEST_FAKE_TREE_H
#define SPC_TEST_FAKE_TREE_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct fake_tree {
	char root[256];
};

static inline void ft_init(struct fake_tree *t)
{
	snprintf(t->root, sizeof t->root, "/tmp/spc-fake-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->root));
}

static inline void ft_mkdirs(const char *path)
{
	char buf[512];
	char *p;

	snprintf(buf, sizeof buf, "%s", path);
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
}

/* Writes content to <root>/<rel>, creating the directories on the way. */
static inline void ft_write(const struct fake_tree *t, const char *rel, const char *content)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", t->root, rel);
	ft_mkdirs(path);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* /proc/meminfo with the given kB values (0: line left out). */
static inline void ft_meminfo(const struct fake_tree *t, unsigned long long total_kb,
                              unsigned long long avail_kb)
{
	char buf[512];
	int n = 0;

	if (total_kb)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "MemTotal:       %llu kB\n", total_kb);
	n += snprintf(buf + n, sizeof buf - (size_t)n, "MemFree:          123456 kB\n");
	if (avail_kb)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "MemAvailable:   %llu kB\n", avail_kb);
	snprintf(buf + n, sizeof buf - (size_t)n,
	         "Buffers:           1000 kB\nCommitLimit:    1000000 kB\nCommitted_AS:    600000 kB\n");
	ft_write(t, "proc/meminfo", buf);
}

static inline int ft_unlink_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void ft_remove(struct fake_tree *t)
{
	nftw(t->root, ft_unlink_cb, 16, FTW_DEPTH | FTW_PHYS);
}

#define FT_GIB (1024ULL * 1024ULL) /* in kB */

#endif /* SPC_TEST_FAKE_TREE_H */
