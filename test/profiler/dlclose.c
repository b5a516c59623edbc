// An instrumented plugin loaded with dlopen, used from a thread, then
// dlclose'd before that thread exits (its counter cache is flushed into
// the plugin's site descriptors at exit) and before the profile is
// written: the profiler pins instrumented modules (RTLD_NODELETE), so
// nothing is unmapped, and the plugin's sites and samples are in the
// profile with exact counts, their stacks symbolized in the plugin.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc %prof_cflags -shared -fPIC -DPLUGIN %s -o %t.plugin.so
// RUN: %cc %prof_cflags %s -o %t %link_llamaprof
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/p.profraw %t %t.plugin.so | FileCheck --check-prefix=OUT %s
// RUN: %rawdump --summary %t.dir/p.profraw | FileCheck %s
// RUN: %rawdump --symbolize %t.dir/p.profraw | FileCheck --check-prefix=STACK %s
//
// OUT: dlclose: done
// CHECK: site plugin_work:{{[0-9]+}} kind=malloc count=500 bytes=20000 samples=500 freed=499 live=1 flags=LIVE
// CHECK: site plugin_work:{{[0-9]+}} kind=free count=499
// STACK: context plugin_work:{{[0-9]+}}: plugin_work <- worker <- start_thread

#include <stdlib.h>

#ifdef PLUGIN
void *plugin_work(int n) {
  void *keep = NULL;
  for (int i = 0; i < n; i++) {
    void *p = malloc(40);
    if (keep) free(keep);
    keep = p;
  }
  return keep;
}
#else
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

static void *(*work)(int);
static pthread_barrier_t closed;

static void *worker(void *arg) {
  void *volatile keep = work(500);
  (void)keep;
  pthread_barrier_wait(&closed); /* main dlcloses the plugin here */
  pthread_barrier_wait(&closed);
  return NULL; /* exit: the counter cache is flushed into the plugin */
}

int main(int argc, char **argv) {
  void *plugin = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!plugin) return 1;
  work = (void *(*)(int))dlsym(plugin, "plugin_work");
  pthread_barrier_init(&closed, NULL, 2);
  pthread_t tid;
  pthread_create(&tid, NULL, worker, NULL);
  pthread_barrier_wait(&closed);
  dlclose(plugin);
  pthread_barrier_wait(&closed);
  pthread_join(tid, NULL);
  puts("dlclose: done");
  return 0;
}
#endif
