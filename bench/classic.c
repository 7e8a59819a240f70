/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * classic.c: three published policies as replay references beside
 * lru-exact and opt, so that a hit-ratio table can be set against the
 * literature's own columns (the ARC paper's Table IV on arc_OLTP):
 *
 *   arc   ARC (N. Megiddo and D. S. Modha, "ARC: a self-tuning, low
 *         overhead replacement cache", FAST 2003): two LRU lists T1 (seen
 *         once lately) and T2 (seen at least twice), their ghosts B1 and
 *         B2 of the same total length, and the target p of T1, moved by
 *         returns through the ghosts (steps max(1, |B2|/|B1|) up and
 *         max(1, |B1|/|B2|) down, real numbers as in the paper).
 *   2q    2Q, full version (T. Johnson and D. Shasha, "2Q: a low overhead
 *         high performance buffer management replacement algorithm",
 *         VLDB 1994): a FIFO A1in of new keys (Kin = a quarter of the
 *         cache), a ghost FIFO A1out of keys it let go (Kout = half the
 *         cache), an LRU Am of keys that came back through A1out. A hit
 *         in A1in changes nothing. Kin and Kout are the paper's advice,
 *         not tuned per trace.
 *   lru2  LRU-2 (E. J. O'Neil, P. E. O'Neil, G. Weikum, "The LRU-K page
 *         replacement algorithm for database disk buffering", SIGMOD
 *         1993): the victim is the resident key whose second most recent
 *         request is oldest; keys requested once so far go first, the
 *         least recently requested of them first. The history of every
 *         key is kept forever and there is no correlated-reference
 *         period: the simplest LRU-2, not one tuned per trace.
 *
 * Demand paging as every replay: each miss inserts its key; sizes are in
 * entries (a size in bytes is refused). Offline bookkeeping, not a cache
 * to run: keys are first renumbered 0..k-1 (one sort of the trace), so
 * every list is a pair of index arrays and every lookup an array read.
 * O(n log n) for the numbering, then O(1) per request (ARC, 2Q) or
 * O(log n) (LRU-2's heap of candidates, whose stale entries are dropped
 * when they surface, as in opt.c).
 *
 * Deterministic: no hashing, no randomness; the same trace and size give
 * the same hits.
 */
#include "bench.h"

#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

struct kpos {
	uint64_t key;
	uint32_t pos;
};

static int kpos_cmp(const void *a, const void *b)
{
	const struct kpos *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Numbers the keys of t: ids[i] is the number of request i's key, 0 ..
 * *nkeys - 1. Returns the array (the caller frees it), NULL when out of
 * memory or the trace is too long for 32-bit numbers. */
static uint32_t *number_keys(const struct bench_trace *t, uint32_t *nkeys)
{
	size_t n = t->n, i;
	struct kpos *kp;
	uint32_t *ids, k = 0;

	if (n >= NIL)
		return NULL;
	kp = malloc((n ? n : 1) * sizeof(*kp));
	ids = malloc((n ? n : 1) * sizeof(*ids));
	if (!kp || !ids) {
		free(kp);
		free(ids);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		kp[i].key = t->reqs[i].key;
		kp[i].pos = (uint32_t)i;
	}
	qsort(kp, n, sizeof(*kp), kpos_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0 && kp[i].key != kp[i - 1].key)
			k++;
		ids[kp[i].pos] = k;
	}
	*nkeys = n ? k + 1 : 0;
	free(kp);
	return ids;
}

/* ---- lists of key numbers ------------------------------------------------ */

/* Doubly linked lists threaded through prev/next arrays shared by all
 * lists (a key is in one list at most); head is the most recent end. */
struct lists {
	uint32_t *prev, *next;
	uint8_t *in; /* which list holds the key; 0: none */
};

struct list {
	uint32_t head, tail;
	size_t len;
	uint8_t tag;
};

static int lists_init(struct lists *ls, uint32_t nkeys)
{
	size_t k = nkeys ? nkeys : 1;

	ls->prev = malloc(k * sizeof(uint32_t));
	ls->next = malloc(k * sizeof(uint32_t));
	ls->in = calloc(k, 1);
	return ls->prev && ls->next && ls->in ? 0 : -1;
}

static void lists_fini(struct lists *ls)
{
	free(ls->prev);
	free(ls->next);
	free(ls->in);
}

static void list_push(struct lists *ls, struct list *l, uint32_t k)
{
	ls->prev[k] = NIL;
	ls->next[k] = l->head;
	if (l->head != NIL)
		ls->prev[l->head] = k;
	else
		l->tail = k;
	l->head = k;
	l->len++;
	ls->in[k] = l->tag;
}

static void list_del(struct lists *ls, struct list *l, uint32_t k)
{
	uint32_t p = ls->prev[k], n = ls->next[k];

	if (p != NIL)
		ls->next[p] = n;
	else
		l->head = n;
	if (n != NIL)
		ls->prev[n] = p;
	else
		l->tail = p;
	l->len--;
	ls->in[k] = 0;
}

/* Removes and returns the least recent key of l (l not empty). */
static uint32_t list_pop(struct lists *ls, struct list *l)
{
	uint32_t k = l->tail;

	list_del(ls, l, k);
	return k;
}

/* ---- ARC ------------------------------------------------------------------ */

enum { T1 = 1, T2, B1, B2 };

/* ARC's REPLACE: makes room by moving T1's or T2's LRU key to its ghost. */
static void arc_replace(struct lists *ls, struct list *l, uint8_t x_in, double p)
{
	struct list *t1 = &l[T1], *t2 = &l[T2];

	if (t1->len > 0 && (t1->len > p || (x_in == B2 && (double)t1->len == p)))
		list_push(ls, &l[B1], list_pop(ls, t1));
	else
		list_push(ls, &l[B2], list_pop(ls, t2));
}

static void arc_run(const uint32_t *ids, size_t n, uint64_t c, struct lists *ls, uint64_t *hits)
{
	struct list l[5];
	double p = 0;
	uint64_t h = 0;

	for (int i = 0; i < 5; i++)
		l[i] = (struct list){NIL, NIL, 0, (uint8_t)i};
	for (size_t i = 0; i < n; i++) {
		uint32_t x = ids[i];
		uint8_t in = ls->in[x];

		if (in == T1 || in == T2) {
			h++;
			list_del(ls, &l[in], x);
			list_push(ls, &l[T2], x);
			continue;
		}
		if (in == B1 || in == B2) {
			double d1 = l[B1].len ? (double)l[B2].len / (double)l[B1].len : 1;
			double d2 = l[B2].len ? (double)l[B1].len / (double)l[B2].len : 1;

			if (in == B1)
				p = p + (d1 > 1 ? d1 : 1) > (double)c ? (double)c : p + (d1 > 1 ? d1 : 1);
			else
				p = p - (d2 > 1 ? d2 : 1) < 0 ? 0 : p - (d2 > 1 ? d2 : 1);
			arc_replace(ls, l, in, p);
			list_del(ls, &l[in], x);
			list_push(ls, &l[T2], x);
			continue;
		}
		/* a key in none of the four lists */
		if (l[T1].len + l[B1].len == c) {
			if (l[T1].len < c) {
				list_pop(ls, &l[B1]);
				arc_replace(ls, l, 0, p);
			} else {
				list_pop(ls, &l[T1]); /* B1 is empty: the key leaves no ghost */
			}
		} else if (l[T1].len + l[T2].len + l[B1].len + l[B2].len >= c) {
			if (l[T1].len + l[T2].len + l[B1].len + l[B2].len == 2 * c)
				list_pop(ls, &l[B2]);
			if (l[T1].len + l[T2].len >= c)
				arc_replace(ls, l, 0, p);
		}
		list_push(ls, &l[T1], x);
	}
	*hits = h;
}

/* ---- 2Q ------------------------------------------------------------------- */

enum { AIN = 1, AOUT, AM };

static void twoq_run(const uint32_t *ids, size_t n, uint64_t c, struct lists *ls, uint64_t *hits)
{
	struct list l[4];
	uint64_t kin = c / 4 ? c / 4 : 1, kout = c / 2 ? c / 2 : 1, h = 0;

	for (int i = 0; i < 4; i++)
		l[i] = (struct list){NIL, NIL, 0, (uint8_t)i};
	for (size_t i = 0; i < n; i++) {
		uint32_t x = ids[i];
		uint8_t in = ls->in[x];

		if (in == AM) {
			h++;
			list_del(ls, &l[AM], x);
			list_push(ls, &l[AM], x);
			continue;
		}
		if (in == AIN) {
			h++; /* a hit in A1in changes nothing */
			continue;
		}
		if (l[AIN].len + l[AM].len >= c) {
			/* room: A1in gives while over Kin (or Am is empty) */
			if (l[AIN].len > kin || l[AM].len == 0) {
				list_push(ls, &l[AOUT], list_pop(ls, &l[AIN]));
				if (l[AOUT].len > kout)
					list_pop(ls, &l[AOUT]);
			} else {
				list_pop(ls, &l[AM]);
			}
		}
		if (ls->in[x] == AOUT) {
			list_del(ls, &l[AOUT], x);
			list_push(ls, &l[AM], x);
		} else {
			list_push(ls, &l[AIN], x);
		}
	}
	*hits = h;
}

/* ---- LRU-2 ---------------------------------------------------------------- */

/* A candidate: (second most recent request + 1) << 32 | (most recent + 1);
 * the smallest goes first. Keys requested once have 0 in the high half. */
static void heap_push(uint64_t *hp, size_t *n, uint64_t v)
{
	size_t i = (*n)++;

	while (i > 0 && hp[(i - 1) / 2] > v) {
		hp[i] = hp[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	hp[i] = v;
}

static uint64_t heap_pop(uint64_t *hp, size_t *n)
{
	uint64_t top = hp[0], v = hp[--*n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && hp[c + 1] < hp[c])
			c++;
		if (hp[c] >= v)
			break;
		hp[i] = hp[c];
		i = c;
	}
	hp[i] = v;
	return top;
}

static int lru2_run(const uint32_t *ids, size_t n, uint32_t nkeys, uint64_t c, uint64_t *hits)
{
	uint32_t *last = calloc(nkeys ? nkeys : 1, sizeof(uint32_t)); /* request + 1; 0: never */
	uint64_t *cur = calloc(nkeys ? nkeys : 1, sizeof(uint64_t));  /* candidate; 0: not cached */
	uint64_t *hp = malloc((n ? n : 1) * sizeof(uint64_t));
	size_t hn = 0, resident = 0;
	uint64_t h = 0;

	if (!last || !cur || !hp) {
		free(last);
		free(cur);
		free(hp);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t x = ids[i];
		uint64_t v = (uint64_t)last[x] << 32 | (uint64_t)(i + 1);

		if (cur[x] != 0) {
			h++;
		} else {
			while (resident >= c) {
				uint64_t top = heap_pop(hp, &hn);
				uint32_t k = ids[(uint32_t)top - 1];

				if (cur[k] == top) {
					cur[k] = 0;
					resident--;
				}
			}
			resident++;
		}
		last[x] = (uint32_t)(i + 1);
		cur[x] = v;
		heap_push(hp, &hn, v);
	}
	*hits = h;
	free(last);
	free(cur);
	free(hp);
	return 0;
}

int bench_classic_hits(const struct bench_trace *t, const char *policy, uint64_t size,
                       uint64_t *hits)
{
	uint32_t nkeys = 0, *ids;
	struct lists ls;
	int rc = 0;

	if (size == 0)
		return -1;
	ids = number_keys(t, &nkeys);
	if (!ids)
		return -1;
	if (strcmp(policy, "lru2") == 0) {
		rc = lru2_run(ids, t->n, nkeys, size, hits);
		free(ids);
		return rc;
	}
	if (lists_init(&ls, nkeys) != 0) {
		rc = -1;
	} else if (strcmp(policy, "arc") == 0) {
		arc_run(ids, t->n, size, &ls, hits);
	} else if (strcmp(policy, "2q") == 0) {
		twoq_run(ids, t->n, size, &ls, hits);
	} else {
		rc = -1;
	}
	lists_fini(&ls);
	free(ids);
	return rc;
}
