//===- Statistics.cpp - the passes' counters under -stats, in release LLVM ===//
//
// How: llvm_shutdown destroys LLVM's ManagedStatics in the reverse order of
// their creation. The statistics registry is created first (GetStatistics()
// creates it), then our printer, so the printer's destructor runs while the
// registry still holds the counters, and prints them. It then clears -stats,
// so that the release build's printer, which runs next, does not add
// "Statistics are disabled" after the table. Statistics.h has the contract.
// To see it (build: the CMake build directory):
//
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-instrument \
//     in.ll -disable-output -stats
//
//===----------------------------------------------------------------------===//
#include "Statistics.h"

#include "llvm/ADT/Statistic.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/ManagedStatic.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

namespace {

// LLVM 19 declares -stats and -stats-json as cl::opt<bool, true>
// (lib/Support/Statistic.cpp); CMakeLists.txt accepts no other LLVM.
cl::opt<bool, true> *boolOption(StringRef Name) {
  return static_cast<cl::opt<bool, true> *>(cl::getRegisteredOptions().lookup(Name));
}

struct ExitPrinter {
  ~ExitPrinter() {
    cl::opt<bool, true> *Stats = boolOption("stats"), *Json = boolOption("stats-json");
    if (!Stats || !*Stats)
      return;
    std::unique_ptr<raw_fd_ostream> OS = CreateInfoOutputFile();
    if (Json && *Json)
      PrintStatisticsJSON(*OS);
    else
      PrintStatistics(*OS);
    Stats->setValue(false);
  }
};

ManagedStatic<ExitPrinter> Printer;

} // namespace

void llama::printStatisticsAtExit() {
  cl::opt<bool, true> *Stats = boolOption("stats");
  if (!Stats || !*Stats)
    return;
  (void)GetStatistics(); // the registry first: it must outlive Printer
  (void)*Printer;
}
