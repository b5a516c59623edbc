#!/usr/bin/env bash
# bench/model.sh BUILD_DIR [OUT_DIR] - the lifetime model's numbers for
# docs/benchmarks.md: accuracy on held-out runs (bundled examples, SQLite),
# generalisation webapp v1 -> v2, training time on a >= 1M-sample profile,
# and the cost of one prediction.
#
# Makes its inputs when missing: examples/profile-all.sh (kvserver, webapp
# v1/v2, two runs each, ~30 s) and bench/sqlite_profiles.sh (SQLite train,
# held-out and fully sampled profiles, ~2 min the first time). Extra
# llama-train options: TRAIN_OPTS="--hidden=64".
set -euo pipefail
BUILD=$(cd "${1:?usage: bench/model.sh BUILD_DIR [OUT_DIR]}" && pwd)
OUT=${2:-bench/out/model}
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
T=$BUILD/bin/llama-train
EX=$OUT/examples
SQ=$OUT/sqlite
[ -f "$EX/webapp-v2-heldout.llamaprof" ] || "$HERE/../examples/profile-all.sh" "$BUILD" "$EX" >&2
[ -f "$SQ/big.llamaprof" ] || "$HERE/sqlite_profiles.sh" "$BUILD" "$SQ" >&2

row() { # name train.llamaprof eval.llamaprof
  local m=$OUT/$1.llamamodel
  $T -q -o "$m" ${TRAIN_OPTS:-} "$2"
  local e; e=$($T --evaluate "$m" "$3")
  printf '| %s | %s | %s | %s |\n' "$1" \
    "$(sed -n 's/^weighted accuracy: //p' <<<"$e")" \
    "$(sed -n 's/^baseline exact-context table: //p' <<<"$e")" \
    "$(sed -n 's/^baseline always-longest (class \([0-9]\)): /\1: /p' <<<"$e")"
}
echo "| train → evaluate | model | exact-context table | always-longest |"
echo "|---|---|---|---|"
row kvserver "$EX/kvserver-train.llamaprof" "$EX/kvserver-heldout.llamaprof"
row webapp-v1 "$EX/webapp-v1-train.llamaprof" "$EX/webapp-v1-heldout.llamaprof"
row webapp-v2 "$EX/webapp-v2-train.llamaprof" "$EX/webapp-v2-heldout.llamaprof"
row sqlite "$SQ/train.llamaprof" "$SQ/heldout.llamaprof"
row webapp-v1-to-v2 "$EX/webapp-v1-train.llamaprof" "$EX/webapp-v2-heldout.llamaprof"
echo
echo "training on $SQ/big.llamaprof:"
/usr/bin/time -f "  %e s wall, %U s user, %M KB peak RSS" $T -o "$OUT/big.llamamodel" ${TRAIN_OPTS:-} --progress=none "$SQ/big.llamaprof" 2>&1 | grep -v "^llama-train: wrote"
echo
echo "prediction cost:"
"$BUILD/bin/bench_predict" "$OUT/sqlite.llamamodel" "$SQ/heldout.llamaprof" 3 | sed 's/^/  sqlite: /'
"$BUILD/bin/bench_predict" "$OUT/kvserver.llamamodel" "$EX/kvserver-heldout.llamaprof" 3 | sed 's/^/  kvserver: /'
