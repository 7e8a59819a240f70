/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/policy/test_policy_model.c: the policies against a model.
 *
 * The model is the rules of the essays written the obvious way: queues are
 * plain arrays shifted by memmove, the sweep cursor is an index. Random
 * operations (admit, replace, hit, delete, next with small max_scan, sweep
 * with small max_scan) run on the policy and on the model side by side,
 * each with its own copy of the items; every result must agree: victims
 * and their kind, items reclaimed by the sweep, counts examined, sizes,
 * counters. This checks the rings, their sweep gap and growth against the
 * rules, with chunks small enough that every run crosses many chunk
 * boundaries, with pointer slots and with 32-bit offset slots.
 *
 * The ghost is made of Bloom filters (core/policy_ghost.c): its answers
 * are fuzzy by design, so the model takes them from the policy's ghost
 * (asked just before each admission) and checks them against a plain list
 * of the hashes evicted from S instead: a hash evicted from S during the
 * last 3 * cap - blocks additions, with no eviction from M since (a
 * removal may clear a shared bit), must be a ghost; a hash never evicted
 * from S, or evicted 4 * cap or more additions ago, or evicted from M
 * since, is a ghost only as a rare false positive.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "check_run.h"
#include "fake_item.h"

#define M_KEYS 48
#define M_OPS 6000
#define M_MAXQ M_OPS

struct model {
	int s3;                 /* S3-FIFO (else CLOCK) */
	int *q[2];              /* pool indexes, head first */
	int len[2];
	uint64_t *gh;           /* hashes evicted from S, oldest first */
	uint64_t *gnum;         /* the ghost addition that remembered each */
	size_t *gsafe;          /* additions it is surely remembered for */
	char *gout;             /* its item was evicted from M since */
	int glen;
	uint64_t adds;          /* ghost additions so far */
	uint64_t last_m_evict;  /* ghost additions before the last eviction from M */
	int has_m_evict;
	struct spc_policy_ghost *real; /* the policy's ghost, asked on admission */
	int must, must_not, fp; /* checks made, false positives seen */
	size_t total, peak;
	int sweep_q, sweep_idx;
	struct fitem *it;       /* the model's copy of the items */
};

static void m_push(struct model *m, int q, int x)
{
	m->q[q][m->len[q]++] = x;
}

static int m_remove(struct model *m, int q, int at)
{
	int x = m->q[q][at];

	memmove(&m->q[q][at], &m->q[q][at + 1], sizeof(int) * (size_t)(m->len[q] - at - 1));
	m->len[q]--;
	return x;
}

static int m_pop(struct model *m, int q)
{
	if (m->sweep_q == q && m->sweep_idx > 0)
		m->sweep_idx--;
	return m_remove(m, q, 0);
}

/* Checks the real ghost's answer for h against the list; returns it. */
static int m_ghost_has(struct model *m, uint64_t h)
{
	int got = spc_policy_ghost_has(m->real, h), i;
	size_t cap = (2 * (m->peak - m->peak / 10) + 6) / 7;

	for (i = m->glen - 1; i >= 0; i--)
		if (m->gh[i] == h)
			break;
	if (i >= 0 && m->adds - m->gnum[i] < m->gsafe[i] &&
	    !(m->has_m_evict && m->last_m_evict >= m->gnum[i])) {
		FAST_ASSERT(got);
		m->must++;
	} else if (i < 0 || m->gout[i] || m->adds - m->gnum[i] >= 4 * (cap ? cap : 1)) {
		m->must_not++;
		m->fp += got;
	}
	return got;
}

/* h was evicted from S: the real ghost took it as addition number
 * m->adds and sizes its generations by the policy's current limit. */
static void m_ghost_add(struct model *m, uint64_t h)
{
	const struct spc_policy_ghost *g = m->real;
	const struct spc_policy_ghost_gen *cur = &g->gen[g->cur];

	m->gh[m->glen] = h;
	m->gnum[m->glen] = m->adds;
	m->gsafe[m->glen++] = 3 * cur->cap - cur->blocks;
	m->adds++;
}

/* An item of hash h was evicted from M: the ghost removed h. */
static void m_ghost_m_evict(struct model *m, uint64_t h)
{
	int i;

	for (i = m->glen - 1; i >= 0; i--)
		if (m->gh[i] == h)
			break;
	if (i >= 0)
		m->gout[i] = 1;
	m->last_m_evict = m->adds;
	m->has_m_evict = 1;
}

static void m_admit(struct model *m, int x)
{
	uint64_t h = m->it[x].hash;

	m->total++;
	if (!m->s3) {
		m_push(m, 0, x);
		return;
	}
	if (m->total > m->peak)
		m->peak = m->total;
	if (m_ghost_has(m, h))
		m_push(m, 1, x);
	else
		m_push(m, 0, x);
}

/* Returns the kind; *x the pool index. */
static enum spc_victim_kind m_next(struct model *m, int max_scan, int *x)
{
	int examined, small;

	*x = -1;
	if (m->total == 0)
		return SPC_VICTIM_NONE;
	small = m->s3 ? (10 * (size_t)m->len[0] >= m->total || m->len[1] == 0) : 1;
	for (examined = 0; examined < max_scan; examined++) {
		int q = m->s3 && !(small && m->len[0] > 0) ? 1 : 0;
		int y;
		struct fitem *it;

		if (q == 1)
			small = 0;
		y = m_pop(m, q);
		it = &m->it[y];
		if (it->dead) {
			m->total--;
			*x = y;
			return SPC_VICTIM_DEAD;
		}
		if (!m->s3 && it->freq > 0) {
			it->freq = 0;
			m_push(m, 0, y);
			continue;
		}
		if (m->s3 && q == 0 && it->freq > 1) {
			it->freq = 0;
			m_push(m, 1, y);
			continue;
		}
		if (m->s3 && q == 1 && it->freq > 0) {
			it->freq--;
			m_push(m, 1, y);
			continue;
		}
		m->total--;
		if (m->s3 && q == 0)
			m_ghost_add(m, it->hash);
		else if (m->s3)
			m_ghost_m_evict(m, it->hash);
		*x = y;
		return SPC_VICTIM_EVICT;
	}
	return SPC_VICTIM_NONE;
}

static int m_sweep(struct model *m, int max_scan, int *out, int *nout)
{
	int examined = 0, nq = m->s3 ? 2 : 1, wraps = 0;

	while (examined < max_scan) {
		int q = m->sweep_q;

		if (m->sweep_idx == m->len[q]) {
			m->sweep_q = (q + 1) % nq;
			m->sweep_idx = 0;
			if (m->sweep_q == 0 && (examined > 0 || ++wraps == 2))
				break;
			continue;
		}
		examined++;
		if (m->it[m->q[q][m->sweep_idx]].dead) {
			out[(*nout)++] = m_remove(m, q, m->sweep_idx);
			m->total--;
		} else {
			m->sweep_idx++;
		}
	}
	return examined;
}

struct got {
	struct fitem *base;
	int *out;
	int n;
};

static void got_reclaim(void *arg, void *item)
{
	struct got *g = arg;

	g->out[g->n++] = (int)((struct fitem *)item - g->base);
}

/* One random run: seed _i / 2, CLOCK for odd _i. */
START_TEST(test_model_random)
{
	enum spc_policy kind = (_i & 1) ? SPC_POLICY_CLOCK : SPC_POLICY_S3FIFO;
	struct fitem *a = calloc(M_OPS, sizeof *a), *b = calloc(M_OPS, sizeof *b);
	int cur[M_KEYS], *ra = calloc(M_OPS, sizeof(int)), *rb = calloc(M_OPS, sizeof(int));
	struct model m;
	struct spc_policy_state *p = NULL;
	uint64_t seed = 1000u + (uint64_t)_i / 2;
	int npool = 0, op, k, cap = 8 + (int)(seed % 5) * 40;
	int n_kind[3] = { 0, 0, 0 }, to_m = 0;
	struct got g = { .base = a, .out = ra, .n = 0 };

	ck_assert(a && b && ra && rb);
	memset(&m, 0, sizeof m);
	m.s3 = kind == SPC_POLICY_S3FIFO;
	m.it = b;
	for (k = 0; k < 2; k++)
		m.q[k] = calloc(M_MAXQ, sizeof(int));
	m.gh = calloc(M_MAXQ, sizeof(uint64_t));
	m.gnum = calloc(M_MAXQ, sizeof(uint64_t));
	m.gsafe = calloc(M_MAXQ, sizeof(size_t));
	m.gout = calloc(M_MAXQ, 1);
	ck_assert(m.q[0] && m.q[1] && m.gh && m.gnum && m.gsafe && m.gout);
	for (k = 0; k < M_KEYS; k++)
		cur[k] = -1;
	ck_assert_int_eq(spc_policy_create(kind, &fitem_ops, NULL, (size_t)(seed % 3), &p), SPC_OK);
	/* Chunks of 512 (the default), 4 or 2 slots, so that pops, pushes,
	 * promotions and the sweep cross chunk boundaries all the time; every
	 * other run keeps 32-bit offsets into the item array instead of
	 * pointers. */
	if ((_i >> 2) % 3 != 0)
		p->chunks.shift = (_i >> 2) % 3 == 1 ? 2 : 1;
	if ((_i >> 3) & 1)
		ck_assert_int_eq(spc_policy_set_region(p, a, M_OPS * sizeof *a), SPC_OK);
	m.real = &p->ghost;
	for (op = 0; op < M_OPS; op++) {
		uint64_t r = splitmix_test(&seed);
		int key = (int)(r % M_KEYS), act = (int)((r >> 8) % 16);

		if (act < 5 && npool < M_OPS && (int)m.total < cap) { /* store */
			int x = npool++;

			if (cur[key] >= 0)
				a[cur[key]].dead = b[cur[key]].dead = 1;
			a[x].id = b[x].id = key;
			a[x].hash = b[x].hash = 0x5bd1e995u * (uint64_t)(key + 1);
			FAST_ASSERT(spc_policy_admit(p, &a[x]) == SPC_OK);
			to_m -= m.len[1];
			m_admit(&m, x);
			to_m += m.len[1];
			cur[key] = x;
		} else if (act < 9) { /* hit */
			if (cur[key] >= 0 && a[cur[key]].freq < 3) {
				a[cur[key]].freq++;
				b[cur[key]].freq++;
			}
		} else if (act < 10) { /* delete */
			if (cur[key] >= 0) {
				a[cur[key]].dead = b[cur[key]].dead = 1;
				cur[key] = -1;
			}
		} else if (act < 14) { /* evict */
			int ms = (int)((r >> 16) % 6), x;
			void *v;
			enum spc_victim_kind ka = spc_policy_next(p, (size_t)ms, &v);
			enum spc_victim_kind kb = m_next(&m, ms, &x);

			FAST_ASSERT(ka == kb);
			n_kind[ka]++;
			FAST_ASSERT(ka == SPC_VICTIM_NONE ? v == NULL : v == &a[x]);
			if (ka == SPC_VICTIM_EVICT) {
				FAST_ASSERT(cur[a[x].id] == x);
				cur[a[x].id] = -1;
			}
		} else { /* sweep */
			int ms = (int)((r >> 16) % 12), na = g.n, nb = na, ea, eb;
			size_t before = m.total;

			ea = (int)spc_policy_sweep(p, (size_t)ms, got_reclaim, &g);
			/* a sweep examines nothing only when there is nothing */
			if (ms > 0)
				FAST_ASSERT((before == 0) == (ea == 0));
			eb = m_sweep(&m, ms, rb, &nb);
			FAST_ASSERT(ea == eb);
			FAST_ASSERT(g.n == nb);
			FAST_ASSERT(memcmp(ra + na, rb + na, sizeof(int) * (size_t)(nb - na)) == 0);
		}
		FAST_ASSERT(spc_policy_size(p) == m.total);
		if (m.s3) {
			FAST_ASSERT(q_count(p, 0) == (size_t)m.len[0]);
			FAST_ASSERT(q_count(p, 1) == (size_t)m.len[1]);
		}
	}
	for (k = 0; k < npool; k++)
		FAST_ASSERT(a[k].freq == b[k].freq);
	/* the run did exercise every path */
	ck_assert_int_gt(g.n, 0);
	ck_assert_int_gt(n_kind[SPC_VICTIM_NONE], 0);
	ck_assert_int_gt(n_kind[SPC_VICTIM_EVICT], 0);
	ck_assert_int_gt(n_kind[SPC_VICTIM_DEAD], 0);
	if (m.s3) {
		ck_assert_int_gt(to_m, 0);
		/* the ghost's answers were checked both ways, and the false
		 * positives stay rare */
		ck_assert_int_gt(m.must, 0);
		ck_assert_int_gt(m.must_not, 0);
		ck_assert_int_le(m.fp, m.must_not / 20 + 1);
	}
	if (_i < 2)
		printf("%s model run: %d stores, %d none, %d evict, %d dead, %d swept, %d to M; "
		       "ghost answers checked: %d must be, %d must not be (%d false positives)\n",
		       spc_policy_name(kind), npool, n_kind[0], n_kind[1], n_kind[2], g.n, to_m,
		       m.must, m.must_not, m.fp);
	spc_policy_destroy(p);
	free(a);
	free(b);
	free(ra);
	free(rb);
	free(m.q[0]);
	free(m.q[1]);
	free(m.gh);
	free(m.gnum);
	free(m.gsafe);
	free(m.gout);
}
END_TEST

static Suite *model_suite(void)
{
	Suite *s = suite_create("policy-model");
	TCase *tc = tcase_create("model");

	tcase_add_loop_test(tc, test_model_random, 0, 40);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(model_suite());
}
