// libllamalloc.a linked statically into the executable: the malloc family,
// the class API and libc's own internal allocations (strdup, fopen, getline)
// are all served by the archive's allocator, and the executable does not
// depend on libllamalloc.so. No flags beyond the archive, -lpthread and -lm
// (the lifetime model's expf) are needed for C; C++ programs get libstdc++
// and libm from the clang++ driver.
//
// RUN: %cc -fno-builtin %s %llamalloc_a -lpthread -lm -o %t
// RUN: llvm-readelf --needed-libs %t | FileCheck --check-prefix=NEEDED %s
// RUN: %t 2>&1 | FileCheck %s
//
// Fully static (glibc's libc.a must not drag in its own malloc.o):
// RUN: %cc -fno-builtin -static %s %llamalloc_a -lpthread -lm -o %t.static
// RUN: %t.static 2>&1 | FileCheck %s
//
// C++: the archive's operator new/delete replace libstdc++'s (the C++ test,
// linked statically against the archive; plain clang++ adds -lstdc++).
// RUN: %cxx -fno-builtin -fsized-deallocation -faligned-allocation %S/cxx_new_delete.cpp %llamalloc_a -lpthread -o %t.cxx
// RUN: llvm-readelf --needed-libs %t.cxx | FileCheck --check-prefix=NEEDED %s
// RUN: env LLAMA_SMALL_BINS=0 %t.cxx 2>&1 | FileCheck --check-prefix=CXX %s
// CXX-NOT: FAIL
// CXX: cxx_new_delete: PASSED (0 failures)
// NEEDED-NOT: libllamalloc
// CHECK-NOT: FAIL
// CHECK: static_link: PASSED (0 failures)

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamalloc.h"
#include "../Inputs/llama_test.h"

static void *worker(void *arg) {
  uintptr_t id = (uintptr_t)arg;
  void *p[256];
  for (int r = 0; r < 50; r++) {
    for (int i = 0; i < 256; i++) {
      size_t n = 16 + (size_t)((i * 37 + r) % 2000);
      p[i] = (i & 1) ? malloc(n) : llama_malloc_class(n, (unsigned)(i % 7));
      REQUIRE(p[i], "allocation failed");
      lt_fill(p[i], n, id * 1000 + i);
    }
    for (int i = 0; i < 256; i++) {
      size_t n = 16 + (size_t)((i * 37 + r) % 2000);
      LT_VERIFY(p[i], n, id * 1000 + i, "worker block");
      free(p[i]);
    }
  }
  return NULL;
}

int main(void) {
  lt_watchdog(60);
  llama_stats_t s0, s1, s2;
  llama_stats_get(&s0);

  /* The malloc family. */
  char *a = malloc(100);
  char *b = calloc(10, 10);
  REQUIRE(a && b, "malloc/calloc failed");
  EXPECT(lt_is_zero(b, 100), "calloc not zero");
  lt_fill(a, 100, 1);
  a = realloc(a, 100000);
  REQUIRE(a, "realloc failed");
  LT_VERIFY(a, 100, 1, "realloc");
  void *al = NULL;
  EXPECT(posix_memalign(&al, 4096, 5000) == 0 && lt_aligned(al, 4096), "posix_memalign");
  void *aa = aligned_alloc(256, 512);
  EXPECT(aa && lt_aligned(aa, 256), "aligned_alloc");
  void *c6 = llama_malloc_class(200, 6);
  REQUIRE(c6, "llama_malloc_class failed");
  EXPECT(malloc_usable_size(c6) >= 200, "malloc_usable_size");
  errno = 0;
  EXPECT(malloc(SIZE_MAX) == NULL && errno == ENOMEM, "malloc(SIZE_MAX) errno %d", errno);

  /* libc-internal allocations come from the archive's malloc too. */
  char *d = strdup("static linking keeps the allocator");
  REQUIRE(d, "strdup failed");
  EXPECT(malloc_usable_size(d) >= strlen(d) + 1, "strdup block");
  FILE *f = fopen("/proc/self/maps", "r");
  REQUIRE(f, "fopen failed");
  char *line = NULL;
  size_t cap = 0;
  long lines = 0;
  while (getline(&line, &cap, f) > 0) lines++;
  EXPECT(lines > 3, "read %ld lines of /proc/self/maps", lines);
  llama_stats_get(&s1);
  EXPECT(s1.allocations_default - s0.allocations_default >= 7,
         "allocations_default moved by %llu (libc's strdup/fopen/getline not counted?)",
         (unsigned long long)(s1.allocations_default - s0.allocations_default));
  EXPECT(s1.allocations_static - s0.allocations_static == 1,
         "allocations_static moved by %llu, want 1",
         (unsigned long long)(s1.allocations_static - s0.allocations_static));
  EXPECT(s1.bins[6].live_objects - s0.bins[6].live_objects == 1, "bin 6 live objects");
  fclose(f);
  free(line);
  free(d);
  free(a);
  free(b);
  free(al);
  free(aa);
  free(c6);

  /* Threads. */
  pthread_t t[4];
  for (uintptr_t i = 0; i < 4; i++)
    REQUIRE(pthread_create(&t[i], NULL, worker, (void *)i) == 0, "pthread_create");
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);

  llama_collect(1);
  llama_stats_get(&s2);
  EXPECT(LT_SUM(&s2, allocations) - LT_SUM(&s0, allocations) >= 4 * 50 * 256,
         "bins' allocations moved by %llu only",
         (unsigned long long)(LT_SUM(&s2, allocations) - LT_SUM(&s0, allocations)));
  EXPECT(s2.allocations_static - s0.allocations_static >= 1 + 4 * 50 * 128,
         "allocations_static moved by %llu only",
         (unsigned long long)(s2.allocations_static - s0.allocations_static));
  for (unsigned k = 0; k < LLAMA_NUM_CLASSES; k++)
    EXPECT(s2.bins[k].live_objects == s0.bins[k].live_objects,
           "bin %u live objects %llu at start, %llu at end", k,
           (unsigned long long)s0.bins[k].live_objects,
           (unsigned long long)s2.bins[k].live_objects);
  if (LT_FAILS()) {
    lt_print_stats("start", &s0);
    lt_print_stats("end", &s2);
  }
  return lt_summary("static_link");
}
