/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/fuzz/fuzz_proto.c: libFuzzer target over the protocol parser and
 * the reply writers.
 *
 * Each input is parsed twice, as a server would: once arriving whole, once
 * arriving in pieces whose sizes come from the input's own bytes. Every
 * parse sees an exact-size heap copy, so ASan reports any read past the
 * bytes given. Checked on every step (proto.c guarantees 1-3):
 *  - consumed <= len, and consumed > 0 for every request and error;
 *  - every pointer in the result (keys, data, opaque) lies inside the
 *    input, every key of a get line is at most 250 bytes;
 *  - both feedings give the same sequence of results up to the first
 *    silent close (where memcached's own answer depends on timing: a long
 *    line that arrived whole is served, in pieces it is refused).
 * Each request is also answered through the reply writers with made-up
 * values, so they run under the sanitizers too.
 *
 * Built with -DSPC_PROTO_REPLAY_MAIN it is a plain program that replays a
 * corpus directory (the CI path without clang); with SPC_FUZZ=ON and clang
 * it is the libFuzzer target spc_fuzz_proto (service/fuzz/run.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service/proto.h"

#define CHECK(c)                                                                  \
	do {                                                                      \
		if (!(c)) {                                                       \
			fprintf(stderr, "fuzz_proto: %s:%d: check failed: %s\n",  \
				__FILE__, __LINE__, #c);                          \
			abort();                                                  \
		}                                                                 \
	} while (0)

#define MAX_STEPS 4096

/* What one parse said, in a form two runs can compare. */
struct step {
	int status;
	int cmd;
	int action;
	size_t at;        /* input offset where the request started */
	size_t consumed;
	uint64_t swallow;
	const char *reply;
	int silent, noreply;
	uint32_t nkeys, flags;
	int32_t exptime;
	size_t bytes, klen;
};

struct run {
	struct step s[MAX_STEPS];
	size_t n;
};

static int inside(const char *p, size_t n, const char *base, size_t len)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static void answer(const struct spc_proto_req *r, const char *base, size_t len)
{
	struct spc_proto_out out;
	size_t pos = 0;
	const char *k;
	size_t kn;

	spc_proto_out_init_malloc(&out);
	if (r->klen)
		CHECK(inside(r->key, r->klen, base, len) ||
		      inside(r->key, r->klen, r->keybuf, sizeof r->keybuf));
	CHECK(r->klen <= SPC_PROTO_KEY_MAX);
	if (r->bytes && r->data)
		CHECK(inside(r->data, r->bytes, base, len));
	if (r->meta.opaque_len)
		CHECK(inside(r->meta.opaque, r->meta.opaque_len, base, len));
	switch (r->cmd) {
	case SPC_PROTO_GET: case SPC_PROTO_GETS: case SPC_PROTO_GAT: case SPC_PROTO_GATS: {
		uint32_t seen = 0;

		CHECK(inside(r->keys, r->keys_len, base, len) || r->keys_len == 0);
		while (spc_proto_next_key(r, &pos, &k, &kn)) {
			CHECK(kn > 0 && kn <= SPC_PROTO_KEY_MAX);
			CHECK(inside(k, kn, base, len));
			CHECK(spc_proto_reply_value(&out, k, kn, r->flags, "v", 1,
						    r->cmd == SPC_PROTO_GETS, 7) == 0);
			seen++;
		}
		CHECK(seen == r->nkeys);
		CHECK(spc_proto_puts(&out, SPC_PROTO_END) == 0);
		break;
	}
	case SPC_PROTO_MG: case SPC_PROTO_MS: case SPC_PROTO_MD: case SPC_PROTO_MA: {
		struct spc_proto_meta_vals v = {
			.have = 0x7f, .flags = r->meta.client_flags, .ttl = r->meta.ttl,
			.cas = r->meta.compare_cas, .size = r->bytes, .hit = 1, .last = 3,
			.key = r->key, .klen = r->klen, .key_base64 = r->meta.base64, .tail = "W",
		};

		CHECK(spc_proto_meta_reply(&out, r, SPC_PROTO_VA, &v, r->data, r->data ? r->bytes : 0) == 0);
		CHECK(spc_proto_meta_reply(&out, r, SPC_PROTO_EN, NULL, NULL, 0) == 0);
		break;
	}
	default: {
		const char *line = spc_proto_status_line(r->cmd, 0);

		if (line)
			CHECK(spc_proto_puts(&out, line) == 0);
		CHECK(spc_proto_reply_number(&out, r->delta) == 0);
		break;
	}
	}
	spc_proto_out_free(&out);
}

/* Feeds data in pieces (piece == NULL: whole) and records every step. */
static void feed(const uint8_t *data, size_t size, const uint8_t *piece, size_t npiece,
		 const struct spc_proto_limits *lim, struct run *run)
{
	size_t avail, off = 0, pi = 0;
	uint64_t swallow = 0;

#define NEXT_PIECE() (piece && npiece ? (size_t)(piece[pi++ % npiece] % 16) + 1 : size)
	avail = NEXT_PIECE();
	if (avail > size)
		avail = size;
	run->n = 0;
	while (run->n < MAX_STEPS) {
		if (swallow) {
			size_t take = avail - off < swallow ? avail - off : (size_t)swallow;

			off += take;
			swallow -= take;
		}
		if (!swallow && off < avail) {
			size_t len = avail - off;
			char *copy = malloc(len);
			struct spc_proto_req req;
			enum spc_proto_status st;

			CHECK(copy);
			memcpy(copy, data + off, len);
			st = spc_proto_parse(lim, copy, len, &req);
			CHECK(req.consumed <= len);
			if (st != SPC_PROTO_NEED_MORE) {
				struct step *s = &run->s[run->n++];

				CHECK(req.consumed > 0);
				memset(s, 0, sizeof *s);
				s->status = st;
				s->cmd = req.cmd;
				s->action = req.action;
				s->at = off;
				s->consumed = req.consumed;
				s->swallow = req.swallow;
				s->reply = req.reply;
				s->silent = req.silent;
				s->noreply = req.noreply;
				if (st == SPC_PROTO_REQUEST) {
					s->nkeys = req.nkeys;
					s->flags = req.flags;
					s->exptime = req.exptime;
					s->bytes = req.bytes;
					s->klen = req.klen;
					answer(&req, copy, len);
				} else {
					CHECK(req.reply || req.action == SPC_PROTO_CLOSE);
					if (req.reply)
						CHECK(req.reply_len >= 2 &&
						      memcmp(req.reply + req.reply_len - 2, "\r\n", 2) == 0);
				}
			}
			free(copy);
			if (st == SPC_PROTO_ERROR && req.action == SPC_PROTO_CLOSE)
				return;
			if (st == SPC_PROTO_REQUEST && req.cmd == SPC_PROTO_QUIT)
				return;
			if (st != SPC_PROTO_NEED_MORE) {
				off += req.consumed;
				if (st == SPC_PROTO_ERROR && req.action == SPC_PROTO_SWALLOW)
					swallow = req.swallow;
				continue;
			}
		}
		if (avail == size)
			return;
		avail += NEXT_PIECE();
		if (avail > size)
			avail = size;
	}
#undef NEXT_PIECE
}

static int same(const struct step *a, const struct step *b)
{
	return a->status == b->status && a->cmd == b->cmd && a->action == b->action &&
	       a->at == b->at && a->consumed == b->consumed && a->swallow == b->swallow &&
	       a->reply == b->reply && a->silent == b->silent && a->noreply == b->noreply &&
	       a->nkeys == b->nkeys && a->flags == b->flags && a->exptime == b->exptime &&
	       a->bytes == b->bytes && a->klen == b->klen;
}

static int silent_close(const struct step *s)
{
	return s->status == SPC_PROTO_ERROR && s->action == SPC_PROTO_CLOSE && !s->reply;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct run whole, split; /* large; reused, never shared */
	struct spc_proto_limits lim;
	size_t i;

	/* Small limits so that short inputs reach every length check. */
	spc_proto_limits_default(&lim);
	lim.line_max = 48;
	lim.read_max = 160;
	lim.get_line_max = 400;
	lim.item_max = 256;

	feed(data, size, NULL, 0, &lim, &whole);
	feed(data, size, data, size < 64 ? size : 64, &lim, &split);
	for (i = 0; i < whole.n && i < split.n; i++) {
		if (silent_close(&whole.s[i]) || silent_close(&split.s[i]))
			return 0;
		CHECK(same(&whole.s[i], &split.s[i]));
	}
	/* no silent close so far: the runs agree to the end, or the longer
	 * one's next step is a silent close (a long line that arrived whole
	 * waited for its data; in pieces it was refused) */
	if (whole.n < MAX_STEPS && split.n < MAX_STEPS && whole.n != split.n)
		CHECK(silent_close(whole.n > split.n ? &whole.s[i] : &split.s[i]));
	return 0;
}

#ifdef SPC_PROTO_REPLAY_MAIN
#include <dirent.h>

/* Replays every file of the corpus directories given. */
int main(int argc, char **argv)
{
	size_t files = 0;

	for (int a = 1; a < argc; a++) {
		DIR *d = opendir(argv[a]);
		struct dirent *e;

		if (!d) {
			fprintf(stderr, "fuzz_proto: cannot open %s\n", argv[a]);
			return 1;
		}
		while ((e = readdir(d)) != NULL) {
			char path[4096];
			FILE *f;
			uint8_t *buf;
			long n;

			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
			f = fopen(path, "rb");
			if (!f)
				continue;
			fseek(f, 0, SEEK_END);
			n = ftell(f);
			fseek(f, 0, SEEK_SET);
			buf = malloc(n > 0 ? (size_t)n : 1);
			CHECK(buf);
			CHECK(fread(buf, 1, (size_t)n, f) == (size_t)n);
			fclose(f);
			LLVMFuzzerTestOneInput(buf, (size_t)n);
			free(buf);
			files++;
		}
		closedir(d);
	}
	printf("fuzz_proto: replayed %zu inputs\n", files);
	return files ? 0 : 1;
}
#endif
