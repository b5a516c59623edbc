// Medium objects (LLAMA_EXTENT_MIN < n <= 1 MiB) live in best-fit extents
// that coalesce when freed (runtime/extent.c). Checked here:
//  - contents survive a random mix of sizes, frees and reallocs (a pattern
//    per object, verified before every free), calloc clears, usable sizes
//    cover the request and round to 16 bytes, not to a size class;
//  - freed neighbours coalesce: after freeing every other object, a request
//    as large as two objects plus their headers fits into the space of a
//    freed pair rather than growing the heap, and once everything is freed
//    the chunks go back to their pages (no live bytes, no spans);
//  - aligned medium requests keep their alignment (they use size-class
//    blocks, not extents);
//  - realloc resizes in place when the neighbour is free (grow) or gives
//    the tail back (shrink);
//  - a double free is reported, not corrupting: the heap still works.
// LLAMA_EXTENT_MIN=0 (extents off) must pass the same checks except the
// 16-byte rounding, which is then a size class's.
//
// RUN: %cc %s -o %t %link_llamalloc
// RUN: env LLAMA_BACKGROUND=0 LLAMA_VERBOSE=1 %t 2>&1 | FileCheck %s
// RUN: env LLAMA_BACKGROUND=0 LLAMA_VERBOSE=1 LLAMA_EXTENT_MIN=0 %t 2>&1 | FileCheck %s --check-prefix=OFF
// CHECK: start
// CHECK: contents: ok
// CHECK: usable: covers the request, rounded to 16: yes
// CHECK: coalesced pair reused: yes
// CHECK: realloc shrinks in place: yes, tail reused: yes
// CHECK: realloc grows in place: yes, contents ok
// CHECK: all freed: live 0, spans 0
// CHECK: aligned: ok
// (The block's chunk may have gone back to its page at the first free: then
// the second is a free of memory that is no object at all.)
// CHECK: {{double free|free of a pointer not allocated by llamalloc}}
// CHECK: after double free: ok
// OFF: start
// OFF: contents: ok
// OFF: usable: covers the request, rounded to 16: no
// OFF: all freed: live 0, spans 0
// OFF: aligned: ok
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llamalloc.h"

#define N 4000
static unsigned char *obj[N];
static size_t len[N];

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  return rng;
}

static void fill(int i) {
  for (size_t k = 0; k + 1 < len[i]; k += 61) obj[i][k] = (unsigned char)(i + k);
  if (len[i]) obj[i][len[i] - 1] = (unsigned char)i;
}
static int intact(int i) {
  for (size_t k = 0; k + 1 < len[i]; k += 61)
    if (obj[i][k] != (unsigned char)(i + k)) return 0;
  return !len[i] || obj[i][len[i] - 1] == (unsigned char)i;
}

static int extents_on(void) {
  const char *e = getenv("LLAMA_EXTENT_MIN");
  return !e || atoi(e) != 0;
}

static void stats(uint64_t *live, uint64_t *spans) {
  llama_stats_t s;
  llama_stats_get(&s);
  *live = *spans = 0;
  for (int b = 0; b < LLAMA_NUM_BINS; b++) {
    *live += s.bins[b].live_bytes;
    *spans += s.bins[b].span_bytes;
  }
}

int main(void) {
  int ok = 1, rounded = 1;
  uint64_t live0, spans0, live, spans;
  setvbuf(stdout, NULL, _IONBF, 0); /* in order with stderr's reports */
  printf("start\n");
  stats(&live0, &spans0);
  for (int round = 0; round < 20000; round++) {
    int i = (int)(next() % N);
    if (obj[i]) {
      ok &= intact(i);
      if (next() % 4 == 0) { /* grow or shrink in place or by moving */
        size_t n = 1025 + next() % 200000;
        unsigned char *q = realloc(obj[i], n);
        size_t keep = n < len[i] ? n : len[i];
        for (size_t k = 0; k + 1 < keep; k += 61) ok &= q[k] == (unsigned char)(i + k);
        obj[i] = q, len[i] = n;
        fill(i);
        continue;
      }
      free(obj[i]);
      obj[i] = NULL;
      continue;
    }
    len[i] = 1025 + next() % (next() % 8 == 0 ? 600000 : 30000);
    unsigned bin = (unsigned)(next() % 8);
    if (next() % 8 == 0) {
      obj[i] = calloc(1, len[i]);
      for (size_t k = 0; k < len[i]; k += 509) ok &= obj[i][k] == 0;
    } else {
      obj[i] = bin < 7 ? llama_malloc_class(len[i], bin) : malloc(len[i]);
    }
    size_t u = malloc_usable_size(obj[i]);
    ok &= u >= len[i] && ((uintptr_t)obj[i] & 15) == 0;
    if (u >= len[i] + 64) rounded = 0; /* 16-byte steps, a split's minimum */
    fill(i);
  }
  for (int i = 0; i < N; i++)
    if (obj[i]) ok &= intact(i), free(obj[i]), obj[i] = NULL;
  printf("contents: %s\n", ok ? "ok" : "CORRUPT");
  printf("usable: covers the request, rounded to 16: %s\n", rounded ? "yes" : "no");

  /* Coalescing: 64 objects of 20000 bytes in one bin, free every other
   * pair, then ask for a pair's worth: it must land where a pair was. */
  void *a[64];
  for (int i = 0; i < 64; i++) a[i] = llama_malloc_class(20000, 4);
  for (int i = 0; i < 64; i += 4) free(a[i]), free(a[i + 1]), a[i] = a[i + 1] = NULL;
  unsigned char *pair = llama_malloc_class(40016, 4);
  int inside = 0;
  for (int i = 0; i < 64; i += 4)
    inside |= (uintptr_t)pair >= (uintptr_t)a[i + 2] - 2 * 20032 && (uintptr_t)pair < (uintptr_t)a[i + 2];
  if (extents_on()) printf("coalesced pair reused: %s\n", inside ? "yes" : "no");
  free(pair);
  for (int i = 0; i < 64; i++) free(a[i]);

  /* realloc in place: a 600 KB object shrunk to 64 KiB keeps its address
   * and its freed tail is the next request's; given the tail back, it is
   * doubled to 512 KiB without moving and keeps its bytes. */
  unsigned char *buf = llama_malloc_class(600000, 5);
  unsigned char *pin = llama_malloc_class(2000, 5); /* keeps the chunk */
  unsigned char *first = buf;
  memset(buf, 1, 600000);
  buf = realloc(buf, 65536);
  int shrunk = buf == first;
  unsigned char *tail = llama_malloc_class(200000, 5);
  int tail_reused = tail > buf && tail < buf + 600000;
  free(tail);
  int moved = 0, kept = buf[65535] == 1;
  for (size_t n = 131072; n <= 524288; n *= 2) {
    unsigned char *b2 = realloc(buf, n + 8);
    moved |= b2 != buf;
    buf = b2;
    memset(buf + n / 2, (int)(n >> 16), n / 2);
  }
  for (size_t n = 131072; n <= 524288; n *= 2) kept &= buf[n - 1] == (unsigned char)(n >> 16);
  if (extents_on()) {
    printf("realloc shrinks in place: %s, tail reused: %s\n", shrunk ? "yes" : "no",
           tail_reused ? "yes" : "no");
    printf("realloc grows in place: %s, contents %s\n", !moved && first == buf ? "yes" : "no",
           kept ? "ok" : "CORRUPT");
  }
  free(buf);
  free(pin);

  llama_collect(1);
  stats(&live, &spans);
  printf("all freed: live %llu, spans %llu\n", (unsigned long long)(live - live0),
         (unsigned long long)(spans - spans0));

  int aligned_ok = 1;
  for (size_t al = 32; al <= 65536; al *= 2)
    for (size_t n = 1100; n < 300000; n = n * 3 + 7) {
      void *p = NULL;
      if (posix_memalign(&p, al, n) || ((uintptr_t)p & (al - 1))) aligned_ok = 0;
      memset(p, 7, n);
      free(p);
    }
  printf("aligned: %s\n", aligned_ok ? "ok" : "MISALIGNED");

  if (extents_on()) {
    void *volatile d = malloc(5000); /* volatile: the compiler may not drop the pair */
    free(d);
    free(d); /* reported, ignored */
    void *e = malloc(5000), *f = malloc(5000);
    memset(e, 1, 5000), memset(f, 2, 5000);
    printf("after double free: %s\n", e != f ? "ok" : "SAME BLOCK TWICE");
    free(e), free(f);
  }
  return 0;
}
