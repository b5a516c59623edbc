//===- UseRewritePass.h - use build, step 2: class-annotated entry points -===//
//
// At the end of the optimisation pipeline (OptimizerLastEP), turns each call
// UseAnnotatePass annotated with `!llama.class !{i32 K}` into its
// class-annotated entry point (malloc(n) -> llama_malloc_class(n, K), calloc,
// realloc, aligned_alloc, posix_memalign, strdup, strndup, the operator new
// variants). Rewriting late keeps LLVM's knowledge of malloc and new during
// optimisation: paired new/delete still fold away, malloc+memset still
// becomes calloc; with -llama-use the rewrite finds such a new call's site
// again from its debug location. A module whose calls it changed references
// the runtime's versioned ABI symbol. This step alone (needs no profile for
// annotated IR):
//
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-use-rewrite in.ll -S
//
// (build: the CMake build directory).
//
//===----------------------------------------------------------------------===//
#ifndef LLAMA_PASS_USEREWRITEPASS_H
#define LLAMA_PASS_USEREWRITEPASS_H

#include "llvm/IR/PassManager.h"

namespace llama {

class UseRewritePass : public llvm::PassInfoMixin<UseRewritePass> {
public:
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }
  static llvm::StringRef name() { return "LlamaUseRewritePass"; }
};

} // namespace llama

#endif // LLAMA_PASS_USEREWRITEPASS_H
