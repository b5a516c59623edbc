// The profiler under ThreadSanitizer. TSan owns malloc and free in a
// sanitized process, so libllamaprof cannot interpose free here: its C
// sources are built with -fsanitize=thread into one relocatable object
// whose interposers are renamed (Inputs/tsan_rename.txt); the profiler then
// resolves TSan's free as the real one. The instrumented workload, also
// sanitized, runs threads that allocate at sampled sites, free each other's
// objects (instrumented and through a pointer to free), realloc, exit and
// start again (counter caches released and reused), while another thread
// calls llama_prof_dump and the main thread forks. Any TSan report fails.
//
// REQUIRES: tsan
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc -O1 -fsanitize=thread -fno-sanitize-link-runtime -fno-builtin -ftls-model=initial-exec -fno-omit-frame-pointer -fvisibility=hidden -r -nostdlib %srcroot/profiler/*.c -o %t.prof.o
// RUN: llvm-objcopy --redefine-syms=%S/Inputs/tsan_rename.txt %t.prof.o %t.prof-renamed.o
// RUN: %cc -fsanitize=thread %prof_cflags -I%libdir/../include %s %t.prof-renamed.o -ldl -lpthread -o %t
// RUN: env LLAMA_PROF_SAMPLE=3 LLAMA_PROF_FILE=%t.dir/p-%%p.profraw %t 2>&1 | FileCheck %s
// RUN: %rawdump --summary %t.dir/*.profraw | FileCheck --check-prefix=PROFILE %s
//
// CHECK-NOT: ThreadSanitizer
// CHECK: tsan: done
// CHECK-NOT: ThreadSanitizer
// PROFILE: header period=3 flags=0
// PROFILE: site worker:{{[0-9]+}} kind=malloc count=48000 bytes={{[0-9]+}} samples={{[1-9][0-9]+}}

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "llamaprof.h"

#define THREADS 4
#define ROUNDS 3
#define OBJECTS 4000

static _Atomic(void *) mailbox[THREADS][64];
static atomic_int stop;

static void *worker(void *arg) {
  int me = (int)(long)arg;
  void (*volatile release)(void *) = free;
  for (int i = 0; i < OBJECTS; i++) {
    char *p = malloc((size_t)(i % 200) + 1);
    p[0] = (char)i;
    if (i % 7 == 0) p = realloc(p, 300);
    /* Hand it to the next thread; free what was handed to us. */
    void *old = atomic_exchange(&mailbox[(me + 1) % THREADS][i % 64], p);
    if (old) {
      if (i & 1)
        free(old);
      else
        release(old);
    }
  }
  return NULL;
}

static void *dumper(void *arg) {
  char *path = arg;
  while (!atomic_load(&stop)) {
    if (llama_prof_dump(path) != 0) puts("FAIL: dump");
    usleep(2000);
  }
  return NULL;
}

int main(void) {
  char dump_path[4096];
  snprintf(dump_path, sizeof dump_path, "%s.dump", getenv("LLAMA_PROF_FILE"));
  pthread_t dump_thread;
  pthread_create(&dump_thread, NULL, dumper, dump_path);
  for (int round = 0; round < ROUNDS; round++) {
    pthread_t tid[THREADS];
    for (int t = 0; t < THREADS; t++) pthread_create(&tid[t], NULL, worker, (void *)(long)t);
    if (round == 1) {
      pid_t pid = fork();
      if (pid == 0) {
        worker((void *)0L);
        _exit(0);
      }
      waitpid(pid, NULL, 0);
    }
    for (int t = 0; t < THREADS; t++) pthread_join(tid[t], NULL);
  }
  atomic_store(&stop, 1);
  pthread_join(dump_thread, NULL);
  for (int t = 0; t < THREADS; t++)
    for (int i = 0; i < 64; i++) free(atomic_load(&mailbox[t][i]));
  puts("tsan: done");
  return 0;
}
