// An output directory that does not exist, one that cannot be written
// (sysfs refuses new files even to root), and a path through a regular
// file: one clear line on stderr each time, the program's output and exit
// status are unchanged. Also a bad option value is reported and ignored.
//
// RUN: %cc %prof_cflags %s -o %t %link_llamaprof
// RUN: env LLAMA_PROF_FILE=%t.missing/sub/p.profraw LLAMA_PROF_SAMPLE=often %t > %t.out 2> %t.err
// RUN: FileCheck --check-prefix=OUT %s < %t.out
// RUN: FileCheck --check-prefix=ERR %s < %t.err
// RUN: not env LLAMA_PROF_FILE=%t.missing/sub/p.profraw %t fail 2>&1 | FileCheck --check-prefix=FAIL %s
// RUN: env LLAMA_PROF_FILE=/sys/llama-test-%%p.profraw %t 2>&1 | FileCheck --check-prefix=SYS %s
// RUN: env LLAMA_PROF_FILE=%s/p.profraw %t 2>&1 | FileCheck --check-prefix=NOTDIR %s
//
// OUT: unwritable: done
// ERR: llama-prof: ignoring bad value of LLAMA_PROF_SAMPLE
// ERR-NEXT: llama-prof: cannot write {{.*}}.missing/sub/p.profraw: No such file or directory
// ERR-NOT: {{.}}
// FAIL: llama-prof: cannot write {{.*}}p.profraw: No such file or directory{{$}}
// FAIL-NOT: {{.}}
// SYS: llama-prof: cannot write /sys/llama-test-{{[0-9]+}}.profraw: Permission denied
// SYS-NEXT: unwritable: done
// NOTDIR: llama-prof: cannot write {{.*}}unwritable.c/p.profraw: Not a directory
// NOTDIR-NEXT: unwritable: done

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  void *volatile p = malloc(10);
  free(p);
  if (argc > 1 && !strcmp(argv[1], "fail")) exit(3);
  puts("unwritable: done");
  return 0;
}
