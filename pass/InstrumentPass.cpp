//===- InstrumentPass.cpp - the profiling build: sites -> libllamaprof ----===//
//
// Rewrites every allocation and deallocation call into its profiler entry
// point with the site's descriptor appended, builds the module's descriptor
// array and registers it from a constructor; InstrumentPass.h has the
// rewrite. The pass runs at the start of the pipeline (PipelineStartEP),
// before any inlining or allocation elimination, so the profiling build and
// the use build see the same calls at every optimisation level;
// docs/design.md §3 explains. Alone (build: the CMake build directory):
//
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-instrument in.ll -S
//
//===----------------------------------------------------------------------===//
#include "InstrumentPass.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/Statistic.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

#include <string>

#include "llama/abi.h"

using namespace llvm;
using namespace llama;

#define DEBUG_TYPE "llama-instrument"

// Release builds of LLVM (Debian's among them) compile STATISTIC out;
// these count there too, for -stats and -llama-verbose.
ALWAYS_ENABLED_STATISTIC(NumAllocSites, "Allocation sites instrumented");
ALWAYS_ENABLED_STATISTIC(NumDeallocSites, "Deallocation sites instrumented");
ALWAYS_ENABLED_STATISTIC(NumNoDebugSites,
                         "Sites without a debug location (identified by their order)");

Constant *InstrumentPass::stringConstant(Module &M, StringRef S) {
  auto It = Strings.find(S);
  if (It != Strings.end())
    return It->second;
  Constant *Init = ConstantDataArray::getString(M.getContext(), S);
  auto *GV = new GlobalVariable(M, Init->getType(), /*isConstant=*/true,
                                GlobalValue::PrivateLinkage, Init, "__llama_str");
  GV->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
  GV->setAlignment(Align(1));
  Strings[S] = GV;
  return GV;
}

GlobalVariable *InstrumentPass::buildDescriptors(Module &M, const std::vector<Site> &Sites) {
  LLVMContext &C = M.getContext();
  Type *I64 = Type::getInt64Ty(C), *I32 = Type::getInt32Ty(C), *I16 = Type::getInt16Ty(C);
  Type *Ptr = PointerType::getUnqual(C);
  // struct llama_site, field for field (include/llama/abi.h).
  SiteTy = StructType::get(C, {I64, I64, I64, Ptr, Ptr, I32, I32, I32, I16, I16, Ptr});
  std::vector<Constant *> Elems;
  for (const Site &S : Sites) {
    std::string InlinedAt;
    for (size_t I = 1; I < S.Frames.size(); I++) {
      if (I > 1)
        InlinedAt += ';';
      InlinedAt += S.Frames[I].Function + ":" + std::to_string(S.Frames[I].LineOffset) + ":" +
                   std::to_string(S.Frames[I].Column);
    }
    const SiteFrame &Inner = S.Frames.front();
    Elems.push_back(ConstantStruct::get(
        SiteTy, {ConstantInt::get(I64, S.Id), ConstantInt::get(I64, 0),
                 ConstantInt::get(I64, 0), stringConstant(M, Inner.Function),
                 stringConstant(M, S.File), ConstantInt::get(I32, S.Line),
                 ConstantInt::get(I32, Inner.Column), ConstantInt::get(I32, Inner.LineOffset),
                 ConstantInt::get(I16, S.Fn->Kind), ConstantInt::get(I16, S.Flags),
                 stringConstant(M, InlinedAt)}));
  }
  ArrayType *AT = ArrayType::get(SiteTy, Elems.size());
  auto *GV = new GlobalVariable(M, AT, /*isConstant=*/false, GlobalValue::PrivateLinkage,
                                ConstantArray::get(AT, Elems), "__llama_sites");
  GV->setAlignment(Align(64));
  return GV;
}

void InstrumentPass::rewrite(Site &S, Constant *Descriptor) {
  CallBase *CB = S.Call;
  auto *OrigCall = dyn_cast<CallInst>(CB);
  CallInst::TailCallKind OrigTail = OrigCall ? OrigCall->getTailCallKind() : CallInst::TCK_None;
  SmallVector<Value *, 6> Args(CB->args());
  Args.push_back(Descriptor);
  CallBase *New = replaceAllocCall(*CB, std::string(LLAMA_PROF_ENTRY_PREFIX) + S.Fn->ShortName,
                                   Args, /*KeepParamAttrs=*/true);
  // An allocation entry point captures its caller's stack, so the call must
  // not become a jump: `return malloc(n)` in a wrapper would otherwise lose
  // the wrapper's frame, the very frame that holds the site.
  if (auto *CI = dyn_cast<CallInst>(New))
    CI->setTailCallKind(S.Fn->Dealloc ? OrigTail : CallInst::TCK_NoTail);
}

void InstrumentPass::registerModule(Module &M, GlobalVariable *Array, uint64_t Count) {
  LLVMContext &C = M.getContext();
  Type *Ptr = PointerType::getUnqual(C), *I64 = Type::getInt64Ty(C);
  FunctionCallee Register = M.getOrInsertFunction(
      LLAMA_PROF_REGISTER_SYMBOL, FunctionType::get(Type::getVoidTy(C), {Ptr, I64}, false));
  Function *Ctor = Function::Create(FunctionType::get(Type::getVoidTy(C), false),
                                    GlobalValue::InternalLinkage, "llama.module_ctor", M);
  Ctor->addFnAttr(Attribute::NoUnwind);
  IRBuilder<> B(BasicBlock::Create(C, "", Ctor));
  B.CreateCall(Register, {Array, ConstantInt::get(I64, Count)});
  B.CreateRetVoid();
  // Priority 1, like the sanitizers' constructors: before the program's own
  // constructors allocate, so their sites are registered first.
  appendToGlobalCtors(M, Ctor, 1);
}

PreservedAnalyses InstrumentPass::run(Module &M, ModuleAnalysisManager &) {
  // 1. The sites, with their ids.
  std::vector<Site> Sites;
  forEachSite(M, [&](CallBase &CB, const AllocFunction &AF, unsigned Ordinal) {
    Site S;
    S.Call = &CB;
    S.Fn = &AF;
    describeSite(S, *CB.getFunction(), Ordinal);
    Sites.push_back(std::move(S));
  });
  if (Sites.empty())
    return PreservedAnalyses::all();

  // 2. Count them; warn once about sites identified by their order. The
  // module's share of a counter is what it gained during this run.
  const uint64_t AllocBefore = NumAllocSites, DeallocBefore = NumDeallocSites,
                 NoDebugBefore = NumNoDebugSites;
  for (const Site &S : Sites) {
    ++(S.Fn->Dealloc ? NumDeallocSites : NumAllocSites);
    if (S.Flags & LLAMA_SITE_NO_DEBUG_INFO)
      ++NumNoDebugSites;
  }
  if (uint64_t NoDebug = NumNoDebugSites - NoDebugBefore) {
    std::string Msg;
    raw_string_ostream OS(Msg);
    OS << "llama: " << NoDebug << " of " << Sites.size()
       << " allocation sites have no debug location; they are identified by their order "
          "within their function, so adding or removing an allocation call shifts the ids "
          "of the later ones, and profiles cannot name their source lines (compile with -g "
          "or -gline-tables-only)";
    M.getContext().diagnose(
        DiagnosticInfoPGOProfile(M.getSourceFileName().c_str(), OS.str(), DS_Warning));
  }

  // 3. The descriptors, the calls to the entry points, the registration.
  GlobalVariable *Array = buildDescriptors(M, Sites);
  Type *I64 = Type::getInt64Ty(M.getContext());
  for (size_t I = 0; I < Sites.size(); I++) {
    Constant *Idx[] = {ConstantInt::get(I64, 0), ConstantInt::get(I64, I)};
    rewrite(Sites[I],
            ConstantExpr::getInBoundsGetElementPtr(Array->getValueType(), Array, Idx));
  }
  registerModule(M, Array, Sites.size());
  if (ClVerbose)
    errs() << "llama: " << M.getSourceFileName() << ": instrumented "
           << NumAllocSites - AllocBefore << " allocation and "
           << NumDeallocSites - DeallocBefore << " deallocation sites\n";
  return PreservedAnalyses::none();
}
