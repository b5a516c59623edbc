// The embedded model's registration (llama/abi.h): a module constructor of
// the use build calls __llama_model_register_v1(bytes, size). Here a
// constructor reads a model file (TEST_MODEL) into an aligned buffer and
// registers it, with TEST_MODE choosing what else it registers:
//   valid        the model: predictions on, model "embedded"
//   bad-first    garbage first (one stderr line), then the model: the first
//                valid registration wins
//   valid-first  the model, then garbage: ignored, nothing printed
//   bad          only garbage: one line, predictions off
// LLAMA_MODEL overrides a registration; LLAMA_PREDICT=0 ignores it.
//
// RUN: %cc -O1 -fno-omit-frame-pointer -fno-builtin %s -o %t %link_llamalloc
// RUN: env TEST_MODEL=%srcroot/tools/fuzz/corpus/model/tiny.llamamodel TEST_MODE=valid LLAMA_STATS=1 %t 2>&1 | FileCheck --check-prefix=ON %s
// RUN: env TEST_MODEL=%srcroot/tools/fuzz/corpus/model/tiny.llamamodel TEST_MODE=valid-first LLAMA_STATS=1 %t 2>&1 | FileCheck --check-prefix=ON %s
// RUN: env TEST_MODEL=%srcroot/tools/fuzz/corpus/model/tiny.llamamodel TEST_MODE=bad-first LLAMA_STATS=1 %t 2>&1 | FileCheck --check-prefixes=BAD,ON %s
// RUN: env TEST_MODEL=%srcroot/tools/fuzz/corpus/model/tiny.llamamodel TEST_MODE=bad LLAMA_STATS=1 %t 2>&1 | FileCheck --check-prefixes=BAD,OFF %s
// RUN: env TEST_MODEL=%srcroot/tools/fuzz/corpus/model/tiny.llamamodel TEST_MODE=valid LLAMA_PREDICT=0 LLAMA_STATS=1 %t 2>&1 | FileCheck --check-prefix=OFF %s
// RUN: env TEST_MODEL=%srcroot/tools/fuzz/corpus/model/tiny.llamamodel TEST_MODE=valid LLAMA_MODEL=%srcroot/tools/fuzz/corpus/model/two-layers.llamamodel LLAMA_STATS=1 %t 2>&1 | FileCheck --check-prefix=FILE %s
// BAD: llamalloc: embedded: {{.+}}; predictions off (a broken build: the embedded model is invalid)
// BAD-NOT: llamalloc: embedded
// ON: predict_register: predicted {{[1-9][0-9]+}}
// ON-NOT: llamalloc:
// ON: prediction: model embedded, cache hits
// OFF-NOT: llamalloc: embedded
// OFF: predict_register: predicted 0
// OFF: prediction: model none, cache hits 0
// FILE: predict_register: predicted {{[1-9][0-9]+}}
// FILE: prediction: model {{.*}}two-layers.llamamodel, cache hits

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llama/abi.h"
#include "llamalloc.h"

void __llama_model_register_v1(const void *bytes, uint64_t size);

static _Alignas(16) unsigned char model[1 << 16];
static _Alignas(16) unsigned char garbage[4096];

__attribute__((constructor)) static void register_model(void) {
  const char *path = getenv("TEST_MODEL"), *mode = getenv("TEST_MODE");
  if (!path || !mode) return;
  int fd = open(path, O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, model, sizeof model) : -1;
  if (fd >= 0) close(fd);
  if (n <= 0) {
    fprintf(stderr, "FAIL: cannot read %s\n", path);
    exit(1);
  }
  memcpy(garbage, model, sizeof garbage < (size_t)n ? sizeof garbage : (size_t)n);
  garbage[100] ^= 0xff; /* checksum mismatch */
  if (!strcmp(mode, "valid")) {
    __llama_model_register_v1(model, (uint64_t)n);
  } else if (!strcmp(mode, "bad-first")) {
    __llama_model_register_v1(garbage, (uint64_t)n);
    __llama_model_register_v1(garbage, (uint64_t)n); /* reported once */
    __llama_model_register_v1(model, (uint64_t)n);
  } else if (!strcmp(mode, "valid-first")) {
    __llama_model_register_v1(model, (uint64_t)n);
    __llama_model_register_v1(garbage, (uint64_t)n);
  } else {
    __llama_model_register_v1(garbage, (uint64_t)n);
    __llama_model_register_v1(garbage + 1, (uint64_t)n - 1);
  }
}

static void *volatile sink;

int main(void) {
  llama_stats_t a, b;
  llama_stats_get(&a);
  for (int i = 0; i < 1000; i++) {
    sink = malloc(32);
    free(sink);
  }
  llama_stats_get(&b);
  fprintf(stderr, "predict_register: predicted %llu\n",
          (unsigned long long)(b.allocations_predicted - a.allocations_predicted));
  return 0;
}
