//===- Sites.cpp - allocation sites as both LLAMA passes see them ---------===//
//
// Which calls are allocation sites (TargetLibraryInfo's prototype check,
// not its availability), their ids from debug locations (FNV-1a over the
// inline chain, as llama_hash_frame in include/llama/abi.h), and the call
// replacement both builds use; Sites.h has the contracts. The sites of a
// module, as the profiling build's descriptors (build: the CMake build
// directory):
//
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-instrument in.ll -S
//
//===----------------------------------------------------------------------===//
#include "Sites.h"

#include "llvm/Analysis/TargetLibraryInfo.h"
#include "llvm/IR/DebugInfoMetadata.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/Instructions.h"
#include "llvm/TargetParser/Triple.h"

#include "llama/abi.h"

using namespace llvm;

namespace llama {

cl::opt<bool> ClVerbose("llama-verbose", cl::init(false),
                        cl::desc("LLAMA: print what the pass did to each module"));

static const AllocFunction AllocFunctions[] = {
#define LLAMA_X(kind, value, short_name, symbol, dealloc)                                \
  {symbol, #short_name, value, dealloc != 0},
    LLAMA_ALLOC_FUNCTIONS(LLAMA_X)
#undef LLAMA_X
};

// Prototype check for the functions TargetLibraryInfo does not know
// (reallocarray, pvalloc): pointer result, integer or pointer parameters of
// the expected count.
static bool plausiblePrototype(const Function &F, unsigned Kind) {
  FunctionType *FT = F.getFunctionType();
  if (FT->isVarArg() || !FT->getReturnType()->isPointerTy())
    return false;
  switch (Kind) {
  case LLAMA_KIND_REALLOCARRAY:
    return FT->getNumParams() == 3 && FT->getParamType(0)->isPointerTy() &&
           FT->getParamType(1)->isIntegerTy() && FT->getParamType(2)->isIntegerTy();
  case LLAMA_KIND_PVALLOC:
    return FT->getNumParams() == 1 && FT->getParamType(0)->isIntegerTy();
  default:
    return false;
  }
}

// The allocation function a declaration names, or null. Uses LLVM's
// TargetLibraryInfo to check the prototype where it knows the function, but
// ignores its availability: -fno-builtin must not hide allocation sites.
static const AllocFunction *classify(const Function &F, const TargetLibraryInfoImpl &TLII) {
  if (F.hasLocalLinkage() || F.isIntrinsic())
    return nullptr;
  StringRef Name = F.getName();
  for (const AllocFunction &AF : AllocFunctions) {
    if (Name != AF.Symbol)
      continue;
    LibFunc LF;
    if (TLII.getLibFunc(Name, LF))
      return TLII.getLibFunc(F, LF) ? &AF : nullptr;
    return plausiblePrototype(F, AF.Kind) ? &AF : nullptr;
  }
  return nullptr;
}

void forEachSite(Module &M, function_ref<void(CallBase &, const AllocFunction &, unsigned)> Fn) {
  TargetLibraryInfoImpl TLII(Triple(M.getTargetTriple()));
  for (Function &F : M) {
    if (F.isDeclaration() || F.getName().starts_with(LLAMA_PROF_ENTRY_PREFIX))
      continue;
    unsigned Ordinal = 0;
    // Collect first: Fn may rewrite the call it is given.
    SmallVector<std::pair<CallBase *, const AllocFunction *>, 16> Calls;
    for (Instruction &I : instructions(F)) {
      auto *CB = dyn_cast<CallBase>(&I);
      if (!CB || isa<CallBrInst>(CB))
        continue;
      auto *Callee = dyn_cast<Function>(CB->getCalledOperand()->stripPointerCasts());
      if (!Callee || Callee->getFunctionType() != CB->getFunctionType())
        continue;
      auto *CI = dyn_cast<CallInst>(CB);
      if (CI && CI->isMustTailCall())
        continue; // the signature cannot change under musttail
      if (const AllocFunction *AF = classify(*Callee, TLII))
        Calls.push_back({CB, AF});
    }
    for (auto &[CB, AF] : Calls)
      Fn(*CB, *AF, Ordinal++);
  }
}

static StringRef subprogramName(const DISubprogram *SP) {
  StringRef N = SP->getLinkageName();
  return N.empty() ? SP->getName() : N;
}

std::vector<SiteFrame> framesOf(const Instruction &I) {
  std::vector<SiteFrame> Frames;
  for (const DILocation *L = I.getDebugLoc().get(); L; L = L->getInlinedAt()) {
    const DISubprogram *SP = L->getScope()->getSubprogram();
    if (!SP)
      Frames.push_back({I.getFunction()->getName().str(), L->getLine(), L->getColumn()});
    else
      Frames.push_back({subprogramName(SP).str(), L->getLine() - SP->getLine(), L->getColumn()});
  }
  return Frames;
}

void describeSite(Site &S, const Function &F, unsigned Ordinal) {
  const DILocation *DL = S.Call->getDebugLoc().get();
  if (!DL) {
    // No source position: identify the call by its order among the
    // allocation calls of its function.
    S.Frames.push_back({F.getName().str(), Ordinal, LLAMA_SITE_ORDINAL_COLUMN});
    S.Line = 0;
    S.Flags |= LLAMA_SITE_NO_DEBUG_INFO;
  } else {
    S.Frames = framesOf(*S.Call);
    S.Line = DL->getLine();
    S.File = DL->getFilename().str();
    if (DL->getInlinedAt())
      S.Flags |= LLAMA_SITE_INLINED;
  }
  if (isa<InvokeInst>(S.Call))
    S.Flags |= LLAMA_SITE_INVOKE;
  S.Id = hashFrames(S.Frames);
}

CallBase *replaceAllocCall(CallBase &CB, StringRef EntryName, ArrayRef<Value *> Args,
                           bool KeepParamAttrs) {
  LLVMContext &C = CB.getContext();
  Module &M = *CB.getModule();
  SmallVector<Type *, 6> Params;
  for (Value *A : Args)
    Params.push_back(A->getType());
  FunctionCallee Entry =
      M.getOrInsertFunction(EntryName, FunctionType::get(CB.getType(), Params, false));
  SmallVector<OperandBundleDef, 1> Bundles;
  CB.getOperandBundlesAsDefs(Bundles);
  CallBase *New;
  if (auto *II = dyn_cast<InvokeInst>(&CB))
    New = InvokeInst::Create(Entry, II->getNormalDest(), II->getUnwindDest(), Args, Bundles, "",
                             CB.getIterator());
  else
    New = CallInst::Create(Entry, Args, Bundles, "", CB.getIterator());
  AttributeList AL = CB.getAttributes();
  AttrBuilder Fn(C, AL.getFnAttrs());
  for (Attribute::AttrKind A :
       {Attribute::Builtin, Attribute::NoBuiltin, Attribute::AllocKind, Attribute::AllocSize})
    Fn.removeAttribute(A);
  Fn.removeAttribute("alloc-family");
  SmallVector<AttributeSet, 6> ParamAttrs;
  if (KeepParamAttrs)
    for (unsigned I = 0; I < CB.arg_size(); I++)
      ParamAttrs.push_back(AL.getParamAttrs(I));
  New->setAttributes(
      AttributeList::get(C, AttributeSet::get(C, Fn), AL.getRetAttrs(), ParamAttrs));
  New->setCallingConv(CB.getCallingConv());
  New->copyMetadata(CB);
  New->setDebugLoc(CB.getDebugLoc());
  New->takeName(&CB);
  CB.replaceAllUsesWith(New);
  CB.eraseFromParent();
  return New;
}

uint64_t hashFrame(StringRef Function, uint32_t LineOffset, uint32_t Column) {
  return llama_hash_frame(LLAMA_HASH_INIT, Function.data(), Function.size(), LineOffset, Column);
}

uint64_t hashFrames(const std::vector<SiteFrame> &Frames) {
  uint64_t H = LLAMA_HASH_INIT;
  for (const SiteFrame &Fr : Frames)
    H = llama_hash_frame(H, Fr.Function.data(), Fr.Function.size(), Fr.LineOffset, Fr.Column);
  return H;
}

} // namespace llama
