#!/usr/bin/env bash
# bench/speedtest1.sh BUILD_DIR - the profiling build on a real program:
# SQLite's speedtest1 from Debian's sqlite3 source package.
#
#   1. enables deb-src (a sources file of our own) and fetches `apt-get source
#      sqlite3` into BUILD_DIR/bench/sqlite (cached), builds the amalgamation;
#   2. builds speedtest1 twice from the same sources: plain (-O2 -g) and the
#      profiling build (-O2 -g + `llama-config --generate --cflags/--ldflags`),
#      timing both compiles;
#   3. runs the two binaries alternately (REPS times each, same workload) and
#      reports the median wall time of each and their ratio (target <= 2x);
#   4. merges the profiling runs' raw profiles with llama-profdata and prints
#      the `show` table.
#
# Environment: SPEEDTEST_SIZE (default 100, speedtest1 --size), REPS (5),
# SPEEDTEST_ARGS (extra speedtest1 arguments, default "--memdb"),
# LLAMA_PROF_SAMPLE (profiler sampling period; default: the profiler's),
# SHOW_TOP, SHOW_CONTEXTS, SHOW_DEPTH (sites, contexts per site and frames per
# context in the table; default 15, 4, 8).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$HERE/lib.sh"
bench_use_build speedtest1 "$@"

SIZE=${SPEEDTEST_SIZE:-100}
REPS=${REPS:-5}
ARGS=${SPEEDTEST_ARGS:---memdb}
WORK="$BUILD_DIR/bench/sqlite"
CC=${CC_LLVM:-clang-19}
mkdir -p "$WORK"

SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi

# Step 1: sources. `apt-get source` needs deb-src lines and dpkg-dev; the
# amalgamation is generated with tclsh.
fetch_sources() {
  local missing=()
  for p in dpkg-dev tcl; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    bench_log "speedtest1: installing ${missing[*]}"
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ -z "$(find "$WORK" -maxdepth 1 -type d -name 'sqlite3-*' -print -quit)" ]; then
    if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      bench_log "speedtest1: enabling deb-src (/etc/apt/sources.list.d/llama-deb-src.sources)"
      $SUDO tee /etc/apt/sources.list.d/llama-deb-src.sources >/dev/null <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
      $SUDO apt-get update -qq
    fi
    bench_log "speedtest1: apt-get source sqlite3"
    (cd "$WORK" && apt-get source -qq sqlite3 >/dev/null 2>&1) ||
      { bench_log "speedtest1: apt-get source sqlite3 failed"; exit 1; }
  fi
  SRC=$(find "$WORK" -maxdepth 1 -type d -name 'sqlite3-*' -print -quit)
  if [ ! -s "$WORK/amalg/sqlite3.c" ]; then
    bench_log "speedtest1: generating the amalgamation (sqlite3.c)"
    mkdir -p "$WORK/amalg"
    (cd "$WORK/amalg" && "$SRC/configure" CC="$CC" >configure.log 2>&1 && make sqlite3.c >make.log 2>&1) ||
      { bench_log "speedtest1: building sqlite3.c failed, see $WORK/amalg/*.log"; exit 1; }
  fi
  bench_log "speedtest1: $(basename "$SRC"), $(wc -l <"$WORK/amalg/sqlite3.c") lines of sqlite3.c"
}

now_ns() { date +%s%N; }

# Step 2: two builds of the same sources. SQLite's defaults otherwise
# (threadsafe, so its mutexes are real).
build_both() {
  local common=(-O2 -g -DSQLITE_OMIT_LOAD_EXTENSION -I"$WORK/amalg"
                "$SRC/test/speedtest1.c" "$WORK/amalg/sqlite3.c")
  local t0 t1 t2
  read -r -a GEN_CFLAGS <<<"$("$BIN/llama-config" --generate --cflags)"
  read -r -a GEN_LDFLAGS <<<"$("$BIN/llama-config" --generate --ldflags)"
  bench_log "speedtest1: compiling plain and profiling builds"
  t0=$(now_ns)
  "$CC" "${common[@]}" -o "$WORK/speedtest1-plain" -lm -lpthread
  t1=$(now_ns)
  "$CC" "${common[@]}" "${GEN_CFLAGS[@]}" -o "$WORK/speedtest1-prof" -lm "${GEN_LDFLAGS[@]}" \
    2> >(grep -v 'argument unused during compilation' >&2)
  t2=$(now_ns)
  COMPILE_PLAIN=$(( (t1 - t0) / 1000000 ))
  COMPILE_PROF=$(( (t2 - t1) / 1000000 ))
}

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# Step 3: alternate the two binaries so drifting machine load hits both.
run_both() {
  rm -f "$WORK"/raw/*.profraw
  mkdir -p "$WORK/raw"
  : >"$WORK/times.plain"
  : >"$WORK/times.prof"
  local t0 t1 i
  for i in $(seq 1 "$REPS"); do
    bench_log "speedtest1: run $i/$REPS (--size $SIZE $ARGS)"
    t0=$(now_ns)
    # shellcheck disable=SC2086
    "$WORK/speedtest1-plain" --size "$SIZE" $ARGS >"$WORK/plain.out"
    t1=$(now_ns)
    echo $(( (t1 - t0) / 1000000 )) >>"$WORK/times.plain"
    t0=$(now_ns)
    # shellcheck disable=SC2086
    LLAMA_PROF_FILE="$WORK/raw/speedtest1-%p.profraw" \
      "$WORK/speedtest1-prof" --size "$SIZE" $ARGS >"$WORK/prof.out"
    t1=$(now_ns)
    echo $(( (t1 - t0) / 1000000 )) >>"$WORK/times.prof"
  done
  PLAIN_MS=$(median <"$WORK/times.plain")
  PROF_MS=$(median <"$WORK/times.prof")
}

# Step 4: offline.
merge_and_show() {
  bench_log "speedtest1: llama-profdata merge"
  "$BIN/llama-profdata" merge -o "$WORK/speedtest1.llamaprof" "$WORK"/raw/*.profraw
  "$BIN/llama-profdata" show --top="${SHOW_TOP:-15}" --contexts="${SHOW_CONTEXTS:-4}" --depth="${SHOW_DEPTH:-8}" "$WORK/speedtest1.llamaprof" >"$WORK/show.txt"
}

# bench/sqlite_profiles.sh sources this file (with BUILD_DIR) for the
# functions above: stop here.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then return 0; fi

fetch_sources
build_both
run_both
merge_and_show

cat "$WORK/show.txt"
echo
echo "SQLite speedtest1 --size $SIZE $ARGS, $REPS runs each, alternating (median wall time):"
echo "  plain build      $PLAIN_MS ms   (runs: $(tr '\n' ' ' <"$WORK/times.plain"))"
echo "  profiling build  $PROF_MS ms   (runs: $(tr '\n' ' ' <"$WORK/times.prof"))"
awk -v a="$PROF_MS" -v b="$PLAIN_MS" 'BEGIN { r = a / b; printf "  slowdown         %.2fx (target <= 2x): %s\n", r, (r <= 2 ? "PASS" : "FAIL") }'
echo "compile time: plain $COMPILE_PLAIN ms, profiling build $COMPILE_PROF ms"
echo "raw profiles: $(find "$WORK/raw" -name '*.profraw' | wc -l), $(du -ch "$WORK"/raw/*.profraw | tail -n 1 | cut -f1); indexed: $WORK/speedtest1.llamaprof"
