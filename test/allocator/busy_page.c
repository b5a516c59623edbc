// Free units go back unit by unit, also on a page whose other units are
// reused all the time. A page holds 40 units of 1 KiB objects; all but one
// unit's objects are freed; then three units' worth of objects is allocated
// and freed again every 10 ms, so some unit of the page is freed every
// 10 ms, more often than the purge delay (100 ms). The other 36 units are
// never used again and must be returned: before, a page counted as idle only
// when none of its units had been freed for the delay, so they stayed
// resident for as long as the churn went on (xmllint: 1.0 MiB at its
// document's peak). No background thread: the test runs the maintenance
// itself (llama_collect(0)) after each round; sleeps only make the time
// pass, so a slow machine cannot make it fail.
//
// RUN: %cc %s -I %S -o %t %link_llamalloc
// RUN: env LLAMA_BACKGROUND=0 LLAMA_PURGE_DELAY_MS=100 LLAMA_HUGE_PAGES=0 %t 2>&1 | FileCheck %s
// RUN: env LLAMA_BACKGROUND=0 LLAMA_PURGE_DELAY_MS=100 %t 2>&1 | FileCheck %s
// CHECK: before: idle free units resident: yes
// CHECK: after: idle free units returned: yes
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "llamalloc.h"
#include "mem_common.h"

#define OBJ 1024
#define PER_UNIT 32
#define UNITS 40
static void *objs[UNITS * PER_UNIT];

static unsigned long long free_units_kib(void) {
  llama_stats_t s;
  llama_stats_get(&s);
  return (unsigned long long)s.memory.free_units / 1024;
}

int main(void) {
  int n = UNITS * PER_UNIT;
  for (int i = 0; i < n; i++) {
    objs[i] = llama_malloc_class(OBJ, 6);
    memset(objs[i], 1, OBJ);
  }
  for (int i = 0; i < n - PER_UNIT; i++) free(objs[i]);
  llama_collect(0); /* spans released to the page; too early for a purge */
  unsigned long long before = free_units_kib();
  printf("before: idle free units resident: %s (%llu KiB)\n", before >= 1024 ? "yes" : "no",
         before);
  /* Three units' worth: spans beyond the heap's current one are given back
   * to the page at once, so a unit of the page is freed every round. */
  void *churn[3 * PER_UNIT];
  for (int round = 0; round < 40; round++) {
    for (int i = 0; i < 3 * PER_UNIT; i++) {
      churn[i] = llama_malloc_class(OBJ, 6);
      memset(churn[i], 2, OBJ);
    }
    for (int i = 0; i < 3 * PER_UNIT; i++) free(churn[i]);
    sleep_ms(10);
    llama_collect(0);
  }
  unsigned long long after = free_units_kib();
  printf("after: idle free units returned: %s (%llu KiB resident, %llu before)\n",
         after <= 512 ? "yes" : "no", after, before);
  for (int i = n - PER_UNIT; i < n; i++) free(objs[i]);
  return 0;
}
