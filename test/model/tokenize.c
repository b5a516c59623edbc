// The tokeniser on the kinds of names real profiles hold: C names in
// snake_case and camelCase, Itanium-mangled C++ names (namespaces, nested
// classes, templates, substitutions, literals, constructors, ABI tags),
// compiler suffixes, unsymbolised frames, and file names.
// RUN: %cc -I%model_src %s %model_src/tokenize.c -o %t
// RUN: %t | FileCheck %s
#include <stdio.h>

#include "llama_model.h"

static void print(void *ctx, const char *tok, size_t len) { printf(" %s", tok); }

static void show(const char *name) {
  printf("[%s]", name);
  size_t n = llama_tokenize_symbol(name, print, NULL);
  printf(" (%zu)\n", n);
}

int main(void) {
  // CHECK: [session_create] session create (2)
  show("session_create");
  // CHECK: [parseRequestHeader] parse request header (3)
  show("parseRequestHeader");
  // CHECK: [HTTPServer_getURL2] http server get url (4)
  show("HTTPServer_getURL2");
  // CHECK: [sqlite3MemMalloc] sqlite mem malloc (3)
  show("sqlite3MemMalloc");
  // CHECK: [kv_xmalloc.cold] kv xmalloc (2)
  show("kv_xmalloc.cold");
  // CHECK: [_ZN4llvm11SmallVectorIiLj4EE9push_backEOi] llvm small vector push back (5)
  show("_ZN4llvm11SmallVectorIiLj4EE9push_backEOi");
  // CHECK: [_ZNSt6vectorIiSaIiEE17_M_realloc_insertIJRKiEEEvN9__gnu_cxx17__normal_iteratorIPiS1_EEDpOT_] vector realloc insert gnu cxx normal iterator (7)
  show("_ZNSt6vectorIiSaIiEE17_M_realloc_insertIJRKiEEEvN9__gnu_cxx17__normal_iteratorIPiS1_EEDpOT_");
  // CHECK: [_ZN5cache10EntryTableC2Em] cache entry table <ctor> (4)
  show("_ZN5cache10EntryTableC2Em");
  // CHECK: [_ZN5cache10EntryTableD0Ev] cache entry table <dtor> (4)
  show("_ZN5cache10EntryTableD0Ev");
  // CHECK: [_Z10make_indexP6Bitmapi] make index bitmap (3)
  show("_Z10make_indexP6Bitmapi");
  // CHECK: [_ZN12_GLOBAL__N_18StatsLog6appendEv.llvm.1234] global stats log append (4)
  show("_ZN12_GLOBAL__N_18StatsLog6appendEv.llvm.1234");
  // CHECK: [_Z3fooDv4_f] foo (1)
  show("_Z3fooDv4_f");
  // CHECK: [libc.so.6+0x2a1f0] <nosym> (1)
  show("libc.so.6+0x2a1f0");
  // CHECK: [] (0)
  show("");
  // CHECK: [_Z] (0)
  show("_Z");
  // CHECK: [_Z999999999999999999999x] (0)
  show("_Z999999999999999999999x");
  // CHECK: [file src/btree_util.c] btree util (2)
  printf("[file src/btree_util.c]");
  printf(" (%zu)\n", llama_tokenize_file("src/btree_util.c", print, NULL));
  // CHECK: [kind 12] <new_array> [kind 99] <alloc>
  printf("[kind 12] %s [kind 99] %s\n", llama_kind_token(12), llama_kind_token(99));
  return 0;
}
