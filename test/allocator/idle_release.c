// An idle process gives freed memory back: 64 MiB of 4 KiB objects, then
// every object freed but one in 64 (7 of 8 32 KiB units empty, every huge
// page keeps live objects), then no allocation at all while the test waits.
// With the background thread (the default) Rss falls by at least half of
// what was freed and the accounting's free units and cached pages go to
// (nearly) zero; with LLAMA_BACKGROUND=0 nothing runs without allocations,
// so Rss stays (the thread, not the test, returned it). The wait polls up to
// 60 s, so a busy machine only makes it slower, not wrong.
//
// RUN: %cc %s -I %S -o %t %link_llamalloc
// RUN: env LLAMA_PURGE_DELAY_MS=20 %t bg 2>&1 | FileCheck %s --check-prefix=BG
// RUN: env LLAMA_PURGE_DELAY_MS=20 LLAMA_BACKGROUND=0 %t nobg 2>&1 | FileCheck %s --check-prefix=NOBG
// BG: rss fell: yes
// BG: free units left: small
// NOBG: rss fell: no
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "llamalloc.h"
#include "mem_common.h"

#define OBJ 4096
#define N (64 * 1024 * 1024 / OBJ)
static void *objs[N];

int main(int argc, char **argv) {
  int background = argc > 1 && strcmp(argv[1], "bg") == 0;
  for (int i = 0; i < N; i++) {
    objs[i] = llama_malloc_class(OBJ, 6);
    memset(objs[i], 1, OBJ);
  }
  long freed_kib = 0;
  for (int i = 0; i < N; i++)
    if (i % 64 != 0) {
      free(objs[i]);
      freed_kib += OBJ / 1024;
    }
  mem_t before = read_mem();
  /* No allocation from here on (read_mem and sleep_ms do not allocate). */
  long waited = 0, limit = background ? 60000 : 1000;
  mem_t now = before;
  llama_stats_t s;
  while (waited < limit) {
    sleep_ms(50);
    waited += 50;
    now = read_mem();
    llama_stats_get(&s); /* never allocates */
    if (background && before.rss_kib - now.rss_kib >= freed_kib / 2 &&
        s.memory.free_units + s.memory.cached <= (4u << 20))
      break;
  }
  llama_stats_get(&s);
  long fell = before.rss_kib - now.rss_kib;
  printf("rss fell: %s (%ld of %ld KiB freed, after %ld ms)\n",
         fell >= freed_kib / 2 ? "yes" : "no", fell, freed_kib, waited);
  printf("free units left: %s (%llu KiB, cached %llu KiB)\n",
         s.memory.free_units + s.memory.cached <= (4u << 20) ? "small" : "large",
         (unsigned long long)s.memory.free_units / 1024, (unsigned long long)s.memory.cached / 1024);
  return 0;
}
