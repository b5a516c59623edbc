//===- InstrumentPass.h - the profiling build: sites -> libllamaprof ------===//
//
// The profiling build (`-mllvm -llama-generate`): finds every direct call or
// invoke of an allocation or deallocation function (Sites.h), gives the call
// a stable site id and rewrites it into the profiler entry point that carries
// the site's descriptor:
//
//   %p = call ptr @malloc(i64 %n)
//     =>
//   %p = call ptr @__llama_prof_malloc(i64 %n, ptr @__llama_sites+64*k)
//
// Which functions, which entry points and the descriptor layout are defined
// once, in include/llama/abi.h, shared with the runtime. Each instrumented
// module registers its descriptor array from a constructor through a symbol
// that carries the ABI version, so compiler/runtime skew fails at link time.
// Run it alone with
//
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-instrument in.ll -S
//
// (build: the CMake build directory).
//
//===----------------------------------------------------------------------===//
#ifndef LLAMA_PASS_INSTRUMENTPASS_H
#define LLAMA_PASS_INSTRUMENTPASS_H

#include "llvm/ADT/StringMap.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DerivedTypes.h"
#include "llvm/IR/GlobalVariable.h"
#include "llvm/IR/PassManager.h"

#include <cstdint>
#include <vector>

#include "Sites.h"

namespace llama {

class InstrumentPass : public llvm::PassInfoMixin<InstrumentPass> {
public:
  llvm::PreservedAnalyses run(llvm::Module &M, llvm::ModuleAnalysisManager &);
  static bool isRequired() { return true; }
  static llvm::StringRef name() { return "LlamaInstrumentPass"; }

private:
  llvm::GlobalVariable *buildDescriptors(llvm::Module &M, const std::vector<Site> &Sites);
  void rewrite(Site &S, llvm::Constant *Descriptor);
  void registerModule(llvm::Module &M, llvm::GlobalVariable *Array, uint64_t Count);
  llvm::Constant *stringConstant(llvm::Module &M, llvm::StringRef S);

  llvm::StringMap<llvm::Constant *> Strings;
  llvm::StructType *SiteTy = nullptr;
};

} // namespace llama

#endif // LLAMA_PASS_INSTRUMENTPASS_H
