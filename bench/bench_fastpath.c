/* bench_fastpath.c - single-thread malloc/free fast path.
 *
 * A ring of live slots (512 by default) is filled with objects of mixed small
 * sizes (16..512 bytes, fixed-seed xorshift). Each step picks a random slot,
 * frees its object and allocates a new one of a random size in its place, and
 * writes 8 bytes into it; so every step is one malloc + one free, with frees
 * in random order rather than the trivial alloc-free-same-object loop.
 *
 *   --variant=default   malloc(n) + free          (every allocator)
 *   --variant=class     llama_malloc_class(n, k) + free, k = --class (0);
 *                       falls back to malloc when libllamalloc is absent
 *
 * Reports the median over --reps repetitions (after one warm-up) of the
 * nanoseconds per malloc+free pair, measured with CLOCK_MONOTONIC; the time
 * includes the loop itself (random numbers, one 8-byte store).
 *
 *   build/bin/bench_fastpath [--variant=default|class] [--class=K]
 *       [--pairs=N] [--reps=R] [--slots=S] [--min-size=B] [--max-size=B]
 */
#include "bench_common.h"

#include <stdio.h>
#include <string.h>

typedef struct fastpath_config_s {
  int use_class;
  unsigned lifetime_class;
  uint64_t pairs;
  uint64_t reps;
  uint64_t slots;
  uint64_t min_size, max_size;
} fastpath_config_t;

/* One timed repetition: returns ns per pair. The loop is written once per
 * variant so the default variant makes a direct call to malloc. */
static double run_once(const fastpath_config_t *cfg, void **ring,
                       uint64_t pairs, uint64_t seed) {
  bench_rng_t rng;
  bench_rng_seed(&rng, seed);
  const uint32_t slots = (uint32_t)cfg->slots;
  const uint32_t span = (uint32_t)(cfg->max_size - cfg->min_size + 1);
  const size_t min_size = (size_t)cfg->min_size;
  const unsigned k = cfg->lifetime_class;
  bench_malloc_class_fn class_alloc = bench_llama_malloc_class;

  uint64_t start = bench_now_ns();
  if (cfg->use_class && class_alloc) {
    for (uint64_t i = 0; i < pairs; i++) {
      uint64_t r = bench_rng_next(&rng);
      uint32_t slot = (uint32_t)(((r >> 32) * slots) >> 32);
      size_t size = min_size + (size_t)(((r & 0xffffffffu) * span) >> 32);
      free(ring[slot]);
      void *p = class_alloc(size, k);
      if (__builtin_expect(p == NULL, 0)) bench_die("allocation returned NULL");
      *(volatile uint64_t *)p = r;
      ring[slot] = p;
    }
  } else {
    for (uint64_t i = 0; i < pairs; i++) {
      uint64_t r = bench_rng_next(&rng);
      uint32_t slot = (uint32_t)(((r >> 32) * slots) >> 32);
      size_t size = min_size + (size_t)(((r & 0xffffffffu) * span) >> 32);
      free(ring[slot]);
      void *p = malloc(size);
      if (__builtin_expect(p == NULL, 0)) bench_die("allocation returned NULL");
      *(volatile uint64_t *)p = r;
      ring[slot] = p;
    }
  }
  uint64_t elapsed = bench_now_ns() - start;
  return (double)elapsed / (double)pairs;
}

int main(int argc, char **argv) {
  fastpath_config_t cfg = {
      .use_class = 0,
      .lifetime_class = 0,
      .pairs = bench_quick() ? 4000000 : 20000000,
      .reps = bench_quick() ? 5 : 7,
      .slots = 512,
      .min_size = 16,
      .max_size = 512,
  };
  for (int i = 1; i < argc; i++) {
    if (bench_opt_variant(argc, argv, &i, &cfg.use_class, &cfg.lifetime_class)) continue;
    if (bench_opt_u64(argc, argv, &i, "pairs", &cfg.pairs) ||
               bench_opt_u64(argc, argv, &i, "reps", &cfg.reps) ||
               bench_opt_u64(argc, argv, &i, "slots", &cfg.slots) ||
               bench_opt_u64(argc, argv, &i, "min-size", &cfg.min_size) ||
               bench_opt_u64(argc, argv, &i, "max-size", &cfg.max_size)) {
    } else {
      bench_die("unknown option '%s' (see the comment at the top of "
                "bench/bench_fastpath.c)", argv[i]);
    }
  }
  if (cfg.pairs == 0 || cfg.reps == 0 || cfg.reps > 1000 || cfg.slots == 0 ||
      cfg.slots > (1u << 24) || cfg.min_size == 0 ||
      cfg.max_size < cfg.min_size || cfg.max_size > (1u << 30))
    bench_die("option out of range");

  bench_init("bench_fastpath");
  const char *variant = cfg.use_class ? "class" : "default";
  if (cfg.use_class && !bench_llama_malloc_class)
    printf("# variant class: llama_malloc_class absent, measuring malloc\n");

  void **ring = bench_map(cfg.slots * sizeof(void *), 1);
  bench_rng_t fill;
  bench_rng_seed(&fill, 42);
  for (uint64_t s = 0; s < cfg.slots; s++) {
    size_t size = cfg.min_size + bench_rng_below(&fill, (uint32_t)(
                                     cfg.max_size - cfg.min_size + 1));
    ring[s] = cfg.use_class ? bench_malloc_class(size, cfg.lifetime_class)
                            : malloc(size);
    if (!ring[s]) bench_die("allocation failed while filling the ring");
  }

  /* Warm-up: a quarter-length run that is not measured. */
  run_once(&cfg, ring, cfg.pairs / 4 + 1, 7);
  double samples[1000];
  for (uint64_t r = 0; r < cfg.reps; r++) {
    samples[r] = run_once(&cfg, ring, cfg.pairs, 1000 + r);
    printf("# rep %llu: %.2f ns per malloc+free\n", (unsigned long long)r,
           samples[r]);
  }
  double best = samples[0];
  for (uint64_t r = 1; r < cfg.reps; r++)
    if (samples[r] < best) best = samples[r];
  double median = bench_median(samples, (int)cfg.reps);
  printf("# %s: median %.2f ns, best %.2f ns per malloc+free "
         "(%llu pairs x %llu reps, %llu slots, sizes %llu..%llu)\n",
         variant, median, best, (unsigned long long)cfg.pairs,
         (unsigned long long)cfg.reps, (unsigned long long)cfg.slots,
         (unsigned long long)cfg.min_size, (unsigned long long)cfg.max_size);
  bench_result("fastpath", variant, "ns_per_pair", median);
  bench_result("fastpath", variant, "ns_per_pair_best", best);

  for (uint64_t s = 0; s < cfg.slots; s++) free(ring[s]);
  return 0;
}
