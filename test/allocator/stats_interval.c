// LLAMA_STATS_INTERVAL_MS: the background thread writes one line of the
// accounting (KiB) that often, so a run can be followed over time rather
// than only at exit. The program puts 4 MiB live in place, then waits (up
// to a minute, however slow the machine) until the thread has written two
// more lines to its stderr file than it had then (the second of them began
// after the 4 MiB were live). Every line must carry every field, and the
// last must show the live 4 MiB and a heap that holds it. With 0, no line.
//
// RUN: %cc %s %link_llamalloc -o %t
// RUN: env LLAMA_STATS_INTERVAL_MS=5 %t %t.err 2> %t.err
// RUN: FileCheck %s < %t.err
// RUN: env LLAMA_STATS_INTERVAL_MS=0 %t %t.none 0 2> %t.none
// RUN: FileCheck %s --check-prefix=NONE --allow-empty < %t.none
// CHECK: llama-stats t_ms={{[0-9]+}} rss={{[0-9]+}} anon_huge={{[0-9]+}} resident={{[0-9]+}} live={{[0-9]+}} free_blocks={{[0-9]+}} free_units={{[0-9]+}} cached={{[0-9]+}} metadata={{[0-9]+}} large={{[0-9]+}} on_huge={{[0-9]+}}
// CHECK: seen: live >= 4096 KiB and resident >= live: yes
// NONE-NOT: llama-stats
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N 4096
static void *objs[N];

/* Counts the llama-stats lines in PATH; *ok: the last one shows the live data. */
static int lines(const char *path, int *ok) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char line[512];
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long t, rss, ah, resident, live;
    if (!strchr(line, '\n')) break; /* a line still being written */
    if (sscanf(line, "llama-stats t_ms=%lu rss=%lu anon_huge=%lu resident=%lu live=%lu", &t, &rss,
               &ah, &resident, &live) != 5)
      continue;
    n++;
    *ok = live >= 4096 && resident >= live && rss >= resident;
  }
  fclose(f);
  return n;
}

int main(int argc, char **argv) {
  for (int i = 0; i < N; i++) memset(objs[i] = malloc(1024), 1, 1024);
  int ok = 0, n = 0;
  int want = argc > 2 ? atoi(argv[2]) : lines(argv[1], &ok) + 2;
  struct timespec ms = {0, 1000000};
  /* Polls its own stderr file; 60000 x 1 ms is only an upper bound. */
  for (int waited = 0; want && waited < 60000 && (n = lines(argv[1], &ok)) < want; waited++)
    nanosleep(&ms, NULL);
  if (want) fprintf(stderr, "seen: live >= 4096 KiB and resident >= live: %s\n", ok ? "yes" : "no");
  for (int i = 0; i < N; i++) free(objs[i]);
  return 0;
}
