//===- LlamaPass.cpp - registration of the LLAMA passes -------------------===//
//
// LlamaPass.so is a new-pass-manager plugin. This file only registers its
// passes, each in a .h/.cpp pair of its own:
//
//   llama-instrument    InstrumentPass   the profiling build
//   llama-use-annotate  UseAnnotatePass  use build, step 1: decide, annotate
//   llama-use-rewrite   UseRewritePass   use build, step 2: entry points
//   llama-use           both steps of the use build
//
// with opt, e.g.
//
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-instrument in.ll -S
//
// (build: the CMake build directory), and in any default pipeline (clang,
// or opt-19 -passes='default<O2>'): with -llama-generate the instrumentation
// runs at the pipeline start (PipelineStartEP); with -llama-use=PROFILE the
// annotate step runs there and the rewrite step at the end of the
// optimisation pipeline (OptimizerLastEP). Running at the start, before any
// inlining or allocation elimination, means the profiling build and the use
// build see the same calls at every optimisation level; docs/design.md
// explains.
//
//===----------------------------------------------------------------------===//

#include "llvm/IR/PassManager.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Passes/PassPlugin.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/ErrorHandling.h"

#include "InstrumentPass.h"
#include "Statistics.h"
#include "UseAnnotatePass.h"
#include "UseBuild.h"
#include "UseRewritePass.h"
#include "llama/version.h"

using namespace llvm;
using namespace llama;

static cl::opt<bool> ClGenerate(
    "llama-generate", cl::init(false),
    cl::desc("LLAMA profiling build: route allocation sites to libllamaprof"));

extern "C" LLVM_ATTRIBUTE_WEAK PassPluginLibraryInfo llvmGetPassPluginInfo() {
  return {LLVM_PLUGIN_API_VERSION, "LlamaPass", LLAMA_VERSION_STRING, [](PassBuilder &PB) {
            printStatisticsAtExit(); // -stats: the counters, despite a release LLVM
            PB.registerPipelineParsingCallback(
                [](StringRef Name, ModulePassManager &MPM, ArrayRef<PassBuilder::PipelineElement>) {
                  if (Name == "llama-instrument") {
                    MPM.addPass(InstrumentPass());
                    return true;
                  }
                  if (Name == "llama-use" || Name == "llama-use-annotate" ||
                      Name == "llama-use-rewrite") {
                    if (Name != "llama-use-rewrite")
                      MPM.addPass(UseAnnotatePass());
                    if (Name != "llama-use-annotate")
                      MPM.addPass(UseRewritePass());
                    return true;
                  }
                  return false;
                });
            PB.registerPipelineStartEPCallback([](ModulePassManager &MPM, OptimizationLevel) {
              if (ClGenerate && useBuildEnabled())
                report_fatal_error("llama: -llama-generate and -llama-use exclude each other: "
                                   "a build is either the profiling build or the use build",
                                   false);
              if (ClGenerate)
                MPM.addPass(InstrumentPass());
              else if (useBuildEnabled())
                MPM.addPass(UseAnnotatePass());
            });
            PB.registerOptimizerLastEPCallback(
                [](ModulePassManager &MPM, OptimizationLevel) {
                  if (useBuildEnabled() && !ClGenerate)
                    MPM.addPass(UseRewritePass());
                });
          }};
}
