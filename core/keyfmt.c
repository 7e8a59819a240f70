/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/keyfmt.c: readable key rendering (format in core/keyfmt.h).
 *
 * The debug mode of the seed system printed keys as text segments and hex;
 * keys there are paths of text and binary parts (heights, hashes), so a
 * key is cut at each '/' and every part is shown in the form that reads
 * best: text as text, short binary in full hex with the little-endian
 * value of 4- and 8-byte parts (heights and counters), long binary
 * (hashes) shortened to its ends and its length.
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

static int is_text(const unsigned char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return 0;
	return 1;
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
	if (is_text(s, n)) {
		/* In pieces: the precision of %.*s is an int. */
		while (n > 0) {
			int piece = n > 4096 ? 4096 : (int)n;

			spc_sb_printf(sb, "%.*s", piece, (const char *)s);
			s += piece;
			n -= (size_t)piece;
		}
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
