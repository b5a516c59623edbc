/*
 * llama/stack.h - the bounds of the calling thread's stack, for the
 * frame-pointer walks of the profiler (profiler/stack.c) and of the
 * runtime's dynamic path (runtime/predict.c). Header-only C on glibc.
 *
 * A walk may read only [lo, hi): when the stack pointer lies in it, every
 * byte from the stack pointer up to hi is mapped, so a frame pointer that
 * passes "above the previous frame, below hi" can be read whatever garbage
 * code without frame pointers left in the register. When the stack pointer
 * lies outside (a coroutine or alternate signal stack), the walk must stop
 * at frame [0]: between such a stack and hi there may be unmapped memory.
 *
 *   main thread   hi = __libc_stack_end (ld.so's initial stack pointer,
 *                 every frame lies below it); lo = hi - RLIMIT_STACK (the
 *                 kernel keeps mmap at least that far below the stack), or
 *                 hi - 1 GiB when the limit is infinite (then mmap grows
 *                 up from far below). pthread_getattr_np would parse
 *                 /proc/self/maps with fopen and sscanf, and their first
 *                 calls fault 64 KiB windows of libc's stdio code into RSS.
 *   other threads pthread_getattr_np (exact, and no /proc for them).
 *
 * Returns 0 with both bounds set, or -1 (unknown: walk nothing).
 */
#ifndef LLAMA_STACK_H
#define LLAMA_STACK_H

#ifndef _GNU_SOURCE
#error "llama/stack.h needs _GNU_SOURCE (pthread_getattr_np, gettid)"
#endif

#include <pthread.h>
#include <stdint.h>
#include <sys/resource.h>
#include <unistd.h>

extern void *__libc_stack_end __attribute__((weak));

static inline int llama_stack_bounds(uintptr_t *lo, uintptr_t *hi) {
  if (&__libc_stack_end && __libc_stack_end && gettid() == getpid()) {
    uintptr_t top = (uintptr_t)__libc_stack_end;
    struct rlimit rl;
    uintptr_t span = (uintptr_t)1 << 30;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < span)
      span = (uintptr_t)rl.rlim_cur;
    *hi = top;
    *lo = top > span ? top - span : 0;
    return 0;
  }
  pthread_attr_t attr;
  void *addr;
  size_t size;
  int r = -1;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      *lo = (uintptr_t)addr;
      *hi = (uintptr_t)addr + size;
      r = 0;
    }
    pthread_attr_destroy(&attr);
  }
  return r;
}

#endif /* LLAMA_STACK_H */
