/* 2048 distinct calling contexts, for predict_model.test's cache check: main
 * picks l0 or r0 by bit 0 of i, each level n picks l(n+1) or r(n+1) by bit
 * n+1, and level 10 calls leaf from one of two sites. Every context
 * allocates once per pass; the second pass must find all of them cached
 * (the prediction cache grows from 1024 words while the first pass fills
 * it). Prints the misses and hits of each pass (llama_stats_get via dlsym). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include "llamalloc.h"

static void *volatile sink;

__attribute__((noinline)) static void leaf(unsigned bits) {
  void *p = malloc(24 + (bits & 7));
  sink = p;
  free(p);
}

/* The empty asm after the calls keeps them from being tail calls: each
 * level's frame stays on the stack. */
#define LEVEL(n, nl, nr)                                                   \
  __attribute__((noinline)) static void l##n(unsigned bits) {              \
    if (bits >> ((n) + 1) & 1) nl(bits);                                   \
    else nr(bits);                                                         \
    __asm__ volatile("" ::: "memory");                                     \
  }                                                                        \
  __attribute__((noinline)) static void r##n(unsigned bits) {              \
    if (bits >> ((n) + 1) & 1) nl(bits);                                   \
    else nr(bits);                                                         \
    __asm__ volatile("" ::: "memory");                                     \
  }
LEVEL(10, leaf, leaf)
LEVEL(9, l10, r10)
LEVEL(8, l9, r9)
LEVEL(7, l8, r8)
LEVEL(6, l7, r7)
LEVEL(5, l6, r6)
LEVEL(4, l5, r5)
LEVEL(3, l4, r4)
LEVEL(2, l3, r3)
LEVEL(1, l2, r2)
LEVEL(0, l1, r1)

typedef int stats_fn(llama_stats_t *, size_t);

/* Both passes must call l0 and r0 from the same return addresses: one
 * function, called from a loop the compiler cannot unroll. */
__attribute__((noinline)) static void run_pass(void) {
  for (unsigned i = 0; i < 2048; i++) {
    if (i & 1) l0(i);
    else r0(i);
  }
  __asm__ volatile("" ::: "memory");
}

int main(void) {
  stats_fn *get = (stats_fn *)dlsym(RTLD_DEFAULT, "llama_stats_get_sized");
  if (!get) {
    puts("not under libllamalloc");
    return 1;
  }
  static volatile int passes = 2; /* not unrolled: one call site */
  for (int pass = 1; pass <= passes; pass++) {
    llama_stats_t a, b;
    get(&a, sizeof a);
    run_pass();
    get(&b, sizeof b);
    printf("pass %d: misses %llu, hits %llu\n", pass,
           (unsigned long long)(b.cache_misses - a.cache_misses),
           (unsigned long long)(b.cache_hits - a.cache_hits));
  }
  return 0;
}
