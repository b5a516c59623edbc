#!/usr/bin/env python3
"""mimalloc_bench_report.py OUT_DIR - the report of bench/mimalloc_bench.sh.

Reads OUT_DIR/res/PROGRAM/ALLOC.rN.json (one rss_sampler.py object per run;
the last line counts), ALLOC.rN.out (the program's stdout), ALLOC.rN.err,
ALLOC.rN.timeout (present when the watchdog killed the run),
command.txt and OUT_DIR/setup.txt, and writes OUT_DIR/results.md (and
prints it):

  - per program, the median over the rounds of peak RSS, time-averaged RSS
    and wall time for each allocator, with LLAMA / best peer (the lowest of
    glibc, jemalloc, tcmalloc and mimalloc) and LLAMA / glibc, and the
    geometric means of these ratios over the programs; lower is better;
  - LLAMA's huge-page share (avg_anon_huge_kb / avg_rss_kb, median over its
    runs) and the spread of its runs;
  - the programs' own speed metric where they print one (larson, rptest,
    xmalloc-test and glibc-thread run for a fixed time, so their wall time
    says nothing);
  - every non-zero exit, timeout, missing result, unexpected stderr, and
    stdout that differs from glibc's (numbers masked where the output
    holds timings).

Only runs that exited 0 enter the medians.
"""
import glob
import json
import math
import os
import re
import statistics
import sys

ALLOCS = ["glibc", "jemalloc", "tcmalloc", "mimalloc", "llama"]
PEERS = ALLOCS[:4]
# bench/mimalloc_bench.sh's order; other directories follow alphabetically.
ORDER = ["cfrac", "espresso", "barnes", "larsonN-sized", "mstressN", "rptestN",
         "alloc-test1", "alloc-testN", "xmalloc-testN", "cache-scratch1",
         "cache-scratchN", "glibc-simple", "glibc-thread", "malloc-large",
         "rbstress1", "rbstressN"]
# program: (regex on stdout, unit, higher is better)
SPEED = {
    "larsonN-sized": (r"Throughput =\s*([0-9.]+)", "ops/s", True),
    "rptestN": (r"([0-9]+) memory ops/CPU second", "mem ops/CPU s", True),
    "xmalloc-testN": (r"free/sec: ([0-9.]+) M", "M frees/s", True),
    "glibc-thread": (r"^([0-9]+) iterations", "iterations", True),
    "alloc-test1": (r"operations in ([0-9]+) ms", "ms", False),
    "alloc-testN": (r"operations in ([0-9]+) ms", "ms", False),
    "rbstress1": (r"duration: ([0-9.]+)", "s", False),
    "rbstressN": (r"duration: ([0-9.]+)", "s", False),
}
FLAG = 1.25  # ratios above this are printed in bold


def read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return None


def load_json(path):
    text = read(path)
    if not text:
        return None
    lines = [l for l in text.splitlines() if l.strip()]
    try:
        return json.loads(lines[-1])
    except (ValueError, IndexError):
        return None


def gmean(xs):
    return math.exp(sum(map(math.log, xs)) / len(xs)) if xs else None


def fr(x):
    return "—" if x is None else "%.2f" % x


def flag(x):
    return "**%s**" % fr(x) if x is not None and x > FLAG else fr(x)


def ratio(x, y):
    return None if x is None or not y else x / y


class Run:
    def __init__(self, prog_dir, alloc, rnd):
        base = os.path.join(prog_dir, "%s.r%d" % (alloc, rnd))
        self.alloc, self.round = alloc, rnd
        self.json = load_json(base + ".json")
        self.out = read(base + ".out")
        self.err = read(base + ".err")
        self.timeout = os.path.exists(base + ".timeout")
        self.name = os.path.basename(base)

    @property
    def ok(self):
        return self.json is not None and self.json.get("exit_status") == 0 and not self.timeout


def load(res):
    progs = [p for p in os.listdir(res) if os.path.isdir(os.path.join(res, p))]
    progs.sort(key=lambda p: (ORDER.index(p) if p in ORDER else len(ORDER), p))
    data = {}
    for p in progs:
        d = os.path.join(res, p)
        for a in ALLOCS:
            rounds = sorted({int(m.group(1)) for f in os.listdir(d)
                             for m in [re.match(r"%s\.r([0-9]+)\." % re.escape(a), f)] if m})
            data[(p, a)] = [Run(d, a, r) for r in rounds]
    return progs, data


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: mimalloc_bench_report.py OUT_DIR")
    out_dir = sys.argv[1]
    res = os.path.join(out_dir, "res")
    if not os.path.isdir(res):
        sys.exit("mimalloc_bench_report: %s missing (run bench/mimalloc_bench.sh first)" % res)
    progs, data = load(res)
    allocs = [a for a in ALLOCS if any(data[(p, a)] for p in progs)]
    peers = [a for a in PEERS if a in allocs]
    nrounds = max((len(data[k]) for k in data), default=0)
    setup = {}
    for line in (read(os.path.join(out_dir, "setup.txt")) or "").splitlines():
        k, _, v = line.partition("=")
        setup[k] = v

    def med(p, a, key):
        v = [r.json[key] for r in data[(p, a)] if r.ok and r.json.get(key) is not None]
        return statistics.median(v) if v else None

    o = ["# LLAMA vs glibc / jemalloc / tcmalloc / mimalloc on mimalloc-bench", ""]
    o.append("Written by `bench/mimalloc_bench_report.py` from `%s` (`bench/mimalloc_bench.sh`)." % os.path.abspath(res))
    o.append("Each allocator LD_PRELOADed into the same binaries (glibc: none); every run measured by "
             "`rss_sampler.py --interval=0.02 --peak-exec=llama-peakexec`; allocators rotated within each round.")
    o.append("")
    if setup:
        o.append("Setup:")
        o.append("")
        for k in ("date", "host", "llama_commit", "mimalloc_bench", "compiler", "rounds", "timeout_s", "procs",
                  "thp_start", "thp_end"):
            if k in setup:
                o.append("- %s: `%s`" % (k, setup[k]))
        for k, v in setup.items():
            if k.startswith("alloc."):
                o.append("- %s: `%s`" % (k[len("alloc."):], v))
        o.append("")
    o.append("Ratios: LLAMA's median over the best peer's (the lowest of %s for that metric) and over glibc's; "
             "below 1 is better, above %.2f in bold. Only runs that exited 0 count." % (", ".join(peers), FLAG))
    o.append("")
    o.append("Commands:")
    o.append("")
    for p in progs:
        cmd = dict(l.partition("=")[::2] for l in (read(os.path.join(res, p, "command.txt")) or "").splitlines())
        if cmd:
            s = cmd.get("command", "?")
            if cmd.get("stdin", "/dev/null") != "/dev/null":
                s += " < " + cmd["stdin"]
            o.append("- %s: `%s`" % (p, s))
    o.append("")

    metrics = [("peak_rss_kb", "Peak RSS (MiB)", lambda v: "%.1f" % (v / 1024)),
               ("avg_rss_kb", "Time-averaged RSS (MiB)", lambda v: "%.1f" % (v / 1024)),
               ("wall_s", "Wall time (s)", lambda v: "%.2f" % v)]
    head = "| program | " + " | ".join("**llama**" if a == "llama" else a for a in allocs) + \
           " | best peer | llama/best | llama/glibc |"
    rule = "|---|" + "---:|" * len(allocs) + "---|---:|---:|"
    for key, title, fmt in metrics:
        o.append("## %s — median of %d round%s" % (title, nrounds, "" if nrounds == 1 else "s"))
        o.append("")
        o.append(head)
        o.append(rule)
        gb, gg = [], []
        for p in progs:
            vals = {a: med(p, a, key) for a in allocs}
            pv = {a: vals[a] for a in peers if vals[a] is not None}
            best = min(pv, key=pv.get) if pv else None
            rb = ratio(vals.get("llama"), pv.get(best)) if best else None
            rg = ratio(vals.get("llama"), vals.get("glibc"))
            if rb:
                gb.append(rb)
            if rg:
                gg.append(rg)
            cells = []
            for a in allocs:
                c = "—" if vals[a] is None else fmt(vals[a])
                cells.append("**%s**" % c if a == "llama" else c)
            o.append("| %s | %s | %s | %s | %s |" % (p, " | ".join(cells), best or "—", flag(rb), fr(rg)))
        o.append("| " + " | ".join(["*geomean*"] + [""] * (len(allocs) + 1) + [fr(gmean(gb)), fr(gmean(gg))]) + " |")
        o.append("")
    fork = ["%s %s" % (p, r.name) for p in progs for a in allocs for r in data[(p, a)]
            if r.json and r.json.get("peak_rss_source") != "peakexec"]
    if fork:
        nruns = sum(1 for p in progs for a in allocs for r in data[(p, a)] if r.json)
        o.append("Note: in %d of %d runs the peak RSS is the sampler's fork peak (never below Python's ~10.5 MiB; "
                 "llama-peakexec did not report): %s%s" % (len(fork), nruns, ", ".join(fork[:10]),
                                                          ", ..." if len(fork) > 10 else ""))
        o.append("")

    if "llama" in allocs:
        o.append("## LLAMA's huge-page share and run-to-run spread")
        o.append("")
        o.append("Huge share: avg_anon_huge_kb / avg_rss_kb of each LLAMA run, median.")
        o.append("")
        o.append("| program | llama avg huge MiB | huge share | llama avg RSS min–max MiB | llama wall min–max s |")
        o.append("|---|---:|---:|---|---|")
        for p in progs:
            rs = [r.json for r in data[(p, "llama")] if r.ok]
            shares = [r["avg_anon_huge_kb"] / r["avg_rss_kb"] for r in rs if r.get("avg_rss_kb")]
            huge = statistics.median([r["avg_anon_huge_kb"] for r in rs]) if rs else None
            avgs = [r["avg_rss_kb"] / 1024 for r in rs]
            walls = [r["wall_s"] for r in rs]
            o.append("| %s | %s | %s | %s | %s |" % (
                p, "—" if huge is None else "%.1f" % (huge / 1024),
                "%.0f%%" % (100 * statistics.median(shares)) if shares else "—",
                "%.1f–%.1f" % (min(avgs), max(avgs)) if avgs else "—",
                "%.2f–%.2f" % (min(walls), max(walls)) if walls else "—"))
        o.append("")

    sp = [p for p in progs if p in SPEED]
    if sp:
        o.append("## The programs' own speed metric — median of %d round%s" % (nrounds, "" if nrounds == 1 else "s"))
        o.append("")
        o.append("larson, rptest, xmalloc-test and glibc-thread run for a fixed time: their wall time says nothing, "
                 "this does. llama vs X: above 1 = LLAMA faster.")
        o.append("")
        o.append("| program | metric | " + " | ".join("**llama**" if a == "llama" else a for a in allocs) +
                 " | llama vs best peer | llama vs glibc |")
        o.append("|---|---|" + "---:|" * len(allocs) + "---:|---:|")
        for p in sp:
            rx, unit, hib = SPEED[p]
            vals = {}
            for a in allocs:
                v = []
                for r in data[(p, a)]:
                    m = re.search(rx, r.out or "", re.M) if r.ok else None
                    if m:
                        v.append(float(m.group(1)))
                vals[a] = statistics.median(v) if v else None
            pv = [vals[a] for a in peers if vals[a] is not None]
            best = (max(pv) if hib else min(pv)) if pv else None

            def rel(x, y):
                return None if x is None or not y else (x / y if hib else y / x)
            cells = []
            for a in allocs:
                c = "—" if vals[a] is None else "%.4g" % vals[a]
                cells.append("**%s**" % c if a == "llama" else c)
            o.append("| %s | %s (%s better) | %s | %s | %s |" % (
                p, unit, "higher" if hib else "lower", " | ".join(cells),
                fr(rel(vals.get("llama"), best)), fr(rel(vals.get("llama"), vals.get("glibc")))))
        o.append("")

    def norm(p, txt):
        if p == "cfrac":
            return txt
        if p.startswith("alloc-test"):  # checksums only; the rest has timings
            return "\n".join(sorted(re.findall(r"\[ctr = -?[0-9]+\]", txt)))
        return re.sub(r"[0-9.]+", "#", txt)

    mask = lambda t: re.sub(r"[0-9.]+", "#", (t or "").strip())
    probs = []
    for p in progs:
        ref = next((r for r in data[(p, "glibc")] if r.ok and r.out is not None), None) if "glibc" in allocs else None
        for a in allocs:
            runs = data[(p, a)]
            if len(runs) < nrounds:
                probs.append("%s %s: %d of %d rounds present" % (p, a, len(runs), nrounds))
            for r in runs:
                what = "%s %s r%d" % (p, a, r.round)
                if r.timeout:
                    probs.append("%s: TIMEOUT (killed by the watchdog), exit_status %s" % (
                        what, r.json.get("exit_status") if r.json else "?"))
                elif r.json is None:
                    probs.append("%s: no result (%s.json missing or unreadable)" % (what, r.name))
                elif r.json.get("exit_status") != 0:
                    probs.append("%s: exit_status %s" % (what, r.json.get("exit_status")))
                if ref is not None and r.out is not None and r is not ref and norm(p, r.out) != norm(p, ref.out):
                    probs.append("%s: stdout differs from glibc's" % what)
                e = (r.err or "").strip()
                if e and mask(e) != mask(ref.err if ref else ""):
                    probs.append("%s: stderr: %s" % (what, e[:200].replace("\n", " | ")))
    o.append("## Exits, timeouts and output checks")
    o.append("")
    if probs:
        o.extend("- " + x for x in probs)
    else:
        o.append("- none: every run exited 0 within the timeout, with no stderr beyond glibc's, and stdout equal to "
                 "glibc's (numbers masked where the output has timings; cfrac exact; alloc-test checksums exact)")
    o.append("")

    text = "\n".join(o)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
