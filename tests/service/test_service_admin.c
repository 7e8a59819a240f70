/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * splitcached's memcached switches on the wire, against memcached
 * 1.6.18's recorded replies (Debian, same lines, the same switch):
 *  - the hash seed: a flood of keys that share one index bucket under a
 *    fixed --hash-seed is served, and the seed of a default start (random
 *    per process) spreads the same keys over the buckets;
 *  - stats reset resets the counters it names, not the gauges;
 *  - -C (no cas), -F (no flush_all), -M (errors instead of evictions) and
 *    -Y (ASCII authentication).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "one_conn.h"

/* ---- hash seed ------------------------------------------------------------- */

#define FIXED_SEED 0x5eedULL
#define BUCKET_BITS 12 /* keys equal in the low 12 bits share a bucket of any
                          index of up to 4096 buckets (the index buckets by
                          the hash's low bits) */
#define FLOOD_KEYS 128

static char flood[FLOOD_KEYS][32];

/* FLOOD_KEYS keys whose seeded XXH3 (the index's hash of a plain key)
 * under FIXED_SEED all end in BUCKET_BITS zero bits. */
static void make_flood(void)
{
	const uint64_t mask = (1u << BUCKET_BITS) - 1;
	unsigned n = 0;

	for (unsigned long long i = 0; n < FLOOD_KEYS; i++) {
		char k[32];
		int len = snprintf(k, sizeof k, "flood:%llu", i);

		if ((XXH3_64bits_withSeed(k, (size_t)len, FIXED_SEED) & mask) == 0)
			memcpy(flood[n++], k, (size_t)len + 1);
	}
}

/* The most flood keys in one bucket under seed. */
static unsigned most_in_one_bucket(uint64_t seed)
{
	static unsigned count[1u << BUCKET_BITS];
	unsigned most = 0;

	memset(count, 0, sizeof count);
	for (unsigned i = 0; i < FLOOD_KEYS; i++) {
		uint64_t b = XXH3_64bits_withSeed(flood[i], strlen(flood[i]), seed) &
			     ((1u << BUCKET_BITS) - 1);

		if (++count[b] > most)
			most = count[b];
	}
	return most;
}

/* The seed the cache took, from the library's -vv line ("cache: index
 * hash seed N"), and how the server chose it ("hash seed: how"). */
static unsigned long long logged_seed(const struct srv *s, char *how, size_t cap)
{
	char path[256], line[512];
	unsigned long long seed = 0;
	bool have_seed = false;
	FILE *f;

	snprintf(path, sizeof path, "%s/log", s->dir);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	how[0] = '\0';
	while (fgets(line, sizeof line, f)) {
		const char *p = strstr(line, "cache: index hash seed ");
		const char *q = strstr(line, "info: hash seed: ");

		if (p && sscanf(p, "cache: index hash seed %llu", &seed) == 1)
			have_seed = true;
		if (q)
			snprintf(how, cap, "%.*s", (int)strcspn(q + 17, " \n"), q + 17);
	}
	fclose(f);
	ck_assert_msg(have_seed && how[0], "no hash seed lines in the log");
	return seed;
}

/* Every flood key stored and read back. */
static void flood_server(void)
{
	char req[128], want[128];

	for (unsigned i = 0; i < FLOOD_KEYS; i++) {
		snprintf(req, sizeof req, "set %.31s 0 0 1 noreply\r\nx\r\n", flood[i]);
		ck_assert(conn_sends(fd, req));
	}
	for (unsigned i = 0; i < FLOOD_KEYS; i++) {
		snprintf(req, sizeof req, "get %.31s\r\n", flood[i]);
		snprintf(want, sizeof want, "VALUE %.31s 0 1\r\nx\r\nEND\r\n", flood[i]);
		expect(req, want);
	}
}

START_TEST(test_fixed_seed_floods_one_bucket)
{
	static const char *const extra[] = { "--hash-seed", "24301", "-vv", NULL };
	char how[64];

	make_flood();
	/* the precondition: under the fixed seed they all share one bucket */
	ck_assert_uint_eq(most_in_one_bucket(FIXED_SEED), FLOOD_KEYS);
	up(extra);
	ck_assert_uint_eq(logged_seed(&S, how, sizeof how), FIXED_SEED);
	ck_assert_str_eq(how, "--hash-seed");
	flood_server(); /* served, however long the chain */
	down();
}
END_TEST

START_TEST(test_default_seed_spreads_them)
{
	static const char *const extra[] = { "-vv", NULL };
	unsigned long long seed[2];
	char how[64];
	struct srv other;

	make_flood();
	up(extra);
	seed[0] = logged_seed(&S, how, sizeof how);
	ck_assert_str_eq(how, "random");
	ck_assert_int_eq(srv_start(&other, extra), 0);
	seed[1] = logged_seed(&other, how, sizeof how);
	ck_assert_int_eq(srv_stop(&other), 0);
	/* per process: two starts, two seeds, neither the fixed one */
	ck_assert_uint_ne(seed[0], seed[1]);
	ck_assert_uint_ne(seed[0], FIXED_SEED);
	/* 128 keys over 4096 buckets: a bucket with 6 is a chance below
	 * 1e-6; under the fixed seed it was all 128 */
	ck_assert_uint_le(most_in_one_bucket(seed[0]), 5);
	ck_assert_uint_le(most_in_one_bucket(seed[1]), 5);
	flood_server();
	down();
}
END_TEST

/* ---- stats reset ------------------------------------------------------------ */

static long long stat_of(const char *name)
{
	ck_assert(conn_sends(fd, "stats\r\n"));
	{
		static char buf[16384];

		conn_recv_until(fd, buf, sizeof buf, "END\r\n", NULL);
		return stat_value(buf, name);
	}
}

START_TEST(test_stats_reset)
{
	up(NULL);
	expect("set a 0 0 1\r\nx\r\n", "STORED\r\n");
	expect("get a\r\n", "VALUE a 0 1\r\nx\r\nEND\r\n");
	expect("get b\r\n", "END\r\n");
	expect("delete a\r\n", "DELETED\r\n");
	expect("set c 0 0 1\r\ny\r\n", "STORED\r\n");
	ck_assert_int_eq(stat_of("cmd_get"), 2);
	ck_assert_int_eq(stat_of("get_hits"), 1);
	ck_assert_int_eq(stat_of("total_items"), 2);
	expect("stats reset\r\n", "RESET\r\n");
	ck_assert_int_eq(stat_of("cmd_get"), 0);
	ck_assert_int_eq(stat_of("cmd_set"), 0);
	ck_assert_int_eq(stat_of("get_hits"), 0);
	ck_assert_int_eq(stat_of("get_misses"), 0);
	ck_assert_int_eq(stat_of("delete_hits"), 0);
	ck_assert_int_eq(stat_of("total_items"), 0);
	ck_assert_int_eq(stat_of("curr_items"), 1);        /* a gauge */
	ck_assert_int_eq(stat_of("curr_connections"), 1);  /* a gauge */
	expect("get c\r\n", "VALUE c 0 1\r\ny\r\nEND\r\n");
	ck_assert_int_eq(stat_of("cmd_get"), 1);
	ck_assert_int_eq(stat_of("get_hits"), 1);
	down();
}
END_TEST

/* ---- run-time memory limit and mode ------------------------------------------------- */

static long long pool_stat(const char *name)
{
	static char buf[16384];

	ck_assert(conn_sends(fd, "stats pools\r\n"));
	conn_recv_until(fd, buf, sizeof buf, "END\r\n", NULL);
	return stat_value(buf, name);
}

/* cache_memlimit (memcached 1.6.18's replies) and split_mode. */
START_TEST(test_memlimit_and_mode)
{
	up(NULL); /* -m 64, both pools: split 0.5 */
	ck_assert_int_eq(stat_of("limit_maxbytes"), 32 << 20);
	expect("cache_memlimit 4\r\n", "MEMLIMIT_TOO_SMALL cannot set maxbytes to less than 8m\r\n");
	expect("cache_memlimit abc\r\n", "ERROR\r\n");
	expect("cache_memlimit\r\n", "ERROR\r\n");
	expect("cache_memlimit 100\r\n",
	       "SERVER_ERROR cache_memlimit above the budget reserved at start\r\n");
	expect("cache_memlimit 40 noreply\r\ncache_memlimit 32\r\n", "OK\r\n");
	ck_assert_int_eq(stat_of("limit_maxbytes"), 16 << 20);   /* half of 32 */
	ck_assert_int_eq(pool_stat("view:target_bytes"), 16 << 20);
	expect("split_mode indexer\r\n", "OK\r\n");
	ck_assert_int_eq(stat_of("limit_maxbytes"), 31 << 20);   /* 32 less the 1 MiB floor */
	ck_assert_ptr_nonnull(strstr(conn_ask(fd, "stats settings\r\n", "END\r\n"),
				     "STAT mode indexer\r\n"));
	expect("split_mode split 0.25\r\n", "OK\r\n");
	ck_assert_int_eq(pool_stat("view:target_bytes"), 8 << 20);
	expect("split_mode bogus\r\n", "CLIENT_ERROR bad command line format\r\n");
	expect("split_mode split 2\r\n", "CLIENT_ERROR bad command line format\r\n");
	expect("cache_memlimit 64\r\n", "OK\r\n"); /* back to the whole budget */
	ck_assert_int_eq(pool_stat("index:target_bytes"), 48 << 20);
	/* the memory behind bytes: the index's tables are part of it; the
	 * slabs' live bytes are within what they hold (0 without slabs) */
	expect("set a 0 0 1\r\nx\r\n", "STORED\r\n");
	ck_assert_int_gt(pool_stat("index:index_bytes"), 0);
	ck_assert_int_le(pool_stat("index:index_bytes"), pool_stat("index:bytes"));
	ck_assert_int_ge(pool_stat("index:slab_live_bytes"), 0);
	ck_assert_int_le(pool_stat("index:slab_live_bytes"), pool_stat("index:slab_inuse_bytes"));
	ck_assert_int_ge(pool_stat("index:arena_resident"), 0);
	ck_assert_int_ge(pool_stat("view:slab_held_bytes"), 0);
	down();
}
END_TEST

/* ---- -C, -F ------------------------------------------------------------------- */

/* memcached 1.6.18 -C, recorded on these lines. */
START_TEST(test_no_cas)
{
	static const char *const extra[] = { "-C", NULL };

	up(extra);
	expect("set a 0 0 1\r\nx\r\n", "STORED\r\n");
	expect("gets a\r\n", "VALUE a 0 1 0\r\nx\r\nEND\r\n");
	expect("cas a 0 0 1 5\r\ny\r\n", "EXISTS\r\n");
	expect("cas a 0 0 1 0\r\ny\r\n", "EXISTS\r\n");
	expect("cas nope 0 0 1 5\r\ny\r\n", "NOT_FOUND\r\n");
	expect("mg a c v\r\n", "VA 1 c0\r\nx\r\n");
	expect("ms a 1 c\r\nz\r\n", "HD c0\r\n");
	expect("ms a 1 C5\r\nz\r\n", "EX\r\n");
	expect("mg a c v\r\n", "VA 1 c0\r\nz\r\n");
	ck_assert_ptr_nonnull(strstr(conn_ask(fd, "stats settings\r\n", "END\r\n"),
				     "STAT cas_enabled no\r\n"));
	down();
}
END_TEST

/* -C keeps no cas in the entries themselves: an item costs what an item
 * with 8 bytes less of value costs with cas (the same size class, whatever
 * the allocator's classes are: 8-byte slab classes in the normal build,
 * jemalloc's 16-byte ones in the sanitizer builds), and less than the same
 * item with cas; items rewritten by incr or touch read cas 0 too. */
START_TEST(test_no_cas_entries)
{
	static const char *const with_c[] = { "-C", NULL };
	static const char *const without[] = { NULL };
	long long delta[2], shorter = 0;
	char req[160], req_short[160];

	memset(req, 0, sizeof req);
	snprintf(req, sizeof req, "set k32-0123456789abcdef0123456789ab 0 0 100\r\n%0100d\r\n", 7);
	snprintf(req_short, sizeof req_short,
		 "set k32-0123456789abcdef0123456789ac 0 0 92\r\n%092d\r\n", 7);
	for (int no_cas = 0; no_cas < 2; no_cas++) {
		long long before;

		up(no_cas ? with_c : without);
		before = stat_of("bytes");
		expect(req, "STORED\r\n");
		delta[no_cas] = stat_of("bytes") - before;
		if (no_cas) {
			expect("set n 0 0 1\r\n5\r\n", "STORED\r\n");
			expect("incr n 2\r\n", "7\r\n");
			expect("gets n\r\n", "VALUE n 0 1 0\r\n7\r\nEND\r\n");
			expect("gats 100 n\r\n", "VALUE n 0 1 0\r\n7\r\nEND\r\n");
			expect("gets n\r\n", "VALUE n 0 1 0\r\n7\r\nEND\r\n");
		} else {
			before = stat_of("bytes");
			expect(req_short, "STORED\r\n");
			shorter = stat_of("bytes") - before;
		}
		down();
	}
	ck_assert_int_gt(delta[1], 0);
	ck_assert_int_eq(delta[1], shorter);
	ck_assert_int_gt(delta[0], delta[1]);
	ck_assert_int_le(delta[0] - delta[1], 16);
}
END_TEST

START_TEST(test_no_flush_all)
{
	static const char *const extra[] = { "-F", NULL };

	up(extra);
	expect("set a 0 0 1\r\nx\r\n", "STORED\r\n");
	expect("flush_all\r\n", "CLIENT_ERROR flush_all not allowed\r\n");
	expect("flush_all noreply\r\nflush_all 0\r\n", "CLIENT_ERROR flush_all not allowed\r\n");
	expect("get a\r\n", "VALUE a 0 1\r\nx\r\nEND\r\n");
	down();
}
END_TEST

/* ---- -M ----------------------------------------------------------------------- */

/* Stores 100 KiB values until refused; returns how many were stored. */
static unsigned fill(unsigned most, bool *refused)
{
	static char req[128 + 102400];
	char line[256];
	unsigned i;

	*refused = false;
	for (i = 0; i < most; i++) {
		int n = snprintf(req, 128, "set big:%u 0 0 102400\r\n", i);

		memset(req + n, 'v', 102400);
		memcpy(req + n + 102400, "\r\n", 2);
		ck_assert(conn_send(fd, req, (size_t)n + 102402));
		conn_recv_until(fd, line, sizeof line, "\r\n", NULL);
		if (!strcmp(line, "SERVER_ERROR out of memory storing object\r\n")) {
			*refused = true;
			break;
		}
		ck_assert_str_eq(line, "STORED\r\n");
	}
	return i;
}

START_TEST(test_no_evictions)
{
	static const char *const extra[] = { "-M", "--view-listen", "none", NULL };
	char req[64];
	bool refused;
	unsigned stored;

	up(extra); /* -m 64, the whole budget in the index pool */
	stored = fill(2000, &refused); /* 200 MiB asked of 64 MiB */
	ck_assert_msg(refused, "-M: 2000 x 100 KiB into 64 MiB never refused");
	ck_assert_uint_gt(stored, 100);
	ck_assert_int_eq(stat_of("evictions"), 0);
	for (unsigned i = 0; i < stored; i++) { /* nothing was evicted for room */
		static char buf[110000];

		snprintf(req, sizeof req, "get big:%u\r\n", i);
		ck_assert(conn_sends(fd, req));
		conn_recv_until(fd, buf, sizeof buf, "END\r\n", NULL);
		ck_assert_msg(!strncmp(buf, "VALUE ", 6), "big:%u is gone under -M", i);
	}
	ck_assert_ptr_nonnull(strstr(conn_ask(fd, "stats settings\r\n", "END\r\n"),
				     "STAT evictions off\r\n"));
	down();
}
END_TEST

/* Without -M the same fill evicts and is never refused. The wait for
 * room is long: each store needs an eviction and a grace period, which
 * can take longer than the default 100 ms on a loaded sanitizer build. */
START_TEST(test_evictions_by_default)
{
	static const char *const extra[] = { "--view-listen", "none", "--full-wait-ms", "20000",
					     NULL };
	bool refused;

	up(extra);
	ck_assert_uint_eq(fill(1000, &refused), 1000);
	ck_assert(!refused);
	ck_assert_int_gt(stat_of("evictions"), 0);
	down();
}
END_TEST

/* ---- -Y ----------------------------------------------------------------------- */

/* memcached 1.6.18 -Y with the file "alice:secret\nbob:pw2\n", recorded. */
START_TEST(test_auth_file)
{
	char path[] = "/tmp/spc-auth-XXXXXX";
	const char *extra[] = { "-Y", path, NULL };
	int afd = mkstemp(path);

	ck_assert_int_ge(afd, 0);
	ck_assert_int_eq(write(afd, "alice:secret\nbob:pw2\n", 21), 21);
	close(afd);
	up(extra);
	unlink(path);
	expect("get a\r\n", "CLIENT_ERROR unauthenticated\r\n");
	expect("version\r\n", "CLIENT_ERROR unauthenticated\r\n");
	expect("set x 0 0 10\r\nalice nope\r\n", "CLIENT_ERROR authentication failure\r\n");
	expect("set x 0 0 13\r\nalice secretX\r\n", "CLIENT_ERROR authentication failure\r\n");
	expect("set x 0 0 6\r\nbob pw\r\n", "CLIENT_ERROR authentication failure\r\n");
	expect("set x 0 0 5\r\nalice\r\n", "CLIENT_ERROR bad authentication token format\r\n");
	expect("get a\r\n", "CLIENT_ERROR unauthenticated\r\n"); /* still not in */
	expect("set x 0 0 12 noreply\r\nalice secret\r\n", "STORED\r\n");
	expect("set a 0 0 1\r\nq\r\n", "STORED\r\n");
	expect("get a\r\n", "VALUE a 0 1\r\nq\r\nEND\r\n");
	{
		int other = conn_open(S.index_port); /* per connection */
		const char *r;

		ck_assert_int_ge(other, 0);
		r = conn_ask(other, "get a\r\n", "\r\n");
		ck_assert_str_eq(r, "CLIENT_ERROR unauthenticated\r\n");
		r = conn_ask(other, "set k 0 0 7\r\nbob pw2\r\n", "\r\n");
		ck_assert_str_eq(r, "STORED\r\n");
		r = conn_ask(other, "get a\r\n", "END\r\n");
		ck_assert_str_eq(r, "VALUE a 0 1\r\nq\r\nEND\r\n");
		close(other);
	}
	ck_assert_int_eq(stat_of("auth_cmds"), 6);
	ck_assert_int_eq(stat_of("auth_errors"), 4);
	down();
}
END_TEST

int main(void)
{
	const struct TTest *const tests[] = {
		test_fixed_seed_floods_one_bucket,
		test_default_seed_spreads_them,
		test_stats_reset,
		test_memlimit_and_mode,
		test_no_cas,
		test_no_cas_entries,
		test_no_flush_all,
		test_no_evictions,
		test_evictions_by_default,
		test_auth_file,
	};

	return harness_main("service_admin", tests, sizeof tests / sizeof tests[0]);
}
