#!/usr/bin/env bash
# examples/versions/build.sh BUILD_DIR OUT_DIR [extra flags...]
#
# Builds OUT_DIR/webapp-v1 and OUT_DIR/webapp-v2 (from v1/*.c and v2/*.c)
# with clang-19; objects go to OUT_DIR/obj/webapp-v1 and -v2. Same knobs as
# examples/kvserver/build.sh:
#   CFLAGS (default -O2), LDFLAGS, CC (default clang-19),
#   LLAMA_CONFIG  arguments for BUILD_DIR/bin/llama-config ("--generate" for
#                 the profiling build; empty: plain build)
# Extra arguments go to every compile and link command.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR OUT_DIR [extra flags...]" >&2
  exit 2
fi
BUILD_DIR=$1
OUT_DIR=$2
shift 2
SRC=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-clang-19}
CFLAGS=${CFLAGS:--O2}
LDFLAGS=${LDFLAGS:-}
WARN="-Wall -Wextra"

LLAMA_CFLAGS=
LLAMA_LDFLAGS=
if [ -n "${LLAMA_CONFIG:-}" ]; then
  cfg="$BUILD_DIR/bin/llama-config"
  [ -x "$cfg" ] || { echo "$0: no $cfg (build the project first)" >&2; exit 1; }
  # shellcheck disable=SC2086
  LLAMA_CFLAGS=$("$cfg" $LLAMA_CONFIG --cflags)
  # shellcheck disable=SC2086
  LLAMA_LDFLAGS=$("$cfg" $LLAMA_CONFIG --ldflags)
fi

for v in v1 v2; do
  [ -d "$SRC/$v" ] || continue
  OBJ="$OUT_DIR/obj/webapp-$v"
  mkdir -p "$OBJ"
  objs=()
  for f in "$SRC/$v"/*.c; do
    o="$OBJ/$(basename "$f" .c).o"
    # shellcheck disable=SC2086
    $CC -std=c11 $WARN $CFLAGS $LLAMA_CFLAGS "$@" -c "$f" -o "$o"
    objs+=("$o")
  done
  # (compile-only flags among the extra ones would only warn at link time)
  # shellcheck disable=SC2086
  $CC $CFLAGS -Wno-unused-command-line-argument "$@" "${objs[@]}" -o "$OUT_DIR/webapp-$v" \
    $LDFLAGS $LLAMA_LDFLAGS
done
