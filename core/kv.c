/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/kv.c: the key-value engine: the reads, stores and deletes of every
 * namespace (plain, height, API; struct spc_key says which). The public
 * calls are thin wrappers: the plain namespace's in core/cache.c, the
 * view namespaces' in core/view.c, the item calls in core/item.c.
 *
 * A read is the inline read path (core/kv.h: hash, lookup, touch, count)
 * and a copy out in one read section. A store of any mode is a plan for
 * the write engine (core/edit.c): what the mode requires of the live
 * entry (add: none; replace, cas, append, prepend: one, cas: the same
 * cas) and the new entry it makes; a set needs no lookup at all, and
 * every mode whose new entry does not depend on the old one allocates
 * before the first lookup. The write's steps, and why their order keeps
 * every error free of side effects, are core/cache.c's essay. A delete
 * looks the key up and takes out the entry it found, by identity, in one
 * read section, and retries while another write got there first.
 *
 * Guarantees (tests/integration/cache, tests/fault/core):
 *  1. every store mode answers as memcached's does (SPC_EEXISTS,
 *     SPC_ENOTFOUND, SPC_ETOOBIG for an append past max_item_bytes) and
 *     leaves the cache unchanged when it refuses;
 *  2. a delete removes exactly the entry it found live; an expired one
 *     is removed too, counted as an expiration, and answered
 *     SPC_ENOTFOUND;
 *  3. a read never allocates and never blocks.
 */
#include "core/kv.h"

#include <string.h>

#include "core/edit.h"
#include "core/maint.h"
#include "core/room.h"

int spc_get_key_rcu(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k,
                    struct spc_value *out)
{
	return spc_get_key_rcu_inl(c, pool, k, out, 0);
}

int spc_get_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k, void *buf,
                size_t cap, size_t *vlen)
{
	return spc_get_key_inl(c, pool, k, buf, cap, vlen, 0);
}

int spc_get_plain(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen,
                  void *buf, size_t cap, size_t *vlen)
{
	struct spc_key k = { key, klen, SPC_NS_PLAIN, 0 };

	return spc_get_key_inl(c, pool, &k, buf, cap, vlen, 1);
}

int spc_cas_refused(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k)
{
	uint64_t hash = spc_key_hash(c, k);
	struct spc_entry *e;
	int live;

	spc_rcu_ensure();
	spc_rcu_read_lock();
	e = spc_kv_lookup_rcu(&c->ps[pool], hash, k);
	live = e && (spc_entry_acquire(e), !spc_entry_expired(c, e));
	spc_rcu_read_unlock();
	return live ? SPC_EEXISTS : SPC_ENOTFOUND;
}

/* ---- writes ---------------------------------------------------------------- */

/* A store's arguments, as its plan sees them. */
struct spc_store_arg {
	enum spc_store_mode mode;
	const void *val;
	size_t vlen;
	uint32_t flags;
	uint64_t expiry;
	uint64_t cas;
	uint32_t max_item;
};

/* The plan of every store mode (core/edit.h): what the mode requires of
 * the live entry old (NULL: absent or expired), and the new entry. */
static int spc_store_plan(void *arg, struct spc_entry *old, struct spc_edit *ed)
{
	const struct spc_store_arg *s = arg;

	switch (s->mode) {
	case SPC_STORE_SET: break;
	case SPC_STORE_ADD:
		if (old)
			return SPC_EEXISTS;
		break;
	case SPC_STORE_REPLACE:
		if (!old)
			return SPC_ENOTFOUND;
		break;
	case SPC_STORE_CAS:
		if (!old)
			return SPC_ENOTFOUND;
		if (spc_entry_cas(old) != s->cas)
			return SPC_EEXISTS;
		break;
	case SPC_STORE_APPEND:
	case SPC_STORE_PREPEND:
		if (!old)
			return SPC_ENOTFOUND;
		if (s->cas && spc_entry_cas(old) != s->cas)
			return SPC_EEXISTS;
		if ((uint64_t)old->vlen + s->vlen > s->max_item)
			return SPC_ETOOBIG;
		ed->vlen = old->vlen + s->vlen;
		ed->flags = spc_entry_flags(old);
		ed->expiry = spc_entry_expiry(old);
		ed->carry = 1;
		ed->is_store = 1;
		return SPC_OK;
	}
	ed->vlen = s->vlen;
	ed->flags = s->flags;
	ed->expiry = s->expiry;
	ed->is_store = 1;
	return SPC_OK;
}

/* memcpy that takes (NULL, 0): val may be NULL when vlen is 0. */
static void spc_copy(unsigned char *to, const void *from, size_t n)
{
	if (n)
		memcpy(to, from, n);
}

static void spc_store_fill(void *arg, const struct spc_entry *old, unsigned char *value)
{
	const struct spc_store_arg *s = arg;

	if (s->mode == SPC_STORE_APPEND) {
		spc_copy(value, spc_entry_value(old), old->vlen);
		spc_copy(value + old->vlen, s->val, s->vlen);
	} else if (s->mode == SPC_STORE_PREPEND) {
		spc_copy(value, s->val, s->vlen);
		spc_copy(value + s->vlen, spc_entry_value(old), old->vlen);
	} else {
		spc_copy(value, s->val, s->vlen);
	}
}

int spc_store_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k,
                  enum spc_store_mode mode, const void *val, size_t vlen,
                  const struct spc_item *item, uint64_t *cas_out)
{
	struct spc_store_arg s = { mode, val, vlen, 0, 0, 0, 0 };
	int derived = mode == SPC_STORE_APPEND || mode == SPC_STORE_PREPEND;

	if (!c || !spc_pool_ok(pool) || !k || !k->key || k->klen == 0 || (!val && vlen > 0))
		return SPC_EINVAL;
	if ((unsigned)mode > SPC_STORE_PREPEND ||
	    (mode == SPC_STORE_CAS && (!item || item->cas == 0)))
		return SPC_EINVAL;
	if (k->klen > SPC_KEY_MAX || vlen > c->cfg.max_item_bytes)
		return SPC_ETOOBIG;
	if (item) {
		s.flags = item->flags;
		s.expiry = item->expiry;
		s.cas = item->cas;
	}
	if (s.cas && (mode == SPC_STORE_CAS || derived) && c->cfg.no_cas)
		return spc_cas_refused(c, pool, k);
	s.max_item = c->cfg.max_item_bytes;
	if (derived) {
		/* The new value comes from the old entry: no guess. */
		return spc_edit_key(c, pool, k, 0, spc_store_plan, spc_store_fill, &s, NULL,
		                    cas_out);
	} else {
		/* The new entry does not depend on the old one: allocate it
		 * before the first lookup. A set needs no lookup at all. */
		struct spc_edit guess = { .vlen = vlen, .flags = s.flags, .expiry = s.expiry,
		                          .is_store = 1 };

		return spc_edit_key(c, pool, k, mode == SPC_STORE_SET, spc_store_plan,
		                    spc_store_fill, &s, &guess, cas_out);
	}
}

/* Unpublishes the live entry of k if its cas is cas_expect (0: any).
 * An expired entry found on the way is unpublished too, counted as an
 * expiration, and the answer is SPC_ENOTFOUND. */
int spc_delete_key_cas(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k,
                       uint64_t cas_expect)
{
	struct spc_pstate *ps;
	struct spc_entry *gone = NULL;
	int expired = 0, r = SPC_OK;
	uint64_t hash;

	if (!c || !spc_pool_ok(pool) || !k || !k->key || k->klen == 0 || k->klen > SPC_KEY_MAX)
		return SPC_EINVAL;
	SPC_ASSERT_NOT_IN_RCU();
	if (cas_expect && c->cfg.no_cas)
		return spc_cas_refused(c, pool, k);
	ps = &c->ps[pool];
	hash = spc_key_hash(c, k);
	spc_rcu_read_lock();
	for (;;) {
		struct spc_entry *e = spc_kv_lookup_rcu(ps, hash, k);

		if (!e)
			break;
		expired = spc_entry_expired(c, e);
		if (!expired && cas_expect && spc_entry_acquire(e) != cas_expect) {
			r = SPC_EEXISTS;
			break;
		}
		if (spc_kv_remove_rcu(ps, hash, e) == SPC_OK) {
			gone = e;
			break;
		}
		/* Someone else unpublished that one; a newer one may be there. */
	}
	spc_rcu_read_unlock();
	if (!gone)
		return r == SPC_OK ? SPC_ENOTFOUND : r;
	spc_note_unpublished(ps, gone);
	spc_count(c, pool, SPC_C_ITEMS, -1);
	spc_count(c, pool, expired ? SPC_C_EXPIRED : SPC_C_DELETES, 1);
	spc_after_write(ps);
	return expired ? SPC_ENOTFOUND : SPC_OK;
}

int spc_delete_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k)
{
	return spc_delete_key_cas(c, pool, k, 0);
}
