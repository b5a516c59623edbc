// End to end with the real profiler: a program built for profiling (LlamaPass
// -llama-generate, libllamaprof) at -O2 writes a raw profile; merge
// symbolises it and classifies its contexts. The allocation in wrap() is a
// tail call, so its stacks start in the callers; merge puts the site's frame
// back in front ([from site]). The two callers give wrap() contexts of
// different classes: short-lived (class 0) and live at exit (class 6).
//
// RUN: rm -rf %t && mkdir -p %t
// RUN: %cc -O2 -g -fpass-plugin=%llamapass -Xclang -load -Xclang %llamapass -mllvm -llama-generate -fno-omit-frame-pointer %s -o %t/app %link_llamaprof
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t/app.profraw %t/app
// RUN: %profdata merge -v -o %t/app.llamaprof %t/app.profraw 2>&1 \
// RUN:   | FileCheck --check-prefix=MERGE --implicit-check-not=warning: %s
// MERGE: app.profraw: raw profile, 108 samples
// MERGE: of 2 new contexts: the frames at the allocation hash to their site id; {{[0-9]+}} more after adding the site's own frames (tail calls)
// The short-lived objects' lifetime columns depend on the machine (a thread
// preempted between a malloc and its free moves a sample past 10 ms: 91.7 /
// 0.9 on a busy CI run); the counts, the live share and the classes do not.
// RUN: %profdata show %t/app.llamaprof | FileCheck %s
// CHECK: malloc 108 3712 108 {{[0-9.]+ [0-9.]+ [0-9.]+ [0-9.]+ [0-9.]+ [0-9.]+ [0-9.]+}} 7.4 0* wrap ({{.*}}profdata-e2e.c:[[#@LINE+6]]:{{[0-9]+}})
// CHECK-NEXT: context 0x{{[0-9a-f]+}} samples 100 class 0: wrap ({{.*}}profdata-e2e.c:[[#@LINE+5]]:{{[0-9]+}}){{( \[from site\])?}} < short_lived ({{.*}}profdata-e2e.c:[[#@LINE+9]]:{{[0-9]+}}) < main
// CHECK-NEXT: context 0x{{[0-9a-f]+}} samples 8 class 6: wrap ({{.*}}profdata-e2e.c:[[#@LINE+4]]:{{[0-9]+}}){{( \[from site\])?}} < long_lived ({{.*}}profdata-e2e.c:[[#@LINE+16]]:{{[0-9]+}}) < main
#include <stdlib.h>
#include <string.h>
static void *volatile keep[8];
__attribute__((noinline)) void *wrap(size_t n) { return malloc(n); }

__attribute__((noinline)) void short_lived(void) {
  for (int i = 0; i < 100; i++) {
    char *p = wrap(32);
    memset(p, 1, 32);
    free(p);
  }
}

__attribute__((noinline)) void long_lived(void) {
  for (int i = 0; i < 8; i++)
    keep[i] = wrap(64);
}

int main(void) {
  short_lived();
  long_lived();
  return 0;
}
