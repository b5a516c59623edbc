// Conformance of the malloc family served by libllamalloc through the normal
// names: malloc, free, calloc, realloc, reallocarray, posix_memalign,
// aligned_alloc, memalign, valloc, pvalloc, malloc_usable_size. Every block is
// written in full and its pattern verified later (overlap detection); errors
// and overflow rules follow C11/POSIX/glibc; llama_stats_get proves that
// llamalloc, not glibc, served the calls and that nothing leaked.
//
// -fno-builtin: keep clang from eliding malloc/free pairs or folding calls.
// RUN: %cc -fno-builtin %s -o %t %link_llamalloc
// RUN: %t 2>&1 | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: conformance: PASSED (0 failures)

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llamalloc.h"
#include "../Inputs/llama_test.h"

#define KiB ((size_t)1024)
#define MiB ((size_t)1024 * 1024)

/* Sizes the compiler cannot see through. */
static volatile size_t v_size_max = SIZE_MAX;
static volatile size_t v_ptrdiff_max = PTRDIFF_MAX;

static size_t page_size;

static const size_t sizes[] = {
    0, 1, 2, 3, 5, 7, 8, 9, 13, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 48,
    49, 63, 64, 65, 96, 100, 127, 128, 129, 200, 255, 256, 257, 383, 384, 500,
    511, 512, 513, 767, 1000, 1023, 1024, 1025, 1500, 2047, 2048, 2049, 3000,
    4000, 4095, 4096, 4097, 6000, 8191, 8192, 8193, 12345, 16383, 16384, 16385,
    32767, 32768, 32769, 50000, 65535, 65536, 65537, 100000, 131071, 131072,
    131073, 200000, 262143, 262144, 262145, 500000, 1 * MiB - 1, 1 * MiB,
    1 * MiB + 1, 2 * MiB - 17, 2 * MiB, 2 * MiB + 1, 3 * MiB + 17, 4 * MiB,
    8 * MiB + 5};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* Minimum alignment malloc(n) must give: _Alignof(max_align_t) for blocks that
 * can hold such an object, else the largest power of two <= n. */
static size_t min_align(size_t n) {
  size_t a = _Alignof(max_align_t);
  while (a > 1 && a > n) a >>= 1;
  return a;
}

/* ---- malloc / free / malloc_usable_size over many sizes ------------------ */
static void test_malloc_sizes(void) {
  static void *p[NSIZES];
  static size_t us[NSIZES];
  for (int round = 0; round < 3; round++) {
    for (size_t i = 0; i < NSIZES; i++) {
      size_t n = sizes[i];
      p[i] = malloc(n);
      if (n == 0) {
        /* NULL or a unique pointer that can be freed. */
        us[i] = p[i] ? malloc_usable_size(p[i]) : 0;
        if (p[i]) lt_fill(p[i], us[i], 1000 * round + i);
        continue;
      }
      REQUIRE(p[i] != NULL, "malloc(%zu) returned NULL (errno %d)", n, errno);
      EXPECT(lt_aligned(p[i], min_align(n)), "malloc(%zu) = %p not aligned to %zu",
             n, p[i], min_align(n));
      us[i] = malloc_usable_size(p[i]);
      EXPECT(us[i] >= n, "malloc_usable_size(malloc(%zu)) = %zu", n, us[i]);
      if (us[i] < n) us[i] = n;
      /* The whole usable size is ours to write. */
      lt_fill(p[i], us[i], 1000 * round + i);
    }
    /* Distinct non-NULL zero-size blocks. */
    void *z1 = malloc(0), *z2 = malloc(0);
    EXPECT(!(z1 && z2 && z1 == z2), "two live malloc(0) blocks share address %p", z1);
    free(z1);
    free(z2);
    for (size_t i = 0; i < NSIZES; i++)
      if (p[i]) LT_VERIFY(p[i], us[i], 1000 * round + i, "malloc sizes");
    /* Free in a different order each round, verifying survivors. */
    for (size_t k = 0; k < NSIZES; k++) {
      size_t i = round == 0 ? k : round == 1 ? NSIZES - 1 - k : (k * 7) % NSIZES;
      if (!p[i]) continue;
      LT_VERIFY(p[i], us[i], 1000 * round + i, "malloc sizes before free");
      free(p[i]);
      p[i] = NULL;
    }
    for (size_t i = 0; i < NSIZES; i++) {
      if (p[i]) {
        free(p[i]);
        p[i] = NULL;
      }
    }
  }
}

/* ---- many small blocks: overlap detection with churn --------------------- */
#define NSMALL 20000
static void *small_p[NSMALL];
static size_t small_n[NSMALL];
static uint64_t small_seed[NSMALL];

static void test_small_churn(void) {
  uint64_t rng = 0x1234567;
  for (int i = 0; i < NSMALL; i++) {
    size_t n = 1 + lt_rand(&rng) % (i % 10 == 0 ? 4096 : 512);
    small_p[i] = malloc(n);
    REQUIRE(small_p[i], "malloc(%zu) failed", n);
    small_n[i] = n;
    small_seed[i] = lt_rand(&rng);
    lt_fill(small_p[i], n, small_seed[i]);
  }
  for (int pass = 0; pass < 4; pass++) {
    for (int i = 0; i < NSMALL; i++) {
      if (lt_rand(&rng) & 1) {
        LT_VERIFY(small_p[i], small_n[i], small_seed[i], "small churn before free");
        free(small_p[i]);
        small_p[i] = NULL;
      }
    }
    for (int i = 0; i < NSMALL; i++) {
      if (small_p[i]) continue;
      size_t n = 1 + lt_rand(&rng) % (i % 10 == 0 ? 8192 : 256);
      small_p[i] = malloc(n);
      REQUIRE(small_p[i], "malloc(%zu) failed", n);
      EXPECT(lt_aligned(small_p[i], min_align(n)), "malloc(%zu) = %p misaligned", n,
             small_p[i]);
      small_n[i] = n;
      small_seed[i] = lt_rand(&rng);
      lt_fill(small_p[i], n, small_seed[i]);
    }
  }
  for (int i = 0; i < NSMALL; i++) {
    LT_VERIFY(small_p[i], small_n[i], small_seed[i], "small churn final");
    free(small_p[i]);
  }
}

/* ---- aligned allocation ------------------------------------------------- */
enum { VIA_POSIX, VIA_ALIGNED, VIA_MEMALIGN };
static const char *via_name[] = {"posix_memalign", "aligned_alloc", "memalign"};

static void *alloc_aligned_via(int via, size_t a, size_t n) {
  void *p = NULL;
  switch (via) {
  case VIA_POSIX: {
    void *out = (void *)0x5a5a;
    int rc = posix_memalign(&out, a, n);
    EXPECT(rc == 0, "posix_memalign(%zu, %zu) = %d", a, n, rc);
    p = rc == 0 ? out : NULL;
    break;
  }
  case VIA_ALIGNED:
    p = aligned_alloc(a, n);
    break;
  case VIA_MEMALIGN:
    p = memalign(a, n);
    break;
  }
  return p;
}

static void test_aligned(void) {
  static const size_t aligns[] = {8,    16,    32,    64,    128,   256,
                                  512,  1024,  2048,  4096,  8192,  16384,
                                  32768, 65536};
  for (size_t ai = 0; ai < sizeof aligns / sizeof aligns[0]; ai++) {
    size_t a = aligns[ai];
    size_t ns[] = {1, 7, a - 1 ? a - 1 : 1, a, a + 1, 3 * a, 100, 5000, 70000,
                   1 * MiB + 3, 2 * MiB + a};
    enum { NN = sizeof ns / sizeof ns[0] };
    void *p[3][NN];
    size_t us[3][NN];
    for (int via = 0; via < 3; via++) {
      for (int j = 0; j < NN; j++) {
        size_t n = ns[j];
        /* aligned_alloc: C11 wanted n to be a multiple of a; C17 dropped
         * that. Exercise both, multiples on odd j. */
        if (via == VIA_ALIGNED && (j & 1)) n = (n + a - 1) & ~(a - 1);
        p[via][j] = alloc_aligned_via(via, a, n);
        REQUIRE(p[via][j], "%s(%zu, %zu) returned NULL (errno %d)", via_name[via],
                a, n, errno);
        EXPECT(lt_aligned(p[via][j], a), "%s(%zu, %zu) = %p misaligned", via_name[via],
               a, n, p[via][j]);
        us[via][j] = malloc_usable_size(p[via][j]);
        EXPECT(us[via][j] >= n, "%s(%zu, %zu): usable %zu", via_name[via], a, n,
               us[via][j]);
        if (us[via][j] < n) us[via][j] = n;
        lt_fill(p[via][j], us[via][j], a * 100 + via * 20 + j);
      }
    }
    for (int via = 0; via < 3; via++)
      for (int j = 0; j < NN; j++) {
        LT_VERIFY(p[via][j], us[via][j], a * 100 + via * 20 + j, via_name[via]);
        free(p[via][j]);
      }
  }

  /* Big alignments for posix_memalign. */
  static const size_t big_aligns[] = {128 * KiB, 1 * MiB, 2 * MiB, 4 * MiB};
  for (size_t ai = 0; ai < sizeof big_aligns / sizeof big_aligns[0]; ai++) {
    size_t a = big_aligns[ai];
    size_t ns[] = {1, 100, 4096, a, 5 * MiB};
    void *p[5];
    for (int j = 0; j < 5; j++) {
      void *out = NULL;
      int rc = posix_memalign(&out, a, ns[j]);
      EXPECT(rc == 0, "posix_memalign(%zu, %zu) = %d", a, ns[j], rc);
      REQUIRE(rc != 0 || out, "posix_memalign(%zu, %zu) returned 0 and NULL", a, ns[j]);
      p[j] = rc == 0 ? out : NULL;
      if (!p[j]) continue;
      EXPECT(lt_aligned(p[j], a), "posix_memalign(%zu, %zu) = %p misaligned", a, ns[j],
             p[j]);
      EXPECT(malloc_usable_size(p[j]) >= ns[j], "usable size of posix_memalign(%zu,%zu)",
             a, ns[j]);
      lt_fill(p[j], ns[j], a + j);
    }
    for (int j = 0; j < 5; j++)
      if (p[j]) {
        LT_VERIFY(p[j], ns[j], a + j, "posix_memalign big alignment");
        free(p[j]);
      }
  }

  /* valloc / pvalloc */
  size_t vs[] = {1, 100, page_size - 1, page_size, page_size + 1, 100000, 3 * MiB + 1};
  for (size_t j = 0; j < sizeof vs / sizeof vs[0]; j++) {
    void *v = valloc(vs[j]);
    REQUIRE(v, "valloc(%zu) failed", vs[j]);
    EXPECT(lt_aligned(v, page_size), "valloc(%zu) = %p not page aligned", vs[j], v);
    EXPECT(malloc_usable_size(v) >= vs[j], "valloc(%zu) usable %zu", vs[j],
           malloc_usable_size(v));
    lt_fill(v, vs[j], j);
    void *pv = pvalloc(vs[j]);
    REQUIRE(pv, "pvalloc(%zu) failed", vs[j]);
    size_t rounded = (vs[j] + page_size - 1) & ~(page_size - 1);
    EXPECT(lt_aligned(pv, page_size), "pvalloc(%zu) = %p not page aligned", vs[j], pv);
    EXPECT(malloc_usable_size(pv) >= rounded, "pvalloc(%zu) usable %zu < %zu", vs[j],
           malloc_usable_size(pv), rounded);
    lt_fill(pv, rounded, j + 77); /* pvalloc gives whole pages */
    LT_VERIFY(v, vs[j], j, "valloc");
    LT_VERIFY(pv, rounded, j + 77, "pvalloc");
    free(v);
    free(pv);
  }
  void *pv0 = pvalloc(0);
  if (pv0) {
    EXPECT(lt_aligned(pv0, page_size), "pvalloc(0) = %p not page aligned", pv0);
    free(pv0);
  }
}

/* ---- realloc ------------------------------------------------------------ */
static void test_realloc(void) {
  /* realloc(NULL, n) behaves like malloc(n). */
  char *p = realloc(NULL, 100);
  REQUIRE(p, "realloc(NULL, 100) failed");
  lt_fill(p, 100, 5);
  LT_VERIFY(p, 100, 5, "realloc(NULL)");
  free(p);

  /* Grow small -> large -> huge, then shrink back, verifying the preserved
   * prefix each step. */
  static const size_t ladder[] = {1,        7,       16,       24,       100,
                                  255,      1000,    4096,     4097,     65536,
                                  200000,   1 * MiB, 2 * MiB,  5 * MiB + 3,
                                  33 * MiB, 5 * MiB, 2 * MiB,  1 * MiB - 5,
                                  70000,    4096,    1000,     100,      17,
                                  1,        3 * MiB, 8};
  size_t cur = 0;
  uint64_t seed = 0;
  p = NULL;
  for (size_t i = 0; i < sizeof ladder / sizeof ladder[0]; i++) {
    size_t n = ladder[i];
    char *q = realloc(p, n);
    REQUIRE(q, "realloc(%p, %zu) from %zu failed", (void *)p, n, cur);
    EXPECT(lt_aligned(q, min_align(n)), "realloc to %zu: %p misaligned", n, (void *)q);
    EXPECT(malloc_usable_size(q) >= n, "realloc to %zu: usable %zu", n,
           malloc_usable_size(q));
    size_t keep = cur < n ? cur : n;
    size_t bad = lt_check(q, keep, seed);
    EXPECT(bad == (size_t)-1, "realloc %zu -> %zu lost content at byte %zu", cur, n, bad);
    seed++;
    lt_fill(q, n, seed);
    p = q;
    cur = n;
  }
  /* Same size. */
  char *q = realloc(p, cur);
  REQUIRE(q, "realloc to same size failed");
  LT_VERIFY(q, cur, seed, "realloc same size");
  free(q);

  /* Two blocks growing alternately: in-place growth is blocked by the
   * neighbour, so the allocator has to move them. */
  char *a = malloc(16), *b = malloc(16);
  REQUIRE(a && b, "malloc failed");
  lt_fill(a, 16, 100);
  lt_fill(b, 16, 200);
  size_t na = 16, nb = 16;
  for (int i = 0; i < 40; i++) {
    size_t nn = na + 1 + (na / 3);
    char *t = realloc(a, nn);
    REQUIRE(t, "realloc(%zu) failed", nn);
    LT_VERIFY(t, na, 100 + i, "alternating realloc a");
    lt_fill(t, nn, 101 + i);
    a = t;
    na = nn;
    nn = nb + 3 + (nb / 4);
    t = realloc(b, nn);
    REQUIRE(t, "realloc(%zu) failed", nn);
    LT_VERIFY(t, nb, 200 + i, "alternating realloc b");
    lt_fill(t, nn, 201 + i);
    b = t;
    nb = nn;
  }
  free(a);
  free(b);

  /* realloc(p, 0): glibc frees p and returns NULL; a valid pointer is also
   * accepted, but it must not leak. */
  llama_stats_t s0, s1;
  llama_stats_get(&s0);
  for (int i = 0; i < 100; i++) {
    size_t n = i % 2 ? 40 : 300000;
    char *r = malloc(n);
    REQUIRE(r, "malloc failed");
    memset(r, 1, n);
    errno = 0;
    char *z = realloc(r, 0);
    if (z) free(z);
  }
  llama_stats_get(&s1);
  EXPECT(LT_SUM(&s1, live_objects) == LT_SUM(&s0, live_objects),
         "realloc(p, 0) leaked: live objects %llu -> %llu",
         (unsigned long long)LT_SUM(&s0, live_objects),
         (unsigned long long)LT_SUM(&s1, live_objects));
  EXPECT(s1.large_live_objects == s0.large_live_objects,
         "realloc(p, 0) leaked large objects: %llu -> %llu",
         (unsigned long long)s0.large_live_objects,
         (unsigned long long)s1.large_live_objects);

  /* Failed realloc leaves the block untouched. */
  size_t bigs[] = {v_size_max, v_size_max - 4096, v_ptrdiff_max + 1};
  for (int sm = 0; sm < 2; sm++) {
    size_t n0 = sm ? 3 * MiB : 64;
    char *r = malloc(n0);
    REQUIRE(r, "malloc failed");
    lt_fill(r, n0, 9);
    for (int i = 0; i < 3; i++) {
      errno = 0;
      char *t = realloc(r, bigs[i]);
      EXPECT(t == NULL, "realloc(%zu bytes, %zu) = %p", n0, bigs[i], (void *)t);
      EXPECT(errno == ENOMEM, "realloc(%zu bytes, %zu): errno %d", n0, bigs[i], errno);
      LT_VERIFY(r, n0, 9, "block after failed realloc");
    }
    free(r);
  }
}

/* ---- calloc ------------------------------------------------------------- */
static void test_calloc(void) {
  static const size_t cs[] = {1,    7,     16,    100,    1000,    4096,
                              4097, 65536, 70000, 1 * MiB, 3 * MiB, 9 * MiB + 7};
  for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
    size_t n = cs[i];
    /* Dirty memory first: the next calloc of the same size likely reuses it. */
    char *d = malloc(n);
    REQUIRE(d, "malloc(%zu) failed", n);
    memset(d, 0xff, malloc_usable_size(d));
    void *dirty_addr = d;
    free(d);
    char *c = calloc(1, n);
    REQUIRE(c, "calloc(1, %zu) failed", n);
    EXPECT(lt_is_zero(c, n), "calloc(1, %zu) not zeroed (reused %s)", n,
           (void *)c == dirty_addr ? "same address" : "other address");
    EXPECT(malloc_usable_size(c) >= n, "calloc usable size");
    lt_fill(c, n, i);
    free(c);
    /* Element-count form. */
    c = calloc(n, 3);
    REQUIRE(c, "calloc(%zu, 3) failed", n);
    EXPECT(lt_is_zero(c, 3 * n), "calloc(%zu, 3) not zeroed", n);
    free(c);
  }
  /* Many dirty small blocks, freed, then calloc'ed again. */
  static char *blk[4000];
  for (int sz = 8; sz <= 2048; sz *= 4) {
    for (int i = 0; i < 4000; i++) {
      blk[i] = malloc(sz);
      REQUIRE(blk[i], "malloc failed");
      memset(blk[i], 0xa5, sz);
    }
    for (int i = 0; i < 4000; i++) free(blk[i]);
    for (int i = 0; i < 4000; i++) {
      blk[i] = calloc(1, sz);
      REQUIRE(blk[i], "calloc failed");
      EXPECT(lt_is_zero(blk[i], sz), "calloc(1, %d) #%d not zero after reuse", sz, i);
    }
    for (int i = 0; i < 4000; i++) free(blk[i]);
  }
  /* Zero-size forms: NULL or a freeable pointer. */
  void *z = calloc(0, 10);
  free(z);
  z = calloc(10, 0);
  free(z);
  /* Overflow of count * size. */
  size_t ov[][2] = {{v_size_max / 2 + 1, 2},
                    {(size_t)1 << 32, (size_t)1 << 32},
                    {v_size_max, v_size_max},
                    {3, v_size_max / 3 + 1},
                    {v_size_max, 1},
                    {1, v_size_max - 4096},
                    {v_ptrdiff_max + 1, 1}};
  for (size_t i = 0; i < sizeof ov / sizeof ov[0]; i++) {
    errno = 0;
    void *c = calloc(ov[i][0], ov[i][1]);
    EXPECT(c == NULL, "calloc(%zu, %zu) = %p", ov[i][0], ov[i][1], c);
    EXPECT(errno == ENOMEM, "calloc(%zu, %zu): errno %d", ov[i][0], ov[i][1], errno);
    if (c) free(c);
  }
}

/* ---- reallocarray ------------------------------------------------------- */
static void test_reallocarray(void) {
  int *a = reallocarray(NULL, 10, sizeof(int));
  REQUIRE(a, "reallocarray(NULL, 10, 4) failed");
  for (int i = 0; i < 10; i++) a[i] = i * 7;
  int *b = reallocarray(a, 100000, sizeof(int));
  REQUIRE(b, "reallocarray grow failed");
  for (int i = 0; i < 10; i++) EXPECT(b[i] == i * 7, "reallocarray lost a[%d]=%d", i, b[i]);
  for (int i = 0; i < 100000; i++) b[i] = i;
  a = b;
  size_t ov[][2] = {{v_size_max / 2 + 1, 2},
                    {(size_t)1 << 33, (size_t)1 << 31},
                    {v_size_max, sizeof(int)},
                    {v_ptrdiff_max / 4 + 1, 4},
                    {1, v_size_max - 4096}};
  for (size_t i = 0; i < sizeof ov / sizeof ov[0]; i++) {
    errno = 0;
    b = reallocarray(a, ov[i][0], ov[i][1]);
    EXPECT(b == NULL, "reallocarray(p, %zu, %zu) = %p", ov[i][0], ov[i][1], (void *)b);
    EXPECT(errno == ENOMEM, "reallocarray(p, %zu, %zu): errno %d", ov[i][0], ov[i][1],
           errno);
    if (b) a = b;
  }
  for (int i = 0; i < 100000; i++)
    if (a[i] != i) {
      EXPECT(a[i] == i, "reallocarray failure damaged a[%d] = %d", i, a[i]);
      break;
    }
  b = reallocarray(a, 5, sizeof(int));
  REQUIRE(b, "reallocarray shrink failed");
  for (int i = 0; i < 5; i++) EXPECT(b[i] == i, "reallocarray shrink lost b[%d]", i);
  free(b);
}

/* ---- argument errors ---------------------------------------------------- */
static void test_errors(void) {
  size_t bad_align[] = {0, 3, 24, sizeof(void *) / 2, 12, 48, 1, 2, 4096 + 8};
  for (size_t i = 0; i < sizeof bad_align / sizeof bad_align[0]; i++) {
    void *out = (void *)(uintptr_t)0xdeadbeef;
    int rc = posix_memalign(&out, bad_align[i], 64);
    EXPECT(rc == EINVAL, "posix_memalign(align %zu) = %d, want EINVAL", bad_align[i], rc);
    EXPECT(out == (void *)(uintptr_t)0xdeadbeef,
           "posix_memalign(align %zu) touched *out (%p)", bad_align[i], out);
    if (rc == 0 && out != (void *)(uintptr_t)0xdeadbeef) free(out);
  }
  /* aligned_alloc with a non-power-of-two alignment: NULL (EINVAL, as glibc
   * 2.38+ and llama_aligned_alloc_class). */
  size_t np2[] = {3, 24, 48, 100, 4095, 12288};
  for (size_t i = 0; i < sizeof np2 / sizeof np2[0]; i++) {
    errno = 0;
    void *p = aligned_alloc(np2[i], np2[i] * 4);
    EXPECT(p == NULL, "aligned_alloc(%zu, %zu) = %p, want NULL", np2[i], np2[i] * 4, p);
    EXPECT(p != NULL || errno == EINVAL, "aligned_alloc(%zu): errno %d, want EINVAL",
           np2[i], errno);
    free(p);
  }

  /* Impossible sizes: NULL with ENOMEM everywhere. */
  size_t huge[] = {v_size_max, v_size_max - 4096, v_ptrdiff_max + 1, v_size_max - 1,
                   v_size_max - 2 * MiB};
  char *live = malloc(100);
  REQUIRE(live, "malloc failed");
  lt_fill(live, 100, 42);
  for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
    size_t n = huge[i];
    void *p;
#define HUGE_NULL(call, name)                                                  \
  do {                                                                         \
    errno = 0;                                                                 \
    p = (call);                                                                \
    EXPECT(p == NULL, "%s(%zu) = %p, want NULL", name, n, p);                  \
    EXPECT(errno == ENOMEM, "%s(%zu): errno %d, want ENOMEM", name, n, errno); \
    if (p) free(p);                                                            \
  } while (0)
    HUGE_NULL(malloc(n), "malloc");
    HUGE_NULL(calloc(1, n), "calloc(1, n)");
    HUGE_NULL(calloc(n, 1), "calloc(n, 1)");
    HUGE_NULL(realloc(NULL, n), "realloc(NULL, n)");
    HUGE_NULL(realloc(live, n), "realloc(p, n)");
    HUGE_NULL(reallocarray(NULL, 1, n), "reallocarray(NULL, 1, n)");
    HUGE_NULL(reallocarray(live, n, 1), "reallocarray(p, n, 1)");
    HUGE_NULL(aligned_alloc(64, n), "aligned_alloc(64, n)");
    HUGE_NULL(aligned_alloc(4096, n), "aligned_alloc(4096, n)");
    HUGE_NULL(memalign(64, n), "memalign(64, n)");
    HUGE_NULL(memalign(2 * MiB, n), "memalign(2M, n)");
    HUGE_NULL(valloc(n), "valloc");
    HUGE_NULL(pvalloc(n), "pvalloc");
#undef HUGE_NULL
    size_t aligns[] = {16, 64, 4096, 2 * MiB};
    for (int j = 0; j < 4; j++) {
      void *out = (void *)(uintptr_t)0xfeedf00d;
      int rc = posix_memalign(&out, aligns[j], n);
      EXPECT(rc == ENOMEM, "posix_memalign(%zu, %zu) = %d, want ENOMEM", aligns[j], n, rc);
      EXPECT(out == (void *)(uintptr_t)0xfeedf00d, "posix_memalign(%zu, %zu) touched *out",
             aligns[j], n);
      if (rc == 0) free(out);
    }
  }
  LT_VERIFY(live, 100, 42, "block after failed realloc/reallocarray");
  free(live);
}

/* ---- malloc_usable_size, free(NULL), errno preservation ------------------ */
static void test_usable_and_free(void) {
  EXPECT(malloc_usable_size(NULL) == 0, "malloc_usable_size(NULL) = %zu",
         malloc_usable_size(NULL));
  free(NULL);
  size_t ns[] = {1, 24, 1000, 70000, 3 * MiB};
  for (int i = 0; i < 5; i++) {
    char *p = malloc(ns[i]);
    REQUIRE(p, "malloc failed");
    size_t u = malloc_usable_size(p);
    EXPECT(u >= ns[i], "usable %zu < %zu", u, ns[i]);
    /* Usable size does not grow while the block is live. */
    EXPECT(malloc_usable_size(p) == u, "usable size changed");
    memset(p, 0x3c, u);
    char *q = malloc(ns[i]); /* a neighbour must not overlap the usable area */
    REQUIRE(q, "malloc failed");
    memset(q, 0xc3, malloc_usable_size(q));
    for (size_t k = 0; k < u; k++)
      if ((unsigned char)p[k] != 0x3c) {
        EXPECT(0, "byte %zu of usable area (%zu) of malloc(%zu) overwritten by a neighbour",
               k, u, ns[i]);
        break;
      }
    free(q);
    errno = 1234;
    free(p);
    EXPECT(errno == 1234, "free(malloc(%zu)) changed errno to %d", ns[i], errno);
  }
  /* errno through aligned and huge frees, free(NULL). */
  void *a = aligned_alloc(4096, 8192);
  void *h = malloc(20 * MiB);
  REQUIRE(a && h, "allocation failed");
  memset(h, 1, 20 * MiB);
  errno = 1234;
  free(a);
  EXPECT(errno == 1234, "free(aligned) changed errno to %d", errno);
  free(h);
  EXPECT(errno == 1234, "free(20 MiB) changed errno to %d", errno);
  free(NULL);
  EXPECT(errno == 1234, "free(NULL) changed errno to %d", errno);
  a = malloc(100);
  errno = 1234;
  void *z = realloc(a, 0);
  if (z) free(z);
}

/* ---- the allocator in use is llamalloc ---------------------------------- */
static void test_is_llamalloc(void) {
  llama_stats_t s0, s1, s2;
  static void *p[100];
  EXPECT(llama_stats_get(&s0) == 0, "llama_stats_get failed");
  for (int i = 0; i < 100; i++) p[i] = malloc(64);
  llama_stats_get(&s1);
  for (int i = 0; i < 100; i++) free(p[i]);
  llama_stats_get(&s2);
  EXPECT(s1.allocations_default - s0.allocations_default >= 100,
         "plain malloc did not reach llamalloc: allocations_default %llu -> %llu",
         (unsigned long long)s0.allocations_default,
         (unsigned long long)s1.allocations_default);
  EXPECT(s1.allocations_static == s0.allocations_static,
         "plain malloc counted as static (%llu -> %llu)",
         (unsigned long long)s0.allocations_static,
         (unsigned long long)s1.allocations_static);
  EXPECT(LT_SUM(&s1, allocations) - LT_SUM(&s0, allocations) >= 100,
         "bins' allocations moved by %llu, want >= 100",
         (unsigned long long)(LT_SUM(&s1, allocations) - LT_SUM(&s0, allocations)));
  EXPECT(LT_SUM(&s1, live_objects) - LT_SUM(&s0, live_objects) == 100,
         "live objects moved by %lld, want 100",
         (long long)(LT_SUM(&s1, live_objects) - LT_SUM(&s0, live_objects)));
  EXPECT(LT_SUM(&s1, live_bytes) - LT_SUM(&s0, live_bytes) >= 6400,
         "live bytes moved by %lld, want >= 6400",
         (long long)(LT_SUM(&s1, live_bytes) - LT_SUM(&s0, live_bytes)));
  EXPECT(LT_SUM(&s2, live_objects) == LT_SUM(&s0, live_objects),
         "live objects after free %llu, before %llu",
         (unsigned long long)LT_SUM(&s2, live_objects),
         (unsigned long long)LT_SUM(&s0, live_objects));
  EXPECT(LT_SUM(&s2, live_bytes) == LT_SUM(&s0, live_bytes),
         "live bytes after free %llu, before %llu",
         (unsigned long long)LT_SUM(&s2, live_bytes),
         (unsigned long long)LT_SUM(&s0, live_bytes));
  /* posix_memalign & co. reach llamalloc too. */
  llama_stats_get(&s0);
  void *q[6];
  REQUIRE(posix_memalign(&q[0], 64, 100) == 0, "posix_memalign failed");
  q[1] = aligned_alloc(256, 512);
  q[2] = memalign(128, 1000);
  q[3] = valloc(100);
  q[4] = pvalloc(100);
  q[5] = calloc(10, 10);
  llama_stats_get(&s1);
  for (int i = 0; i < 6; i++) free(q[i]);
  llama_stats_get(&s2);
  uint64_t d = LT_SUM(&s1, live_objects) + s1.large_live_objects -
               LT_SUM(&s0, live_objects) - s0.large_live_objects;
  EXPECT(d >= 6, "aligned allocations not seen by llamalloc: live objects +%llu",
         (unsigned long long)d);
  EXPECT(LT_SUM(&s2, live_objects) == LT_SUM(&s0, live_objects),
         "aligned allocations: live objects %llu after free, %llu before",
         (unsigned long long)LT_SUM(&s2, live_objects),
         (unsigned long long)LT_SUM(&s0, live_objects));
}

int main(void) {
  lt_watchdog(60);
  page_size = (size_t)sysconf(_SC_PAGESIZE);
  llama_stats_t start, end;
  llama_stats_get(&start);

  test_is_llamalloc();
  test_malloc_sizes();
  test_small_churn();
  test_aligned();
  test_realloc();
  test_calloc();
  test_reallocarray();
  test_errors();
  test_usable_and_free();

  /* Everything this test allocated is freed: the live counters are back. */
  llama_stats_get(&end);
  EXPECT(LT_SUM(&end, live_objects) == LT_SUM(&start, live_objects),
         "leak: live objects %llu at start, %llu at end",
         (unsigned long long)LT_SUM(&start, live_objects),
         (unsigned long long)LT_SUM(&end, live_objects));
  EXPECT(LT_SUM(&end, live_bytes) == LT_SUM(&start, live_bytes),
         "leak: live bytes %llu at start, %llu at end",
         (unsigned long long)LT_SUM(&start, live_bytes),
         (unsigned long long)LT_SUM(&end, live_bytes));
  EXPECT(end.large_live_objects == start.large_live_objects,
         "leak: large objects %llu at start, %llu at end",
         (unsigned long long)start.large_live_objects,
         (unsigned long long)end.large_live_objects);
  if (LT_FAILS()) {
    lt_print_stats("start", &start);
    lt_print_stats("end", &end);
  }
  return lt_summary("conformance");
}
