/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/view_height.c: the current view height, so that reads and writes
 * at the height an application is serving need not pass it every call
 * (docs/views.md, "The current height"; the original system's
 * set_view_height / get_view_height / clear_view_height).
 *
 * One 64-bit word per cache holds height + 1, 0 meaning "none"; so the
 * height and whether there is one change together, with one atomic store,
 * and a call reads both with one atomic load. UINT64_MAX cannot be
 * represented and is refused (no chain reaches it; the tip's "no limit"
 * is UINT64_MAX too). Every call below loads the word once and then is
 * exactly the explicit call at that height (core/view.c): the tip, the
 * sub-budgets, reorganisations apply as there.
 *
 * Guarantees (tests/integration/views/test_view_height.c):
 *  1. a call uses one height, the one current when it loaded the word;
 *     with a height that only grows, what a reader reads was stored at a
 *     height between the current heights before and after its call;
 *  2. no height set: SPC_ENOHEIGHT, and nothing read or written;
 *  3. a reorganisation leaves the current height as it is: writes above
 *     the new tip are refused (SPC_EABOVETIP), reads miss what was
 *     removed.
 */
#include "core/handle.h"

int spc_set_view_height(struct spc_cache *c, uint64_t height)
{
	if (!c || height == UINT64_MAX)
		return SPC_EINVAL;
	/* Release: a thread that acquires the new height also sees what the
	 * setter wrote before (its stores at that height). */
	__atomic_store_n(&c->view_height, height + 1, __ATOMIC_RELEASE);
	return SPC_OK;
}

int spc_clear_view_height(struct spc_cache *c)
{
	if (!c)
		return SPC_EINVAL;
	/* Release: as spc_set_view_height. */
	__atomic_store_n(&c->view_height, 0, __ATOMIC_RELEASE);
	return SPC_OK;
}

/* The current height into *h. Returns SPC_OK or SPC_ENOHEIGHT. */
static int spc_view_height_now(struct spc_cache *c, uint64_t *h)
{
	/* Acquire: pairs with the release of the setter (see there). */
	uint64_t w = __atomic_load_n(&c->view_height, __ATOMIC_ACQUIRE);

	if (w == 0)
		return SPC_ENOHEIGHT;
	*h = w - 1;
	return SPC_OK;
}

int spc_get_view_height(struct spc_cache *c, uint64_t *height)
{
	if (!c || !height)
		return SPC_EINVAL;
	return spc_view_height_now(c, height);
}

int spc_view_store(struct spc_cache *c, enum spc_store_mode mode, const void *key, size_t klen,
                   const void *val, size_t vlen, const struct spc_item *item, uint64_t *cas_out,
                   uint64_t *height_out)
{
	uint64_t h;
	int r;

	if (!c)
		return SPC_EINVAL;
	r = spc_view_height_now(c, &h);
	if (r != SPC_OK)
		return r;
	if (height_out)
		*height_out = h;
	return spc_store_at(c, h, mode, key, klen, val, vlen, item, cas_out);
}

int spc_view_set(struct spc_cache *c, const void *key, size_t klen, const void *val, size_t vlen)
{
	return spc_view_store(c, SPC_STORE_SET, key, klen, val, vlen, NULL, NULL, NULL);
}

int spc_view_get(struct spc_cache *c, const void *key, size_t klen, void *buf, size_t cap,
                 size_t *vlen)
{
	uint64_t h;
	int r;

	if (!c)
		return SPC_EINVAL;
	r = spc_view_height_now(c, &h);
	return r != SPC_OK ? r : spc_get_at(c, h, key, klen, buf, cap, vlen);
}

int spc_view_get_rcu(struct spc_cache *c, const void *key, size_t klen, struct spc_value *out)
{
	uint64_t h;
	int r;

	if (!c)
		return SPC_EINVAL;
	r = spc_view_height_now(c, &h);
	return r != SPC_OK ? r : spc_get_at_rcu(c, h, key, klen, out);
}

int spc_view_delete(struct spc_cache *c, const void *key, size_t klen)
{
	uint64_t h;
	int r;

	if (!c)
		return SPC_EINVAL;
	r = spc_view_height_now(c, &h);
	return r != SPC_OK ? r : spc_delete_at(c, h, key, klen);
}
