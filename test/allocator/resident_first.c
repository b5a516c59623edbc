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

/* Two objects of class k between live guards, written; the first is then
 * freed and purged (llama_collect purges every free block), the second
 * freed and left resident (not idle for an hour). Returns whether the
 * purged one's pages past its first 8 KiB (its links) are all out. */
typedef struct {
  unsigned char *guard[3], *purged, *resident;
  size_t purged_kib, resident_kib;
} pair_t;

static int setup(pair_t *t, unsigned k, size_t purged_kib, size_t resident_kib) {
  t->purged_kib = purged_kib;
  t->resident_kib = resident_kib;
  t->guard[0] = llama_malloc_class(2 * KIB, k);
  t->purged = llama_malloc_class(purged_kib * KIB, k);
  t->guard[1] = llama_malloc_class(2 * KIB, k);
  t->resident = llama_malloc_class(resident_kib * KIB, k);
  t->guard[2] = llama_malloc_class(2 * KIB, k);
  for (int i = 0; i < 3; i++)
    if (!t->guard[i]) return -1;
  if (!t->purged || !t->resident) return -1;
  memset(t->purged, 1, purged_kib * KIB);
  memset(t->resident, 2, resident_kib * KIB);
  free(t->purged);
  llama_collect(1);
  free(t->resident);
  return 0;
}

static const char *still_purged(const pair_t *t) {
  return range_resident_kib(t->purged + 8 * KIB, (t->purged_kib - 12) * KIB) == 0 ? "yes" : "no";
}

static void release(pair_t *t, void *p) {
  free(p);
  for (int i = 0; i < 3; i++) free(t->guard[i]);
}

int main(void) {
  pair_t ab, cd;
  if (setup(&ab, 5, 160, 200) != 0) {
    printf("allocation failed\n");
    return 1;
  }
  printf("A purged: %s\n", still_purged(&ab));
  unsigned char *p = llama_malloc_class(150 * KIB, 5);
  const char *where = p >= ab.resident && p < ab.resident + 200 * KIB ? "B"
                      : p >= ab.purged && p < ab.purged + 160 * KIB    ? "A (purged space)"
                                                                        : "elsewhere";
  printf("reused: %s\n", where);
  /* Taking space writes the block's header and its remainder's (150 KiB
   * on): inside A, that faults one of its purged pages back in. */
  printf("A still purged: %s\n", still_purged(&ab));
  release(&ab, p);

  if (setup(&cd, 4, 40, 42) != 0) {
    printf("allocation failed\n");
    return 1;
  }
  printf("C purged: %s\n", still_purged(&cd));
  unsigned char *q = llama_malloc_class(40 * KIB, 4);
  printf("own list: %s\n", q == cd.resident ? "D" : q == cd.purged ? "C (purged space)" : "elsewhere");
  printf("C still purged: %s\n", still_purged(&cd));
  release(&cd, q);
  return 0;
}
