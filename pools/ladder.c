/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pools/ladder.c: reserving the budget without ever crashing.
 *
 * The system we replace pre-allocated a fixed 1 GiB and aborted where that
 * much was not free. Here the budget is *reserved*, and when the system
 * refuses, the next rung of a ladder is tried: the budget, its halves while
 * above 16 MiB, then 16, 8, 4 and 1 MiB. Every attempt is recorded with the
 * error that stopped it. If every rung fails the caller opens in degraded
 * mode (minimal pools on plain arenas) and says so; it never aborts.
 *
 * What is reserved. A pool's target changes at run time (spc_set_mode moves
 * bytes from one pool to the other), so either pool may later hold almost
 * the whole budget. Each pool therefore gets a region of rung + slack bytes
 * of *address space* (slack = 8 MiB + rung / 16, for jemalloc's metadata
 * and what its growth steps strand; see arena.h); the charge counters, not
 * the regions, keep the two pools' physical use within the budget. Both regions come from one mapping:
 *
 *     mmap(2 x (rung + slack), PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE)
 *
 * PROT_NONE costs no commit charge even under overcommit_memory = 2 (where
 * MAP_NORESERVE is ignored); pages are committed later by the arena's
 * hooks with mprotect, which is where mode 2 can refuse, cleanly. The cost
 * is address space: 2 x (budget + slack), which counts against RLIMIT_AS
 * (so under a tight RLIMIT_AS the ladder may step down once; the report
 * shows it).
 *
 * Prefault (the original's pre-allocation, optional): after reserving a
 * rung, each pool's share of it (docs/memory.md, "The split") is committed and
 * touched (mprotect + MADV_POPULATE_WRITE, or a write per page on older
 * kernels); a refusal releases the rung and tries the next, like a failed
 * reservation.
 *
 * Guarantees (tests/unit/pools/test_ladder.c checks each):
 *  L1. Rungs strictly decrease, are page multiples, end at 1 MiB (or the
 *      budget if smaller).
 *  L2. Every attempt is recorded in order with ok = 1 only for the last
 *      one on success; a failed attempt carries a non-empty error.
 *  L3. When the fault hook fails the first k reservations, rung k is
 *      reserved; when it fails all, SPC_ENOMEM and nothing stays mapped.
 *  L4. Regions do not overlap and each is rung + slack bytes.
 */
#include "pools/arena.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/base.h"
#include "pools/pools.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

uint64_t spc_ladder_rung(uint64_t budget, unsigned n, size_t page)
{
	static const uint64_t tail[] = { 16 * SPC_MIB, 8 * SPC_MIB, 4 * SPC_MIB, 1 * SPC_MIB };
	uint64_t b = budget - budget % page;
	unsigned i;

	if (b == 0)
		return 0;
	/* Halves while they stay above 16 MiB. */
	for (;;) {
		if (n == 0)
			return b;
		if (b / 2 <= 16 * SPC_MIB)
			break;
		b /= 2;
		b -= b % page;
		n--;
	}
	/* Then the fixed tail, only rungs below the last one tried. */
	for (i = 0; i < sizeof tail / sizeof tail[0]; i++) {
		if (tail[i] >= b)
			continue;
		if (--n == 0)
			return tail[i];
	}
	return 0;
}

static void record(struct spc_mem_report *r, uint64_t bytes, int ok, const char *what, int err)
{
	struct spc_mem_attempt *a;

	if (r->n_attempts >= SPC_MEM_MAX_ATTEMPTS)
		return;
	a = &r->attempts[r->n_attempts++];
	a->bytes = bytes;
	a->ok = ok;
	if (ok)
		a->error[0] = '\0';
	else
		snprintf(a->error, sizeof a->error, "%s: %s", what,
		         err ? strerror(err) : "refused by the fault hook");
}

/* Commits and touches the first bytes of a region. Returns 0 or an errno. */
static int prefault_region(const struct spc_env *env, char *base, uint64_t bytes, size_t page)
{
	uint64_t len = (bytes + page - 1) / page * page;
	uint64_t off;

	if (len == 0)
		return 0;
	if (spc_fault(env, SPC_FAULT_COMMIT, (size_t)len))
		return -1;
	if (mprotect(base, (size_t)len, PROT_READ | PROT_WRITE) != 0)
		return errno;
	if (madvise(base, (size_t)len, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return errno;
	/* Kernel before 5.14: write a zero to each page (the page is zero
	 * already, so this changes nothing but residency). */
	for (off = 0; off < len; off += page)
		((volatile char *)base)[off] = 0;
	return 0;
}

int spc_ladder_reserve(const struct spc_env *env, uint64_t budget, int prefault,
                       enum spc_mode mode, double view_share,
                       struct spc_reservation *res, struct spc_mem_report *r)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint64_t rung;
	unsigned n;

	memset(res, 0, sizeof *res);
	r->prefault = prefault;
	r->reserved_bytes = 0;
	for (n = 0; (rung = spc_ladder_rung(budget, n, page)) != 0; n++) {
		uint64_t region = rung + SPC_REGION_SLACK(rung), targets[SPC_POOL_COUNT];
		size_t map_bytes = (size_t)(2 * region);
		void *map;
		int err, i;

		if (spc_fault(env, SPC_FAULT_RESERVE, map_bytes)) {
			record(r, rung, 0, "reserve", 0);
			continue;
		}
		map = mmap(NULL, map_bytes, PROT_NONE,
		           MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (map == MAP_FAILED) {
			record(r, rung, 0, "reserve", errno);
			continue;
		}
		err = 0;
		if (prefault) {
			if (spc_split_targets(rung, mode, view_share, targets) != SPC_OK)
				targets[0] = targets[1] = rung / 2;
			for (i = 0; i < SPC_POOL_COUNT && err == 0; i++)
				err = prefault_region(env, (char *)map + (size_t)i * region,
				                      targets[i], page);
		}
		if (err) {
			munmap(map, map_bytes);
			record(r, rung, 0, "commit", err > 0 ? err : 0);
			continue;
		}
		res->map = map;
		res->map_bytes = map_bytes;
		res->budget = rung;
		for (i = 0; i < SPC_POOL_COUNT; i++) {
			res->regions[i].base = (char *)map + (size_t)i * region;
			res->regions[i].size = (size_t)region;
		}
		record(r, rung, 1, "", 0);
		r->reserved_bytes = rung;
		return SPC_OK;
	}
	return SPC_ENOMEM;
}

void spc_reservation_release(struct spc_reservation *res)
{
	if (res->map)
		munmap(res->map, res->map_bytes);
	memset(res, 0, sizeof *res);
}
