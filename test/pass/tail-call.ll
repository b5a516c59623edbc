; An allocation entry point captures its caller's stack, so a wrapper's
; `return malloc(n)` must not become a jump that drops the wrapper's frame:
; the rewritten allocation call is `notail` even where the original was a
; tail call, and llc emits a real call. Deallocation calls keep their tail
; marker (their entry points capture nothing).
; RUN: %opt_llama -passes=llama-instrument -S %s | FileCheck %s
; RUN: %opt_llama -passes=llama-instrument %s -o - | llc -O2 -o - | FileCheck --check-prefix=ASM %s
; CHECK: %p = notail call ptr @__llama_prof_malloc(i64 %n, ptr @__llama_sites)
; CHECK: tail call void @__llama_prof_free(ptr %q, ptr
; ASM-LABEL: xmalloc:
; ASM: callq __llama_prof_malloc
; ASM-LABEL: xfree:
; ASM: jmp __llama_prof_free

target triple = "x86_64-pc-linux-gnu"

define ptr @xmalloc(i64 %n) {
  %p = tail call ptr @malloc(i64 %n)
  ret ptr %p
}

define void @xfree(ptr %q) {
  tail call void @free(ptr %q)
  ret void
}

declare ptr @malloc(i64)
declare void @free(ptr)
