// The background thread sleeps when nothing can be returned: a huge page
// with a few free units (fewer than LLAMA_PURGE_MIN_FREE, not worth a split)
// is no pending work. The page is filled with 1 KiB objects until it is
// made huge, then 8 units' worth of objects are freed; once the maintenance
// has looked at it, the thread must stay asleep (its voluntary context
// switches do not grow over half a second). A thread that woke every
// LLAMA_PURGE_DELAY_MS / 4 would switch about 40 times. Sleeping longer on
// a busy machine cannot make the thread switch more, so load cannot fail
// the test. Without huge pages (no THP) the page's free units are returned
// instead, after which there is no work either.
//
// RUN: %cc %s -I %S -o %t %link_llamalloc
// RUN: %t 2>&1 | FileCheck %s
// CHECK: background thread asleep: yes
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "llamalloc.h"
#include "mem_common.h"

#define OBJ 1024
#define PER_UNIT 32
#define UNITS 60
static void *objs[UNITS * PER_UNIT];

/* The task id of the thread named llama-bg, or -1 (allocates: call early). */
static long bg_tid(void) {
  long tid = -1;
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  while (d && (e = readdir(d))) {
    char path[300], buf[64];
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (!f) continue;
    if (fgets(buf, sizeof buf, f) && strncmp(buf, "llama-bg", 8) == 0) tid = atol(e->d_name);
    fclose(f);
  }
  if (d) closedir(d);
  return tid;
}

/* Its voluntary context switches, read without allocating (a free would
 * give the thread work and wake it). */
static long bg_switches(const char *status_path) {
  static char buf[4096];
  int fd = open(status_path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t k = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (k <= 0) return -1;
  buf[k] = '\0';
  const char *p = strstr(buf, "voluntary_ctxt_switches:");
  return p ? atol(p + 24) : -1;
}

int main(void) {
  int n = UNITS * PER_UNIT;
  for (int i = 0; i < n; i++) {
    objs[i] = llama_malloc_class(OBJ, 6);
    memset(objs[i], 1, OBJ);
  }
  llama_stats_t s;
  for (int waited = 0; waited < 5000; waited += 20) { /* until made huge, if it can be */
    llama_stats_get(&s);
    if (s.memory.huge) break;
    sleep_ms(20);
  }
  char status_path[64];
  snprintf(status_path, sizeof status_path, "/proc/self/task/%ld/status", bg_tid());
  for (int i = 20 * PER_UNIT; i < 28 * PER_UNIT; i++) free(objs[i]);
  sleep_ms(400); /* the maintenance looks at the page (several delays) */
  long before = bg_switches(status_path);
  sleep_ms(500);
  long after = bg_switches(status_path);
  printf("background thread asleep: %s (%ld switches in 500 ms, page huge: %s)\n",
         before >= 0 && after - before <= 3 ? "yes" : "no", after - before,
         s.memory.huge ? "yes" : "no");
  for (int i = 0; i < n; i++)
    if (i < 20 * PER_UNIT || i >= 28 * PER_UNIT) free(objs[i]);
  return 0;
}
