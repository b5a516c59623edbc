// File names: the default llama-%p.profraw in the working directory the
// program started in (even if it changes directory before exiting); %p,
// %h and %% in LLAMA_PROF_FILE; no temporary file left behind. A program
// with no instrumented module (the library linked, or preloaded) writes
// nothing at exit.
//
// RUN: rm -rf %t.dir %t.dir2 %t.dir3 && mkdir -p %t.dir %t.dir2 %t.dir3
// RUN: %cc %prof_cflags %s -o %t %link_llamaprof
// RUN: cd %t.dir && %t chdir
// RUN: ls %t.dir | count 1
// RUN: %rawdump --check-name "llama-{pid}.profraw" %t.dir/* | FileCheck --check-prefix=DEFAULT %s
// DEFAULT: name ok: llama-{{[0-9]+}}.profraw
//
// RUN: env LLAMA_PROF_FILE=%t.dir2/x-%%h-%%p-%%%%.profraw %t
// RUN: ls %t.dir2 | count 1
// RUN: %rawdump --check-name "x-{host}-{pid}-%%.profraw" %t.dir2/* | FileCheck --check-prefix=PATTERN %s
// PATTERN: name ok: x-{{.+}}-{{[0-9]+}}-%.profraw
//
// Uninstrumented: nothing written.
// RUN: %cc -x c /dev/null -DMAIN_ONLY -include %s -o %t.plain %link_llamaprof
// RUN: cd %t.dir3 && %t.plain
// RUN: cd %t.dir3 && env LD_PRELOAD=%llamaprof_so %t.plain
// RUN: ls %t.dir3 | count 0

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
#ifndef MAIN_ONLY
  void *volatile p = malloc(10);
  free(p);
#endif
  if (argc > 1 && !strcmp(argv[1], "chdir") && chdir("/") != 0) return 1;
  return 0;
}
