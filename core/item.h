/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/item.h: the item calls of any namespace (core/item.c), for the
 * view namespaces (core/view.c). Private to core/.
 */
#ifndef SPC_CORE_ITEM_H
#define SPC_CORE_ITEM_H

#include <stdint.h>

#include "core/key.h"
#include "splitcache.h"

/* spc_arith, spc_gat and spc_touch (out NULL) of a validated key of any
 * namespace (core/item.c). spc_gat_key's *cas_out (may be NULL) is set
 * only when a new entry was published: a touch in place publishes none. */
int spc_arith_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k, int decr,
                  uint64_t delta, uint64_t cas_expect, uint64_t *value_out, uint64_t *cas_out);
int spc_gat_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k,
                uint64_t expiry, void *buf, size_t cap, struct spc_value *out, uint64_t *cas_out);

#endif /* SPC_CORE_ITEM_H */
