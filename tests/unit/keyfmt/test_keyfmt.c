/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/unit/keyfmt/test_keyfmt.c: spc_key_render against exact strings
 * (core/keyfmt.c guarantee 1) and its buffer contract at every capacity
 * (guarantee 2).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "core/keyfmt.h"

/* Renders into a generous buffer and compares with want. */
static void expect(const void *key, size_t klen, const char *want)
{
	char buf[512];
	size_t needed = 12345;
	int rc = spc_key_render(key, klen, buf, sizeof buf, &needed);

	ck_assert_int_eq(rc, SPC_OK);
	ck_assert_str_eq(buf, want);
	ck_assert_uint_eq(needed, strlen(want));
}

START_TEST(test_text)
{
	expect("", 0, "");
	expect(NULL, 0, "");
	expect("abc", 3, "abc");
	expect("user/42/profile", 15, "user/42/profile");
	expect("a//b", 4, "a//b");
	expect("/a/", 3, "/a/");
	expect("/", 1, "/");
	expect(" ~(x)", 5, " ~(x)");
	expect("abcd", 4, "abcd");         /* 4 printable bytes: text, no value */
	expect("0x12", 4, "0x12");         /* documented: text stays text */
}
END_TEST

START_TEST(test_binary_short)
{
	static const unsigned char three[] = { 0x00, 0x01, 0xfe };
	static const unsigned char tab[] = { 'a', '\t', 'b' };
	static const unsigned char del[] = { 0x7f };
	static const unsigned char five[] = { 1, 2, 3, 4, 5 };
	static const unsigned char hi[] = { 'h', 'i', 0x80 };

	expect(three, 3, "0x0001fe");
	expect(tab, 3, "0x610962");
	expect(del, 1, "0x7f");
	expect(five, 5, "0x0102030405");
	expect(hi, 3, "0x686980");
}
END_TEST

START_TEST(test_binary_integers)
{
	static const unsigned char k42[] = { 0x2a, 0, 0, 0 };
	static const unsigned char one8[] = { 'h', '/', 1, 0, 0, 0, 0, 0, 0, 0 };
	static const unsigned char max8[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const unsigned char blk[] = { 'b', 'l', 'k', '/', 0x10, 0x27, 0, 0, '/', 't', 'x' };
	static const unsigned char be[] = { 0, 0, 0, 0x2a };

	expect(k42, 4, "0x2a000000(=42)");
	expect(one8, sizeof one8, "h/0x0100000000000000(=1)");
	expect(max8, 8, "0xffffffffffffffff(=18446744073709551615)");
	expect(blk, sizeof blk, "blk/0x10270000(=10000)/tx");
	expect(be, 4, "0x0000002a(=704643072)");
}
END_TEST

START_TEST(test_binary_long)
{
	unsigned char k[64];
	unsigned char two[2 * 40 + 1];
	int i;

	for (i = 0; i < 64; i++)
		k[i] = (unsigned char)i;
	/* 31 bytes: in full */
	expect(k, 31, "0x000102030405060708090a0b0c0d0e0f"
	              "101112131415161718191a1b1c1d1e");
	/* 32 bytes: a hash, labelled, in full */
	expect(k, 32, "hash32:000102030405060708090a0b0c0d0e0f"
	              "101112131415161718191a1b1c1d1e1f");
	/* 33 and 40 bytes: ends and length */
	expect(k, 33, "0x0001020304050607...1d1e1f20(33 bytes)");
	expect(k, 40, "0x0001020304050607...24252627(40 bytes)");
	/* a long binary segment between text segments */
	memcpy(two, "p/", 2);
	memcpy(two + 2, k, 40);
	memcpy(two + 42, "/q", 2);
	expect(two, 44, "p/0x0001020304050607...24252627(40 bytes)/q");
	/* the same 40 bytes, but printable: text, not shortened */
	memset(two, 'z', 40);
	two[40] = '\0';
	expect(two, 40, (const char *)two);
}
END_TEST

/* 20- and 32-byte binary segments are hashes; other lengths are not; a
 * printable 20-byte segment stays text. */
START_TEST(test_hashes)
{
	unsigned char h[32], key[64];

	for (int i = 0; i < 32; i++)
		h[i] = (unsigned char)(0xa0 + i % 16 + (i / 16) * 0x10) ^ 0x5a;
	expect(h, 20, "hash20:fafbf8f9fefffcfdf2f3f0f1f6f7f4f5eaebe8e9");
	expect(h, 32, "hash32:fafbf8f9fefffcfdf2f3f0f1f6f7f4f5eaebe8e9eeefecede2e3e0e1e6e7e4e5");
	expect(h, 21, "0xfafbf8f9fefffcfdf2f3f0f1f6f7f4f5eaebe8e9ee");
	expect(h, 19, "0xfafbf8f9fefffcfdf2f3f0f1f6f7f4f5eaebe8");
	/* The original's key shapes: /blockhash/<hash32>, /txids/<hash32>. */
	memcpy(key, "/txids/", 7);
	memcpy(key + 7, h, 32);
	expect(key, 39, "/txids/hash32:fafbf8f9fefffcfdf2f3f0f1f6f7f4f5eaebe8e9eeefecede2e3e0e1e6e7e4e5");
	memcpy(key, "/blockhash/", 11);
	memcpy(key + 11, h, 20);
	expect(key, 31, "/blockhash/hash20:fafbf8f9fefffcfdf2f3f0f1f6f7f4f5eaebe8e9");
	expect("abcdefghijabcdefghij", 20, "abcdefghijabcdefghij");
}
END_TEST

/* Printable UTF-8 is text; invalid bytes in mostly-text segments are
 * \xNN; mostly-invalid segments stay binary. */
START_TEST(test_utf8)
{
	expect("caf\xc3\xa9", 5, "caf\xc3\xa9");                     /* 2-byte sequence */
	expect("\xe2\x82\xac" "1", 4, "\xe2\x82\xac" "1");                  /* 3 bytes: euro */
	expect("\xf0\x9f\x98\x80/x", 6, "\xf0\x9f\x98\x80/x");        /* 4 bytes */
	expect("\xe6\x97\xa5\xe6\x9c\xac", 6, "\xe6\x97\xa5\xe6\x9c\xac");
	expect("name\x01", 5, "name\\x01");         /* 4 of 5 printable */
	expect("caf\xc3", 4, "caf\\xc3");           /* truncated sequence */
	expect("abc\xc0\xaf", 5, "0x616263c0af");    /* overlong '/': 3 of 5 */
	expect("abcdef\xc0\xaf", 8, "abcdef\\xc0\\xaf");  /* 6 of 8: text */
	expect("ab\xed\xa0\x80", 5, "0x6162eda080");  /* surrogate: invalid */
	expect("a\xc2\x85" "bcdef", 8, "a\\xc2\\x85bcdef"); /* C1 control U+0085 */
}
END_TEST

/* A text key longer than any piece the renderer prints at once. */
START_TEST(test_long_text)
{
	size_t n = 10000, needed = 0;
	char *key = malloc(n), *buf = malloc(n + 1);

	ck_assert(key && buf);
	for (size_t i = 0; i < n; i++)
		key[i] = (char)('a' + i % 26);
	ck_assert_int_eq(spc_key_render(key, n, buf, n + 1, &needed), SPC_OK);
	ck_assert_uint_eq(needed, n);
	ck_assert(memcmp(buf, key, n) == 0);
	ck_assert_int_eq(buf[n], '\0');
	free(key);
	free(buf);
}
END_TEST

START_TEST(test_errors)
{
	char buf[8];
	size_t needed = 0;

	ck_assert_int_eq(spc_key_render(NULL, 3, buf, sizeof buf, &needed), SPC_EINVAL);
	ck_assert_int_eq(spc_key_render("abc", 3, NULL, 5, &needed), SPC_EINVAL);
	/* cap 0: only the length */
	ck_assert_int_eq(spc_key_render("hello/world", 11, NULL, 0, &needed), SPC_ERANGE);
	ck_assert_uint_eq(needed, 11);
	memset(buf, 'X', sizeof buf);
	ck_assert_int_eq(spc_key_render("hello/world", 11, buf, 6, &needed), SPC_ERANGE);
	ck_assert_str_eq(buf, "hello");
	ck_assert_uint_eq(needed, 11);
	ck_assert_int_eq(buf[6], 'X');
	ck_assert_int_eq(spc_key_render("abc", 3, buf, 4, NULL), SPC_OK);
	ck_assert_str_eq(buf, "abc");
}
END_TEST

/* Every capacity from 0 to needed + 1, on keys of every kind: the output
 * is the longest prefix of the full rendering that fits, NUL-terminated,
 * nothing written past cap, the same needed, SPC_OK exactly when it fits. */
START_TEST(test_every_capacity)
{
	unsigned char keys[5][80];
	size_t lens[5] = { 11, 4, 40, 76, 0 };
	int kk;

	memcpy(keys[0], "hello/world", 11);
	memcpy(keys[1], "\x2a\0\0\0", 4);
	for (kk = 0; kk < 40; kk++)
		keys[2][kk] = (unsigned char)(kk * 7);
	memcpy(keys[3], "view/", 5);
	for (kk = 5; kk < 76; kk++)
		keys[3][kk] = (unsigned char)(kk % 3 ? kk : '/');
	for (kk = 0; kk < 5; kk++) {
		char full[512], buf[520];
		size_t need, n2, cap;

		ck_assert_int_eq(spc_key_render(keys[kk], lens[kk], full, sizeof full, &need), SPC_OK);
		ck_assert_uint_eq(strlen(full), need);
		for (cap = 0; cap <= need + 1; cap++) {
			int rc;

			memset(buf, '#', sizeof buf);
			rc = spc_key_render(keys[kk], lens[kk], cap ? buf : NULL, cap, &n2);
			ck_assert_uint_eq(n2, need);
			ck_assert_int_eq(rc, cap > need ? SPC_OK : SPC_ERANGE);
			if (cap == 0)
				continue;
			ck_assert_uint_eq(strlen(buf), cap > need ? need : cap - 1);
			ck_assert(strncmp(buf, full, strlen(buf)) == 0);
			ck_assert_int_eq(buf[cap], '#');
		}
	}
}
END_TEST

static Suite *keyfmt_suite(void)
{
	Suite *s = suite_create("keyfmt");
	TCase *tc = tcase_create("render");

	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_binary_short);
	tcase_add_test(tc, test_binary_integers);
	tcase_add_test(tc, test_binary_long);
	tcase_add_test(tc, test_hashes);
	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_long_text);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_every_capacity);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return spc_check_run(keyfmt_suite());
}
