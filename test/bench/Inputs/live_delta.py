#!/usr/bin/env python3
"""live_delta.py BASE.json RUN.json - for test/bench/livebytes.c: the live
bytes of RUN (rss_sampler.py --live, the last JSON line) minus those of
BASE, the same program doing nothing but its start-up (glibc's own
allocations, e.g. the threads' TLS vectors, which the program cannot
predict), one value per line for FileCheck; plus checks of the bound
fields against the live ones."""
import json
import sys


def last(path):
    with open(path) as f:
        return json.loads(f.read().splitlines()[-1])


base, run = last(sys.argv[1]), last(sys.argv[2])
for name, d in (("base", base), ("run", run)):
    print("%s: exit_status %s live_ok %s" % (name, d["exit_status"], d["live_ok"]))
print("base: peak - final %d" % (base["peak_live_bytes"] - base["final_live_bytes"]))
print("peak_live delta %d" % (run["peak_live_bytes"] - base["final_live_bytes"]))
print("final_live delta %d" % (run["final_live_bytes"] - base["final_live_bytes"]))
pages = (run["peak_live_bytes"] + 4095) // 4096 * 4
print("peak_live_kb %s" % ("ok" if run["peak_live_kb"] == round(run["peak_live_bytes"] / 1024.0) else "WRONG"))
print("bound_peak_kb %s" % ("ok" if run["bound_peak_kb"] >= pages else "WRONG: below the peak live pages"))
