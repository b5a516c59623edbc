#!/usr/bin/env python3
"""rawdump.py - an independent reader of LLAMA raw profiles, for the tests.

Written from docs/profile-format.md (not from the C code), and strict: every
length is bounds-checked, sections must tile the file, padding must be zero.
Any violation exits with status 1 and "rawdump: error: ...".

  rawdump.py FILE...                  header, meta, modules, sites, stacks,
                                      samples, one fact per line
  rawdump.py --summary FILE           one line per instrumented site with
                                      its samples (sites are named
                                      function:line); samples= in the header
                                      counts their samples only, external=
                                      those of the external pseudo-sites
  rawdump.py --summary --external FILE
                                      the same, then one line per external
                                      pseudo-site (allocations by code the
                                      pass did not rewrite), named
                                      <external KIND>
  rawdump.py --symbolize FILE         stacks with frames symbolized by
                                      llvm-symbolizer (function names)
  rawdump.py --rate FILE              per site with >= 1000 calls, the
                                      observed sampling rate (1/N)
  rawdump.py --check-name PATTERN FILE
                                      the file's name must equal PATTERN with
                                      {pid} and {host} from the profile

Several files are processed in the order (header flags, pid): a parent's
profile before its forked child's.
"""
import os
import socket
import struct
import subprocess
import sys

MAGIC = b"LLAMARAW"
VERSION = 1
SEC_NAMES = {1: "META", 2: "MODULES", 3: "SITES", 4: "STACKS", 5: "SAMPLES"}
KINDS = {
    0: "malloc", 1: "calloc", 2: "realloc", 3: "reallocarray", 4: "aligned_alloc",
    5: "posix_memalign", 6: "memalign", 7: "valloc", 8: "pvalloc", 9: "strdup",
    10: "strndup", 11: "new", 12: "new_array", 13: "new_nothrow",
    14: "new_array_nothrow", 15: "new_aligned", 16: "new_array_aligned",
    17: "new_aligned_nothrow", 18: "new_array_aligned_nothrow", 32: "free",
    33: "delete", 34: "delete_array", 35: "delete_sized", 36: "delete_array_sized",
    37: "delete_aligned", 38: "delete_array_aligned", 39: "delete_sized_aligned",
    40: "delete_array_sized_aligned", 41: "delete_nothrow", 42: "delete_array_nothrow",
    43: "delete_aligned_nothrow", 44: "delete_array_aligned_nothrow",
}
HEADER_FLAGS = {1: "DUMP", 2: "FORKED"}
SAMPLE_FLAGS = {1: "LIVE", 2: "REALLOCATED", 4: "INHERITED", 8: "FREE_UNSEEN"}
SITE_EXTERNAL = 0x8
EXTERNAL_FUNCTION = "<external>"
NOT_FREED = (1 << 64) - 1


class Error(Exception):
    pass


def flag_names(value, names):
    out = [name for bit, name in sorted(names.items()) if value & bit]
    rest = value & ~sum(names)
    if rest:
        out.append("0x%x" % rest)
    return "|".join(out) if out else "0"


class Reader:
    def __init__(self, data, where):
        self.data, self.pos, self.end, self.where = data, 0, len(data), where

    def take(self, n, what):
        if n < 0 or self.pos + n > self.end:
            raise Error("%s: %s truncated at offset %d (needs %d bytes, %d left)"
                        % (self.where, what, self.pos, n, self.end - self.pos))
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt, what):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))

    def pad(self, n, what):
        p = (8 - n % 8) % 8
        if any(self.take(p, what + " padding")):
            raise Error("%s: nonzero padding in %s" % (self.where, what))


def parse(path):
    with open(path, "rb") as f:
        data = f.read()
    r = Reader(data, path)
    (magic, version, header_size, pid, start_ns, end_ns, period, nsec, flags,
     reserved) = r.unpack("<8sIIQQQQIIQ", "header")
    if magic != MAGIC:
        raise Error("%s: bad magic %r" % (path, magic))
    if version > VERSION:
        raise Error("%s: version %d is newer than %d" % (path, version, VERSION))
    if header_size < 64:
        raise Error("%s: header_size %d < 64" % (path, header_size))
    r.take(header_size - 64, "header extension")
    prof = dict(path=path, version=version, pid=pid, start_ns=start_ns, end_ns=end_ns,
                period=period, flags=flags, meta=[], modules=[], sites=[], stacks={},
                samples=[], sections=[])
    for _ in range(nsec):
        kind, count, size = r.unpack("<IIQ", "section header")
        if size % 8:
            raise Error("%s: section size %d not a multiple of 8" % (path, size))
        payload = Reader(r.take(size, "section payload"), path)
        prof["sections"].append((SEC_NAMES.get(kind, "kind%d" % kind), count, size))
        for _ in range(count if kind in SEC_NAMES else 0):
            parse_entry(kind, payload, prof)
        if kind in SEC_NAMES and payload.pos != payload.end:
            raise Error("%s: %d stray bytes after %s" % (path, payload.end - payload.pos,
                                                         SEC_NAMES[kind]))
    if r.pos != r.end:
        raise Error("%s: %d bytes after the last section" % (path, r.end - r.pos))
    return prof


def parse_entry(kind, r, prof):
    if kind == 1:
        klen, vlen = r.unpack("<II", "meta entry")
        key = r.take(klen, "meta key").decode()
        value = r.take(vlen, "meta value").decode(errors="replace")
        r.pad(klen + vlen, "meta entry")
        prof["meta"].append((key, value))
    elif kind == 2:
        bias, start, end, idlen, plen = r.unpack("<QQQII", "module")
        build_id = r.take(idlen, "build id").hex()
        mpath = r.take(plen, "module path").decode(errors="replace")
        r.pad(idlen + plen, "module")
        if start > end:
            raise Error("module %s: start > end" % mpath)
        prof["modules"].append(dict(bias=bias, start=start, end=end, build_id=build_id,
                                    path=mpath))
    elif kind == 3:
        (sid, count, nbytes, line, column, line_offset, skind, sflags, flen, filelen, ilen,
         reserved) = r.unpack("<QQQIIIHHIIII", "site")
        function = r.take(flen, "site function").decode()
        sfile = r.take(filelen, "site file").decode()
        inlined = r.take(ilen, "site inlined_at").decode()
        r.pad(flen + filelen + ilen, "site")
        prof["sites"].append(dict(id=sid, count=count, bytes=nbytes, line=line, column=column,
                                  line_offset=line_offset, kind=skind, flags=sflags,
                                  function=function, file=sfile, inlined_at=inlined))
    elif kind == 4:
        sid, depth = r.unpack("<II", "stack")
        frames = list(r.unpack("<%dQ" % depth, "stack frames"))
        if sid in prof["stacks"]:
            raise Error("duplicate stack id %d" % sid)
        prof["stacks"][sid] = frames
    elif kind == 5:
        (site_id, size, alloc_ns, free_ns, free_site, stack_id, alloc_tid, free_tid,
         sflags) = r.unpack("<QQQQQIIII", "sample")
        prof["samples"].append(dict(site_id=site_id, size=size, alloc_ns=alloc_ns,
                                    free_ns=free_ns, free_site_id=free_site,
                                    stack_id=stack_id, alloc_tid=alloc_tid, free_tid=free_tid,
                                    flags=sflags))


def site_names(prof):
    names = {}
    for s in prof["sites"]:
        if s["flags"] & SITE_EXTERNAL:
            names.setdefault(s["id"], "<external %s>" % KINDS.get(s["kind"], s["kind"]))
        else:
            names.setdefault(s["id"], "%s:%d" % (s["function"], s["line"]))
    return names


def external_id(kind):
    """llama_external_site_id (include/llama/abi.h), computed independently."""
    h = 0xcbf29ce484222325
    data = EXTERNAL_FUNCTION.encode() + b"\0" + struct.pack("<II", kind, 0)
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def validate(prof):
    """Cross-references every reader relies on."""
    names = site_names(prof)
    for s in prof["sites"]:
        if s["flags"] & SITE_EXTERNAL:
            want = (EXTERNAL_FUNCTION, "", 0, 0, 0, "", external_id(s["kind"]))
            have = (s["function"], s["file"], s["line"], s["column"], s["line_offset"],
                    s["inlined_at"], s["id"])
            if have != want:
                raise Error("external pseudo-site %r, expected %r" % (have, want))
    for s in prof["samples"]:
        if s["site_id"] not in names:
            raise Error("sample of unknown site 0x%x" % s["site_id"])
        if s["stack_id"] not in prof["stacks"]:
            raise Error("sample with unknown stack %d" % s["stack_id"])
        live = s["free_ns"] == NOT_FREED
        if live != bool(s["flags"] & 1):
            raise Error("sample LIVE flag disagrees with free_ns")
        if not live and s["free_ns"] < s["alloc_ns"]:
            raise Error("sample freed before allocated")
        if s["free_site_id"] and s["free_site_id"] not in names:
            raise Error("sample freed at unknown site 0x%x" % s["free_site_id"])


def dump(prof):
    print("header version=%d pid=%d period=%d flags=%s duration_ms=%d" % (
        prof["version"], prof["pid"], prof["period"], flag_names(prof["flags"], HEADER_FLAGS),
        (prof["end_ns"] - prof["start_ns"]) // 1000000))
    for name, count, size in prof["sections"]:
        print("section %s count=%d size=%d" % (name, count, size))
    for key, value in prof["meta"]:
        print("meta %s=%s" % (key, value))
    for m in prof["modules"]:
        print("module %s bias=0x%x start=0x%x end=0x%x build_id=%s" % (
            m["path"], m["bias"], m["start"], m["end"], m["build_id"] or "-"))
    for s in prof["sites"]:
        print("site %s:%d kind=%s count=%d bytes=%d file=%s col=%d offset=%d flags=%d "
              "inlined_at=%s id=0x%x" % (
                  s["function"], s["line"], KINDS.get(s["kind"], s["kind"]), s["count"],
                  s["bytes"], s["file"], s["column"], s["line_offset"], s["flags"],
                  s["inlined_at"] or "-", s["id"]))
    for sid in sorted(prof["stacks"]):
        print("stack %d depth=%d %s" % (sid, len(prof["stacks"][sid]),
                                        " ".join("0x%x" % f for f in prof["stacks"][sid])))
    names = site_names(prof)
    for s in prof["samples"]:
        print("sample site=%s size=%d alloc_ms=%d %s free_site=%s stack=%d tid=%d/%d "
              "flags=%s" % (
                  names.get(s["site_id"], "?"), s["size"], s["alloc_ns"] // 1000000,
                  "live" if s["free_ns"] == NOT_FREED
                  else "life_ms=%d" % ((s["free_ns"] - s["alloc_ns"]) // 1000000),
                  names.get(s["free_site_id"], "-") if s["free_site_id"] else "-",
                  s["stack_id"], s["alloc_tid"], s["free_tid"],
                  flag_names(s["flags"], SAMPLE_FLAGS)))


def summary(prof, external=False):
    """One line per site (duplicate ids summed), in source order; the
    external pseudo-sites last, with --external."""
    ext_ids = {s["id"] for s in prof["sites"] if s["flags"] & SITE_EXTERNAL}
    n_ext = sum(1 for s in prof["samples"] if s["site_id"] in ext_ids)
    print("header period=%d flags=%s samples=%d external=%d" % (
        prof["period"], flag_names(prof["flags"], HEADER_FLAGS), len(prof["samples"]) - n_ext,
        n_ext))
    sites = {}
    names = site_names(prof)
    for s in prof["sites"]:
        if s["id"] in ext_ids and not external:
            continue
        if s["id"] in sites:
            sites[s["id"]]["count"] += s["count"]
            sites[s["id"]]["bytes"] += s["bytes"]
        else:
            sites[s["id"]] = dict(s)
    per_site = {}
    for s in prof["samples"]:
        per_site.setdefault(s["site_id"], []).append(s)
    for s in sorted(sites.values(), key=lambda s: (s["id"] in ext_ids, s["file"], s["line"],
                                                   s["column"], s["kind"])):
        samples = per_site.get(s["id"], [])
        freed = [x for x in samples if x["free_ns"] != NOT_FREED]
        lives = [(x["free_ns"] - x["alloc_ns"]) // 1000000 for x in freed]
        flags = 0
        for x in samples:
            flags |= x["flags"]
        line = "site %s kind=%s count=%d bytes=%d samples=%d freed=%d live=%d flags=%s" % (
            names[s["id"]], KINDS.get(s["kind"], s["kind"]), s["count"], s["bytes"],
            len(samples), len(freed), len(samples) - len(freed),
            flag_names(flags, SAMPLE_FLAGS))
        if lives:
            line += " life_ms=%d..%d" % (min(lives), max(lives))
        if samples:
            line += " sizes=%s" % ",".join(str(z) for z in sorted({x["size"] for x in samples}))
            tids = {x["alloc_tid"] for x in samples}
            cross = sum(1 for x in freed if x["free_tid"] and x["free_tid"] != x["alloc_tid"])
            line += " alloc_tids=%d cross_frees=%d" % (len(tids), cross)
            fsites = {x["free_site_id"] for x in freed}
            line += " free_sites=%s" % ",".join(sorted(
                site_names(prof).get(f, "-") if f else "uninstrumented" for f in fsites))
        print(line)


def symbolize(prof):
    """Each stack of each sampled site, frames as function names."""
    mods = prof["modules"]
    requests = {}
    for frames in prof["stacks"].values():
        for f in frames:
            for m in mods:
                if m["start"] <= f < m["end"] and os.path.exists(m["path"]):
                    requests.setdefault(m["path"], set()).add(f - 1 - m["bias"])
    names = {}
    for path, addrs in requests.items():
        addrs = sorted(addrs)
        out = subprocess.run(["llvm-symbolizer", "--obj=" + path, "--functions=linkage",
                              "--no-inlines", "--no-demangle", "--output-style=GNU"] +
                             ["0x%x" % a for a in addrs],
                             capture_output=True, text=True, check=True).stdout.split("\n")
        for i, a in enumerate(addrs):
            names[(path, a)] = out[2 * i] if 2 * i < len(out) else "??"
    def frame_name(f):
        for m in mods:
            if m["start"] <= f < m["end"]:
                return names.get((m["path"], f - 1 - m["bias"]), os.path.basename(m["path"]))
        return "??"
    sites = site_names(prof)
    seen = set()
    for s in prof["samples"]:
        key = (s["site_id"], s["stack_id"])
        if key in seen:
            continue
        seen.add(key)
        frames = prof["stacks"][s["stack_id"]]
        print("context %s: %s" % (sites[s["site_id"]], " <- ".join(frame_name(f) for f in frames)))


def rate(prof):
    counts = {}
    for s in prof["sites"]:
        if s["kind"] < 32:  # allocation sites
            counts[s["id"]] = counts.get(s["id"], 0) + s["count"]
    sampled = {}
    for s in prof["samples"]:
        sampled[s["site_id"]] = sampled.get(s["site_id"], 0) + 1
    names = site_names(prof)
    for sid, count in sorted(counts.items(), key=lambda kv: names[kv[0]]):
        if count >= 1000:
            n = sampled.get(sid, 0)
            print("rate %s count=%d samples=%d rate=1/%.1f" % (
                names[sid], count, n, count / n if n else float("inf")))


def main(argv):
    mode = "dump"
    pattern = None
    external = False
    args = argv[1:]
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--check-name":
            mode, pattern = "name", args.pop(0)
        else:
            if opt == "--external":
                external = True
            else:
                mode = opt[2:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        profiles = [parse(path) for path in args]
        profiles.sort(key=lambda p: (p["flags"], p["pid"]))
        for prof in profiles:
            path = prof["path"]
            validate(prof)
            if mode == "dump":
                dump(prof)
            elif mode == "summary":
                summary(prof, external)
            elif mode == "symbolize":
                symbolize(prof)
            elif mode == "rate":
                rate(prof)
            elif mode == "name":
                want = pattern.format(pid=prof["pid"], host=socket.gethostname())
                if os.path.basename(path) != want:
                    raise Error("file name %s, expected %s" % (os.path.basename(path), want))
                print("name ok: %s" % want)
            else:
                raise Error("unknown mode --%s" % mode)
    except Error as e:
        print("rawdump: error: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
