#!/usr/bin/env python3
"""bench/report.py - turns bench/run.sh's raw CSV into comparison tables.

Reads rows "rep,config,bench,variant,metric,value", takes the median over
repetitions of every number, and prints Markdown tables (readable in a terminal
and pasteable into docs/benchmarks.md) with absolute numbers and ratios
against the peers, then the brief's targets with PASS/FAIL. With gnuplot on
PATH it also draws RSS over time (SVG) from the series files.

  report.py --csv results.csv [--meta meta.txt] [--series-dir DIR]
            [--svg-dir DIR] [--demo]

--demo prints only the mixed-lifetime table and one sentence on what LLAMA
saved against the best peer (what bench/demo.sh shows).

Ratios: speed is LLAMA time / peer time (below 1 is faster); memory is LLAMA
/ best peer, where the best peer is the one with the lowest value of that
metric among glibc, jemalloc, tcmalloc and mimalloc in their default
configuration (the -thp configurations are shown and compared separately).
"""
import argparse
import collections
import csv
import glob
import os
import shutil
import statistics
import subprocess
import sys

PEERS = ["glibc", "jemalloc", "tcmalloc", "mimalloc"]
THP_PEERS = ["glibc-thp", "jemalloc-thp", "mimalloc-thp"]
ORDER = PEERS + THP_PEERS + ["llama"]

# Targets from the brief.
FASTPATH_MAX_VS_MIMALLOC = 1.10  # issue 11: llama_malloc_class+free <= 1.10x mimalloc
FRAG_MAX_VS_BEST = 0.5
NOLIFE_MAX_VS_BEST = 1.05
# Issue 11's memory targets for every workload: time-averaged and final RSS
# <= 1.00x the best peer, peak <= 1.05x, at least half the heap on huge pages.
MEMORY_TARGETS = (("avg_rss_mib", "time-averaged RSS", 1.00), ("final_rss_mib", "final RSS", 1.00),
                  ("peak_rss_mib", "peak RSS", 1.05))
HUGE_SHARE_MIN = 0.5


class Results:
    def __init__(self, path):
        self.values = collections.defaultdict(list)
        self.failures = []
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                key = (row["config"], row["bench"], row["variant"], row["metric"])
                if row["metric"].startswith("failed_"):
                    self.failures.append(row)
                    continue
                try:
                    self.values[key].append(float(row["value"]))
                except ValueError:
                    pass

    def get(self, config, bench, variant, metric):
        v = self.values.get((config, bench, variant, metric))
        return statistics.median(v) if v else None

    def reps(self, config, bench, variant, metric):
        return len(self.values.get((config, bench, variant, metric), []))

    def configs(self, bench, variant, metric):
        present = {k[0] for k in self.values if k[1:] == (bench, variant, metric)}
        return [c for c in ORDER if c in present] + sorted(present - set(ORDER))


def fmt(v, digits=1):
    if v is None:
        return "-"
    return f"{v:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


def table(header, rows, align=None):
    """Markdown table with padded columns."""
    cols = len(header)
    align = align or ["l"] + ["r"] * (cols - 1)
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(cols)]
    widths = [max(w, 3) for w in widths]

    def line(cells):
        out = []
        for i, c in enumerate(cells):
            c = str(c)
            out.append(c.ljust(widths[i]) if align[i] == "l" else c.rjust(widths[i]))
        return "| " + " | ".join(out) + " |"

    sep = []
    for i in range(cols):
        sep.append(("-" * (widths[i] - 1) + ":") if align[i] == "r" else "-" * widths[i])
    return "\n".join([line(header), "| " + " | ".join(sep) + " |"] + [line(r) for r in rows])


def verdict(ok):
    return "PASS" if ok else "FAIL"


def best_of(res, configs, bench, variant, metric):
    """(config, value) with the lowest value of metric, or (None, None)."""
    best = (None, None)
    for c in configs:
        v = res.get(c, bench, variant, metric)
        if v is not None and (best[1] is None or v < best[1]):
            best = (c, v)
    return best


def speed_section(res, out, targets):
    configs = res.configs("fastpath", "default", "ns_per_pair")
    if not configs:
        return
    mi = res.get("mimalloc", "fastpath", "default", "ns_per_pair")
    gl = res.get("glibc", "fastpath", "default", "ns_per_pair")
    rows = []
    for c in configs:
        for variant, label in (("default", c + " (malloc)" if c == "llama" else c),
                               ("class", "llama (llama_malloc_class)")):
            if variant == "class" and c != "llama":
                continue
            v = res.get(c, "fastpath", variant, "ns_per_pair")
            if v is None:
                continue
            rows.append([label, fmt(v, 2),
                         fmt(res.get(c, "fastpath", variant, "ns_per_pair_best"), 2),
                         fmt_ratio(ratio(v, mi)), fmt_ratio(ratio(v, gl))])
    out.append("### Fast path: one thread, malloc+free of 16..512 B over 512 live slots\n")
    out.append(table(["allocator", "ns/pair (median)", "ns/pair (best)",
                      "vs mimalloc", "vs glibc"], rows))
    out.append("")
    st = res.get("llama", "fastpath", "class", "ns_per_pair")
    if st is not None and mi is not None:
        r = st / mi
        targets.append(("fast path: llama_malloc_class+free vs mimalloc malloc+free",
                        f"{r:.3f}x (target <= {FASTPATH_MAX_VS_MIMALLOC}x)",
                        verdict(r <= FASTPATH_MAX_VS_MIMALLOC)))
    dm = res.get("llama", "fastpath", "default", "ns_per_pair")
    if dm is not None and mi is not None:
        targets.append(("fast path: llama malloc+free (no class) vs mimalloc",
                        f"{dm / mi:.2f}x (for information)", "-"))

    configs = res.configs("threads", "default", "ns_per_pair")
    if not configs:
        return
    rows = []
    mi_l = res.get("mimalloc", "threads", "default", "ns_per_pair")
    mi_x = res.get("mimalloc", "threads_xfree", "default", "ns_per_pair")
    for c in configs:
        for variant in ("default", "class"):
            if variant == "class" and c != "llama":
                continue
            loc = res.get(c, "threads", variant, "ns_per_pair")
            if loc is None:
                continue
            xf = res.get(c, "threads_xfree", variant, "ns_per_pair")
            label = c if c != "llama" else ("llama (malloc)" if variant == "default"
                                            else "llama (llama_malloc_class)")
            rows.append([label, fmt(loc, 2),
                         fmt(res.get(c, "threads", variant, "mops"), 1),
                         fmt_ratio(ratio(loc, mi_l)), fmt(xf, 2),
                         fmt(res.get(c, "threads_xfree", variant, "mops"), 1),
                         fmt_ratio(ratio(xf, mi_x))])
    out.append("### Threads: the same loop in every thread (local), and producer/consumer "
               "pairs where every free is cross-thread (xfree)\n")
    out.append(table(["allocator", "local ns/pair", "local Mops/s", "local vs mimalloc",
                      "xfree ns/pair", "xfree Mops/s", "xfree vs mimalloc"], rows))
    out.append("")
    out.append("ns/pair is wall time x threads / pairs (thread-nanoseconds per malloc+free);"
               " Mops/s is million malloc+free pairs per second over all threads.\n")


MEM_COLUMNS = [
    ("peak_rss_mib", "peak RSS MiB", 1),
    ("avg_rss_mib", "time-avg RSS MiB", 1),
    ("final_rss_mib", "RSS after short-lived die MiB", 1),
    ("avg_frag", "time-avg frag", 3),
    ("final_frag", "final frag", 3),
    ("huge_end_mib", "AnonHugePages MiB (end)", 1),
    ("huge_share", "huge-page share (time-avg)", 2),
    ("req_per_s", "k requests/s", 1),
]


def mem_value(res, config, bench, variant, metric):
    """A memory-table cell. Throughput comes from the unpaced run of the same
    sequence when there is one (paced runs are mostly asleep), shown in
    thousands; otherwise from the paced run's busy time."""
    if metric == "req_per_s":
        v = res.get(config, bench + "_unpaced", variant, metric)
        if v is None:
            v = res.get(config, bench, variant, metric)
        return None if v is None else v / 1000.0
    return res.get(config, bench, variant, metric)


def memory_rows(res, bench, variant, with_nohint):
    rows = []
    configs = res.configs(bench, variant, "avg_rss_mib")
    for c in configs:
        rows.append([c] + [fmt(mem_value(res, c, bench, variant, m), d) for m, _, d in MEM_COLUMNS])
        if c == "llama" and with_nohint and res.get("llama", bench, "default", "avg_rss_mib") is not None:
            rows.append(["llama (no hints)"] +
                        [fmt(mem_value(res, "llama", bench, "default", m), d) for m, _, d in MEM_COLUMNS])
    any_c = configs[0] if configs else None
    if any_c:
        rows.append(["live bytes: the physical bound (same for all)",
                     fmt(res.get(any_c, bench, variant, "peak_live_mib")),
                     fmt(res.get(any_c, bench, variant, "avg_live_mib")),
                     fmt(res.get(any_c, bench, variant, "final_live_mib"))] +
                    [""] * (len(MEM_COLUMNS) - 3))
    return rows


def comparison_rows(res, bench, variant, peer_set, set_name):
    rows = []
    for metric, title, digits in MEM_COLUMNS[:5]:
        ll = res.get("llama", bench, variant, metric)
        bc, bv = best_of(res, peer_set, bench, variant, metric)
        if ll is None or bc is None:
            continue
        rows.append([title, f"{fmt(ll, digits)}", f"{fmt(bv, digits)} ({bc})",
                     fmt_ratio(ratio(ll, bv)),
                     "-" if not bv else f"{(ll - bv) / bv * 100:+.0f}%"])
    if rows:
        return ("LLAMA vs the best %s, metric by metric:\n\n" % set_name +
                table(["metric", "llama", "best " + set_name, "llama / best", "difference"], rows))
    return ""


def lifetime_section(res, out, targets, demo=False):
    if not res.configs("lifetime", "class", "avg_rss_mib"):
        return
    out.append("### Mixed lifetimes (bench_lifetime): server workload, oracle lifetime classes\n")
    header = ["allocator"] + [t for _, t, _ in MEM_COLUMNS]
    out.append(table(header, memory_rows(res, "lifetime", "class", with_nohint=True)))
    out.append("")
    out.append("RSS is the heap's resident memory (anonymous RSS minus the benchmark's own "
               "bookkeeping); fragmentation is (RSS - live)/RSS, time-averaged as "
               "(avg RSS - avg live)/avg RSS; the final window starts 2.2 s after the "
               "burst, when its short- and medium-lived objects are dead; throughput is "
               "from an unpaced run of the same allocation sequence.\n")
    if demo:
        return
    cmp = comparison_rows(res, "lifetime", "class", PEERS, "peer")
    if cmp:
        out.append(cmp + "\n")
    cmp = comparison_rows(res, "lifetime", "class", THP_PEERS, "THP peer")
    if cmp:
        out.append(cmp + "\n")
    ll = {m: mem_value(res, "llama", "lifetime", "class", m) for m, _, _ in MEM_COLUMNS}
    if ll["avg_rss_mib"] is None:
        return
    memory_targets(res, "lifetime", "class", "mixed lifetimes", targets)
    bc, bv = best_of(res, PEERS, "lifetime", "class", "avg_frag")
    if bc:
        targets.append(("mixed lifetimes: time-avg fragmentation <= 0.5 x best peer",
                        f"{ll['avg_frag']:.3f} vs {bv:.3f} ({bc}), {ll['avg_frag'] / bv:.3f}x",
                        verdict(ll["avg_frag"] <= FRAG_MAX_VS_BEST * bv)))
    gl = mem_value(res, "glibc", "lifetime", "class", "req_per_s")
    if gl and ll["req_per_s"]:
        targets.append(("mixed lifetimes: throughput vs glibc",
                        f"{ll['req_per_s'] / gl:.2f}x of glibc's requests/s "
                        "(for information; the brief's 5% is for real programs)", "-"))


def memory_targets(res, bench, variant, label, targets):
    """Issue 11's targets for one workload: RSS against the best peer, and
    LLAMA's time-averaged huge-page share."""
    for metric, name, limit in MEMORY_TARGETS:
        ll = res.get("llama", bench, variant, metric)
        bc, bv = best_of(res, PEERS, bench, variant, metric)
        if ll is not None and bc:
            targets.append((f"{label}: {name} <= {limit:.2f} x best peer",
                            f"{ll:.1f} vs {bv:.1f} MiB ({bc}), {ll / bv:.3f}x",
                            verdict(ll <= limit * bv)))
    share = res.get("llama", bench, variant, "huge_share")
    if share is not None:
        targets.append((f"{label}: time-averaged huge-page share >= {HUGE_SHARE_MIN}",
                        f"{share:.2f}", verdict(share >= HUGE_SHARE_MIN)))


def nolife_section(res, out, targets):
    if not res.configs("nolife", "default", "avg_rss_mib"):
        return
    out.append("### No lifetime structure (bench_nolife): plain malloc, random lifetimes\n")
    header = ["allocator"] + [t for _, t, _ in MEM_COLUMNS]
    out.append(table(header, memory_rows(res, "nolife", "default", with_nohint=False)))
    out.append("")
    cmp = comparison_rows(res, "nolife", "default", PEERS, "peer")
    if cmp:
        out.append(cmp + "\n")
    memory_targets(res, "nolife", "default", "no lifetime structure", targets)


def demo_sentence(res):
    ll = res.get("llama", "lifetime", "class", "avg_rss_mib")
    bc, bv = best_of(res, PEERS, "lifetime", "class", "avg_rss_mib")
    if ll is None or bc is None:
        return "LLAMA did not run, so there is nothing to compare."
    diff = (bv - ll) / bv * 100
    word = "less" if diff >= 0 else "more"
    lf = res.get("llama", "lifetime", "class", "avg_frag")
    fc, fv = best_of(res, PEERS, "lifetime", "class", "avg_frag")
    lfin = res.get("llama", "lifetime", "class", "final_rss_mib")
    finc, finv = best_of(res, PEERS, "lifetime", "class", "final_rss_mib")
    s = (f"LLAMA used {abs(diff):.0f}% {word} time-averaged RSS than the best peer ({bc}): "
         f"{ll:.1f} MiB vs {bv:.1f} MiB")
    if lf is not None and fc:
        s += f"; time-averaged fragmentation {lf:.2f} vs {fv:.2f} (best peer: {fc})"
    if lfin is not None and finc:
        s += (f"; after the short-lived objects died it held {lfin:.1f} MiB vs "
              f"{finv:.1f} MiB ({finc})")
    return s + "."


def plot(series_dir, svg_dir, bench, title):
    """Draws heap RSS over time of every configuration (first repetition)."""
    if not shutil.which("gnuplot"):
        return None
    files = sorted(glob.glob(os.path.join(series_dir, f"{bench}_*_rep1.tsv")))
    if not files:
        return None

    def config_of(path):
        return os.path.basename(path)[len(bench) + 1:-len("_rep1.tsv")]

    rank = {c: i for i, c in enumerate(ORDER + ["llama-nohint"])}
    files.sort(key=lambda p: rank.get(config_of(p), 99))
    svg = os.path.join(svg_dir, f"{bench}_rss.svg")
    plots = []
    for p in files:
        c = config_of(p)
        width = 3 if c == "llama" else 1.5
        dash = " dt 2" if c.endswith("-thp") or c == "llama-nohint" else ""
        plots.append(f"'{p}' using 1:3 with lines lw {width}{dash} title '{c}'")
    plots.append(f"'{files[0]}' using 1:4 with lines lw 2 lc rgb 'black' dt 3 title 'live bytes'")
    script = "\n".join([
        "set terminal svg size 1000,560 dynamic enhanced font 'sans,12'",
        f"set output '{svg}'",
        f"set title '{title}'",
        "set xlabel 'time (s)'",
        "set ylabel 'heap RSS (MiB)'",
        "set key top right",
        "set grid",
        "plot " + ", \\\n  ".join(plots),
    ])
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except (subprocess.CalledProcessError, OSError) as e:
        print(f"report: gnuplot failed for {bench}: {e}", file=sys.stderr)
        return None
    return svg


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--csv", required=True)
    ap.add_argument("--meta")
    ap.add_argument("--series-dir")
    ap.add_argument("--svg-dir")
    ap.add_argument("--demo", action="store_true")
    args = ap.parse_args()

    res = Results(args.csv)
    out, targets = [], []
    if args.meta and os.path.exists(args.meta):
        with open(args.meta) as f:
            meta = f.read().strip().splitlines()
        out.append("```\n" + "\n".join(meta) + "\n```\n")
    if args.demo:
        lifetime_section(res, out, targets, demo=True)
        out.append(demo_sentence(res))
    else:
        speed_section(res, out, targets)
        lifetime_section(res, out, targets)
        nolife_section(res, out, targets)
        if targets:
            out.append("### Targets\n")
            out.append(table(["target", "measured", "verdict"], [list(t) for t in targets],
                             ["l", "l", "l"]))
            out.append("")
    svgs = []
    if args.series_dir and args.svg_dir:
        for bench, title in (("lifetime", "Mixed lifetimes: heap RSS over time"),
                             ("nolife", "No lifetime structure: heap RSS over time")):
            svg = plot(args.series_dir, args.svg_dir, bench, title)
            if svg:
                svgs.append(svg)
    if svgs:
        out.append("\nPlots: " + ", ".join(svgs))
    if res.failures:
        out.append("\nFAILED RUNS (their numbers are missing above):")
        for r in res.failures:
            out.append(f"  rep {r['rep']}: {r['config']} {r['bench']}: {r['metric']} = {r['value']}")
    print("\n".join(out))
    return 1 if res.failures else 0


if __name__ == "__main__":
    sys.exit(main())
