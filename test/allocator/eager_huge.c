// Eager huge pages (hugepage.c, design.md §2.5): a bin of at least
// LLAMA_EAGER_HUGE_PAGES pages (16) whose newest page filled within the
// purge delay takes its next pages from the OS faulted in huge at their
// first touch, instead of on 4 KiB pages collapsed (copied) once dense.
//
// 20 MiB of 256-byte objects in class 3 (12 pages: below the minimum) get
// no eager page; then 48 MiB in class 6 do: its first span's sparse page
// and 25 dense ones, of which every page taken once the bin held 16 (when
// its 15th dense page became dense) is eager, exactly held - 16. They are
// huge (AnonHugePages covers every collapsed and eager page). With
// LLAMA_EAGER_HUGE_PAGES=0 none is eager. Freed and collected, the pages
// go back. No timing: the purge delay is an hour, so every page fills
// "within the delay", and there is no background thread. Where the process
// gets no huge pages (no collapse succeeded: THP disabled for it or not
// built in) no page may be eager.
//
// RUN: %cc %s -I %S -o %t %link_llamalloc
// RUN: env LLAMA_BACKGROUND=0 LLAMA_PURGE_DELAY_MS=3600000 %t on 2>&1 | FileCheck %s
// RUN: env LLAMA_BACKGROUND=0 LLAMA_PURGE_DELAY_MS=3600000 LLAMA_EAGER_HUGE_PAGES=0 %t off 2>&1 | FileCheck %s
// CHECK: small bin (below 16 pages): no eager page: yes
// CHECK: large bin: eager pages as expected: yes
// CHECK: every collapsed or eager page is huge: yes
// CHECK: after free and collect: heap pages returned: yes
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llamalloc.h"
#include "mem_common.h"

#define OBJ 256
#define SMALL_N ((20u << 20) / OBJ)
#define LARGE_N ((48u << 20) / OBJ)

static void *objs[SMALL_N + LARGE_N];

static llama_stats_t stats(void) {
  llama_stats_t s;
  llama_stats_get(&s);
  return s;
}

int main(int argc, char **argv) {
  int on = argc > 1 && !strcmp(argv[1], "on");
  for (unsigned i = 0; i < SMALL_N; i++) {
    objs[i] = llama_malloc_class(OBJ, 3);
    if (!objs[i]) return 1;
    memset(objs[i], 1, OBJ);
  }
  llama_stats_t s = stats();
  printf("small bin (below 16 pages): no eager page: %s (eager %llu, class 3 holds %llu pages, "
         "collapses %llu)\n",
         s.huge_pages_eager == 0 && s.bins[3].huge_pages_held < 16 ? "yes" : "no",
         (unsigned long long)s.huge_pages_eager, (unsigned long long)s.bins[3].huge_pages_held,
         (unsigned long long)s.huge_page_collapses);
  for (unsigned i = SMALL_N; i < SMALL_N + LARGE_N; i++) {
    objs[i] = llama_malloc_class(OBJ, 6);
    if (!objs[i]) return 1;
    memset(objs[i], 1, OBJ);
  }
  s = stats();
  mem_t m = read_mem();
  int thp = s.huge_page_collapses > 0;
  uint64_t held = s.bins[6].huge_pages_held;
  uint64_t want = on && thp && held > 16 ? held - 16 : 0;
  printf("large bin: eager pages as expected: %s (eager %llu, want %llu: class 6 holds %llu "
         "pages; collapses %llu, THP %s, %s)\n",
         s.huge_pages_eager == want ? "yes" : "no", (unsigned long long)s.huge_pages_eager,
         (unsigned long long)want, (unsigned long long)held,
         (unsigned long long)s.huge_page_collapses, thp ? "works" : "unavailable", on ? "on" : "off");
  long want_kib = (long)(s.huge_page_collapses + s.huge_pages_eager) * 2048;
  printf("every collapsed or eager page is huge: %s (AnonHugePages %ld KiB, pages %ld KiB)\n",
         m.huge_kib >= want_kib ? "yes" : "no", m.huge_kib, want_kib);
  long before = m.rss_kib;
  for (unsigned i = 0; i < SMALL_N + LARGE_N; i++) free(objs[i]);
  llama_collect(1);
  m = read_mem();
  /* 68 MiB of objects were resident; at most a few MiB (the warm cache is
   * emptied by the forced collect) may stay. */
  printf("after free and collect: heap pages returned: %s (RSS %ld -> %ld KiB)\n",
         before - m.rss_kib >= 60 * 1024 ? "yes" : "no", before, m.rss_kib);
  return 0;
}
