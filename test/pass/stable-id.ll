; Site ids survive unrelated edits: Inputs/stable-id-edited.ll is this file
; after lines were added above the function (its definition and the call
; moved from lines 10/12 to 30/32), a function was added before it, and the
; module was renamed. Every id must be unchanged; a call moved within its
; function (other column) must get a new one.
; RUN: %opt_llama -passes=llama-instrument -S %s -o %t.a.ll
; RUN: %opt_llama -passes=llama-instrument -S %S/Inputs/stable-id-edited.ll -o %t.b.ll
; RUN: cat %t.a.ll %t.b.ll | FileCheck %s

; CHECK: @__llama_sites = private global [2 x {{.*}}] [{{.*}} { i64 [[A:-?[0-9]+]], {{.*}} }, {{.*}} { i64 [[B:-?[0-9]+]], {{.*}} }]
; CHECK: @__llama_sites = private global [3 x {{.*}}] [{{.*}} { i64 {{-?[0-9]+}}, {{.*}} }, {{.*}} { i64 [[A]], {{.*}} }, {{.*}} { i64 [[B]], {{.*}} }]

define ptr @user(i64 %n) !dbg !5 {
  %p = call ptr @malloc(i64 %n), !dbg !8
  call void @free(ptr %p), !dbg !9
  ret ptr %p
}

declare ptr @malloc(i64)
declare void @free(ptr)

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!3, !4}
!0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, producer: "test", isOptimized: false, runtimeVersion: 0, emissionKind: LineTablesOnly)
!1 = !DIFile(filename: "stable.c", directory: "/src")
!3 = !{i32 7, !"Dwarf Version", i32 5}
!4 = !{i32 2, !"Debug Info Version", i32 3}
!5 = distinct !DISubprogram(name: "user", scope: !1, file: !1, line: 10, type: !6, scopeLine: 10, spFlags: DISPFlagDefinition, unit: !0)
!6 = !DISubroutineType(types: !7)
!7 = !{}
!8 = !DILocation(line: 12, column: 7, scope: !5)
!9 = !DILocation(line: 13, column: 3, scope: !5)
