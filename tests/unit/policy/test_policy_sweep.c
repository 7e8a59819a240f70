/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/policy/test_policy_sweep.c: the queues under the policies -
 * the sweep (core/policy.c guarantee 3), growth from one expected item to
 * 100,000, and failed allocations (guarantee 1): fail the N-th allocation
 * of a scripted run for every N and check that the policy is unchanged by
 * the failure and names exactly the victims of a run without faults.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "check_run.h"
#include "fake_item.h"

/* Ids of queue q in queue order (the sweep gap left out). */
static int ring_ids(const struct spc_policy_state *p, unsigned q, int *out, int cap)
{
	const struct spc_policy_ring *r = &p->q[q];
	int n = 0;
	uint64_t pos;

	for (pos = r->head; pos < r->gap_lo; pos++) {
		ck_assert_int_lt(n, cap);
		out[n++] = ((const struct fitem *)spc_policy_ring_get(&p->chunks, r, pos))->id;
	}
	for (pos = r->gap_hi; pos < r->tail; pos++) {
		ck_assert_int_lt(n, cap);
		out[n++] = ((const struct fitem *)spc_policy_ring_get(&p->chunks, r, pos))->id;
	}
	return n;
}

struct reclaimed {
	int ids[256];
	int n;
};

static void collect(void *arg, void *item)
{
	struct reclaimed *rc = arg;
	struct fitem *it = item;

	ck_assert(it->dead);
	ck_assert_int_lt(rc->n, 256);
	rc->ids[rc->n++] = it->id;
	it->dead = 2; /* reclaimed: the policy must never hand it back again */
}

/* The hand-made sweep cases run four times: odd _i with chunks of 2 slots,
 * so that the sweep's two fingers, the gap and the head cross chunk
 * boundaries at every step; _i >= 2 with offset slots into the items. */
static void chunk_variant(struct spc_policy_state *p, int i, void *items, size_t size)
{
	if (i & 1)
		p->chunks.shift = 1;
	if (i & 2)
		ck_assert_int_eq(spc_policy_set_region(p, items, size), SPC_OK);
}

/* CLOCK: 0..9, 1 4 5 9 dead, 3 with counter 2.
 *   sweep(3): examines 0 1 2, reclaims 1; queue 0 2 | gap | 3..9
 *   next: 0 (head before the gap)
 *   admit 10 behind the cursor's queue tail
 *   sweep(100): examines 3..10 (8 items), reclaims 4 5 9, ends the cycle
 *   queue now 2 3 6 7 8 10; 3 keeps its counter: drain 2 6 7 8 10 3. */
START_TEST(test_sweep_clock)
{
	struct fitem it[11];
	struct spc_policy_state *p = NULL;
	struct reclaimed rc = { .n = 0 };
	void *v;
	int got[16], n, i;
	static const int want_q[] = { 2, 3, 6, 7, 8, 10 };
	static const int want[] = { 2, 6, 7, 8, 10, 3 };

	fitems_init(it, 11);
	ck_assert_int_eq(spc_policy_create(SPC_POLICY_CLOCK, &fitem_ops, NULL, 2, &p), SPC_OK);
	chunk_variant(p, _i, it, sizeof it);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
	it[1].dead = it[4].dead = it[5].dead = it[9].dead = 1;
	it[3].freq = 2;
	ck_assert_uint_eq(spc_policy_sweep(p, 3, collect, &rc), 3);
	ck_assert_int_eq(rc.n, 1);
	ck_assert_int_eq(rc.ids[0], 1);
	ck_assert_uint_eq(spc_policy_size(p), 9);
	ck_assert_int_eq(spc_policy_next(p, 8, &v), SPC_VICTIM_EVICT);
	ck_assert_ptr_eq(v, &it[0]);
	ck_assert_int_eq(spc_policy_admit(p, &it[10]), SPC_OK);
	ck_assert_uint_eq(spc_policy_sweep(p, 100, collect, &rc), 8);
	ck_assert_int_eq(rc.n, 4);
	ck_assert_int_eq(rc.ids[1], 4);
	ck_assert_int_eq(rc.ids[2], 5);
	ck_assert_int_eq(rc.ids[3], 9);
	ck_assert_uint_eq(spc_policy_size(p), 6);
	n = ring_ids(p, 0, got, 16);
	assert_ids(got, n, want_q, 6);
	ck_assert_uint_eq(it[3].freq, 2);
	/* the cycle ended: a new one starts at the head and finds nothing */
	ck_assert_uint_eq(spc_policy_sweep(p, 100, collect, &rc), 6);
	ck_assert_int_eq(rc.n, 4);
	n = drain_ids(p, got, 16);
	assert_ids(got, n, want, 6);
	ck_assert_uint_eq(spc_policy_sweep(p, 100, collect, &rc), 0);
	spc_policy_destroy(p);
}
END_TEST

/* S3-FIFO: 0..19 are admitted and evicted (the ghost, of limit 18 in
 * generations of 6, still holds all 20 hashes: its first generation is
 * cleared when the fourth is full, at the 24th addition); then 0..39
 * come: 0..19 to M, 20..39 to S. Every third item dies. Sweeps of 4
 * interleaved with an eviction (20, the head of S, which holds >= 10 %)
 * and an admission (40, to S) collect every dead item; S and M keep their
 * live items in order, counters untouched. */
START_TEST(test_sweep_s3fifo_steps)
{
	struct fitem it[48];
	struct spc_policy_state *p = NULL;
	struct reclaimed rc = { .n = 0 };
	void *v;
	int got[64], n, i, calls = 0, ndead = 0, want_s[64], ns = 0, want_m[64], nm = 0;

	fitems_init(it, 48);
	ck_assert_int_eq(spc_policy_create(SPC_POLICY_S3FIFO, &fitem_ops, NULL, 4, &p), SPC_OK);
	chunk_variant(p, _i, it, sizeof it);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
	for (i = 0; i < 20; i++)
		ck_assert_int_eq(spc_policy_next(p, 8, &v), SPC_VICTIM_EVICT);
	for (i = 0; i < 40; i++)
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
	ck_assert_uint_eq(q_count(p, 0), 20);
	ck_assert_uint_eq(q_count(p, 1), 20);
	for (i = 0; i < 40; i++) {
		it[i].freq = (unsigned)(i % 4);
		if (i % 3 == 1) {
			it[i].dead = 1;
			ndead++;
		}
	}
	while (rc.n < ndead) {
		size_t e = spc_policy_sweep(p, 4, collect, &rc);

		ck_assert_uint_le(e, 4);
		ck_assert_int_lt(++calls, 40);
		if (calls == 3) {
			ck_assert_int_eq(spc_policy_next(p, 8, &v), SPC_VICTIM_EVICT);
			ck_assert_ptr_eq(v, &it[20]);
			ck_assert_int_eq(spc_policy_admit(p, &it[40]), SPC_OK);
		}
	}
	ck_assert_int_eq(rc.n, ndead);
	ck_assert_uint_eq(spc_policy_size(p), 40 - ndead);
	for (i = 21; i < 40; i++)
		if (i % 3 != 1)
			want_s[ns++] = i;
	want_s[ns++] = 40;
	for (i = 0; i < 20; i++)
		if (i % 3 != 1)
			want_m[nm++] = i;
	n = ring_ids(p, 0, got, 64);
	assert_ids(got, n, want_s, ns);
	n = ring_ids(p, 1, got, 64);
	assert_ids(got, n, want_m, nm);
	for (i = 0; i < 40; i++)
		if (i % 3 != 1 && i != 20)
			ck_assert_uint_eq(it[i].freq, (unsigned)(i % 4));
	spc_policy_destroy(p);
}
END_TEST

/* A ring that grows while a sweep gap is open keeps order and cursor; with
 * chunks of 4 slots, the gap, the sweep and the pops cross chunk
 * boundaries many times. */
START_TEST(test_sweep_gap_then_growth)
{
	static struct fitem it[200];
	struct spc_policy_state *p = NULL;
	struct reclaimed rc = { .n = 0 };
	static int got[256];
	int n, i, want[200], nw = 0;

	fitems_init(it, 200);
	ck_assert_int_eq(spc_policy_create(SPC_POLICY_CLOCK, &fitem_ops, NULL, 8, &p), SPC_OK);
	p->chunks.shift = 2;
	for (i = 0; i < 8; i++)
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
	it[0].dead = it[1].dead = it[6].dead = 1;
	ck_assert_uint_eq(spc_policy_sweep(p, 3, collect, &rc), 3); /* gap at 0..1 */
	ck_assert_uint_eq(p->q[0].gap_hi - p->q[0].gap_lo, 2);
	for (i = 8; i < 200; i++) {
		if (i % 10 == 0)
			it[i].dead = 1;
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
	}
	ck_assert_uint_ge(p->q[0].dir_cap * 4, 200);
	ck_assert_uint_ge(p->chunks.owned * 4, 200);
	while (spc_policy_sweep(p, 7, collect, &rc) == 7)
		;
	ck_assert_int_eq(rc.n, 3 + 19);
	for (i = 0; i < 200; i++)
		if (!it[i].dead)
			want[nw++] = i;
	n = ring_ids(p, 0, got, 256);
	assert_ids(got, n, want, nw);
	n = drain_ids(p, got, 256);
	assert_ids(got, n, want, nw);
	spc_policy_destroy(p);
}
END_TEST

#define GROW_N 100000

/* From expected_items = 1 to 100,000 items: every admission succeeds, the
 * memory grows with the items, the victims come back in admission order
 * (no item was hit: CLOCK and S3-FIFO both degrade to FIFO). */
START_TEST(test_growth)
{
	enum spc_policy kind = _i ? SPC_POLICY_CLOCK : SPC_POLICY_S3FIFO;
	struct fitem *it = calloc(GROW_N, sizeof *it);
	struct spc_policy_state *p = NULL;
	size_t mem0;
	void *v;
	int i;

	ck_assert_ptr_nonnull(it);
	fitems_init(it, GROW_N);
	ck_assert_int_eq(spc_policy_create(kind, &fitem_ops, NULL, 1, &p), SPC_OK);
	mem0 = spc_policy_memory(p);
	for (i = 0; i < GROW_N; i++)
		FAST_ASSERT(spc_policy_admit(p, &it[i]) == SPC_OK);
	ck_assert_uint_eq(spc_policy_size(p), GROW_N);
	ck_assert_uint_ge(spc_policy_memory(p), mem0 + GROW_N * sizeof(void *));
	printf("%s: %zu bytes of policy memory for %d items (%.1f per item)\n",
	       spc_policy_name(kind), spc_policy_memory(p), GROW_N,
	       (double)spc_policy_memory(p) / GROW_N);
	fflush(stdout);
	for (i = 0; i < GROW_N; i++) {
		FAST_ASSERT(spc_policy_next(p, 4, &v) == SPC_VICTIM_EVICT);
		FAST_ASSERT(v == &it[i]);
	}
	ck_assert_int_eq(spc_policy_next(p, 4, &v), SPC_VICTIM_NONE);
	ck_assert_uint_eq(spc_policy_size(p), 0);
	spc_policy_destroy(p);
	free(it);
}
END_TEST

/* Queues give their chunks back once mostly empty, keeping order, counters
 * and the sweep cursor (chunks of 16 slots here, so that 1,000 items take
 * many). */
START_TEST(test_trim)
{
	enum spc_policy kind = _i ? SPC_POLICY_CLOCK : SPC_POLICY_S3FIFO;
	static struct fitem it[1100];
	static int got[1100];
	struct spc_policy_state *p = NULL;
	struct reclaimed rc = { .n = 0 };
	size_t mem_full, mem_first;
	int i, n, want[64], nw = 0;
	void *v;

	fitems_init(it, 1100);
	ck_assert_int_eq(spc_policy_create(kind, &fitem_ops, NULL, 16, &p), SPC_OK);
	p->chunks.shift = 4;
	mem_first = spc_policy_memory(p);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
	mem_full = spc_policy_memory(p);
	for (i = 0; i < 990; i++) {
		FAST_ASSERT(spc_policy_next(p, 4, &v) == SPC_VICTIM_EVICT);
		FAST_ASSERT(v == &it[i]);
	}
	it[990].dead = it[993].dead = 1;
	it[991].freq = 1;
	ck_assert_uint_eq(spc_policy_sweep(p, 2, collect, &rc), 2); /* 990 out: a gap */
	ck_assert_uint_eq(p->q[0].gap_hi - p->q[0].gap_lo, 1);
	for (i = 1000; i < 1020; i++)
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
	ck_assert_uint_lt(spc_policy_memory(p), mem_full);
	/* 30 slots: at most 2 + 2 per queue chunks of 16, one spare */
	ck_assert_uint_le(p->chunks.owned, 2 + 2 * p->nq + 1);
	while (spc_policy_sweep(p, 3, collect, &rc) == 3)
		;
	ck_assert_int_eq(rc.n, 2);
	ck_assert_uint_eq(it[991].freq, 1);
	for (i = 990; i < 1020; i++)
		if (i != 990 && i != 993)
			want[nw++] = i;
	n = ring_ids(p, 0, got, 1100);
	assert_ids(got, n, want, nw);
	/* down to nothing: back to the first size, not below */
	while (spc_policy_next(p, 8, &v) != SPC_VICTIM_NONE)
		;
	for (i = 0; i < 40; i++) {
		ck_assert_int_eq(spc_policy_admit(p, &it[1020 + i]), SPC_OK);
		ck_assert_int_eq(spc_policy_next(p, 8, &v), SPC_VICTIM_EVICT);
	}
	/* one item at a time: the chunks its ends may need, and one spare */
	ck_assert_uint_le(p->chunks.owned, 2 * p->nq + 1);
	ck_assert_uint_gt(spc_policy_memory(p), mem_first);
	spc_policy_destroy(p);
}
END_TEST

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#define SCRIPT_KEYS 512
#define SCRIPT_STEPS 3000
#define SCRIPT_CAP 200

/* A scripted run: keys of a small universe come back (ghost hits), get hit
 * (counters), die (dead items); the cache holds SCRIPT_CAP items. Returns
 * the victims' key ids in *victims (n_victims of them) and how many
 * allocations the fault hook saw. On an ENOMEM admission the test checks
 * that nothing changed, then retries (the fault fires once). */
static long script_run(enum spc_policy kind, int region, long fail_at, int *victims,
                       int *n_victims)
{
	struct fault_counter fc = { .armed = 0, .seen = 0, .fail_at = fail_at, .failures = 0 };
	struct spc_env env = { .fault = fault_nth, .fault_arg = &fc };
	static struct fitem pool[SCRIPT_STEPS];
	struct fitem *cur[SCRIPT_KEYS] = { 0 };
	struct spc_policy_state *p = NULL;
	uint64_t seed = 42;
	int step, nv = 0;

	ck_assert_int_eq(spc_policy_create(kind, &fitem_ops, &env, 1, &p), SPC_OK);
	p->chunks.shift = 3; /* chunks of 8: many chunk allocations to fail */
	if (region)
		ck_assert_int_eq(spc_policy_set_region(p, pool, sizeof pool), SPC_OK);
	fc.armed = 1;
	for (step = 0; step < SCRIPT_STEPS; step++) {
		int key = (int)(splitmix(&seed) % SCRIPT_KEYS);
		unsigned action = (unsigned)(splitmix(&seed) % 8);
		struct fitem *it;
		size_t size0, mem0;
		int rc;
		void *v;

		if (cur[key] && action < 5) { /* hit */
			if (cur[key]->freq < 3)
				cur[key]->freq++;
			continue;
		}
		if (cur[key] && action == 5) { /* delete */
			cur[key]->dead = 1;
			cur[key] = NULL;
			continue;
		}
		if (cur[key]) /* replace: the old one dies */
			cur[key]->dead = 1;
		while (spc_policy_size(p) >= SCRIPT_CAP) {
			enum spc_victim_kind k = spc_policy_next(p, 3, &v);

			if (k == SPC_VICTIM_NONE)
				continue;
			it = v;
			victims[nv++] = k == SPC_VICTIM_DEAD ? -1 - it->id : it->id;
			if (k == SPC_VICTIM_EVICT) {
				FAST_ASSERT(cur[it->id] == it);
				cur[it->id] = NULL;
			}
		}
		it = &pool[step];
		memset(it, 0, sizeof *it);
		it->id = key;
		it->hash = 7919u * (uint64_t)key + 1;
		size0 = spc_policy_size(p);
		mem0 = spc_policy_memory(p);
		rc = spc_policy_admit(p, it);
		if (rc == SPC_ENOMEM) { /* rare: ck_assert is fine here */
			ck_assert_int_eq(fc.failures, 1);
			ck_assert_uint_eq(spc_policy_size(p), size0);
			ck_assert_uint_eq(spc_policy_memory(p), mem0);
			rc = spc_policy_admit(p, it);
		}
		FAST_ASSERT(rc == SPC_OK);
		cur[key] = it;
	}
	fc.armed = 0;
	spc_policy_destroy(p);
	*n_victims = nv;
	if (fail_at >= 0 && fail_at < fc.seen)
		ck_assert_int_eq(fc.failures, 1);
	return fc.seen;
}

/* Fail the N-th allocation of the scripted run, for N = 0, 1, ... until a
 * run sees no failure (SQLite's loop): each time the victims are exactly
 * those of the run without faults. Chunks, directories and the ghost all
 * grow in the run; with pointer slots (_i < 2) and offset slots. */
START_TEST(test_fault_admit_nth)
{
	enum spc_policy kind = (_i & 1) ? SPC_POLICY_CLOCK : SPC_POLICY_S3FIFO;
	int region = _i >= 2;
	static int ref[SCRIPT_STEPS * 2], got[SCRIPT_STEPS * 2];
	int nref, ngot;
	long allocs = script_run(kind, region, -1, ref, &nref), n;

	printf("%s, %s slots: %ld allocations in the scripted run\n", spc_policy_name(kind),
	       region ? "offset" : "pointer", allocs);
	fflush(stdout);
	ck_assert_int_gt(nref, SCRIPT_STEPS / 4);
	ck_assert_int_ge(allocs, 4); /* the script does make the queues grow */
	for (n = 0; n < allocs; n++) {
		script_run(kind, region, n, got, &ngot);
		assert_ids(got, ngot, ref, nref);
	}
}
END_TEST

/* Creation fails cleanly at each of its allocations (ASan: no leak). */
START_TEST(test_fault_create_nth)
{
	struct fault_counter fc = { .armed = 1, .seen = 0, .fail_at = _i, .failures = 0 };
	struct spc_env env = { .fault = fault_nth, .fault_arg = &fc };
	struct spc_policy_state *p = (void *)1;
	int k;

	for (k = 0; k < 2; k++) {
		enum spc_policy kind = k ? SPC_POLICY_CLOCK : SPC_POLICY_S3FIFO;
		int rc;

		fc.seen = 0;
		fc.failures = 0;
		rc = spc_policy_create(kind, &fitem_ops, &env, 100, &p);
		if (fc.failures) {
			ck_assert_int_eq(rc, SPC_ENOMEM);
			ck_assert_ptr_null(p);
		} else {
			ck_assert_int_eq(rc, SPC_OK);
			spc_policy_destroy(p);
		}
	}
}
END_TEST

static Suite *sweep_suite(void)
{
	Suite *s = suite_create("policy-queues");
	TCase *tc = tcase_create("queues");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_sweep_clock, 0, 4);
	tcase_add_loop_test(tc, test_sweep_s3fifo_steps, 0, 4);
	tcase_add_test(tc, test_sweep_gap_then_growth);
	tcase_add_loop_test(tc, test_growth, 0, 2);
	tcase_add_loop_test(tc, test_trim, 0, 2);
	tcase_add_loop_test(tc, test_fault_admit_nth, 0, 4);
	tcase_add_loop_test(tc, test_fault_create_nth, 0, 6);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(sweep_suite());
}
