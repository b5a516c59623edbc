// threads_stress.c under ThreadSanitizer. TSan has its own malloc and calls
// it (through dlsym) before any instrumented code may run, so the runtime
// cannot be the process allocator here. Instead the runtime's sources are
// built with -fsanitize=thread (and assertions, LLAMA_DEBUG=1) into one
// relocatable object whose malloc-family names are renamed to
// llama_sanitized_* (Inputs/sanitizer_rename.txt); the stress test calls the
// runtime through those names and the class API, so every allocation, remote
// free, span abandonment/adoption and huge page hand-over of the runtime runs
// instrumented. Any TSan report fails the test.
//
// REQUIRES: tsan
// RUN: %cc -fsanitize=thread -fno-sanitize-link-runtime -fno-builtin -ftls-model=initial-exec -DLLAMA_DEBUG=1 -r -nostdlib %srcroot/runtime/*.c %srcroot/model/model.c %srcroot/model/tokenize.c %srcroot/model/lstm.c -o %t.rt.o
// RUN: llvm-objcopy --redefine-syms=%S/../Inputs/sanitizer_rename.txt %t.rt.o %t.rt-renamed.o
// RUN: %cc -fsanitize=thread -DSTRESS_RENAMED_RUNTIME -DSTRESS_SLOTS=4 -DSTRESS_RUNS=8 -DSTRESS_TABLE_OPS=5000 -DSTRESS_OPS=3000 %s %t.rt-renamed.o -lpthread -lm -o %t
// RUN: env TSAN_OPTIONS=suppressions=%S/../Inputs/tsan_suppressions.txt %t 2>&1 | FileCheck %s
// CHECK-NOT: ThreadSanitizer
// CHECK-NOT: FAIL
// CHECK: threads_stress: PASSED (0 failures)
// CHECK-NOT: ThreadSanitizer

#include "threads_stress.c"
