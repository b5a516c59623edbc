// Span switches under random frees.
//
// 1. larson's pattern (mimalloc-bench): a thread inherits a dead thread's
//    objects (128 B to 1 KiB) and replaces random ones, one at a time, by
//    objects of random sizes. Each free of an inherited object reclaims its
//    (abandoned, nearly full) span onto the head of the avail list with one
//    free block; so does each free into a span of its own that had filled.
//    When the current span ran out, the slow path used to take that head and
//    retire it again one allocation later: 0.32 span switches (slow-path
//    work) per allocation. Going on with a span that has a quarter of its
//    blocks free made it 0.19; deferring frees into full spans, 0.03.
// 2. A tight class: 512-byte objects whose spans are all full but for a
//    block or two, replaced at random (a cache of fixed-size entries). Every
//    free moved a span to the avail list and every allocation switched to
//    it: 0.98 switches per allocation. A free into a full span now goes on
//    the class's deferred list, which the next allocation takes from. The
//    statistics must still count exactly the live objects (deferred blocks
//    are free, though their spans count them: eight frees at the end).
//
// The counts are exact (the threads run one after the other, on a fixed
// random sequence): no timing.
//
// RUN: %cc %s -I %S %link_llamalloc -o %t
// (Exact bins, LLAMA_SMALL_BINS=0: every object in class 3's bin.)
// RUN: env LLAMA_SMALL_BINS=0 LLAMA_BACKGROUND=0 LLAMA_PURGE_DELAY_MS=3600000 %t | FileCheck %s
// CHECK: inherited: switches per allocation below 0.1: yes
// CHECK: inherited: spans grew by at most 10%: yes
// CHECK: inherited: all freed: spans 0 B
// CHECK: tight: switches per allocation below 0.1: yes
// CHECK: tight: live objects as counted: yes
// CHECK: tight: all freed: spans 0 B
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llamalloc.h"
#include "mem_common.h"

#define LIVE 4000      /* 2.2 MiB of 128 B - 1 KiB objects: about 80 spans */
#define ROUNDS 20000   /* random replacements: 5 per object */
static void *obj[LIVE];

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_random(void) { /* xorshift64 */
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

static uint64_t switches(void) {
  llama_stats_t s;
  llama_stats_get(&s);
  return s.span_switches;
}

static uint64_t span_bytes(unsigned bin) {
  llama_stats_t s;
  llama_stats_get(&s);
  return s.bins[bin].span_bytes;
}

static uint64_t before, spans_before;

/* The first thread: allocates them all, then exits (its spans are abandoned). */
static void *fill(void *arg) {
  for (int i = 0; i < LIVE; i++) {
    size_t n = 128 * (1 + next_random() % 8);
    memset(obj[i] = llama_malloc_class(n, 3), 1, n);
  }
  return arg;
}

/* The second: random replacement. */
static void *churn(void *arg) {
  before = switches();
  spans_before = span_bytes(3);
  for (int r = 0; r < ROUNDS; r++) {
    unsigned v = (unsigned)(next_random() % LIVE);
    free(obj[v]);
    size_t n = 128 * (1 + next_random() % 8);
    memset(obj[v] = llama_malloc_class(n, 3), 3, n);
  }
  return arg;
}

#define TIGHT 4000 /* 512-byte objects in class 4: 2 MiB, about 63 spans */
static void *tight[TIGHT];

static void tight_class(void) {
  for (int i = 0; i < TIGHT; i++) memset(tight[i] = llama_malloc_class(512, 4), 1, 512);
  uint64_t first = switches();
  for (int r = 0; r < ROUNDS; r++) {
    unsigned v = (unsigned)(next_random() % TIGHT);
    free(tight[v]);
    memset(tight[v] = llama_malloc_class(512, 4), 3, 512);
  }
  double per_alloc = (double)(switches() - first) / ROUNDS;
  /* Eight more frees, into full spans: deferred, and no longer live. */
  for (int i = 0; i < 8; i++) {
    free(tight[i * 97]);
    tight[i * 97] = NULL;
  }
  llama_stats_t s;
  llama_stats_get(&s);
  printf("tight: switches per allocation %.3f; live objects %llu, bytes %llu\n", per_alloc,
         (unsigned long long)s.bins[4].live_objects, (unsigned long long)s.bins[4].live_bytes);
  printf("tight: switches per allocation below 0.1: %s\n", per_alloc < 0.1 ? "yes" : "no");
  printf("tight: live objects as counted: %s\n",
         s.bins[4].live_objects == TIGHT - 8 && s.bins[4].live_bytes == (TIGHT - 8) * 512ull ? "yes"
                                                                                   : "no");
  for (int i = 0; i < TIGHT; i++) free(tight[i]);
  llama_collect(1);
  printf("tight: all freed: spans %s\n", span_bytes(4) == 0 ? "0 B" : "left");
}

int main(void) {
  run_thread(fill);
  run_thread(churn);
  double per_alloc = (double)(switches() - before) / ROUNDS;
  uint64_t spans = span_bytes(3);
  printf("inherited: switches per allocation %.3f; spans %llu KiB before, %llu KiB after\n",
         per_alloc, (unsigned long long)(spans_before >> 10), (unsigned long long)(spans >> 10));
  printf("inherited: switches per allocation below 0.1: %s\n", per_alloc < 0.1 ? "yes" : "no");
  printf("inherited: spans grew by at most 10%%: %s\n",
         spans * 10 <= spans_before * 11 ? "yes" : "no");
  for (int i = 0; i < LIVE; i++) free(obj[i]);
  llama_collect(1);
  printf("inherited: all freed: spans %s\n", span_bytes(3) == 0 ? "0 B" : "left");
  tight_class();
  return 0;
}
