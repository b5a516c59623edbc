// threads_stress.c under AddressSanitizer. Like threads_stress_tsan.c, the
// runtime's sources are built instrumented (with assertions, LLAMA_DEBUG=1)
// and linked with their malloc family renamed to llama_sanitized_*, since
// ASan must keep its own malloc. ASan then checks every access the runtime
// makes to its globals, stacks and metadata, and LeakSanitizer runs at exit.
// (User blocks live in the runtime's own mappings, so ASan has no redzones
// around them; the content patterns of threads_stress.c cover those.)
//
// REQUIRES: asan
// RUN: %cc -fsanitize=address -fno-sanitize-link-runtime -fno-builtin -ftls-model=initial-exec -DLLAMA_DEBUG=1 -r -nostdlib %srcroot/runtime/*.c %srcroot/model/model.c %srcroot/model/tokenize.c %srcroot/model/lstm.c -o %t.rt.o
// RUN: llvm-objcopy --redefine-syms=%S/../Inputs/sanitizer_rename.txt %t.rt.o %t.rt-renamed.o
// RUN: %cc -fsanitize=address -DSTRESS_RENAMED_RUNTIME -DSTRESS_SLOTS=4 -DSTRESS_RUNS=12 -DSTRESS_TABLE_OPS=8000 -DSTRESS_OPS=5000 %s %t.rt-renamed.o -lpthread -lm -o %t
// RUN: %t 2>&1 | FileCheck %s
// CHECK-NOT: Sanitizer
// CHECK-NOT: FAIL
// CHECK: threads_stress: PASSED (0 failures)
// CHECK-NOT: Sanitizer

#include "threads_stress.c"
