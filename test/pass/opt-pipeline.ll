; -llama-generate adds the pass at the start of opt's default pipelines too
; (the same PipelineStartEP hook clang uses), at -O0 and -O2.
; RUN: opt -load-pass-plugin=%llamapass -llama-generate -passes='default<O0>' -S %s | FileCheck %s
; RUN: opt -load-pass-plugin=%llamapass -llama-generate -passes='default<O2>' -S %s | FileCheck %s
; RUN: opt -load-pass-plugin=%llamapass -passes='default<O2>' -S %s | FileCheck --check-prefix=OFF %s
; CHECK: call {{.*}}@__llama_prof_malloc(i64 24, ptr
; OFF-NOT: __llama_prof

define ptr @f() {
  %p = call ptr @malloc(i64 24)
  ret ptr %p
}

declare ptr @malloc(i64)
