// Allocations by code the pass did not rewrite: a helper translation unit
// built without the plugin (malloc, calloc, realloc, posix_memalign,
// aligned_alloc, strdup), libc's getline (which calls malloc itself), and a
// preinit_array function that allocates before any constructor (the
// profiler's included) has run. They are recorded at the external
// pseudo-sites, with frame [0] in the function that called the allocation
// function; the instrumented sites keep their exact counts (an instrumented
// strdup is not counted again at <external malloc>). The merged profile
// gives the two helper contexts their own classes and no [from site]
// frames. LLAMA_PROF_EXTERNAL=0 records none; libunwind gives the same
// contexts.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc -O1 -fno-optimize-sibling-calls -c -DHELPER %s -o %t.helper.o
// RUN: %cc %prof_cflags %s %t.helper.o -o %t %link_llamaprof
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/p.profraw %t | FileCheck --check-prefix=OUT %s
// RUN: %rawdump --summary --external %t.dir/p.profraw | FileCheck --check-prefix=RAW %s
// RUN: %rawdump --symbolize %t.dir/p.profraw | FileCheck --check-prefix=STACK %s
// RUN: %profdata merge -q -o %t.dir/p.llamaprof %t.dir/p.profraw
// RUN: %profdata show --json %t.dir/p.llamaprof | %python %S/../e2e/Inputs/external.py %S | FileCheck %s
// RUN: %profdata show %t.dir/p.llamaprof | FileCheck --check-prefix=TABLE %s
//
// RUN: env LLAMA_PROF_UNWIND=libunwind LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/u.profraw %t | FileCheck --check-prefix=OUT %s
// RUN: %profdata merge -q -o %t.dir/u.llamaprof %t.dir/u.profraw
// RUN: %profdata show --json %t.dir/u.llamaprof | %python %S/../e2e/Inputs/external.py %S | FileCheck %s
//
// RUN: env LLAMA_PROF_EXTERNAL=0 LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/off.profraw %t | FileCheck --check-prefix=OUT %s
// RUN: %rawdump --summary --external %t.dir/off.profraw | FileCheck --check-prefix=OFF %s
//
// OUT: early ok
// OUT: line: a line much longer than the initial buffer of getline
// OUT: external: done
// RAW: header period=1 flags=0 samples=5 external={{[1-9][0-9]*}}
// RAW: site dup_instrumented:{{[0-9]+}} kind=strdup count=5 bytes=30 samples=5 freed=5
// RAW: site <external malloc> kind=malloc count={{[0-9]+}} {{.*}}sizes={{.*}}40,48,{{.*}}
// RAW: site <external calloc> kind=calloc count={{[1-9][0-9]*}}
// RAW: site <external realloc> kind=realloc count={{[1-9][0-9]*}}
// RAW: site <external aligned_alloc> kind=aligned_alloc count=1 bytes=256 samples=1 freed=1
// RAW: site <external posix_memalign> kind=posix_memalign count=1 bytes=96 samples=1 freed=1
// STACK-DAG: context <external malloc>: helper_alloc <- short_lived <- main
// STACK-DAG: context <external malloc>: helper_alloc <- long_lived <- main
// STACK-DAG: context <external aligned_alloc>: helper_aligned <- main
// STACK-NOT: context <external malloc>: {{.*}}dup_instrumented
//
// CHECK-DAG: external malloc calls={{[0-9]+}} class={{[0-6]}}
// CHECK-DAG: context malloc class=0 first=helper_alloc program=helper_alloc<short_lived<main
// CHECK-DAG: context malloc class=6 first=helper_alloc program=helper_alloc<long_lived<main
// CHECK-DAG: context malloc class=0 first=strdup program=helper_dup<main
// CHECK-DAG: context malloc class=0 first=getdelim program=read_line<main
// CHECK-DAG: context realloc class=0 first=helper_grow program=helper_grow<main
// CHECK-DAG: context calloc class=0 first=helper_zeroed program=helper_zeroed<main
// CHECK-NOT: BAD
// CHECK-NOT: program=dup_instrumented
// TABLE: <external malloc>
//
// OFF: header period=1 flags=0 samples=5 external=0
// OFF-NOT: <external
// OFF: site dup_instrumented:{{[0-9]+}} kind=strdup count=5
// OFF-NOT: <external

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *helper_alloc(size_t n);
char *helper_dup(const char *s);
void *helper_grow(void *p, size_t n);
void *helper_zeroed(size_t n);
void *helper_aligned(size_t alignment, size_t n);
int helper_memalign(void **out, size_t alignment, size_t n);

#ifdef HELPER
/* Built without the plugin: plain calls of the allocation functions. */
char *helper_alloc(size_t n) {
  char *p = malloc(n);
  memset(p, 1, n);
  return p;
}
char *helper_dup(const char *s) {
  char *p = strdup(s);
  p[0] = 'X';
  return p;
}
void *helper_grow(void *p, size_t n) {
  char *q = realloc(p, n);
  q[0] = 1;
  return q;
}
void *helper_zeroed(size_t n) {
  char *p = calloc(1, n);
  p[0] = 1;
  return p;
}
void *helper_aligned(size_t alignment, size_t n) {
  char *p = aligned_alloc(alignment, n);
  p[0] = 1;
  return p;
}
int helper_memalign(void **out, size_t alignment, size_t n) {
  int r = posix_memalign(out, alignment, n);
  if (!r) ((char *)*out)[0] = 1;
  return r;
}

/* Runs before every constructor, the profiler's included. */
static void *early;
static void early_alloc(int argc, char **argv, char **envp) {
  (void)argc, (void)argv, (void)envp;
  early = helper_alloc(1000);
  early = helper_grow(early, 3000);
}
__attribute__((section(".preinit_array"), used)) static void (*preinit)(int, char **,
                                                                        char **) = early_alloc;
int early_ok(void) {
  char *p = early;
  int ok = p && p[0] == 1 && p[999] == 1;
  free(early);
  return ok;
}
#else
int early_ok(void);

static void *volatile sink;
static void *kept[10];

__attribute__((noinline)) static void short_lived(void) {
  for (int i = 0; i < 100; i++) {
    char *p = helper_alloc(40);
    sink = p;
    free(p);
  }
}

__attribute__((noinline)) static void long_lived(void) {
  for (int i = 0; i < 10; i++) kept[i] = helper_alloc(48);
}

__attribute__((noinline)) static void read_line(void) {
  static char text[] = "a line much longer than the initial buffer of getline\n";
  FILE *f = fmemopen(text, sizeof text - 1, "r");
  char *line = NULL;
  size_t capacity = 0;
  if (getline(&line, &capacity, f) > 0) printf("line: %s", line);
  fclose(f);
  free(line);
}

__attribute__((noinline)) static void dup_instrumented(void) {
  for (int i = 0; i < 5; i++) {
    char *p = strdup("abcde");
    sink = p;
    free(p);
  }
}

int main(void) {
  puts(early_ok() ? "early ok" : "FAIL: early");
  short_lived();
  long_lived();
  read_line();
  dup_instrumented();
  char *d = helper_dup("duplicate me");
  sink = d;
  free(d);
  void *g = helper_grow(NULL, 10);
  g = helper_grow(g, 5000);
  free(g);
  free(helper_zeroed(64));
  free(helper_aligned(64, 256));
  void *m;
  if (helper_memalign(&m, 32, 96) == 0) free(m);
  puts("external: done");
  return 0;
}
#endif
