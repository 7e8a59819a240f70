/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/proto_tok.c: the pieces both request parsers use (proto.c for
 * the classic commands, proto_meta.c for the meta commands) and the
 * small decoders the server asks for, so that calls inside the protocol
 * module go one way: proto.c -> proto_meta.c -> proto_tok.c, and
 * proto_reply.c -> proto_tok.c.
 *
 *  - error results and the error lines shared by both parsers;
 *  - token comparison and memcached's numeric token rules (the essay of
 *    proto.c says which C library rules memcached relies on);
 *  - the data block of a storage command or ms: the item size check
 *    before the bytes arrive, then the "\r\n" check;
 *  - the view pool's "@<height>/<rest>" key convention, and memcached's
 *    exptime rule as an absolute time and as the cache's expiry;
 *  - base64 encoding (the b flag's keys, shown by k and by me).
 *
 * Guarantees (tests/unit/proto): as proto.c's 1, 2 and 5: only the bytes
 * given are read, nothing is allocated, no state survives a call.
 */
#include "service/proto_int.h"

#include <string.h>

#include "splitcache.h"

const char spc_proto_e_format[] = "CLIENT_ERROR bad command line format\r\n";
const char spc_proto_e_error[] = "ERROR\r\n";
const char spc_proto_e_too_large[] = "SERVER_ERROR object too large for cache\r\n";
static const char e_chunk[] = "CLIENT_ERROR bad data chunk\r\n";

enum spc_proto_status spc_proto_fail(struct spc_proto_req *req, const char *reply,
				     enum spc_proto_action action)
{
	req->reply = reply;
	req->reply_len = reply ? strlen(reply) : 0;
	req->action = action;
	return SPC_PROTO_ERROR;
}

bool spc_proto_tok_is(const struct spc_proto_tok *t, const char *s)
{
	size_t n = strlen(s);

	return t->n == n && memcmp(t->p, s, n) == 0;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* strtoull/strtoll shape: *neg, magnitude (saturating), *ovf; returns the
 * index after the digits, or 0 when there are none. */
static size_t scan_digits(const struct spc_proto_tok *t, bool *neg, uint64_t *mag, bool *ovf,
			  uint64_t limit)
{
	size_t i = 0, start;

	*neg = false;
	*mag = 0;
	*ovf = false;
	while (i < t->n && is_space(t->p[i]))
		i++;
	if (i < t->n && (t->p[i] == '+' || t->p[i] == '-'))
		*neg = t->p[i++] == '-';
	start = i;
	for (; i < t->n && t->p[i] >= '0' && t->p[i] <= '9'; i++) {
		unsigned d = (unsigned)(t->p[i] - '0');

		if (*ovf || *mag > (limit - d) / 10)
			*ovf = true;
		else
			*mag = *mag * 10 + d;
	}
	if (i == start)
		return 0;
	/* whitespace is tolerated after the number, anything else fails */
	if (i < t->n && !is_space(t->p[i]))
		return 0;
	return i;
}

bool spc_proto_num_u64(const struct spc_proto_tok *t, uint64_t *out)
{
	bool neg, ovf;
	uint64_t mag, v;

	if (!scan_digits(t, &neg, &mag, &ovf, UINT64_MAX) || ovf)
		return false;
	v = neg ? (uint64_t)0 - mag : mag;
	if (neg && (v >> 63))
		return false;
	*out = v;
	return true;
}

bool spc_proto_num_i64(const struct spc_proto_tok *t, int64_t *out)
{
	bool neg, ovf;
	uint64_t mag;

	if (!scan_digits(t, &neg, &mag, &ovf, UINT64_MAX) || ovf)
		return false;
	if (neg ? mag > (UINT64_C(1) << 63) : mag > (uint64_t)INT64_MAX)
		return false;
	*out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return true;
}

enum spc_proto_status spc_proto_data_block(const struct spc_proto_limits *lim,
					   const char *buf, size_t len,
					   struct spc_proto_req *req, bool silent_errors)
{
	size_t need = req->consumed + req->bytes + 2;
	uint32_t flags = req->cmd == SPC_PROTO_MS ? req->meta.client_flags : req->flags;
	/* memcached stores nonzero client flags in 4 more header bytes */
	size_t overhead = lim->item_overhead + (flags ? sizeof flags : 0);

	if (overhead + req->klen + req->bytes > lim->item_max || req->bytes > lim->item_max) {
		req->silent = silent_errors;
		req->too_large = true;
		req->swallow = (uint64_t)req->bytes + 2;
		return spc_proto_fail(req, spc_proto_e_too_large, SPC_PROTO_SWALLOW);
	}
	if (len < need) {
		req->consumed = 0;
		return SPC_PROTO_NEED_MORE;
	}
	req->data = buf + req->consumed;
	req->consumed = need;
	if (buf[need - 2] != '\r' || buf[need - 1] != '\n') {
		req->silent = silent_errors;
		return spc_proto_fail(req, e_chunk, SPC_PROTO_CONTINUE);
	}
	return SPC_PROTO_REQUEST;
}

bool spc_proto_key_at(const char *key, size_t klen, uint64_t *height, size_t *prefix)
{
	uint64_t h = 0;
	size_t i;

	if (klen < 3 || key[0] != '@')
		return false;
	for (i = 1; i < klen && key[i] >= '0' && key[i] <= '9'; i++) {
		unsigned d = (unsigned)(key[i] - '0');

		if (i > SPC_PROTO_HEIGHT_DIGITS || h > (UINT64_MAX - d) / 10)
			return false;
		h = h * 10 + d;
	}
	if (i == 1 || i + 1 >= klen || key[i] != '/')
		return false;
	*height = h;
	*prefix = i + 1;
	return true;
}

uint64_t spc_proto_expiry(int64_t exptime, uint64_t now)
{
	int64_t t = spc_proto_exptime(exptime, (int64_t)now);

	if (t < 0)
		return 1; /* a deadline in the past: invisible at once */
	return (uint64_t)t;
}

int64_t spc_proto_exptime(int64_t exptime, int64_t now)
{
	if (exptime == 0)
		return 0;
	if (exptime < 0)
		return -1;
	if (exptime <= SPC_PROTO_RELATIVE_MAX)
		return now + exptime;
	return exptime > now ? exptime : -1;
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
