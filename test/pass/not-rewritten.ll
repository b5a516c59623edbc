; What the pass leaves alone: indirect calls, a module-local function that
; merely shares a name with a library function, calls whose type does not
; match the declaration, musttail calls, and functions that are not
; allocation functions. A module without sites gets no descriptors and no
; constructor.
; RUN: %opt_llama -passes=llama-instrument -S %s | FileCheck %s

; CHECK-NOT: __llama_sites
; CHECK-NOT: llama.module_ctor
; CHECK-NOT: __llama_prof_
; CHECK: call ptr %fp(i64 8)
; CHECK: call ptr @strdup(i32 1)
; CHECK: musttail call ptr @malloc(i64 %n)

define ptr @indirect(ptr %fp) {
  %p = call ptr %fp(i64 8)
  ret ptr %p
}

define internal ptr @realloc(ptr %p, i64 %n) {
  ret ptr %p
}

define ptr @local(ptr %p) {
  %q = call ptr @realloc(ptr %p, i64 4)
  ret ptr %q
}

define ptr @mismatch() {
  %q = call ptr @strdup(i32 1)
  ret ptr %q
}

define ptr @tail(i64 %n) {
  %p = musttail call ptr @malloc(i64 %n)
  ret ptr %p
}

define i64 @other(ptr %s) {
  %n = call i64 @strlen(ptr %s)
  ret i64 %n
}

declare ptr @malloc(i64)
declare ptr @strdup(ptr)
declare i64 @strlen(ptr)
