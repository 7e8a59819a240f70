#include <stdio.h>
#include <splitcache.h>      /* cc app.c $(pkg-config --cflags --libs splitcache) */

int main(void)
{
	struct spc_config cfg;
	struct spc_cache *cache;
	struct spc_value v;
	int rc;

	spc_config_init(&cfg);              /* budget detected; SPLITCACHE_MEMORY=512M overrides */
	cfg.mode = SPC_MODE_SPLIT;          /* or SPC_MODE_INDEXER, SPC_MODE_VIEW */
	rc = spc_open(&cfg, &cache);        /* never aborts for lack of memory */
	if (rc != SPC_OK) {
		fprintf(stderr, "open: %s\n", spc_strerror(rc));
		return 1;
	}

	/* an indexer thread: SPC_EFULL = pool full, nothing changed */
	rc = spc_set(cache, SPC_POOL_INDEX, "utxo:42", 7, "outputs", 7);
	if (rc != SPC_OK)
		fprintf(stderr, "set: %s\n", spc_strerror(rc));

	/* a query thread: lock-free, zero-copy until spc_read_unlock */
	spc_read_lock(cache);
	rc = spc_get_rcu(cache, SPC_POOL_INDEX, "utxo:42", 7, &v);
	if (rc == SPC_OK)
		printf("utxo:42 = %.*s\n", (int)v.len, (const char *)v.data);
	spc_read_unlock(cache);

	spc_close(cache);
	return rc == SPC_OK ? 0 : 1;
}
