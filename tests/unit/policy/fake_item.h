/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/policy/fake_item.h: the items the policy tests queue. A fake
 * item has an id, a key hash, an access counter and a dead flag; the ops
 * read them directly. Also: a fault hook that fails the N-th allocation,
 * and helpers to drain a policy into an array of ids.
 */
#ifndef SPC_TEST_FAKE_ITEM_H
#define SPC_TEST_FAKE_ITEM_H

#include <check.h>
#include <stdint.h>
#include <string.h>

#include "base/base.h"
#include "core/policy.h"
#include "core/policy_ring.h"

/* ck_assert records its location through the runner on every call, even
 * when it holds: in loops of a million steps that is most of the run time.
 * Hot loops use this one, which costs a branch when the condition holds. */
#define FAST_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_abort_msg("%s:%d: assertion failed: %s", __FILE__,  \
			             __LINE__, #cond);                         \
	} while (0)

struct fitem {
	int id;
	uint64_t hash;
	unsigned freq;
	int dead;
};

static inline unsigned fitem_freq(void *ctx, const void *item)
{
	return ((const struct fitem *)item)->freq;
}

static inline void fitem_set_freq(void *ctx, void *item, unsigned freq)
{
	((struct fitem *)item)->freq = freq;
}

static inline int fitem_dead(void *ctx, const void *item)
{
	return ((const struct fitem *)item)->dead;
}

static inline uint64_t fitem_hash(void *ctx, const void *item)
{
	return ((const struct fitem *)item)->hash;
}

static const struct spc_policy_ops fitem_ops = {
	.freq = fitem_freq,
	.set_freq = fitem_set_freq,
	.dead = fitem_dead,
	.hash = fitem_hash,
};

/* Items 0..n-1 with hash = 1000 + id, counters 0, alive. */
static inline void fitems_init(struct fitem *it, int n)
{
	int i;

	memset(it, 0, sizeof(*it) * (size_t)n);
	for (i = 0; i < n; i++) {
		it[i].id = i;
		it[i].hash = 1000u + (uint64_t)i;
	}
}

/* Fails allocation number `fail_at` (0-based) counted from arming, once. */
struct fault_counter {
	int armed;
	long seen;
	long fail_at;
	long failures;
};

static inline int fault_nth(void *arg, enum spc_fault_site site, size_t bytes)
{
	struct fault_counter *f = arg;

	(void)site;
	(void)bytes;
	if (!f->armed)
		return 0;
	if (f->seen++ == f->fail_at) {
		f->failures++;
		return 1;
	}
	return 0;
}

/* A deterministic generator for the tests' traces (splitmix64). */
static inline uint64_t splitmix_test(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Items in S (queue 0) and M (queue 1) of an S3-FIFO policy. */
static inline size_t q_count(const struct spc_policy_state *p, unsigned q)
{
	return spc_policy_ring_count(&p->q[q]);
}

/* Calls next until the policy is empty; writes the ids, dead ones as
 * -1 - id, into out; returns how many. Every call must return an item
 * (max_scan is generous). */
static inline int drain_ids(struct spc_policy_state *p, int *out, int cap)
{
	int n = 0;
	void *item;
	enum spc_victim_kind k;

	while (spc_policy_size(p) > 0) {
		k = spc_policy_next(p, 1000000, &item);
		ck_assert_int_ne(k, SPC_VICTIM_NONE);
		ck_assert_ptr_nonnull(item);
		ck_assert_int_lt(n, cap);
		if (k == SPC_VICTIM_DEAD) {
			ck_assert(fitem_dead(NULL, item));
			out[n++] = -1 - ((struct fitem *)item)->id;
		} else {
			ck_assert(!fitem_dead(NULL, item));
			out[n++] = ((struct fitem *)item)->id;
		}
	}
	k = spc_policy_next(p, 1000000, &item);
	ck_assert_int_eq(k, SPC_VICTIM_NONE);
	ck_assert_ptr_null(item);
	return n;
}

static inline void assert_ids(const int *got, int n, const int *want, int nwant)
{
	int i;

	ck_assert_int_eq(n, nwant);
	for (i = 0; i < n; i++)
		ck_assert_msg(got[i] == want[i], "victim %d: got %d, want %d", i, got[i], want[i]);
}

#endif /* SPC_TEST_FAKE_ITEM_H */
