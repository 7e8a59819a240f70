/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of pools/slab.c (S1-S6, S8; S7 in test_give_back.c),
 * through the pool API where the slab layer sits (spc_pool_usable / alloc
 * / free) and its report fields.
 */
#include <check.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/base.h"
#ifndef SPC_POOL_MALLOC
#include <jemalloc/jemalloc.h>
#endif
#include "pools/arena.h"
#include "pools/pools.h"
#include "pools/slab.h"

#define SKIP_IN_MALLOC_BUILD(name)                                                   \
	do {                                                                         \
		printf("SKIP %s: SPC_POOL_MALLOC build has no slab layer\n", name); \
		return;                                                              \
	} while (0)

static struct spc_mem *open_mem(uint64_t budget, const struct spc_env *env)
{
	struct spc_config cfg;
	struct spc_mem *mem = NULL;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = budget;
	ck_assert_int_eq(spc_mem_open(&cfg, env, &mem), SPC_OK);
	return mem;
}

static void pool_report(struct spc_mem *mem, enum spc_pool_id id, struct spc_mem_pool_report *o)
{
	struct spc_mem_report *r = malloc(sizeof *r);

	ck_assert_ptr_nonnull(r);
	spc_mem_fill_report(mem, r);
	*o = r->pools[id];
	free(r);
}

/* ---- S1: the class ladder ---------------------------------------------- */

START_TEST(class_of_every_size)
{
	size_t n, prev = 0;
	unsigned i;

	for (i = 0; i < SPC_SLAB_NCLASSES; i++) {
		size_t c = spc_slab_class_size(i);

		ck_assert_uint_gt(c, prev);
		ck_assert_uint_eq(c % 8, 0);
		ck_assert_uint_eq(spc_slab_class_of(c), i);
		ck_assert_uint_ge(spc_slab_slots(i), 31);
		/* header and tail cost < 3.3 % of the slots */
		ck_assert_uint_lt((spc_slab_bytes(i) - spc_slab_slots(i) * c) * 1000,
		                  33 * spc_slab_slots(i) * c);
		prev = c;
	}
	ck_assert_uint_eq(prev, SPC_SLAB_MAX_CLASS);
	for (n = 1; n <= SPC_SLAB_MAX_CLASS; n++) {
		unsigned k = spc_slab_class_of(n);
		size_t c = spc_slab_class_size(k), bound;

		ck_assert_uint_lt(k, SPC_SLAB_NCLASSES);
		ck_assert_uint_ge(c, n);
		/* the smallest class >= n */
		ck_assert(k == 0 || spc_slab_class_size(k - 1) < n);
		bound = n <= 256 ? 8 : n <= 512 ? 16 : n <= 1024 ? 32 : 64;
		ck_assert_msg(c - n < bound, "size %zu -> class %zu", n, c);
#ifndef SPC_POOL_MALLOC
		ck_assert_uint_le(c, nallocx(n, 0));
#endif
	}
}
END_TEST

START_TEST(usable_is_class_size)
{
	struct spc_mem *mem = open_mem(16ull << 20, NULL);
	struct spc_pool *p = spc_mem_pool(mem, SPC_POOL_INDEX);

#ifdef SPC_POOL_MALLOC
	ck_assert_uint_eq(spc_pool_usable(p, 164), 176);
#else
	ck_assert_uint_eq(spc_pool_usable(p, 164), 168);
	ck_assert_uint_eq(spc_pool_usable(p, 1), 8);
	ck_assert_uint_eq(spc_pool_usable(p, 2048), 2048);
	ck_assert_uint_eq(spc_pool_usable(p, 2049), nallocx(2049, 0));
#endif
	spc_mem_close(mem);
}
END_TEST

/* ---- S2, S3: alloc / free patterns ------------------------------------- */

START_TEST(slots_distinct_aligned_in_region)
{
#ifdef SPC_POOL_MALLOC
	SKIP_IN_MALLOC_BUILD("slots_distinct_aligned_in_region");
#else
	static const size_t sizes[] = { 8, 164, 300, 1000, 2048 };
	struct spc_mem *mem = open_mem(16ull << 20, NULL);
	struct spc_pool *p = spc_mem_pool(mem, SPC_POOL_VIEW);
	struct spc_mem_pool_report r;
	enum { N = 3000 };
	char **ptrs = calloc(N * 5, sizeof *ptrs);
	const void *base;
	size_t size, i, j, k = 0;

	ck_assert_ptr_nonnull(ptrs);
	ck_assert_int_eq(spc_pool_region(p, &base, &size), 1);
	for (j = 0; j < 5; j++)
		for (i = 0; i < N; i++) {
			char *q = spc_pool_alloc(p, sizes[j]);

			ck_assert_ptr_nonnull(q);
			ck_assert_uint_eq((uintptr_t)q % 8, 0);
			ck_assert(q >= (const char *)base && q + sizes[j] <= (const char *)base + size);
			memset(q, (int)j + 1, sizes[j]);
			ptrs[k++] = q;
		}
	/* Distinct and not overlapping: every slot still has its pattern. */
	for (k = 0, j = 0; j < 5; j++)
		for (i = 0; i < N; i++, k++) {
			ck_assert_int_eq(ptrs[k][0], (int)j + 1);
			ck_assert_int_eq(ptrs[k][sizes[j] - 1], (int)j + 1);
		}
	pool_report(mem, SPC_POOL_VIEW, &r);
	ck_assert_uint_eq(r.slab_live_slots, N * 5);
	ck_assert_uint_eq(r.slab_live_bytes, (uint64_t)N * (8 + 168 + 304 + 1024 + 2048));
	ck_assert_uint_ge(r.slab_inuse_bytes, r.slab_live_bytes);
	ck_assert_uint_le(r.slab_inuse_bytes, r.slab_chunk_bytes);
	ck_assert_uint_eq(r.slab_held_bytes, r.slab_inuse_bytes - r.slab_live_bytes);
	{ /* the report renders the slab fields */
		struct spc_mem_report *mr = malloc(sizeof *mr);
		char *buf = malloc(1 << 16);
		char want[64];

		ck_assert_ptr_nonnull(mr);
		ck_assert_ptr_nonnull(buf);
		spc_mem_fill_report(mem, mr);
		ck_assert_int_eq(spc_mem_report_json(mr, buf, 1 << 16, NULL), SPC_OK);
		snprintf(want, sizeof want, "\"slab_live_slots\": %d", N * 5);
		ck_assert_msg(strstr(buf, want), "JSON lacks %s", want);
		ck_assert_ptr_nonnull(strstr(buf, "\"slab_held_bytes\""));
		ck_assert_int_eq(spc_mem_report_text(mr, buf, 1 << 16, NULL), SPC_OK);
		ck_assert_ptr_nonnull(strstr(buf, "held beyond charged"));
		free(buf);
		free(mr);
	}
	for (k = 0, j = 0; j < 5; j++)
		for (i = 0; i < N; i++)
			spc_pool_free(p, ptrs[k++], sizes[j]);
	/* S3: one cached empty slab per class used, nothing live. */
	pool_report(mem, SPC_POOL_VIEW, &r);
	ck_assert_uint_eq(spc_pool_slab_excess(p), r.slab_held_bytes);
	ck_assert_uint_eq(r.slab_live_slots, 0);
	ck_assert_uint_eq(r.slab_live_bytes, 0);
	ck_assert_uint_le(r.slab_slabs, 5);
	ck_assert_uint_eq(r.slab_held_bytes, r.slab_inuse_bytes);
	ck_assert_uint_le(r.slab_inuse_bytes, r.slab_slabs * SPC_SLAB_BYTES);
	free(ptrs);
	spc_mem_close(mem);
#endif
}
END_TEST

/* Ping-pong at a slab boundary keeps the slab; draining many slabs gives
 * all but one back and, once every class is empty, the chunks too. */
START_TEST(empty_slabs_return)
{
#ifdef SPC_POOL_MALLOC
	SKIP_IN_MALLOC_BUILD("empty_slabs_return");
#else
	struct spc_mem *mem = open_mem(16ull << 20, NULL);
	struct spc_pool *p = spc_mem_pool(mem, SPC_POOL_INDEX);
	struct spc_mem_pool_report r;
	size_t per = spc_slab_slots(spc_slab_class_of(164)), n = 10 * per, i;
	void **ptrs = calloc(n, sizeof *ptrs);
	void *q;

	ck_assert_ptr_nonnull(ptrs);
	for (i = 0; i < n; i++) {
		ptrs[i] = spc_pool_alloc(p, 164);
		ck_assert_ptr_nonnull(ptrs[i]);
	}
	pool_report(mem, SPC_POOL_INDEX, &r);
	ck_assert_uint_eq(r.slab_slabs, 10);
	/* every slot of 10 slabs used: held = headers and tails only */
	ck_assert_uint_eq(r.slab_held_bytes,
	                  10 * (spc_slab_bytes(spc_slab_class_of(164)) - per * 168));
	for (i = 0; i < 1000; i++) { /* ping-pong over an 11th slab */
		q = spc_pool_alloc(p, 164);
		ck_assert_ptr_nonnull(q);
		spc_pool_free(p, q, 164);
	}
	pool_report(mem, SPC_POOL_INDEX, &r);
	ck_assert_uint_eq(r.slab_slabs, 11);
	/* Free in an order that drains slab after slab, from the middle. */
	for (i = 0; i < n; i++)
		spc_pool_free(p, ptrs[(i * 7919) % n], 164);
	pool_report(mem, SPC_POOL_INDEX, &r);
	ck_assert_uint_eq(r.slab_live_bytes, 0);
	ck_assert_uint_eq(r.slab_slabs, 1); /* the cached empty slab */
	/* one chunk left: the one holding the cached slab */
	ck_assert_uint_le(r.slab_chunk_bytes, 32 * SPC_SLAB_BYTES);
	ck_assert_uint_le(r.slab_free_slabs, 31);
	/* Reuse after draining. */
	for (i = 0; i < n; i++) {
		ptrs[i] = spc_pool_alloc(p, 100 + i % 900);
		ck_assert_ptr_nonnull(ptrs[i]);
	}
	for (i = 0; i < n; i++)
		spc_pool_free(p, ptrs[i], 100 + i % 900);
	pool_report(mem, SPC_POOL_INDEX, &r);
	ck_assert_uint_eq(r.slab_live_slots, 0);
	ck_assert_uint_le(r.slab_slabs, spc_slab_class_of(999) - spc_slab_class_of(100) + 2);
	free(ptrs);
	spc_mem_close(mem);
#endif
}
END_TEST

/* The region is the hard cap: fill it with slots until NULL, then free all
 * and fill again (A1 for slabs). */
START_TEST(region_exhaustion_is_clean)
{
#ifdef SPC_POOL_MALLOC
	SKIP_IN_MALLOC_BUILD("region_exhaustion_is_clean");
#else
	struct spc_mem *mem = open_mem(16ull << 20, NULL);
	struct spc_pool *p = spc_mem_pool(mem, SPC_POOL_INDEX);
	struct spc_mem_pool_report r;
	const void *base;
	size_t size, cap, count, round, i;
	char **ptrs;

	ck_assert_int_eq(spc_pool_region(p, &base, &size), 1);
	cap = size / 168 + 16;
	ptrs = calloc(cap, sizeof *ptrs);
	ck_assert_ptr_nonnull(ptrs);
	for (round = 0; round < 2; round++) {
		for (count = 0; count < cap; count++) {
			char *q = spc_pool_alloc(p, 164);

			if (!q)
				break;
			ck_assert(q >= (const char *)base && q + 164 <= (const char *)base + size);
			ptrs[count] = q;
		}
		ck_assert_uint_lt(count, cap);
		/* the pool's target (16 MiB) fits with room to spare */
		ck_assert_uint_gt(count * 168, 16u << 20);
		pool_report(mem, SPC_POOL_INDEX, &r);
		ck_assert_uint_eq(r.slab_live_slots, count);
		if (round == 0)
			printf("region %zu B: %zu slots of 168 B (%.1f %%), slab chunks %llu B\n", size,
			       count, 100.0 * (double)(count * 168) / (double)size,
			       (unsigned long long)r.slab_chunk_bytes);
		for (i = 0; i < count; i++)
			spc_pool_free(p, ptrs[i], 164);
	}
	free(ptrs);
	spc_mem_close(mem);
#endif
}
END_TEST

/* ---- S4: many writers, one freeing thread ------------------------------ */

enum { RING = 4096, WRITERS = 3, PER_WRITER = 60000 };

struct ring_item {
	void *p;
	size_t n;
};

struct mt {
	struct spc_pool *pool;   /* through the pool, or */
	struct spc_slabs *slabs; /* the layer alone (every build) */
	size_t max;              /* sizes 1..max */
	int many;                /* the reclaimer frees up to RING/2 at a time */
	pthread_mutex_t lock; /* guards the ring */
	pthread_cond_t cond;
	struct ring_item ring[RING];
	size_t head, tail;
	int writers_left;
	_Atomic int bad;
};

static void *writer(void *arg)
{
	struct mt *m = arg;
	unsigned x = (unsigned)(uintptr_t)&x;
	int i;

	for (i = 0; i < PER_WRITER; i++) {
		size_t n;
		char *q;

		x = x * 1103515245u + 12345u;
		n = 1 + (x >> 8) % m->max;
		q = m->slabs ? spc_slabs_alloc(m->slabs, n) : spc_pool_alloc(m->pool, n);
		if (!q) {
			atomic_store(&m->bad, 1);
			break;
		}
		q[0] = (char)n;
		q[n - 1] = (char)n;
		pthread_mutex_lock(&m->lock);
		while (m->head - m->tail == RING)
			pthread_cond_wait(&m->cond, &m->lock);
		m->ring[m->head++ % RING] = (struct ring_item){ q, n };
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
	}
	pthread_mutex_lock(&m->lock);
	m->writers_left--;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* Frees what the writers queue, checking each slot's marks first. One at
 * a time, or (m->many) what the ring holds, up to RING/2, with one call,
 * as the RCU callbacks do. */
static void *reclaimer(void *arg)
{
	struct mt *m = arg;
	size_t cap = m->many ? RING / 2 : 1;
	void *p[RING / 2];
	size_t n[RING / 2];

	for (;;) {
		size_t k = 0;

		pthread_mutex_lock(&m->lock);
		while (m->head == m->tail && m->writers_left > 0)
			pthread_cond_wait(&m->cond, &m->lock);
		if (m->head == m->tail) {
			pthread_mutex_unlock(&m->lock);
			return NULL;
		}
		while (m->head != m->tail && k < cap) {
			struct ring_item it = m->ring[m->tail++ % RING];

			p[k] = it.p;
			n[k++] = it.n;
		}
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		for (size_t i = 0; i < k; i++)
			if (((char *)p[i])[0] != (char)n[i] || ((char *)p[i])[n[i] - 1] != (char)n[i])
				atomic_store(&m->bad, 1);
		if (m->many && m->slabs)
			spc_slabs_free_many(m->slabs, p, n, k);
		else if (m->many)
			spc_pool_free_many(m->pool, p, n, k);
		else if (m->slabs)
			spc_slabs_free(m->slabs, p[0], n[0]);
		else
			spc_pool_free(m->pool, p[0], n[0]);
	}
}

static void run_writers_and_reclaimer(struct mt *m)
{
	pthread_t w[WRITERS], f;
	int i;

	m->writers_left = WRITERS;
	atomic_init(&m->bad, 0);
	ck_assert_int_eq(pthread_mutex_init(&m->lock, NULL), 0);
	ck_assert_int_eq(pthread_cond_init(&m->cond, NULL), 0);
	ck_assert_int_eq(pthread_create(&f, NULL, reclaimer, m), 0);
	for (i = 0; i < WRITERS; i++)
		ck_assert_int_eq(pthread_create(&w[i], NULL, writer, m), 0);
	for (i = 0; i < WRITERS; i++)
		ck_assert_int_eq(pthread_join(w[i], NULL), 0);
	ck_assert_int_eq(pthread_join(f, NULL), 0);
	ck_assert_int_eq(atomic_load(&m->bad), 0);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
}

/* Through the pool: sizes on both sides of the slab limit; the
 * reclaimer frees one at a time (_i = 0) or in batches (_i = 1). */
START_TEST(writers_and_reclaimer)
{
	struct spc_mem *mem = open_mem(32ull << 20, NULL);
	struct spc_mem_pool_report r;
	struct mt *m = calloc(1, sizeof *m);

	ck_assert_ptr_nonnull(m);
	m->pool = spc_mem_pool(mem, SPC_POOL_INDEX);
	m->max = 2100;
	m->many = _i;
	run_writers_and_reclaimer(m);
	pool_report(mem, SPC_POOL_INDEX, &r);
	ck_assert_uint_eq(r.slab_live_slots, 0);
	ck_assert_uint_eq(r.slab_live_bytes, 0);
	ck_assert_uint_le(r.slab_slabs, SPC_SLAB_NCLASSES);
	free(m);
	spc_mem_close(mem);
}
END_TEST

/* The layer alone over an arena without region (plain jemalloc, or malloc
 * in sanitizer builds): this is what TSan and ASan check. */
START_TEST(layer_writers_and_reclaimer)
{
	struct spc_arena a;
	struct spc_mem_pool_report r;
	struct mt *m = calloc(1, sizeof *m);

	ck_assert_ptr_nonnull(m);
	spc_arena_init(&a, NULL, (struct spc_region){ NULL, 0 });
	m->slabs = spc_slabs_create(&a, NULL, 0);
	ck_assert_ptr_nonnull(m->slabs);
	m->max = SPC_SLAB_MAX_CLASS;
	m->many = _i;
	run_writers_and_reclaimer(m);
	spc_slabs_stats(m->slabs, &r);
	ck_assert_uint_eq(r.slab_live_slots, 0);
	ck_assert_uint_eq(r.slab_live_bytes, 0);
	ck_assert_uint_le(r.slab_slabs, SPC_SLAB_NCLASSES);
	ck_assert_uint_eq(r.slab_held_bytes, r.slab_inuse_bytes);
	ck_assert_uint_le(r.slab_inuse_bytes, r.slab_slabs * SPC_SLAB_BYTES);
	/* S6: destroy with live slots gives every chunk back (ASan's leak
	 * check sees it in the malloc build). */
	ck_assert_ptr_nonnull(spc_slabs_alloc(m->slabs, 100));
	ck_assert_ptr_nonnull(spc_slabs_alloc(m->slabs, 2000));
	spc_slabs_destroy(m->slabs);
	spc_arena_destroy(&a);
	free(m);
}
END_TEST

/* ---- S8: the bound on new slabs ----------------------------------------- */

static int bound_open;

static int bound_says(void *arg, uint64_t bytes)
{
	(void)arg;
	ck_assert_uint_gt(bytes, 0);
	return bound_open;
}

/* Allocates n bytes, which must succeed, and checks the free slot bytes
 * after. */
static void *take(struct spc_slabs *s, size_t n, uint64_t free_after)
{
	void *p = spc_slabs_alloc(s, n);

	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(spc_slabs_free_slot_bytes(s), free_after);
	return p;
}

START_TEST(bound_refuses_new_slabs_only)
{
	struct spc_arena a;
	struct spc_slabs *s;
	unsigned cls = spc_slab_class_of(100);
	uint64_t size = spc_slab_class_size(cls), slots = spc_slab_slots(cls);
	void *p, *q;

	spc_arena_init(&a, NULL, (struct spc_region){ NULL, 0 });
	s = spc_slabs_create(&a, NULL, 0);
	ck_assert_ptr_nonnull(s);
	spc_slabs_set_bound(s, bound_says, NULL);
	bound_open = 1;
	p = take(s, 100, (slots - 1) * size);
	bound_open = 0;
	/* the class's own free slots: still served */
	q = take(s, 100, (slots - 2) * size);
	/* another class needs a new slab: refused, nothing changed */
	ck_assert_ptr_null(spc_slabs_alloc(s, 1000));
	ck_assert_uint_eq(spc_slabs_free_slot_bytes(s), (slots - 2) * size);
	/* emptied, the slab is the class's cached one: no free slot counted,
	 * though the excess still shows it */
	spc_slabs_free(s, p, 100);
	spc_slabs_free(s, q, 100);
	ck_assert_uint_eq(spc_slabs_free_slot_bytes(s), 0);
	ck_assert_uint_ge(spc_slabs_excess(s), slots * size);
	/* and taken again whatever the bound says */
	p = take(s, 100, (slots - 1) * size);
	bound_open = 1;
	q = spc_slabs_alloc(s, 1000);
	ck_assert_ptr_nonnull(q);
	spc_slabs_free(s, p, 100);
	spc_slabs_free(s, q, 1000);
	spc_slabs_destroy(s);
	spc_arena_destroy(&a);
}
END_TEST

/* spc_pool_free_many leaves the pool exactly as freeing one by one does:
 * two pools get the same allocations (runs of one class longer than
 * SPC_SLAB_FREE_RUN, single slots between classes, sizes for the arena,
 * NULLs), one frees them in one call, the other one by one; in an order
 * that empties slabs in the middle of runs. Then both allocate again. */
#define MANY_N 3000

static size_t many_size(size_t i)
{
	if (i % 500 == 499)
		return 3000; /* above the slabs: the arena's */
	if (i % 97 == 3)
		return 40 + i % 7 * 100; /* a lone slot of another class */
	return i / 150 % 2 ? 164 : 100; /* runs of 150 of one class */
}

static void alloc_all(struct spc_pool *p, void **ptrs, size_t *n)
{
	for (size_t i = 0; i < MANY_N; i++) {
		n[i] = many_size(i);
		ptrs[i] = i % 211 == 5 ? NULL : spc_pool_alloc(p, n[i]);
		if (i % 211 != 5)
			ck_assert_ptr_nonnull(ptrs[i]);
	}
}

START_TEST(free_many_as_free_one_by_one)
{
	struct spc_mem *a = open_mem(32ull << 20, NULL), *b = open_mem(32ull << 20, NULL);
	struct spc_pool *pa = spc_mem_pool(a, SPC_POOL_INDEX), *pb = spc_mem_pool(b, SPC_POOL_INDEX);
	void **xa = calloc(MANY_N, sizeof *xa), **xb = calloc(MANY_N, sizeof *xb);
	size_t *n = calloc(MANY_N, sizeof *n);
	struct spc_mem_pool_report ra, rb;
	size_t i;

	ck_assert(xa && xb && n);
	alloc_all(pa, xa, n);
	alloc_all(pb, xb, n);
	/* Free the middle third first, so slabs empty inside later runs. */
	spc_pool_free_many(pa, xa + MANY_N / 3, n + MANY_N / 3, MANY_N / 3);
	for (i = MANY_N / 3; i < 2 * MANY_N / 3; i++)
		spc_pool_free(pb, xb[i], n[i]);
	pool_report(a, SPC_POOL_INDEX, &ra);
	pool_report(b, SPC_POOL_INDEX, &rb);
	ck_assert_uint_eq(ra.slab_live_slots, rb.slab_live_slots);
	ck_assert_uint_eq(ra.slab_live_bytes, rb.slab_live_bytes);
#ifndef SPC_POOL_MALLOC /* no slab layer: only ASan's view of the frees */
	ck_assert_uint_gt(ra.slab_live_slots, 0);
#endif
	spc_pool_free_many(pa, xa, n, MANY_N / 3);
	spc_pool_free_many(pa, xa + 2 * MANY_N / 3, n + 2 * MANY_N / 3, MANY_N - 2 * MANY_N / 3);
	for (i = 0; i < MANY_N; i++)
		if (i < MANY_N / 3 || i >= 2 * MANY_N / 3)
			spc_pool_free(pb, xb[i], n[i]);
	pool_report(a, SPC_POOL_INDEX, &ra);
	pool_report(b, SPC_POOL_INDEX, &rb);
	ck_assert_uint_eq(ra.slab_live_slots, 0);
	ck_assert_uint_eq(ra.slab_live_bytes, 0);
	ck_assert_uint_eq(ra.slab_slabs, rb.slab_slabs);
	ck_assert_uint_eq(ra.slab_free_slabs, rb.slab_free_slabs);
	ck_assert_uint_eq(ra.slab_inuse_bytes, rb.slab_inuse_bytes);
	ck_assert_uint_eq(ra.slab_chunk_bytes, rb.slab_chunk_bytes);
	ck_assert_uint_eq(spc_pool_slab_excess(pa), spc_pool_slab_excess(pb));
	/* Every slot is back: the same allocations succeed again. */
	alloc_all(pa, xa, n);
	pool_report(a, SPC_POOL_INDEX, &ra);
#ifndef SPC_POOL_MALLOC
	ck_assert_uint_eq(ra.slab_live_slots, MANY_N - (MANY_N + 205) / 211 - MANY_N / 500);
#endif
	spc_pool_free_many(pa, xa, n, MANY_N);
	pool_report(a, SPC_POOL_INDEX, &ra);
	ck_assert_uint_eq(ra.slab_live_slots, 0);
	free(xa);
	free(xb);
	free(n);
	spc_mem_close(a);
	spc_mem_close(b);
}
END_TEST

/* ---- S5: the fault hook ------------------------------------------------- */

struct fault_plan {
	enum spc_fault_site site;
	int every; /* fail every every-th call of site */
	int calls;
};

static int fault_fn(void *arg, enum spc_fault_site site, size_t bytes)
{
	struct fault_plan *f = arg;

	(void)bytes;
	if (site != f->site)
		return 0;
	return ++f->calls % f->every == 0;
}

START_TEST(fault_fails_cleanly)
{
	static const enum spc_fault_site sites[] = { SPC_FAULT_POOL_ALLOC, SPC_FAULT_MALLOC };
	struct fault_plan f = { sites[_i], 3, 0 };
	struct spc_env env = { .fault = fault_fn, .fault_arg = &f };
	struct spc_mem *mem;
	struct spc_pool *p;
	struct spc_mem_pool_report before, after;
	void *ptrs[5000];
	size_t live = 0, failed = 0, i;

	f.every = 1000000; /* let open succeed */
	mem = open_mem(16ull << 20, &env);
	p = spc_mem_pool(mem, SPC_POOL_VIEW);
	f.every = 3;
	f.calls = 0;
	for (i = 0; i < 5000; i++) {
		pool_report(mem, SPC_POOL_VIEW, &before);
		size_t n = 164 + (i % 7) * 300;
		void *q = spc_pool_alloc(p, n);

		if (!q) {
			failed++;
			pool_report(mem, SPC_POOL_VIEW, &after);
			ck_assert_uint_eq(after.slab_live_slots, before.slab_live_slots);
			ck_assert_uint_eq(after.slab_live_bytes, before.slab_live_bytes);
			continue;
		}
		spc_pool_free(p, q, n);
		if (i % 2)
			continue;
		q = spc_pool_alloc(p, 164);
		if (q)
			ptrs[live++] = q;
	}
	if (sites[_i] == SPC_FAULT_POOL_ALLOC)
		ck_assert_uint_gt(failed, 1000);
	f.every = 1000000;
	for (i = 0; i < live; i++)
		spc_pool_free(p, ptrs[i], 164);
	pool_report(mem, SPC_POOL_VIEW, &after);
	ck_assert_uint_eq(after.slab_live_slots, 0);
	spc_mem_close(mem);
}
END_TEST

/* ---- S6: destroy with live slots, and the per-entry figure -------------- */

START_TEST(destroy_with_live_slots)
{
#ifdef SPC_POOL_MALLOC
	SKIP_IN_MALLOC_BUILD("destroy_with_live_slots (LeakSanitizer would see them)");
#else
	struct spc_mem *mem = open_mem(16ull << 20, NULL);
	struct spc_pool *p = spc_mem_pool(mem, SPC_POOL_INDEX);
	size_t i;

	/* Live slots at close: the chunks go back before the arena is
	 * destroyed, which would refuse (and die) otherwise. */
	for (i = 0; i < 8000; i++) /* ~8 MiB of the 16 */
		ck_assert_ptr_nonnull(spc_pool_alloc(p, 40 + i % 2000));
	spc_mem_close(mem);
#endif
}
END_TEST

/* Bytes the pool holds per live 164-byte entry (32 header + 32 key + 100
 * value), RSS-independent: slab bytes in use / live entries, against
 * jemalloc's own size class for 164. */
START_TEST(bytes_per_164_entry)
{
#ifdef SPC_POOL_MALLOC
	SKIP_IN_MALLOC_BUILD("bytes_per_164_entry");
#else
	struct spc_mem *mem = open_mem(64ull << 20, NULL);
	struct spc_pool *p = spc_mem_pool(mem, SPC_POOL_INDEX);
	struct spc_mem_pool_report r;
	enum { N = 200000 };
	void **ptrs = calloc(N, sizeof *ptrs);
	double per, per_chunk;
	size_t i;

	ck_assert_ptr_nonnull(ptrs);
	for (i = 0; i < N; i++) {
		ptrs[i] = spc_pool_alloc(p, 164);
		ck_assert_ptr_nonnull(ptrs[i]);
	}
	pool_report(mem, SPC_POOL_INDEX, &r);
	per = (double)r.slab_inuse_bytes / N;
	per_chunk = (double)r.slab_chunk_bytes / N;
	printf("164-byte entries: %.2f B held each in slabs (%.2f B counting whole chunks), "
	       "charged %zu; jemalloc alone: %zu\n",
	       per, per_chunk, spc_pool_usable(p, 164), nallocx(164, 0));
	ck_assert_double_le(per, 164 + 8);
	ck_assert_double_lt(per_chunk, (double)nallocx(164, 0));
	for (i = 0; i < N; i++)
		spc_pool_free(p, ptrs[i], 164);
	free(ptrs);
	spc_mem_close(mem);
#endif
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pools.slab");
	TCase *tc = tcase_create("slab");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, class_of_every_size);
	tcase_add_test(tc, usable_is_class_size);
	tcase_add_test(tc, slots_distinct_aligned_in_region);
	tcase_add_test(tc, empty_slabs_return);
	tcase_add_test(tc, region_exhaustion_is_clean);
	tcase_add_loop_test(tc, writers_and_reclaimer, 0, 2);
	tcase_add_loop_test(tc, layer_writers_and_reclaimer, 0, 2);
	tcase_add_test(tc, free_many_as_free_one_by_one);
	tcase_add_test(tc, bound_refuses_new_slabs_only);
	tcase_add_loop_test(tc, fault_fails_cleanly, 0, 2);
	tcase_add_test(tc, destroy_with_live_slots);
	tcase_add_test(tc, bytes_per_164_entry);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
