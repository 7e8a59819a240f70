/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * mcload.c: a lean load generator for memcached-protocol servers, written
 * so that the client is not what a comparison of two servers measures.
 *
 * memcaslap (libmemcached-tools) spends about twice the CPU per request
 * that splitcached or memcached spend answering it; with client and
 * server pinned to one CPU each, the client saturates first and both
 * servers look alike. mcload does the least a load generator can: T
 * threads, each with its own epoll set over its share of N connections
 * (level-triggered: one read and one write per ready connection and
 * wake-up, no read to EAGAIN), every connection keeping a fixed number of
 * requests in flight (1: memcaslap's model; --depth pipelines), requests
 * built with memcpy from keys that are functions of their index, and
 * latencies in a log-linear histogram (bench/hist.c, 3 % resolution).
 * It still checks every reply byte for byte (mcload_conn.c): a wrong or
 * missing reply is counted, printed and makes the exit status 1.
 *
 * A run: preload every key (pipelined sets on one connection, each
 * STORED checked), connect all connections, start the threads; each
 * issues `depth` requests per connection and one more for every reply,
 * until the deadline (or SIGINT). Replies arriving after it are checked
 * but not counted; a request with no reply 2 s after the deadline is a
 * missing reply (an error). Memory is fixed at start: buffers per
 * connection sized from the configuration, one histogram per thread.
 */
#include "mcload.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MCL_PRELOAD_BATCH 256

/* SIGINT and SIGTERM: the threads stop issuing at their next wake-up */
atomic_int mcl_stop;

static void mcl_on_signal(int sig)
{
	(void)sig;
	/* relaxed: a flag polled by the loops; nothing is published with it */
	atomic_store_explicit(&mcl_stop, 1, memory_order_relaxed);
}

uint64_t mcl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
	fputs(
"NAME\n"
"    mcload - load generator for memcached-protocol servers\n"
"\n"
"SYNOPSIS\n"
"    mcload [OPTION]...\n"
"\n"
"DESCRIPTION\n"
"    Preloads KEYS keys, then runs a 90 % get / 10 % set load (by default)\n"
"    over N connections for a fixed time, each connection with DEPTH\n"
"    requests in flight, and checks every reply: a set must get STORED, a\n"
"    get VALUE lines for keys it asked for, in order, with the exact data\n"
"    written, then END. A key not found is a miss; any other reply, a\n"
"    closed connection or a reply missing 2 s after the end is an error,\n"
"    printed (the first 10) and counted; the connection is then closed.\n"
"\n"
"OPTIONS\n"
"    -s, --server HOST:PORT   server (127.0.0.1:11211)\n"
"    -c, --connections N      connections (32)\n"
"    -T, --threads T          threads, connections dealt round-robin (2)\n"
"    -d, --depth D            requests in flight per connection (1)\n"
"    -t, --duration S         seconds of load, decimals allowed (10)\n"
"    -k, --keys K             key space (100000)\n"
"    -g, --mget M             keys per get: get k1 ... kM (1)\n"
"    -r, --set-ratio R        share of sets, 0..1 (0.1)\n"
"        --key-size B         bytes per key, 8..250 (32)\n"
"        --value-size B       bytes per value, 1..1048576 (100)\n"
"        --no-preload         do not store the keys first\n"
"        --preload-only       store the keys, then exit\n"
"        --io MODE            auto (io_uring where the kernel allows it,\n"
"                             epoll otherwise), uring or epoll (auto)\n"
"    -h, --help               this text\n"
"\n"
"OUTPUT\n"
"    One \"NAME VALUE\" pair a line on stdout: io (the loop used),\n"
"    requests (replies checked before the deadline; a multi-get is one\n"
"    request), seconds, ops/s, gets, sets, hits, misses (keys), p50_us,\n"
"    p99_us, p999_us, max_us (write to reply, log-linear histogram,\n"
"    within 3.2 %), over_8ms_pct, errors, cpu_us_per_req (the client's\n"
"    own user + system time per request, getrusage).\n"
"\n"
"KEYS AND VALUES\n"
"    Key i is 'k' and i in decimal, zero-padded to the key size; its value\n"
"    starts with the key and is filled with one letter chosen by i, so\n"
"    every value read can be checked whoever wrote it.\n"
"\n"
"EXIT STATUS\n"
"    0 no error; 1 wrong or missing replies; 2 bad usage or no server.\n",
	      f);
}

static int parse_u(const char *s, unsigned long long lo, unsigned long long hi,
		   unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int connect_to(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "mcload: %s:%s: %s\n", host, port, gai_strerror(rc));
		return -1;
	}
	int fd = -1;
	for (struct addrinfo *a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		fprintf(stderr, "mcload: connect to %s:%s: %s\n", host, port, strerror(errno));
	freeaddrinfo(ai);
	if (fd >= 0) {
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Stores keys 0..keys-1 in batches, each reply checked. Returns 0 or -1. */
static int preload(const struct mcl_conf *cf, int fd)
{
	size_t one = 32 + cf->key_size + cf->value_size;
	/* a batch of at most 1 MiB (one set when values are larger) */
	uint64_t batch = (1u << 20) / one;
	batch = batch < 1 ? 1 : batch > MCL_PRELOAD_BATCH ? MCL_PRELOAD_BATCH : batch;
	char *buf = malloc(one * batch);
	char in[8 * MCL_PRELOAD_BATCH];
	if (!buf)
		return -1;
	int rc = 0;
	for (uint64_t i = 0; i < cf->keys && rc == 0; i += batch) {
		uint64_t n = cf->keys - i < batch ? cf->keys - i : batch;
		char *p = buf;
		for (uint64_t j = i; j < i + n; j++) {
			memcpy(p, "set ", 4);
			mcl_key(p + 4, cf->key_size, j);
			p += 4 + cf->key_size;
			p += sprintf(p, " 0 0 %u\r\n", cf->value_size);
			mcl_value(p, cf, j);
			p += cf->value_size;
			memcpy(p, "\r\n", 2);
			p += 2;
		}
		if (write_all(fd, buf, (size_t)(p - buf)) != 0) {
			fprintf(stderr, "mcload: preload: write: %s\n", strerror(errno));
			rc = -1;
			break;
		}
		size_t want = 8 * n, got = 0;
		while (got < want) {
			ssize_t r = read(fd, in + got, want - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				fprintf(stderr, "mcload: preload: connection closed\n");
				rc = -1;
				break;
			}
			got += (size_t)r;
		}
		for (size_t k = 0; rc == 0 && k < got; k += 8)
			if (memcmp(in + k, "STORED\r\n", 8) != 0) {
				fprintf(stderr, "mcload: preload: key %llu: \"%.*s\" instead of STORED\n",
					(unsigned long long)(i + k / 8), 8, in + k);
				rc = -1;
			}
		/* relaxed: see mcl_on_signal */
		if (atomic_load_explicit(&mcl_stop, memory_order_relaxed))
			rc = -1;
	}
	free(buf);
	return rc;
}

static void conn_drop(struct mcl_conn *c, unsigned *live)
{
	close(c->fd);
	c->fd = -1;
	(*live)--;
}

/* Writes what is pending; EPOLLOUT only while a write stays partial. */
static int conn_flush(int ep, struct mcl_conn *c)
{
	if (c->out_off == c->out_len)
		return 0;
	ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
	if (w < 0 && errno != EAGAIN && errno != EINTR)
		return -1;
	int was_partial = c->out_off != 0;
	if (w > 0)
		c->out_off += (size_t)w;
	int partial = c->out_off != c->out_len;
	if (partial != was_partial || (partial && w <= 0)) {
		struct epoll_event ev = { .events = EPOLLIN | (partial ? EPOLLOUT : 0), .data.ptr = c };
		epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
	}
	if (!partial)
		c->out_off = c->out_len = 0;
	else
		mcl_conn_compact_out(c);
	return 0;
}

/* conn_flush, and on a write error: reported, counted, the connection
 * dropped. Returns 0, or -1 when it was dropped. */
static int conn_flush_or_drop(int ep, struct mcl_conn *c, struct mcl_thread *t, unsigned *live)
{
	if (conn_flush(ep, c) == 0)
		return 0;
	fprintf(stderr, "mcload: connection %u: write: %s\n", c->id, strerror(errno));
	t->st.errors++;
	conn_drop(c, live);
	return -1;
}

void *mcl_run_epoll(void *arg)
{
	struct mcl_thread *t = arg;
	const struct mcl_conf *cf = t->cf;
	struct epoll_event evs[128];
	unsigned live = t->nconns;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		fprintf(stderr, "mcload: epoll_create1: %s\n", strerror(errno));
		t->st.errors++;
		return NULL;
	}
	uint64_t now = mcl_now_ns();
	for (unsigned i = 0; i < t->nconns; i++) {
		struct mcl_conn *c = &t->conns[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
		if (mcl_conn_refill(c, cf, &t->st, cf->depth, now) != 0) {
			conn_drop(c, &live);
			continue;
		}
		(void)conn_flush_or_drop(ep, c, t, &live);
	}
	int issuing = 1;
	uint64_t drain_end = 0;
	while (live) {
		if (mcl_run_over(t, now, &issuing, &drain_end))
			break;
		int n = epoll_wait(ep, evs, 128, 20);
		now = mcl_now_ns();
		for (int e = 0; e < n; e++) {
			struct mcl_conn *c = evs[e].data.ptr;
			if (c->fd < 0)
				continue;
			if (evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
				if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
					fprintf(stderr, "mcload: connection %u: %s with %u request(s) in flight\n",
						c->id, r == 0 ? "closed by the server" : strerror(errno),
						c->inflight);
					t->st.errors++;
					conn_drop(c, &live);
					continue;
				}
				if (r > 0) {
					c->in_len += (size_t)r;
					int k = mcl_conn_parse(c, cf, &t->st, now, issuing);
					if (k < 0 || (issuing && mcl_conn_refill(c, cf, &t->st,
										   (unsigned)k, now) != 0)) {
						conn_drop(c, &live);
						continue;
					}
				}
			}
			(void)conn_flush_or_drop(ep, c, t, &live);
		}
	}
	if (issuing)
		t->stop_ns = now < t->end_ns ? now : t->end_ns;
	mcl_count_missing(t);
	close(ep);
	return NULL;
}

int mcl_run_over(struct mcl_thread *t, uint64_t now, int *issuing, uint64_t *drain_end)
{
	int waiting = 0;

	/* relaxed: see mcl_on_signal */
	if (*issuing &&
	    (now >= t->end_ns || atomic_load_explicit(&mcl_stop, memory_order_relaxed))) {
		*issuing = 0;
		t->stop_ns = now < t->end_ns ? now : t->end_ns;
		*drain_end = now + MCL_DRAIN_NS;
	}
	if (*issuing)
		return 0;
	for (unsigned i = 0; i < t->nconns && !waiting; i++)
		waiting = t->conns[i].fd >= 0 && t->conns[i].inflight;
	return !waiting || now >= *drain_end;
}

void mcl_count_missing(struct mcl_thread *t)
{
	for (unsigned i = 0; i < t->nconns; i++) {
		struct mcl_conn *c = &t->conns[i];
		if (c->fd >= 0 && c->inflight) {
			fprintf(stderr, "mcload: connection %u: %u reply(ies) missing %.0f s after the end\n",
				c->id, c->inflight, MCL_DRAIN_NS / 1e9);
			t->st.errors += c->inflight;
		}
	}
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void report(const struct mcl_stats *s, double secs, double cpu)
{
	uint64_t over = 0;
	for (unsigned b = 0; b < BENCH_HIST_BUCKETS; b++)
		if (bench_hist_bucket_high(b) > 8192000)
			over += s->lat.buckets[b];
	printf("requests %llu\nseconds %.3f\nops/s %.0f\n", (unsigned long long)s->requests, secs,
	       secs > 0 ? s->requests / secs : 0.0);
	printf("gets %llu\nsets %llu\nhits %llu\nmisses %llu\n", (unsigned long long)s->gets,
	       (unsigned long long)s->sets, (unsigned long long)s->hits,
	       (unsigned long long)s->misses);
	printf("p50_us %.1f\np99_us %.1f\np999_us %.1f\nmax_us %.1f\n",
	       bench_hist_quantile(&s->lat, 0.50) / 1e3, bench_hist_quantile(&s->lat, 0.99) / 1e3,
	       bench_hist_quantile(&s->lat, 0.999) / 1e3, s->lat.max / 1e3);
	printf("over_8ms_pct %.3f\nerrors %llu\ncpu_us_per_req %.3f\n",
	       s->lat.count ? 100.0 * over / s->lat.count : 0.0, (unsigned long long)s->errors,
	       s->requests ? cpu * 1e6 / s->requests : 0.0);
}

int main(int argc, char **argv)
{
	struct mcl_conf cf = { .key_size = 32, .value_size = 100, .keys = 100000, .mget = 1,
			       .depth = 1, .set_per_mille = 100 };
	unsigned long long nconns = 32, nthreads = 2, v;
	double duration = 10;
	int do_preload = 1, preload_only = 0;
	char server[300] = "127.0.0.1:11211";
	enum { O_KEY = 256, O_VALUE, O_NOPRE, O_PREONLY, O_IO };
	void *(*loop)(void *) = mcl_run_epoll;
	const char *io = "auto";
	static const struct option opts[] = {
		{ "server", required_argument, 0, 's' }, { "connections", required_argument, 0, 'c' },
		{ "threads", required_argument, 0, 'T' }, { "depth", required_argument, 0, 'd' },
		{ "duration", required_argument, 0, 't' }, { "keys", required_argument, 0, 'k' },
		{ "mget", required_argument, 0, 'g' }, { "set-ratio", required_argument, 0, 'r' },
		{ "key-size", required_argument, 0, O_KEY },
		{ "value-size", required_argument, 0, O_VALUE },
		{ "no-preload", no_argument, 0, O_NOPRE }, { "preload-only", no_argument, 0, O_PREONLY },
		{ "io", required_argument, 0, O_IO }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	int o;
	while ((o = getopt_long(argc, argv, "s:c:T:d:t:k:g:r:h", opts, NULL)) != -1) {
		int bad = 0;
		char *end;
		switch (o) {
		case 's':
			bad = strlen(optarg) >= sizeof(server) || !strrchr(optarg, ':');
			if (!bad)
				strcpy(server, optarg);
			break;
		case 'c': bad = parse_u(optarg, 1, 100000, &nconns); break;
		case 'T': bad = parse_u(optarg, 1, 256, &nthreads); break;
		case 'd': bad = parse_u(optarg, 1, 4096, &v); cf.depth = (unsigned)v; break;
		case 'k': bad = parse_u(optarg, 1, UINT32_MAX, &v); cf.keys = v; break;
		case 'g': bad = parse_u(optarg, 1, 1000, &v); cf.mget = (unsigned)v; break;
		case O_KEY: bad = parse_u(optarg, 8, 250, &v); cf.key_size = (unsigned)v; break;
		case O_VALUE: bad = parse_u(optarg, 1, 1 << 20, &v); cf.value_size = (unsigned)v; break;
		case 't':
			duration = strtod(optarg, &end);
			bad = end == optarg || *end || !(duration > 0 && duration < 1e6);
			break;
		case 'r': {
			double r = strtod(optarg, &end);
			bad = end == optarg || *end || !(r >= 0 && r <= 1);
			cf.set_per_mille = (unsigned)(r * 1000 + 0.5);
			break;
		}
		case O_NOPRE: do_preload = 0; break;
		case O_PREONLY: preload_only = 1; break;
		case O_IO:
			bad = strcmp(optarg, "auto") && strcmp(optarg, "epoll") && strcmp(optarg, "uring");
			io = optarg;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
		if (bad) {
			fprintf(stderr, "mcload: bad value for -%c: %s\n", o < 256 ? o : '-', optarg);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mcload: unexpected argument: %s\n", argv[optind]);
		return 2;
	}
	/* key i needs its decimal digits in key_size - 1 places */
	double room = 1;
	for (unsigned i = 1; i < cf.key_size && room < 1e20; i++)
		room *= 10;
	if ((double)cf.keys > room) {
		fprintf(stderr, "mcload: %llu keys do not fit in %u-byte keys\n",
			(unsigned long long)cf.keys, cf.key_size);
		return 2;
	}
	if (nthreads > nconns)
		nthreads = nconns;
	const char *io_used = "epoll";
#ifdef MCL_HAVE_URING
	if (strcmp(io, "epoll") != 0 && mcl_uring_available()) {
		loop = mcl_run_uring;
		io_used = "uring";
	}
#endif
	if (strcmp(io, "uring") == 0 && strcmp(io_used, "uring") != 0) {
		fprintf(stderr, "mcload: --io uring: io_uring is not available here\n");
		return 2;
	}
	char *colon = strrchr(server, ':');
	*colon = '\0';
	const char *host = server, *port = colon + 1;

	struct sigaction sa = { .sa_handler = mcl_on_signal };
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (do_preload || preload_only) {
		int fd = connect_to(host, port);
		if (fd < 0)
			return 2;
		int rc = preload(&cf, fd);
		close(fd);
		if (rc != 0)
			return 1;
		if (preload_only)
			return 0;
	}

	int status = 2;
	struct mcl_conn *conns = calloc(nconns, sizeof(*conns));
	struct mcl_thread *th = calloc(nthreads, sizeof(*th));
	unsigned made = 0;
	if (!conns || !th) {
		fprintf(stderr, "mcload: out of memory\n");
		goto out;
	}
	/* connections of thread i are i, i + T, ...: gathered per thread */
	for (unsigned i = 0; i < nthreads; i++) {
		th[i].cf = &cf;
		th[i].conns = conns + made;
		for (unsigned long long j = i; j < nconns; j += nthreads, made++) {
			int fd = connect_to(host, port);
			if (fd < 0)
				goto out;
			if (mcl_conn_init(&conns[made], &cf, fd, (unsigned)j, 0x9E3779B97F4A7C15ULL * (j + 1)) != 0) {
				close(fd);
				fprintf(stderr, "mcload: out of memory\n");
				goto out;
			}
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			th[i].nconns++;
		}
		bench_hist_init(&th[i].st.lat);
	}

	double cpu0 = cpu_s();
	uint64_t t0 = mcl_now_ns(), end = t0 + (uint64_t)(duration * 1e9);
	unsigned started = 0;
	for (; started < nthreads; started++) {
		th[started].end_ns = end;
		if (pthread_create(&th[started].tid, NULL, loop, &th[started]) != 0) {
			fprintf(stderr, "mcload: pthread_create failed\n");
			mcl_on_signal(0);
			break;
		}
	}
	struct mcl_stats all = { 0 };
	bench_hist_init(&all.lat);
	uint64_t stop = t0;
	for (unsigned i = 0; i < started; i++) {
		pthread_join(th[i].tid, NULL);
		struct mcl_stats *s = &th[i].st;
		all.requests += s->requests;
		all.gets += s->gets;
		all.sets += s->sets;
		all.hits += s->hits;
		all.misses += s->misses;
		all.errors += s->errors;
		bench_hist_merge(&all.lat, &s->lat);
		if (th[i].stop_ns > stop)
			stop = th[i].stop_ns;
	}
	double cpu = cpu_s() - cpu0;
	printf("io %s\n", io_used);
	report(&all, (stop - t0) / 1e9, cpu);
	status = all.errors || started < nthreads ? 1 : 0;
out:
	for (unsigned i = 0; i < made; i++)
		mcl_conn_fini(&conns[i]);
	free(conns);
	free(th);
	return status;
}
