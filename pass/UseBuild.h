//===- UseBuild.h - what the two steps of the LLAMA use build share -------===//
//
// The use build (`-mllvm -llama-use=PROFILE [-mllvm -llama-model=MODEL]`)
// runs in two steps, each a pass of its own: UseAnnotatePass decides per site
// and records the decision as `!llama.class` metadata at the start of the
// pipeline; UseRewritePass turns annotated calls into class-annotated entry
// points at its end. Both read the profile and model, digested once per
// process here (UseBuild.cpp): the decisions (UseDecisions.h) by site id,
// the hint table, the model. Both passes run with
//
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-use \
//     -llama-use=app.llamaprof in.ll -S
//
// (build: the CMake build directory; app.llamaprof from llama-profdata merge).
//
//===----------------------------------------------------------------------===//
#ifndef LLAMA_PASS_USEBUILD_H
#define LLAMA_PASS_USEBUILD_H

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/StringSet.h"

#include <cstdint>
#include <memory>
#include <string>

#include "UseDecisions.h"
#include "llama/profdata/indexed.h"
#include "llama_model.h"

namespace llama {

// The metadata the annotate step puts on a call: !{i32 K}, K the class
// argument of its class-annotated entry point.
constexpr const char *ClassMD = "llama.class";

// The profile and the model, digested once per process.
struct UseData {
  std::string Error; // non-empty: the profile or model could not be used
  llama_idx *Idx = nullptr;
  std::unique_ptr<uint64_t[]> ModelStorage; // 8-byte aligned model bytes
  size_t ModelSize = 0;
  // What the program embeds: the weights and vocabulary only
  // (llama_model_serialize_runtime), 8-byte aligned.
  std::unique_ptr<uint64_t[]> EmbedStorage;
  size_t EmbedSize = 0;
  llama_model Model{};
  bool HasModel = false;
  DecisionOptions Options;
  llvm::DenseMap<uint64_t, SiteDecision> Decisions; // by site id
  HintTable Hints;
  llvm::StringSet<> ProfiledFunctions; // functions holding a profiled site

  ~UseData();
};

// True when -llama-use=PROFILE was given.
bool useBuildEnabled();

// The -llama-use path, for messages.
llvm::StringRef profilePath();

// The profile and model of -llama-use/-llama-model, read and decided on the
// first call (clang compiles one file per process, opt may run the passes
// on several modules: either way once). On failure Error says why.
UseData &useData();

// How a call of one allocation function becomes a call of its class-annotated
// entry point: which of the original arguments it keeps, in order; the class
// is appended.
struct ClassEntry {
  unsigned Kind;
  const char *Name;
  llvm::SmallVector<unsigned, 3> Args;
};

// The class-annotated entry point of allocation kind Kind, or null:
// functions without one keep the dynamic path.
const ClassEntry *classEntryOf(unsigned Kind);

} // namespace llama

#endif // LLAMA_PASS_USEBUILD_H
