#!/usr/bin/env python3
"""Print the site ids (one per line, sorted) and kinds of an instrumented .ll."""
import re
import sys

text = open(sys.argv[1]).read()
m = re.search(r"^@__llama_sites = .*$", text, re.M)
if not m:
    sys.exit("no @__llama_sites in " + sys.argv[1])
sites = re.findall(r"\{ i64 (-?\d+), i64 0, i64 0, ptr @[\w.]+, ptr @[\w.]+, "
                   r"i32 \d+, i32 -?\d+, i32 \d+, i16 (\d+), i16 (\d+)", m.group(0))
print("sites: %d" % len(sites))
for kind, sid in sorted((int(k), int(i) & (2**64 - 1)) for i, k, _ in sites):
    print("kind=%d %016x" % (kind, sid))
