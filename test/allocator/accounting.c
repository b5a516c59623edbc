// The accounting adds up: llama_stats_t.memory splits the heap's resident
// bytes into causes whose sum is `resident` exactly, per bin and in total,
// and the growth of `resident` matches the growth of the process's Rss
// (/proc/self/smaps_rollup) within 1 MiB + 3% while small, medium and large
// objects of several classes are allocated and partly freed. Background
// maintenance is off so nothing changes between the two readings.
//
// RUN: %cc %s -I %S -o %t %link_llamalloc
// RUN: env LLAMA_BACKGROUND=0 LLAMA_PURGE_DELAY_MS=3600000 %t 2>&1 | FileCheck %s
// CHECK: sums: exact
// CHECK: bins: exact
// CHECK: resident vs Rss: within tolerance
// CHECK: live covers the objects: yes
// CHECK-NOT: FAIL
#include <stdio.h>
#include <string.h>
#include "llamalloc.h"
#include "mem_common.h"

#define N 20000
static void *objs[N];

static uint64_t sum(const llama_memory_t *m) {
  return m->live + m->free_blocks + m->free_units + m->cached + m->metadata + m->large;
}

int main(void) {
  llama_stats_t s0, s1;
  llama_stats_get(&s0);
  mem_t m0 = read_mem();
  size_t requested = 0;
  for (int i = 0; i < N; i++) {
    size_t n = i % 97 == 0 ? 200000 : i % 1013 == 0 ? 3u << 20 : 16 + (size_t)(i * 37) % 4000;
    objs[i] = llama_malloc_class(n, (unsigned)(i % 8)); /* 7: unknown -> unclassified */
    memset(objs[i], 0x5a, n);
    requested += n;
  }
  for (int i = 0; i < N; i += 3) { /* free a third, spread out */
    free(objs[i]);
    objs[i] = NULL;
  }
  llama_stats_get(&s1);
  mem_t m1 = read_mem();

  printf("sums: %s\n", sum(&s1.memory) == s1.memory.resident ? "exact" : "FAIL");
  int bins_ok = 1;
  uint64_t bins_total = 0;
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
    const llama_memory_t *m = &s1.memory_bins[b];
    if (m->live + m->free_blocks + m->free_units + m->metadata + m->large != m->resident) bins_ok = 0;
    bins_total += m->resident;
  }
  /* The bins hold everything but the warm cache and the thread heaps. */
  uint64_t heaps = s1.memory.metadata;
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) heaps -= s1.memory_bins[b].metadata;
  if (bins_total + s1.memory.cached + heaps != s1.memory.resident) bins_ok = 0;
  printf("bins: %s\n", bins_ok ? "exact" : "FAIL");

  long long grew_rss = (m1.rss_kib - m0.rss_kib) * 1024LL;
  long long grew_acct = (long long)s1.memory.resident - (long long)s0.memory.resident;
  long long diff = grew_rss - grew_acct;
  if (diff < 0) diff = -diff;
  long long tolerance = (1LL << 20) + grew_rss * 3 / 100;
  printf("resident vs Rss: %s (Rss +%lld KiB, accounted +%lld KiB)\n",
         diff <= tolerance ? "within tolerance" : "FAIL", grew_rss / 1024, grew_acct / 1024);
  /* Two thirds of the requested bytes are live; blocks round up, so live
   * (resident blocks of live objects, plus large objects) is at least that. */
  uint64_t live = s1.memory.live + s1.memory.large;
  printf("live covers the objects: %s (%llu KiB for %zu KiB requested, 2/3 live)\n",
         live >= requested / 3 * 2 * 99 / 100 ? "yes" : "FAIL", (unsigned long long)live / 1024,
         requested / 1024);
  fflush(stdout);
  llama_stats_print(1);
  for (int i = 0; i < N; i++) free(objs[i]);
  return 0;
}
