; The use build's decision per site, from a profile written by mkprof:
;   static_site  every context says class 3          -> llama_malloc_class(n, 3)
;   xmalloc      class 0 via get_handler, 6 via put   -> hinted; both callers
;                                                        store the hint around
;                                                        their call
;   mixed        50/50 and callers cannot separate    -> stays malloc (dynamic)
;   fresh        not in the profile, no model         -> stays malloc
;   static_site's second malloc is missing although the profile knows the
;   function: one summary warning (stale profile).
; RUN: %mkprof_build -o %t.mkprof
; RUN: %t.mkprof %S/Inputs/decisions.txt %t.llamaprof
; RUN: %opt_llama -passes=llama-use -llama-use=%t.llamaprof -S %s -o %t.ll \
; RUN:   -pass-remarks=llama -pass-remarks-missed=llama 2> %t.err
; RUN: FileCheck %s < %t.ll
; RUN: FileCheck %s --check-prefix=REMARK < %t.err
; Without hints, xmalloc keeps the dynamic path.
; RUN: %opt_llama -passes=llama-use -llama-use=%t.llamaprof -llama-hint-depth=0 -S %s \
; RUN:   2>/dev/null | FileCheck %s --check-prefix=NOHINT
; A stricter agreement threshold makes static_site (100%) stay static and
; nothing else change; a looser one makes mixed static.
; RUN: %opt_llama -passes=llama-use -llama-use=%t.llamaprof -llama-agreement=0.5 -S %s \
; RUN:   2>/dev/null | FileCheck %s --check-prefix=LOOSE
; The counters (-stats): one per outcome, sites missing from the profile
; (fresh, and static_site's second malloc, the stale one), calls that set a
; hint, the profile's decided sites and hints, the rewritten calls.
; RUN: %opt_llama -passes=llama-use -llama-use=%t.llamaprof -disable-output -stats \
; RUN:   -stats-json %s 2>&1 | FileCheck %s --check-prefix=STATS
; The warning can be silenced.
; RUN: %opt_llama -passes=llama-use -llama-use=%t.llamaprof -llama-warn-stale=false \
; RUN:   -disable-output %s 2>&1 | FileCheck %s --check-prefix=QUIET --allow-empty

; CHECK: @__llama_hint_v1 = external thread_local(initialexec) global i64
; CHECK-LABEL: define ptr @static_site(
; CHECK: call ptr @llama_malloc_class(i64 24, i32 3)
; CHECK: call ptr @malloc(i64 8)
; CHECK-LABEL: define ptr @xmalloc(
; CHECK: call ptr @llama_malloc_class(i64 %n, i32 [[TAG:-?[0-9]+]])
; CHECK-LABEL: define ptr @get_handler(
; CHECK: %[[OLD:.*]] = load i64, ptr %[[ADDR:.*]], align 8
; CHECK: store i64 {{[0-9]+}}, ptr %[[ADDR]]
; CHECK-NEXT: call ptr @xmalloc(i64 100)
; CHECK: store i64 %[[OLD]], ptr
; CHECK-LABEL: define ptr @put_handler(
; CHECK: store i64 {{[0-9]+}}, ptr
; CHECK-NEXT: call ptr @xmalloc(i64 200)
; CHECK-LABEL: define ptr @make_name(
; CHECK: store i64 {{[0-9]+}}, ptr
; CHECK-NEXT: call ptr @string_create(i64 40)
; A musttail call can be followed only by its ret: no hint there.
; CHECK-LABEL: define ptr @tail_handler(
; CHECK-NEXT: musttail call ptr @xmalloc(i64 %n)
; CHECK-NEXT: ret ptr
; CHECK-LABEL: define ptr @mixed(
; CHECK: call ptr @malloc(i64 32)
; CHECK-LABEL: define ptr @fresh(
; CHECK: call ptr @malloc(i64 48)

; REMARK-DAG: remark: t.c:12:7: malloc: lifetime class 3 (<=10s) from the profile: 500 allocations in 2 contexts, 100.0% agree
; REMARK-DAG: remark: t.c:21:10: malloc: class depends on the caller (60.1% in class 0); 3 caller call sites up to 1 frames up set a hint covering 100.0% of its allocations (0.0% in another class than profiled), the rest take the dynamic path
; REMARK-DAG: remark: t.c:31:5: hint: allocations of site 0x{{[0-9a-f]+}} under this call (1 frame up) have class 0 (<=10ms), 300 profiled allocations
; REMARK-DAG: remark: t.c:42:9: hint: allocations of site 0x{{[0-9a-f]+}} under this call (1 frame up) have class 6 (longer), 200 profiled allocations
; REMARK-DAG: remark: t.c:71:7: hint: allocations of site 0x{{[0-9a-f]+}} under this call (2 frames up) have class 0 (<=10ms), 700 profiled allocations
; REMARK-DAG: remark: t.c:51:3: malloc: contexts disagree (50.0% in class 1) and no caller separates them; the runtime predicts from the stack
; REMARK-DAG: remark: t.c:61:3: malloc: not in the profile; the runtime predicts
; REMARK-DAG: warning: {{.*}}decisions.ll: llama: 1 of 5 allocation sites are missing from the profile {{.*}} although it has data for their functions

; STATS: "llama-use-annotate.NumDisagree": 1,
; STATS-NEXT: "llama-use-annotate.NumHintCalls": 3,
; STATS-NEXT: "llama-use-annotate.NumHinted": 1,
; STATS-NEXT: "llama-use-annotate.NumNotInProfile": 2,
; STATS-NEXT: "llama-use-annotate.NumStale": 1,
; STATS-NEXT: "llama-use-annotate.NumStatic": 1,
; STATS-NEXT: "llama-use-annotate.NumUnprofiled": 2,
; STATS-NEXT: "llama-use-profile.NumProfiledHints": 4,
; STATS-NEXT: "llama-use-profile.NumProfiledSites": 4,
; STATS-NEXT: "llama-use-rewrite.NumRewritten": 2
; STATS-NOT: Statistics are disabled

; NOHINT-LABEL: define ptr @xmalloc(
; NOHINT: call ptr @malloc(i64 %n)
; NOHINT-NOT: __llama_hint_v1

; LOOSE-LABEL: define ptr @mixed(
; LOOSE: call ptr @llama_malloc_class(i64 32, i32 1)

; QUIET-NOT: warning

define ptr @static_site() !dbg !10 {
  %p = call ptr @malloc(i64 24), !dbg !11
  %q = call ptr @malloc(i64 8), !dbg !12
  ret ptr %p
}

define ptr @xmalloc(i64 %n) !dbg !20 {
  %p = call ptr @malloc(i64 %n), !dbg !21
  ret ptr %p
}

define ptr @get_handler() !dbg !30 {
  %p = call ptr @xmalloc(i64 100), !dbg !31
  ret ptr %p
}

define ptr @put_handler() !dbg !40 {
  %p = call ptr @xmalloc(i64 200), !dbg !41
  ret ptr %p
}

; Allocations inside code the pass never saw (the external pseudo-site):
; only a hint at the program's call can reach them.
define ptr @make_name() !dbg !70 {
  %p = call ptr @string_create(i64 40), !dbg !71
  ret ptr %p
}

declare ptr @string_create(i64)

define ptr @tail_handler(i64 %n) !dbg !80 {
  %p = musttail call ptr @xmalloc(i64 %n), !dbg !81
  ret ptr %p
}

define ptr @mixed() !dbg !50 {
  %p = call ptr @malloc(i64 32), !dbg !51
  ret ptr %p
}

define ptr @fresh() !dbg !60 {
  %p = call ptr @malloc(i64 48), !dbg !61
  ret ptr %p
}

declare ptr @malloc(i64)

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!3, !4}
!0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, producer: "test", isOptimized: true, runtimeVersion: 0, emissionKind: LineTablesOnly)
!1 = !DIFile(filename: "t.c", directory: "/src")
!3 = !{i32 7, !"Dwarf Version", i32 5}
!4 = !{i32 2, !"Debug Info Version", i32 3}
!5 = !DISubroutineType(types: !6)
!6 = !{}
!10 = distinct !DISubprogram(name: "static_site", scope: !1, file: !1, line: 10, type: !5, unit: !0)
!11 = !DILocation(line: 12, column: 7, scope: !10)
!12 = !DILocation(line: 13, column: 7, scope: !10)
!20 = distinct !DISubprogram(name: "xmalloc", scope: !1, file: !1, line: 20, type: !5, unit: !0)
!21 = !DILocation(line: 21, column: 10, scope: !20)
!30 = distinct !DISubprogram(name: "get_handler", scope: !1, file: !1, line: 30, type: !5, unit: !0)
!31 = !DILocation(line: 31, column: 5, scope: !30)
!40 = distinct !DISubprogram(name: "put_handler", scope: !1, file: !1, line: 40, type: !5, unit: !0)
!41 = !DILocation(line: 42, column: 9, scope: !40)
!50 = distinct !DISubprogram(name: "mixed", scope: !1, file: !1, line: 50, type: !5, unit: !0)
!51 = !DILocation(line: 51, column: 3, scope: !50)
!60 = distinct !DISubprogram(name: "fresh", scope: !1, file: !1, line: 60, type: !5, unit: !0)
!61 = !DILocation(line: 61, column: 3, scope: !60)
!70 = distinct !DISubprogram(name: "make_name", scope: !1, file: !1, line: 70, type: !5, unit: !0)
!71 = !DILocation(line: 71, column: 7, scope: !70)
!80 = distinct !DISubprogram(name: "tail_handler", scope: !1, file: !1, line: 80, type: !5, unit: !0)
!81 = !DILocation(line: 81, column: 5, scope: !80)
