// Lifetime binning gives memory back: 64 MiB of small objects in class 0 and
// 64 MiB in class 6, allocated interleaved (a size-binned allocator would mix
// them on the same pages). After every class-0 object is freed and
// llama_collect(1) runs, class 0's huge pages are released (bins 0..5: class-0
// pages may have been promoted to a longer class when they outlived 10 ms),
// Rss (from /proc/self/smaps_rollup) drops by >= 50 MiB while class 6's
// memory, pages and contents stay. Checked again with the warm cache off.
// AnonHugePages is reported, not required (the kernel may lack huge pages).
//
// REQUIRES: thp
// RUN: %cc -fno-builtin %s -o %t %link_llamalloc
// Exact bins (LLAMA_SMALL_BINS=0): this test checks that class k's small
// objects land in bin k; by default classes share bins for small objects.
// RUN: env LLAMA_SMALL_BINS=0 %t 2>&1 | FileCheck %s
// RUN: env LLAMA_SMALL_BINS=0 LLAMA_HUGE_PAGE_CACHE=0 %t 2>&1 | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: memory_release: PASSED (0 failures)

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llamalloc.h"
#include "../Inputs/llama_test.h"

#define MiB ((uint64_t)1 << 20)
#define HUGE_PAGE (2 * MiB)
#define OBJ 1024
#define NOBJ (64 * 1024) /* 64 MiB per class */

static void *c0[NOBJ], *c6[NOBJ];

typedef struct {
  uint64_t rss_kb, anon_huge_kb;
} mem_t;

static uint64_t field_kb(const char *buf, const char *name) {
  const char *p = strstr(buf, name);
  if (!p) return 0;
  p += strlen(name);
  while (*p == ' ' || *p == '\t') p++;
  return strtoull(p, NULL, 10);
}

static mem_t read_mem(void) {
  static char buf[8192];
  mem_t m = {0, 0};
  int fd = open("/proc/self/smaps_rollup", O_RDONLY);
  REQUIRE(fd >= 0, "cannot open /proc/self/smaps_rollup");
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  REQUIRE(n > 0, "cannot read /proc/self/smaps_rollup");
  buf[n] = 0;
  m.rss_kb = field_kb(buf, "\nRss:");
  m.anon_huge_kb = field_kb(buf, "\nAnonHugePages:");
  return m;
}

static uint64_t held(const llama_stats_t *s, unsigned from, unsigned to) {
  uint64_t t = 0;
  for (unsigned b = from; b <= to; b++) t += s->bins[b].huge_pages_held;
  return t;
}
static uint64_t released(const llama_stats_t *s, unsigned from, unsigned to) {
  uint64_t t = 0;
  for (unsigned b = from; b <= to; b++) t += s->bins[b].huge_pages_released;
  return t;
}

static void report(const char *tag, const llama_stats_t *s, mem_t m) {
  lt_log("%-14s Rss %6llu MiB  AnonHugePages %6llu MiB  resident %4llu cached %3llu "
         "returned %4llu  held: bin0 %3llu bins0-5 %3llu bin6 %3llu  released bins0-5 %3llu  "
         "prom out bin0 %llu\n",
         tag, (unsigned long long)(m.rss_kb / 1024), (unsigned long long)(m.anon_huge_kb / 1024),
         (unsigned long long)s->huge_pages_resident, (unsigned long long)s->huge_pages_cached,
         (unsigned long long)s->huge_pages_returned,
         (unsigned long long)s->bins[0].huge_pages_held, (unsigned long long)held(s, 0, 5),
         (unsigned long long)s->bins[6].huge_pages_held, (unsigned long long)released(s, 0, 5),
         (unsigned long long)s->bins[0].promotions_out);
}

int main(void) {
  lt_watchdog(60);
  const char *cache = getenv("LLAMA_HUGE_PAGE_CACHE");
  int no_cache = cache && strcmp(cache, "0") == 0;
  const uint64_t pages_needed = (uint64_t)NOBJ * OBJ / HUGE_PAGE; /* 32 */

  llama_stats_t s0, s1, s2, s3;
  llama_stats_get(&s0);
  mem_t m0 = read_mem();
  report("baseline", &s0, m0);

  for (int i = 0; i < NOBJ; i++) {
    c0[i] = llama_malloc_class(OBJ, 0);
    c6[i] = llama_malloc_class(OBJ, 6);
    REQUIRE(c0[i] && c6[i], "allocation %d failed", i);
    lt_fill(c0[i], OBJ, (uint64_t)i);
    lt_fill(c6[i], OBJ, (uint64_t)i + NOBJ);
  }
  llama_stats_get(&s1);
  mem_t m1 = read_mem();
  report("allocated", &s1, m1);

  EXPECT(s1.bins[6].huge_pages_held - s0.bins[6].huge_pages_held >= pages_needed,
         "bin 6 holds %llu more huge pages for 64 MiB, want >= %llu",
         (unsigned long long)(s1.bins[6].huge_pages_held - s0.bins[6].huge_pages_held),
         (unsigned long long)pages_needed);
  EXPECT(held(&s1, 0, 5) - held(&s0, 0, 5) >= pages_needed,
         "bins 0..5 hold %llu more huge pages for class 0's 64 MiB, want >= %llu",
         (unsigned long long)(held(&s1, 0, 5) - held(&s0, 0, 5)),
         (unsigned long long)pages_needed);
  EXPECT(s1.bins[0].huge_pages_held + s1.bins[0].promotions_out >= pages_needed,
         "bin 0 holds %llu huge pages (+%llu promoted out), want >= %llu",
         (unsigned long long)s1.bins[0].huge_pages_held,
         (unsigned long long)s1.bins[0].promotions_out, (unsigned long long)pages_needed);
  EXPECT(s1.huge_pages_resident - s0.huge_pages_resident >= 2 * pages_needed,
         "huge_pages_resident grew by %llu, want >= %llu",
         (unsigned long long)(s1.huge_pages_resident - s0.huge_pages_resident),
         (unsigned long long)(2 * pages_needed));
  EXPECT(s1.huge_pages_resident >= held(&s1, 0, LLAMA_NUM_BINS - 1),
         "huge_pages_resident %llu < pages held by bins %llu",
         (unsigned long long)s1.huge_pages_resident,
         (unsigned long long)held(&s1, 0, LLAMA_NUM_BINS - 1));
  EXPECT(s1.huge_pages_peak >= s1.huge_pages_resident, "huge_pages_peak %llu < resident %llu",
         (unsigned long long)s1.huge_pages_peak, (unsigned long long)s1.huge_pages_resident);
  EXPECT(s1.bins[6].live_objects - s0.bins[6].live_objects == NOBJ &&
             s1.bins[0].live_objects - s0.bins[0].live_objects == NOBJ,
         "live objects: bin 0 +%llu, bin 6 +%llu, want %d each",
         (unsigned long long)(s1.bins[0].live_objects - s0.bins[0].live_objects),
         (unsigned long long)(s1.bins[6].live_objects - s0.bins[6].live_objects), NOBJ);
  EXPECT(m1.rss_kb - m0.rss_kb >= 120 * 1024, "Rss grew by %llu KiB for 128 MiB of objects",
         (unsigned long long)(m1.rss_kb - m0.rss_kb));

  /* The short-lived class dies. */
  for (int i = 0; i < NOBJ; i++) {
    LT_VERIFY(c0[i], OBJ, (uint64_t)i, "class 0 object");
    free(c0[i]);
  }
  llama_collect(1);
  llama_stats_get(&s2);
  mem_t m2 = read_mem();
  report("class 0 freed", &s2, m2);

  EXPECT(s2.bins[0].huge_pages_held <= 1, "bin 0 still holds %llu huge pages after llama_collect(1)",
         (unsigned long long)s2.bins[0].huge_pages_held);
  EXPECT(held(&s2, 0, 5) <= held(&s0, 0, 5) + 1,
         "bins 0..5 still hold %llu huge pages (%llu at baseline)",
         (unsigned long long)held(&s2, 0, 5), (unsigned long long)held(&s0, 0, 5));
  EXPECT(released(&s2, 0, 5) - released(&s1, 0, 5) >= pages_needed - 1,
         "bins 0..5 released %llu huge pages, want >= %llu",
         (unsigned long long)(released(&s2, 0, 5) - released(&s1, 0, 5)),
         (unsigned long long)(pages_needed - 1));
  EXPECT(s2.huge_pages_returned - s1.huge_pages_returned >= pages_needed - 1,
         "huge_pages_returned grew by %llu, want >= %llu",
         (unsigned long long)(s2.huge_pages_returned - s1.huge_pages_returned),
         (unsigned long long)(pages_needed - 1));
  EXPECT(s1.huge_pages_resident - s2.huge_pages_resident >= pages_needed - 1,
         "huge_pages_resident dropped by %lld, want >= %llu",
         (long long)(s1.huge_pages_resident - s2.huge_pages_resident),
         (unsigned long long)(pages_needed - 1));
  EXPECT(s2.bins[6].huge_pages_held == s1.bins[6].huge_pages_held,
         "bin 6 huge pages changed from %llu to %llu", (unsigned long long)s1.bins[6].huge_pages_held,
         (unsigned long long)s2.bins[6].huge_pages_held);
  EXPECT(s2.bins[6].live_objects == s1.bins[6].live_objects, "bin 6 live objects changed");
  EXPECT(s2.bins[0].live_objects == s0.bins[0].live_objects, "bin 0 live objects %llu, want %llu",
         (unsigned long long)s2.bins[0].live_objects, (unsigned long long)s0.bins[0].live_objects);
  EXPECT(m1.rss_kb - m2.rss_kb >= 50 * 1024,
         "Rss dropped by only %lld KiB after freeing 64 MiB of class 0 (want >= 50 MiB)",
         (long long)(m1.rss_kb - m2.rss_kb));
  EXPECT(m2.rss_kb - m0.rss_kb >= 60 * 1024,
         "Rss is only %lld KiB above baseline: class 6's 64 MiB should still be resident",
         (long long)(m2.rss_kb - m0.rss_kb));
  if (no_cache)
    EXPECT(s2.huge_pages_cached == 0, "LLAMA_HUGE_PAGE_CACHE=0 but %llu huge pages cached",
           (unsigned long long)s2.huge_pages_cached);

  /* The long-lived class survived intact; now it dies too. */
  for (int i = 0; i < NOBJ; i++) {
    LT_VERIFY(c6[i], OBJ, (uint64_t)i + NOBJ, "class 6 object");
    free(c6[i]);
  }
  llama_collect(1);
  llama_stats_get(&s3);
  mem_t m3 = read_mem();
  report("all freed", &s3, m3);
  EXPECT(s3.bins[6].huge_pages_held <= s0.bins[6].huge_pages_held + 1,
         "bin 6 still holds %llu huge pages (%llu at baseline)",
         (unsigned long long)s3.bins[6].huge_pages_held,
         (unsigned long long)s0.bins[6].huge_pages_held);
  EXPECT(m3.rss_kb <= m0.rss_kb + 16 * 1024, "Rss %llu KiB after freeing everything, baseline %llu KiB",
         (unsigned long long)m3.rss_kb, (unsigned long long)m0.rss_kb);
  if (LT_FAILS()) {
    lt_print_stats("baseline", &s0);
    lt_print_stats("allocated", &s1);
    lt_print_stats("class 0 freed", &s2);
    lt_print_stats("all freed", &s3);
  }
  return lt_summary("memory_release");
}
