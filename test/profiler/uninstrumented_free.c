// Objects allocated at instrumented sites and freed or reallocated by code
// the pass did not rewrite: a call through a pointer to free, libc's own
// tdestroy (calls free on our keys) and getline (reallocs our buffer), and a
// translation unit built without the pass. Each lifetime still ends (free
// site 0 = uninstrumented), realloc ones with REALLOCATED.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cc -O1 -c -DUNINSTRUMENTED %s -o %t.plain.o
// RUN: %cc %prof_cflags %s %t.plain.o -o %t %link_llamaprof
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/p.profraw %t | FileCheck --check-prefix=OUT %s
// RUN: %rawdump --summary %t.dir/p.profraw | FileCheck %s
//
// OUT: uninstrumented_free: done
// CHECK: header period=1 flags=0

#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef UNINSTRUMENTED
void plain_free(void *p) { free(p); }
void *plain_realloc(void *p, size_t n) { return realloc(p, n); }
void *plain_reallocarray(void *p, size_t n, size_t m) { return reallocarray(p, n, m); }
#else
void plain_free(void *p);
void *plain_realloc(void *p, size_t n);
void *plain_reallocarray(void *p, size_t n, size_t m);

static void *volatile sink;

static int compare(const void *a, const void *b) { return strcmp(a, b); }

int main(void) {
  void (*volatile release)(void *) = free;
  release(malloc(11));
// CHECK: site main:[[@LINE-1]] kind=malloc count=1 bytes=11 samples=1 freed=1 live=0 flags=0 {{.*}} free_sites=uninstrumented

  void *root = NULL;
  static const char *words[] = {"llama", "alpaca", "vicuna", "guanaco"};
  for (int i = 0; i < 4; i++) {
    char *key = strdup(words[i]);
// CHECK: site main:[[@LINE-1]] kind=strdup count=4 bytes=28 samples=4 freed=4 live=0 flags=0 {{.*}} free_sites=uninstrumented
    tsearch(key, &root, compare);
  }
  tdestroy(root, free);

  static char text[] = "a line much longer than the four bytes of the buffer\n";
  FILE *f = fmemopen(text, sizeof text - 1, "r");
  size_t capacity = 4;
  char *line = malloc(capacity);
// CHECK: site main:[[@LINE-1]] kind=malloc count=1 bytes=4 samples=1 freed=1 live=0 flags=REALLOCATED {{.*}} free_sites=uninstrumented
  if (getline(&line, &capacity, f) < 40) return 1;
  fclose(f);
  free(line);

  plain_free(calloc(3, 3));
// CHECK: site main:[[@LINE-1]] kind=calloc count=1 bytes=9 samples=1 freed=1 live=0 flags=0 {{.*}} free_sites=uninstrumented
  char *p = malloc(8);
// CHECK: site main:[[@LINE-1]] kind=malloc count=1 bytes=8 samples=1 freed=1 live=0 flags=REALLOCATED {{.*}} free_sites=uninstrumented
  p = plain_realloc(p, 4000);
  sink = p;
  p = plain_reallocarray(p, 2, 3000);
  free(p);
  /* realloc(p, 0) frees. */
  char *q = malloc(5);
// CHECK: site main:[[@LINE-1]] kind=malloc count=1 bytes=5 samples=1 freed=1 live=0 flags=REALLOCATED {{.*}} free_sites=uninstrumented
  sink = plain_realloc(q, 0);
  puts("uninstrumented_free: done");
  return 0;
}
#endif
