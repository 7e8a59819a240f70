# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/mcload, the load generator of bench/memcached-vs.sh, against a
real splitcached (every reply checked, zero errors, its counts agree with
the server's) and against small servers in this test that answer wrongly,
answer nothing or hang up (mcload reports the error and exits 1). No
timing assertions: durations are short and only bound the runs.

Usage: /usr/bin/python3 test_mcload.py PATH/TO/splitcached PATH/TO/mcload
"""
import signal
import socket
import subprocess
import sys
import tempfile
import threading

from svc import Checks, Server, stat

check = Checks()
MCLOAD = None


def run(port, *args, timeout=120):
    """Runs mcload against 127.0.0.1:port; returns (exit, fields, stderr)."""
    p = subprocess.run([MCLOAD, "-s", "127.0.0.1:%d" % port] + list(args),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    fields = {}
    for line in p.stdout.decode().splitlines():
        name, _, value = line.partition(" ")
        fields[name] = value
    return p.returncode, fields, p.stderr.decode("latin1")


def num(fields, name):
    return float(fields.get(name, "nan"))


class Fake:
    """A memcached-text peer on a free port: reads request lines (and a
    set's data line) and answers each through `answer(line)` -> bytes or
    None (None: hang up). One thread per connection."""

    def __init__(self, answer):
        self.answer = answer
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self.serve, args=(c,), daemon=True).start()

    def serve(self, c):
        buf = b""
        try:
            while True:
                while b"\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                line, buf = buf.split(b"\r\n", 1)
                if line.startswith(b"set "):
                    while b"\r\n" not in buf:
                        buf += c.recv(65536)
                    buf = buf.split(b"\r\n", 1)[1]
                reply = self.answer(line)
                if reply is None:
                    c.close()
                    return
                c.sendall(reply)
        except OSError:
            return

    def close(self):
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def against_splitcached(binary):
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(binary, tmp, "s")
        try:
            for io in ("auto", "epoll"):
                sets0, gets0 = stat(srv.port, "cmd_set"), stat(srv.port, "cmd_get")
                rc, f, err = run(srv.port, "-t", "1", "-c", "8", "-T", "2", "-k", "2000",
                                 "--io", io)
                check(rc == 0 and num(f, "errors") == 0,
                      "--io %s: exit 0, no error (%s)" % (io, f.get("io")))
                if rc != 0:
                    print(err)
                req, gets, sets = num(f, "requests"), num(f, "gets"), num(f, "sets")
                check(req > 0 and gets > 0 and sets > 0 and gets + sets == req,
                      "--io %s: requests counted, gets + sets = requests" % io)
                check(num(f, "hits") > 0 and num(f, "misses") == 0,
                      "--io %s: preloaded keys are hits, no miss" % io)
                # the server saw at least what mcload counted (plus the preload)
                check(stat(srv.port, "cmd_set") - sets0 >= 2000 + sets
                      and stat(srv.port, "cmd_get") - gets0 >= gets,
                      "--io %s: the server's counters cover mcload's" % io)
                check(0 < num(f, "p50_us") <= num(f, "p99_us") <= num(f, "p999_us")
                      <= num(f, "max_us"), "--io %s: p50 <= p99 <= p99.9 <= max" % io)
                check(num(f, "cpu_us_per_req") > 0, "--io %s: client CPU per request" % io)

            gets0 = stat(srv.port, "cmd_get")
            rc, f, err = run(srv.port, "-t", "1", "-c", "4", "-k", "2000", "--mget", "100",
                             "--depth", "3", "--no-preload")
            check(rc == 0 and num(f, "errors") == 0 and num(f, "gets") > 0,
                  "100-key gets, depth 3: no error")
            check(num(f, "hits") + num(f, "misses") >= 100 * num(f, "gets")
                  and stat(srv.port, "cmd_get") - gets0 >= 100 * num(f, "gets"),
                  "100-key gets: every key answered, the server counted each")

            # a VALUE line shorter than the key plus five characters
            rc, f, err = run(srv.port, "-t", "0.5", "-c", "2", "-k", "3000", "--key-size", "8",
                             "--value-size", "3", "--mget", "7", "--depth", "2")
            check(rc == 0 and num(f, "errors") == 0 and num(f, "hits") > 0,
                  "8-byte keys, 3-byte values: no error")
            if rc != 0:
                print(err)

            p = subprocess.Popen([MCLOAD, "-s", "127.0.0.1:%d" % srv.port, "-t", "600",
                                  "-c", "4", "--no-preload"],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            first = stat(srv.port, "cmd_get")
            while p.poll() is None and stat(srv.port, "cmd_get") == first:
                pass
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=60)
            check(p.returncode == 0 and b"\nerrors 0\n" in out and b"requests " in out,
                  "SIGINT: the run stops, reports and exits 0")
        finally:
            st = srv.stop()
            check(st == 0, "splitcached exits 0 on SIGTERM")


def against_fakes():
    def stored(line):
        return b"STORED\r\n"

    def bad_data(line):
        if line.startswith(b"get "):
            key = line.split()[1]
            return b"VALUE " + key + b" 0 100\r\n" + b"x" * 100 + b"\r\nEND\r\n"
        return b"STORED\r\n"

    def other_key(line):
        if line.startswith(b"get "):
            key = b"k" + b"9" * 31
            return b"VALUE " + key + b" 0 100\r\n" + b"x" * 100 + b"\r\nEND\r\n"
        return b"STORED\r\n"

    def silent(line):
        return b""

    def hang_up(line):
        return None

    cases = [
        (stored, [], "wrong reply to a get", "STORED to a get"),
        (bad_data, ["-r", "0"], "wrong value data", "a value with other bytes"),
        (other_key, ["-r", "0"], "wrong reply to a get", "a VALUE of a key not asked for"),
        (silent, [], "missing", "no reply at all"),
        (hang_up, [], "closed by the server", "the server hangs up"),
    ]
    for (answer, extra, said, what), io in [(c, io) for c in cases for io in ("auto", "epoll")]:
        fake = Fake(answer)
        try:
            rc, f, err = run(fake.port, "-t", "0.5", "-c", "2", "-T", "1", "--no-preload",
                             "--io", io, *extra)
        finally:
            fake.close()
        check(rc == 1 and num(f, "errors") >= 1 and said in err,
              "fake server, %s, --io %s: error reported (%s), exit 1" % (what, io, said))
        if rc != 1 or said not in err:
            print("exit %d, stdout %s, stderr %s" % (rc, f, err))

    fake = Fake(stored)
    try:
        rc, f, err = run(fake.port, "-t", "0.5", "-c", "1", "-r", "1", "--no-preload")
        check(rc == 0 and num(f, "errors") == 0 and num(f, "sets") > 0,
              "fake server answering STORED to sets only: no error (the check is not blind)")
        rc, f, err = run(fake.port, "-k", "10", "--preload-only")
        check(rc == 0, "--preload-only: ten STORED, exit 0")
    finally:
        fake.close()

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    rc, f, err = run(port, "-t", "0.5", "--no-preload")
    check(rc == 2 and "connect" in err, "no server: exit 2 with the reason")
    rc, f, err = run(port, "--depth", "0")
    check(rc == 2, "bad option value: exit 2")


def main():
    global MCLOAD
    binary, MCLOAD = sys.argv[1], sys.argv[2]
    against_splitcached(binary)
    against_fakes()
    check.finish()


if __name__ == "__main__":
    main()
