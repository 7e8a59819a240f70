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
 *   - text: every byte printable ASCII (0x20..0x7e): the bytes as they are.
 *     The empty segment renders as nothing.
 *   - binary, any other segment of at most 32 bytes: "0x" then two lower-
 *     case hex digits per byte, in key order:  "\x01\xff"  ->  0x01ff
 *   - binary of exactly 4 or 8 bytes: as above, followed by its value read
 *     as a little-endian unsigned integer in decimal, in "(=...)":
 *         "\x2a\0\0\0"  ->  0x2a000000(=42)
 *   - binary longer than 32 bytes: the first 8 bytes and the last 4 in hex,
 *     joined by "...", then the length:
 *         0x0001020304050607...24252627(40 bytes)
 *
 * A text segment that happens to read "0x12" renders as "0x12": the format
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

/* spc_key_render (declared in splitcache.h) renders key[0..klen) into buf
 * as described above; its full contract is there and in docs/api.md. */

#endif /* SPC_KEYFMT_H */
