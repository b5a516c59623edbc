// Span switches under random frees, larson's pattern (mimalloc-bench): a
// thread inherits a dead thread's objects (128 B to 1 KiB) and replaces
// random ones, one at a time, by objects of random sizes. Each free of an inherited object reclaims its (abandoned, nearly
// full) span onto the head of the avail list with one free block; so does
// each free into a span of its own that had filled. When the current span
// ran out, the slow path used to take that head and retire it again one
// allocation later: nearly one span switch (slow-path work) per allocation.
// It now goes on with a span that has a quarter of its blocks free when one
// of the first few has: 0.19 switches per allocation where it was 0.33.
//
// The counts are exact (the threads run one after the other, on a fixed
// random sequence): no timing.
//
// RUN: %cc %s %link_llamalloc -o %t
// (Exact bins, LLAMA_SMALL_BINS=0: every object in class 3's bin.)
// RUN: env LLAMA_SMALL_BINS=0 %t | FileCheck %s
// CHECK: switches per allocation below 0.25: yes
// CHECK: spans grew by at most 10%: yes
// CHECK: all freed: spans 0 B
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llamalloc.h"

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

static uint64_t span_bytes(void) {
  llama_stats_t s;
  llama_stats_get(&s);
  return s.bins[3].span_bytes;
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
  spans_before = span_bytes();
  for (int r = 0; r < ROUNDS; r++) {
    unsigned v = (unsigned)(next_random() % LIVE);
    free(obj[v]);
    size_t n = 128 * (1 + next_random() % 8);
    memset(obj[v] = llama_malloc_class(n, 3), 3, n);
  }
  return arg;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, fill, NULL) || pthread_join(t, NULL)) return 1;
  if (pthread_create(&t, NULL, churn, NULL) || pthread_join(t, NULL)) return 1;
  double per_alloc = (double)(switches() - before) / ROUNDS;
  uint64_t spans = span_bytes();
  printf("switches per allocation %.3f; spans %llu KiB before, %llu KiB after\n", per_alloc,
         (unsigned long long)(spans_before >> 10), (unsigned long long)(spans >> 10));
  printf("switches per allocation below 0.25: %s\n", per_alloc < 0.25 ? "yes" : "no");
  printf("spans grew by at most 10%%: %s\n", spans * 10 <= spans_before * 11 ? "yes" : "no");
  for (int i = 0; i < LIVE; i++) free(obj[i]);
  llama_collect(1);
  printf("all freed: spans %s\n", span_bytes() == 0 ? "0 B" : "left");
  return 0;
}
