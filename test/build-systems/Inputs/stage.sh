#!/bin/sh
# stage.sh - the steps of the two-stage build that are the same for every
# build system; the lit tests build the project (Inputs/project) their way
# and FileCheck what this prints against checks.txt.
#
#   stage.sh profile OUT LIBRARY APP   the profiling build's library is
#                                      instrumented; run APP (one profile,
#                                      every allocation sampled), merge it into
#                                      OUT.llamaprof and show it
#   stage.sh use LIBRARY APP           the use build's library calls the
#                                      class-annotated entry points; run APP
#                                      and print where its classes came from
set -eu
case "$1" in
profile)
  out=$2 library=$3 app=$4
  echo "instrumented library: $(nm -D "$library" | grep -c ' U __llama_prof_') profiler entry points"
  rm -f "$out".profraw
  LLAMA_PROF_FILE="$out".profraw LLAMA_PROF_SAMPLE=1 "$app"
  llama-profdata merge -q -o "$out".llamaprof "$out".profraw
  llama-profdata show "$out".llamaprof
  ;;
use)
  library=$2 app=$3
  echo "use library: $(nm -D "$library" | grep -c ' U llama_[a-z]*_class$') class entry points, $(nm -D "$library" | grep -c ' U __llama_prof_') profiler entry points"
  LLAMA_STATS=1 "$app" 2>&1 | grep -E '^(chars|allocations:)'
  ;;
*)
  echo "usage: stage.sh profile OUT LIBRARY APP | use LIBRARY APP" >&2
  exit 2
  ;;
esac
