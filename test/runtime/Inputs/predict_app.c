/* A program with two allocation sites of opposite lifetimes, for the
 * dynamic-path tests (predict_model.test): scratch_buffer frees each object
 * at once (class 0), registry_entry never frees (class 6). Under
 * libllamalloc it reports, through llama_stats_get (looked up with dlsym so
 * the same source also runs under the profiler), which bin each phase's
 * allocations went to and how their class was found. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamalloc.h"

#ifndef SCRATCH
#define SCRATCH 20000
#endif
#define REGISTRY 2000

static void *volatile sink;
static void *registry[REGISTRY];

__attribute__((noinline)) static void scratch_buffer(int i) {
  char *p = malloc(64);
  memset(p, i, 64);
  sink = p;
  free(p);
}

__attribute__((noinline)) static void registry_entry(int i) {
  registry[i] = malloc(48);
  memset(registry[i], i, 48);
}

typedef int stats_fn(llama_stats_t *, size_t);

static void report(const char *phase, const llama_stats_t *a, const llama_stats_t *b) {
  unsigned best = 0;
  uint64_t most = 0, all = 0;
  for (unsigned k = 0; k < LLAMA_NUM_BINS; k++) {
    uint64_t d = b->bins[k].allocations - a->bins[k].allocations;
    all += d;
    if (d > most) most = d, best = k;
  }
  printf("%s: bin %u has %llu of %llu, predicted %llu, hits %llu, misses %llu\n", phase, best,
         (unsigned long long)most, (unsigned long long)all,
         (unsigned long long)(b->allocations_predicted - a->allocations_predicted),
         (unsigned long long)(b->cache_hits - a->cache_hits),
         (unsigned long long)(b->cache_misses - a->cache_misses));
}

int main(void) {
  stats_fn *get = (stats_fn *)dlsym(RTLD_DEFAULT, "llama_stats_get_sized");
  llama_stats_t a, b, c;
  if (get) get(&a, sizeof a);
  for (int i = 0; i < SCRATCH; i++) scratch_buffer(i);
  if (get) get(&b, sizeof b);
  for (int i = 0; i < REGISTRY; i++) registry_entry(i);
  if (get) get(&c, sizeof c);
  if (get) {
    report("scratch", &a, &b);
    report("registry", &b, &c);
  }
  printf("done\n");
  return 0;
}
