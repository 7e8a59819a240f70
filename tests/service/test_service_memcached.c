/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Recorded exchanges with Debian's memcached, replayed against the real
 * splitcached byte for byte (tests/service/memcached/: record.py made
 * them, README.md says how and with which version).
 *
 * Each case is what one client sent on one connection, the bytes
 * memcached sent back, and whether it closed. It runs on a splitcached
 * started for it alone (-I 1k, as memcached was), so cas values count
 * from 1 on both sides. The client does not half-close first: it reads
 * exactly as many bytes as memcached sent within a read timeout, so a
 * request splitcached leaves unanswered (a malformed line waiting for
 * more input) fails the case; then it half-closes and the server must
 * send nothing more. A case whose recording holds a ttl may cross a
 * second boundary on one side only: a mismatch is run once more. The
 * sanitizer builds (SPC_SERVICE_LIGHT) replay every third case: their
 * servers start slowly, and the normal build replays them all.
 *
 * A case with a <name>.differs file is one where splitcached answers
 * differently on purpose (docs/protocol.md, "Differences"): the file
 * holds splitcached's bytes, and the test checks those.
 *
 * Also: the meta protocol on height-partitioned keys of the view
 * listener (@height/key), with hand-written expectations.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "harness.h"

#define MAX_CASES 512
#define MAX_BYTES (1 << 16)
/* "At once": memcached answers every case without waiting for input;
 * a server that waits is caught by this read timeout. */
#define PROMPT_MS 5000
#define PARTS 10

struct mc_case {
	char name[96];
	char *in, *out;
	size_t in_len, out_len;
	bool closed, differs;
};

static struct mc_case cases[MAX_CASES];
static size_t ncases;

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(MAX_BYTES);
	n = buf ? fread(buf, 1, MAX_BYTES, f) : 0;
	fclose(f);
	*len = n;
	return buf;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct mc_case *)a)->name, ((const struct mc_case *)b)->name);
}

static void load_cases(void)
{
	DIR *d = opendir(SPC_MEMCACHED_CASES);
	struct dirent *e;
	char path[512];

	ck_assert_msg(d != NULL, "no %s", SPC_MEMCACHED_CASES);
	ncases = 0;
	while ((e = readdir(d)) != NULL && ncases < MAX_CASES) {
		size_t n = strlen(e->d_name);
		struct mc_case *c = &cases[ncases];

		if (n < 4 || strcmp(e->d_name + n - 3, ".in") != 0 || n - 3 >= sizeof c->name)
			continue;
		memcpy(c->name, e->d_name, n - 3);
		c->name[n - 3] = '\0';
		snprintf(path, sizeof path, "%s/%s.in", SPC_MEMCACHED_CASES, c->name);
		c->in = slurp(path, &c->in_len);
		snprintf(path, sizeof path, "%s/%s.differs", SPC_MEMCACHED_CASES, c->name);
		c->differs = exists(path);
		if (!c->differs)
			snprintf(path, sizeof path, "%s/%s.out", SPC_MEMCACHED_CASES, c->name);
		c->out = slurp(path, &c->out_len);
		snprintf(path, sizeof path, "%s/%s.closed", SPC_MEMCACHED_CASES, c->name);
		c->closed = exists(path);
		ck_assert_msg(c->in && c->out, "%s: unreadable", c->name);
		ncases++;
	}
	closedir(d);
	qsort(cases, ncases, sizeof cases[0], by_name);
	ck_assert_uint_gt(ncases, 200);
}

/* One run of a case on a fresh server; true when the bytes match. */
static bool run_case(const struct mc_case *c, char *got, size_t *got_len, const char **why)
{
	static const char *const extra[] = { "-I", "1k", NULL };
	struct timeval tv = { PROMPT_MS / 1000, (PROMPT_MS % 1000) * 1000 };
	struct srv s;
	bool ok = true, eof = false;
	size_t n = 0;
	int fd;

	ck_assert_int_eq(srv_start(&s, extra), 0);
	fd = conn_open(s.index_port);
	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	ck_assert(conn_send(fd, c->in, c->in_len));
	*why = "";
	if (c->closed) {
		n = conn_recv_until(fd, got, MAX_BYTES, NULL, &eof);
		if (!eof) {
			ok = false;
			*why = " (not closed)";
		}
	} else {
		/* the whole reply before the client says it is done */
		while (n < c->out_len) {
			ssize_t r = recv(fd, got + n, c->out_len - n, 0);

			if (r <= 0)
				break;
			n += (size_t)r;
		}
		if (n < c->out_len)
			*why = " (not answered at once)";
		shutdown(fd, SHUT_WR);
		if (n == c->out_len) {
			size_t more = conn_recv_until(fd, got + n, MAX_BYTES - n, NULL, &eof);

			n += more;
			if (!eof)
				*why = " (not closed after the client's half-close)";
		}
	}
	close(fd);
	ck_assert_int_eq(srv_stop(&s), 0);
	*got_len = n;
	return ok && n == c->out_len && memcmp(got, c->out, n) == 0;
}

/* Replays part `part` of PARTS of the cases (in name order: each part
 * stays well within a test's time limit under the sanitizers); prints
 * the counts. */
static void replay(unsigned part)
{
	static char got[MAX_BYTES];
	size_t ran = 0, same = 0, differ = 0, from, to;

	load_cases();
	from = ncases * part / PARTS;
	to = ncases * (part + 1) / PARTS;
	for (size_t i = from; i < to; i++) {
		const struct mc_case *c = &cases[i];
		const char *why;
		size_t n;
		bool ok;

		if (i % harness_scale(1, 3) != 0)
			continue; /* sanitizer builds: every third case */

		ok = run_case(c, got, &n, &why);
		if (!ok) /* a ttl may have crossed a second on one side */
			ok = run_case(c, got, &n, &why);
		ck_assert_msg(ok, "%s%s:\n sent     \"%.*s\"\n expected \"%.*s\"\n got      \"%.*s\"",
			      c->name, why, (int)(c->in_len > 400 ? 400 : c->in_len), c->in,
			      (int)c->out_len, c->out, (int)n, got);
		ran++;
		if (c->differs)
			differ++;
		else
			same++;
	}
	printf("memcached corpus, part %u/%u (%s .. %s): %zu exchanges, %zu byte-identical to "
	       "memcached, %zu documented differences\n", part + 1, PARTS, cases[from].name,
	       cases[to - 1].name, ran, same, differ);
	ck_assert_uint_gt(ran, 0);
}

/* Every part: the recorded bytes, each reply read before the client
 * half-closes (so every malformed line of every command is answered at
 * once, within the read timeout). */
#define PART(i)                      \
	START_TEST(test_corpus_part##i) \
	{                                \
		replay(i);               \
	}                                \
	END_TEST

PART(0)
PART(1)
PART(2)
PART(3)
PART(4)
PART(5)
PART(6)
PART(7)
PART(8)
PART(9)

/* Win tokens, stale items and me on the view listener's @height/key. */
START_TEST(test_meta_height_keys)
{
	struct srv s;
	int fd;

	ck_assert_int_eq(srv_start(&s, NULL), 0);
	fd = conn_open(s.view_port);
	ck_assert_int_ge(fd, 0);
	ck_assert_str_eq(conn_ask(fd, "mg @7/k s N30 t q\r\n", "\r\n"), "HD s0 t30 W\r\n");
	ck_assert_str_eq(conn_ask(fd, "mg @7/k s t\r\n", "\r\n"), "HD s0 t30 Z\r\n");
	ck_assert_str_eq(conn_ask(fd, "mg @8/k s\r\n", "\r\n"), "EN\r\n");
	ck_assert_str_eq(conn_ask(fd, "ms @7/k 2 T100 k\r\nhi\r\n", "\r\n"), "HD k@7/k\r\n");
	ck_assert_str_eq(conn_ask(fd, "md @7/k I\r\n", "\r\n"), "HD\r\n");
	ck_assert_str_eq(conn_ask(fd, "mg @7/k v t\r\n", "hi\r\n"), "VA 2 t100 X W\r\nhi\r\n");
	ck_assert_str_eq(conn_ask(fd, "mg @7/k t\r\n", "\r\n"), "HD t100 Z X\r\n");
	ck_assert_str_eq(conn_ask(fd, "ma @7/n N0 J5 v\r\n", "5\r\n"), "VA 1\r\n5\r\n");
	ck_assert_str_eq(conn_ask(fd, "ma @7/n v t\r\n", "6\r\n"), "VA 1 t-1\r\n6\r\n");
	ck_assert_str_eq(conn_ask(fd, "me @7/n\r\n", "\r\n"),
			 "ME @7/n exp=-1 la=0 cas=5 fetch=no cls=1 size=64\r\n");
	/* the plain key k of the view pool is another entry */
	ck_assert_str_eq(conn_ask(fd, "mg k v\r\n", "\r\n"), "EN\r\n");
	/* a set too large drops the old (height, key) value too */
	ck_assert_str_eq(conn_ask(fd, "set @7/k 0 0 1\r\nx\r\n", "\r\n"), "STORED\r\n");
	ck_assert(conn_sends(fd, "set @7/k 0 0 2000000\r\n"));
	{
		static char big[2000002];

		memset(big, 'x', sizeof big);
		big[sizeof big - 2] = '\r';
		big[sizeof big - 1] = '\n';
		ck_assert(conn_send(fd, big, sizeof big));
	}
	ck_assert_str_eq(conn_ask(fd, "get @7/k\r\n", "END\r\n"),
			 "SERVER_ERROR object too large for cache\r\nEND\r\n");
	close(fd);
	ck_assert_int_eq(srv_stop(&s), 0);
}
END_TEST

int main(void)
{
	const struct TTest *const tests[] = {
		test_corpus_part0, test_corpus_part1, test_corpus_part2, test_corpus_part3,
		test_corpus_part4, test_corpus_part5, test_corpus_part6, test_corpus_part7,
		test_corpus_part8, test_corpus_part9,
		test_meta_height_keys,
	};

	return harness_main("service_memcached", tests, sizeof tests / sizeof tests[0]);
}
