//===- UsePass.h - the LLAMA use build ------------------------------------===//
#ifndef LLAMA_PASS_USEPASS_H
#define LLAMA_PASS_USEPASS_H

#include "llvm/IR/PassManager.h"

namespace llama {

// True when -llama-use=PROFILE was given.
bool useBuildEnabled();

// Adds the annotate step (decide per site, set hints; at the pipeline start)
// and/or the rewrite step (annotated calls -> llama_*_class; at the end).
void addUsePasses(llvm::ModulePassManager &MPM, bool Annotate, bool Rewrite);

} // namespace llama

#endif // LLAMA_PASS_USEPASS_H
