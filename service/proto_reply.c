/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/proto_reply.c: memcached's reply bytes, appended to a growable
 * buffer the caller owns.
 *
 * The buffer grows through the caller's grow() hook, so the server can
 * charge output memory to a connection's cap and refuse to grow it. Each
 * writer first computes how many bytes it adds, grows once, then copies:
 *
 * Guarantees (tests/unit/proto):
 *  1. Every writer appends exactly memcached 1.6.18's bytes (recorded from
 *     the real server) or, when grow() fails, returns SPC_ENOMEM and leaves
 *     out->len and the bytes before it unchanged.
 *  2. Meta replies echo return flags in the request's order; on a miss or
 *     a refusal only k and O are echoed (nothing else is known); base64
 *     keys are echoed re-encoded from the decoded key (bytes the decoder
 *     skipped are not echoed) and followed by " b".
 *  3. The q flag hides exactly EN for mg and HD for ms, md and ma.
 */
#include "service/proto_int.h"

#include <stdlib.h>
#include <string.h>

#include "splitcache.h"

const char SPC_PROTO_STORED[] = "STORED\r\n";
const char SPC_PROTO_NOT_STORED[] = "NOT_STORED\r\n";
const char SPC_PROTO_EXISTS[] = "EXISTS\r\n";
const char SPC_PROTO_NOT_FOUND[] = "NOT_FOUND\r\n";
const char SPC_PROTO_DELETED[] = "DELETED\r\n";
const char SPC_PROTO_TOUCHED[] = "TOUCHED\r\n";
const char SPC_PROTO_OK[] = "OK\r\n";
const char SPC_PROTO_END[] = "END\r\n";
const char SPC_PROTO_ERROR_LINE[] = "ERROR\r\n";
const char SPC_PROTO_RESET[] = "RESET\r\n";

static const char e_oom_store[] = "SERVER_ERROR out of memory storing object\r\n";
static const char e_oom[] = "SERVER_ERROR out of memory\r\n";
static const char e_non_numeric[] =
	"CLIENT_ERROR cannot increment or decrement non-numeric value\r\n";

int spc_proto_out_grow_malloc(struct spc_proto_out *out, size_t need)
{
	size_t cap = out->cap ? out->cap : 256;
	char *p;

	while (cap < need) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	p = realloc(out->data, cap);
	if (!p)
		return -1;
	out->data = p;
	out->cap = cap;
	return 0;
}

void spc_proto_out_init_malloc(struct spc_proto_out *out)
{
	memset(out, 0, sizeof *out);
	out->grow = spc_proto_out_grow_malloc;
}

void spc_proto_out_free(struct spc_proto_out *out)
{
	free(out->data);
	out->data = NULL;
	out->len = out->cap = 0;
}

/* Makes room for n more bytes. */
static int reserve(struct spc_proto_out *out, size_t n)
{
	if (n > SIZE_MAX - out->len)
		return SPC_ENOMEM;
	if (out->len + n <= out->cap)
		return SPC_OK;
	if (!out->grow || out->grow(out, out->len + n) != 0 || out->cap < out->len + n)
		return SPC_ENOMEM;
	return SPC_OK;
}

int spc_proto_put(struct spc_proto_out *out, const void *p, size_t n)
{
	if (reserve(out, n) != SPC_OK)
		return SPC_ENOMEM;
	if (n)
		memcpy(out->data + out->len, p, n);
	out->len += n;
	return SPC_OK;
}

int spc_proto_puts(struct spc_proto_out *out, const char *s)
{
	return spc_proto_put(out, s, strlen(s));
}

/* Decimal digits of v into b (room for 20); returns the length. */
static size_t fmt_u64(char *b, uint64_t v)
{
	char t[20];
	size_t n = 0, i;

	do {
		t[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		b[i] = t[n - 1 - i];
	return n;
}

static size_t fmt_i64(char *b, int64_t v)
{
	if (v >= 0)
		return fmt_u64(b, (uint64_t)v);
	b[0] = '-';
	return 1 + fmt_u64(b + 1, (uint64_t)0 - (uint64_t)v);
}

/* A small line builder on the stack; a line never outgrows it except by
 * the key and opaque, which are bounded. */
struct line {
	char b[SPC_PROTO_KEY_MAX * 2 + SPC_PROTO_OPAQUE_MAX + 512];
	size_t n;
};

static void l_raw(struct line *l, const void *p, size_t n)
{
	if (n)
		memcpy(l->b + l->n, p, n);
	l->n += n;
}

static void l_str(struct line *l, const char *s)
{
	l_raw(l, s, strlen(s));
}

static void l_u64(struct line *l, uint64_t v)
{
	l->n += fmt_u64(l->b + l->n, v);
}

static void l_i64(struct line *l, int64_t v)
{
	l->n += fmt_i64(l->b + l->n, v);
}

int spc_proto_reply_error(struct spc_proto_out *out, const struct spc_proto_req *req)
{
	if (req->silent || !req->reply)
		return SPC_OK;
	return spc_proto_put(out, req->reply, req->reply_len);
}

int spc_proto_reply_value(struct spc_proto_out *out, const char *key, size_t klen,
			  uint32_t flags, const void *data, size_t bytes,
			  bool with_cas, uint64_t cas)
{
	struct line l = { .n = 0 };

	if (klen > SPC_PROTO_KEY_MAX)
		return SPC_EINVAL;
	l_str(&l, "VALUE ");
	l_raw(&l, key, klen);
	l_str(&l, " ");
	l_u64(&l, flags);
	l_str(&l, " ");
	l_u64(&l, bytes);
	if (with_cas) {
		l_str(&l, " ");
		l_u64(&l, cas);
	}
	l_str(&l, "\r\n");
	if (reserve(out, l.n + bytes + 2) != SPC_OK)
		return SPC_ENOMEM;
	spc_proto_put(out, l.b, l.n);
	spc_proto_put(out, data, bytes);
	spc_proto_put(out, "\r\n", 2);
	return SPC_OK;
}

int spc_proto_reply_number(struct spc_proto_out *out, uint64_t value)
{
	struct line l = { .n = 0 };

	l_u64(&l, value);
	l_str(&l, "\r\n");
	return spc_proto_put(out, l.b, l.n);
}

int spc_proto_reply_version(struct spc_proto_out *out, const char *version)
{
	size_t n = strlen(version);

	if (reserve(out, 8 + n + 2) != SPC_OK)
		return SPC_ENOMEM;
	spc_proto_put(out, "VERSION ", 8);
	spc_proto_put(out, version, n);
	return spc_proto_put(out, "\r\n", 2);
}

int spc_proto_reply_stat(struct spc_proto_out *out, const char *name, const char *value)
{
	size_t a = strlen(name), b = strlen(value);

	if (reserve(out, 5 + a + 1 + b + 2) != SPC_OK)
		return SPC_ENOMEM;
	spc_proto_put(out, "STAT ", 5);
	spc_proto_put(out, name, a);
	spc_proto_put(out, " ", 1);
	spc_proto_put(out, value, b);
	return spc_proto_put(out, "\r\n", 2);
}

int spc_proto_reply_mn(struct spc_proto_out *out)
{
	return spc_proto_put(out, "MN\r\n", 4);
}

const char *spc_proto_status_line(enum spc_proto_cmd cmd, int status)
{
	bool storage = cmd == SPC_PROTO_SET || cmd == SPC_PROTO_ADD ||
		       cmd == SPC_PROTO_REPLACE || cmd == SPC_PROTO_APPEND ||
		       cmd == SPC_PROTO_PREPEND || cmd == SPC_PROTO_CAS;

	if (status == SPC_EFULL || status == SPC_EBUSY || (status == SPC_ENOMEM && storage))
		return e_oom_store;
	if (status == SPC_ENOMEM)
		return e_oom;
	if (status == SPC_ETOOBIG && storage)
		return spc_proto_e_too_large;
	if (status == SPC_EINVAL)
		return spc_proto_e_format;
	switch (cmd) {
	case SPC_PROTO_CAS:
		return status == SPC_OK ? SPC_PROTO_STORED
		       : status == SPC_EEXISTS ? SPC_PROTO_EXISTS
		       : status == SPC_ENOTFOUND ? SPC_PROTO_NOT_FOUND : NULL;
	case SPC_PROTO_SET:
	case SPC_PROTO_ADD:
	case SPC_PROTO_REPLACE:
	case SPC_PROTO_APPEND:
	case SPC_PROTO_PREPEND:
		return status == SPC_OK ? SPC_PROTO_STORED
		       : (status == SPC_EEXISTS || status == SPC_ENOTFOUND) ? SPC_PROTO_NOT_STORED
		       : NULL;
	case SPC_PROTO_DELETE:
		return status == SPC_OK ? SPC_PROTO_DELETED
		       : status == SPC_ENOTFOUND ? SPC_PROTO_NOT_FOUND : NULL;
	case SPC_PROTO_TOUCH:
		return status == SPC_OK ? SPC_PROTO_TOUCHED
		       : status == SPC_ENOTFOUND ? SPC_PROTO_NOT_FOUND : NULL;
	case SPC_PROTO_INCR:
	case SPC_PROTO_DECR:
		return status == SPC_ENOTFOUND ? SPC_PROTO_NOT_FOUND
		       : status == SPC_ENOTNUM ? e_non_numeric : NULL;
	case SPC_PROTO_FLUSH_ALL:
	case SPC_PROTO_VERBOSITY:
		return status == SPC_OK ? SPC_PROTO_OK : NULL;
	default:
		return NULL;
	}
}

bool spc_proto_meta_quiet(const struct spc_proto_req *req, enum spc_proto_meta_code code)
{
	if (!req->meta.quiet)
		return false;
	if (req->cmd == SPC_PROTO_MG)
		return code == SPC_PROTO_EN;
	return code == SPC_PROTO_HD &&
	       (req->cmd == SPC_PROTO_MS || req->cmd == SPC_PROTO_MD || req->cmd == SPC_PROTO_MA);
}

/* " k<key>" or " k<base64> b". */
static void l_key(struct line *l, const char *key, size_t klen, bool encode, bool b_flag)
{
	l_str(l, " k");
	if (encode)
		l->n += spc_proto_base64_encode(key, klen, l->b + l->n);
	else
		l_raw(l, key, klen);
	if (b_flag)
		l_str(l, " b");
}

int spc_proto_meta_reply(struct spc_proto_out *out, const struct spc_proto_req *req,
			 enum spc_proto_meta_code code, const struct spc_proto_meta_vals *v,
			 const void *value, size_t vlen)
{
	static const char *const names[] = { "HD", "VA", "EN", "NF", "NS", "EX" };
	const struct spc_proto_meta *m = &req->meta;
	unsigned have = v ? v->have : 0;
	struct line l = { .n = 0 };

	if (spc_proto_meta_quiet(req, code))
		return SPC_OK;
	if (have & SPC_PROTO_MV_KEY && v->klen > SPC_PROTO_KEY_MAX)
		return SPC_EINVAL;
	l_str(&l, names[code]);
	if (code == SPC_PROTO_VA) {
		l_str(&l, " ");
		l_u64(&l, vlen);
	}
	for (size_t i = 0; i < m->norder; i++) {
		switch (m->order[i]) {
		case 'f':
			if (have & SPC_PROTO_MV_FLAGS) {
				l_str(&l, " f");
				l_u64(&l, v->flags);
			}
			break;
		case 't':
			if (have & SPC_PROTO_MV_TTL) {
				l_str(&l, " t");
				l_i64(&l, v->ttl);
			}
			break;
		case 'c':
			if (have & SPC_PROTO_MV_CAS) {
				l_str(&l, " c");
				l_u64(&l, v->cas);
			}
			break;
		case 's':
			if (have & SPC_PROTO_MV_SIZE) {
				l_str(&l, " s");
				l_u64(&l, v->size);
			}
			break;
		case 'h':
			if (have & SPC_PROTO_MV_HIT) {
				l_str(&l, " h");
				l_u64(&l, v->hit);
			}
			break;
		case 'l':
			if (have & SPC_PROTO_MV_LAST) {
				l_str(&l, " l");
				l_u64(&l, v->last);
			}
			break;
		case 'k':
			if (have & SPC_PROTO_MV_KEY)
				l_key(&l, v->key, v->klen, v->key_base64, v->key_base64);
			else
				l_key(&l, req->key, req->klen, m->base64, m->base64);
			break;
		case 'O':
			l_str(&l, " O");
			l_raw(&l, m->opaque, m->opaque_len);
			break;
		default:
			break;
		}
	}
	if (v && v->tail && v->tail[0]) {
		size_t n = strlen(v->tail);

		if (n > 64)
			return SPC_EINVAL;
		l_str(&l, " ");
		l_raw(&l, v->tail, n);
	}
	l_str(&l, "\r\n");
	if (reserve(out, l.n + (code == SPC_PROTO_VA ? vlen + 2 : 0)) != SPC_OK)
		return SPC_ENOMEM;
	spc_proto_put(out, l.b, l.n);
	if (code == SPC_PROTO_VA) {
		spc_proto_put(out, value, vlen);
		spc_proto_put(out, "\r\n", 2);
	}
	return SPC_OK;
}
