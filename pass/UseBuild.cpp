//===- UseBuild.cpp - what the two steps of the LLAMA use build share -----===//
//
// Reads the profile (-llama-use) and the model (-llama-model) once per
// process and decides every profiled site (UseDecisions.cpp) with the
// thresholds of -llama-agreement, -llama-hint-depth and -llama-confidence;
// holds the table of class-annotated entry points. UseBuild.h has the
// contracts. Both steps of the use build, which read all this (build: the
// CMake build directory):
//
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-use \
//     -llama-use=app.llamaprof in.ll -S
//
//===----------------------------------------------------------------------===//
#include "UseBuild.h"

#include "llvm/ADT/Statistic.h"
#include "llvm/Support/CommandLine.h"

#include <cstdlib>
#include <cstring>

#include "llama/abi.h"

using namespace llvm;

#define DEBUG_TYPE "llama-use-profile"

// Release builds of LLVM (Debian's among them) compile STATISTIC out;
// these count there too, for -stats.
ALWAYS_ENABLED_STATISTIC(NumProfiledSites, "Profiled allocation sites decided");
ALWAYS_ENABLED_STATISTIC(NumProfiledHints, "Hints the profiled sites ask callers to set");

namespace llama {

static cl::opt<std::string>
    ClUse("llama-use", cl::init(""), cl::value_desc("PROFILE"),
          cl::desc("LLAMA use build: rewrite allocation sites with the lifetime classes of "
                   "this indexed profile (llama-profdata merge)"));
static cl::opt<std::string>
    ClModel("llama-model", cl::init(""), cl::value_desc("MODEL"),
            cl::desc("LLAMA use build: lifetime model (llama-train) for sites the profile "
                     "never saw, embedded in the program for the runtime's predictions"));
static cl::opt<double> ClAgreement(
    "llama-agreement", cl::init(0.9),
    cl::desc("LLAMA: a site (or a caller) gets a static class when at least this fraction of "
             "its profiled allocations have that class (default 0.9)"));
static cl::opt<double> ClConfidence(
    "llama-confidence", cl::init(0.9),
    cl::desc("LLAMA: use the model's compile-time prediction for a site the profile never "
             "saw when its probability is at least this (default 0.9)"));
static cl::opt<unsigned> ClHintDepth(
    "llama-hint-depth", cl::init(32),
    cl::desc("LLAMA: how many callers up a hint may be set for a wrapper's allocation "
             "(0: no hints)"));

UseData::~UseData() {
  if (Idx)
    llama_idx_free(Idx);
}

static std::unique_ptr<UseData> loadUseData() {
  auto D = std::make_unique<UseData>();
  D->Options.Agreement = ClAgreement;
  D->Options.HintDepth = ClHintDepth;
  D->Options.Confidence = ClConfidence;
  char Err[512];
  D->Idx = llama_idx_read_file(ClUse.c_str(), Err, sizeof Err);
  if (!D->Idx) {
    D->Error = Err;
    return D;
  }
  for (size_t I = 0, N = llama_idx_site_count(D->Idx); I < N; I++) {
    const llama_idx_site &S = *llama_idx_site_at(D->Idx, I);
    if (llama_alloc_kind_is_dealloc(S.kind))
      continue;
    D->ProfiledFunctions.insert(S.function);
    D->Decisions[S.site_id] = decide(S, D->Options, D->Hints);
    ++NumProfiledSites;
  }
  for (const auto &[Key, Hints] : D->Hints)
    NumProfiledHints += Hints.size();
  if (!ClModel.empty()) {
    void *Buf = nullptr;
    size_t Len = 0;
    if (llama_model_read_file(ClModel.c_str(), &Buf, &Len, Err, sizeof Err) != 0) {
      D->Error = Err;
      return D;
    }
    D->ModelStorage.reset(new uint64_t[(Len + 7) / 8]);
    memcpy(D->ModelStorage.get(), Buf, Len);
    free(Buf);
    D->ModelSize = Len;
    if (llama_model_open(D->ModelStorage.get(), Len, ClModel.c_str(), &D->Model, Err,
                         sizeof Err) != 0) {
      D->Error = Err;
      return D;
    }
    void *Copy = nullptr;
    size_t CopyLen = 0;
    std::string Note = "embedded copy of " + ClModel + ": weights and vocabulary only\n";
    if (llama_model_serialize_runtime(&D->Model, Note.c_str(), &Copy, &CopyLen, Err,
                                      sizeof Err) != 0) {
      D->Error = ClModel + ": " + Err;
      return D;
    }
    D->EmbedStorage.reset(new uint64_t[(CopyLen + 7) / 8]);
    memcpy(D->EmbedStorage.get(), Copy, CopyLen);
    free(Copy);
    D->EmbedSize = CopyLen;
    D->HasModel = true;
  }
  return D;
}

UseData &useData() {
  static std::unique_ptr<UseData> D = loadUseData();
  return *D;
}

bool useBuildEnabled() { return !ClUse.empty(); }

StringRef profilePath() { return ClUse; }

static const ClassEntry ClassEntries[] = {
    {LLAMA_KIND_MALLOC, "llama_malloc_class", {0}},
    {LLAMA_KIND_CALLOC, "llama_calloc_class", {0, 1}},
    {LLAMA_KIND_REALLOC, "llama_realloc_class", {0, 1}},
    {LLAMA_KIND_ALIGNED_ALLOC, "llama_aligned_alloc_class", {0, 1}},
    {LLAMA_KIND_POSIX_MEMALIGN, "llama_posix_memalign_class", {0, 1, 2}},
    {LLAMA_KIND_STRDUP, "llama_strdup_class", {0}},
    {LLAMA_KIND_STRNDUP, "llama_strndup_class", {0, 1}},
    {LLAMA_KIND_NEW, "llama_new_class", {0}},
    {LLAMA_KIND_NEW_ARRAY, "llama_new_class", {0}},
    {LLAMA_KIND_NEW_NOTHROW, "llama_new_nothrow_class", {0}},
    {LLAMA_KIND_NEW_ARRAY_NOTHROW, "llama_new_nothrow_class", {0}},
    {LLAMA_KIND_NEW_ALIGNED, "llama_new_aligned_class", {0, 1}},
    {LLAMA_KIND_NEW_ARRAY_ALIGNED, "llama_new_aligned_class", {0, 1}},
};

const ClassEntry *classEntryOf(unsigned Kind) {
  for (const ClassEntry &E : ClassEntries)
    if (E.Kind == Kind)
      return &E;
  return nullptr;
}

} // namespace llama
