// libllamalloc as the process allocator under the profiler.
//
// Linked after libllamaprof: libllamalloc serves every allocation
// (LLAMA_STATS shows them), and libllamaprof's free forwards to it, so
// frees by uninstrumented code still end lifetimes.
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc %prof_cflags %s -o %t %link_llamaprof %link_llamalloc
// RUN: env LLAMA_STATS=1 LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/linked.profraw %t 2> %t.stats | FileCheck --check-prefix=OUT %s
// RUN: FileCheck --check-prefix=STATS %s < %t.stats
// RUN: %rawdump --summary %t.dir/linked.profraw | FileCheck --check-prefix=SEEN %s
//
// Preloaded after libllamaprof: the same.
// RUN: %cc %prof_cflags %s -o %t.plain %link_llamaprof
// RUN: env LD_PRELOAD="%llamaprof_so %llamalloc_so" LLAMA_STATS=1 LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/preload2.profraw %t.plain 2> %t.stats2 | FileCheck --check-prefix=OUT %s
// RUN: FileCheck --check-prefix=STATS %s < %t.stats2
// RUN: %rawdump --summary %t.dir/preload2.profraw | FileCheck --check-prefix=SEEN %s
//
// Preloaded alone, so it wins symbol resolution over libllamaprof: still
// correct for instrumented code; the free through a pointer bypasses the
// profiler, and the object stays live until its address is sampled again
// (FREE_UNSEEN).
// RUN: env LD_PRELOAD=%llamalloc_so LLAMA_STATS=1 LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/preload.profraw %t.plain 2> %t.stats3 | FileCheck --check-prefix=OUT %s
// RUN: FileCheck --check-prefix=STATS %s < %t.stats3
// RUN: %rawdump --summary %t.dir/preload.profraw | FileCheck --check-prefix=UNSEEN %s
//
// OUT: llamalloc: done
// STATS: allocations: static 0, predicted 0, default {{[1-9][0-9]*}}
// SEEN: site work:{{[0-9]+}} kind=malloc count=1000 bytes=64000 samples=1000 freed=1000 live=0 flags=0
// SEEN: site bypass:{{[0-9]+}} kind=malloc count=2 bytes=96 samples=2 freed=1 live=1 flags=LIVE {{.*}} free_sites=uninstrumented
// UNSEEN: site work:{{[0-9]+}} kind=malloc count=1000 bytes=64000 samples=1000 freed=1000 live=0 flags=0
// UNSEEN: site bypass:{{[0-9]+}} kind=malloc count=2 bytes=96 samples=2 freed=1 live=1 flags=LIVE|FREE_UNSEEN

#include <stdio.h>
#include <stdlib.h>

static void *volatile sink;

__attribute__((noinline)) static void work(void) {
  for (int i = 0; i < 1000; i++) {
    void *p = malloc(64);
    sink = p;
    free(p);
  }
}

/* Frees through a pointer, which the pass does not rewrite: the same
 * size twice, so the allocator hands the address out again. */
__attribute__((noinline)) static void bypass(void) {
  void (*volatile release)(void *) = free;
  for (int i = 0; i < 2; i++) {
    void *p = malloc(48);
    sink = p;
    if (i == 0) release(p);
  }
}

int main(void) {
  work();
  bypass();
  puts("llamalloc: done");
  return 0;
}
