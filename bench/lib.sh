# shellcheck shell=bash
# bench/lib.sh - shared by bench/run.sh and bench/demo.sh (sourced, not run):
# the allocator configurations, how to find the peers' shared objects, and
# how one benchmark program runs under one allocator and lands in the CSV.
#
# A configuration is a name, an LD_PRELOAD path (empty: glibc) and extra
# environment settings. The same benchmark binary runs under each of them;
# only libllamalloc provides llama_malloc_class, which the programs look up
# with dlsym at start-up.

bench_log() { printf '%s\n' "$*" >&2; }

# Transparent huge pages for a measurement (bench/run.sh BENCH_THP=always,
# bench/demo.sh's second setting). bench_thp_set MODE saves the current mode
# and writes MODE; it fails when the file is not writable (not root).
# bench_thp_restore puts the saved mode back (harmless when nothing was set).
BENCH_THP_FILE=/sys/kernel/mm/transparent_hugepage/enabled
BENCH_THP_SAVED=
bench_thp_mode() { sed -n 's/.*\[\(.*\)\].*/\1/p' "$BENCH_THP_FILE" 2>/dev/null; }
bench_thp_set() {
  local old
  old=$(bench_thp_mode)
  { echo "$1" >"$BENCH_THP_FILE"; } 2>/dev/null || return 1
  [ -n "$BENCH_THP_SAVED" ] || BENCH_THP_SAVED=$old
}
bench_thp_restore() {
  [ -z "$BENCH_THP_SAVED" ] || echo "$BENCH_THP_SAVED" >"$BENCH_THP_FILE" 2>/dev/null || true
  BENCH_THP_SAVED=
}

# bench_use_build NAME "$@": checks that the script got exactly one argument,
# a build directory, and sets BUILD_DIR (absolute), BIN and LLAMA_SO from it;
# exits 2 with NAME's usage otherwise.
bench_use_build() {
  local name=$1
  shift
  if [ $# -ne 1 ]; then
    echo "usage: bench/$name.sh BUILD_DIR" >&2
    exit 2
  fi
  BUILD_DIR=$(cd "$1" 2>/dev/null && pwd) || { echo "$name: no build directory '$1'" >&2; exit 2; }
  BIN="$BUILD_DIR/bin"
  LLAMA_SO="$BUILD_DIR/lib/libllamalloc.so"
}

# Prints the path of the first file of a Debian package whose name ends in
# /$2, or nothing.
bench_pkg_file() {
  dpkg -L "$1" 2>/dev/null | grep -E "/$2\$" | head -n 1
}

# Prints the path of a shared object by its soname from the loader cache.
bench_ldconfig_file() {
  ldconfig -p 2>/dev/null | awk -v so="$1" '$1 == so { print $NF; exit }'
}

# Locates the peers; sets JEMALLOC_SO, TCMALLOC_SO, MIMALLOC_SO (empty when
# not installed).
bench_find_peers() {
  JEMALLOC_SO=$(bench_pkg_file libjemalloc2 libjemalloc.so.2)
  [ -n "$JEMALLOC_SO" ] || JEMALLOC_SO=$(bench_ldconfig_file libjemalloc.so.2)
  TCMALLOC_SO=$(bench_pkg_file libtcmalloc-minimal4 libtcmalloc_minimal.so.4)
  [ -n "$TCMALLOC_SO" ] || TCMALLOC_SO=$(bench_ldconfig_file libtcmalloc_minimal.so.4)
  [ -n "$TCMALLOC_SO" ] || TCMALLOC_SO=$(bench_pkg_file libgoogle-perftools4 libtcmalloc.so.4)
  [ -n "$TCMALLOC_SO" ] || TCMALLOC_SO=$(bench_ldconfig_file libtcmalloc.so.4)
  MIMALLOC_SO=$(bench_pkg_file libmimalloc2.0 libmimalloc.so.2)
  [ -n "$MIMALLOC_SO" ] || MIMALLOC_SO=$(bench_ldconfig_file libmimalloc.so.2)
}

# The configurations the harness knows. Fields: name|preload|env (env is a
# space-separated list of VAR=value). The -thp peers are the same allocators
# told to use transparent huge pages, which under THP "madvise" mode they do
# not do by default (tcmalloc from gperftools has no such option).
bench_config_line() {
  local llama_so=$1
  case $2 in
    glibc)        echo "glibc||" ;;
    jemalloc)     echo "jemalloc|$JEMALLOC_SO|" ;;
    tcmalloc)     echo "tcmalloc|$TCMALLOC_SO|" ;;
    mimalloc)     echo "mimalloc|$MIMALLOC_SO|" ;;
    llama)        echo "llama|$llama_so|" ;;
    glibc-thp)    echo "glibc-thp||GLIBC_TUNABLES=glibc.malloc.hugetlb=1" ;;
    jemalloc-thp) echo "jemalloc-thp|$JEMALLOC_SO|MALLOC_CONF=thp:always,metadata_thp:always" ;;
    mimalloc-thp) echo "mimalloc-thp|$MIMALLOC_SO|MIMALLOC_LARGE_OS_PAGES=1" ;;
    *) return 1 ;;
  esac
}

# Checks that every named configuration can run; prints the usable ones.
# A missing peer is skipped with a warning; a missing libllamalloc is an
# error (returns 1), since LLAMA is what the harness measures.
bench_usable_configs() {
  local llama_so=$1; shift
  local name line preload ok=0
  for name in "$@"; do
    if ! line=$(bench_config_line "$llama_so" "$name"); then
      bench_log "bench: unknown allocator configuration '$name'"
      return 1
    fi
    preload=$(echo "$line" | cut -d'|' -f2)
    if [ "$name" != glibc ] && [ "$name" != glibc-thp ]; then
      if [ -z "$preload" ] || [ ! -f "$preload" ]; then
        if [ "$name" = llama ]; then
          bench_log "bench: error: ${llama_so} not found; run 'make build' first"
          ok=1
          continue
        fi
        bench_log "bench: warning: $name is not installed; skipping it"
        continue
      fi
    fi
    echo "$name"
  done
  return $ok
}

# bench_run_one LLAMA_SO CONFIG BINARY CSV REP LOGDIR -- ARGS...
# Runs BINARY once under CONFIG, appends "rep,config,bench,variant,metric,value"
# rows to CSV and keeps the program's full output in LOGDIR. Checks that the
# preload took effect (the program names the object providing malloc).
# Returns non-zero (and logs why) when the run failed.
bench_run_one() {
  local llama_so=$1 config=$2 binary=$3 csv=$4 rep=$5 logdir=$6
  shift 7
  local line preload envs log status provider tag
  line=$(bench_config_line "$llama_so" "$config")
  preload=$(echo "$line" | cut -d'|' -f2)
  envs=$(echo "$line" | cut -d'|' -f3)
  tag=$(basename "$binary")
  for a in "$@"; do
    case $a in
      --variant=*) tag="${tag}_${a#--variant=}" ;;
      --unpaced) tag="${tag}_unpaced" ;;
    esac
  done
  log="$logdir/${tag}_${config}_rep${rep}.log"
  # shellcheck disable=SC2086 # envs is a list of VAR=value words
  env ${preload:+LD_PRELOAD=$preload} $envs \
    timeout "${BENCH_TIMEOUT:-600}" "$binary" "$@" >"$log" 2>&1
  status=$?
  if [ $status -ne 0 ]; then
    bench_log "bench: FAILED: $config $tag (exit status $status; see $log)"
    tail -n 5 "$log" | sed 's/^/    /' >&2
    echo "$rep,$config,$(basename "$binary"),-,failed_exit_status,$status" >>"$csv"
    return 1
  fi
  provider=$(sed -n 's/^# [a-z_]*: malloc from \([^;]*\);.*/\1/p' "$log" | head -n 1)
  case $config in
    glibc|glibc-thp) [ "$provider" = glibc ] ;;
    *) [ "$provider" = "$preload" ] ;;
  esac || {
    bench_log "bench: FAILED: $config $tag: malloc came from '$provider', not '${preload:-glibc}'"
    echo "$rep,$config,$(basename "$binary"),-,failed_preload,1" >>"$csv"
    return 1
  }
  if [ "$config" = llama ] && ! grep -q 'llama_malloc_class found' "$log"; then
    bench_log "bench: FAILED: llama $tag: llama_malloc_class not found in $preload"
    echo "$rep,$config,$(basename "$binary"),-,failed_preload,1" >>"$csv"
    return 1
  fi
  grep '^RESULT,' "$log" | sed "s/^RESULT,/$rep,$config,/" >>"$csv"
  return 0
}

# Rotates the list "$@" left by $1 positions (spreads order effects across
# repetitions).
bench_rotate() {
  local k=$1; shift
  local n=$# i
  local -a items=("$@")
  [ "$n" -gt 0 ] || return 0
  for ((i = 0; i < n; i++)); do echo "${items[$(((i + k) % n))]}"; done
}
