#!/usr/bin/env bash
# bench/real/sqlite.sh BUILD_DIR OUT_DIR - LLAMA on SQLite (Debian's sqlite3
# source package), built in two stages.
#
#   1. sources: bench/speedtest1.sh's fetch_sources (apt-get source sqlite3,
#      the amalgamation), into REAL_WORK/sqlite (default /tmp/real/sqlite);
#      tcl-dev for testfixture;
#   2. for each stage (plain, prof, use; bench/real/common.sh) builds
#      speedtest1, the sqlite3 shell and SQLite's TCL test harness testfixture
#      from the same sources, into REAL_WORK/sqlite/STAGE;
#   3. profiles the prof build on the profiling workload: speedtest1 --size
#      PROF_SIZE and the shell on bench/sqlite_profiles.sh's generated SQL
#      application workload of PROF_ROWS rows; merges and trains
#      (common.sh's real_train: the default model and --features=frame,kind);
#   4. runs the TCL test subset (TESTS) with each stage's testfixture and
#      compares the failures with the plain build's;
#   5. measures the evaluation workloads (speedtest1 --size EVAL_SIZE, the
#      shell on EVAL_ROWS rows: other sizes and data than the profile) under
#      glibc, the peers, libllamalloc preloaded with the model, and the use
#      build, REPS times each; writes OUT_DIR/results.md.
#
# The use stage and the llama-use configuration are skipped (with a note)
# while `llama-config --use` does not work in BUILD_DIR.
#
# Environment (besides common.sh's): PROF_SIZE (50), EVAL_SIZE (100),
# TESTSET (speedtest1 --testset, main,orm,cte,fp), PROF_ROWS (15000),
# EVAL_ROWS (20000), TESTS (test file names; default: the select, insert,
# func, expr, where, join, trigger, vacuum, index, update, delete, window,
# json, with, view, alter, malloc, sort, collate, savepoint, trans, fkey,
# upsert, misc... files, minus the five slowest), SKIP_TESTS=1, MEASURE=0
# (builds, profile and tests only), FORCE=1 (rebuild and re-profile).
set -euo pipefail

HERE_SQLITE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=common.sh
. "$HERE_SQLITE/common.sh"
real_init sqlite "$@"
# speedtest1.sh's functions (fetch_sources, median, now_ns); it sets WORK
# from BUILD_DIR: point it at our work directory.
# shellcheck source=../speedtest1.sh
. "$HERE_SQLITE/../speedtest1.sh" "$BUILD_DIR"
WORK=$W
# gen_sql ROWS: the SQL application workload of bench/sqlite_profiles.sh
# (that script runs when sourced, so take just the function).
eval "$(sed -n '/^gen_sql() {/,/^}/p' "$HERE_REAL/../sqlite_profiles.sh")"

PROF_SIZE=${PROF_SIZE:-50}
EVAL_SIZE=${EVAL_SIZE:-100}
TESTSET=${TESTSET:-main,orm,cte,fp}
PROF_ROWS=${PROF_ROWS:-15000}
EVAL_ROWS=${EVAL_ROWS:-20000}
FORCE=${FORCE:-0}
ST_ARGS=(--memdb --testset "$TESTSET")

real_apt dpkg-dev tcl tcl-dev zlib1g-dev time
fetch_sources   # sets SRC
[ -s "$W/amalg/shell.c" ] || (cd "$W/amalg" && make shell.c >make-shell.log 2>&1)

# build_stage STAGE: W/STAGE/{speedtest1,sqlite3,testfixture}.
build_stage() {
  local stage=$1 d="$W/$1" cflags ldflags
  # Up to date: plain and prof once built (FORCE=1 rebuilds); use when
  # newer than the profile, the model, LlamaPass.so and libllamalloc.
  if [ "$FORCE" != 1 ] && [ -x "$d/speedtest1" ] && [ -x "$d/sqlite3" ] && [ -x "$d/testfixture" ] &&
     { [ "$stage" != use ] || real_newer "$d/testfixture"; }; then
    real_log "$stage build is up to date"
    return
  fi
  real_stage_flags "$stage"
  read -r -a cflags <<<"$STAGE_CFLAGS"
  read -r -a ldflags <<<"$STAGE_LDFLAGS"
  mkdir -p "$d"
  real_log "$stage: compiling sqlite3.c, speedtest1, shell ($STAGE_CFLAGS)"
  local t0 t1
  t0=$(now_ns)
  "$CC" "${cflags[@]}" -DSQLITE_OMIT_LOAD_EXTENSION -I"$W/amalg" -c "$W/amalg/sqlite3.c" -o "$d/sqlite3.o" 2>"$d/compile.log"
  t1=$(now_ns)
  echo "$stage sqlite3.c compile: $(( (t1 - t0) / 1000000 )) ms" >>"$OUT/compile-times.txt"
  "$CC" "${cflags[@]}" -I"$W/amalg" -c "$SRC/test/speedtest1.c" -o "$d/speedtest1.o" 2>>"$d/compile.log"
  "$CC" "${cflags[@]}" -DSQLITE_OMIT_LOAD_EXTENSION -I"$W/amalg" -c "$W/amalg/shell.c" -o "$d/shell.o" 2>>"$d/compile.log"
  "$CC" -o "$d/speedtest1" "$d/speedtest1.o" "$d/sqlite3.o" -lm -lpthread "${ldflags[@]}"
  "$CC" -o "$d/sqlite3" "$d/shell.o" "$d/sqlite3.o" -lm -lpthread "${ldflags[@]}"
  real_log "$stage: building testfixture"
  # The Makefile links through libtool, which drops -fpass-plugin and
  # -Xclang: compile and link with TCC directly. CFLAGS is the Makefile's
  # own (-DSQLITE_OS_UNIX=1) plus the stage's; LIBS carries the link flags.
  rm -f "$W/amalg/testfixture"
  (cd "$W/amalg" && make testfixture LTLINK='$(TCC)' CC="$CC" \
     CFLAGS="$STAGE_CFLAGS -DSQLITE_OS_UNIX=1" LIBS="$STAGE_LDFLAGS" >"$d/testfixture-build.log" 2>&1) ||
    { real_log "$stage: testfixture build failed, see $d/testfixture-build.log"; exit 1; }
  mv "$W/amalg/testfixture" "$d/testfixture"
}

# The test subset: about two minutes with the plain build on 2 CPUs.
default_tests() {
  (cd "$SRC/test" && ls) | grep -E '^(select|insert|func|expr|where|join|trigger|vacuum|index|update|delete|window|json|with|view|alter|malloc|sort|collate|autoinc|savepoint|rollback|transaction|trans|blob|date|printf|like|limit|orderby|distinct|analyze|fkey|upsert|cte|subquery|misc)[^/]*\.test$' |
    grep -vxE 'savepoint6.test|sortfault.test|mallocAll.test|sort3.test|savepoint4.test'
}

# run_tests STAGE: each test file in its own testfixture process (so a crash
# is one failed file), in a scratch directory; OUT/tests-STAGE.txt has one
# line per file: name, ms, errors, tests (errors -1: no summary line, i.e. a
# crash or a timeout).
run_tests() {
  local stage=$1 dir="$W/$1/tests" f t0 t1 line errs n
  rm -rf "$dir"
  mkdir -p "$dir"
  : >"$OUT/tests-$stage.txt"
  real_log "$stage: SQLite TCL tests ($(echo "$TESTS" | wc -w) files)"
  for f in $TESTS; do
    t0=$(now_ns)
    line=$( (cd "$dir" && timeout 600 "$W/$stage/testfixture" "$SRC/test/$f" 2>&1) >"$dir/$f.log"; grep -a 'errors out of' "$dir/$f.log" | tail -n 1 || true)
    t1=$(now_ns)
    errs=-1 n=0
    if [[ $line =~ ([0-9]+)\ errors\ out\ of\ ([0-9]+)\ tests ]]; then
      errs=${BASH_REMATCH[1]} n=${BASH_REMATCH[2]}
    fi
    echo "$f $(( (t1 - t0) / 1000000 )) $errs $n" >>"$OUT/tests-$stage.txt"
  done
  awk -v s="$stage" '{ files++; tests += $4; if ($3 != 0) { bad++; errs += ($3 < 0 ? 1 : $3) }; ms += $2 }
    END { printf "%s: %d files, %d tests, %d errors in %d files, %.0f s\n", s, files, tests, errs, bad, ms / 1000 }' \
    "$OUT/tests-$stage.txt" | tee -a "$OUT/tests-summary-$stage.txt" >&2
}

# compare_tests STAGE: the files that fail in STAGE but not in plain.
compare_tests() {
  local new
  if [ ! -s "$OUT/tests-plain.txt" ]; then
    echo "$1: no plain results in $OUT to compare with (TEST_STAGES needs plain once)" | tee -a "$OUT/tests-summary-$1.txt" >&2
    return 1
  fi
  new=$(awk 'NR == FNR { if ($3 != 0) bad[$1] = $3; next } $3 != 0 && (!($1 in bad) || $3 > bad[$1]) { print $1 " (" $3 " errors)" }' \
    "$OUT/tests-plain.txt" "$OUT/tests-$1.txt")
  if [ -n "$new" ]; then
    echo "$1: REGRESSIONS against plain: $new" | tee -a "$OUT/tests-summary-$1.txt" >&2
    return 1
  fi
  echo "$1: same results as plain (failures there: $(awk '$3 != 0 { printf "%s ", $1 }' "$OUT/tests-plain.txt"))" | tee -a "$OUT/tests-summary-$1.txt" >&2
}

sql_file() {
  [ -s "$W/sql/$1.sql" ] || { mkdir -p "$W/sql"; gen_sql "$1" >"$W/sql/$1.sql"; }
  echo "$W/sql/$1.sql"
}

profile() {
  real_profile_fresh "$W/sqlite.llamaprof" "$W/prof/speedtest1" && return
  real_log "profiling: speedtest1 --size $PROF_SIZE ${ST_ARGS[*]}"
  LLAMA_PROF_FILE="$W/raw/speedtest1-%p.profraw" "$W/prof/speedtest1" --size "$PROF_SIZE" "${ST_ARGS[@]}" >"$W/raw/speedtest1.out"
  real_log "profiling: sqlite3 shell, $PROF_ROWS rows"
  rm -f "$W/raw/shell.db"*
  LLAMA_PROF_FILE="$W/raw/sqlite3-%p.profraw" "$W/prof/sqlite3" -bail "$W/raw/shell.db" <"$(sql_file "$PROF_ROWS")" >"$W/raw/sqlite3.out"
  rm -f "$W/raw/shell.db"*
  real_train
}

# The evaluation workloads.
bin_of() { real_config_env "$1"; echo "$W/$CFG_STAGE/$2"; }
prep_none() { :; }
prep_db() { rm -f "$W/eval.db" "$W/eval.db-wal" "$W/eval.db-shm"; }
run_speedtest1() {
  real_measure "$1" speedtest1 "$2" "$(bin_of "$1" speedtest1)" -- --size "$EVAL_SIZE" "${ST_ARGS[@]}"
}
run_shell() {
  real_measure "$1" shell "$2" "$(bin_of "$1" sqlite3)" --stdin="$EVAL_SQL" -- -bail "$W/eval.db"
}

real_build_all

TESTS=${TESTS:-$(default_tests)}
if [ "${SKIP_TESTS:-0}" != 1 ]; then
  for stage in ${TEST_STAGES:-plain prof use}; do
    rm -f "$OUT/tests-summary-$stage.txt"
    [ -x "$W/$stage/testfixture" ] || continue
    [ "$stage" = use ] && ! real_use_works && continue
    run_tests "$stage"
    [ "$stage" = plain ] || compare_tests "$stage" || true
  done
fi

if [ "${MEASURE:-1}" = 0 ]; then exit 0; fi
real_measure_reset
EVAL_SQL=$(sql_file "$EVAL_ROWS")
real_measure_all speedtest1 prep_none run_speedtest1
real_measure_all shell prep_db run_shell
prep_db x
{
  real_report "SQLite $(basename "$SRC"): speedtest1 --size $EVAL_SIZE ${ST_ARGS[*]}; shell: $EVAL_ROWS-row SQL workload on a WAL file database"
  ls "$OUT"/tests-summary-*.txt >/dev/null 2>&1 && { echo "SQLite TCL tests (testfixture):"; echo; cat "$OUT"/tests-summary-{plain,prof,use}.txt 2>/dev/null | sed 's/^/    /'; }
} >"$OUT/report.md"
cat "$OUT/report.md"
