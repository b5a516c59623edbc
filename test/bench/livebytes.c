// liblivebytes.so (bench/real/livebytes.c) under rss_sampler.py --live: the
// shim's exact counts of live requested bytes, peak and at exit, for a
// program whose allocations are known: malloc and free, calloc, realloc
// (grow, shrink, from NULL, to 0, of an aligned block), posix_memalign,
// aligned_alloc, memalign, valloc, two threads allocating at once, and a
// forked child that allocates and frees (it must not count in the parent's
// page). The samples play no part: the counters decide, so the test does
// not depend on timing.
//
// The baseline run (argument "base") starts and joins the same two threads
// and nothing else: glibc's own allocations (each thread's TLS vector, kept
// with the cached stacks) are the same in both runs and cancel.
//
// RUN: %cc -fno-builtin %s -o %t -lpthread
// RUN: rm -f %t.base.json %t.run.json
// RUN: %sampler --json=%t.base.json --live=%t.base.live --env LD_PRELOAD=%livebytes_so --env LLAMA_LIVE_FILE=%t.base.live -- %t base
// RUN: %sampler --json=%t.run.json --live=%t.run.live --env LD_PRELOAD=%livebytes_so --env LLAMA_LIVE_FILE=%t.run.live -- %t 2>&1 | FileCheck --check-prefix=PROG %s
// RUN: %live_delta %t.base.json %t.run.json | FileCheck %s
//
// PROG-NOT: FAIL
// PROG: livebytes: PASSED
//
// CHECK: base: exit_status 0 live_ok True
// CHECK-NEXT: run: exit_status 0 live_ok True
// CHECK-NEXT: base: peak - final 0
// CHECK-NEXT: peak_live delta 1719000
// CHECK-NEXT: final_live delta 506360
// CHECK-NEXT: peak_live_kb ok
// CHECK-NEXT: bound_peak_kb ok

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../Inputs/llama_test.h"

#define THREAD_BLOCKS 20000
#define THREAD_SIZE 30 // 2 threads x 20,000 x 30 = 1,200,000 bytes

static pthread_barrier_t start;
static int do_work;
static void *blocks[2][THREAD_BLOCKS];

static void *thread_main(void *arg) {
  void **mine = arg;
  pthread_barrier_wait(&start);
  if (do_work)
    for (int i = 0; i < THREAD_BLOCKS; i++)
      mine[i] = malloc(THREAD_SIZE);
  return NULL;
}

static void check(int ok, const char *what) {
  if (!ok)
    lt_log("FAIL: %s\n", what);
  if (!ok)
    LT_FAIL_INC();
}

int main(int argc, char **argv) {
  // The threads first, in both runs: their start-up allocations come
  // before anything measured and stay until exit.
  pthread_t t[2];
  pthread_barrier_init(&start, NULL, 3);
  for (int i = 0; i < 2; i++)
    pthread_create(&t[i], NULL, thread_main, blocks[i]);
  if (argc > 1 && strcmp(argv[1], "base") == 0) {
    pthread_barrier_wait(&start);
    for (int i = 0; i < 2; i++)
      pthread_join(t[i], NULL);
    return 0;
  }

  // 100 x 10,000 live (peak 1,000,000), then half freed: 500,000.
  void *a[100];
  for (int i = 0; i < 100; i++)
    a[i] = malloc(10000);
  for (int i = 0; i < 50; i++)
    free(a[i]);
  check(malloc_usable_size(a[50]) == 10000, "malloc_usable_size is the requested size");

  // calloc: +10,000 (510,000), zeroed.
  unsigned char *c = calloc(100, 100);
  int zero = 1;
  for (int i = 0; i < 10000; i++)
    zero &= c[i] == 0;
  check(zero, "calloc zeroes");
  check(calloc(SIZE_MAX / 2, 4) == NULL, "calloc overflow fails");

  // realloc: 1,000 -> 50,000 -> 2,000 (512,000), contents kept.
  char *r = malloc(1000);
  memset(r, 'r', 1000);
  r = realloc(r, 50000);
  check(r[999] == 'r', "realloc grow keeps the contents");
  r = realloc(r, 2000);
  check(r[0] == 'r' && malloc_usable_size(r) == 2000, "realloc shrink");

  // Aligned: 3,000 + 640 + 100 + 10 (515,750).
  void *pm = NULL;
  check(posix_memalign(&pm, 4096, 3000) == 0 && ((uintptr_t)pm & 4095) == 0, "posix_memalign 4096");
  check(malloc_usable_size(pm) == 3000, "malloc_usable_size of an aligned block");
  void *bad = NULL;
  check(posix_memalign(&bad, 24, 100) == EINVAL && bad == NULL, "posix_memalign EINVAL");
  void *al = aligned_alloc(64, 640);
  check(((uintptr_t)al & 63) == 0, "aligned_alloc 64");
  void *me = memalign(256, 100);
  check(((uintptr_t)me & 255) == 0, "memalign 256");
  void *va = valloc(10);
  check(((uintptr_t)va & ((uintptr_t)sysconf(_SC_PAGESIZE) - 1)) == 0, "valloc");

  // realloc of an aligned block: 3,000 -> 6,000 (518,750); from NULL:
  // +250 (519,000).
  memset(pm, 'p', 3000);
  pm = realloc(pm, 6000);
  check(((char *)pm)[2999] == 'p' && malloc_usable_size(pm) == 6000, "realloc of an aligned block");
  void *rn = realloc(NULL, 250);

  // Two threads at once, allocating only: +1,200,000 = the peak, 1,719,000.
  do_work = 1;
  pthread_barrier_wait(&start);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);

  // A forked child allocates and frees; the parent's page must not move.
  pid_t pid = fork();
  if (pid == 0) {
    void *big = malloc(5000000);
    memset(big, 1, 5000000);
    for (int i = 50; i < 100; i++)
      free(a[i]);
    _exit(big ? 0 : 1);
  }
  int st = 0;
  check(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork");

  // Back down: the threads' blocks, c, al, and r through realloc(r, 0)
  // (glibc frees and returns NULL). Left: 500,000 + 6,000 + 100 + 10 + 250
  // = 506,360.
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < THREAD_BLOCKS; i++)
      free(blocks[k][i]);
  free(c);
  free(al);
  check(realloc(r, 0) == NULL, "realloc to 0 frees");
  (void)me;
  (void)va;
  (void)rn;
  if (LT_FAILS() == 0)
    lt_log("livebytes: PASSED\n");
  return LT_FAILS() != 0;
}
