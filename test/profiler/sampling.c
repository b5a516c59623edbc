// The sampling decision. Intervals are geometric, so two sites called
// alternately are both sampled at the requested rate (a fixed stride of 2
// would only ever sample one of them); the observed rate at period 64 is
// within 5% of 1/64 (10000 expected samples, sigma 1%); period 0 samples
// nothing but counts everything; LLAMA_PROF_MAX_SAMPLES caps the samples
// and says so once.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc %prof_cflags %s -o %t %link_llamaprof
// RUN: env LLAMA_PROF_SAMPLE=2 LLAMA_PROF_FILE=%t.dir/p2.profraw %t 200000
// RUN: %rawdump --rate %t.dir/p2.profraw | FileCheck --check-prefix=P2 %s
// P2: rate even:{{[0-9]+}} count=200000 samples={{[0-9]+}} rate=1/{{1\.9|2\.0|2\.1}}
// P2: rate odd:{{[0-9]+}} count=200000 samples={{[0-9]+}} rate=1/{{1\.9|2\.0|2\.1}}
//
// RUN: env LLAMA_PROF_SAMPLE=64 LLAMA_PROF_FILE=%t.dir/p64.profraw %t 320000
// RUN: %rawdump --rate %t.dir/p64.profraw | FileCheck --check-prefix=P64 %s
// P64: rate even:{{[0-9]+}} count=320000 samples={{[0-9]+}} rate=1/{{6[1-7]}}.
// P64: rate odd:{{[0-9]+}} count=320000 samples={{[0-9]+}} rate=1/{{6[1-7]}}.
//
// RUN: env LLAMA_PROF_SAMPLE=0 LLAMA_PROF_FILE=%t.dir/p0.profraw %t 1000
// RUN: %rawdump --summary %t.dir/p0.profraw | FileCheck --check-prefix=P0 %s
// P0: header period=0 flags=0 samples=0
// P0: site even:{{[0-9]+}} kind=malloc count=1000 bytes=16000 samples=0
//
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_MAX_SAMPLES=100 LLAMA_PROF_FILE=%t.dir/max.profraw %t 1000 2> %t.err
// RUN: FileCheck --check-prefix=MAXERR %s < %t.err
// RUN: %rawdump --summary %t.dir/max.profraw | FileCheck --check-prefix=MAX %s
// RUN: %rawdump %t.dir/max.profraw | FileCheck --check-prefix=MAXMETA %s
// MAXERR-COUNT-1: llama-prof: sample buffer full (LLAMA_PROF_MAX_SAMPLES); later allocations are counted, not sampled
// MAXMETA: meta samples_dropped=1900
// MAX: header period=1 flags=0 samples=100
// MAX: site even:{{[0-9]+}} kind=malloc count=1000 bytes=16000 samples=50
// MAX: site odd:{{[0-9]+}} kind=malloc count=1000 bytes=24000 samples=50

#include <stdlib.h>

static void *volatile sink;

__attribute__((noinline)) static void even(void) {
  void *p = malloc(16);
  sink = p;
  free(p);
}

__attribute__((noinline)) static void odd(void) {
  void *p = malloc(24);
  sink = p;
  free(p);
}

int main(int argc, char **argv) {
  long n = atol(argv[1]);
  for (long i = 0; i < n; i++) {
    even();
    odd();
  }
  return 0;
}
