#!/usr/bin/env python3
"""rss_sampler.py - run a command and sample its memory while it runs.

usage: rss_sampler.py [--interval=SEC] [--json=FILE] [--label=TEXT]
                      [--stdin=FILE] [--stdout=FILE] [--stderr=FILE]
                      [--tree] [--env VAR=value ...] -- COMMAND [ARG...]

Every INTERVAL seconds (default 0.05) it reads /proc/PID/smaps_rollup of the
command (with --tree: of the command and all its descendants, summed) and
records Rss, Anonymous and AnonHugePages. At exit it writes one JSON object (to FILE, or
stdout if no --json) with:

  wall_s          wall time from fork to exit
  peak_rss_kb     the kernel's peak RSS of the command (getrusage ru_maxrss of
                  the reaped child, i.e. VmHWM; with --tree the largest of
                  the processes, which is what the kernel keeps)
  avg_rss_kb      time-averaged RSS (trapezoids between samples; the time
                  before the first sample and after the last is not counted)
  max_sampled_rss_kb, final_rss_kb (the last sample, within one interval of exit)
  avg_anon_huge_kb, max_anon_huge_kb, final_anon_huge_kb
  avg_anon_kb     time-averaged Anonymous (the heap and other private memory,
                  without file-backed pages such as the program's code or
                  files it maps: the base of the heap's huge-page share)
  samples, exit_status (negative: killed by that signal), user_s, sys_s

Sampling costs the command nothing but the kernel's walk of its page tables
for each read of smaps_rollup. The sampler itself needs nothing but Python 3.
The command runs with the environment of the sampler plus --env settings,
and without a shell; use `env` or `sh -c` if you need one.
"""
import json
import os
import sys
import time


def parse_args(argv):
    opts = {"interval": 0.05, "json": None, "label": None, "stdin": None,
            "stdout": None, "stderr": None, "tree": False, "env": []}
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


def main():
    opts, cmd = parse_args(sys.argv[1:])
    if not cmd:
        sys.exit(__doc__)
    env = dict(os.environ)
    for kv in opts["env"]:
        k, _, v = kv.partition("=")
        env[k] = v
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
    samples = []  # (t, rss, huge, anon)
    status = None
    while True:
        wpid, st, ru = os.wait4(pid, os.WNOHANG)
        if wpid == pid:
            status, rusage = st, ru
            break
        now = time.monotonic() - t0
        rss = huge = anon = 0
        alive = False
        for p in (descendants(pid) if opts["tree"] else [pid]):
            r = rollup(p)
            if r:
                alive = True
                rss += r[0]
                huge += r[1]
                anon += r[2]
        # A zombie's smaps_rollup is empty: do not record the drop to 0.
        if alive and rss > 0:
            samples.append((now, rss, huge, anon))
        time.sleep(opts["interval"])
    wall = time.monotonic() - t0

    def avg(idx):
        if len(samples) < 2:
            return samples[0][idx] if samples else 0
        area = sum((b[0] - a[0]) * (a[idx] + b[idx]) / 2.0 for a, b in zip(samples, samples[1:]))
        return area / (samples[-1][0] - samples[0][0])

    res = {
        "label": opts["label"],
        "command": cmd,
        "wall_s": round(wall, 4),
        "peak_rss_kb": rusage.ru_maxrss,
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
    text = json.dumps(res)
    if opts["json"]:
        with open(opts["json"], "a") as f:
            f.write(text + "\n")
    else:
        print(text)
    sys.exit(0 if res["exit_status"] == 0 else 1)


if __name__ == "__main__":
    main()
