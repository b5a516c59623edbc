# shellcheck shell=bash
# bench/real/common.sh - shared by bench/real/sqlite.sh and bench/real/leveldb.sh
# (sourced, not run): the two-stage LLAMA build of a real program, the
# measurement of one binary under one allocator configuration, and the
# report.
#
# Stages (each a separate build of the same sources):
#   plain  -O2 -g, clang-19: the baseline, run under glibc and the peers
#   prof   plus `llama-config --generate --cflags/--ldflags`
#   use    plus `llama-config --use=PROFILE --model=MODEL --cflags/--ldflags`
#
# Allocator configurations of the measurements:
#   glibc, jemalloc, tcmalloc, mimalloc   the plain build (peers preloaded)
#   llama-dyn   the plain build with LD_PRELOAD=libllamalloc.so and
#               LLAMA_MODEL=the frame,kind model: the paper's compiler-free
#               system (every class from the stack at run time)
#   llama-use   the use build (linked with libllamalloc by llama-config)
#   bound       not an allocator but the physical bound every row is
#               compared with: the plain build under glibc with
#               LD_PRELOAD=liblivebytes.so (bench/real/livebytes.c: the
#               program's live requested bytes, exactly) and rss_sampler.py
#               --live; one run per workload whatever REPS is (the counts
#               are exact); its time and RSS are the shim's, not reported
#
# Environment: REAL_WORK (sources, builds, profiles; default /tmp/real),
# REPS (3), CONFIGS (all of the above), BOUND=0 (leave bound out of
# CONFIGS), SAMPLE_INTERVAL (0.05 s),
# BENCH_LOCK (/tmp/llama-bench.lock: each measured run holds it with
# flock(1), so that runs of different benchmarks on a shared machine never
# overlap; empty: no lock), APPEND=1
# (keep earlier measurements of the configurations not in CONFIGS),
# REAL_THP=always (the "huge pages for all" setting: THP `always` while the
# measurements run, restored at exit, and the peers' own huge-page options:
# glibc.malloc.hugetlb=1, jemalloc thp:always, MIMALLOC_LARGE_OS_PAGES=1;
# needs a writable /sys/kernel/mm/transparent_hugepage/enabled),
# STAGES (plain prof use: which stages to build and test; use is skipped
# with a note while `llama-config --use` does not work).

HERE_REAL=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
. "$HERE_REAL/../lib.sh"

SAMPLER="$HERE_REAL/rss_sampler.py"
CC=${CC_LLVM:-clang-19}
CXX=${CXX_LLVM:-clang++-19}
REPS=${REPS:-3}
CONFIGS=${CONFIGS:-"glibc jemalloc tcmalloc mimalloc llama-dyn llama-use bound"}
if [ "${BOUND:-1}" = 0 ]; then CONFIGS=$(for c in $CONFIGS; do [ "$c" = bound ] || printf '%s ' "$c"; done); fi
SAMPLE_INTERVAL=${SAMPLE_INTERVAL:-0.05}
BENCH_LOCK=${BENCH_LOCK-/tmp/llama-bench.lock}
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi

# real_init NAME "$@": NAME's usage is `bench/real/NAME.sh BUILD_DIR OUT_DIR`.
# Sets BUILD_DIR, BIN, LLAMA_SO, OUT (absolute, created), PROG (NAME), W
# (REAL_WORK/NAME), the peers (JEMALLOC_SO ...) and LIVEBYTES_SO (the
# bound's shim, built next to libllamalloc.so).
real_init() {
  PROG=$1
  shift
  if [ $# -ne 2 ]; then
    echo "usage: bench/real/$PROG.sh BUILD_DIR OUT_DIR" >&2
    exit 2
  fi
  bench_use_build "real/$PROG" "$1"
  mkdir -p "$2"
  OUT=$(cd "$2" && pwd)
  REAL_WORK=${REAL_WORK:-/tmp/real}
  W="$REAL_WORK/$PROG"
  mkdir -p "$W" "$OUT/logs"
  for t in llama-config llama-profdata llama-train; do
    [ -x "$BIN/$t" ] || { echo "$PROG: $BIN/$t missing; build LLAMA first (make build)" >&2; exit 2; }
  done
  [ -f "$LLAMA_SO" ] || { echo "$PROG: $LLAMA_SO missing" >&2; exit 2; }
  LIVEBYTES_SO="$BUILD_DIR/lib/liblivebytes.so"
  # rss_sampler.py --peak-exec: peaks without the forked Python's ~10.5 MiB.
  PEAKEXEC="$BUILD_DIR/bin/llama-peakexec"
  [ -x "$PEAKEXEC" ] || { echo "$PROG: $PEAKEXEC missing; build LLAMA first (make build)" >&2; exit 2; }
  bench_find_peers
}

real_log() { bench_log "$PROG: $*"; }

# real_apt PKG...: installs the packages that are missing.
real_apt() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  real_log "installing ${missing[*]}"
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}

# real_apt_source PKG DIR: `apt-get source PKG` into DIR (cached: skipped when
# DIR/PKG-* exists); enables deb-src the way bench/speedtest1.sh does.
# Prints the source directory.
real_apt_source() {
  local pkg=$1 dir=$2 src
  mkdir -p "$dir"
  src=$(find "$dir" -maxdepth 1 -type d -name "$pkg-[0-9]*" -print -quit)
  if [ -z "$src" ]; then
    real_apt dpkg-dev
    if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
      real_log "enabling deb-src (/etc/apt/sources.list.d/llama-deb-src.sources)"
      printf '%s\n' 'Types: deb-src' 'URIs: http://deb.debian.org/debian' \
        'Suites: bookworm bookworm-updates' 'Components: main' \
        'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' |
        $SUDO tee /etc/apt/sources.list.d/llama-deb-src.sources >/dev/null
      $SUDO apt-get update -qq
    fi
    real_log "apt-get source $pkg"
    (cd "$dir" && apt-get source -qq "$pkg" >/dev/null 2>&1) || { real_log "apt-get source $pkg failed"; exit 1; }
    src=$(find "$dir" -maxdepth 1 -type d -name "$pkg-[0-9]*" -print -quit)
  fi
  echo "$src"
}

# real_use_works: true when this LLAMA build has the use build
# (`llama-config --use=... --cflags` succeeds on the program's profile).
real_use_works() {
  [ -s "$W/$PROG.llamaprof" ] && [ -s "$W/$PROG.fk.llamamodel" ] &&
    "$BIN/llama-config" --use="$W/$PROG.llamaprof" --model="$W/$PROG.fk.llamamodel" --cflags >/dev/null 2>&1
}

# real_newer FILE: FILE is newer than everything a use build depends on.
real_newer() {
  [ "$1" -nt "$W/$PROG.llamaprof" ] && [ "$1" -nt "$W/$PROG.fk.llamamodel" ] &&
    [ "$1" -nt "$LLAMA_SO" ] && [ "$1" -nt "$BUILD_DIR/lib/LlamaPass.so" ]
}

# real_stage_flags STAGE: sets STAGE_CFLAGS and STAGE_LDFLAGS (strings) for
# plain, prof or use.
real_stage_flags() {
  STAGE_CFLAGS="-O2 -g"
  STAGE_LDFLAGS=""
  case $1 in
    plain) ;;
    prof)
      # llama-config's -gline-tables-only first, then our -g (the last -g wins).
      STAGE_CFLAGS="-O2 $("$BIN/llama-config" --generate --cflags) -g"
      STAGE_LDFLAGS="$("$BIN/llama-config" --generate --ldflags)" ;;
    use)
      local args=(--use="$W/$PROG.llamaprof" --model="$W/$PROG.fk.llamamodel")
      STAGE_CFLAGS="-O2 $("$BIN/llama-config" "${args[@]}" --cflags) -g" || return 1
      STAGE_LDFLAGS="$("$BIN/llama-config" "${args[@]}" --ldflags)" || return 1 ;;
    *) return 1 ;;
  esac
}

# real_stages: the stages to build now (STAGES, minus use when it is not
# available yet).
real_stages() {
  local s
  for s in ${STAGES:-plain prof use}; do
    if [ "$s" = use ] && ! real_use_works; then
      real_log "use stage skipped: \`llama-config --use=$W/$PROG.llamaprof --model=...\` does not work with this LLAMA build"
      continue
    fi
    echo "$s"
  done
}

# real_train: W/raw/*.profraw -> W/PROG.llamaprof, and two models: the
# default features (PROG.llamamodel) and frame,kind (PROG.fk.llamamodel,
# what a stack unwinder sees: physical frames). The training reports go to
# OUT/train*.txt, `show` to OUT/show.txt.
# real_profile_fresh PROFILE BINARY: true (and says so) when PROFILE exists
# and is newer than the profiling build's BINARY, unless FORCE=1; then the
# caller's profile() has nothing to do. Otherwise it clears W/raw for it.
real_profile_fresh() {
  if [ "${FORCE:-0}" != 1 ] && [ -s "$1" ] && [ "$1" -nt "$2" ]; then
    real_log "profile is up to date ($1)"
    return 0
  fi
  rm -rf "$W/raw"
  mkdir -p "$W/raw"
  return 1
}

# real_build_all: every stage of STAGES through the script's build_stage,
# profile() right after the profiling build, and the use stage in a second
# pass once the profile exists.
real_build_all() {
  local stage
  for stage in $(real_stages); do
    build_stage "$stage"
    if [ "$stage" = prof ]; then profile; fi
  done
  if [[ " ${STAGES:-plain prof use} " == *" use "* ]] && real_use_works; then
    build_stage use
  fi
}

real_train() {
  real_log "llama-profdata merge ($(find "$W/raw" -name '*.profraw' | wc -l) raw profiles)"
  "$BIN/llama-profdata" merge -o "$W/$PROG.llamaprof" "$W"/raw/*.profraw 2>"$OUT/merge.txt"
  "$BIN/llama-profdata" show --top=25 --contexts=3 --depth=8 "$W/$PROG.llamaprof" >"$OUT/show.txt"
  "$BIN/llama-profdata" show --json "$W/$PROG.llamaprof" >"$W/$PROG.show.json"
  real_log "llama-train (default features)"
  "$BIN/llama-train" --progress=log -o "$W/$PROG.llamamodel" "$W/$PROG.llamaprof" >"$OUT/train.txt" 2>&1
  real_log "llama-train --features=frame,kind"
  "$BIN/llama-train" --progress=log --features=frame,kind -o "$W/$PROG.fk.llamamodel" "$W/$PROG.llamaprof" >"$OUT/train-fk.txt" 2>&1
  grep -h 'held-out\|limit any model' "$OUT/train.txt" "$OUT/train-fk.txt" | sed "s/^/$PROG: /" >&2 || true
}

# real_config_env CONFIG: sets CFG_PRELOAD, CFG_ENV (array of VAR=value),
# CFG_STAGE (which build's binary runs) and CFG_LIVE (1: measure live bytes,
# the bound) for a configuration. Returns 1 when the configuration cannot
# run here.
real_config_env() {
  CFG_PRELOAD=
  CFG_ENV=()
  CFG_STAGE=plain
  CFG_LIVE=0
  case $1 in
    glibc) ;;
    jemalloc) CFG_PRELOAD=$JEMALLOC_SO ;;
    tcmalloc) CFG_PRELOAD=$TCMALLOC_SO ;;
    mimalloc) CFG_PRELOAD=$MIMALLOC_SO ;;
    llama-dyn) CFG_PRELOAD=$LLAMA_SO; CFG_ENV=(LLAMA_MODEL="$W/$PROG.fk.llamamodel" LLAMA_STATS=1) ;;
    llama-use) CFG_STAGE=use; CFG_ENV=(LLAMA_STATS=1) ;;
    bound) CFG_PRELOAD=$LIVEBYTES_SO; CFG_LIVE=1 ;;
    *) return 1 ;;
  esac
  case $1 in
    glibc|llama-use) ;;
    *) [ -n "$CFG_PRELOAD" ] && [ -f "$CFG_PRELOAD" ] || return 1 ;;
  esac
  if [ "${REAL_THP:-}" = always ]; then
    case $1 in
      glibc|bound) CFG_ENV+=(GLIBC_TUNABLES=glibc.malloc.hugetlb=1) ;;
      jemalloc) CFG_ENV+=(MALLOC_CONF=thp:always,metadata_thp:always) ;;
      mimalloc) CFG_ENV+=(MIMALLOC_LARGE_OS_PAGES=1) ;;
    esac
  fi
  return 0
}

# real_measure CONFIG WORKLOAD REP BINARY [--stdin=FILE] [--cwd=DIR] -- ARGS...
# Runs one measured run under the sampler (holding BENCH_LOCK; the bound's
# with --live=OUT/logs/WORKLOAD_bound_repREP.live, the shim's page, kept
# after the run); appends a JSON line with config,
# workload and rep to OUT/measure.jsonl; the program's stdout and stderr go
# to OUT/logs/WORKLOAD_CONFIG_repREP.{out,err}. Returns non-zero on failure.
real_measure() {
  local config=$1 workload=$2 rep=$3 binary=$4 stdin=/dev/null cwd=.
  shift 4
  while [ $# -gt 0 ] && [ "$1" != -- ]; do
    case $1 in
      --stdin=*) stdin=${1#--stdin=} ;;
      --cwd=*) cwd=${1#--cwd=} ;;
    esac
    shift
  done
  [ "${1:-}" = -- ] && shift
  real_config_env "$config" || return 1
  local log="$OUT/logs/${workload}_${config}_rep$rep" envs=() e
  for e in "${CFG_ENV[@]}"; do envs+=(--env "$e"); done
  [ -n "$CFG_PRELOAD" ] && envs+=(--env "LD_PRELOAD=$CFG_PRELOAD")
  [ "$CFG_LIVE" = 1 ] && envs+=(--env "LLAMA_LIVE_FILE=$log.live" --live="$log.live")
  local status=0 lock=()
  [ -n "$BENCH_LOCK" ] && lock=(flock "$BENCH_LOCK")
  rm -f "$log.json"
  (cd "$cwd" && "${lock[@]}" python3 "$SAMPLER" --interval="$SAMPLE_INTERVAL" --json="$log.json" \
     --peak-exec="$PEAKEXEC" \
     --label="$config" --stdin="$stdin" --stdout="$log.out" --stderr="$log.err" \
     "${envs[@]}" -- "$binary" "$@") >/dev/null || status=$?
  python3 - "$log.json" "$config" "$workload" "$rep" "$log.err" >>"$OUT/measure.jsonl" <<'EOF'
import json, re, sys
path, config, workload, rep, err = sys.argv[1:]
d = json.loads(open(path).read().splitlines()[-1])
d.update(config=config, workload=workload, rep=int(rep))
try:
    m = re.search(r"allocations: static (\d+), predicted (\d+), default (\d+)", open(err, errors="replace").read())
    if m:
        d["static"], d["predicted"], d["default"] = map(int, m.groups())
except OSError:
    pass
print(json.dumps(d))
EOF
  if [ $status -ne 0 ]; then
    real_log "FAILED: $workload under $config (rep $rep), see $log.err"
    tail -n 3 "$log.err" | sed 's/^/    /' >&2
  fi
  return $status
}

# real_measure_all WORKLOAD PREP_FN RUN_FN: REPS rounds over the usable
# configurations (rotated each round; bound in the first round only).
# PREP_FN CONFIG is called before each run (e.g. to delete a database,
# untimed); RUN_FN CONFIG REP BINARY runs
# real_measure with the workload's arguments; BINARY is the build of the
# configuration's stage (W/STAGE/...), resolved by RUN_FN itself.
real_measure_all() {
  local workload=$1 prep=$2 run=$3 rep cfg usable=()
  for cfg in $CONFIGS; do
    if ! real_config_env "$cfg"; then
      real_log "warning: $cfg is not available; skipping it"
      continue
    fi
    if [ "$CFG_STAGE" = use ] && ! real_use_works; then
      real_log "warning: $cfg needs the use build, which is not available yet; skipping it"
      continue
    fi
    usable+=("$cfg")
  done
  for rep in $(seq 1 "$REPS"); do
    for cfg in $(bench_rotate $((rep - 1)) "${usable[@]}"); do
      [ "$cfg" = bound ] && [ "$rep" -gt 1 ] && continue
      real_log "$workload: $cfg, rep $rep/$REPS"
      $prep "$cfg"
      $run "$cfg" "$rep" || true
    done
  done
}

# real_measure_reset: forgets earlier measurements: all of them, or with
# APPEND=1 only those of the configurations in CONFIGS (so that, e.g.,
# CONFIGS=llama-use APPEND=1 re-measures the use build next to the peers
# measured before).
real_measure_reset() {
  if [ "${REAL_THP:-}" = always ]; then
    bench_thp_set always || { real_log "REAL_THP=always needs a writable $BENCH_THP_FILE (root)"; exit 2; }
    trap bench_thp_restore EXIT
    real_log "THP set to always for the measurements (was $BENCH_THP_SAVED; restored at exit)"
  fi
  if [ "${APPEND:-0}" = 1 ] && [ -f "$OUT/measure.jsonl" ]; then
    python3 - "$OUT/measure.jsonl" $CONFIGS <<'EOF2'
import json, sys
path, drop = sys.argv[1], set(sys.argv[2:])
keep = [l for l in open(path) if l.strip() and json.loads(l)["config"] not in drop]
open(path, "w").writelines(keep)
EOF2
  else
    rm -f "$OUT/measure.jsonl"
  fi
}

# real_report TITLE: the markdown tables from OUT/measure.jsonl into
# OUT/results.md (and stdout).
real_report() {
  local setting="default: THP $(bench_thp_mode), peers as installed"
  [ "${REAL_THP:-}" = always ] &&
    setting="huge pages for all: THP $(bench_thp_mode), glibc.malloc.hugetlb=1, jemalloc thp:always, MIMALLOC_LARGE_OS_PAGES=1"
  python3 "$HERE_REAL/report.py" --title="$1 ($setting)" "$OUT/measure.jsonl" | tee "$OUT/results.md"
}
