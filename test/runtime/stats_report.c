// The statistics report: llama_stats_print(fd) on demand, and the report
// LLAMA_STATS=1 prints on stderr at exit, with exactly one line
// "allocations: static N, predicted N, default N" carrying the counts this
// program caused (class calls are counted exactly; plain malloc also counts
// libc's own allocations, so only a lower bound is checked for "default").
// Without LLAMA_STATS nothing is printed at exit.
//
// RUN: %cc -fno-builtin %s -o %t %link_llamalloc
// RUN: env LLAMA_STATS=1 %t 2> %t.err | FileCheck --check-prefix=OUT %s
// RUN: FileCheck --implicit-check-not="allocations: static" %s < %t.err
// RUN: %t 2> %t.err0 | FileCheck --check-prefix=OUT %s
// RUN: FileCheck --allow-empty --check-prefix=NOSTATS %s < %t.err0
// RUN: env LLAMA_STATS=0 %t 2> %t.err1 | FileCheck --check-prefix=OUT %s
// RUN: FileCheck --allow-empty --check-prefix=NOSTATS %s < %t.err1

// The on-demand report after 1000 class allocations:
// OUT: --- report 1 ---
// OUT: {{^ *}}allocations: static 1000, predicted 0, default {{[0-9]+$}}
// OUT: --- report 2 ---
// OUT: {{^ *}}allocations: static 1230, predicted 0, default {{[0-9]+$}}
// OUT-NOT: FAIL
// OUT: stats_report: PASSED (0 failures)

// The report at exit, exactly one such line:
// CHECK: {{^ *}}allocations: static 1230, predicted 0, default {{[0-9]+$}}

// NOSTATS-NOT: allocations:

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llamalloc.h"
#define LT_LOG_FD 1 /* diagnostics with the OUT checks; stderr has the report */
#include "../Inputs/llama_test.h"

static void say(const char *s) {
  ssize_t w = write(1, s, strlen(s));
  (void)w;
}

int main(void) {
  lt_watchdog(60);
  llama_stats_t s0, s1, s2;
  llama_stats_get(&s0);
  EXPECT(s0.allocations_static == 0, "allocations_static = %llu before any class call",
         (unsigned long long)s0.allocations_static);
  static void *p[1000];
  for (int i = 0; i < 1000; i++) {
    p[i] = llama_malloc_class(32 + (size_t)(i % 100), (unsigned)(i % 7));
    REQUIRE(p[i], "llama_malloc_class failed");
  }
  for (int i = 0; i < 1000; i++) free(p[i]);
  say("--- report 1 ---\n");
  llama_stats_print(1);
  say("--- end of report 1 ---\n");

  /* 200 + 20 + 3 + 7 more class allocations: 1230 in all. */
  for (int i = 0; i < 200; i++) free(llama_calloc_class(3, 10 + (size_t)i, (unsigned)(i % 7)));
  for (int i = 0; i < 20; i++) free(llama_aligned_alloc_class(256, 100, (unsigned)(i % 7)));
  for (int i = 0; i < 3; i++) {
    void *q = NULL;
    EXPECT(llama_posix_memalign_class(&q, 64, 1000, 2) == 0, "posix_memalign_class");
    free(q);
  }
  for (int i = 0; i < 7; i++) free(llama_realloc_class(NULL, 500, 5));
  llama_stats_get(&s1);
  /* 500 plain mallocs: counted as default, not static. */
  for (int i = 0; i < 500; i++) p[i] = malloc(24);
  for (int i = 0; i < 500; i++) free(p[i]);
  llama_stats_get(&s2);
  EXPECT(s1.allocations_static == 1230, "allocations_static = %llu, want 1230",
         (unsigned long long)s1.allocations_static);
  EXPECT(s2.allocations_static == 1230, "plain malloc moved allocations_static to %llu",
         (unsigned long long)s2.allocations_static);
  EXPECT(s2.allocations_default - s1.allocations_default == 500,
         "500 mallocs moved allocations_default by %llu",
         (unsigned long long)(s2.allocations_default - s1.allocations_default));
  EXPECT(s2.allocations_predicted == 0, "allocations_predicted = %llu",
         (unsigned long long)s2.allocations_predicted);
  uint64_t by_bins = 0;
  for (unsigned k = 0; k < LLAMA_NUM_CLASSES; k++) by_bins += s2.bins[k].allocations;
  EXPECT(by_bins == 1230, "class bins 0..6 counted %llu allocations, want 1230",
         (unsigned long long)by_bins);

  say("--- report 2 ---\n");
  llama_stats_print(1);
  say("--- end of report 2 ---\n");
  return lt_summary("stats_report");
}
