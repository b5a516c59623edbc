//===- UseDecisions.h - what the use build does with each site ------------===//
//
// The use build's decisions as pure functions: no LLVM, no IR. They take a
// profile's sites (llama/profdata/indexed.h) and the thresholds, and return
// what a site gets (static class, hints, dynamic path) and which hint a call
// sets. UseBuild.cpp decides every profiled site once per process with them;
// UseAnnotatePass.cpp turns each call's outcome into metadata and a remark.
// test/pass/decisions.cpp compiles this file alone and checks every outcome
// on hand-built profiles:
//
//   clang++-19 -std=c++17 -Iinclude -Ilib/profdata/include -Ipass \
//     test/pass/decisions.cpp pass/UseDecisions.cpp -o decisions && ./decisions
//
// (Through the plugin the same decisions run as part of
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-use-annotate \
//     -llama-use=app.llamaprof in.ll -S
// which needs a profile; test/use/decisions.ll does that.)
//
//===----------------------------------------------------------------------===//
#ifndef LLAMA_PASS_USEDECISIONS_H
#define LLAMA_PASS_USEDECISIONS_H

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "llama/abi.h"
#include "llama/profdata/indexed.h"

namespace llama {

// The thresholds (-llama-agreement, -llama-hint-depth, -llama-confidence).
struct DecisionOptions {
  double Agreement = 0.9; // share of allocations a static class needs
  unsigned HintDepth = 32; // how many callers up a hint may be set (0: none)
  double Confidence = 0.9; // model probability a prediction needs
};

// What the use build does with one profiled site.
struct SiteDecision {
  enum Kind { Static, Hinted, Dynamic, NoData } How = NoData;
  unsigned Class = 0;                         // the majority class (Static: the class)
  unsigned Fallback = LLAMA_HINT_NO_FALLBACK; // Hinted: class where no hint covers
  double Agreement = 0;     // share of the majority class over all contexts
  uint64_t Allocations = 0; // estimated allocations with a class
  unsigned Contexts = 0;
  double HintedShare = 0;    // Hinted: share of allocations a hint covers
  double MisplacedShare = 0; // Hinted: share a hint gives another class than profiled
  unsigned HintSites = 0;    // Hinted: caller call sites that set a hint
  unsigned HintDepthMax = 0;
};

// One hint a caller's call sets: "allocations of site SiteId (tag Tag) under
// this call have class Class". Weight orders competing hints at one call.
struct Hint {
  uint64_t SiteId;
  uint32_t Tag;
  unsigned Class;
  unsigned Depth; // frames between the call and the site
  uint64_t Weight; // profiled allocations the hint covers
};

// The hints of all sites, by the key of the call that would set them: the
// call's own frame, callFrameKey().
using HintTable = std::unordered_map<uint64_t, std::vector<Hint>>;

// The key of a call at (function linkage name, line offset, column): the
// site-id hash of that one frame, as llama_hash_frame computes it.
uint64_t callFrameKey(const char *Function, uint32_t LineOffset, uint32_t Column);

// The decision for profiled site S. Adds the hints that make a
// context-dependent site static to Hints (also for a site that ends up
// static or dynamic: nothing reads their tag then).
SiteDecision decide(const llama_idx_site &S, const DecisionOptions &O, HintTable &Hints);

// The hint the call with key CallKey sets (one hint word: the heaviest,
// then the lowest site id), or null when no site wants one there.
const Hint *selectHint(const HintTable &Hints, uint64_t CallKey);

// The class argument of a rewritten call for a decided site: the class of a
// static site, llama_hinted_class for a hinted one; false for the others
// (they keep the dynamic path).
bool classArgument(uint64_t SiteId, const SiteDecision &Dec, uint32_t &K);

// What happens to one allocation call of the use build; each outcome is an
// optimisation remark of that name (remark name: outcomeName).
enum class Outcome : unsigned {
  Static,     // a class from the profile
  Hinted,     // callers' hints, llama_hinted_class
  Predicted,  // not in the profile; the model is sure enough
  Disagree,   // contexts disagree and no caller separates them: dynamic
  Unprofiled, // not in the profile (or no samples) and no prediction: dynamic
  Unsure,     // not in the profile; the model is not sure enough: dynamic
  NoEntry,    // no class-annotated entry point for the function: dynamic
};
constexpr unsigned NumOutcomes = unsigned(Outcome::NoEntry) + 1;

const char *outcomeName(Outcome O);
// True for the outcomes that keep the dynamic path (missed remarks).
bool outcomeIsDynamic(Outcome O);

// The outcome the profile gives a call: Dec is its site's decision (null:
// the profile does not have the site), HasEntry whether its function has a
// class-annotated entry point. Unprofiled means "the profile has no class
// for it": ask the model, modelOutcome().
Outcome profileOutcome(const SiteDecision *Dec, bool HasEntry);

// The outcome for a site the profile has no class for: Predicted when the
// model gave a prediction (HasPrediction) with probability at least
// O.Confidence, Unsure when it gave a less sure one, Unprofiled without one.
Outcome modelOutcome(bool HasPrediction, double Probability, const DecisionOptions &O);

} // namespace llama

#endif // LLAMA_PASS_USEDECISIONS_H
