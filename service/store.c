/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/store.c: memcached items over the cache's plain entries.
 *
 * The cache stores opaque values. splitcached keeps an item's metadata in
 * a 16-byte header in front of the value it stores:
 *
 *     0  uint32_t flags    client flags
 *     4  uint32_t expiry   absolute unix time, 0: never (fits until 2106)
 *     8  uint64_t cas      unique per store, from a process-wide counter
 *    16  value bytes
 *
 * Readers stay lock-free: a get is spc_get_rcu() plus a look at the header
 * inside the caller's read section. Writers of one key take one of
 * SPC_SRV_STRIPES mutexes chosen by the key's hash, so that read-modify-
 * write commands (cas, append, prepend, incr, decr, touch, delete with a
 * cas) are atomic against every other write made through this layer:
 * within one stripe, "read the current item, decide, store" cannot
 * interleave with another store of the same key. Plain sets take the lock
 * too, or a cas could succeed against a value a concurrent set replaced.
 *
 * Height-partitioned view entries ((height, key), docs/service.md) are
 * stored under the key "@<height>/<key>" of the view pool, the bytes the
 * client sent, so they are isolated from every other plain key.
 *
 * Guarantees (tests/service):
 *  1. A cas stored by any command is unique (atomic counter) and changes
 *     on every store, append, incr and decr; touch keeps it.
 *  2. An item whose expiry is <= now is a miss for every command.
 *  3. Every error leaves the cache as it was; an item larger than its
 *     pool's whole target is refused with SPC_EFULL before the cache is
 *     asked, so it evicts nothing.
 */
#include "service/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longest rendered "@<height>/" prefix: '@', 20 digits, '/'. */
#define NS_PREFIX_MAX 22
/* Longest decimal number incr/decr produces (2^64 - 1). */
#define ARITH_DIGITS 20
/* Items from this size on are checked against their pool's target. */
#define LARGE_ITEM (64u * 1024)

int spc_srv_store_init(struct spc_srv_store *st, struct spc_cache *cache)
{
	unsigned i;

	st->cache = cache;
	st->cas_next = 0;
	for (i = 0; i < SPC_SRV_STRIPES; i++) {
		if (pthread_mutex_init(&st->stripes[i], NULL) != 0) {
			while (i--)
				pthread_mutex_destroy(&st->stripes[i]);
			return SPC_ESYS;
		}
	}
	return SPC_OK;
}

void spc_srv_store_fini(struct spc_srv_store *st)
{
	unsigned i;

	for (i = 0; i < SPC_SRV_STRIPES; i++)
		pthread_mutex_destroy(&st->stripes[i]);
}

uint64_t spc_srv_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
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

/* The cache key of (ns, key): the key itself, or "@<height>/<key>" in buf
 * (room for NS_PREFIX_MAX + klen bytes). */
static const char *raw_key(const struct spc_srv_ns *ns, const char *key, size_t klen, char *buf,
			   size_t *rlen)
{
	int n;

	if (!ns->at) {
		*rlen = klen;
		return key;
	}
	n = snprintf(buf, NS_PREFIX_MAX + 1, "@%llu/", (unsigned long long)ns->height);
	memcpy(buf + n, key, klen);
	*rlen = (size_t)n + klen;
	return buf;
}

static pthread_mutex_t *stripe(struct spc_srv_store *st, const char *key, size_t klen)
{
	uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a offset basis */
	size_t i;

	for (i = 0; i < klen; i++)
		h = (h ^ (unsigned char)key[i]) * UINT64_C(1099511628211);
	return &st->stripes[h % SPC_SRV_STRIPES];
}

static void lock(pthread_mutex_t *m)
{
	if (pthread_mutex_lock(m) != 0)
		abort(); /* a failed pthread call on a valid mutex: broken invariant */
}

static void unlock(pthread_mutex_t *m)
{
	if (pthread_mutex_unlock(m) != 0)
		abort();
}

static uint64_t next_cas(struct spc_srv_store *st)
{
	/* Relaxed: only uniqueness matters; the store that publishes the cas
	 * orders it for readers. */
	return __atomic_add_fetch(&st->cas_next, 1, __ATOMIC_RELAXED);
}

/* Decodes a stored value; false when it is too short to be an item. */
static bool decode(const void *raw, size_t len, struct spc_srv_item *out)
{
	const char *p = raw;
	uint32_t expiry;

	if (len < SPC_SRV_ITEM_HEADER)
		return false;
	memcpy(&out->flags, p, sizeof out->flags);
	memcpy(&expiry, p + 4, sizeof expiry);
	memcpy(&out->cas, p + 8, sizeof out->cas);
	out->expiry = expiry;
	out->data = p + SPC_SRV_ITEM_HEADER;
	out->len = len - SPC_SRV_ITEM_HEADER;
	return true;
}

static bool live(const struct spc_srv_item *it, uint64_t now)
{
	return it->expiry == 0 || it->expiry > now;
}

int spc_srv_get_rcu(struct spc_srv_store *st, const struct spc_srv_ns *ns, const char *key,
		    size_t klen, uint64_t now, struct spc_srv_item *out)
{
	char buf[NS_PREFIX_MAX + 256];
	struct spc_value v;
	size_t rlen;
	const char *rk;
	int rc;

	if (klen > sizeof buf - NS_PREFIX_MAX)
		return SPC_EINVAL;
	rk = raw_key(ns, key, klen, buf, &rlen);
	rc = spc_get_rcu(st->cache, ns->pool, rk, rlen, &v);
	if (rc != SPC_OK)
		return rc;
	if (!decode(v.data, v.len, out) || !live(out, now))
		return SPC_ENOTFOUND;
	return SPC_OK;
}

/* Copies the live item (key already raw) into a malloc'd buffer holding
 * the header too: *raw, *rawlen, *it (it->data points into *raw).
 * Returns SPC_OK, SPC_ENOTFOUND, SPC_ENOMEM. Caller holds the stripe. */
static int fetch_locked(struct spc_srv_store *st, enum spc_pool_id pool, const char *rk,
			size_t rlen, uint64_t now, char **raw, struct spc_srv_item *it)
{
	struct spc_value v;
	char *copy = NULL;
	int rc;

	spc_read_lock(st->cache);
	rc = spc_get_rcu(st->cache, pool, rk, rlen, &v);
	if (rc == SPC_OK) {
		copy = malloc(v.len ? v.len : 1);
		if (!copy)
			rc = SPC_ENOMEM;
		else
			memcpy(copy, v.data, v.len);
	}
	spc_read_unlock(st->cache);
	if (rc != SPC_OK)
		return rc;
	if (!decode(copy, v.len, it) || !live(it, now)) {
		free(copy);
		return SPC_ENOTFOUND;
	}
	*raw = copy;
	return SPC_OK;
}

/* False when `total` bytes exceed the pool's whole target: such an item
 * can never be stored, and asking the cache would only make its
 * maintainer evict the pool's other entries first while it waits. Only
 * asked for large items (the statistics take a lock). */
static bool fits_pool(struct spc_srv_store *st, enum spc_pool_id pool, size_t total)
{
	struct spc_stats s;

	return spc_stats(st->cache, pool, &s) != SPC_OK || total <= s.target_bytes;
}

/* Stores header + a + b (either may be empty) under the raw key. */
static int write_locked(struct spc_srv_store *st, enum spc_pool_id pool, const char *rk,
			size_t rlen, uint32_t flags, uint64_t expiry, const void *a, size_t alen,
			const void *b, size_t blen, bool add_only, uint64_t *cas_out)
{
	uint32_t exp32 = expiry > UINT32_MAX ? UINT32_MAX : (uint32_t)expiry;
	size_t total = SPC_SRV_ITEM_HEADER + alen + blen;
	uint64_t cas = next_cas(st);
	char *buf;
	int rc;

	if (alen + blen > SIZE_MAX - SPC_SRV_ITEM_HEADER)
		return SPC_ETOOBIG;
	if (total >= LARGE_ITEM && !fits_pool(st, pool, total))
		return SPC_EFULL;
	buf = malloc(total);
	if (!buf)
		return SPC_ENOMEM;
	memcpy(buf, &flags, sizeof flags);
	memcpy(buf + 4, &exp32, sizeof exp32);
	memcpy(buf + 8, &cas, sizeof cas);
	if (alen)
		memcpy(buf + SPC_SRV_ITEM_HEADER, a, alen);
	if (blen)
		memcpy(buf + SPC_SRV_ITEM_HEADER + alen, b, blen);
	rc = add_only ? spc_add(st->cache, pool, rk, rlen, buf, total)
		      : spc_set(st->cache, pool, rk, rlen, buf, total);
	free(buf);
	if (rc == SPC_OK && cas_out)
		*cas_out = cas;
	return rc;
}

int spc_srv_put(struct spc_srv_store *st, const struct spc_srv_ns *ns, int mode, const char *key,
		size_t klen, const void *val, size_t vlen, uint32_t flags, uint64_t expiry,
		uint64_t cas, uint64_t now, uint64_t *cas_out)
{
	char kbuf[NS_PREFIX_MAX + 256];
	struct spc_srv_item cur;
	pthread_mutex_t *m;
	char *old = NULL;
	const char *rk;
	size_t rlen;
	int rc;

	if (klen > sizeof kbuf - NS_PREFIX_MAX)
		return SPC_EINVAL;
	rk = raw_key(ns, key, klen, kbuf, &rlen);
	m = stripe(st, rk, rlen);
	lock(m);
	rc = fetch_locked(st, ns->pool, rk, rlen, now, &old, &cur);
	if (rc != SPC_OK && rc != SPC_ENOTFOUND)
		goto out;
	switch (mode) {
	case SPC_STORE_SET:
		rc = write_locked(st, ns->pool, rk, rlen, flags, expiry, val, vlen, NULL, 0, false,
				  cas_out);
		break;
	case SPC_STORE_ADD:
		if (rc == SPC_OK) {
			rc = SPC_EEXISTS;
			break;
		}
		/* An expired item still sits in the cache: replace it. */
		rc = write_locked(st, ns->pool, rk, rlen, flags, expiry, val, vlen, NULL, 0, false,
				  cas_out);
		break;
	case SPC_STORE_REPLACE:
	case SPC_STORE_CAS:
		if (rc != SPC_OK)
			break;
		if (mode == SPC_STORE_CAS && cur.cas != cas) {
			rc = SPC_EEXISTS;
			break;
		}
		rc = write_locked(st, ns->pool, rk, rlen, flags, expiry, val, vlen, NULL, 0, false,
				  cas_out);
		break;
	case SPC_STORE_APPEND:
	case SPC_STORE_PREPEND:
		if (rc != SPC_OK)
			break;
		if (cas && cur.cas != cas) {
			rc = SPC_EEXISTS;
			break;
		}
		if (mode == SPC_STORE_APPEND)
			rc = write_locked(st, ns->pool, rk, rlen, cur.flags, cur.expiry, cur.data,
					  cur.len, val, vlen, false, cas_out);
		else
			rc = write_locked(st, ns->pool, rk, rlen, cur.flags, cur.expiry, val, vlen,
					  cur.data, cur.len, false, cas_out);
		break;
	default:
		rc = SPC_EINVAL;
	}
out:
	unlock(m);
	free(old);
	return rc;
}

/* memcached's safe_strtoull over an item's value: leading spaces, digits,
 * then the end or a space; overflow and a negative number fail. */
static bool parse_number(const char *p, size_t n, uint64_t *out)
{
	size_t i = 0;
	uint64_t v = 0;
	bool digits = false;

	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	if (i < n && p[i] == '+')
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		unsigned d = (unsigned)(p[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
		digits = true;
	}
	if (i < n && p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
		return false;
	if (!digits && n > 0 && i < n)
		return false;
	*out = v;
	return true;
}

int spc_srv_arith(struct spc_srv_store *st, const struct spc_srv_ns *ns, const char *key,
		  size_t klen, bool decr, uint64_t delta, uint64_t cas_expect, uint64_t now,
		  uint64_t *value_out, uint64_t *cas_out)
{
	char kbuf[NS_PREFIX_MAX + 256], num[ARITH_DIGITS + 1];
	struct spc_srv_item cur;
	pthread_mutex_t *m;
	char *old = NULL, *val = num;
	const char *rk;
	size_t rlen, nlen;
	uint64_t v;
	int rc;

	if (klen > sizeof kbuf - NS_PREFIX_MAX)
		return SPC_EINVAL;
	rk = raw_key(ns, key, klen, kbuf, &rlen);
	m = stripe(st, rk, rlen);
	lock(m);
	rc = fetch_locked(st, ns->pool, rk, rlen, now, &old, &cur);
	if (rc != SPC_OK)
		goto out;
	if (cas_expect && cur.cas != cas_expect) {
		rc = SPC_EEXISTS;
		goto out;
	}
	if (!parse_number(cur.data, cur.len, &v)) {
		rc = SPC_ENOTNUM;
		goto out;
	}
	if (decr)
		v = v < delta ? 0 : v - delta;
	else
		v += delta; /* wraps at 2^64, as memcached */
	nlen = (size_t)snprintf(num, sizeof num, "%llu", (unsigned long long)v);
	if (nlen < cur.len) {
		/* memcached rewrites a longer value in place and pads it with
		 * spaces; the old buffer holds room for that. */
		val = old + SPC_SRV_ITEM_HEADER;
		memcpy(val, num, nlen);
		memset(val + nlen, ' ', cur.len - nlen);
		nlen = cur.len;
	}
	rc = write_locked(st, ns->pool, rk, rlen, cur.flags, cur.expiry, val, nlen, NULL, 0, false,
			  cas_out);
	if (rc == SPC_OK && value_out)
		*value_out = v;
out:
	unlock(m);
	free(old);
	return rc;
}

int spc_srv_touch(struct spc_srv_store *st, const struct spc_srv_ns *ns, const char *key,
		  size_t klen, uint64_t expiry, uint64_t now, struct spc_srv_item *out)
{
	char kbuf[NS_PREFIX_MAX + 256];
	uint32_t exp32 = expiry > UINT32_MAX ? UINT32_MAX : (uint32_t)expiry;
	struct spc_srv_item cur;
	pthread_mutex_t *m;
	char *old = NULL;
	const char *rk;
	size_t rlen, total;
	int rc;

	if (klen > sizeof kbuf - NS_PREFIX_MAX)
		return SPC_EINVAL;
	rk = raw_key(ns, key, klen, kbuf, &rlen);
	m = stripe(st, rk, rlen);
	lock(m);
	rc = fetch_locked(st, ns->pool, rk, rlen, now, &old, &cur);
	if (rc != SPC_OK)
		goto out;
	total = SPC_SRV_ITEM_HEADER + cur.len;
	memcpy(old + 4, &exp32, sizeof exp32); /* same flags, cas and value */
	rc = spc_set(st->cache, ns->pool, rk, rlen, old, total);
	if (rc == SPC_OK && out) {
		*out = cur;
		out->expiry = exp32;
		memmove(old, old + SPC_SRV_ITEM_HEADER, cur.len);
		out->data = old;
		old = NULL; /* handed to the caller */
	}
out:
	unlock(m);
	free(old);
	return rc;
}

int spc_srv_delete(struct spc_srv_store *st, const struct spc_srv_ns *ns, const char *key,
		   size_t klen, uint64_t cas_expect, uint64_t now)
{
	char kbuf[NS_PREFIX_MAX + 256];
	struct spc_srv_item cur;
	pthread_mutex_t *m;
	char *old = NULL;
	const char *rk;
	size_t rlen;
	int rc;

	if (klen > sizeof kbuf - NS_PREFIX_MAX)
		return SPC_EINVAL;
	rk = raw_key(ns, key, klen, kbuf, &rlen);
	m = stripe(st, rk, rlen);
	lock(m);
	rc = fetch_locked(st, ns->pool, rk, rlen, now, &old, &cur);
	if (rc == SPC_OK && cas_expect && cur.cas != cas_expect)
		rc = SPC_EEXISTS;
	if (rc == SPC_OK)
		rc = spc_delete(st->cache, ns->pool, rk, rlen);
	unlock(m);
	free(old);
	return rc;
}
