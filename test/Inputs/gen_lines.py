# Writes N deterministic pseudo-random lines (default 500000) for
# test/runtime/preload_sort.test: "word,number,word word ..." of varied length.
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 500000
rng = random.Random(4711)
alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
tokens = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
          for _ in range(30000)]
out = []
for i in range(n):
    out.append("%s%s,%d,%s\n" % (rng.choice(tokens), rng.choice(tokens),
                                  rng.getrandbits(31) - (1 << 30),
                                  " ".join(rng.choices(tokens, k=rng.randint(0, 6)))))
sys.stdout.write("".join(out))
