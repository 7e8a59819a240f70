# SPDX-License-Identifier: LGPL-2.1-or-later
"""The service's files call one way (docs/style.md 15, docs/service.md
"How the service is built"): main, then the start-up steps, the worker
loop, one connection, the commands, then what they stand on, down to the
protocol module, a leaf.

Two rules, checked on the sources (no build needed), which together make
a circle impossible: C needs a declaration before a call, so a file can
only call what the headers it includes declare.
  1. A file includes only headers of files below it in CHAIN (and its own).
  2. A header declares the functions of its own file only (proto.h and
     proto_int.h: of the protocol module's files), so including a header
     does not bring in the functions of a file above.
A service file missing from CHAIN fails too: a new file takes its place in
the chain here.
Usage: test_service_shape.py SOURCE_DIR
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from svc import Checks  # noqa: E402

# Top to bottom; a module is one level. Its files are the .c files it
# names, its headers the .h files (a header with no .c holds types only).
CHAIN = [
    ("main", ["splitcached.c", "splitcache-mem.c"], []),
    ("start-up", ["options.c", "startup.c"], ["options.h", "startup.h"]),
    ("worker", ["worker.c"], ["worker.h"]),
    ("conn", ["conn.c", "conn_ring.c"], ["conn.h", "conn_int.h"]),
    ("exec", ["exec.c"], ["exec.h"]),
    ("exec_meta", ["exec_meta.c"], ["exec_meta.h"]),
    ("exec_stats", ["exec_stats.c"], ["exec_stats.h"]),
    ("exec_ctx", [], ["exec_ctx.h"]),
    ("auth", ["auth.c"], ["auth.h"]),
    ("server", ["server.c"], ["server.h"]),
    ("store", ["store.c"], ["store.h"]),
    ("marks", ["marks.c"], ["marks.h"]),
    ("cli", ["cli.c"], ["cli.h"]),
    ("io", ["io_uring.c"], ["io.h"]),
    ("proto", ["proto.c", "proto_meta.c", "proto_reply.c", "proto_tok.c"],
     ["proto.h", "proto_int.h"]),
]

src = os.path.join(sys.argv[1], "service")
check = Checks()
level, files_of = {}, {}
for i, (mod, cfiles, hfiles) in enumerate(CHAIN):
    for f in cfiles + hfiles:
        level[f] = (i, mod)
    files_of[mod] = cfiles

present = sorted(f for f in os.listdir(src) if f.endswith((".c", ".h")))
unplaced = [f for f in present if f not in level]
check(not unplaced, "every service file has its place in the chain" +
      (": not placed: " + " ".join(unplaced) if unplaced else ""))


def read(name):
    with open(os.path.join(src, name), encoding="utf-8") as fh:
        return fh.read()


INCLUDE = re.compile(r'^#include "service/([^"]+)"', re.M)
for f in present:
    if f not in level:
        continue
    me, mod = level[f]
    upward = [h for h in INCLUDE.findall(read(f))
              if h in level and level[h][0] <= me and level[h][1] != mod]
    unknown = [h for h in INCLUDE.findall(read(f)) if h not in level]
    check(not upward and not unknown,
          "%s (%s) includes only headers below it" % (f, mod) +
          (": upward " + " ".join(upward) if upward else "") +
          (": unplaced " + " ".join(unknown) if unknown else ""))

# Prototypes at file level: "type name(" not preceded by static, ending
# in ";" (inline helpers are defined in the header itself and skipped).
PROTO = re.compile(r"^(?!static|typedef|#|\s|/|\*|})[^;{}()]*?\b(spc_\w+)\s*\([^;{}]*\)"
                   r"(?:\s*__attribute__\s*\(\(.*?\)\))?\s*;", re.M | re.S)
for h in present:
    if not h.endswith(".h") or h not in level:
        continue
    mod = level[h][1]
    defs = "".join(read(c) for c in files_of[mod] if c in present)
    declared = PROTO.findall(read(h))
    foreign = [n for n in declared
               if not re.search(r"^\S[^;]*?\b" + n + r"\s*\([^;]*?\)\s*\{", defs, re.M | re.S)
               and not re.search(r"^\S[^;(]*\b" + n + r"\s*\[\]\s*=", defs, re.M)]
    check(not foreign, "%s declares functions of %s only" % (h, mod) +
          (": also " + " ".join(foreign) if foreign else ""))

check.finish()
