/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sys_rocksdb.c: the rocksdb-lru and rocksdb-hcc systems over the C
 * interface of peer_rocksdb.h. Without SPC_BENCH_HAVE_ROCKSDB (librocksdb
 * not found, or SPC_BENCH_ROCKSDB off) both systems exist but report
 * themselves unavailable, so names and tables stay the same everywhere.
 * RocksDB keeps no eviction counter through this interface: evictions are
 * null; charged bytes are GetUsage() against GetCapacity(). rocksdb-hcc
 * charges key + value bytes only; rocksdb-hcc-full charges what its
 * entries and its table cost, as splitcache does.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#ifdef SPC_BENCH_HAVE_ROCKSDB
#include "peer_rocksdb.h"

static int rdb_available(char *why, size_t cap)
{
	return 1;
}

static int rdb_open_kind(const struct bench_sys_params *p, void **out, enum bench_rdb_kind kind)
{
	size_t charge = BENCH_KEY_LEN + (p->value_len_hint ? p->value_len_hint : 100);
	struct bench_rdb *c = bench_rdb_open(kind, p->budget_bytes, charge);
	if (!c)
		return -1;
	*out = c;
	return 0;
}

static int rdb_open_lru(const struct bench_sys_params *p, void **out)
{
	return rdb_open_kind(p, out, BENCH_RDB_LRU);
}

static int rdb_open_hcc(const struct bench_sys_params *p, void **out)
{
	return rdb_open_kind(p, out, BENCH_RDB_HCC);
}

static int rdb_open_hcc_full(const struct bench_sys_params *p, void **out)
{
	return rdb_open_kind(p, out, BENCH_RDB_HCC_FULL);
}

static void rdb_close(void *h)
{
	bench_rdb_close(h);
}

static int rdb_get(void *h, int pool, const void *key, size_t klen, void *buf, size_t cap)
{
	return bench_rdb_get(h, key, klen, buf, cap);
}

static int rdb_set(void *h, int pool, const void *key, size_t klen, const void *val,
                   size_t vlen)
{
	return bench_rdb_set(h, key, klen, val, vlen);
}

static int rdb_del(void *h, int pool, const void *key, size_t klen)
{
	return bench_rdb_del(h, key, klen);
}

static int rdb_stats(void *h, int pool, struct bench_sys_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->has_charged = 1;
	bench_rdb_usage(h, &out->charged_bytes, &out->target_bytes);
	return 0;
}

#else

static int rdb_available(char *why, size_t cap)
{
	snprintf(why, cap, "built without librocksdb (SPC_BENCH_ROCKSDB=OFF or not found)");
	return 0;
}

static int rdb_open_lru(const struct bench_sys_params *p, void **out)
{
	return -1;
}

#define rdb_open_hcc rdb_open_lru
#define rdb_open_hcc_full rdb_open_lru

static void rdb_close(void *h)
{
}

static int rdb_get(void *h, int pool, const void *key, size_t klen, void *buf, size_t cap)
{
	return 0;
}

static int rdb_set(void *h, int pool, const void *key, size_t klen, const void *val,
                   size_t vlen)
{
	return -1;
}

static int rdb_del(void *h, int pool, const void *key, size_t klen)
{
	return 0;
}

static int rdb_stats(void *h, int pool, struct bench_sys_stats *out)
{
	return -1;
}
#endif

static void rdb_thread(void *h)
{
}

/* One system table per RocksDB cache; they differ in name and open. */
#define RDB_SYSTEM(var, name_, what_, open_)                                     \
	const struct bench_sys var = {.name = name_,                            \
	                              .what = what_,                            \
	                              .available = rdb_available,               \
	                              .open = open_,                            \
	                              .close = rdb_close,                       \
	                              .thread_enter = rdb_thread,               \
	                              .thread_exit = rdb_thread,                \
	                              .get = rdb_get,                           \
	                              .set = rdb_set,                           \
	                              .del = rdb_del,                           \
	                              .stats = rdb_stats}

RDB_SYSTEM(bench_sys_rocksdb_lru, "rocksdb-lru", "RocksDB 7.8 sharded LRUCache (NewLRUCache)",
           rdb_open_lru);
RDB_SYSTEM(bench_sys_rocksdb_hcc, "rocksdb-hcc", "RocksDB 7.8 HyperClockCache (lock-free clock)",
           rdb_open_hcc);
/* rocksdb-hcc charged as splitcache charges: every byte an entry costs
 * (peer_rocksdb.h, BENCH_RDB_HCC_FULL). */
RDB_SYSTEM(bench_sys_rocksdb_hcc_full, "rocksdb-hcc-full",
           "rocksdb-hcc charging values' allocations and its table, as splitcache charges",
           rdb_open_hcc_full);
