/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pools/arena.c: one jemalloc arena per pool, carved from the pool's region.
 *
 * jemalloc lets an arena take its memory from custom extent hooks. Ours
 * bump-allocate from the pool's region (a PROT_NONE reservation, see
 * ladder.c) and never map anything else, so an arena cannot hold more than
 * its region: a hard cap below the charge counters, which enforce the
 * pool's target. The hooks follow jemalloc's convention (false = success):
 *
 *   alloc         bump the region's cursor (aligned); commit with mprotect
 *                 RW when jemalloc asks for committed memory; NULL when the
 *                 region is exhausted or a specific address is requested.
 *   dalloc        true: opt out, jemalloc keeps ("retains") the extent and
 *                 reuses it; address space is never given back before close.
 *   destroy       madvise(MADV_DONTNEED); the region is unmapped at close.
 *   commit        mprotect RW (where overcommit_memory = 2 may refuse).
 *   decommit      madvise(MADV_DONTNEED) then mprotect PROT_NONE.
 *   purge_lazy,   madvise(MADV_DONTNEED): the pages go back to the kernel
 *   purge_forced  and read as zero afterwards.
 *   split, merge  false (allowed): every extent lies in one mapping.
 *
 * Tuning, set on every created arena:
 *   retain_grow_limit = the region's size: with opt.retain jemalloc grows
 *     its retained memory in geometrically larger steps, and it never
 *     coalesces extents across two steps (each is a "head"). Small steps
 *     (2 MiB, which keeps hook failures rare: docs/libraries.md) strand the
 *     tail of every step: a 16 MiB pool of 1 MiB values then reached only
 *     10 of its 15 values. Large steps cost nothing here (address space of
 *     the region, committed on use); when a step no longer fits, the hook
 *     fails cheaply and jemalloc falls back to an exact-size extent.
 *   dirty_decay_ms 100, muzzy_decay_ms 0: freed pages are purged within
 *     ~0.1 s of the next arena activity instead of 10 s. Measured against
 *     -1 (never purge) and 1 s / 10 s (docs/memory.md, "Giving memory
 *     back"): the arenas serve only the slab layer's 2 MiB chunks and
 *     values above 2 KiB, so under the 100-byte churn of view-during-index
 *     they purge about once a second whatever the setting (the madvise
 *     calls and TLB shootdowns of steady churn came from the slab layer,
 *     which now keeps its pages: slab.c); with values of many sizes above
 *     2 KiB, -1 let jemalloc's dirty extents, never coalesced, push the
 *     peak resident set 10 % of the budget higher. spc_arena_trim
 *     (arena.<i>.purge) gives everything back at once: a pool whose target
 *     shrinks calls it (pool.c), as does the retry below.
 *
 * Fallbacks. A region smaller than SPC_REGION_MIN_FOR_ARENA cannot host
 * jemalloc's metadata (~2 MiB) plus useful extents: the pool then gets a
 * plain arena (default hooks) and only the charge counter bounds it
 * (hard_capped = 0 in the report). If creating any arena fails (or the
 * fault hook refuses SPC_FAULT_ARENA), the pool uses malloc. In
 * SPC_POOL_MALLOC builds (sanitizers) every pool uses malloc, so ASan sees
 * every use-after-free; usable size is then n rounded up to 16.
 *
 * Frees may come from any thread (the call_rcu worker included), hence
 * MALLOCX_TCACHE_NONE everywhere: a thread cache would keep freed memory
 * counted as allocated on a thread that may never allocate again.
 *
 * Guarantees (tests/unit/pools/test_arena.c checks each):
 *  A1. A hooked arena returns only pointers inside its region, and NULL
 *      (never a pointer elsewhere) once the region is exhausted.
 *  A2. spc_arena_usable(n) >= n and is what the allocation really takes.
 *  A3. spc_arena_destroy releases the arena; the region may be unmapped
 *      right after.
 */
#include "pools/arena.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/base.h"

#ifndef SPC_POOL_MALLOC

static struct spc_arena *arena_of(extent_hooks_t *h)
{
	return (struct spc_arena *)(void *)h; /* hooks is the first member */
}

static void *hook_alloc(extent_hooks_t *h, void *new_addr, size_t size, size_t align,
                        bool *zero, bool *commit, unsigned ind)
{
	struct spc_arena *a = arena_of(h);
	void *p = NULL;
	size_t start;

	(void)ind;
	if (new_addr || align == 0)
		return NULL; /* bump allocation cannot place an extent */
	if (pthread_mutex_lock(&a->lock) != 0)
		spc_die("pthread_mutex_lock");
	/* Align the address, not the offset: the region's base is only
	 * page-aligned, jemalloc asks for up to 2 MiB alignment. */
	start = (size_t)(((uintptr_t)a->base + a->used + align - 1) / align * align -
	                 (uintptr_t)a->base);
	if (start < a->used || start > a->size || a->size - start < size) {
		a->hook_failures++;
	} else if (*commit && mprotect(a->base + start, size, PROT_READ | PROT_WRITE) != 0) {
		a->hook_failures++;
	} else {
		a->used = start + size;
		p = a->base + start;
	}
	if (pthread_mutex_unlock(&a->lock) != 0)
		spc_die("pthread_mutex_unlock");
	if (p)
		*zero = true; /* never handed out before: fresh anonymous pages */
	return p;
}

static bool hook_dalloc(extent_hooks_t *h, void *addr, size_t size, bool committed, unsigned ind)
{
	return true; /* opt out: jemalloc retains the extent for reuse */
}

static void hook_destroy(extent_hooks_t *h, void *addr, size_t size, bool committed, unsigned ind)
{
	madvise(addr, size, MADV_DONTNEED);
}

static bool hook_commit(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len,
                        unsigned ind)
{
	return mprotect((char *)addr + off, len, PROT_READ | PROT_WRITE) != 0;
}

static bool hook_decommit(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len,
                          unsigned ind)
{
	madvise((char *)addr + off, len, MADV_DONTNEED);
	return mprotect((char *)addr + off, len, PROT_NONE) != 0;
}

static bool hook_purge(extent_hooks_t *h, void *addr, size_t size, size_t off, size_t len,
                       unsigned ind)
{
	return madvise((char *)addr + off, len, MADV_DONTNEED) != 0;
}

static bool hook_split(extent_hooks_t *h, void *addr, size_t size, size_t a, size_t b,
                       bool committed, unsigned ind)
{
	return false;
}

static bool hook_merge(extent_hooks_t *h, void *addr_a, size_t size_a, void *addr_b,
                       size_t size_b, bool committed, unsigned ind)
{
	return false;
}

static void arena_ctl_size(unsigned index, const char *name, size_t v)
{
	char key[64];

	snprintf(key, sizeof key, "arena.%u.%s", index, name);
	(void)mallctl(key, NULL, NULL, &v, sizeof v); /* best effort: tuning only */
}

static void arena_ctl_ssize(unsigned index, const char *name, ssize_t v)
{
	char key[64];

	snprintf(key, sizeof key, "arena.%u.%s", index, name);
	(void)mallctl(key, NULL, NULL, &v, sizeof v);
}

/* What a large allocation really occupies beyond its usable size: with
 * opt.cache_oblivious (the default) jemalloc adds one page to every
 * allocation above the largest slab size, to randomise its start within
 * that page. Charging nallocx() alone undercounts a 16 KiB value by 25 %. */
static void learn_sizes(struct spc_arena *a)
{
	unsigned nbins = 0;
	size_t sz = sizeof nbins, v = 0;
	bool oblivious = false;
	char key[64];

	if (mallctl("arenas.nbins", &nbins, &sz, NULL, 0) == 0 && nbins > 0) {
		snprintf(key, sizeof key, "arenas.bin.%u.size", nbins - 1);
		sz = sizeof v;
		if (mallctl(key, &v, &sz, NULL, 0) == 0)
			a->small_max = v;
	}
	sz = sizeof oblivious;
	if (mallctl("opt.cache_oblivious", &oblivious, &sz, NULL, 0) == 0 && oblivious)
		a->large_pad = a->page;
}

static int create_arena(struct spc_arena *a, int hooked)
{
	extent_hooks_t *hp = &a->hooks;
	unsigned index = 0;
	size_t sz = sizeof index;
	int rc;

	if (hooked)
		rc = mallctl("arenas.create", &index, &sz, &hp, sizeof hp);
	else
		rc = mallctl("arenas.create", &index, &sz, NULL, 0);
	if (rc != 0)
		return rc;
	a->index = index;
	a->flags = MALLOCX_ARENA(index) | MALLOCX_TCACHE_NONE;
	learn_sizes(a);
	if (hooked)
		arena_ctl_size(index, "retain_grow_limit", a->size);
	arena_ctl_ssize(index, "dirty_decay_ms", SPC_ARENA_DIRTY_DECAY_MS);
	arena_ctl_ssize(index, "muzzy_decay_ms", SPC_ARENA_MUZZY_DECAY_MS);
	return 0;
}

/* The region is exhausted. Freed pages may still sit in jemalloc's dirty
 * cache as small pieces that it coalesces only when it purges them (after
 * dirty_decay_ms): a request for a larger size then fails although the
 * region has room. Purge now, which coalesces them into retained extents,
 * and try once more. Only the failing path pays for it. */
static void *retry_after_purge(struct spc_arena *a, size_t n, int flags)
{
	char key[64];

	snprintf(key, sizeof key, "arena.%u.purge", a->index);
	if (mallctl(key, NULL, NULL, NULL, 0) != 0)
		return NULL;
	return mallocx(n, flags);
}

#endif /* !SPC_POOL_MALLOC */

void spc_arena_init(struct spc_arena *a, const struct spc_env *env, struct spc_region region)
{
	memset(a, 0, sizeof *a);
	a->kind = SPC_ARENA_MALLOC;
	a->page = (size_t)sysconf(_SC_PAGESIZE);
	if (pthread_mutex_init(&a->lock, NULL) != 0)
		spc_die("pthread_mutex_init");
#ifndef SPC_POOL_MALLOC
	if (spc_fault(env, SPC_FAULT_ARENA, region.size)) {
		spc_logf(env, SPC_LOG_INFO, "arena creation refused: pool uses malloc");
		return;
	}
	if (region.base && region.size >= SPC_REGION_MIN_FOR_ARENA) {
		a->hooks = (extent_hooks_t){
			.alloc = hook_alloc, .dalloc = hook_dalloc, .destroy = hook_destroy,
			.commit = hook_commit, .decommit = hook_decommit,
			.purge_lazy = hook_purge, .purge_forced = hook_purge,
			.split = hook_split, .merge = hook_merge,
		};
		a->base = region.base;
		a->size = region.size;
		if (create_arena(a, 1) == 0) {
			a->kind = SPC_ARENA_HOOKED;
			return;
		}
		a->base = NULL;
		a->size = 0;
	}
	if (create_arena(a, 0) == 0)
		a->kind = SPC_ARENA_PLAIN;
#else
	(void)env;
	(void)region;
#endif
}

void spc_arena_destroy(struct spc_arena *a)
{
#ifndef SPC_POOL_MALLOC
	if (a->kind != SPC_ARENA_MALLOC) {
		char key[64];

		snprintf(key, sizeof key, "arena.%u.destroy", a->index);
		if (mallctl(key, NULL, NULL, NULL, 0) != 0)
			spc_die("jemalloc refused to destroy arena %u", a->index);
	}
#endif
	if (pthread_mutex_destroy(&a->lock) != 0)
		spc_die("pthread_mutex_destroy");
	a->kind = SPC_ARENA_MALLOC;
	a->index = 0;
}

void *spc_arena_alloc(struct spc_arena *a, size_t n)
{
#ifndef SPC_POOL_MALLOC
	if (a->kind == SPC_ARENA_HOOKED) {
		void *p = mallocx(n, a->flags);

		if (!p)
			p = retry_after_purge(a, n, a->flags);
		return p;
	}
	if (a->kind == SPC_ARENA_PLAIN)
		return mallocx(n, a->flags);
#endif
	return malloc(n);
}

void *spc_arena_alloc_aligned(struct spc_arena *a, size_t n, size_t align)
{
#ifndef SPC_POOL_MALLOC
	if (a->kind != SPC_ARENA_MALLOC) {
		int flags = a->flags | MALLOCX_ALIGN(align);
		void *p = mallocx(n, flags);

		if (!p && a->kind == SPC_ARENA_HOOKED)
			p = retry_after_purge(a, n, flags);
		return p;
	}
#endif
	void *p = NULL;

	(void)a;
	return posix_memalign(&p, align, n) == 0 ? p : NULL;
}

void spc_arena_free_aligned(struct spc_arena *a, void *p, size_t n, size_t align)
{
#ifndef SPC_POOL_MALLOC
	if (p && a->kind != SPC_ARENA_MALLOC) {
		sdallocx(p, n, a->flags | MALLOCX_ALIGN(align));
		return;
	}
#endif
	(void)n;
	(void)align;
	free(p);
}

void spc_arena_free(struct spc_arena *a, void *p, size_t n)
{
	if (!p)
		return;
#ifndef SPC_POOL_MALLOC
	if (a->kind != SPC_ARENA_MALLOC) {
		sdallocx(p, n, a->flags);
		return;
	}
#endif
	free(p);
}

size_t spc_arena_usable(const struct spc_arena *a, size_t n)
{
#ifndef SPC_POOL_MALLOC
	if (a->kind != SPC_ARENA_MALLOC) {
		size_t u = nallocx(n, a->flags);

		if (!u)
			return n;
		return u > a->small_max ? u + a->large_pad : u;
	}
#endif
	return (n + 15) & ~(size_t)15;
}

void spc_arena_trim(struct spc_arena *a)
{
#ifndef SPC_POOL_MALLOC
	if (a->kind != SPC_ARENA_MALLOC) {
		char key[64];

		snprintf(key, sizeof key, "arena.%u.purge", a->index);
		(void)mallctl(key, NULL, NULL, NULL, 0);
	}
#else
	(void)a;
#endif
}

#ifndef SPC_POOL_MALLOC
static uint64_t arena_stat(unsigned index, const char *name)
{
	char key[96];
	size_t v = 0, sz = sizeof v;

	snprintf(key, sizeof key, "stats.arenas.%u.%s", index, name);
	if (mallctl(key, &v, &sz, NULL, 0) != 0)
		return 0;
	return v;
}
#endif

void spc_arena_stats(struct spc_arena *a, struct spc_mem_pool_report *out)
{
	out->arena_allocated = out->arena_active = out->arena_resident = out->arena_mapped = 0;
	out->arena_index = a->index;
	out->hard_capped = a->kind == SPC_ARENA_HOOKED;
#ifndef SPC_POOL_MALLOC
	if (a->kind != SPC_ARENA_MALLOC) {
		uint64_t epoch = 1;
		size_t sz = sizeof epoch;

		/* Statistics are cached; bumping the epoch refreshes them. */
		(void)mallctl("epoch", &epoch, &sz, &epoch, sz);
		out->arena_allocated = arena_stat(a->index, "small.allocated") +
		                       arena_stat(a->index, "large.allocated");
		out->arena_active = arena_stat(a->index, "pactive") * a->page;
		out->arena_resident = arena_stat(a->index, "resident");
		out->arena_mapped = arena_stat(a->index, "mapped");
	}
#endif
}
