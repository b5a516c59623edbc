#!/usr/bin/env bash
# bench/paths.sh BUILD_DIR [PAIRS] - the cost of one malloc+free pair on each
# of libllamalloc's class paths, next to the peers' malloc (docs/benchmarks.md,
# "Allocation path cost"). One binary (bin/bench_paths), run under:
#   glibc, jemalloc, tcmalloc, mimalloc       malloc (LD_PRELOAD)
#   llama static                              llama_malloc_class(n, 2)
#   llama no model                            malloc: the dynamic path off
#   llama dynamic (hit)                       malloc with LLAMA_MODEL: stack
#                                             capture + cache hit per call
# Each line is the minimum of 5 repetitions of PAIRS (default 10M) pairs;
# ratios are against mimalloc's malloc.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$here/lib.sh"
bench_use_build paths "${1:-}"
pairs=${2:-10000000}
bench_find_peers
model="$here/../tools/fuzz/corpus/model/tiny.llamamodel"
prog="$BIN/bench_paths"
[ -x "$prog" ] || { echo "paths: $prog not built" >&2; exit 2; }
[ -f "$LLAMA_SO" ] || { echo "paths: $LLAMA_SO not built" >&2; exit 2; }

# run LABEL PRELOAD MODE [VAR=value...]: prints "LABEL ns".
run() {
  local label=$1 preload=$2 mode=$3
  shift 3
  local out
  out=$(env -u LLAMA_MODEL ${preload:+LD_PRELOAD=$preload} "$@" "$prog" --mode="$mode" \
        --pairs="$pairs" --reps=5) || { echo "paths: $label failed" >&2; return 1; }
  echo "$label $(echo "$out" | sed -n 's/.*min \([0-9.]*\) ns.*/\1/p')"
}

results=$(
  run glibc "" malloc
  [ -n "$JEMALLOC_SO" ] && run jemalloc "$JEMALLOC_SO" malloc
  [ -n "$TCMALLOC_SO" ] && run tcmalloc "$TCMALLOC_SO" malloc
  [ -n "$MIMALLOC_SO" ] && run mimalloc "$MIMALLOC_SO" malloc
  run "llama-static" "$LLAMA_SO" class
  run "llama-no-model" "$LLAMA_SO" malloc
  run "llama-dynamic-hit" "$LLAMA_SO" malloc "LLAMA_MODEL=$model"
)
base=$(echo "$results" | awk '$1 == "mimalloc" { print $2 }')
printf '%-20s %10s %12s\n' path "ns/pair" "vs mimalloc"
echo "$results" | while read -r label ns; do
  if [ -n "$base" ]; then
    printf '%-20s %10.2f %11.2fx\n' "$label" "$ns" "$(echo "$ns / $base" | bc -l)"
  else
    printf '%-20s %10.2f %12s\n' "$label" "$ns" "-"
  fi
done
