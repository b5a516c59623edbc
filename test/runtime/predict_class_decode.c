// How the class argument of the llama_*_class functions is decoded
// (llama/abi.h, "The use build"): k < 7 is static; llama_hinted_class(tag, fallback)
// takes the class in the thread's hint word __llama_hint_v1 when the tags
// match (counted static, the hint left as it was), else the dynamic path;
// LLAMA_CLASS_UNKNOWN and other values take the dynamic path, which without
// a model is the default bin (counted default). Checked through
// llama_stats_get for every entry point, strdup/strndup included.
//
// RUN: %cc -fno-builtin %s -o %t %link_llamalloc
// RUN: %t 2>&1 | FileCheck %s
// RUN: env LLAMA_DEFAULT_CLASS=3 %t 2>&1 | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: predict_class_decode: PASSED (0 failures)

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llama/abi.h"
#include "llamalloc.h"
#include "../Inputs/llama_test.h"

extern __thread uint64_t __llama_hint_v1;

#define N 40
static void *objs[8 * N];

/* Allocates N objects with each entry point in class argument k. */
static int alloc_all(unsigned k) {
  int n = 0;
  for (int i = 0; i < N; i++) {
    objs[n++] = llama_malloc_class(48, k);
    objs[n++] = llama_calloc_class(3, 16, k);
    objs[n++] = llama_realloc_class(NULL, 40, k);
    objs[n++] = llama_aligned_alloc_class(64, 64, k);
    void *p = NULL;
    EXPECT(llama_posix_memalign_class(&p, 128, 100, k) == 0, "posix_memalign_class k=%#x", k);
    objs[n++] = p;
    char *s = llama_strdup_class("lifetime", k);
    EXPECT(s && strcmp(s, "lifetime") == 0, "strdup_class k=%#x", k);
    objs[n++] = s;
    s = llama_strndup_class("lifetime", 4, k);
    EXPECT(s && strcmp(s, "life") == 0, "strndup_class k=%#x", k);
    objs[n++] = s;
  }
  for (int i = 0; i < n; i++) REQUIRE(objs[i], "allocation %d with k=%#x failed", i, k);
  return n;
}

static void free_all(int n) {
  for (int i = 0; i < n; i++) free(objs[i]);
}

/* Runs alloc_all(k) and checks that every allocation landed in `bin` and was
 * counted in the given source. */
static void check(const char *what, unsigned k, unsigned bin, int source_static) {
  llama_stats_t a, b;
  llama_stats_get(&a);
  int n = alloc_all(k);
  llama_stats_get(&b);
  long long in_bin = (long long)(b.bins[bin].allocations - a.bins[bin].allocations);
  long long st = (long long)(b.allocations_static - a.allocations_static);
  long long def = (long long)(b.allocations_default - a.allocations_default);
  long long pred = (long long)(b.allocations_predicted - a.allocations_predicted);
  EXPECT(in_bin == n, "%s: %lld of %d allocations in bin %u", what, in_bin, n, bin);
  EXPECT(st == (source_static ? n : 0), "%s: static %lld of %d", what, st, n);
  EXPECT(def == (source_static ? 0 : n), "%s: default %lld of %d", what, def, n);
  EXPECT(pred == 0, "%s: predicted %lld without a model", what, pred);
  EXPECT(b.cache_hits == a.cache_hits && b.cache_misses == a.cache_misses,
         "%s: cache used without a model", what);
  free_all(n);
}

int main(void) {
  const char *env = getenv("LLAMA_DEFAULT_CLASS");
  unsigned def_bin = env ? (unsigned)atoi(env) : LLAMA_BIN_UNCLASSIFIED;
  uint32_t tag = llama_hint_tag(UINT64_C(0x1234567890abcdef));
  uint32_t other = llama_hint_tag(UINT64_C(0x0fedcba987654321));
  REQUIRE(tag != other && tag != 0, "tags");

  for (unsigned k = 0; k < LLAMA_NUM_CLASSES; k++) check("static", k, k, 1);

  /* Hinted, matching tag: the hint's class, counted static; the hint stays. */
  for (unsigned k = 0; k < LLAMA_NUM_CLASSES; k++) {
    __llama_hint_v1 = LLAMA_HINT_VALUE(tag, k);
    check("hinted, matching tag", llama_hinted_class(tag, LLAMA_HINT_NO_FALLBACK), k, 1);
    check("hinted, matching tag, other fallback", llama_hinted_class(tag, (k + 1) % 7), k, 1);
    EXPECT(__llama_hint_v1 == LLAMA_HINT_VALUE(tag, k), "the runtime changed the hint");
  }
  /* Hinted, another site's hint: the dynamic path (no model: default). */
  __llama_hint_v1 = LLAMA_HINT_VALUE(other, 2);
  check("hinted, wrong tag", llama_hinted_class(tag, LLAMA_HINT_NO_FALLBACK), def_bin, 0);
  /* Hinted, no hint set. */
  __llama_hint_v1 = 0;
  check("hinted, no hint", llama_hinted_class(tag, LLAMA_HINT_NO_FALLBACK), def_bin, 0);
  /* A hint whose class is out of range is ignored. */
  __llama_hint_v1 = ((uint64_t)tag << 32) | 8u;
  check("hinted, bad class in hint", llama_hinted_class(tag, LLAMA_HINT_NO_FALLBACK), def_bin, 0);
  __llama_hint_v1 = ((uint64_t)tag << 32);
  check("hinted, zero class word", llama_hinted_class(tag, LLAMA_HINT_NO_FALLBACK), def_bin, 0);
  /* A hint that does not match gives the compiler's fallback class, counted
   * static (the callers no hint covers). */
  __llama_hint_v1 = LLAMA_HINT_VALUE(other, 2);
  check("hinted, wrong tag, fallback 4", llama_hinted_class(tag, 4), 4, 1);
  __llama_hint_v1 = 0;
  check("hinted, no hint, fallback 0", llama_hinted_class(tag, 0), 0, 1);
  /* Tag 0 never comes from the pass: unknown, whatever the fallback bits. */
  check("hinted, tag 0", LLAMA_CLASS_HINTED, def_bin, 0);
  /* LLAMA_CLASS_UNKNOWN is never a hinted class, even under a hint whose
   * tag is all ones (llama_hint_tag never returns it); other values >= 7
   * without the hinted bit are unknown too. */
  __llama_hint_v1 = LLAMA_HINT_VALUE(LLAMA_HINT_TAG_MASK, 1);
  check("unknown", LLAMA_CLASS_UNKNOWN, def_bin, 0);
  __llama_hint_v1 = 0;
  check("out of range 7", 7, def_bin, 0);
  check("out of range 0x7fffffff", 0x7fffffffu, def_bin, 0);

  /* Plain malloc & co. and strdup: default, no model. */
  llama_stats_t a, b;
  llama_stats_get(&a);
  void *p = malloc(10), *q = calloc(1, 10), *r = realloc(NULL, 10);
  char *s = strdup("x"), *t = strndup("xyz", 1);
  llama_stats_get(&b);
  EXPECT(b.allocations_default - a.allocations_default == 5, "plain: default %llu",
         (unsigned long long)(b.allocations_default - a.allocations_default));
  EXPECT(b.bins[def_bin].allocations - a.bins[def_bin].allocations == 5, "plain: bin");
  EXPECT(s && !strcmp(s, "x") && t && !strcmp(t, "x"), "strdup/strndup contents");
  free(p), free(q), free(r), free(s), free(t);

  /* Plain allocations under a hint for their kind's external pseudo-site
   * (code the use build could not rewrite): the hint's class, static; a
   * hint for another kind's pseudo-site or another site: default. */
  uint32_t ext_malloc = llama_hint_tag(llama_external_site_id(LLAMA_KIND_MALLOC));
  uint32_t ext_calloc = llama_hint_tag(llama_external_site_id(LLAMA_KIND_CALLOC));
  __llama_hint_v1 = LLAMA_HINT_VALUE(ext_malloc, 5);
  llama_stats_get(&a);
  p = malloc(24);
  q = calloc(1, 24);
  llama_stats_get(&b);
  __llama_hint_v1 = 0;
  EXPECT(b.allocations_static - a.allocations_static == 1, "external: static %llu",
         (unsigned long long)(b.allocations_static - a.allocations_static));
  EXPECT(b.bins[5].allocations - a.bins[5].allocations == 1, "external: malloc in bin 5");
  EXPECT(b.allocations_default - a.allocations_default == 1, "external: calloc default");
  free(p), free(q);
  __llama_hint_v1 = LLAMA_HINT_VALUE(ext_calloc, 3);
  llama_stats_get(&a);
  q = calloc(2, 8);
  llama_stats_get(&b);
  __llama_hint_v1 = 0;
  EXPECT(b.bins[3].allocations - a.bins[3].allocations == 1, "external: calloc in bin 3");
  free(q);
  return lt_summary("predict_class_decode");
}
