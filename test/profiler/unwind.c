// Calling contexts through a function built without frame pointers
// (middle, in a translation unit built with -fomit-frame-pointer and
// without the pass). The frame-pointer walk skips the frame whose record
// middle did not write (main); LLAMA_PROF_UNWIND=libunwind (loaded with
// dlopen: this program is not linked with -lunwind) unwinds with DWARF and
// sees every frame. LLAMA_PROF_DEPTH caps the depth.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc -O1 -fomit-frame-pointer -c -DMIDDLE %s -o %t.middle.o
// RUN: %cc %prof_cflags -O2 %s %t.middle.o -o %t -L%libdir -Wl,-rpath,%libdir -lllamaprof -ldl -lpthread
// RUN: llvm-readelf --needed-libs %t | FileCheck --check-prefix=NEEDED %s
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/fp.profraw %t
// RUN: %rawdump --symbolize %t.dir/fp.profraw | FileCheck --check-prefix=FP %s
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_UNWIND=libunwind LLAMA_PROF_FILE=%t.dir/unw.profraw %t
// RUN: %rawdump --symbolize %t.dir/unw.profraw | FileCheck --check-prefix=UNW %s
// RUN: %rawdump %t.dir/unw.profraw | FileCheck --check-prefix=META %s
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_UNWIND=libunwind LLAMA_PROF_DEPTH=2 LLAMA_PROF_FILE=%t.dir/d2.profraw %t
// RUN: %rawdump --symbolize %t.dir/d2.profraw | FileCheck --check-prefix=DEPTH2 %s
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_DEPTH=1 LLAMA_PROF_FILE=%t.dir/d1.profraw %t
// RUN: %rawdump --symbolize %t.dir/d1.profraw | FileCheck --check-prefix=DEPTH1 %s
//
// FP: context wrap:{{[0-9]+}}: wrap <- main <- __libc_start_call_main
// UNW: context wrap:{{[0-9]+}}: wrap <- main <- __libc_start_call_main
// NEEDED-NOT: libunwind
// FP: context leaf:[[#LEAF:]]: leaf <- middle <- __libc_start_call_main
// UNW: context leaf:[[#LEAF:]]: leaf <- middle <- main <- __libc_start_call_main
// META: meta unwinder=libunwind
// DEPTH2: context leaf:{{[0-9]+}}: leaf <- middle{{$}}
// DEPTH1: context leaf:{{[0-9]+}}: leaf{{$}}

#include <stdlib.h>

int middle(int (*f)(int), int x);

#ifdef MIDDLE
int middle(int (*f)(int), int x) { return f(x) + 1; }
#else
static void *volatile sink;

__attribute__((noinline)) int leaf(int n) {
  sink = malloc((size_t)n);
  return n;
}

/* A wrapper that returns malloc's result: the rewritten call must not be a
 * tail call, or wrap would have no frame for [0] to be in. */
__attribute__((noinline)) void *wrap(size_t n) { return malloc(n); }

int main(void) {
  sink = wrap(3);
  return middle(leaf, 10) == 11 ? 0 : 1;
}
#endif
