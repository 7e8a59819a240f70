# SPDX-License-Identifier: LGPL-2.1-or-later
"""The operator's kit as `make install` lays it out: `cmake --install` of
this build into a temporary prefix holds the manual pages (splitcache-bench's when the bench is built) (which
render without warnings when man is installed) and the systemd unit, whose
ExecStart names the installed splitcached and which carries its hardening
and MemoryMax.
Usage: test_kit.py CMAKE BUILD_DIR
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svc import Checks  # noqa: E402

cmake, build = sys.argv[1], sys.argv[2]
check = Checks()
prefix = tempfile.mkdtemp(prefix="spc-kit-")
try:
    r = subprocess.run([cmake, "--install", build, "--prefix", prefix],
                       capture_output=True, text=True, timeout=300)
    check(r.returncode == 0, "cmake --install succeeds: " + r.stderr.strip()[-300:])
    man1 = os.path.join(prefix, "share", "man", "man1")
    pages = ["splitcached.1", "splitcache-mem.1"]
    if os.path.exists(os.path.join(prefix, "bin", "splitcache-bench")):
        pages.append("splitcache-bench.1")  # with the bench (not in sanitizer builds)
    for page in pages:
        path = os.path.join(man1, page)
        check(os.path.isfile(path), "installed: share/man/man1/" + page)
        if os.path.isfile(path) and shutil.which("man") and shutil.which("groff"):
            m = subprocess.run(["man", "--warnings", "-l", path], capture_output=True,
                               text=True, timeout=60, env=dict(os.environ, MANWIDTH="80"))
            check(m.returncode == 0 and not m.stderr.strip(),
                  page + " renders without warnings: " + m.stderr.strip()[:200])
    unit = os.path.join(prefix, "lib", "systemd", "system", "splitcached.service")
    check(os.path.isfile(unit), "installed: lib/systemd/system/splitcached.service")
    text = open(unit).read() if os.path.isfile(unit) else ""
    execs = [l for l in text.splitlines() if l.startswith("ExecStart=")]
    check(len(execs) == 1 and execs[0].split("=", 1)[1].split()[0].endswith("/bin/splitcached"),
          "ExecStart runs bin/splitcached: %s" % execs)
    check(len(execs) == 1 and " -m " not in execs[0],
          "no -m: the budget comes from MemoryMax")
    for key in ("DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes",
                "PrivateTmp=yes", "MemoryMax=", "CapabilityBoundingSet="):
        check(key in text, "unit has " + key)
finally:
    shutil.rmtree(prefix, ignore_errors=True)
check.finish()
