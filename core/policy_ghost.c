/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/policy_ghost.c: S3-FIFO's ghost G (core/policy_s3fifo.c): about
 * the last `limit` key hashes evicted from S, in about 1.6 bytes per
 * cached item, as rotating blocked Bloom filters.
 *
 * Idea
 * ----
 * G only answers "was this hash evicted from S lately?", and S3-FIFO
 * tolerates a fuzzy answer: a wrong yes sends a new item to M (where it
 * must earn its keep like any other), a forgotten hash sends a returning
 * item to S. So G keeps no hashes, only Bloom filters (B. H. Bloom,
 * "Space/time trade-offs in hash coding with allowable errors", CACM
 * 1970), and forgets in FIFO order by generations, as aging Bloom
 * filters do: GENS = 4 filters, the newest takes the additions; once it
 * holds cap of them, the oldest - emptied meanwhile - becomes the newest.
 * A lookup asks all four. With cap = 2 * limit / 7, a hash is remembered
 * for between 3 * cap and 4 * cap additions after it was added: 0.86 to
 * 1.14 times the limit, the FIFO of `limit` hashes on average.
 *
 * Each filter is blocked (F. Putze, P. Sanders, J. Singler, "Cache-,
 * hash- and space-efficient Bloom filters", WEA 2007): a hash picks one
 * block of 8 words (one cache line) and sets one bit in each of its 8
 * words, so a lookup reads one line per generation. Blocks are sized for
 * 42 additions (12.2 bits each); a full generation answers a hash it
 * never saw with yes with odds of about 0.4 %, so G as a whole with
 * about 1.2 % (the newest filter is half full on average).
 *
 * Clearing is amortised: the oldest generation is zeroed CLEAR_MAX words
 * per addition during the last additions of the newest, just enough to
 * be empty when the newest is full (a generation of b blocks needs its
 * b last additions). No addition touches more than one block and eight
 * words besides; there is no pause.
 *
 * Removal. A Bloom filter cannot forget one hash exactly: clearing a
 * bit of it may clear the bit of another hash too (at full density, one
 * other hash on average). Algorithm 1 removes a hash from G on a ghost
 * hit; doing that here cost hit ratio on some traces (every ghost hit
 * made other ghosts forget). G instead removes a hash when an item
 * evicted from M (an item that came back through G, most likely) is
 * still in G: spc_policy_ghost_remove clears one of its bits in each
 * generation that holds it. In a cache where a key is admitted again only
 * after it left, that is the same as removing on the hit: between the
 * hit and the eviction from M the key is cached, so nobody asks. What
 * changes: an item replaced or deleted while in M, whose hash was still
 * in G, sends its key's next admission to M again rather than to S.
 * Measured (docs/benchmarks.md, "Hit ratios on every trace"): never
 * more than 0.22 percentage points worse than the exact FIFO of hashes on
 * any trace and size (up to 1.1 points better), 0.09 better on average.
 *
 * Cost: a lookup (admission) mixes the hash once and reads four cache
 * lines; an addition (eviction from S) writes one and clears at most
 * eight words; a removal (eviction from M) reads four lines. All O(1),
 * none allocates. spc_policy_ghost_prefetch asks for those lines ahead
 * of time (core/policy.c, "Lookahead"), so that they seldom stall.
 *
 * Memory: four generations of ceil(cap / 42) blocks of 64 bytes; cap = 2/7 of
 * the limit, the limit 0.9 of the peak items (policy_s3fifo.c): 1.57
 * bytes per cached item, up to 1.76 when growth rounded the room up by
 * an eighth. The exact FIFO it replaced (fingerprints and 16-bit tags in
 * an open-addressing table) took 7 bytes.
 *
 * Layout: block b of the four generations lie side by side (one run of
 * 256 bytes), so a lookup reads one page, not four (ghost_block_n).
 *
 * Growth: generations keep the block count they started with; a bigger
 * room (spc_policy_ghost_prepare, called at admission) allocates a bigger
 * table and copies the old one to its start, where every block keeps
 * its place, so every answer stays the same; generations started
 * afterwards use the new size. The copy costs O(memory), O(log n) times as the room
 * grows by at least an eighth each time; a failed allocation changes
 * nothing.
 *
 * Guarantees (tests/unit/policy checks them; `limit` constant, cap =
 * ceil(2 * limit / 7), b = ceil(cap / 42) blocks per generation)
 *  1. No false negative: a hash added is found during the next 3 * cap -
 *     b additions at least (its generation is not cleared before), unless
 *     spc_policy_ghost_remove met a hash sharing its bit.
 *  2. Forgetting: a hash is not found after 4 * cap - 1 more additions,
 *     except as a false positive. Right after spc_policy_ghost_remove(h),
 *     h is not found; later only if added again or as a false positive.
 *  3. False positives: on a large sample of hashes never added, at most
 *     2 % are found (about 1 % expected).
 *  4. Bounded work: has and remove read GENS blocks; add writes one block
 *     and clears at most CLEAR_MAX words; nothing else, nothing allocates.
 *  5. Growth (spc_policy_ghost_prepare) allocates a new table and changes
 *     nothing when that fails; every answer is the same after it.
 *  6. No clock, no randomness: the same additions and removals give the
 *     same bits.
 */
#include <string.h>

#include "base/base.h"
#include "core/policy.h"
#include "core/policy_ring.h"

#define GENS SPC_POLICY_GHOST_GENS
/* A block: one cache line of 8 words; an addition sets one bit per word. */
#define BLOCK_WORDS 8u
#define BLOCK_BYTES (BLOCK_WORDS * sizeof(uint64_t))
/* Additions a block is sized for: 512 / 42 = 12.2 bits each. */
#define PER_BLOCK 42u
/* Most words of the oldest generation one addition clears. */
#define CLEAR_MAX BLOCK_WORDS

/* Odd multipliers, one per word of a block: bit i of a hash is the top
 * six bits of (low half * SALT[i]) mod 2^32. Fixed: no randomness. */
static const uint32_t SALT[BLOCK_WORDS] = {
	0x3e5fec7bu, 0xe9cab445u, 0xa512af13u, 0x65320a9bu,
	0xa5b21d0bu, 0xbdb989dbu, 0xee374f69u, 0x17eb2ed5u,
};

/* The bits one hash sets or tests: a block number's source (hi, scaled
 * to each generation's block count) and the source of one bit per word
 * (lo, ghost_mask). The masks are computed where they are used, not kept
 * in an array: one built on the stack with 8-byte stores and read back
 * by 16-byte vector loads stalled every addition (a failed store
 * forwarding per pair of words). */
struct ghost_probe {
	uint32_t hi;
	uint32_t lo;
};

/* Hashes from tests and weak hash functions may be small integers: mix
 * all 64 bits into all 64 bits first. */
static uint64_t ghost_mix(uint64_t h)
{
	uint64_t x = h;

	x ^= x >> 32;
	x *= 0x9e3779b97f4a7c15ull;
	x ^= x >> 29;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 32;
	return x;
}

static void ghost_probe(uint64_t h, struct ghost_probe *pr)
{
	uint64_t x = ghost_mix(h);

	pr->hi = (uint32_t)(x >> 32);
	pr->lo = (uint32_t)x;
}

/* The bit of word w: the top six bits of lo * SALT[w] mod 2^32. */
static inline uint64_t ghost_mask(const struct ghost_probe *pr, unsigned w)
{
	return (uint64_t)1 << ((uint32_t)(pr->lo * SALT[w]) >> 26);
}

/* Bytes allocated for slots of `slot` blocks (one line more to align). */
static size_t ghost_bytes(size_t slot)
{
	return GENS * slot * BLOCK_BYTES + SPC_CACHELINE;
}

static size_t ghost_blocks_for(size_t cap)
{
	size_t b = (cap + PER_BLOCK - 1) / PER_BLOCK;

	return b ? b : 1;
}

/* Generation capacity for a limit: the GENS - 1 youngest generations hold
 * about `limit` additions. */
static size_t ghost_cap_for(size_t limit)
{
	size_t c = (2 * limit + 2 * GENS - 2) / (2 * GENS - 1);

	return c ? c : 1;
}

/* Block b of generation i. Interleaved: block b of every generation
 * side by side (GENS lines, 256 bytes), so that a lookup, which reads
 * block b of each generation whenever they have the same size (always,
 * but for the few generations after a growth), reads one run of memory on
 * one page: one TLB entry, not four (the lines were prefetched; the
 * page walks were what still stalled). The address does not depend on
 * the slot size, so growth keeps every block where it was. */
static uint64_t *ghost_block_n(const struct spc_policy_ghost *g, unsigned i, size_t b)
{
	return g->bits + (b * GENS + i) * BLOCK_WORDS;
}

/* The block of generation i where a hash whose mix has high half hi
 * lives (multiply-shift: any block count, no modulo). */
static uint64_t *ghost_block_at(const struct spc_policy_ghost *g, unsigned i, uint32_t hi)
{
	size_t b = (size_t)(((uint64_t)hi * g->gen[i].blocks) >> 32);

	return ghost_block_n(g, i, b);
}

static uint64_t *ghost_block(const struct spc_policy_ghost *g, unsigned i,
                             const struct ghost_probe *pr)
{
	return ghost_block_at(g, i, pr->hi);
}

/* Nonzero when every bit of pr is set in block blk. */
static int ghost_in(const uint64_t *blk, const struct ghost_probe *pr)
{
	uint64_t miss = 0;
	unsigned w;

	for (w = 0; w < BLOCK_WORDS; w++)
		miss |= ghost_mask(pr, w) & ~blk[w];
	return miss == 0;
}

int spc_policy_ghost_has(const struct spc_policy_ghost *g, uint64_t h)
{
	struct ghost_probe pr;
	unsigned i;

	if (!g->bits)
		return 0;
	ghost_probe(h, &pr);
	for (i = 0; i < GENS; i++) {
		if (g->gen[i].blocks != 0 && ghost_in(ghost_block(g, i, &pr), &pr))
			return 1;
	}
	return 0;
}

void spc_policy_ghost_prefetch(const struct spc_policy_ghost *g, uint64_t h, enum spc_ghost_use use)
{
	uint32_t hi;
	unsigned i;

	if (!g->bits)
		return;
	hi = (uint32_t)(ghost_mix(h) >> 32);
	if (use == SPC_GHOST_ADD) {
		/* the newest's block; an addition that rotates first writes
		 * the next generation's instead (one in cap) */
		__builtin_prefetch(ghost_block_at(g, g->cur, hi), 1);
		return;
	}
	for (i = 0; i < GENS; i++)
		if (g->gen[i].blocks != 0)
			__builtin_prefetch(ghost_block_at(g, i, hi));
}

void spc_policy_ghost_remove(struct spc_policy_ghost *g, uint64_t h)
{
	struct ghost_probe pr;
	unsigned i, w;

	if (!g->bits)
		return;
	ghost_probe(h, &pr);
	/* One of the eight bits, the same in every generation, chosen by
	 * bits of hi that the block number hardly depends on. */
	w = pr.hi % BLOCK_WORDS;
	for (i = 0; i < GENS; i++) {
		uint64_t *blk;

		if (g->gen[i].blocks == 0)
			continue;
		blk = ghost_block(g, i, &pr);
		if (ghost_in(blk, &pr))
			blk[w] &= ~ghost_mask(&pr, w);
	}
}

static unsigned ghost_oldest(const struct spc_policy_ghost *g)
{
	return (g->cur + 1) % GENS;
}

/* The oldest generation, now all zero, becomes the newest, sized for
 * `limit`; the next one becomes the oldest, to be cleared. */
static void ghost_rotate(struct spc_policy_ghost *g, size_t limit)
{
	struct spc_policy_ghost_gen *ng;

	g->cur = ghost_oldest(g);
	ng = &g->gen[g->cur];
	ng->cap = ghost_cap_for(limit);
	ng->blocks = ghost_blocks_for(ng->cap);
	ng->adds = 0;
	SPC_DEBUG_CHECK(ng->blocks <= g->slot);
	g->cleared = 0;
}

void spc_policy_ghost_add(struct spc_policy_ghost *g, uint64_t h, size_t limit)
{
	struct spc_policy_ghost_gen *cur, *old;
	struct ghost_probe pr;
	uint64_t *blk;
	size_t words, left, target, n;
	unsigned w;

	if (!g->bits)
		return; /* never: creation sized it */
	if (limit > g->room)
		limit = g->room; /* never: admission reserved the room */
	cur = &g->gen[g->cur];
	old = &g->gen[ghost_oldest(g)];
	/* The oldest is always cleared by the time the newest is full, unless
	 * the limit shrank (never in S3-FIFO: the peak never falls); then the
	 * newest takes more additions until it is. */
	if (cur->adds >= cur->cap && g->cleared >= old->blocks * BLOCK_WORDS) {
		ghost_rotate(g, limit);
		cur = &g->gen[g->cur];
		old = &g->gen[ghost_oldest(g)];
	}
	ghost_probe(h, &pr);
	blk = ghost_block(g, g->cur, &pr);
	for (w = 0; w < BLOCK_WORDS; w++)
		blk[w] |= ghost_mask(&pr, w);
	cur->adds++;
	g->added++;
	/* Clear the oldest during the newest's last additions, CLEAR_MAX
	 * words each: all of it is zero when the newest is full. */
	words = old->blocks * BLOCK_WORDS;
	left = cur->adds >= cur->cap ? 0 : cur->cap - cur->adds;
	target = left >= words / CLEAR_MAX ? 0 : words - left * CLEAR_MAX;
	if (target > g->cleared) {
		n = target - g->cleared;
		if (n > CLEAR_MAX)
			n = CLEAR_MAX;
		for (; n > 0; n--, g->cleared++)
			ghost_block_n(g, ghost_oldest(g), g->cleared / BLOCK_WORDS)
				[g->cleared % BLOCK_WORDS] = 0;
	}
}

int spc_policy_ghost_prepare(const struct spc_env *env, const struct spc_policy_ghost *g,
                             size_t need, struct spc_policy_ghost *fresh)
{
	size_t step;

	if (need > SPC_POLICY_GHOST_MAX)
		need = SPC_POLICY_GHOST_MAX;
	if (g->bits && need <= g->room) {
		/* Every admission asks; nearly all find the room: no
		 * zeroing of the whole struct for them (install and the
		 * callers' frees look at mem only). */
		fresh->mem = NULL;
		fresh->bits = NULL;
		return SPC_OK;
	}
	memset(fresh, 0, sizeof *fresh);
	/* Round up by at most an eighth: growth rebuilds O(log n) times. */
	step = need / 8 < 64 ? 64 : need / 8;
	fresh->room = (need + step - 1) / step * step;
	if (fresh->room > SPC_POLICY_GHOST_MAX)
		fresh->room = SPC_POLICY_GHOST_MAX;
	fresh->slot = ghost_blocks_for(ghost_cap_for(fresh->room));
	/* calloc, aligned by hand: pages are touched as generations fill
	 * (posix_memalign would need a memset of all of them at once). */
	fresh->mem = spc_calloc(env, 1, ghost_bytes(fresh->slot));
	if (!fresh->mem)
		return SPC_ENOMEM;
	fresh->bits = (uint64_t *)(((uintptr_t)fresh->mem + SPC_CACHELINE - 1) &
	                           ~(uintptr_t)(SPC_CACHELINE - 1));
	if (!g->bits)
		return SPC_OK;
	/* Same generations, same blocks: every answer stays the same. */
	memcpy(fresh->gen, g->gen, sizeof fresh->gen);
	fresh->cur = g->cur;
	fresh->cleared = g->cleared;
	fresh->added = g->added;
	/* Block b of generation i has the same address in both (the
	 * interleaved layout: ghost_block_n): the old blocks are the new
	 * table's first ones. */
	SPC_DEBUG_CHECK(fresh->slot >= g->slot);
	memcpy(fresh->bits, g->bits, GENS * g->slot * BLOCK_BYTES);
	return SPC_OK;
}

void spc_policy_ghost_install(struct spc_policy_ghost *g, struct spc_policy_ghost *fresh)
{
	if (!fresh->mem)
		return;
	spc_free(g->mem);
	*g = *fresh;
	fresh->mem = NULL;
	fresh->bits = NULL;
}

void spc_policy_ghost_fini(struct spc_policy_ghost *g)
{
	spc_free(g->mem);
	memset(g, 0, sizeof *g);
}

size_t spc_policy_ghost_memory(const struct spc_policy_ghost *g)
{
	return g->mem ? ghost_bytes(g->slot) : 0;
}
