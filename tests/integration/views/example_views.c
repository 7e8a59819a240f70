/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The example of docs/views.md, compiled and run as a test so it cannot
 * rot: an indexer follows a chain, advancing the tip to each block's
 * height and then storing the block's entries there (stores above the tip
 * are refused); at height 150 the chain reorganises
 * (blocks 148-150 replaced): lowering the tip drops them at once. A query
 * thread meanwhile reads historical heights with zero-copy reads and the
 * indexer's status from a named API entry. Exits 0 on success.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <splitcache.h>

#define BLOCKS 300
#define REORG_AT 150 /* when the indexer reaches it, blocks 148.. are replaced */
#define REORG_DEPTH 3

static struct spc_cache *cache;
static int done; /* set by the indexer when it has finished */

/* The block at a height: fork 1 after the reorganisation. */
static int index_block(uint64_t height, int fork)
{
	char val[64];

	snprintf(val, sizeof val, "block %llu fork %d", (unsigned long long)height, fork);
	/* Stores above the tip are refused: the caller advances the tip to
	 * height first, then stores. */
	return spc_set_at(cache, height, "header", 6, val, strlen(val));
}

static void *indexer(void *arg)
{
	char status[48];

	(void)arg;
	spc_set_tip(cache, 0);
	for (uint64_t h = 1; h <= BLOCKS; h++) {
		spc_set_tip(cache, h); /* the indexer may now store block h */
		if (index_block(h, h > REORG_AT - REORG_DEPTH && h <= REORG_AT ? 0 : 1) != SPC_OK)
			return (void *)1;
		if (h == REORG_AT) {
			/* The chain switched branches below us: drop the old blocks
			 * (readers never wait), then index the new ones. */
			spc_set_tip(cache, REORG_AT - REORG_DEPTH);
			for (uint64_t r = REORG_AT - REORG_DEPTH + 1; r <= REORG_AT; r++) {
				spc_set_tip(cache, r);
				if (index_block(r, 1) != SPC_OK)
					return (void *)1;
			}
		}
		snprintf(status, sizeof status, "synced to %llu", (unsigned long long)h);
		spc_api_set(cache, "status", status, strlen(status));
	}
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *queries(void *arg)
{
	long *answered = arg;
	uint64_t h = 1;
	struct spc_value v;
	char status[48];
	size_t n;

	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
		uint64_t tip = spc_tip(cache);

		if (tip == 0 || tip == UINT64_MAX)
			continue;
		h = h % tip + 1; /* walk the history up to the tip */
		spc_read_lock(cache);
		/* A miss is normal: block h may be in a reorganisation. */
		if (spc_get_at_rcu(cache, h, "header", 6, &v) == SPC_OK && v.len > 6 &&
		    memcmp(v.data, "block ", 6) == 0)
			(*answered)++;
		spc_read_unlock(cache);
		if (spc_api_get(cache, "status", status, sizeof status, &n) == SPC_OK && n == 0)
			return (void *)1;
	}
	return NULL;
}

int main(void)
{
	struct spc_config cfg;
	pthread_t ix, q;
	void *ix_failed, *q_failed;
	long answered = 0;
	char buf[64], want[64];
	size_t n;

	spc_config_init(&cfg);
	cfg.use_env = 0;
	cfg.budget_bytes = 64u << 20;
	if (spc_open(&cfg, &cache) != SPC_OK)
		return 1;
	pthread_create(&ix, NULL, indexer, NULL);
	pthread_create(&q, NULL, queries, &answered);
	pthread_join(ix, &ix_failed);
	pthread_join(q, &q_failed);
	/* Every block up to the tip is there, from the branch that won. */
	for (uint64_t h = 1; h <= BLOCKS; h++) {
		snprintf(want, sizeof want, "block %llu fork 1", (unsigned long long)h);
		if (spc_get_at(cache, h, "header", 6, buf, sizeof buf - 1, &n) != SPC_OK ||
		    n != strlen(want) || memcmp(buf, want, n) != 0) {
			fprintf(stderr, "block %llu missing or from the wrong fork\n",
			        (unsigned long long)h);
			return 1;
		}
	}
	printf("tip %llu, %ld historical reads answered\n", (unsigned long long)spc_tip(cache),
	       answered);
	spc_close(cache);
	return ix_failed || q_failed;
}
