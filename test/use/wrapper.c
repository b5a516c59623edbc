// The whole pipeline on a program whose allocations go through a wrapper in
// another file: profiling build, run, merge, use build, run. The wrapper's
// malloc serves short-lived scratch buffers and never-freed configuration
// entries, so its class depends on the caller: the use build must set hints
// at the two callers, and at run time nearly every allocation must take the
// static path and land in its own bin.
// RUN: rm -rf %t && mkdir -p %t/raw
// RUN: %cc -O2 %gen_cflags %s %S/Inputs/wrap_util.c -o %t/gen %gen_ldflags
// RUN: env LLAMA_PROF_FILE=%t/raw/p-%%p.profraw LLAMA_PROF_SAMPLE=1 %t/gen 20000 > /dev/null
// RUN: %profdata merge -q -o %t/p.llamaprof %t/raw/*.profraw
// RUN: %cc -O2 %use_cflags -mllvm -llama-use=%t/p.llamaprof -Rpass=llama \
// RUN:   %s %S/Inputs/wrap_util.c -o %t/use %use_ldflags 2> %t/remarks
// RUN: FileCheck %s --check-prefix=REMARK < %t/remarks
// RUN: env LLAMA_STATS=1 %t/use 50000 2> %t/stats | FileCheck %s
// RUN: FileCheck %s --check-prefix=STATS < %t/stats
// Lines added above a function keep its sites' ids (they count from the
// function's first line); a line added inside one moves the site: one
// summary warning, and the site keeps the dynamic path.
// RUN: sed -e '1i\' -e '// moved' %s > %t/above.c
// RUN: %cc -O2 %use_cflags -mllvm -llama-use=%t/p.llamaprof -c %t/above.c -o %t/above.o 2>&1 \
// RUN:   | FileCheck %s --check-prefix=SAME --allow-empty
// RUN: sed -e 's/^  char \*p = malloc(32/\n&/' %s > %t/inside.c
// RUN: %cc -O2 %use_cflags -mllvm -llama-use=%t/p.llamaprof -c %t/inside.c -o %t/inside.o 2>&1 \
// RUN:   | FileCheck %s --check-prefix=STALE
// RUN: %cc -O2 %use_cflags -mllvm -llama-use=%t/p.llamaprof -Wno-backend-plugin -c %t/inside.c \
// RUN:   -o %t/inside.o 2>&1 | FileCheck %s --check-prefix=SAME --allow-empty
//
// REMARK-DAG: wrap_util.c:7:13: remark: malloc: class depends on the caller {{.*}} covering 100.0% of its allocations
// REMARK-DAG: wrapper.c:{{[0-9]+}}:{{[0-9]+}}: remark: hint: allocations of site 0x{{[0-9a-f]+}} under this call (1 frame up) have class 0
// REMARK-DAG: wrap_util.c:{{[0-9]+}}:{{[0-9]+}}: remark: hint: allocations of site 0x{{[0-9a-f]+}} under this call (1 frame up) have class 6
// REMARK-DAG: wrapper.c:{{[0-9]+}}:{{[0-9]+}}: remark: malloc: lifetime class 0
//
// CHECK: scratch in bin 0: yes
// CHECK: config in bin 6: yes
// CHECK: static share: {{(9[5-9]|100)\.[0-9]}}%
// STATS: allocations: static {{[0-9]+}}, predicted 0, default {{[0-9]+}}
// SAME-NOT: warning:
// STALE: warning: {{.*}}inside.c: llama: 1 of 1 allocation sites are missing from the profile {{.*}}p.llamaprof although it has data for their functions: the source changed since profiling (stale profile?). {{.*}} [-Wbackend-plugin]
// STALE-NOT: warning:
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamalloc.h"

void *xmalloc(size_t n);
char *xstrdup(const char *s);

// Present only in the use build (libllamalloc); the profiling build links
// libllamaprof and the system malloc.
#pragma weak llama_stats_get_sized

static char *config[4096];
static unsigned config_count;

static void scratch(unsigned i) {
  char *buf = xmalloc(64 + i % 512);
  memset(buf, (int)i, 64);
  free(buf);
}

static void remember(const char *key) {
  if (config_count < sizeof config / sizeof *config)
    config[config_count++] = xstrdup(key);
}

static void *volatile sink; // keeps LLVM from deleting direct()'s malloc/free pair

static void direct(unsigned i) {
  char *p = malloc(32 + i % 64);
  p[0] = 1;
  sink = p;
  free(p);
}

int main(int argc, char **argv) {
  unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 10000;
  llama_stats_t before, after;
  if (llama_stats_get_sized)
    llama_stats_get(&before);
  for (unsigned i = 0; i < n; i++) {
    scratch(i);
    if (i % 16 == 0) {
      char key[32];
      snprintf(key, sizeof key, "key-%u", i);
      remember(key);
    }
    direct(i);
  }
  if (!llama_stats_get_sized)
    return 0;
  llama_stats_get(&after);
  uint64_t all = 0, stat = after.allocations_static - before.allocations_static;
  all = stat + (after.allocations_predicted - before.allocations_predicted) +
        (after.allocations_default - before.allocations_default);
  printf("scratch in bin 0: %s\n",
         after.bins[0].allocations - before.bins[0].allocations >= 2ull * n ? "yes" : "no");
  printf("config in bin 6: %s\n",
         after.bins[6].allocations - before.bins[6].allocations >= config_count ? "yes" : "no");
  printf("static share: %.1f%%\n", all ? 100.0 * (double)stat / (double)all : 0.0);
  return 0;
}
