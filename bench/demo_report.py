#!/usr/bin/env python3
"""bench/demo_report.py - the table, the plot and the summary of `make demo`.

Reads what bench/demo.sh left in OUT: logs/CONFIG_repN_paced.log (the
memory line kvserver prints with --memstats), logs/CONFIG_repN_unpaced.log
(throughput), series/CONFIG_repN.tsv (samples every 50 ms). Takes the median
of every number over the runs and writes

  * the table (printed, and as Markdown to OUT/results.md): peak,
    time-averaged and final RSS, huge pages, fragmentation, throughput;
  * LLAMA against glibc and against the best peer, metric by metric;
  * OUT/rss.svg with gnuplot: RSS over time, one line per allocator;
  * a summary of one or two lines, computed from the numbers.

  demo_report.py --out DIR --configs FILE [--meta FILE] [--runs N] [--llama-standin]

Exit status 1 when a configuration has no successful run.
"""
import argparse
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys

PEERS = ["glibc", "jemalloc", "jemalloc-thp", "tcmalloc", "mimalloc"]
LLAMAS = ["llama", "llama-dynamic"]
LABELS = {
    "glibc": "glibc",
    "jemalloc": "jemalloc",
    "jemalloc-thp": "jemalloc (thp:always)",
    "tcmalloc": "tcmalloc",
    "mimalloc": "mimalloc",
    "llama": "LLAMA (use build)",
    "llama-dynamic": "LLAMA (dynamic only, LD_PRELOAD + LLAMA_MODEL)",
}
STANDIN_LABEL = "LLAMA (stand-in: LD_PRELOAD, no classes)"

# (key, column title, digits, lower is better?)
COLUMNS = [
    ("peak_rss", "peak RSS MiB", 1, True),
    ("avg_rss", "time-avg RSS MiB", 1, True),
    ("final_rss", "final RSS MiB", 1, True),
    ("huge_peak", "huge pages MiB peak", 1, None),
    ("huge_avg", "huge pages MiB avg", 1, None),
    ("huge_share_rss", "huge share of RSS", 2, None),
    ("huge_share_anon", "huge share of heap", 2, None),
    ("frag_avg", "frag. time-avg", 3, True),
    ("frag_final", "frag. final", 3, True),
    ("kreq_s", "k requests/s", 0, False),
]


def parse_fields(line):
    return {k: v for k, v in re.findall(r"(\w+)=([0-9.]+)", line)}


def read_run(out, config, rep):
    """The numbers of one run, or None when it failed."""
    paced = os.path.join(out, "logs", f"{config}_rep{rep}_paced.log")
    unpaced = os.path.join(out, "logs", f"{config}_rep{rep}_unpaced.log")
    try:
        with open(paced) as f:
            mem = [l for l in f if l.startswith("kvserver: memory ")]
        with open(unpaced) as f:
            thr = [l for l in f if l.startswith("kvserver: seed=")]
    except OSError:
        return None
    if not mem or not thr:
        return None
    m = {k: float(v) for k, v in parse_fields(mem[-1]).items()}
    t = {k: float(v) for k, v in parse_fields(thr[-1]).items()}
    mib = 1.0 / 1024
    r = {
        "peak_rss": m["hwm_kib"] * mib,
        "avg_rss": m["avg_rss_kib"] * mib,
        "final_rss": m["final_rss_kib"] * mib,
        "huge_peak": m["peak_huge_kib"] * mib,
        "huge_avg": m["avg_huge_kib"] * mib,
        # Time-averaged huge-page coverage: of the whole RSS (the program's
        # code and libraries included, which no allocator can put on huge
        # pages), and of the anonymous memory (the heap, with stacks and the
        # libraries' data: the issue's "half its heap" target).
        "huge_share_rss": m["avg_huge_kib"] / m["avg_rss_kib"] if m["avg_rss_kib"] else None,
        "huge_share_anon": m["avg_huge_kib"] / m["avg_anon_kib"] if m["avg_anon_kib"] else None,
        "frag_avg": 1 - m["avg_held_kib"] / m["avg_anon_kib"] if m["avg_anon_kib"] else None,
        "frag_final": 1 - m["final_held_kib"] / m["final_anon_kib"] if m["final_anon_kib"] else None,
        "kreq_s": t["requests_per_busy_s"] / 1000.0,
        "held_avg": m["avg_held_kib"] * mib,
        "held_peak": m["peak_held_kib"] * mib,
        "held_final": m["final_held_kib"] * mib,
    }
    return r


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits):
    return "-" if v is None else f"{v:.{digits}f}"


def table(header, rows, align=None):
    cols = len(header)
    align = align or ["l"] + ["r"] * (cols - 1)
    widths = [max(3, max(len(str(r[i])) for r in [header] + rows)) for i in range(cols)]

    def line(cells):
        return "| " + " | ".join(str(c).ljust(widths[i]) if align[i] == "l" else str(c).rjust(widths[i])
                                 for i, c in enumerate(cells)) + " |"

    sep = "| " + " | ".join(("-" * (widths[i] - 1) + ":") if align[i] == "r" else "-" * widths[i]
                            for i in range(cols)) + " |"
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def best_peer(med, peers, key, lower):
    """(config, value) of the best peer for a metric."""
    vals = [(c, med[c][key]) for c in peers if med[c].get(key) is not None]
    if not vals:
        return None, None
    return (min if lower else max)(vals, key=lambda cv: cv[1])


def pct_less(ll, peer):
    """'12% less' / '3% more' of ll against peer."""
    d = (peer - ll) / peer * 100 if peer else 0.0
    return f"{abs(d):.0f}% {'less' if d >= 0 else 'more'}"


def plot(out, configs, labels, svg):
    if not shutil.which("gnuplot"):
        return "gnuplot is not installed: no plot"
    lines = []
    held = None
    for c in configs:
        p = os.path.join(out, "series", f"{c}_rep1.tsv")
        if not os.path.exists(p):
            cands = sorted(glob.glob(os.path.join(out, "series", f"{c}_rep*.tsv")))
            if not cands:
                continue
            p = cands[0]
        held = held or p
        width = 3 if c == "llama" else 2 if c in LLAMAS else 1.5
        dash = " dt 2" if c == "llama-dynamic" or c.endswith("-thp") else ""
        lines.append(f"'{p}' using 1:($2/1024) with lines lw {width}{dash} title '{labels[c]}'")
    if not lines:
        return "no series to plot"
    lines.append(f"'{held}' using 1:($5/1024) with lines lw 2 lc rgb 'black' dt 3 "
                 "title 'held by kvserver (live bytes)'")
    script = "\n".join([
        "set terminal svg size 1100,650 dynamic noenhanced font 'sans,12' background rgb 'white'",
        f"set output '{svg}'",
        "set title 'kvserver (make demo): resident set over time, first run of each allocator'",
        "set xlabel 'time (s)'",
        "set ylabel 'RSS (MiB)'",
        "set key below maxrows 4",
        "set grid",
        "set yrange [0:*]",
        "plot " + ", \\\n  ".join(lines),
    ])
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except (subprocess.CalledProcessError, OSError) as e:
        err = getattr(e, "stderr", "") or str(e)
        return f"gnuplot failed: {err.strip()}"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--configs", required=True)
    ap.add_argument("--meta")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--llama-standin", action="store_true")
    args = ap.parse_args()

    with open(args.configs) as f:
        configs = [l.strip() for l in f if l.strip()]
    labels = dict(LABELS)
    if args.llama_standin:
        labels["llama"] = STANDIN_LABEL

    runs, med, missing = {}, {}, []
    for c in configs:
        runs[c] = [r for r in (read_run(args.out, c, rep) for rep in range(1, args.runs + 1)) if r]
        if not runs[c]:
            missing.append(c)
            continue
        med[c] = {k: median([r[k] for r in runs[c]]) for k in runs[c][0]}
    configs = [c for c in configs if c in med]
    peers = [c for c in configs if c in PEERS]
    llamas = [c for c in configs if c in LLAMAS]

    out = []
    meta = []
    if args.meta and os.path.exists(args.meta):
        with open(args.meta) as f:
            meta = [l.rstrip("\n") for l in f if l.strip()]
    out.append("## make demo: kvserver through the LLAMA pipeline\n")
    if meta:
        out.append("```\n" + "\n".join(meta) + "\n```\n")

    rows = []
    for c in configs:
        n = len(runs[c])
        label = labels.get(c, c) + ("" if n == args.runs else f" ({n} of {args.runs} runs)")
        rows.append([label] + [fmt(med[c][k], d) for k, _, d, _ in COLUMNS])
    if configs:
        any_c = configs[0]
        rows.append(["held by kvserver (live bytes)", fmt(med[any_c]["held_peak"], 1),
                     fmt(med[any_c]["held_avg"], 1), fmt(med[any_c]["held_final"], 1),
                     "", "", "", "", "", "", ""])
    out.append(table(["allocator"] + [t for _, t, _, _ in COLUMNS], rows))
    out.append("")
    thp = next((l for l in meta if "transparent huge pages" in l), "")
    mode = re.search(r"\[(\w+)\]", thp)
    out.append(
        f"Medians of {args.runs} run(s). Peak RSS is the kernel's VmHWM; time-averaged RSS is "
        "VmRSS sampled every 50 ms; final RSS is VmRSS at the end of the run, before the "
        "server shuts down (with the default workload the flash crowd has left by then). "
        "Huge share is time-averaged AnonHugePages over RSS, and over RssAnon (the heap, with "
        "stacks and the libraries' data; the program's code is never on huge pages). "
        "Fragmentation is "
        "1 - held/RssAnon, where held is what kvserver itself holds (its live bytes). "
        "Throughput is from a second, unpaced run of the same requests.")
    out.append("")
    thp_mode = mode.group(1) if mode else "?"
    if thp_mode == "always":
        thp_text = ("Huge pages for all: transparent huge pages were in 'always' mode for this run "
                    "(set by bench/demo.sh and restored afterwards), so every allocator's heap may get "
                    "huge pages from the kernel; LLAMA still keeps a page on 4 KiB pages until it is "
                    "dense (MADV_NOHUGEPAGE, then MADV_COLLAPSE).")
    else:
        thp_text = ("Huge pages: transparent huge pages are in "
                    f"'{thp_mode}' mode here. In 'madvise' mode only memory that is "
                    "madvise(MADV_HUGEPAGE)d gets them: LLAMA does that; glibc, jemalloc (opt.thp default), "
                    "tcmalloc and mimalloc in their default configurations do not, so they use 4 KiB pages "
                    "(fine-grained to return, more TLB misses).")
    out.append(
        thp_text
        + (" The 'jemalloc (thp:always)' row is jemalloc with MALLOC_CONF=thp:always,metadata_thp:always."
           if "jemalloc-thp" in configs else
           " DEMO_ALLOCATORS=\"... jemalloc-thp\" adds jemalloc with MALLOC_CONF=thp:always."))
    if args.llama_standin and "llama" in configs:
        out.append("")
        out.append("**The LLAMA row is a stand-in:** `llama-config --use` is not available in this "
                   "build, so the row is the plain build with libllamalloc.so preloaded and no "
                   "lifetime classes.")
    out.append("")

    # LLAMA against glibc and the best peer.
    summary = []
    for c in llamas:
        cmp_rows = []
        for key, title, d, lower in COLUMNS:
            if lower is None:
                continue
            ll = med[c][key]
            gl = med.get("glibc", {}).get(key)
            bc, bv = best_peer(med, peers, key, lower)
            cmp_rows.append([title, fmt(ll, d), fmt(gl, d),
                             "-" if ll is None or not gl else f"{ll / gl:.2f}x",
                             "-" if bc is None else f"{fmt(bv, d)} ({labels[bc]})",
                             "-" if ll is None or not bv else f"{ll / bv:.2f}x"])
        out.append(f"{labels[c]} against glibc and the best peer:\n")
        out.append(table(["metric", "LLAMA", "glibc", "vs glibc", "best peer", "vs best peer"], cmp_rows))
        out.append("")

    if "llama" in med and peers:
        ll = med["llama"]
        name = "LLAMA (stand-in, no classes)" if args.llama_standin else "LLAMA"
        pc, pv = best_peer(med, peers, "peak_rss", True)
        ac, av = best_peer(med, peers, "avg_rss", True)
        fc, fv = best_peer(med, peers, "final_rss", True)
        s1 = (f"{name} used {pct_less(ll['peak_rss'], pv)} peak RSS than the best peer "
              f"({labels[pc]}: {ll['peak_rss']:.1f} vs {pv:.1f} MiB) and "
              f"{pct_less(ll['avg_rss'], av)} time-averaged RSS ({labels[ac]}: "
              f"{ll['avg_rss']:.1f} vs {av:.1f} MiB).")
        parts = [f"At the end of the run it held {ll['final_rss']:.1f} MiB "
                 f"({pct_less(ll['final_rss'], fv)} than {labels[fc]}'s {fv:.1f} MiB)"]
        gc, gv = best_peer(med, peers, "frag_avg", True)
        if ll["frag_avg"] is not None and gc:
            parts.append(f"time-averaged fragmentation {ll['frag_avg']:.2f} vs "
                         f"{gv:.2f} ({labels[gc]})")
        if ll["huge_share_anon"] is not None:
            parts.append(f"on huge pages {ll['huge_share_anon']:.2f} of its heap (anonymous memory, "
                         f"time-averaged; {ll['huge_share_rss']:.2f} of RSS)")
        if "glibc" in med and med["glibc"]["kreq_s"]:
            parts.append(f"throughput {ll['kreq_s'] / med['glibc']['kreq_s'] * 100:.0f}% of glibc's")
        summary = [s1, "; ".join(parts) + "."]
        out.append("**Summary.** " + " ".join(summary))
        out.append("")

    svg = os.path.join(args.out, "rss.svg")
    err = plot(args.out, configs, labels, svg)
    out.append(f"Plot: {svg}" if err is None else f"Plot: none ({err})")
    if missing:
        out.append("")
        out.append("FAILED: no successful run of " + ", ".join(missing) + " (see logs/ in " + args.out + ")")

    text = "\n".join(out)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(text + "\n")
    # The terminal gets the same text, the summary once more at the end.
    print(text)
    if summary:
        print()
        for s in summary:
            print(s)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
