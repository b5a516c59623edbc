; Every allocation function with a class-annotated entry point is rewritten
; to it with the class appended (and nothrow_t dropped); memalign has none
; and keeps the dynamic path. new under invoke stays an invoke.
; RUN: %mkprof_build -o %t.mkprof
; RUN: %t.mkprof %S/Inputs/kinds.txt %t.llamaprof
; RUN: %opt_llama -passes=llama-use -llama-use=%t.llamaprof -S %s -pass-remarks-missed=llama \
; RUN:   -o %t.ll 2> %t.err
; RUN: FileCheck %s < %t.ll
; RUN: not grep -q llama.class %t.ll
; RUN: FileCheck %s --check-prefix=MISSED < %t.err
; The two steps separately, as clang runs them (annotate at the start of the
; pipeline, rewrite at its end) give the same result.
; RUN: %opt_llama -passes=llama-use-annotate -llama-use=%t.llamaprof %s -o - 2>/dev/null \
; RUN:   | %opt_llama -passes=llama-use-rewrite -llama-use=%t.llamaprof -S -o %t.split.ll
; RUN: FileCheck %s < %t.split.ll
; Without -llama-use the pipeline refuses to run.
; RUN: not %opt_llama -passes=llama-use -disable-output %s 2>&1 | FileCheck %s --check-prefix=NOPROF
; NOPROF: error: llama-use: no profile given: pass -llama-use=PROFILE
; MISSED: remark: t.c:{{[0-9]+}}:3: memalign: no class-annotated entry point for memalign; the runtime predicts
; CHECK-NOT: !llama.class

@nt = external global i8
; CHECK-LABEL: define void @f_malloc(
; CHECK: call ptr @llama_malloc_class(i64 1, i32 2)
define void @f_malloc(ptr %out, ptr %s) !dbg !100 {
  %p = call ptr @malloc(i64 1), !dbg !101
  ret void
}
; CHECK-LABEL: define void @f_calloc(
; CHECK: call ptr @llama_calloc_class(i64 2, i64 3, i32 2)
define void @f_calloc(ptr %out, ptr %s) !dbg !102 {
  %p = call ptr @calloc(i64 2, i64 3), !dbg !103
  ret void
}
; CHECK-LABEL: define void @f_realloc(
; CHECK: call ptr @llama_realloc_class(ptr null, i64 4, i32 2)
define void @f_realloc(ptr %out, ptr %s) !dbg !104 {
  %p = call ptr @realloc(ptr null, i64 4), !dbg !105
  ret void
}
; CHECK-LABEL: define void @f_aligned_alloc(
; CHECK: call ptr @llama_aligned_alloc_class(i64 64, i64 128, i32 2)
define void @f_aligned_alloc(ptr %out, ptr %s) !dbg !106 {
  %p = call ptr @aligned_alloc(i64 64, i64 128), !dbg !107
  ret void
}
; CHECK-LABEL: define void @f_posix_memalign(
; CHECK: call i32 @llama_posix_memalign_class(ptr %out, i64 64, i64 8, i32 2)
define void @f_posix_memalign(ptr %out, ptr %s) !dbg !108 {
  %r = call i32 @posix_memalign(ptr %out, i64 64, i64 8), !dbg !109
  ret void
}
; CHECK-LABEL: define void @f_strdup(
; CHECK: call ptr @llama_strdup_class(ptr %s, i32 2)
define void @f_strdup(ptr %out, ptr %s) !dbg !110 {
  %p = call ptr @strdup(ptr %s), !dbg !111
  ret void
}
; CHECK-LABEL: define void @f_strndup(
; CHECK: call ptr @llama_strndup_class(ptr %s, i64 5, i32 2)
define void @f_strndup(ptr %out, ptr %s) !dbg !112 {
  %p = call ptr @strndup(ptr %s, i64 5), !dbg !113
  ret void
}
; CHECK-LABEL: define void @f_new(
; CHECK: call ptr @llama_new_class(i64 6, i32 2)
define void @f_new(ptr %out, ptr %s) !dbg !114 {
  %p = call ptr @_Znwm(i64 6), !dbg !115
  ret void
}
; CHECK-LABEL: define void @f_new_array(
; CHECK: call ptr @llama_new_class(i64 7, i32 2)
define void @f_new_array(ptr %out, ptr %s) !dbg !116 {
  %p = call ptr @_Znam(i64 7), !dbg !117
  ret void
}
; CHECK-LABEL: define void @f_new_nothrow(
; CHECK: call ptr @llama_new_nothrow_class(i64 8, i32 2)
define void @f_new_nothrow(ptr %out, ptr %s) !dbg !118 {
  %p = call ptr @_ZnwmRKSt9nothrow_t(i64 8, ptr @nt), !dbg !119
  ret void
}
; CHECK-LABEL: define void @f_new_aligned(
; CHECK: call ptr @llama_new_aligned_class(i64 9, i64 32, i32 2)
define void @f_new_aligned(ptr %out, ptr %s) !dbg !120 {
  %p = call ptr @_ZnwmSt11align_val_t(i64 9, i64 32), !dbg !121
  ret void
}
; CHECK-LABEL: define void @f_memalign(
; CHECK: call ptr @memalign(i64 64, i64 10)
define void @f_memalign(ptr %out, ptr %s) !dbg !122 {
  %p = call ptr @memalign(i64 64, i64 10), !dbg !123
  ret void
}
; CHECK-LABEL: define void @f_invoke(
; CHECK: invoke ptr @llama_new_class(i64 11, i32 0)
; CHECK-NEXT: to label %ok unwind label %lp
define void @f_invoke() personality ptr @__gxx_personality_v0 !dbg !124 {
  %p = invoke ptr @_Znwm(i64 11) to label %ok unwind label %lp, !dbg !125
ok:
  ret void
lp:
  %e = landingpad { ptr, i32 } cleanup
  resume { ptr, i32 } %e
}
declare i32 @__gxx_personality_v0(...)

declare i32 @posix_memalign(ptr, i64, i64)
declare ptr @_Znam(i64)
declare ptr @_Znwm(i64)
declare ptr @_ZnwmRKSt9nothrow_t(i64, ptr)
declare ptr @_ZnwmSt11align_val_t(i64, i64)
declare ptr @aligned_alloc(i64, i64)
declare ptr @calloc(i64, i64)
declare ptr @malloc(i64)
declare ptr @memalign(i64, i64)
declare ptr @realloc(ptr, i64)
declare ptr @strdup(ptr)
declare ptr @strndup(ptr, i64)

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!3, !4}
!0 = distinct !DICompileUnit(language: DW_LANG_C_plus_plus_14, file: !1, producer: "test", isOptimized: true, runtimeVersion: 0, emissionKind: LineTablesOnly)
!1 = !DIFile(filename: "t.c", directory: "/src")
!3 = !{i32 7, !"Dwarf Version", i32 5}
!4 = !{i32 2, !"Debug Info Version", i32 3}
!5 = !DISubroutineType(types: !6)
!6 = !{}
!100 = distinct !DISubprogram(name: "f_malloc", scope: !1, file: !1, line: 10, type: !5, unit: !0)
!101 = !DILocation(line: 11, column: 3, scope: !100)
!102 = distinct !DISubprogram(name: "f_calloc", scope: !1, file: !1, line: 20, type: !5, unit: !0)
!103 = !DILocation(line: 21, column: 3, scope: !102)
!104 = distinct !DISubprogram(name: "f_realloc", scope: !1, file: !1, line: 30, type: !5, unit: !0)
!105 = !DILocation(line: 31, column: 3, scope: !104)
!106 = distinct !DISubprogram(name: "f_aligned_alloc", scope: !1, file: !1, line: 40, type: !5, unit: !0)
!107 = !DILocation(line: 41, column: 3, scope: !106)
!108 = distinct !DISubprogram(name: "f_posix_memalign", scope: !1, file: !1, line: 50, type: !5, unit: !0)
!109 = !DILocation(line: 51, column: 3, scope: !108)
!110 = distinct !DISubprogram(name: "f_strdup", scope: !1, file: !1, line: 60, type: !5, unit: !0)
!111 = !DILocation(line: 61, column: 3, scope: !110)
!112 = distinct !DISubprogram(name: "f_strndup", scope: !1, file: !1, line: 70, type: !5, unit: !0)
!113 = !DILocation(line: 71, column: 3, scope: !112)
!114 = distinct !DISubprogram(name: "f_new", scope: !1, file: !1, line: 80, type: !5, unit: !0)
!115 = !DILocation(line: 81, column: 3, scope: !114)
!116 = distinct !DISubprogram(name: "f_new_array", scope: !1, file: !1, line: 90, type: !5, unit: !0)
!117 = !DILocation(line: 91, column: 3, scope: !116)
!118 = distinct !DISubprogram(name: "f_new_nothrow", scope: !1, file: !1, line: 100, type: !5, unit: !0)
!119 = !DILocation(line: 101, column: 3, scope: !118)
!120 = distinct !DISubprogram(name: "f_new_aligned", scope: !1, file: !1, line: 110, type: !5, unit: !0)
!121 = !DILocation(line: 111, column: 3, scope: !120)
!122 = distinct !DISubprogram(name: "f_memalign", scope: !1, file: !1, line: 120, type: !5, unit: !0)
!123 = !DILocation(line: 121, column: 3, scope: !122)
!124 = distinct !DISubprogram(name: "f_invoke", scope: !1, file: !1, line: 130, type: !5, unit: !0)
!125 = !DILocation(line: 131, column: 3, scope: !124)
