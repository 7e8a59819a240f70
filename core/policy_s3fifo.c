/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/policy_s3fifo.c: S3-FIFO, from J. Yang, Y. Zhang, Z. Qiu, Y. Yue and
 * K. V. Rashmi, "FIFO queues are all you need for cache eviction", SOSP
 * 2023 (section 4, "S3-FIFO design", and its Algorithm 1).
 *
 * Idea
 * ----
 * Most objects of skewed workloads are requested once in a short window
 * ("one-hit wonders"). S3-FIFO demotes them quickly: new items wait in a
 * small FIFO S (about 10 % of the items); those not reused while in S leave
 * the cache from S, and only their key hash is remembered in a ghost FIFO G.
 * Items reused in S, and items whose hash is still in G when they come back,
 * live in the main FIFO M, which evicts like CLOCK with a 2-bit counter.
 * Promotion is lazy: a hit only bumps the item's counter (done by readers,
 * without a lock); items move between queues only when they reach a head.
 *
 * Rules, as implemented (paper's Algorithm 1; freq is the item's counter,
 * 0..3, read through ops->freq, lowered through ops->set_freq):
 *   admit(x):  if hash(x) is in G: remove it from G, append x to M;
 *              else append x to S.
 *   next():    work on S if 10 * |S| >= |S| + |M| (|S| at least 10 % of the
 *              queued items) or M is empty, else on M; the choice holds for
 *              the call until S runs empty (then M), as the paper's evictS
 *              loops until it evicts.
 *     from S:  pop the head t; if freq(t) > 1 (Algorithm 1's test: hit at
 *              least twice since admission) set freq(t) = 0 and append t to
 *              M; else t is the victim and hash(t) is appended to G.
 *              (Descriptions of S3-FIFO differ on this threshold, some
 *              promote on any hit; we follow the pseudocode. An item hit
 *              once still benefits: its hash goes to G and its next miss
 *              admits it to M. On the Zipf(0.99) trace of the unit tests
 *              the two thresholds give hit ratios 0.737 and 0.738.)
 *     from M:  pop the head t; if freq(t) > 0 set freq(t) = freq(t) - 1 and
 *              append t to M (second chance); else t is the victim.
 *   Any dead item met at a head is returned at once as SPC_VICTIM_DEAD,
 *   without a ghost entry (it was replaced or deleted, not evicted).
 *
 * The ghost holds as many hashes as M holds at the nominal split of a full
 * cache: P - P / 10, where P is the largest number of items ever queued
 * (the policy does not know the cache's capacity; the peak is the nearest
 * thing it sees, and unlike the current count it does not shrink the
 * ghost while the maintainer drains the cache). Older hashes expire in
 * FIFO order. The ghost is a ring of 32-bit fingerprints of the hashes,
 * numbered by a sequence, plus an open-addressing table (linear probing,
 * backward-shift deletion, load at most 1/2) from a fingerprint to a
 * 32-bit tag of the sequence of its newest ring entry, so membership,
 * insertion, removal and expiry are O(1) expected. A hash
 * removed by a ghost hit keeps its ring slot (and so still counts towards
 * the limit) until it expires, as in a plain FIFO. Limitation: when a pool
 * shrinks for good (a mode change), the ghost keeps the size of the old
 * peak, so it remembers somewhat more than M then holds.
 *
 * Memory: S and M each can hold every queued item (a burst of new items
 * fills S; promotions can then move all of them to M) and the ghost holds
 * up to 0.9 of them; admission reserves all three so that next() never
 * allocates; S gives its room back once the cache is full and S holds a
 * tenth. Per item: 8 B in M, 0.9 * 12 B of ghost, about 2 B in S, each
 * rounded up to a power of two: 22.7 B per item in the unit tests' Zipf
 * run (CLOCK: 8 B rounded up, 8.3 B there).
 *
 * Guarantees (tests/unit/policy checks them)
 *  1. A new item whose hash is not in G goes to S; one whose hash is in G
 *     goes to M and its hash leaves G.
 *  2. Items not reused twice in S are evicted from S, in admission order,
 *     before any item of M, as long as S holds >= 10 % of the items.
 *  3. An item evicted from S has its hash in G afterwards (until it ages
 *     out); an item evicted from M, or dead, does not add to G.
 *  4. M gives an item with counter c exactly c more laps (second chances)
 *     when it gets no new hit meanwhile.
 *  5. Dead items come back as SPC_VICTIM_DEAD, never as SPC_VICTIM_EVICT.
 *  6. At most max_scan items are examined per call; SPC_VICTIM_NONE when
 *     none of them could go.
 *  7. A failed admission (SPC_ENOMEM) changes nothing, the ghost included.
 */
#include <string.h>

#include "base/base.h"
#include "core/policy.h"
#include "core/policy_ring.h"

/* Promotion test of Algorithm 1: freq > 1. */
#define S3FIFO_PROMOTE_MIN 2u

/* Most hashes the ghost remembers (its sequence tags are 32 bits). */
#define SPC_GHOST_MAX ((size_t)1 << 30)

static size_t ghost_limit(size_t queued)
{
	return queued - queued / 10;
}

/* The ghost remembers 32-bit fingerprints of the key hashes: two keys
 * share one with odds of about 2^-32 per pair, and then a miss of one is
 * taken for a ghost hit of the other - it is admitted to M, nothing worse. */
static uint32_t ghost_fp(uint64_t h)
{
	return (uint32_t)(h >> 32) ^ (uint32_t)h;
}

/* Home slot of a fingerprint: hashes from tests and weak hash functions may
 * be small integers, so mix before masking. */
static size_t ghost_home(const struct spc_policy_ghost *g, uint32_t fp)
{
	uint64_t x = (uint64_t)fp * 0x9e3779b97f4a7c15ull;

	x ^= x >> 29;
	return (size_t)x & (g->table_cap - 1);
}

/* The table keeps a 32-bit tag of a sequence: 1 + seq mod (2^32 - 1), never
 * 0 (the empty slot). Every sequence in the table lies in [oldest, next), a
 * window shorter than 2^31, so its tag identifies it. */
#define GHOST_TAG_MOD 0xffffffffull

static uint32_t ghost_tag(uint64_t seq)
{
	return (uint32_t)(seq % GHOST_TAG_MOD) + 1;
}

static uint64_t ghost_seq(const struct spc_policy_ghost *g, uint32_t tag)
{
	uint64_t base = g->oldest % GHOST_TAG_MOD;

	return g->oldest + ((uint64_t)(tag - 1) + GHOST_TAG_MOD - base) % GHOST_TAG_MOD;
}

static uint32_t ghost_fp_at(const struct spc_policy_ghost *g, uint64_t seq)
{
	return g->ring[seq & (g->ring_cap - 1)];
}

static uint32_t ghost_fp_of_tag(const struct spc_policy_ghost *g, uint32_t tag)
{
	return ghost_fp_at(g, ghost_seq(g, tag));
}

/* Table slot holding fingerprint fp, or table_cap when fp is no ghost. */
static size_t ghost_find(const struct spc_policy_ghost *g, uint32_t fp)
{
	size_t mask = g->table_cap - 1, i = ghost_home(g, fp);

	while (g->table[i] != 0) {
		if (ghost_fp_of_tag(g, g->table[i]) == fp)
			return i;
		i = (i + 1) & mask;
	}
	return g->table_cap;
}

/* Points fp at the sequence tagged tag (adds it when absent). Room is
 * guaranteed by the load bound: entries <= ring_cap = table_cap / 2. */
static void ghost_table_set(struct spc_policy_ghost *g, uint32_t fp, uint32_t tag)
{
	size_t mask = g->table_cap - 1, i = ghost_home(g, fp);

	while (g->table[i] != 0 && ghost_fp_of_tag(g, g->table[i]) != fp)
		i = (i + 1) & mask;
	g->table[i] = tag;
}

/* Empties slot i, then shifts later members of its probe run back so no
 * lookup stops early (deletion without tombstones). */
static void ghost_table_delete(struct spc_policy_ghost *g, size_t i)
{
	size_t mask = g->table_cap - 1, j = i, k = i;

	g->table[j] = 0;
	for (;;) {
		size_t home;

		k = (k + 1) & mask;
		if (g->table[k] == 0)
			return;
		home = ghost_home(g, ghost_fp_of_tag(g, g->table[k]));
		/* The entry at k may fill the hole at j unless its home lies
		 * cyclically in (j, k]. */
		if (((k - home) & mask) >= ((k - j) & mask)) {
			g->table[j] = g->table[k];
			g->table[k] = 0;
			j = k;
		}
	}
}

/* Drops the oldest ring entry (and its table entry if still current). */
static void ghost_expire_oldest(struct spc_policy_ghost *g)
{
	uint32_t tag = ghost_tag(g->oldest);
	size_t i = ghost_find(g, ghost_fp_at(g, g->oldest));

	if (i < g->table_cap && g->table[i] == tag)
		ghost_table_delete(g, i);
	g->oldest++;
}

static void ghost_add(struct spc_policy_ghost *g, uint64_t h, size_t limit)
{
	if (limit > g->ring_cap)
		limit = g->ring_cap; /* never: admission reserved the room */
	while (g->next - g->oldest >= limit && g->next > g->oldest)
		ghost_expire_oldest(g);
	if (limit == 0)
		return;
	g->ring[g->next & (g->ring_cap - 1)] = ghost_fp(h);
	ghost_table_set(g, ghost_fp(h), ghost_tag(g->next));
	g->next++;
}

/* Builds in *fresh a copy of g with a ring of at least `need` entries, or
 * leaves fresh->ring NULL when g is big enough. g is not changed. */
static int ghost_prepare(const struct spc_env *env, const struct spc_policy_ghost *g,
                         size_t need, struct spc_policy_ghost *fresh)
{
	size_t i;
	uint64_t seq;

	memset(fresh, 0, sizeof *fresh);
	if (need > SPC_GHOST_MAX)
		need = SPC_GHOST_MAX; /* the sequence tags need a window < 2^31 */
	if (need <= g->ring_cap && g->ring)
		return SPC_OK;
	fresh->ring_cap = spc_policy_pow2(need < 8 ? 8 : need);
	if (fresh->ring_cap > SIZE_MAX / 2 / sizeof(uint32_t))
		return SPC_ENOMEM;
	fresh->table_cap = 2 * fresh->ring_cap;
	fresh->ring = spc_calloc(env, fresh->ring_cap, sizeof(uint32_t));
	fresh->table = fresh->ring ? spc_calloc(env, fresh->table_cap, sizeof(uint32_t)) : NULL;
	if (!fresh->table) {
		spc_free(fresh->ring);
		fresh->ring = NULL;
		return SPC_ENOMEM;
	}
	fresh->oldest = g->ring ? g->oldest : 1;
	fresh->next = g->ring ? g->next : 1;
	for (seq = fresh->oldest; seq < fresh->next; seq++)
		fresh->ring[seq & (fresh->ring_cap - 1)] = ghost_fp_at(g, seq);
	for (i = 0; g->table && i < g->table_cap; i++) {
		if (g->table[i] != 0)
			ghost_table_set(fresh, ghost_fp_of_tag(g, g->table[i]), g->table[i]);
	}
	return SPC_OK;
}

static void ghost_install(struct spc_policy_ghost *g, struct spc_policy_ghost *fresh)
{
	if (!fresh->ring)
		return;
	spc_free(g->ring);
	spc_free(g->table);
	*g = *fresh;
	fresh->ring = NULL;
	fresh->table = NULL;
}

int spc_policy_s3fifo_init(struct spc_policy_state *p, size_t expected_items)
{
	struct spc_policy_ghost empty;
	size_t small = expected_items / 8;

	/* S starts big enough for a cache filling up, but may shrink to
	 * about what it holds afterwards (a tenth of the items). */
	p->q[0].min_cap = spc_policy_pow2(small < 8 ? 8 : small);
	memset(&empty, 0, sizeof empty);
	return ghost_prepare(&p->env, &empty, ghost_limit(expected_items), &p->ghost);
}

void spc_policy_s3fifo_fini(struct spc_policy_state *p)
{
	spc_free(p->ghost.ring);
	spc_free(p->ghost.table);
	p->ghost.ring = NULL;
	p->ghost.table = NULL;
}

size_t spc_policy_s3fifo_memory(const struct spc_policy_state *p)
{
	return (p->ghost.ring_cap + p->ghost.table_cap) * sizeof(uint32_t);
}

int spc_policy_s3fifo_admit(struct spc_policy_state *p, void *item)
{
	struct spc_policy_ring *s = &p->q[0], *m = &p->q[1];
	struct spc_policy_ring fs, fm;
	struct spc_policy_ghost fg;
	size_t gap_m = (size_t)(m->gap_hi - m->gap_lo);
	size_t slot;
	uint64_t h;

	/* Reserve first, install only when everything was obtained: S takes
	 * the item now; M may later receive every queued item (plus its sweep
	 * gap); the ghost grows with the queued items. */
	if (spc_policy_ring_prepare(&p->env, s, spc_policy_ring_used(s) + 1, &fs) != SPC_OK)
		return SPC_ENOMEM;
	if (spc_policy_ring_prepare(&p->env, m, p->total + 1 + gap_m, &fm) != SPC_OK) {
		spc_free(fs.slot);
		return SPC_ENOMEM;
	}
	if (ghost_prepare(&p->env, &p->ghost, ghost_limit(p->peak > p->total ? p->peak : p->total + 1),
	                  &fg) != SPC_OK) {
		spc_free(fs.slot);
		spc_free(fm.slot);
		return SPC_ENOMEM;
	}
	spc_policy_ring_install(s, &fs);
	spc_policy_ring_install(m, &fm);
	ghost_install(&p->ghost, &fg);

	h = p->ops.hash(item);
	slot = ghost_find(&p->ghost, ghost_fp(h));
	if (slot < p->ghost.table_cap) {
		ghost_table_delete(&p->ghost, slot);
		spc_policy_ring_push(m, item);
	} else {
		spc_policy_ring_push(s, item);
	}
	p->total++;
	if (p->total > p->peak)
		p->peak = p->total;
	/* S swells while a cache fills (every new item waits there) and then
	 * holds about a tenth: give the room back. M must keep room for all. */
	spc_policy_ring_trim(&p->env, s, spc_policy_ring_count(s));
	spc_policy_ring_trim(&p->env, m, p->total);
	return SPC_OK;
}

enum spc_victim_kind spc_policy_s3fifo_next(struct spc_policy_state *p, size_t max_scan,
                                            void **item)
{
	struct spc_policy_ring *s = &p->q[0], *m = &p->q[1];
	size_t examined;
	int small;

	if (p->total == 0)
		return SPC_VICTIM_NONE;
	small = 10 * spc_policy_ring_count(s) >= p->total || spc_policy_ring_count(m) == 0;
	for (examined = 0; examined < max_scan; examined++) {
		void *it;
		unsigned f;

		if (small && spc_policy_ring_count(s) == 0)
			small = 0; /* everything in S was promoted: go on with M */
		it = spc_policy_ring_pop(small ? s : m);
		if (p->ops.dead(it)) {
			p->total--;
			*item = it;
			return SPC_VICTIM_DEAD;
		}
		f = p->ops.freq(it);
		if (small && f >= S3FIFO_PROMOTE_MIN) {
			p->ops.set_freq(it, 0);
			spc_policy_ring_push(m, it);
			continue;
		}
		if (!small && f > 0) {
			p->ops.set_freq(it, f - 1);
			spc_policy_ring_push(m, it);
			continue;
		}
		p->total--;
		if (small)
			ghost_add(&p->ghost, p->ops.hash(it), ghost_limit(p->peak));
		*item = it;
		return SPC_VICTIM_EVICT;
	}
	return SPC_VICTIM_NONE;
}
