# Allocation-heavy, deterministic Python workload for test/runtime/preload_python.test:
# big dicts, JSON round trips, sorting, string building. Prints checksums only,
# so its output is identical under any correct malloc.
import hashlib
import json
import random
import sys

rng = random.Random(12345)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 12)))
         for _ in range(5000)]

digest = hashlib.sha256()
for rnd in range(2):
    # A big dict of records, with nested lists and dicts of mixed lifetimes.
    table = {}
    for i in range(30000):
        w = words[rng.randrange(len(words))]
        key = "%s-%d-%d" % (w, i, rnd)
        table[key] = {
            "id": i,
            "name": w * (1 + i % 4),
            "tags": [words[(i * 7 + j) % len(words)] for j in range(i % 6)],
            "score": (i * 2654435761) % 1000003 / 7.0,
            "nested": {"a": [i, i + 1, str(i)], "b": {"c": w[::-1]}},
        }
    # JSON round trip.
    text = json.dumps(table, sort_keys=True)
    back = json.loads(text)
    assert back == table, "json round trip changed the data"
    digest.update(hashlib.sha256(text.encode()).digest())
    # Sorting by several keys.
    ordered = sorted(back.items(), key=lambda kv: (kv[1]["score"], kv[1]["name"], kv[0]))
    digest.update("".join(k for k, _ in ordered[::97]).encode())
    # Churn: delete most entries, grow again, build big strings.
    for k in list(table.keys())[::2]:
        del table[k]
    for i in range(10000):
        table["extra%d" % i] = [str(j) * 3 for j in range(i % 20)]
    big = ",".join("%s=%d" % (k, len(str(v))) for k, v in sorted(table.items()))
    digest.update(big.encode())
    counts = {}
    for w in big.split(","):
        counts[w[:3]] = counts.get(w[:3], 0) + 1
    print("round %d: %d entries, %d json bytes, %d prefixes, top %s" % (
        rnd, len(table), len(text), len(counts),
        sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]))
    del table, back, ordered, big, counts

print("checksum", digest.hexdigest())
sys.stdout.flush()
