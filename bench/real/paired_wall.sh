#!/usr/bin/env bash
# bench/real/paired_wall.sh PROGRAM WORK_DIR [PAIRS] - the real programs'
# wall-time target, measured paired and alternating: the plain build under
# glibc, then the use build under LLAMA, PAIRS times (default 3), each run
# holding BENCH_LOCK (default /tmp/llama-bench.lock, as bench/real/*.sh), so
# that a slow or busy moment of the machine falls on both sides alike.
#
#   PROGRAM   speedtest1 (SQLite: --size 100 --memdb --testset
#             main,orm,cte,fp) or db_bench (LevelDB: the 10 benchmarks of
#             bench/real/leveldb.sh on 400000 keys)
#   WORK_DIR  the work directory bench/real/sqlite.sh or leveldb.sh built
#             (e.g. /tmp/real/sqlite): WORK_DIR/plain/PROG and
#             WORK_DIR/use/PROG must exist
#
# Prints one line per run ("plain 7.53" / "use 7.61", seconds) and then
#   pairs N: plain S s, use S s, use/plain R (sums); pair ratios MIN..MAX, median M
# The wall time includes process start-up and exit; nothing else runs in
# the measured window but the program.
set -euo pipefail

die() { echo "paired_wall: $*" >&2; exit 2; }
[ $# -ge 2 ] || die "usage: bench/real/paired_wall.sh speedtest1|db_bench WORK_DIR [PAIRS]"
PROG=$1
W=$2
PAIRS=${3:-3}
BENCH_LOCK=${BENCH_LOCK-/tmp/llama-bench.lock}
case "$PAIRS" in '' | *[!0-9]* | 0) die "PAIRS must be a positive integer, not '$PAIRS'" ;; esac
for st in plain use; do
  [ -x "$W/$st/$PROG" ] || die "$W/$st/$PROG missing: build it with bench/real/sqlite.sh or leveldb.sh"
done

DB=$(mktemp -d "${TMPDIR:-/tmp}/paired-wall.XXXXXX")
trap 'rm -rf "$DB"' EXIT
run() { # stage -> seconds on stdout
  local bin=$W/$1/$PROG args
  case "$PROG" in
    speedtest1) args=(--size 100 --memdb --testset main,orm,cte,fp) ;;
    db_bench)
      rm -rf "$DB/db"
      args=(--db="$DB/db" --num=400000 --value_size=100 --cache_size=33554432
        --benchmarks=fillrandom,overwrite,readrandom,readseq,seekrandom,deleterandom,fillseq,readreverse,compact,readrandom) ;;
    *) die "unknown program '$PROG' (speedtest1 or db_bench)" ;;
  esac
  local lock=()
  [ -n "$BENCH_LOCK" ] && lock=(flock "$BENCH_LOCK")
  "${lock[@]}" python3 - "$bin" "${args[@]}" <<'EOF'
import subprocess, sys, time
t = time.monotonic()
r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
e = time.monotonic() - t
if r.returncode != 0:
    sys.exit("paired_wall: %s exited with %d" % (sys.argv[1], r.returncode))
print("%.3f" % e)
EOF
}

plain=() use=()
for ((i = 0; i < PAIRS; i++)); do
  p=$(run plain); echo "plain $p"; plain+=("$p")
  u=$(run use); echo "use $u"; use+=("$u")
done
python3 - "${plain[*]}" "${use[*]}" <<'EOF'
import statistics, sys
p = [float(x) for x in sys.argv[1].split()]
u = [float(x) for x in sys.argv[2].split()]
r = [b / a for a, b in zip(p, u)]
print("pairs %d: plain %.2f s, use %.2f s, use/plain %.3f (sums); pair ratios %.3f..%.3f, median %.3f"
      % (len(p), sum(p), sum(u), sum(u) / sum(p), min(r), max(r), statistics.median(r)))
EOF
