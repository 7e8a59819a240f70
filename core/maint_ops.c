/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/maint_ops.c: how a pool's policy sees an entry: the callbacks of
 * struct spc_policy_ops (core/policy.h) on struct spc_entry, which the
 * maintainer (core/maint.c) gives its policy, with the pool as ctx.
 *
 * freq and set_freq are the entry's access counter (readers bump it with
 * a relaxed test-before-set); dead is the dead flag, or an expiry the
 * maintainer claims (see spc_op_dead); hash is the key's policy hash
 * (core/kv_index.h, the same in every cache, so that hit ratios do not
 * depend on the seed); ahead asks for the index bucket line of a likely
 * victim a few evictions before its removal locks it. All run on the
 * pool's maintainer only, like everything the policy does.
 */
#include "core/maint_ops.h"

#include "core/clock.h"
#include "core/kv_index.h"
#include "sync/rcu.h"

static unsigned spc_op_freq(void *ctx, const void *item)
{
	/* Relaxed: readers bump it concurrently; a stale value only makes an
	 * item look a little colder or warmer. */
	return __atomic_load_n(&((const struct spc_entry *)item)->access, __ATOMIC_RELAXED);
}

static void spc_op_set_freq(void *ctx, void *item, unsigned freq)
{
	/* Relaxed: a racing reader bump may be lost (policy.h allows it). */
	__atomic_store_n(&((struct spc_entry *)item)->access, (uint8_t)freq, __ATOMIC_RELAXED);
}

/* "Dead" for the policy: unpublished by a writer, or expired. The policy
 * drops every item for which this returns 1 and hands it back (next's
 * SPC_VICTIM_DEAD, the sweep's reclaim), so claiming an expired entry
 * here commits the maintainer to unpublishing it (spc_maint_collect). */
static int spc_op_dead(void *ctx, const void *item)
{
	/* Acquire pairs with the release in spc_note_unpublished: once the
	 * maintainer sees the flag, the unpublisher's accounting is done. */
	unsigned meta = __atomic_load_n(&((const struct spc_entry *)item)->meta, __ATOMIC_ACQUIRE);
	const struct spc_pstate *ps = ctx;

	if (meta & SPC_META_DEAD)
		return 1;
	return (meta & SPC_META_EXPIRY) && ps->maint_now &&
	       spc_expiry_claim((struct spc_entry *)item, ps->maint_now);
}

static uint64_t spc_op_hash(void *ctx, const void *item)
{
	const struct spc_entry *e = item;

	return spc_kv_policy_hash(e);
}

/* A likely victim a few evictions from now (policy.h): ask for its index
 * bucket line, for writing (the removal locks it), so that the miss on it
 * overlaps the evictions before. The read section keeps the table
 * allocated while its mask is read (only this thread retires tables, but
 * the rule is the index's). */
static void spc_op_ahead(void *ctx, const void *item)
{
	struct spc_pstate *ps = ctx;
	uint64_t h = spc_kv_entry_hash(ps, item);

	spc_rcu_read_lock();
	spc_kv_prefetch_rcu(ps, h);
	spc_rcu_read_unlock();
}

const struct spc_policy_ops spc_entry_ops = {
	.freq = spc_op_freq,
	.set_freq = spc_op_set_freq,
	.dead = spc_op_dead,
	.hash = spc_op_hash,
	.ahead = spc_op_ahead,
};
