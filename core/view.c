/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/view.c: the view pool's namespaces: height-partitioned entries
 * (height, key) and named API entries (docs/views.md).
 *
 * Both live in the view pool's one index, budget and policy, next to its
 * plain entries. A namespace is part of the key (struct spc_key: the
 * namespace and the height go into the hash seed and into spc_match), so
 * the same key bytes as a plain entry, at two heights or as an API name
 * are distinct entries. Stores, lookups and deletes are the core's
 * (spc_store_key, spc_lookup_key_rcu, spc_delete_key): the calls here only
 * build the key and add the tip rules.
 *
 * Guarantees (tests/integration/cache/test_views.c):
 *  1. the namespaces are isolated from each other, from plain view
 *     entries and from the index pool; their charges go to the view pool;
 *  2. lookups are the core's read path: lock-free, never allocate.
 */
#include "core/cache.h"

#include <string.h>

/* The longest API name, without its NUL (a key is at most SPC_KEY_MAX). */
#define SPC_API_NAME_MAX SPC_KEY_MAX

static int spc_view_key_ok(const struct spc_cache *c, const void *key, size_t klen)
{
	return c && key && klen > 0 && klen <= SPC_KEY_MAX;
}

/* The key of an API name: its bytes without the NUL. Returns SPC_OK or
 * SPC_EINVAL (NULL, empty, or no NUL within SPC_API_NAME_MAX bytes). */
static int spc_api_key(const char *name, struct spc_key *k)
{
	size_t n;

	if (!name)
		return SPC_EINVAL;
	n = strnlen(name, SPC_API_NAME_MAX + 1);
	if (n == 0 || n > SPC_API_NAME_MAX)
		return SPC_EINVAL;
	*k = (struct spc_key){ name, n, SPC_NS_API, 0 };
	return SPC_OK;
}

/* Copy-out lookup of any namespaced key in the view pool, as spc_get. */
static int spc_view_get(struct spc_cache *c, const struct spc_key *k, void *buf, size_t cap,
                        size_t *vlen)
{
	struct spc_entry *e;
	int r = SPC_OK;

	if (!vlen || (!buf && cap > 0))
		return SPC_EINVAL;
	spc_rcu_read_lock();
	e = spc_lookup_key_rcu(c, SPC_POOL_VIEW, k);
	if (!e) {
		r = SPC_ENOTFOUND;
	} else {
		(void)spc_entry_acquire(e);
		*vlen = e->vlen;
		if (cap < e->vlen)
			r = SPC_ERANGE;
		else if (e->vlen)
			memcpy(buf, spc_entry_value(e), e->vlen);
	}
	spc_rcu_read_unlock();
	return r;
}

/* ---- height-partitioned entries ----------------------------------------- */

int spc_store_at(struct spc_cache *c, uint64_t height, enum spc_store_mode mode, const void *key,
                 size_t klen, const void *val, size_t vlen, const struct spc_item *item,
                 uint64_t *cas_out)
{
	struct spc_key k = { key, klen, SPC_NS_HEIGHT, height };

	/* klen above SPC_KEY_MAX is the core's SPC_ETOOBIG. */
	if (!c || !key || klen == 0 || (!val && vlen > 0))
		return SPC_EINVAL;
	return spc_store_key(c, SPC_POOL_VIEW, &k, mode, val, vlen, item, cas_out);
}

int spc_set_at(struct spc_cache *c, uint64_t height, const void *key, size_t klen,
               const void *val, size_t vlen)
{
	return spc_store_at(c, height, SPC_STORE_SET, key, klen, val, vlen, NULL, NULL);
}

int spc_get_at(struct spc_cache *c, uint64_t height, const void *key, size_t klen, void *buf,
               size_t cap, size_t *vlen)
{
	struct spc_key k = { key, klen, SPC_NS_HEIGHT, height };

	if (!spc_view_key_ok(c, key, klen))
		return SPC_EINVAL;
	return spc_view_get(c, &k, buf, cap, vlen);
}

int spc_get_at_rcu(struct spc_cache *c, uint64_t height, const void *key, size_t klen,
                   struct spc_value *out)
{
	struct spc_key k = { key, klen, SPC_NS_HEIGHT, height };
	struct spc_entry *e;

	if (!spc_view_key_ok(c, key, klen) || !out)
		return SPC_EINVAL;
	e = spc_lookup_key_rcu(c, SPC_POOL_VIEW, &k);
	if (!e)
		return SPC_ENOTFOUND;
	out->cas = spc_entry_acquire(e);
	out->data = spc_entry_value(e);
	out->len = e->vlen;
	out->flags = spc_entry_flags(e);
	out->expiry = spc_entry_expiry(e);
	return SPC_OK;
}

int spc_delete_at(struct spc_cache *c, uint64_t height, const void *key, size_t klen)
{
	struct spc_key k = { key, klen, SPC_NS_HEIGHT, height };

	if (!spc_view_key_ok(c, key, klen))
		return SPC_EINVAL;
	return spc_delete_key(c, SPC_POOL_VIEW, &k);
}

/* ---- named API entries ---------------------------------------------------- */

int spc_api_set(struct spc_cache *c, const char *name, const void *val, size_t vlen)
{
	struct spc_key k;

	if (!c || spc_api_key(name, &k) != SPC_OK)
		return SPC_EINVAL;
	return spc_store_key(c, SPC_POOL_VIEW, &k, SPC_STORE_SET, val, vlen, NULL, NULL);
}

int spc_api_get(struct spc_cache *c, const char *name, void *buf, size_t cap, size_t *vlen)
{
	struct spc_key k;

	if (!c || spc_api_key(name, &k) != SPC_OK)
		return SPC_EINVAL;
	return spc_view_get(c, &k, buf, cap, vlen);
}

int spc_api_delete(struct spc_cache *c, const char *name)
{
	struct spc_key k;

	if (!c || spc_api_key(name, &k) != SPC_OK)
		return SPC_EINVAL;
	return spc_delete_key(c, SPC_POOL_VIEW, &k);
}
