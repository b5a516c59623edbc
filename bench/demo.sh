#!/usr/bin/env bash
# bench/demo.sh BUILD_DIR - what `make demo` runs: the whole two-stage LLAMA
# pipeline on the kvserver example (examples/kvserver), then what it saved.
#
#   1. profiling build   examples/kvserver/build.sh with llama-config --generate
#   2. workload          one run of the profiling build (seed 1) writes a raw profile
#   3. merge             llama-profdata merge -> kvserver.llamaprof
#   4. train             llama-train -> kvserver.llamamodel
#   5. use build         examples/kvserver/build.sh with
#                        llama-config --use=kvserver.llamaprof --model=kvserver.llamamodel
#   6. workload          the evaluation run (seed 2) under every allocator,
#                        DEMO_RUNS times each, in rotating order
#   7. report            bench/demo_report.py: the table (terminal and
#                        results.md), ratios, RSS over time (rss.svg), a summary
#
# The allocators: glibc, jemalloc, tcmalloc and mimalloc run the plain build
# (LD_PRELOAD for the peers); "llama" is the use build (libllamalloc linked,
# classes from the compiler); "llama-dynamic" is the plain build with
# libllamalloc preloaded and LLAMA_MODEL set (the paper's compiler-free
# system: every class from the runtime's stack hash and model). Until the use
# build exists, "llama" is a stand-in (the plain build under libllamalloc.so,
# no classes) and the report says so.
#
# Environment:
#   DEMO_SECONDS=S       logical seconds per run (default 10)
#   DEMO_RUNS=N          evaluation runs per allocator; medians are reported (default 3)
#   DEMO_ALLOCATORS="…"  subset/order of: glibc jemalloc tcmalloc mimalloc
#                        jemalloc-thp llama llama-dynamic
#                        (default: all but jemalloc-thp)
#   DEMO_SKIP_MISSING=1  skip peers that are not installed instead of failing
#   DEMO_WORKLOAD="…"    kvserver options (default below)
#   DEMO_PROF_SAMPLE=N   LLAMA_PROF_SAMPLE of the profiling run (default 100)
#   DEMO_OUT=DIR         output directory (default BUILD_DIR/demo)
#   DEMO_THP_ALWAYS=0    skip the second setting, "huge pages for all" (THP
#                        always for every allocator; measured by default when
#                        /sys/kernel/mm/transparent_hugepage/enabled is
#                        writable, and restored afterwards)
# Takes about 4 minutes with the defaults.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"

bench_use_build demo "$@"
OUT=${DEMO_OUT:-$BUILD_DIR/demo}
DEMO_SECONDS=${DEMO_SECONDS:-10}
DEMO_RUNS=${DEMO_RUNS:-3}
DEMO_PROF_SAMPLE=${DEMO_PROF_SAMPLE:-100}
# 200 regular clients at 50 requests/s each, and a flash crowd of 3000 more
# that connect between 1 s and 3 s and stay 2-5 s each: sessions, buffers and
# queued replies come and go with the crowd while the keys it writes stay for
# good. By 8 s the crowd has left; the end of the run shows what each
# allocator gives back.
DEMO_WORKLOAD=${DEMO_WORKLOAD:---clients=200 --rate=50 --burst=3000 --burst-at=1000 --burst-ms=2000 --burst-every=0}
read -ra WORKLOAD <<<"$DEMO_WORKLOAD"
PROFILE_SEED=1
EVAL_SEED=2
ALLOCATORS=${DEMO_ALLOCATORS:-glibc jemalloc tcmalloc mimalloc llama llama-dynamic}
KV=$ROOT/examples/kvserver
STAGES=7
LOG=$OUT/demo.log

stage() { printf '[%s/%s] %s\n' "$1" "$STAGES" "$2" >&2; }
info() { printf '      %s\n' "$*" >&2; }
die() {
  printf 'demo: error: %s\n' "$*" >&2
  [ -s "$LOG" ] && printf 'demo: the last lines of %s:\n' "$LOG" >&2 && tail -n 15 "$LOG" | sed 's/^/    /' >&2
  exit 1
}
# Runs a command with its output appended to the log; prints it when it fails.
logged() {
  printf '$ %s\n' "$*" >>"$LOG"
  "$@" >>"$LOG" 2>&1
}
elapsed() { echo "$(($(date +%s) - $1)) s"; }

# ---- 0: what the demo needs ------------------------------------------------
step_check() {
  local t
  for t in llama-config llama-profdata llama-train; do
    [ -x "$BIN/$t" ] || die "$BIN/$t missing; run 'make build'"
  done
  [ -f "$LLAMA_SO" ] || die "$LLAMA_SO missing; run 'make build'"
  command -v clang-19 >/dev/null || die "clang-19 not found (scripts/install-deps.sh installs it)"
  case $DEMO_SECONDS in '' | *[!0-9]* | 0) die "DEMO_SECONDS must be a positive integer" ;; esac
  case $DEMO_RUNS in '' | *[!0-9]* | 0) die "DEMO_RUNS must be a positive integer" ;; esac
  rm -rf "$OUT"
  mkdir -p "$OUT/logs" "$OUT/series" "$OUT/profile"
  : >"$LOG"
  bench_find_peers
  CONFIGS=()
  local c so
  for c in $ALLOCATORS; do
    case $c in
      glibc | llama | llama-dynamic) CONFIGS+=("$c"); continue ;;
      jemalloc | jemalloc-thp) so=$JEMALLOC_SO ;;
      tcmalloc) so=$TCMALLOC_SO ;;
      mimalloc) so=$MIMALLOC_SO ;;
      *) die "unknown allocator '$c' in DEMO_ALLOCATORS" ;;
    esac
    if [ -z "$so" ] || [ ! -f "$so" ]; then
      [ "${DEMO_SKIP_MISSING:-0}" != 0 ] || die "$c is not installed (scripts/install-deps.sh installs it; DEMO_SKIP_MISSING=1 skips it)"
      info "warning: $c is not installed; skipping it"
      continue
    fi
    CONFIGS+=("$c")
  done
  {
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) CPUs, Linux $(uname -r), transparent huge pages: $(cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo unknown)"
    echo "workload: kvserver $DEMO_WORKLOAD --seconds=$DEMO_SECONDS; profiled with --seed=$PROFILE_SEED (LLAMA_PROF_SAMPLE=$DEMO_PROF_SAMPLE), measured with --seed=$EVAL_SEED, $DEMO_RUNS run(s) each"
    echo "jemalloc: $JEMALLOC_SO"
    echo "tcmalloc: $TCMALLOC_SO"
    echo "mimalloc: $MIMALLOC_SO"
  } >"$OUT/meta.txt"
}

# ---- 1: the profiling build ------------------------------------------------
step_generate_build() {
  local t0
  t0=$(date +%s)
  stage 1 "profiling build: LLAMA_CONFIG=--generate examples/kvserver/build.sh (and a plain build for the peers)"
  LLAMA_CONFIG=--generate logged "$KV/build.sh" "$BUILD_DIR" "$OUT/generate" ||
    die "the profiling build failed"
  logged "$KV/build.sh" "$BUILD_DIR" "$OUT/plain" || die "the plain build failed"
  info "$OUT/generate/kvserver, $OUT/plain/kvserver ($(elapsed "$t0"))"
}

# ---- 2: the profiling run --------------------------------------------------
step_profile_run() {
  local t0 line
  t0=$(date +%s)
  stage 2 "profiling run: kvserver --seed=$PROFILE_SEED --seconds=$DEMO_SECONDS $DEMO_WORKLOAD"
  (cd "$OUT/profile" && env LLAMA_PROF_FILE="$OUT/profile/kvserver-%p.profraw" \
    LLAMA_PROF_SAMPLE="$DEMO_PROF_SAMPLE" "$OUT/generate/kvserver" --seed=$PROFILE_SEED \
    --seconds="$DEMO_SECONDS" "${WORKLOAD[@]}") >"$OUT/logs/profile-run.log" 2>&1 ||
    die "the profiling run failed (see $OUT/logs/profile-run.log)"
  line=$(grep -o 'requests=[0-9]*' "$OUT/logs/profile-run.log" | head -n 1)
  info "${line:-?} in $(elapsed "$t0"); raw profile in $OUT/profile"
}

# ---- 3: merge --------------------------------------------------------------
step_merge() {
  stage 3 "merge: llama-profdata merge -o kvserver.llamaprof"
  local raws=("$OUT"/profile/*.profraw)
  [ -f "${raws[0]}" ] || die "the profiling run wrote no raw profile"
  logged "$BIN/llama-profdata" merge -o "$OUT/kvserver.llamaprof" "${raws[@]}" ||
    die "llama-profdata merge failed"
  "$BIN/llama-profdata" show --top=40 --contexts=4 --depth=6 "$OUT/kvserver.llamaprof" \
    >"$OUT/profile-show.txt" 2>&1
  info "$(head -n 1 "$OUT/profile-show.txt" | sed 's/^[^:]*: //')"
}

# ---- 4: train --------------------------------------------------------------
step_train() {
  stage 4 "train: llama-train -o kvserver.llamamodel kvserver.llamaprof"
  logged "$BIN/llama-train" --progress=log -o "$OUT/kvserver.llamamodel" "$OUT/kvserver.llamaprof" ||
    die "llama-train failed"
  info "$(grep 'held-out' "$LOG" | tail -n 1 | sed 's/^llama-train: //')"
}

# ---- 5: the use build ------------------------------------------------------
# Sets USE_BUILD=1 when llama-config --use works; otherwise the "llama" row
# is the stand-in. Prints where the allocations' classes came from, from a
# one-second run with LLAMA_STATS=1.
step_use_build() {
  local use="--use=$OUT/kvserver.llamaprof --model=$OUT/kvserver.llamamodel" err
  stage 5 "use build: LLAMA_CONFIG=\"$use\" examples/kvserver/build.sh"
  USE_BUILD=0
  # shellcheck disable=SC2086
  if ! err=$("$BIN/llama-config" $use --cflags 2>&1 >/dev/null); then
    info "llama-config --use is not available here: $(printf '%s\n' "$err" | head -n 1 | sed 's/^llama-config: //')"
    info "STAND-IN: the 'llama' row is the plain build under LD_PRELOAD=libllamalloc.so (no classes)"
    return 0
  fi
  LLAMA_CONFIG=$use logged "$KV/build.sh" "$BUILD_DIR" "$OUT/use" || die "the use build failed"
  USE_BUILD=1
  local stats
  stats=$(cd "$OUT" && env LLAMA_STATS=1 "$OUT/use/kvserver" --seed=$EVAL_SEED --seconds=1 \
    "${WORKLOAD[@]}" 2>&1 >/dev/null | grep '^allocations:')
  info "$OUT/use/kvserver; in a 1 s run, ${stats:-allocations: (no LLAMA_STATS report: is libllamalloc linked?)}"
}

# Does the runtime take a model for its dynamic path (LLAMA_MODEL)? Only then
# is the llama-dynamic row what it claims to be.
dynamic_supported() {
  local stats
  stats=$(cd "$OUT" && env LD_PRELOAD="$LLAMA_SO" LLAMA_MODEL="$OUT/kvserver.llamamodel" \
    LLAMA_STATS=1 "$OUT/plain/kvserver" --seed=$EVAL_SEED --seconds=1 "${WORKLOAD[@]}" 2>&1 >/dev/null |
    grep '^allocations:')
  echo "$stats" | grep -Eq 'predicted [1-9]'
}

# ---- 6: the evaluation runs ------------------------------------------------
# config_cmd CONFIG: sets RUN_ENV (array) and RUN_BIN for one configuration.
config_cmd() {
  RUN_ENV=()
  RUN_BIN=$OUT/plain/kvserver
  case $1 in
    glibc) ;;
    jemalloc) RUN_ENV=(LD_PRELOAD="$JEMALLOC_SO") ;;
    jemalloc-thp) RUN_ENV=(LD_PRELOAD="$JEMALLOC_SO" "MALLOC_CONF=thp:always,metadata_thp:always") ;;
    tcmalloc) RUN_ENV=(LD_PRELOAD="$TCMALLOC_SO") ;;
    mimalloc) RUN_ENV=(LD_PRELOAD="$MIMALLOC_SO") ;;
    llama)
      if [ "$USE_BUILD" = 1 ]; then RUN_BIN=$OUT/use/kvserver; else RUN_ENV=(LD_PRELOAD="$LLAMA_SO"); fi ;;
    llama-dynamic) RUN_ENV=(LD_PRELOAD="$LLAMA_SO" LLAMA_MODEL="$OUT/kvserver.llamamodel") ;;
  esac
}

# run_one CONFIG REP MODE: MODE paced (memory, with the series) or unpaced
# (throughput).
run_one() {
  local c=$1 rep=$2 mode=$3 log extra=()
  log=$RES/logs/${c}_rep${rep}_${mode}.log
  config_cmd "$c"
  if [ "$mode" = paced ]; then extra=(--series="$RES/series/${c}_rep${rep}.tsv"); else extra=(--unpaced); fi
  # The runtime's accounting at the RSS peak and at the end (examples/kvserver/memstat.c).
  if [ "$c" = llama ] && [ "$mode" = paced ] && [ "$rep" = 1 ]; then
    RUN_ENV+=(KVSERVER_LLAMA_STATS="$RES/llama-accounting")
  fi
  # shellcheck disable=SC2086
  (cd "$OUT" && env "${RUN_ENV[@]}" timeout $((DEMO_SECONDS * 10 + 120)) "$RUN_BIN" \
    --seed=$EVAL_SEED --seconds="$DEMO_SECONDS" "${WORKLOAD[@]}" --memstats "${extra[@]}") >"$log" 2>&1
  local status=$?
  if [ $status -ne 0 ] || grep -q 'ERROR: ld.so' "$log"; then
    info "FAILED: $c run $rep ($mode), exit status $status; see $log"
    tail -n 5 "$log" | sed 's/^/        /' >&2
    return 1
  fi
}

step_workload() {
  local rep c i failed=0 t0 n=${#CONFIGS[@]}
  if [[ " ${CONFIGS[*]} " == *" llama-dynamic "* ]] && ! dynamic_supported; then
    info "libllamalloc does not predict from LLAMA_MODEL yet: skipping the llama-dynamic row"
    local keep=() x
    for x in "${CONFIGS[@]}"; do [ "$x" = llama-dynamic ] || keep+=("$x"); done
    CONFIGS=("${keep[@]}")
    n=${#CONFIGS[@]}
  fi
  stage 6 "workload: kvserver --seed=$EVAL_SEED --seconds=$DEMO_SECONDS $DEMO_WORKLOAD under ${CONFIGS[*]}; $DEMO_RUNS run(s) each"
  for ((rep = 1; rep <= DEMO_RUNS; rep++)); do
    for ((i = 0; i < n; i++)); do
      c=${CONFIGS[$(((i + rep - 1) % n))]}
      t0=$(date +%s)
      if ! run_one "$c" "$rep" paced || ! run_one "$c" "$rep" unpaced; then
        failed=1
        continue
      fi
      info "run $rep/$DEMO_RUNS $(printf '%-13s' "$c") $(sed -n 's/.*hwm_kib=\([0-9]*\).*avg_rss_kib=\([0-9]*\).*/peak \1 KiB, avg \2 KiB/p' "$RES/logs/${c}_rep${rep}_paced.log") ($(elapsed "$t0"))"
    done
  done
  printf '%s\n' "${CONFIGS[@]}" >"$RES/configs.txt"
  return $failed
}

# ---- 7: the report ---------------------------------------------------------
step_report() {
  stage 7 "report${RES_LABEL:+ ($RES_LABEL)}: $RES/results.md, $RES/rss.svg"
  local standin=() f when
  [ "$USE_BUILD" = 1 ] || standin=(--llama-standin)
  local meta=$OUT/meta.txt
  if [ "$RES" != "$OUT" ]; then
    # This setting's THP mode, in a copy of the metadata.
    meta=$RES/meta.txt
    sed "s|transparent huge pages: .*|transparent huge pages: $(cat "$BENCH_THP_FILE" 2>/dev/null)|" "$OUT/meta.txt" >"$meta"
  fi
  python3 "$HERE/demo_report.py" --out "$RES" --meta "$meta" \
    --configs "$RES/configs.txt" --runs "$DEMO_RUNS" "${standin[@]}" || return 1
  for when in peak end; do
    f=$RES/llama-accounting.$when
    [ -s "$f" ] || continue
    info "LLAMA's accounting of its heap at the $([ $when = peak ] && echo 'RSS peak' || echo 'end of the run') (run 1; $f):"
    sed -n '/^memory (resident bytes by cause)/,$p' "$f" | sed 's/^/        /' >&2
  done
}

# ---- 8: huge pages for all -------------------------------------------------
# The paper's setting: THP "always" for every allocator. Needs a writable
# /sys/kernel/mm/transparent_hugepage/enabled (root); restored on exit.
step_thp_always() {
  if [ "${DEMO_THP_ALWAYS:-1}" = 0 ]; then
    info "huge pages for all: skipped (DEMO_THP_ALWAYS=0)"
    return 0
  fi
  trap bench_thp_restore EXIT
  if ! bench_thp_set always; then
    info "huge pages for all: not measured (needs a writable $BENCH_THP_FILE, i.e. root)"
    return 0
  fi
  RES=$OUT/thp-always RES_LABEL="huge pages for all: THP always"
  mkdir -p "$RES/logs" "$RES/series"
  info "huge pages for all: THP set to always (was $BENCH_THP_SAVED), the workload again"
  local status=0
  step_workload || status=1
  step_report || status=1
  bench_thp_restore
  info "THP restored to $(bench_thp_mode)"
  return $status
}

main() {
  local status=0 t0
  t0=$(date +%s)
  step_check
  step_generate_build
  step_profile_run
  step_merge
  step_train
  step_use_build
  RES=$OUT RES_LABEL=
  step_workload || status=1
  step_report || status=1
  step_thp_always || status=1
  info "done in $(elapsed "$t0"); everything is in $OUT"
  return $status
}

main
