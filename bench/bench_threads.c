/* bench_threads.c - the fast-path loop in several threads, with and without
 * cross-thread frees.
 *
 *   local   every thread runs bench_fastpath's loop on its own ring of live
 *           slots (mixed sizes 16..512 B, random slot order): all frees are
 *           of objects the same thread allocated.
 *   xfree   threads form producer/consumer pairs: the producer allocates
 *           (and writes 8 bytes into) objects and hands them through a
 *           single-producer single-consumer ring to its consumer, which
 *           checks and frees them; every free is a cross-thread free.
 *
 * Reports, as the median over --reps repetitions (after one warm-up):
 *   ns_per_pair   wall time x threads / malloc+free pairs (thread-ns spent
 *                 per pair; for xfree it includes the hand-off through the
 *                 ring and both threads' time)
 *   mops          million malloc+free pairs per second, all threads together
 *
 *   build/bin/bench_threads [--threads=N (2)] [--mode=both|local|xfree]
 *       [--variant=default|class] [--class=K] [--pairs=N per thread]
 *       [--reps=R] [--slots=S]
 */
#define _GNU_SOURCE
#include "bench_common.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define XFREE_RING_SIZE 4096u /* power of two */
#define CACHE_LINE 64

typedef struct threads_config_s {
  uint64_t threads;
  int use_class;
  unsigned lifetime_class;
  uint64_t pairs; /* per thread (local) or per producer/consumer pair */
  uint64_t reps;
  uint64_t slots;
} threads_config_t;

/* Single-producer single-consumer ring of object pointers. */
typedef struct spsc_ring_s {
  _Alignas(CACHE_LINE) _Atomic uint64_t head; /* next slot to consume */
  _Alignas(CACHE_LINE) _Atomic uint64_t tail; /* next slot to fill */
  _Alignas(CACHE_LINE) void *slot[XFREE_RING_SIZE];
} spsc_ring_t;

typedef struct worker_s {
  const threads_config_t *cfg;
  pthread_barrier_t *start;
  spsc_ring_t *ring;  /* xfree only: shared by a producer and its consumer */
  int role;           /* 0 local, 1 producer, 2 consumer */
  uint64_t seed;
  uint64_t corrupt;   /* consumer: objects whose contents changed */
} worker_t;

static inline void cpu_relax(unsigned *spins) {
  if (++*spins < 256) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    *spins = 0;
    sched_yield();
  }
}

static inline void *alloc_object(const threads_config_t *cfg, size_t size) {
  void *p = cfg->use_class ? bench_malloc_class(size, cfg->lifetime_class)
                           : malloc(size);
  if (__builtin_expect(p == NULL, 0))
    bench_die("allocation of %zu bytes returned NULL (%s)", size,
              strerror(errno));
  return p;
}

static void run_local(worker_t *w) {
  const threads_config_t *cfg = w->cfg;
  uint32_t slots = (uint32_t)cfg->slots;
  void **ring = bench_map(slots * sizeof(void *), 1);
  bench_rng_t rng;
  bench_rng_seed(&rng, w->seed);
  for (uint32_t s = 0; s < slots; s++)
    ring[s] = alloc_object(cfg, 16 + bench_rng_below(&rng, 497));
  pthread_barrier_wait(w->start);
  for (uint64_t i = 0; i < cfg->pairs; i++) {
    uint64_t r = bench_rng_next(&rng);
    uint32_t slot = (uint32_t)(((r >> 32) * slots) >> 32);
    size_t size = 16 + (size_t)(((r & 0xffffffffu) * 497) >> 32);
    free(ring[slot]);
    void *p = alloc_object(cfg, size);
    *(volatile uint64_t *)p = r;
    ring[slot] = p;
  }
  for (uint32_t s = 0; s < slots; s++) free(ring[s]);
  bench_unmap(ring, slots * sizeof(void *));
}

static void run_producer(worker_t *w) {
  const threads_config_t *cfg = w->cfg;
  spsc_ring_t *ring = w->ring;
  bench_rng_t rng;
  bench_rng_seed(&rng, w->seed);
  uint64_t tail = 0, head_seen = 0; /* head is re-read only when full */
  pthread_barrier_wait(w->start);
  for (uint64_t i = 0; i < cfg->pairs; i++) {
    uint64_t r = bench_rng_next(&rng);
    size_t size = 16 + (size_t)(((r & 0xffffffffu) * 497) >> 32);
    uint64_t *p = alloc_object(cfg, size);
    *p = i;
    unsigned spins = 0;
    while (tail - head_seen >= XFREE_RING_SIZE) {
      head_seen = atomic_load_explicit(&ring->head, memory_order_acquire);
      if (tail - head_seen >= XFREE_RING_SIZE) cpu_relax(&spins);
    }
    ring->slot[tail & (XFREE_RING_SIZE - 1)] = p;
    atomic_store_explicit(&ring->tail, ++tail, memory_order_release);
  }
}

static void run_consumer(worker_t *w) {
  const threads_config_t *cfg = w->cfg;
  spsc_ring_t *ring = w->ring;
  uint64_t head = 0;
  pthread_barrier_wait(w->start);
  while (head < cfg->pairs) {
    uint64_t tail;
    unsigned spins = 0;
    while ((tail = atomic_load_explicit(&ring->tail, memory_order_acquire)) ==
           head)
      cpu_relax(&spins);
    for (; head < tail; head++) {
      uint64_t *p = ring->slot[head & (XFREE_RING_SIZE - 1)];
      if (*p != head) w->corrupt++;
      free(p);
    }
    atomic_store_explicit(&ring->head, head, memory_order_release);
  }
}

static void *worker_main(void *arg) {
  worker_t *w = arg;
  if (w->role == 0) run_local(w);
  else if (w->role == 1) run_producer(w);
  else run_consumer(w);
  return NULL;
}

/* Runs one repetition of `mode` ("local" or "xfree"); returns the wall time
 * in ns and stores the number of malloc+free pairs done in *pairs_done. */
static uint64_t run_once(const threads_config_t *cfg, int xfree,
                         uint64_t pairs_per_thread, uint64_t seed,
                         uint64_t *pairs_done, uint64_t *corrupt) {
  threads_config_t run_cfg = *cfg;
  run_cfg.pairs = pairs_per_thread;
  uint64_t n = cfg->threads;
  worker_t workers[256];
  pthread_t tids[256];
  spsc_ring_t *rings = xfree ? bench_map((n / 2) * sizeof(spsc_ring_t), 1)
                             : NULL;
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, (unsigned)n + 1);
  for (uint64_t t = 0; t < n; t++) {
    workers[t] = (worker_t){.cfg = &run_cfg, .start = &start,
                            .ring = xfree ? &rings[t / 2] : NULL,
                            .role = xfree ? 1 + (int)(t % 2) : 0,
                            .seed = seed * 1000 + t};
    if (pthread_create(&tids[t], NULL, worker_main, &workers[t]))
      bench_die("pthread_create failed");
  }
  pthread_barrier_wait(&start);
  uint64_t begin = bench_now_ns();
  for (uint64_t t = 0; t < n; t++) pthread_join(tids[t], NULL);
  uint64_t wall = bench_now_ns() - begin;
  pthread_barrier_destroy(&start);
  if (rings) bench_unmap(rings, (n / 2) * sizeof(spsc_ring_t));
  *pairs_done = xfree ? (n / 2) * pairs_per_thread : n * pairs_per_thread;
  for (uint64_t t = 0; t < n; t++) *corrupt += workers[t].corrupt;
  return wall;
}

static void measure(const threads_config_t *cfg, int xfree) {
  const char *name = xfree ? "threads_xfree" : "threads";
  const char *variant = cfg->use_class ? "class" : "default";
  double ns[1000], mops[1000];
  uint64_t done, corrupt = 0;
  run_once(cfg, xfree, cfg->pairs / 4 + 1, 7, &done, &corrupt); /* warm-up */
  for (uint64_t r = 0; r < cfg->reps; r++) {
    uint64_t wall = run_once(cfg, xfree, cfg->pairs, 100 + r, &done, &corrupt);
    ns[r] = (double)wall * (double)cfg->threads / (double)done;
    mops[r] = (double)done / ((double)wall / 1e3);
    printf("# %s rep %llu: %.2f thread-ns per pair, %.2f Mops/s\n", name,
           (unsigned long long)r, ns[r], mops[r]);
  }
  double ns_median = bench_median(ns, (int)cfg->reps);
  double mops_median = bench_median(mops, (int)cfg->reps);
  printf("# %s %s: %llu threads, median %.2f thread-ns per malloc+free, "
         "%.2f M pairs/s\n", name, variant,
         (unsigned long long)cfg->threads, ns_median, mops_median);
  if (corrupt) {
    printf("# %s: %llu objects changed between malloc and free\n", name,
           (unsigned long long)corrupt);
    bench_result(name, variant, "corrupt_objects", (double)corrupt);
  }
  bench_result(name, variant, "ns_per_pair", ns_median);
  bench_result(name, variant, "mops", mops_median);
}

int main(int argc, char **argv) {
  threads_config_t cfg = {
      .threads = 2,
      .pairs = bench_quick() ? 1000000 : 5000000,
      .reps = bench_quick() ? 3 : 5,
      .slots = 512,
  };
  const char *mode = "both";
  for (int i = 1; i < argc; i++) {
    if (bench_opt_variant(argc, argv, &i, &cfg.use_class, &cfg.lifetime_class)) continue;
    if (bench_opt_str(argc, argv, &i, "mode", &mode)) {
      if (strcmp(mode, "both") && strcmp(mode, "local") && strcmp(mode, "xfree"))
        bench_die("--mode must be both, local or xfree, not '%s'", mode);
    } else if (bench_opt_u64(argc, argv, &i, "threads", &cfg.threads) ||
               bench_opt_u64(argc, argv, &i, "pairs", &cfg.pairs) ||
               bench_opt_u64(argc, argv, &i, "reps", &cfg.reps) ||
               bench_opt_u64(argc, argv, &i, "slots", &cfg.slots)) {
    } else {
      bench_die("unknown option '%s' (see the comment at the top of "
                "bench/bench_threads.c)", argv[i]);
    }
  }
  if (cfg.threads == 0 || cfg.threads > 256 || cfg.pairs == 0 ||
      cfg.reps == 0 || cfg.reps > 1000 || cfg.slots == 0 ||
      cfg.slots > (1u << 24))
    bench_die("option out of range");

  bench_init("bench_threads");
  if (cfg.use_class && !bench_llama_malloc_class)
    printf("# variant class: llama_malloc_class absent, measuring malloc\n");
  if (strcmp(mode, "xfree")) measure(&cfg, 0);
  if (strcmp(mode, "local")) {
    if (cfg.threads % 2)
      bench_die("--mode=xfree needs an even number of threads (pairs)");
    measure(&cfg, 1);
  }
  return 0;
}
