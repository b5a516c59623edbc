/* bench_lifetime.c - a mixed-lifetime, server-like workload in which every
 * allocation carries its true (oracle) lifetime class.
 *
 * Requests arrive at a paced rate (virtual milliseconds = real milliseconds).
 * Each request allocates, interleaved in allocation order:
 *   - request buffers: 4..16 per request (100..400 for 2% "bulk" requests),
 *     freed together when the request completes 1..20 ms later (class 0/1);
 *   - sometimes a session: 4..16 objects that live together for 50 ms..2 s
 *     (log-uniform; class 1/2/3);
 *   - sometimes a cache entry: a node, a key and usually a value; 70% stay
 *     until the end of the run (class 6), 30% are due for eviction after
 *     100..1000 s (class 5), which is also after the end of the run.
 * Sizes are mixed, 16 B .. 64 KiB, mostly small. The run has three phases:
 *   steady  [0, 25%)   2000 requests/s
 *   burst   [25%, 50%) 5000 requests/s, more sessions, the cache grows fast
 *   drain   [50%, end) 500 requests/s, almost no new sessions or entries:
 *                      the burst's short- and medium-lived objects die and the
 *                      cache entries allocated among them stay
 * The "final" window, from 2.2 s after the burst to the end, is when the
 * short- and medium-lived objects of the burst are dead ("RSS after the
 * short-lived objects die").
 *
 *   build/bin/bench_lifetime [--variant=class|default] [--duration-ms=N]
 *       [--scale=X] [--sample-ms=N] [--series=FILE] [--seed=N] [--unpaced]
 *
 * --variant=class (the default) passes the oracle class through
 * llama_malloc_class (plain malloc under other allocators); --variant=default
 * uses plain malloc everywhere, to see LLAMA without hints. --scale multiplies
 * the request rates (memory scales with it). Default duration: 12 s, 9 s with
 * BENCH_QUICK=1. --unpaced runs the same allocation sequence as fast as
 * possible, for throughput (reported as benchmark "lifetime_unpaced"; real
 * lifetimes then are shorter than their classes say, never longer).
 */
#include "sim.h"

#include <stdio.h>
#include <string.h>

typedef struct phase_s {
  double requests_per_ms;
  double session_probability; /* per request */
  double cache_probability;   /* per request */
  double bulk_probability;    /* per request */
} phase_t;

typedef struct lifetime_workload_s {
  phase_t steady, burst, drain;
  uint32_t burst_from_ms, drain_from_ms;
  double request_credit; /* fractional requests carried to the next ms */
} lifetime_workload_t;

/* Mostly small, with a tail up to 64 KiB. */
static size_t buffer_size(bench_rng_t *rng) {
  double u = bench_rng_unit(rng);
  if (u < 0.75) return (size_t)bench_rng_log_uniform(rng, 16, 1024);
  if (u < 0.97) return (size_t)bench_rng_log_uniform(rng, 1024, 16384);
  return (size_t)bench_rng_log_uniform(rng, 16384, 65536);
}

static size_t session_size(bench_rng_t *rng) {
  double u = bench_rng_unit(rng);
  if (u < 0.60) return (size_t)bench_rng_log_uniform(rng, 32, 512);
  if (u < 0.95) return (size_t)bench_rng_log_uniform(rng, 512, 8192);
  return (size_t)bench_rng_log_uniform(rng, 8192, 65536);
}

static void one_request(sim_t *sim, const phase_t *phase) {
  bench_rng_t *rng = sim_rng(sim);
  /* Request buffers, all freed when the request completes. */
  uint32_t duration_ms = 1 + bench_rng_below(rng, 20);
  uint32_t buffers = 4 + bench_rng_below(rng, 13);
  if (bench_rng_unit(rng) < phase->bulk_probability)
    buffers = 100 + bench_rng_below(rng, 301);
  /* Session state and cache entries are allocated in the middle of the
   * request's buffers, as a handler would. */
  uint32_t middle = buffers / 2;
  for (uint32_t b = 0; b < buffers; b++) {
    if (b == middle && bench_rng_unit(rng) < phase->session_probability) {
      uint32_t lifetime = (uint32_t)bench_rng_log_uniform(rng, 50, 2000);
      uint32_t objects = 4 + bench_rng_below(rng, 13);
      for (uint32_t o = 0; o < objects; o++) {
        sim_alloc(sim, session_size(rng), lifetime);
        if (o % 4 == 3) sim_alloc(sim, buffer_size(rng), duration_ms);
      }
    }
    if (b == middle && bench_rng_unit(rng) < phase->cache_probability) {
      uint32_t lifetime =
          bench_rng_unit(rng) < 0.70
              ? SIM_FOREVER
              : (uint32_t)bench_rng_log_uniform(rng, 100000, 1000000);
      sim_alloc(sim, 48 + bench_rng_below(rng, 81), lifetime);  /* node */
      sim_alloc(sim, 16 + bench_rng_below(rng, 241), lifetime); /* key */
      if (bench_rng_unit(rng) < 0.7)                             /* value */
        sim_alloc(sim, (size_t)bench_rng_log_uniform(rng, 64, 65536),
                  lifetime);
    }
    sim_alloc(sim, buffer_size(rng), duration_ms);
  }
  sim_count_requests(sim, 1);
}

static void lifetime_tick(sim_t *sim, uint32_t now_ms, void *context) {
  lifetime_workload_t *w = context;
  const phase_t *phase = now_ms < w->burst_from_ms   ? &w->steady
                         : now_ms < w->drain_from_ms ? &w->burst
                                                     : &w->drain;
  w->request_credit += phase->requests_per_ms;
  while (w->request_credit >= 1.0) {
    w->request_credit -= 1.0;
    one_request(sim, phase);
  }
}

int main(int argc, char **argv) {
  sim_config_t cfg = {
      .benchmark = "lifetime",
      .variant = "class",
      .use_class = 1,
      .duration_ms = bench_quick() ? 9000 : 12000,
      .sample_ms = 10,
      .paced = 1,
  };
  double scale = 1.0;
  uint64_t seed = 1;
  for (int i = 1; i < argc; i++) {
    if (sim_parse_common_option(argc, argv, &i, &cfg) ||
        bench_opt_double(argc, argv, &i, "scale", &scale) ||
        bench_opt_u64(argc, argv, &i, "seed", &seed))
      continue;
    bench_die("unknown option '%s' (see the comment at the top of "
              "bench/bench_lifetime.c)", argv[i]);
  }
  if (!(scale > 0 && scale <= 100)) bench_die("--scale out of range");
  if (cfg.duration_ms < 4000)
    bench_die("--duration-ms must be at least 4000 (the burst's sessions "
              "need 2 s to die)");

  lifetime_workload_t w = {
      .steady = {2.0 * scale, 0.60, 0.03, 0.02},
      .burst = {5.0 * scale, 0.80, 0.25, 0.02},
      .drain = {0.5 * scale, 0.02, 0.01, 0.0},
      .burst_from_ms = cfg.duration_ms / 4,
      .drain_from_ms = cfg.duration_ms / 2,
  };
  /* Sessions live up to 2 s and requests 20 ms: 2.2 s after the burst the
   * burst's short- and medium-lived objects are all dead. */
  cfg.final_from_ms = w.drain_from_ms + 2200;
  if (cfg.final_from_ms >= cfg.duration_ms)
    cfg.final_from_ms = cfg.duration_ms - cfg.duration_ms / 10;

  /* Unpaced runs measure throughput; their numbers are kept apart. */
  if (!cfg.paced) cfg.benchmark = "lifetime_unpaced";

  bench_init("bench_lifetime");
  if (cfg.use_class && !bench_llama_malloc_class)
    printf("# llama_malloc_class absent: oracle classes are not passed\n");
  printf("# phases: steady 0-%u ms, burst -%u ms, drain -%u ms; final window "
         "from %u ms; scale %.2f\n", w.burst_from_ms, w.drain_from_ms,
         cfg.duration_ms, cfg.final_from_ms, scale);
  fflush(stdout);
  return sim_run(&cfg, lifetime_tick, &w, seed);
}
