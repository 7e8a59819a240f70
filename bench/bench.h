/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench.h: the internal interfaces of splitcache-bench.
 *
 * The harness is split in modules that the unit tests link one by one:
 *   hist.c      log-linear latency histogram
 *   keygen.c    16-byte keys, scrambled Zipf and uniform generators
 *   trace.c     trace readers (gzip, xz, zstd; every format of the traces README)
 *   lru.c       exact LRU (hash map + list): mutex-lru peer and lru-exact replay
 *   opt.c       Belady's MIN, offline: the opt replay reference
 *   classic.c   ARC, FRC, 2Q and LRU-2: published policies as replay references
 *   lrfu.c      LRFU (combined recency and frequency): a replay reference
 *   tuned.c     their parameters, and the offline tuning over grids (tuned.h)
 *   systems.c   the system vtable and the registry of systems
 *   sys_*.c     one adapter per system (splitcache, lfht-bare, mutex-lru, rocksdb)
 *   report.c    result rows, table, JSON, gnuplot
 *   runner.c    threads, pinning, stop flag, machine description, RSS
 *   sc_*.c      scenarios
 *   main.c      options and dispatch
 * All state hangs off explicit handles: nothing but main() owns globals.
 */
#ifndef SPC_BENCH_H
#define SPC_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_KEY_LEN 16
#define BENCH_MAX_THREADS 64
#define BENCH_MAX_LIST 32
#define BENCH_MAX_ROUNDS 64 /* --rounds */

/* ---- histogram (hist.c) ---------------------------------------------- */

/* Log-linear buckets: values below 2^BENCH_HIST_SUB are exact; above, each
 * power of two is cut in 2^BENCH_HIST_SUB equal sub-buckets, so the relative
 * error of a reported percentile is below 1/2^BENCH_HIST_SUB (3.2 %). */
#define BENCH_HIST_SUB 5
#define BENCH_HIST_BUCKETS ((64 - BENCH_HIST_SUB + 1) << BENCH_HIST_SUB)

struct bench_hist {
	uint64_t count;
	uint64_t max;
	uint64_t min;
	uint64_t buckets[BENCH_HIST_BUCKETS];
};

void bench_hist_init(struct bench_hist *h);
/* Adds one value. Context: the owning thread only (not atomic). */
void bench_hist_add(struct bench_hist *h, uint64_t v);
/* dst += src. */
void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src);
/* The q-quantile (0 <= q <= 1): the upper bound of the bucket holding the
 * ceil(q*count)-th smallest value, clamped to max; 0 when empty. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);
/* Bucket index of a value and the largest value of a bucket. */
unsigned bench_hist_bucket(uint64_t v);
uint64_t bench_hist_bucket_high(unsigned b);

/* ---- keys (keygen.c) --------------------------------------------------- */

/* A 64-bit mixer (bijective): scrambles ranks and ids into keys. */
static inline uint64_t bench_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

/* The 16-byte key of an integer id. The first half is a bijective mix of
 * the id (distinct ids give distinct keys); the second half mixes it
 * again, so every byte looks random: RocksDB's HyperClockCache (7.8) takes
 * 16-byte keys and uses their bits as its hash, and clusters badly on
 * keys with low-entropy halves. */
static inline void bench_key_of(uint64_t id, unsigned char out[BENCH_KEY_LEN])
{
	uint64_t a = bench_mix64(id ^ 0x5bd1e9955bd1e995ULL);
	uint64_t b = bench_mix64(a + 0x9e3779b97f4a7c15ULL);
	for (int i = 0; i < 8; i++) {
		out[i] = (unsigned char)(a >> (8 * i));
		out[8 + i] = (unsigned char)(b >> (8 * i));
	}
}

/* xoshiro256** pseudo-random generator; seeded through splitmix64. */
struct bench_rng {
	uint64_t s[4];
};
void bench_rng_seed(struct bench_rng *r, uint64_t seed);
uint64_t bench_rng_next(struct bench_rng *r);
/* Uniform double in [0, 1). */
double bench_rng_double(struct bench_rng *r);
/* Uniform integer in [0, n), n > 0 (unbiased). */
uint64_t bench_rng_below(struct bench_rng *r, uint64_t n);

/* Zipf over ranks [0, n) with constant theta (YCSB's ZipfianGenerator,
 * Gray et al., "Quickly generating billion-record synthetic databases"). */
struct bench_zipf {
	uint64_t n;
	double theta, alpha, zetan, eta, half_pow_theta;
};
/* Computes zeta(n, theta): O(n) once. Returns 0, or -1 for n == 0 or
 * theta outside (0, 1). */
int bench_zipf_init(struct bench_zipf *z, uint64_t n, double theta);
/* A rank: 0 is the most frequent. */
uint64_t bench_zipf_rank(const struct bench_zipf *z, struct bench_rng *r);
/* A scrambled-Zipf item in [0, n): the rank hashed onto the item space
 * (YCSB's ScrambledZipfianGenerator idea: popular items are spread). */
uint64_t bench_zipf_scrambled(const struct bench_zipf *z, struct bench_rng *r);
/* The theoretical probability of rank k. */
double bench_zipf_prob(const struct bench_zipf *z, uint64_t k);

enum bench_dist { BENCH_DIST_ZIPF = 0, BENCH_DIST_UNIFORM = 1 };
/* Fills ids[0..count) with item ids in [0, n) drawn from dist (Zipf uses
 * theta 0.99, scrambled), then adds base to each. Returns 0 or -1. */
int bench_fill_ids(uint64_t *ids, size_t count, enum bench_dist dist, uint64_t n,
                   uint64_t base, uint64_t seed);

/* ---- traces (trace.c) -------------------------------------------------- */

enum bench_trace_format {
	BENCH_FMT_LIRS, BENCH_FMT_ARC, BENCH_FMT_U32BE, BENCH_FMT_U64BE,
	BENCH_FMT_ADDRESS, BENCH_FMT_ADAPTSIZE, BENCH_FMT_COUNT
};
/* Parses a format name: lirs, arc, cache2k, cloudphysics, corda, scarab,
 * address, adaptsize (also u32be, u64be). Returns 0 or -1. */
int bench_trace_format_parse(const char *name, enum bench_trace_format *out);
/* Guesses the format from the file name (the traces README's names). */
int bench_trace_format_guess(const char *path, enum bench_trace_format *out);
const char *bench_trace_format_name(enum bench_trace_format f);

struct bench_trace_req {
	uint64_t key;
	uint32_t size; /* bytes when the format has them, else 1 */
};
struct bench_trace {
	struct bench_trace_req *reqs;
	size_t n;
	size_t distinct;
	uint64_t total_bytes;
};
/* Reads a whole trace (compression chosen by the file's magic bytes:
 * gzip, xz, zstd or plain). Returns 0, or -1 with a message in err. */
int bench_trace_load(const char *path, enum bench_trace_format fmt, struct bench_trace *out,
                     char *err, size_t errcap);
void bench_trace_free(struct bench_trace *t);
/* Counts distinct keys of t (sets t->distinct) and returns it. */
size_t bench_trace_count_distinct(struct bench_trace *t);

/* ---- Belady's MIN (opt.c) ---------------------------------------------- */

/* Hits of Belady's MIN on t with a cache of `size` entries, demand paging
 * (every miss inserts; the victim is the resident key requested farthest
 * in the future). Returns 0, or -1 when out of memory, size is 0 or the
 * trace has 2^32 requests or more. */
int bench_opt_hits(const struct bench_trace *t, uint64_t size, uint64_t *hits);

/* ---- ARC, 2Q, LRU-2 (classic.c) ----------------------------------------- */

/* Hits of a published policy on t with a cache of `size` entries, demand
 * paging: policy "arc", "2q" or "lru2" (classic.c says which variant).
 * Returns 0, or -1 when the policy is none of these, out of memory, size
 * is 0 or the trace has 2^32 requests or more. */
int bench_classic_hits(const struct bench_trace *t, const char *policy, uint64_t size,
                       uint64_t *hits);

/* ---- exact LRU (lru.c) ------------------------------------------------- */

struct bench_lru;
/* An exact LRU bounded by entries (max_entries > 0) and/or charged bytes
 * (max_bytes > 0; charge = key + value + per-entry overhead). Not
 * thread-safe: the mutex-lru peer puts a lock around it. */
struct bench_lru *bench_lru_new(uint64_t max_entries, uint64_t max_bytes);
void bench_lru_free(struct bench_lru *l);
/* Lookup; a hit moves the entry to the front. Copies up to cap bytes
 * of the value into buf (buf may be NULL). Returns 1 hit, 0 miss. */
int bench_lru_get(struct bench_lru *l, const void *key, size_t klen, void *buf, size_t cap,
                  size_t *vlen);
/* Insert or replace at the front, evicting from the back as needed.
 * Returns 0, or -1 when out of memory. */
int bench_lru_set(struct bench_lru *l, const void *key, size_t klen, const void *val,
                  size_t vlen);
int bench_lru_del(struct bench_lru *l, const void *key, size_t klen);
struct bench_lru_stats {
	uint64_t items, charged_bytes, evictions, inserts;
};
void bench_lru_stats(const struct bench_lru *l, struct bench_lru_stats *out);
/* Bytes the LRU charges per entry on top of key and value. */
size_t bench_lru_entry_overhead(void);

/* ---- systems (systems.c, sys_*.c) -------------------------------------- */

struct bench_sys_params {
	uint64_t budget_bytes;   /* whole budget */
	double view_share;       /* splitcache split mode */
	uint64_t max_entries;    /* > 0: bound in entries (replay, splitcache index pool) */
	size_t value_len_hint;   /* typical value size (RocksDB HCC's estimate) */
	int synchronous;         /* splitcache: synchronous maintenance */
	int split;               /* splitcache: 1 split mode (both pools), 0 view
	                            mode (the view pool is the whole cache) */
	int policy;              /* splitcache: enum spc_policy + 1; 0: the cache's default */
	double index_max_load;   /* splitcache: entries per index bucket (0: default) */
	uint64_t entries_hint;   /* > 0: entries the scenario will store (lfht-bare sizes
	                            its table for them) */
};

struct bench_sys_stats {
	int has_evictions, has_charged;
	uint64_t evictions, charged_bytes, target_bytes, items;
};

/* A system under test. get/set/del may be called from any registered
 * thread; thread_enter/thread_exit bracket every thread that uses it
 * (liburcu registration for lfht-bare). Pools: splitcache uses
 * SPC_POOL_INDEX (0) and SPC_POOL_VIEW (1); peers ignore the pool
 * (one cache holding both key sets). get returns 1 hit, 0 miss. */
struct bench_sys {
	const char *name;
	const char *what;
	int (*available)(char *why, size_t cap);
	int (*open)(const struct bench_sys_params *p, void **out);
	void (*close)(void *h);
	void (*thread_enter)(void *h);
	void (*thread_exit)(void *h);
	int (*get)(void *h, int pool, const void *key, size_t klen, void *buf, size_t cap);
	int (*set)(void *h, int pool, const void *key, size_t klen, const void *val, size_t vlen);
	int (*del)(void *h, int pool, const void *key, size_t klen);
	/* pool -1: whole system. Returns 0 or -1 (no statistics). */
	int (*stats)(void *h, int pool, struct bench_sys_stats *out);
	/* Optional (NULL: the bench pauses BENCH_SETTLE_PAUSE_S instead, and
	 * the row's settled is null). Waits until the background work the
	 * system started by itself (an index resize, reclamation) is over,
	 * at most max_s seconds. Returns 1 settled, 0 the bound ran out.
	 * Context: the driver thread, between a load and a measurement. */
	int (*settle)(void *h, double max_s);
};

extern const struct bench_sys bench_sys_splitcache;
extern const struct bench_sys bench_sys_splitcache_clock;
extern const struct bench_sys bench_sys_splitcache_s3fifo;
extern const struct bench_sys bench_sys_splitcache_nocas;
/* splitcache's policies by name ("s3fifo", "clock", "steered"; "default" is
 * the cache's default): sets *policy to enum spc_policy + 1 as
 * bench_sys_params.policy takes it. Returns 0, or -1 for an unknown name. */
int bench_splitcache_policy(const char *name, int *policy);
/* The name of the policy a splitcache system opened with params.policy
 * (0: the cache's default) runs. */
const char *bench_splitcache_policy_name(int policy);
/* Whether a pool's spc_stats index_bytes is that of one index table,
 * 64 x (1 + 2^k), so no resize is in flight and no retired table awaits
 * its grace period (sys_splitcache.c says why two tables never look so);
 * 0 (the lfht build) counts as one. */
int bench_splitcache_one_table(uint64_t index_bytes);
extern const struct bench_sys bench_sys_mutex_lru;
extern const struct bench_sys bench_sys_lfht_bare;
extern const struct bench_sys bench_sys_lfht_dense;
extern const struct bench_sys bench_sys_index_bare;
extern const struct bench_sys bench_sys_rocksdb_lru;
extern const struct bench_sys bench_sys_rocksdb_hcc;
extern const struct bench_sys bench_sys_rocksdb_hcc_full;

/* Every system compiled in, in table order; NULL-terminated. */
const struct bench_sys *const *bench_systems_all(void);
const struct bench_sys *bench_system_find(const char *name);

/* ---- results and reports (report.c) ------------------------------------ */

/* A nullable number: has == 0 prints null in JSON and "-" in tables. */
struct bench_num {
	int has;
	double v;
};
#define BENCH_NUM(x) ((struct bench_num){1, (double)(x)})

struct bench_row {
	char system[32];
	char phase[8];
	char policy[16];
	char trace[128];
	int threads;
	struct bench_num ops_per_sec, p50_ns, p99_ns, p999_ns, max_ns;
	struct bench_num inserts_per_sec, evictions_per_sec, max_overshoot_bytes;
	struct bench_num rss_bytes, budget_bytes, hit_ratio, size;
	struct bench_num bytes_per_entry_overhead, rss_bytes_per_entry_overhead;
	struct bench_num hits, requests;
	/* CPU of the whole process (every thread: the system's background
	 * threads, kernel time included) per operation or per insert; see
	 * docs/bench-format.md */
	struct bench_num cpu_ns_per_op, cpu_ns_per_insert, bg_cpu_ns_per_insert;
	/* bench_settle before the row's figures: seconds waited, and 1 / 0
	 * (the system said it settled / the bound ran out), null for a
	 * system without a settle callback (fixed pause) */
	struct bench_num settle_s, settled;
	/* --rounds N > 1: the ops/s of each round in order (ops_per_sec is
	 * their median); n_rounds 0 otherwise */
	int n_rounds;
	double round_ops[BENCH_MAX_ROUNDS];
	/* view-during-index phase B with --rounds N > 1: the inserts/s of each
	 * round (inserts_per_sec is their median); n_ins_rounds 0 otherwise */
	int n_ins_rounds;
	double round_ins[BENCH_MAX_ROUNDS];
	/* latency CDF for plots: copy of the reader histogram when present */
	struct bench_hist *lat;
};

struct bench_report {
	const char *scenario;
	char *params_json; /* the object's inside, without braces (heap; NULL: none yet) */
	size_t params_len, params_cap;
	struct bench_row *rows;
	size_t n, cap;
};

void bench_report_init(struct bench_report *r, const char *scenario);
void bench_report_free(struct bench_report *r);
/* Appends a row with every number null; returns it (NULL: out of memory). */
struct bench_row *bench_report_add(struct bench_report *r, const char *system);
/* Appends `"key": value` to params_json (value is JSON already). The
 * string grows as needed, so no list of parameters is ever cut short; out
 * of memory drops that one parameter and the file still parses. */
void bench_report_param(struct bench_report *r, const char *key, const char *json_value);
struct bench_opts;
/* The parameters every timed scenario reports: duration_s, index_max_load
 * and threads, in that order. */
void bench_report_timed_params(struct bench_report *r, const struct bench_opts *o);
/* The median of the n values of v that are >= 0 (a figure a slice could not
 * give is recorded as -1); null when there is none. */
struct bench_num bench_median(const double *v, int n);
/* Writes the JSON result file (docs/bench-format.md). Returns 0 or -1. */
int bench_report_json(const struct bench_report *r, FILE *out);
int bench_report_json_file(const struct bench_report *r, const char *path);
/* Prints the table for the scenario on out. */
void bench_report_table(const struct bench_report *r, FILE *out);
/* Draws a PNG with gnuplot (when installed). Returns 0, or -1 (message on
 * stderr). */
int bench_report_plot(const struct bench_report *r, const char *png);

/* ---- runner (runner.c) ------------------------------------------------- */

struct bench_opts {
	double duration_s;
	int threads[BENCH_MAX_LIST];
	int n_threads;
	uint64_t seed;
	const struct bench_sys *systems[BENCH_MAX_LIST];
	int n_systems;
	const char *json_path, *plot_path;
	int progress, pin;
	uint64_t budget_bytes;
	double index_max_load;   /* --index-load: splitcache's index_max_load (0: default) */
	uint64_t keys;           /* --keys: read-scaling / mixed key space (0: default) */
	int rounds;              /* --rounds: read-scaling, mixed, view-during-index,
	                            interleaved (<= 1: one pass) */
	/* replay */
	const char *traces[BENCH_MAX_LIST];
	int n_traces;
	int have_format;
	enum bench_trace_format format;
	uint64_t sizes[BENCH_MAX_LIST];
	int n_sizes;
	double size_pcts[BENCH_MAX_LIST]; /* sizes given as N% of distinct keys */
	int n_size_pcts;
	const char *policies[BENCH_MAX_LIST];
	int n_policies;
	int unit_bytes;
	/* memory */
	uint64_t entries;
	int indexers;
	double view_share;
};

uint64_t bench_now_ns(void);
/* CPU time (user + system) of the whole process, every thread that ever
 * ran in it included, in ns (CLOCK_PROCESS_CPUTIME_ID). */
uint64_t bench_process_cpu_ns(void);
/* CPU time of the calling thread in ns (CLOCK_THREAD_CPUTIME_ID). */
uint64_t bench_thread_cpu_ns(void);
/* The fixed pause after a load for systems without a settle callback,
 * and the bound on a settle callback's wait. */
#define BENCH_SETTLE_PAUSE_S 0.5
#define BENCH_SETTLE_MAX_S 60.0
/* After a load, before figures are read: sys->settle bounded by
 * BENCH_SETTLE_MAX_S, or the fixed pause. Sets out->settle_s (seconds
 * waited) and out->settled (null for the fixed pause); out may be a
 * scratch row copied into each row the measurement adds. */
void bench_settle(const struct bench_sys *sys, void *h, struct bench_row *out);
/* Pins the calling thread to cpu % nproc. Returns 0 or -1. */
int bench_pin_self(int cpu);
int bench_nproc(void);
/* Resident set size of this process from /proc/self/statm (0 on error). */
uint64_t bench_rss_bytes(void);
/* Writes `"cpus": .., "kernel": .., "compiler": .., ...` (no braces). */
void bench_machine_json(char *buf, size_t cap);
/* Progress line on stderr when enabled. */
void bench_progress(const struct bench_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Runs fn(arg_i) on n threads, arg_i = (char *)args + i * stride; joins. */
int bench_run_threads(int n, void *(*fn)(void *), void *args, size_t stride);
/* Parses "1,2,4" or "1-4" into out (at most max). Returns count or -1. */
int bench_parse_int_list(const char *s, int *out, int max);
/* Appends a JSON string literal of s to buf. */
void bench_json_str(char *buf, size_t cap, const char *s);
/* A JSON array of n strings, whole however long (heap; free() it).
 * Returns NULL when out of memory. */
char *bench_json_str_list(const char *const *items, int n);

/* ---- scenarios --------------------------------------------------------- */

int bench_scenario_read_scaling(const struct bench_opts *o, struct bench_report *r);
int bench_scenario_mixed(const struct bench_opts *o, struct bench_report *r);
int bench_scenario_view_during_index(const struct bench_opts *o, struct bench_report *r);
int bench_scenario_replay(const struct bench_opts *o, struct bench_report *r);
int bench_scenario_memory(const struct bench_opts *o, struct bench_report *r);

/* Replays one trace through one policy at one size; fills hits.
 * policy: "lru-exact", "opt", "arc", "2q", "lru2", the parameterised
 * and tuned forms of tuned.h (frc, 2q, lru2, lrfu with :PARAMS or :tune;
 * all but lru-exact in entries only), "default", "steered", "s3fifo",
 * "clock". unit_bytes: size in bytes.
 * Returns 0, -1 (policy unknown or unavailable; why in err). */
int bench_replay_one(const struct bench_trace *t, const char *policy, uint64_t size,
                     int unit_bytes, uint64_t *hits, char *err, size_t errcap);

#endif /* SPC_BENCH_H */
