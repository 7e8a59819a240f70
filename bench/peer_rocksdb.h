/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * peer_rocksdb.h: a C interface to RocksDB's block caches (LRUCache and
 * HyperClockCache), implemented in peer_rocksdb.cc. Values are copied in
 * on insert (one malloc holding length and bytes, freed by the cache's
 * deleter) and copied out on lookup under a handle that is released
 * before returning. Every function may be called from any thread.
 */
#ifndef SPC_BENCH_PEER_ROCKSDB_H
#define SPC_BENCH_PEER_ROCKSDB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bench_rdb;

/* HCC charges key + value per entry, its table not at all; HCC_FULL
 * charges what an entry costs in memory (its value's allocation) and
 * the table too (kFullChargeCacheMetadata), as splitcache charges
 * everything: the same budget then holds about as many entries. */
enum bench_rdb_kind { BENCH_RDB_LRU = 0, BENCH_RDB_HCC = 1, BENCH_RDB_HCC_FULL = 2 };

/* capacity in bytes of charge; entry_charge: key + value bytes of a
 * typical entry, from which HCC's estimated_entry_charge is derived
 * (ignored by LRU). Returns NULL on failure. */
struct bench_rdb *bench_rdb_open(enum bench_rdb_kind kind, uint64_t capacity, size_t entry_charge);
void bench_rdb_close(struct bench_rdb *c);
/* Returns 1 hit (min(vlen, cap) bytes copied into buf), 0 miss. */
int bench_rdb_get(struct bench_rdb *c, const void *key, size_t klen, void *buf, size_t cap);
/* Returns 0, or -1 when RocksDB refused the insert. */
int bench_rdb_set(struct bench_rdb *c, const void *key, size_t klen, const void *val, size_t vlen);
int bench_rdb_del(struct bench_rdb *c, const void *key, size_t klen);
/* Charged usage (RocksDB's GetUsage) and capacity. */
void bench_rdb_usage(struct bench_rdb *c, uint64_t *usage, uint64_t *capacity);

#ifdef __cplusplus
}
#endif
#endif
