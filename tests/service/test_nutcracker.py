# SPDX-License-Identifier: LGPL-2.1-or-later
"""Scale-out: three splitcached behind nutcracker (twemproxy, Debian
package nutcracker) with ketama distribution and ejection of dead hosts.

  1. keys set through the proxy spread over all three instances;
  2. one instance is killed (SIGKILL): once nutcracker has ejected it,
     every key is served by the other two (sets then gets succeed);
  3. the survivors never crash and exit 0 on SIGTERM.

The configuration is the one in docs/scale-out.md.

Usage: /usr/bin/python3 test_nutcracker.py PATH/TO/splitcached
"""
import os
import subprocess
import sys
import tempfile
import time

from pymemcache.client.base import Client

from svc import Checks, Server, free_port, light, require, stat

CONFIG = """splitcache:
  listen: 127.0.0.1:{listen}
  hash: fnv1a_64
  distribution: ketama
  timeout: 400
  auto_eject_hosts: true
  server_retry_timeout: 30000
  server_failure_limit: 1
  servers:
   - 127.0.0.1:{p0}:1 s0
   - 127.0.0.1:{p1}:1 s1
   - 127.0.0.1:{p2}:1 s2
"""

check = Checks()


def proxy_client(port):
    return Client(("127.0.0.1", port), default_noreply=False, connect_timeout=5, timeout=5)


def round_trip(c, keys, tag):
    """Sets then gets every key; returns how many came back right."""
    good = 0
    for k in keys:
        v = ("%s-%s" % (tag, k)).encode()
        try:
            if c.set(k, v) and c.get(k) == v:
                good += 1
        except Exception:  # the proxy answers SERVER_ERROR while ejecting
            pass
    return good


def start_proxy(tmp, servers):
    listen = free_port()
    conf = os.path.join(tmp, "nutcracker.yml")
    with open(conf, "w") as f:
        f.write(CONFIG.format(listen=listen, p0=servers[0].port, p1=servers[1].port,
                              p2=servers[2].port))
    log = os.path.join(tmp, "nutcracker.log")
    proc = subprocess.Popen(["nutcracker", "-c", conf, "-s", str(free_port()), "-a",
                             "127.0.0.1", "-o", log, "-p", os.path.join(tmp, "nc.pid"),
                             "-v", "4"])
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            c = proxy_client(listen)
            c.set("probe", b"1")
            return proc, listen
        except Exception:
            if proc.poll() is not None:
                raise RuntimeError("nutcracker exited: " + open(log).read())
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("nutcracker did not come up")


def main():
    binary = sys.argv[1]
    require("nutcracker")
    nkeys = 100 if light() else 300
    keys = ["key:%d" % i for i in range(nkeys)]
    with tempfile.TemporaryDirectory() as tmp:
        servers = [Server(binary, tmp, "s%d" % i, ["--view-listen", "none"]) for i in range(3)]
        proxy = None
        try:
            proxy, listen = start_proxy(tmp, servers)
            c = proxy_client(listen)
            check(round_trip(c, keys, "a") == nkeys, "every key set and read through the proxy")
            items = [stat(s.port, "curr_items") for s in servers]
            print("items per instance:", items)
            check(all(n and n > 0 for n in items), "keys spread over all three instances")
            check(sum(items) >= nkeys, "no key lost")

            servers[1].proc.kill()
            servers[1].proc.wait()
            # Until nutcracker ejects the dead host, its keys fail; then
            # every key is served by the two others.
            deadline = time.time() + 30
            good = 0
            while time.time() < deadline:
                c.close()
                c = proxy_client(listen)
                good = round_trip(c, keys, "b")
                if good == nkeys:
                    break
                time.sleep(0.2)
            check(good == nkeys, "after ejection every key is served (%d/%d)" % (good, nkeys))
            check(round_trip(c, keys, "c") == nkeys, "and keeps being served")
            c.close()
            check(servers[0].proc.poll() is None and servers[2].proc.poll() is None,
                  "the other instances are alive")
        finally:
            if proxy:
                proxy.terminate()
                proxy.wait(timeout=10)
            for i in (0, 2):
                st = servers[i].stop()
                check(st == 0, "instance %d exits 0 on SIGTERM" % i)
                if st != 0:
                    print(servers[i].log())
    check.finish()


if __name__ == "__main__":
    main()
