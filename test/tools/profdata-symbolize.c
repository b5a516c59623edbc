// merge symbolises real stacks: this program is built at -O2 with -g and
// LlamaPass (-llama-generate); mkraw's stub entry points record the pass's
// sites and, for each sampled allocation, the real return addresses and the
// real module map. merge must find the inlined frame of the always_inline
// helper, function names and line numbers, and hash the frames at each
// allocation to exactly the site id the pass computed.
//
// RUN: rm -rf %t && mkdir -p %t/moved %t/other
// RUN: %cc -O2 -g -fpass-plugin=%llamapass -Xclang -load -Xclang %llamapass -mllvm -llama-generate %s -o %t/prog
// RUN: %t/prog real %t/prog.profraw
// RUN: %profdata merge -v -o %t/prog.llamaprof %t/prog.profraw 2>&1 \
// RUN:   | FileCheck --check-prefix=MERGE --implicit-check-not=warning: %s
// MERGE: prog.profraw: raw profile, 6 samples, {{[0-9]+}} stacks, {{[0-9]+}} sites, {{[0-9]+}} modules
// MERGE: symbolised {{[1-9][0-9]*}} addresses
// MERGE: 3 of 3 new contexts: the frames at the allocation hash to their site id
// RUN: %profdata show %t/prog.llamaprof | FileCheck %s
//
// RUN: %profdata show --json %t/prog.llamaprof > %t/prog.json
// RUN: %python %S/Inputs/summarize_json.py %t/prog.json | FileCheck --check-prefix=JSON %s
// JSON: context {{.*}} samples=4 {{.*}} class=0 frames=node_alloc@{{.*}}profdata-symbolize.c:{{[0-9]+}}:{{[0-9]+}} [inlined] < make_short@{{.*}}profdata-symbolize.c:{{[0-9]+}}:{{[0-9]+}} < mkraw_workload@
//
// The binary moved: without --binary its frames stay unsymbolised after one
// warning; --binary finds it by build id, even under another name.
// RUN: mv %t/prog %t/moved/renamed
// RUN: %profdata merge -o %t/nobin.llamaprof %t/prog.profraw 2>&1 \
// RUN:   | FileCheck --check-prefix=NOBIN --implicit-check-not=warning: %s
// NOBIN: warning: {{.*}}/prog: cannot read this module (No such file or directory); its frames stay unsymbolised (use --binary=PATH)
// RUN: %profdata show %t/nobin.llamaprof | FileCheck --check-prefix=UNSYM %s
// UNSYM: context {{.*}} class 0: prog+0x{{[0-9a-f]+}} < prog+0x{{[0-9a-f]+}} <
// RUN: %profdata merge -q -o %t/bin.llamaprof --binary=%t/moved/renamed %t/prog.profraw 2>&1 \
// RUN:   | FileCheck --allow-empty --check-prefix=BIN --implicit-check-not=warning: %s
// BIN-NOT: warning
// RUN: %profdata show %t/bin.llamaprof | FileCheck %s
//
// A different binary of the same name: matched by name, rejected by build id.
// RUN: %cc -O0 -g %S/Inputs/mkraw.c -o %t/other/prog
// RUN: %profdata merge -o %t/other.llamaprof --binary=%t/other/prog %t/prog.profraw 2>&1 \
// RUN:   | FileCheck --check-prefix=MISMATCH --implicit-check-not=warning: %s
// MISMATCH: warning: {{.*}}other/prog: build id mismatch for module {{.*}}/prog (profile has {{[0-9a-f]+}}, file has {{[0-9a-f]+}}); its frames stay unsymbolised
// RUN: %profdata show %t/other.llamaprof | FileCheck --check-prefix=UNSYM %s
//
// Same for a binary rebuilt in place since the profile was written.
// RUN: %cc -O0 -g %S/Inputs/mkraw.c -o %t/prog
// RUN: %profdata merge -o %t/stale.llamaprof %t/prog.profraw 2>&1 \
// RUN:   | FileCheck --check-prefix=STALE --implicit-check-not=warning: %s
// STALE: warning: {{.*}}/prog: build id mismatch for module {{.*}}/prog
//
// An unusable --symbolizer: one warning, everything unsymbolised, still a profile.
// RUN: %profdata merge -o %t/nosym.llamaprof --symbolizer=%t/no-such-symbolizer --binary=%t/moved/renamed %t/prog.profraw 2>&1 \
// RUN:   | FileCheck --check-prefix=NOSYM --implicit-check-not=warning: %s
// NOSYM: warning: symbolizer '{{.*}}no-such-symbolizer' not found; frames stay unsymbolised
// RUN: %profdata show %t/nosym.llamaprof | FileCheck --check-prefix=UNSYM %s

#include "Inputs/mkraw.c"

static void *volatile sink;

// The sites, in the order show lists them (by calls): node_alloc (4 calls,
// all freed after 1 ms: class 0), then make_long (2 calls from two callers,
// one freed after 2 s, one live: contexts of classes 3 and 6).
// CHECK:      0x{{[0-9a-f]+}} malloc 4 64 4 100.0 0.0 0.0 0.0 0.0 0.0 0.0 0.0 0 node_alloc ({{.*}}profdata-symbolize.c:[[#@LINE+6]]:10)
// CHECK-NEXT:   context 0x{{[0-9a-f]+}} samples 4 class 0: node_alloc ({{.*}}profdata-symbolize.c:[[#@LINE+5]]:10) [inlined] < make_short ({{.*}}profdata-symbolize.c:[[#@LINE+9]]:13) < mkraw_workload ({{.*}}profdata-symbolize.c:[[#@LINE+30]]:{{[0-9]+}}) < {{.*}}main
// CHECK:      0x{{[0-9a-f]+}} malloc 2 64 2 0.0 0.0 0.0 50.0 0.0 0.0 0.0 50.0 6* make_long ({{.*}}profdata-symbolize.c:[[#@LINE+14]]:13)
// CHECK-NEXT:   context 0x{{[0-9a-f]+}} samples 1 class {{[36]}}: make_long ({{.*}}:[[#@LINE+13]]:13) < {{keep_one|drop_one}} ({{.*}}profdata-symbolize.c:{{[0-9]+}}:{{[0-9]+}}) <
// CHECK-NEXT:   context 0x{{[0-9a-f]+}} samples 1 class {{[36]}}: make_long ({{.*}}:[[#@LINE+12]]:13) < {{keep_one|drop_one}} ({{.*}}profdata-symbolize.c:{{[0-9]+}}:{{[0-9]+}}) <
static inline __attribute__((always_inline)) void *node_alloc(size_t n) {
  return malloc(n);
}

__attribute__((noinline)) void *make_short(size_t n) {
  void *p = node_alloc(n);
  sink = p;
  return p;
}

__attribute__((noinline)) void *make_long(size_t n) {
  void *p = malloc(n);
  sink = p;
  return p;
}

__attribute__((noinline)) static void keep_one(void) { sink = make_long(32); }

__attribute__((noinline)) static void drop_one(void) {
  void *p = make_long(32);
  mkraw_advance_ms(2000);
  free(p);
}

void mkraw_workload(void) {
  for (int i = 0; i < 4; i++) {
    void *p = make_short(16);
    mkraw_advance_ms(1);
    free(p);
  }
  keep_one();
  drop_one();
}
