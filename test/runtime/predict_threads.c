// The dynamic path with a model under threads and fork:
//  - a miss does not allocate: after a thread's first prediction, stacks the
//    cache has never seen (recursion of every depth, several kinds) are
//    predicted without one allocation counted default (an allocation made
//    while predicting would take the default bin);
//  - 8 threads allocate and free through many stacks at once: every
//    allocation is predicted, and misses are bounded by the distinct stacks;
//  - fork() while those threads run: the child allocates through new stacks
//    (cache misses: symbol tables, model) and exits 0 (a lock held at fork
//    would hang it; the watchdog reports that).
// The model (any valid one) comes from LLAMA_MODEL.
//
// RUN: %cc -O1 -fno-omit-frame-pointer -fno-builtin %s -o %t %link_llamalloc
// RUN: env LLAMA_MODEL=%srcroot/tools/fuzz/corpus/model/tiny.llamamodel %t 2>&1 | FileCheck %s
// RUN: env LLAMA_MODEL=%srcroot/tools/fuzz/corpus/model/two-layers.llamamodel LLAMA_PREDICT_DEPTH=64 %t 2>&1 | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: predict_threads: PASSED (0 failures)

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "llamalloc.h"
#include "../Inputs/llama_test.h"

#ifdef PREDICT_RENAMED_RUNTIME
/* Sanitizer builds (predict_threads_tsan.c): the runtime's malloc family is
 * renamed to llama_sanitized_* (Inputs/sanitizer_rename.txt). */
void *llama_sanitized_malloc(size_t);
void llama_sanitized_free(void *);
void *llama_sanitized_calloc(size_t, size_t);
void *llama_sanitized_realloc(void *, size_t);
char *llama_sanitized_strdup(const char *);
#define malloc llama_sanitized_malloc
#define free llama_sanitized_free
#define calloc llama_sanitized_calloc
#define realloc llama_sanitized_realloc
#define strdup llama_sanitized_strdup
#endif

#ifndef THREADS
#define THREADS 8
#endif
#ifndef OPS
#define OPS 20000
#endif

static __thread void *volatile sink; /* per thread: no race */

/* One allocation of kind `kind` at recursion depth d: each (d, kind) is a
 * distinct stack. */
__attribute__((noinline)) static void *alloc_at(int d, int kind) {
  if (d > 0) {
    void *p = alloc_at(d - 1, kind);
    sink = &d; /* not a tail call */
    return p;
  }
  switch (kind) {
  case 0: return malloc(40);
  case 1: return calloc(2, 24);
  case 2: return realloc(NULL, 72);
  default: return strdup("a string to copy");
  }
}

static void check_no_alloc_in_miss(void) {
  void *p = alloc_at(0, 0); /* this thread's first prediction: stack bounds */
  free(p);
  llama_stats_t a, b;
  llama_stats_get(&a);
  int n = 0;
  for (int d = 1; d < 14; d++)
    for (int kind = 0; kind < 4; kind++, n++) free(alloc_at(d, kind));
  llama_stats_get(&b);
  long long misses = (long long)(b.cache_misses - a.cache_misses);
  long long pred = (long long)(b.allocations_predicted - a.allocations_predicted);
  long long def = (long long)(b.allocations_default - a.allocations_default);
  EXPECT(misses >= n / 2, "new stacks: %lld misses for %d stacks", misses, n);
  EXPECT(pred == n, "new stacks: %lld of %d predicted", pred, n);
  EXPECT(def == 0, "a prediction allocated: %lld allocations counted default", def);
  EXPECT(b.predict_ns > a.predict_ns, "no time measured in misses");
}

static atomic_int stop;

static void *worker(void *arg) {
  uint64_t seed = (uint64_t)(uintptr_t)arg * 7919 + 1;
  void *held[64] = {0};
  for (int i = 0; i < OPS; i++) {
    unsigned r = (unsigned)lt_rand(&seed);
    unsigned slot = r % 64;
    free(held[slot]);
    held[slot] = alloc_at((int)(r >> 8) % 10, (int)(r >> 16) % 4);
    if (!held[slot]) EXPECT(0, "allocation failed");
    memset(held[slot], 1, 16);
  }
  for (int i = 0; i < 64; i++) free(held[i]);
  while (!atomic_load(&stop)) {
    free(alloc_at(3, 0));
    sched_yield();
  }
  return NULL;
}

static void fork_child_check(void) {
  pid_t pid = fork();
  REQUIRE(pid >= 0, "fork failed");
  if (pid == 0) {
    alarm(600); /* deadlock guard only */
    llama_stats_t a, b;
    llama_stats_get(&a);
    for (int d = 14; d < 20; d++) free(alloc_at(d, 1)); /* new stacks: misses */
    pthread_t t;
    pthread_create(&t, NULL, worker, (void *)(uintptr_t)99);
    atomic_store(&stop, 1);
    pthread_join(t, NULL);
    llama_stats_get(&b);
    _exit(b.allocations_predicted - a.allocations_predicted >= (uint64_t)OPS ? 0 : 4);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid");
  EXPECT(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fork child: status %#x", status);
}

int main(void) {
  lt_watchdog(120);
  check_no_alloc_in_miss();

  llama_stats_t a, b;
  llama_stats_get(&a);
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    REQUIRE(pthread_create(&t[i], NULL, worker, (void *)(uintptr_t)i) == 0, "pthread_create");
#ifndef PREDICT_NO_FORK
  for (int i = 0; i < 4; i++) fork_child_check();
#endif
  atomic_store(&stop, 1);
  for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
  llama_stats_get(&b);
  long long pred = (long long)(b.allocations_predicted - a.allocations_predicted);
  long long def = (long long)(b.allocations_default - a.allocations_default);
  long long misses = (long long)(b.cache_misses - a.cache_misses);
  long long hits = (long long)(b.cache_hits - a.cache_hits);
  EXPECT(pred >= (long long)THREADS * OPS, "threads: %lld predicted", pred);
  /* Each thread's first prediction reads its stack bounds (which may
   * allocate, default bin); nothing else is default. */
  EXPECT(def <= THREADS * 16, "threads: %lld default", def);
  /* 10 depths x 4 kinds x the worker's own callers: a few hundred at most. */
  EXPECT(misses <= 400, "threads: %lld misses", misses);
  EXPECT(hits + misses >= pred, "threads: hits %lld + misses %lld < predicted %lld", hits,
         misses, pred);
  return lt_summary("predict_threads");
}
