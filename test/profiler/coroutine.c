// The profiler's frame-pointer walk off the thread's stack (the runtime's
// is test/runtime/predict_coroutine.c): an allocation on a coroutine stack
// whose frame chain holds a frame pointer into unreadable memory above
// that stack and below the main stack's top. The walk reads only the
// thread's own stack, so it records frame [0] there and the program
// finishes; before the lower bound it died with SIGSEGV in the profiler.
// On the main stack the same site has its whole context.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc %prof_cflags -O1 %s -o %t -L%libdir -Wl,-rpath,%libdir -lllamaprof -ldl -lpthread
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/co.profraw %t | FileCheck --check-prefix=OUT %s
// RUN: %rawdump --symbolize %t.dir/co.profraw | FileCheck %s
//
// OUT: coroutine done
// CHECK-DAG: context allocate_some:{{[0-9]+}}: allocate_some <- main <- __libc_start_call_main
// CHECK-DAG: context allocate_some:{{[0-9]+}}: allocate_some{{$}}

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "../Inputs/bad_frame_pointer.h"

#define STACK_BYTES (256 * 1024)

static ucontext_t main_ctx, co_ctx;
static unsigned char *guard;

__attribute__((noinline)) static void allocate_some(void) {
  for (int i = 0; i < 10; i++) {
    void *volatile p = malloc(24);
    free(p);
  }
  __asm__ volatile("" ::: "memory");
}

static void coroutine(void) {
  call_with_frame_pointer(allocate_some, (uintptr_t)guard);
}

int main(void) {
  allocate_some();
  unsigned char *region = mmap(NULL, STACK_BYTES + 4096, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) return 2;
  guard = region + STACK_BYTES;
  if (mprotect(guard, 4096, PROT_NONE) != 0) return 2;
  getcontext(&co_ctx);
  co_ctx.uc_stack.ss_sp = region;
  co_ctx.uc_stack.ss_size = STACK_BYTES;
  co_ctx.uc_link = &main_ctx;
  makecontext(&co_ctx, coroutine, 0);
  swapcontext(&main_ctx, &co_ctx);
  puts("coroutine done");
  return 0;
}
