// The dynamic path's stack walk off the thread's stack: an allocation made
// on a coroutine stack (makecontext, the stack mmap'd like any
// coroutine library's) whose frame chain holds a frame pointer into
// unreadable memory above that stack, and below the main stack's top, as
// code built without frame pointers can leave in the register. The walk
// may read only the thread's own stack: there every byte from the stack
// pointer to the top is mapped. Before the lower bound it followed the
// pointer and the program died with SIGSEGV inside malloc.
// Also checked: on the main stack, and in a second thread, the same
// allocations are predicted and the process ends normally.
//
// RUN: %cc -O1 -fno-omit-frame-pointer -fno-builtin %s -o %t %link_llamalloc -lpthread
// RUN: env LLAMA_MODEL=%srcroot/tools/fuzz/corpus/model/tiny.llamamodel %t 2>&1 | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: coroutine: allocated and freed 100 blocks
// CHECK: predict_coroutine: PASSED (0 failures)

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "../Inputs/bad_frame_pointer.h"

#include "llamalloc.h"
#include "../Inputs/llama_test.h"

#define STACK_BYTES (256 * 1024)

static ucontext_t main_ctx, co_ctx;
static unsigned char *guard; /* PROT_NONE page just above the coroutine stack */
static int co_blocks;

/* Allocates through a frame of its own (frame pointers on). */
__attribute__((noinline)) static void allocate_some(void) {
  for (int i = 0; i < 100; i++) {
    void *p = malloc(24 + (size_t)(i & 7));
    EXPECT(p != NULL, "malloc on the coroutine stack");
    *(volatile char *)p = 1;
    free(p);
    co_blocks++;
  }
  __asm__ volatile("" ::: "memory");
}

static void coroutine(void) {
  call_with_frame_pointer(allocate_some, (uintptr_t)guard);
  swapcontext(&co_ctx, &main_ctx);
}

static void *in_thread(void *arg) {
  (void)arg;
  allocate_some();
  return NULL;
}

int main(void) {
  allocate_some(); /* the main stack: bounds known, walk as usual */
  unsigned char *region = mmap(NULL, STACK_BYTES + 4096, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(region != MAP_FAILED, "mmap");
  guard = region + STACK_BYTES;
  REQUIRE(mprotect(guard, 4096, PROT_NONE) == 0, "mprotect");
  /* The garbage pointer must pass the walk's other checks: above the
   * coroutine's frames and below the main stack's top. */
  int here;
  REQUIRE((uintptr_t)guard < (uintptr_t)&here, "the coroutine stack lies below the main stack");

  co_blocks = 0;
  REQUIRE(getcontext(&co_ctx) == 0, "getcontext");
  co_ctx.uc_stack.ss_sp = region;
  co_ctx.uc_stack.ss_size = STACK_BYTES;
  co_ctx.uc_link = &main_ctx;
  makecontext(&co_ctx, coroutine, 0);
  REQUIRE(swapcontext(&main_ctx, &co_ctx) == 0, "swapcontext");
  lt_log("coroutine: allocated and freed %d blocks\n", co_blocks);
  EXPECT(co_blocks == 100, "blocks %d", co_blocks);

  pthread_t t;
  REQUIRE(pthread_create(&t, NULL, in_thread, NULL) == 0, "pthread_create");
  pthread_join(t, NULL);

  llama_stats_t s;
  llama_stats_get(&s);
  EXPECT(s.allocations_predicted >= 300, "predicted %llu of at least 300",
         (unsigned long long)s.allocations_predicted);
  munmap(region, STACK_BYTES + 4096);
  return lt_summary("predict_coroutine");
}
