/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lrfu.c: the `lrfu` replay reference, LRFU (D. Lee, J. Choi, J.-H. Kim,
 * S. H. Noh, S. L. Min, Y. Cho, C. S. Kim, "LRFU: a spectrum of policies
 * that subsumes the least recently used and least frequently used
 * policies", IEEE Transactions on Computers 50(12), 2001).
 *
 * Every key has a combined recency and frequency value, its CRF: the sum
 * over its past requests at times t_i of F(t - t_i), with the weighing
 * function F(x) = (1/2)^(lambda x). The victim is the resident key of the
 * smallest CRF. lambda = 0 gives LFU (the CRF is the count), lambda = 1
 * gives LRU (one request more recent outweighs all older ones). The CRF
 * is kept incrementally: at a request at t of a key last requested at
 * t_l, C(t) = F(0) + F(t - t_l) C(t_l), one multiplication per request.
 *
 * The order of two keys does not change between their requests: both
 * CRFs decay by the same factor F(dt). So the heap of resident keys is
 * keyed on the CRF normalised to a common time (time 0), in the log2
 * domain, where it stays finite: K = log2 C(t_l) + lambda t_l, i.e.
 * log2 of the CRF times 2^(lambda t_l). A request changes only the
 * requested key's K (it grows: sift down); nothing else moves.
 *
 * Floating point: K is a double. log2 C lies in [0, log2(1 / (1 -
 * 2^-lambda))] (at most 21 for lambda = 1e-6) and lambda t_l is at most
 * lambda n (under 2^20 on these traces), so K carries an absolute
 * rounding error of about n lambda 2^-52, under 1e-9: two keys whose CRFs
 * differ by a factor closer to 1 than that may be ordered either way,
 * which changes no figure worth the name. The update is computed from the
 * integer gap, d = log2 C(t_l) - lambda (t - t_l), then log2 C(t) =
 * log1p(2^d) / ln 2, so no large numbers are subtracted. Equal K (exact
 * ties: the same history shape, as keys requested once at lambda = 0) go
 * to the least recently requested key first. IEEE doubles and the same
 * libm on one machine give the same figures on every run.
 *
 * History: with `history` 0 a key evicted loses its CRF (a new request
 * starts again at C = 1: bookkeeping of the resident keys only); with
 * history h > 0 the CRFs of the last h keys evicted are kept (a FIFO of
 * evicted keys; the oldest forgotten first) and a key coming back goes
 * on from its CRF; UINT64_MAX keeps every key's CRF.
 *
 * Demand paging as every replay; entries only; O(log size) per request.
 */
#include "tuned.h"

#include <math.h>
#include <stdlib.h>

#define NIL UINT32_MAX

struct lrfu {
	double *k;       /* per key: K, the CRF normalised to time 0 (log2) */
	double *l;       /* per key: log2 of the CRF at the key's last request */
	uint32_t *last;  /* per key: last request + 1; 0: never (or forgotten) */
	uint32_t *pos;   /* per key: slot in the heap; NIL: not resident */
	uint32_t *heap;  /* resident keys, smallest K first */
	size_t n;
	/* evicted keys whose CRF is kept, newest at head (bounded history) */
	uint32_t *prev, *next, head, tail;
	uint64_t hlen;
};

static void hist_del(struct lrfu *s, uint32_t k)
{
	uint32_t p = s->prev[k], n = s->next[k];

	if (p != NIL)
		s->next[p] = n;
	else
		s->head = n;
	if (n != NIL)
		s->prev[n] = p;
	else
		s->tail = p;
	s->prev[k] = s->next[k] = NIL;
	s->hlen--;
}

/* Key v leaves the cache: its CRF is forgotten, kept, or kept while the
 * oldest of the bounded history is forgotten. */
static void evicted(struct lrfu *s, uint32_t v, uint64_t history)
{
	if (history == 0) {
		s->last[v] = 0;
		return;
	}
	if (history == UINT64_MAX)
		return;
	s->prev[v] = NIL;
	s->next[v] = s->head;
	if (s->head != NIL)
		s->prev[s->head] = v;
	else
		s->tail = v;
	s->head = v;
	if (++s->hlen > history) {
		uint32_t old = s->tail;

		hist_del(s, old);
		s->last[old] = 0;
	}
}

/* Whether key a goes before key b (smaller K; on a tie, older request). */
static int before(const struct lrfu *s, uint32_t a, uint32_t b)
{
	if (s->k[a] != s->k[b])
		return s->k[a] < s->k[b];
	return s->last[a] < s->last[b];
}

static void place(struct lrfu *s, size_t i, uint32_t key)
{
	s->heap[i] = key;
	s->pos[key] = (uint32_t)i;
}

static void sift_up(struct lrfu *s, size_t i)
{
	uint32_t key = s->heap[i];

	while (i > 0 && before(s, key, s->heap[(i - 1) / 2])) {
		place(s, i, s->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(s, i, key);
}

static void sift_down(struct lrfu *s, size_t i)
{
	uint32_t key = s->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= s->n)
			break;
		if (c + 1 < s->n && before(s, s->heap[c + 1], s->heap[c]))
			c++;
		if (!before(s, s->heap[c], key))
			break;
		place(s, i, s->heap[c]);
		i = c;
	}
	place(s, i, key);
}

/* log2 of the CRF at request t (0-based) of key x, x requested before. */
static double crf_at(const struct lrfu *s, uint32_t x, size_t t, double lambda)
{
	double d = s->l[x] - lambda * (double)(t + 1 - s->last[x]);

	return log1p(exp2(d)) / M_LN2;
}

int bench_lrfu_run(const uint32_t *ids, size_t n, uint32_t nkeys, double lambda,
                   uint64_t history, uint64_t size, uint64_t *hits)
{
	size_t nk = nkeys ? nkeys : 1, cap = size < nk ? (size_t)size : nk;
	struct lrfu s = {0};
	uint64_t h = 0;
	int rc = -1;

	if (size == 0 || !(lambda >= 0 && lambda <= 1))
		return -1;
	s.k = malloc(nk * sizeof(double));
	s.l = malloc(nk * sizeof(double));
	s.last = calloc(nk, sizeof(uint32_t));
	s.pos = malloc(nk * sizeof(uint32_t));
	s.heap = malloc((cap ? cap : 1) * sizeof(uint32_t));
	s.prev = malloc(nk * sizeof(uint32_t));
	s.next = malloc(nk * sizeof(uint32_t));
	s.head = s.tail = NIL;
	if (!s.k || !s.l || !s.last || !s.pos || !s.heap || !s.prev || !s.next)
		goto out;
	for (size_t i = 0; i < nk; i++)
		s.pos[i] = s.prev[i] = s.next[i] = NIL;
	for (size_t t = 0; t < n; t++) {
		uint32_t x = ids[t];

		if (s.pos[x] != NIL) {
			h++;
			s.l[x] = crf_at(&s, x, t, lambda);
			s.last[x] = (uint32_t)(t + 1);
			s.k[x] = s.l[x] + lambda * (double)(t + 1);
			sift_down(&s, s.pos[x]);
			continue;
		}
		/* x's history as it stands when requested, before the victim
		 * joins the history and may push the oldest out */
		if (s.prev[x] != NIL || s.head == x)
			hist_del(&s, x);
		s.l[x] = s.last[x] ? crf_at(&s, x, t, lambda) : 0;
		s.last[x] = (uint32_t)(t + 1);
		s.k[x] = s.l[x] + lambda * (double)(t + 1);
		if (s.n >= size) {
			uint32_t v = s.heap[0];

			s.pos[v] = NIL;
			evicted(&s, v, history);
			s.n--;
			if (s.n > 0) {
				s.heap[0] = s.heap[s.n];
				sift_down(&s, 0);
			}
		}
		s.n++;
		place(&s, s.n - 1, x);
		sift_up(&s, s.n - 1);
	}
	*hits = h;
	rc = 0;
out:
	free(s.k);
	free(s.l);
	free(s.last);
	free(s.pos);
	free(s.heap);
	free(s.prev);
	free(s.next);
	return rc;
}
