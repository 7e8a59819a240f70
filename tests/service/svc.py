# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared helpers of the Python service tests: start splitcached on free
loopback ports, find free ports, talk raw memcached text, stop with SIGTERM.
"""
import os
import signal
import socket
import subprocess
import sys
import time

TIMEOUT = 10


class Server:
    """One splitcached on 127.0.0.1, ports learnt from --port-file."""

    def __init__(self, binary, tmp, name, extra=()):
        self.port_file = os.path.join(tmp, name + ".ports")
        self.log_path = os.path.join(tmp, name + ".log")
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [binary, "--index-listen", "127.0.0.1:0", "--view-listen", "127.0.0.1:0",
             "--port-file", self.port_file, "-m", "64", "-t", "2"]
            + (["--io", os.environ["SPC_TEST_IO"]] if os.environ.get("SPC_TEST_IO") else [])
            + list(extra),
            stdout=log, stderr=log)
        log.close()
        self.ports = {}
        deadline = time.time() + 30
        while time.time() < deadline:
            if os.path.exists(self.port_file):
                for line in open(self.port_file):
                    pool, addr = line.split()
                    self.ports[pool] = int(addr.rsplit(":", 1)[1])
                return
            if self.proc.poll() is not None:
                raise RuntimeError("splitcached exited with %d: %s"
                                   % (self.proc.returncode, self.log()))
            time.sleep(0.01)
        self.proc.kill()
        raise RuntimeError("splitcached did not start")

    @property
    def port(self):
        return self.ports["index"]

    def log(self):
        return open(self.log_path).read()

    def stop(self):
        """SIGTERM; returns the exit status (-1: had to be killed)."""
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return -1


def free_port():
    """A port that was free a moment ago (for programs without port 0)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ask(port, req, end=b"\r\n", half_close=False):
    """Sends req on a new connection, returns the reply read until it ends
    with `end` (None: until the server closes). half_close: shut down the
    sending side after req."""
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    s.sendall(req)
    if half_close:
        s.shutdown(socket.SHUT_WR)
    out = b""
    while end is None or not out.endswith(end):
        d = s.recv(65536)
        if not d:
            break
        out += d
    s.close()
    return out


def start_memcached(binary="/usr/bin/memcached"):
    """Debian's memcached as the recording scripts run it (-I 1k, small
    slab chunks, as nobody when root). Returns (process, port)."""
    port = free_port()
    args = [binary, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-I", "1k",
            "-o", "slab_chunk_max=512"]
    if os.geteuid() == 0:
        args += ["-u", "nobody"]
    proc = subprocess.Popen(args)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("memcached did not start")


def exchange(port, data, idle=0.5):
    """Sends data on a new connection and reads until the server has been
    silent for `idle` seconds or closed. Returns (reply, closed); a silent
    reply is asked again with a longer wait, for a busy machine."""
    for wait in (idle, 4 * idle):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(data)
        s.settimeout(wait)
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
        if out or closed:
            break
    return out, closed


class Checks:
    """Named checks printed as they run, and the closing count line."""

    def __init__(self):
        self.passed, self.failed = [], []

    def __call__(self, cond, what):
        print(("ok    " if cond else "FAIL  ") + what)
        (self.passed if cond else self.failed).append(what)

    def finish(self):
        print("%d passed, %d failed" % (len(self.passed), len(self.failed)))
        sys.exit(1 if self.failed else 0)


def stat(port, name, args=b""):
    """One STAT value of `stats [args]` as an int (None when absent)."""
    for line in ask(port, b"stats " + args + b"\r\n", b"END\r\n").split(b"\r\n"):
        parts = line.split(b" ")
        if len(parts) == 3 and parts[1] == name.encode():
            return int(parts[2])
    return None


def light():
    """True under the sanitizer builds: smaller counts."""
    return os.environ.get("SPC_SERVICE_LIGHT", "0") not in ("", "0")


SKIP = 77  # CTest SKIP_RETURN_CODE


def require(*programs):
    """Exits with SKIP when a program the test drives is not installed."""
    import shutil
    missing = [p for p in programs if not shutil.which(p)]
    if missing:
        print("skipped: not installed: " + " ".join(missing))
        sys.exit(SKIP)
