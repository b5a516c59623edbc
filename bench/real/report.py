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

With a "bound" run (bench/real/common.sh: the plain build under glibc with
liblivebytes.so, rss_sampler.py --live), each table ends with the physical
bound: the program's live bytes rounded up to the 4 KiB pages holding them,
plus its file-backed RSS (code, libraries, mapped files), peak,
time-averaged and final, with its ratios to glibc and the best peer; a line
gives the live bytes alone. Below it, the LLAMA use build over the best
peer and both over the bound, per metric, with the huge-pages target of
issue 11 on time-averaged and final RSS: LLAMA <= 0.80x the best peer,
or, where the best peer is already within 10% of the bound (best peer /
bound <= 1.10), LLAMA <= 1.05x the bound; the table says which rule
applied.

The huge-page share is given twice, both time-averaged: AnonHugePages / RSS
(the issue's coverage), and AnonHugePages / Anonymous, the share of the
private memory (heap) alone: RSS also holds file-backed pages no allocator
can put on huge pages (the code; LevelDB maps its table files).
"""
import json
import statistics
import sys

PEERS = ["glibc", "jemalloc", "tcmalloc", "mimalloc"]
BOUND = "bound"
# The RSS metrics and the bound's field for each.
BOUND_OF = [("peak_rss_kb", "peak RSS", "bound_peak_kb"), ("avg_rss_kb", "avg RSS", "bound_avg_kb"),
            ("final_rss_kb", "final RSS", "bound_final_kb")]
# Issue 11, huge pages for all: LLAMA <= 0.80x the best peer on
# time-averaged and final RSS; where the best peer is within 10% of the
# bound, LLAMA <= 1.05x the bound.
TARGET_METRICS = ("avg_rss_kb", "final_rss_kb")
TARGET_PEER, NEAR_BOUND, TARGET_BOUND = 0.80, 1.10, 1.05
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
        bound_all = rows.pop(BOUND, [])
        bound_runs = [x for x in bound_all if x.get("live_ok")]
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
        bound = bound_values(bound_runs)
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
        if bound:
            print_bound(bound, med, best, len(head))
        elif bound_all:
            print()
            print("physical bound: not measured (liblivebytes.so published nothing; is LLAMA_LIVE_FILE writable?)")
        if failed:
            print()
            print("failed runs (left out): " + ", ".join("%s %d" % kv for kv in sorted(failed.items())))
        print()


def bound_values(runs):
    """Medians over the bound runs (one, normally) of the bound and live
    fields, or None."""
    if not runs:
        return None
    keys = [k for _, _, k in BOUND_OF] + ["peak_live_kb", "avg_live_kb", "final_live_kb"]
    return {k: statistics.median(x[k] for x in runs) for k in keys}


def print_bound(bound, med, best, ncols):
    """The physical bound's row (closing the table), the live bytes, and the
    LLAMA use build against the best peer and the bound."""
    cells = ["physical bound", "-", "-", "-"]
    for m, _, k in BOUND_OF:
        v = bound[k]
        g = med.get("glibc", {}).get(m)
        cells += ["%.1f" % (v / 1024.0), "%.3f" % (v / g) if g else "-",
                  "%.3f" % (v / best[m]) if best[m] else "-"]
    cells += ["-"] * (ncols - len(cells))
    print("| " + " | ".join(cells) + " |")
    print()
    print("physical bound: live bytes on whole 4 KiB pages + file-backed RSS (Rss - Anonymous), "
          "from one run of the plain build under glibc with liblivebytes.so; a lower bound "
          "(no thread stacks, no non-malloc anonymous memory). "
          "Live bytes alone: peak %.1f, avg %.1f, final %.1f MiB (final: at exit)."
          % (bound["peak_live_kb"] / 1024.0, bound["avg_live_kb"] / 1024.0, bound["final_live_kb"] / 1024.0))
    peers = {m: min((c for c in PEERS if c in med and m in med[c]), key=lambda c: med[c][m], default=None)
             for m, _, _ in BOUND_OF}
    llama = med.get("llama-use")
    print()
    print("LLAMA use build over the best peer, and both over the physical bound (huge-pages target: "
          "issue 11's for the huge-pages-for-all setting, on time-averaged and final RSS):")
    print()
    print("| metric | best peer | best peer MiB | llama-use MiB | LLAMA / best peer | bound MiB | "
          "best peer / bound | LLAMA / bound | huge-pages target (rule applied) | met |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for m, name, k in BOUND_OF:
        b, p = bound[k], peers[m]
        pv = med[p][m] if p else None
        lv = llama.get(m) if llama else None
        cells = [name, p or "-", "%.1f" % (pv / 1024.0) if pv else "-",
                 "%.1f" % (lv / 1024.0) if lv else "-",
                 "%.3f" % (lv / pv) if lv and pv else "-", "%.1f" % (b / 1024.0),
                 "%.3f" % (pv / b) if pv and b else "-", "%.3f" % (lv / b) if lv and b else "-"]
        if m not in TARGET_METRICS or not pv or not b:
            cells += ["- (time-averaged and final only)" if m not in TARGET_METRICS else "-", "-"]
        elif pv / b <= NEAR_BOUND:
            cells += ["LLAMA <= %.2fx bound (best peer within 10%% of it: %.3fx)" % (TARGET_BOUND, pv / b),
                      ("yes" if lv / b <= TARGET_BOUND else "no") if lv else "-"]
        else:
            rule = "LLAMA <= %.2fx best peer (best peer %.3fx the bound, not within 10%%)" % (TARGET_PEER, pv / b)
            if TARGET_PEER * pv < b:
                # 0.80x the best peer lies below the physical bound: no
                # allocator can hold that little (SQLite speedtest1's
                # time-averaged RSS with huge pages for all, 2026-12-07).
                rule += "; %.1f MiB is below the bound: unattainable" % (TARGET_PEER * pv / 1024.0)
            cells += [rule, ("yes" if lv / pv <= TARGET_PEER else "no") if lv else "-"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
