//===- UseAnnotatePass.cpp - use build, step 1: decide and annotate -------===//
//
// Gives every allocation site the lifetime class its profile settles, as
// metadata the rewrite step reads:
//   - the profile has the site and all its contexts have class k:  k
//   - they differ, and grouping the contexts by the call d frames up
//     (the wrapper's caller, or its caller...) separates some of them:
//     the site gets llama_hinted_class(tag, fallback), and each such
//     caller stores the class in the thread-local hint word around its
//     call (hinted). The fallback, for callers no hint covers, is the
//     commonest class when at least -llama-agreement of the site's
//     allocations have it, else none (the dynamic path)
//   - they differ, no hint helps, and the commonest class has at least
//     -llama-agreement of the allocations:                   that class
//   - the profile never saw the site, and the model, given what the
//     compiler sees of the context, is at least -llama-confidence sure:
//                                                              its class
//   - otherwise no metadata: the runtime's dynamic path decides.
// The rules are UseDecisions.cpp; this file applies them to the IR in
// numbered steps (UseAnnotatePass::run). It also embeds the model for the
// runtime (a COMDAT copy registered by a COMDAT constructor) and reports.
// docs/design.md §7 explains the choices; the contract with the runtime is in
// include/llama/abi.h. Alone (build: the CMake build directory; the profile
// from llama-profdata merge):
//
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-use-annotate \
//     -llama-use=app.llamaprof in.ll -S
//
//===----------------------------------------------------------------------===//
#include "UseAnnotatePass.h"

#include "llvm/ADT/Statistic.h"
#include "llvm/Analysis/OptimizationRemarkEmitter.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/DiagnosticInfo.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/InstIterator.h"
#include "llvm/IR/Instructions.h"
#include "llvm/IR/IntrinsicInst.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Transforms/Utils/ModuleUtils.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "Sites.h"
#include "UseBuild.h"
#include "UseDecisions.h"
#include "llama/abi.h"
#include "llama_model.h"

using namespace llvm;
using namespace llama;

#define DEBUG_TYPE "llama-use-annotate"

// Release builds of LLVM (Debian's among them) compile STATISTIC out;
// these count there too, for -stats and -llama-verbose. One counter
// per outcome, in the order of enum Outcome.
static TrackingStatistic NumOutcome[] = {
    {DEBUG_TYPE, "NumStatic", "Sites with a class from the profile (static)"},
    {DEBUG_TYPE, "NumHinted", "Sites whose class callers' hints give (hinted)"},
    {DEBUG_TYPE, "NumPredicted", "Sites the profile never saw, class from the model"},
    {DEBUG_TYPE, "NumDisagree", "Sites left dynamic: contexts disagree"},
    {DEBUG_TYPE, "NumUnprofiled", "Sites left dynamic: no profile data, no prediction"},
    {DEBUG_TYPE, "NumUnsure", "Sites left dynamic: the model is unsure"},
    {DEBUG_TYPE, "NumNoEntry", "Sites left dynamic: no class-annotated entry point"},
};
static_assert(sizeof NumOutcome / sizeof *NumOutcome == NumOutcomes, "one counter per outcome");
ALWAYS_ENABLED_STATISTIC(NumNotInProfile, "Sites missing from the profile");
ALWAYS_ENABLED_STATISTIC(NumStale, "Sites missing from the profile although it has their function");
ALWAYS_ENABLED_STATISTIC(NumHintCalls, "Calls that set a hint");

static cl::opt<bool> ClEmbedModel("llama-embed-model", cl::init(true),
                                  cl::desc("LLAMA: embed -llama-model in the program"));
static cl::opt<bool> ClWarnStale(
    "llama-warn-stale", cl::init(true),
    cl::desc("LLAMA: warn when sites of profiled functions are missing from the profile"));

namespace {

constexpr const char *PassName = "llama"; // the remarks' pass name

std::string percent(double X) {
  std::string S;
  raw_string_ostream(S) << format("%.1f%%", 100.0 * X);
  return S;
}

void annotate(CallBase &CB, uint32_t K) {
  LLVMContext &C = CB.getContext();
  CB.setMetadata(ClassMD, MDNode::get(C, {ConstantAsMetadata::get(
                                             ConstantInt::get(Type::getInt32Ty(C), K))}));
}

// Compile-time prediction for a site the profile never saw: the model gets
// the context the compiler knows, the site's inline chain. False when there
// is no model or the site has no debug location.
bool predict(const UseData &D, const Site &S, unsigned &Class, float &Confidence) {
  if (!D.HasModel || S.Flags & LLAMA_SITE_NO_DEBUG_INFO)
    return false;
  std::vector<llama_model_frame> Frames;
  for (size_t I = 0; I < S.Frames.size(); I++)
    Frames.push_back({S.Frames[I].Function.c_str(), I == 0 ? S.File.c_str() : "",
                      I + 1 < S.Frames.size(), S.Frames[I].LineOffset});
  uint32_t Ids[LLAMA_MODEL_MAX_TOKENS];
  size_t N = llama_model_encode(&D.Model, Frames.data(), Frames.size(), S.Fn->Kind, Ids,
                                LLAMA_MODEL_MAX_TOKENS);
  float P[LLAMA_NUM_CLASSES];
  Class = llama_model_predict(&D.Model, Ids, N, P);
  Confidence = P[Class];
  return true;
}

void remarkSite(OptimizationRemarkEmitter &ORE, const Site &S, const SiteDecision *Dec,
                Outcome O, unsigned Class, float Confidence) {
  StringRef Kind = S.Fn->ShortName;
  std::string Msg;
  raw_string_ostream OS(Msg);
  OS << Kind << ": ";
  switch (O) {
  case Outcome::Static:
    OS << "lifetime class " << Class << " (" << llama_class_name(Class) << ") from the profile: "
       << Dec->Allocations << " allocations in " << Dec->Contexts << " contexts, "
       << percent(Dec->Agreement) << " agree";
    break;
  case Outcome::Hinted:
    OS << "class depends on the caller (" << percent(Dec->Agreement) << " in class " << Dec->Class
       << "); " << Dec->HintSites << " caller call sites up to " << Dec->HintDepthMax
       << " frames up set a hint covering " << percent(Dec->HintedShare)
       << " of its allocations (" << percent(Dec->MisplacedShare)
       << " in another class than profiled), the rest ";
    if (Dec->Fallback < LLAMA_NUM_CLASSES)
      OS << "get class " << Dec->Fallback;
    else
      OS << "take the dynamic path";
    break;
  case Outcome::Predicted:
    OS << "not in the profile; the model predicts class " << Class << " (" << llama_class_name(Class)
       << ") with probability " << format("%.2f", Confidence);
    break;
  case Outcome::NoEntry:
    OS << "no class-annotated entry point for " << Kind << "; the runtime predicts";
    break;
  case Outcome::Disagree:
    OS << "contexts disagree (" << percent(Dec->Agreement) << " in class " << Dec->Class
       << ") and no caller separates them; the runtime predicts from the stack";
    break;
  case Outcome::Unsure:
    OS << "not in the profile; the model is unsure (class " << Class << ", probability "
       << format("%.2f", Confidence) << "); the runtime predicts";
    break;
  case Outcome::Unprofiled:
    OS << "not in the profile" << (Dec ? " (no lifetime samples)" : "")
       << "; the runtime predicts";
    break;
  }
  const char *Name = outcomeName(O);
  if (outcomeIsDynamic(O))
    ORE.emit([&] { return OptimizationRemarkMissed(PassName, Name, S.Call) << OS.str(); });
  else
    ORE.emit([&] { return OptimizationRemark(PassName, Name, S.Call) << OS.str(); });
}

GlobalVariable *hintVariable(Module &M) {
  if (GlobalVariable *GV = M.getGlobalVariable(LLAMA_HINT_SYMBOL))
    return GV;
  auto *GV = new GlobalVariable(M, Type::getInt64Ty(M.getContext()), false,
                                GlobalValue::ExternalLinkage, nullptr, LLAMA_HINT_SYMBOL,
                                nullptr, GlobalValue::InitialExecTLSModel);
  GV->setAlignment(Align(8));
  return GV;
}

// Around a call that leads to hinted sites: save the hint word, store ours,
// restore after the call (on the normal path; an exception leaves a stale
// hint whose tag only its own site reads).
void setHint(Module &M, CallBase &CB, const Hint &H) {
  GlobalVariable *GV = hintVariable(M);
  Type *I64 = Type::getInt64Ty(M.getContext());
  IRBuilder<> B(&CB);
  Value *Addr = B.CreateThreadLocalAddress(GV);
  Value *Old = B.CreateAlignedLoad(I64, Addr, Align(8), "llama.hint.saved");
  B.CreateAlignedStore(ConstantInt::get(I64, LLAMA_HINT_VALUE(H.Tag, H.Class)), Addr, Align(8));
  Instruction *After = nullptr;
  if (auto *II = dyn_cast<InvokeInst>(&CB)) {
    BasicBlock *Normal = II->getNormalDest();
    if (Normal->getSinglePredecessor())
      After = &*Normal->getFirstInsertionPt();
  } else {
    After = CB.getNextNode();
  }
  if (!After)
    return;
  IRBuilder<> A(After);
  A.CreateAlignedStore(Old, A.CreateThreadLocalAddress(GV), Align(8));
}

void embedModel(Module &M, const UseData &D) {
  LLVMContext &C = M.getContext();
  if (M.getGlobalVariable(LLAMA_MODEL_DATA_SYMBOL))
    return;
  ArrayRef<uint8_t> Bytes(reinterpret_cast<const uint8_t *>(D.EmbedStorage.get()), D.EmbedSize);
  Constant *Init = ConstantDataArray::get(C, Bytes);
  auto *Data = new GlobalVariable(M, Init->getType(), true, GlobalValue::LinkOnceODRLinkage,
                                  Init, LLAMA_MODEL_DATA_SYMBOL);
  Data->setAlignment(Align(16));
  Data->setVisibility(GlobalValue::HiddenVisibility);
  Data->setComdat(M.getOrInsertComdat(LLAMA_MODEL_DATA_SYMBOL));

  Type *Ptr = PointerType::getUnqual(C), *I64 = Type::getInt64Ty(C);
  FunctionCallee Register = M.getOrInsertFunction(
      LLAMA_MODEL_REGISTER_SYMBOL, FunctionType::get(Type::getVoidTy(C), {Ptr, I64}, false));
  Function *Ctor = Function::Create(FunctionType::get(Type::getVoidTy(C), false),
                                    GlobalValue::LinkOnceODRLinkage,
                                    std::string(LLAMA_MODEL_DATA_SYMBOL) + ".ctor", M);
  Ctor->setVisibility(GlobalValue::HiddenVisibility);
  Ctor->setComdat(Data->getComdat());
  Ctor->addFnAttr(Attribute::NoUnwind);
  IRBuilder<> B(BasicBlock::Create(C, "", Ctor));
  B.CreateCall(Register, {Data, ConstantInt::get(I64, D.EmbedSize)});
  B.CreateRetVoid();
  // Keyed on the data: the linker keeps one constructor with the one copy.
  appendToGlobalCtors(M, Ctor, 1, Data);
}

} // namespace

PreservedAnalyses UseAnnotatePass::run(Module &M, ModuleAnalysisManager &) {
  LLVMContext &C = M.getContext();
  if (!useBuildEnabled()) {
    C.emitError("llama-use: no profile given: pass -llama-use=PROFILE (llama-config "
                "--use=PROFILE --cflags does)");
    return PreservedAnalyses::all();
  }
  UseData &D = useData();
  if (!D.Error.empty()) {
    C.emitError("llama: cannot use the profile or model: " + D.Error);
    return PreservedAnalyses::all();
  }

  // Counter values at the start: the module's share of a counter is what it
  // gained during this run. It goes into reports only; what the pass does
  // to the module depends on local state (HasSites, Changed).
  uint64_t OutcomesBefore[NumOutcomes];
  for (unsigned I = 0; I < NumOutcomes; I++)
    OutcomesBefore[I] = NumOutcome[I];
  const uint64_t NotInProfileBefore = NumNotInProfile, StaleBefore = NumStale,
                 HintCallsBefore = NumHintCalls;
  bool HasSites = false, Changed = false;

  // 1. Each allocation call: its site's outcome, metadata, a remark.
  std::map<const Function *, std::unique_ptr<OptimizationRemarkEmitter>> OREs;
  auto ore = [&](const Function &F) -> OptimizationRemarkEmitter & {
    auto &P = OREs[&F];
    if (!P)
      P = std::make_unique<OptimizationRemarkEmitter>(&F);
    return *P;
  };
  std::vector<CallBase *> AllocCalls;
  forEachSite(M, [&](CallBase &CB, const AllocFunction &AF, unsigned Ordinal) {
    AllocCalls.push_back(&CB);
    if (AF.Dealloc)
      return;
    Site S;
    S.Call = &CB;
    S.Fn = &AF;
    describeSite(S, *CB.getFunction(), Ordinal);
    HasSites = true;
    OptimizationRemarkEmitter &ORE = ore(*CB.getFunction());
    auto It = D.Decisions.find(S.Id);
    const SiteDecision *Dec = It == D.Decisions.end() ? nullptr : &It->second;
    Outcome O = profileOutcome(Dec, classEntryOf(AF.Kind) != nullptr);
    unsigned Class = Dec ? Dec->Class : 0;
    float P = 0;
    if (O == Outcome::Unprofiled) {
      if (!Dec) {
        ++NumNotInProfile;
        if (D.ProfiledFunctions.count(S.Frames.front().Function))
          ++NumStale;
      }
      bool HasPrediction = predict(D, S, Class, P);
      O = modelOutcome(HasPrediction, P, D.Options);
    }
    uint32_t K = Class;
    if (O == Outcome::Static || O == Outcome::Hinted)
      classArgument(S.Id, *Dec, K);
    if (!outcomeIsDynamic(O)) {
      annotate(CB, K);
      Changed = true;
    }
    ++NumOutcome[unsigned(O)];
    remarkSite(ORE, S, Dec, O, Class, P);
  });

  // 2. Hints: every other call whose position is a caller frame of a hinted
  // site's contexts.
  if (!D.Hints.empty()) {
    std::sort(AllocCalls.begin(), AllocCalls.end());
    for (Function &F : M) {
      if (F.isDeclaration())
        continue;
      SmallVector<std::pair<CallBase *, const Hint *>, 8> ToHint;
      for (Instruction &I : instructions(F)) {
        auto *CB = dyn_cast<CallBase>(&I);
        if (!CB || isa<CallBrInst>(CB) || isa<IntrinsicInst>(CB) || !CB->getDebugLoc())
          continue;
        // Nothing may follow a musttail call but its ret: no restore, so no hint.
        if (auto *CI = dyn_cast<CallInst>(CB); CI && CI->isMustTailCall())
          continue;
        if (std::binary_search(AllocCalls.begin(), AllocCalls.end(), CB))
          continue;
        std::vector<SiteFrame> Frames = framesOf(*CB);
        const SiteFrame &Fr = Frames.front();
        if (const Hint *H = selectHint(D.Hints, callFrameKey(Fr.Function.c_str(), Fr.LineOffset,
                                                             Fr.Column)))
          ToHint.push_back({CB, H});
      }
      for (auto &Entry : ToHint) {
        CallBase *CB = Entry.first;
        const Hint *H = Entry.second;
        setHint(M, *CB, *H);
        ++NumHintCalls;
        Changed = true;
        ore(F).emit([&] {
          std::string Msg;
          raw_string_ostream OS(Msg);
          OS << "hint: allocations of site " << format_hex(H->SiteId, 18) << " under this call ("
             << H->Depth << (H->Depth == 1 ? " frame" : " frames") << " up) have class "
             << H->Class << " (" << llama_class_name(H->Class) << "), " << H->Weight
             << " profiled allocations";
          return OptimizationRemark(PassName, "hint", CB) << OS.str();
        });
      }
    }
  }

  // 3. The model, for the runtime's predictions.
  if (D.HasModel && ClEmbedModel && HasSites) {
    embedModel(M, D);
    Changed = true;
  }

  // 4. Reports: the stale-profile warning, -llama-verbose.
  uint64_t ByOutcome[NumOutcomes], Sites = 0, Dynamic = 0;
  for (unsigned I = 0; I < NumOutcomes; I++) {
    ByOutcome[I] = NumOutcome[I] - OutcomesBefore[I];
    Sites += ByOutcome[I];
    Dynamic += outcomeIsDynamic(Outcome(I)) ? ByOutcome[I] : 0;
  }
  auto count = [&](Outcome O) { return ByOutcome[unsigned(O)]; };
  uint64_t Stale = NumStale - StaleBefore;
  if (Stale && ClWarnStale) {
    std::string Msg;
    raw_string_ostream OS(Msg);
    OS << "llama: " << Stale << " of " << Sites
       << " allocation sites are missing from the profile " << profilePath()
       << " although it has data for their functions: the source changed since profiling "
          "(stale profile?). They take the runtime's dynamic path; -Rpass-missed=llama lists "
          "them, -mllvm -llama-warn-stale=false silences this";
    C.diagnose(DiagnosticInfoPGOProfile(M.getSourceFileName().c_str(), OS.str(), DS_Warning));
  }
  if (ClVerbose)
    errs() << "llama: " << M.getSourceFileName() << ": " << Sites << " allocation sites: "
           << count(Outcome::Static) << " static, " << count(Outcome::Hinted) << " hinted, "
           << count(Outcome::Predicted) << " predicted, " << Dynamic << " dynamic ("
           << NumNotInProfile - NotInProfileBefore << " not in the profile, " << Stale
           << " of them stale, " << count(Outcome::NoEntry)
           << " without a class entry point); " << NumHintCalls - HintCallsBefore
           << " calls set hints\n";
  return Changed ? PreservedAnalyses::none() : PreservedAnalyses::all();
}
