; A hint applies to every allocation of its site under its call, and the
; innermost hint wins. A call that lies on contexts of different classes at
; different depths (kfn: class 2 at depth 2, class 3 at depth 3) must not get
; a hint, even when the contexts it is the candidate for at one depth agree:
; it would give the other contexts the wrong class. The hints go to a, b, w
; and c instead, and nothing is misplaced.
; RUN: %mkprof_build -o %t.mkprof
; RUN: %t.mkprof %S/Inputs/conflict.txt %t.llamaprof
; RUN: %opt_llama -passes=llama-use -llama-use=%t.llamaprof -S %s -pass-remarks=llama \
; RUN:   -o %t.ll 2> %t.err
; RUN: FileCheck %s < %t.ll
; RUN: FileCheck %s --check-prefix=REMARK < %t.err
; REMARK: remark: t.c:11:3: malloc: class depends on the caller (50.0% in class 2); 4 caller call sites up to 4 frames up set a hint covering 100.0% of its allocations (0.0% in another class than profiled), the rest take the dynamic path
; REMARK-NOT: t.c:61:1: remark: hint
; CHECK-LABEL: define void @c(
; CHECK: store i64 {{[0-9]+}}, ptr
; CHECK-NEXT: call void @x()
; CHECK-LABEL: define void @kfn(
; CHECK-NEXT: call void @x()

define void @inner() !dbg !10 {
  %p = call ptr @malloc(i64 8), !dbg !11
  ret void
}
declare ptr @malloc(i64)
declare void @x()

define void @a() !dbg !20 {
  call void @x(), !dbg !21
  ret void
}

define void @b() !dbg !22 {
  call void @x(), !dbg !23
  ret void
}

define void @c() !dbg !24 {
  call void @x(), !dbg !25
  ret void
}

define void @w() !dbg !26 {
  call void @x(), !dbg !27
  ret void
}

define void @kfn() !dbg !28 {
  call void @x(), !dbg !29
  ret void
}

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!3, !4}
!0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, producer: "test", isOptimized: true, runtimeVersion: 0, emissionKind: LineTablesOnly)
!1 = !DIFile(filename: "t.c", directory: "/src")
!3 = !{i32 7, !"Dwarf Version", i32 5}
!4 = !{i32 2, !"Debug Info Version", i32 3}
!5 = !DISubroutineType(types: !6)
!6 = !{}
!10 = distinct !DISubprogram(name: "inner", scope: !1, file: !1, line: 10, type: !5, unit: !0)
!11 = !DILocation(line: 11, column: 3, scope: !10)
!20 = distinct !DISubprogram(name: "a", scope: !1, file: !1, line: 20, type: !5, unit: !0)
!21 = !DILocation(line: 21, column: 1, scope: !20)
!22 = distinct !DISubprogram(name: "b", scope: !1, file: !1, line: 30, type: !5, unit: !0)
!23 = !DILocation(line: 31, column: 1, scope: !22)
!24 = distinct !DISubprogram(name: "c", scope: !1, file: !1, line: 40, type: !5, unit: !0)
!25 = !DILocation(line: 41, column: 1, scope: !24)
!26 = distinct !DISubprogram(name: "w", scope: !1, file: !1, line: 50, type: !5, unit: !0)
!27 = !DILocation(line: 51, column: 1, scope: !26)
!28 = distinct !DISubprogram(name: "kfn", scope: !1, file: !1, line: 60, type: !5, unit: !0)
!29 = !DILocation(line: 61, column: 1, scope: !28)
