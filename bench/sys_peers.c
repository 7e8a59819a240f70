/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sys_peers.c: the two peers written in C, plus the registry of systems.
 *
 * mutex-lru: one pthread mutex around lru.c's exact LRU, bounded by the
 *   budget in charged bytes (key + value + the entry header). Every get
 *   takes the lock, because a hit moves the entry to the head: this is what
 *   users write by hand and what a single lock around the cache costs.
 *
 * lfht-bare: liburcu's cds_lfht with nothing on top: no policy, no
 *   statistics, no bound. Lookups run inside urcu_memb read-side sections
 *   (inlined fast path), replaced nodes are freed through call_rcu; the
 *   table is sized from the budget up front. It is
 *   the ceiling for splitcache's design: the difference between the two is
 *   what the cache adds over the bare index and its density.
 *
 * lfht-dense: the same bare table at splitcache's density: it starts at
 *   1 024 buckets and doubles when it holds more than index_max_load
 *   (--index-load, 2 by default) entries per bucket, the rule of the
 *   cache's maintainer (core/maint.c). Against it, the difference is what
 *   the cache's read path adds, the density being equal; lfht-bare over
 *   lfht-dense is what the density costs.
 *
 * Guarantees: get returns 1 exactly when a value for the key is present
 * and copies min(vlen, cap) bytes of it; values never outlive a grace
 * period after their replacement (lfht-bare), so readers never see freed
 * memory.
 */
#define _LGPL_SOURCE 1
#include "bench.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <urcu/urcu-memb.h>
#include <urcu/rculfhash.h>

/* ---- mutex-lru ---------------------------------------------------------- */

struct mlru {
	pthread_mutex_t mu;
	struct bench_lru *lru;
	uint64_t budget;
};

static int mlru_available(char *why, size_t cap)
{
	return 1;
}

static int mlru_open(const struct bench_sys_params *p, void **out)
{
	struct mlru *m = calloc(1, sizeof(*m));
	if (!m)
		return -1;
	m->lru = bench_lru_new(p->max_entries, p->max_entries ? 0 : p->budget_bytes);
	if (!m->lru) {
		free(m);
		return -1;
	}
	m->budget = p->budget_bytes;
	pthread_mutex_init(&m->mu, NULL);
	*out = m;
	return 0;
}

static void mlru_close(void *h)
{
	struct mlru *m = h;
	bench_lru_free(m->lru);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static void nop_thread(void *h)
{
}

static int mlru_get(void *h, int pool, const void *key, size_t klen, void *buf, size_t cap)
{
	struct mlru *m = h;
	pthread_mutex_lock(&m->mu);
	int hit = bench_lru_get(m->lru, key, klen, buf, cap, NULL);
	pthread_mutex_unlock(&m->mu);
	return hit;
}

static int mlru_set(void *h, int pool, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
	struct mlru *m = h;
	pthread_mutex_lock(&m->mu);
	int rc = bench_lru_set(m->lru, key, klen, val, vlen);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static int mlru_del(void *h, int pool, const void *key, size_t klen)
{
	struct mlru *m = h;
	pthread_mutex_lock(&m->mu);
	int rc = bench_lru_del(m->lru, key, klen);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static int mlru_stats(void *h, int pool, struct bench_sys_stats *out)
{
	struct mlru *m = h;
	struct bench_lru_stats st;
	pthread_mutex_lock(&m->mu);
	bench_lru_stats(m->lru, &st);
	pthread_mutex_unlock(&m->mu);
	memset(out, 0, sizeof(*out));
	out->has_evictions = out->has_charged = 1;
	out->evictions = st.evictions;
	out->charged_bytes = st.charged_bytes;
	out->target_bytes = m->budget;
	out->items = st.items;
	return 0;
}

const struct bench_sys bench_sys_mutex_lru = {
	.name = "mutex-lru",
	.what = "one pthread mutex around a hash table and an exact LRU list",
	.available = mlru_available,
	.open = mlru_open,
	.close = mlru_close,
	.thread_enter = nop_thread,
	.thread_exit = nop_thread,
	.get = mlru_get,
	.set = mlru_set,
	.del = mlru_del,
	.stats = mlru_stats,
};

/* ---- lfht-bare ---------------------------------------------------------- */

struct lnode {
	struct cds_lfht_node node;
	struct rcu_head rcu;
	uint32_t klen, vlen;
	unsigned char data[]; /* key then value */
};

struct lfht_sys {
	struct cds_lfht *ht;
	double max_load;         /* lfht-dense: doubles above this load; 0: sized once */
	unsigned long buckets;   /* lfht-dense: size last asked */
	pthread_mutex_t grow_mu; /* lfht-dense: one resize at a time */
	long items;              /* lfht-dense: atomic, entries present */
};

struct lmatch_key {
	const void *key;
	size_t klen;
};

static unsigned long lhash(const void *key, size_t klen)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ klen;
	const unsigned char *p = key;
	for (size_t i = 0; i + 8 <= klen; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = bench_mix64(h ^ w);
	}
	for (size_t i = klen & ~(size_t)7; i < klen; i++)
		h = bench_mix64(h ^ p[i]);
	return (unsigned long)h;
}

static int lmatch(struct cds_lfht_node *node, const void *arg)
{
	const struct lnode *n = caa_container_of(node, struct lnode, node);
	const struct lmatch_key *k = arg;
	return n->klen == k->klen && memcmp(n->data, k->key, k->klen) == 0;
}

static int lfht_open_sized(const struct bench_sys_params *p, void **out, int dense)
{
	struct lfht_sys *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	/* Sized up front for the entries the budget could hold (at most 2^20
	 * buckets, 16 MiB): liburcu's lazy automatic resize falls far behind a
	 * fast fill and leaves long chains (the core found the same and grows
	 * its index itself), which would make the ceiling a floor. */
	uint64_t want = p->budget_bytes / (BENCH_KEY_LEN + (p->value_len_hint ? p->value_len_hint : 64) + 48);
	unsigned long init = 1UL << 16;
	while (init < want && init < (1UL << 20))
		init <<= 1;
	/* a key space known in advance (read-scaling --keys): at least one
	 * bucket per key, so 2^24 keys are not read at 16 per bucket */
	while (init < p->entries_hint && init < (1UL << 26))
		init <<= 1;
	if (dense) {
		init = 1024;
		s->max_load = p->index_max_load > 0 ? p->index_max_load : 2.0;
		s->buckets = init;
		pthread_mutex_init(&s->grow_mu, NULL);
	}
	s->ht = cds_lfht_new_flavor(init, init, 0,
	                            dense ? 0 : CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
	                            &urcu_memb_flavor, NULL);
	if (!s->ht) {
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

static int lfht_open(const struct bench_sys_params *p, void **out)
{
	return lfht_open_sized(p, out, 0);
}

static int lfht_open_dense(const struct bench_sys_params *p, void **out)
{
	return lfht_open_sized(p, out, 1);
}

/* lfht-dense: counts an entry in (+1) or out (-1) and doubles the table
 * when the load passes max_load. Context: a registered thread outside any
 * read-side section (cds_lfht_resize's rule). */
static void lfht_dense_count(struct lfht_sys *s, long n)
{
	long items;

	if (!s->max_load)
		return;
	items = __atomic_add_fetch(&s->items, n, __ATOMIC_RELAXED);
	if (n < 0 || (double)items <= s->max_load * (double)__atomic_load_n(&s->buckets, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&s->grow_mu);
	unsigned long want = s->buckets;
	while ((double)items > s->max_load * (double)want)
		want <<= 1;
	if (want != s->buckets) {
		cds_lfht_resize(s->ht, want);
		__atomic_store_n(&s->buckets, want, __ATOMIC_RELAXED);
	}
	pthread_mutex_unlock(&s->grow_mu);
}

static void lfht_thread_enter(void *h)
{
	urcu_memb_register_thread();
}

static void lfht_thread_exit(void *h)
{
	urcu_memb_unregister_thread();
}

static void lnode_free_cb(struct rcu_head *head)
{
	free(caa_container_of(head, struct lnode, rcu));
}

/* Context: a registered thread outside any read-side section; no other
 * thread uses the table any more. */
static void lfht_close(void *h)
{
	struct lfht_sys *s = h;
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;
	urcu_memb_register_thread();
	urcu_memb_read_lock();
	cds_lfht_for_each(s->ht, &it, node)
	{
		if (cds_lfht_del(s->ht, node) == 0)
			urcu_memb_call_rcu(&caa_container_of(node, struct lnode, node)->rcu,
			                   lnode_free_cb);
	}
	urcu_memb_read_unlock();
	urcu_memb_barrier();
	cds_lfht_destroy(s->ht, NULL);
	urcu_memb_unregister_thread();
	if (s->max_load)
		pthread_mutex_destroy(&s->grow_mu);
	free(s);
}

static int lfht_get(void *h, int pool, const void *key, size_t klen, void *buf, size_t cap)
{
	struct lfht_sys *s = h;
	struct lmatch_key k = {key, klen};
	struct cds_lfht_iter it;
	int hit = 0;
	urcu_memb_read_lock();
	cds_lfht_lookup(s->ht, lhash(key, klen), lmatch, &k, &it);
	struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
	if (node) {
		const struct lnode *n = caa_container_of(node, struct lnode, node);
		if (buf)
			memcpy(buf, n->data + n->klen, n->vlen < cap ? n->vlen : cap);
		hit = 1;
	}
	urcu_memb_read_unlock();
	return hit;
}

static int lfht_set(void *h, int pool, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
	struct lfht_sys *s = h;
	struct lnode *n = malloc(sizeof(*n) + klen + vlen);
	if (!n)
		return -1;
	n->klen = (uint32_t)klen;
	n->vlen = (uint32_t)vlen;
	memcpy(n->data, key, klen);
	if (vlen)
		memcpy(n->data + klen, val, vlen);
	struct lmatch_key k = {key, klen};
	urcu_memb_read_lock();
	struct cds_lfht_node *old =
		cds_lfht_add_replace(s->ht, lhash(key, klen), lmatch, &k, &n->node);
	urcu_memb_read_unlock();
	if (old)
		urcu_memb_call_rcu(&caa_container_of(old, struct lnode, node)->rcu, lnode_free_cb);
	else
		lfht_dense_count(s, 1);
	return 0;
}

static int lfht_del(void *h, int pool, const void *key, size_t klen)
{
	struct lfht_sys *s = h;
	struct lmatch_key k = {key, klen};
	struct cds_lfht_iter it;
	int found = 0;
	urcu_memb_read_lock();
	cds_lfht_lookup(s->ht, lhash(key, klen), lmatch, &k, &it);
	struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
	if (node && cds_lfht_del(s->ht, node) == 0) {
		urcu_memb_call_rcu(&caa_container_of(node, struct lnode, node)->rcu, lnode_free_cb);
		found = 1;
	}
	urcu_memb_read_unlock();
	if (found)
		lfht_dense_count(s, -1);
	return found;
}

/* lfht-bare keeps no statistics on purpose (counting nodes walks the
 * whole table): the monitor reports nulls for it. */
static int lfht_stats(void *h, int pool, struct bench_sys_stats *out)
{
	memset(out, 0, sizeof(*out));
	return -1;
}

/* The two bare tables differ only in how they are opened. */
#define LFHT_SYSTEM(sys_name, sys_what, open_fn)                                        \
	{                                                                              \
		.name = sys_name, .what = sys_what, .available = mlru_available,      \
		.open = open_fn, .close = lfht_close, .thread_enter = lfht_thread_enter, \
		.thread_exit = lfht_thread_exit, .get = lfht_get, .set = lfht_set,     \
		.del = lfht_del, .stats = lfht_stats,                                  \
	}

const struct bench_sys bench_sys_lfht_bare = LFHT_SYSTEM(
	"lfht-bare", "liburcu cds_lfht lookups: no policy, no stats, no bound (the ceiling)",
	lfht_open);

const struct bench_sys bench_sys_lfht_dense = LFHT_SYSTEM(
	"lfht-dense", "lfht-bare at splitcache's index density (doubles above --index-load)",
	lfht_open_dense);

/* ---- registry ----------------------------------------------------------- */

const struct bench_sys *const *bench_systems_all(void)
{
	static const struct bench_sys *const all[] = {
		&bench_sys_splitcache,  &bench_sys_splitcache_s3fifo, &bench_sys_splitcache_clock,
		&bench_sys_splitcache_nocas,
		&bench_sys_mutex_lru,   &bench_sys_rocksdb_lru,       &bench_sys_rocksdb_hcc,
		&bench_sys_rocksdb_hcc_full,
		&bench_sys_lfht_bare,   &bench_sys_lfht_dense,        &bench_sys_index_bare,
		NULL};
	return all;
}

const struct bench_sys *bench_system_find(const char *name)
{
	for (const struct bench_sys *const *s = bench_systems_all(); *s; s++)
		if (strcmp((*s)->name, name) == 0)
			return *s;
	return NULL;
}
