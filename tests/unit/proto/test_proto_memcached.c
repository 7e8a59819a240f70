/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Byte-exact replies against memcached 1.6.18, without a network.
 *
 * memcached_corpus.h holds inputs and the exact bytes the real server sent
 * back (recorded by record_corpus.py on a flushed server with -I 1k). Here
 * each input goes through the parser and an "empty cache" model that
 * answers every well-formed request as memcached does when no key exists
 * (get: END, set: STORED, delete: NOT_FOUND, mg: EN, ...); error replies,
 * swallowing and closing come from the parser alone. The model's bytes and
 * close must equal memcached's: whole, in pipelined batches, and (where
 * memcached itself does not depend on how bytes arrive) in small pieces.
 * Checks guarantees 1, 3 and 4 of proto.c and 1-3 of proto_meta.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/proto.h"

#include "corpus_case.h"
#include "memcached_corpus.h"

#define NCASES (sizeof corpus / sizeof corpus[0])

static void limits(struct spc_proto_limits *lim)
{
	spc_proto_limits_default(lim);
	lim->item_max = SPC_PROTO_CORPUS_ITEM_MAX;
}

/* How memcached answers a well-formed request when the cache is empty. */
static void answer(struct spc_proto_out *o, const struct spc_proto_req *r, bool *closed)
{
	const char *line = NULL;

	switch (r->cmd) {
	case SPC_PROTO_GET: case SPC_PROTO_GETS: case SPC_PROTO_GAT: case SPC_PROTO_GATS:
		line = SPC_PROTO_END;
		break;
	case SPC_PROTO_SET: case SPC_PROTO_ADD:
		line = spc_proto_status_line(r->cmd, 0);
		break;
	case SPC_PROTO_REPLACE: case SPC_PROTO_APPEND: case SPC_PROTO_PREPEND:
	case SPC_PROTO_CAS: case SPC_PROTO_DELETE: case SPC_PROTO_INCR: case SPC_PROTO_DECR:
	case SPC_PROTO_TOUCH:
		line = spc_proto_status_line(r->cmd, -1 /* SPC_ENOTFOUND */);
		break;
	case SPC_PROTO_FLUSH_ALL: case SPC_PROTO_VERBOSITY:
		line = spc_proto_status_line(r->cmd, 0);
		break;
	case SPC_PROTO_QUIT:
		*closed = true;
		return;
	case SPC_PROTO_MG:
		ck_assert_int_eq(spc_proto_meta_reply(o, r, SPC_PROTO_EN, NULL, NULL, 0), 0);
		return;
	case SPC_PROTO_MS:
		ck_assert_int_eq(spc_proto_meta_reply(o, r, strchr("SE", r->meta.mode)
						      ? SPC_PROTO_HD : SPC_PROTO_NS,
						      NULL, NULL, 0), 0);
		return;
	case SPC_PROTO_MD: case SPC_PROTO_MA:
		ck_assert_int_eq(spc_proto_meta_reply(o, r, SPC_PROTO_NF, NULL, NULL, 0), 0);
		return;
	case SPC_PROTO_MN:
		ck_assert_int_eq(spc_proto_reply_mn(o), 0);
		return;
	case SPC_PROTO_ME:
		ck_assert_int_eq(spc_proto_puts(o, "EN\r\n"), 0);
		return;
	default:
		ck_abort_msg("command %s is not in the corpus model", spc_proto_cmd_name(r->cmd));
	}
	ck_assert_ptr_nonnull(line);
	if (!r->noreply)
		ck_assert_int_eq(spc_proto_puts(o, line), 0);
}

/*
 * Feeds in[0..n) as a server would, `chunk` bytes per read (0: all at
 * once): every parse sees an exact-size heap copy of what has arrived, so
 * ASan catches any read past it. Returns the bytes left unparsed.
 */
static size_t run_model(const char *in, size_t n, size_t chunk, struct spc_proto_out *o,
			bool *closed)
{
	struct spc_proto_limits lim;
	struct spc_proto_req req;
	size_t avail = chunk && chunk < n ? chunk : n, off = 0;
	uint64_t swallow = 0;

	limits(&lim);
	*closed = false;
	for (;;) {
		if (swallow) {
			size_t take = avail - off < swallow ? avail - off : (size_t)swallow;

			off += take;
			swallow -= take;
		}
		if (!swallow && off < avail) {
			char *copy = malloc(avail - off);
			enum spc_proto_status st;

			ck_assert_ptr_nonnull(copy);
			memcpy(copy, in + off, avail - off);
			st = spc_proto_parse(&lim, copy, avail - off, &req);
			ck_assert_uint_le(req.consumed, avail - off);
			if (st == SPC_PROTO_REQUEST) {
				ck_assert_uint_gt(req.consumed, 0);
				answer(o, &req, closed);
			} else if (st == SPC_PROTO_ERROR) {
				ck_assert_uint_gt(req.consumed, 0);
				ck_assert_int_eq(spc_proto_reply_error(o, &req), 0);
				if (req.action == SPC_PROTO_CLOSE)
					*closed = true;
				if (req.action == SPC_PROTO_SWALLOW)
					swallow = req.swallow;
			}
			free(copy);
			if (*closed)
				return n - off - req.consumed;
			if (st != SPC_PROTO_NEED_MORE) {
				off += req.consumed;
				continue;
			}
		}
		if (avail == n)
			return n - off;
		avail = chunk && n - avail > chunk ? avail + chunk : n;
	}
}

static void expect_case(const struct corpus_case *c, size_t chunk)
{
	struct spc_proto_out o;
	bool closed;

	spc_proto_out_init_malloc(&o);
	run_model(c->in, c->in_len, chunk, &o, &closed);
	ck_assert_msg(o.len == c->out_len && (o.len == 0 || memcmp(o.data, c->out, o.len) == 0),
		      "%s (chunk %zu): got \"%.*s\", memcached said \"%.*s\"", c->name, chunk,
		      (int)o.len, o.data ? o.data : "", (int)c->out_len, c->out);
	ck_assert_msg(closed == (c->closed != 0), "%s (chunk %zu): closed %d, memcached %d",
		      c->name, chunk, closed, c->closed);
	spc_proto_out_free(&o);
}

START_TEST(test_case_whole)
{
	expect_case(&corpus[_i], 0);
}
END_TEST

START_TEST(test_case_split)
{
	const struct corpus_case *c = &corpus[_i];
	static const size_t chunks[] = { 1, 2, 3, 7, 64 };

	if (!c->split_ok)
		return;
	for (size_t k = 0; k < sizeof chunks / sizeof chunks[0]; k++)
		expect_case(c, chunks[k]);
}
END_TEST

/* Cases that end on a request boundary and keep the connection, sent
 * back to back on one connection, give memcached's replies back to back. */
START_TEST(test_pipelined)
{
	struct spc_proto_out in, want, got;
	size_t used = 0;

	spc_proto_out_init_malloc(&in);
	spc_proto_out_init_malloc(&want);
	for (size_t i = 0; i < NCASES; i++) {
		struct spc_proto_out tmp;
		bool closed;
		size_t rest;

		spc_proto_out_init_malloc(&tmp);
		rest = run_model(corpus[i].in, corpus[i].in_len, 0, &tmp, &closed);
		spc_proto_out_free(&tmp);
		if (closed || rest || !corpus[i].split_ok)
			continue;
		ck_assert_int_eq(spc_proto_put(&in, corpus[i].in, corpus[i].in_len), 0);
		ck_assert_int_eq(spc_proto_put(&want, corpus[i].out, corpus[i].out_len), 0);
		used++;
	}
	ck_assert_uint_gt(used, NCASES / 2);
	for (size_t chunk = 0; chunk <= 5; chunk += 5) {
		bool closed;

		spc_proto_out_init_malloc(&got);
		ck_assert_uint_eq(run_model(in.data, in.len, chunk, &got, &closed), 0);
		ck_assert(!closed);
		ck_assert_uint_eq(got.len, want.len);
		ck_assert(memcmp(got.data, want.data, got.len) == 0);
		spc_proto_out_free(&got);
	}
	spc_proto_out_free(&in);
	spc_proto_out_free(&want);
}
END_TEST

/* The corpus must still cover what issue 6 lists; a shrunken corpus
 * would let the tests above pass vacuously. */
START_TEST(test_corpus_covers_issue)
{
	static const char *const must[] = {
		"set_neg_len", "set_len_2_31", "set_flags_2_64", "get_key_251",
		"get_ctrl_in_key", "set_short_chunk", "line_2049_open", "binary_garbage",
		"http_get", "set_too_large", "mg_key_251", "ms_too_large",
	};

	ck_assert_str_eq(SPC_PROTO_CORPUS_VERSION, "memcached 1.6.18");
	for (size_t m = 0; m < sizeof must / sizeof must[0]; m++) {
		size_t i = 0;

		while (i < NCASES && strcmp(corpus[i].name, must[m]) != 0)
			i++;
		ck_assert_msg(i < NCASES, "corpus lacks %s", must[m]);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto_memcached");
	TCase *tc = tcase_create("corpus");
	SRunner *sr;
	int failed;

	tcase_add_loop_test(tc, test_case_whole, 0, (int)NCASES);
	tcase_add_loop_test(tc, test_case_split, 0, (int)NCASES);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_corpus_covers_issue);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
