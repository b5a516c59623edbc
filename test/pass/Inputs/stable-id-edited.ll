; stable-id.ll after unrelated edits (see there).
define ptr @added() !dbg !15 {
  %p = call ptr @malloc(i64 1), !dbg !18
  ret ptr %p
}

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
!1 = !DIFile(filename: "stable-renamed.c", directory: "/elsewhere")
!3 = !{i32 7, !"Dwarf Version", i32 5}
!4 = !{i32 2, !"Debug Info Version", i32 3}
!5 = distinct !DISubprogram(name: "user", scope: !1, file: !1, line: 30, type: !6, scopeLine: 30, spFlags: DISPFlagDefinition, unit: !0)
!6 = !DISubroutineType(types: !7)
!7 = !{}
!8 = !DILocation(line: 32, column: 7, scope: !5)
!9 = !DILocation(line: 33, column: 3, scope: !5)
!15 = distinct !DISubprogram(name: "added", scope: !1, file: !1, line: 3, type: !6, scopeLine: 3, spFlags: DISPFlagDefinition, unit: !0)
!18 = !DILocation(line: 4, column: 10, scope: !15)
