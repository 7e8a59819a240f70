/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/policy/test_policy_ahead.c: the lookahead (core/policy.c,
 * "Lookahead"): it decides nothing, hashes a victim's key once, tells the
 * owner about likely victims before they go, and never hands a hash of a
 * key an item no longer has.
 *  1. spc_policy_admit_ahead returns ops.hash's value (0 for CLOCK, which
 *     hashes nothing), and admit_hashed with it gives the same victims as
 *     spc_policy_admit on a random stream (hits, deaths, sweeps, ghost
 *     returns), for the three policies.
 *  2. A run of victims with counter 0: ops.ahead saw every one of them
 *     (but the first few) before next() returned it, never an item with a
 *     counter above 0, and ops.hash ran about once per victim (not
 *     twice: ahead, then again at the eviction).
 *  3. An item whose hash was kept ahead, then handed back dead (by next or
 *     by the sweep), and queued again under another key (an address the
 *     owner reused): the ghost learns the new key's hash at its eviction,
 *     not the old one.
 */
#include <check.h>
#include <stdlib.h>

#include "check_run.h"
#include "fake_item.h"

/* Counters of the instrumented ops (ctx: struct counts). */
struct counts {
	long hashes;
	long aheads;
	char seen[4096]; /* by item id: ahead was called for it */
	int freq_above_zero; /* ahead called for an item whose counter was > 0 */
};

static uint64_t c_hash(void *ctx, const void *item)
{
	((struct counts *)ctx)->hashes++;
	return ((const struct fitem *)item)->hash;
}

static void c_ahead(void *ctx, const void *item)
{
	struct counts *c = ctx;
	const struct fitem *it = item;

	c->aheads++;
	if (it->id >= 0 && it->id < (int)sizeof c->seen)
		c->seen[it->id] = 1;
	if (it->freq > 0)
		c->freq_above_zero = 1;
}

static struct spc_policy_state *mk(enum spc_policy kind, size_t expected, struct counts *c)
{
	struct spc_policy_ops ops = fitem_ops;
	struct spc_policy_state *p = NULL;

	ops.hash = c_hash;
	ops.ahead = c_ahead;
	ops.ctx = c;
	ck_assert_int_eq(spc_policy_create(kind, &ops, NULL, expected, &p), SPC_OK);
	return p;
}

static const enum spc_policy kinds[] = { SPC_POLICY_STEERED, SPC_POLICY_S3FIFO,
	                                 SPC_POLICY_CLOCK };

#define N_ITEMS 3000
#define N_OPS 60000

static void reclaim_id(void *arg, void *item)
{
	int **out = arg;

	*(*out)++ = -1 - ((struct fitem *)item)->id;
}

/* A random stream over N_ITEMS items whose keys come back (ghost hits):
 * admit (one way or the other), hit, kill, evict, sweep. Writes the ids
 * handed back (dead ones as -1 - id) into out; returns how many. */
static int stream(enum spc_policy kind, int hashed, int *out)
{
	static struct fitem it[N_ITEMS];
	static char queued[N_ITEMS];
	struct counts c;
	struct spc_policy_state *p;
	uint64_t s = 42;
	int n = 0, i;

	memset(&c, 0, sizeof c);
	memset(queued, 0, sizeof queued);
	fitems_init(it, N_ITEMS);
	p = mk(kind, 400, &c);
	for (i = 0; i < N_OPS; i++) {
		uint64_t r = splitmix_test(&s);
		struct fitem *x = &it[(r >> 8) % N_ITEMS];
		void *item;
		enum spc_victim_kind k;

		switch (r % 8) {
		case 0:
		case 1:
		case 2:
			if (queued[x->id])
				break;
			x->dead = 0;
			x->freq = 0;
			if (hashed) {
				uint64_t h = spc_policy_admit_ahead(p, x);

				FAST_ASSERT(h == (kind == SPC_POLICY_CLOCK ? 0 : x->hash));
				FAST_ASSERT(spc_policy_admit_hashed(p, x, h) == SPC_OK);
			} else {
				FAST_ASSERT(spc_policy_admit(p, x) == SPC_OK);
			}
			queued[x->id] = 1;
			break;
		case 3:
			if (queued[x->id] && x->freq < 3)
				x->freq++;
			break;
		case 4:
			if (queued[x->id] && (r >> 40) % 8 == 0)
				x->dead = 1;
			break;
		case 5:
		case 6:
			if (spc_policy_size(p) < 300)
				break;
			k = spc_policy_next(p, 1000, &item);
			if (k == SPC_VICTIM_NONE)
				break;
			queued[((struct fitem *)item)->id] = 0;
			out[n++] = k == SPC_VICTIM_DEAD ? -1 - ((struct fitem *)item)->id
			                                : ((struct fitem *)item)->id;
			break;
		default:
			if ((r >> 40) % 16 == 0) {
				int *at = out + n;

				spc_policy_sweep(p, 64, reclaim_id, &at);
				for (; out + n < at; n++)
					queued[-1 - out[n]] = 0;
			}
			break;
		}
	}
	spc_policy_destroy(p);
	return n;
}

START_TEST(test_ahead_decides_nothing)
{
	static int a[N_OPS], b[N_OPS];
	int k;

	for (k = 0; k < 3; k++) {
		int na = stream(kinds[k], 0, a), nb = stream(kinds[k], 1, b);

		ck_assert_int_gt(na, 10000);
		assert_ids(b, nb, a, na);
	}
}
END_TEST

/* CLOCK hashes nothing, ahead or not. */
START_TEST(test_ahead_clock_hashes_nothing)
{
	struct fitem it[64];
	struct counts c;
	struct spc_policy_state *p;
	void *item;
	int i;

	memset(&c, 0, sizeof c);
	fitems_init(it, 64);
	p = mk(SPC_POLICY_CLOCK, 64, &c);
	for (i = 0; i < 64; i++)
		ck_assert_int_eq(spc_policy_admit_hashed(p, &it[i], spc_policy_admit_ahead(p, &it[i])),
		                 SPC_OK);
	while (spc_policy_next(p, 100, &item) != SPC_VICTIM_NONE)
		;
	ck_assert_int_eq(c.hashes, 0);
	ck_assert_int_gt(c.aheads, 0);
	spc_policy_destroy(p);
}
END_TEST

/* Guarantee 2: 1000 items, every tenth hit twice (S promotes it to M
 * (steered: to M as well, a hit twice is enough at any target)); the
 * others are evicted from S in order. */
START_TEST(test_ahead_announces_victims)
{
	static struct fitem it[1000];
	int k;

	for (k = 0; k < 3; k++) {
		struct counts c;
		struct spc_policy_state *p;
		void *item;
		int i, victims = 0, announced = 0;

		memset(&c, 0, sizeof c);
		fitems_init(it, 1000);
		p = mk(kinds[k], 1000, &c);
		for (i = 0; i < 1000; i++) {
			ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
			if (i % 10 == 0)
				it[i].freq = 2;
		}
		c.hashes = 0;
		/* half of them: the items hit are still queued (in M) */
		for (i = 0; i < 450; i++) {
			struct fitem *x;

			ck_assert_int_eq(spc_policy_next(p, 1000, &item), SPC_VICTIM_EVICT);
			x = item;
			ck_assert_int_ne(x->id % 10, 0);
			victims++;
			if (x->id >= 10) /* the first few have no lookahead */
				announced += c.seen[x->id];
			else
				continue;
		}
		ck_assert_int_eq(c.freq_above_zero, 0);
		/* every victim from the tenth on was announced before it went */
		ck_assert_int_eq(announced, victims - 9);
		/* about once each (the memo; a collision in it costs a hash
		 * again), not once ahead and once more at the eviction */
		if (kinds[k] != SPC_POLICY_CLOCK)
			ck_assert_int_lt(c.hashes, victims + victims / 4 + (int)SPC_POLICY_AHEAD + 1);
		else
			ck_assert_int_eq(c.hashes, 0);
		spc_policy_destroy(p);
	}
}
END_TEST

/* Guarantee 3. S holds items 0..9 (expected 100: S filters, nothing goes
 * to M); the first eviction looks ahead at item 5 and keeps its hash.
 * Item 5 dies and is handed back (by next, or by the sweep), then comes
 * back under a new key while the items behind it still wait; evicting
 * everything must put the new key's hash in the ghost. */
static void reused_address(enum spc_policy kind, int by_sweep)
{
	static const uint64_t fresh = 0x5eed5eedull;
	struct fitem it[10];
	struct counts c;
	struct spc_policy_state *p;
	void *item;
	int i;

	memset(&c, 0, sizeof c);
	fitems_init(it, 10);
	p = mk(kind, 100, &c);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(spc_policy_admit(p, &it[i]), SPC_OK);
	ck_assert_int_eq(spc_policy_next(p, 100, &item), SPC_VICTIM_EVICT);
	ck_assert_ptr_eq(item, &it[0]);
	ck_assert(c.seen[5]); /* its hash is kept ahead */
	it[5].dead = 1;
	if (by_sweep) {
		int ids[16], *at = ids;

		spc_policy_sweep(p, 100, reclaim_id, &at);
		ck_assert_int_eq(at - ids, 1);
		ck_assert_int_eq(ids[0], -1 - 5);
	} else {
		for (i = 1; i <= 4; i++) {
			ck_assert_int_eq(spc_policy_next(p, 100, &item), SPC_VICTIM_EVICT);
			ck_assert_ptr_eq(item, &it[i]);
		}
		ck_assert_int_eq(spc_policy_next(p, 100, &item), SPC_VICTIM_DEAD);
		ck_assert_ptr_eq(item, &it[5]);
	}
	/* the owner frees item 5 and reuses its address for another key */
	it[5].dead = 0;
	it[5].hash = fresh;
	ck_assert_int_eq(spc_policy_admit(p, &it[5]), SPC_OK);
	while (spc_policy_size(p) > 0) {
		ck_assert_int_eq(spc_policy_next(p, 100, &item), SPC_VICTIM_EVICT);
		ck_assert_int_eq(((struct fitem *)item)->dead, 0);
	}
	ck_assert(spc_policy_ghost_has(&p->ghost, fresh));
	ck_assert(!spc_policy_ghost_has(&p->ghost, 1005));
	spc_policy_destroy(p);
}

START_TEST(test_ahead_reused_address)
{
	reused_address(SPC_POLICY_STEERED, 0);
	reused_address(SPC_POLICY_STEERED, 1);
	reused_address(SPC_POLICY_S3FIFO, 0);
	reused_address(SPC_POLICY_S3FIFO, 1);
}
END_TEST

static Suite *ahead_suite(void)
{
	Suite *s = suite_create("policy-ahead");
	TCase *tc = tcase_create("ahead");

	tcase_add_test(tc, test_ahead_decides_nothing);
	tcase_add_test(tc, test_ahead_clock_hashes_nothing);
	tcase_add_test(tc, test_ahead_announces_victims);
	tcase_add_test(tc, test_ahead_reused_address);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(ahead_suite());
}
