/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/kv_index_lfht.c: the cache's index as liburcu's cds_lfht (the
 * default build; core/kv_index.h is the seam, kv_index_compact.c the
 * other side).
 *
 * Created with CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING and
 * SPC_INDEX_INIT_BUCKETS buckets. Its buckets are calloc'd by liburcu
 * outside the pools, so they are charged as an estimate per entry
 * (entry_share: SPC_BUCKET_BYTES x 1.5 / index_max_load). The lazy
 * auto-resize fell far behind when the inserts came from the cache
 * (65 536 entries left in ~1 024 buckets: lookups 4x slower), so the
 * maintainer, which knows the item count, asks for the size itself
 * (spc_kv_maint): to the smallest power of two that brings the load back
 * to index_max_load or below, one doubling in steady growth, so the
 * buckets cost 16 / max_load to 32 / max_load bytes per entry. It is
 * registered and never in a read section, as cds_lfht_resize requires.
 */
#include "core/kv_index.h"

#include "core/room.h"
#include "pools/pools.h"
#include "sync/rcu.h"

#if !SPC_INDEX_COMPACT

#include <string.h>

int spc_kv_init(struct spc_pstate *ps)
{
	/* cds_lfht allocates with the process calloc; consult the fault hook
	 * so allocation-failure tests cover it too. */
	if (spc_fault(&ps->cache->env, SPC_FAULT_MALLOC, 4096))
		ps->ht = NULL;
	else
		ps->ht = cds_lfht_new_flavor(SPC_INDEX_INIT_BUCKETS, SPC_INDEX_INIT_BUCKETS, 0,
		                             CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
		                             &urcu_memb_flavor, NULL);
	ps->index_buckets = SPC_INDEX_INIT_BUCKETS;
	return ps->ht ? SPC_OK : SPC_ENOMEM;
}

void spc_kv_destroy(struct spc_pstate *ps)
{
	if (ps->ht && cds_lfht_destroy(ps->ht, NULL) != 0)
		spc_die("cds_lfht_destroy: index not empty at close");
	ps->ht = NULL;
}

/* Entries unpublished per read section by spc_kv_unpublish_all, and the
 * longest key it copies to find its place again in the next section. */
#define SPC_UNPUBLISH_BATCH 256u
#define SPC_ANCHOR_KEY_MAX 256u

/* Where spc_kv_unpublish_all resumes: a live entry's key, copied. */
struct spc_anchor {
	struct spc_key k;
	unsigned char bytes[SPC_ANCHOR_KEY_MAX];
};

/* Positions it at the anchor's entry if it is still there, else at the
 * first entry. Context: read section. */
static void spc_anchor_seek(struct spc_cache *c, struct spc_pstate *ps,
                            const struct spc_anchor *a, struct cds_lfht_iter *it)
{
	if (a) {
		cds_lfht_lookup(ps->ht, (unsigned long)spc_key_hash(c, &a->k), spc_match, &a->k, it);
		if (cds_lfht_iter_get_node(it))
			return;
	}
	cds_lfht_first(ps->ht, it);
}

/* Copies e's key into *a; returns 0 when the key is too long to copy. */
static int spc_anchor_set(struct spc_anchor *a, const struct spc_entry *e)
{
	if (e->klen > SPC_ANCHOR_KEY_MAX)
		return 0;
	memcpy(a->bytes, spc_entry_key(e), e->klen);
	a->k = (struct spc_key){ a->bytes, e->klen, spc_entry_ns(e), spc_entry_height(e) };
	return 1;
}

/* Short read sections (docs/libraries.md: a long section starves the
 * lfht's resize). Each section resumes at a live entry it left in place at
 * the end of the last one (found again by its key), not at the table's
 * start: restarting there would walk every emptied bucket again,
 * O(buckets) per section. */
uint64_t spc_kv_unpublish_all(struct spc_pstate *ps)
{
	struct spc_anchor anchor;
	int anchored = 0;
	uint64_t total = 0;

	for (;;) {
		struct cds_lfht_iter it;
		struct cds_lfht_node *node;
		unsigned n = 0;

		spc_rcu_read_lock();
		spc_anchor_seek(ps->cache, ps, anchored ? &anchor : NULL, &it);
		anchored = 0;
		for (; (node = cds_lfht_iter_get_node(&it)); cds_lfht_next(ps->ht, &it)) {
			if (n >= SPC_UNPUBLISH_BATCH && spc_anchor_set(&anchor, spc_entry_of(node))) {
				anchored = 1;
				break;
			}
			if (cds_lfht_del(ps->ht, node) == 0) {
				spc_note_unpublished(ps, spc_entry_of(node));
				n++;
			}
		}
		spc_rcu_read_unlock();
		total += n;
		if (!anchored)
			return total;
	}
}

int spc_kv_maint(struct spc_pstate *ps, size_t items)
{
	unsigned long want = ps->index_buckets;
	double max_load = ps->cache->cfg.index_max_load;

	if ((double)items <= max_load * (double)ps->index_buckets)
		return 0;
	while ((double)items > max_load * (double)want)
		want <<= 1;
	cds_lfht_resize(ps->ht, want);
	ps->index_buckets = want;
	return 0;
}

uint64_t spc_kv_room_need(const struct spc_pstate *ps)
{
	(void)ps;
	return 0;
}

uint64_t spc_kv_bytes(const struct spc_pstate *ps)
{
	(void)ps;
	return 0;
}

void spc_kv_for_each_rcu(struct spc_pstate *ps, void (*fn)(void *arg, struct spc_entry *e),
                         void *arg)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *n;

	cds_lfht_for_each(ps->ht, &it, n)
		fn(arg, spc_entry_of(n));
}

uint32_t spc_kv_entry_share(const struct spc_pstate *ps)
{
	/* 16-byte buckets, between 2 / max_load and 1 / max_load of them per
	 * entry as the index grows (1.44 / max_load on average over a
	 * doubling); charge 1.5 / max_load (12 B at the default 2.0, 48 B at
	 * 0.5). */
	return (uint32_t)(SPC_BUCKET_BYTES * 1.5 / ps->cache->cfg.index_max_load + 0.5);
}

#endif /* !SPC_INDEX_COMPACT */
