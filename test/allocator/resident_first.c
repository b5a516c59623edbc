// Free extent space that is still resident is reused before space the
// maintenance purged (runtime/extent.c, free_insert and find_fit): taking
// purged space faults its pages back in, while resident space costs
// nothing and leaves the purged pages purged.
//
// 1. The fallback to larger lists. Setup, in class 5's bin (nothing else of this test lives there): A, a
// 160 KiB object, and B, a 200 KiB one, each between live guards so that
// neither merges with anything when freed. A is freed and purged
// (llama_collect), then B is freed and stays resident (the purge delay is
// an hour). A 150 KiB request fits both; no other free block of the bin
// is that large (the chunks' tails are smaller). The old placement took
// the head of the first list that fits, A's; now B's resident space is
// taken, and A's pages stay purged (the old placement wrote the
// remainder's header into A, faulting a page of it back in).
//
// 2. The request's own list. In class 4's bin, C (40 KiB, purged) and D
// (42 KiB, resident) share a list; a 40 KiB request fits C exactly, and
// best fit alone took C. Now D is taken and C stays purged.
//
// RUN: %cc %s -o %t %link_llamalloc
// RUN: env LLAMA_PURGE_DELAY_MS=3600000 LLAMA_HUGE_PAGES=0 %t 2>&1 | FileCheck %s
// RUN: env LLAMA_PURGE_DELAY_MS=3600000 %t 2>&1 | FileCheck %s
// CHECK: A purged: yes
// CHECK: reused: B
// CHECK: A still purged: yes
// CHECK: C purged: yes
// CHECK: own list: D
// CHECK: C still purged: yes
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "llamalloc.h"
#include "mem_common.h"

#define KIB 1024u

int main(void) {
  unsigned char *g0 = llama_malloc_class(2 * KIB, 5);
  unsigned char *a = llama_malloc_class(160 * KIB, 5);
  unsigned char *g1 = llama_malloc_class(2 * KIB, 5);
  unsigned char *b = llama_malloc_class(200 * KIB, 5);
  unsigned char *g2 = llama_malloc_class(2 * KIB, 5);
  if (!g0 || !a || !g1 || !b || !g2) {
    printf("allocation failed\n");
    return 1;
  }
  memset(a, 1, 160 * KIB);
  memset(b, 2, 200 * KIB);
  memset(g0, 3, 2 * KIB);
  memset(g1, 3, 2 * KIB);
  memset(g2, 3, 2 * KIB);

  free(a);
  llama_collect(1); /* purges every free block, A among them */
  /* A's pages past its first 4 KiB (the block's links) are decommitted. */
  printf("A purged: %s\n", range_resident_kib(a + 8 * KIB, 148 * KIB) == 0 ? "yes" : "no");

  free(b); /* resident, not idle for an hour */
  unsigned char *p = llama_malloc_class(150 * KIB, 5);
  const char *where = p >= b && p < b + 200 * KIB   ? "B"
                      : p >= a && p < a + 160 * KIB ? "A (purged space)"
                                                     : "elsewhere";
  printf("reused: %s\n", where);
  /* Taking space writes the block's header and its remainder's (150 KiB
   * on): inside A, that faults one of its purged pages back in. */
  printf("A still purged: %s\n", range_resident_kib(a + 8 * KIB, 148 * KIB) == 0 ? "yes" : "no");
  free(p);
  free(g0);
  free(g1);
  free(g2);

  unsigned char *h0 = llama_malloc_class(2 * KIB, 4);
  unsigned char *c = llama_malloc_class(40 * KIB, 4);
  unsigned char *h1 = llama_malloc_class(2 * KIB, 4);
  unsigned char *d = llama_malloc_class(42 * KIB, 4);
  unsigned char *h2 = llama_malloc_class(2 * KIB, 4);
  if (!h0 || !c || !h1 || !d || !h2) {
    printf("allocation failed\n");
    return 1;
  }
  memset(c, 4, 40 * KIB);
  memset(d, 5, 42 * KIB);
  free(c);
  llama_collect(1);
  printf("C purged: %s\n", range_resident_kib(c + 8 * KIB, 32 * KIB) == 0 ? "yes" : "no");
  free(d);
  unsigned char *q = llama_malloc_class(40 * KIB, 4);
  printf("own list: %s\n", q == d ? "D" : q == c ? "C (purged space)" : "elsewhere");
  printf("C still purged: %s\n", range_resident_kib(c + 8 * KIB, 32 * KIB) == 0 ? "yes" : "no");
  free(q);
  free(h0);
  free(h1);
  free(h2);
  return 0;
}
