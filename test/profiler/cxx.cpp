// C++: operator new/new[]/aligned/nothrow and the delete family, through
// the profiler's entry points; a std::bad_alloc thrown by operator new
// propagates through __llama_prof_new_array to the invoke site's handler
// (counted, not sampled); std::vector's allocator; deletes in a translation
// unit built without the pass end lifetimes through libllamaprof's
// interposed operator delete.
//
// RUN: rm -rf %t.dir && mkdir -p %t.dir
// RUN: %cxx -O1 -c -DUNINSTRUMENTED %s -o %t.plain.o
// RUN: %cxx %prof_cflags %s %t.plain.o -o %t %link_llamaprof
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t.dir/p.profraw %t | FileCheck --check-prefix=OUT %s
// RUN: %rawdump --summary %t.dir/p.profraw | FileCheck %s
// RUN: %rawdump --symbolize %t.dir/p.profraw | FileCheck --check-prefix=STACK %s
//
// OUT: caught bad_alloc
// OUT: cxx: done
// CHECK: header period=1 flags=0
// std::vector<long>'s 11 growths (sites in the libstdc++ headers sort first):
// CHECK: site _ZNSt15__new_allocatorIlE8allocateEmPKv:{{[0-9]+}} kind=new count=11 bytes=16376 samples=11 freed=11 live=0 {{.*}} free_sites=_ZNSt15__new_allocatorIlE10deallocateEPlm:{{[0-9]+}}

#include <cstdint>
#include <cstdio>
#include <new>
#include <vector>

struct alignas(128) Wide {
  char bytes[128];
};

#ifdef UNINSTRUMENTED
void plain_delete(int *p) { delete p; }
void plain_delete_wide(Wide *p) { delete p; }
#else
void plain_delete(int *p);
void plain_delete_wide(Wide *p);

static void *volatile sink;
static volatile size_t huge = SIZE_MAX / 4;

__attribute__((noinline)) void scalar() {
  int *p = new int(7);
// CHECK: site _Z6scalarv:[[@LINE-1]] kind=new count=1 bytes=4 samples=1 freed=1 live=0 flags=0 {{.*}} free_sites=_Z6scalarv:[[@LINE+3]]
// STACK-DAG: context _Z6scalarv:[[@LINE-2]]: _Z6scalarv <- main
  sink = p;
  delete p;
// CHECK: site _Z6scalarv:[[@LINE-1]] kind=delete_sized count=1
}

__attribute__((noinline)) void arrays() {
  char *a = new char[100];
// CHECK: site _Z6arraysv:[[@LINE-1]] kind=new_array count=1 bytes=100 samples=1 freed=1
  sink = a;
  delete[] a;
// CHECK: site _Z6arraysv:[[@LINE-1]] kind=delete_array count=1
  int *n = new (std::nothrow) int[10];
// CHECK: site _Z6arraysv:[[@LINE-1]] kind=new_array_nothrow count=1 bytes=40 samples=1 freed=1
  sink = n;
  delete[] n;
  int *m = new (std::nothrow) int;
// CHECK: site _Z6arraysv:[[@LINE-1]] kind=new_nothrow count=1 bytes=4 samples=1 freed=1
  sink = m;
  ::operator delete(m, std::nothrow);
// CHECK: site _Z6arraysv:[[@LINE-1]] kind=delete_nothrow count=1
}

__attribute__((noinline)) void aligned() {
  Wide *w = new Wide;
// CHECK: site _Z7alignedv:[[@LINE-1]] kind=new_aligned count=1 bytes=128 samples=1 freed=1
  if (reinterpret_cast<uintptr_t>(w) % 128) std::puts("FAIL: misaligned");
  sink = w;
  delete w;
// CHECK: site _Z7alignedv:[[@LINE-1]] kind=delete_sized_aligned count=1
  Wide *v = new Wide[3];
// CHECK: site _Z7alignedv:[[@LINE-1]] kind=new_array_aligned count=1 bytes=384 samples=1 freed=1
  sink = v;
  delete[] v;
// CHECK: site _Z7alignedv:[[@LINE-1]] kind=delete_array_aligned count=1
  void *x = ::operator new(64, std::align_val_t(256), std::nothrow);
// CHECK: site _Z7alignedv:[[@LINE-1]] kind=new_aligned_nothrow count=1 bytes=64 samples=1 freed=1
  sink = x;
  ::operator delete(x, std::align_val_t(256), std::nothrow);
// CHECK: site _Z7alignedv:[[@LINE-1]] kind=delete_aligned_nothrow count=1
}

/* The throwing site is an invoke; the handler must still run. */
__attribute__((noinline)) int throwing() {
  try {
    char *p = new char[huge];
// CHECK: site _Z8throwingv:[[@LINE-1]] kind=new_array count=1 bytes={{[0-9]+}} samples=0 freed=0 live=0
    sink = p;
  } catch (const std::bad_alloc &) {
    std::puts("caught bad_alloc");
    return 1;
  }
  return 0;
}

/* Freed in code built without the pass. */
__attribute__((noinline)) void elsewhere() {
  int *p = new int(1);
// CHECK: site _Z9elsewherev:[[@LINE-1]] kind=new count=1 bytes=4 samples=1 freed=1 live=0 flags=0 {{.*}} free_sites=uninstrumented
  plain_delete(p);
  Wide *w = new Wide;
// CHECK: site _Z9elsewherev:[[@LINE-1]] kind=new_aligned count=1 bytes=128 samples=1 freed=1 live=0 flags=0 {{.*}} free_sites=uninstrumented
  plain_delete_wide(w);
}

__attribute__((noinline)) size_t vectors() {
  std::vector<long> v;
  for (long i = 0; i < 1000; i++) v.push_back(i);
  return v.size();
}

int main() {
  scalar();
  arrays();
  aligned();
  if (!throwing()) std::puts("FAIL: no exception");
  elsewhere();
  vectors();
  std::puts("cxx: done");
  return 0;
}
#endif
