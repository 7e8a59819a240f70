// SPDX-License-Identifier: LGPL-2.1-or-later
//
// peer_rocksdb.cc: RocksDB 7.8's caches behind peer_rocksdb.h.
//
// rocksdb-lru is NewLRUCache(LRUCacheOptions) with default sharding (the
// cache picks the shard count from the capacity); rocksdb-hcc is
// HyperClockCacheOptions(capacity, estimated_entry_charge).MakeSharedCache(),
// which in 7.8 requires 16-byte keys (all bench scenarios use 16-byte keys;
// other lengths are refused here instead of crashing inside RocksDB), and
// does not charge its table's metadata (see bench_rdb_open);
// rocksdb-hcc-full is the same cache charged in full: each entry its
// value's allocation (malloc_usable_size), the table its 64-byte slots
// (kFullChargeCacheMetadata), with the estimate sized so that the table
// fits the entries the rest of the capacity holds.
// Both use the legacy Insert(key, value, charge, deleter) interface, still
// the primary one in 7.8. No exception crosses the C boundary.
#include "peer_rocksdb.h"

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <memory>
#include <new>

#include <rocksdb/cache.h>

struct bench_rdb {
	std::shared_ptr<rocksdb::Cache> cache;
	enum bench_rdb_kind kind;
};

// HCC's slot: 64 bytes, at most 0.7 of the slots used (7.8's load
// factor), so about 92 bytes of table per entry.
static const size_t hcc_table_per_entry = 92;

namespace {

struct stored_value {
	size_t len;
	unsigned char bytes[1];
};

void delete_value(const rocksdb::Slice &, void *value)
{
	std::free(value);
}

} // namespace

extern "C" struct bench_rdb *bench_rdb_open(enum bench_rdb_kind kind, uint64_t capacity,
                                            size_t entry_charge)
{
	try {
		std::unique_ptr<bench_rdb> c(new bench_rdb);
		c->kind = kind;
		if (kind == BENCH_RDB_HCC_FULL) {
			// The estimate is what one entry takes of the capacity:
			// its value's allocation plus its share of the table,
			// so the table (charged up front) has slots for the
			// entries the rest holds.
			size_t vlen = entry_charge > 16 ? entry_charge - 16 : 100;
			void *probe = std::malloc(offsetof(stored_value, bytes) + vlen + 1);
			if (!probe)
				return nullptr;
			size_t est = malloc_usable_size(probe) + hcc_table_per_entry;
			std::free(probe);
			rocksdb::HyperClockCacheOptions o(static_cast<size_t>(capacity), est);
			o.metadata_charge_policy = rocksdb::kFullChargeCacheMetadata;
			c->cache = o.MakeSharedCache();
		} else if (kind == BENCH_RDB_HCC) {
			rocksdb::HyperClockCacheOptions o(static_cast<size_t>(capacity),
			                                  entry_charge ? entry_charge : 128);
			// The table (64 B per slot, sized from the estimate) is
			// allocated up front; charged in full, with ~100-byte entries
			// it alone reaches the capacity and every Insert spins in
			// Evict (seen with 7.8). So its metadata is not charged: the
			// memory scenario measures it through RSS instead.
			o.metadata_charge_policy = rocksdb::kDontChargeCacheMetadata;
			c->cache = o.MakeSharedCache();
		} else {
			rocksdb::LRUCacheOptions o;
			o.capacity = static_cast<size_t>(capacity);
			c->cache = rocksdb::NewLRUCache(o);
		}
		if (!c->cache)
			return nullptr;
		return c.release();
	} catch (...) {
		return nullptr;
	}
}

extern "C" void bench_rdb_close(struct bench_rdb *c)
{
	delete c;
}

extern "C" int bench_rdb_get(struct bench_rdb *c, const void *key, size_t klen, void *buf,
                             size_t cap)
{
	if (c->kind != BENCH_RDB_LRU && klen != 16)
		return 0;
	rocksdb::Cache::Handle *h =
		c->cache->Lookup(rocksdb::Slice(static_cast<const char *>(key), klen));
	if (!h)
		return 0;
	const stored_value *v = static_cast<const stored_value *>(c->cache->Value(h));
	if (buf)
		std::memcpy(buf, v->bytes, v->len < cap ? v->len : cap);
	c->cache->Release(h);
	return 1;
}

extern "C" int bench_rdb_set(struct bench_rdb *c, const void *key, size_t klen, const void *val,
                             size_t vlen)
{
	if (c->kind != BENCH_RDB_LRU && klen != 16)
		return -1;
	stored_value *v =
		static_cast<stored_value *>(std::malloc(offsetof(stored_value, bytes) + vlen + 1));
	if (!v)
		return -1;
	v->len = vlen;
	if (vlen)
		std::memcpy(v->bytes, val, vlen);
	// On failure RocksDB has already called the deleter.
	size_t charge = c->kind == BENCH_RDB_HCC_FULL ? malloc_usable_size(v) : klen + vlen;
	rocksdb::Status s = c->cache->Insert(rocksdb::Slice(static_cast<const char *>(key), klen),
	                                     v, charge, delete_value);
	return s.ok() ? 0 : -1;
}

extern "C" int bench_rdb_del(struct bench_rdb *c, const void *key, size_t klen)
{
	if (c->kind != BENCH_RDB_LRU && klen != 16)
		return 0;
	c->cache->Erase(rocksdb::Slice(static_cast<const char *>(key), klen));
	return 1;
}

extern "C" void bench_rdb_usage(struct bench_rdb *c, uint64_t *usage, uint64_t *capacity)
{
	*usage = c->cache->GetUsage();
	*capacity = c->cache->GetCapacity();
}
