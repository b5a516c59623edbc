// A span keeps no resident pages that no live block needs. A burst of
// 48-byte objects fills a span; all but the first 8 are freed; the span
// stays its heap's current one (live objects), so no unit is freed and the
// page-level purge cannot help. Span trimming (heap.c) must give back the
// span's pages past its last live object, and the class must still work:
// the survivors keep their bytes and a second burst is served from the
// same span (the carving starts again after the last live object).
// Residency is read with mincore(2), exactly; llama_collect(0) runs the
// trim, so no timing is involved. LLAMA_HUGE_PAGES=0 and the default
// (lazy huge pages: the page stays on 4 KiB pages while sparse) must agree.
//
// RUN: %cc %s -I %S -o %t %link_llamalloc
// RUN: env LLAMA_BACKGROUND=0 %t 2>&1 | FileCheck %s
// RUN: env LLAMA_BACKGROUND=0 LLAMA_HUGE_PAGES=0 %t 2>&1 | FileCheck %s
// (The span may be unit 0 of its huge page, after the page's 8 KiB header:
// hence "at most 8 KiB" for the header's page and the first objects'.)
// CHECK: burst: span resident at least 24 KiB: yes
// CHECK: trimmed: span resident at most 8 KiB: yes
// CHECK: survivors intact: yes
// CHECK: second burst in the same span: yes
// CHECK: burst again: span resident at least 24 KiB: yes
// CHECK: trimmed again: span resident at most 8 KiB: yes
// CHECK: stats: trims counted: yes
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "llamalloc.h"
#include "mem_common.h"

#define OBJ 48
#define UNIT (32 * 1024)
#define MAX 2048
static unsigned char *objs[MAX];

/* Allocates 48-byte objects until one leaves the first object's unit. */
static int burst(int from) {
  uintptr_t unit = (uintptr_t)objs[0] & ~(uintptr_t)(UNIT - 1);
  int n = from;
  while (n < MAX) {
    objs[n] = llama_malloc_class(OBJ, 3);
    memset(objs[n], n & 0xff, OBJ);
    if (((uintptr_t)objs[n] & ~(uintptr_t)(UNIT - 1)) != unit) {
      free(objs[n]);
      break;
    }
    n++;
  }
  return n;
}

int main(void) {
  objs[0] = llama_malloc_class(OBJ, 3);
  memset(objs[0], 0, OBJ);
  int n = burst(1);
  unsigned r = unit_resident_kib(objs[0]);
  printf("burst: span resident at least 24 KiB: %s (%u KiB, %d objects)\n", r >= 24 ? "yes" : "no", r, n);
  for (int i = 8; i < n; i++) free(objs[i]);
  llama_collect(0);
  r = unit_resident_kib(objs[0]);
  printf("trimmed: span resident at most 8 KiB: %s (%u KiB)\n", r <= 8 ? "yes" : "no", r);
  int ok = 1;
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < OBJ; j++) ok &= objs[i][j] == (i & 0xff);
  printf("survivors intact: %s\n", ok ? "yes" : "no");
  int m = burst(8);
  printf("second burst in the same span: %s (%d objects, first time %d)\n",
         m == n ? "yes" : "no", m, n);
  r = unit_resident_kib(objs[0]);
  printf("burst again: span resident at least 24 KiB: %s (%u KiB)\n", r >= 24 ? "yes" : "no", r);
  for (int i = 8; i < m; i++) free(objs[i]);
  llama_collect(0);
  r = unit_resident_kib(objs[0]);
  printf("trimmed again: span resident at most 8 KiB: %s (%u KiB)\n", r <= 8 ? "yes" : "no", r);
  llama_stats_t s;
  llama_stats_get(&s);
  printf("stats: trims counted: %s (%llu trims, %llu KiB)\n",
         s.span_trims >= 2 && s.span_trimmed_bytes >= 2 * 16 * 1024 ? "yes" : "no",
         (unsigned long long)s.span_trims, (unsigned long long)s.span_trimmed_bytes / 1024);
  for (int i = 0; i < 8; i++) free(objs[i]);
  return 0;
}
