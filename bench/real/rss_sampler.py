#!/usr/bin/env python3
"""rss_sampler.py - run a command and sample its memory while it runs.

usage: rss_sampler.py [--interval=SEC] [--json=FILE] [--label=TEXT]
                      [--stdin=FILE] [--stdout=FILE] [--stderr=FILE]
                      [--tree] [--live=FILE] [--peak-exec=WRAPPER]
                      [--env VAR=value ...] -- COMMAND [ARG...]

Every INTERVAL seconds (default 0.05) it reads /proc/PID/smaps_rollup of the
command (with --tree: of the command and all its descendants, summed) and
records Rss, Anonymous and AnonHugePages. At exit it writes one JSON object (to FILE, or
stdout if no --json) with:

  wall_s          wall time from fork to exit
  peak_rss_kb     the kernel's peak RSS of the command (getrusage ru_maxrss of
                  the reaped child, i.e. VmHWM; with --tree the largest of
                  the processes, which is what the kernel keeps). A peak
                  includes the image a process had before exec: forked from
                  this Python process, every command's peak is at least the
                  interpreter's ~10.5 MiB. With --peak-exec=WRAPPER (the
                  build's bin/llama-peakexec, bench/real/peakexec.c) the
                  command is forked from that small static program instead,
                  which reports the command's own ru_maxrss; the samples are
                  of the command (and with --tree of its descendants), not
                  of the wrapper; the peak is then never below the largest
                  sample (the kernel's high-water mark lags by up to 64
                  pages a thread)
  peak_rss_source "peakexec" or "fork" (the ~10.5 MiB floor applies)
  avg_rss_kb      time-averaged RSS (trapezoids between samples; the time
                  before the first sample and after the last is not counted)
  max_sampled_rss_kb, final_rss_kb (the last sample, within one interval of exit)
  avg_anon_huge_kb, max_anon_huge_kb, final_anon_huge_kb
  avg_anon_kb     time-averaged Anonymous (the heap and other private memory,
                  without file-backed pages such as the program's code or
                  files it maps: the base of the heap's huge-page share)
  samples, exit_status (negative: killed by that signal), user_s, sys_s

With --live=FILE (the command runs under LD_PRELOAD=liblivebytes.so with
LLAMA_LIVE_FILE=FILE: bench/real/livebytes.c, which keeps the program's live
requested bytes exactly and publishes them with their peak in FILE's first
page) it also reads FILE at every sample (removed before the command starts;
until the shim has published, live counts as 0) and adds:

  peak_live_bytes, peak_live_kb    the shim's exact peak of live bytes
  final_live_bytes, final_live_kb  its exact live bytes when the command
                                   exited (FILE read after the exit)
  avg_live_kb     time-averaged live bytes over the samples
  bound_avg_kb, bound_final_kb, bound_peak_kb
                  the physical bound: at each sample, live bytes rounded up
                  to whole 4 KiB pages plus the sample's file-backed RSS
                  (Rss - Anonymous: the program's code, libraries and the
                  files it maps, which it pays under any allocator);
                  bound_avg_kb is its time average (trapezoids, as
                  avg_rss_kb), bound_final_kb its value at the last sample
                  (the instant of final_rss_kb), bound_peak_kb the larger
                  of its maximum over the samples and the exact peak live
                  rounded up plus the smallest file-backed RSS sampled (the
                  peak between two samples is not missed)
  live_ok         false when the shim never published (then the live and
                  bound fields are null)

The bound is a lower bound of any allocator's RSS: heap bytes the program
holds, each on a page that must be resident, and nothing for the
allocator's metadata, alignment or free space. It leaves out anonymous
memory that does not come from malloc (thread stacks, the program's own
mmap, the data and bss segments of the program and its libraries, which
are Anonymous once written), so RSS under any allocator can be above it
by that much even with no fragmentation at all. A few KiB of the
file-backed RSS are the measurement's own (FILE's page, the shim's code);
the shim's 16-byte block headers are not in the bound.

Sampling costs the command nothing but the kernel's walk of its page tables
for each read of smaps_rollup. The sampler itself needs nothing but Python 3.
The command runs with the environment of the sampler plus --env settings,
and without a shell; use `env` or `sh -c` if you need one.
"""
import json
import os
import struct
import sys
import time

LIVE_MAGIC = 0x315459424556494C  # "LIVEBYT1", bench/real/livebytes.c
PAGE_KB = 4


class LivePage:
    """Reads liblivebytes.so's page: (live, peak) in bytes, or None until
    the shim has published (file missing, short, or no magic yet)."""

    def __init__(self, path):
        self.path = path
        self.fd = None

    def read(self):
        if self.fd is None:
            try:
                self.fd = os.open(self.path, os.O_RDONLY)
            except OSError:
                return None
        try:
            data = os.pread(self.fd, 24, 0)
        except OSError:
            return None
        if len(data) < 24:
            return None
        magic, live, peak = struct.unpack("=QQQ", data)
        return (live, peak) if magic == LIVE_MAGIC else None


def pages_kb(nbytes):
    """nbytes rounded up to whole 4 KiB pages, in KiB."""
    return (nbytes + PAGE_KB * 1024 - 1) // (PAGE_KB * 1024) * PAGE_KB


def parse_args(argv):
    opts = {"interval": 0.05, "json": None, "label": None, "stdin": None,
            "stdout": None, "stderr": None, "tree": False, "env": [],
            "live": None, "peak-exec": None}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return opts, argv[i + 1:]
        if a == "--tree":
            opts["tree"] = True
        elif a == "--env":
            i += 1
            opts["env"].append(argv[i])
        elif a.startswith("--") and "=" in a:
            k, v = a[2:].split("=", 1)
            if k not in opts or k in ("tree", "env"):
                sys.exit("rss_sampler: unknown option %s" % a)
            opts[k] = float(v) if k == "interval" else v
        else:
            return opts, argv[i:]
        i += 1
    return opts, []


def rollup(pid):
    """(rss_kb, anon_huge_kb, anon_kb) of one process, or None if it is gone."""
    rss = huge = anon = 0
    try:
        with open("/proc/%d/smaps_rollup" % pid, "rb") as f:
            for line in f:
                if line.startswith(b"Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith(b"AnonHugePages:"):
                    huge = int(line.split()[1])
                elif line.startswith(b"Anonymous:"):
                    anon = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return rss, huge, anon


def descendants(pid):
    out, pending = [], [pid]
    while pending:
        p = pending.pop()
        out.append(p)
        try:
            for t in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, t)) as f:
                    pending.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass
    return out


def live_fields(final, samples, avg):
    """The --live fields; final is the page read after the command exited."""
    keys = ("peak_live_bytes", "peak_live_kb", "final_live_bytes", "final_live_kb",
            "avg_live_kb", "bound_avg_kb", "bound_final_kb", "bound_peak_kb")
    if final is None:
        return dict({k: None for k in keys}, live_ok=False)
    final_live, peak_live = final

    def bound(s):  # KiB: live on whole pages plus file-backed RSS
        return pages_kb(s[4]) + s[1] - s[3]

    min_file = min((s[1] - s[3] for s in samples), default=0)
    return {
        "peak_live_bytes": peak_live,
        "peak_live_kb": round(peak_live / 1024.0),
        "final_live_bytes": final_live,
        "final_live_kb": round(final_live / 1024.0),
        "avg_live_kb": round(avg(4) / 1024.0),
        "bound_avg_kb": round(avg(None, bound)),
        "bound_final_kb": bound(samples[-1]) if samples else pages_kb(final_live),
        "bound_peak_kb": max(max((bound(s) for s in samples), default=0),
                             pages_kb(peak_live) + min_file),
        "live_ok": True,
    }


def main():
    opts, cmd = parse_args(sys.argv[1:])
    if not cmd:
        sys.exit(__doc__)
    env = dict(os.environ)
    for kv in opts["env"]:
        k, _, v = kv.partition("=")
        env[k] = v
    live = None
    if opts["live"]:
        # An earlier run's page must not be read as this one's.
        try:
            os.unlink(opts["live"])
        except FileNotFoundError:
            pass
        live = LivePage(opts["live"])
    wrapper = opts["peak-exec"]
    result = None
    if wrapper:
        result = "%s.peak.%d" % (opts["json"] or "/tmp/rss_sampler", os.getpid())
        try:
            os.unlink(result)
        except FileNotFoundError:
            pass
        cmd = [wrapper, result] + cmd
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            for fd, path, mode in ((0, opts["stdin"], os.O_RDONLY),
                                   (1, opts["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                                   (2, opts["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
                if path:
                    f = os.open(path, mode, 0o644)
                    os.dup2(f, fd)
                    os.close(f)
            os.execvpe(cmd[0], cmd, env)
        except OSError as e:
            os.write(2, ("rss_sampler: %s: %s\n" % (cmd[0], e)).encode())
        os._exit(127)
    samples = []  # (t, rss, huge, anon, live bytes)
    status = None
    while True:
        wpid, st, ru = os.wait4(pid, os.WNOHANG)
        if wpid == pid:
            status, rusage = st, ru
            break
        now = time.monotonic() - t0
        rss = huge = anon = 0
        alive = False
        if wrapper:  # the command is the wrapper's child
            procs = descendants(pid)[1:]
            if not opts["tree"]:
                procs = procs[:1]
        else:
            procs = descendants(pid) if opts["tree"] else [pid]
        for p in procs:
            r = rollup(p)
            if r:
                alive = True
                rss += r[0]
                huge += r[1]
                anon += r[2]
        # A zombie's smaps_rollup is empty: do not record the drop to 0.
        if alive and rss > 0:
            lp = live.read() if live else None
            samples.append((now, rss, huge, anon, lp[0] if lp else 0))
        time.sleep(opts["interval"])
    wall = time.monotonic() - t0
    peak, source = rusage.ru_maxrss, "fork"
    if wrapper:
        try:
            with open(result) as f:
                peak, source = int(f.read().split()[1]), "peakexec"
            # The kernel's high-water mark lags by its per-thread counter
            # batching (up to 64 pages a thread): never below a sample.
            peak = max([peak] + [smp[1] for smp in samples])
            os.unlink(result)
        except (OSError, ValueError, IndexError):
            pass  # the wrapper failed before reporting: fall back

    def avg(idx, f=None):
        f = f or (lambda s: s[idx])
        if len(samples) < 2:
            return f(samples[0]) if samples else 0
        area = sum((b[0] - a[0]) * (f(a) + f(b)) / 2.0 for a, b in zip(samples, samples[1:]))
        return area / (samples[-1][0] - samples[0][0])

    res = {
        "label": opts["label"],
        "command": cmd,
        "wall_s": round(wall, 4),
        "peak_rss_kb": peak,
        "peak_rss_source": source,
        "avg_rss_kb": round(avg(1)),
        "max_sampled_rss_kb": max((s[1] for s in samples), default=0),
        "final_rss_kb": samples[-1][1] if samples else 0,
        "avg_anon_huge_kb": round(avg(2)),
        "max_anon_huge_kb": max((s[2] for s in samples), default=0),
        "final_anon_huge_kb": samples[-1][2] if samples else 0,
        "avg_anon_kb": round(avg(3)),
        "samples": len(samples),
        "exit_status": os.waitstatus_to_exitcode(status),
        "user_s": round(rusage.ru_utime, 3),
        "sys_s": round(rusage.ru_stime, 3),
    }
    if live:
        res.update(live_fields(live.read(), samples, avg))
    text = json.dumps(res)
    if opts["json"]:
        with open(opts["json"], "a") as f:
            f.write(text + "\n")
    else:
        print(text)
    sys.exit(0 if res["exit_status"] == 0 else 1)


if __name__ == "__main__":
    main()
