#include <stdlib.h>
#include <string.h>
void *zeroed(size_t n) {
  void *p = malloc(n);
  if (p) memset(p, 0, n);
  return p;
}

// LLVM turns the annotated malloc + memset into a new calloc call, which has
// the malloc's debug location but not its annotation: the rewrite step finds
// the site again from the location, so the allocation stays static.
// (The code is at the top of the file: the profile names its line offset
// and column.)
// RUN: rm -rf %t && mkdir -p %t
// RUN: %mkprof_build -o %t/mkprof
// RUN: printf 'site malloc zeroed:1:13\nctx 2 100 main:1:1\n' > %t/p.txt
// RUN: %t/mkprof %t/p.txt %t/p.llamaprof
// RUN: %cc -O2 %use_cflags -mllvm -llama-use=%t/p.llamaprof -mllvm -llama-verbose -S -emit-llvm \
// RUN:   %s -o %t/out.ll 2> %t/err
// RUN: FileCheck %s < %t/out.ll
// RUN: FileCheck %s --check-prefix=VERBOSE < %t/err
// CHECK: call {{.*}}ptr @llama_calloc_class(i64 1, i64 %{{.*}}, i32 2)
// CHECK-NOT: @malloc(
// VERBOSE: rewrote 1 allocation calls, 1 of them found by debug location
