// Deadline promotion: a class-0 huge page whose objects outlive slack x 10 ms
// after the page stopped filling moves to class 1, and its free units then
// serve class 1. With LLAMA_PROMOTE=0 nothing moves.
//
// RUN: %cc %s %link_llamalloc -o %t
// (Exact bins, LLAMA_SMALL_BINS=0: small objects of one class in its own bin.)
// RUN: env LLAMA_SMALL_BINS=0 LLAMA_DEADLINE_SLACK=1 %t promote | FileCheck %s --check-prefix=PROMOTE
// RUN: env LLAMA_SMALL_BINS=0 LLAMA_PROMOTE=0 %t keep | FileCheck %s --check-prefix=KEEP
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "llamalloc.h"

#define N (3 * 2 * 1024 * 1024 / 64) /* 3 huge pages of 64-byte objects */
static void *objs[N];

static void sleep_ms(int ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  int promote = argc > 1 && !strcmp(argv[1], "promote");
  llama_stats_t s;
  for (int i = 0; i < N; i++) objs[i] = llama_malloc_class(64, 0);
  llama_stats_get(&s);
  // Held plus already promoted: on a busy machine the loop above can outlast
  // the 10 ms deadline of its first pages, which then move during the loop.
  printf("class0 pages taken (held + promoted out) %llu\n",
         (unsigned long long)(s.bins[0].huge_pages_held + s.bins[0].promotions_out));
  // The first pages are full and no longer current; their deadline runs.
  sleep_ms(60);
  // Any span acquisition checks deadlines.
  void *trigger = llama_malloc_class(4096, 3);
  llama_stats_get(&s);
  unsigned long long out0 = s.bins[0].promotions_out, in1 = s.bins[1].promotions_in;
  printf("promoted out of 0: %s, into 1: %s\n", out0 > 0 ? "yes" : "no", in1 > 0 ? "yes" : "no");
  if (promote && (out0 < 2 || in1 != out0)) {
    printf("FAIL: expected >= 2 pages promoted, got out %llu in %llu\n", out0, in1);
    return 1;
  }
  if (!promote && (out0 || in1)) {
    printf("FAIL: promotion disabled but %llu pages moved\n", out0);
    return 1;
  }
  // Free the first half: whole spans empty and their units become free in
  // the (possibly promoted) pages.
  for (int i = 0; i < N / 2; i++) free(objs[i]);
  unsigned long long acquired1 = s.bins[1].huge_pages_acquired;
  // Class 1 allocations reuse the promoted pages' free units: 8 spans, the
  // first a sparse span on a page of its own (hugepage.c), the other 7 in the
  // promoted pages. Without promotion they need a page of their own too.
  void *more[4096];
  for (int i = 0; i < 4096; i++) more[i] = llama_malloc_class(64, 1);
  llama_stats_get(&s);
  printf("class1 new pages: %llu\n", (unsigned long long)(s.bins[1].huge_pages_acquired - acquired1));
  for (int i = 0; i < 4096; i++) free(more[i]);
  for (int i = N / 2; i < N; i++) free(objs[i]);
  free(trigger);
  llama_collect(1);
  llama_stats_get(&s);
  printf("after free: held0 %llu held1 %llu live0 %llu live1 %llu\n",
         (unsigned long long)s.bins[0].huge_pages_held, (unsigned long long)s.bins[1].huge_pages_held,
         (unsigned long long)s.bins[0].live_objects, (unsigned long long)s.bins[1].live_objects);
  return 0;
}
// PROMOTE: class0 pages taken (held + promoted out) 4
// PROMOTE: promoted out of 0: yes, into 1: yes
// PROMOTE: class1 new pages: 1
// PROMOTE: after free: held0 0 held1 0 live0 0 live1 0
// KEEP: class0 pages taken (held + promoted out) 4
// KEEP: promoted out of 0: no, into 1: no
// KEEP: class1 new pages: 2
// KEEP: after free: held0 0 held1 0 live0 0 live1 0
