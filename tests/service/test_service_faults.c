/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The real splitcached under bad input, load and faults:
 *  - every case of memcached's recorded corpus (malformed lengths, numbers,
 *    251-byte keys, control bytes, missing \r\n, long lines, binary
 *    garbage, HTTP request lines) sent end to end: memcached 1.6.18's
 *    exact bytes and close, while another client keeps being served;
 *  - 1,000 concurrent connections;
 *  - a client that stops reading: closed at the output cap, the server's
 *    memory stays bounded, the others are served;
 *  - max connections: "ERROR Too many open connections" and close;
 *  - a pool full: SERVER_ERROR out of memory storing object, nothing else
 *    lost; idle timeout; SIGTERM under load: exit 0.
 */
#include <check.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#include "unit/proto/corpus_case.h"
#include "unit/proto/memcached_corpus.h"

#define NCASES (sizeof corpus / sizeof corpus[0])

static struct srv S;

static void up(const char *const *extra)
{
	ck_assert_int_eq(srv_start(&S, extra), 0);
}

static void down(void)
{
	ck_assert_int_eq(srv_stop(&S), 0);
}

static void assert_served(int port)
{
	int fd = conn_open(port);

	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(conn_ask(fd, "set alive 0 0 2\r\nok\r\nget alive\r\n", "END\r\n"),
			 "STORED\r\nVALUE alive 0 2\r\nok\r\nEND\r\n");
	close(fd);
}

/* Every corpus case through the server, each on its own connection after
 * a flush (memcached recorded each on an empty cache). A case memcached
 * closed must be closed by the server on its own; for the others the
 * client half-closes and reads everything the server sends before it
 * closes in turn. A bystander connection is served throughout. */
START_TEST(test_memcached_corpus_end_to_end)
{
	static const char *const extra[] = { "-I", "1k", NULL };
	static char got[1 << 17];
	int ctl, by;
	size_t i;

	ck_assert_int_eq(SPC_PROTO_CORPUS_ITEM_MAX, 1024);
	up(extra);
	ctl = conn_open(S.index_port);
	by = conn_open(S.view_port); /* flush_all on the index pool spares it */
	ck_assert_int_ge(ctl, 0);
	ck_assert_int_ge(by, 0);
	ck_assert_str_eq(conn_ask(by, "set by 0 0 1\r\nb\r\n", "\r\n"), "STORED\r\n");
	for (i = 0; i < NCASES; i++) {
		const struct corpus_case *c = &corpus[i];
		bool eof;
		size_t n;
		int fd;

		ck_assert_str_eq(conn_ask(ctl, "flush_all\r\n", "\r\n"), "OK\r\n");
		fd = conn_open(S.index_port);
		ck_assert_int_ge(fd, 0);
		ck_assert(conn_send(fd, c->in, c->in_len));
		if (!c->closed)
			shutdown(fd, SHUT_WR);
		n = conn_recv_until(fd, got, sizeof got, NULL, &eof);
		ck_assert_msg(eof, "%s: the server did not close", c->name);
		ck_assert_msg(n == c->out_len && memcmp(got, c->out, n) == 0,
			      "%s: got \"%.*s\", memcached said \"%.*s\"", c->name, (int)n, got,
			      (int)c->out_len, c->out);
		close(fd);
		if (i % 16 == 0)
			ck_assert_str_eq(conn_ask(by, "get by\r\n", "END\r\n"),
					 "VALUE by 0 1\r\nb\r\nEND\r\n");
	}
	close(ctl);
	close(by);
	assert_served(S.index_port);
	down();
}
END_TEST

/* The binary protocol is not spoken: the connection is closed. */
START_TEST(test_binary_closed)
{
	static const char bin[] = "\x80\x01\x00\x03\x00\x00\x00\x00";
	int fd;

	up(NULL);
	fd = conn_open(S.index_port);
	ck_assert(conn_send(fd, bin, sizeof bin - 1));
	ck_assert(conn_wait_eof(fd, HARNESS_TIMEOUT_MS));
	close(fd);
	assert_served(S.index_port);
	down();
}
END_TEST

static void raise_nofile(rlim_t want)
{
	struct rlimit rl;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
		ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	ck_assert_msg(rl.rlim_cur >= want, "RLIMIT_NOFILE %llu < %llu",
		      (unsigned long long)rl.rlim_cur, (unsigned long long)want);
}

START_TEST(test_thousand_connections)
{
	static const char *const extra[] = { "-c", "1100", NULL };
	const unsigned n = 1000;
	int *fds = calloc(n, sizeof *fds);
	char req[128], want[128];
	const char *r;
	unsigned i;
	int fd;

	ck_assert_ptr_nonnull(fds);
	raise_nofile(2 * n + 64); /* the server inherits the limit */
	up(extra);
	for (i = 0; i < n; i++) {
		fds[i] = conn_open(i % 2 ? S.view_port : S.index_port);
		ck_assert_msg(fds[i] >= 0, "connection %u", i);
	}
	for (i = 0; i < n; i++) {
		snprintf(req, sizeof req, "set c%u 0 0 %zu\r\n%u\r\n", i,
			 (size_t)snprintf(NULL, 0, "%u", i), i);
		ck_assert(conn_sends(fds[i], req));
	}
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(conn_ask(fds[i], "", "\r\n"), "STORED\r\n");
		snprintf(req, sizeof req, "get c%u\r\n", i);
		snprintf(want, sizeof want, "VALUE c%u 0 %zu\r\n%u\r\nEND\r\n", i,
			 (size_t)snprintf(NULL, 0, "%u", i), i);
		ck_assert_str_eq(conn_ask(fds[i], req, "END\r\n"), want);
	}
	fd = conn_open(S.index_port);
	r = conn_ask(fd, "stats\r\n", "END\r\n");
	ck_assert_int_eq(stat_value(r, "curr_connections"), n + 1);
	ck_assert_int_eq(stat_value(r, "curr_items"), n / 2);
	close(fd);
	for (i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	down();
}
END_TEST

static long long rss_kib(pid_t pid)
{
	char path[64], line[256];
	long long kib = -1;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %lld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* A client pipelines gets of a large value and never reads: once its
 * pending output passes --max-output the server closes it; its memory
 * stays bounded and the other clients are served. */
START_TEST(test_client_stops_reading)
{
	static const char *const extra[] = { "--max-output", "2m", NULL };
	const unsigned vlen = 400000, gets = harness_scale(400, 100);
	char *val = malloc(vlen), *req;
	long long rss_before, rss_after;
	int fd, rcvbuf = 4096, i;
	const char *r;
	size_t rl = 0;
	bool closed = false;

	ck_assert_ptr_nonnull(val);
	up(extra);
	fd = conn_open(S.index_port);
	memset(val, 'v', vlen);
	ck_assert(conn_sends(fd, "set big 0 0 400000\r\n"));
	ck_assert(conn_send(fd, val, vlen));
	ck_assert_str_eq(conn_ask(fd, "\r\n", "\r\n"), "STORED\r\n");
	close(fd);
	rss_before = rss_kib(S.pid);

	fd = conn_open(S.index_port);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	req = malloc(16 * gets);
	ck_assert_ptr_nonnull(req);
	for (i = 0; i < (int)gets; i++)
		rl += (size_t)snprintf(req + rl, 16, "get big\r\n");
	/* May fail part-way once the server closes: that is the point. */
	(void)conn_send(fd, req, rl);
	for (i = 0; i < 100 && !closed; i++) {
		int probe = conn_open(S.index_port);

		r = conn_ask(probe, "stats\r\n", "END\r\n");
		closed = stat_value(r, "conns_closed_output_cap") >= 1;
		close(probe);
		if (!closed)
			usleep(50 * 1000);
	}
	ck_assert_msg(closed, "the server kept a client that does not read");
	rss_after = rss_kib(S.pid);
	/* bounded: far less than gets x value size (160 MB) */
	ck_assert_msg(rss_after - rss_before < 64 * 1024, "RSS grew by %lld KiB",
		      rss_after - rss_before);
	ck_assert(conn_wait_eof(fd, HARNESS_TIMEOUT_MS));
	close(fd);
	assert_served(S.index_port);
	free(req);
	free(val);
	down();
}
END_TEST

/* memcached's answer past -c: an error line, then close. */
START_TEST(test_max_connections)
{
	static const char *const extra[] = { "-c", "8", NULL };
	int fds[8], fd, i;
	bool eof;
	char buf[256];

	up(extra);
	for (i = 0; i < 8; i++) {
		fds[i] = conn_open(S.index_port);
		ck_assert_int_ge(fds[i], 0);
		ck_assert_str_eq(conn_ask(fds[i], "mn\r\n", "\r\n"), "MN\r\n");
	}
	fd = conn_open(S.index_port);
	ck_assert_int_ge(fd, 0);
	conn_recv_until(fd, buf, sizeof buf, NULL, &eof);
	ck_assert_str_eq(buf, "ERROR Too many open connections\r\n");
	ck_assert(eof);
	close(fd);
	close(fds[0]);
	for (i = 0; i < 100; i++) { /* the close reaches the server soon */
		fd = conn_open(S.view_port);
		if (!strcmp(conn_ask(fd, "mn\r\n", "\r\n"), "MN\r\n"))
			break;
		close(fd);
		fd = -1;
		usleep(20 * 1000);
	}
	ck_assert_int_ge(fd, 0);
	close(fd);
	for (i = 1; i < 8; i++)
		close(fds[i]);
	down();
}
END_TEST

/* Out of file descriptors (a hard limit the server cannot raise): the
 * connections past it are refused with memcached's line, and the server
 * serves again once connections close. */
START_TEST(test_out_of_descriptors)
{
	enum { LIMIT = 300, CONNS = 290 };
	struct rlimit rl = { LIMIT, LIMIT };
	int fds[CONNS], i, ok = 0, refused = 0;

	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0); /* the server inherits it */
	up(NULL);
	for (i = 0; i < CONNS; i++) {
		const char *r;

		fds[i] = conn_open(S.index_port);
		ck_assert_int_ge(fds[i], 0);
		r = conn_ask(fds[i], "mn\r\n", "\r\n");
		if (!strcmp(r, "MN\r\n"))
			ok++;
		else if (!strcmp(r, "ERROR Too many open connections\r\n"))
			refused++;
		else
			ck_abort_msg("connection %d: \"%s\"", i, r);
	}
	ck_assert_int_gt(ok, 0);
	ck_assert_int_gt(refused, 0);
	for (i = 0; i < CONNS; i++)
		close(fds[i]);
	for (i = 0; i < 100; i++) {
		int fd = conn_open(S.index_port);
		bool served = !strcmp(conn_ask(fd, "mn\r\n", "\r\n"), "MN\r\n");

		close(fd);
		if (served)
			break;
		usleep(20 * 1000);
	}
	ck_assert_int_lt(i, 100);
	down();
}
END_TEST

/* An item larger than what its pool can ever hold: memcached's
 * out-of-memory line; what was stored before stays. */
START_TEST(test_pool_full)
{
	static const char *const extra[] = { "--mode", "indexer", "-I", "2m", NULL };
	const unsigned vlen = 1100000;
	char *val = malloc(vlen), hdr[64];
	const char *r;
	int vfd, ifd;

	ck_assert_ptr_nonnull(val);
	memset(val, 'x', vlen);
	up(extra);
	vfd = conn_open(S.view_port);
	ifd = conn_open(S.index_port);
	ck_assert_str_eq(conn_ask(vfd, "set small 0 0 1\r\ns\r\n", "\r\n"), "STORED\r\n");
	ck_assert_str_eq(conn_ask(ifd, "set idx 0 0 1\r\ni\r\n", "\r\n"), "STORED\r\n");
	snprintf(hdr, sizeof hdr, "set huge 0 0 %u\r\n", vlen);
	ck_assert(conn_sends(vfd, hdr));
	ck_assert(conn_send(vfd, val, vlen));
	ck_assert_str_eq(conn_ask(vfd, "\r\n", "\r\n"), "SERVER_ERROR out of memory storing object\r\n");
	ck_assert(conn_sends(vfd, "ms huge2 1100000 T0\r\n"));
	ck_assert(conn_send(vfd, val, vlen));
	ck_assert_str_eq(conn_ask(vfd, "\r\n", "\r\n"), "SERVER_ERROR out of memory storing object\r\n");
	ck_assert_str_eq(conn_ask(vfd, "get small huge huge2\r\n", "END\r\n"),
			 "VALUE small 0 1\r\ns\r\nEND\r\n");
	ck_assert_str_eq(conn_ask(ifd, "get idx\r\n", "END\r\n"), "VALUE idx 0 1\r\ni\r\nEND\r\n");
	r = conn_ask(vfd, "stats pools\r\n", "END\r\n");
	ck_assert_int_eq(stat_value(r, "view:items"), 1);
	ck_assert_int_eq(stat_value(r, "view:evictions"), 0);
	close(vfd);
	close(ifd);
	free(val);
	down();
}
END_TEST

START_TEST(test_idle_timeout)
{
	static const char *const extra[] = { "--idle-timeout", "1", NULL };
	int fd;

	up(extra);
	fd = conn_open(S.index_port);
	ck_assert_str_eq(conn_ask(fd, "mn\r\n", "\r\n"), "MN\r\n");
	ck_assert(conn_wait_eof(fd, HARNESS_TIMEOUT_MS));
	close(fd);
	assert_served(S.index_port);
	down();
}
END_TEST

struct loader {
	int port;
	unsigned id;
	unsigned ops;
};

static void *load_main(void *arg)
{
	struct loader *l = arg;
	char req[128], buf[512];
	int fd = conn_open(l->port);
	unsigned i;

	if (fd < 0)
		return NULL;
	for (i = 0;; i++) {
		bool eof = false;

		snprintf(req, sizeof req, "set l%u_%u 0 0 4\r\nload\r\nget l%u_%u\r\n", l->id, i % 100,
			 l->id, i % 100);
		if (!conn_sends(fd, req))
			break;
		conn_recv_until(fd, buf, sizeof buf, "END\r\n", &eof);
		if (eof || !strstr(buf, "END\r\n"))
			break;
		l->ops++;
	}
	close(fd);
	return NULL;
}

/* SIGTERM while clients hammer the server: it stops and exits 0. */
START_TEST(test_sigterm_under_load)
{
	enum { N = 4 };
	struct loader ld[N];
	pthread_t t[N];
	unsigned i;

	up(NULL);
	for (i = 0; i < N; i++) {
		ld[i] = (struct loader){ i % 2 ? S.view_port : S.index_port, i, 0 };
		ck_assert_int_eq(pthread_create(&t[i], NULL, load_main, &ld[i]), 0);
	}
	usleep(harness_scale(500, 300) * 1000);
	ck_assert_int_eq(srv_stop(&S), 0);
	for (i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		ck_assert_uint_gt(ld[i].ops, 0);
	}
}
END_TEST

int main(void)
{
	const struct TTest *const tests[] = {
		test_memcached_corpus_end_to_end,
		test_binary_closed,
		test_thousand_connections,
		test_client_stops_reading,
		test_max_connections,
		test_out_of_descriptors,
		test_pool_full,
		test_idle_timeout,
		test_sigterm_under_load,
	};

	return harness_main("service_faults", tests, sizeof tests / sizeof tests[0]);
}
