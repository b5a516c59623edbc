/* bench_nolife.c - a workload with no lifetime structure: every allocation
 * is a plain malloc() with a random lifetime that nothing (size, order,
 * call site) predicts. It checks that LLAMA, given no hints, stays within 5%
 * of the best peer in RSS.
 *
 * Each virtual millisecond allocates a number of objects (sizes 16 B..64 KiB,
 * mostly small) whose lifetimes are drawn independently, log-uniform between
 * 1 ms and 4 s, 2% of them living to the end. The rate ramps through three
 * phases so the heap grows, peaks and shrinks:
 *   [0, 40%) 30 objects/ms, [40%, 60%) 80 objects/ms, [60%, end) 8 objects/ms.
 * The final window is the last 25% of the run.
 *
 *   build/bin/bench_nolife [--duration-ms=N] [--scale=X] [--sample-ms=N]
 *       [--series=FILE] [--seed=N] [--unpaced]
 *
 * Default duration: 8 s, 5 s with BENCH_QUICK=1. A "request" here is one
 * virtual millisecond's batch of allocations. --unpaced runs the same
 * sequence as fast as possible (benchmark "nolife_unpaced"), for throughput.
 */
#include "sim.h"

#include <stdio.h>

typedef struct nolife_workload_s {
  double scale;
  uint32_t peak_from_ms, shrink_from_ms;
  double credit;
} nolife_workload_t;

static size_t object_size(bench_rng_t *rng) {
  double u = bench_rng_unit(rng);
  if (u < 0.75) return (size_t)bench_rng_log_uniform(rng, 16, 1024);
  if (u < 0.97) return (size_t)bench_rng_log_uniform(rng, 1024, 16384);
  return (size_t)bench_rng_log_uniform(rng, 16384, 65536);
}

static void nolife_tick(sim_t *sim, uint32_t now_ms, void *context) {
  nolife_workload_t *w = context;
  bench_rng_t *rng = sim_rng(sim);
  double rate = now_ms < w->peak_from_ms     ? 30.0
                : now_ms < w->shrink_from_ms ? 80.0
                                             : 8.0;
  w->credit += rate * w->scale;
  while (w->credit >= 1.0) {
    w->credit -= 1.0;
    size_t size = object_size(rng);
    uint32_t lifetime = bench_rng_unit(rng) < 0.02
                            ? SIM_FOREVER
                            : (uint32_t)bench_rng_log_uniform(rng, 1, 4000);
    sim_alloc(sim, size, lifetime);
  }
  sim_count_requests(sim, 1);
}

int main(int argc, char **argv) {
  sim_config_t cfg = {
      .benchmark = "nolife",
      .variant = "default",
      .use_class = 0,
      .duration_ms = bench_quick() ? 5000 : 8000,
      .sample_ms = 10,
      .paced = 1,
  };
  nolife_workload_t w = {.scale = 1.0};
  uint64_t seed = 2;
  for (int i = 1; i < argc; i++) {
    if (sim_parse_common_option(argc, argv, &i, &cfg) ||
        bench_opt_double(argc, argv, &i, "scale", &w.scale) ||
        bench_opt_u64(argc, argv, &i, "seed", &seed))
      continue;
    bench_die("unknown option '%s' (see the comment at the top of "
              "bench/bench_nolife.c)", argv[i]);
  }
  if (!(w.scale > 0 && w.scale <= 100)) bench_die("--scale out of range");
  if (cfg.use_class)
    bench_die("bench_nolife has no lifetime classes: it only uses malloc");
  w.peak_from_ms = cfg.duration_ms * 2 / 5;
  w.shrink_from_ms = cfg.duration_ms * 3 / 5;
  cfg.final_from_ms = cfg.duration_ms * 3 / 4;

  /* Unpaced runs measure throughput; their numbers are kept apart. */
  if (!cfg.paced) cfg.benchmark = "nolife_unpaced";

  bench_init("bench_nolife");
  fflush(stdout);
  return sim_run(&cfg, nolife_tick, &w, seed);
}
