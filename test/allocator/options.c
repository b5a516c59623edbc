// Environment options: LLAMA_DEFAULT_CLASS routes unclassified allocations,
// bad values are ignored with a warning, LLAMA_HUGE_PAGE_CACHE bounds the
// warm cache.
//
// RUN: %cc %s %link_llamalloc -o %t
// RUN: %t | FileCheck %s --check-prefix=DEFAULT
// RUN: env LLAMA_DEFAULT_CLASS=3 %t | FileCheck %s --check-prefix=CLASS3
// RUN: env LLAMA_DEFAULT_CLASS=banana LLAMA_VERBOSE=1 %t 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: env LLAMA_HUGE_PAGE_CACHE=0 %t | FileCheck %s --check-prefix=NOCACHE
// RUN: env LLAMA_PURGE_DELAY_MS=0 %t | FileCheck %s --check-prefix=NOCACHE
#include <stdio.h>
#include <stdlib.h>
#include "llamalloc.h"

int main(void) {
  llama_stats_t before, after;
  llama_stats_get(&before);
  void *p[20000];
  for (int i = 0; i < 20000; i++) p[i] = malloc(200);
  llama_stats_get(&after);
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++)
    if (after.bins[b].allocations - before.bins[b].allocations >= 20000) printf("malloc bin %u\n", b);
  printf("default +%llu static +%llu\n",
         (unsigned long long)(after.allocations_default - before.allocations_default),
         (unsigned long long)(after.allocations_static - before.allocations_static));
  for (int i = 0; i < 20000; i++) free(p[i]);
  llama_collect(0);
  llama_stats_get(&after);
  printf("cached %llu\n", (unsigned long long)after.huge_pages_cached);
  return 0;
}
// DEFAULT: malloc bin 7
// DEFAULT: default +20000 static +0
// DEFAULT: cached {{[1-9]}}
// CLASS3: malloc bin 3
// CLASS3: default +20000 static +0
// BAD: llamalloc: ignoring bad value of: LLAMA_DEFAULT_CLASS
// BAD: malloc bin 7
// NOCACHE: malloc bin 7
// NOCACHE: cached 0
