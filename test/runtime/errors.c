// Error paths of the class API, and real memory exhaustion:
//  * impossible sizes in every class function and every class -> NULL with
//    ENOMEM (llama_posix_memalign_class returns ENOMEM, leaves *out and errno
//    alone); overflowing llama_calloc_class -> NULL/ENOMEM; a failed
//    llama_realloc_class leaves the block intact;
//  * bad alignments -> EINVAL (llama_aligned_alloc_class: NULL + errno EINVAL;
//    llama_posix_memalign_class: returns EINVAL, *out and errno untouched);
//  * with RLIMIT_AS lowered, allocating until failure yields NULL + ENOMEM
//    (no crash, no abort), a failing realloc/calloc under pressure too, and
//    after freeing everything and restoring the limit allocation works again.
//
// RUN: %cc -fno-builtin %s -o %t %link_llamalloc
// RUN: %t 2>&1 | FileCheck %s
// CHECK-NOT: FAIL
// CHECK: exhaustion: {{[0-9]+}} MiB in 1 MiB blocks, {{[0-9]+}} small blocks
// CHECK: errors: PASSED (0 failures)

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "llamalloc.h"
#include "../Inputs/llama_test.h"

#define MiB ((size_t)1 << 20)
static volatile size_t v_size_max = SIZE_MAX;
static volatile size_t v_ptrdiff_max = PTRDIFF_MAX;

static const unsigned classes[] = {0, 1, 2, 3, 4, 5, 6, LLAMA_CLASS_UNKNOWN, 7, 99};
#define NCLASSES (sizeof classes / sizeof classes[0])

static void huge_sizes(void) {
  size_t huge[] = {v_size_max, v_size_max - 4096, v_ptrdiff_max + 1, v_size_max - 1,
                   v_size_max - 2 * MiB + 1, v_ptrdiff_max + 4096};
  for (size_t ci = 0; ci < NCLASSES; ci++) {
    unsigned k = classes[ci];
    char *live = llama_malloc_class(300, k);
    REQUIRE(live, "llama_malloc_class(300, %#x) failed", k);
    lt_fill(live, 300, k);
    for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
      size_t n = huge[i];
      void *p;
#define EXPECT_ENOMEM(call, name)                                                   \
  do {                                                                              \
    errno = 0;                                                                      \
    p = (call);                                                                     \
    EXPECT(p == NULL, "%s(n=%zu, class %#x) = %p, want NULL", name, n, k, p);       \
    EXPECT(errno == ENOMEM, "%s(n=%zu, class %#x): errno %d, want ENOMEM", name, n, \
           k, errno);                                                               \
    if (p) free(p);                                                                 \
  } while (0)
      EXPECT_ENOMEM(llama_malloc_class(n, k), "llama_malloc_class");
      EXPECT_ENOMEM(llama_calloc_class(1, n, k), "llama_calloc_class(1, n)");
      EXPECT_ENOMEM(llama_calloc_class(n, 1, k), "llama_calloc_class(n, 1)");
      EXPECT_ENOMEM(llama_realloc_class(NULL, n, k), "llama_realloc_class(NULL, n)");
      EXPECT_ENOMEM(llama_realloc_class(live, n, k), "llama_realloc_class(p, n)");
      EXPECT_ENOMEM(llama_aligned_alloc_class(16, n, k), "llama_aligned_alloc_class(16)");
      EXPECT_ENOMEM(llama_aligned_alloc_class(4096, n, k), "llama_aligned_alloc_class(4096)");
      EXPECT_ENOMEM(llama_aligned_alloc_class(2 * MiB, n, k), "llama_aligned_alloc_class(2M)");
#undef EXPECT_ENOMEM
      size_t aligns[] = {sizeof(void *), 64, 4096, 2 * MiB};
      for (int j = 0; j < 4; j++) {
        void *out = (void *)(uintptr_t)0xfeedf00d;
        errno = 777;
        int rc = llama_posix_memalign_class(&out, aligns[j], n, k);
        EXPECT(rc == ENOMEM, "llama_posix_memalign_class(align %zu, n=%zu, %#x) = %d, want ENOMEM",
               aligns[j], n, k, rc);
        EXPECT(out == (void *)(uintptr_t)0xfeedf00d,
               "llama_posix_memalign_class(align %zu, n=%zu, %#x) touched *out", aligns[j], n, k);
        EXPECT(errno == 777, "llama_posix_memalign_class(align %zu, n=%zu, %#x) changed errno to %d",
               aligns[j], n, k, errno);
        if (rc == 0) free(out);
      }
    }
    /* Overflowing count * size. */
    size_t ov[][2] = {{v_size_max / 2 + 1, 2}, {(size_t)1 << 32, (size_t)1 << 32},
                      {v_size_max, v_size_max}, {7, v_size_max / 7 + 1}};
    for (size_t i = 0; i < sizeof ov / sizeof ov[0]; i++) {
      errno = 0;
      void *p = llama_calloc_class(ov[i][0], ov[i][1], k);
      EXPECT(p == NULL && errno == ENOMEM,
             "llama_calloc_class(%zu, %zu, %#x) = %p errno %d, want NULL/ENOMEM", ov[i][0],
             ov[i][1], k, p, errno);
      if (p) free(p);
    }
    LT_VERIFY(live, 300, k, "block after failed llama_realloc_class");
    EXPECT(malloc_usable_size(live) >= 300, "block after failed realloc: usable size %zu",
           malloc_usable_size(live));
    free(live);
  }
}

static void bad_alignments(void) {
  size_t bad_pm[] = {0, 1, 2, 3, 4, 12, 24, 48, 100, 4097, sizeof(void *) / 2, 3 * 4096};
  size_t bad_aa[] = {0, 3, 12, 24, 48, 100, 4097, 3 * 4096, 5 * MiB};
  for (size_t ci = 0; ci < NCLASSES; ci++) {
    unsigned k = classes[ci];
    for (size_t i = 0; i < sizeof bad_pm / sizeof bad_pm[0]; i++) {
      void *out = (void *)(uintptr_t)0xdeadbeef;
      errno = 555;
      int rc = llama_posix_memalign_class(&out, bad_pm[i], 64, k);
      EXPECT(rc == EINVAL, "llama_posix_memalign_class(align %zu, 64, %#x) = %d, want EINVAL",
             bad_pm[i], k, rc);
      EXPECT(out == (void *)(uintptr_t)0xdeadbeef,
             "llama_posix_memalign_class(align %zu, %#x) touched *out", bad_pm[i], k);
      EXPECT(errno == 555, "llama_posix_memalign_class(align %zu, %#x) changed errno to %d",
             bad_pm[i], k, errno);
      if (rc == 0 && out != (void *)(uintptr_t)0xdeadbeef) free(out);
    }
    for (size_t i = 0; i < sizeof bad_aa / sizeof bad_aa[0]; i++) {
      errno = 0;
      void *p = llama_aligned_alloc_class(bad_aa[i], 64, k);
      EXPECT(p == NULL, "llama_aligned_alloc_class(align %zu, 64, %#x) = %p, want NULL",
             bad_aa[i], k, p);
      EXPECT(errno == EINVAL, "llama_aligned_alloc_class(align %zu, 64, %#x): errno %d, want EINVAL",
             bad_aa[i], k, errno);
      if (p) free(p);
    }
    /* An absurd power-of-two alignment cannot be satisfied: NULL (ENOMEM, or
     * EINVAL as glibc gives for alignments beyond SIZE_MAX/2+1). */
    size_t absurd[] = {(size_t)1 << 62, (size_t)1 << 63};
    for (int i = 0; i < 2; i++) {
      errno = 0;
      void *p = llama_aligned_alloc_class(absurd[i], 64, k);
      EXPECT(p == NULL && (errno == ENOMEM || errno == EINVAL),
             "llama_aligned_alloc_class(align %zu, %#x) = %p errno %d", absurd[i], k, p, errno);
      if (p) free(p);
      void *out = (void *)(uintptr_t)0xabc;
      int rc = llama_posix_memalign_class(&out, absurd[i], 64, k);
      EXPECT(rc == ENOMEM || rc == EINVAL, "llama_posix_memalign_class(align %zu, %#x) = %d",
             absurd[i], k, rc);
      EXPECT(out == (void *)(uintptr_t)0xabc || rc == 0, "*out touched on failure");
      if (rc == 0) free(out);
    }
    /* Alignment 1 .. 8 in aligned_alloc are fine (powers of two). */
    for (size_t a = 1; a <= 8; a <<= 1) {
      void *p = llama_aligned_alloc_class(a, 24, k);
      EXPECT(p != NULL, "llama_aligned_alloc_class(%zu, 24, %#x) failed (errno %d)", a, k, errno);
      free(p);
    }
  }
}

/* A list threaded through the blocks themselves: no side allocation. */
struct blk {
  struct blk *next;
};

static void exhaustion(void) {
  struct rlimit old, lim;
  REQUIRE(getrlimit(RLIMIT_AS, &old) == 0, "getrlimit");
  /* Current address space size from /proc/self/statm (pages). */
  char buf[128] = {0};
  FILE *f = fopen("/proc/self/statm", "r");
  REQUIRE(f, "fopen statm");
  size_t got = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  REQUIRE(got > 0, "read statm");
  unsigned long long vm_pages = strtoull(buf, NULL, 10);
  size_t vm = (size_t)vm_pages * (size_t)sysconf(_SC_PAGESIZE);
  lim = old;
  lim.rlim_cur = vm + 384 * MiB;
  if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < lim.rlim_cur) lim.rlim_cur = old.rlim_cur;
  REQUIRE(setrlimit(RLIMIT_AS, &lim) == 0, "setrlimit(RLIMIT_AS) failed (errno %d)", errno);

  /* 1 MiB blocks in class 3 until the limit. */
  struct blk *head = NULL;
  size_t nbig = 0;
  int err = 0;
  for (;;) {
    errno = 0;
    struct blk *b = llama_malloc_class(MiB, 3);
    if (!b) {
      err = errno;
      break;
    }
    b->next = head;
    head = b;
    if (++nbig > 4096) break; /* the limit did not bite; give up */
  }
  EXPECT(nbig <= 4096, "RLIMIT_AS did not limit llama_malloc_class");
  EXPECT(err == ENOMEM, "exhausted llama_malloc_class(1 MiB): errno %d, want ENOMEM", err);
  /* Under pressure: realloc/calloc of big sizes fail cleanly. */
  char *keep = malloc(1000);
  if (keep) {
    lt_fill(keep, 1000, 5);
    errno = 0;
    char *r = realloc(keep, 512 * MiB);
    EXPECT(r == NULL && errno == ENOMEM, "realloc to 512 MiB at the limit = %p errno %d",
           (void *)r, errno);
    if (r) keep = r;
    LT_VERIFY(keep, 1000, 5, "block after failed realloc at the limit");
    errno = 0;
    void *c = llama_calloc_class(512, MiB, 1);
    EXPECT(c == NULL && errno == ENOMEM, "llama_calloc_class(512 MiB) at the limit = %p errno %d",
           c, errno);
    free(c);
    free(keep);
  }
  /* Small blocks until the limit. */
  size_t nsmall = 0;
  struct blk *shead = NULL;
  for (;;) {
    errno = 0;
    struct blk *b = llama_malloc_class(2000, (unsigned)(nsmall % 7));
    if (!b) {
      err = errno;
      break;
    }
    b->next = shead;
    shead = b;
    if (++nsmall > 400000) break;
  }
  EXPECT(err == ENOMEM || nsmall > 400000, "exhausted small llama_malloc_class: errno %d", err);
  while (shead) {
    struct blk *n = shead->next;
    free(shead);
    shead = n;
  }
  while (head) {
    struct blk *n = head->next;
    free(head);
    head = n;
  }
  llama_collect(1);
  /* Allocation works again, even before the limit is lifted (if it worked
   * at all under the limit). */
  void *again = llama_malloc_class(MiB, 3);
  EXPECT(again != NULL || nbig == 0,
         "llama_malloc_class(1 MiB) after freeing everything failed (errno %d)", errno);
  free(again);
  REQUIRE(setrlimit(RLIMIT_AS, &old) == 0, "restoring RLIMIT_AS");
  lt_log("exhaustion: %zu MiB in 1 MiB blocks, %zu small blocks\n", nbig, nsmall);
  /* And lots of it. */
  for (int round = 0; round < 3; round++) {
    void *p[64];
    for (int i = 0; i < 64; i++) {
      p[i] = llama_malloc_class(MiB + (size_t)i, (unsigned)(i % 7));
      REQUIRE(p[i], "allocation after exhaustion failed");
      memset(p[i], i, 4096);
    }
    for (int i = 0; i < 64; i++) free(p[i]);
  }
}

int main(void) {
  lt_watchdog(60);
  huge_sizes();
  bad_alignments();
  exhaustion();
  /* The allocator still works normally. */
  for (size_t ci = 0; ci < NCLASSES; ci++) {
    static void *p[1000];
    for (int i = 0; i < 1000; i++) {
      p[i] = llama_malloc_class(16 + (size_t)i, classes[ci]);
      REQUIRE(p[i], "allocation failed");
      lt_fill(p[i], 16 + (size_t)i, (uint64_t)i);
    }
    for (int i = 0; i < 1000; i++) {
      LT_VERIFY(p[i], 16 + (size_t)i, (uint64_t)i, "block after error tests");
      free(p[i]);
    }
  }
  return lt_summary("errors");
}
