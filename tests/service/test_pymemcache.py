# SPDX-License-Identifier: LGPL-2.1-or-later
"""splitcached through pymemcache (Debian python3-pymemcache), plus a raw
socket for what pymemcache does not send (gat, meta commands, error lines).

Usage: /usr/bin/python3 test_pymemcache.py PATH/TO/splitcached

Starts its own server on free loopback ports (--port-file), covers every
command the client library has and every error it can see, then stops the
server with SIGTERM and checks that it exits 0.
"""
import os
import sys
import tempfile
import time
import unittest

try:
    from pymemcache.client.base import Client
except ImportError:
    print("skipped: python3-pymemcache is not installed")
    sys.exit(77)
from pymemcache.exceptions import (MemcacheClientError, MemcacheIllegalInputError,
                                   MemcacheServerError)

from svc import Server, TIMEOUT, ask

PORTS = {}


def client(pool="index"):
    # default_noreply False: every store reports its result.
    return Client(("127.0.0.1", PORTS[pool]), default_noreply=False,
                  connect_timeout=TIMEOUT, timeout=TIMEOUT)


def raw(req, pool="index", end=None, close=False):
    """Sends req, returns the reply read until `end` (None: until EOF)."""
    return ask(PORTS[pool], req, end, half_close=close)


class Commands(unittest.TestCase):
    def setUp(self):
        self.c = client()
        self.c.flush_all()

    def tearDown(self):
        self.c.close()

    def test_set_get(self):
        self.assertTrue(self.c.set("k", b"v", expire=0))
        self.assertEqual(self.c.get("k"), b"v")
        self.assertIsNone(self.c.get("missing"))
        self.assertTrue(self.c.set("bin", bytes(range(256))))
        self.assertEqual(self.c.get("bin"), bytes(range(256)))
        self.assertTrue(self.c.set("empty", b""))
        self.assertEqual(self.c.get("empty"), b"")

    def test_flags_roundtrip(self):
        self.assertTrue(self.c.set("f", b"x", flags=4294967295))
        self.assertEqual(self.c.get("f"), b"x")
        self.assertEqual(raw(b"get f\r\n", end=b"END\r\n"), b"VALUE f 4294967295 1\r\nx\r\nEND\r\n")

    def test_get_many(self):
        self.assertEqual(self.c.set_many({"a": b"1", "b": b"2", "c": b"3"}), [])
        self.assertEqual(self.c.get_many(["a", "b", "c", "d"]), {"a": b"1", "b": b"2", "c": b"3"})

    def test_gets_cas(self):
        self.c.set("k", b"v1")
        v, cas = self.c.gets("k")
        self.assertEqual(v, b"v1")
        self.assertFalse(self.c.cas("k", b"v2", int(cas) + 1000))
        self.assertTrue(self.c.cas("k", b"v2", cas))
        self.assertFalse(self.c.cas("k", b"v3", cas))
        self.assertIsNone(self.c.cas("missing", b"x", 1))
        self.assertEqual(self.c.get("k"), b"v2")
        many = self.c.gets_many(["k", "nope"])
        self.assertEqual(list(many.keys()), ["k"])

    def test_add_replace(self):
        self.assertTrue(self.c.add("k", b"1"))
        self.assertFalse(self.c.add("k", b"2"))
        self.assertTrue(self.c.replace("k", b"3"))
        self.assertFalse(self.c.replace("nope", b"3"))
        self.assertEqual(self.c.get("k"), b"3")

    def test_append_prepend(self):
        self.assertFalse(self.c.append("nope", b"x"))
        self.c.set("k", b"mid")
        self.assertTrue(self.c.append("k", b">"))
        self.assertTrue(self.c.prepend("k", b"<"))
        self.assertEqual(self.c.get("k"), b"<mid>")

    def test_delete(self):
        self.c.set("k", b"v")
        self.assertTrue(self.c.delete("k"))
        self.assertFalse(self.c.delete("k"))
        self.c.set_many({"a": b"1", "b": b"2"})
        self.assertTrue(self.c.delete_many(["a", "b", "c"]))
        self.assertEqual(self.c.get_many(["a", "b"]), {})

    def test_incr_decr(self):
        self.assertIsNone(self.c.incr("n", 1))
        self.c.set("n", b"10")
        self.assertEqual(self.c.incr("n", 5), 15)
        self.assertEqual(self.c.decr("n", 20), 0)
        self.c.set("n", b"18446744073709551615")
        self.assertEqual(self.c.incr("n", 1), 0)
        self.c.set("t", b"text")
        with self.assertRaises(MemcacheClientError):
            self.c.incr("t", 1)

    def test_touch_and_expiry(self):
        self.c.set("k", b"v", expire=100)
        self.assertTrue(self.c.touch("k", 200))
        self.assertFalse(self.c.touch("nope", 1))
        self.c.set("gone", b"v", expire=-1)
        self.assertIsNone(self.c.get("gone"))
        self.c.set("past", b"v", expire=int(time.time()) - 100)
        self.assertIsNone(self.c.get("past"))
        self.c.set("future", b"v", expire=int(time.time()) + 1000)
        self.assertEqual(self.c.get("future"), b"v")
        self.assertTrue(self.c.touch("future", -1))
        self.assertIsNone(self.c.get("future"))

    def test_gat(self):
        self.c.set("k", b"v")
        self.assertEqual(raw(b"gat 100 k nope\r\n", end=b"END\r\n"), b"VALUE k 0 1\r\nv\r\nEND\r\n")
        r = raw(b"gats 100 k\r\n", end=b"END\r\n")
        self.assertTrue(r.startswith(b"VALUE k 0 1 "), r)

    def test_noreply(self):
        c = Client(("127.0.0.1", PORTS["index"]), default_noreply=True, timeout=TIMEOUT)
        self.assertTrue(c.set("k", b"v"))
        self.assertTrue(c.add("k2", b"v"))
        self.assertTrue(c.append("k", b"w"))
        self.assertEqual(c.get("k"), b"vw")
        c.close()

    def test_flush_all(self):
        self.c.set("k", b"v")
        self.assertTrue(self.c.flush_all())
        self.assertIsNone(self.c.get("k"))
        self.c.set("k", b"v")
        self.assertTrue(self.c.flush_all(delay=100))
        self.assertEqual(self.c.get("k"), b"v")
        self.assertTrue(self.c.flush_all())

    def test_version_stats(self):
        self.assertTrue(self.c.version().startswith(b"1.6.0-splitcache-"))
        self.c.set("k", b"v")
        self.c.get("k")
        st = self.c.stats()
        for name in (b"pid", b"uptime", b"curr_items", b"get_hits", b"limit_maxbytes",
                     b"curr_connections", b"threads"):
            self.assertIn(name, st)
        self.assertGreaterEqual(st[b"get_hits"], 1)
        self.assertIn(b"maxconns", self.c.stats("settings"))
        self.assertIn(b"view:items", self.c.stats("pools"))

    def test_large_value(self):
        v = os.urandom(1 << 20)
        self.assertTrue(self.c.set("big", v))
        self.assertEqual(self.c.get("big"), v)
        with self.assertRaises(MemcacheServerError):
            self.c.set("huge", b"x" * (2 << 20))

    def test_key_errors(self):
        with self.assertRaises(MemcacheIllegalInputError):
            self.c.set("a" * 251, b"v")
        self.assertEqual(raw(b"get " + b"a" * 251 + b"\r\n", end=b"\r\n"),
                         b"CLIENT_ERROR bad command line format\r\n")

    def test_quit(self):
        c = client()
        c.quit()
        self.assertEqual(raw(b"quit\r\n", end=None), b"")

    def test_unknown_command(self):
        self.assertEqual(raw(b"bogus\r\n", end=b"\r\n"), b"ERROR\r\n")

    def test_cache_memlimit(self):
        # memcached's command: lower the limit (OK), never above the budget
        # the server reserved at start (-m 64 here)
        self.assertTrue(self.c.cache_memlimit(48))
        with self.assertRaises(MemcacheServerError):
            self.c.cache_memlimit(100)
        self.assertTrue(self.c.cache_memlimit(64))


class Errors(unittest.TestCase):
    """memcached's error lines and what follows them, on the wire."""

    def test_bad_data_chunk(self):
        self.assertEqual(raw(b"set k 0 0 2\r\nabc\r\nmn\r\n", end=b"MN\r\n"),
                         b"CLIENT_ERROR bad data chunk\r\nERROR\r\nMN\r\n")

    def test_bad_format(self):
        self.assertEqual(raw(b"set k x 0 1\r\nmn\r\n", end=b"MN\r\n"),
                         b"CLIENT_ERROR bad command line format\r\nMN\r\n")
        self.assertEqual(raw(b"incr k x\r\n", end=b"\r\n"),
                         b"CLIENT_ERROR invalid numeric delta argument\r\n")
        self.assertEqual(raw(b"touch k x\r\n", end=b"\r\n"),
                         b"CLIENT_ERROR invalid exptime argument\r\n")

    def test_too_large(self):
        n = 3 << 20
        self.assertEqual(raw(b"set k 0 0 %d\r\n" % n + b"x" * n + b"\r\nmn\r\n", end=b"MN\r\n"),
                         b"SERVER_ERROR object too large for cache\r\nMN\r\n")

    def test_http_closes(self):
        self.assertEqual(raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", end=None), b"")

    def test_long_line_closes(self):
        self.assertEqual(raw(b"x" * 3000, end=None, close=False), b"")

    def test_meta(self):
        self.assertEqual(raw(b"ms m 2 T0 F1\r\nhi\r\nmg m v f\r\nmd m\r\nmg m v\r\nmn\r\n",
                             end=b"MN\r\n"),
                         b"HD\r\nVA 2 f1\r\nhi\r\nHD\r\nEN\r\nMN\r\n")
        self.assertEqual(raw(b"ma c N0 J5 v\r\nma c MD v\r\n", end=b"4\r\n"),
                         b"VA 1\r\n5\r\nVA 1\r\n4\r\n")


class ViewPool(unittest.TestCase):
    def test_height_keys(self):
        v = client("view")
        i = client("index")
        self.assertTrue(v.set("@10/utxo", b"h10"))
        self.assertTrue(v.set("utxo", b"plain"))
        self.assertEqual(v.get_many(["@10/utxo", "utxo", "@11/utxo"]),
                         {"@10/utxo": b"h10", "utxo": b"plain"})
        self.assertIsNone(i.get("utxo"))
        v.close()
        i.close()


def main():
    binary = sys.argv.pop(1)
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(binary, tmp, "s", ["-I", "2m"])
        PORTS.update(srv.ports)
        try:
            prog = unittest.main(exit=False, verbosity=1)
            ok = prog.result.wasSuccessful()
        finally:
            rc = srv.stop()
        if rc != 0:
            sys.stderr.write(srv.log() + "splitcached exited with %d\n" % rc)
            ok = False
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
