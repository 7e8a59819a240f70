/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/keyfmt.c: readable key rendering (format in core/keyfmt.h).
 *
 * The debug mode of the seed system printed keys as text segments and hex;
 * keys there are paths of text and binary parts (heights, hashes), so a
 * key is cut at each '/' and every part is shown in the form that reads
 * best: text (printable ASCII and UTF-8) as text, 20- and 32-byte binary
 * (the hashes of the chain: RIPEMD-160 and SHA-256 sizes) as labelled hex,
 * other short binary in full hex with the little-endian value of 4- and
 * 8-byte parts (heights and counters), long binary shortened to its ends
 * and its length. UTF-8 is checked strictly (shortest form, no
 * surrogates, no C1 controls; RFC 3629): a byte that is not part of a
 * printable character is shown as \xNN inside text, so a log line never
 * carries a control character or a broken sequence.
 *
 * Guarantees (tests/unit/keyfmt checks them)
 *  1. The output is exactly the format of core/keyfmt.h, byte for byte.
 *  2. Never writes past buf[cap - 1]; the output is NUL-terminated whenever
 *     cap > 0, truncated or not; *needed is the full length in every case,
 *     so a second call with cap = needed + 1 returns SPC_OK.
 *  3. Pure: no allocation, no state; any thread, any number of calls.
 */
#include "core/keyfmt.h"

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "base/base.h"

/* Length of the printable character at s[0..n): a printable ASCII byte
 * (0x20..0x7e) is 1; a valid UTF-8 sequence (shortest form, no surrogate,
 * at most U+10FFFF) of a code point from U+00A0 on is 2 to 4; anything
 * else (control bytes, C1 controls, stray or truncated sequences) is 0. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len, i;

	if (s[0] >= 0x20 && s[0] <= 0x7e)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1fu;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0fu;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07u;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp < 0xa0)
		return 0;
	return len;
}

/* Bytes of s[0..n) that belong to printable characters. */
static size_t printable_bytes(const unsigned char *s, size_t n)
{
	size_t i = 0, good = 0;

	while (i < n) {
		size_t c = utf8_char(s + i, n - i);

		good += c;
		i += c ? c : 1;
	}
	return good;
}

/* Text, with every byte outside a printable character as \xNN. */
static void put_text(struct spc_sb *sb, const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t run = 0, c;

		while (i + run < n && (c = utf8_char(s + i + run, n - i - run)) != 0)
			run += c;
		/* In pieces: the precision of %.*s is an int. */
		while (run > 0) {
			int piece = run > 4096 ? 4096 : (int)run;

			spc_sb_printf(sb, "%.*s", piece, (const char *)(s + i));
			i += (size_t)piece;
			run -= (size_t)piece;
		}
		if (i < n)
			spc_sb_printf(sb, "\\x%02x", s[i++]);
	}
}

static void put_hex(struct spc_sb *sb, const unsigned char *s, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char chunk[65];
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		chunk[o++] = digits[s[i] >> 4];
		chunk[o++] = digits[s[i] & 15];
		if (o == sizeof chunk - 1 || i + 1 == n) {
			chunk[o] = '\0';
			spc_sb_printf(sb, "%s", chunk);
			o = 0;
		}
	}
}

static uint64_t load_le(const unsigned char *s, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = (v << 8) | s[n];
	return v;
}

static void put_segment(struct spc_sb *sb, const unsigned char *s, size_t n)
{
	size_t good = printable_bytes(s, n);

	/* Text: all of it printable, or at least 3 bytes of 4 (the rest as
	 * \xNN). The empty segment is text too. */
	if (good * SPC_KEYFMT_TEXT_DEN >= n * SPC_KEYFMT_TEXT_NUM) {
		put_text(sb, s, n);
		return;
	}
	if (n == 20 || n == 32) {
		spc_sb_printf(sb, "hash%zu:", n);
		put_hex(sb, s, n);
		return;
	}
	spc_sb_printf(sb, "0x");
	if (n > SPC_KEYFMT_FULL_MAX) {
		put_hex(sb, s, SPC_KEYFMT_HEAD);
		spc_sb_printf(sb, "...");
		put_hex(sb, s + n - SPC_KEYFMT_TAIL, SPC_KEYFMT_TAIL);
		spc_sb_printf(sb, "(%zu bytes)", n);
		return;
	}
	put_hex(sb, s, n);
	if (n == 4 || n == 8)
		spc_sb_printf(sb, "(=%" PRIu64 ")", load_le(s, n));
}

int spc_key_render(const void *key, size_t klen, char *buf, size_t cap, size_t *needed)
{
	const unsigned char *k = key, *end, *slash;
	struct spc_sb sb;

	if ((!key && klen > 0) || (!buf && cap > 0))
		return SPC_EINVAL;
	spc_sb_init(&sb, buf, cap);
	if (klen == 0)
		return spc_sb_finish(&sb, needed);
	end = k + klen;
	for (;;) {
		slash = memchr(k, '/', (size_t)(end - k));
		put_segment(&sb, k, (size_t)((slash ? slash : end) - k));
		if (!slash)
			break;
		spc_sb_printf(&sb, "/");
		k = slash + 1;
	}
	return spc_sb_finish(&sb, needed);
}
