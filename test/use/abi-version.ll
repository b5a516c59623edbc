; Compiler/runtime skew in the use build is a link error, as in the profiling
; build (test/pass/abi-version.c): a module whose allocation calls the rewrite
; step changed refers to libllamalloc's versioned __llama_runtime_abi_v1, so
; linking it against a runtime of another ABI (here a stub that has the
; class-annotated entry points but exports only __llama_runtime_abi_v0)
; fails. Against the real runtime it links and runs.
; RUN: rm -rf %t && mkdir -p %t
; RUN: %opt_llama -passes=llama-use-rewrite -S %s -o %t/rewritten.ll
; RUN: FileCheck %s --check-prefix=IR < %t/rewritten.ll
; RUN: llc -O1 -filetype=obj -relocation-model=pic %t/rewritten.ll -o %t/app.o
; RUN: printf 'extern void *malloc(unsigned long);\nconst int __llama_runtime_abi_v0 = 0;\nvoid *llama_malloc_class(unsigned long n, unsigned k) { return malloc(n); }\n' > %t/old.c
; RUN: %cc -c %t/old.c -o %t/old.o
; RUN: not %cc %t/app.o %t/old.o -o %t/app-old 2>&1 | FileCheck %s --check-prefix=LINK
; RUN: %cc %t/app.o -o %t/app %link_llamalloc
; RUN: %t/app
; A module the rewrite step left alone refers to nothing.
; RUN: %opt_llama -passes=llama-use-rewrite -S %S/../pass/nodebug.ll -o - | FileCheck %s --check-prefix=UNTOUCHED
; IR-DAG: @__llama_runtime_abi_ref = linkonce_odr hidden constant ptr @__llama_runtime_abi_v1, comdat
; IR-DAG: @__llama_runtime_abi_v1 = external constant i32
; IR-DAG: @llvm.used = appending global {{.*}} @__llama_runtime_abi_ref
; IR: call ptr @llama_malloc_class(i64 24, i32 3)
; LINK: undefined reference to `__llama_runtime_abi_v1'
; UNTOUCHED-NOT: __llama_runtime_abi

define i32 @main() {
  %p = call ptr @malloc(i64 24), !llama.class !0
  call void @free(ptr %p)
  ret i32 0
}

declare ptr @malloc(i64)
declare void @free(ptr)

!0 = !{i32 3}
