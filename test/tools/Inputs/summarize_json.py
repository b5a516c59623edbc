"""Prints an indexed profile's `llama-profdata show --json` output as short
lines for FileCheck, after parsing it with Python's JSON parser (so the test
also checks that the document is valid JSON)."""
import json
import sys

with open(sys.argv[1]) as f:
    doc = json.load(f)
assert doc["format"] == "llama-indexed-profile", doc["format"]
m = doc["meta"]
print("meta raw_profiles=%d total_samples=%d total_calls=%d total_bytes=%d sample_period=%d "
      "quantile=%g site_count=%d context_count=%d" % (
          m["raw_profiles"], m["total_samples"], m["total_calls"], m["total_bytes"],
          m["sample_period"], m["quantile"], m["site_count"], m["context_count"]))
for s in doc["sites"]:
    print("site %s %s calls=%d samples=%d class=%s dependent=%s %s %s:%d:%d histogram=%s" % (
        s["id"], s["kind"], s["calls"], s["samples"], s["class"], s["context_dependent"],
        s["function"], s["file"], s["line"], s["column"], s["histogram"]))
    for c in s["contexts"]:
        frames = " < ".join("%s@%s:%d:%d%s" % (f["function"], f["file"], f["line"], f["column"],
                                                " [inlined]" if f["inlined"] else "")
                            for f in c["frames"])
        print("  context %s samples=%d calls=%d bytes=%d class=%s frames=%s" % (
            c["id"], c["samples"], c["calls"], c["bytes"], c["class"], frames))
