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
 *                 every frame lies below it); lo = hi - RLIMIT_STACK as it
 *                 was when the library loaded (the kernel placed mmap at
 *                 least that far below the stack at exec; a limit raised
 *                 later does not move mmap, so the smaller of that and the
 *                 current limit), or hi - 1 GiB when it is infinite (then
 *                 mmap grows up from far below). A frame deeper than lo
 *                 (the program raised the limit and recursed past the old
 *                 one) gets frame [0] only: below lo the walk cannot tell
 *                 the stack from a coroutine stack. pthread_getattr_np
 *                 would parse /proc/self/maps with fopen and sscanf, whose
 *                 first calls fault 64 KiB windows of libc's stdio into RSS.
 *                 A process forked from another thread is "main" by its
 *                 tid but runs on that thread's stack: outside [lo, hi) it
 *                 takes the other-thread path.
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

/* RLIMIT_STACK's soft limit as a span, at most 1 GiB (infinite: 1 GiB). */
static inline uintptr_t llama_stack_limit_span(void) {
  struct rlimit rl;
  uintptr_t span = (uintptr_t)1 << 30;
  if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < span)
    span = (uintptr_t)rl.rlim_cur;
  return span;
}

/* The span at load (a constructor of each library that includes this; or
 * the first call, if that comes first). */
static uintptr_t llama_stack_span_at_load;
__attribute__((constructor)) static void llama_stack_record_span(void) {
  if (!llama_stack_span_at_load) llama_stack_span_at_load = llama_stack_limit_span();
}

static inline int llama_stack_bounds(uintptr_t *lo, uintptr_t *hi) {
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
  if (&__libc_stack_end && __libc_stack_end && gettid() == getpid()) {
    llama_stack_record_span();
    uintptr_t top = (uintptr_t)__libc_stack_end, span = llama_stack_limit_span();
    if (llama_stack_span_at_load < span) span = llama_stack_span_at_load;
    uintptr_t bottom = top > span ? top - span : 0;
    if (sp >= bottom && sp < top) {
      *hi = top;
      *lo = bottom;
      return 0;
    }
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
