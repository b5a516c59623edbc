/* bench_paths.c - the cost of each way libllamalloc decides a class, next to
 * the peers' plain malloc (bench/paths.sh runs it under every allocator).
 *
 * One repetition: `pairs` times, pick a random slot of a 256-slot ring, free
 * its object and allocate a new one of a random size in 16..256 bytes (mixed
 * size classes, frees in random order), write 8 bytes into it. The loop runs
 * 8 noinline calls below main, so the dynamic path's frame-pointer walk has a
 * realistic stack of about 10 frames to capture. Prints the minimum over
 * --reps repetitions (after a warm-up) of ns per malloc+free pair.
 *
 *   --mode=malloc   malloc(n)                      (every allocator; under
 *                   libllamalloc with LLAMA_MODEL: the dynamic path, a cache
 *                   hit after the first call)
 *   --mode=class    llama_malloc_class(n, 2)       (the static path; needs
 *                   libllamalloc)
 *
 *   bench_paths [--mode=malloc|class] [--pairs=N] [--reps=R]
 * Build with frame pointers (bench/CMakeLists.txt does). */
#include "bench_common.h"

#include <stdio.h>
#include <string.h>

#define SLOTS 256
static void *ring[SLOTS];
static int use_class;

static __attribute__((noinline)) double timed_loop(uint64_t pairs, uint64_t seed) {
  bench_rng_t rng;
  bench_rng_seed(&rng, seed);
  bench_malloc_class_fn class_alloc = bench_llama_malloc_class;
  uint64_t start = bench_now_ns();
  if (use_class) {
    for (uint64_t i = 0; i < pairs; i++) {
      uint64_t r = bench_rng_next(&rng);
      uint32_t slot = (uint32_t)(r >> 56);
      size_t size = 16 + (size_t)(((r & 0xffffffffu) * 241) >> 32);
      free(ring[slot]);
      void *p = class_alloc(size, 2);
      if (__builtin_expect(p == NULL, 0)) bench_die("allocation returned NULL");
      *(volatile uint64_t *)p = r;
      ring[slot] = p;
    }
  } else {
    for (uint64_t i = 0; i < pairs; i++) {
      uint64_t r = bench_rng_next(&rng);
      uint32_t slot = (uint32_t)(r >> 56);
      size_t size = 16 + (size_t)(((r & 0xffffffffu) * 241) >> 32);
      free(ring[slot]);
      void *p = malloc(size);
      if (__builtin_expect(p == NULL, 0)) bench_die("allocation returned NULL");
      *(volatile uint64_t *)p = r;
      ring[slot] = p;
    }
  }
  return (double)(bench_now_ns() - start) / (double)pairs;
}

/* A stack of `depth` more frames above timed_loop. */
static __attribute__((noinline)) double nest(int depth, uint64_t pairs, uint64_t seed) {
  if (depth == 0) return timed_loop(pairs, seed);
  double ns = nest(depth - 1, pairs, seed);
  __asm__ volatile("" ::: "memory"); /* no tail call: keep the frame */
  return ns;
}

int main(int argc, char **argv) {
  uint64_t pairs = 10000000, reps = 5;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--mode=malloc")) use_class = 0;
    else if (!strcmp(argv[i], "--mode=class")) use_class = 1;
    else if (!strncmp(argv[i], "--pairs=", 8)) pairs = strtoull(argv[i] + 8, NULL, 10);
    else if (!strncmp(argv[i], "--reps=", 7)) reps = strtoull(argv[i] + 7, NULL, 10);
    else {
      fprintf(stderr, "usage: bench_paths [--mode=malloc|class] [--pairs=N] [--reps=R]\n");
      return 2;
    }
  }
  bench_init("bench_paths");
  if (use_class && !bench_llama_malloc_class) bench_die("--mode=class needs libllamalloc");
  if (!pairs || !reps) bench_die("--pairs and --reps must be positive");
  nest(8, pairs / 10 + 1, 99); /* warm-up: pages, caches, the first prediction */
  double best = 0;
  for (uint64_t r = 0; r < reps; r++) {
    double ns = nest(8, pairs, r + 1);
    if (r == 0 || ns < best) best = ns;
  }
  for (int i = 0; i < SLOTS; i++) free(ring[i]);
  printf("bench_paths: mode %s, %llu pairs x %llu reps, min %.2f ns per malloc+free\n",
         use_class ? "class" : "malloc", (unsigned long long)pairs, (unsigned long long)reps,
         best);
  return 0;
}
