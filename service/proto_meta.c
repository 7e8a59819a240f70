/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/proto_meta.c: the meta commands mg, ms, md, ma, mn, me.
 *
 * A meta line is "<cmd> <key> [<datalen> (ms only)] <flag>*" where every
 * flag is one letter, optionally followed by its token ("T30", "Oabc").
 * What memcached 1.6.18 does with them, as observed on the real binary:
 *
 *  - One flag set is understood by all four commands: b c f h k l q s t
 *    u v C D F I J L M N O P R T; any other letter fails. Some tokens are
 *    checked whatever the command: C (64-bit unsigned), D and J (64-bit
 *    unsigned, own messages), F (unsigned, cut to 32 bits, "bad command
 *    line format"), N R T (signed, cut to 32 bits), M (exactly one
 *    character), b (the key must decode as base64). A letter given twice
 *    fails. O's length (at most 31 bytes) is checked after every other
 *    flag and the mode, with its own line on every command.
 *  - mg and ms name the failure ("CLIENT_ERROR invalid flag", "duplicate
 *    flag", "bad token in command line format", ...); md and ma answer
 *    every flag failure with "CLIENT_ERROR invalid or duplicate flag".
 *  - A line of more than 19 tokens fails before any flag is read ("options
 *    flags are too long" for mg, "options flags too long" otherwise).
 *  - ms: a bad key or datalen is refused without touching the data block
 *    (so it is then read as a command: ERROR); a flag failure swallows
 *    the data block; a bad M mode (not E A P R S) too.
 *  - ma modes are I + (increment) and D - (decrement).
 *  - The base64 decoder is lenient: bytes outside the alphabet are
 *    skipped, a quantum holding '=' ends the key, an incomplete quantum or
 *    an empty result fails.
 * Extensions over 1.6.18 (later 1.6 releases have them): E<cas> on every
 * meta command and x on md.
 *
 * Guarantees (tests/unit/proto): 1. every failure above carries the exact
 * line and action of memcached 1.6.18; 2. the decoded key never exceeds
 * SPC_PROTO_KEY_MAX bytes and lives in req->keybuf; 3. meta.order lists
 * the flags in request order, each once.
 */
#include "service/proto_int.h"

#include <string.h>

static const char e_too_long_mg[] = "CLIENT_ERROR options flags are too long\r\n";
static const char e_too_long[] = "CLIENT_ERROR options flags too long\r\n";
static const char e_invalid[] = "CLIENT_ERROR invalid flag\r\n";
static const char e_dup[] = "CLIENT_ERROR duplicate flag\r\n";
static const char e_generic[] = "CLIENT_ERROR invalid or duplicate flag\r\n";
static const char e_token[] = "CLIENT_ERROR bad token in command line format\r\n";
static const char e_delta[] = "CLIENT_ERROR invalid numeric delta value\r\n";
static const char e_initial[] = "CLIENT_ERROR invalid numeric initial value\r\n";
static const char e_mlen[] = "CLIENT_ERROR incorrect length for M token\r\n";
static const char e_opaque[] = "CLIENT_ERROR opaque token too long\r\n";
static const char e_decode[] = "CLIENT_ERROR error decoding key\r\n";
static const char e_ms_mode[] = "CLIENT_ERROR invalid mode for ms M token\r\n";
static const char e_ma_mode[] = "CLIENT_ERROR invalid mode for ma M token\r\n";

static int b64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	if (c == '=')
		return 64; /* padding */
	return -1;
}

/* Lenient decode (see the essay); returns the length, 0 on failure. */
static size_t b64_decode(const char *src, size_t n, char *dst)
{
	int q[4];
	size_t nq = 0, out = 0;

	for (size_t i = 0; i < n; i++) {
		int v = b64_value(src[i]);

		if (v < 0)
			continue;
		q[nq++] = v;
		if (nq < 4)
			continue;
		nq = 0;
		if (q[0] == 64 || q[1] == 64)
			return 0;
		dst[out++] = (char)((q[0] << 2) | (q[1] >> 4));
		if (q[2] == 64)
			return out;
		dst[out++] = (char)(((q[1] & 15) << 4) | (q[2] >> 2));
		if (q[3] == 64)
			return out;
		dst[out++] = (char)(((q[2] & 3) << 6) | q[3]);
	}
	return nq ? 0 : out;
}

size_t spc_proto_base64_encode(const void *src, size_t n, char *dst)
{
	static const char abc[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = src;
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)s[i + 1] << 8;
		if (i + 2 < n)
			v |= s[i + 2];
		dst[o++] = abc[(v >> 18) & 63];
		dst[o++] = abc[(v >> 12) & 63];
		dst[o++] = i + 1 < n ? abc[(v >> 6) & 63] : '=';
		dst[o++] = i + 2 < n ? abc[v & 63] : '=';
	}
	return o;
}

static bool flag_known(enum spc_proto_cmd cmd, char c)
{
	if (c == '\0')
		return false;
	if (strchr("bcfhklqstuvCDEFIJLMNOPRT", c))
		return true;
	return c == 'x' && cmd == SPC_PROTO_MD;
}

/* One flag token; returns NULL or the error line. */
static const char *meta_flag(struct spc_proto_req *req, const struct spc_proto_tok *t)
{
	struct spc_proto_meta *m = &req->meta;
	struct spc_proto_tok v = { t->p + 1, t->n - 1 };
	char c = t->p[0];

	if (!flag_known(req->cmd, c))
		return e_invalid;
	if (m->seen & SPC_PROTO_MF(c))
		return e_dup;
	m->seen |= SPC_PROTO_MF(c);
	m->order[m->norder++] = c;
	switch (c) {
	case 'b': {
		size_t n = b64_decode(m->key_token, m->key_token_len, req->keybuf);

		if (n == 0)
			return e_decode;
		m->base64 = true;
		req->key = req->keybuf;
		req->klen = n;
		return NULL;
	}
	case 'q':
		m->quiet = true;
		return NULL;
	case 'O': /* its length is checked after the other flags */
		m->opaque = v.p;
		m->opaque_len = v.n;
		return NULL;
	case 'C':
		return spc_proto_num_u64(&v, &m->compare_cas) ? NULL : e_token;
	case 'E':
		return spc_proto_num_u64(&v, &m->new_cas) ? NULL : e_token;
	case 'D':
		return spc_proto_num_u64(&v, &m->delta) ? NULL : e_delta;
	case 'J':
		return spc_proto_num_u64(&v, &m->initial) ? NULL : e_initial;
	case 'F': {
		uint64_t f;

		if (!spc_proto_num_u64(&v, &f))
			return spc_proto_e_format;
		m->client_flags = (uint32_t)f;
		return NULL;
	}
	case 'N':
	case 'R':
	case 'T': {
		int64_t x;
		int32_t *dst = c == 'N' ? &m->vivify_ttl : c == 'R' ? &m->recache_ttl : &m->ttl;

		if (!spc_proto_num_i64(&v, &x))
			return e_token;
		/* cut to 32 bits as memcached does, defined for any value */
		*dst = (int32_t)(uint32_t)(uint64_t)x;
		return NULL;
	}
	case 'M':
		if (v.n != 1)
			return e_mlen;
		m->mode = v.p[0];
		return NULL;
	default:
		return NULL;
	}
}

enum spc_proto_status spc_proto_parse_meta(const struct spc_proto_limits *lim,
					   const char *buf, size_t len,
					   const struct spc_proto_line *line,
					   struct spc_proto_req *req)
{
	struct spc_proto_meta *m = &req->meta;
	enum spc_proto_cmd cmd = req->cmd;
	size_t nt = line->ntok, first = cmd == SPC_PROTO_MS ? 3 : 2;
	int32_t vlen = 0;
	const char *err = NULL;

	if (cmd == SPC_PROTO_MN)
		return SPC_PROTO_REQUEST;
	if (nt < 2)
		return spc_proto_fail(req, cmd == SPC_PROTO_ME ? spc_proto_e_format
							     : spc_proto_e_error,
				      SPC_PROTO_CONTINUE);
	req->key = m->key_token = line->tok[1].p;
	req->klen = m->key_token_len = line->tok[1].n;
	if (req->klen > SPC_PROTO_KEY_MAX || (cmd == SPC_PROTO_MS && nt < 3))
		return spc_proto_fail(req, spc_proto_e_format, SPC_PROTO_CONTINUE);
	if (cmd == SPC_PROTO_ME) {
		/* me <key> [b]: only a second token of exactly "b" decodes */
		if (nt >= 3 && spc_proto_tok_is(&line->tok[2], "b")) {
			size_t n = b64_decode(m->key_token, m->key_token_len, req->keybuf);

			if (n == 0)
				return spc_proto_fail(req, spc_proto_e_format, SPC_PROTO_CONTINUE);
			m->base64 = true;
			req->key = req->keybuf;
			req->klen = n;
		}
		return SPC_PROTO_REQUEST;
	}
	if (nt > SPC_PROTO_META_TOKENS_MAX)
		return spc_proto_fail(req, cmd == SPC_PROTO_MG ? e_too_long_mg : e_too_long,
				      SPC_PROTO_CONTINUE);
	if (cmd == SPC_PROTO_MS) {
		int64_t v;

		if (!spc_proto_num_i64(&line->tok[2], &v))
			return spc_proto_fail(req, spc_proto_e_format, SPC_PROTO_CONTINUE);
		vlen = (int32_t)(uint32_t)(uint64_t)v;
		if (vlen < 0 || vlen > INT32_MAX - 2)
			return spc_proto_fail(req, spc_proto_e_format, SPC_PROTO_CONTINUE);
		req->bytes = (size_t)vlen;
		m->mode = 'S';
	} else if (cmd == SPC_PROTO_MA) {
		m->mode = 'I';
		m->delta = 1;
	}

	for (size_t i = first; i < nt && !err; i++)
		err = meta_flag(req, &line->tok[i]);
	if (err && (cmd == SPC_PROTO_MD || cmd == SPC_PROTO_MA))
		err = e_generic;
	if (!err && cmd == SPC_PROTO_MS && !(m->mode && strchr("EAPRS", m->mode)))
		err = e_ms_mode;
	if (!err && cmd == SPC_PROTO_MA && !(m->mode && strchr("I+D-", m->mode)))
		err = e_ma_mode;
	/* memcached checks O's length last, while it writes the reply */
	if (!err && m->opaque_len > SPC_PROTO_OPAQUE_MAX)
		err = e_opaque;
	if (err) {
		if (cmd == SPC_PROTO_MS) {
			req->swallow = (uint64_t)req->bytes + 2;
			return spc_proto_fail(req, err, SPC_PROTO_SWALLOW);
		}
		return spc_proto_fail(req, err, SPC_PROTO_CONTINUE);
	}
	if (cmd == SPC_PROTO_MS)
		return spc_proto_data_block(lim, buf, len, req, false);
	return SPC_PROTO_REQUEST;
}
