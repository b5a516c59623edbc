// Heap handover: a thread that exits leaves its heap vacant, spans and all,
// and the next thread takes it whole.
//
// 1. Generations, larson's pattern (mimalloc-bench): each thread inherits
//    the previous one's objects (64 B to 1 KiB), replaces random ones by
//    objects of random sizes, and exits; the next thread starts after it.
//    When every exit abandoned the spans, each new thread adopted only
//    what the first 32 entries of the abandoned list offered and carved
//    new spans for the rest, so the spans grew with the generations while
//    the live objects stayed the same. Now each generation takes the
//    previous one's heap: one handover per thread, and the spans after 40
//    generations are within 10% of those after the first.
// 2. A vacant heap that no thread takes is given up by the maintenance
//    (here llama_collect(1), which does not wait for the purge delay): its
//    spans go to the abandoned list, and once their objects are freed,
//    back to their pages.
//
// 3. A thread that allocates after its own exit ran (in another key's
//    destructor, which runs after libllamalloc's) gets a fresh heap, not
//    its vacant one back: that would count a handover that is none, and a
//    heap taken in the last destructor round would stay alive for good.
//    One new thread after it: exactly one handover.
//
// The counts are exact (the threads run one after the other, on a fixed
// random sequence, with the background thread off): no timing.
//
// RUN: %cc %s -I %S %link_llamalloc -o %t
// (Exact bins, LLAMA_SMALL_BINS=0: every object in class 3's bin.)
// RUN: env LLAMA_SMALL_BINS=0 LLAMA_BACKGROUND=0 LLAMA_PURGE_DELAY_MS=3600000 %t | FileCheck %s
// CHECK: generations: handovers 40
// CHECK: generations: spans grew by at most 10%: yes
// CHECK: vacant heap given up: 1
// CHECK: all freed: spans 0 B, live 0
// CHECK: destructor allocation: handovers 1
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "llamalloc.h"
#include "mem_common.h"

#define LIVE 4000         /* ~2 MiB of 64 B - 1 KiB objects */
#define REPLACE 4000      /* random replacements per generation */
#define GENERATIONS 40

static void *objs[LIVE];
static uint64_t rng = 88172645463325252ull;

static uint64_t next_random(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static void *alloc_random(void) {
  return llama_malloc_class(64 + next_random() % 961, 3);
}

static void *first(void *arg) {
  for (int i = 0; i < LIVE; i++) objs[i] = alloc_random();
  return arg;
}

static void *generation(void *arg) {
  for (int i = 0; i < REPLACE; i++) {
    unsigned victim = (unsigned)(next_random() % LIVE);
    free(objs[victim]);
    objs[victim] = alloc_random();
  }
  return arg;
}

static pthread_key_t late_key;

static void late_destructor(void *arg) {
  void *volatile p = malloc(48); /* after libllamalloc's destructor (an earlier key) */
  free(p);
  (void)arg;
}

static void *late_alloc(void *arg) {
  pthread_setspecific(late_key, (void *)1);
  free(llama_malloc_class(96, 3));
  return arg;
}

static void *one_alloc(void *arg) {
  free(llama_malloc_class(96, 3));
  return arg;
}

int main(void) {
  llama_stats_t s;
  run_thread(first);
  llama_stats_get(&s);
  uint64_t handovers = s.heap_handovers;
  run_thread(generation);
  llama_stats_get(&s);
  uint64_t spans_first = s.bins[3].span_bytes;
  for (int g = 1; g < GENERATIONS; g++) run_thread(generation);
  llama_stats_get(&s);
  printf("generations: handovers %llu\n", (unsigned long long)(s.heap_handovers - handovers));
  printf("generations: spans grew by at most 10%%: %s (%llu -> %llu KiB)\n",
         s.bins[3].span_bytes * 10 <= spans_first * 11 ? "yes" : "no",
         (unsigned long long)spans_first / 1024, (unsigned long long)s.bins[3].span_bytes / 1024);
  uint64_t given_up = s.heaps_given_up;
  llama_collect(1);
  llama_stats_get(&s);
  printf("vacant heap given up: %llu\n", (unsigned long long)(s.heaps_given_up - given_up));
  for (int i = 0; i < LIVE; i++) free(objs[i]);
  llama_collect(1);
  llama_stats_get(&s);
  printf("all freed: spans %llu B, live %llu\n", (unsigned long long)s.bins[3].span_bytes,
         (unsigned long long)s.bins[3].live_objects);
  pthread_key_create(&late_key, late_destructor);
  llama_stats_get(&s);
  handovers = s.heap_handovers;
  run_thread(late_alloc);
  run_thread(one_alloc);
  llama_stats_get(&s);
  printf("destructor allocation: handovers %llu\n", (unsigned long long)(s.heap_handovers - handovers));
  return 0;
}
