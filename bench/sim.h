/* sim.h - the paced heap-simulation engine behind bench_lifetime and
 * bench_nolife.
 *
 * A workload is a callback run once per virtual millisecond. It allocates
 * objects with sim_alloc(size, lifetime_ms); the engine fills each object,
 * frees it exactly lifetime_ms virtual milliseconds later (checking that its
 * contents survived), and keeps the exact sum of requested sizes that are live.
 * Virtual time is paced to real time (the loop sleeps when it is ahead, as a
 * server waits for requests), so every allocator sees the same allocation and
 * free sequence at the same moments, and lifetime classes mean real time.
 *
 * A sampler thread reads /proc/self/statm every sample_ms (open/read, no stdio,
 * no malloc) and records RSS, the bookkeeping's own resident bytes and the live
 * bytes into a preallocated array; AnonHugePages from /proc/self/smaps_rollup
 * every 25 samples and at the end, and under libllamalloc, at the same
 * moments, the huge pages each bin holds (llama_stats_get, which never
 * allocates). All bookkeeping lives in mmap'd memory outside the allocator
 * under test.
 *
 * "Heap RSS" is anonymous resident memory (statm resident - shared) minus the
 * engine's own mmap'd bookkeeping: the allocator's heap plus its metadata.
 */
#ifndef BENCH_SIM_H
#define BENCH_SIM_H

#include "bench_common.h"

#define SIM_FOREVER UINT32_MAX /* lifetime: never freed while the run lasts */

typedef struct sim_s sim_t;

typedef struct sim_config_s {
  const char *benchmark;   /* name in RESULT lines */
  const char *variant;     /* "class" (oracle classes) or "default" */
  int use_class;           /* pass the oracle class to llama_malloc_class */
  uint32_t duration_ms;    /* virtual (= real, when paced) run length */
  uint32_t final_from_ms;  /* start of the "after short-lived die" window */
  uint32_t sample_ms;      /* sampler period */
  int paced;               /* 0: run as fast as possible (virtual time) */
  uint32_t prefault_mib;   /* touch and release this much memory first */
  const char *series_path; /* RSS-over-time TSV, or NULL */
} sim_config_t;

/* Called once per virtual millisecond now_ms, after the objects due at now_ms
 * have been freed. */
typedef void (*sim_tick_fn)(sim_t *sim, uint32_t now_ms, void *context);

/* Allocates size bytes (>= 16) for an object that lives lifetime_ms virtual
 * milliseconds (SIM_FOREVER: until the end of the run), fills it and schedules
 * its free. With use_class the allocation goes through llama_malloc_class with
 * the oracle class of the object's true lifetime. */
void sim_alloc(sim_t *sim, size_t size, uint32_t lifetime_ms);

/* Counts n finished requests (for the throughput figure). */
void sim_count_requests(sim_t *sim, uint64_t n);

/* The workload's fixed-seed random generator. */
bench_rng_t *sim_rng(sim_t *sim);

/* Runs the workload, prints the '#' summary and the RESULT lines, writes the
 * series file. Returns 0, or 1 when an object's contents were corrupted. */
int sim_run(const sim_config_t *config, sim_tick_fn tick, void *context,
            uint64_t seed);

/* Parses the options every simulation benchmark shares (--duration-ms,
 * --sample-ms, --series, --unpaced, --prefault-mib, --variant) at argv[*i];
 * returns 1 when it consumed one. --unpaced also sets prefault_mib to 256
 * unless --prefault-mib is given (see prefault() in sim.c). */
int sim_parse_common_option(int argc, char **argv, int *i,
                            sim_config_t *config);

#endif /* BENCH_SIM_H */
