// C++ through clang++ with llama-config's flags: new-expressions, array new,
// aligned and nothrow new, and every matching delete are rewritten; a new
// that may throw past a destructor stays an invoke with its landing pad.
// -fno-builtin does not hide sites (the pass ignores TLI availability).
// REQUIRES: llama-config
// RUN: %cxx -O2 %gen_cflags -S -emit-llvm %s -o - | FileCheck %s
// RUN: %cxx -O2 -fno-builtin %gen_cflags -S -emit-llvm %s -o - | FileCheck %s

// CHECK-NOT: call {{.*}}@_Zn{{[wa]}}m
// CHECK-NOT: call {{.*}}@_Zd{{[la]}}Pv
// CHECK-LABEL: define {{.*}}@_Z4makev(
// CHECK: invoke {{.*}}@__llama_prof_new_array(i64 noundef 16, ptr nonnull
// CHECK-NEXT: to label %{{.*}} unwind label %[[LPAD:[0-9a-z._]+]]
// CHECK: [[LPAD]]:
// CHECK-LABEL: define {{.*}}@_Z5kindsv(
// CHECK-DAG: call {{.*}}@__llama_prof_new(i64 noundef 4,
// CHECK-DAG: call {{.*}}@__llama_prof_new_aligned(i64 noundef 64, i64 noundef 64,
// CHECK-DAG: call {{.*}}@__llama_prof_new_nothrow(i64 noundef 4, ptr
// CHECK-DAG: call {{.*}}@__llama_prof_delete_sized(ptr
// CHECK-DAG: call {{.*}}@__llama_prof_delete_sized_aligned(ptr
#include <new>

struct Guard {
  ~Guard();
};
void use(int *);

int *make() {
  Guard g;
  int *p = new int[4];
  use(p);
  return p;
}

struct alignas(64) Line {
  char bytes[64];
};

void kinds() {
  int *a = new int(1);
  Line *l = new Line;
  int *n = new (std::nothrow) int(2);
  use(a);
  use(n);
  delete a;
  delete l;
  delete n;
}
