// Environment options: LLAMA_DEFAULT_CLASS routes unclassified allocations,
// bad values are ignored with a warning, LLAMA_HUGE_PAGE_CACHE bounds the
// warm cache. The warm cache learns its size from dips (hugepage.c): pages
// freed once are unmapped at once; pages that were freed and then needed
// again grow the limit, and the next time they are kept. A long purge delay
// keeps the cached pages from expiring while the test runs, however slowly.
// A dip only counts when usage comes back within two purge delays (a cached
// page expires after one): with `slow` the pages come back after 150 ms of
// sleep, against a window of 20 ms, so the limit stays 0 (a slower machine
// only makes the gap longer). With the former 20-delay window (200 ms) the
// limit grew.
//
// RUN: %cc %s %link_llamalloc -o %t
// RUN: env LLAMA_PURGE_DELAY_MS=600000 %t | FileCheck %s --check-prefix=DEFAULT
// RUN: env LLAMA_DEFAULT_CLASS=3 %t | FileCheck %s --check-prefix=CLASS3
// RUN: env LLAMA_DEFAULT_CLASS=banana LLAMA_VERBOSE=1 %t 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: env LLAMA_HUGE_PAGE_CACHE=0 %t | FileCheck %s --check-prefix=NOCACHE
// RUN: env LLAMA_PURGE_DELAY_MS=0 %t | FileCheck %s --check-prefix=NOCACHE
// RUN: env LLAMA_PURGE_DELAY_MS=10 %t slow | FileCheck %s --check-prefix=SLOW
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "llamalloc.h"

int main(int argc, char **argv) {
  int slow = argc > 1 && strcmp(argv[1], "slow") == 0;
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
  printf("one-off drop: cached %llu (limit %llu)\n", (unsigned long long)after.huge_pages_cached,
         (unsigned long long)after.huge_page_cache_limit);
  if (slow) {
    struct timespec ts = {0, 150 * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
  }
  for (int i = 0; i < 20000; i++) p[i] = malloc(200);
  for (int i = 0; i < 20000; i++) free(p[i]);
  llama_collect(0);
  llama_stats_get(&after);
  printf(slow ? "after a slow dip: cached %llu (limit %llu)\n" : "after a dip: cached %llu (limit %llu)\n",
         (unsigned long long)after.huge_pages_cached,
         (unsigned long long)after.huge_page_cache_limit);
  return 0;
}
// DEFAULT: malloc bin 7
// DEFAULT: default +20000 static +0
// DEFAULT: one-off drop: cached 0 (limit 0)
// DEFAULT: after a dip: cached {{[1-9][0-9]*}} (limit {{[1-9][0-9]*}})
// CLASS3: malloc bin 3
// CLASS3: default +20000 static +0
// BAD: llamalloc: ignoring bad value of: LLAMA_DEFAULT_CLASS
// BAD: malloc bin 7
// NOCACHE: malloc bin 7
// NOCACHE: one-off drop: cached 0
// NOCACHE: after a dip: cached 0
// SLOW: one-off drop: cached 0 (limit 0)
// SLOW: after a slow dip: cached 0 (limit 0)
