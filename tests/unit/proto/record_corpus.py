#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Records memcached's exact replies to the bad-input corpus.

Starts the reference server (default /usr/bin/memcached) on 127.0.0.1 with a
random port and a 1 KiB item limit (-I 1k, so "too large" stays small),
sends every case on a fresh connection after a flush_all, and writes
memcached_corpus.h: the input, the reply bytes and whether the server closed
the connection. test_proto_memcached.c replays each input through the parser
and an empty-cache model and must produce the same bytes.

Every case is written so that an empty cache answers it: nothing is read
back after being stored. Run it again after changing CASES:
    python3 tests/unit/proto/record_corpus.py [path/to/memcached]
The network is only used here, never by the tests.
"""
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "service"))
import svc  # noqa: E402

K251 = b"a" * 251
K250 = b"a" * 250

# (name, input, split_ok). split_ok: the same reply when the input arrives
# one byte at a time (False only where memcached's own answer depends on
# how the bytes arrive: long lines).
CASES = [
    # -- framing, unknown commands --------------------------------------
    ("empty_line", b"\r\n", True),
    ("bare_lf", b"\n", True),
    ("spaces_only", b"   \r\n", True),
    ("unknown", b"foo bar\r\n", True),
    ("upper_get", b"GET foo\r\n", True),
    ("upper_version", b"VERSION\r\n", True),
    ("get_no_key", b"get\r\n", True),
    ("get_space_no_key", b"get \r\n", True),
    ("gets_no_key", b"gets\r\n", True),
    ("get_miss_lf", b"get foo\n", True),
    ("get_leading_spaces", b"   get   foo   bar  \r\n", True),
    ("get_cr_in_key", b"get foo\r\r\n", True),
    ("get_tab_in_key", b"get foo\tbar\r\n", True),
    ("get_ctrl_in_key", b"get foo\x01\x7f\r\n", True),
    ("get_key_250", b"get " + K250 + b"\r\n", True),
    ("get_key_251", b"get " + K251 + b"\r\n", True),
    ("get_second_key_251", b"get foo " + K251 + b"\r\n", True),
    ("get_many_keys", b"get " + b"k " * 40 + b"\r\n", True),
    ("get_noreply_is_key", b"get foo noreply\r\n", True),
    ("pipelined", b"get a\r\nget b\r\nmn\r\nfoo\r\ndelete x\r\n", True),
    ("binary_garbage", b"\x00\x01\x02\xfe\xff\r\n", True),
    ("nul_in_command", b"get\x00junk foo\r\n", True),
    # -- HTTP ----------------------------------------------------------
    ("http_get", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", True),
    ("http_post", b"POST /x HTTP/1.0\r\n", True),
    ("http_only_version", b"HTTP/1.1\r\n", True),
    ("http_not_last", b"foo HTTP/1.1 bar\r\n", True),
    ("http_no_slash", b"foo HTTP\r\n", True),
    ("http_lower", b"foo http/1.1\r\n", True),
    ("http_get_path_only", b"GET /\r\n", True),
    ("http_set_arity", b"set foo HTTP/1.1\r\n", True),
    # -- line length -----------------------------------------------------
    ("line_2048_open", b"x" * 2048, True),
    ("line_2049_open", b"x" * 2049, False),
    ("line_long_complete", b"x" * 5000 + b"\r\n", False),
    ("get_line_long_open", b"get " + b"k " * 1200, True),
    ("gat_line_long_open", b"gat 0 " + b"k " * 1200, False),
    ("get_line_101_spaces", b" " * 101 + b"get " + b"k " * 1200, False),
    # -- storage ----------------------------------------------------------
    ("set_ok", b"set k 0 0 3\r\nabc\r\n", True),
    ("set_lf_only", b"set k 0 0 3\nabc\r\n", True),
    ("set_zero_len", b"set k 0 0 0\r\n\r\n", True),
    ("set_noreply", b"set k 0 0 3 noreply\r\nabc\r\nmn\r\n", True),
    ("set_garbage_sixth", b"set k 0 0 3 garbage\r\nabc\r\n", True),
    ("set_too_many_tokens", b"set k 0 0 3 noreply extra\r\nabc\r\n", True),
    ("set_too_few", b"set k 0 0\r\n", True),
    ("set_only", b"set\r\n", True),
    ("set_neg_len", b"set k 0 0 -1\r\nabc\r\nmn\r\n", True),
    ("set_alpha_len", b"set k 0 0 abc\r\nabc\r\n", True),
    ("set_neg_flags", b"set k -1 0 3\r\nabc\r\n", True),
    ("set_flags_2_32", b"set k 4294967296 0 3\r\nabc\r\n", True),
    ("set_flags_2_64", b"set k 18446744073709551616 0 3\r\nabc\r\n", True),
    ("set_neg_exptime", b"set k 0 -1 3\r\nabc\r\n", True),
    ("set_exptime_overflow", b"set k 0 99999999999999999999 3\r\nabc\r\n", True),
    ("set_len_2_31", b"set k 0 0 2147483648\r\nabc\r\n", True),
    ("set_len_int_max_minus_1", b"set k 0 0 2147483646\r\nabc\r\n", True),
    ("set_len_2_32_wraps", b"set k 0 0 4294967296\r\nabc\r\nmn\r\n", True),
    ("set_len_hex", b"set k 0x1 0 3\r\nabc\r\n", True),
    ("set_len_plus", b"set k 0 0 +3\r\nabc\r\n", True),
    ("set_len_tab_before", b"set k 0 0 \t3\r\nabc\r\n", True),
    ("set_len_tab_after", b"set k 0 0 3\tx\r\nabc\r\n", True),
    ("set_len_vt_only", b"set k 0 0 \x0b\r\n\r\n", True),
    ("set_minus_zero", b"set k -0 0 1\r\nx\r\n", True),
    ("set_key_251", b"set " + K251 + b" 0 0 3\r\nabc\r\n", True),
    ("set_key_251_noreply", b"set " + K251 + b" 0 0 3 noreply\r\nabc\r\n", True),
    ("set_bad_len_noreply", b"set k 0 0 abc noreply\r\nabc\r\n", True),
    ("set_short_chunk", b"set k 0 0 1\r\nab\r\nmn\r\n", True),
    ("set_long_chunk", b"set k 0 0 3\r\nabcX\r\nmn\r\n", True),
    ("set_chunk_lf_only", b"set k 0 0 3\r\nabc\nmn\r\n", True),
    ("set_chunk_cr_cr", b"set k 0 0 1\r\nx\r\r\n", True),
    ("set_chunk_noreply", b"set k 0 0 3 noreply\r\nabcX\r\n", True),
    ("set_too_large", b"set k 0 0 965\r\n" + b"x" * 967 + b"mn\r\n", True),
    ("set_largest", b"set k 0 0 964\r\n" + b"x" * 964 + b"\r\n", True),
    ("set_too_large_noreply", b"set k 0 0 2000 noreply\r\n" + b"x" * 2002 + b"mn\r\n", True),
    ("add_ok", b"add k 0 0 1\r\nx\r\n", True),
    ("replace_miss", b"replace k 0 0 1\r\nx\r\n", True),
    ("append_miss", b"append k 0 0 1\r\nx\r\n", True),
    ("prepend_miss", b"prepend k 0 0 1\r\nx\r\n", True),
    ("cas_miss", b"cas k 0 0 1 5\r\nx\r\n", True),
    ("cas_no_unique", b"cas k 0 0 1\r\nx\r\n", True),
    ("cas_alpha_unique", b"cas k 0 0 1 abc\r\nx\r\n", True),
    ("cas_neg_unique", b"cas k 0 0 1 -1\r\nx\r\n", True),
    ("cas_unique_2_64", b"cas k 0 0 1 18446744073709551616\r\nx\r\n", True),
    ("cas_noreply", b"cas k 0 0 1 1 noreply\r\nx\r\nmn\r\n", True),
    # -- delete, incr, decr, touch, gat -----------------------------------
    ("delete_miss", b"delete k\r\n", True),
    ("delete_zero", b"delete k 0\r\n", True),
    ("delete_one", b"delete k 1\r\n", True),
    ("delete_three_args", b"delete a b c\r\n", True),
    ("delete_four_args", b"delete a b c d\r\n", True),
    ("delete_no_key", b"delete\r\n", True),
    ("delete_key_251", b"delete " + K251 + b"\r\n", True),
    ("delete_noreply", b"delete k noreply\r\nmn\r\n", True),
    ("delete_zero_noreply", b"delete k 0 noreply\r\nmn\r\n", True),
    ("delete_bad_noreply", b"delete a b noreply\r\nmn\r\n", True),
    ("incr_miss", b"incr k 1\r\n", True),
    ("decr_miss", b"decr k 1\r\n", True),
    ("incr_neg", b"incr k -1\r\n", True),
    ("incr_alpha", b"incr k abc\r\n", True),
    ("incr_2_64", b"incr k 18446744073709551616\r\n", True),
    ("incr_max", b"incr k 18446744073709551615\r\n", True),
    ("incr_no_delta", b"incr k\r\n", True),
    ("incr_extra", b"incr k 1 extra\r\n", True),
    ("incr_noreply_extra", b"incr k 1 noreply x\r\n", True),
    ("incr_key_251", b"incr " + K251 + b" 1\r\n", True),
    ("incr_bad_noreply", b"incr k abc noreply\r\nmn\r\n", True),
    ("touch_miss", b"touch k 10\r\n", True),
    ("touch_alpha", b"touch k abc\r\n", True),
    ("touch_no_exptime", b"touch k\r\n", True),
    ("touch_noreply", b"touch k 10 noreply\r\nmn\r\n", True),
    ("gat_miss", b"gat 10 k\r\n", True),
    ("gats_miss", b"gats 10 a b\r\n", True),
    ("gat_no_keys", b"gat 10\r\n", True),
    ("gat_only", b"gat\r\n", True),
    ("gat_alpha_exptime", b"gat abc k\r\n", True),
    ("gat_key_251", b"gat 10 " + K251 + b"\r\n", True),
    # -- admin ---------------------------------------------------------------
    ("flush_all", b"flush_all\r\n", True),
    ("flush_all_delay", b"flush_all 10\r\n", True),
    ("flush_all_neg", b"flush_all -1\r\n", True),
    ("flush_all_alpha", b"flush_all abc\r\n", True),
    ("flush_all_noreply", b"flush_all noreply\r\nmn\r\n", True),
    ("flush_all_two", b"flush_all 0 0\r\n", True),
    ("flush_all_three", b"flush_all 0 noreply x\r\n", True),
    ("verbosity", b"verbosity 1\r\n", True),
    ("verbosity_none", b"verbosity\r\n", True),
    ("verbosity_alpha", b"verbosity abc\r\n", True),
    ("verbosity_neg", b"verbosity -1\r\n", True),
    ("verbosity_two", b"verbosity 1 2\r\n", True),
    ("verbosity_three", b"verbosity 1 2 3\r\n", True),
    ("verbosity_noreply", b"verbosity 1 noreply\r\nmn\r\n", True),
    ("quit", b"quit\r\nget foo\r\n", True),
    ("quit_args", b"quit now\r\n", True),
    # -- meta ------------------------------------------------------------------
    ("mn", b"mn\r\n", True),
    ("mn_args", b"mn foo bar\r\n", True),
    ("mg_miss", b"mg foo v\r\n", True),
    ("mg_miss_echo", b"mg foo v k O123 f t c s\r\n", True),
    ("mg_miss_quiet", b"mg foo v q k\r\nmn\r\n", True),
    ("mg_no_key", b"mg\r\n", True),
    ("mg_key_251", b"mg " + K251 + b" v\r\n", True),
    ("mg_key_250", b"mg " + K250 + b" v k\r\n", True),
    ("mg_invalid_flag", b"mg foo z\r\n", True),
    ("mg_digit_flag", b"mg foo 1\r\n", True),
    ("mg_duplicate", b"mg foo v v\r\n", True),
    ("mg_T_empty", b"mg foo T\r\n", True),
    ("mg_T_alpha", b"mg foo Tabc\r\n", True),
    ("mg_T_trailing", b"mg foo T1x\r\n", True),
    ("mg_T_wraps", b"mg foo T99999999999\r\n", True),
    ("mg_N_overflow", b"mg foo N99999999999999999999\r\n", True),
    ("mg_C_neg", b"mg foo C-1\r\n", True),
    ("mg_F_alpha", b"mg foo Fabc\r\n", True),
    ("mg_D_empty", b"mg foo D\r\n", True),
    ("mg_J_empty", b"mg foo J\r\n", True),
    ("mg_M_empty", b"mg foo M\r\n", True),
    ("mg_M_long", b"mg foo MSS\r\n", True),
    ("mg_opaque_31", b"mg foo O" + b"x" * 31 + b"\r\n", True),
    ("mg_opaque_32", b"mg foo O" + b"x" * 32 + b"\r\n", True),
    ("mg_opaque_empty", b"mg foo O\r\n", True),
    ("mg_17_flags", b"mg foo " + b"k " * 17 + b"\r\n", True),
    ("mg_18_flags", b"mg foo " + b"k " * 18 + b"\r\n", True),
    ("mg_b64", b"mg Zm9v b v k\r\n", True),
    ("mg_b64_bad", b"mg !!!! b\r\n", True),
    ("mg_b64_short", b"mg Zm9vYg b\r\n", True),
    ("mg_b64_pad", b"mg Zg== b k\r\n", True),
    ("mg_b64_pad_only", b"mg Z=== b\r\n", True),
    ("mg_b64_skips", b"mg Zm9v\x01 b k O1\r\n", True),
    ("mg_b64_too_long", b"mg " + b"QUFB" * 63 + b" b k\r\n", True),
    ("mg_lf", b"mg foo v\n", True),
    ("ms_ok", b"ms foo 3\r\nabc\r\n", True),
    ("ms_echo", b"ms foo 3 T0 F7 k O9\r\nabc\r\n", True),
    ("ms_b64_echo", b"ms Zm9v 3 k b O9\r\nabc\r\n", True),
    ("ms_quiet", b"ms foo 3 q\r\nabc\r\nmn\r\n", True),
    ("ms_mode_add", b"ms foo 3 ME\r\nabc\r\n", True),
    ("ms_mode_replace_miss", b"ms foo 3 MR\r\nabc\r\n", True),
    ("ms_mode_replace_miss_q", b"ms foo 3 MR q\r\nabc\r\nmn\r\n", True),
    ("ms_mode_append_miss", b"ms foo 3 MA\r\nabc\r\n", True),
    ("ms_mode_bad", b"ms foo 3 Mx\r\nabc\r\nmn\r\n", True),
    ("ms_mode_lower", b"ms foo 3 Ms\r\nabc\r\nmn\r\n", True),
    ("ms_no_len", b"ms foo\r\nabc\r\n", True),
    ("ms_only", b"ms\r\n", True),
    ("ms_alpha_len", b"ms foo abc\r\nabc\r\n", True),
    ("ms_neg_len", b"ms foo -1\r\nabc\r\n", True),
    ("ms_len_wraps", b"ms foo 4294967299\r\nabc\r\n", True),
    ("ms_invalid_flag", b"ms foo 3 z\r\nabc\r\nmn\r\n", True),
    ("ms_S_flag", b"ms foo 3 S3\r\nabc\r\nmn\r\n", True),
    ("ms_duplicate", b"ms foo 3 k k\r\nabc\r\nmn\r\n", True),
    ("ms_T_empty", b"ms foo 3 T\r\nabc\r\nmn\r\n", True),
    ("ms_F_neg", b"ms foo 3 F-1\r\nabc\r\nmn\r\n", True),
    ("ms_F_wraps", b"ms foo 3 F4294967296\r\nabc\r\n", True),
    ("ms_C_alpha", b"ms foo 3 Cabc\r\nabc\r\nmn\r\n", True),
    ("ms_opaque_long", b"ms foo 3 O" + b"x" * 40 + b"\r\nabc\r\nmn\r\n", True),
    ("ms_too_many", b"ms foo 1 " + b"k " * 17 + b"\r\nx\r\nmn\r\n", True),
    ("ms_key_251", b"ms " + K251 + b" 3\r\nabc\r\nmn\r\n", True),
    ("ms_b64_bad", b"ms foo 3 b\r\nabc\r\nmn\r\n", True),
    ("ms_bad_chunk", b"ms foo 3\r\nabcX\r\nmn\r\n", True),
    ("ms_bad_chunk_quiet", b"ms foo 3 q\r\nabcX\r\nmn\r\n", True),
    ("ms_too_large", b"ms k 965\r\n" + b"x" * 967 + b"mn\r\n", True),
    ("md_miss", b"md foo\r\n", True),
    ("md_miss_echo", b"md foo k O1 C1\r\n", True),
    ("md_miss_quiet", b"md foo q\r\nmn\r\n", True),
    ("md_no_key", b"md\r\n", True),
    ("md_key_251", b"md " + K251 + b"\r\n", True),
    ("md_invalid", b"md foo z\r\n", True),
    ("md_duplicate", b"md foo k k\r\n", True),
    ("md_C_empty", b"md foo C\r\n", True),
    ("md_b64_bad", b"md foo b\r\n", True),
    ("md_b64_echo", b"md Zm9v b k\r\n", True),
    ("md_too_many", b"md foo " + b"k " * 18 + b"\r\n", True),
    ("ma_miss", b"ma foo\r\n", True),
    ("ma_miss_echo", b"ma foo v k O7\r\n", True),
    ("ma_miss_quiet", b"ma foo q\r\nmn\r\n", True),
    ("ma_no_key", b"ma\r\n", True),
    ("ma_D_neg", b"ma foo D-1\r\n", True),
    ("ma_D_overflow", b"ma foo D18446744073709551616\r\n", True),
    ("ma_mode_bad", b"ma foo Mx\r\n", True),
    ("ma_mode_long", b"ma foo MI2\r\n", True),
    ("ma_modes", b"ma a MI\r\nma b M+\r\nma c MD\r\nma d M-\r\n", True),
    ("ma_too_many", b"ma foo " + b"k " * 18 + b"\r\n", True),
    ("me_no_key", b"me\r\n", True),
    ("mx_unknown", b"mx foo\r\n", True),
    ("m_alone", b"m\r\n", True),
    # -- orders and corners (second round) -----------------------------
    ("verbosity_noreply_only", b"verbosity noreply\r\nmn\r\n", True),
    ("gat_bad_exptime_bad_key", b"gat abc " + K251 + b"\r\n", True),
    ("get_key_251_at_30", b"get " + b"k " * 30 + K251 + b"\r\n", True),
    ("ma_mode_lower", b"ma a Mi\r\nma b Md\r\n", True),
    ("mg_key_251_many_flags", b"mg " + K251 + b" " + b"k " * 20 + b"\r\n", True),
    ("ms_bad_flag_too_large", b"ms k 965 z\r\n" + b"x" * 967 + b"mn\r\n", True),
    ("ms_too_large_quiet", b"ms k 965 q\r\n" + b"x" * 967 + b"mn\r\n", True),
    ("ms_b64_largest", b"ms a2V5 961 b\r\n" + b"x" * 961 + b"\r\n", True),
    ("ms_b64_too_large", b"ms a2V5 963 b\r\n" + b"x" * 965 + b"mn\r\n", True),
    ("delete_zero_zero", b"delete k 0 0\r\n", True),
    ("flush_all_noreply_x", b"flush_all noreply x\r\n", True),
    ("cas_garbage_seventh", b"cas k 0 0 1 5 garbage\r\nx\r\n", True),
    ("touch_garbage", b"touch k 10 garbage\r\n", True),
    ("me_extra", b"me k extra\r\n", True),
    ("me_key_251", b"me " + K251 + b"\r\n", True),
    ("mg_tab_flag", b"mg k \tv\r\n", True),
    ("mg_flags_cr", b"mg k v\r\r\n", True),
    ("set_exptime_2_31", b"set k 0 2147483648 1\r\nx\r\n", True),
    ("set_len_leading_zeros", b"set k 0 0 " + b"0" * 40 + b"1\r\nx\r\n", True),
    ("incr_minus_zero", b"incr k -0\r\n", True),
    ("http_unknown_many", b"a b c d e f g h i j k l m n o p q r s t u v w x y z HTTP/1.1\r\n", True),
]


def run(port, data):
    ctl = socket.create_connection(("127.0.0.1", port))
    ctl.sendall(b"flush_all\r\n")
    assert ctl.recv(64) == b"OK\r\n"
    ctl.close()
    return svc.exchange(port, data)


def c_bytes(b):
    out, col = ['"'], 1
    for i, ch in enumerate(b):
        if ch == 0x5c:
            s = "\\\\"
        elif ch == 0x22:
            s = '\\"'
        elif 0x20 <= ch < 0x7f and not (ch in b"0123456789abcdefABCDEF" and out[-1].startswith("\\x")):
            s = chr(ch)
        elif ch == 0x0d:
            s = "\\r"
        elif ch == 0x0a:
            s = "\\n"
        else:
            s = "\\x%02x" % ch
        out.append(s)
        col += len(s)
        if col > 72 and i + 1 < len(b):
            out.append('"\n\t  "')
            col = 1
    out.append('"')
    return "".join(out)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/memcached"
    version = subprocess.run([binary, "-V"], capture_output=True, text=True).stdout.strip()
    srv, port = svc.start_memcached(binary)
    try:
        rows = []
        for name, data, split_ok in CASES:
            out, closed = run(port, data)
            rows.append((name, data, out, closed, split_ok))
    finally:
        srv.terminate()
        srv.wait()
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "memcached_corpus.h"), "w") as f:
        f.write("/* SPDX-License-Identifier: LGPL-2.1-or-later */\n")
        f.write("/* Generated by record_corpus.py from %s (-I 1k); do not edit. */\n" % version)
        f.write("#define SPC_PROTO_CORPUS_VERSION \"%s\"\n" % version)
        f.write("#define SPC_PROTO_CORPUS_ITEM_MAX 1024\n")
        f.write("static const struct corpus_case corpus[] = {\n")
        for name, data, out, closed, split_ok in rows:
            f.write("\t{ \"%s\",\n\t  %s, %d,\n\t  %s, %d, %d, %d },\n" % (
                name, c_bytes(data), len(data), c_bytes(out), len(out),
                1 if closed else 0, 1 if split_ok else 0))
        f.write("};\n")
    print("%d cases recorded from %s" % (len(rows), version))


if __name__ == "__main__":
    main()
