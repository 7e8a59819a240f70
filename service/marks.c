/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/marks.c: item marks for the meta commands, by cas.
 *
 * memcached keeps in each item's header whether it was fetched, when it
 * was last accessed, whether it is stale and whether a client already
 * holds its win token. The library's entries carry flags, expiry and cas
 * only, so the service keeps these marks beside the cache: one 64-bit
 * word per slot, slot = cas mod 2^SPC_SRV_MARKS_BITS. Cas values come
 * from one counter that every store advances, so consecutive items take
 * consecutive slots and the table holds the last 131,072 items written
 * without any collision between them; an older item's marks are lost
 * when its slot is reused (it then reads as never fetched, not stale, no
 * token: docs/protocol.md says so).
 *
 * A word is tag (cas >> BITS, 28 bits) << 36 | marks << 32 | last access
 * (32 bits of unix seconds); 0 is an empty slot (real seconds are never
 * 0). A slot holding a newer item (a larger tag) is never overwritten by
 * an older one. The whole state of a slot is one word, so every change is
 * one compare-and-swap: the win token is claimed by exactly one caller.
 *
 * The table is 1 MiB of the service's own memory, outside the pools'
 * budgets, fixed at start. Under -C every item reads with cas 0: cas 0
 * is never tracked (every item reads as unknown, every claim wins).
 */
#include "service/marks.h"

#include <stdlib.h>

#include "splitcache.h"

#define NSLOTS (UINT64_C(1) << SPC_SRV_MARKS_BITS)
#define TAG_SHIFT 36
#define TAG_MASK ((UINT64_C(1) << 28) - 1)
#define MARK_SHIFT 32
#define MARK_MASK UINT64_C(0xf)
#define TIME_MASK UINT64_C(0xffffffff)
/* memcached moves an item's last access at most once a minute. */
#define UPDATE_INTERVAL 60

static uint64_t tag_of(uint64_t cas)
{
	return (cas >> SPC_SRV_MARKS_BITS) & TAG_MASK;
}

static uint64_t *slot_of(const struct spc_srv_marks *t, uint64_t cas)
{
	return &t->slot[cas & (NSLOTS - 1)];
}

static uint64_t word(uint64_t cas, unsigned marks, uint64_t atime)
{
	return tag_of(cas) << TAG_SHIFT | ((uint64_t)marks & MARK_MASK) << MARK_SHIFT |
	       (atime & TIME_MASK);
}

int spc_srv_marks_init(struct spc_srv_marks *t)
{
	t->slot = calloc(NSLOTS, sizeof *t->slot);
	return t->slot ? SPC_OK : SPC_ENOMEM;
}

void spc_srv_marks_fini(struct spc_srv_marks *t)
{
	free(t->slot);
	t->slot = NULL;
}

bool spc_srv_marks_get(const struct spc_srv_marks *t, uint64_t cas, struct spc_srv_mark *out)
{
	/* Relaxed: the word is read whole; marks are hints about an item
	 * whose value the caller read under the cache's own ordering. */
	uint64_t w = cas ? __atomic_load_n(slot_of(t, cas), __ATOMIC_RELAXED) : 0;

	out->marks = 0;
	out->atime = 0;
	if (w == 0 || (w >> TAG_SHIFT) != tag_of(cas))
		return false;
	out->marks = (unsigned)((w >> MARK_SHIFT) & MARK_MASK);
	out->atime = w & TIME_MASK;
	return true;
}

/* Applies f to the slot of cas until the compare-and-swap holds. An
 * empty slot or an older item's is taken over as `fresh`; a newer item's
 * is left alone (returns false). */
static bool update(struct spc_srv_marks *t, uint64_t cas, uint64_t fresh,
		   uint64_t (*f)(uint64_t w, uint64_t arg), uint64_t arg, uint64_t *before)
{
	uint64_t *p = slot_of(t, cas);

	if (cas == 0)
		return false; /* -C: items have no identity to keep marks by */
	/* Relaxed load and CAS: the slot's one word is the whole state, and
	 * no other memory is published through it; the RMW alone makes the
	 * win-token claim exclusive. */
	uint64_t w = __atomic_load_n(p, __ATOMIC_RELAXED), nw;

	for (;;) {
		bool mine = w != 0 && (w >> TAG_SHIFT) == tag_of(cas);

		if (!mine && w != 0 && (w >> TAG_SHIFT) > tag_of(cas))
			return false;
		*before = mine ? w : 0;
		nw = mine ? f(w, arg) : fresh;
		if (nw == w)
			return true;
		if (__atomic_compare_exchange_n(p, &w, nw, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return true;
	}
}

static uint64_t set_word(uint64_t w, uint64_t arg)
{
	(void)w;
	return arg;
}

void spc_srv_marks_put(struct spc_srv_marks *t, uint64_t cas, unsigned marks, uint64_t atime)
{
	uint64_t nw = word(cas, marks, atime), before;

	update(t, cas, nw, set_word, nw, &before);
}

static uint64_t fetch_word(uint64_t w, uint64_t now)
{
	w |= (uint64_t)SPC_SRV_MARK_FETCHED << MARK_SHIFT;
	if ((now & TIME_MASK) - (w & TIME_MASK) >= UPDATE_INTERVAL)
		w = (w & ~TIME_MASK) | (now & TIME_MASK);
	return w;
}

void spc_srv_marks_fetch(struct spc_srv_marks *t, uint64_t cas, uint64_t now)
{
	uint64_t before;

	update(t, cas, word(cas, SPC_SRV_MARK_FETCHED, now), fetch_word, now, &before);
}

static uint64_t won_word(uint64_t w, uint64_t arg)
{
	(void)arg;
	return w | (uint64_t)SPC_SRV_MARK_WON << MARK_SHIFT;
}

bool spc_srv_marks_claim(struct spc_srv_marks *t, uint64_t cas, uint64_t now)
{
	uint64_t before = 0;

	/* A slot a newer item holds cannot keep this one's token: every
	 * caller wins rather than none (docs/protocol.md). */
	if (!update(t, cas, word(cas, SPC_SRV_MARK_WON, now), won_word, 0, &before))
		return true;
	return !((before >> MARK_SHIFT) & SPC_SRV_MARK_WON);
}
