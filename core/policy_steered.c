/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/policy_steered.c: ghost-steered S3-FIFO, the default policy.
 * S3-FIFO (core/policy_s3fifo.c) whose small queue's share of the cache is
 * steered by two ghosts, the way ARC (N. Megiddo and D. S. Modha, "ARC: a
 * self-tuning, low overhead replacement cache", FAST 2003) steers the
 * split between its recency and frequency lists.
 *
 * Why
 * ---
 * S3-FIFO keeps a new item only if it is used again while it waits in the
 * small FIFO S, a tenth of the cache. That filters one-hit wonders, and
 * wins big where they dominate (lirs ps: 0.51 against exact LRU's 0.16),
 * but loses where a workload comes back to its keys after more than a
 * tenth of the cache and less than all of it: loops, zigzags, replays of
 * a range. There LRU is optimal (equal to Belady's MIN on lirs backf and
 * zigzag) and S3-FIFO drops to a quarter of it. Which of the two a
 * workload wants cannot be told in advance; the ghosts tell it as it
 * runs.
 *
 * Rules (freq is the item's access counter, 0..3, bumped by readers)
 * -----
 *   queues:  S (new items) and M (items that earned their keep), both
 *            FIFOs with reinsertion, as in S3-FIFO.
 *   ghosts:  GS remembers the hashes of about the last 0.9 P items evicted
 *            from S, GM those of about the last P / 4 evicted from M (P:
 *            the most items ever queued). Both are rotating Bloom filters
 *            (core/policy_ghost.c).
 *   target:  s_target, the items S may hold before evictions turn to M;
 *            between P / 20 (at least 1) and P; it starts at that floor
 *            and follows it up while the cache fills (starting at S3-FIFO's
 *            tenth measured a little worse: +3.84 points against +3.94).
 *   admit(x):
 *     hash(x) in GS: x was evicted from S and is back: S was too short
 *            for it. x goes to M; s_target += 1.
 *     else in GM: x was evicted from M and is back: M was too short.
 *            x goes to M with freq 2 (two laps more than a newcomer);
 *            s_target -= 3.
 *     else:  x goes to S.
 *   next(): work on S if |S| >= s_target or M is empty, else on M; the
 *           choice holds for the call until that queue runs empty.
 *     from S: pop the head t; freq(t) >= 2: to M with freq 0 (S3-FIFO's
 *             promotion); freq(t) == 1: to M as well while s_target is
 *             below a tenth of P (S3-FIFO's share of S), else back to
 *             the tail of S with freq 0 (one more lap in S: with S as
 *             large as the cache, this is CLOCK); freq(t) == 0: t is the
 *             victim, hash(t) goes to GS.
 *     from M: pop the head t; freq(t) > 0: freq(t) - 1, back to M (a
 *             second chance per unit, as in S3-FIFO); else t is the
 *             victim: hash(t) leaves GS (core/policy_s3fifo.c says why)
 *             and goes to GM.
 *   Dead items met at a head come back at once as SPC_VICTIM_DEAD, with
 *   no ghost and no steering.
 *
 * On a loop longer than S, keys come back through GS; each such return
 * moves one slot from M to S, until S holds the whole cache and the
 * policy is CLOCK, LRU's lock-free stand-in. Where one-hit wonders pass
 * through, keys that M let go come back through GM and push S back down
 * toward its floor, and the policy is S3-FIFO with a smaller S. There S
 * only has to filter one-hit wonders, and one hit while in S is proof
 * enough: below a tenth of P (the share S3-FIFO gives S) an item hit once
 * moves to M rather than take another lap in S, which would spend S's
 * few slots on a key that has shown it is no one-hit wonder. Above a
 * tenth, S is on its way to CLOCK and a hit once earns a lap, as CLOCK
 * gives. The steps 1 and 3 stand in the ratio of the ghosts' lengths
 * (0.9 P / 0.25 P, rounded down), as ARC's steps stand in the ratio of
 * its ghost lists: a return through the shorter ghost is the stronger
 * evidence.
 *
 * Chosen by measurement (docs/policies.md): the replay of the real cache
 * on 23 traces at 10 % and 1 % of their distinct keys. Against exact LRU
 * no cell falls more than 0.002 below (S3-FIFO: 6 cells more than 0.005
 * below, down to -0.076); the mean gain over LRU is +3.8 points
 * (S3-FIFO: +3.3); 42 of the 46 cells are within 0.01 of the better of
 * LRU and S3-FIFO. The knobs were measured, not guessed: a ghost for M
 * four times shorter, steps 1 and 3,
 * the floor at a twentieth, a second lap in S for items hit once while S
 * is above a tenth, and two extra laps for returns from M each did best
 * or near best of the values tried (docs/policies.md, "How the default
 * was chosen"). The last two took the ARC paper's OLTP trace at 10,000
 * entries from 63.41 % to 63.55 %, above LRFU's 63.54 % (the paper's
 * Table IV).
 *
 * The readers' path does not change: a hit is one relaxed test-before-set
 * of the access counter, no lock, no queue move. All steering happens
 * here, on the maintainer, at admission, from what the ghosts say.
 *
 * Memory: the queues as S3-FIFO's (one slot per item, core/policy.c); the
 * two ghosts take 12.2 bits per remembered hash for 1.15 P hashes, 1.75 B
 * per item nominal, about 2.0 B measured once growth rounded them up.
 * In a steady state (tests/unit/policy/test_policy_memory.c) steered
 * takes 6.0-6.1 B per item with offset slots (S3-FIFO 5.6-5.7) and
 * 10.0-10.2 B with pointers (9.6-9.8), at 100,000 and 1,000,000 items:
 * below the charge per entry, which is S3-FIFO's (spc_policy_item_bytes:
 * 7 B with offsets, 12 B with pointers).
 *
 * Guarantees (tests/unit/policy checks them)
 *  1. A new item whose hash is in GS or GM goes to M (from GM with freq
 *     2), any other to S.
 *  2. From the first admission on, s_target stays within
 *     [max(1, P / 20), P]; a return through GS raises it by 1, one
 *     through GM lowers it by 3, within the bounds.
 *  3. Evictions come from S while |S| >= s_target (or M is empty), in
 *     S's order: an item never hit goes, one hit twice or more moves to
 *     M, one hit once moves to M while s_target * 10 < P and gets one
 *     more lap in S otherwise.
 *  4. An item evicted from S has its hash in GS afterwards, one evicted
 *     from M in GM (until they age out); dead items add to neither.
 *  5. Dead items come back as SPC_VICTIM_DEAD, never as SPC_VICTIM_EVICT;
 *     at most max_scan items are examined per call.
 *  6. A failed admission (SPC_ENOMEM) changes nothing: queues, ghosts,
 *     s_target.
 *  7. No clock, no randomness: the same calls and counters give the same
 *     victims.
 */
#include <string.h>

#include "base/base.h"
#include "core/policy.h"
#include "core/policy_ring.h"

/* Items the ghosts remember, per item queued at the peak: GS as
 * S3-FIFO's, GM a quarter. */
static size_t gs_limit(size_t peak)
{
	return peak - peak / 10;
}

static size_t gm_limit(size_t peak)
{
	return peak / 4 ? peak / 4 : 1;
}

/* Steps of s_target on a return through GS and through GM. */
#define STEER_GROW 1u
#define STEER_SHRINK 3u

/* Laps of credit in M for a key that comes back through GM: it is let go
 * only after two laps more than a newcomer without a hit. One measured
 * 63.48 % on arc_OLTP at 10,000 entries, two 63.55 %, three 63.50 %. */
#define GM_CREDIT 2u

/* Hits an item needs at S's head to move to M: one while S's target is
 * below S3-FIFO's tenth of the peak (S filters one-hit wonders only),
 * two above it (S is becoming CLOCK: a hit once earns a lap in S). */
static unsigned promote_at(const struct spc_policy_state *p)
{
	return p->s_target * 10 < p->peak ? 1u : 2u;
}

/* Bounds of s_target: a twentieth of the peak (at least 1), the peak. */
static size_t s_floor(size_t peak)
{
	return peak / 20 ? peak / 20 : 1;
}

int spc_policy_steered_init(struct spc_policy_state *p, size_t expected_items)
{
	struct spc_policy_ghost empty;

	memset(&empty, 0, sizeof empty);
	p->s_target = 1; /* the floor of an empty cache; it follows the peak */
	if (spc_policy_ghost_prepare(&p->env, &empty, gs_limit(expected_items), &p->ghost) != SPC_OK)
		return SPC_ENOMEM;
	return spc_policy_ghost_prepare(&p->env, &empty, gm_limit(expected_items), &p->mghost);
}

void spc_policy_steered_fini(struct spc_policy_state *p)
{
	spc_policy_ghost_fini(&p->ghost);
	spc_policy_ghost_fini(&p->mghost);
}

size_t spc_policy_steered_memory(const struct spc_policy_state *p)
{
	return spc_policy_ghost_memory(&p->ghost) + spc_policy_ghost_memory(&p->mghost);
}

size_t spc_policy_steered_target(const struct spc_policy_state *p)
{
	return p->s_target;
}

/* Moves s_target by +grow or -shrink within its bounds, [floor, peak]. */
static void steer(struct spc_policy_state *p, size_t grow, size_t shrink)
{
	size_t lo = s_floor(p->peak), t = p->s_target;

	t = t + grow > p->peak ? p->peak : t + grow;
	t = t < lo + shrink ? lo : t - shrink;
	p->s_target = t;
}

int spc_policy_steered_admit(struct spc_policy_state *p, void *item, uint64_t h)
{
	struct spc_policy_ring *s = &p->q[0], *m = &p->q[1];
	unsigned shift = p->chunks.shift;
	size_t used = spc_policy_used(p) + 1, cap_s, cap_m, peak;
	void **dir_s = NULL, **dir_m = NULL;
	struct spc_policy_ghost fs, fm;

	/* Reserve first, install only when everything was obtained. Either
	 * queue may come to hold every item (S when s_target reaches the
	 * peak), so both directories get room for all slots. */
	fs.mem = NULL; /* what the frees below look at, before prepare ran */
	fm.mem = NULL;
	peak = p->peak > p->total ? p->peak : p->total + 1;
	if (spc_policy_dir_prepare(&p->env, s, shift, used, &dir_s, &cap_s) != SPC_OK ||
	    spc_policy_dir_prepare(&p->env, m, shift, used, &dir_m, &cap_m) != SPC_OK ||
	    spc_policy_ghost_prepare(&p->env, &p->ghost, gs_limit(peak), &fs) != SPC_OK ||
	    spc_policy_ghost_prepare(&p->env, &p->mghost, gm_limit(peak), &fm) != SPC_OK ||
	    spc_policy_chunks_reserve(p, used) != SPC_OK) {
		spc_free(dir_s);
		spc_free(dir_m);
		spc_free(fs.mem);
		spc_free(fm.mem);
		return SPC_ENOMEM;
	}
	spc_policy_dir_install(s, dir_s, cap_s);
	spc_policy_dir_install(m, dir_m, cap_m);
	spc_policy_ghost_install(&p->ghost, &fs);
	spc_policy_ghost_install(&p->mghost, &fm);

	p->total++;
	if (p->total > p->peak)
		p->peak = p->total;
	if (spc_policy_ghost_has(&p->ghost, h)) {
		steer(p, STEER_GROW, 0);
		spc_policy_ring_push(&p->chunks, m, item);
	} else if (spc_policy_ghost_has(&p->mghost, h)) {
		steer(p, 0, STEER_SHRINK);
		p->ops.set_freq(p->ops.ctx, item, GM_CREDIT);
		spc_policy_ring_push(&p->chunks, m, item);
	} else {
		steer(p, 0, 0); /* the peak may have moved the floor */
		spc_policy_ring_push(&p->chunks, s, item);
	}
	spc_policy_chunks_trim(p, used);
	return SPC_OK;
}

enum spc_victim_kind spc_policy_steered_next(struct spc_policy_state *p, size_t max_scan,
                                             void **item)
{
	struct spc_policy_ring *s = &p->q[0], *m = &p->q[1];
	size_t examined;
	unsigned promote;
	int small;

	if (p->total == 0)
		return SPC_VICTIM_NONE;
	small = spc_policy_ring_count(s) >= p->s_target || spc_policy_ring_count(m) == 0;
	promote = promote_at(p); /* s_target does not move within the call */
	for (examined = 0; examined < max_scan; examined++) {
		void *it;
		unsigned f;

		if (small && spc_policy_ring_count(s) == 0)
			small = 0; /* everything in S moved to M: go on with M */
		it = spc_policy_ring_pop(&p->chunks, small ? s : m);
		/* from S a victim's hash goes to GS; from M it leaves GS
		 * and goes to GM */
		if (small)
			spc_policy_ahead(p, s, NULL, &p->ghost);
		else
			spc_policy_ahead(p, m, &p->ghost, &p->mghost);
		if (p->ops.dead(p->ops.ctx, it)) {
			p->total--;
			spc_policy_forget(p, it);
			*item = it;
			return SPC_VICTIM_DEAD;
		}
		f = p->ops.freq(p->ops.ctx, it);
		if (small && f > 0) {
			/* Hit enough: M. Hit once with S above a tenth:
			 * another lap in S. */
			p->ops.set_freq(p->ops.ctx, it, 0);
			spc_policy_ring_push(&p->chunks, f >= promote ? m : s, it);
			continue;
		}
		if (!small && f > 0) {
			p->ops.set_freq(p->ops.ctx, it, f - 1);
			spc_policy_ring_push(&p->chunks, m, it);
			continue;
		}
		p->total--;
		if (small) {
			spc_policy_ghost_add(&p->ghost, spc_policy_hash_leaving(p, it),
			                     gs_limit(p->peak));
		} else {
			uint64_t h = spc_policy_hash_leaving(p, it); /* once: it hashes the key */

			spc_policy_ghost_remove(&p->ghost, h);
			spc_policy_ghost_add(&p->mghost, h, gm_limit(p->peak));
		}
		*item = it;
		return SPC_VICTIM_EVICT;
	}
	return SPC_VICTIM_NONE;
}
