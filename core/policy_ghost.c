/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/policy_ghost.c: S3-FIFO's ghost G (core/policy_s3fifo.c): the key
 * hashes of the last items evicted from S, as one open-addressing table.
 *
 * Idea
 * ----
 * G is a FIFO of hashes: a hash added when its item leaves S is forgotten
 * after `limit` more additions, or at once when a new item with that hash
 * is admitted (a ghost hit, which sends the item to M). A FIFO queue of
 * the hashes next to a hash table makes that exact but stores every hash
 * twice. Here each addition gets a number from a sequence (next, then
 * next + 1, ...) and the table alone remembers, per 32-bit fingerprint of
 * a hash, the number of its newest addition. The FIFO is then implicit:
 * an entry whose number is below `oldest` is absent, oldest being moved
 * on by each addition so that at most `limit` numbers lie in [oldest,
 * next). A ghost hit empties the slot; its number still counts towards the
 * limit, as a removed entry of a FIFO keeps its place until it expires.
 *
 * Table: linear probing from a home slot (the fingerprint, mixed, scaled
 * to the table size, which need not be a power of two), deletion by
 * backward shift (no tombstones). A slot is 6 bytes: the fingerprint
 * (0 marks an empty slot; a fingerprint 0 is stored as 1) and a 16-bit tag
 * (number >> shift) mod 2^16. shift is the smallest with room >> shift <
 * 2^14, so live entries are less than 2^14 + 2 tags old and the tag of an
 * entry gives its full number back (up to the shift). With shift 0 - any
 * ghost of less than 16,384 hashes - the ghost is exactly the FIFO; above,
 * an entry may outlive its FIFO expiry by less than 2^shift additions,
 * one in 2^14 of the ghost.
 *
 * Expired entries are not found by a lookup but still fill slots; a scrub
 * cursor examines SCRUB_STEP slots per addition and deletes the expired
 * ones, so an entry is deleted about cap / SCRUB_STEP additions (about a
 * twelfth of the ghost) after it expired, long before its tag could wrap
 * (2^16 tags). An addition that finds the table 7/8 full scrubs all of it
 * first, so the table never fills whatever the scrub missed. An addition
 * reuses the first expired slot on its probe path.
 *
 * Cost: an addition examines SCRUB_STEP slots besides its probe, and the
 * table runs at a load near 0.8 where a ring-and-table ghost ran below
 * 0.5: on a replay of a real trace (20,000 items, 500,000 misses) the
 * policy's share of the time about doubled against that design, some
 * 100 ns per eviction from S. That is the price of the memory below; a
 * lower load would buy it back at about 1 byte per item for each 0.1.
 *
 * Memory: cap = 1.3 * room slots of 6 bytes, room being the most live
 * entries (the limit, rounded up by at most an eighth so that growing
 * with the cache rebuilds the table O(log n) times): about 7 to 8 bytes
 * per ghost entry, 6.3 to 7.1 bytes per cached item of S3-FIFO.
 *
 * Guarantees (tests/unit/policy checks them; the model test compares the
 * ghost with a plain FIFO of hashes, starting just before a tag wrap)
 *  1. Below 16,384 hashes, membership is exactly that of a FIFO of `limit`
 *     hashes from which ghost hits are removed (fingerprint collisions of
 *     odds 2^-32 per pair aside).
 *  2. Lookups, additions and removals are O(1) expected; an addition does
 *     at most SCRUB_STEP extra slot examinations, except the rare full
 *     scrub that keeps the table at most 7/8 full.
 *  3. Growth (ghost_prepare) allocates a new table and changes nothing
 *     when that fails; membership is the same after it.
 *  4. No clock, no randomness: the same additions give the same table.
 */
#include <string.h>

#include "base/base.h"
#include "core/policy.h"
#include "core/policy_ring.h"

#define SCRUB_STEP 16u
#define TAG_BITS 16u
#define TAG_MASK 0xffffu

uint32_t spc_policy_ghost_fp(uint64_t h)
{
	uint32_t fp = (uint32_t)(h >> 32) ^ (uint32_t)h;

	return fp ? fp : 1;
}

static uint16_t *ghost_tags(const struct spc_policy_ghost *g)
{
	return (uint16_t *)(void *)(g->fp + g->cap);
}

/* Hashes from tests and weak hash functions may be small integers: mix,
 * then scale to [0, cap) (Lemire's multiply-shift). */
static size_t ghost_home(const struct spc_policy_ghost *g, uint32_t fp)
{
	uint64_t x = (uint64_t)fp * 0x9e3779b97f4a7c15ull;

	return (size_t)(((x >> 32) * (uint64_t)g->cap) >> 32);
}

static size_t ghost_step(const struct spc_policy_ghost *g, size_t i)
{
	return i + 1 == g->cap ? 0 : i + 1;
}

/* Full tag (number >> shift) of slot i: the latest one with those 16 low
 * bits not after the next number. */
static uint64_t ghost_epoch(const struct spc_policy_ghost *g, size_t i)
{
	uint64_t now = g->next >> g->shift;

	return now - ((now - ghost_tags(g)[i]) & TAG_MASK);
}

/* Entries are live when their age in tags (now - tag, mod 2^16, now =
 * next >> shift) is at most max_age = now - (oldest >> shift): epoch >=
 * oldest >> shift. Loops compute both once. */
static inline uint64_t ghost_now(const struct spc_policy_ghost *g)
{
	return g->next >> g->shift;
}

static inline uint64_t ghost_max_age(const struct spc_policy_ghost *g)
{
	return ghost_now(g) - (g->oldest >> g->shift);
}

static inline int ghost_expired(const uint16_t *tag, size_t i, uint64_t now, uint64_t max_age)
{
	return ((now - tag[i]) & TAG_MASK) > max_age;
}

static int ghost_live(const struct spc_policy_ghost *g, size_t i)
{
	return g->fp[i] != 0 && !ghost_expired(ghost_tags(g), i, ghost_now(g), ghost_max_age(g));
}

/* Cyclic distance from slot a forward to slot b. */
static size_t ghost_dist(const struct spc_policy_ghost *g, size_t a, size_t b)
{
	return b >= a ? b - a : b + g->cap - a;
}

size_t spc_policy_ghost_find(const struct spc_policy_ghost *g, uint32_t fp)
{
	size_t i;

	if (g->cap == 0)
		return 0;
	for (i = ghost_home(g, fp); g->fp[i] != 0; i = ghost_step(g, i)) {
		if (g->fp[i] == fp)
			return ghost_live(g, i) ? i : g->cap;
	}
	return g->cap;
}

void spc_policy_ghost_delete(struct spc_policy_ghost *g, size_t i)
{
	uint16_t *tag = ghost_tags(g);
	size_t j = i, k = i;

	g->fp[j] = 0;
	g->count--;
	for (;;) {
		size_t home;

		k = ghost_step(g, k);
		if (g->fp[k] == 0)
			return;
		home = ghost_home(g, g->fp[k]);
		/* The entry at k may fill the hole at j unless its home lies
		 * cyclically in (j, k]. */
		if (ghost_dist(g, home, k) >= ghost_dist(g, j, k)) {
			g->fp[j] = g->fp[k];
			tag[j] = tag[k];
			g->fp[k] = 0;
			j = k;
		}
	}
}

/* Examines up to n slots from the scrub cursor, deleting expired entries
 * (a deletion may shift a later entry into the slot: examined again). */
static void ghost_scrub(struct spc_policy_ghost *g, size_t n)
{
	const uint16_t *tag = ghost_tags(g);
	uint64_t now = ghost_now(g), max_age = ghost_max_age(g);
	size_t i = g->scrub;

	while (n-- > 0) {
		if (g->fp[i] != 0 && ghost_expired(tag, i, now, max_age))
			spc_policy_ghost_delete(g, i);
		else
			i = ghost_step(g, i);
	}
	g->scrub = i;
}

static void ghost_scrub_all(struct spc_policy_ghost *g)
{
	const uint16_t *tag = ghost_tags(g);
	uint64_t now = ghost_now(g), max_age = ghost_max_age(g);
	size_t i;

	for (i = 0; i < g->cap; i++) {
		while (g->fp[i] != 0 && ghost_expired(tag, i, now, max_age))
			spc_policy_ghost_delete(g, i);
	}
}

/* Puts fp with tag t in the table: its own slot if it has one, else the
 * first expired slot on its probe path, else the empty slot ending it. */
static void ghost_put(struct spc_policy_ghost *g, uint32_t fp, uint16_t t)
{
	uint16_t *tag = ghost_tags(g);
	uint64_t now = ghost_now(g), max_age = ghost_max_age(g);
	size_t i, reuse = g->cap;

	for (i = ghost_home(g, fp); g->fp[i] != 0; i = ghost_step(g, i)) {
		if (g->fp[i] == fp) {
			tag[i] = t;
			return;
		}
		if (reuse == g->cap && ghost_expired(tag, i, now, max_age))
			reuse = i;
	}
	if (reuse == g->cap) {
		reuse = i;
		g->count++;
	}
	g->fp[reuse] = fp;
	tag[reuse] = t;
}

void spc_policy_ghost_add(struct spc_policy_ghost *g, uint64_t h, size_t limit)
{
	if (limit > g->room)
		limit = g->room; /* never: admission reserved the room */
	if (limit == 0) {
		g->oldest = g->next;
		return;
	}
	if (g->next - g->oldest >= limit)
		g->oldest = g->next - limit + 1;
	if (g->count + 1 > g->cap - g->cap / 8)
		ghost_scrub_all(g);
	ghost_scrub(g, SCRUB_STEP);
	ghost_put(g, spc_policy_ghost_fp(h), (uint16_t)((g->next >> g->shift) & TAG_MASK));
	g->next++;
}

int spc_policy_ghost_prepare(const struct spc_env *env, const struct spc_policy_ghost *g,
                             size_t need, struct spc_policy_ghost *fresh)
{
	size_t i, step;

	memset(fresh, 0, sizeof *fresh);
	if (need > SPC_POLICY_GHOST_MAX)
		need = SPC_POLICY_GHOST_MAX;
	if (g->fp && need <= g->room)
		return SPC_OK;
	/* Round up by at most an eighth: growth rebuilds O(log n) times. */
	step = need / 8 < 64 ? 64 : need / 8;
	fresh->room = (need + step - 1) / step * step;
	if (fresh->room > SPC_POLICY_GHOST_MAX)
		fresh->room = SPC_POLICY_GHOST_MAX;
	fresh->cap = fresh->room + fresh->room / 4 + fresh->room / 16 + 2;
	fresh->fp = spc_calloc(env, fresh->cap, sizeof(uint32_t) + sizeof(uint16_t));
	if (!fresh->fp)
		return SPC_ENOMEM;
	fresh->shift = g->fp ? g->shift : 0;
	while ((fresh->room >> fresh->shift) >= ((size_t)1 << (TAG_BITS - 2)))
		fresh->shift++;
	fresh->oldest = g->fp ? g->oldest : 1;
	fresh->next = g->fp ? g->next : 1;
	for (i = 0; g->fp && i < g->cap; i++) {
		if (ghost_live(g, i)) {
			uint64_t epoch = ghost_epoch(g, i) >> (fresh->shift - g->shift);

			ghost_put(fresh, g->fp[i], (uint16_t)(epoch & TAG_MASK));
		}
	}
	return SPC_OK;
}

void spc_policy_ghost_install(struct spc_policy_ghost *g, struct spc_policy_ghost *fresh)
{
	if (!fresh->fp)
		return;
	spc_free(g->fp);
	*g = *fresh;
	fresh->fp = NULL;
}

void spc_policy_ghost_fini(struct spc_policy_ghost *g)
{
	spc_free(g->fp);
	memset(g, 0, sizeof *g);
}

size_t spc_policy_ghost_memory(const struct spc_policy_ghost *g)
{
	return g->cap * (sizeof(uint32_t) + sizeof(uint16_t));
}
