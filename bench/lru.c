/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lru.c: an exact LRU cache, the way users write one by hand.
 *
 * A chained hash table (power-of-two buckets, doubled when the load
 * reaches 1) indexes entries that also sit on one doubly linked list in
 * recency order: a hit unlinks the entry and puts it at the head; an
 * insert goes to the head; eviction takes from the tail until both bounds
 * hold. Each entry is one allocation holding its key and value.
 *
 * Two users: the `mutex-lru` peer puts one pthread mutex around it (the
 * design splitcache replaces), and `replay --policies lru-exact` uses it
 * as the reference policy (hits / requests must match the ARC paper's
 * Table IV on OLTP: 300,122 of 914,145 at 1000 entries).
 *
 * Guarantees (tests/unit/bench):
 *  1. After every set, items <= max_entries and charged <= max_bytes
 *     (when set), unless a single entry alone exceeds max_bytes, in which
 *     case the cache holds just that entry (exact LRU admits everything).
 *  2. The victim is always the least recently used entry.
 * Not thread-safe.
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

struct lru_entry {
	struct lru_entry *hnext;
	struct lru_entry *prev, *next;
	uint64_t hash;
	uint32_t klen, vlen;
	unsigned char data[]; /* key then value */
};

struct bench_lru {
	struct lru_entry **buckets;
	size_t nbuckets;
	struct lru_entry head; /* sentinel: head.next is the most recent */
	uint64_t max_entries, max_bytes;
	struct bench_lru_stats st;
};

size_t bench_lru_entry_overhead(void)
{
	/* the entry header plus one bucket pointer at load factor 1 */
	return sizeof(struct lru_entry) + sizeof(void *);
}

static uint64_t hash_bytes(const void *key, size_t len)
{
	/* FNV-1a over 8-byte words, finished by the mixer: fast for 16 B keys */
	const unsigned char *p = key;
	uint64_t h = 0xcbf29ce484222325ULL ^ len;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		p += 8;
		len -= 8;
	}
	while (len--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return bench_mix64(h);
}

struct bench_lru *bench_lru_new(uint64_t max_entries, uint64_t max_bytes)
{
	struct bench_lru *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->nbuckets = 1024;
	l->buckets = calloc(l->nbuckets, sizeof(*l->buckets));
	if (!l->buckets) {
		free(l);
		return NULL;
	}
	l->head.next = l->head.prev = &l->head;
	l->max_entries = max_entries;
	l->max_bytes = max_bytes;
	return l;
}

void bench_lru_free(struct bench_lru *l)
{
	if (!l)
		return;
	struct lru_entry *e = l->head.next;
	while (e != &l->head) {
		struct lru_entry *n = e->next;
		free(e);
		e = n;
	}
	free(l->buckets);
	free(l);
}

static struct lru_entry **find_slot(struct bench_lru *l, uint64_t h, const void *key,
                                    size_t klen)
{
	struct lru_entry **pp = &l->buckets[h & (l->nbuckets - 1)];
	while (*pp) {
		struct lru_entry *e = *pp;
		if (e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0)
			return pp;
		pp = &e->hnext;
	}
	return pp;
}

static void list_unlink(struct lru_entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static void list_push_front(struct bench_lru *l, struct lru_entry *e)
{
	e->next = l->head.next;
	e->prev = &l->head;
	l->head.next->prev = e;
	l->head.next = e;
}

static uint64_t charge_of(const struct lru_entry *e)
{
	return e->klen + e->vlen + bench_lru_entry_overhead();
}

static void remove_entry(struct bench_lru *l, struct lru_entry *e)
{
	struct lru_entry **pp = find_slot(l, e->hash, e->data, e->klen);
	*pp = e->hnext;
	list_unlink(e);
	l->st.items--;
	l->st.charged_bytes -= charge_of(e);
	free(e);
}

int bench_lru_get(struct bench_lru *l, const void *key, size_t klen, void *buf, size_t cap,
                  size_t *vlen)
{
	struct lru_entry *e = *find_slot(l, hash_bytes(key, klen), key, klen);
	if (!e)
		return 0;
	list_unlink(e);
	list_push_front(l, e);
	if (buf)
		memcpy(buf, e->data + e->klen, e->vlen < cap ? e->vlen : cap);
	if (vlen)
		*vlen = e->vlen;
	return 1;
}

static void grow(struct bench_lru *l)
{
	size_t nb = l->nbuckets * 2;
	struct lru_entry **b = calloc(nb, sizeof(*b));
	if (!b)
		return; /* keep the longer chains: still correct */
	for (size_t i = 0; i < l->nbuckets; i++) {
		struct lru_entry *e = l->buckets[i];
		while (e) {
			struct lru_entry *n = e->hnext;
			e->hnext = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
			e = n;
		}
	}
	free(l->buckets);
	l->buckets = b;
	l->nbuckets = nb;
}

int bench_lru_set(struct bench_lru *l, const void *key, size_t klen, const void *val,
                  size_t vlen)
{
	uint64_t h = hash_bytes(key, klen);
	struct lru_entry *e = malloc(sizeof(*e) + klen + vlen);
	if (!e)
		return -1;
	e->hash = h;
	e->klen = (uint32_t)klen;
	e->vlen = (uint32_t)vlen;
	memcpy(e->data, key, klen);
	if (vlen)
		memcpy(e->data + klen, val, vlen);
	struct lru_entry **pp = find_slot(l, h, key, klen);
	if (*pp) { /* replace */
		struct lru_entry *old = *pp;
		e->hnext = old->hnext;
		*pp = e;
		list_unlink(old);
		l->st.charged_bytes -= charge_of(old);
		l->st.items--;
		free(old);
	} else {
		e->hnext = NULL;
		*pp = e;
	}
	list_push_front(l, e);
	l->st.items++;
	l->st.inserts++;
	l->st.charged_bytes += charge_of(e);
	while (l->st.items > 1 &&
	       ((l->max_entries && l->st.items > l->max_entries) ||
	        (l->max_bytes && l->st.charged_bytes > l->max_bytes))) {
		remove_entry(l, l->head.prev);
		l->st.evictions++;
	}
	if (l->st.items > l->nbuckets)
		grow(l);
	return 0;
}

int bench_lru_del(struct bench_lru *l, const void *key, size_t klen)
{
	struct lru_entry *e = *find_slot(l, hash_bytes(key, klen), key, klen);
	if (!e)
		return 0;
	remove_entry(l, e);
	return 1;
}

void bench_lru_stats(const struct bench_lru *l, struct bench_lru_stats *out)
{
	*out = l->st;
}
