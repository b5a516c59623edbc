// A dead thread's heap goes back while the process idles. A thread fills
// spans with 256-byte objects and exits: its heap turns vacant, spans and
// all. The main thread frees every object (remote frees into the vacant
// heap's spans, which no owner collects) and then allocates nothing. No new
// thread comes to take the heap, so the background thread, which the exit
// woke, gives it up after the purge delay: its spans, now empty, go back to
// their pages. With LLAMA_BACKGROUND=0 nothing runs without allocations:
// the heap stays vacant and its spans stay (the thread, not the test, gave
// them back). The wait polls up to 60 s, so a busy machine only makes it
// slower, not wrong.
//
// RUN: %cc %s -I %S -o %t %link_llamalloc
// (Exact bins, LLAMA_SMALL_BINS=0: every object in class 3's bin.)
// RUN: env LLAMA_SMALL_BINS=0 LLAMA_PURGE_DELAY_MS=20 %t bg | FileCheck %s --check-prefix=BG
// RUN: env LLAMA_SMALL_BINS=0 LLAMA_PURGE_DELAY_MS=20 LLAMA_BACKGROUND=0 %t nobg | FileCheck %s --check-prefix=NOBG
// BG: given up: 1
// BG: spans left: 0 B
// NOBG: given up: 0
// NOBG: spans left: some
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "llamalloc.h"
#include "mem_common.h"

#define N 20000 /* 5 MiB of 256-byte objects */
static void *objs[N];

static void *fill(void *arg) {
  for (int i = 0; i < N; i++) memset(objs[i] = llama_malloc_class(256, 3), 1, 256);
  return arg;
}

int main(int argc, char **argv) {
  int background = argc > 1 && strcmp(argv[1], "bg") == 0;
  run_thread(fill);
  llama_stats_t s;
  llama_stats_get(&s);
  uint64_t given_up = s.heaps_given_up;
  for (int i = 0; i < N; i++) free(objs[i]);
  /* No allocation from here on (llama_stats_get and sleep_ms do not). */
  long waited = 0, limit = background ? 60000 : 1000;
  while (waited < limit) {
    sleep_ms(50);
    waited += 50;
    llama_stats_get(&s);
    if (background && s.heaps_given_up > given_up && s.bins[3].span_bytes == 0) break;
  }
  printf("given up: %llu (after %ld ms)\n", (unsigned long long)(s.heaps_given_up - given_up),
         waited);
  printf("spans left: %s (%llu KiB)\n", s.bins[3].span_bytes ? "some" : "0 B",
         (unsigned long long)s.bins[3].span_bytes / 1024);
  return 0;
}
