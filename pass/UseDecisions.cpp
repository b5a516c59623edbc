//===- UseDecisions.cpp - what the use build does with each site ----------===//
//
// Pure decisions of the use build (no LLVM): a profiled site's class or
// hints, the hint a call sets, a call's outcome. UseDecisions.h has the
// contracts; docs/design.md §7 explains the rules. The unit test, and the
// plugin step that applies them (build: the CMake build directory):
//
//   clang++-19 -std=c++17 -Iinclude -Ilib/profdata/include -Ipass \
//     test/pass/decisions.cpp pass/UseDecisions.cpp -o decisions && ./decisions
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-use-annotate \
//     -llama-use=app.llamaprof in.ll -S
//
//===----------------------------------------------------------------------===//
#include "UseDecisions.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <utility>

namespace llama {

static uint64_t contextWeight(const llama_idx_context &C) { return C.calls ? C.calls : C.samples; }

uint64_t callFrameKey(const char *Function, uint32_t LineOffset, uint32_t Column) {
  return llama_hash_frame(LLAMA_HASH_INIT, Function, strlen(Function), LineOffset, Column);
}

// Only a call in code built with the profile can set a hint: a frame
// without a source position (a library such as libstdc++, or code without
// debug information) is looked through, never hinted; it would otherwise
// claim contexts for a hint no call ever sets.
static bool hintable(const llama_idx_frame &F) {
  return !(F.flags & LLAMA_IDX_FRAME_UNSYMBOLIZED) &&
         (F.line != 0 || (F.flags & LLAMA_IDX_FRAME_FROM_SITE));
}

static uint64_t keyOf(const llama_idx_frame &F) {
  return callFrameKey(F.function, F.line_offset, F.column);
}

// The decision for one site, and the hints that make a context-dependent
// site static: for d = 1, 2, ... group the contexts not yet covered by their
// frame d (a call instruction d callers up); a group whose contexts agree
// becomes a hint at that call. The innermost hint is set last at run time,
// so it wins, which is why deeper groups only see what shallower ones left.
SiteDecision decide(const llama_idx_site &S, const DecisionOptions &O, HintTable &Hints) {
  SiteDecision R;
  // 1. The contexts with a class, and the weight of each class.
  uint64_t ByClass[LLAMA_NUM_CLASSES] = {};
  std::vector<const llama_idx_context *> Ctx;
  for (uint32_t I = 0; I < S.context_count; I++) {
    const llama_idx_context &C = S.contexts[I];
    if (C.lifetime_class >= LLAMA_NUM_CLASSES)
      continue;
    ByClass[C.lifetime_class] += contextWeight(C);
    Ctx.push_back(&C);
  }
  for (uint64_t W : ByClass)
    R.Allocations += W;
  R.Contexts = Ctx.size();
  if (!R.Allocations)
    return R; // NoData

  // 2. The majority class, the fallback, and the sites whose contexts agree.
  unsigned Major = std::max_element(ByClass, ByClass + LLAMA_NUM_CLASSES) - ByClass;
  R.Class = Major;
  R.Agreement = double(ByClass[Major]) / double(R.Allocations);
  // An external pseudo-site (allocations inside code the pass did not
  // rewrite, e.g. libstdc++) has no call to annotate: only hints reach it,
  // so it gets them even when its contexts agree.
  bool External = S.site_flags & LLAMA_SITE_EXTERNAL;
  R.Fallback = R.Agreement >= O.Agreement && !External ? Major : LLAMA_HINT_NO_FALLBACK;
  if (ByClass[Major] == R.Allocations && !External) {
    R.How = SiteDecision::Static;
    return R;
  }
  R.How = SiteDecision::Dynamic;
  uint32_t Tag = llama_hint_tag(S.site_id);

  // 3. Where each call lies on each context's path: key -> (context, depth
  // of its innermost occurrence).
  std::map<uint64_t, std::vector<std::pair<size_t, unsigned>>> Through;
  for (size_t I = 0; I < Ctx.size(); I++) {
    const llama_idx_context &C = *Ctx[I];
    for (unsigned Depth = 1; Depth < C.frame_count && Depth <= O.HintDepth; Depth++) {
      if (!hintable(C.frames[Depth]))
        continue;
      auto &V = Through[keyOf(C.frames[Depth])];
      if (V.empty() || V.back().first != I)
        V.push_back({I, Depth});
    }
  }

  // 4. Hints. At run time a hint applies to every allocation of the site
  // under its call, and the innermost hint on the stack wins (it is stored
  // last). So a candidate call is judged on every context it would be the
  // innermost hint of, including contexts an outer hint already covered,
  // and accepted when those agree. EffDepth/EffClass: each context's
  // innermost accepted hint (depth 0: none). Candidates come depth by depth
  // from the contexts no hint covers yet.
  std::vector<unsigned> EffDepth(Ctx.size(), 0), EffClass(Ctx.size(), 0);
  std::set<uint64_t> Tried;
  for (unsigned Depth = 1; Depth <= O.HintDepth; Depth++) {
    std::set<uint64_t> Candidates; // ordered: deterministic output
    for (size_t I = 0; I < Ctx.size(); I++) {
      const llama_idx_context &C = *Ctx[I];
      if (!EffDepth[I] && Depth < C.frame_count && hintable(C.frames[Depth]))
        Candidates.insert(keyOf(C.frames[Depth]));
    }
    for (uint64_t Key : Candidates) {
      if (!Tried.insert(Key).second)
        continue;
      uint64_t Affected[LLAMA_NUM_CLASSES] = {}, Total = 0;
      for (auto [I, P] : Through[Key])
        if (!EffDepth[I] || EffDepth[I] > P) {
          Affected[Ctx[I]->lifetime_class] += contextWeight(*Ctx[I]);
          Total += contextWeight(*Ctx[I]);
        }
      if (!Total)
        continue;
      unsigned K = std::max_element(Affected, Affected + LLAMA_NUM_CLASSES) - Affected;
      if (double(Affected[K]) / double(Total) < O.Agreement)
        continue;
      for (auto [I, P] : Through[Key])
        if (!EffDepth[I] || EffDepth[I] > P) {
          EffDepth[I] = P;
          EffClass[I] = K;
        }
      Hints[Key].push_back({S.site_id, Tag, K, Depth, Total});
      R.HintSites++;
      R.HintDepthMax = std::max(R.HintDepthMax, Depth);
    }
  }

  // 5. What the hints cover, and whether they beat the fallback.
  uint64_t CoveredWeight = 0, Misplaced = 0, HintedByClass[LLAMA_NUM_CLASSES] = {};
  for (size_t I = 0; I < Ctx.size(); I++) {
    if (!EffDepth[I])
      continue;
    uint64_t W = contextWeight(*Ctx[I]);
    CoveredWeight += W;
    HintedByClass[EffClass[I]] += W;
    if (EffClass[I] != Ctx[I]->lifetime_class)
      Misplaced += W;
  }
  R.MisplacedShare = double(Misplaced) / double(R.Allocations);
  // Hints pay off when they place some allocations better than the
  // fallback would: a hint whose class is the fallback's changes nothing.
  bool Useful = false;
  for (unsigned K = 0; K < LLAMA_NUM_CLASSES; K++)
    Useful |= K != R.Fallback && HintedByClass[K] > 0;
  if (R.HintSites && Useful) {
    R.How = SiteDecision::Hinted;
    R.HintedShare = double(CoveredWeight) / double(R.Allocations);
  } else if (R.Fallback != LLAMA_HINT_NO_FALLBACK) {
    R.How = SiteDecision::Static;
  }
  return R;
}

const Hint *selectHint(const HintTable &Hints, uint64_t CallKey) {
  auto It = Hints.find(CallKey);
  if (It == Hints.end() || It->second.empty())
    return nullptr;
  return &*std::min_element(It->second.begin(), It->second.end(),
                            [](const Hint &A, const Hint &B) {
                              return A.Weight != B.Weight ? A.Weight > B.Weight
                                                          : A.SiteId < B.SiteId;
                            });
}

bool classArgument(uint64_t SiteId, const SiteDecision &Dec, uint32_t &K) {
  if (Dec.How == SiteDecision::Static)
    K = Dec.Class;
  else if (Dec.How == SiteDecision::Hinted)
    K = llama_hinted_class(llama_hint_tag(SiteId), Dec.Fallback);
  else
    return false;
  return true;
}

const char *outcomeName(Outcome O) {
  switch (O) {
  case Outcome::Static: return "static";
  case Outcome::Hinted: return "hinted";
  case Outcome::Predicted: return "predicted";
  case Outcome::Disagree: return "disagree";
  case Outcome::Unprofiled: return "unprofiled";
  case Outcome::Unsure: return "unsure";
  case Outcome::NoEntry: return "noentry";
  }
  return "?";
}

bool outcomeIsDynamic(Outcome O) {
  return O != Outcome::Static && O != Outcome::Hinted && O != Outcome::Predicted;
}

Outcome profileOutcome(const SiteDecision *Dec, bool HasEntry) {
  if (!HasEntry)
    return Outcome::NoEntry;
  if (!Dec)
    return Outcome::Unprofiled;
  switch (Dec->How) {
  case SiteDecision::Static: return Outcome::Static;
  case SiteDecision::Hinted: return Outcome::Hinted;
  case SiteDecision::Dynamic: return Outcome::Disagree;
  case SiteDecision::NoData: return Outcome::Unprofiled;
  }
  return Outcome::Unprofiled;
}

Outcome modelOutcome(bool HasPrediction, double Probability, const DecisionOptions &O) {
  if (!HasPrediction)
    return Outcome::Unprofiled;
  return Probability >= O.Confidence ? Outcome::Predicted : Outcome::Unsure;
}

} // namespace llama
