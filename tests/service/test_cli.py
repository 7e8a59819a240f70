# SPDX-License-Identifier: LGPL-2.1-or-later
"""splitcached started as memcached is: its command line.

  1. memcached's typical invocations (init scripts, containers, test
     harnesses) start it and it serves; long options too; -s/-a a unix
     socket with its mode;
  2. with memcached's -p/-l only the index pool listens and gets the whole
     budget; --view-listen brings the view pool back (split);
  3. every option memcached has and this service does not is refused with
     its name and exit status 64;
  4. -d with -P: the parent exits 0, the daemon serves, writes its pid,
     and removes the file on SIGTERM;
  5. -u when run as root: the workers run as that user; -k locks memory,
     -r raises the core limit, -L prefaults;
  6. inside a 256 MiB memory cgroup (root, writable v1 memory or v2
     hierarchy; skipped otherwise): no -m, the budget comes from the
     limit, a flood of ten times the limit ends without an OOM kill, every
     pool within its target, exit 0 on SIGTERM.
Usage: test_cli.py path/to/splitcached
"""
import os
import pwd
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svc import Checks, ask, free_port, light, stat as stat_of  # noqa: E402

BIN = os.path.abspath(sys.argv[1])
check = Checks()
TMP = tempfile.mkdtemp(prefix="spc-cli-")
EX_USAGE = 64


def wait_port(port, proc=None, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            if proc is not None and proc.poll() is not None:
                return False
            time.sleep(0.02)
    return False


class Proc:
    """splitcached with exactly these arguments, stopped with SIGTERM."""

    def __init__(self, args, preexec=None):
        self.log_path = os.path.join(TMP, "log-%d" % free_port())
        with open(self.log_path, "w") as log:
            self.p = subprocess.Popen([BIN] + args, stdout=log, stderr=log,
                                      preexec_fn=preexec)

    def log(self):
        return open(self.log_path).read()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return -1


def serves(port):
    r = ask(port, b"set k 0 0 2\r\nhi\r\nget k\r\n", b"END\r\n")
    return r == b"STORED\r\nVALUE k 0 2\r\nhi\r\nEND\r\n"


def setting(port, name):
    for line in ask(port, b"stats settings\r\n", b"END\r\n").split(b"\r\n"):
        parts = line.split(b" ")
        if len(parts) == 3 and parts[1] == name.encode():
            return parts[2].decode()
    return None


def typical_invocations():
    for name, args in [
        ("debian init", ["-p", "{p}", "-l", "127.0.0.1", "-U", "0", "-m", "64", "-c", "4096",
                         "-t", "4"]),
        ("container", ["-m", "64", "-p", "{p}", "-l", "127.0.0.1", "-v"]),
        ("long options", ["--port={p}", "--listen=127.0.0.1", "--memory-limit=64",
                          "--conn-limit=4096", "--threads=2", "--udp-port=0",
                          "--max-item-size=2m", "--protocol=ascii", "--verbose"]),
        ("bundled letters", ["-vvv", "-p{p}", "-l127.0.0.1", "-m64", "-XW", "-R", "20",
                             "-b", "512", "-B", "auto", "-o",
                             "modern,maxconns_fast,idle_timeout=30,hash_algorithm=xxh3"]),
        ("ipv6 loopback", ["-p", "{p}", "-l", "::1", "-m", "64"]),
    ]:
        port = free_port()
        a = [x.replace("{p}", str(port)) for x in args]
        proc = Proc(a)
        if name == "ipv6 loopback":
            up = False
            deadline = time.time() + 30
            while time.time() < deadline and proc.p.poll() is None and not up:
                try:
                    s = socket.create_connection(("::1", port), timeout=1)
                    s.sendall(b"version\r\n")
                    up = s.recv(100).startswith(b"VERSION ")
                    s.close()
                except OSError:
                    time.sleep(0.02)
            check(up or proc.p.poll() is not None and "::1" in proc.log(),
                  "%s: serves (or ::1 is missing here)" % name)
        else:
            ok = wait_port(port, proc.p) and serves(port)
            check(ok, "%s: %s serves" % (name, " ".join(a)))
            if ok:
                # memcached-style: no view listener, the whole -m to the index pool
                check(setting(port, "mode") == "indexer", "%s: mode indexer" % name)
                # all of it but the 1 MiB floor the library keeps for the idle pool
                check(stat_of(port, "memory_budget") == 64 << 20 and
                      stat_of(port, "limit_maxbytes") >= 63 << 20,
                      "%s: the index pool has all of -m 64" % name)
            if name == "bundled letters" and ok:
                check(setting(port, "idle_time") == "30", "-o idle_timeout=30 taken")
        st = proc.stop()
        check(st == 0, "%s: exit 0 on SIGTERM (got %s)" % (name, st))
        if st != 0:
            print(proc.log())

    # -p with --view-listen: both pools, split budget
    port, vport = free_port(), free_port()
    proc = Proc(["-p", str(port), "-l", "127.0.0.1", "-m", "64",
                 "--view-listen", "127.0.0.1:%d" % vport])
    ok = wait_port(port, proc.p) and wait_port(vport, proc.p)
    check(ok and setting(port, "mode") == "split", "-p with --view-listen: split mode")
    check(ok and abs(stat_of(port, "limit_maxbytes") - (32 << 20)) <= 1 << 20,
          "split: half of -m 64 each")
    check(proc.stop() == 0, "split: exit 0")

    # -s with -a: a unix socket with that mode, no TCP
    path = os.path.join(TMP, "mc.sock")
    proc = Proc(["-s", path, "-a", "0766", "-m", "64"])
    deadline = time.time() + 30
    ok = False
    while not ok and time.time() < deadline and proc.p.poll() is None:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            s.sendall(b"version\r\n")
            ok = s.recv(100).startswith(b"VERSION ")
            s.close()
        except OSError:
            time.sleep(0.02)
    if ok:
        mode = stat.S_IMODE(os.stat(path).st_mode)
        check(mode == 0o766, "-a 0766: socket mode %o" % mode)
    check(ok, "-s: serves on the unix socket")
    check(proc.stop() == 0 and not os.path.exists(path), "-s: exit 0, socket file removed")


def refusals():
    cases = [
        (["-A"], "-A"), (["-f", "1.25"], "-f"), (["-n", "48"], "-n"), (["-D", ":"], "-D"),
        (["-S"], "-S"), (["-e", "/tmp/x"], "-e"), (["-Z"], "-Z"), (["-N", "2"], "-N"),
        (["--enable-ssl"], "-Z"), (["--slab-growth-factor=1.1"], "-f"),
        (["-U", "11211"], "-U 11211"), (["-B", "binary"], "-B binary"),
        (["-o", "ext_path=/tmp/x:1G"], "ext_path"), (["-o", "ssl_key=/k"], "ssl_key"),
        (["-o", "hashpower=20"], "hashpower"), (["-o", "no_lru_crawler"], "no_lru_crawler"),
        (["-o", "slab_chunk_max=512"], "slab_chunk_max"),
        (["-o", "hash_algorithm=murmur3"], "hash_algorithm=murmur3"),
        (["-l", "127.0.0.1,127.0.0.2"], "-l"),
    ]
    for args, name in cases:
        r = subprocess.run([BIN] + args, capture_output=True, text=True, timeout=30)
        check(r.returncode == EX_USAGE and name in r.stderr and "not supported" in r.stderr,
              "%s refused by name, exit 64 (got %d: %s)"
              % (" ".join(args), r.returncode, r.stderr.strip()))
    for args in (["--bogus"], ["-x"], ["-p", "notaport"], ["-m", "lots"], ["-t", "0"],
                 ["-p"], ["extra-word"], ["-a", "999"], ["--full-wait-ms", "60001"],
                 ["--full-wait-ms", "soon"], ["-p", "1", "--index-listen",
                                                          "127.0.0.1:0"]):
        r = subprocess.run([BIN] + args, capture_output=True, text=True, timeout=30)
        check(r.returncode == EX_USAGE and r.stderr.startswith("splitcached: "),
              "%s: usage error, exit 64 (got %d)" % (" ".join(args), r.returncode))
    for args in (["-h"], ["-V"], ["-i"]):
        r = subprocess.run([BIN] + args, capture_output=True, text=True, timeout=30)
        check(r.returncode == 0 and r.stdout, "%s: prints and exits 0" % args[0])
    r = subprocess.run([BIN, "-Y", os.path.join(TMP, "missing")], capture_output=True,
                       text=True, timeout=30)
    check(r.returncode == 1 and "-Y" in r.stderr, "-Y with a missing file: exit 1")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        return open("/proc/%d/stat" % pid).read().split(") ")[1][0] != "Z"
    except OSError:
        return False


def daemon():
    port = free_port()
    pidfile = os.path.join(TMP, "mc.pid")
    r = subprocess.run([BIN, "-d", "-P", pidfile, "-p", str(port), "-l", "127.0.0.1", "-m", "64"],
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "-d: the parent exits 0")
    ok = wait_port(port)
    check(ok and serves(port), "-d: the daemon serves")
    pid = int(open(pidfile).read()) if os.path.exists(pidfile) else 0
    check(pid > 0 and pid_alive(pid), "-P: the pid file names the running daemon")
    check(stat_of(port, "pid") == pid, "-P: the same pid as stats pid")
    if pid > 0:
        try:  # a new session: not in our process group
            check(os.getsid(pid) == pid, "-d: the daemon leads its own session")
        except OSError:
            check(False, "-d: getsid")
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 60
        while pid_alive(pid) and time.time() < deadline:
            time.sleep(0.05)
        check(not pid_alive(pid), "-d: the daemon stops on SIGTERM")
        check(not os.path.exists(pidfile), "-P: the pid file is removed at exit")


def proc_status(pid, field):
    for line in open("/proc/%d/status" % pid):
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].split()
    return None


def as_root():
    if os.geteuid() != 0:
        print("skipped: the -u/-k/-r checks need root")
        return
    for user in ("nobody", "memcache"):
        try:
            pw = pwd.getpwnam(user)
        except KeyError:
            print("skipped: no user %s here" % user)
            continue
        port = free_port()
        proc = Proc(["-p", str(port), "-l", "127.0.0.1", "-m", "64", "-u", user, "-r"])
        ok = wait_port(port, proc.p) and serves(port)
        check(ok, "-u %s: serves" % user)
        if ok:
            uids = proc_status(proc.p.pid, "Uid")
            gids = proc_status(proc.p.pid, "Gid")
            check(uids and all(int(u) == pw.pw_uid for u in uids),
                  "-u %s: every uid is %d (%s)" % (user, pw.pw_uid, uids))
            check(gids and all(int(g) == pw.pw_gid for g in gids),
                  "-u %s: every gid is %d" % (user, pw.pw_gid))
            tids = os.listdir("/proc/%d/task" % proc.p.pid)
            check(all(proc_status_task(proc.p.pid, t) == pw.pw_uid for t in tids),
                  "-u %s: every thread (%d) runs as the user" % (user, len(tids)))
            limits = open("/proc/%d/limits" % proc.p.pid).read()
            check(any(l.startswith("Max core file size") and "unlimited" in l
                      for l in limits.splitlines()), "-r: core file size unlimited")
        check(proc.stop() == 0, "-u %s: exit 0 on SIGTERM" % user)
    # -k as root: locked; -k with -u: locked if the user's limit allows, else
    # a warning, and it serves either way
    for args in (["-k"], ["-k", "-u", "nobody"]):
        port = free_port()
        proc = Proc(["-p", str(port), "-m", "64", "-v"] + args)
        ok = wait_port(port, proc.p) and serves(port)
        check(ok, "%s: serves" % " ".join(args))
        if ok:
            lck = int(proc_status(proc.p.pid, "VmLck")[0])
            # the sanitizers map their own memory: there only the log says
            check(lck > 0 or (len(args) > 1 and "memory left unlocked" in proc.log()) or
                  (light() and "-k: m" in proc.log()),
                  "%s: memory locked (VmLck %d kB) or the limit said why not"
                  % (" ".join(args), lck))
        check(proc.stop() == 0, "%s: exit 0" % " ".join(args))
    r = subprocess.run([BIN, "-p", str(free_port()), "-m", "64", "-u", "no-such-user-here"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 1 and "no-such-user-here" in r.stderr, "-u unknown user: exit 1")


def proc_status_task(pid, tid):
    for line in open("/proc/%d/task/%s/status" % (pid, tid)):
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return -1


def prefault():
    port = free_port()
    proc = Proc(["-p", str(port), "-m", "64", "-L"])
    ok = wait_port(port, proc.p) and serves(port)  # served: the report is out
    check(ok and "prefault on" in proc.log(), "-L: the pools are prefaulted")
    check(proc.stop() == 0, "-L: exit 0")


# ---- the memory cgroup --------------------------------------------------------

LIMIT = 256 << 20


def make_cgroup():
    """A child memory cgroup of ours with a 256 MiB limit: (dir, kind), or
    (None, why) when this machine does not allow one."""
    if os.geteuid() != 0:
        return None, "not root"
    name = "spc-cli-%d" % os.getpid()
    for line in open("/proc/self/cgroup"):
        hid, ctrls, path = line.rstrip("\n").split(":", 2)
        if "memory" in ctrls.split(","):
            base = "/sys/fs/cgroup/memory" + path
            if os.path.isdir(base):
                d = os.path.join(base, name)
                try:
                    os.mkdir(d)
                    open(os.path.join(d, "memory.limit_in_bytes"), "w").write(str(LIMIT))
                    return d, "v1"
                except OSError as e:
                    return None, "cgroup v1 memory not writable: %s" % e
    for line in open("/proc/self/cgroup"):
        hid, ctrls, path = line.rstrip("\n").split(":", 2)
        if hid == "0":
            for root in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
                base = root + path
                if os.path.exists(os.path.join(base, "cgroup.controllers")):
                    d = os.path.join(base, name)
                    try:
                        if "memory" not in open(os.path.join(base, "cgroup.subtree_control")).read():
                            return None, "cgroup v2 without the memory controller here"
                        os.mkdir(d)
                        open(os.path.join(d, "memory.max"), "w").write(str(LIMIT))
                        return d, "v2"
                    except OSError as e:
                        return None, "cgroup v2 not writable: %s" % e
    return None, "no memory cgroup hierarchy"


def oom_kills(d, kind):
    f = "memory.oom_control" if kind == "v1" else "memory.events"
    for line in open(os.path.join(d, f)):
        k, v = line.split()
        if k == "oom_kill":
            return int(v)
    return 0


def cgroup_flood():
    if light():
        print("skipped: cgroup flood: the sanitizers' own memory (shadow, quarantine) "
              "is not the service's budget")
        return
    d, kind = make_cgroup()
    if d is None:
        print("skipped: cgroup flood: " + kind)
        return
    try:
        port = free_port()

        def enter():
            open(os.path.join(d, "cgroup.procs"), "w").write(str(os.getpid()))

        proc = Proc(["-p", str(port), "-l", "127.0.0.1", "-t", "2"], preexec=enter)
        ok = wait_port(port, proc.p)
        check(ok, "cgroup: serves with no -m")
        budget = stat_of(port, "memory_budget") if ok else 0
        check(ok and 0 < budget <= LIMIT * 0.6 + 4096,
              "cgroup: budget %s detected from the %d MiB limit" % (budget, LIMIT >> 20))
        check(ok and ("cgroup1.memory.limit_in_bytes" in proc.log() or
                      "cgroup2.memory.max" in proc.log()),
              "cgroup: the report names the cgroup limit as the source")
        if ok:
            value = b"v" * 65536
            total, i = 0, 0
            s = socket.create_connection(("127.0.0.1", port), timeout=60)
            while total < 10 * LIMIT:
                batch = b"".join(b"set flood:%d 0 0 65536 noreply\r\n%s\r\n" % (i + j, value)
                                 for j in range(16))
                s.sendall(batch)
                total += 16 * 65536
                i += 16
            s.sendall(b"version\r\n")
            s.settimeout(60)
            got = b""
            while not got.endswith(b"\r\n"):
                data = s.recv(4096)
                if not data:
                    break
                got += data
            s.close()
            check(got.startswith(b"VERSION "), "cgroup: %d MiB flooded, still answering"
                  % (total >> 20))
            check(proc.p.poll() is None, "cgroup: still running")
            pools = ask(port, b"stats pools\r\n", b"END\r\n").decode()
            vals = {}
            for line in pools.split("\r\n"):
                parts = line.split(" ")
                if len(parts) == 3 and parts[0] == "STAT":
                    vals[parts[1]] = parts[2]
            for pool in ("index", "view"):
                b, t = int(vals.get(pool + ":bytes", 0)), int(vals.get(pool + ":target_bytes", 0))
                check(b <= t, "cgroup: %s pool %d bytes within its target %d" % (pool, b, t))
            check(stat_of(port, "evictions") > 0, "cgroup: the flood evicted")
        st = proc.stop()
        check(st == 0, "cgroup: exit 0 on SIGTERM (got %s)" % st)
        check(oom_kills(d, kind) == 0, "cgroup: no OOM kill")
        if kind == "v1":
            peak = int(open(os.path.join(d, "memory.max_usage_in_bytes")).read())
            fails = int(open(os.path.join(d, "memory.failcnt")).read())
            print("cgroup: peak usage %d MiB of %d, failcnt %d" % (peak >> 20, LIMIT >> 20, fails))
            check(fails == 0, "cgroup: the limit was never hit (failcnt 0)")
    finally:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                os.rmdir(d)
                break
            except OSError:
                time.sleep(0.1)


typical_invocations()
refusals()
daemon()
as_root()
prefault()
cgroup_flood()
check.finish()
