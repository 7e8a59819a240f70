/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sys_index.c: the system `index-bare`: core/index alone, with nothing on
 * top (no policy, no statistics, no bound), the way lfht-bare is liburcu's
 * cds_lfht alone. Entries are one malloc each (rcu head, lengths, key,
 * value), hashed with XXH3-64; gets run inside urcu-memb read-side sections
 * (inlined fast path) and copy the value out; replaced and deleted entries
 * are freed through call_rcu. Bucket arrays come from aligned_alloc.
 *
 * The table grows as the cache's maintainer will grow it: it starts at 64
 * buckets and the writer that finds more than spc_index_grow_load entries
 * per bucket doubles it (begin and every step at once: the bench fills
 * from one thread, outside any read section), so reads see the density
 * the cache will have (2^18 keys: 65 536 buckets, 4 entries per bucket,
 * 16 B of buckets per entry).
 *
 * Guarantees: as lfht-bare's (get returns 1 exactly when a value for the
 * key is present and copies min(vlen, cap) bytes; values are freed a grace
 * period after their replacement).
 */
#define _LGPL_SOURCE 1
#include "bench.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-memb.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/index.h"

#define IX_SEED UINT64_C(0x5eed)

struct ixent {
	struct rcu_head rcu;
	uint32_t klen, vlen;
	unsigned char data[]; /* key then value */
};

struct ixkey {
	const void *key;
	size_t klen;
};

struct ix_sys {
	struct spc_index ix;
	pthread_mutex_t grow_mu; /* one resize at a time */
	long items;              /* atomic: entries present */
};

static inline int ixmatch(const void *entry, const void *key)
{
	const struct ixent *e = entry;
	const struct ixkey *k = key;
	return e->klen == k->klen && memcmp(e->data, k->key, k->klen) == 0;
}

static uint64_t ixhash_entry(void *ctx, const void *entry)
{
	const struct ixent *e = entry;
	return XXH3_64bits_withSeed(e->data, e->klen, IX_SEED);
}

static void *ix_alloc(void *ctx, size_t bytes)
{
	return aligned_alloc(64, (bytes + 63) / 64 * 64);
}

static void ix_free(void *ctx, void *p, size_t bytes)
{
	free(p);
}

static int ix_available(char *why, size_t cap)
{
	return 1;
}

static int ix_open(const struct bench_sys_params *p, void **out)
{
	struct ix_sys *s = calloc(1, sizeof(*s));
	struct spc_index_ops ops = {ix_alloc, ix_free, ixhash_entry, NULL, NULL, 0};

	if (!s)
		return -1;
	if (spc_index_init(&s->ix, &ops, 64) != SPC_OK) {
		free(s);
		return -1;
	}
	pthread_mutex_init(&s->grow_mu, NULL);
	*out = s;
	return 0;
}

static void ix_thread_enter(void *h)
{
	urcu_memb_register_thread();
}

static void ix_thread_exit(void *h)
{
	urcu_memb_unregister_thread();
}

static void ixent_free_cb(struct rcu_head *head)
{
	free(caa_container_of(head, struct ixent, rcu));
}

static void ix_free_entry(void *arg, void *entry)
{
	free(entry);
}

/* Context: no other thread uses the table any more. */
static void ix_close(void *h)
{
	struct ix_sys *s = h;
	urcu_memb_register_thread();
	urcu_memb_barrier();
	urcu_memb_read_lock();
	spc_index_for_each_rcu(&s->ix, ix_free_entry, NULL);
	urcu_memb_read_unlock();
	spc_index_destroy(&s->ix);
	urcu_memb_unregister_thread();
	pthread_mutex_destroy(&s->grow_mu);
	free(s);
}

static int ix_get(void *h, int pool, const void *key, size_t klen, void *buf, size_t cap)
{
	struct ix_sys *s = h;
	struct ixkey k = {key, klen};
	int hit = 0;
	urcu_memb_read_lock();
	const struct ixent *e = spc_index_lookup_rcu(
		&s->ix, XXH3_64bits_withSeed(key, klen, IX_SEED), ixmatch, &k);
	if (e) {
		if (buf)
			memcpy(buf, e->data + e->klen, e->vlen < cap ? e->vlen : cap);
		hit = 1;
	}
	urcu_memb_read_unlock();
	return hit;
}

/* Counts an entry in (+1) or out (-1); doubles the table above the grow
 * load. Context: a registered thread outside any read-side section. */
static void ix_count(struct ix_sys *s, long n)
{
	long items = __atomic_add_fetch(&s->items, n, __ATOMIC_RELAXED);

	if (n < 0 || (uint64_t)items <= spc_index_grow_load(&s->ix) * (uint64_t)spc_index_buckets(&s->ix))
		return;
	pthread_mutex_lock(&s->grow_mu);
	size_t b = spc_index_buckets(&s->ix);
	if ((uint64_t)items > spc_index_grow_load(&s->ix) * (uint64_t)b)
		(void)spc_index_resize(&s->ix, 2 * b); /* ENOMEM: stays, tried again */
	pthread_mutex_unlock(&s->grow_mu);
}

static int ix_set(void *h, int pool, const void *key, size_t klen, const void *val, size_t vlen)
{
	struct ix_sys *s = h;
	struct ixent *e = malloc(sizeof(*e) + klen + vlen);
	struct ixkey k = {key, klen};
	void *old = NULL;
	int rc;

	if (!e)
		return -1;
	e->klen = (uint32_t)klen;
	e->vlen = (uint32_t)vlen;
	memcpy(e->data, key, klen);
	if (vlen)
		memcpy(e->data + klen, val, vlen);
	urcu_memb_read_lock();
	rc = spc_index_set_rcu(&s->ix, XXH3_64bits_withSeed(key, klen, IX_SEED), ixmatch, &k, e,
	                       &old);
	urcu_memb_read_unlock();
	if (rc != SPC_OK) {
		free(e);
		return -1;
	}
	if (old)
		urcu_memb_call_rcu(&((struct ixent *)old)->rcu, ixent_free_cb);
	else
		ix_count(s, 1);
	return 0;
}

static int ix_del(void *h, int pool, const void *key, size_t klen)
{
	struct ix_sys *s = h;
	struct ixkey k = {key, klen};
	urcu_memb_read_lock();
	struct ixent *e =
		spc_index_delete_rcu(&s->ix, XXH3_64bits_withSeed(key, klen, IX_SEED), ixmatch, &k);
	urcu_memb_read_unlock();
	if (!e)
		return 0;
	urcu_memb_call_rcu(&e->rcu, ixent_free_cb);
	ix_count(s, -1);
	return 1;
}

/* Entries only (no charge: the bare table has no budget). */
static int ix_stats(void *h, int pool, struct bench_sys_stats *out)
{
	struct ix_sys *s = h;
	memset(out, 0, sizeof(*out));
	out->items = (uint64_t)__atomic_load_n(&s->items, __ATOMIC_RELAXED);
	return 0;
}

const struct bench_sys bench_sys_index_bare = {
	.name = "index-bare",
	.what = "core/index alone (one-line buckets, XXH3): no policy, no stats, no bound",
	.available = ix_available,
	.open = ix_open,
	.close = ix_close,
	.thread_enter = ix_thread_enter,
	.thread_exit = ix_thread_exit,
	.get = ix_get,
	.set = ix_set,
	.del = ix_del,
	.stats = ix_stats,
};
