; The allocation function `_ZnwmSt11align_val_tRKSt9nothrow_t` is rewritten into a `notail` call of `__llama_prof_new_aligned_nothrow` with
; its arguments unchanged and the site descriptor appended; the descriptor
; records kind 17 and the position of the call relative to its function
; (line 12 - 10 = offset 2, column 7).
; RUN: %opt_llama -passes=llama-instrument -S %s -o %t.ll
; RUN: %python %S/Inputs/site_id.py user:2:7 > %t.id
; RUN: cat %t.id %t.ll | FileCheck %s

; CHECK: ID: [[ID:-?[0-9]+]]
; CHECK: @__llama_sites = private global [1 x {{.*}}] [{{.*}} { i64 [[ID]], i64 0, i64 0, ptr @[[FN:__llama_str[.0-9]*]], ptr @[[FILE:__llama_str[.0-9]*]], i32 12, i32 7, i32 2, i16 17, i16 0, ptr @{{__llama_str[.0-9]*}} }], align 64
; CHECK: @llvm.global_ctors = appending global [1 x {{.*}}] [{{.*}} { i32 1, ptr @llama.module_ctor, ptr null }]
; CHECK-LABEL: define ptr @user(
; CHECK-NEXT: %r = notail call ptr @__llama_prof_new_aligned_nothrow(i64 %a0, i64 %a1, ptr %a2, ptr @__llama_sites), !dbg
; CHECK-NEXT: ret
; CHECK: declare ptr @__llama_prof_new_aligned_nothrow(i64, i64, ptr, ptr)
; CHECK: define internal void @llama.module_ctor()
; CHECK-NEXT: call void @__llama_prof_register_v1(ptr @__llama_sites, i64 1)

define ptr @user(i64 %a0, i64 %a1, ptr %a2) !dbg !5 {
  %r = call ptr @_ZnwmSt11align_val_tRKSt9nothrow_t(i64 %a0, i64 %a1, ptr %a2), !dbg !8
  ret ptr %r
}

declare ptr @_ZnwmSt11align_val_tRKSt9nothrow_t(i64, i64, ptr)

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!3, !4}
!0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, producer: "test", isOptimized: false, runtimeVersion: 0, emissionKind: LineTablesOnly)
!1 = !DIFile(filename: "kind.c", directory: "/src")
!3 = !{i32 7, !"Dwarf Version", i32 5}
!4 = !{i32 2, !"Debug Info Version", i32 3}
!5 = distinct !DISubprogram(name: "user", scope: !1, file: !1, line: 10, type: !6, scopeLine: 10, spFlags: DISPFlagDefinition, unit: !0)
!6 = !DISubroutineType(types: !7)
!7 = !{}
!8 = !DILocation(line: 12, column: 7, scope: !5)
