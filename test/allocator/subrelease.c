// Subrelease: free units inside huge pages that a bin still holds go back to
// the OS once idle for LLAMA_PURGE_DELAY_MS; the pages stay held. With
// LLAMA_PURGE_UNITS=0 they stay resident.
//
// REQUIRES: thp
// RUN: %cc %s %link_llamalloc -o %t
// RUN: env LLAMA_PURGE_DELAY_MS=0 %t | FileCheck %s --check-prefix=PURGE
// RUN: env LLAMA_PURGE_DELAY_MS=0 LLAMA_PURGE_UNITS=0 %t | FileCheck %s --check-prefix=KEEP
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llamalloc.h"

#define OBJ 4096
#define N (64 * 1024 * 1024 / OBJ) /* 64 MiB in class 6 */
static void *objs[N];

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/smaps_rollup", "r");
  char line[256];
  long kib = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "Rss: %ld kB", &kib) == 1) break;
  if (f) fclose(f);
  return kib;
}

int main(void) {
  for (int i = 0; i < N; i++) {
    objs[i] = llama_malloc_class(OBJ, 6);
    memset(objs[i], 1, OBJ);
  }
  llama_stats_t s;
  llama_stats_get(&s);
  unsigned long long held = s.bins[6].huge_pages_held;
  long before = rss_kib();
  // Free 3 of every 4 spans' worth of objects (a span of 4 KiB blocks is one
  // 32 KiB unit = 8 objects; unit 0 of each page is shorter, so some units
  // keep a straggler): most units empty, every page keeps live objects.
  int freed = 0;
  for (int i = 0; i < N; i++)
    if ((i / 8) % 4 != 0) {
      free(objs[i]);
      objs[i] = NULL;
      freed++;
    }
  llama_collect(0);
  llama_stats_get(&s);
  long after = rss_kib();
  long dropped_mib = (before - after) / 1024;
  printf("pages held: %s\n", s.bins[6].huge_pages_held == held ? "unchanged" : "changed");
  printf("rss dropped: %s (%ld MiB of %d MiB freed)\n",
         dropped_mib >= 32 ? "yes" : "no", dropped_mib, freed * OBJ / (1024 * 1024));
  for (int i = 0; i < N; i++) free(objs[i]);
  return 0;
}
// PURGE: pages held: unchanged
// PURGE: rss dropped: yes
// KEEP: pages held: unchanged
// KEEP: rss dropped: no
