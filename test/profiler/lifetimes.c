// Sites of known lifetime with every allocation sampled (LLAMA_PROF_SAMPLE=1):
// freed at once, kept ~1.5 s, never freed (LIVE), resized by realloc
// (REALLOCATED); every C allocation kind; exact call and byte counts per
// site; and calling contexts whose frame [0] is the function holding the
// site, then its callers. Objects freed at once must show lifetimes under a
// second (not 0 ms exactly: a busy machine can preempt between malloc and
// free), which still tells them apart from the one kept ~1.5 s.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc %prof_cflags %s -o %t %link_llamaprof
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/p.profraw LLAMA_PROF_VERBOSE=1 %t 2> %t.err | FileCheck --check-prefix=OUT %s
// RUN: FileCheck --check-prefix=ERR %s < %t.err
// RUN: %rawdump --summary %t.dir/p.profraw | FileCheck %s
// RUN: %rawdump --symbolize %t.dir/p.profraw | FileCheck --check-prefix=STACK %s
// RUN: %rawdump %t.dir/p.profraw | FileCheck --check-prefix=RAW %s
//
// OUT: lifetimes: done
// ERR: llama-prof: wrote {{.*}}p.profraw ({{[0-9]+}} sites, {{[0-9]+}} samples, {{[0-9]+}} stacks)
// CHECK: header period=1 flags=0
// RAW: header version=1 pid={{[0-9]+}} period=1 flags=0
// RAW: section META count=7
// RAW-NEXT: section MODULES
// RAW-NEXT: section SITES
// RAW-NEXT: section STACKS
// RAW-NEXT: section SAMPLES
// RAW: meta exe={{.*}}lifetimes.c.tmp
// RAW: meta cmdline={{.*}}lifetimes.c.tmp
// RAW: meta unwinder=frame-pointer
// RAW: meta version=libllamaprof
// RAW: meta samples_dropped=0
// RAW: module {{.*}}lifetimes.c.tmp bias=0x{{[0-9a-f]+}} start=0x{{[0-9a-f]+}} end=0x{{[0-9a-f]+}} build_id={{[0-9a-f]+}}
// RAW: module {{.*}}libllamaprof.so

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void *volatile sink;

__attribute__((noinline)) static void short_lived(void) {
  for (int i = 0; i < 1000; i++) {
    char *p = malloc(24);
// CHECK: site short_lived:[[@LINE-1]] kind=malloc count=1000 bytes=24000 samples=1000 freed=1000 live=0 flags=0 life_ms=0..{{[0-9][0-9]?[0-9]?}} sizes=24 alloc_tids=1 cross_frees=0 free_sites=short_lived:[[@LINE+3]]
// STACK-DAG: context short_lived:[[@LINE-2]]: short_lived <- main <- __libc_start_call_main
    p[0] = 1;
    free(p);
// CHECK: site short_lived:[[@LINE-1]] kind=free count=1000 bytes=0 samples=0
  }
}

__attribute__((noinline)) static char *kept(void) {
  char *p = malloc(100);
// CHECK: site kept:[[@LINE-1]] kind=malloc count=1 bytes=100 samples=1 freed=1 live=0 flags=0 life_ms={{1[5-9][0-9][0-9]}}..{{[0-9]+}} sizes=100
// STACK-DAG: context kept:[[@LINE-2]]: kept <- main <- __libc_start_call_main
  memset(p, 0, 100);
  return p;
}

__attribute__((noinline)) static void *leaked(int n) {
  void *p = calloc(n, 10);
// CHECK: site leaked:[[@LINE-1]] kind=calloc count=3 bytes=90 samples=3 freed=0 live=3 flags=LIVE sizes=10,30,50
// STACK-DAG: context leaked:[[@LINE-2]]: leaked <- main <- __libc_start_call_main
  sink = p;
  return p;
}

/* Two levels of callers. */
__attribute__((noinline)) static char *grow(char *p, size_t n) {
  char *q = realloc(p, n);
// CHECK: site grow:[[@LINE-1]] kind=realloc count=4 bytes=1400 samples=4 freed=4 live=0 flags=REALLOCATED life_ms=0..{{[0-9][0-9]?[0-9]?}} sizes=100,200,300,800
// STACK-DAG: context grow:[[@LINE-2]]: grow <- outer <- main <- __libc_start_call_main
  q[0] = 0;
  return q;
}

__attribute__((noinline)) static void outer(void) {
  char *p = malloc(50);
// CHECK: site outer:[[@LINE-1]] kind=malloc count=1 bytes=50 samples=1 freed=1 live=0 flags=REALLOCATED life_ms=0..{{[0-9][0-9]?[0-9]?}} sizes=50 alloc_tids=1 cross_frees=0 free_sites=grow:[[@LINE-9]]
  p = grow(p, 100);
  p = grow(p, 200);
  p = grow(p, 300);
  p = grow(p, 800);
  p = reallocarray(p, 100, 10);
// CHECK: site outer:[[@LINE-1]] kind=reallocarray count=1 bytes=1000 samples=1 freed=1 live=0 flags=0 life_ms=0..{{[0-9][0-9]?[0-9]?}} sizes=1000 alloc_tids=1 cross_frees=0 free_sites=outer:[[@LINE+2]]
  sink = p;
  free(p);
// CHECK: site outer:[[@LINE-1]] kind=free count=1
}

/* Every other C allocation kind once, each freed at one free site. */
__attribute__((noinline)) static void kinds(void) {
  void *p[8];
  p[0] = strdup("seven!");
// CHECK: site kinds:[[@LINE-1]] kind=strdup count=1 bytes=7 samples=1 freed=1
  p[1] = strndup("abcdefgh", 3);
// CHECK: site kinds:[[@LINE-1]] kind=strndup count=1 bytes=4 samples=1 freed=1
  p[2] = aligned_alloc(64, 128);
// CHECK: site kinds:[[@LINE-1]] kind=aligned_alloc count=1 bytes=128 samples=1 freed=1
  if (posix_memalign(&p[3], 256, 1000)) abort();
// CHECK: site kinds:[[@LINE-1]] kind=posix_memalign count=1 bytes=1000 samples=1 freed=1
  p[4] = memalign(32, 33);
// CHECK: site kinds:[[@LINE-1]] kind=memalign count=1 bytes=33 samples=1 freed=1
  p[5] = valloc(5000);
// CHECK: site kinds:[[@LINE-1]] kind=valloc count=1 bytes=5000 samples=1 freed=1
  p[6] = pvalloc(10);
// CHECK: site kinds:[[@LINE-1]] kind=pvalloc count=1 bytes=10 samples=1 freed=1
  p[7] = realloc(NULL, 77);
// CHECK: site kinds:[[@LINE-1]] kind=realloc count=1 bytes=77 samples=1 freed=1
  if ((uintptr_t)p[3] % 256 || (uintptr_t)p[2] % 64 || strcmp(p[1], "abc")) abort();
  for (int i = 0; i < 8; i++) {
    sink = p[i];
    free(p[i]);
// CHECK: site kinds:[[@LINE-1]] kind=free count=8 bytes=0
  }
}

/* Exact counts with many calls and sizes. */
__attribute__((noinline)) static void counted(void) {
  for (int i = 0; i < 12345; i++) {
    char *p = malloc((size_t)i % 100);
// CHECK: site counted:[[@LINE-1]] kind=malloc count=12345 bytes=609840 samples=12345 freed=12345
    sink = p;
    free(p);
  }
}

int main(void) {
  short_lived();
  char *k = kept();
  for (int n = 1; n <= 5; n += 2) leaked(n);
  outer();
  kinds();
  counted();
  struct timespec ts = {1, 520000000};
  nanosleep(&ts, NULL);
  free(k);
// CHECK: site main:[[@LINE-1]] kind=free count=1
  puts("lifetimes: done");
  return 0;
}
