// llama_prof_dump: a profile written on request carries LLAMA_RAW_F_DUMP
// and shows the objects live at that moment as LIVE; profiling goes on and
// the exit profile has them freed. dump(NULL) writes the configured name,
// which the exit profile of the same process then replaces (it is its own
// file). A path that cannot be written returns -1 with errno and one line
// on stderr; the program goes on.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc %prof_cflags -I%libdir/../include %s -o %t %link_llamaprof
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/exit-%%p.profraw %t %t.dir 2> %t.err | FileCheck --check-prefix=OUT %s
// RUN: FileCheck --check-prefix=ERR %s < %t.err
// RUN: ls %t.dir | count 2
// RUN: %rawdump --summary %t.dir/snapshot.profraw | FileCheck --check-prefix=SNAP %s
// RUN: %rawdump --summary %t.dir/exit-*.profraw | FileCheck --check-prefix=EXIT %s
//
// OUT: dump(bad) = -1 errno=ENOENT
// OUT: dump: done
// ERR: llama-prof: cannot write /nonexistent-dir/x.profraw: No such file or directory
// ERR-NOT: llama-prof
// SNAP: header period=1 flags=DUMP samples=10
// SNAP: site work:{{[0-9]+}} kind=malloc count=10 bytes=640 samples=10 freed=0 live=10 flags=LIVE
// EXIT: header period=1 flags=0 samples=10
// EXIT: site work:{{[0-9]+}} kind=malloc count=10 bytes=640 samples=10 freed=10 live=0 flags=0

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamaprof.h"

static void *objects[10];

__attribute__((noinline)) static void work(void) {
  for (int i = 0; i < 10; i++) objects[i] = malloc(64);
}

int main(int argc, char **argv) {
  char path[4096];
  work();
  snprintf(path, sizeof path, "%s/snapshot.profraw", argv[1]);
  if (llama_prof_dump(path) != 0) return 1;
  if (llama_prof_dump(NULL) != 0) return 1; /* replaced by the exit profile */
  errno = 0;
  int r = llama_prof_dump("/nonexistent-dir/x.profraw");
  printf("dump(bad) = %d errno=%s\n", r, errno == ENOENT ? "ENOENT" : strerror(errno));
  for (int i = 0; i < 10; i++) free(objects[i]);
  puts("dump: done");
  return 0;
}
