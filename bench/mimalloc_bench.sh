#!/usr/bin/env bash
# bench/mimalloc_bench.sh BUILD_DIR MB_SRC OUT_DIR [program ...] - LLAMA next
# to glibc, jemalloc, tcmalloc and mimalloc on the programs of mimalloc-bench
# (https://github.com/daanx/mimalloc-bench), each allocator LD_PRELOADed into
# the same binaries, so that LLAMA's memory use and speed can be compared with
# the peers' on the benchmarks the allocator literature uses.
#
#   BUILD_DIR  LLAMA's build directory: BUILD_DIR/lib/libllamalloc.so (the
#              allocator measured) and BUILD_DIR/bin/llama-peakexec
#              (rss_sampler.py --peak-exec: peaks without the forked
#              Python's ~10.5 MiB floor)
#   MB_SRC     a mimalloc-bench checkout, or an extracted tree, holding
#              bench/ (e.g. `git -C REPO archive HEAD bench | tar -x -C MB_SRC`)
#   OUT_DIR    gets the build (OUT_DIR/build), the raw results
#              (OUT_DIR/res/PROGRAM/ALLOC.rN.{json,out,err}, plus
#              ALLOC.rN.timeout for a run the watchdog killed), the log
#              (OUT_DIR/log), the setup (OUT_DIR/setup.txt) and the report
#              (OUT_DIR/results.md, bench/mimalloc_bench_report.py)
#   program    any of the 16 below (default: all of them)
#
# Steps:
#   1. configures MB_SRC/bench with CMake (CC/CXX, default gcc/g++, -O2
#      -DNDEBUG) into OUT_DIR/build and builds only the targets the chosen
#      programs need. sh6bench and sh8bench are not among them: their sources
#      are not in the repository (upstream downloads them from
#      microquill.com). A CMake hook (OUT_DIR/build-hook.cmake, through
#      CMAKE_PROJECT_INCLUDE) turns every add_executable whose sources are
#      missing into a stub target that is never built, since CMake otherwise
#      refuses to generate the build at all. MB_SRC is not modified.
#   2. takes `flock BENCH_LOCK` (default /tmp/llama-bench.lock, shared with
#      bench/real/*.sh so that benchmarks on one machine never overlap; it is
#      not held during the build) and, for each program, ROUNDS rounds; in
#      each round every allocator runs once (the order rotated by one each
#      round to spread order effects). Each run is
#        python3 bench/real/rss_sampler.py --interval=0.02
#          --peak-exec=BUILD_DIR/bin/llama-peakexec --json=... [--env
#          LD_PRELOAD=...] -- COMMAND
#      run in OUT_DIR/res/PROGRAM, with a watchdog that kills the program
#      (not the sampler, which then records the signal) after TMO seconds.
#   3. writes OUT_DIR/results.md with bench/mimalloc_bench_report.py.
#
# The command lines are mimalloc-bench's bench.sh's, with $procs = PROCS.
# Peers are found the way bench/lib.sh's bench_find_peers does (Debian
# packages, then the loader cache); a missing peer is skipped with a
# warning. rbstress needs `ruby`; without it both rbstress programs are
# skipped with a message. Results of the programs measured now replace
# earlier ones in OUT_DIR/res; other programs' results are kept and
# reported too.
#
# Environment: ROUNDS (3), TMO (watchdog seconds per run, 120), PROCS
# (threads for the N variants, 2), CC (gcc), CXX (g++), BENCH_LOCK
# (/tmp/llama-bench.lock; empty: no lock), ALLOCATORS (glibc jemalloc
# tcmalloc mimalloc llama).
#
# Measurements are only as good as the machine is quiet: rss_sampler.py
# measures wall time, and the programs' own speed metrics are timings too.
set -euo pipefail

HERE_MB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE_MB/lib.sh"

mb_log() { bench_log "mimalloc_bench: $*"; }
die() { mb_log "error: $*"; exit 2; }

# The programs, in report order: name, build target ("-": none), stdin
# ("-": /dev/null), command line relative to @BIN@ (the build) and @SRC@
# (MB_SRC/bench), @P@ = PROCS.
PROGRAM_TABLE='
cfrac          cfrac         -                @BIN@/cfrac 17545186520507317056371138836327483792789528
espresso       espresso      -                @BIN@/espresso @SRC@/espresso/largest.espresso
barnes         barnes        @SRC@/barnes/input @BIN@/barnes
larsonN-sized  larson-sized  -                @BIN@/larson-sized 5 8 1000 5000 100 4141 @P@
mstressN       mstress       -                @BIN@/mstress @P@ 50 25
rptestN        rptest        -                @BIN@/rptest @P@ 0 1 2 500 1000 100 8 16000
alloc-test1    alloc-test    -                @BIN@/alloc-test 1
alloc-testN    alloc-test    -                @BIN@/alloc-test @P@
xmalloc-testN  xmalloc-test  -                @BIN@/xmalloc-test -w @P@ -t 5 -s 64
cache-scratch1 cache-scratch -                @BIN@/cache-scratch 1 1000 1 2000000 @P@
cache-scratchN cache-scratch -                @BIN@/cache-scratch @P@ 1000 1 2000000 @P@
glibc-simple   glibc-simple  -                @BIN@/glibc-simple
glibc-thread   glibc-thread  -                @BIN@/glibc-thread @P@
malloc-large   malloc-large  -                @BIN@/malloc-large
rbstress1      -             -                ruby @SRC@/rbstress/stress_mem.rb 1
rbstressN      -             -                ruby @SRC@/rbstress/stress_mem.rb @P@
'
all_programs() { echo "$PROGRAM_TABLE" | awk 'NF { print $1 }'; }
# program_field NAME N: field N (1-based) of NAME's line; N=4 gives the
# rest of the line (the command).
program_field() {
  echo "$PROGRAM_TABLE" | awk -v n="$1" -v f="$2" '
    $1 == n { if (f < 4) print $f; else { sub(/^[ \t]*[^ \t]+[ \t]+[^ \t]+[ \t]+[^ \t]+[ \t]+/, ""); print } }'
}

# --- arguments -------------------------------------------------------------
if [ $# -lt 3 ]; then
  echo "usage: bench/mimalloc_bench.sh BUILD_DIR MB_SRC OUT_DIR [program ...]" >&2
  echo "programs: $(all_programs | xargs)" >&2
  exit 2
fi
BUILD_DIR=$(cd "$1" 2>/dev/null && pwd) || die "no LLAMA build directory '$1'"
MB_SRC=$(cd "$2" 2>/dev/null && pwd) || die "no mimalloc-bench tree '$2'"
shift 2
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
shift

LLAMA_SO="$BUILD_DIR/lib/libllamalloc.so"
PEAKEXEC="$BUILD_DIR/bin/llama-peakexec"
SAMPLER="$HERE_MB/real/rss_sampler.py"
SRC="$MB_SRC/bench"
[ -f "$LLAMA_SO" ] || die "$LLAMA_SO missing; build LLAMA first (make build)"
[ -x "$PEAKEXEC" ] || die "$PEAKEXEC missing; build LLAMA first (make build)"
[ -f "$SAMPLER" ] || die "$SAMPLER missing"
[ -f "$SRC/CMakeLists.txt" ] || die "$SRC/CMakeLists.txt missing: MB_SRC must hold mimalloc-bench's bench/"
command -v cmake >/dev/null || die "cmake not found"
command -v python3 >/dev/null || die "python3 not found"

ROUNDS=${ROUNDS:-3}
TMO=${TMO:-120}
PROCS=${PROCS:-2}
CC=${CC:-gcc}
CXX=${CXX:-g++}
BENCH_LOCK=${BENCH_LOCK-/tmp/llama-bench.lock}
ALLOCATORS=${ALLOCATORS:-glibc jemalloc tcmalloc mimalloc llama}
for v in ROUNDS TMO PROCS; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer (got '${!v}')"
done

PROGRAMS=()
if [ $# -eq 0 ]; then
  mapfile -t PROGRAMS < <(all_programs)
else
  for p in "$@"; do
    [ -n "$(program_field "$p" 1)" ] || die "unknown program '$p' (known: $(all_programs | xargs))"
    PROGRAMS+=("$p")
  done
fi
if ! command -v ruby >/dev/null; then
  kept=()
  for p in "${PROGRAMS[@]}"; do
    case $p in
      rbstress*) mb_log "skipping $p: ruby is not installed (apt-get install ruby)" ;;
      *) kept+=("$p") ;;
    esac
  done
  PROGRAMS=("${kept[@]}")
fi
[ ${#PROGRAMS[@]} -gt 0 ] || die "no program left to run"

# --- allocators --------------------------------------------------------------
bench_find_peers
declare -A PRELOAD=([glibc]="" [jemalloc]="$JEMALLOC_SO" [tcmalloc]="$TCMALLOC_SO"
                    [mimalloc]="$MIMALLOC_SO" [llama]="$LLAMA_SO")
ALLOCS=()
for a in $ALLOCATORS; do
  [ -n "${PRELOAD[$a]+x}" ] || die "unknown allocator '$a' (known: glibc jemalloc tcmalloc mimalloc llama)"
  if [ "$a" != glibc ] && { [ -z "${PRELOAD[$a]}" ] || [ ! -f "${PRELOAD[$a]}" ]; }; then
    mb_log "warning: $a is not installed; skipping it"
    continue
  fi
  ALLOCS+=("$a")
done
[ ${#ALLOCS[@]} -gt 0 ] || die "no allocator left to run"

# --- build -----------------------------------------------------------------
B="$OUT/build"
TARGETS=()
for p in "${PROGRAMS[@]}"; do
  t=$(program_field "$p" 2)
  [ "$t" = - ] || [[ " ${TARGETS[*]} " == *" $t "* ]] || TARGETS+=("$t")
done
if [ ${#TARGETS[@]} -gt 0 ]; then
  HOOK="$OUT/build-hook.cmake"
  cat >"$HOOK" <<'EOF'
# Written by bench/mimalloc_bench.sh (CMAKE_PROJECT_INCLUDE): an
# add_executable whose sources are missing (sh6bench, sh8bench: upstream
# downloads them) becomes a stub target excluded from "all", so that the
# rest of mimalloc-bench's CMakeLists.txt still generates.
set(LLAMA_MB_STUB "${CMAKE_BINARY_DIR}/llama-missing-sources-stub.c")
file(WRITE "${LLAMA_MB_STUB}" "int main(void) { return 1; }\n")
function(add_executable name)
  set(missing "")
  if(NOT "IMPORTED" IN_LIST ARGN AND NOT "ALIAS" IN_LIST ARGN)
    foreach(a IN LISTS ARGN)
      if(a MATCHES "^(WIN32|MACOSX_BUNDLE|EXCLUDE_FROM_ALL)$" OR a MATCHES "\\$<")
        continue()
      endif()
      if(IS_ABSOLUTE "${a}")
        set(f "${a}")
      else()
        set(f "${CMAKE_CURRENT_SOURCE_DIR}/${a}")
      endif()
      if(NOT EXISTS "${f}")
        list(APPEND missing "${a}")
      endif()
    endforeach()
  endif()
  if(missing)
    message(STATUS "llama: ${name}: sources missing (${missing}); stub target, not built")
    _add_executable(${name} EXCLUDE_FROM_ALL "${LLAMA_MB_STUB}")
  else()
    _add_executable(${name} ${ARGN})
  endif()
endfunction()
EOF
  # A build directory configured from another source tree cannot be reused.
  if [ -f "$B/CMakeCache.txt" ] &&
     ! grep -qxF "CMAKE_HOME_DIRECTORY:INTERNAL=$SRC" "$B/CMakeCache.txt"; then
    mb_log "$B was configured from another source tree; removing it"
    rm -rf "$B"
  fi
  mb_log "cmake -S $SRC -B $B ($CC/$CXX -O2)"
  cmake -S "$SRC" -B "$B" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DCMAKE_PROJECT_INCLUDE="$HOOK" >"$OUT/cmake.log" 2>&1 ||
    { tail -n 20 "$OUT/cmake.log" >&2; die "cmake failed (see $OUT/cmake.log)"; }
  mb_log "building ${TARGETS[*]}"
  cmake --build "$B" --target "${TARGETS[@]}" -j "$(nproc)" >"$OUT/make.log" 2>&1 ||
    { tail -n 20 "$OUT/make.log" >&2; die "build failed (see $OUT/make.log)"; }
  for t in "${TARGETS[@]}"; do
    [ -x "$B/$t" ] || die "$B/$t was not built (see $OUT/make.log)"
  done
fi

# --- measurements ------------------------------------------------------------
RES="$OUT/res"
mkdir -p "$RES"

# descendants PID: the pids of PID's descendants, deepest first.
descendants() {
  local c
  for c in $(pgrep -P "$1" || true); do
    descendants "$c"
    echo "$c"
  done
}

# run_one PROGRAM ALLOC ROUND: one sampled run; prints a progress line.
run_one() {
  local prog=$1 alloc=$2 round=$3 d="$RES/$1"
  local base="$d/$alloc.r$round" stdin cmd envs=() sp wd pe
  stdin=$(program_field "$prog" 3)
  [ "$stdin" = - ] && stdin=/dev/null
  stdin=${stdin//@SRC@/$SRC}
  cmd=$(program_field "$prog" 4)
  cmd=${cmd//@BIN@/$B}
  cmd=${cmd//@SRC@/$SRC}
  cmd=${cmd//@P@/$PROCS}
  local -a argv
  read -r -a argv <<<"$cmd"
  [ -n "${PRELOAD[$alloc]}" ] && envs=(--env "LD_PRELOAD=${PRELOAD[$alloc]}")
  rm -f "$base.json" "$base.out" "$base.err" "$base.timeout"
  # Some programs write files into the current directory: run in d. The
  # lock's descriptor is not passed on.
  (cd "$d" && exec python3 "$SAMPLER" --interval=0.02 --peak-exec="$PEAKEXEC" \
     --json="$base.json" --label="$prog/$alloc/r$round" --stdin="$stdin" \
     --stdout="$base.out" --stderr="$base.err" "${envs[@]}" -- "${argv[@]}") {LOCK_FD}>&- &
  sp=$!
  # Watchdog: after TMO s, kills the program and anything it started (the
  # descendants of llama-peakexec, the sampler's child), by pid; the
  # wrapper and the sampler then report the signal.
  (
    if ! timeout "$TMO" tail --pid="$sp" -s 0.1 -f /dev/null; then
      echo "$TMO" >"$base.timeout"
      echo "TIMEOUT $prog $alloc r$round (${TMO}s)" >>"$OUT/log"
      for pe in $(pgrep -P "$sp" || true); do
        # shellcheck disable=SC2046 # a list of pids
        kill -KILL $(descendants "$pe") 2>/dev/null || true
      done
    fi
  ) {LOCK_FD}>&- &
  wd=$!
  wait "$sp" || true
  wait "$wd" 2>/dev/null || true
  python3 - "$base.json" "$prog" "$alloc" "$round" "$base.timeout" <<'EOF'
import json, os, sys
path, prog, alloc, rnd, tmo = sys.argv[1:]
try:
    with open(path) as f:
        d = json.loads([l for l in f.read().splitlines() if l.strip()][-1])
    print("  %-14s %-9s r%s peak=%7.1f MiB avg=%7.1f MiB huge=%6.1f MiB wall=%7.2f s exit=%s%s" % (
        prog, alloc, rnd, d["peak_rss_kb"] / 1024, d["avg_rss_kb"] / 1024,
        d["avg_anon_huge_kb"] / 1024, d["wall_s"], d["exit_status"],
        "  TIMEOUT" if os.path.exists(tmo) else ""))
except (OSError, ValueError, IndexError, KeyError) as e:
    print("  %-14s %-9s r%s: no result in %s (%s)" % (prog, alloc, rnd, path, e))
EOF
}

thp() { cat /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null || echo '?'; }

if [ -z "$BENCH_LOCK" ]; then
  exec {LOCK_FD}>/dev/null
else
  exec {LOCK_FD}>>"$BENCH_LOCK"
  if ! flock -n "$LOCK_FD"; then
    mb_log "waiting for $BENCH_LOCK (another benchmark is measuring)"
    flock "$LOCK_FD"
  fi
  mb_log "holding $BENCH_LOCK"
fi

{
  echo "date=$(date -Is)"
  echo "host=$(uname -n) $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
  echo "llama_commit=$(git -C "$HERE_MB" describe --always --dirty 2>/dev/null || echo '?') ($LLAMA_SO)"
  echo "mimalloc_bench=$(git -C "$MB_SRC" rev-parse --short HEAD 2>/dev/null || echo 'extracted tree') ($MB_SRC)"
  echo "compiler=$("$CC" --version | head -n 1) / $CXX, -O2 -DNDEBUG"
  echo "rounds=$ROUNDS"
  echo "timeout_s=$TMO"
  echo "procs=$PROCS"
  echo "thp_start=$(thp)"
  for a in "${ALLOCS[@]}"; do echo "alloc.$a=${PRELOAD[$a]:-(none: glibc malloc)}"; done
} >"$OUT/setup.txt"
echo "start $(date -Is) THP: $(thp)" >>"$OUT/log"

for prog in "${PROGRAMS[@]}"; do
  rm -rf "${RES:?}/$prog"
  mkdir -p "$RES/$prog"
  {
    echo "stdin=$(program_field "$prog" 3)"
    echo "command=$(program_field "$prog" 4)"
  } | sed -e "s|@BIN@|$B|g" -e "s|@SRC@|$SRC|g" -e "s|@P@|$PROCS|g" -e 's|^stdin=-$|stdin=/dev/null|' \
    >"$RES/$prog/command.txt"
  mb_log "== $prog: $(sed -n 's/^command=//p' "$RES/$prog/command.txt")"
  echo "== $prog: $(sed -n 's/^command=//p' "$RES/$prog/command.txt")" >>"$OUT/log"
  for round in $(seq 1 "$ROUNDS"); do
    for alloc in $(bench_rotate $((round - 1)) "${ALLOCS[@]}"); do
      run_one "$prog" "$alloc" "$round" | tee -a "$OUT/log" >&2
    done
  done
done

echo "end $(date -Is) THP: $(thp)" >>"$OUT/log"
echo "thp_end=$(thp)" >>"$OUT/setup.txt"
exec {LOCK_FD}>&-

python3 "$HERE_MB/mimalloc_bench_report.py" "$OUT"
mb_log "wrote $OUT/results.md"
