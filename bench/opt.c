/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * opt.c: the `opt` replay reference, Belady's MIN (L. A. Belady, "A study
 * of replacement algorithms for a virtual-storage computer", IBM Systems
 * Journal 5(2), 1966): the hits of the best possible eviction choices,
 * known only offline, from the whole trace.
 *
 * Demand paging, as the replay of every other policy: every miss inserts
 * its key; when the cache already holds `size` keys, the one evicted first
 * is the resident key whose next request comes farthest in the future
 * (never again counts as farthest; ties among those go to the smallest
 * key number, which changes nothing). The key just missed is never the
 * victim of its own insertion, even when it is not requested again: a
 * cache that may refuse an insertion (bypass) can do a little better, and
 * that is not what the replay measures.
 *
 * How: one pass gives every request the position of the next request of
 * the same key (n when none: positions n + key number stand for "never",
 * distinct and beyond every real position). Resident keys sit in a binary
 * max-heap of those next-use positions; a hit pushes the key's new next
 * use and leaves the old entry behind, which is stale (the key's current
 * next use differs) and is dropped when it surfaces. An entry is pushed
 * per request at most, so the heap holds at most n entries: O(n log n)
 * time, 8 bytes per request for the heap and 12 per request and per key
 * for the rest.
 *
 * Sizes are in entries; a size in bytes makes MIN a packing problem
 * (NP-hard with sizes), which this reference does not claim to solve.
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

struct opt_pair {
	uint64_t key;
	uint32_t pos;
};

static int pair_cmp(const void *a, const void *b)
{
	const struct opt_pair *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void heap_push(uint64_t *h, size_t *n, uint64_t v)
{
	size_t i = (*n)++;

	while (i > 0 && h[(i - 1) / 2] < v) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static uint64_t heap_pop(uint64_t *h, size_t *n)
{
	uint64_t top = h[0], v = h[--*n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] > h[c])
			c++;
		if (h[c] <= v)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
	return top;
}

int bench_opt_hits(const struct bench_trace *t, uint64_t size, uint64_t *hits)
{
	size_t n = t->n, i, nkeys = 0, heap_n = 0, resident = 0;
	struct opt_pair *pairs = NULL;
	uint32_t *id = NULL;        /* key number of each request */
	uint64_t *next = NULL;      /* next use of each request's key */
	uint64_t *cur = NULL;       /* per key: its next use while resident, else 0 */
	uint64_t *heap = NULL, h = 0;
	int rc = -1;

	if (n >= UINT32_MAX || size == 0)
		return -1;
	pairs = malloc((n ? n : 1) * sizeof(*pairs));
	id = malloc((n ? n : 1) * sizeof(*id));
	next = malloc((n ? n : 1) * sizeof(*next));
	heap = malloc((n ? n : 1) * sizeof(*heap));
	if (!pairs || !id || !next || !heap)
		goto out;
	for (i = 0; i < n; i++) {
		pairs[i].key = t->reqs[i].key;
		pairs[i].pos = (uint32_t)i;
	}
	qsort(pairs, n, sizeof(*pairs), pair_cmp);
	for (i = 0; i < n; i++) {
		int last = i + 1 == n || pairs[i + 1].key != pairs[i].key;

		id[pairs[i].pos] = (uint32_t)nkeys;
		next[pairs[i].pos] = last ? (uint64_t)n + nkeys : pairs[i + 1].pos;
		if (last)
			nkeys++;
	}
	free(pairs);
	pairs = NULL;
	cur = calloc(nkeys ? nkeys : 1, sizeof(*cur));
	if (!cur)
		goto out;
	/* cur[k] == 0 means "not resident": a next use is never position 0. */
	for (i = 0; i < n; i++) {
		uint32_t k = id[i];

		if (cur[k] != 0) {
			h++;
		} else {
			while (resident >= size) {
				uint64_t v = heap_pop(heap, &heap_n);
				uint32_t victim = v >= n ? (uint32_t)(v - n) : id[v];

				if (cur[victim] == v) {
					cur[victim] = 0;
					resident--;
				}
			}
			resident++;
		}
		cur[k] = next[i];
		heap_push(heap, &heap_n, next[i]);
	}
	*hits = h;
	rc = 0;
out:
	free(pairs);
	free(id);
	free(next);
	free(cur);
	free(heap);
	return rc;
}
