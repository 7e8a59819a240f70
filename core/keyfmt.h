/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * core/keyfmt.h: readable rendering of keys for the debug mode (key-prefix
 * hit analysis, log lines). Pure: no state, no allocation.
 *
 * Format. The key is split on the byte '/' into segments (a key without
 * '/' is one segment; "a//b" has an empty middle segment; a leading or
 * trailing '/' gives an empty first or last segment). Each segment is
 * rendered on its own and the renderings are joined with '/':
 *
 *   - text: at least 3 of every 4 bytes belong to printable characters
 *     (printable ASCII 0x20..0x7e, or a valid UTF-8 sequence of a code
 *     point from U+00A0 on): the characters as they are, every other byte
 *     as \xNN (two lower-case hex digits):
 *         "caf\xc3\xa9"  ->  café        "name\x01"  ->  name\x01
 *     The empty segment renders as nothing.
 *   - a hash, any other segment of exactly 20 or 32 bytes: "hash20:" or
 *     "hash32:" then the bytes in lower-case hex, in key order, in full:
 *         20 bytes 0x00..0x13  ->  hash20:000102030405060708090a0b0c0d0e0f10111213
 *   - binary, any other segment of at most 32 bytes: "0x" then two lower-
 *     case hex digits per byte, in key order:  "\x01\xff"  ->  0x01ff
 *   - binary of exactly 4 or 8 bytes: as above, followed by its value read
 *     as a little-endian unsigned integer in decimal, in "(=...)":
 *         "\x2a\0\0\0"  ->  0x2a000000(=42)
 *   - binary longer than 32 bytes: the first 8 bytes and the last 4 in hex,
 *     joined by "...", then the length:
 *         0x0001020304050607...24252627(40 bytes)
 *
 * A text segment that happens to read "0x12" or "hash20:" renders as it
 * reads, and a text byte '\\' is not escaped: the format
 * is for people reading logs, not a reversible encoding.
 */
#ifndef SPC_KEYFMT_H
#define SPC_KEYFMT_H

#include <stddef.h>

#include "splitcache.h"

/* Longest binary segment shown in full, and what a longer one keeps. */
#define SPC_KEYFMT_FULL_MAX 32
#define SPC_KEYFMT_HEAD 8
#define SPC_KEYFMT_TAIL 4
/* A segment is text when printable bytes / all bytes >= NUM / DEN. */
#define SPC_KEYFMT_TEXT_NUM 3
#define SPC_KEYFMT_TEXT_DEN 4

/* spc_key_render (declared in splitcache.h) renders key[0..klen) into buf
 * as described above; its full contract is there and in docs/api.md. */

#endif /* SPC_KEYFMT_H */
