; An `invoke` of operator new stays an invoke: same normal and unwind
; destinations, so a throwing allocation still reaches the landing pad. The
; descriptor is flagged LLAMA_SITE_INVOKE (4).
; RUN: %opt_llama -passes=llama-instrument -S %s | FileCheck %s

; CHECK: @__llama_sites = private global [2 x {{.*}}] [{{.*}} { i64 {{-?[0-9]+}}, i64 0, i64 0, ptr @{{.*}}, ptr @{{.*}}, i32 6, i32 12, i32 1, i16 11, i16 4, ptr @{{.*}} }, {{.*}} { i64 {{-?[0-9]+}}, i64 0, i64 0, ptr @{{.*}}, ptr @{{.*}}, i32 9, i32 5, i32 4, i16 33, i16 0, ptr @{{.*}} }]
; CHECK-LABEL: define ptr @make(
; CHECK: %p = invoke ptr @__llama_prof_new(i64 %n, ptr @__llama_sites)
; CHECK-NEXT: to label %ok unwind label %lpad
; CHECK: lpad:
; CHECK: call void @__llama_prof_delete(ptr null, ptr getelementptr inbounds ([2 x {{.*}}], ptr @__llama_sites, i64 0, i64 1))

define ptr @make(i64 %n) personality ptr @__gxx_personality_v0 !dbg !5 {
entry:
  %p = invoke ptr @_Znwm(i64 %n)
          to label %ok unwind label %lpad, !dbg !8
ok:
  ret ptr %p
lpad:
  %lp = landingpad { ptr, i32 } cleanup
  call void @_ZdlPv(ptr null), !dbg !9
  resume { ptr, i32 } %lp
}

declare ptr @_Znwm(i64)
declare void @_ZdlPv(ptr)
declare i32 @__gxx_personality_v0(...)

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!3, !4}
!0 = distinct !DICompileUnit(language: DW_LANG_C_plus_plus_14, file: !1, producer: "test", isOptimized: false, runtimeVersion: 0, emissionKind: LineTablesOnly)
!1 = !DIFile(filename: "invoke.cpp", directory: "/src")
!3 = !{i32 7, !"Dwarf Version", i32 5}
!4 = !{i32 2, !"Debug Info Version", i32 3}
!5 = distinct !DISubprogram(name: "make", linkageName: "_Z4makem", scope: !1, file: !1, line: 5, type: !6, scopeLine: 5, spFlags: DISPFlagDefinition, unit: !0)
!6 = !DISubroutineType(types: !7)
!7 = !{}
!8 = !DILocation(line: 6, column: 12, scope: !5)
!9 = !DILocation(line: 9, column: 5, scope: !5)
