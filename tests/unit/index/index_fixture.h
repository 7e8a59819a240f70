/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/index/index_fixture.h: what the index tests share: entries
 * keyed by a 64-bit id, their hash, and an allocator that counts its bytes
 * and fails the N-th call. Header-only (static functions).
 *
 * Both layouts: a test binary given the argument "narrow" calls
 * tent_layout_narrow() first; from then on entries come from one mmap'd
 * region of cells and talloc_ops hands the region to the index (12
 * slots of 4 bytes); otherwise entries are calloc'd and the index has
 * no region (7 slots of 8 bytes). Freed cells wait in a FIFO of
 * TENT_QUARANTINE cells (poisoned under ASan) before they are reused,
 * so a lookup that returned a freed entry still sees it dead (under TSan
 * they are never reused).
 */
#ifndef SPC_TESTS_INDEX_FIXTURE_H
#define SPC_TESTS_INDEX_FIXTURE_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <urcu/urcu-memb.h>

#include "core/index.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define TENT_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define TENT_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define TENT_POISON(p, n) ((void)(p), (void)(n))
#define TENT_UNPOISON(p, n) ((void)(p), (void)(n))
#endif
/* TSan does not see a grace period (liburcu is not instrumented): a
 * reader's last load of an entry and the reuse of its cell would look
 * like a race. Under TSan cells are never reused (the region is only
 * reserved: pages cost when touched). */
#if defined(__SANITIZE_THREAD__)
#define TENT_NO_REUSE 1
#else
#define TENT_NO_REUSE 0
#endif

#define TENT_ALIVE UINT64_C(0xa11ce5a11ce5a11c)
#define TENT_DEAD UINT64_C(0xdeadbeefdeadbeef)

struct tent {
	struct rcu_head rcu;
	uint64_t id;
	uint64_t version;
	uint64_t check; /* id ^ version ^ TENT_ALIVE while alive */
	uint64_t magic; /* TENT_ALIVE, TENT_DEAD just before free */
};

static inline uint64_t tent_hash_of(uint64_t id)
{
	/* splitmix64's finaliser: every bit of id reaches every bit */
	uint64_t z = id + UINT64_C(0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Matches count their calls, so a test can show that tags collided. */
static unsigned long tent_matches;

static inline int tent_match(const void *entry, const void *key)
{
	const struct tent *e = entry;
	__atomic_fetch_add(&tent_matches, 1, __ATOMIC_RELAXED);
	return e->id == *(const uint64_t *)key;
}

/* The region of the narrow layout (base NULL: wide) and its cells. */
#define TENT_REGION_BYTES ((size_t)4 << 30)
#define TENT_QUARANTINE 8192u
#define TENT_RING 65536u /* freed cells beyond it are not reused */
static struct {
	char *base;
	size_t used;                     /* bump pointer, bytes */
	struct tent *ring[TENT_RING];    /* freed cells, oldest first */
	size_t head, tail;               /* ring positions (tail - head waiting) */
	pthread_mutex_t lock;
} tent_region = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* From now on entries come from the region and the index gets it.
 * Context: main, before any test runs. */
static inline void tent_layout_narrow(void)
{
	void *p = mmap(NULL, TENT_REGION_BYTES, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		abort();
	}
	tent_region.base = p;
}

/* Whether argv asks for the narrow layout (argument `narrow` at i); if
 * so, switches to it. */
static inline int tent_layout_arg(int argc, char **argv, int i)
{
	if (argc > i && strcmp(argv[i], "narrow") == 0) {
		tent_layout_narrow();
		return 1;
	}
	return 0;
}

static inline struct tent *tent_cell_new(void)
{
	struct tent *e = NULL;

	pthread_mutex_lock(&tent_region.lock);
	if (tent_region.tail - tent_region.head > TENT_QUARANTINE && !TENT_NO_REUSE) {
		e = tent_region.ring[tent_region.head++ % TENT_RING];
		TENT_UNPOISON(e, sizeof(*e));
	} else if (tent_region.used + sizeof(*e) <= TENT_REGION_BYTES) {
		e = (struct tent *)(tent_region.base + tent_region.used);
		tent_region.used += sizeof(*e);
	}
	pthread_mutex_unlock(&tent_region.lock);
	if (!e) {
		fprintf(stderr, "tent region exhausted\n");
		abort();
	}
	memset(e, 0, sizeof(*e));
	return e;
}

static inline void tent_cell_free(struct tent *e)
{
	pthread_mutex_lock(&tent_region.lock);
	if (tent_region.tail - tent_region.head < TENT_RING) {
		tent_region.ring[tent_region.tail++ % TENT_RING] = e;
		TENT_POISON(e, sizeof(*e));
	}
	pthread_mutex_unlock(&tent_region.lock);
}

static inline struct tent *tent_new(uint64_t id, uint64_t version)
{
	struct tent *e = tent_region.base ? tent_cell_new() : calloc(1, sizeof(*e));
	if (!e)
		abort();
	e->id = id;
	e->version = version;
	e->check = id ^ version ^ TENT_ALIVE;
	e->magic = TENT_ALIVE;
	return e;
}

static inline void tent_free(struct tent *e)
{
	__atomic_store_n(&e->magic, TENT_DEAD, __ATOMIC_RELAXED);
	if (tent_region.base)
		tent_cell_free(e);
	else
		free(e);
}

static inline void tent_free_cb(struct rcu_head *h)
{
	tent_free(caa_container_of(h, struct tent, rcu));
}

/* The allocator: counts calls and outstanding bytes, fails call fail_at
 * (1-based; 0: never) or every call while fail_all is set. alloc runs on
 * the resizing thread; free also on liburcu's call_rcu thread, hence the
 * atomic gauges (read them after urcu_memb_barrier: talloc_live/bytes). */
struct talloc {
	long calls, fail_at;
	int fail_all;
	long live;    /* atomic */
	size_t bytes; /* atomic */
};

static inline void *talloc_alloc(void *ctx, size_t bytes)
{
	struct talloc *a = ctx;
	if (++a->calls == a->fail_at || a->fail_all)
		return NULL;
	void *p = aligned_alloc(64, (bytes + 63) / 64 * 64);
	if (p) {
		/* relaxed: gauges, read after a barrier or a join */
		__atomic_fetch_add(&a->live, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&a->bytes, bytes, __ATOMIC_RELAXED);
	}
	return p;
}

static inline void talloc_free(void *ctx, void *p, size_t bytes)
{
	struct talloc *a = ctx;
	/* relaxed: as in talloc_alloc */
	__atomic_fetch_sub(&a->live, 1, __ATOMIC_RELAXED);
	__atomic_fetch_sub(&a->bytes, bytes, __ATOMIC_RELAXED);
	free(p);
}

/* The gauges once every retired table's call_rcu has run. Context: a
 * registered thread outside any read-side section. */
static inline long talloc_live(struct talloc *a)
{
	urcu_memb_barrier();
	return __atomic_load_n(&a->live, __ATOMIC_RELAXED);
}

static inline size_t talloc_bytes(struct talloc *a)
{
	urcu_memb_barrier();
	return __atomic_load_n(&a->bytes, __ATOMIC_RELAXED);
}

static inline uint64_t tent_hash(void *ctx, const void *entry)
{
	return tent_hash_of(((const struct tent *)entry)->id);
}

static inline struct spc_index_ops talloc_ops(struct talloc *a)
{
	struct spc_index_ops ops = {talloc_alloc, talloc_free, tent_hash, a,
	                            tent_region.base, tent_region.base ? TENT_REGION_BYTES : 0};
	return ops;
}

/* The entry of id, or NULL; checks that what it found is id's, alive. */
static inline struct tent *tent_find(const struct spc_index *ix, uint64_t id)
{
	struct tent *e;
	urcu_memb_read_lock();
	e = spc_index_lookup_rcu(ix, tent_hash_of(id), tent_match, &id);
	if (e && (e->id != id || e->magic != TENT_ALIVE || e->check != (id ^ e->version ^ TENT_ALIVE)))
		abort(); /* a wrong, torn or freed entry */
	urcu_memb_read_unlock();
	return e;
}

#endif /* SPC_TESTS_INDEX_FIXTURE_H */
