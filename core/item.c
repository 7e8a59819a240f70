/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/item.c: memcached item semantics beyond the stores: spc_get_item,
 * incr/decr (spc_arith), touch and get-and-touch. The stores themselves
 * are spc_store_key (core/kv.c); all of them publish through the write
 * engine (core/edit.c).
 *
 * Expiry is an absolute deadline in seconds on the cache clock
 * (core/clock.c). An entry whose deadline is <= now is a miss for every
 * read and every write. The maintainer reclaims expired entries
 * (core/maint.c).
 *
 * incr/decr follow memcached 1.6's do_add_delta, with one stated
 * difference in what is accepted and one in what is written:
 *  - accepted: 1 to 20 ASCII digits whose number fits 64 bits, then any
 *    number of spaces (memcached pads a shrinking decr result with
 *    spaces, so values written by memcached clients parse). memcached's
 *    safe_strtoull also takes leading white space, a '+' sign, "-0" and
 *    anything after a white space ("12 abc" is 12); we refuse those with
 *    SPC_ENOTNUM. memcached refuses values of 22 bytes or more (padding
 *    included); we take any padding. Empty values, 21 digits and
 *    18446744073709551616 are SPC_ENOTNUM in both;
 *  - written: the result in decimal without padding (memcached rewrites
 *    the item in place, padded with spaces to its old length, when the
 *    result is shorter; we always publish a new entry of the exact length).
 * incr wraps modulo 2^64; decr stops at 0. Flags and expiry are kept, the
 * cas is new.
 *
 * touch sets a live entry's expiry, keeping its cas. When the entry has
 * an expiry slot, the new deadline is stored in place with a relaxed
 * compare-and-swap (docs/concurrency.md, "touch"): the slot is the only
 * mutable word of an entry's body; the CAS loses against the expiry
 * reclaimer's claim (SPC_EXPIRY_CLAIMED), so a touch never revives an
 * entry the maintainer is unpublishing. An entry without a slot is copied
 * with one through the write engine (same cas). Removing the expiry
 * (deadline 0) of an entry with a slot is also done in place. A touch in
 * place that finds, after its store, that the entry left the index meanwhile
 * touches again (an incr or append that replaced it may have copied the
 * old deadline; core/edit.c carries ours over from its side too).
 *
 * Guarantees (tests/integration/cache/test_items.c, tests/stress):
 *  1. concurrent incr/decr of one key give the exact total;
 *  2. touch keeps the cas and the value; gat returns the value of the
 *     entry it touched;
 *  3. every error leaves the cache unchanged (gat's SPC_ERANGE included:
 *     the touch is not done);
 *  4. a touch that answered SPC_OK is not lost to a concurrent incr/decr,
 *     append or prepend of the entry: in either order the key ends with
 *     the touch's deadline (tests/unit/core/test_backpressure.c).
 */
#include "core/item.h"

#include <string.h>
#include <time.h>

#include <urcu/arch.h>

#include "core/clock.h"
#include "core/edit.h"
#include "core/kv.h"
#include "core/kv_index.h"
#include "sync/rcu.h"

#define SPC_U64_DIGITS 20u /* digits of 18446744073709551615 */

static int spc_item_args_ok(struct spc_cache *c, int pool, const void *key, size_t klen)
{
	return c && (pool == SPC_POOL_INDEX || pool == SPC_POOL_VIEW) && key && klen > 0 &&
	       klen <= SPC_KEY_MAX;
}

/* Copies e out into buf/out as spc_get_item does; out->expiry is e's
 * deadline, or *expiry when expiry is not NULL (gat's new one). Context:
 * read section in which e was found. */
static int spc_item_copy_out(const struct spc_entry *e, const uint64_t *expiry, void *buf,
                             size_t cap, struct spc_value *out)
{
	/* The acquire before any other field, the expiry slot included. */
	out->cas = spc_entry_acquire(e);
	out->expiry = expiry ? *expiry : spc_entry_expiry(e);
	out->len = e->vlen;
	out->flags = spc_entry_flags(e);
	out->data = buf;
	if (cap < e->vlen)
		return SPC_ERANGE;
	if (e->vlen)
		memcpy(buf, spc_entry_value(e), e->vlen);
	return SPC_OK;
}

int spc_get_item(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen,
                 void *buf, size_t cap, struct spc_value *out)
{
	struct spc_entry *e;
	int r;

	if (!spc_item_args_ok(c, pool, key, klen) || !out || (!buf && cap > 0))
		return SPC_EINVAL;
	spc_rcu_read_lock();
	e = spc_lookup_rcu(c, pool, key, klen);
	r = e ? spc_item_copy_out(e, NULL, buf, cap, out) : SPC_ENOTFOUND;
	spc_rcu_read_unlock();
	return r;
}

/* ---- incr / decr --------------------------------------------------------------- */

/* Parses a value as incr/decr accept it (see the essay). Returns SPC_OK
 * or SPC_ENOTNUM. */
static int spc_arith_parse(const unsigned char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		unsigned d = p[i] - '0';

		if (i == SPC_U64_DIGITS || v > (UINT64_MAX - d) / 10)
			return SPC_ENOTNUM;
		v = v * 10 + d;
	}
	if (i == 0)
		return SPC_ENOTNUM;
	for (; i < n; i++)
		if (p[i] != ' ')
			return SPC_ENOTNUM;
	*out = v;
	return SPC_OK;
}

/* Writes v in decimal at buf (room for 20 digits); returns the length. */
static size_t spc_u64_format(uint64_t v, char *buf)
{
	char tmp[SPC_U64_DIGITS];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	return n;
}

struct spc_arith_arg {
	int decr;
	uint64_t delta, cas_expect;
	uint64_t value;              /* out: the new number */
	char text[SPC_U64_DIGITS];   /* out: its digits */
	size_t len;                  /* out: how many */
};

static int spc_arith_plan(void *arg, struct spc_entry *old, struct spc_edit *ed)
{
	struct spc_arith_arg *a = arg;
	uint64_t v;

	if (!old)
		return SPC_ENOTFOUND;
	if (a->cas_expect && spc_entry_cas(old) != a->cas_expect)
		return SPC_EEXISTS;
	if (spc_arith_parse(spc_entry_value(old), old->vlen, &v) != SPC_OK)
		return SPC_ENOTNUM;
	if (a->decr)
		v = v > a->delta ? v - a->delta : 0;
	else
		v += a->delta; /* unsigned: wraps modulo 2^64, as memcached */
	a->value = v;
	a->len = spc_u64_format(v, a->text);
	ed->vlen = a->len;
	ed->flags = spc_entry_flags(old);
	ed->expiry = spc_entry_expiry(old);
	ed->carry = 1;
	ed->is_store = 1;
	return SPC_OK;
}

static void spc_arith_fill(void *arg, const struct spc_entry *old, unsigned char *value)
{
	const struct spc_arith_arg *a = arg;

	(void)old;
	memcpy(value, a->text, a->len);
}

int spc_arith_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k, int decr,
                  uint64_t delta, uint64_t cas_expect, uint64_t *value_out, uint64_t *cas_out)
{
	struct spc_arith_arg a = { decr != 0, delta, cas_expect, 0, { 0 }, 0 };
	int r;

	if (cas_expect && c->cfg.no_cas)
		return spc_cas_refused(c, pool, k);
	r = spc_edit_key(c, pool, k, 0, spc_arith_plan, spc_arith_fill, &a, NULL, cas_out);

	if (r == SPC_OK && value_out)
		*value_out = a.value;
	return r;
}

int spc_arith(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen, int decr,
              uint64_t delta, uint64_t cas_expect, uint64_t *value_out, uint64_t *cas_out)
{
	struct spc_key k = { key, klen, SPC_NS_PLAIN, 0 };

	if (!spc_item_args_ok(c, pool, key, klen))
		return SPC_EINVAL;
	return spc_arith_key(c, pool, &k, decr, delta, cas_expect, value_out, cas_out);
}

int spc_incr(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen,
             uint64_t delta, uint64_t *value_out, uint64_t *cas_out)
{
	return spc_arith(c, pool, key, klen, 0, delta, 0, value_out, cas_out);
}

int spc_decr(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen,
             uint64_t delta, uint64_t *value_out, uint64_t *cas_out)
{
	return spc_arith(c, pool, key, klen, 1, delta, 0, value_out, cas_out);
}

/* ---- touch / gat ------------------------------------------------------------------ */

struct spc_touch_arg {
	struct spc_cache *c;
	uint64_t expiry;
	void *buf;             /* gat: copy-out (NULL out: touch only) */
	size_t cap;
	struct spc_value *out;
};

/* Stores the new deadline in old's slot unless the slot's deadline has
 * passed (or the reclaimer claimed it). Returns SPC_OK, SPC_ENOTFOUND, or
 * SPC_EDIT_RETRY when old left the index meanwhile: an edit that replaced
 * it may have copied the deadline before our store (core/edit.c), so the
 * touch is done again on the entry that replaced it. */
static int spc_touch_in_place(struct spc_cache *c, struct spc_entry *old, uint64_t expiry)
{
	uint64_t *slot = spc_entry_expiry_slot(old);
	uint64_t seen = __atomic_load_n(slot, __ATOMIC_RELAXED);
	uint64_t now = spc_now(c);

	/* Relaxed CAS: the slot is a single word that no other field depends
	 * on; what must not happen is a touch overwriting the reclaimer's
	 * claim, and the CAS fails then (a failure reloads seen). */
	do {
		if (spc_deadline_passed(seen, now))
			return SPC_ENOTFOUND;
	} while (!__atomic_compare_exchange_n(slot, &seen, expiry, 0, __ATOMIC_RELAXED,
	                                      __ATOMIC_RELAXED));
	/* Full barrier between our store and the look at old's removal;
	 * pairs with the one an edit carrying old's deadline puts between
	 * its replace and its second read of the slot (spc_edit_carry_touch):
	 * either it reads our deadline, or we see old removed and touch the
	 * entry that replaced it (a delete's removal just makes it a miss). */
	cmm_smp_mb();
	if (!spc_kv_linked_rcu(&c->ps[spc_entry_meta(old) & SPC_META_POOL], old))
		return SPC_EDIT_RETRY;
	return SPC_OK;
}

static int spc_touch_plan(void *arg, struct spc_entry *old, struct spc_edit *ed)
{
	struct spc_touch_arg *t = arg;
	int r;

	if (!old)
		return SPC_ENOTFOUND;
	if (t->out && t->cap < old->vlen) {
		/* gat with a short buffer: report the length, touch nothing */
		(void)spc_item_copy_out(old, NULL, t->buf, t->cap, t->out);
		return SPC_ERANGE;
	}
	if (spc_entry_expiry_slot(old) || t->expiry == 0) {
		r = spc_entry_expiry_slot(old) ? spc_touch_in_place(t->c, old, t->expiry) : SPC_OK;
		if (r != SPC_OK)
			return r;
		if (t->out)
			(void)spc_item_copy_out(old, &t->expiry, t->buf, t->cap, t->out);
		return SPC_EDIT_DONE;
	}
	/* No slot: a copy with one, same value, flags and cas. The copy-out
	 * reads old, whose value the copy shares; redone if we retry. */
	if (t->out)
		(void)spc_item_copy_out(old, &t->expiry, t->buf, t->cap, t->out);
	ed->vlen = old->vlen;
	ed->flags = spc_entry_flags(old);
	ed->expiry = t->expiry;
	ed->cas = spc_entry_cas(old);
	return SPC_OK;
}

static void spc_touch_fill(void *arg, const struct spc_entry *old, unsigned char *value)
{
	(void)arg;
	memcpy(value, spc_entry_value(old), old->vlen);
}

int spc_gat_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k,
                uint64_t expiry, void *buf, size_t cap, struct spc_value *out, uint64_t *cas_out)
{
	struct spc_touch_arg t = { c, expiry, buf, cap, out };

	return spc_edit_key(c, pool, k, 0, spc_touch_plan, spc_touch_fill, &t, NULL, cas_out);
}

int spc_gat(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen,
            uint64_t expiry, void *buf, size_t cap, struct spc_value *out)
{
	struct spc_key k = { key, klen, SPC_NS_PLAIN, 0 };

	if (!spc_item_args_ok(c, pool, key, klen) || !out || (!buf && cap > 0))
		return SPC_EINVAL;
	return spc_gat_key(c, pool, &k, expiry, buf, cap, out, NULL);
}

int spc_touch(struct spc_cache *c, enum spc_pool_id pool, const void *key, size_t klen,
              uint64_t expiry)
{
	struct spc_key k = { key, klen, SPC_NS_PLAIN, 0 };

	if (!spc_item_args_ok(c, pool, key, klen))
		return SPC_EINVAL;
	return spc_gat_key(c, pool, &k, expiry, NULL, 0, NULL, NULL);
}
