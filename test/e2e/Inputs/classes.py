#!/usr/bin/env python3
"""Reads `llama-profdata show --json` and prints one line per allocation site:
kind, demangled-ish function, calls and class (None when unsampled)."""
import json
import sys

doc = json.load(sys.stdin)
for s in doc["sites"]:
    if s["kind"].startswith(("free", "delete")):
        continue
    print("%s %s calls=%d class=%s" % (s["kind"], s["function"], s["calls"], s["class"]))
