// The profiling stage on C++: new/delete expressions, array new, a std::vector
// growing inside an inlined template (std::__new_allocator<int>::allocate is
// a site of its own, named by its linkage name), and a throwing new caught at
// an invoke site (counted, never sampled: it returned nothing). Classes per
// site in `show`: deleted at once -> 0, never deleted -> 6.
// REQUIRES: llama-config
// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: %cxx -O2 %gen_cflags %s -o app %gen_ldflags
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t/app.profraw ./app | FileCheck --check-prefix=RUN-OUT %s
// RUN: %profdata merge -q -o app.llamaprof app.profraw
// RUN: %profdata show --json app.llamaprof | %python %S/Inputs/classes.py | FileCheck %s
// RUN: %profdata show app.llamaprof | FileCheck --check-prefix=TABLE %s

// RUN-OUT: bad_alloc caught
// RUN-OUT: sum 499500 1000
// CHECK-DAG: new _ZL9transientv calls=1000 class=0
// CHECK-DAG: new_array _ZL7foreverv calls=10 class=6
// CHECK-DAG: new main calls=1 class=6
// CHECK-DAG: new _ZNSt15__new_allocatorIiE8allocateEmPKv calls=11 class=0
// CHECK-DAG: new_array main calls=1 class=None
// TABLE: {{^0x[0-9a-f]+}} new {{.*}} 0 {{ *}}_ZL9transientv (
// TABLE: context {{.*}} class 0: _ZL9transientv ({{.*}}cxx-show.cpp:{{[0-9]+}}:{{[0-9]+}}) < main (
#include <cstdio>
#include <new>
#include <vector>

struct Node {
  long value[4];
};

static Node *volatile sink;
static long *volatile keep;

__attribute__((noinline)) static long transient() {
  long sum = 0;
  for (int i = 0; i < 1000; i++) {
    Node *n = new Node{{i, 0, 0, 0}};
    sink = n;
    sum += n->value[0];
    delete n;
  }
  return sum;
}

__attribute__((noinline)) static void forever() {
  for (int i = 0; i < 10; i++)
    keep = new long[64];
}

__attribute__((noinline)) static size_t grow() {
  std::vector<int> v;
  for (int i = 0; i < 1000; i++)
    v.push_back(i);
  return v.size();
}

int main() {
  long sum = transient();
  forever();
  static Node *leaked = new Node{};
  (void)leaked;
  try {
    volatile size_t huge = ~(size_t)0 / 2;
    char *p = new char[huge];
    std::printf("unexpected %p\n", (void *)p);
  } catch (const std::bad_alloc &) {
    std::printf("bad_alloc caught\n");
  }
  std::printf("sum %ld %zu\n", sum, grow());
  return 0;
}
