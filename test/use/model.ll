; A site the profile never saw: the model predicts from what the compiler
; sees (the function holding the call, its file, the kind). The prediction is
; used when the model is at least -llama-confidence sure. The model's bytes
; are embedded once per program: a COMDAT constant and a COMDAT constructor
; that registers it with libllamalloc.
; RUN: %mkprof_build -o %t.mkprof
; RUN: %t.mkprof %S/Inputs/model.txt %t.llamaprof
; RUN: %train -q --epochs=2 -o %t.llamamodel %t.llamaprof
; RUN: %opt_llama -passes=llama-use -llama-use=%t.llamaprof -llama-model=%t.llamamodel \
; RUN:   -llama-confidence=0 -pass-remarks=llama -S %s -o %t.ll 2> %t.err
; RUN: FileCheck %s < %t.ll
; RUN: FileCheck %s --check-prefix=PREDICTED < %t.err
; The program embeds the weights and the vocabulary, not the exact-context
; table or the training notes, which only llama-train reads.
; RUN: grep -q CTXI %t.llamamodel
; RUN: grep -q PARM %t.ll
; RUN: not grep -q 'CTXI\|CTXC\|epochs=' %t.ll
; RUN: %opt_llama -passes=llama-use -llama-use=%t.llamaprof -llama-model=%t.llamamodel \
; RUN:   -llama-confidence=1.5 -pass-remarks-missed=llama -S %s -o %t.unsure.ll 2> %t.unsure.err
; RUN: FileCheck %s --check-prefix=UNSURE < %t.unsure.err
; RUN: FileCheck %s --check-prefix=DYNAMIC < %t.unsure.ll
; RUN: %opt_llama -passes=llama-use -llama-use=%t.llamaprof -llama-model=%t.llamamodel \
; RUN:   -llama-embed-model=false -S %s | FileCheck %s --check-prefix=NOEMBED
; A broken model is an error, not a silent fallback.
; RUN: printf 'LLAMAMDL broken' > %t.bad
; RUN: not %opt_llama -passes=llama-use -llama-use=%t.llamaprof -llama-model=%t.bad \
; RUN:   -disable-output %s 2>&1 | FileCheck %s --check-prefix=BAD

; CHECK: @__llama_model_data_v1 = linkonce_odr hidden constant [{{[0-9]+}} x i8] c"LLAMAMDL{{.*}}, comdat, align 16
; CHECK: @llvm.global_ctors = appending global {{.*}} { i32 1, ptr @__llama_model_data_v1.ctor, ptr @__llama_model_data_v1 }
; CHECK: call ptr @llama_malloc_class(i64 16, i32 {{[0-6]}})
; CHECK: define linkonce_odr hidden void @__llama_model_data_v1.ctor() #{{[0-9]+}} comdat($__llama_model_data_v1)
; CHECK: call void @__llama_model_register_v1(ptr @__llama_model_data_v1, i64 {{[0-9]+}})

; PREDICTED: remark: fresh.c:11:3: malloc: not in the profile; the model predicts class {{[0-6]}} ({{.*}}) with probability {{[01]\.[0-9][0-9]}}
; UNSURE: remark: fresh.c:11:3: malloc: not in the profile; the model is unsure (class {{[0-6]}}, probability {{[01]\.[0-9][0-9]}}); the runtime predicts
; DYNAMIC: call ptr @malloc(i64 16)
; NOEMBED-NOT: __llama_model_data_v1
; BAD: error: llama: cannot use the profile or model: {{.*}}.bad: {{.+}}

define ptr @parse_header() !dbg !10 {
  %p = call ptr @malloc(i64 16), !dbg !11
  ret ptr %p
}

declare ptr @malloc(i64)

!llvm.dbg.cu = !{!0}
!llvm.module.flags = !{!3, !4}
!0 = distinct !DICompileUnit(language: DW_LANG_C11, file: !1, producer: "test", isOptimized: true, runtimeVersion: 0, emissionKind: LineTablesOnly)
!1 = !DIFile(filename: "fresh.c", directory: "/src")
!3 = !{i32 7, !"Dwarf Version", i32 5}
!4 = !{i32 2, !"Debug Info Version", i32 3}
!5 = !DISubroutineType(types: !6)
!6 = !{}
!10 = distinct !DISubprogram(name: "parse_header", scope: !1, file: !1, line: 10, type: !5, unit: !0)
!11 = !DILocation(line: 11, column: 3, scope: !10)
