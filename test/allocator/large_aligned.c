// Large objects' 2 MiB frames are advised huge only where the object fills
// them. An object aligned to 2 MiB has its header alone in the frame before
// it: advising that frame made every such object cost a whole huge page
// (32 objects of 4 KiB: 64 MiB of AnonHugePages, 67 MB of RSS, against
// 2 MB for glibc). Here 32 of them must add less than 8 MiB of RSS. On a
// machine that cannot give huge pages the test cannot tell; it never fails
// because of speed or load.
//
// RUN: %cc %s -o %t %link_llamalloc
// RUN: %t | FileCheck %s
// CHECK: 2 MiB-aligned: 32 objects, RSS growth below 8 MiB: yes
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long rss_kb(void) {
  FILE *f = fopen("/proc/self/smaps_rollup", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (strncmp(line, "Rss:", 4) == 0) kb = atol(line + 4);
  if (f) fclose(f);
  return kb;
}

int main(void) {
  void *p[32];
  long before = rss_kb();
  for (int i = 0; i < 32; i++) {
    if (posix_memalign(&p[i], 2 << 20, 4096) != 0) return 1;
    memset(p[i], 1, 4096);
  }
  long after = rss_kb();
  printf("2 MiB-aligned: 32 objects, RSS growth below 8 MiB: %s\n",
         after - before < 8 * 1024 ? "yes" : "no");
  for (int i = 0; i < 32; i++) free(p[i]);
  return 0;
}
