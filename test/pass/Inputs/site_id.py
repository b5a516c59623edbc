#!/usr/bin/env python3
"""Independent implementation of the site/context id of include/llama/abi.h.

usage: site_id.py NAME:LINE_OFFSET:COLUMN [NAME:LINE_OFFSET:COLUMN ...]
Frames innermost first. Prints `ID: <signed decimal> <hex>`: LLVM prints i64
constants as signed decimals, tools print hex.
"""
import struct
import sys

h = 0xCBF29CE484222325
for frame in sys.argv[1:]:
    name, off, col = frame.rsplit(":", 2)
    data = name.encode() + b"\0" + struct.pack("<II", int(off) & 0xFFFFFFFF, int(col) & 0xFFFFFFFF)
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
signed = h - (1 << 64) if h >= 1 << 63 else h
print("ID: %d 0x%016x" % (signed, h))
