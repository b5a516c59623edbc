// Reclaim on free: a thread that frees into a dead thread's span, in a
// class it allocates itself, takes the span over and refills it. Thread A
// fills spans with 64-byte objects and exits; thread C then fills more
// spans than a slow path looks at (ADOPT_SCAN_MAX, 32) with 128-byte
// objects and exits, so A's spans are behind them on the abandoned list.
// Thread B, allocating 64-byte objects, frees every other one of A's and
// allocates as many again: they must go into A's spans, not new ones.
// Before, B found none of A's spans (the slow path's adoption stopped at
// C's) and carved 3 MiB of new spans while A's stayed half empty.
//
// RUN: %cc %s -I %S %link_llamalloc -o %t
// (Exact bins, LLAMA_SMALL_BINS=0: small objects of one class in its own bin.)
// RUN: env LLAMA_SMALL_BINS=0 %t | FileCheck %s
// CHECK: spans grew by less than 256 KiB while B refilled 3 MiB: yes
// CHECK: all freed: spans 0 B
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llamalloc.h"
#include "mem_common.h"

#define N 100000 /* 6.1 MiB of 64-byte objects */
#define M 40000  /* 128-byte objects: ~150 spans of 32 KiB */
static void *a[N], *c[M];
static unsigned long long grew;

static void *thread_a(void *arg) {
  for (int i = 0; i < N; i++) memset(a[i] = llama_malloc_class(64, 2), 1, 64);
  return arg;
}

static void *thread_c(void *arg) {
  for (int i = 0; i < M; i++) memset(c[i] = llama_malloc_class(128, 2), 1, 128);
  return arg;
}

static void *thread_b(void *arg) {
  void *mine = llama_malloc_class(64, 2); /* B allocates in the class */
  for (int i = 0; i < N; i += 2) free(a[i]);
  llama_stats_t s;
  llama_stats_get(&s);
  unsigned long long before = s.bins[2].span_bytes;
  for (int i = 0; i < N; i += 2) a[i] = llama_malloc_class(64, 2);
  llama_stats_get(&s);
  grew = s.bins[2].span_bytes - before;
  free(mine);
  return arg;
}

int main(void) {
  run_thread(thread_a);
  run_thread(thread_c);
  run_thread(thread_b);
  printf("spans grew by less than 256 KiB while B refilled 3 MiB: %s (%llu KiB)\n",
         grew < 256 * 1024 ? "yes" : "no", grew / 1024);
  for (int i = 0; i < N; i++) free(a[i]);
  for (int i = 0; i < M; i++) free(c[i]);
  llama_collect(1);
  llama_stats_t s;
  llama_stats_get(&s);
  printf("all freed: spans %s\n", s.bins[2].span_bytes == 0 ? "0 B" : "left");
  return 0;
}
