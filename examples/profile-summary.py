#!/usr/bin/env python3
"""examples/profile-summary.py - summarise indexed profiles of the examples.

  profile-summary.py [--bin=BUILD_DIR/bin] [--list] PROFILE [HELD_OUT_PROFILE]

For each profile: contexts and samples per lifetime class, context-dependent
sites. --list prints every allocation context as
"class samples histogram: f0 < f1 < ..." (function names only, innermost
first; mangled C++ names shortened).

With a second profile (a held-out run, or another version of the program),
also compares the two the way an exact-context lookup table would: how many
of the second profile's contexts (and samples) have the same context id in
the first, and how often the first profile's class for them is right
(sample-weighted accuracy = samples whose context is known and has the same
class / all samples).
"""
import json
import os
import re
import subprocess
import sys

CLASSES = ["<=10ms", "<=100ms", "<=1s", "<=10s", "<=100s", "<=1000s", "longer/live"]


def load(profdata, path):
    out = subprocess.check_output([profdata, "show", "--json", path], text=True)
    return json.loads(out)


def short_name(fn):
    # _ZNSt6vectorIjSaIjEE17_M_realloc_insert... -> vector::_M_realloc_insert
    if not fn.startswith("_Z"):
        return fn
    try:
        dem = subprocess.check_output(["c++filt", fn], text=True).strip()
    except OSError:
        return fn
    dem = re.sub(r"<[^<>]*>", "", dem)
    for _ in range(6):
        dem = re.sub(r"<[^<>]*>", "", dem)
    dem = re.sub(r"\(.*\)", "", dem)
    return dem.replace("std::", "").replace("__cxx11::", "")


def contexts(doc):
    for site in doc["sites"]:
        if site["kind"] in ("free", "delete", "delete_sized", "delete_array", "delete_array_sized"):
            continue
        for ctx in site.get("contexts", []):
            if ctx["samples"]:
                yield site, ctx


def summarise(name, doc, listing):
    per_class_ctx = [0] * 7
    per_class_samples = [0] * 7
    n_ctx = 0
    total = 0
    for site, ctx in contexts(doc):
        k = ctx["class"]
        per_class_ctx[k] += 1
        per_class_samples[k] += ctx["samples"]
        n_ctx += 1
        total += ctx["samples"]
    sites = [s for s in doc["sites"] if s.get("samples")]
    dep = [s for s in sites if s.get("context_dependent")]
    print(f"{name}: {len(sites)} allocation sites with samples, {n_ctx} contexts, "
          f"{total} samples, {len(dep)} context-dependent sites")
    print(f"  {'class':<14} {'contexts':>8} {'samples':>9} {'% samples':>9}")
    for k in range(7):
        pct = 100.0 * per_class_samples[k] / total if total else 0.0
        print(f"  {k} {CLASSES[k]:<12} {per_class_ctx[k]:>8} {per_class_samples[k]:>9} {pct:>8.1f}%")
    if dep:
        print("  context-dependent: " + ", ".join(
            f"{short_name(s['function'])} ({s['kind']}, class {s['class']})" for s in dep))
    if listing:
        rows = []
        for site, ctx in contexts(doc):
            path = " < ".join(short_name(f["function"]) for f in ctx["frames"])
            rows.append((ctx["class"], -ctx["samples"], ctx["histogram"], path))
        for k, negs, hist, path in sorted(rows):
            print(f"  {k} {-negs:>7} {hist}: {path}")
    return {ctx["id"]: (ctx["class"], ctx["samples"]) for _, ctx in contexts(doc)}


def main(argv):
    bindir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "bin")
    listing = False
    files = []
    for a in argv[1:]:
        if a.startswith("--bin="):
            bindir = a[len("--bin="):]
        elif a == "--list":
            listing = True
        elif a.startswith("-"):
            print(__doc__, file=sys.stderr)
            return 2
        else:
            files.append(a)
    if not 1 <= len(files) <= 2:
        print(__doc__, file=sys.stderr)
        return 2
    profdata = os.path.join(bindir, "llama-profdata")
    maps = [summarise(f, load(profdata, f), listing) for f in files]
    if len(maps) == 2:
        a, b = maps
        total = sum(s for _, s in b.values())
        known = [(cid, c, s) for cid, (c, s) in b.items() if cid in a]
        known_samples = sum(s for _, _, s in known)
        right = sum(s for cid, c, s in known if a[cid][0] == c)
        print(f"exact-context lookup, {files[0]} -> {files[1]}:")
        print(f"  contexts found: {len(known)} of {len(b)} "
              f"({100.0 * len(known) / max(len(b), 1):.1f}%), samples covered "
              f"{100.0 * known_samples / max(total, 1):.1f}%")
        print(f"  sample-weighted accuracy: {100.0 * right / max(total, 1):.1f}% of all samples "
              f"({100.0 * right / max(known_samples, 1):.1f}% of covered samples)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
