#!/usr/bin/env bash
# examples/profile.sh BUILD_DIR PROGRAM OUT.llamaprof [program args...]
#
# Runs PROGRAM (a profiling build: llama-config --generate) once in a
# temporary directory with the profiler on, merges its raw profile(s) into
# the indexed profile OUT.llamaprof with BUILD_DIR/bin/llama-profdata, and
# prints `llama-profdata show --top=10` of it. Builds nothing.
#
#   LLAMA_PROF_SAMPLE   sampling period (default here: 1, every allocation;
#                       these examples are small)
#   SHOW_TOP            sites in the summary (default 10; 0: no summary)
#   SHOW_CONTEXTS       contexts per site in the summary (default 3)
#   SHOW_DEPTH          frames per context in the summary (default 6)
# Other LLAMA_PROF_* variables (LLAMA_PROF_DEPTH, LLAMA_PROF_UNWIND, ...) are
# passed through to the program.
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 BUILD_DIR PROGRAM OUT.llamaprof [program args...]" >&2
  exit 2
fi
BUILD_DIR=$1
PROGRAM=$2
OUT=$3
shift 3
PROFDATA="$BUILD_DIR/bin/llama-profdata"
[ -x "$PROFDATA" ] || { echo "$0: no $PROFDATA (build the project first)" >&2; exit 1; }
case "$PROGRAM" in
  */*) ;;
  *) PROGRAM=$(command -v "$PROGRAM") || { echo "$0: no program '$2'" >&2; exit 1; } ;;
esac
[ -x "$PROGRAM" ] || { echo "$0: no program '$PROGRAM'" >&2; exit 1; }
PROGRAM=$(cd "$(dirname "$PROGRAM")" && pwd)/$(basename "$PROGRAM")

TMP=$(mktemp -d "${TMPDIR:-/tmp}/llama-profile.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

start=$(date +%s%N)
# The program runs in the temporary directory (its relative paths, if any,
# resolve there); the raw profiles land there too.
(cd "$TMP" && env LLAMA_PROF_FILE="$TMP/prof-%p.profraw" \
   LLAMA_PROF_SAMPLE="${LLAMA_PROF_SAMPLE:-1}" "$PROGRAM" "$@")
end=$(date +%s%N)
echo "profile.sh: $(basename "$PROGRAM") ran $(( (end - start) / 1000000 )) ms" >&2

shopt -s nullglob
raws=("$TMP"/prof-*.profraw)
if [ ${#raws[@]} -eq 0 ]; then
  echo "$0: $(basename "$PROGRAM") wrote no raw profile (not a profiling build?)" >&2
  exit 1
fi
"$PROFDATA" merge -q -o "$OUT" "${raws[@]}"
echo "profile.sh: merged ${#raws[@]} raw profile(s) into $OUT" >&2
if [ "${SHOW_TOP:-10}" != 0 ]; then
  "$PROFDATA" show --top="${SHOW_TOP:-10}" --contexts="${SHOW_CONTEXTS:-3}" \
    --depth="${SHOW_DEPTH:-6}" "$OUT"
fi
