// Prediction is what libllamalloc will run inside malloc: it must allocate
// nothing, be thread-safe on one shared model, and give the same answer
// every time. Four threads encode and predict the same contexts over and
// over on one model (under TSan too) and compare with a first single-thread
// answer; malloc is wrapped to count calls made while predicting.
// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: %mkidx_build -o mkidx && ./mkidx v1 1 p.llamaprof
// RUN: %train -q -o m.llamamodel --epochs=1 p.llamaprof
// RUN: %cc -O1 -I%model_src %s %model_src/model.c %model_src/lstm.c %model_src/tokenize.c -lm -lpthread -Wl,--wrap=malloc -o %t/predict
// RUN: %t/predict m.llamamodel | FileCheck %s
// RUN: %if tsan %{ %cc -O1 -fsanitize=thread -I%model_src %s %model_src/model.c %model_src/lstm.c %model_src/tokenize.c -lm -lpthread -Wl,--wrap=malloc -o %t/predict-tsan %}
// RUN: %if tsan %{ %t/predict-tsan m.llamamodel | FileCheck %s %}
// CHECK: contexts 4, threads 4, predictions {{[0-9]+}}
// CHECK-NEXT: mismatches 0
// CHECK-NEXT: mallocs while predicting 0
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama_model.h"

static _Atomic int counting;
static _Atomic long mallocs;
void *__real_malloc(size_t n);
void *__wrap_malloc(size_t n) {
  if (atomic_load(&counting))
    atomic_fetch_add(&mallocs, 1);
  return __real_malloc(n);
}

static struct llama_model m;
static const struct llama_model_frame ctx[4][4] = {
    {{"xmalloc", "", 0, 2}, {"session_create", "", 0, 4}, {"handle_get", "", 0, 9}, {"main", "", 0, 6}},
    {{"xmalloc", "", 0, 2}, {"scratch_alloc", "", 0, 4}, {"worker_loop", "", 0, 9}, {"main", "", 0, 6}},
    {{"xmalloc", "", 0, 2}, {"config_new", "", 0, 4}, {"main", "", 0, 6}, {"", "", 0, 0}},
    {{"_ZN5cache10EntryTableC2Em", "", 0, 2}, {"unknown_words_here", "", 1, 4}, {"main", "", 0, 6}, {"x", "", 0, 0}},
};
static unsigned expect[4];
static _Atomic long mismatches, predictions;

static void *run(void *arg) {
  uint32_t ids[LLAMA_MODEL_MAX_TOKENS];
  for (int it = 0; it < 300; it++)
    for (int c = 0; c < 4; c++) {
      size_t n = llama_model_encode(&m, ctx[c], 4, 0, ids, LLAMA_MODEL_MAX_TOKENS);
      float p[LLAMA_NUM_CLASSES];
      if (llama_model_predict(&m, ids, n, p) != expect[c])
        atomic_fetch_add(&mismatches, 1);
      atomic_fetch_add(&predictions, 1);
    }
  return arg;
}

int main(int argc, char **argv) {
  void *buf;
  size_t len;
  char err[256];
  if (llama_model_read_file(argv[1], &buf, &len, err, sizeof err) ||
      llama_model_open(buf, len, argv[1], &m, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  uint32_t ids[LLAMA_MODEL_MAX_TOKENS];
  for (int c = 0; c < 4; c++) {
    size_t n = llama_model_encode(&m, ctx[c], 4, 0, ids, LLAMA_MODEL_MAX_TOKENS);
    expect[c] = llama_model_predict(&m, ids, n, NULL);
  }
  pthread_t th[4];
  atomic_store(&counting, 1);
  for (int t = 0; t < 4; t++)
    pthread_create(&th[t], NULL, run, NULL);
  for (int t = 0; t < 4; t++)
    pthread_join(th[t], NULL);
  atomic_store(&counting, 0);
  printf("contexts 4, threads 4, predictions %ld\nmismatches %ld\nmallocs while predicting %ld\n",
         atomic_load(&predictions), atomic_load(&mismatches), atomic_load(&mallocs));
  free(buf);
  return 0;
}
