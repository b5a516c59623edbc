// Allocations made inside libstdc++ (std::string's buffer, longer than the
// small-string buffer, allocated by _M_create/_M_construct in libstdc++.so
// with operator new) are recorded at the external `new` pseudo-site: one
// site, whose contexts start in libstdc++ (frame [0] is the function that
// called operator new, not a [from site] frame) and go on through the
// program's functions, each with its own lifetime class: strings built and
// dropped at once -> 0, strings kept to exit -> 6. The instrumented new
// sites are unaffected (the vector's buffer, counted once: the entry point
// does not go through the interposer). LLAMA_PROF_EXTERNAL=0 records none.
// REQUIRES: llama-config
// RUN: rm -rf %t && mkdir -p %t && cd %t
// RUN: %cxx -O2 %gen_cflags %s -o app %gen_ldflags
// RUN: env LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t/app.profraw ./app | FileCheck --check-prefix=OUT %s
// RUN: %python %S/../profiler/Inputs/rawdump.py --summary --external app.profraw | FileCheck --check-prefix=RAW %s
// RUN: %profdata merge -q -o app.llamaprof app.profraw
// RUN: %profdata show --json app.llamaprof | %python %S/Inputs/external.py %S | FileCheck %s
// RUN: %profdata show app.llamaprof | FileCheck --check-prefix=TABLE %s
// Merging the indexed profile again keeps the pseudo-site and its flag.
// RUN: %profdata merge -q -o again.llamaprof app.llamaprof
// RUN: %profdata show --json again.llamaprof | %python %S/Inputs/external.py %S | FileCheck %s
// RUN: env LLAMA_PROF_EXTERNAL=0 LLAMA_PROF_SAMPLE=1 LLAMA_PROF_FILE=%t/off.profraw ./app | FileCheck --check-prefix=OUT %s
// RUN: %python %S/../profiler/Inputs/rawdump.py --summary --external off.profraw | FileCheck --check-prefix=OFF %s

// OUT: total 33742 kept 50
// RAW: header period=1 flags=0 samples=2 external={{[1-9][0-9]*}}
// RAW: site _ZNSt15__new_allocator{{.*}}allocate{{.*}} kind=new count=1 bytes=1600 samples=1
// RAW: site <external new> kind=new count=550 bytes=39461 samples=550 freed=500 live=50 flags=LIVE {{.*}} free_sites=_ZNSt15__new_allocatorIcE10deallocateEPcm:{{[0-9]+$}}
// CHECK: external new calls=550 class=0
// CHECK-NEXT: context new class=0 first={{.*}}basic_string{{.*}} program=_ZL14make_transienti<main
// CHECK-NEXT: context new class=6 first={{.*}}basic_string{{.*}} program=_ZL9make_kepti<main
// CHECK-NOT: BAD
// TABLE: {{^0x[0-9a-f]+}} new {{.*}} 0* {{ *}}<external new>
// TABLE-NEXT: context {{.*}} class {{[06]}}: _ZNSt7__cxx1112basic_string
// OFF: header period=1 flags=0 samples=2 external=0
// OFF-NOT: <external

#include <cstdio>
#include <string>
#include <vector>

// Never destroyed: its strings are live at exit.
static std::vector<std::string> &kept = *new std::vector<std::string>;

__attribute__((noinline)) static size_t make_transient(int i) {
  std::string s(64 + (i & 7), 'a' + (i % 26));
  return s.size();
}

__attribute__((noinline)) static void make_kept(int i) {
  kept.push_back(std::string(100 + (i & 7), 'k'));
}

int main() {
  size_t total = 0;
  for (int i = 0; i < 500; i++) total += make_transient(i);
  kept.reserve(50);
  for (int i = 0; i < 50; i++) make_kept(i);
  std::printf("total %zu kept %zu\n", total, kept.size());
  return 0;
}
