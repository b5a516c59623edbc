/* overhead_bench.c - a malloc-heavy workload to compare the plain build with
 * the profiling build (not a lit test: timings are machine-dependent).
 *
 *   F="$(build/bin/llama-config --generate --cflags)"
 *   L="$(build/bin/llama-config --generate --ldflags)"
 *   clang-19 -O2 test/profiler/Inputs/overhead_bench.c -o /tmp/plain -lpthread
 *   clang-19 -O2 $F test/profiler/Inputs/overhead_bench.c -o /tmp/prof $L
 *   /tmp/plain [threads]; /tmp/prof [threads]
 *
 * Phases: (1) malloc/free pairs of small sizes, the worst case (the
 * allocator's fast path is all the work); (2) a pool of 4096 slots where
 * each step frees a random slot and allocates a new object (random sizes
 * 8..1024, mixed lifetimes); (3) building and tearing down binary trees
 * with strdup'd keys, the pattern of a parser. Prints ns per operation. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rng(uint64_t *s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

struct node {
  struct node *left, *right;
  char *key;
};

static struct node *tree_insert(struct node *t, const char *key) {
  if (!t) {
    t = malloc(sizeof *t);
    t->left = t->right = NULL;
    t->key = strdup(key);
    return t;
  }
  if (strcmp(key, t->key) < 0)
    t->left = tree_insert(t->left, key);
  else
    t->right = tree_insert(t->right, key);
  return t;
}

static void tree_free(struct node *t) {
  if (!t) return;
  tree_free(t->left);
  tree_free(t->right);
  free(t->key);
  free(t);
}

#define PAIRS 20000000
#define POOL 4096
#define CHURN 10000000
#define TREES 200
#define TREE_KEYS 5000

static double results[3];

static void *work(void *arg) {
  uint64_t seed = 88172645463325252ull + (uintptr_t)arg;
  volatile uintptr_t sink = 0;
  uint64_t t0 = now_ns();
  for (int i = 0; i < PAIRS; i++) {
    void *p = malloc(16 + (i & 63));
    sink += (uintptr_t)p;
    free(p);
  }
  uint64_t t1 = now_ns();
  void **pool = calloc(POOL, sizeof *pool);
  for (int i = 0; i < CHURN; i++) {
    uint64_t r = rng(&seed);
    size_t slot = r % POOL;
    free(pool[slot]);
    pool[slot] = malloc(8 + (r >> 32) % 1017);
    ((char *)pool[slot])[0] = 1;
  }
  for (int i = 0; i < POOL; i++) free(pool[i]);
  free(pool);
  uint64_t t2 = now_ns();
  char key[32];
  for (int t = 0; t < TREES; t++) {
    struct node *root = NULL;
    for (int k = 0; k < TREE_KEYS; k++) {
      snprintf(key, sizeof key, "k%llu", (unsigned long long)(rng(&seed) % 1000000));
      root = tree_insert(root, key);
    }
    tree_free(root);
  }
  uint64_t t3 = now_ns();
  if (!arg) {
    results[0] = (double)(t1 - t0) / PAIRS;
    results[1] = (double)(t2 - t1) / CHURN;
    results[2] = (double)(t3 - t2) / ((double)TREES * TREE_KEYS);
  }
  (void)sink;
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  uint64_t t0 = now_ns();
  pthread_t tid[64];
  for (int i = 1; i < threads && i < 64; i++)
    pthread_create(&tid[i], NULL, work, (void *)(uintptr_t)i);
  work(NULL);
  for (int i = 1; i < threads && i < 64; i++) pthread_join(tid[i], NULL);
  uint64_t t1 = now_ns();
  printf("pairs %.1f ns/pair, churn %.1f ns/op, trees %.1f ns/key, total %.3f s (%d threads)\n",
         results[0], results[1], results[2], (double)(t1 - t0) / 1e9, threads);
  return 0;
}
