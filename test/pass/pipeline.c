// The pass runs at the start of the pipeline (PipelineStartEP) at every
// optimisation level, before any inlining: -O0 and -O2, and the ThinLTO
// pre-link compile, instrument the same calls with the same ids, so a
// profile taken from one build matches the sites of another.
// REQUIRES: llama-config
// RUN: %cc -O0 %gen_cflags -Xclang -fdebug-pass-manager -S -emit-llvm %s -o %t.O0.ll 2> %t.O0.passes
// RUN: %cc -O2 %gen_cflags -Xclang -fdebug-pass-manager -S -emit-llvm %s -o %t.O2.ll 2> %t.O2.passes
// RUN: %cc -O2 -flto=thin %gen_cflags -c %s -o %t.thin.bc
// RUN: llvm-dis %t.thin.bc -o %t.thin.ll
// RUN: FileCheck --check-prefix=O0 %s < %t.O0.passes
// RUN: FileCheck --check-prefix=O2 %s < %t.O2.passes
// RUN: %python %S/Inputs/site_ids.py %t.O0.ll > %t.O0.ids
// RUN: %python %S/Inputs/site_ids.py %t.O2.ll > %t.O2.ids
// RUN: %python %S/Inputs/site_ids.py %t.thin.ll > %t.thin.ids
// RUN: FileCheck --check-prefix=IDS %s < %t.O0.ids
// RUN: diff %t.O0.ids %t.O2.ids
// RUN: diff %t.O0.ids %t.thin.ids
// RUN: FileCheck --check-prefix=IR %s < %t.O2.ll

// O0: Running pass: LlamaInstrumentPass on [module]
// O0: Running pass: AlwaysInlinerPass

// O2: Running pass: LlamaInstrumentPass on [module]
// O2: Running pass: InlinerPass
// O2-NOT: LlamaInstrumentPass

// IDS: sites: 4
// IDS-NEXT: kind=0
// IDS-NEXT: kind=0
// IDS-NEXT: kind=32
// IDS-NEXT: kind=32

// After -O2 the wrapper is inlined into main; its call still carries the
// wrapper's descriptor, and no plain malloc/free is left.
// IR-NOT: call {{.*}}@malloc(
// IR-NOT: call {{.*}}@free(
// IR: define {{.*}} @main(
// IR: call {{.*}}@__llama_prof_malloc(
// IR: call {{.*}}@__llama_prof_free(
#include <stdlib.h>
#include <string.h>

static inline void *wrap(size_t n) { return malloc(n); }

int main(int argc, char **argv) {
  char *p = malloc(16);
  char *q = wrap(32);
  memcpy(q, p, 16);
  free(q);
  free(p);
  return argc > 5 ? (int)strlen(argv[0]) : 0;
}
