/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/hidx.c: the view pool's per-height index (core/hidx.h).
 *
 * What it must do, on the maintainer alone: file every height entry when
 * it is admitted, drop it before it can be freed (eviction, reclamation of
 * a replaced or deleted entry), and hand out every entry at or above a
 * height when a reorganisation cuts the chain, in time proportional to
 * what it removes, with bounded work per maintainer step. Heights mostly
 * grow one by one (an indexer following a chain), reorganisations cut a
 * short suffix, and query caches also file entries at old heights.
 *
 * Three arrays, indexed by 32-bit numbers (stable: arrays grow by copying,
 * never move an element to another index):
 *
 *   nodes  one per height present: {height, head, left, right, dnext}.
 *          The live nodes form a treap ordered by height, heap-ordered by
 *          a seeded hash of the height (Seidel & Aragon, "Randomized
 *          search trees", 1996: expected O(log n) depth whatever the
 *          insertion order, so monotone heights do not make a list; the
 *          hash instead of a random number keeps the maintainer
 *          deterministic). head: the node's first slot.
 *   slots  one per item: {item, next, prev, node}: the node's doubly
 *          linked list, and the way back from an item to its node.
 *   table  open addressing (linear probing, load <= 3/4, backward-shift
 *          deletion: Knuth, TAOCP 6.4, Algorithm R), item pointer -> slot.
 *
 * Cut(from): split the treap at from (O(log n)); the right part is pushed
 * on the "doomed" list (linked through dnext). Take(): looks at the first
 * doomed subtree root: if its list has a slot, unfile and return that
 * item; if not, replace the root in the doomed list by its two children
 * and free it. Each node and slot is visited once: amortised O(1) per
 * item, O(1) extra space (the subtrees' own links are the work list).
 *
 * Remove(item): table -> slot -> unlink from its node's list; a live node
 * whose list empties leaves the treap (O(log n)). A node of a doomed
 * subtree stays until Take frees it. A node is live iff the treap search
 * for its height finds that very node (a later entry at a cut height makes
 * a new live node with the same height).
 *
 * Guarantees (tests/unit/core/test_hidx.c checks them against a model):
 *  1. Take hands out exactly the items filed at heights >= from at the cut
 *     and not removed since, each once;
 *  2. items filed after a cut are never handed out by it;
 *  3. an item removed is never handed out; Remove finds items in cuts;
 *  4. on SPC_ENOMEM from Add the index is as before (only capacities may
 *     have grown).
 */
#include "core/hidx.h"

#include <string.h>

#include "base/base.h"

#define SPC_HIDX_NIL UINT32_MAX
#define SPC_HIDX_MIN_CAP 64u
/* Indices are 32-bit and NIL is reserved: no table beyond 2^31 entries. */
#define SPC_HIDX_MAX_CAP (UINT32_C(1) << 31)
/* Table grows past 3/4 load: short probes, 1.33..2.67 cells per item. */
#define SPC_HIDX_LOAD_NUM 3u
#define SPC_HIDX_LOAD_DEN 4u
/* Cells per item charged: the table's mean load between its doublings. */
#define SPC_HIDX_CELLS_PER_ITEM 2u
/* Odd 64-bit multipliers (golden ratio, Murmur3's finaliser). */
#define SPC_HIDX_MUL1 UINT64_C(0x9e3779b97f4a7c15)
#define SPC_HIDX_MUL2 UINT64_C(0xff51afd7ed558ccd)

struct spc_hidx_node {
	uint64_t height;
	uint32_t head;  /* first slot, NIL when empty */
	uint32_t left;  /* treap children; left is the free-list link */
	uint32_t right;
	uint32_t dnext; /* next doomed subtree root (doomed roots only) */
};

struct spc_hidx_slot {
	void *item;
	uint32_t next; /* in the node's list; the free-list link */
	uint32_t prev;
	uint32_t node;
};

struct spc_hidx {
	const struct spc_env *env;
	uint64_t seed;
	struct spc_hidx_node *nodes;
	struct spc_hidx_slot *slots;
	uint32_t *table;      /* slot index per cell, NIL: empty */
	uint32_t node_cap, slot_cap, table_cap;
	uint32_t node_free, slot_free;
	uint32_t root;        /* the treap of live heights */
	uint32_t doomed;      /* cut subtrees not yet taken */
	size_t count;         /* items filed */
};

static uint64_t spc_hidx_mix(uint64_t v)
{
	v ^= v >> 33;
	v *= SPC_HIDX_MUL2;
	v ^= v >> 33;
	v *= SPC_HIDX_MUL1;
	v ^= v >> 33;
	return v;
}

static uint64_t spc_hidx_prio(const struct spc_hidx *x, uint32_t n)
{
	return spc_hidx_mix(x->nodes[n].height ^ x->seed);
}

static uint32_t spc_hidx_cell0(const struct spc_hidx *x, const void *item)
{
	return (uint32_t)spc_hidx_mix((uint64_t)(uintptr_t)item) & (x->table_cap - 1);
}

/* ---- growth (every allocation happens here, before any change) ----------- */

/* Doubles an array of elem-byte elements (to SPC_HIDX_MIN_CAP at first),
 * the new elements zeroed, and frees the old one. Returns the new array,
 * or NULL with the old one and *cap unchanged. */
static void *spc_hidx_grow_array(const struct spc_env *env, void *arr, uint32_t *cap, size_t elem)
{
	uint32_t n = *cap ? *cap * 2 : SPC_HIDX_MIN_CAP;
	void *a;

	if (*cap >= SPC_HIDX_MAX_CAP)
		return NULL;
	a = spc_calloc(env, n, elem);
	if (!a)
		return NULL;
	if (*cap)
		memcpy(a, arr, (size_t)*cap * elem);
	spc_free(arr);
	*cap = n;
	return a;
}

static int spc_hidx_grow_nodes(struct spc_hidx *x)
{
	uint32_t old = x->node_cap;
	struct spc_hidx_node *n = spc_hidx_grow_array(x->env, x->nodes, &x->node_cap, sizeof *n);

	if (!n)
		return SPC_ENOMEM;
	x->nodes = n;
	for (uint32_t i = x->node_cap; i-- > old;) {
		n[i].left = x->node_free;
		x->node_free = i;
	}
	return SPC_OK;
}

static int spc_hidx_grow_slots(struct spc_hidx *x)
{
	uint32_t old = x->slot_cap;
	struct spc_hidx_slot *s = spc_hidx_grow_array(x->env, x->slots, &x->slot_cap, sizeof *s);

	if (!s)
		return SPC_ENOMEM;
	x->slots = s;
	for (uint32_t i = x->slot_cap; i-- > old;) {
		s[i].next = x->slot_free;
		x->slot_free = i;
	}
	return SPC_OK;
}

/* Rebuilds the table at twice the size (items keep their slots). */
static int spc_hidx_grow_table(struct spc_hidx *x)
{
	uint32_t cap = x->table_cap ? x->table_cap * 2 : SPC_HIDX_MIN_CAP;
	uint32_t *old = x->table, old_cap = x->table_cap;

	if (x->table_cap >= SPC_HIDX_MAX_CAP)
		return SPC_ENOMEM;
	x->table = spc_calloc(x->env, cap, sizeof *x->table);
	if (!x->table) {
		x->table = old;
		return SPC_ENOMEM;
	}
	memset(x->table, 0xff, (size_t)cap * sizeof *x->table); /* all NIL */
	x->table_cap = cap;
	for (uint32_t i = 0; i < old_cap; i++) {
		uint32_t s = old[i], c;

		if (s == SPC_HIDX_NIL)
			continue;
		for (c = spc_hidx_cell0(x, x->slots[s].item); x->table[c] != SPC_HIDX_NIL;
		     c = (c + 1) & (cap - 1))
			;
		x->table[c] = s;
	}
	spc_free(old);
	return SPC_OK;
}

/* ---- the table ----------------------------------------------------------------- */

/* The cell holding item, or NIL. */
static uint32_t spc_hidx_find_cell(const struct spc_hidx *x, const void *item)
{
	uint32_t mask = x->table_cap - 1;

	for (uint32_t c = spc_hidx_cell0(x, item);; c = (c + 1) & mask) {
		uint32_t s = x->table[c];

		if (s == SPC_HIDX_NIL)
			return SPC_HIDX_NIL;
		if (x->slots[s].item == item)
			return c;
	}
}

/* Empties cell c and shifts back the entries of its probe run that would
 * no longer be found (Algorithm R), so no tombstones are needed. */
static void spc_hidx_clear_cell(struct spc_hidx *x, uint32_t c)
{
	uint32_t mask = x->table_cap - 1, j = c;

	for (;;) {
		uint32_t home;

		j = (j + 1) & mask;
		if (x->table[j] == SPC_HIDX_NIL)
			break;
		home = spc_hidx_cell0(x, x->slots[x->table[j]].item);
		/* The entry at j stays if its home lies cyclically in (c, j]. */
		if (c <= j ? (c < home && home <= j) : (c < home || home <= j))
			continue;
		x->table[c] = x->table[j];
		c = j;
	}
	x->table[c] = SPC_HIDX_NIL;
}

/* ---- the treap ------------------------------------------------------------------ */

/* Splits t into heights < h (*l) and >= h (*r). */
static void spc_hidx_split(struct spc_hidx *x, uint32_t t, uint64_t h, uint32_t *l, uint32_t *r)
{
	if (t == SPC_HIDX_NIL) {
		*l = *r = SPC_HIDX_NIL;
	} else if (x->nodes[t].height < h) {
		spc_hidx_split(x, x->nodes[t].right, h, &x->nodes[t].right, r);
		*l = t;
	} else {
		spc_hidx_split(x, x->nodes[t].left, h, l, &x->nodes[t].left);
		*r = t;
	}
}

/* Joins a and b, every height of a below every height of b. */
static uint32_t spc_hidx_merge(struct spc_hidx *x, uint32_t a, uint32_t b)
{
	if (a == SPC_HIDX_NIL)
		return b;
	if (b == SPC_HIDX_NIL)
		return a;
	if (spc_hidx_prio(x, a) >= spc_hidx_prio(x, b)) {
		uint32_t m = spc_hidx_merge(x, x->nodes[a].right, b);

		x->nodes[a].right = m;
		return a;
	} else {
		uint32_t m = spc_hidx_merge(x, a, x->nodes[b].left);

		x->nodes[b].left = m;
		return b;
	}
}

/* Inserts node n (its height absent from t); returns the new root. */
static uint32_t spc_hidx_insert(struct spc_hidx *x, uint32_t t, uint32_t n)
{
	uint32_t sub;

	if (t == SPC_HIDX_NIL)
		return n;
	if (spc_hidx_prio(x, n) > spc_hidx_prio(x, t)) {
		spc_hidx_split(x, t, x->nodes[n].height, &x->nodes[n].left, &x->nodes[n].right);
		return n;
	}
	if (x->nodes[n].height < x->nodes[t].height) {
		sub = spc_hidx_insert(x, x->nodes[t].left, n);
		x->nodes[t].left = sub;
	} else {
		sub = spc_hidx_insert(x, x->nodes[t].right, n);
		x->nodes[t].right = sub;
	}
	return t;
}

/* Removes the node of height h from t; returns the new root. */
static uint32_t spc_hidx_erase(struct spc_hidx *x, uint32_t t, uint64_t h)
{
	uint32_t sub;

	if (t == SPC_HIDX_NIL)
		return t;
	if (h < x->nodes[t].height) {
		sub = spc_hidx_erase(x, x->nodes[t].left, h);
		x->nodes[t].left = sub;
	} else if (h > x->nodes[t].height) {
		sub = spc_hidx_erase(x, x->nodes[t].right, h);
		x->nodes[t].right = sub;
	} else {
		return spc_hidx_merge(x, x->nodes[t].left, x->nodes[t].right);
	}
	return t;
}

static uint32_t spc_hidx_lookup(const struct spc_hidx *x, uint64_t h)
{
	uint32_t t = x->root;

	while (t != SPC_HIDX_NIL && x->nodes[t].height != h)
		t = h < x->nodes[t].height ? x->nodes[t].left : x->nodes[t].right;
	return t;
}

static void spc_hidx_free_node(struct spc_hidx *x, uint32_t n)
{
	x->nodes[n].left = x->node_free;
	x->node_free = n;
}

/* Unlinks slot s from its node's list, empties its cell, frees it. */
static void spc_hidx_unfile(struct spc_hidx *x, uint32_t s, uint32_t cell)
{
	struct spc_hidx_slot *sl = &x->slots[s];

	if (sl->prev != SPC_HIDX_NIL)
		x->slots[sl->prev].next = sl->next;
	else
		x->nodes[sl->node].head = sl->next;
	if (sl->next != SPC_HIDX_NIL)
		x->slots[sl->next].prev = sl->prev;
	spc_hidx_clear_cell(x, cell);
	sl->item = NULL;
	sl->next = x->slot_free;
	x->slot_free = s;
	x->count--;
}

/* ---- the interface ---------------------------------------------------------------- */

int spc_hidx_create(const struct spc_env *env, uint64_t seed, struct spc_hidx **out)
{
	struct spc_hidx *x = spc_calloc(env, 1, sizeof *x);

	*out = NULL;
	if (!x)
		return SPC_ENOMEM;
	x->env = env;
	x->seed = seed;
	x->node_free = x->slot_free = SPC_HIDX_NIL;
	x->root = x->doomed = SPC_HIDX_NIL;
	if (spc_hidx_grow_nodes(x) != SPC_OK || spc_hidx_grow_slots(x) != SPC_OK ||
	    spc_hidx_grow_table(x) != SPC_OK) {
		spc_hidx_destroy(x);
		return SPC_ENOMEM;
	}
	*out = x;
	return SPC_OK;
}

void spc_hidx_destroy(struct spc_hidx *x)
{
	if (!x)
		return;
	spc_free(x->nodes);
	spc_free(x->slots);
	spc_free(x->table);
	spc_free(x);
}

int spc_hidx_add(struct spc_hidx *x, void *item, uint64_t height)
{
	uint32_t n, s, c;

	/* Room first, so a failure changes nothing but capacities. */
	if (x->slot_free == SPC_HIDX_NIL && spc_hidx_grow_slots(x) != SPC_OK)
		return SPC_ENOMEM;
	if (x->node_free == SPC_HIDX_NIL && spc_hidx_grow_nodes(x) != SPC_OK)
		return SPC_ENOMEM;
	if ((uint64_t)(x->count + 1) * SPC_HIDX_LOAD_DEN > (uint64_t)x->table_cap * SPC_HIDX_LOAD_NUM &&
	    spc_hidx_grow_table(x) != SPC_OK)
		return SPC_ENOMEM;
	SPC_DEBUG_CHECK(spc_hidx_find_cell(x, item) == SPC_HIDX_NIL);
	n = spc_hidx_lookup(x, height);
	if (n == SPC_HIDX_NIL) {
		n = x->node_free;
		x->node_free = x->nodes[n].left;
		x->nodes[n] = (struct spc_hidx_node){ height, SPC_HIDX_NIL, SPC_HIDX_NIL, SPC_HIDX_NIL,
		                                      SPC_HIDX_NIL };
		x->root = spc_hidx_insert(x, x->root, n);
	}
	s = x->slot_free;
	x->slot_free = x->slots[s].next;
	x->slots[s] = (struct spc_hidx_slot){ item, x->nodes[n].head, SPC_HIDX_NIL, n };
	if (x->nodes[n].head != SPC_HIDX_NIL)
		x->slots[x->nodes[n].head].prev = s;
	x->nodes[n].head = s;
	for (c = spc_hidx_cell0(x, item); x->table[c] != SPC_HIDX_NIL; c = (c + 1) & (x->table_cap - 1))
		;
	x->table[c] = s;
	x->count++;
	return SPC_OK;
}

int spc_hidx_remove(struct spc_hidx *x, const void *item)
{
	uint32_t c = spc_hidx_find_cell(x, item), s, n;

	if (c == SPC_HIDX_NIL)
		return 0;
	s = x->table[c];
	n = x->slots[s].node;
	spc_hidx_unfile(x, s, c);
	/* An emptied live node leaves the treap; a doomed one waits for Take. */
	if (x->nodes[n].head == SPC_HIDX_NIL && spc_hidx_lookup(x, x->nodes[n].height) == n) {
		x->root = spc_hidx_erase(x, x->root, x->nodes[n].height);
		spc_hidx_free_node(x, n);
	}
	return 1;
}

void spc_hidx_cut(struct spc_hidx *x, uint64_t from)
{
	uint32_t l, r;

	spc_hidx_split(x, x->root, from, &l, &r);
	x->root = l;
	if (r != SPC_HIDX_NIL) {
		x->nodes[r].dnext = x->doomed;
		x->doomed = r;
	}
}

int spc_hidx_take(struct spc_hidx *x, void **item)
{
	while (x->doomed != SPC_HIDX_NIL) {
		uint32_t n = x->doomed, s = x->nodes[n].head, kid;

		if (s != SPC_HIDX_NIL) {
			*item = x->slots[s].item;
			spc_hidx_unfile(x, s, spc_hidx_find_cell(x, *item));
			return 1;
		}
		/* Empty: its children take its place in the doomed list. */
		x->doomed = x->nodes[n].dnext;
		kid = x->nodes[n].left;
		if (kid != SPC_HIDX_NIL) {
			x->nodes[kid].dnext = x->doomed;
			x->doomed = kid;
		}
		kid = x->nodes[n].right;
		if (kid != SPC_HIDX_NIL) {
			x->nodes[kid].dnext = x->doomed;
			x->doomed = kid;
		}
		spc_hidx_free_node(x, n);
	}
	return 0;
}

int spc_hidx_lowest(const struct spc_hidx *x, void **item, uint64_t *height)
{
	uint32_t n = x->root;

	if (n == SPC_HIDX_NIL)
		return 0;
	while (x->nodes[n].left != SPC_HIDX_NIL)
		n = x->nodes[n].left;
	/* A live node has items: Remove erases it when its list empties. */
	SPC_DEBUG_CHECK(x->nodes[n].head != SPC_HIDX_NIL);
	*item = x->slots[x->nodes[n].head].item;
	if (height)
		*height = x->nodes[n].height;
	return 1;
}

size_t spc_hidx_count(const struct spc_hidx *x)
{
	return x->count;
}

size_t spc_hidx_memory(const struct spc_hidx *x)
{
	return sizeof *x + (size_t)x->node_cap * sizeof *x->nodes +
	       (size_t)x->slot_cap * sizeof *x->slots + (size_t)x->table_cap * sizeof *x->table;
}

size_t spc_hidx_item_bytes(void)
{
	return sizeof(struct spc_hidx_slot) + sizeof(struct spc_hidx_node) +
	       SPC_HIDX_CELLS_PER_ITEM * sizeof(uint32_t);
}
