// threads_stress.c with the runtime's sources compiled into the test with
// UndefinedBehaviorSanitizer (no recovery) and assertions (LLAMA_DEBUG=1).
// UBSan does not replace malloc, so here the runtime is the process
// allocator by its normal names: libc's own allocations go through the
// instrumented code too.
//
// UBSan's runtime ships with ASan's (libclang-rt-19-dev); lit.cfg.py has no
// separate "ubsan" feature, so the asan feature stands in for it.
// REQUIRES: ubsan
// RUN: %cc -fsanitize=undefined -fno-sanitize-recover=all -fno-builtin -ftls-model=initial-exec -DLLAMA_DEBUG=1 -DSTRESS_SLOTS=8 -DSTRESS_RUNS=16 -DSTRESS_TABLE_OPS=10000 -DSTRESS_OPS=6000 %s %srcroot/runtime/*.c %srcroot/model/model.c %srcroot/model/tokenize.c %srcroot/model/lstm.c -lpthread -lm -o %t
// RUN: %t 2>&1 | FileCheck %s
// CHECK-NOT: runtime error
// CHECK-NOT: FAIL
// CHECK: threads_stress: PASSED (0 failures)

#include "threads_stress.c"
