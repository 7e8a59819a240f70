# SPDX-License-Identifier: LGPL-2.1-or-later
"""libmemcached's tools (Debian libmemcached-tools) against splitcached:
memccapable -a passes every test; memcstat, memccp, memccat, memcrm and
memcflush work.

Usage: /usr/bin/python3 test_memc_tools.py PATH/TO/splitcached
"""
import os
import subprocess
import sys
import tempfile

from svc import Checks, Server, require, stat

check = Checks()


def run(args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    return p.returncode, p.stdout.decode("latin1")


def main():
    binary = sys.argv[1]
    require("memccapable", "memccp", "memccat", "memcstat", "memcrm", "memcflush")
    with tempfile.TemporaryDirectory() as tmp:
        srv = Server(binary, tmp, "s")
        servers = "--servers=127.0.0.1:%d" % srv.port
        try:
            rc, out = run(["memccapable", "-a", "-h", "127.0.0.1", "-p", str(srv.port)])
            check(rc == 0 and "All tests passed" in out and "[FAIL]" not in out,
                  "memccapable -a: every test passes")
            if rc != 0:
                print(out)

            path = os.path.join(tmp, "file.txt")
            with open(path, "w") as f:
                f.write("hello from memccp\n")
            rc, out = run(["memccp", servers, path])
            check(rc == 0, "memccp stores a file")
            rc, out = run(["memccat", servers, "file.txt"])
            check(rc == 0 and "hello from memccp" in out, "memccat reads it back")
            rc, out = run(["memcstat", servers])
            check(rc == 0 and "curr_items: 1" in out and "pid:" in out, "memcstat shows the stats")
            rc, out = run(["memcrm", servers, "file.txt"])
            check(rc == 0, "memcrm deletes it")
            rc, out = run(["memccat", servers, "file.txt"])
            check(rc != 0, "memccat then misses")
            run(["memccp", servers, path])
            rc, out = run(["memcflush", servers])
            check(rc == 0 and stat(srv.port, "curr_items") == 0, "memcflush empties the pool")
        finally:
            st = srv.stop()
            check(st == 0, "splitcached exits 0 on SIGTERM")
            if st != 0:
                print(srv.log())
    check.finish()


if __name__ == "__main__":
    main()
