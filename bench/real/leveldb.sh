#!/usr/bin/env bash
# bench/real/leveldb.sh BUILD_DIR OUT_DIR - LLAMA on LevelDB (Debian's leveldb
# source package, C++, CMake), built in two stages.
#
#   1. installs the build dependencies (Debian's Build-Depends minus the
#      packaging tools: cmake, ninja, libsnappy-dev, libgtest-dev,
#      libgmock-dev, libbenchmark-dev) and `apt-get source leveldb` into
#      REAL_WORK/leveldb (default /tmp/real/leveldb; Debian's patches build
#      the tests against the system googletest);
#   2. for each stage (plain, prof, use; bench/real/common.sh) configures and
#      builds the static library, db_bench and the unit tests (one CMake
#      build directory per stage, REAL_WORK/leveldb/STAGE), with Debian's
#      -DNDEBUG;
#   3. profiles the prof build's db_bench (--num=PROF_NUM
#      --value_size=PROF_VALUE), merges and trains;
#   4. runs the unit tests (ctest) of each stage and compares the failures
#      with the plain build's;
#   5. measures db_bench (--num=EVAL_NUM --value_size=EVAL_VALUE
#      --cache_size=EVAL_CACHE: other sizes than the profile) under glibc, the
#      peers, libllamalloc preloaded with the model, and the use build, REPS
#      times each, on a fresh database directory each run; OUT_DIR/results.md.
#
# Environment (besides common.sh's): BENCHMARKS (db_bench --benchmarks),
# PROF_NUM (200000), PROF_VALUE (200), EVAL_NUM (400000), EVAL_VALUE (100),
# EVAL_CACHE (33554432), SKIP_TESTS=1, MEASURE=0, FORCE=1.
set -euo pipefail

HERE_LEVELDB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$HERE_LEVELDB/common.sh"
real_init leveldb "$@"

BENCHMARKS=${BENCHMARKS:-fillrandom,overwrite,readrandom,readseq,seekrandom,deleterandom,fillseq,readreverse,compact,readrandom}
PROF_NUM=${PROF_NUM:-200000}
PROF_VALUE=${PROF_VALUE:-200}
EVAL_NUM=${EVAL_NUM:-400000}
EVAL_VALUE=${EVAL_VALUE:-100}
EVAL_CACHE=${EVAL_CACHE:-33554432}
FORCE=${FORCE:-0}

real_apt cmake ninja-build libsnappy-dev libgtest-dev libgmock-dev libbenchmark-dev time
SRC=$(real_apt_source leveldb "$W")
real_log "$(basename "$SRC")"

build_stage() {
  local stage=$1 d="$W/$1"
  real_stage_flags "$stage"
  # LevelDB's CMake links libtcmalloc whenever it is installed (as the peers
  # are here): the "glibc" baseline would be tcmalloc, and every stage would
  # load it. HAVE_TCMALLOC=OFF keeps its check from running.
  local key="$STAGE_CFLAGS|$STAGE_LDFLAGS|no-tcmalloc"
  if [ "$FORCE" != 1 ] && [ -x "$d/db_bench" ] && [ "$(cat "$d/.llama-flags" 2>/dev/null)" = "$key" ] &&
     { [ "$stage" != use ] || real_newer "$d/db_bench"; }; then
    real_log "$stage build is up to date"
    return
  fi
  rm -rf "$d"
  real_log "$stage: cmake + ninja ($STAGE_CFLAGS)"
  cmake -S "$SRC" -B "$d" -G Ninja -DCMAKE_BUILD_TYPE= -DHAVE_TCMALLOC=OFF \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
    -DCMAKE_C_FLAGS="$STAGE_CFLAGS -DNDEBUG" -DCMAKE_CXX_FLAGS="$STAGE_CFLAGS -DNDEBUG" \
    -DCMAKE_EXE_LINKER_FLAGS="$STAGE_LDFLAGS" -DCMAKE_SHARED_LINKER_FLAGS="$STAGE_LDFLAGS" \
    >"$W/$stage-cmake.log" 2>&1 || { real_log "cmake failed, see $W/$stage-cmake.log"; exit 1; }
  local t0 t1
  t0=$(date +%s%N)
  ninja -C "$d" >"$W/$stage-build.log" 2>&1 || { real_log "build failed, see $W/$stage-build.log"; exit 1; }
  t1=$(date +%s%N)
  echo "$stage build (ninja, all targets): $(( (t1 - t0) / 1000000 )) ms" >>"$OUT/compile-times.txt"
  echo "$key" >"$d/.llama-flags"
}

db_bench_args() { # NUM VALUE DB
  echo "--db=$3 --num=$1 --value_size=$2 --benchmarks=$BENCHMARKS"
}

profile() {
  real_profile_fresh "$W/leveldb.llamaprof" "$W/prof/db_bench" && return
  rm -rf "$W/db-prof"
  real_log "profiling: db_bench --num=$PROF_NUM --value_size=$PROF_VALUE"
  # shellcheck disable=SC2046
  LLAMA_PROF_FILE="$W/raw/db_bench-%p.profraw" "$W/prof/db_bench" $(db_bench_args "$PROF_NUM" "$PROF_VALUE" "$W/db-prof") \
    >"$W/raw/db_bench.out" 2>"$W/raw/db_bench.err"
  rm -rf "$W/db-prof"
  real_train
}

# run_tests STAGE: ctest, one test program at a time; OUT/tests-STAGE.txt
# has one line per test program (name, status) and the googletest case
# counts.
run_tests() {
  local stage=$1 log="$OUT/ctest-$stage.log"
  real_log "$stage: unit tests (ctest)"
  (cd "$W/$stage" && ctest -j1 --timeout 900 -V >"$log" 2>&1) || true
  # ctest -V prefixes each output line with "N: ".
  { grep -E '^ *[0-9]+/[0-9]+ Test +#[0-9]+: ' "$log" || true; } |
    sed -E 's/^ *[0-9]+\/[0-9]+ Test +#[0-9]+: ([^ ]+) \.+ *([^0-9]*[A-Za-z*]+).*/\1 \2/' >"$OUT/tests-$stage.txt"
  local cases passed failed
  cases=$(sed -E 's/^[0-9]+: //' "$log" | awk '/^\[==========\] [0-9]+ tests? from .* ran/ { n += $2 } END { print n + 0 }')
  passed=$(sed -E 's/^[0-9]+: //' "$log" | awk '/^\[  PASSED  \] [0-9]+ test/ { n += $4 } END { print n + 0 }')
  failed=$(sed -E 's/^[0-9]+: //' "$log" | awk '/^\[  FAILED  \] [A-Za-z0-9_]+\.[A-Za-z0-9_\/]+ \(/ { print $3 }' | sort -u | tr '\n' ' ')
  echo "$stage: $(grep -E 'tests passed' "$log" | tail -n 1); googletest cases: $cases run, $passed passed; failed cases: ${failed:-none}" |
    tee -a "$OUT/tests-summary-$stage.txt" >&2
  echo "$failed" >"$OUT/tests-$stage.failed"
}

compare_tests() {
  local new=
  local f
  if [ ! -f "$OUT/tests-plain.failed" ]; then
    echo "$1: no plain results in $OUT to compare with (TEST_STAGES needs plain once)" | tee -a "$OUT/tests-summary-$1.txt" >&2
    return 1
  fi
  for f in $(cat "$OUT/tests-$1.failed"); do
    grep -qw -- "$f" "$OUT/tests-plain.failed" || new="$new $f"
  done
  if [ -n "$new" ]; then
    echo "$1: REGRESSIONS against plain:$new" | tee -a "$OUT/tests-summary-$1.txt" >&2
    return 1
  fi
  echo "$1: no failures that plain does not have" | tee -a "$OUT/tests-summary-$1.txt" >&2
}

bin_of() { real_config_env "$1"; echo "$W/$CFG_STAGE/$2"; }
prep_db() { rm -rf "$W/db-eval"; }
run_db_bench() {
  # shellcheck disable=SC2046
  real_measure "$1" db_bench "$2" "$(bin_of "$1" db_bench)" -- \
    $(db_bench_args "$EVAL_NUM" "$EVAL_VALUE" "$W/db-eval") --cache_size="$EVAL_CACHE"
}

real_build_all

if [ "${SKIP_TESTS:-0}" != 1 ]; then
  for stage in ${TEST_STAGES:-plain prof use}; do
    rm -f "$OUT/tests-summary-$stage.txt"
    [ -x "$W/$stage/db_test" ] || continue
    [ "$stage" = use ] && ! real_use_works && continue
    run_tests "$stage"
    [ "$stage" = plain ] || compare_tests "$stage" || true
  done
fi

if [ "${MEASURE:-1}" = 0 ]; then exit 0; fi
real_measure_reset
real_measure_all db_bench prep_db run_db_bench
prep_db
# db_bench's own numbers (micros/op per benchmark), medians per configuration.
python3 - "$OUT/logs" >"$OUT/db_bench-ops.md" <<'EOF'
import glob, os, re, statistics, sys
per = {}
for p in glob.glob(os.path.join(sys.argv[1], "db_bench_*_rep*.out")):
    cfg = re.match(r"db_bench_(.*)_rep\d+\.out", os.path.basename(p)).group(1)
    if cfg == "bound":  # the shim's run: its times are not an allocator's
        continue
    seen = {}
    for line in open(p, errors="replace"):
        m = re.match(r"^(\w+)\s*:\s*([\d.]+) micros/op", line)
        if m:
            name = m.group(1)
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name += "#%d" % seen[name]
            per.setdefault(cfg, {}).setdefault(name, []).append(float(m.group(2)))
order = ["glibc", "jemalloc", "tcmalloc", "mimalloc", "llama-dyn", "llama-use"]
cfgs = [c for c in order if c in per] + [c for c in per if c not in order]
names = list(next(iter(per.values())).keys()) if per else []
print("db_bench micros/op (median; lower is better):")
print()
print("| benchmark | " + " | ".join(cfgs) + " |")
print("|---|" + "---|" * len(cfgs))
for n in names:
    print("| %s | " % n + " | ".join("%.3f" % statistics.median(per[c][n]) if n in per[c] else "-" for c in cfgs) + " |")
EOF
{
  real_report "LevelDB $(basename "$SRC"): db_bench --num=$EVAL_NUM --value_size=$EVAL_VALUE --cache_size=$EVAL_CACHE --benchmarks=$BENCHMARKS"
  cat "$OUT/db_bench-ops.md"
  echo
  ls "$OUT"/tests-summary-*.txt >/dev/null 2>&1 && { echo "LevelDB unit tests (ctest):"; echo; cat "$OUT"/tests-summary-{plain,prof,use}.txt 2>/dev/null | sed 's/^/    /'; }
} >"$OUT/report.md"
cat "$OUT/report.md"
