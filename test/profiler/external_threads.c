// External allocations (a helper built without the plugin calls malloc and
// operator-new-free C code) from four threads with cross-thread frees, then
// from a forked child: every call is counted and, at LLAMA_PROF_SAMPLE=1,
// sampled exactly once (no sample lost, none counted twice), each freed by
// the other thread; the child's profile holds only its own external
// samples. Run a second time at the default period under load to check the
// counts stay exact.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc -O1 -fno-optimize-sibling-calls -c -DHELPER %s -o %t.helper.o
// RUN: %cc %prof_cflags %s %t.helper.o -o %t %link_llamaprof
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/t-%%p.profraw %t 2000 | FileCheck --check-prefix=OUT %s
// RUN: ls %t.dir | count 2
// RUN: %rawdump %t.dir/*.profraw > %t.dump
// Parent: 4 x 2000 samples of 777 bytes, all freed, at most one per thread
// pair direction; child: 5 of 555 bytes; no 555 in the parent, no 777 in
// the child.
// RUN: grep -c "sample site=<external malloc> size=777 .*life_ms" %t.dump | FileCheck --check-prefix=N8000 %s
// RUN: grep -c "sample site=<external malloc> size=555 " %t.dump | FileCheck --check-prefix=N5 %s
// RUN: %rawdump --summary --external %t.dir/*.profraw | FileCheck %s
// RUN: env LLAMA_PROF_FILE=%t.dir/default-%%p.profraw %t 50000 | FileCheck --check-prefix=OUT %s
// RUN: %rawdump --summary --external %t.dir/default-*.profraw | FileCheck --check-prefix=DEFAULT %s
//
// OUT: external_threads: done
// N8000: {{^8000$}}
// N5: {{^5$}}
// CHECK: header period=1 flags=0
// CHECK: site <external malloc> kind=malloc count={{[0-9]+}} {{.*}} alloc_tids={{[45]}} cross_frees=8000
// CHECK: header period=1 flags=FORKED samples=0 external=5
// CHECK: site <external malloc> kind=malloc count=5 bytes=2775 samples=5 freed=5 live=0 flags=0 {{.*}} sizes=555 alloc_tids=1
// DEFAULT: header period=100 flags=0
// DEFAULT: site <external malloc> kind=malloc count={{200[0-9][0-9][0-9]}} {{.*}}alloc_tids={{[1-5]}}
// DEFAULT: header period=100 flags=FORKED samples=0
// DEFAULT: site <external malloc> kind=malloc count=5 bytes=2775

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void *helper_alloc(size_t n);
void helper_free(void *p);

#ifdef HELPER
void *helper_alloc(size_t n) {
  char *p = malloc(n);
  memset(p, 0, n);
  return p;
}
void helper_free(void *p) { free(p); }
#else
#define THREADS 4
static int per_thread;
static void **slots[THREADS];
static pthread_barrier_t barrier;

static void *worker(void *arg) {
  int me = (int)(long)arg;
  for (int i = 0; i < per_thread; i++) slots[me][i] = helper_alloc(777);
  pthread_barrier_wait(&barrier);
  void **theirs = slots[(me + 1) % THREADS];
  for (int i = 0; i < per_thread; i++) helper_free(theirs[i]);
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
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    for (int i = 0; i < 5; i++) helper_free(helper_alloc(555));
    exit(0);
  }
  int status;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status)) return 1;
  puts("external_threads: done");
  return 0;
}
#endif
