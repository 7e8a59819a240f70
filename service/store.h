/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/store.h: memcached items (client flags, cas, expiry, append,
 * incr, touch) over the cache's public API, as splitcached needs them.
 *
 * Every operation takes an addressed key (struct spc_srv_key): a pool, on
 * the view pool optionally a block height (the key convention of
 * docs/service.md), and the key. The functions return the library's
 * status codes, so the protocol layer's spc_proto_status_line() turns
 * them into memcached's reply lines.
 */
#ifndef SPC_SRV_STORE_H
#define SPC_SRV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "service/marks.h"
#include "splitcache.h"

struct spc_proto_limits;

/* An addressed key: where an item lives (a pool, and for the view pool's
 * (height, key) entries the height) and its key there. Every call below
 * takes one; the key points into the caller's memory. */
struct spc_srv_key {
	enum spc_pool_id pool;
	bool at;         /* height-partitioned entry of the view pool */
	uint64_t height; /* with at */
	const char *key; /* the key within the namespace (without "@<height>/") */
	size_t klen;
};

/* An item as read: data points into the cache (read section) or into the
 * caller's buffer. */
struct spc_srv_item {
	const char *data;
	size_t len;
	uint32_t flags;
	uint64_t cas;
	uint64_t expiry; /* absolute unix time, 0: never */
};

struct spc_srv_store {
	struct spc_cache *cache;
	struct spc_srv_marks marks; /* fetched, stale, win token, by cas */
	bool no_evict;         /* -M: refuse stores instead of evicting */
	unsigned no_evict_pct; /* -M: refuse past this % of the pool's target */
};

/* Binds the item layer to an open cache and allocates its marks table.
 * Returns SPC_OK or SPC_ENOMEM. Context: any thread, once, before any
 * other call. */
int spc_srv_store_init(struct spc_srv_store *st, struct spc_cache *cache);
/* Releases what init took (not the cache). Context: no call running. */
void spc_srv_store_fini(struct spc_srv_store *st);

/* Unix time in seconds: the cache's default clock (CLOCK_REALTIME_COARSE,
 * the seconds of CLOCK_REALTIME), which expiries are read against. */
uint64_t spc_srv_now(void);

/* The addressed key of `key` (klen bytes) on a listener of `pool`: on the
 * view pool a key the parser decoded as "@<height>/<rest>" (at, with its
 * height and the prefix length, spc_proto_key_at) is the (height, rest)
 * entry; everything else is a plain entry of the pool. Context: any
 * thread. */
static inline void spc_srv_key_of(enum spc_pool_id pool, const char *key, size_t klen, bool at,
				  uint64_t height, size_t prefix, struct spc_srv_key *out)
{
	out->pool = pool;
	out->at = at && pool == SPC_POOL_VIEW;
	out->height = out->at ? height : 0;
	out->key = out->at ? key + prefix : key;
	out->klen = out->at ? klen - prefix : klen;
}

/* Zero-copy lookup; an expired item is a miss. Returns SPC_OK,
 * SPC_ENOTFOUND, SPC_EINVAL. Context: read section (spc_read_lock). */
int spc_srv_get_rcu(struct spc_srv_store *st, const struct spc_srv_key *k, uint64_t now,
		    struct spc_srv_item *out);

/* Copy-out lookup: as spc_srv_get_rcu, with out->data a malloc'd copy
 * the caller frees (free()). Returns SPC_OK, SPC_ENOTFOUND, SPC_ENOMEM,
 * SPC_EINVAL. Context: not in read section. */
int spc_srv_get_copy(struct spc_srv_store *st, const struct spc_srv_key *k,
		     struct spc_srv_item *out);

/* Stores as memcached's set/add/replace/cas/append/prepend (mode from
 * enum spc_store_mode). cas is the expected cas (CAS; APPEND/PREPEND when
 * nonzero); flags and expiry are ignored by APPEND/PREPEND. *cas_out (may
 * be NULL) receives the new cas. Returns SPC_OK, SPC_EEXISTS, SPC_ENOTFOUND,
 * SPC_ETOOBIG, SPC_EFULL, SPC_ENOMEM, SPC_EINVAL. Context: any thread, not
 * in read section. */
int spc_srv_put(struct spc_srv_store *st, const struct spc_srv_key *k, int mode, const void *val,
		size_t vlen, uint32_t flags, uint64_t expiry, uint64_t cas, uint64_t now,
		uint64_t *cas_out);

/* incr/decr: the library's rules (spc_arith: incr wraps at 2^64, decr
 * stops at 0, the result is written without padding). cas_expect
 * nonzero must match. Returns SPC_OK, SPC_ENOTFOUND, SPC_ENOTNUM,
 * SPC_EEXISTS, SPC_EFULL, SPC_ENOMEM. Context: not in read section. */
int spc_srv_arith(struct spc_srv_store *st, const struct spc_srv_key *k, bool decr, uint64_t delta,
		  uint64_t cas_expect, uint64_t now,
		  uint64_t *value_out, uint64_t *cas_out);

/* incr/decr through the marks table: as spc_srv_arith, retried when
 * another client changed the item meanwhile (cas_expect 0), and the
 * item's marks kept (fetched cleared) when memcached would change it in
 * place -- the new number no longer than the old value; a longer one is a
 * new item. *expiry receives the item's expiry. Returns as spc_srv_arith.
 * Context: not in read section. */
int spc_srv_arith_marked(struct spc_srv_store *st, const struct spc_srv_key *k, bool decr,
			 uint64_t delta, uint64_t cas_expect, uint64_t now, uint64_t *val,
			 uint64_t *cas, uint64_t *expiry);

/* False when appending vlen bytes to the live item would pass the item
 * size limit of lim (memcached then answers NOT_STORED and keeps it);
 * true when it fits or there is no item. Context: not in read section. */
bool spc_srv_append_fits(struct spc_srv_store *st, const struct spc_srv_key *k, size_t vlen,
			 const struct spc_proto_limits *lim, uint64_t now);

/* Sets a live item's expiry, keeps value, flags and cas. When out is not
 * NULL, copies the item (data into a buffer the caller frees with free()).
 * Returns SPC_OK, SPC_ENOTFOUND, SPC_EFULL, SPC_ENOMEM. Context: not in
 * read section. */
int spc_srv_touch(struct spc_srv_store *st, const struct spc_srv_key *k, uint64_t expiry,
		  uint64_t now, struct spc_srv_item *out);

/* Deletes a live item (cas_expect nonzero must match). Returns SPC_OK,
 * SPC_ENOTFOUND, SPC_EEXISTS. Context: not in read section. */
int spc_srv_delete(struct spc_srv_store *st, const struct spc_srv_key *k, uint64_t cas_expect,
		   uint64_t now);

#endif /* SPC_SRV_STORE_H */
