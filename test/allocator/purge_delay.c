// The learned purge delay (hugepage.c): memory purged and taken again within
// two delays of its purge doubles the delay (up to 16x); memory that stays
// free leaves it alone. A 64 KiB extent block is freed and purged
// (llama_collect(1) purges whatever the delay), then allocated again at
// once: its pages fault back in, which is the miss. With a one-minute base
// delay "within two delays" holds however slow the machine; nothing waits.
//
// RUN: %cc %s -o %t %link_llamalloc
// RUN: env LLAMA_BACKGROUND=0 LLAMA_PURGE_DELAY_MS=60000 %t 2>&1 | FileCheck %s
// CHECK: start: 60000 ms
// CHECK: purged, not reused: 60000 ms
// CHECK: reused after the purge: 120000 ms
// CHECK: again: 240000 ms
// CHECK: capped: 960000 ms
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llamalloc.h"

static unsigned long long delay_ms(void) {
  llama_stats_t s;
  llama_stats_get(&s);
  return (unsigned long long)(s.purge_delay_ns / 1000000);
}

/* Allocates and touches 64 KiB (an extent: 1 KiB < n <= 1 MiB). */
static char *block(void) {
  char *p = llama_malloc_class(64 * 1024, 6);
  memset(p, 1, 64 * 1024);
  return p;
}

int main(void) {
  char *keep = llama_malloc_class(64, 6); /* the page stays in use */
  char *p = block();
  printf("start: %llu ms\n", delay_ms());
  free(p);
  llama_collect(1);
  printf("purged, not reused: %llu ms\n", delay_ms());
  p = block();
  printf("reused after the purge: %llu ms\n", delay_ms());
  free(p);
  llama_collect(1);
  p = block();
  printf("again: %llu ms\n", delay_ms());
  for (int i = 0; i < 4; i++) {
    free(p);
    llama_collect(1);
    p = block();
  }
  printf("capped: %llu ms\n", delay_ms());
  free(p);
  free(keep);
  return 0;
}
