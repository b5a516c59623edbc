// Spans of exited threads: freed by another thread, they go back to the OS
// at the next collection; with live objects, a new thread adopts them
// instead of taking new huge pages.
//
// RUN: %cc %s -I %S %link_llamalloc -o %t
// (Exact bins, LLAMA_SMALL_BINS=0: small objects of one class in its own bin.)
// RUN: env LLAMA_SMALL_BINS=0 LLAMA_HUGE_PAGE_CACHE=0 %t | FileCheck %s
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llamalloc.h"
#include "mem_common.h"

#define N 100000 /* ~ 6 MiB of 64-byte objects */
static void *objs[N];

static void *fill(void *arg) {
  for (int i = 0; i < N; i++) {
    objs[i] = llama_malloc_class(64, 2);
    memset(objs[i], 0xab, 64);
  }
  return NULL;
}

static void *refill_half(void *arg) {
  for (int i = 0; i < N; i += 2) objs[i] = llama_malloc_class(64, 2);
  return NULL;
}

int main(void) {
  llama_stats_t s;
  run_thread(fill);
  llama_stats_get(&s);
  unsigned long long held = s.bins[2].huge_pages_held;
  printf("held after fill: %s\n", held >= 3 ? "ok" : "too few");
  // Free every other object from the main thread, then let a new thread
  // allocate the same amount again: it must adopt the abandoned spans.
  for (int i = 0; i < N; i += 2) free(objs[i]);
  unsigned long long acquired = s.bins[2].huge_pages_acquired;
  run_thread(refill_half);
  llama_stats_get(&s);
  printf("new pages for refill: %llu\n", (unsigned long long)(s.bins[2].huge_pages_acquired - acquired));
  for (int i = 0; i < N; i++) free(objs[i]);
  llama_collect(1);
  llama_stats_get(&s);
  printf("held after free: %llu live %llu\n", (unsigned long long)s.bins[2].huge_pages_held,
         (unsigned long long)s.bins[2].live_objects);
  return 0;
}
// CHECK: held after fill: ok
// CHECK: new pages for refill: 0
// CHECK: held after free: 0 live 0
