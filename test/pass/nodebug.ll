; Without debug info the pass still instruments every site, identifies each
; by its order among the allocation calls of its function (line_offset =
; ordinal, column = 0xffffffff), flags it LLAMA_SITE_NO_DEBUG_INFO (1), and
; says once per module what that loses.
; RUN: %opt_llama -passes=llama-instrument -S %s -o %t.ll 2> %t.err
; RUN: FileCheck --check-prefix=WARN %s < %t.err
; RUN: %python %S/Inputs/site_id.py f:0:4294967295 > %t.id0
; RUN: %python %S/Inputs/site_id.py f:1:4294967295 > %t.id1
; RUN: cat %t.id0 %t.id1 %t.ll | FileCheck %s

; WARN: warning: {{.*}}nodebug.ll: llama: 3 of 3 allocation sites have no debug location; they are identified by their order within their function
; WARN-NOT: warning

; CHECK: ID: [[ID0:-?[0-9]+]]
; CHECK: ID: [[ID1:-?[0-9]+]]
; CHECK: @__llama_sites = private global [3 x {{.*}}] [{{.*}} { i64 [[ID0]], i64 0, i64 0, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 -1, i32 0, i16 0, i16 1, ptr @{{.*}} }, {{.*}} { i64 [[ID1]], i64 0, i64 0, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 -1, i32 1, i16 32, i16 1, ptr @{{.*}} }, {{.*}} { i64 {{-?[0-9]+}}, i64 0, i64 0, ptr @{{.*}}, ptr @{{.*}}, i32 0, i32 -1, i32 0, i16 1, i16 1, ptr @{{.*}} }]
; CHECK: call ptr @__llama_prof_malloc(i64 8, ptr @__llama_sites)
; CHECK: call void @__llama_prof_free(
; CHECK: call ptr @__llama_prof_calloc(

define void @f() {
  %p = call ptr @malloc(i64 8)
  call void @free(ptr %p)
  ret void
}

define ptr @g() {
  %p = call ptr @calloc(i64 1, i64 8)
  ret ptr %p
}

declare ptr @malloc(i64)
declare ptr @calloc(i64, i64)
declare void @free(ptr)
