# SPDX-License-Identifier: LGPL-2.1-or-later
"""core/'s files call one way (docs/style.md 15, docs/design.md "Inside
core/"): the public front, then the namespaces and item calls, the
key-value engine, the write engine, the waits, the maintainer and what
it stands on, down to the index, the entry and the policies, which are
leaves.

Three rules, checked on the sources (no build needed). The first two
together make a circle impossible: C needs a declaration before a call,
so a file can only call what the headers it includes declare.
  1. A file includes only headers of modules below it in CHAIN (and its
     own module's).
  2. A header declares the functions of its own module's files only.
  3. No file of core/ passes MAX_LINES lines (docs/style.md 11).
A core file missing from CHAIN fails too: a new file takes its place in
the chain here. ALLOWED lists violations known and accepted for now; one
that no longer occurs fails as well, so the list only shrinks.
Usage: test_core_shape.py SOURCE_DIR
"""
import os
import re
import sys

# The named checks and their count line, as the service's shape test has them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "service"))
from svc import Checks  # noqa: E402

MAX_LINES = 600

# Top to bottom; a module is one level. Its files are the .c files it
# names, its headers the .h files (a header with no .c holds types or
# inline functions only).
CHAIN = [
    ("cache", ["cache.c"], ["cache.h"]),
    ("view_height", ["view_height.c"], []),
    ("evict", ["evict.c"], []),
    ("view", ["view.c"], []),
    ("item", ["item.c"], ["item.h"]),
    ("kv", ["kv.c"], ["kv.h"]),
    ("edit", ["edit.c"], ["edit.h"]),
    ("wait", ["wait.c"], ["wait.h"]),
    ("maint", ["maint.c", "maint_ops.c"], ["maint.h", "maint_ops.h"]),
    ("reclaim", ["reclaim.c"], ["reclaim.h"]),
    ("view_maint", ["view_maint.c", "view_budget.c"], ["view_maint.h", "view_state.h"]),
    ("forced", ["forced.c"], ["forced.h"]),
    ("stats", ["stats.c"], ["stats.h"]),
    ("debug", ["debug.c", "debug_report.c", "debug_table.c"], ["debug.h", "debug_table.h"]),
    ("clock", ["clock.c"], ["clock.h"]),
    ("kv_index", ["kv_index_compact.c"], ["kv_index.h"]),
    ("room", ["room.c"], ["room.h"]),
    ("key", [], ["key.h"]),
    ("handle", [], ["handle.h"]),
    ("hidx", ["hidx.c"], ["hidx.h"]),
    ("policy", ["policy.c", "policy_clock.c", "policy_ghost.c", "policy_s3fifo.c",
                "policy_steered.c"], ["policy.h", "policy_ring.h"]),
    ("index", ["index.c", "index_resize.c"], ["index.h", "index_int.h"]),
    ("entry", [], ["entry.h"]),
    ("keyfmt", ["keyfmt.c"], ["keyfmt.h"]),
]

# Known violations: ("include", file, header), ("declares", header,
# function), ("lines", file). Each must still occur. None today.
ALLOWED = set()


src = os.path.join(sys.argv[1], "core")
check = Checks()
level, files_of = {}, {}
for i, (mod, cfiles, hfiles) in enumerate(CHAIN):
    for f in cfiles + hfiles:
        level[f] = (i, mod)
    files_of[mod] = cfiles

present = sorted(f for f in os.listdir(src) if f.endswith((".c", ".h")))
unplaced = [f for f in present if f not in level]
check(not unplaced, "every core file has its place in the chain" +
      (": not placed: " + " ".join(unplaced) if unplaced else ""))


def read(name):
    with open(os.path.join(src, name), encoding="utf-8") as fh:
        return fh.read()


seen = set()  # violations found, allowed or not


def verdict(found, what):
    """Checks that every violation in found is allowed."""
    seen.update(found)
    bad = sorted(v for v in found if v not in ALLOWED)
    known = len(found) - len(bad)
    check(not bad, what + (": " + " ".join(v[-1] for v in bad) if bad else "") +
          (" (%d known)" % known if known else ""))


INCLUDE = re.compile(r'^#include "core/([^"]+)"', re.M)
for f in present:
    if f not in level:
        continue
    me, mod = level[f]
    found = set()
    for h in INCLUDE.findall(read(f)):
        if h not in level or (level[h][0] <= me and level[h][1] != mod):
            found.add(("include", f, h))
    verdict(found, "%s (%s) includes only headers below it" % (f, mod))

# Prototypes at file level: "type name(" not preceded by static, ending
# in ";" (inline helpers are defined in the header itself and skipped).
PROTO = re.compile(r"^(?!static|typedef|#|\s|/|\*|})[^;{}()\n]*?\b(spc_\w+)\s*\([^;{}]*\)"
                   r"(?:\s*__attribute__\s*\(\(.*?\)\))?\s*;", re.M | re.S)
for h in present:
    if not h.endswith(".h") or h not in level:
        continue
    mod = level[h][1]
    defs = "".join(read(c) for c in files_of[mod] if c in present)
    found = set()
    for n in PROTO.findall(read(h)):
        if not re.search(r"^\S[^;]*?\b" + n + r"\s*\([^;]*?\)\s*\{", defs, re.M | re.S):
            found.add(("declares", h, n))
    verdict(found, "%s declares functions of %s only" % (h, mod))

for f in present:
    n = read(f).count("\n")
    verdict({("lines", f)} if n > MAX_LINES else set(),
            "%s: %d lines, at most %d" % (f, n, MAX_LINES))

stale = sorted(v for v in ALLOWED if v not in seen)
check(not stale, "every allowed violation still occurs" +
      (": " + " ".join("/".join(v) for v in stale) if stale else ""))
check.finish()
