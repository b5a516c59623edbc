// Several threads allocating at the same sites, with cross-thread frees:
// exact counts (per-thread counter caches are flushed when threads exit),
// every sample freed by the other thread, four allocating threads. A second
// run at the default sampling period counts 400000 calls exactly and
// samples some of them.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc %prof_cflags %s -o %t %link_llamaprof
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/all.profraw %t 2000 | FileCheck --check-prefix=OUT %s
// RUN: %rawdump --summary %t.dir/all.profraw | FileCheck --check-prefix=ALL %s
// RUN: env LLAMA_PROF_FILE=%t.dir/default.profraw %t 100000 | FileCheck --check-prefix=OUT %s
// RUN: %rawdump --summary %t.dir/default.profraw | FileCheck --check-prefix=DEFAULT %s
//
// OUT: threads: done
// ALL: header period=1 flags=0 samples=8004
// ALL: site worker:{{[0-9]+}} kind=malloc count=8000 bytes=256000 samples=8000 freed=8000 live=0 flags=0 {{.*}} alloc_tids=4 cross_frees=8000 free_sites=worker:{{[0-9]+$}}
// DEFAULT: header period=100 flags=0 samples={{[1-9][0-9]+}}
// DEFAULT: site worker:{{[0-9]+}} kind=malloc count=400000 bytes=12800000 samples={{[1-9][0-9]+}} freed={{[1-9][0-9]+}} live=0 flags=0 {{.*}} alloc_tids=4
// DEFAULT: site worker:{{[0-9]+}} kind=free count=400000 bytes=0

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define THREADS 4
static int per_thread;
static void **slots[THREADS];
static pthread_barrier_t barrier;

static void *worker(void *arg) {
  int me = (int)(long)arg;
  for (int i = 0; i < per_thread; i++)
    slots[me][i] = malloc(32);
  pthread_barrier_wait(&barrier);
  /* Free the objects of the next thread. */
  void **theirs = slots[(me + 1) % THREADS];
  for (int i = 0; i < per_thread; i++) {
    void *p = theirs[i];
    free(p);
  }
  return NULL;
}

int main(int argc, char **argv) {
  per_thread = atoi(argv[1]);
  pthread_t tid[THREADS];
  pthread_barrier_init(&barrier, NULL, THREADS);
  for (int t = 0; t < THREADS; t++) slots[t] = calloc((size_t)per_thread, sizeof(void *));
  for (int t = 0; t < THREADS; t++) pthread_create(&tid[t], NULL, worker, (void *)(long)t);
  for (int t = 0; t < THREADS; t++) pthread_join(tid[t], NULL);
  for (int t = 0; t < THREADS; t++) free(slots[t]);
  puts("threads: done");
  return 0;
}
