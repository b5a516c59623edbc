//===- Statistics.h - the passes' counters under -stats, in release LLVM --===//
//
// The passes count what they do with ALWAYS_ENABLED_STATISTIC (a plain
// STATISTIC is compiled out of Debian's LLVM 19, a release build without
// LLVM_ENABLE_STATS). LLVM registers those counters under -stats all the
// same, but its own printer at exit is compiled to a one-line "Statistics
// are disabled" there. printStatisticsAtExit() makes the plugin print the
// registered counters instead, in LLVM's format (JSON with -stats-json), to
// -info-output-file or stderr:
//
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-instrument \
//     in.ll -disable-output -stats
//
// (build: the CMake build directory); with clang, -mllvm -stats. clang's
// -save-stats writes them as JSON without this printer.
//
//===----------------------------------------------------------------------===//
#ifndef LLAMA_PASS_STATISTICS_H
#define LLAMA_PASS_STATISTICS_H

namespace llama {

// With -stats, arranges for the registered statistics to be printed when
// LLVM shuts down (llvm_shutdown, which opt calls on exit); without, does
// nothing. Call after the command line is parsed: from the plugin's
// registration callback. Idempotent.
void printStatisticsAtExit();

} // namespace llama

#endif // LLAMA_PASS_STATISTICS_H
