/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/edit.c: the write engine. Every store (set, add, replace, cas,
 * append, prepend), arith and touch's copy path publish through
 * spc_edit_key; only delete and clear unpublish without it.
 *
 * Entries are immutable once published, so every edit of a key is
 * "read the current entry, build a new one, swap it in", and the swap is
 * what makes it atomic without a lock: spc_kv_replace_rcu(old, new)
 * (core/kv_index.h: the index's compare-and-swap of the slot that holds
 * old) succeeds only if the entry found is
 * still in the index (it fails once a concurrent delete, replace or
 * eviction removed it), which is compare-and-swap on the key's entry. The
 * loop:
 *
 *   1. read section: look the key up; old = the entry unless it is dead
 *      or expired; plan(old) says what the new entry is (or an error, or
 *      done); leave the section if the allocation at hand does not fit
 *      the plan, then, outside it (charging may wait for the maintainer,
 *      which must not wait for us):
 *   2. give back the ring cell of an earlier round, if any (filled with
 *      NULL: a writer never holds a cell while it waits, since the
 *      maintainer's drain stops at an unfilled cell), charge the pool
 *      (SPC_EFULL or SPC_EBUSY after a bounded wait), allocate
 *      (SPC_ENOMEM), reserve a fresh ring cell (SPC_EBUSY):
 *      core/cache.c's write steps 2 to 4; go back to 1;
 *   3. still in the section of 1: build the entry (fill writes its value
 *      from old), its cas if it has one, meta last with a release store
 *      (spc_entry_publish), and publish:
 *      replace(iter of the entry found) if one was found (an expired one
 *      included: add over an expired entry replaces it), add_unique if
 *      none was, add_replace for a blind store. A failed replace or
 *      add_unique means another write won: back to 1 with the same
 *      allocation (rebuilt, it was never visible);
 *   4. after the section: fill the ring cell (the maintainer now owns the
 *      new entry), retire the old one (spc_note_unpublished: backlog, dead
 *      flag; not an eviction), count.
 * The plan reads the old entry in the same read section as the replace
 * that retires it, so no update is lost: an append or an incr that lost
 * the race reads the winner's value on its next round.
 *
 * One word of old may still change between the plan and the replace: its
 * expiry slot, which touch stores in place (core/item.c). An edit that
 * keeps old's deadline (ed->carry: incr/decr, append, prepend) gives the
 * new entry a slot whenever old has one, and right after a successful
 * replace, still in the section, reads old's slot again (after a full
 * barrier) and carries a changed deadline over to the new entry by CAS
 * (unless a touch of the new entry changed it first). Touch, after its
 * CAS, checks (after a full barrier) whether old left the index, and if
 * so touches again. Store-buffering both ways round: at least one of the
 * two sees the other, so a touch that answered SPC_OK is never lost.
 *
 * Guarantees (tests/integration/cache/test_items.c, tests/fault/core,
 * tests/stress/stress_items.c):
 *  1. N concurrent edits of one key all land, each on its predecessor's
 *     value (exact totals for incr, every append present once);
 *  2. every error, the plan's included, leaves the cache unchanged: no
 *     entry, no charge, no ring record, no counter but the refusal's
 *     (efull, busy_ring, busy_batches) moved;
 *  3. the engine never waits inside a read section; it is lock-free (a
 *     retry happens only because another write of the key succeeded);
 *  4. an expired entry replaced by a write is counted as an expiration,
 *     never as an eviction; items do not move for it.
 */
#include "core/edit.h"

#include <time.h>

#include <string.h>

#include <urcu/arch.h>

#include "core/clock.h"
#include "core/kv_index.h"
#include "core/maint.h"
#include "core/room.h"
#include "core/stats.h"
#include "core/wait.h"
#include "pools/pools.h"
#include "sync/rcu.h"
#include "sync/ring.h"

/* The allocation an edit carries from round to round. */
struct spc_edit_mem {
	struct spc_entry *e; /* NULL: none; pre bytes into the allocation */
	size_t pre;          /* the cas before the header (spc_entry_pre), fixed
	                        per edit: the cache's choice and k's namespace */
	size_t size;
	uint64_t charge;
	struct spc_ring_cell *cell; /* reserved with the allocation, given
	                               back whenever it is replaced */
};

/* Gives back the allocation and its charge (waking writers waiting for
 * room), and the ring cell: filled with NULL, so the maintainer's drain
 * passes it. */
static void spc_edit_release(struct spc_pstate *ps, struct spc_edit_mem *m)
{
	if (m->cell) {
		spc_ring_fill(m->cell, NULL);
		m->cell = NULL;
	}
	if (m->e) {
		spc_pool_free(ps->pool, (unsigned char *)m->e - m->pre, m->size);
		spc_uncharge(ps, m->charge);
		m->e = NULL;
	}
}

/* Steps 2-4 of the write: give back what an earlier round held, charge,
 * allocate, reserve a ring cell. No cell is held while the charge waits
 * or the allocation runs: the maintainer's drain stops at an unfilled
 * cell, so a held one would stall every write behind it. Returns SPC_OK
 * (allocation, charge and cell held), SPC_EFULL, SPC_EBUSY or SPC_ENOMEM
 * with nothing held. Context: not in read section (the charge may wait). */
static int spc_edit_alloc(struct spc_pstate *ps, struct spc_edit_mem *m, size_t size)
{
	uint64_t charge = spc_pool_usable(ps->pool, size) + ps->entry_share;
	int r, stranded;

	spc_edit_release(ps, m);
	r = spc_wait_charge(ps, charge);
	if (r != SPC_OK)
		return r;
	m->e = spc_pool_alloc_entry(ps->pool, size, &stranded);
	if (!m->e && stranded)
		m->e = spc_wait_slab(ps, size);
	if (!m->e) {
		spc_uncharge(ps, charge);
		if (!stranded)
			return SPC_ENOMEM;
		/* Its bytes are held by slabs of other sizes still. */
		spc_count(ps->cache, ps->id, SPC_C_EFULL, 1);
		return SPC_EFULL;
	}
	m->e = (struct spc_entry *)(void *)((unsigned char *)m->e + m->pre);
	m->size = size;
	m->charge = charge;
	m->cell = spc_wait_ring_cell(ps);
	if (!m->cell) {
		spc_edit_release(ps, m);
		return SPC_EBUSY;
	}
	return SPC_OK;
}

/* SPC_META_CAS when k's entries carry a cas: always in a cache that
 * keeps cas; in one without (no_cas), height entries still do, as the
 * view's own-entry check (core/view.c, spc_view_withdraw) needs an
 * identity no other store repeats; their cas is never reported. */
static unsigned spc_edit_cas_bit(const struct spc_cache *c, const struct spc_key *k)
{
	return (!c->cfg.no_cas || k->ns == SPC_NS_HEIGHT) ? SPC_META_CAS : 0u;
}

/* The new entry's meta. It has an expiry slot when it has a deadline, or
 * when it carries old's deadline and old has a slot (even at 0: a touch
 * racing with the edit may store one there, see the essay). */
static unsigned spc_edit_meta(enum spc_pool_id pool, const struct spc_key *k, unsigned cas_bit,
                              const struct spc_edit *ed, struct spc_entry *old)
{
	int slot = ed->expiry || (ed->carry && old && spc_entry_expiry_slot(old));

	return (pool & SPC_META_POOL) | (k->ns << SPC_META_NS_SHIFT) | cas_bit |
	       (ed->flags ? SPC_META_FLAGS : 0u) | (slot ? SPC_META_EXPIRY : 0u);
}

/* After e replaced old and the edit carried old's deadline (copied):
 * carries a touch that stored a new deadline in old's slot in place after
 * the plan read it (see the essay). Context: the read section of the
 * replace; old unpublished by us, not yet retired. */
static void spc_edit_carry_touch(struct spc_entry *old, struct spc_entry *e, uint64_t copied)
{
	uint64_t *from = spc_entry_expiry_slot(old), *to = spc_entry_expiry_slot(e);
	uint64_t now;

	if (!from || !to)
		return;
	/* Full barrier between the replace (our store: old is removed) and
	 * this load; pairs with the one touch puts between its CAS and its
	 * look at old's removal (core/item.c). */
	cmm_smp_mb();
	now = __atomic_load_n(from, __ATOMIC_RELAXED);
	/* The maintainer's claim is not a deadline to carry. Relaxed CAS as
	 * touch's: it fails if a touch of e got there first (it is later). */
	if (now != copied && now != SPC_EXPIRY_CLAIMED)
		(void)__atomic_compare_exchange_n(to, &copied, now, 0, __ATOMIC_RELAXED,
		                                  __ATOMIC_RELAXED);
}

/* Builds the whole entry before publication: the index publishes with a
 * release store of the slot and readers load the slot with acquire, so
 * they see these bytes complete. Meta is stored again last, with release
 * (see below). */
static void spc_edit_build(struct spc_cache *c, struct spc_entry *e, unsigned meta,
                           const struct spc_key *k, const struct spc_edit *ed,
                           spc_edit_fill_fn *fill, void *arg, const struct spc_entry *old)
{
	memset(e, 0, sizeof *e);
	e->klen = (uint16_t)k->klen;
	e->vlen = (uint32_t)ed->vlen;
	e->meta = (uint8_t)meta;
	spc_entry_init_extra(e, ed->expiry, k->height, ed->flags);
	memcpy((unsigned char *)spc_entry_key(e), k->key, k->klen);
	if (ed->vlen)
		fill(arg, old, (unsigned char *)spc_entry_value(e));
	if (meta & SPC_META_CAS) {
		/* Relaxed fetch: cas values need only be unique. A plain
		 * store: the release below covers it. */
		uint64_t cas = ed->cas ? ed->cas
		                       : __atomic_fetch_add(&c->cas_next, 1, __ATOMIC_RELAXED);

		memcpy((unsigned char *)e - SPC_ENTRY_CAS_BYTES, &cas, sizeof cas);
	}
	/* The entry's last initialising write; readers load meta with
	 * acquire (spc_entry_acquire), so the entry is complete for every
	 * path that reaches it, through the index, a ring or a policy slot.
	 * Free on x86 and ARMv8, correct everywhere. */
	spc_entry_publish(e, meta);
}

int spc_edit_key(struct spc_cache *c, enum spc_pool_id pool, const struct spc_key *k, int blind,
                 spc_edit_plan_fn *plan, spc_edit_fill_fn *fill, void *arg,
                 const struct spc_edit *guess, uint64_t *cas_out)
{
	struct spc_pstate *ps = &c->ps[pool];
	uint64_t hash = spc_key_hash(c, k);
	unsigned cas_bit = spc_edit_cas_bit(c, k);
	struct spc_edit_mem m = { .pre = spc_entry_pre(cas_bit) };
	struct spc_entry *old = NULL;
	struct spc_edit ed;
	uint64_t cas = 0;
	int r = SPC_OK, old_expired = 0;
	unsigned full_tries = 0;

	SPC_ASSERT_NOT_IN_RCU();
	spc_rcu_ensure();
	/* The key's bucket comes into the cache while we allocate. */
	spc_rcu_read_lock();
	spc_kv_prefetch_rcu(ps, hash);
	spc_rcu_read_unlock();
	if (guess)
		r = spc_edit_alloc(ps, &m, spc_entry_size(spc_edit_meta(pool, k, cas_bit, guess, NULL),
		                                          k->klen, guess->vlen));
	while (r == SPC_OK) {
		struct spc_entry *cur = NULL, *live = NULL;
		unsigned meta;
		int ok;

		spc_rcu_read_lock();
		if (!blind) {
			cur = spc_kv_lookup_rcu(ps, hash, k);
			if (cur) {
				(void)spc_entry_acquire(cur);
				/* A dead entry already left the index (its flag
				 * is set after the removal or replace): a newer
				 * entry, or none, is there; look again. An
				 * expired one is replaced. */
				if (spc_entry_dead(cur)) {
					spc_rcu_read_unlock();
					continue;
				}
				if (!spc_entry_expired(c, cur))
					live = cur;
			}
		}
		memset(&ed, 0, sizeof ed);
		r = plan(arg, live, &ed);
		if (r == SPC_EDIT_RETRY) {
			/* live left the index under the plan: read again. */
			spc_rcu_read_unlock();
			r = SPC_OK;
			continue;
		}
		if (r != SPC_OK) {
			spc_rcu_read_unlock();
			break;
		}
		meta = spc_edit_meta(pool, k, cas_bit, &ed, live);
		if (!m.e || m.size != spc_entry_size(meta, k->klen, ed.vlen)) {
			spc_rcu_read_unlock();
			r = spc_edit_alloc(ps, &m, spc_entry_size(meta, k->klen, ed.vlen));
			continue;
		}
		spc_edit_build(c, m.e, meta, k, &ed, fill, arg, live);
		if (blind) {
			r = spc_kv_set_rcu(ps, hash, k, m.e, &cur);
		} else if (cur) {
			r = spc_kv_replace_rcu(ps, hash, cur, m.e);
		} else {
			struct spc_entry *found;

			r = spc_kv_add_rcu(ps, hash, k, m.e, &found);
		}
		ok = r == SPC_OK;
		if (r == SPC_EFULL) {
			/* The index has no free slot (compact build), or no
			 * credit for a new key while it resizes: its growth
			 * is behind (the maintainer grows it; wake it
			 * and try again every 0.2 ms for full_wait_ms, as a
			 * writer waits for a ring cell) or failed to
			 * allocate (the pool's "no room"). */
			spc_rcu_read_unlock();
			/* Give the cell back: the maintainer's drain stops
			 * at an unfilled one. The next round allocates. */
			spc_edit_release(ps, &m);
			if (++full_tries > c->cfg.full_wait_ms * 5u) {
				spc_count(c, pool, SPC_C_EFULL, 1);
				break;
			}
			if (c->sync_mode)
				(void)spc_step_sync(ps, 0);
			else
				spc_kick(ps);
			nanosleep(&(struct timespec){ 0, 200000 }, NULL); /* 0.2 ms */
			r = SPC_OK;
			continue;
		}
		r = SPC_OK;
		if (ok) {
			if (ed.carry && cur && cur == live)
				spc_edit_carry_touch(cur, m.e, ed.expiry);
			old = cur;
			/* We unpublished old: it stays valid until we retire it. */
			old_expired = old && (blind ? spc_entry_expired(c, old) : live == NULL);
			cas = spc_entry_cas(m.e); /* not after the section: e may be gone */
		}
		spc_rcu_read_unlock();
		if (ok)
			break;
		/* Another write of the key won: read it again. */
	}
	if (r != SPC_OK) {
		/* Refusals were counted where they were decided (core/wait.c). */
		spc_edit_release(ps, &m);
		return r == SPC_EDIT_DONE ? SPC_OK : r;
	}
	spc_ring_fill(m.cell, m.e);
	if (old)
		spc_note_unpublished(ps, old);
	else
		spc_count(c, pool, SPC_C_ITEMS, 1);
	if (old_expired)
		spc_count(c, pool, SPC_C_EXPIRED, 1);
	if (ed.is_store)
		spc_count(c, pool, SPC_C_INSERTS, 1);
	if (cas_out)
		*cas_out = cas;
	spc_after_write(ps);
	return SPC_OK;
}
