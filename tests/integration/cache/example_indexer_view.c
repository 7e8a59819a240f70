/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The README example of docs/api.md, compiled and run as a test so it
 * cannot rot: an indexer thread writes blocks of keys into the index pool
 * and publishes view entries, while a view thread answers queries from the
 * view pool with zero-copy reads. Exits 0 on success.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <splitcache.h>

static struct spc_cache *cache;
static int done; /* set by the indexer when it has finished */

static void *indexer(void *arg)
{
	char key[32], val[64];

	(void)arg;
	for (int height = 0; height < 2000; height++) {
		snprintf(key, sizeof key, "utxo:%d", height);
		snprintf(val, sizeof val, "block %d outputs", height);
		/* SPC_EFULL means the pool stayed full for full_wait_ms:
		 * the entry was not stored, the cache is unchanged. */
		if (spc_set(cache, SPC_POOL_INDEX, key, strlen(key), val, strlen(val)) != SPC_OK)
			continue;
		snprintf(key, sizeof key, "tip");
		snprintf(val, sizeof val, "%d", height);
		spc_set(cache, SPC_POOL_VIEW, key, strlen(key), val, strlen(val));
	}
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *viewer(void *arg)
{
	long *answered = arg;
	struct spc_value v;

	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE)) {
		spc_read_lock(cache); /* never blocks; keep it short */
		if (spc_get_rcu(cache, SPC_POOL_VIEW, "tip", 3, &v) == SPC_OK) {
			/* v.data is valid until spc_read_unlock: use it here,
			 * or copy it out, never keep the pointer. */
			if (v.len > 0 && v.len < 16)
				(*answered)++;
		}
		spc_read_unlock(cache);
	}
	return NULL;
}

int main(void)
{
	struct spc_config cfg;
	pthread_t ix, vw;
	long answered = 0;
	char buf[64];
	size_t len;
	struct spc_stats st;

	spc_config_init(&cfg);
	cfg.budget_bytes = 64u << 20; /* or 0: detect from cgroup / meminfo */
	cfg.use_env = 0;
	cfg.mode = SPC_MODE_SPLIT;
	cfg.view_share = 0.25;
	if (spc_open(&cfg, &cache) != SPC_OK)
		return 1;
	pthread_create(&ix, NULL, indexer, NULL);
	pthread_create(&vw, NULL, viewer, &answered);
	pthread_join(ix, NULL);
	pthread_join(vw, NULL);
	/* copy-out read from any thread, no read section needed */
	if (spc_get(cache, SPC_POOL_INDEX, "utxo:1999", 9, buf, sizeof buf, &len) != SPC_OK)
		return 2;
	spc_stats(cache, -1, &st);
	printf("view answered %ld queries; %llu items, %llu evictions\n", answered,
	       (unsigned long long)st.items, (unsigned long long)st.evictions);
	spc_close(cache);
	return 0;
}
