// Contexts stop where the program stops: an allocation in a thread function
// has the thread function as its outermost frame (libc's start_thread and
// clone below it are dropped), one under main ends at main (libc's start-up
// and crt1's _start are dropped). A comparator called back by qsort keeps
// the libc frames between instrumented ones when the stack is unwound with
// libunwind; frame-pointer walking stops at the first libc frame (libc is
// built without frame pointers), so there the context is the comparator.
// REQUIRES: llama-config
// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: %cc -O1 %gen_cflags %s -o app %gen_ldflags -lpthread
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t/app.profraw ./app
// RUN: %profdata merge -q -o app.llamaprof app.profraw
// RUN: %profdata show app.llamaprof | FileCheck --check-prefixes=CHECK,FP %s
// RUN: env LLAMA_PROF_UNWIND=libunwind LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t/unw.profraw ./app
// RUN: %profdata merge -q -o unw.llamaprof unw.profraw
// RUN: %profdata show unw.llamaprof | FileCheck --check-prefixes=CHECK,UNW %s
// CHECK-DAG: class 0: worker ({{[^<]*}}thread-context.c:{{[0-9]+}}:{{[0-9]+}}){{$}}
// FP-DAG: class 0: compare ({{[^<]*}}thread-context.c:{{[0-9]+}}:{{[0-9]+}}){{$}}
// UNW-DAG: class 0: compare ({{[^<]*}}) < {{.*}} < qsort_r ({{[^<]*}}) < main ({{[^<]*}}){{$}}
// UNW-NOT: _start
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink;

static void *worker(void *arg) {
  for (int i = 0; i < 100; i++) {
    sink = malloc(48);
    free(sink);
  }
  return arg;
}

static int compare(const void *a, const void *b) {
  char *scratch = malloc(16);
  sink = scratch;
  free(scratch);
  return memcmp(a, b, sizeof(int));
}

int main(void) {
  pthread_t t;
  pthread_create(&t, NULL, worker, NULL);
  pthread_join(t, NULL);
  int v[64];
  for (int i = 0; i < 64; i++)
    v[i] = 64 - i;
  qsort(v, 64, sizeof v[0], compare);
  return 0;
}
