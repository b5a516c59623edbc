#!/usr/bin/env python3
"""Reads `llama-profdata show --json` and prints the external pseudo-sites
(site_flags & LLAMA_SITE_EXTERNAL) and their contexts:

  external KIND calls=N class=K
  context KIND class=K first=FRAME0 program=F1<F2<...

FRAME0 is the context's innermost frame (the function that called malloc or
operator new); `program` lists the frames whose file is under the directory
given as argv[1] (the test's own functions), innermost first. Contexts are
sorted by their program frames."""
import json
import os
import sys

EXTERNAL = 0x8
root = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else None
doc = json.load(sys.stdin)
for s in doc["sites"]:
    if not s["site_flags"] & EXTERNAL:
        continue
    if s["function"] != "<external>" or s["file"] or s["line"] or s["inlined_at"]:
        print("BAD external site description: %r" % s)
    print("external %s calls=%d class=%s" % (s["kind"], s["calls"], s["class"]))
    lines = []
    for c in s["contexts"]:
        frames = c["frames"]
        if any(f["from_site"] for f in frames):
            print("BAD from_site frame in an external context")
        program = [f["function"] for f in frames
                   if root and f["file"] and os.path.abspath(f["file"]).startswith(root)]
        lines.append("context %s class=%s first=%s program=%s" % (
            s["kind"], c["class"], frames[0]["function"] if frames else "-",
            "<".join(program) or "-"))
    for line in sorted(lines, key=lambda l: l.split(" program=")[1]):
        print(line)
