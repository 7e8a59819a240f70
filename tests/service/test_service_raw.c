/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The real splitcached over raw sockets: byte-exact replies of every
 * classic and meta command, noreply, pipelining, requests sent one byte at
 * a time, a large multi-get read slowly, exptime rules, the view pool's
 * key convention, stats, and connections spread over the workers. Each
 * test starts its own server on free ports and checks that SIGTERM makes
 * it exit 0 (sanitizer builds: no leak, no error).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "one_conn.h"

/* The cas of key as gets reports it. */
static unsigned long long cas_of(const char *key)
{
	char req[300], buf[4096];
	unsigned long long cas = 0;
	unsigned flags, bytes;
	char k[260];

	snprintf(req, sizeof req, "gets %s\r\n", key);
	ck_assert(conn_sends(fd, req));
	conn_recv_until(fd, buf, sizeof buf, "END\r\n", NULL);
	ck_assert_int_eq(sscanf(buf, "VALUE %259s %u %u %llu", k, &flags, &bytes, &cas), 4);
	return cas;
}

START_TEST(test_classic_commands)
{
	char req[256], want[256];
	unsigned long long cas;

	up(NULL);
	expect("get nope\r\n", "END\r\n");
	expect("set foo 7 0 3\r\nbar\r\n", "STORED\r\n");
	expect("get foo\r\n", "VALUE foo 7 3\r\nbar\r\nEND\r\n");
	expect("get foo nope foo\r\n", "VALUE foo 7 3\r\nbar\r\nVALUE foo 7 3\r\nbar\r\nEND\r\n");
	expect("add foo 0 0 1\r\nx\r\n", "NOT_STORED\r\n");
	expect("add new 1 0 1\r\nx\r\n", "STORED\r\n");
	expect("replace nope 0 0 1\r\nx\r\n", "NOT_STORED\r\n");
	expect("replace new 2 0 2\r\nyy\r\n", "STORED\r\n");
	expect("append foo 0 0 2\r\n++\r\n", "STORED\r\n");
	expect("prepend foo 0 0 2\r\n--\r\n", "STORED\r\n");
	expect("get foo new\r\n", "VALUE foo 7 7\r\n--bar++\r\nVALUE new 2 2\r\nyy\r\nEND\r\n");
	expect("append nope 0 0 1\r\nx\r\n", "NOT_STORED\r\n");
	cas = cas_of("foo");
	snprintf(req, sizeof req, "gets foo\r\n");
	snprintf(want, sizeof want, "VALUE foo 7 7 %llu\r\n--bar++\r\nEND\r\n", cas);
	expect(req, want);
	snprintf(req, sizeof req, "cas foo 3 0 1 %llu\r\nz\r\n", cas + 1000);
	expect(req, "EXISTS\r\n");
	snprintf(req, sizeof req, "cas foo 3 0 1 %llu\r\nz\r\n", cas);
	expect(req, "STORED\r\n");
	expect(req, "EXISTS\r\n"); /* the cas changed with the store */
	expect("cas nope 0 0 1 1\r\nz\r\n", "NOT_FOUND\r\n");
	expect("get foo\r\n", "VALUE foo 3 1\r\nz\r\nEND\r\n");
	expect("incr nope 1\r\n", "NOT_FOUND\r\n");
	expect("incr foo 1\r\n", "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
	expect("set n 0 0 2\r\n10\r\n", "STORED\r\n");
	expect("incr n 5\r\n", "15\r\n");
	expect("decr n 6\r\n", "9\r\n");
	/* memcached pads a shorter result with spaces ("9 "); the library
	 * writes the exact number (docs/protocol.md, differences) */
	expect("get n\r\n", "VALUE n 0 1\r\n9\r\nEND\r\n");
	expect("decr n 100\r\n", "0\r\n");
	expect("set big 0 0 20\r\n18446744073709551615\r\n", "STORED\r\n");
	expect("incr big 2\r\n", "1\r\n"); /* wraps at 2^64 */
	expect("touch foo 100\r\n", "TOUCHED\r\n");
	expect("touch nope 100\r\n", "NOT_FOUND\r\n");
	expect("gat 100 foo nope\r\n", "VALUE foo 3 1\r\nz\r\nEND\r\n");
	cas = cas_of("foo");
	snprintf(want, sizeof want, "VALUE foo 3 1 %llu\r\nz\r\nEND\r\n", cas);
	expect("gats 0 foo\r\n", want); /* touch keeps the cas */
	expect("delete foo\r\n", "DELETED\r\n");
	expect("delete foo\r\n", "NOT_FOUND\r\n");
	expect("delete new 0\r\n", "DELETED\r\n");
	expect("version\r\n", "VERSION 1.6.0-splitcache-");
	conn_recv_until(fd, want, sizeof want, "\r\n", NULL);
	expect("verbosity 1\r\n", "OK\r\n");
	expect("flush_all\r\n", "OK\r\n");
	expect("get n big\r\n", "END\r\n");
	expect("bogus\r\n", "ERROR\r\n");
	expect("quit\r\n", "");
	ck_assert(conn_wait_eof(fd, HARNESS_TIMEOUT_MS));
	down();
}
END_TEST

START_TEST(test_noreply)
{
	up(NULL);
	expect("set a 0 0 1 noreply\r\n1\r\nadd a 0 0 1 noreply\r\n2\r\n"
	       "add b 0 0 1 noreply\r\n5\r\nreplace a 0 0 1 noreply\r\n3\r\n"
	       "append a 0 0 1 noreply\r\n4\r\nprepend a 0 0 1 noreply\r\n0\r\n"
	       "cas a 0 0 1 1 noreply\r\n9\r\nincr a 1 noreply\r\ndecr b 1 noreply\r\n"
	       "touch a 0 noreply\r\ndelete nope noreply\r\nincr nope 1 noreply\r\n"
	       "flush_all 0 noreply\r\nset c 0 0 1 noreply\r\nc\r\nverbosity 0 noreply\r\n"
	       "set d 0 0 x noreply\r\nmn\r\n", "MN\r\n");
	expect("get a b c\r\n", "VALUE c 0 1\r\nc\r\nEND\r\n");
	expect("set e 0 0 1 noreply\r\n1\r\nincr e 1 noreply\r\nget e\r\n",
	       "VALUE e 0 1\r\n2\r\nEND\r\n");
	down();
}
END_TEST

START_TEST(test_meta_commands)
{
	up(NULL);
	expect("mn\r\n", "MN\r\n");
	expect("mg nope v\r\n", "EN\r\n");
	expect("mg nope v q\r\nmn\r\n", "MN\r\n");
	expect("ms k 2 F5 T0\r\nhi\r\n", "HD\r\n");
	expect("mg k v f t s\r\n", "VA 2 f5 t-1 s2\r\nhi\r\n");
	expect("mg k k O123\r\n", "HD kk O123\r\n");
	expect("ms k 1 ME\r\nx\r\n", "NS\r\n");
	expect("ms k 1 MA\r\n!\r\n", "HD\r\n");
	expect("ms k 1 MP\r\n<\r\n", "HD\r\n");
	expect("mg k v\r\n", "VA 4\r\n<hi!\r\n");
	expect("ms nope 1 MR\r\nx\r\n", "NS\r\n");
	expect("ms k 1 C999999\r\nx\r\n", "EX\r\n");
	expect("ms nope 1 C1\r\nx\r\n", "NF\r\n");
	expect("md nope\r\n", "NF\r\n");
	expect("md k q\r\nmn\r\n", "MN\r\n");
	expect("mg k v\r\n", "EN\r\n");
	expect("ma cnt\r\n", "NF\r\n");
	expect("ma cnt N0 J10 v\r\n", "VA 2\r\n10\r\n");
	expect("ma cnt v\r\n", "VA 2\r\n11\r\n");
	expect("ma cnt MD D5 v\r\n", "VA 1\r\n6\r\n");
	expect("ma cnt q\r\nmn\r\n", "MN\r\n");
	expect("mg cnt v\r\n", "VA 1\r\n7\r\n");
	expect("me nope\r\n", "EN\r\n");
	expect("mg k zz\r\n", "CLIENT_ERROR invalid flag\r\n");
	down();
}
END_TEST

/* memcached's exptime rules: negative and past absolute times expire at
 * once; relative and future absolute times keep the item. */
START_TEST(test_exptime)
{
	char req[128];
	long long now = (long long)time(NULL);

	up(NULL);
	expect("set a 0 -1 1\r\na\r\nget a\r\n", "STORED\r\nEND\r\n");
	expect("set a 0 0 1\r\na\r\nset a 0 -1 1\r\nb\r\nget a\r\n", "STORED\r\nSTORED\r\nEND\r\n");
	snprintf(req, sizeof req, "set b 0 %lld 1\r\nb\r\nget b\r\n", now - 10);
	expect(req, "STORED\r\nEND\r\n");
	snprintf(req, sizeof req, "set c 0 %lld 1\r\nc\r\nget c\r\n", now + 1000);
	expect(req, "STORED\r\nVALUE c 0 1\r\nc\r\nEND\r\n");
	expect("set d 0 2592000 1\r\nd\r\nget d\r\n", "STORED\r\nVALUE d 0 1\r\nd\r\nEND\r\n");
	expect("mg d t\r\n", "HD t2592000\r\n");
	expect("touch d -1\r\nget d\r\n", "TOUCHED\r\nEND\r\n");
	/* gat returns the item, then it is gone (memcached 1.6.18) */
	expect("set e 0 0 1\r\ne\r\ngat -1 e\r\nget e\r\n",
	       "STORED\r\nVALUE e 0 1\r\ne\r\nEND\r\nEND\r\n");
	down();
}
END_TEST

/* flush_all with a delay: items stay until the deadline, then go. */
START_TEST(test_flush_delay)
{
	const char *r = NULL;
	int i;

	up(NULL);
	expect("set a 0 0 1\r\na\r\nflush_all 1\r\nget a\r\n", "STORED\r\nOK\r\nVALUE a 0 1\r\na\r\nEND\r\n");
	for (i = 0; i < 100; i++) {
		r = conn_ask(fd, "get a\r\n", "END\r\n");
		if (!strcmp(r, "END\r\n"))
			break;
		usleep(100 * 1000);
	}
	ck_assert_str_eq(r, "END\r\n");
	expect("set a 0 0 1\r\nb\r\nget a\r\n", "STORED\r\nVALUE a 0 1\r\nb\r\nEND\r\n");
	down();
}
END_TEST

/* Many requests in one send: replies in order, nothing lost. */
START_TEST(test_pipelining)
{
	size_t cap = 1 << 20, rl = 0, wl = 0;
	char *req = malloc(cap), *want = malloc(cap), *got = malloc(cap);
	unsigned i, n = 2000;

	ck_assert(req && want && got);
	up(NULL);
	for (i = 0; i < n; i++) {
		rl += (size_t)snprintf(req + rl, cap - rl, "set k%u 0 0 %u\r\nv%u\r\nget k%u\r\n",
				       i, (unsigned)snprintf(NULL, 0, "v%u", i), i, i);
		wl += (size_t)snprintf(want + wl, cap - wl, "STORED\r\nVALUE k%u 0 %u\r\nv%u\r\nEND\r\n",
				       i, (unsigned)snprintf(NULL, 0, "v%u", i), i);
	}
	ck_assert(conn_send(fd, req, rl));
	ck_assert(conn_recv_n(fd, got, wl));
	ck_assert(memcmp(got, want, wl) == 0);
	free(req);
	free(want);
	free(got);
	down();
}
END_TEST

/* Requests arriving one byte at a time get the same replies. */
START_TEST(test_byte_by_byte)
{
	static const char req[] =
		"set k 1 0 5\r\nhello\r\nget k\r\nms m 2 T0\r\nhi\r\nmg m v\r\n"
		"incr x 1\r\nbogus line\r\ndelete k\r\nset t 0 0 2\r\nabc\r\nmn\r\n";
	static const char want[] =
		"STORED\r\nVALUE k 1 5\r\nhello\r\nEND\r\nHD\r\nVA 2\r\nhi\r\n"
		"NOT_FOUND\r\nERROR\r\nDELETED\r\nCLIENT_ERROR bad data chunk\r\nERROR\r\nMN\r\n";
	char got[sizeof want];
	size_t i;

	up(NULL);
	for (i = 0; i < sizeof req - 1; i++) {
		ck_assert(conn_send(fd, req + i, 1));
		if (i % 8 == 0)
			usleep(200);
	}
	ck_assert(conn_recv_n(fd, got, sizeof want - 1));
	ck_assert(memcmp(got, want, sizeof want - 1) == 0);
	down();
}
END_TEST

/* A multi-get reply many times the output cap, read slowly in small
 * pieces: it streams through the bounded buffer and arrives whole. */
START_TEST(test_large_multiget_slow_reader)
{
	static const char *const extra[] = { "--max-output", "1200k", NULL };
	const unsigned nkeys = harness_scale(40, 12), vlen = 100000;
	char *val = malloc(vlen), *line = malloc(65536), *got;
	size_t ll = 0, total = 0, expect_len = 0, n;
	int rcvbuf = 16384;
	unsigned i;

	ck_assert(val && line);
	up(extra);
	for (i = 0; i < vlen; i++)
		val[i] = (char)('a' + i % 26);
	for (i = 0; i < nkeys; i++) {
		char hdr[64];

		snprintf(hdr, sizeof hdr, "set key%u 0 0 %u\r\n", i, vlen);
		ck_assert(conn_sends(fd, hdr));
		ck_assert(conn_send(fd, val, vlen));
		expect("\r\n", "STORED\r\n");
		expect_len += (size_t)snprintf(hdr, sizeof hdr, "VALUE key%u 0 %u\r\n", i, vlen) +
			      vlen + 2;
	}
	expect_len += 5;
	close(fd);
	fd = conn_open(S.index_port);
	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	ll = (size_t)snprintf(line, 65536, "get");
	for (i = 0; i < nkeys; i++)
		ll += (size_t)snprintf(line + ll, 65536 - ll, " key%u", i);
	ll += (size_t)snprintf(line + ll, 65536 - ll, "\r\n");
	ck_assert(conn_send(fd, line, ll));
	got = malloc(expect_len + 1);
	ck_assert_ptr_nonnull(got);
	while (total < expect_len) {
		ssize_t r = recv(fd, got + total, expect_len - total < 4096 ? expect_len - total : 4096, 0);

		ck_assert_int_gt(r, 0);
		total += (size_t)r;
		if ((total / 4096) % 64 == 0)
			usleep(1000);
	}
	ck_assert(memcmp(got + expect_len - 5, "END\r\n", 5) == 0);
	for (i = 0, n = 0; i < nkeys; i++) {
		char hdr[64];
		size_t hl = (size_t)snprintf(hdr, sizeof hdr, "VALUE key%u 0 %u\r\n", i, vlen);

		ck_assert(memcmp(got + n, hdr, hl) == 0);
		ck_assert(memcmp(got + n + hl, val, vlen) == 0);
		n += hl + vlen + 2;
	}
	free(got);
	free(val);
	free(line);
	down();
}
END_TEST

/* On the view listener "@<height>/<key>" is a height-partitioned entry,
 * isolated from the plain key and from the index pool. */
START_TEST(test_view_key_convention)
{
	int vfd;
	const char *r;

	up(NULL);
	vfd = conn_open(S.view_port);
	ck_assert_int_ge(vfd, 0);
	ck_assert_str_eq(conn_ask(vfd, "set @5/k 0 0 2\r\nh5\r\n", "\r\n"), "STORED\r\n");
	ck_assert_str_eq(conn_ask(vfd, "set @6/k 0 0 2\r\nh6\r\n", "\r\n"), "STORED\r\n");
	ck_assert_str_eq(conn_ask(vfd, "set k 0 0 1\r\np\r\n", "\r\n"), "STORED\r\n");
	ck_assert_str_eq(conn_ask(vfd, "get @5/k k @6/k @7/k\r\n", "END\r\n"),
			 "VALUE @5/k 0 2\r\nh5\r\nVALUE k 0 1\r\np\r\nVALUE @6/k 0 2\r\nh6\r\nEND\r\n");
	ck_assert_str_eq(conn_ask(vfd, "delete @5/k\r\nget @5/k @6/k\r\n", "END\r\n"),
			 "DELETED\r\nVALUE @6/k 0 2\r\nh6\r\nEND\r\n");
	/* every command on (height, key) entries */
	ck_assert_str_eq(conn_ask(vfd, "set @9/n 3 0 2\r\n10\r\nincr @9/n 5\r\ndecr @9/n 20\r\n"
				  "touch @9/n 100\r\ngat 100 @9/n\r\n", "END\r\n"),
			 "STORED\r\n15\r\n0\r\nTOUCHED\r\nVALUE @9/n 3 1\r\n0\r\nEND\r\n");
	ck_assert_str_eq(conn_ask(vfd, "append @9/n 0 0 1\r\nx\r\nincr @9/n 1\r\nmd @9/n C1\r\n"
				  "get @9/n n\r\n", "END\r\n"),
			 "STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"
			 "EX\r\nVALUE @9/n 3 2\r\n0x\r\nEND\r\n");
	/* touch keeps the cas, as on plain entries */
	{
		unsigned long long cas1 = 0, cas2 = 0;
		unsigned flags, bytes;
		char k[16];

		r = conn_ask(vfd, "set @8/c 0 0 1\r\nx\r\ngets @8/c\r\n", "END\r\n");
		ck_assert_int_eq(sscanf(r, "STORED\r\nVALUE %15s %u %u %llu", k, &flags, &bytes, &cas1),
				 4);
		ck_assert_str_eq(conn_ask(vfd, "touch @8/c 100\r\n", "\r\n"), "TOUCHED\r\n");
		r = conn_ask(vfd, "gets @8/c\r\n", "END\r\n");
		ck_assert_int_eq(sscanf(r, "VALUE %15s %u %u %llu", k, &flags, &bytes, &cas2), 4);
		ck_assert_uint_eq(cas2, cas1);
		ck_assert_str_eq(conn_ask(vfd, "delete @8/c\r\n", "\r\n"), "DELETED\r\n");
	}
	/* a delete with the entry's own cas removes it */
	{
		unsigned long long cas = 0;
		unsigned flags, bytes;
		char k[16], req[64];

		r = conn_ask(vfd, "gets @9/n\r\n", "END\r\n");
		ck_assert_int_eq(sscanf(r, "VALUE %15s %u %u %llu", k, &flags, &bytes, &cas), 4);
		snprintf(req, sizeof req, "md @9/n C%llu\r\n", cas + 1);
		ck_assert_str_eq(conn_ask(vfd, req, "\r\n"), "EX\r\n");
		snprintf(req, sizeof req, "md @9/n C%llu\r\n", cas);
		ck_assert_str_eq(conn_ask(vfd, req, "\r\n"), "HD\r\n");
		ck_assert_str_eq(conn_ask(vfd, "delete @9/n\r\n", "\r\n"), "NOT_FOUND\r\n");
	}
	/* the index pool knows none of them */
	expect("get k @6/k\r\n", "END\r\n");
	r = conn_ask(vfd, "stats pools\r\n", "END\r\n");
	ck_assert_int_eq(stat_value(r, "view:items"), 2);
	ck_assert_int_eq(stat_value(r, "index:items"), 0);
	r = conn_ask(vfd, "stats\r\n", "END\r\n");
	ck_assert_int_eq(stat_value(r, "curr_items"), 2);
	ck_assert(strstr(r, "STAT pool view\r\n"));
	close(vfd);
	down();
}
END_TEST

/* A unix socket listener serves like a TCP one; its file goes at exit. */
START_TEST(test_unix_socket)
{
	char path[96], arg[128], buf[256];
	const char *extra[] = { "--index-listen", arg, NULL };
	struct sockaddr_un sun;
	int ufd;

	snprintf(path, sizeof path, "/tmp/spc-unix-%d.sock", (int)getpid());
	snprintf(arg, sizeof arg, "unix:%s", path);
	ck_assert_int_eq(srv_start(&S, extra), 0);
	ufd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	ck_assert_int_eq(connect(ufd, (struct sockaddr *)&sun, sizeof sun), 0);
	ck_assert(conn_sends(ufd, "set u 0 0 1\r\nu\r\nget u\r\n"));
	conn_recv_until(ufd, buf, sizeof buf, "END\r\n", NULL);
	ck_assert_str_eq(buf, "STORED\r\nVALUE u 0 1\r\nu\r\nEND\r\n");
	close(ufd);
	ck_assert_int_eq(srv_stop(&S), 0);
	ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* A listen address outside loopback is refused unless --allow-remote:
 * the server exits instead of binding it. */
START_TEST(test_refuses_public_address)
{
	static const char *const extra[] = { "--view-listen", "0.0.0.0:0", NULL };

	ck_assert_int_ne(srv_start(&S, extra), 0);
}
END_TEST

/* The stats libmemcached and its tools read are there and move. */
START_TEST(test_stats_fields)
{
	static const char *const names[] = {
		"pid", "uptime", "time", "version", "curr_items", "total_items", "bytes",
		"curr_connections", "total_connections", "cmd_get", "cmd_set", "get_hits",
		"get_misses", "evictions", "bytes_read", "bytes_written", "limit_maxbytes",
		"threads", "memory_budget",
	};
	const char *r;
	size_t i;

	up(NULL);
	expect("set a 0 0 1\r\na\r\nget a b\r\n", "STORED\r\nVALUE a 0 1\r\na\r\nEND\r\n");
	r = conn_ask(fd, "stats\r\n", "END\r\n");
	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		ck_assert_msg(strstr(r, names[i]), "stats lacks %s", names[i]);
	ck_assert_int_eq(stat_value(r, "pid"), S.pid);
	ck_assert_int_eq(stat_value(r, "cmd_set"), 1);
	ck_assert_int_eq(stat_value(r, "cmd_get"), 2);
	ck_assert_int_eq(stat_value(r, "get_hits"), 1);
	ck_assert_int_eq(stat_value(r, "get_misses"), 1);
	ck_assert_int_eq(stat_value(r, "curr_items"), 1);
	ck_assert_int_eq(stat_value(r, "curr_connections"), 1);
	ck_assert_int_eq(stat_value(r, "threads"), 2);
	ck_assert_int_gt(stat_value(r, "limit_maxbytes"), 0);
	ck_assert_int_gt(stat_value(r, "bytes_read"), 0);
	r = conn_ask(fd, "stats settings\r\n", "END\r\n");
	ck_assert_int_eq(stat_value(r, "maxconns"), 1024);
	ck_assert_int_eq(stat_value(r, "item_size_max"), 1 << 20);
	ck_assert_int_eq(stat_value(r, "maxbytes"), 64 << 20);
	r = conn_ask(fd, "stats pools\r\n", "END\r\n");
	ck_assert_int_eq(stat_value(r, "index:items"), 1);
	ck_assert_int_eq(stat_value(r, "memory_budget"), 64 << 20);
	ck_assert_str_eq(conn_ask(fd, "stats nonsense\r\n", "\r\n"), "ERROR\r\n");
	down();
}
END_TEST

/* A burst of connections spreads evenly over the two workers, whichever
 * of them the kernel wakes for it, and every connection is served. */
START_TEST(test_connections_spread_over_workers)
{
	enum { N = 31 }; /* 32 with the test's own */
	int c[N];
	char buf[256];
	const char *r;
	long long w0, w1;

	up(NULL);
	for (int i = 0; i < N; i++) {
		c[i] = conn_open(S.index_port);
		ck_assert_int_ge(c[i], 0);
	}
	for (int i = 0; i < N; i++) {
		ck_assert(conn_sends(c[i], "version\r\n"));
		conn_recv_until(c[i], buf, sizeof buf, "\r\n", NULL);
		ck_assert_msg(strncmp(buf, "VERSION ", 8) == 0, "connection %d: %s", i, buf);
	}
	r = conn_ask(fd, "stats workers\r\n", "END\r\n");
	ck_assert_int_eq(stat_value(r, "threads"), 2);
	w0 = stat_value(r, "worker_0_curr_connections");
	w1 = stat_value(r, "worker_1_curr_connections");
	ck_assert_int_eq(w0 + w1, N + 1);
	ck_assert_msg(w0 - w1 <= 1 && w1 - w0 <= 1, "connections per worker: %lld and %lld", w0,
		      w1);
	ck_assert_int_eq(stat_value(r, "worker_0_total_connections") +
				 stat_value(r, "worker_1_total_connections"),
			 N + 1);
	for (int i = 0; i < N; i++)
		close(c[i]);
	down();
}
END_TEST

int main(void)
{
	const struct TTest *const tests[] = {
		test_classic_commands,
		test_noreply,
		test_meta_commands,
		test_exptime,
		test_flush_delay,
		test_pipelining,
		test_byte_by_byte,
		test_large_multiget_slow_reader,
		test_view_key_convention,
		test_stats_fields,
		test_connections_spread_over_workers,
		test_unix_socket,
		test_refuses_public_address,
	};

	return harness_main("service_raw", tests, sizeof tests / sizeof tests[0]);
}
