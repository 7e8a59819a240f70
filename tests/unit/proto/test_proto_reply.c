/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The reply writers (proto_reply.c guarantees 1-3). Every expected string
 * below is a reply memcached 1.6.18 sent for the request shown, with the
 * item's values it had at the time (flags, cas, ttl ...) passed in here.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "service/proto.h"
#include "splitcache.h"

static struct spc_proto_out out;
static struct spc_proto_limits lim;

static void setup(void)
{
	spc_proto_out_init_malloc(&out);
	spc_proto_limits_default(&lim);
}

static void teardown(void)
{
	spc_proto_out_free(&out);
}

static void expect(const char *want)
{
	size_t n = strlen(want);

	ck_assert_msg(out.len == n && (n == 0 || memcmp(out.data, want, n) == 0), "got \"%.*s\" want \"%s\"",
		      (int)out.len, out.data ? out.data : "", want);
	out.len = 0;
}

static void req_of(const char *line, struct spc_proto_req *r)
{
	ck_assert_int_eq(spc_proto_parse(&lim, line, strlen(line), r), SPC_PROTO_REQUEST);
}

START_TEST(test_value_lines)
{
	/* get foo / gets foo after "set foo 5 0 3" */
	ck_assert_int_eq(spc_proto_reply_value(&out, "foo", 3, 5, "bar", 3, false, 0), 0);
	ck_assert_int_eq(spc_proto_puts(&out, SPC_PROTO_END), 0);
	expect("VALUE foo 5 3\r\nbar\r\nEND\r\n");
	ck_assert_int_eq(spc_proto_reply_value(&out, "foo", 3, 5, "bar", 3, true, 1), 0);
	expect("VALUE foo 5 3 1\r\nbar\r\n");
	ck_assert_int_eq(spc_proto_reply_value(&out, "k", 1, UINT32_MAX, "abc", 3, true, 5), 0);
	expect("VALUE k 4294967295 3 5\r\nabc\r\n");
	ck_assert_int_eq(spc_proto_reply_value(&out, "k", 1, 0, "", 0, false, 0), 0);
	expect("VALUE k 0 0\r\n\r\n");
}
END_TEST

START_TEST(test_fixed_lines)
{
	/* set n 10; incr n 5; decr n 100; incr n 2^64-1 */
	ck_assert_int_eq(spc_proto_reply_number(&out, 15), 0);
	ck_assert_int_eq(spc_proto_reply_number(&out, 0), 0);
	ck_assert_int_eq(spc_proto_reply_number(&out, UINT64_MAX), 0);
	expect("15\r\n0\r\n18446744073709551615\r\n");
	ck_assert_int_eq(spc_proto_reply_version(&out, "1.6.18"), 0);
	expect("VERSION 1.6.18\r\n");
	ck_assert_int_eq(spc_proto_reply_stat(&out, "maxconns", "1024"), 0);
	expect("STAT maxconns 1024\r\n");
	ck_assert_int_eq(spc_proto_reply_mn(&out), 0);
	expect("MN\r\n");
}
END_TEST

START_TEST(test_status_lines)
{
	ck_assert_str_eq(spc_proto_status_line(SPC_PROTO_SET, SPC_OK), "STORED\r\n");
	ck_assert_str_eq(spc_proto_status_line(SPC_PROTO_ADD, SPC_EEXISTS), "NOT_STORED\r\n");
	ck_assert_str_eq(spc_proto_status_line(SPC_PROTO_REPLACE, SPC_ENOTFOUND), "NOT_STORED\r\n");
	ck_assert_str_eq(spc_proto_status_line(SPC_PROTO_CAS, SPC_EEXISTS), "EXISTS\r\n");
	ck_assert_str_eq(spc_proto_status_line(SPC_PROTO_CAS, SPC_ENOTFOUND), "NOT_FOUND\r\n");
	ck_assert_str_eq(spc_proto_status_line(SPC_PROTO_DELETE, SPC_OK), "DELETED\r\n");
	ck_assert_str_eq(spc_proto_status_line(SPC_PROTO_TOUCH, SPC_OK), "TOUCHED\r\n");
	ck_assert_str_eq(spc_proto_status_line(SPC_PROTO_INCR, SPC_ENOTFOUND), "NOT_FOUND\r\n");
	ck_assert_str_eq(spc_proto_status_line(SPC_PROTO_DECR, SPC_ENOTNUM),
			 "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n");
	ck_assert_ptr_null(spc_proto_status_line(SPC_PROTO_INCR, SPC_OK));
	ck_assert_str_eq(spc_proto_status_line(SPC_PROTO_SET, SPC_EFULL),
			 "SERVER_ERROR out of memory storing object\r\n");
	ck_assert_str_eq(spc_proto_status_line(SPC_PROTO_SET, SPC_EBUSY),
			 "SERVER_ERROR out of memory storing object\r\n");
	ck_assert_str_eq(spc_proto_status_line(SPC_PROTO_INCR, SPC_EBUSY),
			 "SERVER_ERROR out of memory storing object\r\n");
	ck_assert_str_eq(spc_proto_status_line(SPC_PROTO_APPEND, SPC_ETOOBIG),
			 "SERVER_ERROR object too large for cache\r\n");
	ck_assert_str_eq(spc_proto_status_line(SPC_PROTO_FLUSH_ALL, SPC_OK), "OK\r\n");
	ck_assert_ptr_null(spc_proto_status_line(SPC_PROTO_GET, SPC_OK));
}
END_TEST

START_TEST(test_meta_hit)
{
	struct spc_proto_req r;
	struct spc_proto_meta_vals v = {
		.have = SPC_PROTO_MV_FLAGS | SPC_PROTO_MV_TTL | SPC_PROTO_MV_CAS |
			SPC_PROTO_MV_SIZE | SPC_PROTO_MV_HIT | SPC_PROTO_MV_LAST,
		.flags = 5, .ttl = -1, .cas = 35, .size = 3, .hit = 1, .last = 1,
	};

	req_of("mg foo v f t c s k O123 q\r\n", &r);
	ck_assert_int_eq(spc_proto_meta_reply(&out, &r, SPC_PROTO_VA, &v, "bar", 3), 0);
	expect("VA 3 f5 t-1 c35 s3 kfoo O123\r\nbar\r\n");
	req_of("mg foo k v O123 h l t\r\n", &r);
	ck_assert_int_eq(spc_proto_meta_reply(&out, &r, SPC_PROTO_VA, &v, "bar", 3), 0);
	expect("VA 3 kfoo O123 h1 l1 t-1\r\nbar\r\n");
	/* quiet hides EN only: a hit still answers */
	req_of("mg foo q\r\n", &r);
	ck_assert_int_eq(spc_proto_meta_reply(&out, &r, SPC_PROTO_HD, &v, NULL, 0), 0);
	expect("HD\r\n");
	/* win flag after a miss with N30 (ttl 30, fresh cas) */
	req_of("mg nope N30 v s t c f\r\n", &r);
	v.size = 0, v.ttl = 30, v.cas = 36, v.flags = 0, v.tail = "W";
	ck_assert_int_eq(spc_proto_meta_reply(&out, &r, SPC_PROTO_VA, &v, "", 0), 0);
	expect("VA 0 s0 t30 c36 f0 W\r\n\r\n");
	/* ma n v MI D3 t c k O1 on "n" = 0 */
	req_of("ma n v MI D3 t c k O1\r\n", &r);
	v.ttl = -1, v.cas = 94, v.tail = NULL;
	ck_assert_int_eq(spc_proto_meta_reply(&out, &r, SPC_PROTO_VA, &v, "3", 1), 0);
	expect("VA 1 t-1 c94 kn O1\r\n3\r\n");
}
END_TEST

START_TEST(test_meta_miss_and_quiet)
{
	struct spc_proto_req r;

	req_of("mg nope v k O5\r\n", &r);
	ck_assert_int_eq(spc_proto_meta_reply(&out, &r, SPC_PROTO_EN, NULL, NULL, 0), 0);
	expect("EN knope O5\r\n");
	req_of("mg nope v k O5 q\r\n", &r);
	ck_assert(spc_proto_meta_quiet(&r, SPC_PROTO_EN));
	ck_assert_int_eq(spc_proto_meta_reply(&out, &r, SPC_PROTO_EN, NULL, NULL, 0), 0);
	expect("");
	req_of("ms k 1 q\r\nx\r\n", &r);
	ck_assert(spc_proto_meta_quiet(&r, SPC_PROTO_HD));
	ck_assert(!spc_proto_meta_quiet(&r, SPC_PROTO_NS));
	ck_assert_int_eq(spc_proto_meta_reply(&out, &r, SPC_PROTO_NS, NULL, NULL, 0), 0);
	expect("NS\r\n");
	req_of("md k q\r\n", &r);
	ck_assert(spc_proto_meta_quiet(&r, SPC_PROTO_HD));
	ck_assert(!spc_proto_meta_quiet(&r, SPC_PROTO_NF));
	req_of("md foo k O1 C1\r\n", &r);
	ck_assert_int_eq(spc_proto_meta_reply(&out, &r, SPC_PROTO_EX, NULL, NULL, 0), 0);
	expect("EX kfoo O1\r\n");
}
END_TEST

START_TEST(test_meta_base64_echo)
{
	struct spc_proto_req r;
	struct spc_proto_meta_vals v = { .have = SPC_PROTO_MV_CAS, .cas = 38 };
	struct spc_proto_meta_vals stored = {
		.have = SPC_PROTO_MV_KEY, .key = "foo", .klen = 3, .key_base64 = false,
	};

	/* ms Zm9v 3 T0 F7 c k O9 b */
	req_of("ms Zm9v 3 T0 F7 c k O9 b\r\nbaz\r\n", &r);
	ck_assert_int_eq(spc_proto_meta_reply(&out, &r, SPC_PROTO_HD, &v, NULL, 0), 0);
	expect("HD c38 kZm9v b O9\r\n");
	/* a hit on an item stored with a plain key echoes it plainly */
	req_of("mg Zm9v b v k\r\n", &r);
	ck_assert_int_eq(spc_proto_meta_reply(&out, &r, SPC_PROTO_VA, &stored, "bar", 3), 0);
	expect("VA 3 kfoo\r\nbar\r\n");
	stored.key_base64 = true;
	ck_assert_int_eq(spc_proto_meta_reply(&out, &r, SPC_PROTO_HD, &stored, NULL, 0), 0);
	expect("HD kZm9v b\r\n");
}
END_TEST

START_TEST(test_base64_encode)
{
	char b[16];

	ck_assert_uint_eq(spc_proto_base64_encode("f", 1, b), 4);
	ck_assert(memcmp(b, "Zg==", 4) == 0);
	ck_assert_uint_eq(spc_proto_base64_encode("fo", 2, b), 4);
	ck_assert(memcmp(b, "Zm8=", 4) == 0);
	ck_assert_uint_eq(spc_proto_base64_encode("foobar", 6, b), 8);
	ck_assert(memcmp(b, "Zm9vYmFy", 8) == 0);
	ck_assert_uint_eq(spc_proto_base64_encode("", 0, b), 0);
}
END_TEST

START_TEST(test_error_reply)
{
	struct spc_proto_req r;

	ck_assert_int_eq(spc_proto_parse(&lim, "incr k x\r\n", 10, &r), SPC_PROTO_ERROR);
	ck_assert_int_eq(spc_proto_reply_error(&out, &r), 0);
	expect("CLIENT_ERROR invalid numeric delta argument\r\n");
	ck_assert_int_eq(spc_proto_parse(&lim, "incr k x noreply\r\n", 18, &r), SPC_PROTO_ERROR);
	ck_assert_int_eq(spc_proto_reply_error(&out, &r), 0);
	expect("");
	ck_assert_int_eq(spc_proto_parse(&lim, "GET / HTTP/1.1\r\n", 16, &r), SPC_PROTO_ERROR);
	ck_assert_int_eq(r.action, SPC_PROTO_CLOSE);
	ck_assert_int_eq(spc_proto_reply_error(&out, &r), 0);
	expect("");
}
END_TEST

static int grow_never(struct spc_proto_out *o, size_t need)
{
	(void)o;
	(void)need;
	return -1;
}

/* When the buffer may not grow, nothing is appended and ENOMEM returned. */
START_TEST(test_no_room)
{
	char small[24];
	struct spc_proto_out o = { .data = small, .len = 0, .cap = sizeof small, .grow = grow_never };
	struct spc_proto_req r;

	ck_assert_int_eq(spc_proto_puts(&o, "STORED\r\n"), SPC_OK);
	ck_assert_uint_eq(o.len, 8);
	ck_assert_int_eq(spc_proto_reply_value(&o, "foo", 3, 0, "bar", 3, false, 0), SPC_ENOMEM);
	ck_assert_uint_eq(o.len, 8);
	req_of("mg foo k v O12345678901234567890\r\n", &r);
	ck_assert_int_eq(spc_proto_meta_reply(&o, &r, SPC_PROTO_EN, NULL, NULL, 0), SPC_ENOMEM);
	ck_assert_uint_eq(o.len, 8);
	ck_assert_int_eq(spc_proto_reply_version(&o, "1.6.18-splitcache"), SPC_ENOMEM);
	ck_assert_int_eq(spc_proto_reply_stat(&o, "a_long_name", "value"), SPC_ENOMEM);
	ck_assert_uint_eq(o.len, 8);
	ck_assert(memcmp(small, "STORED\r\n", 8) == 0);
	o.grow = NULL;
	ck_assert_int_eq(spc_proto_put(&o, small, sizeof small), SPC_ENOMEM);
	ck_assert_uint_eq(o.len, 8);
}
END_TEST

/* The malloc grower keeps earlier bytes across many reallocations. */
START_TEST(test_growth)
{
	for (int i = 0; i < 5000; i++)
		ck_assert_int_eq(spc_proto_reply_number(&out, (uint64_t)i), 0);
	ck_assert_uint_ge(out.cap, out.len);
	ck_assert(memcmp(out.data, "0\r\n1\r\n2\r\n", 9) == 0);
	ck_assert(memcmp(out.data + out.len - 6, "4999\r\n", 6) == 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto_reply");
	TCase *tc = tcase_create("reply");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_value_lines);
	tcase_add_test(tc, test_fixed_lines);
	tcase_add_test(tc, test_status_lines);
	tcase_add_test(tc, test_meta_hit);
	tcase_add_test(tc, test_meta_miss_and_quiet);
	tcase_add_test(tc, test_meta_base64_echo);
	tcase_add_test(tc, test_base64_encode);
	tcase_add_test(tc, test_error_reply);
	tcase_add_test(tc, test_no_room);
	tcase_add_test(tc, test_growth);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
