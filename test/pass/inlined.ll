; A call that was already inlined when the pass ran (LTO, or IR produced by
; another tool) is identified by its whole inline chain, innermost first:
; the malloc in xalloc (line 3, offset 1, column 10) inlined into caller at
; offset 4, column 12, inlined into top at offset 2, column 3. The descriptor
; names the innermost function, lists the callers in inlined_at and carries
; LLAMA_SITE_INLINED (2).
; RUN: %opt_llama -passes=llama-instrument -S %s -o %t.ll
; RUN: %python %S/Inputs/site_id.py xalloc:1:10 _Z6callerv:4:12 top:2:3 > %t.id
; RUN: cat %t.id %t.ll | FileCheck %s

; CHECK: ID: [[ID:-?[0-9]+]]
; CHECK-DAG: @[[INNER:__llama_str[.0-9]*]] = private unnamed_addr constant [7 x i8] c"xalloc\00"
; CHECK-DAG: @[[CHAIN:__llama_str[.0-9]*]] = private unnamed_addr constant [24 x i8] c"_Z6callerv:4:12;top:2:3\00"
; CHECK: @__llama_sites = private global [1 x {{.*}}] [{{.*}} { i64 [[ID]], i64 0, i64 0, ptr @[[INNER]], ptr @{{.*}}, i32 3, i32 10, i32 1, i16 0, i16 2, ptr @[[CHAIN]] }]
; CHECK: call ptr @__llama_prof_malloc(i64 16, ptr @__llama_sites)

define ptr @top() !dbg !20 {
  %p = call ptr @malloc(i64 16), !dbg !8
  ret ptr %p
}

declare ptr @malloc(i64)

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!3, !4}
!0 = distinct !DICompileUnit(language: DW_LANG_C_plus_plus_14, file: !1, producer: "test", isOptimized: true, runtimeVersion: 0, emissionKind: LineTablesOnly)
!1 = !DIFile(filename: "inl.cpp", directory: "/src")
!3 = !{i32 7, !"Dwarf Version", i32 5}
!4 = !{i32 2, !"Debug Info Version", i32 3}
!6 = !DISubroutineType(types: !7)
!7 = !{}
!10 = distinct !DISubprogram(name: "xalloc", scope: !1, file: !1, line: 2, type: !6, scopeLine: 2, spFlags: DISPFlagDefinition, unit: !0)
!11 = distinct !DISubprogram(name: "caller", linkageName: "_Z6callerv", scope: !1, file: !1, line: 20, type: !6, scopeLine: 20, spFlags: DISPFlagDefinition, unit: !0)
!20 = distinct !DISubprogram(name: "top", scope: !1, file: !1, line: 40, type: !6, scopeLine: 40, spFlags: DISPFlagDefinition, unit: !0)
!8 = !DILocation(line: 3, column: 10, scope: !10, inlinedAt: !9)
!9 = distinct !DILocation(line: 24, column: 12, scope: !11, inlinedAt: !12)
!12 = distinct !DILocation(line: 42, column: 3, scope: !20)
