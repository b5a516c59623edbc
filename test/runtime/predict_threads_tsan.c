// predict_threads.c under ThreadSanitizer: the runtime's sources (and the
// model's) built with -fsanitize=thread into one object with the malloc
// family renamed (as threads_stress_tsan.c explains), so the cache's CAS
// inserts, the symbol-table snapshot publication and the model's publication
// run instrumented while 8 threads predict at once. Any report fails. No
// fork here (TSan and fork with running threads do not mix).
//
// REQUIRES: tsan
// RUN: %cc -fsanitize=thread -fno-sanitize-link-runtime -fno-builtin -ftls-model=initial-exec -DLLAMA_DEBUG=1 -r -nostdlib %srcroot/runtime/*.c %srcroot/model/model.c %srcroot/model/tokenize.c %srcroot/model/lstm.c -o %t.rt.o
// RUN: llvm-objcopy --redefine-syms=%S/../Inputs/sanitizer_rename.txt %t.rt.o %t.rt-renamed.o
// RUN: %cc -fsanitize=thread -fno-omit-frame-pointer -DPREDICT_RENAMED_RUNTIME -DPREDICT_NO_FORK -DOPS=5000 %s %t.rt-renamed.o -lpthread -lm -o %t
// RUN: env LLAMA_MODEL=%srcroot/tools/fuzz/corpus/model/tiny.llamamodel TSAN_OPTIONS=suppressions=%S/../Inputs/tsan_suppressions.txt %t 2>&1 | FileCheck %s
// CHECK-NOT: ThreadSanitizer
// CHECK-NOT: FAIL
// CHECK: predict_threads: PASSED (0 failures)
// CHECK-NOT: ThreadSanitizer

#include "predict_threads.c"
