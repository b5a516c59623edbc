// The whole profiling stage on a program with three sites of known lifetime,
// built exactly as a user would (llama-config's flags), profiled, merged and
// shown: objects freed at once are class 0 (<= 10 ms), objects kept about
// 1.5 s class 3 (<= 10 s), objects never freed class 6. Each site has one
// context, through the caller that allocates it, ending at main: the C
// library's start-up frames below main are not part of a context.
// REQUIRES: llama-config
// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: %cc -O2 %gen_cflags -c %s -o app.o
// RUN: %cc app.o -o app %gen_ldflags
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t/app-%%p.profraw ./app
// RUN: %profdata merge -q -o app.llamaprof %t/app-*.profraw
// RUN: %profdata show app.llamaprof | FileCheck %s
// RUN: %profdata show --json app.llamaprof | %python -c "import json,sys; d=json.load(sys.stdin); print(sorted((s['function'], s['class']) for s in d['sites'] if s['kind'] == 'malloc' and not s['site_flags'] & 8))" | FileCheck --check-prefix=JSON %s

// CHECK-DAG: {{^0x[0-9a-f]+}} malloc {{ *}}2000 {{ *}}64000 {{ *}}2000 {{ *}}100.0 {{.*}} 0 {{ *}}at_once (
// CHECK-DAG: {{^0x[0-9a-f]+}} malloc {{ *}}40 {{ *}}5120 {{ *}}40 {{ *}}0.0 {{ *}}0.0 {{ *}}0.0 {{ *}}100.0 {{.*}} 3 {{ *}}kept (
// CHECK-DAG: {{^0x[0-9a-f]+}} malloc {{ *}}30 {{ *}}7680 {{ *}}30 {{.*}} 100.0 {{ *}}6 {{ *}}never_freed (
// CHECK-DAG: context 0x{{[0-9a-f]+}} samples 2000 class 0: at_once ({{.*}}lifetimes-show.c:{{[0-9]+}}:{{[0-9]+}}) < main ({{[^<]*}}){{$}}
// CHECK-DAG: context 0x{{[0-9a-f]+}} samples 40 class 3: kept ({{.*}}lifetimes-show.c:{{[0-9]+}}:{{[0-9]+}}) < main ({{[^<]*}}){{$}}
// CHECK-DAG: context 0x{{[0-9a-f]+}} samples 30 class 6: never_freed ({{.*}}lifetimes-show.c:{{[0-9]+}}:{{[0-9]+}}) < main ({{[^<]*}}){{$}}
// JSON: [('at_once', 0), ('kept', 3), ('never_freed', 6)]
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *volatile sink;

__attribute__((noinline)) static void at_once(void) {
  for (int i = 0; i < 2000; i++) {
    char *p = malloc(32);
    memset(p, i, 32);
    sink = p;
    free(p);
  }
}

__attribute__((noinline)) static void **kept(void) {
  void **v = calloc(40, sizeof *v);
  for (int i = 0; i < 40; i++)
    v[i] = malloc(128);
  return v;
}

__attribute__((noinline)) static void never_freed(void) {
  for (int i = 0; i < 30; i++)
    sink = malloc(256);
}

int main(void) {
  void **v = kept();
  at_once();
  never_freed();
  struct timespec ts = {1, 500000000};
  nanosleep(&ts, NULL);
  for (int i = 0; i < 40; i++)
    free(v[i]);
  free(v);
  return 0;
}
