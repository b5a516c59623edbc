// Large objects' huge frames are lazy: a 16 MiB object of which the program
// touches 3 MiB and one byte costs those pages, not the three 2 MiB frames
// they fall in (advised huge at allocation, it cost 6 MiB: mimalloc-bench's
// barnes held 1.17x glibc's RSS that way). The maintenance (llama_collect,
// forced: no waiting on the purge delay) then collapses the frame the
// program filled, when the machine gives huge pages: checked only where THP
// is not "never" and not disabled for the process, and without a verdict on
// speed.
//
// RUN: %cc %s -o %t %link_llamalloc
// RUN: %t | FileCheck %s
// CHECK: resident after touching 3 MiB + 1 byte of 16 MiB: at most 3.25 MiB: yes
// CHECK: after the maintenance: the dense frame is huge (or THP unavailable): yes
// CHECK: the sparse frame stays on 4 KiB pages: yes
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include "llamalloc.h"
#include "mem_common.h"

static size_t resident(const char *p, size_t n) {
  unsigned char vec[4096];
  size_t pages = n / 4096, r = 0;
  if (pages > sizeof vec || mincore((void *)p, n, vec) != 0) return (size_t)-1;
  for (size_t i = 0; i < pages; i++) r += vec[i] & 1;
  return r * 4096;
}

static int thp_available(void) {
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
  char line[128] = "";
  if (f) {
    if (!fgets(line, sizeof line, f)) line[0] = '\0';
    fclose(f);
  }
  return strstr(line, "[never]") == NULL && line[0] && prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) != 1;
}

int main(void) {
  size_t n = 16u << 20;
  char *p = malloc(n);
  if (!p) return 1;
  /* The object's frames: 2 MiB-aligned, the first holds the header. */
  char *frame0 = (char *)((uintptr_t)p & ~(uintptr_t)((2u << 20) - 1));
  size_t touched = (3u << 20) + 1;
  memset(p, 1, touched);
  size_t r = resident(frame0, 8u << 20);
  printf("resident after touching 3 MiB + 1 byte of 16 MiB: at most 3.25 MiB: %s (%zu KiB)\n",
         r <= (13u << 18) ? "yes" : "no", r / 1024);
  long before = read_mem().huge_kib;
  llama_collect(1);
  long after = read_mem().huge_kib;
  int thp = thp_available();
  printf("after the maintenance: the dense frame is huge (or THP unavailable): %s "
         "(AnonHugePages %ld -> %ld KiB, THP %s)\n",
         !thp || after - before >= 2048 ? "yes" : "no", before, after, thp ? "on" : "off");
  /* frame 1 holds 1 MiB + 1 byte of the object (+ the header's offset):
   * never dense, never collapsed. */
  size_t r1 = resident(frame0 + (2u << 20), 2u << 20);
  printf("the sparse frame stays on 4 KiB pages: %s (%zu KiB resident)\n",
         r1 < (2u << 20) ? "yes" : "no", r1 / 1024);
  free(p);
  return 0;
}
