/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pools/slab.c: fine size classes for small entries.
 *
 * Why. A cache entry is one allocation (header, key, value). jemalloc's
 * small classes step by 25 % (..., 160, 192, 224, ...), so a 164-byte
 * entry takes 192 bytes, about 12 % lost on average: more than the memory
 * goal (<= 48 bytes per entry beyond key and value) can afford.
 *
 * The algorithm is memcached's slab allocator (slabs.c) with finer classes
 * and jemalloc underneath, and Bonwick's slab layout (USENIX 1994, "The
 * Slab Allocator": a per-slab header, an intrusive free list of slots, a
 * slab returned when its last object is freed):
 *
 *   classes   8-byte steps 8..256, 16-byte to 512, 32-byte to 1 KiB,
 *             64-byte to 2 KiB: 80 classes. A size takes the smallest
 *             class >= it; a class wastes at most 7, 15, 31, 63 bytes in
 *             those ranges (<= 3.1 % above 256 bytes). Larger sizes go to
 *             the arena, whose large classes are fine there.
 *   slabs     16 KiB for classes up to 256 bytes, 64 KiB above, each
 *             aligned to its size, so p & ~(size - 1) is the header of p's
 *             slab (free knows n, hence the class, hence the slab size).
 *             The header (one cache line) holds the class, the count of
 *             live slots, the free list and a bump index: slots never
 *             handed out are not touched (nor made resident) until needed.
 *             Header and tail: 0.6 % of a 168-byte class, at most 3.3 %.
 *             Small classes get small slabs, a slab going back only with
 *             its last slot: keeping 1 % of 164-byte entries at random,
 *             64 KiB slabs were 98 % pinned, 16 KiB ones 62 % (resident
 *             265 vs 194 MB of 256 MiB; jemalloc's 12 KiB bins: 130 MB).
 *   chunks    slabs come from chunks, one aligned allocation each from
 *             the pool's arena, of one slab size: 2 MiB (32 or 128 slabs)
 *             for regions of 64 MiB and more, region / 32 below, at least
 *             one slab. Not one mallocx per slab: jemalloc adds a page to
 *             every large allocation (opt.cache_oblivious), so aligned
 *             64 KiB slabs lost half the region's address space; a chunk
 *             loses at most one slab's worth, 3 % of 2 MiB. When the
 *             region cannot give a whole chunk, half, down to one slab, so
 *             its last pieces (not coalesced across jemalloc's growth
 *             steps) still serve.
 *   per class a mutex, a doubly linked list of slabs with free slots and
 *             at most one cached empty slab. Allocation takes a slot of
 *             the first partial slab (its free list, else its bump index),
 *             else the cached empty slab, else a slab from a chunk of its
 *             size, else a new chunk. A free pushes the slot on its slab's
 *             free list; a slab that becomes empty is cached if the class
 *             has no empty slab yet (a free/alloc ping-pong at a slab
 *             boundary costs nothing), else released to its chunk, where
 *             any class of that slab size may take it. A chunk whose slabs
 *             are all released goes back to the arena.
 *   released slabs keep their pages while a set's released slabs stay
 *             within 1/SPC_SLAB_KEEP_DIV (1/16) of its chunk bytes; beyond
 *             that their pages go back (MADV_DONTNEED, all but the header
 *             page, which holds the free list's link). Under steady churn
 *             slabs empty and are taken again within milliseconds: giving
 *             their pages back cost a madvise, a TLB shootdown on every
 *             CPU running a reader and a page fault per page on reuse, for
 *             nothing (the region caps the pool; 99.8 % of the madvise
 *             calls of view-during-index: docs/memory.md). 1/16 is above
 *             the maintainer's 5 % hysteresis. spc_slabs_purge gives the
 *             kept pages back (a shrinking pool, spc_pool_trim: pool.c).
 *
 * Locks. Readers never touch the allocator: only writers (allocations) and
 * the reclamation thread (frees) take these locks. A class lock is held
 * for a few dozen instructions by every writer of that size at once, so
 * it is glibc's adaptive mutex: a waiter spins a bounded number of tries
 * (glibc.pthread.mutex_spin_count, 100 by default) before it sleeps.
 * With a plain mutex every collision slept in the kernel and woke
 * through it: in `mixed` at 2 threads, where every insert is of one
 * class, futex waits and wakes took 17 % of the process's CPU (perf,
 * docs/benchmarks.md). The reclamation thread frees a run of up to
 * SPC_SLAB_FREE_RUN slots of one class per lock (spc_slabs_free_many).
 * chunk_lock is cold and plain. Lock order: a class lock, then
 * chunk_lock; never two class locks. The
 * statistics are relaxed atomics written under those locks and read
 * without them by the report.
 *
 * Charging. spc_pool_usable(n) is the class size, exact, so the pool's
 * charge counts every live entry's slot. What the pool holds beyond that
 * is not charged: free slots of partially used slabs, the cached empty
 * slab of each class, slab headers and tails, released slabs (their
 * header page, and up to 1/16 of the chunks kept for reuse). Charging
 * whole slabs would make the charge strict, but an eviction would free
 * nothing until a whole slab empties. So entries are charged, the excess
 * bounded where it can be and reported where it cannot:
 *   - headers and tails: 0.6 % for 168-byte slots; measured, a pool
 *     filled to its target with 164-byte entries is resident at 0.8 %
 *     above its charge (1 GiB), 100-byte ones at 1.2 %;
 *   - cached empty slabs: at most one per class, 32 x 16 KiB + 48 x
 *     64 KiB = 3.5 MiB per pool in the worst case (every class used, then
 *     drained);
 *   - free slots in partial slabs: reused first while a class is in use
 *     (less than one slab stranded in steady state); after the workload
 *     moves to other sizes, survivors pin their slabs, worst case one
 *     slot per 16 or 64 KiB (memcached's "calcification"; jemalloc's bins
 *     alike). A new slab is taken only while the pool's charge plus the
 *     free slots of partly used slabs stay within its target
 *     (spc_slabs_set_bound, set by pool.c), so the resident memory stays
 *     within the budget however the sizes move; a writer the bound
 *     refuses waits while its maintainer evicts until slabs empty
 *     (core/wait.c, spc_wait_slab). The report shows the excess
 *     (slab_held_bytes).

 * Sanitizer builds (SPC_POOL_MALLOC) and pools whose arena is plain malloc
 * have no slab layer (pool.c does not create one): every entry is its own
 * malloc, so ASan sees its lifetime. The layer itself works over any
 * arena (chunks from posix_memalign over malloc), so its unit tests run
 * it under ASan and TSan too.
 *
 * Guarantees (tests/unit/pools/test_slab.c checks each, test_give_back.c S7):
 *  S1. For every 1 <= n <= SPC_SLAB_MAX_CLASS: class size >= n, waste
 *      < 8 bytes up to 256, < 16 to 512, < 32 to 1 KiB, < 64 to 2 KiB,
 *      never above jemalloc's own size class for n; header and tail
 *      under 3.3 % of a slab's slots.
 *  S2. Live slots are distinct, 8-byte aligned, inside a slab of their
 *      class and, on a hard-capped pool, inside the pool's region.
 *  S3. Freeing every slot leaves at most one empty slab per class in use
 *      and returns every other slab and chunk: slab_live_bytes = 0,
 *      slab_held_bytes = slab_inuse_bytes <= classes used x 64 KiB.
 *  S4. Allocations from many threads concurrent with frees on another
 *      thread keep S2 and the statistics exact (TSan build clean).
 *  S5. A refused allocation (fault hook, region exhausted) returns NULL
 *      and changes no statistic; the pool keeps working.
 *  S6. spc_slabs_destroy gives every chunk back, live slots or not.
 *  S7. Released slabs whose pages are kept stay within 1/SPC_SLAB_KEEP_DIV
 *      of their set's chunk bytes; after spc_slabs_purge none is.
 *  S8. A bound that says no (spc_slabs_set_bound) refuses new slabs only:
 *      a class with free slots, or with its cached empty slab, still
 *      allocates. spc_slabs_free_slot_bytes is the free slots of partly
 *      used slabs, never those of a cached empty one.
 */
#include "pools/slab.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "base/base.h"
#include "pools/arena.h"

#define SLAB_MAGIC 0x5ab5ab5au
#define CHUNK_MAX_BYTES ((size_t)2 << 20)

struct chunk;

/* The first SPC_SLAB_HEADER bytes of every slab. All fields are guarded
 * by the lock of the slab's class while it belongs to a class, by
 * chunk_lock while it is free in its chunk. */
struct slab {
	struct slab *next, *prev; /* the class's partial list; the chunk's free stack */
	struct chunk *chunk;
	void *free;     /* intrusive list of freed slots */
	uint32_t used;  /* live slots */
	uint32_t bump;  /* slots [bump, slots) were never handed out */
	uint32_t cls;
	uint32_t magic;
	uint32_t resident; /* free in its chunk with its pages kept (chunk_lock) */
};
_Static_assert(sizeof(struct slab) <= SPC_SLAB_HEADER, "slab header too large");

/* One aligned allocation of nslabs slabs of one size. Guarded by
 * chunk_lock. */
struct chunk {
	struct chunk *next, *prev; /* its set's avail or full list */
	struct slab_set *set;
	char *base;
	struct slab *free; /* released slabs */
	unsigned nslabs, fresh, nfree; /* slabs [fresh, nslabs) never used */
	unsigned nresident; /* released slabs whose pages are kept */
	int on_avail;
};

/* The chunks whose slabs have one size (16 or 64 KiB). */
struct slab_set {
	size_t slab_bytes;   /* constant */
	size_t chunk_slabs;  /* constant: slabs per chunk when the region allows */
	struct chunk *avail; /* chunks with a free or fresh slab; under chunk_lock */
	struct chunk *full;  /* under chunk_lock */
	size_t chunk_bytes;  /* of this set's chunks; under chunk_lock */
	size_t resident;     /* released slabs with their pages kept; under chunk_lock */
};

struct slab_class {
	/* Taken by every allocation and free of this class: alone on its
	 * line so two classes never contend on one. */
	_Alignas(SPC_CACHELINE) pthread_mutex_t lock;
	struct slab *partial; /* slabs with 0 < used < slots, or fresh; under lock */
	struct slab *empty;   /* at most one cached empty slab; under lock */
	uint32_t size, slots; /* constant */
	struct slab_set *set; /* constant */
};

struct spc_slabs {
	struct slab_class classes[SPC_SLAB_NCLASSES]; /* first: keeps alignment */
	struct spc_arena *arena;
	const struct spc_env *env;
	struct slab_set sets[2]; /* 16 KiB slabs, 64 KiB slabs */
	int (*may_grow)(void *arg, uint64_t bytes); /* spc_slabs_set_bound */
	void *grow_arg;
	/* Guards both sets' chunk lists and every chunk's fields. Taken only
	 * when a class gains or loses a slab, so it is cold. */
	pthread_mutex_t chunk_lock;
	/* Statistics: relaxed, written under the locks above, read by the
	 * report without them (a moment old is fine; nothing is published
	 * through them). */
	_Atomic uint64_t chunk_bytes, inuse_bytes, slabs, free_slabs, live_bytes, live_slots;
	/* Every slot of the slabs in use, live or free, but for the cached
	 * empty ones (spc_slabs_free_slot_bytes). */
	_Atomic uint64_t slot_bytes;
};

static void lock(pthread_mutex_t *m)
{
	if (pthread_mutex_lock(m) != 0)
		spc_die("pthread_mutex_lock");
}

static void unlock(pthread_mutex_t *m)
{
	if (pthread_mutex_unlock(m) != 0)
		spc_die("pthread_mutex_unlock");
}

static void stat_add(_Atomic uint64_t *c, uint64_t v)
{
	/* Relaxed: a statistic; see struct spc_slabs. */
	atomic_fetch_add_explicit(c, v, memory_order_relaxed);
}

static void stat_sub(_Atomic uint64_t *c, uint64_t v)
{
	/* Relaxed: a statistic; see struct spc_slabs. */
	atomic_fetch_sub_explicit(c, v, memory_order_relaxed);
}

static uint64_t stat_get(const _Atomic uint64_t *c)
{
	/* Relaxed: a statistic; see struct spc_slabs. */
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* ---- doubly linked lists (head pointer, NULL-terminated) ---------------- */

#define LIST_PUSH(head, e)                                                    \
	do {                                                                  \
		(e)->prev = NULL;                                             \
		(e)->next = (head);                                           \
		if (head)                                                     \
			(head)->prev = (e);                                   \
		(head) = (e);                                                 \
	} while (0)

#define LIST_UNLINK(head, e)                                                  \
	do {                                                                  \
		if ((e)->prev)                                                \
			(e)->prev->next = (e)->next;                          \
		else                                                          \
			(head) = (e)->next;                                   \
		if ((e)->next)                                                \
			(e)->next->prev = (e)->prev;                          \
		(e)->next = (e)->prev = NULL;                                 \
	} while (0)

/* ---- chunks ------------------------------------------------------------ */

static size_t chunk_bytes(const struct chunk *c)
{
	return (size_t)c->nslabs * c->set->slab_bytes;
}

/* A new chunk from the arena, or NULL. Called with a class lock held and
 * chunk_lock not held: the arena call may be slow. When the region cannot
 * give a whole chunk, halves it down to one slab: the region's last
 * pieces (jemalloc does not coalesce across its growth steps) still hold
 * slabs. */
static struct chunk *chunk_new(struct spc_slabs *s, struct slab_set *set)
{
	struct chunk *c = spc_calloc(s->env, 1, sizeof *c);
	size_t k;

	if (!c)
		return NULL;
	for (k = set->chunk_slabs; k >= 1; k /= 2) {
		c->base = spc_arena_alloc_aligned(s->arena, k * set->slab_bytes, set->slab_bytes);
		if (c->base)
			break;
	}
	if (!c->base) {
		spc_free(c);
		return NULL;
	}
	SPC_CHECK(((uintptr_t)c->base & (set->slab_bytes - 1)) == 0);
	c->set = set;
	c->nslabs = (unsigned)k;
	return c;
}

static void chunk_delete(struct spc_slabs *s, struct chunk *c)
{
	spc_arena_free_aligned(s->arena, c->base, chunk_bytes(c), c->set->slab_bytes);
	spc_free(c);
}

/* Takes a slab for class cls (whose lock the caller holds). NULL when no
 * chunk has one and no new chunk can be had. */
static struct slab *slab_acquire(struct spc_slabs *s, unsigned cls)
{
	struct slab_set *set = s->classes[cls].set;
	struct chunk *c, *fresh_chunk = NULL;
	struct slab *sl;

	if (s->may_grow && !s->may_grow(s->grow_arg, set->slab_bytes))
		return NULL;
	lock(&s->chunk_lock);
	if (!set->avail) {
		unlock(&s->chunk_lock);
		fresh_chunk = chunk_new(s, set);
		if (!fresh_chunk)
			return NULL;
		stat_add(&s->chunk_bytes, chunk_bytes(fresh_chunk));
		lock(&s->chunk_lock);
		set->chunk_bytes += chunk_bytes(fresh_chunk);
		/* Another class may have added a chunk meanwhile: both stay,
		 * the new one first. */
		fresh_chunk->on_avail = 1;
		LIST_PUSH(set->avail, fresh_chunk);
	}
	c = set->avail;
	if (c->free) {
		sl = c->free;
		c->free = sl->next;
		c->nfree--;
		if (sl->resident) {
			c->nresident--;
			set->resident--;
		}
		stat_sub(&s->free_slabs, 1);
	} else {
		sl = (struct slab *)(void *)(c->base + (size_t)c->fresh * set->slab_bytes);
		c->fresh++;
	}
	if (!c->free && c->fresh == c->nslabs) {
		LIST_UNLINK(set->avail, c);
		c->on_avail = 0;
		LIST_PUSH(set->full, c);
	}
	unlock(&s->chunk_lock);
	sl->next = sl->prev = NULL;
	sl->chunk = c;
	sl->free = NULL;
	sl->used = 0;
	sl->bump = 0;
	sl->cls = cls;
	sl->magic = SLAB_MAGIC;
	sl->resident = 0;
	stat_add(&s->slabs, 1);
	stat_add(&s->inuse_bytes, set->slab_bytes);
	stat_add(&s->slot_bytes, (uint64_t)s->classes[cls].slots * s->classes[cls].size);
	return sl;
}

/* Whether a released slab of set may keep its pages (the essay,
 * "released slabs"). Called with chunk_lock. */
static int keep_pages(const struct slab_set *set)
{
#if SPC_SLAB_KEEP_DIV > 0
	return (set->resident + 1) * set->slab_bytes <= set->chunk_bytes / SPC_SLAB_KEEP_DIV;
#else
	(void)set;
	return 0;
#endif
}

/* Gives a slab's pages back but its first (the header and free-list
 * link, so purging never faults a page back in). */
static void drop_pages(struct slab *sl, size_t slab_bytes, size_t page)
{
	if (slab_bytes > page) /* failure only keeps them resident */
		(void)madvise((char *)sl + page, slab_bytes - page, MADV_DONTNEED);
}

/* Gives an empty slab, no longer on any class list, back to its chunk;
 * its pages stay if keep_pages allows, else go back to the system. Frees
 * the chunk when all its slabs are back. Called without a class lock. */
static void slab_release(struct spc_slabs *s, struct slab *sl)
{
	struct chunk *c = sl->chunk;
	struct slab_set *set = c->set;
	int drop = 0, keep;

	sl->magic = 0;
	stat_sub(&s->slabs, 1);
	stat_sub(&s->inuse_bytes, set->slab_bytes);
	stat_sub(&s->slot_bytes, (uint64_t)s->classes[sl->cls].slots * s->classes[sl->cls].size);
	lock(&s->chunk_lock);
	keep = keep_pages(set);
	set->resident += (size_t)keep; /* the place is taken before unlocking */
	if (!keep) { /* ours alone until on the free list: madvise unlocked */
		unlock(&s->chunk_lock);
		drop_pages(sl, set->slab_bytes, s->arena->page);
		lock(&s->chunk_lock);
	}
	sl->resident = (uint32_t)keep;
	c->nresident += (unsigned)keep;
	sl->next = c->free;
	c->free = sl;
	c->nfree++;
	if (c->nfree == c->fresh) {
		/* Every slab ever taken is back: the chunk goes to the arena. */
		if (c->on_avail)
			LIST_UNLINK(set->avail, c);
		else
			LIST_UNLINK(set->full, c);
		stat_sub(&s->free_slabs, c->nfree - 1);
		set->resident -= c->nresident;
		set->chunk_bytes -= chunk_bytes(c);
		drop = 1;
	} else {
		stat_add(&s->free_slabs, 1);
		if (!c->on_avail) {
			LIST_UNLINK(set->full, c);
			c->on_avail = 1;
			LIST_PUSH(set->avail, c);
		}
	}
	unlock(&s->chunk_lock);
	if (drop) {
		stat_sub(&s->chunk_bytes, chunk_bytes(c));
		chunk_delete(s, c);
	}
}

void spc_slabs_purge(struct spc_slabs *s)
{
	unsigned i;

	if (!s)
		return;
	/* Cold (a shrink, a trim): the lock stays held across the madvise
	 * calls so no slab leaves its chunk meanwhile. */
	lock(&s->chunk_lock);
	for (i = 0; i < 2; i++)
		for (struct chunk *c = s->sets[i].avail; c; c = c->next)
			for (struct slab *sl = c->free; sl && c->nresident; sl = sl->next)
				if (sl->resident) {
					drop_pages(sl, s->sets[i].slab_bytes, s->arena->page);
					sl->resident = 0;
					c->nresident--;
					s->sets[i].resident--;
				}
	unlock(&s->chunk_lock);
}

/* ---- the layer --------------------------------------------------------- */

struct spc_slabs *spc_slabs_create(struct spc_arena *a, const struct spc_env *env,
                                   size_t region_bytes)
{
	pthread_mutexattr_t adaptive; /* the class locks': the essay, "Locks" */
	struct spc_slabs *s;
	size_t chunk;
	unsigned i;

	s = spc_aligned_calloc(env, SPC_CACHELINE, sizeof *s);
	if (!s)
		return NULL;
	s->arena = a;
	s->env = env;
	/* See the essay: a chunk loses up to one slab of address space, so
	 * chunks are large where the region is (1/32 of it, at most 2 MiB),
	 * smaller where a large chunk would be a large share of the pool. No
	 * region (plain arena): 1 MiB. */
	chunk = region_bytes ? region_bytes / 32 : CHUNK_MAX_BYTES / 2;
	if (chunk > CHUNK_MAX_BYTES)
		chunk = CHUNK_MAX_BYTES;
	s->sets[0].slab_bytes = SPC_SLAB_SMALL_BYTES;
	s->sets[1].slab_bytes = SPC_SLAB_BYTES;
	for (i = 0; i < 2; i++) {
		s->sets[i].chunk_slabs = chunk / s->sets[i].slab_bytes;
		if (s->sets[i].chunk_slabs < 1)
			s->sets[i].chunk_slabs = 1;
	}
	if (pthread_mutex_init(&s->chunk_lock, NULL) != 0 ||
	    pthread_mutexattr_init(&adaptive) != 0 ||
	    pthread_mutexattr_settype(&adaptive, PTHREAD_MUTEX_ADAPTIVE_NP) != 0)
		spc_die("pthread_mutex_init");
	for (i = 0; i < SPC_SLAB_NCLASSES; i++) {
		struct slab_class *k = &s->classes[i];

		if (pthread_mutex_init(&k->lock, &adaptive) != 0)
			spc_die("pthread_mutex_init");
		k->size = (uint32_t)spc_slab_class_size(i);
		k->slots = (uint32_t)spc_slab_slots(i);
		k->set = &s->sets[spc_slab_bytes(i) == SPC_SLAB_BYTES];
	}
	pthread_mutexattr_destroy(&adaptive);
	return s;
}

static void chunks_delete(struct spc_slabs *s, struct chunk *c)
{
	while (c) {
		struct chunk *next = c->next;

		chunk_delete(s, c);
		c = next;
	}
}

void spc_slabs_destroy(struct spc_slabs *s)
{
	unsigned i;

	if (!s)
		return;
	/* Live slots or not (S6): the chunks hold every slab. */
	for (i = 0; i < 2; i++) {
		chunks_delete(s, s->sets[i].avail);
		chunks_delete(s, s->sets[i].full);
	}
	for (i = 0; i < SPC_SLAB_NCLASSES; i++)
		if (pthread_mutex_destroy(&s->classes[i].lock) != 0)
			spc_die("pthread_mutex_destroy");
	if (pthread_mutex_destroy(&s->chunk_lock) != 0)
		spc_die("pthread_mutex_destroy");
	spc_free(s);
}

void spc_slabs_set_bound(struct spc_slabs *s, int (*may_grow)(void *arg, uint64_t bytes),
                         void *arg)
{
	s->may_grow = may_grow;
	s->grow_arg = arg;
}

void *spc_slabs_alloc(struct spc_slabs *s, size_t n)
{
	unsigned cls = spc_slab_class_of(n);
	struct slab_class *k = &s->classes[cls];
	struct slab *sl;
	void *p;

	SPC_DEBUG_CHECK(n > 0 && n <= SPC_SLAB_MAX_CLASS);
	lock(&k->lock);
	sl = k->partial;
	if (!sl) {
		sl = k->empty;
		k->empty = NULL;
		if (sl)
			stat_add(&s->slot_bytes, (uint64_t)k->slots * k->size);
		if (!sl)
			sl = slab_acquire(s, cls);
		if (!sl) {
			unlock(&k->lock);
			return NULL; /* S5: nothing changed */
		}
		LIST_PUSH(k->partial, sl);
	}
	if (sl->free) {
		p = sl->free;
		sl->free = *(void **)p;
	} else {
		p = (char *)sl + SPC_SLAB_HEADER + (size_t)sl->bump * k->size;
		sl->bump++;
	}
	if (++sl->used == k->slots)
		LIST_UNLINK(k->partial, sl);
	stat_add(&s->live_bytes, k->size);
	stat_add(&s->live_slots, 1);
	unlock(&k->lock);
	return p;
}

/* Puts slot p back on its slab, under k's lock. Returns the slab when it
 * became empty and must be released (after unlocking), else NULL. */
static struct slab *slot_put(struct spc_slabs *s, struct slab_class *k, unsigned cls, void *p)
{
	struct slab *sl = (struct slab *)((uintptr_t)p & ~(uintptr_t)(k->set->slab_bytes - 1));
	int was_full;

	/* A size that is not the one allocated, or a pointer that is not a
	 * slot, would corrupt two classes: stop here instead. */
	SPC_CHECK(sl->magic == SLAB_MAGIC && sl->cls == cls && sl->used > 0);
	*(void **)p = sl->free;
	sl->free = p;
	was_full = sl->used == k->slots;
	sl->used--;
	if (sl->used == 0) {
		if (!was_full)
			LIST_UNLINK(k->partial, sl);
		if (!k->empty) {
			k->empty = sl; /* keep one: no ping-pong at the boundary */
			stat_sub(&s->slot_bytes, (uint64_t)k->slots * k->size);
			return NULL;
		}
		return sl;
	}
	if (was_full)
		LIST_PUSH(k->partial, sl);
	return NULL;
}

void spc_slabs_free_many(struct spc_slabs *s, void *const *p, const size_t *n, size_t count)
{
	size_t i = 0;

	while (i < count) {
		unsigned cls, run = 0;
		struct slab_class *k;
		struct slab *release = NULL;

		if (!p[i]) {
			i++;
			continue;
		}
		cls = spc_slab_class_of(n[i]);
		k = &s->classes[cls];
		lock(&k->lock);
		/* The run ends at another class, at a slab to release (its
		 * release takes chunk_lock, after the class lock is let go)
		 * or after SPC_SLAB_FREE_RUN slots. */
		do {
			if (p[i])
				release = slot_put(s, k, cls, p[i]), run++;
			i++;
		} while (!release && run < SPC_SLAB_FREE_RUN && i < count &&
		         (!p[i] || spc_slab_class_of(n[i]) == cls));
		stat_sub(&s->live_bytes, (uint64_t)k->size * run);
		stat_sub(&s->live_slots, run);
		unlock(&k->lock);
		if (release)
			slab_release(s, release);
	}
}

void spc_slabs_free(struct spc_slabs *s, void *p, size_t n)
{
	spc_slabs_free_many(s, &p, &n, 1); /* a run of one */
}

/* A statistic of bytes less the live slots' bytes. The counters are read
 * one by one: a transient inversion reads as 0. */
static uint64_t above_live(const struct spc_slabs *s, const _Atomic uint64_t *bytes)
{
	uint64_t b = stat_get(bytes), live = stat_get(&s->live_bytes);

	return b > live ? b - live : 0;
}

uint64_t spc_slabs_free_slot_bytes(const struct spc_slabs *s)
{
	return s ? above_live(s, &s->slot_bytes) : 0;
}

uint64_t spc_slabs_excess(const struct spc_slabs *s)
{
	return s ? above_live(s, &s->inuse_bytes) : 0;
}

void spc_slabs_stats(const struct spc_slabs *s, struct spc_mem_pool_report *out)
{
	uint64_t slabs, live;

	out->slab_chunk_bytes = out->slab_inuse_bytes = out->slab_live_bytes = 0;
	out->slab_held_bytes = out->slab_live_slots = out->slab_slabs = out->slab_free_slabs = 0;
	if (!s)
		return;
	slabs = stat_get(&s->slabs);
	live = stat_get(&s->live_bytes);
	out->slab_chunk_bytes = stat_get(&s->chunk_bytes);
	out->slab_inuse_bytes = stat_get(&s->inuse_bytes);
	out->slab_live_bytes = live;
	/* The counters are read one by one: clamp a transient inversion. */
	out->slab_held_bytes = out->slab_inuse_bytes > live ? out->slab_inuse_bytes - live : 0;
	out->slab_live_slots = stat_get(&s->live_slots);
	out->slab_slabs = slabs;
	out->slab_free_slabs = stat_get(&s->free_slabs);
}
