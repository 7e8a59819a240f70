/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * classic.c: published policies as replay references beside
 * lru-exact and opt, so that a hit-ratio table can be set against the
 * literature's own columns (the ARC paper's Table IV on arc_OLTP):
 *
 *   arc   ARC (N. Megiddo and D. S. Modha, "ARC: a self-tuning, low
 *         overhead replacement cache", FAST 2003): two LRU lists T1 (seen
 *         once lately) and T2 (seen at least twice), their ghosts B1 and
 *         B2 of the same total length, and the target p of T1, moved by
 *         returns through the ghosts (steps max(1, |B2|/|B1|) up and
 *         max(1, |B1|/|B2|) down, real numbers as in the paper).
 *   frc   FRC_p, the same paper's fixed-replacement cache: ARC's lists
 *         and cases with the target p fixed (frc:P, p = P times the size).
 *   2q    2Q, full version (T. Johnson and D. Shasha, "2Q: a low overhead
 *         high performance buffer management replacement algorithm",
 *         VLDB 1994): a FIFO A1in of new keys (Kin = a quarter of the
 *         cache), a ghost FIFO A1out of keys it let go (Kout = half the
 *         cache), an LRU Am of keys that came back through A1out. A hit
 *         in A1in changes nothing. Bare `2q` takes Kin and Kout from the
 *         paper's advice; 2q:KIN/KOUT gives them (bench/tuned.c tunes).
 *   lru2  LRU-2 (E. J. O'Neil, P. E. O'Neil, G. Weikum, "The LRU-K page
 *         replacement algorithm for database disk buffering", SIGMOD
 *         1993): the victim is the resident key whose second most recent
 *         request is oldest; keys requested once so far go first, the
 *         least recently requested of them first. Bare `lru2` keeps the
 *         history of every key forever and has no correlated-reference
 *         period: the simplest LRU-2. lru2:CRP/HIST gives the period
 *         (requests within CRP of a key's last one are one burst, and a
 *         key that young is no victim) and bounds the history of evicted
 *         keys (HIST times the size), as its authors describe.
 *
 * Demand paging as every replay: each miss inserts its key; sizes are in
 * entries (a size in bytes is refused). Offline bookkeeping, not a cache
 * to run: keys are first renumbered 0..k-1 (one sort of the trace), so
 * every list is a pair of index arrays and every lookup an array read.
 * O(n log n) for the numbering, then O(1) per request (ARC, FRC, 2Q) or
 * O(log n) (LRU-2's heap of candidates, whose stale entries are dropped
 * when they surface, as in opt.c).
 *
 * Deterministic: no hashing, no randomness; the same trace and size give
 * the same hits.
 */
#include "tuned.h"

#include <math.h>
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

uint32_t *bench_number_keys(const struct bench_trace *t, uint32_t *nkeys)
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

/* ARC, or FRC_p when fixed_p >= 0 (the same lists and cases, p never
 * moves). */
static void arc_run(const uint32_t *ids, size_t n, uint64_t c, double fixed_p, struct lists *ls,
                    uint64_t *hits)
{
	struct list l[5];
	double p = fixed_p >= 0 ? fixed_p : 0;
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

			if (fixed_p >= 0)
				; /* FRC: p stays */
			else if (in == B1)
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

static void twoq_run(const uint32_t *ids, size_t n, uint64_t c, uint64_t kin, uint64_t kout,
                     struct lists *ls, uint64_t *hits)
{
	struct list l[4];
	uint64_t h = 0;

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

/* LRU-2 with a correlated-reference period of crp requests and the
 * history of at most hist keys no longer resident (UINT64_MAX: every key).
 * Per key, hist1 and hist2 are the starts of its last two uncorrelated
 * bursts of requests, last its last request (all request + 1; 0: none).
 * A key is a candidate once crp requests have passed since its last one;
 * candidates sit in a heap on (hist2, hist1) as in opt.c, stale entries
 * dropped when they surface; a key requested again leaves the candidates
 * until it has aged crp requests anew (a cursor walks the requests crp
 * behind the present). crp is held below c, so a candidate always exists
 * (c resident keys, at most crp of them requested in the last crp). */
struct lru2 {
	uint32_t *hist1, *hist2, *last;
	uint64_t *cur; /* heap entry while a resident candidate; 0: none */
	uint8_t *res;  /* resident */
	uint64_t *hp;
	size_t hn;
};

static void lru2_forget(struct lru2 *s, uint32_t k)
{
	s->hist1[k] = s->hist2[k] = s->last[k] = 0;
}

static int lru2_run(const uint32_t *ids, size_t n, uint32_t nkeys, uint64_t c, uint64_t crp,
                    uint64_t hist, struct lists *ls, uint64_t *hits)
{
	size_t nk = nkeys ? nkeys : 1, cursor = 0, resident = 0;
	struct lru2 s;
	struct list ghosts = {NIL, NIL, 0, 1};
	uint64_t h = 0;
	int rc = -1;

	if (crp >= c)
		crp = c - 1;
	s.hist1 = calloc(nk, sizeof(uint32_t));
	s.hist2 = calloc(nk, sizeof(uint32_t));
	s.last = calloc(nk, sizeof(uint32_t));
	s.cur = calloc(nk, sizeof(uint64_t));
	s.res = calloc(nk, 1);
	s.hp = malloc((n ? n : 1) * sizeof(uint64_t));
	s.hn = 0;
	if (!s.hist1 || !s.hist2 || !s.last || !s.cur || !s.res || !s.hp)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint32_t x = ids[i], stamp = (uint32_t)(i + 1);

		if (s.res[x]) {
			h++;
			if (stamp - s.last[x] > crp) { /* a new uncorrelated burst */
				s.hist2[x] = s.last[x];
				s.hist1[x] = stamp;
			}
			s.last[x] = stamp;
			s.cur[x] = 0; /* young again */
			continue;
		}
		if (resident >= c) {
			/* requests at positions < i - crp: their keys, if that was
			 * their last request and they are resident, are candidates */
			for (; cursor + crp < i; cursor++) {
				uint32_t k = ids[cursor];

				if (s.res[k] && s.last[k] == cursor + 1 && s.cur[k] == 0) {
					s.cur[k] = (uint64_t)s.hist2[k] << 32 | s.hist1[k];
					heap_push(s.hp, &s.hn, s.cur[k]);
				}
			}
			for (;;) {
				uint64_t top = heap_pop(s.hp, &s.hn);
				uint32_t k = ids[(uint32_t)top - 1];

				if (s.res[k] && s.cur[k] == top) {
					s.res[k] = 0;
					s.cur[k] = 0;
					resident--;
					if (hist == 0) {
						lru2_forget(&s, k);
					} else if (hist != UINT64_MAX) {
						list_push(ls, &ghosts, k);
						if (ghosts.len > hist)
							lru2_forget(&s, list_pop(ls, &ghosts));
					}
					break;
				}
			}
		}
		if (ls->in[x])
			list_del(ls, &ghosts, x);
		s.hist2[x] = s.hist1[x]; /* 0 for a key without history */
		s.hist1[x] = stamp;
		s.last[x] = stamp;
		s.res[x] = 1;
		resident++;
	}
	*hits = h;
	rc = 0;
out:
	free(s.hist1);
	free(s.hist2);
	free(s.last);
	free(s.cur);
	free(s.res);
	free(s.hp);
	return rc;
}

static uint64_t share_of(double frac, uint64_t c)
{
	double v = floor(frac * (double)c + 1e-9);

	return v < 1 ? 1 : v > 1e18 ? (uint64_t)1e18 : (uint64_t)v;
}

int bench_classic_run(const uint32_t *ids, size_t n, uint32_t nkeys, const struct bench_ref *r,
                      uint64_t size, uint64_t *hits)
{
	struct lists ls;
	int rc = 0;

	if (size == 0)
		return -1;
	if (lists_init(&ls, nkeys) != 0) {
		lists_fini(&ls);
		return -1;
	}
	switch (r->kind) {
	case BENCH_REF_ARC:
		arc_run(ids, n, size, -1, &ls, hits);
		break;
	case BENCH_REF_FRC:
		arc_run(ids, n, size, r->a * (double)size, &ls, hits);
		break;
	case BENCH_REF_2Q:
		twoq_run(ids, n, size, share_of(r->a, size), share_of(r->b, size), &ls, hits);
		break;
	case BENCH_REF_LRU2:
		rc = lru2_run(ids, n, nkeys, size, (uint64_t)r->a,
		              isinf(r->b) ? UINT64_MAX : (uint64_t)(r->b * (double)size + 0.5), &ls,
		              hits);
		break;
	default:
		rc = -1;
	}
	lists_fini(&ls);
	return rc;
}

int bench_classic_hits(const struct bench_trace *t, const char *policy, uint64_t size,
                       uint64_t *hits)
{
	struct bench_ref r;
	uint32_t nkeys = 0, *ids;
	int rc;

	if (strcmp(policy, "arc") == 0)
		r = (struct bench_ref){BENCH_REF_ARC, 0, 0};
	else if (strcmp(policy, "2q") == 0)
		r = (struct bench_ref){BENCH_REF_2Q, 0.25, 0.5};
	else if (strcmp(policy, "lru2") == 0)
		r = (struct bench_ref){BENCH_REF_LRU2, 0, INFINITY};
	else
		return -1;
	if (size == 0)
		return -1;
	ids = bench_number_keys(t, &nkeys);
	if (!ids)
		return -1;
	rc = bench_classic_run(ids, t->n, nkeys, &r, size, hits);
	free(ids);
	return rc;
}
