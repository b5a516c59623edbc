// Medium objects churned while their free space is purged all the time
// (runtime/extent.c): purged blocks go to the tails of the free lists and
// resident ones to the heads, blocks are taken out for a purge outside the
// lock and put back merged, and realloc grows into purged neighbours. Two
// threads allocate, free and reallocate 1 KiB - 300 KiB objects in three
// bins (one of them shared: plain malloc), one of them forcing a purge of
// every free block every 500 operations, the background thread purging
// whatever has been idle 1 ms. Checked: every object keeps its bytes to
// its free (a pattern per object), calloc clears (also space that was
// purged), and once everything is freed the two class bins hold no live
// byte and no span (every chunk merged back whole and went back to its
// page: the lists were consistent to the end; bin 7 also holds the C
// library's own allocations, such as the threads' and stdio's).
//
// RUN: %cc %s -o %t %link_llamalloc -lpthread
// RUN: env LLAMA_PURGE_DELAY_MS=1 %t 2>&1 | FileCheck %s
// RUN: env LLAMA_PURGE_DELAY_MS=1 LLAMA_HUGE_PAGES=0 LLAMA_BACKGROUND=0 %t 2>&1 | FileCheck %s
// And with the runtime's sources built in at LLAMA_DEBUG=2, which checks
// every free list after each change (extent.c, list_check: links, tail,
// bitmap, resident blocks before purged ones) and aborts on a violation:
// RUN: %cc -fno-builtin -ftls-model=initial-exec -DLLAMA_DEBUG=2 %s %srcroot/runtime/*.c %srcroot/model/model.c %srcroot/model/tokenize.c %srcroot/model/lstm.c -lpthread -lm -o %t.dbg
// RUN: env LLAMA_PURGE_DELAY_MS=1 %t.dbg 2>&1 | FileCheck %s
// CHECK: thread 0: contents ok, calloc zeroed
// CHECK: thread 1: contents ok, calloc zeroed
// CHECK: all freed: bins 2 and 5 hold live 0, spans 0
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llamalloc.h"

#define N 600
#define OPS 30000

typedef struct {
  int id;
  uint64_t rng;
  unsigned char *obj[N];
  size_t len[N];
  unsigned char tag[N];
  int ok, zeroed;
} worker_t;

static uint64_t next(worker_t *w) {
  w->rng ^= w->rng << 13, w->rng ^= w->rng >> 7, w->rng ^= w->rng << 17;
  return w->rng;
}

static void fill(worker_t *w, int i) {
  for (size_t k = 0; k + 1 < w->len[i]; k += 97) w->obj[i][k] = (unsigned char)(w->tag[i] + k);
  w->obj[i][w->len[i] - 1] = w->tag[i];
}

static int intact(const worker_t *w, int i) {
  for (size_t k = 0; k + 1 < w->len[i]; k += 97)
    if (w->obj[i][k] != (unsigned char)(w->tag[i] + k)) return 0;
  return w->obj[i][w->len[i] - 1] == w->tag[i];
}

static size_t pick_len(worker_t *w) {
  return 1025 + (size_t)(next(w) % (next(w) % 16 == 0 ? 300000 : 20000));
}

static void *run(void *arg) {
  worker_t *w = arg;
  const unsigned bins[3] = {2, 5, 7}; /* 7: plain malloc, the shared bin */
  for (int op = 0; op < OPS; op++) {
    if (w->id == 0 && op % 500 == 0) llama_collect(1);
    int i = (int)(next(w) % N);
    if (w->obj[i]) {
      w->ok &= intact(w, i);
      if (next(w) % 3 == 0) {
        size_t n = pick_len(w), keep = n < w->len[i] ? n : w->len[i];
        unsigned char *q = realloc(w->obj[i], n);
        if (!q) {
          w->ok = 0;
          continue;
        }
        w->obj[i] = q;
        for (size_t k = 0; k + 1 < keep; k += 97) w->ok &= q[k] == (unsigned char)(w->tag[i] + k);
        w->len[i] = n;
        fill(w, i);
        continue;
      }
      free(w->obj[i]);
      w->obj[i] = NULL;
      continue;
    }
    size_t n = pick_len(w);
    unsigned bin = bins[next(w) % 3];
    if (next(w) % 5 == 0) {
      w->obj[i] = bin < 7 ? llama_calloc_class(1, n, bin) : calloc(1, n);
      if (w->obj[i])
        for (size_t k = 0; k < n; k += 211) w->zeroed &= w->obj[i][k] == 0;
    } else {
      w->obj[i] = bin < 7 ? llama_malloc_class(n, bin) : malloc(n);
    }
    if (!w->obj[i]) {
      w->ok = 0;
      continue;
    }
    w->len[i] = n;
    w->tag[i] = (unsigned char)(next(w) | 1);
    fill(w, i);
  }
  for (int i = 0; i < N; i++)
    if (w->obj[i]) w->ok &= intact(w, i), free(w->obj[i]), w->obj[i] = NULL;
  llama_collect(0); /* this thread's spans back before it reports */
  return NULL;
}

int main(void) {
  static worker_t w[2];
  pthread_t t[2];
  for (int k = 0; k < 2; k++) {
    w[k].id = k;
    w[k].rng = 0x9E3779B97F4A7C15ull * (uint64_t)(k + 1);
    w[k].ok = w[k].zeroed = 1;
    pthread_create(&t[k], NULL, run, &w[k]);
  }
  for (int k = 0; k < 2; k++) pthread_join(t[k], NULL);
  for (int k = 0; k < 2; k++)
    printf("thread %d: contents %s, calloc %s\n", k, w[k].ok ? "ok" : "CORRUPT",
           w[k].zeroed ? "zeroed" : "NOT ZEROED");
  llama_collect(1);
  llama_stats_t s;
  llama_stats_get(&s);
  uint64_t live = s.bins[2].live_bytes + s.bins[5].live_bytes;
  uint64_t spans = s.bins[2].span_bytes + s.bins[5].span_bytes;
  printf("all freed: bins 2 and 5 hold live %llu, spans %llu\n", (unsigned long long)live,
         (unsigned long long)spans);
  return 0;
}
