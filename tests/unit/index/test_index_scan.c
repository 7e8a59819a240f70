/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/index/test_index_scan.c: the narrow layout's scan of one
 * bucket line (core/index.h, spc_index_scan_narrow), alone, on lines
 * made by hand: one SSE2 compare of the twelve tags on x86-64, word by
 * word elsewhere and under TSan (SPC_INDEX_SIMD); built twice, with the
 * build's own scan (test_index_scan) and with the word scan forced
 * (test_index_scan_portable, SPC_INDEX_SIMD=0). test_index.c runs the
 * same scan inside whole lookups.
 */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "check_run.h"
#include "core/index.h"

/* splitmix64's finaliser: the random lines' bytes */
static uint64_t mix(uint64_t z)
{
	z += UINT64_C(0x9e3779b97f4a7c15);
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* The narrow layout's scan of one line (spc_index_scan_narrow: one SSE2
 * compare on x86-64, word by word elsewhere and under TSan), on lines
 * made by hand: every slot position, head bytes equal to the tag,
 * every slot's tag equal (the key decides, in slot order), a matching
 * tag on a free slot, and for every tag value, exactly the slots that
 * carry it handed to match (the word scan may add bytes just above a
 * match, see below). A scan that read the head as tags, numbered slots wrongly or
 * missed a slot's tag fails here. */
static uint64_t scan_cells[SPC_INDEX_NARROW_SLOTS];
static unsigned scan_called; /* bit s: match was called on slot s's cell */

static int scan_match(const void *entry, const void *key)
{
	const uint64_t *cell = entry;

	scan_called |= 1u << (cell - scan_cells);
	return *cell == *(const uint64_t *)key;
}

/* A line whose slot s refers to scan_cells[s] (reference s + 1 from
 * base), tag tags[s], head head. */
static void scan_line(struct spc_index_bucket *b, const uint8_t tags[SPC_INDEX_NARROW_SLOTS],
                      uint32_t head)
{
	memset(b, 0, sizeof(*b));
	b->head = head;
	for (unsigned s = 0; s < SPC_INDEX_NARROW_SLOTS; s++) {
		scan_cells[s] = 100 + s;
		b->n.ref[s] = s + 1;
		b->n.tag[s / 4] |= (uint32_t)tags[s] << (8 * (s % 4));
	}
}

static void *scan(const struct spc_index_bucket *b, uint8_t tag, uint64_t key)
{
	scan_called = 0;
	return spc_index_scan_narrow(b, tag * 0x01010101u, (uintptr_t)scan_cells - 8, scan_match,
	                             &key);
}

START_TEST(narrow_scan_every_slot)
{
	static struct spc_index_bucket b; /* 64-aligned by its type */
	uint8_t tags[SPC_INDEX_NARROW_SLOTS];
	const uint8_t T = 0x5a;

	for (unsigned target = 0; target < SPC_INDEX_NARROW_SLOTS; target++) {
		for (unsigned head = 0; head < 2; head++) {
			uint32_t h = head ? T * 0x01010101u : 0;

			/* only the target carries the tag */
			for (unsigned s = 0; s < SPC_INDEX_NARROW_SLOTS; s++)
				tags[s] = s == target ? T : (uint8_t)(T ^ (0x10 + s));
			scan_line(&b, tags, h);
			ck_assert_ptr_eq(scan(&b, T, 100 + target), &scan_cells[target]);
			ck_assert_uint_eq(scan_called, 1u << target);
			ck_assert_ptr_null(scan(&b, T, 999));
			ck_assert_uint_eq(scan_called, 1u << target);
			/* the same tag on a free slot: nothing to compare */
			b.n.ref[target] = 0;
			ck_assert_ptr_null(scan(&b, T, 100 + target));
			ck_assert_uint_eq(scan_called, 0);
			/* every slot carries the tag: compared in slot order */
			memset(tags, T, sizeof(tags));
			scan_line(&b, tags, h);
			ck_assert_ptr_eq(scan(&b, T, 100 + target), &scan_cells[target]);
			ck_assert_uint_eq(scan_called, (2u << target) - 1);
			ck_assert_ptr_null(scan(&b, T, 999));
			ck_assert_uint_eq(scan_called, (1u << SPC_INDEX_NARROW_SLOTS) - 1);
		}
	}
	/* random lines, every tag value: the slots that carry it, all of
	 * them; no other slot (SIMD), or the borrow's (word scan) */
	uint64_t x = 42;
	for (unsigned round = 0; round < 64; round++) {
		for (unsigned s = 0; s < SPC_INDEX_NARROW_SLOTS; s++) {
			x = mix(x);
			tags[s] = (uint8_t)(x % 5); /* few values: many repeats */
		}
		x = mix(x);
		scan_line(&b, tags, (uint32_t)x % 5 * 0x01010101u);
		for (unsigned t = 0; t < 256; t++) {
			unsigned exact = 0, borrow = 0;

			/* the word scan's zero-byte test may also flag, in the
			 * same word, the bytes just above a match whose tag
			 * differs from t in bit 0 only (the borrow runs on
			 * through them) */
			for (unsigned s = 0; s < SPC_INDEX_NARROW_SLOTS; s++) {
				exact |= (unsigned)(tags[s] == t) << s;
				if (s % 4 && (tags[s] ^ t) == 1 && ((exact | borrow) >> (s - 1) & 1))
					borrow |= 1u << s;
			}
			ck_assert_ptr_null(scan(&b, (uint8_t)t, 999));
			ck_assert_uint_eq(scan_called & exact, exact);
			if (SPC_INDEX_SIMD)
				ck_assert_uint_eq(scan_called, exact);
			else
				ck_assert_uint_eq(scan_called & ~(exact | borrow), 0);
		}
	}
}
END_TEST

static Suite *index_scan_suite(void)
{
	Suite *s = suite_create("index_scan");
	TCase *tc = tcase_create("narrow");

	tcase_add_test(tc, narrow_scan_every_slot);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(index_scan_suite());
}
