#!/bin/sh
# html_profile.sh DIR - builds Inputs/html_workload.c as a profiling build
# (llama-clang), runs it with every allocation sampled and merges the run
# into DIR/w.llamaprof; writes DIR/w.json (show --json, every site).
set -eu
dir=$1 here=$(dirname "$0")
rm -f "$dir"/w.profraw*
LLAMA_GENERATE=1 llama-clang -O1 "$here"/html_workload.c -o "$dir"/workload
LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE="$dir"/w.profraw "$dir"/workload > /dev/null
llama-profdata merge -q -o "$dir"/w.llamaprof "$dir"/w.profraw
llama-profdata show --json "$dir"/w.llamaprof > "$dir"/w.json
