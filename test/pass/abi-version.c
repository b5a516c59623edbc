// Compiler/runtime skew is a link error, not a silent misbehaviour: an
// object instrumented by this plugin needs __llama_prof_register_v1, which a
// runtime of another ABI version (here an old runtime exporting only _v0) lacks.
// REQUIRES: llama-config
// RUN: %cc -O1 %gen_cflags -c %s -o %t.o
// RUN: %cc -DOLD_RUNTIME -c %s -o %t.old.o
// RUN: not %cc %t.o %t.old.o -o %t 2>&1 | FileCheck %s
// CHECK: undefined reference to `__llama_prof_register_v1'
#include <stdlib.h>
#ifdef OLD_RUNTIME
struct llama_site;
void __llama_prof_register_v0(struct llama_site *s, unsigned long n) {}
void *__llama_prof_malloc(size_t n, const struct llama_site *s) { return malloc(n); }
void __llama_prof_free(void *p, const struct llama_site *s) { free(p); }
#else
int main(void) {
  void *p = malloc(8);
  free(p);
  return 0;
}
#endif
