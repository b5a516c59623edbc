/* bad_frame_pointer.h - for the stack-walk tests (runtime/predict_coroutine.c,
 * profiler/coroutine.c): calls a function with a chosen value in the frame
 * pointer register, as a caller built without frame pointers may leave
 * one, so that the callee's saved frame pointer is that value.
 * Header-only; x86-64 (elsewhere a plain call). */
#ifndef LLAMA_TEST_BAD_FRAME_POINTER_H
#define LLAMA_TEST_BAD_FRAME_POINTER_H

#include <stdint.h>

static void call_with_frame_pointer(void (*fn)(void), uintptr_t bad_fp) {
#if defined(__x86_64__)
  /* Past the red zone; rbp saved plus 8 bytes keep the call 16-aligned. */
  __asm__ volatile("sub $128, %%rsp\n\t"
                   "push %%rbp\n\t"
                   "sub $8, %%rsp\n\t"
                   "mov %1, %%rbp\n\t"
                   "call *%0\n\t"
                   "add $8, %%rsp\n\t"
                   "pop %%rbp\n\t"
                   "add $128, %%rsp\n\t"
                   :
                   : "r"(fn), "r"(bad_fp)
                   : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory",
                     "cc");
#else
  (void)bad_fp;
  fn();
#endif
}

#endif /* LLAMA_TEST_BAD_FRAME_POINTER_H */
