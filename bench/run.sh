#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - runs every LLAMA benchmark under every allocator in
# one run and prints the comparison tables (what `make bench` does).
#
# It builds nothing: `make build` must have produced BUILD_DIR/bin/bench_* and
# BUILD_DIR/lib/libllamalloc.so. Each repetition runs every benchmark once per
# allocator, rotating the allocator order from one repetition to the next to
# spread machine noise. Results go to bench/out/ (git-ignored):
#   results.csv          raw rows: rep,config,bench,variant,metric,value
#   report.txt           the tables printed at the end
#   meta.txt             date, machine, kernel, THP mode, allocator paths
#   logs/*.log           each program's full output
#   series/*.tsv         RSS over time of bench_lifetime and bench_nolife
#   lifetime_rss.svg, nolife_rss.svg   RSS over time (when gnuplot exists)
# Progress goes to stderr.
#
# Environment:
#   BENCH_QUICK=1        shorter programs and one repetition (~2.5 minutes)
#   BENCH_REPS=N         repetitions (default 3, 1 with BENCH_QUICK)
#   BENCH_ONLY="..."     subset of: fastpath threads lifetime nolife
#   BENCH_ALLOCATORS=".."  allocators (default: glibc jemalloc tcmalloc
#                        mimalloc llama)
#   BENCH_THP_PEERS=0    skip the peers-with-huge-pages configurations
#                        (glibc-thp jemalloc-thp mimalloc-thp) that the
#                        memory benchmarks also run by default
#   BENCH_THREADS=N      threads of bench_threads (default 2)
#   BENCH_OUT=DIR        output directory (default bench/out)
#   BENCH_TIMEOUT=S      per-program time limit in seconds (default 600)
#   BENCH_THP=always     the "huge pages for all" setting: THP "always" for the
#                        whole run (written to /sys/kernel/mm/transparent_hugepage/
#                        enabled and restored at exit; the run stops with an
#                        error when that file is not writable), and the peers'
#                        huge-page configurations alongside
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

bench_use_build run "$@"
if [ "${BENCH_THP:-}" = always ]; then
  if ! bench_thp_set always; then
    bench_log "bench: BENCH_THP=always needs a writable $BENCH_THP_FILE (root); not measured"
    exit 2
  fi
  trap bench_thp_restore EXIT
  bench_log "bench: THP set to always for this run (was $BENCH_THP_SAVED; restored at exit)"
fi
OUT=${BENCH_OUT:-$HERE/out}
QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=
if [ -n "$QUICK" ]; then export BENCH_QUICK=1; REPS=${BENCH_REPS:-1}
else unset BENCH_QUICK; REPS=${BENCH_REPS:-3}; fi
ONLY=${BENCH_ONLY:-fastpath threads lifetime nolife}
THREADS=${BENCH_THREADS:-2}

for b in bench_fastpath bench_threads bench_lifetime bench_nolife; do
  if [ ! -x "$BIN/$b" ]; then
    bench_log "bench: $BIN/$b is missing; run 'make build' first"
    exit 2
  fi
done

bench_find_peers
# shellcheck disable=SC2086
SPEED_CONFIGS=$(bench_usable_configs "$LLAMA_SO" ${BENCH_ALLOCATORS:-glibc jemalloc tcmalloc mimalloc llama}) || exit 2
MEM_CONFIGS=$SPEED_CONFIGS
if [ "${BENCH_THP_PEERS:-1}" != 0 ]; then
  THP=""
  for c in $SPEED_CONFIGS; do
    case $c in glibc|jemalloc|mimalloc) THP="$THP $c-thp" ;; esac
  done
  # shellcheck disable=SC2086
  MEM_CONFIGS="$SPEED_CONFIGS $(bench_usable_configs "$LLAMA_SO" $THP)"
fi
# shellcheck disable=SC2086
set -- $SPEED_CONFIGS; SPEED=("$@")
# shellcheck disable=SC2086
set -- $MEM_CONFIGS; MEM=("$@")

mkdir -p "$OUT/logs" "$OUT/series"
rm -f "$OUT"/logs/*.log "$OUT"/series/*.tsv "$OUT"/*.svg
CSV="$OUT/results.csv"
echo "rep,config,bench,variant,metric,value" >"$CSV"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "kernel: $(uname -r)"
  echo "thp: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"
  echo "mode: ${QUICK:+quick (BENCH_QUICK=1), }$REPS repetition(s), $THREADS threads in bench_threads"
  echo "glibc: $(ldd --version 2>/dev/null | head -n 1)"
  echo "jemalloc: ${JEMALLOC_SO:-missing}"
  echo "tcmalloc: ${TCMALLOC_SO:-missing}"
  echo "mimalloc: ${MIMALLOC_SO:-missing}"
  echo "llama: $LLAMA_SO"
} >"$OUT/meta.txt"

failures=0
total_runs=0
# run CONFIG BENCH ARGS...: one program under one allocator, with progress.
run() {
  local config=$1 prog=$2; shift 2
  total_runs=$((total_runs + 1))
  bench_log "bench: [rep $rep/$REPS] $prog $* under $config"
  bench_run_one "$LLAMA_SO" "$config" "$BIN/$prog" "$CSV" "$rep" "$OUT/logs" -- "$@" \
    || failures=$((failures + 1))
}

start=$(date +%s)
for ((rep = 1; rep <= REPS; rep++)); do
  for bench in $ONLY; do
    case $bench in
      fastpath)
        for c in $(bench_rotate "$rep" "${SPEED[@]}"); do
          run "$c" bench_fastpath --variant=default
          [ "$c" = llama ] && run "$c" bench_fastpath --variant=class
        done ;;
      threads)
        for c in $(bench_rotate "$rep" "${SPEED[@]}"); do
          run "$c" bench_threads --threads="$THREADS" --variant=default
          [ "$c" = llama ] && run "$c" bench_threads --threads="$THREADS" --variant=class
        done ;;
      lifetime)
        for c in $(bench_rotate "$rep" "${MEM[@]}"); do
          run "$c" bench_lifetime --variant=class --series="$OUT/series/lifetime_${c}_rep$rep.tsv"
          run "$c" bench_lifetime --variant=class --unpaced
          if [ "$c" = llama ]; then
            run "$c" bench_lifetime --variant=default \
              --series="$OUT/series/lifetime_llama-nohint_rep$rep.tsv"
            run "$c" bench_lifetime --variant=default --unpaced
          fi
        done ;;
      nolife)
        for c in $(bench_rotate "$rep" "${MEM[@]}"); do
          run "$c" bench_nolife --series="$OUT/series/nolife_${c}_rep$rep.tsv"
          run "$c" bench_nolife --unpaced
        done ;;
      *) bench_log "bench: unknown benchmark '$bench' in BENCH_ONLY"; exit 2 ;;
    esac
  done
done
bench_log "bench: $total_runs runs in $(( $(date +%s) - start )) s, $failures failed"

python3 "$HERE/report.py" --csv "$CSV" --meta "$OUT/meta.txt" \
  --series-dir "$OUT/series" --svg-dir "$OUT" >"$OUT/report.txt"
status=$?
cat "$OUT/report.txt"
bench_log "bench: results in $OUT (results.csv, report.txt, series/, logs/$(ls "$OUT"/*.svg >/dev/null 2>&1 && echo ', *.svg'))"
[ $status -eq 0 ] && [ $failures -eq 0 ]
