#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Records Debian memcached's exact replies to the meta-command corpus.

Each case is a byte string sent on one connection to a memcached started
for that case alone (so cas values start at 1, as they do in a fresh
splitcached), on 127.0.0.1 and a free port, with a 1 KiB item limit
(-I 1k -o slab_chunk_max=512, so "too large" stays small). The bytes it
sends back go to cases/<name>.out, the input to cases/<name>.in, and
cases/<name>.closed exists when memcached closed the connection.
test_service_memcached.c replays every case against a fresh splitcached
(-I 1k) and compares the bytes.

    python3 tests/service/memcached/record.py [path/to/memcached]

The network is used only here, on the loopback, never by the tests.
"""
import os
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "cases")


def X(n):
    return b"x" * n


K250 = b"a" * 250
K251 = b"a" * 251

# (name, input). Every input ends with a request memcached answers, so
# the recording waits for a reply that is complete.
CASES = [
    # -- mg on hits: every return flag ------------------------------------
    ("mg_hit_all_flags", b"ms k 3 F5 T300\r\nabc\r\nmg k b c f h k l O1 s t v\r\n"),
    ("mg_hit_no_b", b"ms k 3 F5 T300\r\nabc\r\nmg k c f h k l Oop s t v\r\n"),
    ("mg_hit_hd", b"ms k 3\r\nabc\r\nmg k\r\nmg k s\r\nmg k t f\r\n"),
    ("mg_hit_order", b"ms k 3 T60\r\nabc\r\nmg k v t s f c k O9\r\nmg k O9 k c f s t v\r\n"),
    ("mg_hit_quiet", b"ms k 1\r\nx\r\nmg k v q k\r\nmg k q\r\nmg k k q O5\r\nmn\r\n"),
    ("mg_miss_quiet_pipeline", b"mg a v q\r\nmg b v q k\r\nmg c q O3\r\nmn\r\n"),
    ("mg_miss_every_flag", b"mg nope c f h k l O1 s t u v\r\nmn\r\n"),
    ("mg_hit_flags_zero", b"ms k 1 T0 F0\r\nx\r\nmg k f t\r\n"),
    ("mg_hit_flags_max", b"ms k 1 F4294967295\r\nx\r\nmg k f v\r\n"),
    ("mg_hit_empty_value", b"ms k 0\r\n\r\nmg k v s\r\n"),
    ("mg_hit_binary_value", b"ms k 4\r\n\x00\r\n\xff\r\nmg k v\r\n"),
    ("mg_lf_only", b"ms k 1\nx\r\nmg k v\n"),
    ("mg_h_l", b"ms k 1\r\nx\r\nmg k h l t\r\nmg k h l t\r\nmg k u h\r\nget k\r\nmg k h\r\n"),
    ("mg_u_no_fetch", b"ms k 1\r\nx\r\nmg k u v\r\nmg k h\r\nmg k h\r\n"),
    ("mg_h_after_get", b"ms k 1\r\nx\r\nget k\r\nmg k h\r\n"),
    ("mg_h_after_gets", b"ms k 1\r\nx\r\ngets k\r\nmg k h\r\n"),
    ("mg_h_after_touch", b"ms k 1\r\nx\r\ntouch k 100\r\nmg k h t\r\n"),
    ("mg_h_after_gat", b"ms k 1\r\nx\r\ngat 100 k\r\nmg k h t\r\n"),
    ("mg_h_after_set", b"ms k 1\r\nx\r\nmg k h\r\nset k 0 0 1\r\ny\r\nmg k h\r\n"),
    ("mg_h_after_append", b"ms k 1\r\nx\r\nmg k h\r\nappend k 0 0 1\r\ny\r\nmg k h v\r\n"),
    ("mg_h_after_incr_inplace", b"ms k 1\r\n5\r\nmg k h\r\nincr k 1\r\nmg k h\r\n"),
    ("mg_h_after_incr_grows", b"ms k 1\r\n9\r\nmg k h\r\nincr k 1\r\nmg k h\r\n"),
    ("mg_h_after_ma", b"ms k 1\r\n5\r\nmg k h\r\nma k\r\nmg k h\r\n"),
    # -- mg T, t order --------------------------------------------------------
    ("mg_T_then_t", b"ms k 1\r\nx\r\nmg k T30 t c\r\nmg k t\r\n"),
    ("mg_t_then_T", b"ms k 1\r\nx\r\nmg k t T60 c\r\nmg k t\r\n"),
    ("mg_T_miss", b"mg k T30 t v\r\nmn\r\n"),
    ("mg_T_zero", b"ms k 1 T100\r\nx\r\nmg k T0 t\r\nmg k t\r\n"),
    ("mg_T_negative", b"ms k 1\r\nx\r\nmg k T-1 v\r\nmg k v\r\n"),
    ("mg_T_quiet_hit", b"ms k 1\r\nx\r\nmg k T30 q t\r\nmn\r\n"),
    # -- mg N: vivify, win tokens ------------------------------------------
    ("mg_N_quiet", b"mg key s N30 t q\r\n"),
    ("mg_N_then_hit", b"mg key s N30 t q\r\nmg key s t v c\r\nmg key s N30 t\r\nmn\r\n"),
    ("mg_N_all_flags", b"mg key N30 k O1 c f s t v h l\r\n"),
    ("mg_N_t_first", b"mg nope t N30\r\nmg nope t\r\n"),
    ("mg_N_zero", b"mg j N0 v c\r\nmg j v c\r\n"),
    ("mg_N_negative", b"mg k v N-1\r\nmg k v\r\n"),
    ("mg_N_q_miss_then_q", b"mg k s N30 q\r\nmg k s q\r\nmn\r\n"),
    ("mg_N_b_key", b"mg Zm9v b N30 k v\r\nmg Zm9v b k v\r\nmg foo k\r\n"),
    ("mg_N_then_ms", b"mg k N30 c\r\nms k 1\r\nx\r\nmg k c v\r\n"),
    ("mg_N_T_order", b"mg k N30 T60 t\r\nmg k t\r\nmg j T60 N30 t\r\nmg j t\r\n"),
    ("mg_N_me", b"mg k N30\r\nme k\r\n"),
    ("mg_N_existing", b"ms k 1 T100\r\nx\r\nmg k N30 t v\r\n"),
    # -- mg R ------------------------------------------------------------------
    ("mg_R_win", b"ms k 1 T100\r\nx\r\nmg k R200 t c\r\nmg k R200 t\r\nmg k R50 t\r\n"),
    ("mg_R_no_win", b"ms k 1 T100\r\nx\r\nmg k R50 t\r\nmg k R100 t\r\nmg k R101 t\r\n"),
    ("mg_R_no_ttl", b"ms k 1\r\nx\r\nmg k R200 t\r\n"),
    ("mg_R_new_item", b"ms k 1 T100\r\nx\r\nmg k R200 t\r\nms k 1 T100\r\ny\r\nmg k R200 t\r\n"),
    ("mg_R_after_touch", b"ms k 1 T100\r\nx\r\nmg k R200 t\r\ntouch k 500\r\nmg k R1000 t\r\n"),
    ("mg_R_miss", b"mg k R30 v\r\nmn\r\n"),
    # -- md I: stale -------------------------------------------------------------
    ("md_I_stale", b"ms k 1\r\nx\r\nmd k I T30\r\nmg k c t v\r\nmg k c t v\r\n"),
    ("md_I_twice", b"ms k 1\r\nx\r\nmd k I\r\nmd k I\r\nmg k c\r\nmd k\r\nmg k\r\n"),
    ("md_I_reopens_token", b"ms k 1 T100\r\nx\r\nmd k I\r\nmg k N30 v\r\nmg k R200\r\nmd k I\r\nmg k R200 N30\r\n"),
    ("md_I_quiet", b"ms k 1 T100\r\nx\r\nmd k I T30 q\r\nmg k t\r\n"),
    ("md_I_cas", b"ms k 1 T100\r\nx\r\nmd k I C99\r\nmd k I C1\r\nmg k c\r\n"),
    ("md_I_miss", b"md nope I\r\nmd nope I q\r\nmn\r\n"),
    ("md_T_without_I", b"ms k 1 T100\r\nx\r\nmd k T5\r\nmg k t\r\n"),
    ("md_I_get_gets", b"ms k 1\r\nx\r\nmd k I\r\nget k\r\ngets k\r\nmg k s\r\n"),
    ("md_I_h", b"ms k 1\r\nx\r\nmg k\r\nmd k I\r\nmg k h\r\n"),
    ("md_I_ma_inplace", b"ms k 1\r\n5\r\nmd k I\r\nma k\r\nmg k v\r\n"),
    ("md_I_ma_grows", b"ms j 1\r\n9\r\nmd j I\r\nma j\r\nmg j v\r\n"),
    ("md_I_ma_cas", b"ms j 1\r\n5\r\nmd j I\r\nma j v c\r\nmg j c v\r\n"),
    ("md_I_me", b"ms k 1\r\nx\r\nmd k I\r\nme k\r\n"),
    ("md_I_touch_keeps", b"ms k 1\r\nx\r\nmd k I\r\ntouch k 100\r\nmg k t\r\n"),
    ("md_I_set_clears", b"ms k 1\r\nx\r\nmd k I\r\nset k 0 0 1\r\ny\r\nmg k v\r\n"),
    # -- ms I ----------------------------------------------------------------------
    ("ms_I_older_cas", b"ms k 1 T100\r\nx\r\nmd k I\r\nms k 1 C1 I c\r\ny\r\nmg k c t v s\r\nmg k c t v s\r\n"),
    ("ms_I_keeps_token", b"ms k 1 T100\r\nx\r\nmd k I\r\nmg k v\r\nms k 1 C1 I c\r\ny\r\nmg k c t v s\r\n"),
    ("ms_I_fresh_item", b"ms k 1 T100\r\nx\r\nms k 1 C1 I c\r\ny\r\nms k 1 C1 I c\r\ny\r\nmg k c v\r\n"),
    ("ms_I_equal_cas", b"ms k 1 T100\r\nx\r\nms k 1 C1 I c T5\r\ny\r\nmg k c v t\r\n"),
    ("ms_I_newer_cas", b"ms k 1\r\nx\r\nms k 1 C9 I c\r\ny\r\nmg k v\r\n"),
    ("ms_I_miss", b"ms k 1 C1 I c\r\ny\r\nmn\r\n"),
    ("ms_I_without_C", b"ms k 1\r\nx\r\nms k 1 I c\r\ny\r\nmg k v c\r\n"),
    ("ms_I_replace", b"ms k 1\r\nx\r\nmd k I\r\nms k 1 C1 I MR c\r\ny\r\nmg k v\r\n"),
    ("ms_I_add_mode", b"ms k 1\r\nx\r\nms k 1 C1 I ME c\r\ny\r\nmg k v\r\n"),
    # -- ms replies ----------------------------------------------------------------
    ("ms_hd_flags", b"ms k 1 c k O1 b\r\nx\r\nms a2V5 1 b c k O2\r\ny\r\nmg key v\r\n"),
    ("ms_c_cas", b"ms k 1 c\r\nx\r\nms k 1 c\r\ny\r\nmg k c\r\n"),
    ("ms_c_bad_cas", b"ms k 1\r\nx\r\nms k 1 C99 c\r\nx\r\nms k 1 C99 c k O1 T5 F5 MR\r\nx\r\n"),
    ("ms_ex_flags", b"ms k 1\r\nx\r\nms k 1 C99 c t f s k O1 T5 F5\r\nx\r\n"),
    ("ms_nf_c0", b"ms k 1 C5 c k O1\r\nx\r\nms k 1 MR C5 c\r\nx\r\n"),
    ("ms_ns_c0", b"ms k 1\r\nx\r\nms k 1 ME c k O1\r\ny\r\nms n 1 MR c k O1\r\ny\r\nms n 1 MA c\r\ny\r\nms n 1 MP q\r\ny\r\nmn\r\n"),
    ("ms_append_prepend", b"ms k 1\r\nx\r\nms k 1 MA c\r\ny\r\nms k 1 MP c\r\nz\r\nmg k v c\r\nms k 1 MA C1\r\nw\r\nms k 1 MA C3 c\r\nw\r\n"),
    ("ms_append_keeps_flags", b"ms k 1 F5 T100\r\nx\r\nms k 1 MA F9 T0\r\ny\r\nmg k f t v\r\n"),
    ("ms_mode_S", b"ms k 1 MS\r\nx\r\nms k 1 MS C1 c\r\ny\r\nmg k v\r\n"),
    ("ms_replace_hit", b"ms k 1\r\nx\r\nms k 2 MR T50\r\nyy\r\nmg k v t\r\n"),
    ("ms_add_miss", b"ms k 1 ME T50 F3\r\nx\r\nmg k v t f\r\n"),
    ("ms_quiet_pipeline", b"ms a 1 q\r\nx\r\nms b 1 q O2\r\ny\r\nms a 1 q ME\r\nz\r\nmn\r\n"),
    ("ms_T_negative", b"ms k 1\r\nx\r\nms k 1 T-1\r\ny\r\nmg k v\r\n"),
    ("ms_T_absolute_past", b"ms k 1 T2592001\r\nx\r\nmg k v\r\n"),
    ("ms_F_then_get", b"ms k 2 F77\r\nab\r\nget k\r\ngets k\r\n"),
    ("ms_b64_k", b"ms Zm9v 1 b k c O5\r\nx\r\nmg Zm9v b k v\r\nmd Zm9v b k\r\nma Zm9v b k N0 v\r\nmg foo k\r\n"),
    ("ms_b64_get_plain", b"ms Zm9v 1 b\r\nx\r\nget foo\r\nmg foo k v\r\n"),
    ("ms_plain_mg_b", b"ms foo 1\r\nx\r\nmg Zm9v b k v\r\n"),
    # -- too large: the old value goes (set and ms), stays (the others) ------
    ("set_too_large_drops_old", b"set k 0 0 1\r\nx\r\nset k 0 0 2000\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("set_too_large_noreply_drops", b"set k 0 0 1\r\nx\r\nset k 0 0 2000 noreply\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("add_too_large_keeps", b"set k 0 0 1\r\nx\r\nadd k 0 0 2000\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("replace_too_large_keeps", b"set k 0 0 1\r\nx\r\nreplace k 0 0 2000\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("append_too_large_keeps", b"set k 0 0 1\r\nx\r\nappend k 0 0 2000\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("prepend_too_large_keeps", b"set k 0 0 1\r\nx\r\nprepend k 0 0 2000\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("cas_too_large_keeps", b"set k 0 0 1\r\nx\r\ncas k 0 0 2000 1\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("append_grows_too_large", b"set k 0 0 900\r\n" + X(900) + b"\r\nappend k 0 0 100\r\n" + X(100) + b"\r\nmg k s\r\n"),
    ("prepend_grows_too_large", b"set k 0 0 900\r\n" + X(900) + b"\r\nprepend k 0 0 100\r\n" + X(100) + b"\r\nmg k s\r\n"),
    ("ms_too_large_drops_old", b"set k 0 0 1\r\nx\r\nms k 2000\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("ms_E_too_large_drops_old", b"set k 0 0 1\r\nx\r\nms k 2000 ME\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("ms_A_too_large_drops_old", b"set k 0 0 1\r\nx\r\nms k 2000 MA\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("ms_P_too_large_drops_old", b"set k 0 0 1\r\nx\r\nms k 2000 MP\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("ms_R_too_large_drops_old", b"set k 0 0 1\r\nx\r\nms k 2000 MR\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("ms_C_too_large_drops_old", b"set k 0 0 1\r\nx\r\nms k 2000 C1\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("ms_q_too_large_drops_old", b"set k 0 0 1\r\nx\r\nms k 2000 q k O1 c\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("ms_bad_flag_large_keeps", b"set k 0 0 1\r\nx\r\nms k 2000 z\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("ms_bad_mode_large_keeps", b"set k 0 0 1\r\nx\r\nms k 2000 Mx\r\n" + X(2000) + b"\r\nmn\r\nget k\r\n"),
    ("set_flags_size_limit", b"set k 5 0 961\r\n" + X(961) + b"\r\nset k 5 0 960\r\n" + X(960) + b"\r\nset j 0 0 964\r\n" + X(964) + b"\r\nmg k s f\r\n"),
    ("ms_flags_size_limit", b"ms k 961 F5\r\n" + X(961) + b"\r\nms k 960 F5\r\n" + X(960) + b"\r\nmg k s f\r\n"),
    ("set_too_large_other_key", b"set k 0 0 1\r\nx\r\nset j 0 0 2000\r\n" + X(2000) + b"\r\nget k\r\n"),
    # -- md ----------------------------------------------------------------------
    ("md_hit", b"ms k 1\r\nx\r\nmd k\r\nmg k v\r\n"),
    ("md_hit_echo", b"ms k 1\r\nx\r\nmd k k O1 c t\r\n"),
    ("md_cas", b"ms k 1\r\nx\r\nmd k C99 c t k O1\r\nmd k C1 k\r\nmg k\r\n"),
    ("md_quiet", b"md k q\r\nms k 1\r\nx\r\nmd k q\r\nmn\r\n"),
    ("md_quiet_ex", b"ms k 1\r\nx\r\nmd k q C5 O1\r\nmn\r\n"),
    ("md_b64", b"ms Zm9v 1 b\r\nx\r\nmd Zm9v b k O1\r\nmg foo v\r\n"),
    ("md_miss_echo_all", b"md nope c t k O1 q\r\n"),
    # -- ma ----------------------------------------------------------------------
    ("ma_incr", b"ms k 1\r\n1\r\nma k\r\nma k v\r\nmg k v\r\n"),
    ("ma_t_ttl", b"ms k 1 T300\r\n1\r\nma k t\r\nma k t T0\r\nma k N0 t v\r\nma j N0 t v\r\nma j2 N30 J5 t v c k O1 q\r\n"),
    ("ma_vivify_flags", b"ma k c t v k O1 D5 N10\r\nms k 1 C99 c\r\nx\r\n"),
    ("ma_T_order", b"ms k 2 T100\r\n10\r\nma k v T0 t\r\nma k v t T50\r\nmg k t\r\n"),
    ("ma_cas", b"ms k 2\r\n10\r\nma k C1 v\r\nma k C9 v c q\r\nma k C1 v c\r\nmn\r\n"),
    ("ma_quiet", b"ma k q\r\nma k N0 q\r\nma k q v\r\nma k q v k O1\r\nmn\r\nmg k v\r\n"),
    ("ma_decr", b"ma k N0 D5 MD v\r\nma k MD D9 v\r\nma k D18446744073709551615 v\r\nma k v\r\nma k M- v\r\nma k M+ v c\r\n"),
    ("ma_J", b"ma k N0 J42 v\r\nma k v\r\nma j J42 v\r\nmn\r\n"),
    ("ma_non_numeric", b"ms k 1 T300\r\nx\r\nma k\r\nma k v q\r\nmn\r\n"),
    ("ma_b64", b"ma Zm9v b N0 k v\r\nma Zm9v b k v\r\nmg foo v\r\n"),
    ("ma_miss_echo", b"ma nope c t v k O1\r\nma nope N0 MD q\r\nmn\r\n"),
    ("ma_decr_zero", b"ms k 1\r\n3\r\nma k MD D10 v\r\nmg k v s\r\n"),
    ("ma_incr_wrap", b"ms k 20\r\n18446744073709551615\r\nma k v\r\nmg k v\r\n"),
    ("ma_h_after", b"ms k 1\r\n1\r\nma k\r\nmg k h\r\n"),
    ("ma_keeps_flags_ttl", b"ms k 1 F3 T100\r\n1\r\nma k v\r\nmg k f t\r\n"),
    # -- me ------------------------------------------------------------------------
    ("me_miss", b"me k\r\n"),
    ("me_hit", b"ms k 1 T100\r\nx\r\nme k\r\nmg k v\r\nme k\r\n"),
    ("me_flags_size", b"ms k 1 F3\r\nx\r\nme k\r\n"),
    ("me_classes", b"ms k 100\r\n" + X(100) + b"\r\nme k\r\nms k 200\r\n" + X(200) + b"\r\nme k\r\nms k 300\r\n" + X(300) + b"\r\nme k\r\nms k 500\r\n" + X(500) + b"\r\nme k\r\nms k 900\r\n" + X(900) + b"\r\nme k\r\n"),
    ("me_class_edges", b"ms k 35\r\n" + X(35) + b"\r\nme k\r\nms k 36\r\n" + X(36) + b"\r\nme k\r\nms k 420\r\n" + X(420) + b"\r\nme k\r\nms k 421\r\n" + X(421) + b"\r\nme k\r\n"),
    ("me_b64", b"ms Zm9v 1 b\r\nx\r\nme Zm9v b\r\nme Zm9v bx\r\nme Zm9v x\r\nme Zm9v b c\r\nme foo\r\n"),
    ("me_b64_bad", b"me k b\r\nme !!!! b\r\nmn\r\n"),
    ("me_never_expires", b"ms a 1 T0\r\nx\r\nme a\r\n"),
    ("me_after_get", b"set k 0 0 1\r\nx\r\nget k\r\nme k\r\n"),
    ("me_key_250", b"ms " + K250 + b" 1\r\nx\r\nme " + K250 + b"\r\n"),
    # -- mn ------------------------------------------------------------------------
    ("mn_args", b"mn\r\nmn x\r\nmn x y z\r\n"),
    # -- classic commands on meta state --------------------------------------
    ("cas_after_ms", b"ms k 1 c\r\nx\r\ncas k 0 0 1 1\r\ny\r\ngets k\r\n"),
    ("incr_after_vivify", b"mg k N30\r\nincr k 1\r\nma k N0 v\r\n"),
    ("gets_cas_sequence", b"set a 0 0 1\r\nx\r\nset b 0 0 1\r\ny\r\ngets a b\r\nmg a c\r\nmg b c\r\n"),
    ("delete_stale", b"ms k 1\r\nx\r\nmd k I\r\ndelete k\r\nmg k\r\n"),
    # -- malformed lines of every meta command (answered at once) -----------
    ("bad_mg_flag", b"mg k !\r\n"),
    ("bad_mg_dup", b"mg k v v\r\n"),
    ("bad_mg_token", b"mg k Tx\r\n"),
    ("bad_mg_N_token", b"mg k Nx\r\n"),
    ("bad_mg_R_token", b"mg k R\r\n"),
    ("bad_mg_C_token", b"mg k Cx\r\n"),
    ("bad_mg_opaque", b"mg k O" + X(32) + b"\r\n"),
    ("bad_mg_b", b"mg ! b\r\n"),
    ("bad_mg_too_many", b"mg k " + b"v " * 18 + b"\r\n"),
    ("bad_mg_no_key", b"mg\r\n"),
    ("bad_mg_key_251", b"mg " + K251 + b"\r\n"),
    ("bad_mg_E", b"mg k E5\r\n"),
    ("bad_ms_flag", b"ms k 1 !\r\nx\r\nmn\r\n"),
    ("bad_ms_dup", b"ms k 1 c c\r\nx\r\nmn\r\n"),
    ("bad_ms_T", b"ms k 1 Tx\r\nx\r\nmn\r\n"),
    ("bad_ms_F", b"ms k 1 Fx\r\nx\r\nmn\r\n"),
    ("bad_ms_C", b"ms k 1 C-5\r\nx\r\nmn\r\n"),
    ("bad_ms_mode", b"ms k 1 MZ\r\nx\r\nmn\r\n"),
    ("bad_ms_mode_len", b"ms k 1 MEE\r\nx\r\nmn\r\n"),
    ("bad_ms_no_len", b"ms k\r\nmn\r\n"),
    ("bad_ms_len", b"ms k x\r\nmn\r\n"),
    ("bad_ms_neg_len", b"ms k -1\r\nmn\r\n"),
    ("bad_ms_chunk", b"ms k 1\r\nxy\r\nmn\r\n"),
    ("bad_ms_chunk_q", b"ms k 1 q\r\nxy\r\nmn\r\n"),
    ("bad_ms_b", b"ms ! 1 b\r\nx\r\nmn\r\n"),
    ("bad_ms_no_key", b"ms\r\nmn\r\n"),
    ("bad_ms_key_251", b"ms " + K251 + b" 1\r\nx\r\nmn\r\n"),
    ("bad_ms_too_many", b"ms k 1 " + b"c " * 17 + b"\r\nx\r\nmn\r\n"),
    ("bad_ms_opaque", b"ms k 1 O" + X(32) + b"\r\nx\r\nmn\r\n"),
    ("bad_ms_E", b"ms k 1 E5\r\nx\r\nmn\r\n"),
    ("bad_md_flag", b"md k !\r\n"),
    ("bad_md_dup", b"md k q q\r\n"),
    ("bad_md_C", b"md k Cx\r\n"),
    ("bad_md_T", b"md k I Tx\r\n"),
    ("bad_md_b", b"md ! b\r\n"),
    ("bad_md_no_key", b"md\r\n"),
    ("bad_md_key_251", b"md " + K251 + b"\r\n"),
    ("bad_md_too_many", b"md k " + b"q " * 18 + b"\r\n"),
    ("bad_md_opaque", b"md k O" + X(32) + b"\r\n"),
    ("bad_ma_flag", b"ma k !\r\n"),
    ("bad_ma_dup", b"ma k v v\r\n"),
    ("bad_ma_D", b"ma k Dx\r\n"),
    ("bad_ma_J", b"ma k N0 Jx\r\n"),
    ("bad_ma_N", b"ma k Nx\r\n"),
    ("bad_ma_mode", b"ma k Mx\r\n"),
    ("bad_ma_mode_len", b"ma k MII\r\n"),
    ("bad_ma_b", b"ma ! b\r\n"),
    ("bad_ma_no_key", b"ma\r\n"),
    ("bad_ma_key_251", b"ma " + K251 + b"\r\n"),
    ("bad_ma_too_many", b"ma k " + b"v " * 18 + b"\r\n"),
    ("bad_ma_opaque", b"ma k O" + X(32) + b"\r\n"),
    ("bad_me_no_key", b"me\r\n"),
    ("bad_me_key_251", b"me " + K251 + b"\r\n"),
    ("bad_mx", b"mx k\r\n"),
    # -- malformed lines of every classic command ---------------------------
    ("bad_get", b"get\r\n"),
    ("bad_get_key", b"get " + K251 + b"\r\n"),
    ("bad_gets", b"gets\r\n"),
    ("bad_gat", b"gat x k\r\n"),
    ("bad_gats", b"gats\r\n"),
    ("bad_set", b"set k 0 0\r\n"),
    ("bad_set_len", b"set k 0 0 x\r\nmn\r\n"),
    ("bad_set_chunk", b"set k 0 0 1\r\nxy\r\nmn\r\n"),
    ("bad_add", b"add k x 0 1\r\nmn\r\n"),
    ("bad_replace", b"replace k 0 x 1\r\nmn\r\n"),
    ("bad_append", b"append k\r\n"),
    ("bad_prepend", b"prepend " + K251 + b" 0 0 1\r\nx\r\n"),
    ("bad_cas", b"cas k 0 0 1\r\nx\r\n"),
    ("bad_cas_unique", b"cas k 0 0 1 x\r\nx\r\n"),
    ("bad_delete", b"delete k x\r\n"),
    ("bad_incr", b"incr k x\r\n"),
    ("bad_decr", b"decr k\r\n"),
    ("bad_touch", b"touch k x\r\n"),
    ("bad_flush_all", b"flush_all x\r\n"),
    ("bad_verbosity", b"verbosity x\r\n"),
    ("bad_unknown", b"bogus\r\n"),
    ("bad_empty", b"\r\n"),
    # -- proxy flags, combinations, pipelines -------------------------------
    ("proxy_P_L", b"ms k 1 P/a L/b\r\nx\r\nmg k v P/a L/b\r\nmd k Lx\r\nma j N0 P1\r\nmn\r\n"),
    ("mg_O_empty_hit", b"ms k 1\r\nx\r\nmg k O v\r\n"),
    ("mg_N_R_existing", b"ms k 1 T100\r\nx\r\nmg k N30 R200 t\r\nmg k N30 R200 t\r\n"),
    ("md_I_b64_k", b"ms Zm9v 1 b\r\nx\r\nmd Zm9v b I k\r\nmg Zm9v b k v\r\nme foo\r\n"),
    ("ma_N_T_both", b"ma k N30 T60 t v\r\nmg k t\r\nma j T60 N30 t v\r\nmg j t\r\n"),
    ("gat_stale", b"ms k 1\r\nx\r\nmd k I\r\ngat 100 k\r\nmg k t v\r\n"),
    ("quiet_mixed_pipeline", b"mg a v q\r\nms a 1 q\r\nx\r\nmg a v q k\r\nmd a q\r\nmd a q\r\nma n q N0\r\nma n q\r\nmn\r\n"),
    ("bad_mg_opaque_then_flag", b"mg k O" + X(32) + b" !\r\n"),
    ("bad_ms_opaque_and_mode", b"ms k 1 O" + X(32) + b" MZ\r\nx\r\nmn\r\n"),
    ("bad_md_opaque_and_flag", b"md k O" + X(32) + b" !\r\n"),
    ("bad_ma_opaque_and_mode", b"ma k O" + X(32) + b" Mx\r\n"),
    ("bad_mg_opaque_miss_hit", b"ms k 1\r\nx\r\nmg k v O" + X(32) + b"\r\nmg j v O" + X(32) + b"\r\n"),
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(binary):
    port = free_port()
    args = [binary, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-I", "1k",
            "-o", "slab_chunk_max=512"]
    if os.geteuid() == 0:
        args += ["-u", "nobody"]
    srv = subprocess.Popen(args)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return srv, port
        except OSError:
            time.sleep(0.05)
    srv.kill()
    raise SystemExit("memcached did not start")


def exchange(port, data, idle):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(data)
    s.settimeout(idle)
    out, closed = b"", False
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            closed = True
            break
        if not d:
            closed = True
            break
        out += d
    s.close()
    return out, closed


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "/usr/bin/memcached"
    version = subprocess.run([binary, "-V"], capture_output=True, text=True).stdout.strip()
    names = [n for n, _ in CASES]
    assert len(names) == len(set(names)), "duplicate case name"
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):  # the hand-written .differs files stay
        if not f.endswith(".differs"):
            os.unlink(os.path.join(OUT, f))
    for name, data in CASES:
        srv, port = start(binary)
        try:
            out, closed = exchange(port, data, 0.5)
            if not out and not closed:  # a busy machine: make sure
                out, closed = exchange(port, data, 2.0)
        finally:
            srv.terminate()
            srv.wait()
        with open(os.path.join(OUT, name + ".in"), "wb") as f:
            f.write(data)
        with open(os.path.join(OUT, name + ".out"), "wb") as f:
            f.write(out)
        if closed:
            open(os.path.join(OUT, name + ".closed"), "wb").close()
    with open(os.path.join(OUT, "VERSION"), "w") as f:
        f.write(version + "\n")
    print("%d cases recorded from %s" % (len(CASES), version))


if __name__ == "__main__":
    main()
