// The two llama-config lines are all a user's build needs: compile and link
// a C program with them, from another directory, and run it; it writes a
// raw profile where LLAMA_PROF_FILE says, which holds this file's malloc
// and free sites with their exact counts, every allocation sampled
// (LLAMA_PROF_SAMPLE=1) and freed at the instrumented free (stdio's own
// buffer is not recorded: LLAMA_PROF_EXTERNAL=0).
// REQUIRES: llama-config
// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: %cc -O2 %gen_cflags -c %s -o prog.o
// RUN: %cc prog.o -o prog %gen_ldflags
// RUN: env LLAMA_PROF_FILE=%t/out.profraw LLAMA_PROF_SAMPLE=1 LLAMA_PROF_EXTERNAL=0 ./prog | FileCheck %s
// RUN: %profdata show %t/out.profraw | FileCheck --check-prefix=PROF %s
// CHECK: sum 4950
// PROF: sites (2):
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  long sum = 0;
  for (int i = 0; i < 100; i++) {
    // PROF-DAG: malloc 100 400 100 main ({{.*}}build-and-run.c:[[@LINE+1]]:
    int *p = malloc(sizeof *p);
    *p = i;
    sum += *p;
    // PROF-DAG: free 100 0 0 main ({{.*}}build-and-run.c:[[@LINE+1]]:
    free(p);
  }
  printf("sum %ld\n", sum);
  return 0;
}
// PROF: samples: 100 (0 live at exit, 0 ended by realloc, 0 freed unseen
