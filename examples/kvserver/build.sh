#!/usr/bin/env bash
# examples/kvserver/build.sh BUILD_DIR OUT_DIR [extra flags...]
#
# Builds OUT_DIR/kvserver with clang-19 (objects in OUT_DIR/obj/kvserver).
#
#   CFLAGS       optimisation and the like, for C and C++ (default: -O2)
#   LDFLAGS      extra link flags (default: none)
#   LLAMA_CONFIG arguments for BUILD_DIR/bin/llama-config, whose --cflags and
#                --ldflags are added: "--generate" for the profiling build
#                (default: empty, a plain build)
#   CC, CXX      compilers (default: clang-19, clang++-19)
# Extra arguments are added to every compile and link command (e.g.
# -fsanitize=address).
#
# Plain:      examples/kvserver/build.sh build out
# Profiling:  LLAMA_CONFIG=--generate examples/kvserver/build.sh build out
#   (the same as passing $(build/bin/llama-config --generate --cflags) as
#    extra flags and LDFLAGS="$(build/bin/llama-config --generate --ldflags)")
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
CXX=${CXX:-clang++-19}
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

OBJ="$OUT_DIR/obj/kvserver"
mkdir -p "$OBJ"
objs=()
# shellcheck disable=SC2086
for f in util strutil bufpool value config store cache response session request command \
         logger snapshot workload memstat server; do
  $CC -std=c11 $WARN $CFLAGS $LLAMA_CFLAGS "$@" -c "$SRC/$f.c" -o "$OBJ/$f.o"
  objs+=("$OBJ/$f.o")
done
# shellcheck disable=SC2086
for f in keyindex stats; do
  $CXX -std=c++17 $WARN $CFLAGS $LLAMA_CFLAGS "$@" -c "$SRC/$f.cpp" -o "$OBJ/$f.o"
  objs+=("$OBJ/$f.o")
done
# (compile-only flags among the extra ones would only warn at link time)
# shellcheck disable=SC2086
$CXX $CFLAGS -Wno-unused-command-line-argument "$@" "${objs[@]}" -o "$OUT_DIR/kvserver" \
  $LDFLAGS $LLAMA_LDFLAGS
