//===- UseAnnotatePass.h - use build, step 1: decide and annotate ---------===//
//
// At the start of the pipeline (PipelineStartEP, where the profiling build
// instrumented, so the calls and their ids are the same), gives every
// allocation call the decision of its site (UseDecisions.h) as
// `!llama.class !{i32 K}` metadata, sets the thread-local hint word around
// the callers' calls that hints name, embeds the model (-llama-model), and
// reports one optimisation remark per site and per hint (-pass-remarks=llama,
// -pass-remarks-missed=llama) and one warning when the profile looks stale.
// UseRewritePass turns the annotated calls into class-annotated entry points
// at the end of the pipeline. This step alone:
//
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-use-annotate \
//     -llama-use=app.llamaprof in.ll -S
//
// (build: the CMake build directory; app.llamaprof from llama-profdata merge).
//
//===----------------------------------------------------------------------===//
#ifndef LLAMA_PASS_USEANNOTATEPASS_H
#define LLAMA_PASS_USEANNOTATEPASS_H

#include "llvm/IR/PassManager.h"

namespace llama {

class UseAnnotatePass : public llvm::PassInfoMixin<UseAnnotatePass> {
public:
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }
  static llvm::StringRef name() { return "LlamaUseAnnotatePass"; }
};

} // namespace llama

#endif // LLAMA_PASS_USEANNOTATEPASS_H
