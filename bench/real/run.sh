#!/usr/bin/env bash
# bench/real/run.sh BUILD_DIR OUT_DIR - LLAMA on three real programs from
# Debian's source packages, each built in two stages (profile -> train ->
# use build): SQLite (C, bench/real/sqlite.sh), LevelDB (C++,
# bench/real/leveldb.sh) and libxml2's xmllint (C, autotools and libtool,
# built through llama-clang; bench/real/libxml2.sh). Each writes its
# results under OUT_DIR/NAME; this script concatenates them into
# OUT_DIR/results.md and prints it.
#
# Takes about an hour on 2 CPUs (builds of three stages each, the test
# suites three times each, 6 allocator configurations x REPS runs of 8
# workloads). Environment: PROGRAMS ("sqlite leveldb libxml2") and everything
# bench/real/common.sh, sqlite.sh and leveldb.sh read (REPS, CONFIGS,
# REAL_WORK, STAGES, SKIP_TESTS, MEASURE, FORCE, ...).
#
# Measurements are only as good as the machine is quiet: nothing else should
# run meanwhile (rss_sampler.py measures wall time).
set -euo pipefail

HERE_RUN=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -ne 2 ]; then
  echo "usage: bench/real/run.sh BUILD_DIR OUT_DIR" >&2
  exit 2
fi
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
status=0
for p in ${PROGRAMS:-sqlite leveldb libxml2}; do
  "$HERE_RUN/$p.sh" "$1" "$OUT/$p" || { echo "run.sh: $p.sh failed" >&2; status=1; }
done
{
  echo "# LLAMA on real programs ($(date -u +%F), $(git -C "$HERE_RUN" rev-parse --short HEAD 2>/dev/null || echo '?'))"
  echo
  echo "Ratios: a configuration's median over that of glibc and of the best peer"
  echo "(glibc, jemalloc, tcmalloc, mimalloc) for the same metric; below 1 is better."
  echo "llama-dyn: plain build + LD_PRELOAD=libllamalloc.so + LLAMA_MODEL (frame,kind);"
  echo "llama-use: the use build. static share: allocations with a compile-time class / all (LLAMA_STATS)."
  echo
  for p in ${PROGRAMS:-sqlite leveldb libxml2}; do
    [ -f "$OUT/$p/report.md" ] && cat "$OUT/$p/report.md" && echo
  done
} >"$OUT/results.md"
cat "$OUT/results.md"
exit $status
