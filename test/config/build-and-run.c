// The two llama-config lines are all a user's build needs: compile and link
// a C program with them, from another directory, and run it; it writes a
// raw profile where LLAMA_PROF_FILE says.
// REQUIRES: llama-config
// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: %cc -O2 %gen_cflags -c %s -o prog.o
// RUN: %cc prog.o -o prog %gen_ldflags
// RUN: env LLAMA_PROF_FILE=%t/out.profraw ./prog | FileCheck %s
// RUN: test -s %t/out.profraw
// CHECK: sum 4950
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  long sum = 0;
  for (int i = 0; i < 100; i++) {
    int *p = malloc(sizeof *p);
    *p = i;
    sum += *p;
    free(p);
  }
  printf("sum %ld\n", sum);
  return 0;
}
