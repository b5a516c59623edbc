#!/usr/bin/env python3
"""report.py [--title=T] MEASURE.jsonl... - markdown tables of real-program runs.

Input: the JSON lines bench/real/common.sh's real_measure writes (the
rss_sampler.py fields plus config, workload, rep and, for LLAMA runs, the
static/predicted/default allocation counts of LLAMA_STATS).

For each workload: one row per configuration with the medians over the
repetitions of wall time, peak RSS, time-averaged RSS, final RSS and
time-averaged AnonHugePages; each value also as a ratio to glibc and to the
best peer (the lowest of glibc, jemalloc, tcmalloc and mimalloc for that
metric). Lower is better everywhere. Failed runs are counted and left out.

The huge-page share is given twice, both time-averaged: AnonHugePages / RSS
(the issue's coverage), and AnonHugePages / Anonymous, the share of the
private memory (heap) alone: RSS also holds file-backed pages no allocator
can put on huge pages (the code; LevelDB maps its table files).
"""
import json
import statistics
import sys

PEERS = ["glibc", "jemalloc", "tcmalloc", "mimalloc"]
ORDER = PEERS + ["llama-dyn", "llama-use"]
METRICS = [("wall_s", "time s", 1.0), ("peak_rss_kb", "peak RSS MiB", 1024.0),
           ("avg_rss_kb", "avg RSS MiB", 1024.0), ("final_rss_kb", "final RSS MiB", 1024.0)]


def main():
    title = None
    paths = []
    for a in sys.argv[1:]:
        if a.startswith("--title="):
            title = a[len("--title="):]
        else:
            paths.append(a)
    runs = []
    for p in paths:
        with open(p) as f:
            runs += [json.loads(l) for l in f if l.strip()]
    workloads = []
    for r in runs:
        if r["workload"] not in workloads:
            workloads.append(r["workload"])
    if title:
        print("### " + title)
        print()
    for w in workloads:
        rows = {}
        failed = {}
        for r in runs:
            if r["workload"] != w:
                continue
            if r.get("exit_status", 1) != 0:
                failed[r["config"]] = failed.get(r["config"], 0) + 1
                continue
            rows.setdefault(r["config"], []).append(r)
        med = {c: {m: statistics.median(x[m] for x in rs) for m, _, _ in METRICS + [("avg_anon_huge_kb", "", 0), ("avg_anon_kb", "", 0)]
                    if all(m in x for x in rs)}
               for c, rs in rows.items()}
        best = {}
        for m, _, _ in METRICS:
            vals = [med[c][m] for c in PEERS if c in med]
            best[m] = min(vals) if vals else None
        print("#### %s (median of %s runs)" % (w, "/".join(str(len(rows[c])) for c in ORDER if c in rows)))
        print()
        head = ["config"]
        for _, name, _ in METRICS:
            head += [name, "vs glibc", "vs best peer"]
        head += ["avg AnonHuge MiB", "huge / RSS", "huge / anon", "static share"]
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for c in [c for c in ORDER if c in med] + [c for c in med if c not in ORDER]:
            cells = [c]
            for m, _, div in METRICS:
                v = med[c][m]
                cells.append("%.2f" % (v / div) if m == "wall_s" else "%.1f" % (v / div))
                g = med.get("glibc", {}).get(m)
                cells.append("%.3f" % (v / g) if g else "-")
                cells.append("%.3f" % (v / best[m]) if best[m] else "-")
            huge = med[c]["avg_anon_huge_kb"]
            cells.append("%.1f" % (huge / 1024.0))
            cells.append("%.2f" % (huge / med[c]["avg_rss_kb"]) if med[c]["avg_rss_kb"] else "-")
            anon = med[c].get("avg_anon_kb")
            cells.append("%.2f" % (huge / anon) if anon else "-")
            st = [x for x in rows[c] if "static" in x]
            if st:
                x = st[0]
                tot = x["static"] + x["predicted"] + x["default"]
                cells.append("%.1f%% (%d/%d; predicted %d, default %d)" % (
                    100.0 * x["static"] / tot if tot else 0, x["static"], tot, x["predicted"], x["default"]))
            else:
                cells.append("-")
            print("| " + " | ".join(cells) + " |")
        if failed:
            print()
            print("failed runs (left out): " + ", ".join("%s %d" % kv for kv in sorted(failed.items())))
        print()


if __name__ == "__main__":
    main()
