/* bench_common.h - what every LLAMA benchmark program shares: finding the
 * class-annotated entry point at run time, the clock, a fixed-seed random
 * generator, reading RSS without allocating, and the one result format.
 *
 * The benchmark binaries never link libllamalloc. The same binary runs under
 * every allocator (glibc, or a peer / libllamalloc.so through LD_PRELOAD): at
 * start-up bench_init() looks up llama_malloc_class with
 * dlsym(RTLD_DEFAULT, ...); when it is absent, bench_malloc_class() falls back
 * to plain malloc().
 *
 * Result format, one line per number on stdout, which bench/run.sh collects:
 *   RESULT,<benchmark>,<variant>,<metric>,<value>
 * Lines starting with '#' are human-readable remarks.
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "llamalloc.h" /* types and constants only; nothing is linked */

/* ---- Allocator resolution ------------------------------------------------ */

typedef void *(*bench_malloc_class_fn)(size_t size, unsigned lifetime_class);
typedef int (*bench_stats_get_fn)(llama_stats_t *out, size_t size);

/* llama_malloc_class of the process allocator, or NULL when the process
 * allocator is not libllamalloc. Set by bench_init(). */
extern bench_malloc_class_fn bench_llama_malloc_class;
/* llama_stats_get_sized, or NULL. Set by bench_init(). */
extern bench_stats_get_fn bench_llama_stats_get;

/* Resolves the LLAMA entry points and prints one '#' line naming the shared
 * object that provides malloc (so a wrong LD_PRELOAD is visible in the log).
 * Call once from main() before any measurement. */
void bench_init(const char *benchmark_name);

/* The path of the object that provides malloc ("glibc" when it is libc). */
const char *bench_malloc_provider(void);

/* Allocates size bytes of lifetime class lifetime_class: through
 * llama_malloc_class when libllamalloc is the process allocator, otherwise
 * through malloc. Release with free(). */
static inline void *bench_malloc_class(size_t size, unsigned lifetime_class) {
  if (bench_llama_malloc_class)
    return bench_llama_malloc_class(size, lifetime_class);
  return malloc(size);
}

/* The oracle: lifetime class of an object that lives lifetime_ns, with the
 * bounds of llamalloc.h (class 0 <= 10 ms ... class 5 <= 1000 s, 6 longer). */
unsigned bench_lifetime_class_of_ns(uint64_t lifetime_ns);

/* ---- Time and randomness -------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);
/* Sleeps until CLOCK_MONOTONIC reaches deadline_ns (absolute). */
void bench_sleep_until_ns(uint64_t deadline_ns);

/* xorshift64*: fixed seed gives the same sequence under every allocator. */
typedef struct bench_rng_s { uint64_t state; } bench_rng_t;

static inline void bench_rng_seed(bench_rng_t *rng, uint64_t seed) {
  rng->state = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
  if (rng->state == 0) rng->state = 1;
}
static inline uint64_t bench_rng_next(bench_rng_t *rng) {
  uint64_t x = rng->state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  rng->state = x;
  return x * 0x2545f4914f6cdd1dull;
}
/* Uniform in [0, bound) (bound < 2^32). */
static inline uint32_t bench_rng_below(bench_rng_t *rng, uint32_t bound) {
  return (uint32_t)(((bench_rng_next(rng) >> 32) * (uint64_t)bound) >> 32);
}
/* Uniform in [0, 1). */
static inline double bench_rng_unit(bench_rng_t *rng) {
  return (double)(bench_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
}
/* Log-uniform in [lo, hi]. */
double bench_rng_log_uniform(bench_rng_t *rng, double lo, double hi);

/* ---- Memory measurement (never allocates) -------------------------------- */

/* Reads /proc/self/statm with open/read/close. On success stores resident
 * and file-backed ("shared") pages and returns 0; returns -1 otherwise. */
int bench_read_statm(uint64_t *resident_pages, uint64_t *shared_pages);
/* AnonHugePages of /proc/self/smaps_rollup in KiB, or -1 when unreadable. */
int64_t bench_read_anon_huge_kib(void);
/* The system page size in bytes. */
uint64_t bench_page_size(void);

/* mmap'd, zero-filled memory outside the allocator under test (so bookkeeping
 * neither uses nor disturbs it). populate != 0 touches every page now, so its
 * resident size is known exactly. Exits with a message on failure. */
void *bench_map(size_t bytes, int populate);
/* Unmaps memory from bench_map (same byte count). */
void bench_unmap(void *p, size_t bytes);

/* ---- Results and options ------------------------------------------------- */

/* Prints RESULT,<benchmark>,<variant>,<metric>,<value>. */
void bench_result(const char *benchmark, const char *variant,
                  const char *metric, double value);

/* Median of n values (sorts values in place). */
double bench_median(double *values, int n);

/* Parses "--name=value" (or "--name value" when argv has a next element)
 * into *out; returns 1 when argv[*i] is that option, 0 otherwise. Exits with
 * a message when the value is missing or malformed. */
int bench_opt_u64(int argc, char **argv, int *i, const char *name,
                  uint64_t *out);
/* Parses --variant=default|class and --class=K (the lifetime class passed to
 * llama_malloc_class) at argv[*i]; 1 if it consumed one, 0 if not. Exits with
 * a message on a bad value. */
int bench_opt_variant(int argc, char **argv, int *i, int *use_class, unsigned *lifetime_class);
int bench_opt_double(int argc, char **argv, int *i, const char *name,
                     double *out);
int bench_opt_str(int argc, char **argv, int *i, const char *name,
                  const char **out);

/* Exits with status 2 after printing "<program>: <message>" on stderr. */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The quick-mode switch: BENCH_QUICK=1 in the environment. */
int bench_quick(void);

#endif /* BENCH_COMMON_H */
