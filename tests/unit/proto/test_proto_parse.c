/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parser, command by command: every field of the result for a table
 * of well-formed requests; the same request whole, in every prefix (one
 * byte at a time) and pipelined; meta flags and their tokens; the line
 * limits, swallowing, the exptime rule. proto.c guarantees 1, 3 and 5,
 * proto_meta.c guarantees 2 and 3. The error lines themselves are checked
 * against memcached's in test_proto_memcached.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/proto.h"

struct pcase {
	const char *in;
	enum spc_proto_cmd cmd;
	const char *key;  /* NULL: none */
	uint32_t nkeys;
	uint32_t flags;
	int32_t exptime;
	size_t bytes;
	const char *data; /* NULL: none */
	uint64_t cas, delta;
	bool noreply;
	uint32_t verbosity;
};

static const struct pcase table[] = {
	{ .in = "get foo\r\n", .cmd = SPC_PROTO_GET, .key = "foo", .nkeys = 1 },
	{ .in = "get foo\n", .cmd = SPC_PROTO_GET, .key = "foo", .nkeys = 1 },
	{ .in = "get a bb ccc\r\n", .cmd = SPC_PROTO_GET, .key = "a", .nkeys = 3 },
	{ .in = "  gets  a  b \r\n", .cmd = SPC_PROTO_GETS, .key = "a", .nkeys = 2 },
	{ .in = "get noreply\r\n", .cmd = SPC_PROTO_GET, .key = "noreply", .nkeys = 1 },
	{ .in = "gat 100 a b\r\n", .cmd = SPC_PROTO_GAT, .key = "a", .nkeys = 2, .exptime = 100 },
	{ .in = "gats -1 a\r\n", .cmd = SPC_PROTO_GATS, .key = "a", .nkeys = 1, .exptime = -1 },
	{ .in = "gat 5\r\n", .cmd = SPC_PROTO_GAT, .key = NULL, .nkeys = 0, .exptime = 5 },
	{ .in = "set k 5 60 3\r\nabc\r\n", .cmd = SPC_PROTO_SET, .key = "k", .flags = 5, .exptime = 60, .bytes = 3,
	  .data = "abc" },
	{ .in = "set k 0 0 0\r\n\r\n", .cmd = SPC_PROTO_SET, .key = "k", .data = "" },
	{ .in = "set k 4294967295 -1 2 noreply\r\nhi\r\n", .cmd = SPC_PROTO_SET, .key = "k", .flags = 4294967295u,
	  .exptime = -1, .bytes = 2, .data = "hi", .noreply = true },
	{ .in = "set k 4294967296 0 1\r\nx\r\n", .cmd = SPC_PROTO_SET, .key = "k", .flags = 0, .bytes = 1, .data = "x" },
	{ .in = "set k 0 0 4294967297\r\nx\r\n", .cmd = SPC_PROTO_SET, .key = "k", .bytes = 1, .data = "x" },
	{ .in = "set k 0 0 1 other\r\nx\r\n", .cmd = SPC_PROTO_SET, .key = "k", .bytes = 1, .data = "x" },
	{ .in = "set k 0 0 2\r\n\r\n\r\n", .cmd = SPC_PROTO_SET, .key = "k", .bytes = 2, .data = "\r\n" },
	{ .in = "set k +1 -0 \t3\r\nabc\r\n", .cmd = SPC_PROTO_SET, .key = "k", .flags = 1, .bytes = 3, .data = "abc" },
	{ .in = "set k 0 2592001 1\r\nx\r\n", .cmd = SPC_PROTO_SET, .key = "k", .exptime = 2592001, .bytes = 1,
	  .data = "x" },
	{ .in = "add k 1 2 1\r\nx\r\n", .cmd = SPC_PROTO_ADD, .key = "k", .flags = 1, .exptime = 2, .bytes = 1, .data = "x" },
	{ .in = "replace k 0 0 1\r\nx\r\n", .cmd = SPC_PROTO_REPLACE, .key = "k", .bytes = 1, .data = "x" },
	{ .in = "append k 0 0 1\r\nx\r\n", .cmd = SPC_PROTO_APPEND, .key = "k", .bytes = 1, .data = "x" },
	{ .in = "prepend k 0 0 1 noreply\r\nx\r\n", .cmd = SPC_PROTO_PREPEND, .key = "k", .bytes = 1, .data = "x",
	  .noreply = true },
	{ .in = "cas k 0 0 1 18446744073709551615\r\nx\r\n", .cmd = SPC_PROTO_CAS, .key = "k", .bytes = 1, .data = "x",
	  .cas = UINT64_MAX },
	{ .in = "cas k 0 0 1 7 noreply\r\nx\r\n", .cmd = SPC_PROTO_CAS, .key = "k", .bytes = 1, .data = "x", .cas = 7,
	  .noreply = true },
	{ .in = "delete k\r\n", .cmd = SPC_PROTO_DELETE, .key = "k" },
	{ .in = "delete k 0\r\n", .cmd = SPC_PROTO_DELETE, .key = "k" },
	{ .in = "delete k noreply\r\n", .cmd = SPC_PROTO_DELETE, .key = "k", .noreply = true },
	{ .in = "delete k 0 noreply\r\n", .cmd = SPC_PROTO_DELETE, .key = "k", .noreply = true },
	{ .in = "incr k 18446744073709551615\r\n", .cmd = SPC_PROTO_INCR, .key = "k", .delta = UINT64_MAX },
	{ .in = "decr k 3 noreply\r\n", .cmd = SPC_PROTO_DECR, .key = "k", .delta = 3, .noreply = true },
	{ .in = "incr k 1 junk\r\n", .cmd = SPC_PROTO_INCR, .key = "k", .delta = 1 },
	{ .in = "touch k 10\r\n", .cmd = SPC_PROTO_TOUCH, .key = "k", .exptime = 10 },
	{ .in = "touch k -1 noreply\r\n", .cmd = SPC_PROTO_TOUCH, .key = "k", .exptime = -1, .noreply = true },
	{ .in = "flush_all\r\n", .cmd = SPC_PROTO_FLUSH_ALL },
	{ .in = "flush_all 30\r\n", .cmd = SPC_PROTO_FLUSH_ALL, .exptime = 30 },
	{ .in = "flush_all noreply\r\n", .cmd = SPC_PROTO_FLUSH_ALL, .noreply = true },
	{ .in = "flush_all 9 noreply\r\n", .cmd = SPC_PROTO_FLUSH_ALL, .exptime = 9, .noreply = true },
	{ .in = "version\r\n", .cmd = SPC_PROTO_VERSION },
	{ .in = "verbosity 3\r\n", .cmd = SPC_PROTO_VERBOSITY, .verbosity = 3 },
	{ .in = "verbosity 1 noreply\r\n", .cmd = SPC_PROTO_VERBOSITY, .verbosity = 1, .noreply = true },
	{ .in = "stats\r\n", .cmd = SPC_PROTO_STATS },
	{ .in = "stats settings\r\n", .cmd = SPC_PROTO_STATS, .key = "settings", .nkeys = 1 },
	{ .in = "stats slabs x y\r\n", .cmd = SPC_PROTO_STATS, .key = "slabs", .nkeys = 3 },
	{ .in = "quit\r\n", .cmd = SPC_PROTO_QUIT },
	{ .in = "mn\r\n", .cmd = SPC_PROTO_MN },
	{ .in = "mg k v\r\n", .cmd = SPC_PROTO_MG, .key = "k" },
	{ .in = "ms k 2 T9 F3\r\nhi\r\n", .cmd = SPC_PROTO_MS, .key = "k", .bytes = 2, .data = "hi" },
	{ .in = "ms k 0\r\n\r\n", .cmd = SPC_PROTO_MS, .key = "k", .data = "" },
	{ .in = "md k q\r\n", .cmd = SPC_PROTO_MD, .key = "k" },
	{ .in = "ma k\r\n", .cmd = SPC_PROTO_MA, .key = "k" },
	{ .in = "me k\r\n", .cmd = SPC_PROTO_ME, .key = "k" },
};

#define NTABLE (sizeof table / sizeof table[0])

static struct spc_proto_limits lim;

static void setup(void)
{
	spc_proto_limits_default(&lim);
}

/* Parses an exact-size heap copy so ASan sees any overread. */
static enum spc_proto_status parse_copy(const char *in, size_t n, struct spc_proto_req *req,
					char **copy)
{
	*copy = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(*copy);
	memcpy(*copy, in, n);
	return spc_proto_parse(&lim, *copy, n, req);
}

static void check_fields(const struct pcase *c, const struct spc_proto_req *r, size_t n)
{
	ck_assert_msg(r->cmd == c->cmd, "%s: cmd %d", c->in, r->cmd);
	ck_assert_uint_eq(r->consumed, n);
	if (c->key) {
		ck_assert_uint_eq(r->klen, strlen(c->key));
		ck_assert(memcmp(r->key, c->key, r->klen) == 0);
	} else {
		ck_assert_uint_eq(r->klen, 0);
	}
	ck_assert_uint_eq(r->nkeys, c->nkeys);
	ck_assert_uint_eq(r->flags, c->flags);
	ck_assert_int_eq(r->exptime, c->exptime);
	ck_assert_uint_eq(r->bytes, c->bytes);
	if (c->data) {
		ck_assert_ptr_nonnull(r->data);
		ck_assert(memcmp(r->data, c->data, c->bytes) == 0);
	}
	ck_assert(r->cas == c->cas);
	ck_assert(r->delta == c->delta);
	ck_assert_int_eq(r->noreply, c->noreply);
	ck_assert_uint_eq(r->verbosity, c->verbosity);
}

START_TEST(test_table)
{
	const struct pcase *c = &table[_i];
	size_t n = strlen(c->in);
	struct spc_proto_req req;
	char *copy;

	ck_assert_int_eq(parse_copy(c->in, n, &req, &copy), SPC_PROTO_REQUEST);
	check_fields(c, &req, n);
	free(copy);
}
END_TEST

/* Every proper prefix needs more and consumes nothing; the whole request
 * then parses the same as in one piece (guarantee 3). */
START_TEST(test_table_bytewise)
{
	const struct pcase *c = &table[_i];
	size_t n = strlen(c->in);
	struct spc_proto_req req;
	char *copy;

	for (size_t k = 0; k < n; k++) {
		ck_assert_msg(parse_copy(c->in, k, &req, &copy) == SPC_PROTO_NEED_MORE,
			      "%s: prefix %zu", c->in, k);
		ck_assert_uint_eq(req.consumed, 0);
		free(copy);
	}
	ck_assert_int_eq(parse_copy(c->in, n, &req, &copy), SPC_PROTO_REQUEST);
	check_fields(c, &req, n);
	free(copy);
}
END_TEST

START_TEST(test_pipelined)
{
	size_t total = 0, off = 0, i = 0;
	char *all;
	struct spc_proto_req req;

	for (size_t k = 0; k < NTABLE; k++)
		total += strlen(table[k].in);
	all = malloc(total);
	ck_assert_ptr_nonnull(all);
	for (size_t k = 0; k < NTABLE; k++) {
		memcpy(all + off, table[k].in, strlen(table[k].in));
		off += strlen(table[k].in);
	}
	for (off = 0; off < total; i++) {
		ck_assert_int_eq(spc_proto_parse(&lim, all + off, total - off, &req), SPC_PROTO_REQUEST);
		check_fields(&table[i], &req, strlen(table[i].in));
		off += req.consumed;
	}
	ck_assert_uint_eq(i, NTABLE);
	free(all);
}
END_TEST

START_TEST(test_get_keys)
{
	struct spc_proto_req req;
	const char *in = "get  a bb\tx  ccc \r\n", *k;
	static const char *const want[] = { "a", "bb\tx", "ccc" };
	size_t pos = 0, kn, i = 0;

	ck_assert_int_eq(spc_proto_parse(&lim, in, strlen(in), &req), SPC_PROTO_REQUEST);
	ck_assert_uint_eq(req.nkeys, 3);
	while (spc_proto_next_key(&req, &pos, &k, &kn)) {
		ck_assert_uint_lt(i, 3);
		ck_assert_uint_eq(kn, strlen(want[i]));
		ck_assert(memcmp(k, want[i], kn) == 0);
		i++;
	}
	ck_assert_uint_eq(i, 3);
}
END_TEST

/* A get line of thousands of keys, past every token array. */
START_TEST(test_get_many_keys)
{
	char buf[12000];
	size_t n = 0, pos = 0, kn, count = 0;
	struct spc_proto_req req;
	const char *k;

	n += (size_t)sprintf(buf, "get");
	for (int i = 0; i < 1500; i++)
		n += (size_t)sprintf(buf + n, " k%d", i);
	n += (size_t)sprintf(buf + n, "\r\n");
	ck_assert_int_eq(spc_proto_parse(&lim, buf, n, &req), SPC_PROTO_REQUEST);
	ck_assert_uint_eq(req.nkeys, 1500);
	while (spc_proto_next_key(&req, &pos, &k, &kn))
		count++;
	ck_assert_uint_eq(count, 1500);
	ck_assert(kn == 5 && memcmp(k, "k1499", 5) == 0);
}
END_TEST

START_TEST(test_meta_flags)
{
	struct spc_proto_req r;
	const char *in = "mg key v T30 N-5 R4294967297 F4294967298 C9 E10 Oabc q k h\r\n";

	ck_assert_int_eq(spc_proto_parse(&lim, in, strlen(in), &r), SPC_PROTO_REQUEST);
	ck_assert_int_eq(r.cmd, SPC_PROTO_MG);
	ck_assert_str_eq(r.meta.order, "vTNRFCEOqkh");
	ck_assert_uint_eq(r.meta.norder, 11);
	ck_assert(r.meta.seen & SPC_PROTO_MF('v'));
	ck_assert(r.meta.seen & SPC_PROTO_MF('T'));
	ck_assert(!(r.meta.seen & SPC_PROTO_MF('t')));
	ck_assert_int_eq(r.meta.ttl, 30);
	ck_assert_int_eq(r.meta.vivify_ttl, -5);
	ck_assert_int_eq(r.meta.recache_ttl, 1);
	ck_assert_uint_eq(r.meta.client_flags, 2);
	ck_assert(r.meta.compare_cas == 9 && r.meta.new_cas == 10);
	ck_assert_uint_eq(r.meta.opaque_len, 3);
	ck_assert(memcmp(r.meta.opaque, "abc", 3) == 0);
	ck_assert(r.meta.quiet);
	ck_assert(!r.meta.base64);
}
END_TEST

START_TEST(test_meta_modes)
{
	struct spc_proto_req r;
	const char *ms = "ms k 1 MA I\r\nx\r\n", *ma = "ma k\r\n", *ma2 = "ma k MD D7 J3 N0\r\n";

	ck_assert_int_eq(spc_proto_parse(&lim, ms, strlen(ms), &r), SPC_PROTO_REQUEST);
	ck_assert_int_eq(r.meta.mode, 'A');
	ck_assert(r.meta.seen & SPC_PROTO_MF('I'));
	ck_assert_int_eq(spc_proto_parse(&lim, "ms k 1\r\nx\r\n", 11, &r), SPC_PROTO_REQUEST);
	ck_assert_int_eq(r.meta.mode, 'S');
	ck_assert_int_eq(spc_proto_parse(&lim, ma, strlen(ma), &r), SPC_PROTO_REQUEST);
	ck_assert_int_eq(r.meta.mode, 'I');
	ck_assert(r.meta.delta == 1);
	ck_assert_int_eq(spc_proto_parse(&lim, ma2, strlen(ma2), &r), SPC_PROTO_REQUEST);
	ck_assert_int_eq(r.meta.mode, 'D');
	ck_assert(r.meta.delta == 7 && r.meta.initial == 3);
	ck_assert(r.meta.seen & SPC_PROTO_MF('N'));
	/* x is an extension of md only */
	ck_assert_int_eq(spc_proto_parse(&lim, "md k x\r\n", 8, &r), SPC_PROTO_REQUEST);
	ck_assert_int_eq(spc_proto_parse(&lim, "mg k x\r\n", 8, &r), SPC_PROTO_ERROR);
	ck_assert_str_eq(r.reply, "CLIENT_ERROR invalid flag\r\n");
}
END_TEST

START_TEST(test_meta_base64)
{
	struct spc_proto_req r;
	const char *in = "mg Zm9vYmFy b k\r\n", *bin = "md AP8A b\r\n";

	ck_assert_int_eq(spc_proto_parse(&lim, in, strlen(in), &r), SPC_PROTO_REQUEST);
	ck_assert(r.meta.base64);
	ck_assert_uint_eq(r.klen, 6);
	ck_assert(memcmp(r.key, "foobar", 6) == 0);
	ck_assert_ptr_eq(r.key, r.keybuf);
	ck_assert_uint_eq(r.meta.key_token_len, 8);
	ck_assert_int_eq(spc_proto_parse(&lim, bin, strlen(bin), &r), SPC_PROTO_REQUEST);
	ck_assert_uint_eq(r.klen, 3);
	ck_assert(memcmp(r.key, "\0\377\0", 3) == 0);
}
END_TEST

/* An ms with a flag error swallows its data block; one whose key is bad
 * does not (memcached then reads the data as a command). */
START_TEST(test_swallow)
{
	struct spc_proto_req r;
	const char *bad_flag = "ms k 5 z\r\n", *bad_key_len;
	char line[400];

	ck_assert_int_eq(spc_proto_parse(&lim, bad_flag, strlen(bad_flag), &r), SPC_PROTO_ERROR);
	ck_assert_int_eq(r.action, SPC_PROTO_SWALLOW);
	ck_assert(r.swallow == 7);
	ck_assert_uint_eq(r.consumed, strlen(bad_flag));
	memset(line, 'a', sizeof line);
	memcpy(line, "ms ", 3);
	memcpy(line + 254, " 5\r\n", 4);
	bad_key_len = line;
	ck_assert_int_eq(spc_proto_parse(&lim, bad_key_len, 258, &r), SPC_PROTO_ERROR);
	ck_assert_int_eq(r.action, SPC_PROTO_CONTINUE);
	/* too large: refused before the data arrives, all of it swallowed */
	lim.item_max = 100;
	/* key 3 + value 38 + header 59 = 100 fits; one more byte does not */
	ck_assert_int_eq(spc_proto_parse(&lim, "set key 0 0 38\r\n", 16, &r), SPC_PROTO_NEED_MORE);
	ck_assert_int_eq(spc_proto_parse(&lim, "set key 0 0 39\r\n", 16, &r), SPC_PROTO_ERROR);
	ck_assert_str_eq(r.reply, "SERVER_ERROR object too large for cache\r\n");
	ck_assert_int_eq(r.action, SPC_PROTO_SWALLOW);
	ck_assert(r.swallow == 41);
	ck_assert_uint_eq(r.consumed, 16);
	ck_assert(!r.silent);
	ck_assert_int_eq(spc_proto_parse(&lim, "set key 0 0 39 noreply\r\n", 24, &r), SPC_PROTO_ERROR);
	ck_assert(r.silent);
}
END_TEST

/* "Too large" names the command and key (the server then drops a set's
 * or an ms's old value), and counts 4 more header bytes for nonzero
 * client flags, as memcached does. */
START_TEST(test_too_large)
{
	static const char *const fits[] = { "set key 0 0 38\r\n", "set key 1 0 34\r\n",
					    "ms key 34 F1\r\n", "ms a2V5 38 b\r\n" };
	struct spc_proto_req r;
	const char *in;

	lim.item_max = 100; /* key 3 + value 38 + header 59 (+ 4 with flags) */
	for (size_t i = 0; i < sizeof fits / sizeof fits[0]; i++)
		ck_assert_int_eq(spc_proto_parse(&lim, fits[i], strlen(fits[i]), &r),
				 SPC_PROTO_NEED_MORE);
	in = "set key 1 0 35\r\n";
	ck_assert_int_eq(spc_proto_parse(&lim, in, strlen(in), &r), SPC_PROTO_ERROR);
	ck_assert(r.too_large);
	ck_assert_int_eq(r.cmd, SPC_PROTO_SET);
	ck_assert(r.klen == 3 && memcmp(r.key, "key", 3) == 0);
	in = "ms a2V5 35 F1 b\r\n";
	ck_assert_int_eq(spc_proto_parse(&lim, in, strlen(in), &r), SPC_PROTO_ERROR);
	ck_assert(r.too_large);
	ck_assert_int_eq(r.cmd, SPC_PROTO_MS);
	ck_assert(r.klen == 3 && memcmp(r.key, "key", 3) == 0);
	in = "ms key 36 z\r\n";
	ck_assert_int_eq(spc_proto_parse(&lim, in, strlen(in), &r), SPC_PROTO_ERROR);
	ck_assert(!r.too_large);
}
END_TEST

/* me <key> b decodes; O's length is checked after the other flags and
 * the mode. */
START_TEST(test_meta_me_and_opaque)
{
	static const char o32[] = "Oxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
	struct spc_proto_req r;
	char in[128];

	ck_assert_int_eq(spc_proto_parse(&lim, "me Zm9v b\r\n", 11, &r), SPC_PROTO_REQUEST);
	ck_assert(r.meta.base64 && r.klen == 3 && memcmp(r.key, "foo", 3) == 0);
	ck_assert_int_eq(spc_proto_parse(&lim, "me Zm9v bx\r\n", 12, &r), SPC_PROTO_REQUEST);
	ck_assert(!r.meta.base64 && r.klen == 4);
	ck_assert_int_eq(spc_proto_parse(&lim, "me k b\r\n", 8, &r), SPC_PROTO_ERROR);
	ck_assert_str_eq(r.reply, "CLIENT_ERROR bad command line format\r\n");
	snprintf(in, sizeof in, "md k %s !\r\n", o32);
	ck_assert_int_eq(spc_proto_parse(&lim, in, strlen(in), &r), SPC_PROTO_ERROR);
	ck_assert_str_eq(r.reply, "CLIENT_ERROR invalid or duplicate flag\r\n");
	snprintf(in, sizeof in, "md k %s\r\n", o32);
	ck_assert_int_eq(spc_proto_parse(&lim, in, strlen(in), &r), SPC_PROTO_ERROR);
	ck_assert_str_eq(r.reply, "CLIENT_ERROR opaque token too long\r\n");
	snprintf(in, sizeof in, "ma k %s Mx\r\n", o32);
	ck_assert_int_eq(spc_proto_parse(&lim, in, strlen(in), &r), SPC_PROTO_ERROR);
	ck_assert_str_eq(r.reply, "CLIENT_ERROR invalid mode for ma M token\r\n");
}
END_TEST

START_TEST(test_line_limits)
{
	static char buf[20000];
	struct spc_proto_req r;

	memset(buf, 'x', sizeof buf);
	ck_assert_int_eq(spc_proto_parse(&lim, buf, 2048, &r), SPC_PROTO_NEED_MORE);
	ck_assert_int_eq(spc_proto_parse(&lim, buf, 2049, &r), SPC_PROTO_ERROR);
	ck_assert_int_eq(r.action, SPC_PROTO_CLOSE);
	ck_assert_ptr_null(r.reply);
	/* a complete long line within one read buffer is served */
	buf[5000] = '\n';
	ck_assert_int_eq(spc_proto_parse(&lim, buf, 5001, &r), SPC_PROTO_ERROR);
	ck_assert_str_eq(r.reply, "ERROR\r\n");
	ck_assert_uint_eq(r.consumed, 5001);
	buf[5000] = 'x';
	buf[17000] = '\n';
	ck_assert_int_eq(spc_proto_parse(&lim, buf, 17001, &r), SPC_PROTO_ERROR);
	ck_assert_int_eq(r.action, SPC_PROTO_CLOSE);
	buf[17000] = 'x';
	/* get lines may be long, up to get_line_max */
	memcpy(buf, "get ", 4);
	ck_assert_int_eq(spc_proto_parse(&lim, buf, 19000, &r), SPC_PROTO_NEED_MORE);
	lim.get_line_max = 10000;
	ck_assert_int_eq(spc_proto_parse(&lim, buf, 10001, &r), SPC_PROTO_ERROR);
	ck_assert_int_eq(r.action, SPC_PROTO_CLOSE);
	ck_assert_int_eq(spc_proto_parse(&lim, buf, 0, &r), SPC_PROTO_NEED_MORE);
}
END_TEST

START_TEST(test_nul_ends_line)
{
	struct spc_proto_req r;

	ck_assert_int_eq(spc_proto_parse(&lim, "get a\0b c\r\n", 11, &r), SPC_PROTO_REQUEST);
	ck_assert_uint_eq(r.nkeys, 1);
	ck_assert_uint_eq(r.klen, 1);
	ck_assert_uint_eq(r.consumed, 11);
	ck_assert_int_eq(spc_proto_parse(&lim, "get\0 a\r\n", 8, &r), SPC_PROTO_ERROR);
	ck_assert_str_eq(r.reply, "ERROR\r\n");
}
END_TEST

START_TEST(test_exptime_rule)
{
	const int64_t now = 1700000000;

	ck_assert(spc_proto_exptime(0, now) == 0);
	ck_assert(spc_proto_exptime(-1, now) == -1);
	ck_assert(spc_proto_exptime(INT32_MIN, now) == -1);
	ck_assert(spc_proto_exptime(1, now) == now + 1);
	ck_assert(spc_proto_exptime(SPC_PROTO_RELATIVE_MAX, now) == now + SPC_PROTO_RELATIVE_MAX);
	ck_assert(spc_proto_exptime(SPC_PROTO_RELATIVE_MAX + 1, now) == -1);
	ck_assert(spc_proto_exptime(now + 10, now) == now + 10);
	ck_assert(spc_proto_exptime(now, now) == -1);
}
END_TEST

START_TEST(test_binary_and_names)
{
	ck_assert(spc_proto_is_binary("\x80\x01", 2));
	ck_assert(!spc_proto_is_binary("get", 3));
	ck_assert(!spc_proto_is_binary("", 0));
	ck_assert_str_eq(spc_proto_cmd_name(SPC_PROTO_FLUSH_ALL), "flush_all");
	ck_assert_str_eq(spc_proto_cmd_name(SPC_PROTO_MA), "ma");
	ck_assert_str_eq(spc_proto_cmd_name(SPC_PROTO_NONE), "?");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto_parse");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_loop_test(tc, test_table, 0, (int)NTABLE);
	tcase_add_loop_test(tc, test_table_bytewise, 0, (int)NTABLE);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_get_keys);
	tcase_add_test(tc, test_get_many_keys);
	tcase_add_test(tc, test_meta_flags);
	tcase_add_test(tc, test_meta_modes);
	tcase_add_test(tc, test_meta_base64);
	tcase_add_test(tc, test_swallow);
	tcase_add_test(tc, test_too_large);
	tcase_add_test(tc, test_meta_me_and_opaque);
	tcase_add_test(tc, test_line_limits);
	tcase_add_test(tc, test_nul_ends_line);
	tcase_add_test(tc, test_exptime_rule);
	tcase_add_test(tc, test_binary_and_names);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
