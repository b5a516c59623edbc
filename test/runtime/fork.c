// fork() while other threads allocate and free: the child (and a grandchild,
// nested fork) must be able to allocate and free in every class, large
// objects included, free blocks inherited from the parent, start threads,
// read statistics, and exit 0. An alarm turns a deadlock in the child (an
// allocator lock held across fork) into a reported failure.
//
// RUN: %cc -fno-builtin %s -o %t %link_llamalloc
// RUN: %t 2>&1 | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: fork: PASSED (0 failures)

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "llamalloc.h"
#include "../Inputs/llama_test.h"

#define NBG 3
#define NFORK 24
#define SHARED 256

static atomic_int stop;
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;
static void *shared[SHARED];          /* blocks handed between threads */
static size_t shared_n[SHARED];
static uint64_t shared_seed[SHARED];

static size_t pick_size(uint64_t *rng) {
  uint64_t r = lt_rand(rng) % 1000;
  if (r < 700) return 1 + lt_rand(rng) % 256;
  if (r < 950) return 257 + lt_rand(rng) % 8000;
  if (r < 998) return 8192 + lt_rand(rng) % 100000;
  return ((size_t)1 << 20) + lt_rand(rng) % ((size_t)3 << 20);
}

static void *alloc_any(uint64_t *rng, size_t n) {
  uint64_t r = lt_rand(rng);
  unsigned k = (unsigned)(r % 9);
  switch ((r >> 8) % 4) {
  case 0: return k >= 7 ? malloc(n) : llama_malloc_class(n, k);
  case 1: return k >= 7 ? calloc(1, n) : llama_calloc_class(1, n, k);
  case 2: return k >= 7 ? aligned_alloc(64, (n + 63) & ~(size_t)63)
                        : llama_aligned_alloc_class(256, n, k);
  default: return k >= 7 ? realloc(NULL, n) : llama_realloc_class(NULL, n, k);
  }
}

/* Background churn: allocate, fill, swap with the shared table (so blocks
 * are freed by other threads), verify, free. */
static void *background(void *arg) {
  uint64_t rng = (uintptr_t)arg * 7919 + 1;
  uint64_t seed = (uint64_t)(uintptr_t)arg << 48;
  while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
    size_t n = pick_size(&rng);
    void *p = alloc_any(&rng, n);
    REQUIRE(p, "background allocation of %zu failed", n);
    lt_fill(p, n < 4096 ? n : 4096, ++seed);
    int i = (int)(lt_rand(&rng) % SHARED);
    pthread_mutex_lock(&shared_lock);
    void *old = shared[i];
    size_t on = shared_n[i];
    uint64_t os = shared_seed[i];
    shared[i] = p;
    shared_n[i] = n;
    shared_seed[i] = seed;
    pthread_mutex_unlock(&shared_lock);
    if (old) {
      LT_VERIFY(old, on < 4096 ? on : 4096, os, "background block");
      free(old);
    }
  }
  return NULL;
}

static void *child_thread(void *arg) {
  uint64_t rng = (uintptr_t)arg;
  for (int i = 0; i < 2000; i++) {
    size_t n = pick_size(&rng);
    void *p = alloc_any(&rng, n);
    REQUIRE(p, "allocation in child thread failed");
    memset(p, 0x5a, n < 1024 ? n : 1024);
    free(p);
  }
  return NULL;
}

/* What every child does; failures are counted in lt_failures. */
static void child_work(int id, char *inherited, size_t inherited_n, int depth) {
  alarm(600); /* deadlock guard only: generous, so a busy machine is never a failure */
  uint64_t rng = 0xabcdefull + (uint64_t)id * 131 + (uint64_t)depth;
  /* Memory inherited from the parent is intact, and ours to free. */
  LT_VERIFY(inherited, inherited_n, 4242, "inherited block in child");
  free(inherited);
  /* Blocks other parent threads were juggling at fork time: free some. */
  for (int i = 0; i < SHARED; i += 3) {
    if (shared[i]) {
      LT_VERIFY(shared[i], shared_n[i] < 4096 ? shared_n[i] : 4096, shared_seed[i],
                "shared block in child");
      free(shared[i]);
      shared[i] = NULL;
    }
  }
  /* A lot of allocation in every class. */
  enum { LIVE = 600 };
  static void *p[LIVE];
  static size_t pn[LIVE];
  for (int i = 0; i < LIVE; i++) p[i] = NULL;
  for (int op = 0; op < 12000; op++) {
    int i = (int)(lt_rand(&rng) % LIVE);
    if (p[i]) {
      LT_VERIFY(p[i], pn[i] < 2048 ? pn[i] : 2048, (uint64_t)i * 3 + depth, "child block");
      free(p[i]);
    }
    size_t n = pick_size(&rng);
    p[i] = alloc_any(&rng, n);
    REQUIRE(p[i], "child allocation of %zu failed (errno %d)", n, errno);
    pn[i] = n;
    lt_fill(p[i], n < 2048 ? n : 2048, (uint64_t)i * 3 + depth);
  }
  for (unsigned k = 0; k <= LLAMA_NUM_CLASSES; k++) {
    unsigned kk = k == LLAMA_NUM_CLASSES ? LLAMA_CLASS_UNKNOWN : k;
    char *big = llama_malloc_class((size_t)6 << 20, kk);
    REQUIRE(big, "child: 6 MiB in class %#x failed", kk);
    memset(big, (int)k, (size_t)6 << 20);
    EXPECT(big[(6 << 20) - 1] == (char)k, "child big block");
    free(big);
  }
  /* Threads in the child. */
  pthread_t t[2];
  for (uintptr_t i = 0; i < 2; i++)
    REQUIRE(pthread_create(&t[i], NULL, child_thread, (void *)(i + 1)) == 0,
            "pthread_create in child failed");
  for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
  llama_stats_t s;
  EXPECT(llama_stats_get(&s) == 0, "llama_stats_get in child");
  EXPECT(s.allocations_static > 0, "child: no static allocations counted");
  for (int i = 0; i < LIVE; i++) {
    if (!p[i]) continue;
    LT_VERIFY(p[i], pn[i] < 2048 ? pn[i] : 2048, (uint64_t)i * 3 + depth, "child block at end");
    free(p[i]);
  }
  llama_collect(1);
}

static void wait_child(pid_t pid, const char *what, int id) {
  int st = 0;
  pid_t r;
  do r = waitpid(pid, &st, 0);
  while (r < 0 && errno == EINTR);
  EXPECT(r == pid, "%s %d: waitpid failed (errno %d)", what, id, errno);
  if (r != pid) return;
  if (WIFSIGNALED(st))
    EXPECT(0, "%s %d killed by signal %d%s", what, id, WTERMSIG(st),
           WTERMSIG(st) == SIGALRM ? " (deadlock: timed out)" : "");
  else
    EXPECT(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s %d exited with status %d", what, id,
           WEXITSTATUS(st));
}

static void lock_shared(void) { pthread_mutex_lock(&shared_lock); }
static void unlock_shared(void) { pthread_mutex_unlock(&shared_lock); }

int main(void) {
  lt_watchdog(90);
  /* The shared table is consistent (and its lock free) in the child. */
  pthread_atfork(lock_shared, unlock_shared, unlock_shared);
  pthread_t bg[NBG];
  for (uintptr_t i = 0; i < NBG; i++)
    REQUIRE(pthread_create(&bg[i], NULL, background, (void *)(i + 1)) == 0, "pthread_create");

  for (int f = 0; f < NFORK; f++) {
    size_t in = 1000 + (size_t)f * 3001;
    char *inherited = llama_malloc_class(in, (unsigned)f % 7);
    REQUIRE(inherited, "allocation failed");
    lt_fill(inherited, in, 4242);
    usleep(2000); /* let the background threads get busy */
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork failed (errno %d)", errno);
    if (pid == 0) {
      child_work(f, inherited, in, 0);
      if (f % 4 == 0) {
        /* Nested: the child forks too, while its own thread churns. */
        char *inh2 = malloc(777);
        REQUIRE(inh2, "malloc failed");
        lt_fill(inh2, 777, 4242);
        pthread_t t;
        REQUIRE(pthread_create(&t, NULL, child_thread, (void *)99) == 0, "pthread_create");
        pid_t g = fork();
        REQUIRE(g >= 0, "nested fork failed");
        if (g == 0) {
          child_work(f + 1000, inh2, 777, 1);
          exit(LT_FAILS() ? 1 : 0);
        }
        pthread_join(t, NULL);
        wait_child(g, "grandchild of fork", f);
        free(inh2);
      }
      exit(LT_FAILS() ? 1 : 0);
    }
    /* The parent's block is untouched by the child. */
    wait_child(pid, "child of fork", f);
    LT_VERIFY(inherited, in, 4242, "parent block after fork");
    free(inherited);
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < NBG; i++) pthread_join(bg[i], NULL);
  for (int i = 0; i < SHARED; i++)
    if (shared[i]) {
      LT_VERIFY(shared[i], shared_n[i] < 4096 ? shared_n[i] : 4096, shared_seed[i],
                "shared block at end");
      free(shared[i]);
    }
  return lt_summary("fork");
}
