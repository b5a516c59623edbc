// Unit test of the use build's decisions (pass/UseDecisions.cpp), compiled
// alone, without LLVM: hand-built profile sites for every kind of decision
// (static, hinted, dynamic, no data), the thresholds, hint selection, the
// class argument, and every call outcome (the remark names). Each check that
// fails prints what it expected and the program exits 1.
// RUN: %cxx -O1 -I%srcroot/pass -I%srcroot/lib/profdata/include %s \
// RUN:   %srcroot/pass/UseDecisions.cpp -o %t
// RUN: %t | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: decisions: {{[1-9][0-9]*}} checks passed
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <vector>

#include "UseDecisions.h"

using namespace llama;

static unsigned Checks, Failures;

static void check(bool OK, const char *What, int Line) {
  Checks++;
  if (!OK) {
    Failures++;
    printf("FAIL line %d: %s\n", Line, What);
  }
}
#define CHECK(cond) check((cond), #cond, __LINE__)

// A frame as the profile names it: FUNCTION:LINE_OFFSET:COLUMN with a source
// position, or a library frame (no position) or an unsymbolised one.
static llama_idx_frame frame(const char *F, uint32_t Off, uint32_t Col) {
  return {F, "t.c", Off + 10, Col, Off, 0};
}
static llama_idx_frame libraryFrame(const char *F) { return {F, "", 0, 0, 0, 0}; }
static llama_idx_frame unsymbolised(const char *F) {
  return {F, "", 0, 0, 0, LLAMA_IDX_FRAME_UNSYMBOLIZED};
}

// A site under construction: contexts with their frames (frame 0 is the
// site's own function).
struct TestSite {
  llama_idx_site Site{};
  std::vector<llama_idx_context> Contexts;
  std::vector<std::vector<llama_idx_frame>> Frames;

  explicit TestSite(uint64_t Id, uint16_t Flags = 0) {
    Site.site_id = Id;
    Site.site_flags = Flags;
    Site.function = "site_fn";
  }
  TestSite &ctx(uint32_t Class, uint64_t Calls, std::initializer_list<llama_idx_frame> Callers) {
    llama_idx_context C{};
    C.site_id = Site.site_id;
    C.calls = Calls;
    C.lifetime_class = Class;
    Contexts.push_back(C);
    std::vector<llama_idx_frame> F{frame("site_fn", 1, 3)};
    F.insert(F.end(), Callers);
    Frames.push_back(F);
    return *this;
  }
  const llama_idx_site &get() {
    for (size_t I = 0; I < Contexts.size(); I++) {
      Contexts[I].frames = Frames[I].data();
      Contexts[I].frame_count = Frames[I].size();
    }
    Site.contexts = Contexts.data();
    Site.context_count = Contexts.size();
    return Site;
  }
};

static uint64_t key(const char *F, uint32_t Off, uint32_t Col) { return callFrameKey(F, Off, Col); }

static void staticAndNoData() {
  DecisionOptions O;
  HintTable H;
  TestSite S(1);
  S.ctx(3, 300, {frame("main", 5, 3)}).ctx(3, 200, {frame("other", 7, 3), frame("main", 6, 3)});
  SiteDecision D = decide(S.get(), O, H);
  CHECK(D.How == SiteDecision::Static);
  CHECK(D.Class == 3);
  CHECK(D.Agreement == 1.0);
  CHECK(D.Allocations == 500);
  CHECK(D.Contexts == 2);
  CHECK(H.empty()); // agreeing contexts need no hints

  // Contexts without a class (no lifetime samples) do not count.
  TestSite N(2);
  N.ctx(LLAMA_IDX_NO_CLASS, 10, {frame("main", 1, 1)});
  D = decide(N.get(), O, H);
  CHECK(D.How == SiteDecision::NoData);
  CHECK(D.Allocations == 0);
  CHECK(D.Contexts == 0);

  // Samples but no call counts: the samples weigh.
  TestSite W(3);
  W.ctx(2, 0, {frame("main", 1, 1)});
  W.Contexts[0].samples = 7;
  D = decide(W.get(), O, H);
  CHECK(D.How == SiteDecision::Static && D.Class == 2 && D.Allocations == 7);
}

// A wrapper whose callers separate its contexts: hints one frame up.
static TestSite wrapper() {
  TestSite S(0x1234);
  S.ctx(0, 300, {frame("get_handler", 1, 5), frame("main", 8, 3)})
      .ctx(6, 200, {frame("put_handler", 2, 9), frame("main", 9, 3)});
  return S;
}

static void hinted() {
  DecisionOptions O;
  HintTable H;
  TestSite S = wrapper();
  SiteDecision D = decide(S.get(), O, H);
  CHECK(D.How == SiteDecision::Hinted);
  CHECK(D.Class == 0);
  CHECK(D.Agreement == 0.6);
  CHECK(D.Fallback == LLAMA_HINT_NO_FALLBACK); // 60% < 90%
  CHECK(D.HintSites == 2);
  CHECK(D.HintDepthMax == 1);
  CHECK(D.HintedShare == 1.0);
  CHECK(D.MisplacedShare == 0.0);
  const Hint *Get = selectHint(H, key("get_handler", 1, 5));
  const Hint *Put = selectHint(H, key("put_handler", 2, 9));
  CHECK(Get && Get->Class == 0 && Get->Depth == 1 && Get->Weight == 300 &&
        Get->SiteId == 0x1234 && Get->Tag == llama_hint_tag(0x1234));
  CHECK(Put && Put->Class == 6 && Put->Weight == 200);
  CHECK(!selectHint(H, key("main", 8, 3))); // never needed: depth 1 covered all
  uint32_t K = 0;
  CHECK(classArgument(0x1234, D, K) &&
        K == llama_hinted_class(llama_hint_tag(0x1234), LLAMA_HINT_NO_FALLBACK));

  // -llama-hint-depth=0: no hints, the contexts disagree: dynamic.
  HintTable None;
  DecisionOptions NoHints;
  NoHints.HintDepth = 0;
  TestSite S2 = wrapper();
  D = decide(S2.get(), NoHints, None);
  CHECK(D.How == SiteDecision::Dynamic);
  CHECK(None.empty());
  CHECK(!classArgument(0x1234, D, K));

  // -llama-agreement=0.5: the 60% majority is a fallback for the callers no
  // hint covers; the put_handler hint still places its 40% better.
  DecisionOptions Loose;
  Loose.Agreement = 0.5;
  HintTable H3;
  TestSite S3 = wrapper();
  D = decide(S3.get(), Loose, H3);
  CHECK(D.How == SiteDecision::Hinted && D.Fallback == 0);
  CHECK(classArgument(0x1234, D, K) && K == llama_hinted_class(llama_hint_tag(0x1234), 0));
}

static void hintsLookThroughLibraries() {
  DecisionOptions O;
  HintTable H;
  // Frames 1 and 2 are library code (no source position) and an unsymbolised
  // frame: the hint goes to make_name, three frames up.
  TestSite S(0x77);
  S.ctx(4, 50, {libraryFrame("_M_mutate"), unsymbolised("lib+0x10"), frame("make_name", 1, 7)})
      .ctx(1, 50, {frame("other", 3, 2)});
  SiteDecision D = decide(S.get(), O, H);
  CHECK(D.How == SiteDecision::Hinted);
  CHECK(!selectHint(H, key("_M_mutate", 0, 0)));
  const Hint *Make = selectHint(H, key("make_name", 1, 7));
  CHECK(Make && Make->Depth == 3 && Make->Class == 4);
  CHECK(D.HintDepthMax == 3);
  // A depth limit below it loses that hint but keeps the other.
  DecisionOptions Shallow;
  Shallow.HintDepth = 2;
  HintTable H2;
  TestSite S2 = S;
  D = decide(S2.get(), Shallow, H2);
  CHECK(!selectHint(H2, key("make_name", 1, 7)));
  CHECK(selectHint(H2, key("other", 3, 2)));
  CHECK(D.How == SiteDecision::Hinted && D.HintedShare == 0.5);
}

static void externalSite() {
  // The external pseudo-site: all contexts agree, but there is no call to
  // make static, so it gets hints and no fallback.
  DecisionOptions O;
  HintTable H;
  TestSite S(0x99, LLAMA_SITE_EXTERNAL);
  S.ctx(0, 700, {libraryFrame("_M_append"), frame("make_name", 1, 7), frame("main", 11, 3)});
  SiteDecision D = decide(S.get(), O, H);
  CHECK(D.How == SiteDecision::Hinted);
  CHECK(D.Fallback == LLAMA_HINT_NO_FALLBACK);
  const Hint *Make = selectHint(H, key("make_name", 1, 7));
  CHECK(Make && Make->Depth == 2 && Make->Weight == 700);
}

static void disagreeAndFallback() {
  DecisionOptions O;
  HintTable H;
  // 50/50 and no caller can take a hint: dynamic.
  TestSite S(5);
  S.ctx(1, 100, {unsymbolised("prog+0x10")}).ctx(2, 100, {unsymbolised("prog+0x20")});
  SiteDecision D = decide(S.get(), O, H);
  CHECK(D.How == SiteDecision::Dynamic);
  CHECK(D.Agreement == 0.5);
  CHECK(H.empty());
  DecisionOptions Loose;
  Loose.Agreement = 0.5;
  TestSite S2 = S;
  D = decide(S2.get(), Loose, H);
  CHECK(D.How == SiteDecision::Static); // the tie goes to the lower class
  CHECK(D.Class == 1);

  // 95% in class 1 through one caller that cannot separate the rest: the
  // hint there would give class 1, the fallback's, so it changes nothing
  // and the site is static in the majority class.
  TestSite S3(6);
  S3.ctx(1, 95, {frame("caller", 2, 4)}).ctx(2, 5, {frame("caller", 2, 4)});
  D = decide(S3.get(), O, H);
  CHECK(D.How == SiteDecision::Static);
  CHECK(D.Class == 1 && D.Fallback == 1);
  uint32_t K = 99;
  CHECK(classArgument(6, D, K) && K == 1);
  // The same with a caller whose 5% can be separated: hinted, fallback 1.
  TestSite S4(7);
  S4.ctx(1, 95, {frame("caller", 2, 4)}).ctx(2, 5, {frame("rare", 1, 1)});
  D = decide(S4.get(), O, H);
  CHECK(D.How == SiteDecision::Hinted && D.Fallback == 1);
}

static void innermostHintWins() {
  // Both contexts pass through outer:1:1 (depth 2); inner:1:1 (depth 1)
  // leads only to the class-5 context. Depth 1 first: inner gets a hint and
  // covers the class-5 context; a:1:1 covers the class-0 one. outer is never
  // needed.
  DecisionOptions O;
  HintTable H;
  TestSite S(8);
  S.ctx(0, 10, {frame("a", 1, 1), frame("outer", 1, 1)})
      .ctx(5, 10, {frame("inner", 1, 1), frame("outer", 1, 1)});
  SiteDecision D = decide(S.get(), O, H);
  CHECK(D.How == SiteDecision::Hinted && D.HintSites == 2 && D.HintedShare == 1.0);
  CHECK(!selectHint(H, key("outer", 1, 1)));
  // A call that lies at depth 1 of one context and (behind a library frame,
  // which cannot take a hint) at depth 2 of another would be the innermost
  // hint of both: it is judged on both, they disagree, so it gets no hint.
  HintTable H2;
  TestSite S2(9);
  S2.ctx(0, 10, {frame("mid", 1, 1)}).ctx(5, 10, {libraryFrame("lib"), frame("mid", 1, 1)});
  D = decide(S2.get(), O, H2);
  CHECK(H2.empty());
  CHECK(D.How == SiteDecision::Dynamic);
}

static void selection() {
  HintTable H;
  uint64_t Call = key("caller", 3, 3);
  CHECK(!selectHint(H, Call));
  H[Call].push_back({20, llama_hint_tag(20), 1, 1, 100});
  H[Call].push_back({10, llama_hint_tag(10), 2, 1, 300});
  H[Call].push_back({30, llama_hint_tag(30), 3, 1, 300});
  const Hint *Best = selectHint(H, Call);
  CHECK(Best && Best->SiteId == 10); // heaviest, then the lowest site id
}

static void outcomes() {
  DecisionOptions O;
  SiteDecision Static, Hinted, Dynamic, NoData;
  Static.How = SiteDecision::Static;
  Hinted.How = SiteDecision::Hinted;
  Dynamic.How = SiteDecision::Dynamic;
  CHECK(profileOutcome(&Static, false) == Outcome::NoEntry);
  CHECK(profileOutcome(nullptr, false) == Outcome::NoEntry);
  CHECK(profileOutcome(&Static, true) == Outcome::Static);
  CHECK(profileOutcome(&Hinted, true) == Outcome::Hinted);
  CHECK(profileOutcome(&Dynamic, true) == Outcome::Disagree);
  CHECK(profileOutcome(&NoData, true) == Outcome::Unprofiled);
  CHECK(profileOutcome(nullptr, true) == Outcome::Unprofiled);
  CHECK(modelOutcome(false, 0, O) == Outcome::Unprofiled);
  CHECK(modelOutcome(true, 0.95, O) == Outcome::Predicted);
  CHECK(modelOutcome(true, 0.9, O) == Outcome::Predicted); // at least the threshold
  CHECK(modelOutcome(true, 0.5, O) == Outcome::Unsure);

  // The remark names, one per outcome; the dynamic ones are missed remarks.
  const char *Names[] = {"static", "hinted",  "predicted", "disagree",
                         "unprofiled", "unsure", "noentry"};
  static_assert(sizeof Names / sizeof *Names == NumOutcomes, "one name per outcome");
  for (unsigned I = 0; I < NumOutcomes; I++) {
    CHECK(!strcmp(outcomeName(Outcome(I)), Names[I]));
    CHECK(outcomeIsDynamic(Outcome(I)) == (I >= unsigned(Outcome::Disagree)));
  }
}

int main() {
  staticAndNoData();
  hinted();
  hintsLookThroughLibraries();
  externalSite();
  disagreeAndFallback();
  innermostHintWins();
  selection();
  outcomes();
  if (Failures) {
    printf("decisions: %u of %u checks failed\n", Failures, Checks);
    return 1;
  }
  printf("decisions: %u checks passed\n", Checks);
  return 0;
}
