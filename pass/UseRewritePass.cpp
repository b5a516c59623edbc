//===- UseRewritePass.cpp - use build, step 2: class-annotated entry points ===//
//
// Replaces every allocation call that carries `!llama.class` (or, with
// -llama-use, whose debug location names a decided site) by its
// class-annotated entry point, and makes the module reference the runtime's
// versioned ABI symbol. Alone, on IR the annotate step wrote (build: the
// CMake build directory):
//
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-use-rewrite in.ll -S
//
//===----------------------------------------------------------------------===//
#include "UseRewritePass.h"

#include "llvm/ADT/Statistic.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/Metadata.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

#include "Sites.h"
#include "UseBuild.h"
#include "UseDecisions.h"
#include "llama/abi.h"

using namespace llvm;
using namespace llama;

#define DEBUG_TYPE "llama-use-rewrite"

// Release builds of LLVM (Debian's among them) compile STATISTIC out;
// these count there too, for -stats and -llama-verbose.
ALWAYS_ENABLED_STATISTIC(NumRewritten, "Allocation calls rewritten to class entry points");
ALWAYS_ENABLED_STATISTIC(NumRecovered,
                         "Rewritten calls found by debug location (LLVM replaced the call)");

namespace {

void rewriteCall(CallBase &CB, const ClassEntry &T, uint32_t K) {
  SmallVector<Value *, 4> Args;
  for (unsigned I : T.Args)
    Args.push_back(CB.getArgOperand(I));
  Args.push_back(ConstantInt::get(Type::getInt32Ty(CB.getContext()), K));
  // Parameter attributes belong to the old parameter list: dropped.
  CallBase *New = replaceAllocCall(CB, T.Name, Args, /*KeepParamAttrs=*/false);
  New->setMetadata(ClassMD, nullptr);
}

// The class argument the profile gives a call that lost its annotation: LLVM
// replaced an annotated call with a new one (malloc + memset -> calloc,
// realloc(NULL, n) -> malloc) which carries the old call's debug location
// but not its metadata. Its site is found from that location: the id the
// profiling build gave it is the hash of its inline chain as it was at the
// pipeline start, a suffix (the innermost frames) of the chain now.
bool classFromLocation(const CallBase &CB, uint32_t &K) {
  if (!CB.getDebugLoc())
    return false;
  UseData &D = useData();
  if (!D.Error.empty())
    return false;
  // The ids of the chain's innermost 1, 2, ... frames, hashed incrementally
  // (hashFrames is FNV over the frames innermost first).
  uint64_t Id = LLAMA_HASH_INIT;
  for (const SiteFrame &Fr : framesOf(CB)) {
    Id = llama_hash_frame(Id, Fr.Function.data(), Fr.Function.size(), Fr.LineOffset, Fr.Column);
    auto It = D.Decisions.find(Id);
    if (It != D.Decisions.end())
      return classArgument(Id, It->second, K);
  }
  return false;
}

// Makes the module refer to the runtime's versioned ABI symbol
// (llama/abi.h, LLAMA_RUNTIME_ABI_SYMBOL), so that linking it against a
// runtime of another ABI fails. One hidden COMDAT pointer per program,
// kept by llvm.used so that neither the optimiser nor the linker drops it.
void referenceRuntimeAbi(Module &M) {
  if (M.getNamedGlobal(LLAMA_RUNTIME_ABI_REF))
    return;
  LLVMContext &C = M.getContext();
  GlobalVariable *Abi = M.getNamedGlobal(LLAMA_RUNTIME_ABI_SYMBOL);
  if (!Abi)
    Abi = new GlobalVariable(M, Type::getInt32Ty(C), /*isConstant=*/true,
                             GlobalValue::ExternalLinkage, nullptr, LLAMA_RUNTIME_ABI_SYMBOL);
  auto *Ref = new GlobalVariable(M, PointerType::getUnqual(C), /*isConstant=*/true,
                                 GlobalValue::LinkOnceODRLinkage, Abi, LLAMA_RUNTIME_ABI_REF);
  Ref->setVisibility(GlobalValue::HiddenVisibility);
  Ref->setComdat(M.getOrInsertComdat(LLAMA_RUNTIME_ABI_REF));
  appendToUsed(M, {Ref});
}

} // namespace

PreservedAnalyses UseRewritePass::run(Module &M, ModuleAnalysisManager &) {
  const uint64_t RewrittenBefore = NumRewritten, RecoveredBefore = NumRecovered;
  bool Changed = false;
  forEachSite(M, [&](CallBase &CB, const AllocFunction &AF, unsigned) {
    const ClassEntry *T = classEntryOf(AF.Kind);
    if (!T)
      return;
    uint32_t K;
    MDNode *MD = CB.getMetadata(ClassMD);
    if (MD && MD->getNumOperands() == 1) {
      auto *C = mdconst::dyn_extract<ConstantInt>(MD->getOperand(0));
      if (!C)
        return;
      K = uint32_t(C->getZExtValue());
    } else if (useBuildEnabled() && classFromLocation(CB, K)) {
      ++NumRecovered;
    } else {
      return;
    }
    rewriteCall(CB, *T, K);
    ++NumRewritten;
    Changed = true;
  });
  if (Changed)
    referenceRuntimeAbi(M);
  // The module's share of a counter is what it gained during this run (for
  // reports only: ThinLTO backends may run this pass on several modules at
  // once, so what the module does depends on Changed alone).
  if (ClVerbose && Changed)
    errs() << "llama: " << M.getSourceFileName() << ": rewrote " << NumRewritten - RewrittenBefore
           << " allocation calls, " << NumRecovered - RecoveredBefore
           << " of them found by debug location (LLVM had replaced the annotated call)\n";
  return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}
