/* interpose.c - free, realloc, reallocarray and the C++ operator delete
 * family, defined here so that sampled objects freed by code the pass did
 * not rewrite (libc, libstdc++, other libraries, calls through function
 * pointers) still end their lifetime before the call goes on to the real
 * function (real.c). realloc and reallocarray called by such code are also
 * allocations: they are counted and sampled at the external pseudo-sites
 * like malloc (external.c has the pseudo-sites and the other allocation
 * functions, external_new.cc operator new). */
#include "internal.h"

#include <stdint.h>

/* The interposers are weak: linked statically next to an allocator's
 * archive (libllamalloc.a), the allocator's strong free wins instead of a
 * duplicate-symbol error, as if it were preloaded. Dynamic symbol
 * resolution does not distinguish weak definitions. */
#define INTERPOSER LLAMA_PROF_EXPORT __attribute__((weak))

INTERPOSER void free(void *p) {
  if (!p) return;
  if (LLAMA_PROF_UNLIKELY(llama_prof_live_maybe(p))) llama_prof_record_free(p, 0, 0);
  llama_prof_real_free(p);
}

/* realloc of a sampled pointer ends its lifetime (LLAMA_RAW_S_REALLOCATED)
 * unless it fails, which leaves the object as it was. The pointer leaves the
 * live set before the call: once realloc has freed it, its address can be
 * handed out and sampled again by another thread. */
/* Called by uninstrumented code, realloc is also an allocation: counted
 * at the external realloc pseudo-site with the new size and sampled like
 * an instrumented realloc (a realloc that frees returns NULL, which is not
 * recorded). */
INTERPOSER void *realloc(void *p, size_t n) {
  llama_prof_thread_t *t = &llama_prof_thread;
  int sampled = 0, external = llama_prof_external_wanted(t);
  if (external) {
    llama_prof_count(&llama_prof_external_sites[LLAMA_PROF_EXT_REALLOC], n);
    sampled = LLAMA_PROF_EXTERNAL_SAMPLED();
  }
  uint64_t taken = p ? llama_prof_take(p) : 0;
  t->forwarding++;
  void *q = llama_prof_real_realloc(p, n);
  t->forwarding--;
  if (LLAMA_PROF_UNLIKELY(taken)) {
    if (q || n == 0)
      llama_prof_sample_end(taken, 0, LLAMA_RAW_S_REALLOCATED);
    else
      llama_prof_sample_restore(p, taken);
  }
  if (LLAMA_PROF_UNLIKELY(sampled))
    llama_prof_record_alloc(q, n, &llama_prof_external_sites[LLAMA_PROF_EXT_REALLOC],
                            LLAMA_PROF_CALLER_RET(), LLAMA_PROF_CALLER_FRAME());
  return q;
}

INTERPOSER void *reallocarray(void *p, size_t count, size_t size) {
  llama_prof_thread_t *t = &llama_prof_thread;
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) n = SIZE_MAX;
  int sampled = 0, external = llama_prof_external_wanted(t);
  if (external) {
    llama_prof_count(&llama_prof_external_sites[LLAMA_PROF_EXT_REALLOCARRAY], n);
    sampled = LLAMA_PROF_EXTERNAL_SAMPLED();
  }
  uint64_t taken = p ? llama_prof_take(p) : 0;
  t->forwarding++;
  void *q = llama_prof_real_reallocarray(p, count, size);
  t->forwarding--;
  if (LLAMA_PROF_UNLIKELY(taken)) {
    if (q || count == 0 || size == 0)
      llama_prof_sample_end(taken, 0, LLAMA_RAW_S_REALLOCATED);
    else
      llama_prof_sample_restore(p, taken);
  }
  if (LLAMA_PROF_UNLIKELY(sampled))
    llama_prof_record_alloc(q, n, &llama_prof_external_sites[LLAMA_PROF_EXT_REALLOCARRAY],
                            LLAMA_PROF_CALLER_RET(), LLAMA_PROF_CALLER_FRAME());
  return q;
}

/* operator delete: end the lifetime, then the real operator delete (or the
 * real free when the process has no C++ runtime to forward to). Each
 * definition comes with its alias for the resolver. */
#define DELETE_BODY(kind, a, b)                                               \
  if (LLAMA_PROF_UNLIKELY(p && llama_prof_live_maybe(p)))                     \
    llama_prof_record_free(p, 0, 0);                                          \
  llama_prof_real_delete(LLAMA_PROF_DEL_##kind, p, a, b);
#define DELETE1(kind, symbol)                                                 \
  INTERPOSER void symbol(void *p) { DELETE_BODY(kind, 0, 0) }                 \
  LLAMA_PROF_OWN_ALIAS(DELETE_##kind, symbol)
#define DELETE2(kind, symbol)                                                 \
  INTERPOSER void symbol(void *p, uintptr_t a) { DELETE_BODY(kind, a, 0) }    \
  LLAMA_PROF_OWN_ALIAS(DELETE_##kind, symbol)
#define DELETE3(kind, symbol)                                                 \
  INTERPOSER void symbol(void *p, uintptr_t a, uintptr_t b) {                 \
    DELETE_BODY(kind, a, b)                                                   \
  }                                                                           \
  LLAMA_PROF_OWN_ALIAS(DELETE_##kind, symbol)

DELETE1(PLAIN, _ZdlPv)
DELETE1(ARRAY, _ZdaPv)
DELETE2(SIZED, _ZdlPvm)
DELETE2(ARRAY_SIZED, _ZdaPvm)
DELETE2(ALIGNED, _ZdlPvSt11align_val_t)
DELETE2(ARRAY_ALIGNED, _ZdaPvSt11align_val_t)
DELETE3(SIZED_ALIGNED, _ZdlPvmSt11align_val_t)
DELETE3(ARRAY_SIZED_ALIGNED, _ZdaPvmSt11align_val_t)
DELETE2(NOTHROW, _ZdlPvRKSt9nothrow_t)
DELETE2(ARRAY_NOTHROW, _ZdaPvRKSt9nothrow_t)
DELETE3(ALIGNED_NOTHROW, _ZdlPvSt11align_val_tRKSt9nothrow_t)
DELETE3(ARRAY_ALIGNED_NOTHROW, _ZdaPvSt11align_val_tRKSt9nothrow_t)

/* Our free and realloc's local addresses, for the resolver (real.c). */
LLAMA_PROF_OWN_ALIAS(FREE, free)
LLAMA_PROF_OWN_ALIAS(REALLOC, realloc)
LLAMA_PROF_OWN_ALIAS(REALLOCARRAY, reallocarray)
