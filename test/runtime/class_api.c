// The class-annotated entry points: llama_malloc_class, llama_calloc_class,
// llama_realloc_class, llama_aligned_alloc_class, llama_posix_memalign_class
// for every lifetime class 0..6, LLAMA_CLASS_UNKNOWN and out-of-range values.
// llama_stats_get must show each allocation in the right bin (allocations,
// live_objects, live_bytes) and in the right counter (allocations_static for
// a known class, allocations_default for plain malloc and unknown classes);
// llama_class_bound_ns gives 10 ms * 10^k and UINT64_MAX for the last class.
//
// RUN: %cc -fno-builtin %s -o %t %link_llamalloc
// Exact bins (LLAMA_SMALL_BINS=0): this test checks that class k's small
// objects land in bin k; by default classes share bins for small objects.
// RUN: env LLAMA_SMALL_BINS=0 %t 2>&1 | FileCheck %s
// CHECK: default bin for plain malloc: {{[0-9]+}}
// CHECK-NOT: FAIL
// CHECK: class_api: PASSED (0 failures)

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "llamalloc.h"
#include "../Inputs/llama_test.h"

#define N 50
/* Bytes requested per round of the five functions (see alloc_round). */
#define ROUND_BYTES (64 + 4 * 16 + 100 + 128 + 200)
#define PER_ROUND 5

static void *objs[PER_ROUND * N];

static long long d_bin(const llama_stats_t *a, const llama_stats_t *b, unsigned bin,
                       size_t off) {
  return (long long)(*(const uint64_t *)((const char *)&b->bins[bin] + off) -
                     *(const uint64_t *)((const char *)&a->bins[bin] + off));
}
#define DBIN(a, b, bin, field) d_bin((a), (b), (bin), offsetof(llama_bin_stats_t, field))

/* Allocates N objects with each of the five class functions in class k,
 * filling and checking them. Returns the number allocated. */
static int alloc_round(unsigned k) {
  int n = 0;
  for (int i = 0; i < N; i++) {
    void *p = llama_malloc_class(64, k);
    REQUIRE(p, "llama_malloc_class(64, %u) failed", k);
    EXPECT(lt_aligned(p, 16), "llama_malloc_class(64, %u) = %p not 16-aligned", k, p);
    memset(p, 0xee, 64);
    objs[n++] = p;

    p = llama_calloc_class(4, 16, k);
    REQUIRE(p, "llama_calloc_class(4, 16, %u) failed", k);
    EXPECT(lt_is_zero(p, 64), "llama_calloc_class(4, 16, %u) not zeroed", k);
    EXPECT(lt_aligned(p, 16), "llama_calloc_class = %p not 16-aligned", p);
    memset(p, 0xee, 64);
    objs[n++] = p;

    p = llama_realloc_class(NULL, 100, k);
    REQUIRE(p, "llama_realloc_class(NULL, 100, %u) failed", k);
    EXPECT(lt_aligned(p, 16), "llama_realloc_class = %p not 16-aligned", p);
    memset(p, 0xee, 100);
    objs[n++] = p;

    p = llama_aligned_alloc_class(64, 128, k);
    REQUIRE(p, "llama_aligned_alloc_class(64, 128, %u) failed", k);
    EXPECT(lt_aligned(p, 64), "llama_aligned_alloc_class(64, ...) = %p", p);
    memset(p, 0xee, 128);
    objs[n++] = p;

    void *out = (void *)(uintptr_t)0x77;
    int rc = llama_posix_memalign_class(&out, 256, 200, k);
    REQUIRE(rc == 0, "llama_posix_memalign_class(256, 200, %u) = %d", k, rc);
    EXPECT(lt_aligned(out, 256), "llama_posix_memalign_class(256) = %p", out);
    memset(out, 0xee, 200);
    objs[n++] = out;
  }
  return n;
}

static void free_round(int n) {
  for (int i = 0; i < n; i++) free(objs[i]);
}

/* Returns the bin plain malloc uses (the one whose allocations moved by N). */
static unsigned find_default_bin(void) {
  llama_stats_t s0, s1;
  llama_stats_get(&s0);
  for (int i = 0; i < N; i++) objs[i] = malloc(48);
  llama_stats_get(&s1);
  for (int i = 0; i < N; i++) free(objs[i]);
  EXPECT(s1.allocations_default - s0.allocations_default == N,
         "plain malloc: allocations_default moved by %llu, want %d",
         (unsigned long long)(s1.allocations_default - s0.allocations_default), N);
  EXPECT(s1.allocations_static == s0.allocations_static,
         "plain malloc moved allocations_static");
  EXPECT(s1.allocations_predicted == s0.allocations_predicted,
         "plain malloc moved allocations_predicted");
  unsigned found = LLAMA_NUM_BINS;
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
    long long d = DBIN(&s0, &s1, b, allocations);
    if (d == N) {
      EXPECT(found == LLAMA_NUM_BINS, "plain malloc counted in bins %u and %u", found, b);
      found = b;
    } else {
      EXPECT(d == 0, "plain malloc moved bin %u allocations by %lld", b, d);
    }
  }
  REQUIRE(found < LLAMA_NUM_BINS, "no bin counted the %d plain mallocs", N);
  lt_log("default bin for plain malloc: %u\n", found);
  EXPECT(found == LLAMA_BIN_UNCLASSIFIED,
         "plain malloc went to bin %u, not the unclassified bin %u (LLAMA_DEFAULT_CLASS unset)",
         found, LLAMA_BIN_UNCLASSIFIED);
  return found;
}

static void check_class(unsigned k, unsigned want_bin) {
  llama_stats_t s0, s1, s2;
  llama_stats_get(&s0);
  int n = alloc_round(k);
  llama_stats_get(&s1);
  free_round(n);
  llama_stats_get(&s2);
  int known = k < LLAMA_NUM_CLASSES;

  if (known) {
    EXPECT(s1.allocations_static - s0.allocations_static == (uint64_t)n,
           "class %u: allocations_static moved by %llu, want %d", k,
           (unsigned long long)(s1.allocations_static - s0.allocations_static), n);
    EXPECT(s1.allocations_default == s0.allocations_default,
           "class %u: allocations_default moved by %llu, want 0", k,
           (unsigned long long)(s1.allocations_default - s0.allocations_default));
  } else {
    EXPECT(s1.allocations_default - s0.allocations_default == (uint64_t)n,
           "class %#x: allocations_default moved by %llu, want %d", k,
           (unsigned long long)(s1.allocations_default - s0.allocations_default), n);
    EXPECT(s1.allocations_static == s0.allocations_static,
           "class %#x (no class known): allocations_static moved by %llu, want 0", k,
           (unsigned long long)(s1.allocations_static - s0.allocations_static));
  }
  EXPECT(s1.allocations_predicted == s0.allocations_predicted,
         "class %#x: allocations_predicted moved", k);

  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
    long long da = DBIN(&s0, &s1, b, allocations);
    long long dl = DBIN(&s0, &s1, b, live_objects);
    long long db = DBIN(&s0, &s1, b, live_bytes);
    long long dl2 = DBIN(&s0, &s2, b, live_objects);
    long long db2 = DBIN(&s0, &s2, b, live_bytes);
    if (b == want_bin) {
      EXPECT(da == n, "class %#x: bin %u allocations moved by %lld, want %d", k, b, da, n);
      EXPECT(dl == n, "class %#x: bin %u live_objects moved by %lld, want %d", k, b, dl, n);
      EXPECT(db >= (long long)N * ROUND_BYTES,
             "class %#x: bin %u live_bytes moved by %lld, want >= %d", k, b, db,
             N * ROUND_BYTES);
      EXPECT(db <= (long long)N * ROUND_BYTES * 4,
             "class %#x: bin %u live_bytes moved by %lld for %d requested bytes", k, b,
             db, N * ROUND_BYTES);
    } else {
      EXPECT(da == 0 && dl == 0 && db == 0,
             "class %#x: bin %u (not %u) moved: allocations %+lld live %+lld bytes %+lld",
             k, b, want_bin, da, dl, db);
    }
    EXPECT(dl2 == 0 && db2 == 0,
           "class %#x: bin %u after free: live_objects %+lld live_bytes %+lld", k, b,
           dl2, db2);
  }
}

/* realloc_class moves to the new class when the object has to move; an
 * in-place resize keeps its bin. Contents survive either way. */
static void check_realloc_between_classes(void) {
  for (unsigned from = 0; from < LLAMA_NUM_CLASSES; from++) {
    unsigned to = (from + 3) % LLAMA_NUM_CLASSES;
    llama_stats_t s0, s1, s2;
    llama_stats_get(&s0);
    char *p = llama_malloc_class(100, from);
    REQUIRE(p, "llama_malloc_class failed");
    lt_fill(p, 100, from);
    char *q = llama_realloc_class(p, 3000, to);
    REQUIRE(q, "llama_realloc_class(p, 3000, %u) failed", to);
    LT_VERIFY(q, 100, from, "llama_realloc_class content");
    lt_fill(q, 3000, from + 10);
    llama_stats_get(&s1);
    unsigned where = q == p ? from : to;
    long long dw = DBIN(&s0, &s1, where, live_objects);
    EXPECT(dw == 1, "realloc_class %u->%u (%s): bin %u live_objects %+lld, want +1", from,
           to, q == p ? "in place" : "moved", where, dw);
    if (q != p) {
      long long df = DBIN(&s0, &s1, from, live_objects);
      EXPECT(df == 0, "realloc_class %u->%u moved: old bin %u live_objects %+lld", from,
             to, from, df);
    }
    /* Shrink keeps the content prefix. */
    char *r = llama_realloc_class(q, 50, from);
    REQUIRE(r, "llama_realloc_class shrink failed");
    LT_VERIFY(r, 50, from + 10, "llama_realloc_class shrink");
    /* n == 0 frees and returns NULL. */
    errno = 0;
    void *z = llama_realloc_class(r, 0, to);
    EXPECT(z == NULL, "llama_realloc_class(p, 0, %u) = %p, want NULL", to, z);
    if (z) free(z);
    llama_stats_get(&s2);
    EXPECT(LT_SUM(&s2, live_objects) == LT_SUM(&s0, live_objects),
           "realloc_class %u->%u: live objects %llu -> %llu after free", from, to,
           (unsigned long long)LT_SUM(&s0, live_objects),
           (unsigned long long)LT_SUM(&s2, live_objects));
  }
}

/* Large objects in every class, zeroing of reused memory in every class. */
static void check_large_and_zero(void) {
  static const size_t sizes[] = {40000, 300000, 1u << 20, 3u << 20, 9u << 20};
  for (unsigned k = 0; k <= LLAMA_NUM_CLASSES; k++) {
    unsigned kk = k == LLAMA_NUM_CLASSES ? LLAMA_CLASS_UNKNOWN : k;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
      size_t n = sizes[i];
      llama_stats_t s0, s1, s2;
      llama_stats_get(&s0);
      char *p = llama_malloc_class(n, kk);
      REQUIRE(p, "llama_malloc_class(%zu, %#x) failed", n, kk);
      EXPECT(malloc_usable_size(p) >= n, "usable size %zu < %zu", malloc_usable_size(p), n);
      memset(p, 0xff, n);
      llama_stats_get(&s1);
      uint64_t d = LT_SUM(&s1, live_objects) + s1.large_live_objects -
                   LT_SUM(&s0, live_objects) - s0.large_live_objects;
      EXPECT(d >= 1, "llama_malloc_class(%zu, %#x) not counted live", n, kk);
      if (kk < LLAMA_NUM_CLASSES)
        EXPECT(s1.bins[kk].allocations - s0.bins[kk].allocations == 1 ||
                   s1.large_live_objects - s0.large_live_objects == 1,
               "llama_malloc_class(%zu, %u): neither bin %u nor large objects counted it",
               n, kk, kk);
      free(p);
      char *c = llama_calloc_class(1, n, kk);
      REQUIRE(c, "llama_calloc_class(1, %zu, %#x) failed", n, kk);
      EXPECT(lt_is_zero(c, n), "llama_calloc_class(1, %zu, %#x) not zero after reuse", n,
             kk);
      free(c);
      llama_stats_get(&s2);
      EXPECT(LT_SUM(&s2, live_objects) == LT_SUM(&s0, live_objects) &&
                 s2.large_live_objects == s0.large_live_objects &&
                 s2.large_live_bytes == s0.large_live_bytes,
             "class %#x size %zu: live counters not restored after free", kk, n);
    }
    /* Small dirty reuse. */
    static char *blk[1000];
    for (int i = 0; i < 1000; i++) {
      blk[i] = llama_malloc_class(96, kk);
      REQUIRE(blk[i], "llama_malloc_class failed");
      memset(blk[i], 0xff, 96);
    }
    for (int i = 0; i < 1000; i++) free(blk[i]);
    for (int i = 0; i < 1000; i++) {
      blk[i] = llama_calloc_class(3, 32, kk);
      REQUIRE(blk[i], "llama_calloc_class failed");
      EXPECT(lt_is_zero(blk[i], 96), "llama_calloc_class(3, 32, %#x) #%d not zero", kk, i);
    }
    for (int i = 0; i < 1000; i++) free(blk[i]);
  }
}

/* Aligned class allocations over all alignments 8 .. 2 MiB. */
static void check_aligned(void) {
  for (unsigned k = 0; k < LLAMA_NUM_CLASSES; k++) {
    for (size_t a = sizeof(void *); a <= ((size_t)2 << 20); a <<= 1) {
      size_t n = a * 3 + k;
      void *p = llama_aligned_alloc_class(a, n, k);
      REQUIRE(p, "llama_aligned_alloc_class(%zu, %zu, %u) failed", a, n, k);
      EXPECT(lt_aligned(p, a), "llama_aligned_alloc_class(%zu, %zu, %u) = %p", a, n, k, p);
      EXPECT(malloc_usable_size(p) >= n, "aligned class usable size");
      lt_fill(p, n, a + k);
      void *q = NULL;
      int rc = llama_posix_memalign_class(&q, a, n, k);
      REQUIRE(rc == 0 && q, "llama_posix_memalign_class(%zu, %zu, %u) = %d", a, n, k, rc);
      EXPECT(lt_aligned(q, a), "llama_posix_memalign_class(%zu, %zu, %u) = %p", a, n, k, q);
      lt_fill(q, n, a + k + 1);
      LT_VERIFY(p, n, a + k, "llama_aligned_alloc_class");
      LT_VERIFY(q, n, a + k + 1, "llama_posix_memalign_class");
      free(p);
      free(q);
    }
  }
}

static void check_bounds(void) {
  uint64_t want = 10000000ull; /* 10 ms */
  for (unsigned k = 0; k < LLAMA_NUM_CLASSES; k++) {
    uint64_t b = llama_class_bound_ns(k);
    if (k == LLAMA_NUM_CLASSES - 1)
      EXPECT(b == UINT64_MAX, "llama_class_bound_ns(%u) = %llu, want UINT64_MAX", k,
             (unsigned long long)b);
    else
      EXPECT(b == want, "llama_class_bound_ns(%u) = %llu, want %llu", k,
             (unsigned long long)b, (unsigned long long)want);
    want *= 10;
  }
}

int main(void) {
  lt_watchdog(60);
  /* Warm up the thread heap so first-use allocations don't disturb counts. */
  free(llama_malloc_class(8, 0));
  free(malloc(8));

  unsigned def = find_default_bin();
  check_bounds();
  for (unsigned k = 0; k < LLAMA_NUM_CLASSES; k++) check_class(k, k);
  unsigned bad[] = {LLAMA_CLASS_UNKNOWN, LLAMA_NUM_CLASSES, LLAMA_NUM_CLASSES + 1, 99,
                    0x80000000u, 0xfffffffeu};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) check_class(bad[i], def);
  check_realloc_between_classes();
  check_large_and_zero();
  check_aligned();

  llama_stats_t s;
  llama_stats_get(&s);
  EXPECT(s.threads >= 1, "threads = %llu", (unsigned long long)s.threads);
  if (LT_FAILS()) lt_print_stats("end", &s);
  return lt_summary("class_api");
}
