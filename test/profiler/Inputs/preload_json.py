# JSON round trip of 100000 small dicts (realloc-heavy) for
# test/profiler/preload.test; prints checksums only. Given a path, and if
# libllamaprof is preloaded (llama_prof_dump is defined), it then writes a
# profile there: what the interposers recorded.
import ctypes
import json
import sys

d = [dict(a=i, b=str(i) * 10) for i in range(100000)]
s = json.dumps(d)
print(len(s), len(json.loads(s)), sum(map(ord, s[::97])))
sys.stdout.flush()

process = ctypes.CDLL(None)
if len(sys.argv) > 1 and hasattr(process, "llama_prof_dump"):
    if process.llama_prof_dump(sys.argv[1].encode()) != 0:
        sys.exit("preload_json.py: llama_prof_dump failed")
