#!/usr/bin/env bash
# bench/demo.sh BUILD_DIR - what `make demo` runs: the mixed-lifetime server
# workload (bench_lifetime, oracle lifetime classes) under glibc, jemalloc,
# tcmalloc, mimalloc and LLAMA, then one comparison table and one sentence on
# what LLAMA saved against the best peer. Takes about 70 seconds.
#
# The demo is a list of steps; each is one function below, run in order by
# main(). The full pipeline adds steps in front of the workload (profiling
# build, a profiling run, llama-profdata merge, llama-train, the use build)
# and makes the workload step run the use-built program instead of the
# oracle; the report step stays as it is.
#
# Environment: BENCH_QUICK=1 for a shorter run (~1 minute); BENCH_OUT=DIR
# (default bench/out); DEMO_ALLOCATORS="..." to change the allocator list.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

bench_use_build demo "$@"
OUT=${BENCH_OUT:-$HERE/out}/demo
if [ "${BENCH_QUICK:-0}" != 0 ]; then export BENCH_QUICK=1; else unset BENCH_QUICK; fi

# Step 1: everything the demo needs exists.
step_check() {
  [ -x "$BIN/bench_lifetime" ] || { bench_log "demo: $BIN/bench_lifetime missing; run 'make build'"; return 1; }
  bench_find_peers
  # shellcheck disable=SC2086
  CONFIGS=$(bench_usable_configs "$LLAMA_SO" ${DEMO_ALLOCATORS:-glibc jemalloc tcmalloc mimalloc llama}) || return 1
  mkdir -p "$OUT/logs" "$OUT/series"
  rm -f "$OUT"/logs/*.log "$OUT"/series/*.tsv "$OUT"/*.svg
  CSV="$OUT/results.csv"
  echo "rep,config,bench,variant,metric,value" >"$CSV"
  {
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) cores, $(uname -r), THP $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
  } >"$OUT/meta.txt"
}

# Step 2: the mixed-lifetime workload, once per allocator. Each allocation
# passes its true lifetime class to llama_malloc_class (plain malloc under
# the peers).
step_workload() {
  local c failed=0
  for c in $CONFIGS; do
    bench_log "demo: bench_lifetime under $c ..."
    bench_run_one "$LLAMA_SO" "$c" "$BIN/bench_lifetime" "$CSV" 1 "$OUT/logs" -- \
      --variant=class --series="$OUT/series/lifetime_${c}_rep1.tsv" || failed=1
    # The same sequence unpaced, for the throughput column.
    bench_run_one "$LLAMA_SO" "$c" "$BIN/bench_lifetime" "$CSV" 1 "$OUT/logs" -- \
      --variant=class --unpaced || failed=1
  done
  return $failed
}

# Step 3: the table and the sentence.
step_report() {
  python3 "$HERE/report.py" --demo --csv "$CSV" --meta "$OUT/meta.txt" \
    --series-dir "$OUT/series" --svg-dir "$OUT" | tee "$OUT/report.txt"
  return "${PIPESTATUS[0]}"
}

main() {
  local status=0
  step_check || return 2
  step_workload || status=1
  step_report || status=1
  bench_log "demo: results in $OUT"
  return $status
}

main
