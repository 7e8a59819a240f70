/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * trace.c: readers for the access traces of tests/data/traces (formats in its README).
 *
 * A trace is read whole: the file is decompressed into one buffer (the
 * compression is recognised by its magic bytes: gzip 1f 8b, xz fd 37 7a
 * 58 5a 00, zstd 28 b5 2f fd; anything else is read as is), then parsed
 * into an array of requests {key, size}. The largest trace in the
 * collection (cloudphysics, 5.3 M requests) takes 21 MB decompressed and
 * 85 MB parsed, which is acceptable for a benchmark and keeps the replay
 * loop free of I/O.
 *
 * Formats (traces README):
 *   lirs       text, one decimal key per line; lines that are `*` skipped
 *   arc        text `start count 0 reqno`: count requests start..start+count-1
 *   u32be      binary big-endian 32-bit keys (cache2k, cloudphysics)
 *   u64be      binary big-endian 64-bit keys (corda, scarab)
 *   address    text `op 0xADDR n`: the key is ADDR
 *   adaptsize  text `time id size`: the key is id, size in bytes
 *
 * Guarantees (tests/unit/bench): request and distinct-key counts equal the
 * README's table for every trace; malformed text lines are an error with
 * the line number, never silently skipped (except the `*` lines of lirs).
 */
#include "bench.h"

#include <errno.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

struct buf {
	unsigned char *p;
	size_t n, cap;
};

static int buf_reserve(struct buf *b, size_t more)
{
	if (b->n + more <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 1 << 20;
	while (cap < b->n + more)
		cap *= 2;
	unsigned char *p = realloc(b->p, cap);
	if (!p)
		return -1;
	b->p = p;
	b->cap = cap;
	return 0;
}

static void seterr(char *err, size_t cap, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t cap, const char *fmt, ...)
{
	if (!err || cap == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

static int read_file(const char *path, struct buf *raw, char *err, size_t errcap)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		seterr(err, errcap, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (buf_reserve(raw, 1 << 20) != 0) {
			fclose(f);
			seterr(err, errcap, "%s: out of memory", path);
			return -1;
		}
		size_t got = fread(raw->p + raw->n, 1, raw->cap - raw->n, f);
		raw->n += got;
		if (got == 0)
			break;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		seterr(err, errcap, "%s: read error", path);
		return -1;
	}
	return 0;
}

static int inflate_gzip(const struct buf *in, struct buf *out)
{
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	if (inflateInit2(&zs, 15 + 32) != Z_OK) /* +32: gzip or zlib header */
		return -1;
	zs.next_in = in->p;
	zs.avail_in = (uInt)in->n;
	int rc = Z_OK;
	while (rc != Z_STREAM_END) {
		if (buf_reserve(out, 1 << 20) != 0)
			break;
		zs.next_out = out->p + out->n;
		zs.avail_out = (uInt)(out->cap - out->n);
		rc = inflate(&zs, Z_NO_FLUSH);
		out->n = out->cap - zs.avail_out;
		if (rc == Z_STREAM_END && zs.avail_in > 0) /* concatenated members */
			rc = inflateReset(&zs) == Z_OK ? Z_OK : Z_DATA_ERROR;
		if (rc != Z_OK && rc != Z_STREAM_END)
			break;
	}
	inflateEnd(&zs);
	return rc == Z_STREAM_END ? 0 : -1;
}

static int inflate_xz(const struct buf *in, struct buf *out)
{
	lzma_stream ls = LZMA_STREAM_INIT;
	if (lzma_stream_decoder(&ls, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return -1;
	ls.next_in = in->p;
	ls.avail_in = in->n;
	lzma_ret rc = LZMA_OK;
	while (rc == LZMA_OK) {
		if (buf_reserve(out, 1 << 20) != 0)
			break;
		ls.next_out = out->p + out->n;
		ls.avail_out = out->cap - out->n;
		rc = lzma_code(&ls, ls.avail_in ? LZMA_RUN : LZMA_FINISH);
		out->n = out->cap - ls.avail_out;
	}
	lzma_end(&ls);
	return rc == LZMA_STREAM_END ? 0 : -1;
}

static int inflate_zstd(const struct buf *in, struct buf *out)
{
	ZSTD_DStream *ds = ZSTD_createDStream();
	if (!ds)
		return -1;
	ZSTD_initDStream(ds);
	ZSTD_inBuffer ib = {in->p, in->n, 0};
	size_t rc = 1;
	while (ib.pos < ib.size) {
		if (buf_reserve(out, 1 << 20) != 0) {
			rc = 1;
			break;
		}
		ZSTD_outBuffer ob = {out->p + out->n, out->cap - out->n, 0};
		rc = ZSTD_decompressStream(ds, &ob, &ib);
		out->n += ob.pos;
		if (ZSTD_isError(rc))
			break;
	}
	/* drain what the decoder still holds */
	while (!ZSTD_isError(rc) && rc != 0) {
		if (buf_reserve(out, 1 << 20) != 0)
			break;
		ZSTD_outBuffer ob = {out->p + out->n, out->cap - out->n, 0};
		rc = ZSTD_decompressStream(ds, &ob, &ib);
		out->n += ob.pos;
		if (ob.pos == 0)
			break;
	}
	ZSTD_freeDStream(ds);
	return (!ZSTD_isError(rc) && rc == 0) ? 0 : -1;
}

static const char *const fmt_names[BENCH_FMT_COUNT] = {
	"lirs", "arc", "u32be", "u64be", "address", "adaptsize"};

const char *bench_trace_format_name(enum bench_trace_format f)
{
	return (unsigned)f < BENCH_FMT_COUNT ? fmt_names[f] : "?";
}

int bench_trace_format_parse(const char *name, enum bench_trace_format *out)
{
	static const struct {
		const char *name;
		enum bench_trace_format f;
	} alias[] = {
		{"lirs", BENCH_FMT_LIRS},       {"arc", BENCH_FMT_ARC},
		{"u32be", BENCH_FMT_U32BE},     {"cache2k", BENCH_FMT_U32BE},
		{"cloudphysics", BENCH_FMT_U32BE}, {"u64be", BENCH_FMT_U64BE},
		{"corda", BENCH_FMT_U64BE},     {"scarab", BENCH_FMT_U64BE},
		{"address", BENCH_FMT_ADDRESS}, {"address_gcc", BENCH_FMT_ADDRESS},
		{"adaptsize", BENCH_FMT_ADAPTSIZE},
	};
	for (size_t i = 0; i < sizeof(alias) / sizeof(alias[0]); i++)
		if (strcmp(name, alias[i].name) == 0) {
			*out = alias[i].f;
			return 0;
		}
	return -1;
}

int bench_trace_format_guess(const char *path, enum bench_trace_format *out)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	static const char *const prefixes[] = {"lirs",  "arc",    "cache2k", "cloudphysics",
	                                       "corda", "scarab", "address", "adaptsize"};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (strncmp(base, prefixes[i], strlen(prefixes[i])) == 0)
			return bench_trace_format_parse(prefixes[i], out);
	return -1;
}

static int push(struct bench_trace *t, size_t *cap, uint64_t key, uint32_t size)
{
	if (t->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1 << 16;
		void *p = realloc(t->reqs, nc * sizeof(*t->reqs));
		if (!p)
			return -1;
		t->reqs = p;
		*cap = nc;
	}
	t->reqs[t->n].key = key;
	t->reqs[t->n].size = size;
	t->n++;
	t->total_bytes += size;
	return 0;
}

/* Parses up to max unsigned fields (decimal, or hex after 0x) from a line;
 * non-numeric leading tokens (the op of address) are skipped when skip is
 * set. Returns the number of fields read. */
static int fields(const char *s, const char *end, uint64_t *f, int max, int skip_words)
{
	int n = 0;
	while (s < end && n < max) {
		while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
			s++;
		if (s >= end)
			break;
		const char *tok = s;
		while (s < end && *s != ' ' && *s != '\t' && *s != '\r')
			s++;
		int base = 10;
		const char *d = tok;
		if (s - tok > 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) {
			base = 16;
			d = tok + 2;
		}
		uint64_t v = 0;
		int ok = d < s;
		for (const char *c = d; c < s && ok; c++) {
			int dig;
			if (*c >= '0' && *c <= '9')
				dig = *c - '0';
			else if (base == 16 && *c >= 'a' && *c <= 'f')
				dig = *c - 'a' + 10;
			else if (base == 16 && *c >= 'A' && *c <= 'F')
				dig = *c - 'A' + 10;
			else
				ok = 0, dig = 0;
			v = v * (uint64_t)base + (uint64_t)dig;
		}
		if (!ok) {
			if (skip_words && n == 0)
				continue;
			return -1;
		}
		f[n++] = v;
	}
	return n;
}

static int parse_text(const struct buf *b, enum bench_trace_format fmt, struct bench_trace *t,
                      char *err, size_t errcap)
{
	size_t cap = 0, line = 0;
	const char *s = (const char *)b->p, *end = s + b->n;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		line++;
		const char *p = s;
		s = nl ? nl + 1 : end;
		while (p < le && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p == le)
			continue; /* blank line */
		if (fmt == BENCH_FMT_LIRS && *p == '*')
			continue;
		uint64_t f[4];
		int n = fields(p, le, f, 4, fmt == BENCH_FMT_ADDRESS);
		int rc = 0;
		switch (fmt) {
		case BENCH_FMT_LIRS:
			rc = n >= 1 ? push(t, &cap, f[0], 1) : -2;
			break;
		case BENCH_FMT_ARC:
			if (n < 2)
				rc = -2;
			for (uint64_t i = 0; rc == 0 && i < f[1]; i++)
				rc = push(t, &cap, f[0] + i, 1);
			break;
		case BENCH_FMT_ADDRESS:
			rc = n >= 1 ? push(t, &cap, f[0], 1) : -2;
			break;
		case BENCH_FMT_ADAPTSIZE:
			rc = n >= 3 ? push(t, &cap, f[1], f[2] > UINT32_MAX ? UINT32_MAX : (uint32_t)f[2])
			            : -2;
			break;
		default:
			rc = -2;
		}
		if (rc == -1) {
			seterr(err, errcap, "out of memory");
			return -1;
		}
		if (rc == -2) {
			seterr(err, errcap, "line %zu: not a %s record", line, fmt_names[fmt]);
			return -1;
		}
	}
	return 0;
}

static int parse_binary(const struct buf *b, unsigned width, struct bench_trace *t, char *err,
                        size_t errcap)
{
	if (b->n % width != 0) {
		seterr(err, errcap, "length %zu is not a multiple of %u", b->n, width);
		return -1;
	}
	size_t n = b->n / width;
	t->reqs = malloc((n ? n : 1) * sizeof(*t->reqs));
	if (!t->reqs) {
		seterr(err, errcap, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		for (unsigned j = 0; j < width; j++)
			v = (v << 8) | b->p[i * width + j];
		t->reqs[i].key = v;
		t->reqs[i].size = 1;
	}
	t->n = n;
	t->total_bytes = n;
	return 0;
}

int bench_trace_load(const char *path, enum bench_trace_format fmt, struct bench_trace *out,
                     char *err, size_t errcap)
{
	struct buf raw = {0}, dec = {0};
	const struct buf *data = &raw;
	memset(out, 0, sizeof(*out));
	if (read_file(path, &raw, err, errcap) != 0) {
		free(raw.p);
		return -1;
	}
	static const unsigned char xz_magic[6] = {0xfd, '7', 'z', 'X', 'Z', 0};
	static const unsigned char zstd_magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
	int rc = 0;
	const char *what = NULL;
	if (raw.n >= 2 && raw.p[0] == 0x1f && raw.p[1] == 0x8b)
		rc = inflate_gzip(&raw, &dec), what = "gzip", data = &dec;
	else if (raw.n >= 6 && memcmp(raw.p, xz_magic, 6) == 0)
		rc = inflate_xz(&raw, &dec), what = "xz", data = &dec;
	else if (raw.n >= 4 && memcmp(raw.p, zstd_magic, 4) == 0)
		rc = inflate_zstd(&raw, &dec), what = "zstd", data = &dec;
	if (rc != 0) {
		seterr(err, errcap, "%s: corrupt or truncated %s data", path, what);
		free(raw.p);
		free(dec.p);
		return -1;
	}
	if (fmt == BENCH_FMT_U32BE)
		rc = parse_binary(data, 4, out, err, errcap);
	else if (fmt == BENCH_FMT_U64BE)
		rc = parse_binary(data, 8, out, err, errcap);
	else
		rc = parse_text(data, fmt, out, err, errcap);
	free(raw.p);
	free(dec.p);
	if (rc != 0) {
		bench_trace_free(out);
		return -1;
	}
	return 0;
}

void bench_trace_free(struct bench_trace *t)
{
	free(t->reqs);
	memset(t, 0, sizeof(*t));
}

size_t bench_trace_count_distinct(struct bench_trace *t)
{
	/* open addressing on mixed keys; slot value key+1 so 0 means empty
	 * (key UINT64_MAX is counted apart) */
	size_t cap = 16;
	while (cap < t->n * 2)
		cap *= 2;
	uint64_t *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return 0;
	size_t distinct = 0;
	int has_max = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint64_t k = t->reqs[i].key;
		if (k == UINT64_MAX) {
			has_max = 1;
			continue;
		}
		size_t j = bench_mix64(k) & (cap - 1);
		while (slots[j] != 0 && slots[j] != k + 1)
			j = (j + 1) & (cap - 1);
		if (slots[j] == 0) {
			slots[j] = k + 1;
			distinct++;
		}
	}
	free(slots);
	t->distinct = distinct + (size_t)has_max;
	return t->distinct;
}
