// A class with a handful of live objects does not hold a 2 MiB page of its
// own. (1) Alone in the process: its page stays on 4 KiB pages, so it costs
// the pages its objects touch, not 2 MiB. (2) Beside a class-6 heap with
// holes: its spans go into those holes (recycling) and it holds no page.
// LLAMA_RECYCLE=0 with exact bins shows the difference: then it takes a page
// of its own. By default (shared small bins) classes 0 and 2 hold no page of
// their own even without recycling: their small objects live in class 3's.
//
// RUN: %cc %s -o %t %link_llamalloc
// RUN: env LLAMA_BACKGROUND=0 %t | FileCheck %s
// RUN: env LLAMA_BACKGROUND=0 LLAMA_RECYCLE=0 LLAMA_SMALL_BINS=0 %t | FileCheck %s --check-prefix=NORECYCLE
// RUN: env LLAMA_BACKGROUND=0 LLAMA_RECYCLE=0 %t | FileCheck %s --check-prefix=SHARED
// CHECK: alone: resident small, not huge
// CHECK: beside class 6: pages held by classes 0 and 2: 0
// NORECYCLE: beside class 6: pages held by classes 0 and 2: 2
// SHARED: beside class 6: pages held by classes 0 and 2: 0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llamalloc.h"

#define BIG (32 * 1024 * 1024 / 1024)
static void *big[BIG];

int main(void) {
  void *few[10];
  for (int i = 0; i < 10; i++) {
    few[i] = llama_malloc_class(64 + (size_t)i * 100, 0);
    memset(few[i], 1, 64 + (size_t)i * 100);
  }
  llama_stats_t s;
  llama_stats_get(&s);
  const llama_memory_t *m = &s.memory_bins[0];
  printf("alone: resident %s, %s (%llu KiB, huge %llu KiB)\n",
         m->resident <= 256 * 1024 ? "small" : "LARGE", m->huge ? "HUGE" : "not huge",
         (unsigned long long)m->resident / 1024, (unsigned long long)m->huge / 1024);
  for (int i = 0; i < 10; i++) free(few[i]);

  /* 32 MiB of class-6 objects, then free three quarters of them in whole
   * units (32 objects of 1 KiB per 32 KiB unit): holes in full pages. */
  for (int i = 0; i < BIG; i++) big[i] = llama_malloc_class(1024, 6);
  for (int i = 0; i < BIG; i++)
    if ((i / 32) % 4 != 0) {
      free(big[i]);
      big[i] = NULL;
    }
  llama_collect(0); /* release the emptied spans to their pages */
  for (int i = 0; i < 10; i++) {
    few[i] = llama_malloc_class(200, i % 2 ? 0 : 2);
    memset(few[i], 1, 200);
  }
  llama_stats_get(&s);
  printf("beside class 6: pages held by classes 0 and 2: %llu (recycled spans %llu)\n",
         (unsigned long long)(s.bins[0].huge_pages_held + s.bins[2].huge_pages_held),
         (unsigned long long)s.recycled_spans);
  return 0;
}
