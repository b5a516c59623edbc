// libllamaprof.a linked into the executable: no libllamaprof.so needed,
// the executable's free interposes libc's for every library (a free
// through a pointer ends a lifetime), C and C++. With libllamalloc.a in
// the same executable, the allocator's free wins over the profiler's weak
// one (no duplicate symbol): instrumented code is profiled as usual and
// libllamalloc serves everything.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc %prof_cflags %s -o %t %llamaprof_a -ldl -lpthread
// RUN: llvm-readelf --needed-libs %t | FileCheck --check-prefix=NEEDED %s
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/c.profraw %t | FileCheck --check-prefix=OUT %s
// RUN: %rawdump --summary %t.dir/c.profraw | FileCheck %s
//
// RUN: %cxx %prof_cflags -x c++ %s -x none -o %t.cxx %llamaprof_a -ldl -lpthread
// RUN: llvm-readelf --needed-libs %t.cxx | FileCheck --check-prefix=NEEDED %s
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/cxx.profraw %t.cxx | FileCheck --check-prefix=OUT %s
// RUN: %rawdump --summary %t.dir/cxx.profraw | FileCheck --check-prefixes=CHECK,CXX %s
//
// RUN: %cc %prof_cflags %s -o %t.both %llamaprof_a %llamalloc_a -ldl -lpthread -lm
// RUN: llvm-readelf --needed-libs %t.both | FileCheck --check-prefix=NEEDED %s
// RUN: env LLAMA_STATS=1 LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/both.profraw %t.both 2> %t.stats | FileCheck --check-prefix=OUT %s
// RUN: FileCheck --check-prefix=STATS %s < %t.stats
// RUN: %rawdump --summary %t.dir/both.profraw | FileCheck --check-prefix=BOTH %s
//
// NEEDED-NOT: libllama
// OUT: static: done
// CHECK: site main:{{[0-9]+}} kind=malloc count=1 bytes=24 samples=1 freed=1 live=0 flags=0 {{.*}} free_sites=uninstrumented
// CXX: site main:{{[0-9]+}} kind=new count=1 bytes=4 samples=1 freed=1
// STATS: allocations: static 0, predicted 0, default {{[1-9][0-9]*}}
// BOTH: site main:{{[0-9]+}} kind=malloc count=1 bytes=24 samples=1

#include <stdio.h>
#include <stdlib.h>

int main(void) {
  void (*volatile release)(void *) = free;
  release(malloc(24));
#ifdef __cplusplus
  int *volatile p = new int(3);
  delete p;
#endif
  puts("static: done");
  return 0;
}
