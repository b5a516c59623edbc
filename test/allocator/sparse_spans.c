// Sparse spans (hugepage.c, design.md §2.5): the first span a thread carves
// for a small size class goes to a page that is never made huge, so when the
// class only churns, span trimming gives the span's free tail back at 4 KiB.
// Before, such spans shared pages with dense data, the page was collapsed
// and every one of them held 32 KiB (the SQLite shell: 20 of them, 620 KiB).
//
// Twenty small classes each get a burst of ~24 KiB that is then freed but
// for its first object; then 3 MiB of 2 KiB objects (extents) fill pages
// densely, which are made huge where the kernel can (inline: no background
// thread). After llama_collect(1) (which trims every span), the units of
// the twenty survivors may hold at most their first 4 KiB page each (plus
// the page header's) — exactly, by mincore(2); no timing is involved.
// The old placement fails here: 640 KiB resident (their page was collapsed).
//
// RUN: %cc %s -I %S -o %t %link_llamalloc
// RUN: env LLAMA_BACKGROUND=0 %t 2>&1 | FileCheck %s
// RUN: env LLAMA_BACKGROUND=0 LLAMA_HUGE_PAGES=0 %t 2>&1 | FileCheck %s
// CHECK: bursts: resident at least 320 KiB: yes
// CHECK: survivors intact: yes
// CHECK: after the dense data and a collect: survivors' units at most 168 KiB: yes
// CHECK: classes still work: yes
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "llamalloc.h"
#include "mem_common.h"

#define UNIT (32 * 1024)
#define CLASSES 20
#define DENSE (3 * 1024 * 1024 / 2048)
static const size_t sizes[CLASSES] = {16,  32,  48,  64,  80,  96,  112, 128, 160, 192,
                                      224, 256, 320, 384, 448, 512, 640, 768, 896, 1024};
static unsigned char *first[CLASSES];
static void *dense[DENSE];
static void *burst[UNIT / 16];

static unsigned survivors_kib(void) {
  unsigned kib = 0;
  for (int c = 0; c < CLASSES; c++) kib += unit_resident_kib(first[c]);
  return kib;
}

int main(void) {
  for (int c = 0; c < CLASSES; c++) {
    size_t n = 24 * 1024 / sizes[c];
    for (size_t i = 0; i < n; i++) {
      burst[i] = llama_malloc_class(sizes[c], 3);
      memset(burst[i], c + 1, sizes[c]);
    }
    first[c] = burst[0];
    for (size_t i = 1; i < n; i++) free(burst[i]);
  }
  unsigned before = survivors_kib();
  printf("bursts: resident at least 320 KiB: %s (%u KiB)\n", before >= 320 ? "yes" : "no", before);
  for (int i = 0; i < DENSE; i++) {
    dense[i] = llama_malloc_class(2048, 3);
    memset(dense[i], 0x5a, 2048);
  }
  int ok = 1;
  for (int c = 0; c < CLASSES; c++)
    for (size_t j = 0; j < sizes[c]; j++) ok &= first[c][j] == c + 1;
  printf("survivors intact: %s\n", ok ? "yes" : "no");
  llama_collect(1);
  llama_stats_t s;
  llama_stats_get(&s);
  unsigned after = survivors_kib();
  // 20 units' first pages, and the sparse page's header page (the first
  // unit starts after the 8 KiB header, inside its second 4 KiB page).
  printf("after the dense data and a collect: survivors' units at most 168 KiB: %s (%u KiB; "
         "pages made huge: %llu)\n",
         after <= 168 ? "yes" : "no", after, (unsigned long long)s.huge_page_collapses);
  ok = 1;
  for (int c = 0; c < CLASSES; c++) {
    void *p = llama_malloc_class(sizes[c], 3);
    ok &= p != NULL;
    memset(p, 1, sizes[c]);
    free(p);
    for (size_t j = 0; j < sizes[c]; j++) ok &= first[c][j] == c + 1;
    free(first[c]);
  }
  for (int i = 0; i < DENSE; i++) free(dense[i]);
  printf("classes still work: %s\n", ok ? "yes" : "no");
  return 0;
}
