/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/store.c: memcached items over the library's item API.
 *
 * Plain entries of either pool map one to one onto the library: gets are
 * spc_get_rcu (flags, cas and expiry come with the value; an expired entry
 * is a miss), stores spc_store with the memcached mode, incr/decr
 * spc_arith, touch spc_touch, gat spc_gat, delete spc_delete_cas. Each is
 * atomic in the library (compare-and-swap publication, no lock), so the
 * server adds no locking of its own.
 *
 * Height-partitioned view entries ((height, key), docs/service.md) have
 * the same calls at a height (spc_store_at, spc_get_at_rcu, spc_arith_at,
 * spc_touch_at, spc_gat_at, spc_delete_at_cas), each as atomic.
 *
 * The commands above see one family of calls, each taking an addressed
 * key (struct spc_srv_key, built from what the parser decoded): this file
 * is the one place that picks the library's plain or height call for it.
 *
 * The marks memcached keeps in an item's header and the library does not
 * (marks.h) are kept here by cas: incr/decr carry them over when
 * memcached would change the item in place.
 *
 * Guarantees (tests/service):
 *  1. A command is exactly the library call's semantics, on plain and
 *     height-partitioned entries alike.
 *  2. An item larger than its pool's whole target is refused with
 *     SPC_EFULL before the cache is asked, so the pool's maintainer does
 *     not evict everything else while the writer waits for room it can
 *     never have.
 *  3. -C: the cache is opened without cas (struct spc_config's no_cas):
 *     its entries keep none, every item reads with cas 0 and every
 *     request that names a cas is refused by the library as a mismatch
 *     (EXISTS; NOT_FOUND when the key is absent), as memcached 1.6.18 -C
 *     answers; nothing here asks which.
 *  4. -M (no_evict): a store or incr/decr is refused with SPC_EFULL when
 *     the pool's charged bytes plus the item would pass the low
 *     watermark, the level the maintainer evicts down to: so the
 *     maintainer finds nothing to evict for room (expired entries are
 *     still reclaimed). Writers racing past the check can overshoot it by
 *     one item each, still below the high watermark.
 */
#include "service/store.h"

#include "service/proto.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Items from this size on are checked against their pool's target. */
#define LARGE_ITEM (64u * 1024)
/* A read-modify-write that lost a race to another client is retried this
 * often before the request is answered as if the other came first. */
#define RETRIES 8

int spc_srv_store_init(struct spc_srv_store *st, struct spc_cache *cache)
{
	st->cache = cache;
	st->no_evict = false;
	st->no_evict_pct = 90;
	return spc_srv_marks_init(&st->marks);
}

void spc_srv_store_fini(struct spc_srv_store *st)
{
	spc_srv_marks_fini(&st->marks);
	st->cache = NULL;
}

uint64_t spc_srv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (uint64_t)ts.tv_sec;
}

static void item_of(const struct spc_value *v, struct spc_srv_item *out)
{
	out->data = v->data;
	out->len = v->len;
	out->flags = v->flags;
	out->cas = v->cas;
	out->expiry = v->expiry;
}

int spc_srv_get_rcu(struct spc_srv_store *st, const struct spc_srv_key *k, uint64_t now,
		    struct spc_srv_item *out)
{
	struct spc_value v;
	int rc;

	(void)now; /* the library tests expiry on its own clock */
	rc = k->at ? spc_get_at_rcu(st->cache, k->height, k->key, k->klen, &v)
		   : spc_get_rcu(st->cache, k->pool, k->key, k->klen, &v);
	if (rc == SPC_OK)
		item_of(&v, out);
	return rc;
}

int spc_srv_get_copy(struct spc_srv_store *st, const struct spc_srv_key *k,
		     struct spc_srv_item *out)
{
	char *buf = NULL;
	int rc;

	spc_read_lock(st->cache);
	rc = spc_srv_get_rcu(st, k, 0, out);
	if (rc == SPC_OK) {
		buf = malloc(out->len ? out->len : 1);
		if (buf)
			memcpy(buf, out->data, out->len);
		else
			rc = SPC_ENOMEM;
	}
	spc_read_unlock(st->cache);
	out->data = buf;
	return rc;
}

/* Decimal digits of v. */
static size_t digits(uint64_t v)
{
	size_t n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

int spc_srv_arith_marked(struct spc_srv_store *st, const struct spc_srv_key *k, bool decr,
			 uint64_t delta, uint64_t cas_expect, uint64_t now, uint64_t *val,
			 uint64_t *cas, uint64_t *expiry)
{
	int rc = SPC_EEXISTS;

	for (int i = 0; i < RETRIES && rc == SPC_EEXISTS; i++) {
		struct spc_srv_item cur;
		struct spc_srv_mark mark;
		bool known;

		spc_read_lock(st->cache);
		rc = spc_srv_get_rcu(st, k, now, &cur);
		spc_read_unlock(st->cache);
		if (rc != SPC_OK)
			return rc;
		known = spc_srv_marks_get(&st->marks, cur.cas, &mark);
		rc = spc_srv_arith(st, k, decr, delta, cas_expect ? cas_expect : cur.cas, now, val,
				   cas);
		if (rc != SPC_OK) {
			if (cas_expect)
				return rc;
			continue;
		}
		*expiry = cur.expiry;
		if (known && digits(*val) <= cur.len) /* in place: fetched is cleared */
			spc_srv_marks_put(&st->marks, *cas, mark.marks & ~SPC_SRV_MARK_FETCHED,
					  mark.atime);
		else
			spc_srv_marks_put(&st->marks, *cas, 0, now);
	}
	return rc;
}

bool spc_srv_append_fits(struct spc_srv_store *st, const struct spc_srv_key *k, size_t vlen,
			 const struct spc_proto_limits *lim, uint64_t now)
{
	struct spc_srv_item it;
	bool fits = true;

	spc_read_lock(st->cache);
	if (spc_srv_get_rcu(st, k, now, &it) == SPC_OK)
		fits = lim->item_overhead + (it.flags ? sizeof it.flags : 0) + k->klen + it.len + vlen
		       <= lim->item_max;
	spc_read_unlock(st->cache);
	return fits;
}

/* SPC_EEXISTS when the key is live, else why not (a request whose cas can
 * never match: cas 0, or any cas under -C). */
static int cas_mismatch(struct spc_srv_store *st, const struct spc_srv_key *k)
{
	struct spc_srv_item cur;
	int rc;

	spc_read_lock(st->cache);
	rc = spc_srv_get_rcu(st, k, 0, &cur);
	spc_read_unlock(st->cache);
	return rc == SPC_OK ? SPC_EEXISTS : rc;
}

/* -M: false when `bytes` more would take the pool past the level its
 * maintainer evicts down to. */
static bool room_without_evicting(struct spc_srv_store *st, enum spc_pool_id pool, size_t bytes)
{
	struct spc_stats s;

	if (spc_stats(st->cache, pool, &s) != SPC_OK)
		return true;
	return s.charged_bytes + bytes <= s.target_bytes / 100 * st->no_evict_pct;
}

/* False when `total` bytes exceed the pool's whole target. Asked for
 * large items only (the statistics take a lock). */
static bool fits_pool(struct spc_srv_store *st, enum spc_pool_id pool, size_t total)
{
	struct spc_stats s;

	return spc_stats(st->cache, pool, &s) != SPC_OK || total <= s.target_bytes;
}

static int store(struct spc_srv_store *st, const struct spc_srv_key *k, int mode, const void *val,
		 size_t vlen, const struct spc_item *item, uint64_t *cas_out)
{
	if (k->at)
		return spc_store_at(st->cache, k->height, (enum spc_store_mode)mode, k->key, k->klen,
				    val, vlen, item, cas_out);
	return spc_store(st->cache, k->pool, (enum spc_store_mode)mode, k->key, k->klen, val, vlen,
			 item, cas_out);
}

int spc_srv_put(struct spc_srv_store *st, const struct spc_srv_key *k, int mode, const void *val,
		size_t vlen, uint32_t flags, uint64_t expiry, uint64_t cas, uint64_t now,
		uint64_t *cas_out)
{
	struct spc_item item = { flags, expiry, cas };

	(void)now;
	if (k->klen + vlen >= LARGE_ITEM && !fits_pool(st, k->pool, k->klen + vlen))
		return SPC_EFULL;
	/* No entry ever has cas 0: memcached answers EXISTS, or NOT_FOUND
	 * when the key is absent (the library refuses it as SPC_EINVAL);
	 * under -C the library refuses every other cas the same way. */
	if (mode == SPC_STORE_CAS && cas == 0)
		return cas_mismatch(st, k);
	if (st->no_evict && !room_without_evicting(st, k->pool, k->klen + vlen))
		return SPC_EFULL;
	return store(st, k, mode, val, vlen, &item, cas_out);
}

int spc_srv_arith(struct spc_srv_store *st, const struct spc_srv_key *k, bool decr, uint64_t delta,
		  uint64_t cas_expect, uint64_t now,
		  uint64_t *value_out, uint64_t *cas_out)
{
	(void)now;
	if (st->no_evict && !room_without_evicting(st, k->pool, k->klen + 24))
		return SPC_EFULL;
	return k->at ? spc_arith_at(st->cache, k->height, k->key, k->klen, decr, delta, cas_expect,
				    value_out, cas_out)
		     : spc_arith(st->cache, k->pool, k->key, k->klen, decr, delta, cas_expect,
				 value_out, cas_out);
}

int spc_srv_touch(struct spc_srv_store *st, const struct spc_srv_key *k, uint64_t expiry,
		  uint64_t now, struct spc_srv_item *out)
{
	size_t cap = 256;

	(void)now;
	if (!out)
		return k->at ? spc_touch_at(st->cache, k->height, k->key, k->klen, expiry)
			     : spc_touch(st->cache, k->pool, k->key, k->klen, expiry);
	for (;;) {
		struct spc_value v;
		char *buf = malloc(cap);
		int rc;

		if (!buf)
			return SPC_ENOMEM;
		rc = k->at ? spc_gat_at(st->cache, k->height, k->key, k->klen, expiry, buf, cap, &v)
			   : spc_gat(st->cache, k->pool, k->key, k->klen, expiry, buf, cap, &v);
		if (rc == SPC_OK) {
			item_of(&v, out);
			out->data = buf;
			return rc;
		}
		free(buf);
		if (rc != SPC_ERANGE)
			return rc;
		cap = v.len; /* the value's length: nothing was touched yet */
	}
}

int spc_srv_delete(struct spc_srv_store *st, const struct spc_srv_key *k, uint64_t cas_expect,
		   uint64_t now)
{
	(void)now;
	if (!k->at)
		return spc_delete_cas(st->cache, k->pool, k->key, k->klen, cas_expect);
	return spc_delete_at_cas(st->cache, k->height, k->key, k->klen, cas_expect);
}
