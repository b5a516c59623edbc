#!/usr/bin/env python3
"""ab.py - one command under two settings, alternating: A, B, A, B, ...

usage: bench/real/ab.py [-n REPS] [--build DIR] [--stdin FILE] [--fresh DIR]
                        [--interval SEC] SIDE_A SIDE_B -- COMMAND [ARG...]

A SIDE is one of
  PATH.so            preloaded (LD_PRELOAD): two runtimes, e.g. build/lib/
                     libllamalloc.so against an older build's
  VAR=VALUE[,...]    environment for the command: two settings of one
                     runtime, e.g. LLAMA_EAGER_HUGE_PAGES=0 against X=1
  -                  nothing added

Each run is measured by rss_sampler.py (--peak-exec with BUILD/bin/
llama-peakexec when it exists; without it peaks include the sampler's
~10.5 MiB, and the output says so) while holding BENCH_LOCK (default
/tmp/llama-bench.lock, as bench/real/*.sh; empty: no lock), so that the
two sides see the same machine: a busy moment falls on both. --fresh DIR
empties DIR before every run (a database directory). Prints one line per
run, then each side's medians, B over A of the medians, and the pairs'
own ratios (B's run over the A run just before it: min..max, median).

This is how the design notes' side-by-side numbers are taken (docs/
benchmarks.md): a change against the runtime before it, through the same
binary, alternating, because on a shared machine single runs of the same
program differ by 10-30% in wall time and a few percent in time-averaged
RSS.
"""
import fcntl
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
METRICS = (("peak_rss_kb", "peak"), ("avg_rss_kb", "time-averaged"),
           ("final_rss_kb", "final"), ("avg_anon_kb", "anonymous"))


def die(msg):
    print("ab.py: " + msg, file=sys.stderr)
    sys.exit(2)


def parse_side(text):
    """-> (label, environment additions) or exits."""
    if text == "-":
        return "-", {}
    if "=" not in text and text.endswith(".so"):
        if not os.path.isfile(text):
            die("%s: no such library" % text)
        return text, {"LD_PRELOAD": os.path.abspath(text)}
    env = {}
    for item in text.split(","):
        name, eq, value = item.partition("=")
        if not eq or not name or not name.replace("_", "").isalnum():
            die("side '%s': expected PATH.so, VAR=VALUE[,VAR=VALUE...] or -" % text)
        env[name] = value
    return text, env


def parse_args(argv):
    opts = {"reps": 3, "build": os.path.join(HERE, "..", "..", "build"), "stdin": None,
            "fresh": None, "interval": "0.05"}
    sides = []
    i = 0
    while i < len(argv) and argv[i] != "--":
        a = argv[i]
        if a in ("-n", "--build", "--stdin", "--fresh", "--interval"):
            if i + 1 >= len(argv):
                die("%s needs a value" % a)
            key = {"-n": "reps", "--build": "build", "--stdin": "stdin", "--fresh": "fresh",
                   "--interval": "interval"}[a]
            opts[key] = argv[i + 1]
            i += 2
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            sys.exit(0)
        else:
            sides.append(a)
            i += 1
    if len(sides) != 2 or i >= len(argv) - 1:
        die("usage: ab.py [-n REPS] [--build DIR] [--stdin FILE] [--fresh DIR] "
            "[--interval SEC] SIDE_A SIDE_B -- COMMAND [ARG...]")
    try:
        if float(opts["interval"]) <= 0:
            raise ValueError
    except ValueError:
        die("--interval must be a positive number of seconds, not '%s'" % opts["interval"])
    try:
        opts["reps"] = int(opts["reps"])
    except ValueError:
        die("-n must be a positive integer, not '%s'" % opts["reps"])
    if opts["reps"] < 1:
        die("-n must be a positive integer, not '%s'" % opts["reps"])
    return opts, [parse_side(s) for s in sides], argv[i + 1:]


def run_once(opts, env_add, command):
    if opts["fresh"]:
        shutil.rmtree(opts["fresh"], ignore_errors=True)
        os.makedirs(opts["fresh"])
    fd, out = tempfile.mkstemp(prefix="ab-", suffix=".json")
    os.close(fd)
    os.unlink(out)  # the sampler appends
    cmd = [sys.executable, os.path.join(HERE, "rss_sampler.py"), "--interval=" + opts["interval"],
           "--json=" + out, "--stdout=/dev/null"]
    peakexec = os.path.join(opts["build"], "bin", "llama-peakexec")
    if os.access(peakexec, os.X_OK):
        cmd.append("--peak-exec=" + peakexec)
    elif not opts.get("warned"):
        opts["warned"] = True
        print("ab.py: no %s: peaks include the sampler's own ~10.5 MiB" % peakexec)
    if opts["stdin"]:
        cmd.append("--stdin=" + opts["stdin"])
    for name, value in env_add.items():
        cmd += ["--env", "%s=%s" % (name, value)]
    cmd += ["--"] + command
    lock_path = os.environ.get("BENCH_LOCK", "/tmp/llama-bench.lock")
    if lock_path:
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            r = subprocess.run(cmd)
    else:
        r = subprocess.run(cmd)
    try:
        with open(out) as f:
            d = json.load(f)
    except (OSError, ValueError):
        die("the sampler wrote no result (exit %d)" % r.returncode)
    finally:
        if os.path.exists(out):
            os.unlink(out)
    if d.get("exit_status", 0) != 0:
        die("the command exited with %s" % d.get("exit_status"))
    return d


def show(d):
    parts = ["%s %.1f" % (label, d[key] / 1024.0) for key, label in METRICS if key in d]
    return "MiB " + ", ".join(parts) + ", wall %.2f s" % d["wall_s"]


def main():
    opts, sides, command = parse_args(sys.argv[1:])
    runs = ([], [])
    for rep in range(opts["reps"]):
        for s, (label, env_add) in enumerate(sides):
            d = run_once(opts, env_add, command)
            runs[s].append(d)
            print("%s %d (%s): %s" % ("AB"[s], rep + 1, label, show(d)), flush=True)
    med = []
    for s in (0, 1):
        m = {key: statistics.median(d[key] for d in runs[s])
             for key, _ in METRICS + (("wall_s", "wall"),) if all(key in d for d in runs[s])}
        med.append(m)
        print("%s median: %s" % ("AB"[s], show(m)))
    ratios = ["%s %.3f" % (label, med[1][key] / med[0][key])
              for key, label in METRICS + (("wall_s", "wall"),)
              if key in med[0] and key in med[1] and med[0][key]]
    print("B/A: " + ", ".join(ratios))
    pairs = []
    for key, label in METRICS + (("wall_s", "wall"),):
        r = sorted(b[key] / a[key] for a, b in zip(*runs) if a.get(key) and key in b)
        if r:
            pairs.append("%s %.3f..%.3f median %.3f" % (label, r[0], r[-1], statistics.median(r)))
    print("pairs: " + ", ".join(pairs))


if __name__ == "__main__":
    main()
