/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/integration/views/test_views.c: the view namespaces through the
 * public API: (height, key) entries and named API entries, their isolation
 * from each other, from plain view entries and from the index pool, and
 * where their charges go. Every test runs with a maintainer thread (_i 0)
 * and in synchronous-maintenance mode (_i 1).
 */
#include <check.h>

#include "check_run.h"
#include "open_cache.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "splitcache.h"

/* The string helpers below copy a value into buf (cap - 1 bytes at most)
 * and NUL-terminate it on success; they return the lookup's status. */
static int terminated(int r, char *buf, const size_t *n)
{
	if (r == SPC_OK)
		buf[*n] = '\0';
	return r;
}

static int at_str(struct spc_cache *c, uint64_t h, const char *k, char *buf, size_t cap)
{
	size_t n = 0;

	return terminated(spc_get_at(c, h, k, strlen(k), buf, cap - 1, &n), buf, &n);
}

static int api_str(struct spc_cache *c, const char *name, char *buf, size_t cap)
{
	size_t n = 0;

	return terminated(spc_api_get(c, name, buf, cap - 1, &n), buf, &n);
}

static int plain_str(struct spc_cache *c, enum spc_pool_id p, const char *k, char *buf, size_t cap)
{
	size_t n = 0;

	return terminated(spc_get(c, p, k, strlen(k), buf, cap - 1, &n), buf, &n);
}

START_TEST(set_get_delete_at)
{
	struct spc_cache *c = open_cache(16u << 20, _i);
	struct spc_stats st;
	char buf[64];

	ck_assert_int_eq(at_str(c, 7, "k", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_set_at(c, 7, "k", 1, "v7", 2), SPC_OK);
	ck_assert_int_eq(at_str(c, 7, "k", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "v7");
	ck_assert_int_eq(at_str(c, 8, "k", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_set_at(c, 7, "k", 1, "again", 5), SPC_OK);
	ck_assert_int_eq(at_str(c, 7, "k", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "again");
	ck_assert_int_eq(spc_store_at(c, 7, SPC_STORE_ADD, "k", 1, "x", 1, NULL, NULL), SPC_EEXISTS);
	ck_assert_int_eq(spc_delete_at(c, 8, "k", 1), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_delete_at(c, 7, "k", 1), SPC_OK);
	ck_assert_int_eq(spc_delete_at(c, 7, "k", 1), SPC_ENOTFOUND);
	ck_assert_int_eq(at_str(c, 7, "k", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_store_at(c, 7, SPC_STORE_ADD, "k", 1, "x", 1, NULL, NULL), SPC_OK);
	/* heights 0 and UINT64_MAX are ordinary heights */
	ck_assert_int_eq(spc_set_at(c, 0, "k", 1, "zero", 4), SPC_OK);
	ck_assert_int_eq(spc_set_at(c, UINT64_MAX, "k", 1, "max", 3), SPC_OK);
	ck_assert_int_eq(at_str(c, 0, "k", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "zero");
	ck_assert_int_eq(at_str(c, UINT64_MAX, "k", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "max");
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
	ck_assert_uint_eq(st.inserts, 5);
	ck_assert_uint_eq(st.deletes, 1);
	ck_assert_uint_eq(st.items, 3);
	ck_assert_uint_eq(st.evictions, 0);
	spc_close(c);
}
END_TEST

/* A cas-checked delete removes the entry it names and nothing else: not
 * a newer store of the same (height, key), not the key at another height,
 * not the plain key. */
START_TEST(delete_at_cas_removes_only_the_entry_it_names)
{
	struct spc_cache *c = open_cache(16u << 20, _i);
	struct spc_stats st;
	uint64_t first = 0, second = 0;
	char buf[64];

	ck_assert_int_eq(spc_store_at(c, 5, SPC_STORE_SET, "k", 1, "a", 1, NULL, &first), SPC_OK);
	ck_assert_int_eq(spc_store_at(c, 5, SPC_STORE_SET, "k", 1, "b", 1, NULL, &second), SPC_OK);
	ck_assert_int_eq(spc_set_at(c, 6, "k", 1, "six", 3), SPC_OK);
	ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, "k", 1, "plain", 5), SPC_OK);
	ck_assert_uint_ne(first, second);
	/* the replaced entry's cas: refused, the newer value stays */
	ck_assert_int_eq(spc_delete_at_cas(c, 5, "k", 1, first), SPC_EEXISTS);
	ck_assert_int_eq(at_str(c, 5, "k", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "b");
	/* right cas, wrong height or absent key */
	ck_assert_int_eq(spc_delete_at_cas(c, 4, "k", 1, second), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_delete_at_cas(c, 5, "x", 1, second), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_delete_at_cas(c, 5, "k", 1, second), SPC_OK);
	ck_assert_int_eq(at_str(c, 5, "k", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_delete_at_cas(c, 5, "k", 1, second), SPC_ENOTFOUND);
	/* cas 0: any entry, as spc_delete_at */
	ck_assert_int_eq(spc_delete_at_cas(c, 6, "k", 1, 0), SPC_OK);
	ck_assert_int_eq(spc_delete_at_cas(c, 6, NULL, 1, 0), SPC_EINVAL);
	ck_assert_int_eq(spc_delete_at_cas(NULL, 6, "k", 1, 0), SPC_EINVAL);
	ck_assert_int_eq(plain_str(c, SPC_POOL_VIEW, "k", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "plain");
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
	ck_assert_uint_eq(st.deletes, 2);
	ck_assert_uint_eq(st.items, 1);
	spc_close(c);
}
END_TEST

START_TEST(zero_copy_and_range)
{
	struct spc_cache *c = open_cache(16u << 20, _i);
	struct spc_value v;
	char small[2];
	size_t n = 0;
	uint64_t cas = 0;

	ck_assert_int_eq(spc_store_at(c, 3, SPC_STORE_SET, "key", 3, "value", 5, NULL, &cas),
	                 SPC_OK);
	ck_assert_uint_gt(cas, 0);
	spc_read_lock(c);
	ck_assert_int_eq(spc_get_at_rcu(c, 3, "key", 3, &v), SPC_OK);
	ck_assert_uint_eq(v.len, 5);
	ck_assert_int_eq(memcmp(v.data, "value", 5), 0);
	ck_assert_uint_eq(v.cas, cas);
	ck_assert_int_eq(spc_get_at_rcu(c, 4, "key", 3, &v), SPC_ENOTFOUND);
	spc_read_unlock(c);
	ck_assert_int_eq(spc_get_at(c, 3, "key", 3, small, sizeof small, &n), SPC_ERANGE);
	ck_assert_uint_eq(n, 5);
	ck_assert_int_eq(spc_api_set(c, "api", "value", 5), SPC_OK);
	ck_assert_int_eq(spc_api_get(c, "api", small, sizeof small, &n), SPC_ERANGE);
	ck_assert_uint_eq(n, 5);
	spc_close(c);
}
END_TEST

START_TEST(api_entries)
{
	struct spc_cache *c = open_cache(16u << 20, _i);
	char buf[64], *longname;

	ck_assert_int_eq(api_str(c, "status", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_api_set(c, "status", "ok", 2), SPC_OK);
	ck_assert_int_eq(api_str(c, "status", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "ok");
	ck_assert_int_eq(spc_api_set(c, "status", "", 0), SPC_OK);
	ck_assert_int_eq(api_str(c, "status", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(spc_api_delete(c, "status"), SPC_OK);
	ck_assert_int_eq(spc_api_delete(c, "status"), SPC_ENOTFOUND);
	ck_assert_int_eq(api_str(c, "status", buf, sizeof buf), SPC_ENOTFOUND);
	/* names: 1..65535 bytes, NUL-terminated */
	ck_assert_int_eq(spc_api_set(c, "", "x", 1), SPC_EINVAL);
	ck_assert_int_eq(spc_api_set(c, NULL, "x", 1), SPC_EINVAL);
	ck_assert_int_eq(spc_api_get(c, "", buf, sizeof buf, &(size_t){ 0 }), SPC_EINVAL);
	ck_assert_int_eq(spc_api_delete(c, NULL), SPC_EINVAL);
	longname = malloc(65537);
	ck_assert_ptr_nonnull(longname);
	memset(longname, 'n', 65535);
	longname[65535] = '\0';
	ck_assert_int_eq(spc_api_set(c, longname, "x", 1), SPC_OK);
	ck_assert_int_eq(api_str(c, longname, buf, sizeof buf), SPC_OK);
	longname[65535] = 'n';
	longname[65536] = '\0';
	ck_assert_int_eq(spc_api_set(c, longname, "x", 1), SPC_EINVAL);
	free(longname);
	spc_close(c);
}
END_TEST

START_TEST(arguments)
{
	struct spc_cache *c = open_cache(16u << 20, _i);
	char buf[8], key[65536];
	size_t n;
	struct spc_value v;

	memset(key, 'k', sizeof key);
	ck_assert_int_eq(spc_set_at(NULL, 1, "k", 1, "v", 1), SPC_EINVAL);
	ck_assert_int_eq(spc_set_at(c, 1, NULL, 1, "v", 1), SPC_EINVAL);
	ck_assert_int_eq(spc_set_at(c, 1, "k", 0, "v", 1), SPC_EINVAL);
	ck_assert_int_eq(spc_set_at(c, 1, "k", 1, NULL, 1), SPC_EINVAL);
	ck_assert_int_eq(spc_set_at(c, 1, key, sizeof key, "v", 1), SPC_ETOOBIG);
	ck_assert_int_eq(spc_store_at(c, 1, (enum spc_store_mode)99, "k", 1, "v", 1, NULL, NULL),
	                 SPC_EINVAL);
	ck_assert_int_eq(spc_get_at(c, 1, "k", 0, buf, sizeof buf, &n), SPC_EINVAL);
	ck_assert_int_eq(spc_get_at(c, 1, "k", 1, buf, sizeof buf, NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_get_at(c, 1, "k", 1, NULL, 4, &n), SPC_EINVAL);
	ck_assert_int_eq(spc_delete_at(c, 1, NULL, 1), SPC_EINVAL);
	spc_read_lock(c);
	ck_assert_int_eq(spc_get_at_rcu(c, 1, "k", 1, NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_get_at_rcu(NULL, 1, "k", 1, &v), SPC_EINVAL);
	spc_read_unlock(c);
	ck_assert_int_eq(spc_set_at(c, 1, "k", 1, NULL, 0), SPC_OK);
	ck_assert_int_eq(spc_get_at(c, 1, "k", 1, NULL, 0, &n), SPC_OK);
	ck_assert_uint_eq(n, 0);
	spc_close(c);
}
END_TEST

/* The same key bytes as a plain view entry, at height 1, at height 2, as an
 * API name and in the index pool: five entries, five values. */
START_TEST(namespaces_isolated)
{
	struct spc_cache *c = open_cache(16u << 20, _i);
	struct spc_stats ix0, vw0, ix, vw;
	char buf[64];

	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &ix0), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &vw0), SPC_OK);
	ck_assert_int_eq(spc_set_at(c, 1, "same", 4, "height-1", 8), SPC_OK);
	ck_assert_int_eq(spc_set_at(c, 2, "same", 4, "height-2", 8), SPC_OK);
	ck_assert_int_eq(spc_api_set(c, "same", "api", 3), SPC_OK);
	/* a view write does not leak into the index pool */
	ck_assert_int_eq(spc_stats(c, SPC_POOL_INDEX, &ix), SPC_OK);
	ck_assert_uint_eq(ix.charged_bytes, ix0.charged_bytes);
	ck_assert_uint_eq(ix.inserts, 0);
	ck_assert_uint_eq(ix.items, 0);
	ck_assert_int_eq(plain_str(c, SPC_POOL_INDEX, "same", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(plain_str(c, SPC_POOL_VIEW, "same", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, "same", 4, "plain-view", 10), SPC_OK);
	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, "same", 4, "plain-index", 11), SPC_OK);
	ck_assert_int_eq(at_str(c, 1, "same", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "height-1");
	ck_assert_int_eq(at_str(c, 2, "same", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "height-2");
	ck_assert_int_eq(at_str(c, 3, "same", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(api_str(c, "same", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "api");
	ck_assert_int_eq(plain_str(c, SPC_POOL_VIEW, "same", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "plain-view");
	ck_assert_int_eq(plain_str(c, SPC_POOL_INDEX, "same", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "plain-index");
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &vw), SPC_OK);
	ck_assert_uint_eq(vw.items, 4);
	ck_assert_uint_eq(vw.inserts, 4);
	ck_assert_uint_gt(vw.charged_bytes, vw0.charged_bytes);
	/* deleting one namespace's entry leaves the others */
	ck_assert_int_eq(spc_delete_at(c, 1, "same", 4), SPC_OK);
	ck_assert_int_eq(spc_api_delete(c, "same"), SPC_OK);
	ck_assert_int_eq(at_str(c, 2, "same", buf, sizeof buf), SPC_OK);
	ck_assert_int_eq(plain_str(c, SPC_POOL_VIEW, "same", buf, sizeof buf), SPC_OK);
	ck_assert_int_eq(plain_str(c, SPC_POOL_INDEX, "same", buf, sizeof buf), SPC_OK);
	ck_assert_int_eq(spc_delete(c, SPC_POOL_VIEW, "same", 4), SPC_OK);
	ck_assert_int_eq(at_str(c, 2, "same", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "height-2");
	spc_close(c);
}
END_TEST


/* Fills heights [lo, hi] with nkeys keys each: value "h<height>/k<key>". */
static void fill(struct spc_cache *c, uint64_t lo, uint64_t hi, int nkeys)
{
	char k[32], v[48];

	for (uint64_t h = lo; h <= hi; h++) {
		for (int i = 0; i < nkeys; i++) {
			snprintf(k, sizeof k, "key-%d", i);
			snprintf(v, sizeof v, "h%llu/k%d", (unsigned long long)h, i);
			ck_assert_int_eq(spc_set_at(c, h, k, strlen(k), v, strlen(v)), SPC_OK);
		}
	}
}

/* Counts the entries of fill() present in [lo, hi], checking their values. */
static int present(struct spc_cache *c, uint64_t lo, uint64_t hi, int nkeys)
{
	char k[32], v[48], buf[64];
	int n = 0;

	for (uint64_t h = lo; h <= hi; h++) {
		for (int i = 0; i < nkeys; i++) {
			snprintf(k, sizeof k, "key-%d", i);
			snprintf(v, sizeof v, "h%llu/k%d", (unsigned long long)h, i);
			if (at_str(c, h, k, buf, sizeof buf) == SPC_OK) {
				ck_assert_str_eq(buf, v);
				n++;
			}
		}
	}
	return n;
}

START_TEST(tip_refuses_above)
{
	struct spc_cache *c = open_cache(16u << 20, _i);
	struct spc_stats st;
	char buf[16];
	uint64_t cas = 7;

	ck_assert_uint_eq(spc_tip(c), UINT64_MAX);
	ck_assert_int_eq(spc_set_at(c, UINT64_MAX, "k", 1, "v", 1), SPC_OK);
	ck_assert_int_eq(spc_set_tip(c, 10), SPC_OK);
	ck_assert_uint_eq(spc_tip(c), 10);
	ck_assert_int_eq(at_str(c, UINT64_MAX, "k", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_set_at(c, 11, "k", 1, "v", 1), SPC_EABOVETIP);
	ck_assert_int_eq(spc_store_at(c, 11, SPC_STORE_ADD, "k", 1, "v", 1, NULL, &cas),
	                 SPC_EABOVETIP);
	ck_assert_uint_eq(cas, 7); /* untouched on error */
	ck_assert_int_eq(at_str(c, 11, "k", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_set_at(c, 10, "k", 1, "at-tip", 6), SPC_OK);
	ck_assert_int_eq(at_str(c, 10, "k", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "at-tip");
	/* the tip applies to heights only */
	ck_assert_int_eq(spc_api_set(c, "k", "api", 3), SPC_OK);
	ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, "k", 1, "plain", 5), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
	ck_assert_uint_eq(st.inserts, 4);
	ck_assert_uint_eq(st.items, 3);
	ck_assert_uint_eq(st.deletes, 1); /* UINT64_MAX, removed by the lowering */
	ck_assert_int_eq(spc_set_tip(NULL, 1), SPC_EINVAL);
	ck_assert_uint_eq(spc_tip(NULL), UINT64_MAX);
	spc_close(c);
}
END_TEST

START_TEST(lowering_removes_raising_does_not_resurrect)
{
	struct spc_cache *c = open_cache(16u << 20, _i);
	struct spc_stats st;
	char buf[16];

	fill(c, 1, 20, 5);
	ck_assert_int_eq(spc_api_set(c, "name", "api", 3), SPC_OK);
	ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, "key-1", 5, "plain", 5), SPC_OK);
	ck_assert_int_eq(spc_set_tip(c, 12), SPC_OK);
	ck_assert_int_eq(present(c, 1, 12, 5), 60);
	ck_assert_int_eq(present(c, 13, 20, 5), 0);
	ck_assert_int_eq(spc_set_tip(c, 30), SPC_OK); /* raising */
	ck_assert_int_eq(present(c, 13, 20, 5), 0);
	ck_assert_int_eq(present(c, 1, 12, 5), 60);
	ck_assert_int_eq(spc_set_tip(c, 30), SPC_OK); /* same: nothing */
	ck_assert_int_eq(present(c, 1, 12, 5), 60);
	fill(c, 13, 14, 5); /* refill above the old tip */
	ck_assert_int_eq(present(c, 13, 14, 5), 10);
	ck_assert_int_eq(api_str(c, "name", buf, sizeof buf), SPC_OK);
	ck_assert_int_eq(plain_str(c, SPC_POOL_VIEW, "key-1", buf, sizeof buf), SPC_OK);
	ck_assert_int_eq(spc_set_tip(c, 0), SPC_OK);
	ck_assert_int_eq(present(c, 1, 20, 5), 0);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
	ck_assert_uint_eq(st.inserts, 100 + 2 + 10);
	ck_assert_uint_eq(st.deletes, 40 + 70);
	ck_assert_uint_eq(st.items, 2);
	ck_assert_uint_eq(st.evictions, 0);
	spc_close(c);
}
END_TEST

START_TEST(invalidate_removes_exactly_from_height)
{
	struct spc_cache *c = open_cache(16u << 20, _i);
	struct spc_stats st;
	uint64_t removed = 99;
	char buf[16];

	fill(c, 100, 140, 7);
	ck_assert_int_eq(spc_delete_at(c, 130, "key-3", 5), SPC_OK); /* already gone */
	ck_assert_int_eq(spc_api_set(c, "key-1", "api", 3), SPC_OK);
	ck_assert_int_eq(spc_set(c, SPC_POOL_VIEW, "key-1", 5, "plain", 5), SPC_OK);
	ck_assert_int_eq(spc_set(c, SPC_POOL_INDEX, "key-1", 5, "index", 5), SPC_OK);
	ck_assert_int_eq(spc_invalidate_from_height(c, 200, &removed), SPC_OK);
	ck_assert_uint_eq(removed, 0);
	ck_assert_int_eq(spc_invalidate_from_height(c, 121, &removed), SPC_OK);
	ck_assert_uint_eq(removed, 20 * 7 - 1);
	ck_assert_int_eq(present(c, 100, 120, 7), 21 * 7);
	ck_assert_int_eq(present(c, 121, 140, 7), 0);
	ck_assert_int_eq(spc_invalidate_from_height(c, 121, &removed), SPC_OK);
	ck_assert_uint_eq(removed, 0);
	ck_assert_int_eq(spc_invalidate_from_height(c, 120, NULL), SPC_OK);
	ck_assert_int_eq(present(c, 100, 119, 7), 20 * 7);
	ck_assert_int_eq(present(c, 120, 120, 7), 0);
	/* the tip is not changed by an invalidation: refilling works */
	fill(c, 120, 125, 7);
	ck_assert_int_eq(present(c, 120, 125, 7), 6 * 7);
	ck_assert_int_eq(api_str(c, "key-1", buf, sizeof buf), SPC_OK);
	ck_assert_int_eq(plain_str(c, SPC_POOL_VIEW, "key-1", buf, sizeof buf), SPC_OK);
	ck_assert_int_eq(plain_str(c, SPC_POOL_INDEX, "key-1", buf, sizeof buf), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
	ck_assert_uint_eq(st.inserts, 41 * 7 + 2 + 6 * 7);
	ck_assert_uint_eq(st.deletes, 1 + 20 * 7 - 1 + 7);
	ck_assert_uint_eq(st.items, 20 * 7 + 6 * 7 + 2);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_int_eq(spc_invalidate_from_height(NULL, 0, NULL), SPC_EINVAL);
	spc_close(c);
}
END_TEST

/* A large range, removed and refilled several times: the per-height index
 * follows. */
START_TEST(invalidate_many_then_refill)
{
	struct spc_cache *c = open_cache(64u << 20, _i);
	uint64_t removed;

	for (int round = 0; round < 3; round++) {
		fill(c, 1000, 1199, 40);
		ck_assert_int_eq(spc_invalidate_from_height(c, 1100, &removed), SPC_OK);
		ck_assert_uint_eq(removed, 100 * 40);
		ck_assert_int_eq(present(c, 1000, 1099, 40), 100 * 40);
		ck_assert_int_eq(present(c, 1100, 1199, 40), 0);
		ck_assert_int_eq(spc_invalidate_from_height(c, 0, &removed), SPC_OK);
		ck_assert_uint_eq(removed, 100 * 40);
		ck_assert_int_eq(present(c, 1000, 1199, 40), 0);
	}
	spc_close(c);
}
END_TEST

/* The injected cache clock (cfg.clock) of the item tests below. */
static uint64_t test_clock; /* atomic: read by the maintainer too */

static uint64_t clock_fn(void *arg)
{
	(void)arg;
	return __atomic_load_n(&test_clock, __ATOMIC_RELAXED);
}

/* A cache on the injected clock, set to 1000. sync: synchronous mode. */
static struct spc_cache *open_clocked(int sync)
{
	struct spc_config cfg;
	struct spc_cache *c = NULL;

	__atomic_store_n(&test_clock, 1000, __ATOMIC_RELAXED);
	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 16u << 20;
	cfg.synchronous_maintenance = sync;
	cfg.clock = clock_fn;
	ck_assert_int_eq(spc_open(&cfg, &c), SPC_OK);
	return c;
}

/* Every store mode, flags and expiry work at heights as on plain keys; an
 * expired height entry is a miss, and a reorganisation that meets one
 * counts it as an expiration, not a delete. */
START_TEST(item_semantics_at_heights)
{
	struct spc_cache *c;
	struct spc_item it = { 7, 0, 0 };
	struct spc_value v;
	struct spc_stats st0, st;
	uint64_t cas = 0, cas2 = 0, removed = 0;
	char buf[32];

	c = open_clocked(_i);
	ck_assert_int_eq(spc_store_at(c, 5, SPC_STORE_REPLACE, "k", 1, "x", 1, NULL, NULL),
	                 SPC_ENOTFOUND);
	ck_assert_int_eq(spc_store_at(c, 5, SPC_STORE_SET, "k", 1, "ab", 2, &it, &cas), SPC_OK);
	ck_assert_int_eq(spc_store_at(c, 5, SPC_STORE_APPEND, "k", 1, "cd", 2, NULL, NULL), SPC_OK);
	ck_assert_int_eq(spc_store_at(c, 5, SPC_STORE_PREPEND, "k", 1, "<", 1, NULL, &cas2), SPC_OK);
	ck_assert_int_eq(at_str(c, 5, "k", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "<abcd");
	it.cas = cas; /* stale: the appends made new ones */
	ck_assert_int_eq(spc_store_at(c, 5, SPC_STORE_CAS, "k", 1, "y", 1, &it, NULL), SPC_EEXISTS);
	it.cas = cas2;
	ck_assert_int_eq(spc_store_at(c, 5, SPC_STORE_CAS, "k", 1, "y", 1, &it, NULL), SPC_OK);
	spc_read_lock(c);
	ck_assert_int_eq(spc_get_at_rcu(c, 5, "k", 1, &v), SPC_OK);
	ck_assert_uint_eq(v.flags, 7);
	ck_assert_uint_eq(v.expiry, 0);
	spc_read_unlock(c);
	/* expiry: at height 6 the entry expires at 1005; height 7 never */
	it = (struct spc_item){ 0, 1005, 0 };
	ck_assert_int_eq(spc_store_at(c, 6, SPC_STORE_SET, "k", 1, "soon", 4, &it, NULL), SPC_OK);
	ck_assert_int_eq(spc_set_at(c, 7, "k", 1, "kept", 4), SPC_OK);
	spc_read_lock(c);
	ck_assert_int_eq(spc_get_at_rcu(c, 6, "k", 1, &v), SPC_OK);
	ck_assert_uint_eq(v.expiry, 1005);
	spc_read_unlock(c);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st0), SPC_OK);
	__atomic_store_n(&test_clock, 1010, __ATOMIC_RELAXED);
	ck_assert_int_eq(at_str(c, 6, "k", buf, sizeof buf), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_invalidate_from_height(c, 6, &removed), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
	/* the maintainer may have reclaimed the expired one first: either
	 * way it is an expiration, and only the live one is "removed" */
	ck_assert_uint_eq(removed, 1);
	ck_assert_uint_eq(st.deletes, st0.deletes + 1);
	ck_assert_uint_eq(st.expirations, st0.expirations + 1);
	ck_assert_uint_eq(st.items, 1);
	ck_assert_uint_eq(st.evictions, 0);
	ck_assert_int_eq(at_str(c, 5, "k", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "y");
	spc_close(c);
}
END_TEST

/* Waits (bounded) until every replaced entry was reclaimed, so that the
 * charged bytes hold still while nothing is written. */
static void settle(struct spc_cache *c, struct spc_stats *st)
{
	for (int i = 0; i < 2000; i++) {
		ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, st), SPC_OK);
		if (st->reclaim_backlog_bytes == 0)
			return;
		usleep(1000);
	}
	ck_abort_msg("reclamation backlog never drained");
}

/* incr/decr, touch and gat of (height, key): the plain calls' semantics
 * (flags kept, touch keeps the cas, cas-checked arith), the tip's rules,
 * and a touch in place charges nothing. */
START_TEST(arith_and_touch_at_heights)
{
	struct spc_cache *c;
	struct spc_item it = { 3, 0, 0 };
	struct spc_value v;
	struct spc_stats st0, st;
	uint64_t cas0 = 0, cas1 = 0, n = 0;
	char buf[32];

	c = open_clocked(_i);
	ck_assert_int_eq(spc_store_at(c, 5, SPC_STORE_SET, "n", 1, "10", 2, &it, &cas0), SPC_OK);
	ck_assert_int_eq(spc_arith_at(c, 5, "n", 1, 0, 5, 0, &n, &cas1), SPC_OK);
	ck_assert_uint_eq(n, 15);
	ck_assert_uint_ne(cas1, cas0);
	ck_assert_int_eq(spc_arith_at(c, 5, "n", 1, 1, 20, 0, &n, NULL), SPC_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(spc_arith_at(c, 5, "n", 1, 0, 7, cas1, NULL, NULL), SPC_EEXISTS);
	ck_assert_int_eq(spc_arith_at(c, 6, "n", 1, 0, 7, 0, NULL, NULL), SPC_ENOTFOUND);
	ck_assert_int_eq(spc_arith_at(c, 5, NULL, 1, 0, 7, 0, NULL, NULL), SPC_EINVAL);
	ck_assert_int_eq(spc_arith_at(c, 5, "n", 1, 0, 7, 0, NULL, &cas1), SPC_OK);
	ck_assert_int_eq(at_str(c, 5, "n", buf, sizeof buf), SPC_OK);
	ck_assert_str_eq(buf, "7");
	ck_assert_int_eq(spc_set_at(c, 5, "t", 1, "text", 4), SPC_OK);
	ck_assert_int_eq(spc_arith_at(c, 5, "t", 1, 0, 1, 0, NULL, NULL), SPC_ENOTNUM);
	/* touch: the first adds an expiry (a copy), the cas stays */
	ck_assert_int_eq(spc_touch_at(c, 5, "n", 1, 1005), SPC_OK);
	spc_read_lock(c);
	ck_assert_int_eq(spc_get_at_rcu(c, 5, "n", 1, &v), SPC_OK);
	ck_assert_uint_eq(v.cas, cas1);
	ck_assert_uint_eq(v.flags, 3);
	ck_assert_uint_eq(v.expiry, 1005);
	spc_read_unlock(c);
	ck_assert_int_eq(spc_touch_at(c, 6, "n", 1, 1005), SPC_ENOTFOUND);
	/* then in place: nothing published, nothing charged (measured with
	 * the maintainer thread, which reclaims the replaced entries by
	 * itself; in synchronous mode only writes step it) */
	if (!_i)
		settle(c, &st0);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(spc_touch_at(c, 5, "n", 1, 2000 + (uint64_t)i), SPC_OK);
	ck_assert_int_eq(spc_stats(c, SPC_POOL_VIEW, &st), SPC_OK);
	if (!_i) {
		ck_assert_uint_eq(st.charged_bytes, st0.charged_bytes);
		ck_assert_uint_eq(st.items, st0.items);
	}
	/* gat: the value with the new deadline; a short buffer touches nothing */
	ck_assert_int_eq(spc_gat_at(c, 5, "n", 1, 3000, buf, 0, &v), SPC_ERANGE);
	ck_assert_uint_eq(v.len, 1);
	ck_assert_int_eq(spc_gat_at(c, 5, "n", 1, 3000, NULL, 1, &v), SPC_EINVAL);
	spc_read_lock(c);
	ck_assert_int_eq(spc_get_at_rcu(c, 5, "n", 1, &v), SPC_OK);
	ck_assert_uint_eq(v.expiry, 2099);
	spc_read_unlock(c);
	ck_assert_int_eq(spc_gat_at(c, 5, "n", 1, 4000, buf, sizeof buf, &v), SPC_OK);
	ck_assert_uint_eq(v.len, 1);
	ck_assert_int_eq(buf[0], '7');
	ck_assert_uint_eq(v.expiry, 4000);
	ck_assert_uint_eq(v.cas, cas1);
	__atomic_store_n(&test_clock, 4001, __ATOMIC_RELAXED);
	ck_assert_int_eq(spc_touch_at(c, 5, "n", 1, 0), SPC_ENOTFOUND); /* expired */
	/* above the tip: refused, nothing changed */
	ck_assert_int_eq(spc_set_at(c, 3, "n", 1, "1", 1), SPC_OK);
	ck_assert_int_eq(spc_set_tip(c, 2), SPC_OK);
	ck_assert_int_eq(spc_arith_at(c, 3, "n", 1, 0, 1, 0, NULL, NULL), SPC_EABOVETIP);
	ck_assert_int_eq(spc_touch_at(c, 3, "n", 1, 0), SPC_EABOVETIP);
	ck_assert_int_eq(spc_gat_at(c, 3, "n", 1, 0, buf, sizeof buf, &v), SPC_EABOVETIP);
	ck_assert_int_eq(spc_set_tip(c, 10), SPC_OK);
	ck_assert_int_eq(spc_arith_at(c, 3, "n", 1, 0, 1, 0, NULL, NULL), SPC_ENOTFOUND);
	spc_close(c);
}
END_TEST

static void *invalidate_all(void *arg)
{
	uint64_t removed = 0;

	ck_assert_int_eq(spc_invalidate_from_height(arg, 0, &removed), SPC_OK);
	return (void *)(uintptr_t)removed;
}

/* A reader inside its read section keeps the value it holds while a
 * reorganisation removes it (the reorganisation does not wait for the
 * reader), and misses after it. With a maintainer thread only: in
 * synchronous mode the caller itself waits for the grace period. */
START_TEST(reader_keeps_value_during_reorganisation)
{
	struct spc_cache *c = open_cache(16u << 20, 0);
	struct spc_value v;
	pthread_t t;
	void *removed;
	char want[64];

	memset(want, 'w', sizeof want);
	for (uint64_t h = 0; h < 10; h++)
		ck_assert_int_eq(spc_set_at(c, h, "k", 1, want, sizeof want), SPC_OK);
	spc_read_lock(c);
	ck_assert_int_eq(spc_get_at_rcu(c, 3, "k", 1, &v), SPC_OK);
	ck_assert_int_eq(pthread_create(&t, NULL, invalidate_all, c), 0);
	ck_assert_int_eq(pthread_join(t, &removed), 0); /* returned while we read */
	ck_assert_uint_eq((uintptr_t)removed, 10);
	ck_assert_uint_eq(v.len, sizeof want);
	ck_assert_int_eq(memcmp(v.data, want, sizeof want), 0);
	ck_assert_int_eq(spc_get_at_rcu(c, 3, "k", 1, &v), SPC_ENOTFOUND);
	spc_read_unlock(c);
	spc_close(c);
}
END_TEST

static Suite *views_suite(void)
{
	Suite *s = suite_create("views");
	TCase *tc = tcase_create("namespaces");

	tcase_add_loop_test(tc, set_get_delete_at, 0, 2);
	tcase_add_loop_test(tc, delete_at_cas_removes_only_the_entry_it_names, 0, 2);
	tcase_add_loop_test(tc, zero_copy_and_range, 0, 2);
	tcase_add_loop_test(tc, api_entries, 0, 2);
	tcase_add_loop_test(tc, arguments, 0, 2);
	tcase_add_loop_test(tc, namespaces_isolated, 0, 2);
	suite_add_tcase(s, tc);
	tc = tcase_create("tip");
	tcase_add_loop_test(tc, tip_refuses_above, 0, 2);
	tcase_add_loop_test(tc, lowering_removes_raising_does_not_resurrect, 0, 2);
	tcase_add_loop_test(tc, invalidate_removes_exactly_from_height, 0, 2);
	tcase_add_loop_test(tc, invalidate_many_then_refill, 0, 2);
	tcase_add_loop_test(tc, item_semantics_at_heights, 0, 2);
	tcase_add_loop_test(tc, arith_and_touch_at_heights, 0, 2);
	tcase_add_test(tc, reader_keeps_value_during_reorganisation);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(views_suite());
}
