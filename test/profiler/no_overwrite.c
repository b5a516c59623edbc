// LLAMA_PROF_FILE without %p, two processes: the first gets the name, the
// second never overwrites it and writes NAME.<pid> instead, saying so on
// stderr. Both profiles are complete; no temporary file is left.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc %prof_cflags %s -o %t %link_llamaprof
// RUN: env LLAMA_PROF_FILE=%t.dir/fixed.profraw %t 1 2> %t.err1
// RUN: env LLAMA_PROF_FILE=%t.dir/fixed.profraw %t 2 2> %t.err2
// RUN: count 0 < %t.err1
// RUN: FileCheck --check-prefix=ERR %s < %t.err2
// RUN: ls %t.dir | count 2
// RUN: %rawdump --summary %t.dir/fixed.profraw | FileCheck --check-prefix=FIRST %s
// RUN: %rawdump --check-name "fixed.profraw.{pid}" %t.dir/fixed.profraw.* | FileCheck --check-prefix=NAME %s
// RUN: %rawdump --summary %t.dir/fixed.profraw.* | FileCheck --check-prefix=SECOND %s
//
// ERR: llama-prof: {{.*}}fixed.profraw exists; wrote {{.*}}fixed.profraw.{{[0-9]+}} instead
// FIRST: site main:{{[0-9]+}} kind=malloc count=1 bytes=1
// NAME: name ok
// SECOND: site main:{{[0-9]+}} kind=malloc count=2 bytes=4
//
// Two processes writing the same name at the same moment: one file each.
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %python -c "import subprocess, os; env = dict(os.environ, LLAMA_PROF_FILE='%t.dir/same.profraw'); ps = [subprocess.Popen(['%t', '3'], env=env, stderr=subprocess.DEVNULL) for _ in range(8)]; exit(sum(p.wait() for p in ps))"
// RUN: ls %t.dir | count 8
// RUN: %rawdump --summary %t.dir/* | FileCheck --check-prefix=SAME %s
// SAME-COUNT-8: kind=malloc count=3 bytes=9

#include <stdlib.h>

int main(int argc, char **argv) {
  int n = atoi(argv[1]);
  for (int i = 0; i < n; i++) {
    void *volatile p = malloc((size_t)n);
    free(p);
  }
  return 0;
}
