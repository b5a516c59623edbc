#!/usr/bin/env bash
# examples/profile-all.sh BUILD_DIR OUT_DIR
#
# Builds the examples in profiling mode (build-all.sh) and profiles each of
# them twice, with seeds 1 (training) and 2 (held out):
#   OUT_DIR/kvserver-train.llamaprof    OUT_DIR/kvserver-heldout.llamaprof
#   OUT_DIR/webapp-v1-train.llamaprof   OUT_DIR/webapp-v1-heldout.llamaprof
#   OUT_DIR/webapp-v2-train.llamaprof   OUT_DIR/webapp-v2-heldout.llamaprof
# then prints each program's class histogram (profile-summary.py), and how
# far an exact-context lookup learned from one profile gets on the other
# (held-out seed; and v1 -> v2).
#
# Takes about 30 s (six runs of ~4 s). SECONDS_PER_RUN (default 4) and
# LLAMA_PROF_SAMPLE (default 1) change the runs.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR OUT_DIR" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD_DIR=$(cd "$1" && pwd)
mkdir -p "$2"
OUT=$(cd "$2" && pwd)
SECS=${SECONDS_PER_RUN:-4}

LLAMA_CONFIG=--generate "$HERE/build-all.sh" "$BUILD_DIR" "$OUT"
for prog in kvserver webapp-v1 webapp-v2; do
  for run in train:1 heldout:2; do
    SHOW_TOP=0 "$HERE/profile.sh" "$BUILD_DIR" "$OUT/$prog" "$OUT/$prog-${run%%:*}.llamaprof" \
      --seed="${run##*:}" --seconds="$SECS"
  done
done
for prog in kvserver webapp-v1 webapp-v2; do
  echo
  "$HERE/profile-summary.py" --bin="$BUILD_DIR/bin" "$OUT/$prog-train.llamaprof" \
    "$OUT/$prog-heldout.llamaprof"
done
echo
"$HERE/profile-summary.py" --bin="$BUILD_DIR/bin" "$OUT/webapp-v1-train.llamaprof" \
  "$OUT/webapp-v2-heldout.llamaprof" | sed -n '/^exact-context/,$p'
