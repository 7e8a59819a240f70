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
 * stores, lookups and deletes in the library (spc_store_at, spc_get_at_rcu,
 * spc_delete_at_cas) but no incr or touch. Those are emulated here as read-modify-write loops: read the entry (value, flags,
 * cas, expiry), compute the new one, publish it with spc_store_at in
 * SPC_STORE_CAS mode against the cas read, and start again when another
 * writer got there first (at most SPC_SRV_RMW_TRIES times, then EEXISTS
 * as memcached answers a lost cas race). The one difference from the
 * plain commands: touch of a (height, key) entry gives it a new cas.
 *
 * Guarantees (tests/service):
 *  1. A command on a plain entry is exactly the library call's semantics.
 *  2. An emulated command publishes only over the entry it read (cas).
 *  3. An item larger than its pool's whole target is refused with
 *     SPC_EFULL before the cache is asked, so the pool's maintainer does
 *     not evict everything else while the writer waits for room it can
 *     never have.
 */
#include "service/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Items from this size on are checked against their pool's target. */
#define LARGE_ITEM (64u * 1024)
/* Longest decimal number incr/decr accepts and writes (2^64 - 1). */
#define ARITH_DIGITS 20

int spc_srv_store_init(struct spc_srv_store *st, struct spc_cache *cache)
{
	st->cache = cache;
	return SPC_OK;
}

void spc_srv_store_fini(struct spc_srv_store *st)
{
	st->cache = NULL;
}

uint64_t spc_srv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (uint64_t)ts.tv_sec;
}

void spc_srv_ns_of(enum spc_pool_id pool, const char **key, size_t *klen, struct spc_srv_ns *ns)
{
	const char *k = *key;
	size_t n = *klen, i;
	uint64_t h = 0;

	ns->pool = pool;
	ns->at = false;
	ns->height = 0;
	if (pool != SPC_POOL_VIEW || n < 3 || k[0] != '@')
		return;
	for (i = 1; i < n && k[i] >= '0' && k[i] <= '9'; i++) {
		unsigned d = (unsigned)(k[i] - '0');

		if (i > ARITH_DIGITS || h > (UINT64_MAX - d) / 10)
			return;
		h = h * 10 + d;
	}
	if (i == 1 || i + 1 >= n || k[i] != '/')
		return;
	ns->at = true;
	ns->height = h;
	*key = k + i + 1;
	*klen = n - i - 1;
}

static void item_of(const struct spc_value *v, struct spc_srv_item *out)
{
	out->data = v->data;
	out->len = v->len;
	out->flags = v->flags;
	out->cas = v->cas;
	out->expiry = v->expiry;
}

int spc_srv_get_rcu(struct spc_srv_store *st, const struct spc_srv_ns *ns, const char *key,
		    size_t klen, uint64_t now, struct spc_srv_item *out)
{
	struct spc_value v;
	int rc;

	(void)now; /* the library tests expiry on its own clock */
	rc = ns->at ? spc_get_at_rcu(st->cache, ns->height, key, klen, &v)
		    : spc_get_rcu(st->cache, ns->pool, key, klen, &v);
	if (rc == SPC_OK)
		item_of(&v, out);
	return rc;
}

/* A copy of the live entry: *out, its data in a malloc'd buffer (freed by
 * the caller). Returns SPC_OK, SPC_ENOTFOUND, SPC_ENOMEM. */
static int copy_item(struct spc_srv_store *st, const struct spc_srv_ns *ns, const char *key,
		     size_t klen, struct spc_srv_item *out)
{
	struct spc_srv_item it;
	char *buf = NULL;
	int rc;

	spc_read_lock(st->cache);
	rc = spc_srv_get_rcu(st, ns, key, klen, 0, &it);
	if (rc == SPC_OK) {
		buf = malloc(it.len ? it.len : 1);
		if (buf) {
			memcpy(buf, it.data, it.len);
			*out = it;
			out->data = buf;
		} else {
			rc = SPC_ENOMEM;
		}
	}
	spc_read_unlock(st->cache);
	return rc;
}

/* False when `total` bytes exceed the pool's whole target. Asked for
 * large items only (the statistics take a lock). */
static bool fits_pool(struct spc_srv_store *st, enum spc_pool_id pool, size_t total)
{
	struct spc_stats s;

	return spc_stats(st->cache, pool, &s) != SPC_OK || total <= s.target_bytes;
}

static int store(struct spc_srv_store *st, const struct spc_srv_ns *ns, int mode, const char *key,
		 size_t klen, const void *val, size_t vlen, const struct spc_item *item,
		 uint64_t *cas_out)
{
	if (ns->at)
		return spc_store_at(st->cache, ns->height, (enum spc_store_mode)mode, key, klen, val,
				    vlen, item, cas_out);
	return spc_store(st->cache, ns->pool, (enum spc_store_mode)mode, key, klen, val, vlen, item,
			 cas_out);
}

int spc_srv_put(struct spc_srv_store *st, const struct spc_srv_ns *ns, int mode, const char *key,
		size_t klen, const void *val, size_t vlen, uint32_t flags, uint64_t expiry,
		uint64_t cas, uint64_t now, uint64_t *cas_out)
{
	struct spc_item item = { flags, expiry, cas };
	struct spc_srv_item cur;

	(void)now;
	if (klen + vlen >= LARGE_ITEM && !fits_pool(st, ns->pool, klen + vlen))
		return SPC_EFULL;
	if (mode == SPC_STORE_CAS && cas == 0) {
		/* No entry ever has cas 0: memcached answers EXISTS, or
		 * NOT_FOUND when the key is absent. */
		int rc;

		spc_read_lock(st->cache);
		rc = spc_srv_get_rcu(st, ns, key, klen, 0, &cur);
		spc_read_unlock(st->cache);
		return rc == SPC_OK ? SPC_EEXISTS : rc;
	}
	return store(st, ns, mode, key, klen, val, vlen, &item, cas_out);
}

/* The library's incr/decr input rule: 1..20 digits fitting 64 bits, then
 * only spaces. */
static bool parse_number(const char *p, size_t n, uint64_t *out)
{
	size_t i;
	uint64_t v = 0;

	for (i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		unsigned d = (unsigned)(p[i] - '0');

		if (i >= ARITH_DIGITS || v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (i == 0)
		return false;
	for (; i < n; i++)
		if (p[i] != ' ')
			return false;
	*out = v;
	return true;
}

/* Emulated incr/decr of a (height, key) entry. */
static int arith_at(struct spc_srv_store *st, const struct spc_srv_ns *ns, const char *key,
		    size_t klen, bool decr, uint64_t delta, uint64_t cas_expect,
		    uint64_t *value_out, uint64_t *cas_out)
{
	char num[ARITH_DIGITS + 1];
	unsigned tries;

	for (tries = 0; tries < SPC_SRV_RMW_TRIES; tries++) {
		struct spc_srv_item cur;
		struct spc_item item;
		uint64_t v;
		size_t n = 0;
		int rc = copy_item(st, ns, key, klen, &cur);

		if (rc != SPC_OK)
			return rc;
		if (cas_expect && cur.cas != cas_expect)
			rc = SPC_EEXISTS;
		else if (!parse_number(cur.data, cur.len, &v))
			rc = SPC_ENOTNUM;
		free((void *)cur.data);
		if (rc != SPC_OK)
			return rc;
		v = decr ? (v < delta ? 0 : v - delta) : v + delta; /* incr wraps at 2^64 */
		do {
			num[ARITH_DIGITS - n++] = (char)('0' + v % 10);
			v /= 10;
		} while (v);
		item = (struct spc_item){ cur.flags, cur.expiry, cur.cas };
		rc = spc_store_at(st->cache, ns->height, SPC_STORE_CAS, key, klen,
				  num + ARITH_DIGITS + 1 - n, n, &item, cas_out);
		if (rc == SPC_EEXISTS)
			continue; /* another writer came first: read again */
		if (rc == SPC_OK && value_out)
			parse_number(num + ARITH_DIGITS + 1 - n, n, value_out);
		return rc;
	}
	return SPC_EEXISTS;
}

int spc_srv_arith(struct spc_srv_store *st, const struct spc_srv_ns *ns, const char *key,
		  size_t klen, bool decr, uint64_t delta, uint64_t cas_expect, uint64_t now,
		  uint64_t *value_out, uint64_t *cas_out)
{
	(void)now;
	if (ns->at)
		return arith_at(st, ns, key, klen, decr, delta, cas_expect, value_out, cas_out);
	return spc_arith(st->cache, ns->pool, key, klen, decr, delta, cas_expect, value_out, cas_out);
}

/* Emulated touch of a (height, key) entry; *out as spc_srv_touch. */
static int touch_at(struct spc_srv_store *st, const struct spc_srv_ns *ns, const char *key,
		    size_t klen, uint64_t expiry, struct spc_srv_item *out)
{
	unsigned tries;

	for (tries = 0; tries < SPC_SRV_RMW_TRIES; tries++) {
		struct spc_srv_item cur;
		struct spc_item item;
		int rc = copy_item(st, ns, key, klen, &cur);

		if (rc != SPC_OK)
			return rc;
		item = (struct spc_item){ cur.flags, expiry, cur.cas };
		rc = spc_store_at(st->cache, ns->height, SPC_STORE_CAS, key, klen, cur.data, cur.len,
				  &item, &cur.cas);
		if (rc == SPC_OK && out) {
			cur.expiry = expiry;
			*out = cur;
			return rc;
		}
		free((void *)cur.data);
		if (rc != SPC_EEXISTS)
			return rc;
	}
	return SPC_EEXISTS;
}

int spc_srv_touch(struct spc_srv_store *st, const struct spc_srv_ns *ns, const char *key,
		  size_t klen, uint64_t expiry, uint64_t now, struct spc_srv_item *out)
{
	size_t cap = 256;

	(void)now;
	if (ns->at)
		return touch_at(st, ns, key, klen, expiry, out);
	if (!out)
		return spc_touch(st->cache, ns->pool, key, klen, expiry);
	for (;;) {
		struct spc_value v;
		char *buf = malloc(cap);
		int rc;

		if (!buf)
			return SPC_ENOMEM;
		rc = spc_gat(st->cache, ns->pool, key, klen, expiry, buf, cap, &v);
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

int spc_srv_delete(struct spc_srv_store *st, const struct spc_srv_ns *ns, const char *key,
		   size_t klen, uint64_t cas_expect, uint64_t now)
{
	(void)now;
	if (!ns->at)
		return spc_delete_cas(st->cache, ns->pool, key, klen, cas_expect);
	return spc_delete_at_cas(st->cache, ns->height, key, klen, cas_expect);
}
