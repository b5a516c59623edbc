; The passes' counters under -stats, although Debian's LLVM 19 is a release
; build (plain STATISTIC compiled out, and LLVM's own printer at exit only
; says "Statistics are disabled"): ALWAYS_ENABLED_STATISTIC counters, printed
; by the plugin (pass/Statistics.cpp), as a table or with -stats-json as JSON.
; Two allocation sites (one without a debug location) and one deallocation.
; RUN: %opt_llama -passes=llama-instrument -disable-output -stats %s 2>&1 \
; RUN:   | FileCheck %s --check-prefix=TABLE
; RUN: %opt_llama -passes=llama-instrument -disable-output -stats -stats-json %s 2>&1 \
; RUN:   | FileCheck %s --check-prefix=JSON
; Without -stats nothing is printed but the no-debug-location warning.
; RUN: %opt_llama -passes=llama-instrument -disable-output %s 2>&1 \
; RUN:   | FileCheck %s --check-prefix=NONE
; -llama-verbose prints the same counts per module.
; RUN: %opt_llama -passes=llama-instrument -disable-output -llama-verbose %s 2>&1 \
; RUN:   | FileCheck %s --check-prefix=VERBOSE

; TABLE: Statistics Collected
; TABLE-DAG: 2 llama-instrument - Allocation sites instrumented
; TABLE-DAG: 1 llama-instrument - Deallocation sites instrumented
; TABLE-DAG: 1 llama-instrument - Sites without a debug location (identified by their order)
; TABLE-NOT: Statistics are disabled

; JSON: "llama-instrument.NumAllocSites": 2,
; JSON-NEXT: "llama-instrument.NumDeallocSites": 1,
; JSON-NEXT: "llama-instrument.NumNoDebugSites": 1
; JSON-NOT: Statistics are disabled

; NONE-NOT: llama-instrument
; NONE-NOT: Statistics

; VERBOSE: instrumented 2 allocation and 1 deallocation sites

define void @user(i64 %n) !dbg !5 {
  %p = call ptr @malloc(i64 %n), !dbg !7
  %q = call ptr @malloc(i64 8)
  call void @free(ptr %p), !dbg !8
  ret void
}

declare ptr @malloc(i64)
declare void @free(ptr)

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!3, !4}
!0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, producer: "test", isOptimized: false, runtimeVersion: 0, emissionKind: LineTablesOnly)
!1 = !DIFile(filename: "t.c", directory: "/src")
!3 = !{i32 7, !"Dwarf Version", i32 5}
!4 = !{i32 2, !"Debug Info Version", i32 3}
!5 = distinct !DISubprogram(name: "user", scope: !1, file: !1, line: 10, type: !6, unit: !0)
!6 = !DISubroutineType(types: !{})
!7 = !DILocation(line: 11, column: 8, scope: !5)
!8 = !DILocation(line: 12, column: 3, scope: !5)
