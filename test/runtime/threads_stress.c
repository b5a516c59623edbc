// Multi-threaded stress: 8 concurrent threads (40 thread lifetimes in all, so
// heaps are abandoned and reused) allocate mixed sizes (8 B .. 64 KiB, a few
// 64 KiB .. 1 MiB and 1-4 MiB) in mixed classes and with every allocation
// function, verify content patterns, and pass about half of their objects to
// other threads through lock-protected mailboxes to be freed there
// (cross-thread frees under load). Phase 2: long-lived threads swap blocks through a lock-free table
// (random lifetimes, mostly cross-thread frees, heaps stay alive). At the end
// the live counters of every bin are back where they started: nothing leaked,
// nothing was counted twice.
//
// RUN: %cc -fno-builtin %s -o %t %link_llamalloc
// RUN: %t 2>&1 | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: threads_stress: PASSED (0 failures)
//
// The same source is built with sanitizers by threads_stress_tsan.c,
// threads_stress_asan.c and threads_stress_ubsan.c (STRESS_* macros scale it
// down there).

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llamalloc.h"
#include "../Inputs/llama_test.h"

#ifdef STRESS_RENAMED_RUNTIME
/* Sanitizer builds (threads_stress_tsan.c, _asan.c) link the runtime's
 * sources with its malloc family renamed to llama_sanitized_* (see
 * Inputs/sanitizer_rename.txt), so the sanitizer keeps its own malloc for the
 * process; this test calls the runtime by the new names. */
void *llama_sanitized_malloc(size_t);
void llama_sanitized_free(void *);
void *llama_sanitized_calloc(size_t, size_t);
void *llama_sanitized_realloc(void *, size_t);
void *llama_sanitized_aligned_alloc(size_t, size_t);
int llama_sanitized_posix_memalign(void **, size_t, size_t);
size_t llama_sanitized_malloc_usable_size(void *);
#define malloc llama_sanitized_malloc
#define free llama_sanitized_free
#define calloc llama_sanitized_calloc
#define realloc llama_sanitized_realloc
#define aligned_alloc llama_sanitized_aligned_alloc
#define posix_memalign llama_sanitized_posix_memalign
#define malloc_usable_size llama_sanitized_malloc_usable_size
#endif

#ifndef STRESS_SLOTS
#define STRESS_SLOTS 8 /* threads alive at once */
#endif
#ifndef STRESS_RUNS
#define STRESS_RUNS 40 /* thread lifetimes in all */
#endif
#ifndef STRESS_OPS
#define STRESS_OPS 12000 /* allocations per thread lifetime */
#endif
#ifndef STRESS_TABLE_OPS
#define STRESS_TABLE_OPS 30000 /* phase 2: swaps per thread */
#endif
#define TABLE_SIZE 1024
#ifndef STRESS_WATCHDOG
#define STRESS_WATCHDOG 600 /* seconds: a deadlock guard only (a normal run takes 2-5 s;
                              45 s failed on a machine with load 8-12) */
#endif
#define LOCAL_MAX 512
#define MAILBOX_CAP 2048

typedef struct {
  void *p;
  size_t n;
  uint64_t seed;
} obj_t;

typedef struct {
  pthread_mutex_t lock;
  int count;
  obj_t items[MAILBOX_CAP];
} mailbox_t;

static mailbox_t mbox[STRESS_SLOTS];
static _Atomic unsigned long long cross_frees, local_frees, table_frees, allocs, big_allocs,
    reallocs;

/* Large blocks are checked sparsely to keep the run short. */
#define DENSE_MAX (64 * 1024)
static void fill(void *p, size_t n, uint64_t seed) {
  if (n <= DENSE_MAX) {
    lt_fill(p, n, seed);
    return;
  }
  unsigned char *c = p;
  lt_fill(c, 4096, seed);
  lt_fill(c + n - 4096, 4096, seed + 1);
  for (size_t i = 4096; i < n - 4096; i += 4093) c[i] = lt_pat(seed + 2, i);
}
static int check(const void *p, size_t n, uint64_t seed) {
  if (n <= DENSE_MAX) return lt_check(p, n, seed) == (size_t)-1;
  const unsigned char *c = p;
  if (lt_check(c, 4096, seed) != (size_t)-1) return 0;
  if (lt_check(c + n - 4096, 4096, seed + 1) != (size_t)-1) return 0;
  for (size_t i = 4096; i < n - 4096; i += 4093)
    if (c[i] != lt_pat(seed + 2, i)) return 0;
  return 1;
}

static void verify_and_free(obj_t *o, const char *why) {
  EXPECT(check(o->p, o->n, o->seed), "%s: block %p of %zu bytes (seed %llu) damaged", why,
         o->p, o->n, (unsigned long long)o->seed);
  free(o->p);
}

/* Returns 1 if the mailbox took the object. */
static int send_obj(int slot, obj_t o) {
  mailbox_t *m = &mbox[slot];
  int ok = 0;
  pthread_mutex_lock(&m->lock);
  if (m->count < MAILBOX_CAP) {
    m->items[m->count++] = o;
    ok = 1;
  }
  pthread_mutex_unlock(&m->lock);
  return ok;
}

static void drain(int slot, const char *why) {
  static __thread obj_t batch[MAILBOX_CAP];
  mailbox_t *m = &mbox[slot];
  pthread_mutex_lock(&m->lock);
  int n = m->count;
  memcpy(batch, m->items, (size_t)n * sizeof(obj_t));
  m->count = 0;
  pthread_mutex_unlock(&m->lock);
  for (int i = 0; i < n; i++) verify_and_free(&batch[i], why);
  cross_frees += (unsigned long long)n;
}

static size_t pick_size(uint64_t *rng) {
  uint64_t r = lt_rand(rng) % 10000;
  if (r < 6000) return 8 + lt_rand(rng) % 249;            /* 8 .. 256 */
  if (r < 9300) return 257 + lt_rand(rng) % 3840;         /* .. 4 KiB */
  if (r < 9900) return 4097 + lt_rand(rng) % (60 * 1024); /* .. 64 KiB */
  if (r < 9985) return 65537 + lt_rand(rng) % (960 * 1024); /* .. 1 MiB */
  return ((size_t)1 << 20) + lt_rand(rng) % ((size_t)3 << 20); /* 1 .. 4 MiB */
}

static void *alloc_obj(uint64_t *rng, size_t n) {
  uint64_t r = lt_rand(rng);
  unsigned k = (unsigned)(r % 9); /* 0..6, 7 = UNKNOWN, 8 = plain */
  if (k == 7) k = LLAMA_CLASS_UNKNOWN;
  void *p = NULL;
  switch ((r >> 8) % 8) {
  case 0:
  case 1:
  case 2:
  case 3:
    p = k == 8 ? malloc(n) : llama_malloc_class(n, k);
    break;
  case 4:
    p = k == 8 ? calloc(1, n) : llama_calloc_class(1, n, k);
    if (p && n <= DENSE_MAX) EXPECT(lt_is_zero(p, n), "calloc(%zu) not zero", n);
    break;
  case 5: {
    size_t a = (size_t)16 << ((r >> 16) % 8); /* 16 .. 2048 */
    if (k == 8)
      p = aligned_alloc(a, (n + a - 1) & ~(a - 1));
    else
      p = llama_aligned_alloc_class(a, n, k);
    if (p) EXPECT(lt_aligned(p, a), "aligned allocation %p not %zu-aligned", p, a);
    break;
  }
  case 6: {
    size_t a = (size_t)64 << ((r >> 16) % 7); /* 64 .. 4096 */
    int rc = k == 8 ? posix_memalign(&p, a, n) : llama_posix_memalign_class(&p, a, n, k);
    EXPECT(rc == 0, "posix_memalign(%zu, %zu) = %d", a, n, rc);
    if (rc) p = NULL;
    if (p) EXPECT(lt_aligned(p, a), "posix_memalign %p not %zu-aligned", p, a);
    break;
  }
  default:
    p = k == 8 ? realloc(NULL, n) : llama_realloc_class(NULL, n, k);
    break;
  }
  return p;
}

typedef struct {
  int slot;
  int run;
} targ_t;

static void *worker(void *arg) {
  targ_t *ta = arg;
  int slot = ta->slot;
  uint64_t rng = 0x9e3779b97f4a7c15ull * (uint64_t)(ta->run + 1);
  obj_t local[LOCAL_MAX];
  int nlocal = 0;
  uint64_t seedbase = (uint64_t)ta->run << 40;
  for (int op = 0; op < STRESS_OPS; op++) {
    if ((op & 63) == 0) drain(slot, "cross-thread free");
    size_t n = pick_size(&rng);
    void *p = alloc_obj(&rng, n);
    REQUIRE(p, "allocation of %zu bytes failed (errno %d)", n, errno);
    EXPECT(malloc_usable_size(p) >= n, "usable size %zu < %zu", malloc_usable_size(p), n);
    allocs++;
    if (n > DENSE_MAX) big_allocs++;
    obj_t o = {p, n, seedbase + (uint64_t)op};
    fill(p, n, o.seed);
    if (nlocal == LOCAL_MAX) {
      int v = (int)(lt_rand(&rng) % LOCAL_MAX);
      obj_t victim = local[v];
      local[v] = local[--nlocal];
      uint64_t r = lt_rand(&rng);
      if (r % 8 == 0 && victim.n <= DENSE_MAX) {
        /* Resize it: the content prefix survives. */
        size_t nn = pick_size(&rng);
        if (nn > DENSE_MAX) nn = 100;
        EXPECT(check(victim.p, victim.n, victim.seed), "block damaged before realloc");
        void *q = (r >> 8) & 1 ? realloc(victim.p, nn)
                               : llama_realloc_class(victim.p, nn, (unsigned)((r >> 9) % 7));
        REQUIRE(q, "realloc to %zu failed", nn);
        size_t keep = nn < victim.n ? nn : victim.n;
        EXPECT(lt_check(q, keep, victim.seed) == (size_t)-1, "realloc %zu -> %zu lost data",
               victim.n, nn);
        victim.p = q;
        victim.n = nn;
        victim.seed += 7777;
        fill(q, nn, victim.seed);
        reallocs++;
        verify_and_free(&victim, "free after realloc");
        local_frees++;
      } else if (r & 2) {
        int to = (int)((r >> 16) % STRESS_SLOTS);
        if (to == slot) to = (to + 1) % STRESS_SLOTS;
        EXPECT(check(victim.p, victim.n, victim.seed), "block damaged before sending");
        if (!send_obj(to, victim)) {
          verify_and_free(&victim, "local free (mailbox full)");
          local_frees++;
        }
      } else {
        verify_and_free(&victim, "local free");
        local_frees++;
      }
    }
    local[nlocal++] = o;
  }
  /* Exit: half of what is left goes to other threads, half is freed here. */
  for (int i = 0; i < nlocal; i++) {
    int to = (slot + 1 + i % (STRESS_SLOTS - 1)) % STRESS_SLOTS;
    if ((i & 1) && send_obj(to, local[i])) continue;
    verify_and_free(&local[i], "free at thread exit");
    local_frees++;
  }
  drain(slot, "cross-thread free at exit");
  return NULL;
}

/* Phase 2: long-lived threads swap blocks through a lock-free table, so most
 * frees are cross-thread and objects live for random times while their heaps
 * stay alive. Each block carries its size in its first 8 bytes; the rest is
 * a pattern seeded by its address. */
static _Atomic(void *) table[TABLE_SIZE];

static void table_check_free(void *old, const char *why) {
  size_t on;
  memcpy(&on, old, sizeof on);
  EXPECT(on >= 16 && on <= ((size_t)4 << 20), "%s: block %p has a damaged size header %zu", why,
         old, on);
  if (on >= 16 && on <= ((size_t)4 << 20))
    EXPECT(check((char *)old + 8, on - 8, (uintptr_t)old), "%s: block %p of %zu bytes damaged",
           why, old, on);
  free(old);
  table_frees++;
}

static void *table_worker(void *arg) {
  uint64_t rng = 0xdeadbeefull + (uintptr_t)arg * 0x9e3779b97f4a7c15ull;
  for (int op = 0; op < STRESS_TABLE_OPS; op++) {
    size_t n = pick_size(&rng);
    if (n < 16) n = 16;
    void *p = alloc_obj(&rng, n);
    REQUIRE(p, "allocation of %zu bytes failed (errno %d)", n, errno);
    allocs++;
    if (n > DENSE_MAX) big_allocs++;
    memcpy(p, &n, sizeof n);
    fill((char *)p + 8, n - 8, (uintptr_t)p);
    void *old = atomic_exchange(&table[lt_rand(&rng) % TABLE_SIZE], p);
    if (old) table_check_free(old, "table swap");
  }
  return NULL;
}

int main(void) {
  lt_watchdog(STRESS_WATCHDOG);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < STRESS_SLOTS; i++) pthread_mutex_init(&mbox[i].lock, NULL);

  llama_stats_t s0, s1;
  llama_stats_get(&s0);

  pthread_t th[STRESS_SLOTS];
  targ_t args[STRESS_SLOTS];
  int started[STRESS_SLOTS] = {0};
  for (int run = 0; run < STRESS_RUNS; run++) {
    int slot = run % STRESS_SLOTS;
    if (started[slot]) {
      REQUIRE(pthread_join(th[slot], NULL) == 0, "pthread_join failed");
      llama_stats_t snap; /* taken while other threads run: must not crash */
      llama_stats_get(&snap);
    }
    args[slot].slot = slot;
    args[slot].run = run;
    REQUIRE(pthread_create(&th[slot], NULL, worker, &args[slot]) == 0, "pthread_create failed");
    started[slot] = 1;
  }
  for (int i = 0; i < STRESS_SLOTS; i++)
    if (started[i]) pthread_join(th[i], NULL);
  /* Objects sent to slots whose last thread had already exited. */
  for (int i = 0; i < STRESS_SLOTS; i++) drain(i, "free in main");

  /* Phase 2. */
  for (uintptr_t i = 0; i < STRESS_SLOTS; i++)
    REQUIRE(pthread_create(&th[i], NULL, table_worker, (void *)i) == 0, "pthread_create failed");
  for (int i = 0; i < STRESS_SLOTS; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < TABLE_SIZE; i++) {
    void *old = atomic_exchange(&table[i], NULL);
    if (old) table_check_free(old, "table drain in main");
  }

  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
  lt_log("threads_stress: %d runs, %llu allocations (%llu >64K), %llu reallocs, %llu "
         "cross-thread frees, %llu local frees, %llu table frees, %.2f s\n",
         STRESS_RUNS, (unsigned long long)allocs, (unsigned long long)big_allocs,
         (unsigned long long)reallocs, (unsigned long long)cross_frees,
         (unsigned long long)local_frees, (unsigned long long)table_frees, secs);
  EXPECT(cross_frees > allocs / 5, "too few cross-thread frees: %llu of %llu",
         (unsigned long long)cross_frees, (unsigned long long)allocs);
  EXPECT(cross_frees + local_frees + table_frees == allocs, "freed %llu + %llu + %llu of %llu objects",
         (unsigned long long)cross_frees, (unsigned long long)local_frees,
         (unsigned long long)table_frees, (unsigned long long)allocs);

  /* Nothing leaked: every bin's live counters return to the baseline. The
   * class bins must match exactly up to a tiny slack for frees still queued
   * on abandoned heaps; the unclassified bin also holds glibc's thread
   * bookkeeping (DTVs), hence a larger slack there. */
  int ok = 0;
  for (int attempt = 0; attempt < 20 && !ok; attempt++) {
    llama_collect(1);
    llama_stats_get(&s1);
    ok = 1;
    for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
      long long d = (long long)(s1.bins[b].live_objects - s0.bins[b].live_objects);
      long long slack = b == LLAMA_BIN_UNCLASSIFIED ? 64 : 4;
      if (d > slack || d < -slack) ok = 0;
    }
    if ((long long)(s1.large_live_objects - s0.large_live_objects) > 2) ok = 0;
    if (!ok) {
      struct timespec ts = {0, 20 * 1000 * 1000};
      nanosleep(&ts, NULL);
    }
  }
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
    long long d = (long long)(s1.bins[b].live_objects - s0.bins[b].live_objects);
    long long db = (long long)(s1.bins[b].live_bytes - s0.bins[b].live_bytes);
    long long slack = b == LLAMA_BIN_UNCLASSIFIED ? 64 : 4;
    EXPECT(d <= slack && d >= -slack,
           "bin %u: live_objects %llu before, %llu after (%+lld), live_bytes %+lld "
           "(leak, or frees queued on abandoned spans that llama_collect(1) did not collect)",
           b,
           (unsigned long long)s0.bins[b].live_objects,
           (unsigned long long)s1.bins[b].live_objects, d, db);
    if (b < LLAMA_NUM_CLASSES)
      EXPECT(s1.bins[b].allocations - s0.bins[b].allocations > allocs / 20,
             "bin %u: only %llu allocations of %llu", b,
             (unsigned long long)(s1.bins[b].allocations - s0.bins[b].allocations),
             (unsigned long long)allocs);
  }
  long long dl = (long long)(s1.large_live_objects - s0.large_live_objects);
  EXPECT(dl <= 2 && dl >= -2, "large objects: %llu before, %llu after",
         (unsigned long long)s0.large_live_objects, (unsigned long long)s1.large_live_objects);
  EXPECT(s1.allocations_static - s0.allocations_static > allocs / 2,
         "allocations_static moved by %llu of %llu",
         (unsigned long long)(s1.allocations_static - s0.allocations_static),
         (unsigned long long)allocs);
  EXPECT(s1.threads >= 2, "threads = %llu", (unsigned long long)s1.threads);
  if (LT_FAILS()) {
    lt_print_stats("before", &s0);
    lt_print_stats("after", &s1);
  }
  return lt_summary("threads_stress");
}
