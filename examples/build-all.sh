#!/usr/bin/env bash
# examples/build-all.sh BUILD_DIR OUT_DIR [extra flags...]
#
# Builds the example programs into OUT_DIR: kvserver, webapp-v1, webapp-v2.
# By default the profiling build (BUILD_DIR/bin/llama-config --generate);
# LLAMA_CONFIG= (empty) builds them plain, LLAMA_CONFIG="..." passes other
# llama-config arguments. CFLAGS, LDFLAGS, CC, CXX and extra flags are passed
# on to examples/kvserver/build.sh and examples/versions/build.sh.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 BUILD_DIR OUT_DIR [extra flags...]" >&2
  exit 2
fi
HERE=$(cd "$(dirname "$0")" && pwd)
export LLAMA_CONFIG="${LLAMA_CONFIG---generate}"
"$HERE/kvserver/build.sh" "$@"
"$HERE/versions/build.sh" "$@"
echo "build-all.sh: built $2/kvserver $2/webapp-v1 $2/webapp-v2 (llama-config ${LLAMA_CONFIG:-none})" >&2
