/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * service/proto.c: framing, tokenizing and the classic text commands.
 *
 * How memcached 1.6 reads a request, learnt from the Debian binary (1.6.18)
 * and the protocol documentation, and what this parser does the same way:
 *
 * A request is a line ended by '\n'; one '\r' before it is dropped, so bare
 * '\n' works and "get a\r\r\n" asks for the key "a\r". The line splits on
 * spaces only: runs of spaces are one separator, leading and trailing
 * spaces are ignored, and tabs or control bytes belong to the token (a key
 * may hold them). Command names are case-sensitive ("GET" is ERROR).
 *
 * memcached waits for the '\n' of a line up to 2048 bytes; past that it
 * closes the connection without a word unless the line starts (after at
 * most 100 spaces) with "get " or "gets ", whose key lists may be long. A
 * line that arrives whole within one 16 KiB read is served whatever its
 * length. We keep both numbers as limits (line_max, read_max), so a long
 * line arriving in one piece gets the same answer as from memcached.
 *
 * Numbers follow the C library rules memcached relies on: leading
 * whitespace and a sign are allowed, at least one digit is needed, an
 * overflow of 64 bits fails, and the byte after the digits must end the
 * token or be whitespace ("3\tx" reads as 3). Unsigned fields refuse a
 * '-' only when the wrapped value has its top bit set ("-0" is 0). The
 * client flags are then cut to 32 bits, exptimes and lengths to 32-bit
 * signed, so "set k 4294967296 0 1" stores flags 0 and a length of
 * 4294967299 means 3; a length whose "+ 2" overflows is refused.
 *
 * An unknown command or an arity that does not fit the command is
 * "ERROR"; but an unknown command whose line ends in a token starting
 * "HTTP/" makes memcached close the connection (an HTTP client). A NUL
 * byte ends the line early, as memcached reads no token past it.
 * "noreply" is the last token of a classic command other than the get
 * family, and it silences the error lines that follow (not "ERROR").
 *
 * Storage commands wait for <bytes> + 2 bytes after the line and refuse
 * them with "CLIENT_ERROR bad data chunk" when the last two are not
 * "\r\n"; those bytes are consumed either way. A value over the item size
 * limit is refused at once and its <bytes> + 2 are swallowed as they come.
 *
 * Guarantees, each checked by tests/unit/proto:
 *  1. consumed <= len, and consumed > 0 for every REQUEST and ERROR.
 *  2. Only buf[0..len) is read (the fuzz target runs under ASan on exact-
 *     size copies).
 *  3. Feeding input in any split gives the same results as feeding it
 *     whole, for lines within line_max.
 *  4. Every error carries memcached 1.6.18's exact reply line and action.
 *  5. Nothing is allocated and no state survives a call.
 */
#include "service/proto_int.h"

#include <string.h>

#include "splitcache.h"

const char spc_proto_e_format[] = "CLIENT_ERROR bad command line format\r\n";
const char spc_proto_e_error[] = "ERROR\r\n";
const char spc_proto_e_too_large[] = "SERVER_ERROR object too large for cache\r\n";
static const char e_chunk[] = "CLIENT_ERROR bad data chunk\r\n";
static const char e_delta[] = "CLIENT_ERROR invalid numeric delta argument\r\n";
static const char e_exptime[] = "CLIENT_ERROR invalid exptime argument\r\n";
static const char e_delete[] =
	"CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n";

void spc_proto_limits_default(struct spc_proto_limits *lim)
{
	lim->line_max = 2048;
	lim->read_max = 16384;
	lim->get_line_max = 1u << 20;
	lim->item_max = 1u << 20;
	lim->item_overhead = 59;
}

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

/* The C conversion of an out-of-range value to a narrower type, spelt out
 * (two's complement) so it is defined behaviour. */
static int32_t trunc_i32(int64_t v)
{
	uint32_t u = (uint32_t)(uint64_t)v;

	return u <= INT32_MAX ? (int32_t)u : (int32_t)(u - UINT32_C(0x80000000)) - INT32_MAX - 1;
}

static bool num_i32(const struct spc_proto_tok *t, int32_t *out)
{
	int64_t v;

	if (!spc_proto_num_i64(t, &v))
		return false;
	*out = trunc_i32(v);
	return true;
}

static bool num_u32(const struct spc_proto_tok *t, uint32_t *out)
{
	uint64_t v;

	if (!spc_proto_num_u64(t, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

/* Splits [p, end) on spaces, storing the first SPC_PROTO_TOKENS. */
static void tokenize(const char *p, const char *end, struct spc_proto_line *line)
{
	line->ntok = 0;
	while (p < end) {
		const char *s;

		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		s = p;
		while (p < end && *p != ' ')
			p++;
		if (line->ntok < SPC_PROTO_TOKENS) {
			line->tok[line->ntok].p = s;
			line->tok[line->ntok].n = (size_t)(p - s);
		}
		line->ntok++;
	}
}

/* memcached's exception to the line limit: "get " or "gets " after at
 * most 100 leading spaces. */
static bool is_get_line(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && buf[i] == ' ')
		i++;
	if (i > 100)
		return false;
	buf += i;
	len -= i;
	return (len >= 4 && memcmp(buf, "get ", 4) == 0) ||
	       (len >= 5 && memcmp(buf, "gets ", 5) == 0);
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

static bool key_ok(struct spc_proto_req *req, const struct spc_proto_tok *t)
{
	req->key = t->p;
	req->klen = t->n;
	return t->n <= SPC_PROTO_KEY_MAX;
}

static bool noreply_last(const struct spc_proto_line *l)
{
	return l->ntok <= SPC_PROTO_TOKENS && spc_proto_tok_is(&l->tok[l->ntok - 1], "noreply");
}

/* get, gets, gat, gats: tokens from `first` on are keys. */
static enum spc_proto_status parse_get(const struct spc_proto_line *l, size_t first,
				       struct spc_proto_req *req)
{
	const char *p = l->tok[first - 1].p + l->tok[first - 1].n;
	size_t pos = 0;
	const char *k;
	size_t kn;

	if (req->cmd == SPC_PROTO_GAT || req->cmd == SPC_PROTO_GATS) {
		if (!num_i32(&l->tok[1], &req->exptime))
			return spc_proto_fail(req, e_exptime, SPC_PROTO_CONTINUE);
		req->has_exptime = true;
	}
	while (p < l->end && *p == ' ')
		p++;
	req->keys = p;
	req->keys_len = (size_t)(l->end - p);
	req->nkeys = (uint32_t)(l->ntok - first);
	while (spc_proto_next_key(req, &pos, &k, &kn))
		if (kn > SPC_PROTO_KEY_MAX)
			return spc_proto_fail(req, spc_proto_e_format, SPC_PROTO_CONTINUE);
	if (req->nkeys) {
		req->key = l->tok[first].p;
		req->klen = l->tok[first].n;
	}
	return SPC_PROTO_REQUEST;
}

static enum spc_proto_status parse_storage(const struct spc_proto_limits *lim,
					   const char *buf, size_t len,
					   const struct spc_proto_line *l,
					   struct spc_proto_req *req)
{
	size_t base = req->cmd == SPC_PROTO_CAS ? 6 : 5;
	int32_t vlen;

	if (l->ntok != base && l->ntok != base + 1)
		return spc_proto_fail(req, spc_proto_e_error, SPC_PROTO_CONTINUE);
	req->noreply = l->ntok == base + 1 && noreply_last(l);
	req->silent = req->noreply;
	if (!key_ok(req, &l->tok[1]) || !num_u32(&l->tok[2], &req->flags) ||
	    !num_i32(&l->tok[3], &req->exptime) || !num_i32(&l->tok[4], &vlen) ||
	    vlen < 0 || vlen > INT32_MAX - 2 ||
	    (req->cmd == SPC_PROTO_CAS && !spc_proto_num_u64(&l->tok[5], &req->cas)))
		return spc_proto_fail(req, spc_proto_e_format, SPC_PROTO_CONTINUE);
	req->silent = false;
	req->has_exptime = true;
	req->bytes = (size_t)vlen;
	return spc_proto_data_block(lim, buf, len, req, req->noreply);
}

static enum spc_proto_status parse_classic(const struct spc_proto_line *l,
					   struct spc_proto_req *req)
{
	size_t nt = l->ntok;

	switch (req->cmd) {
	case SPC_PROTO_DELETE: {
		bool zero;

		if (nt < 2 || nt > 4)
			return spc_proto_fail(req, spc_proto_e_error, SPC_PROTO_CONTINUE);
		req->noreply = nt > 2 && noreply_last(l);
		req->silent = req->noreply;
		if (!key_ok(req, &l->tok[1]))
			return spc_proto_fail(req, spc_proto_e_format, SPC_PROTO_CONTINUE);
		zero = nt > 2 && spc_proto_tok_is(&l->tok[2], "0");
		if ((nt == 3 && !zero && !req->noreply) || (nt == 4 && !(zero && req->noreply)))
			return spc_proto_fail(req, e_delete, SPC_PROTO_CONTINUE);
		break;
	}
	case SPC_PROTO_INCR:
	case SPC_PROTO_DECR:
	case SPC_PROTO_TOUCH:
		if (nt != 3 && nt != 4)
			return spc_proto_fail(req, spc_proto_e_error, SPC_PROTO_CONTINUE);
		req->noreply = nt == 4 && noreply_last(l);
		req->silent = req->noreply;
		if (!key_ok(req, &l->tok[1]))
			return spc_proto_fail(req, spc_proto_e_format, SPC_PROTO_CONTINUE);
		if (req->cmd == SPC_PROTO_TOUCH) {
			if (!num_i32(&l->tok[2], &req->exptime))
				return spc_proto_fail(req, e_exptime, SPC_PROTO_CONTINUE);
			req->has_exptime = true;
		} else if (!spc_proto_num_u64(&l->tok[2], &req->delta)) {
			return spc_proto_fail(req, e_delta, SPC_PROTO_CONTINUE);
		}
		break;
	case SPC_PROTO_FLUSH_ALL:
		if (nt > 3)
			return spc_proto_fail(req, spc_proto_e_error, SPC_PROTO_CONTINUE);
		req->noreply = nt > 1 && noreply_last(l);
		req->silent = req->noreply;
		if (nt != (req->noreply ? 2u : 1u)) {
			if (!num_i32(&l->tok[1], &req->exptime))
				return spc_proto_fail(req, e_exptime, SPC_PROTO_CONTINUE);
			req->has_exptime = true;
		}
		break;
	case SPC_PROTO_VERBOSITY:
		if (nt != 2 && nt != 3)
			return spc_proto_fail(req, spc_proto_e_error, SPC_PROTO_CONTINUE);
		req->noreply = noreply_last(l);
		req->silent = req->noreply;
		if (!num_u32(&l->tok[1], &req->verbosity))
			return spc_proto_fail(req, spc_proto_e_format, SPC_PROTO_CONTINUE);
		break;
	case SPC_PROTO_CACHE_MEMLIMIT:
		/* memcached 1.6.18: ERROR for a missing or bad number, words
		 * after the number ignored unless the last is noreply */
		if (nt < 2 || !spc_proto_num_u64(&l->tok[1], &req->delta))
			return spc_proto_fail(req, spc_proto_e_error, SPC_PROTO_CONTINUE);
		req->noreply = nt > 2 && noreply_last(l);
		req->silent = req->noreply;
		break;
	case SPC_PROTO_SPLIT_MODE:
		if (nt < 2 || nt > 4)
			return spc_proto_fail(req, spc_proto_e_error, SPC_PROTO_CONTINUE);
		req->noreply = nt > 2 && noreply_last(l);
		req->silent = req->noreply;
		req->keys = l->tok[1].p;
		req->keys_len = (size_t)(l->tok[nt - 1 - (req->noreply ? 1 : 0)].p +
					 l->tok[nt - 1 - (req->noreply ? 1 : 0)].n - l->tok[1].p);
		req->nkeys = (uint32_t)(nt - 1 - (req->noreply ? 1 : 0));
		break;
	case SPC_PROTO_STATS:
		if (nt > 1) {
			req->keys = l->tok[1].p;
			req->keys_len = (size_t)(l->end - l->tok[1].p);
			req->nkeys = (uint32_t)(nt - 1);
			req->key = l->tok[1].p;
			req->klen = l->tok[1].n;
		}
		break;
	default: /* version, quit: arguments are ignored */
		break;
	}
	req->silent = false;
	return SPC_PROTO_REQUEST;
}

static const struct {
	const char *name;
	enum spc_proto_cmd cmd;
} commands[] = {
	{ "get", SPC_PROTO_GET }, { "gets", SPC_PROTO_GETS }, { "gat", SPC_PROTO_GAT },
	{ "gats", SPC_PROTO_GATS }, { "set", SPC_PROTO_SET }, { "add", SPC_PROTO_ADD },
	{ "replace", SPC_PROTO_REPLACE }, { "append", SPC_PROTO_APPEND },
	{ "prepend", SPC_PROTO_PREPEND }, { "cas", SPC_PROTO_CAS },
	{ "delete", SPC_PROTO_DELETE }, { "incr", SPC_PROTO_INCR }, { "decr", SPC_PROTO_DECR },
	{ "touch", SPC_PROTO_TOUCH }, { "flush_all", SPC_PROTO_FLUSH_ALL },
	{ "version", SPC_PROTO_VERSION }, { "verbosity", SPC_PROTO_VERBOSITY },
	{ "stats", SPC_PROTO_STATS }, { "quit", SPC_PROTO_QUIT }, { "mg", SPC_PROTO_MG },
	{ "ms", SPC_PROTO_MS }, { "md", SPC_PROTO_MD }, { "ma", SPC_PROTO_MA },
	{ "mn", SPC_PROTO_MN }, { "me", SPC_PROTO_ME },
	{ "cache_memlimit", SPC_PROTO_CACHE_MEMLIMIT }, { "split_mode", SPC_PROTO_SPLIT_MODE },
};

const char *spc_proto_cmd_name(enum spc_proto_cmd cmd)
{
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (commands[i].cmd == cmd)
			return commands[i].name;
	return "?";
}

/* ERROR, or a silent close for what looks like an HTTP request line. */
static enum spc_proto_status unknown(const struct spc_proto_line *l, struct spc_proto_req *req)
{
	const struct spc_proto_tok *last;

	req->silent = false;
	if (l->ntok > 0 && l->ntok <= SPC_PROTO_TOKENS) {
		last = &l->tok[l->ntok - 1];
		if (last->n >= 5 && memcmp(last->p, "HTTP/", 5) == 0)
			return spc_proto_fail(req, NULL, SPC_PROTO_CLOSE);
	}
	return spc_proto_fail(req, spc_proto_e_error, SPC_PROTO_CONTINUE);
}

enum spc_proto_status spc_proto_parse(const struct spc_proto_limits *lim,
				      const char *buf, size_t len,
				      struct spc_proto_req *req)
{
	struct spc_proto_line line;
	const char *nl = len ? memchr(buf, '\n', len) : NULL;
	const char *end;
	enum spc_proto_status st;
	size_t i;

	memset(req, 0, offsetof(struct spc_proto_req, keybuf));
	if (!nl) {
		if (len <= lim->line_max)
			return SPC_PROTO_NEED_MORE;
		req->consumed = len;
		if (is_get_line(buf, len) && len <= lim->get_line_max) {
			req->consumed = 0;
			return SPC_PROTO_NEED_MORE;
		}
		return spc_proto_fail(req, NULL, SPC_PROTO_CLOSE);
	}
	line.consumed = (size_t)(nl - buf) + 1;
	req->consumed = line.consumed;
	if (line.consumed > lim->read_max &&
	    !(is_get_line(buf, line.consumed) && line.consumed <= lim->get_line_max))
		return spc_proto_fail(req, NULL, SPC_PROTO_CLOSE);
	end = nl;
	if (end > buf && end[-1] == '\r')
		end--;
	/* memcached stops reading a line at its first NUL byte */
	{
		const char *nul = memchr(buf, '\0', (size_t)(end - buf));

		if (nul)
			end = nul;
	}
	line.end = end;
	tokenize(buf, end, &line);
	if (line.ntok == 0)
		return spc_proto_fail(req, spc_proto_e_error, SPC_PROTO_CONTINUE);

	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (line.tok[0].p[0] == commands[i].name[0] &&
		    spc_proto_tok_is(&line.tok[0], commands[i].name))
			break;
	if (i == sizeof commands / sizeof commands[0])
		return unknown(&line, req);
	req->cmd = commands[i].cmd;

	switch (req->cmd) {
	case SPC_PROTO_GET:
	case SPC_PROTO_GETS:
		if (line.ntok < 2)
			return spc_proto_fail(req, spc_proto_e_error, SPC_PROTO_CONTINUE);
		return parse_get(&line, 1, req);
	case SPC_PROTO_GAT:
	case SPC_PROTO_GATS:
		if (line.ntok < 2)
			return spc_proto_fail(req, spc_proto_e_error, SPC_PROTO_CONTINUE);
		return parse_get(&line, 2, req);
	case SPC_PROTO_SET:
	case SPC_PROTO_ADD:
	case SPC_PROTO_REPLACE:
	case SPC_PROTO_APPEND:
	case SPC_PROTO_PREPEND:
	case SPC_PROTO_CAS:
		if (line.ntok > SPC_PROTO_TOKENS)
			return spc_proto_fail(req, spc_proto_e_error, SPC_PROTO_CONTINUE);
		st = parse_storage(lim, buf, len, &line, req);
		break;
	case SPC_PROTO_MG:
	case SPC_PROTO_MS:
	case SPC_PROTO_MD:
	case SPC_PROTO_MA:
	case SPC_PROTO_MN:
	case SPC_PROTO_ME:
		st = spc_proto_parse_meta(lim, buf, len, &line, req);
		break;
	default:
		if (line.ntok > SPC_PROTO_TOKENS)
			return spc_proto_fail(req, spc_proto_e_error, SPC_PROTO_CONTINUE);
		st = parse_classic(&line, req);
		break;
	}
	return st;
}

bool spc_proto_next_key(const struct spc_proto_req *req, size_t *pos,
			const char **key, size_t *klen)
{
	size_t i = *pos, s;

	while (i < req->keys_len && req->keys[i] == ' ')
		i++;
	if (i >= req->keys_len)
		return false;
	s = i;
	while (i < req->keys_len && req->keys[i] != ' ')
		i++;
	*key = req->keys + s;
	*klen = i - s;
	*pos = i;
	return true;
}

bool spc_proto_is_binary(const char *buf, size_t len)
{
	return len > 0 && (unsigned char)buf[0] == 0x80;
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
