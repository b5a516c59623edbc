/* entry.c - the C entry points of the profiling build: one per C entry of
 * LLAMA_ALLOC_FUNCTIONS (include/llama/abi.h), same arguments and result as
 * the function they replace plus the site descriptor. Every call is counted
 * in its site; allocations are served by the process's allocator (the real
 * malloc & co. that real.c resolves, glibc's or libllamalloc's, called
 * directly: a plain call would reach our own interposer and be counted a
 * second time at an external pseudo-site) and sampled when the thread's
 * countdown runs out; deallocations end the lifetime of sampled objects,
 * then call the real function (real.c).
 * The unsampled path is the site counters, one TLS decrement and the call.
 * The operator new entry points are in new_entry.cc. */
#include "internal.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#pragma clang diagnostic ignored "-Wdeprecated-declarations" /* pvalloc, valloc */

/* Nonzero when this allocation is to be sampled. */
#define SAMPLED() LLAMA_PROF_UNLIKELY(!llama_prof_skip() && llama_prof_sample_now())
#define RECORD(p, size) \
  llama_prof_record_alloc(p, size, site, LLAMA_PROF_CALLER_RET(), LLAMA_PROF_CALLER_FRAME())

static size_t product(size_t a, size_t b) {
  size_t n;
  return __builtin_mul_overflow(a, b, &n) ? SIZE_MAX : n;
}

LLAMA_PROF_EXPORT void *__llama_prof_malloc(size_t n, const struct llama_site *site) {
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_real_malloc(n);
  void *p = llama_prof_real_malloc(n);
  RECORD(p, n);
  return p;
}

LLAMA_PROF_EXPORT void *__llama_prof_calloc(size_t count, size_t size,
                                            const struct llama_site *site) {
  size_t n = product(count, size);
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_real_calloc(count, size);
  void *p = llama_prof_real_calloc(count, size);
  RECORD(p, n);
  return p;
}

/* The old object of a realloc, taken from the live set before the call:
 * it ends (LLAMA_RAW_S_REALLOCATED) if the call succeeded or freed it, and
 * goes back into the live set if the call failed and left it alone. */
static void end_reallocated(void *p, void *q, size_t n, uint64_t taken,
                            const struct llama_site *site) {
  if (q || n == 0)
    llama_prof_sample_end(taken, site->id, LLAMA_RAW_S_REALLOCATED);
  else
    llama_prof_sample_restore(p, taken);
}

/* realloc: the old object (if sampled) ends with LLAMA_RAW_S_REALLOCATED
 * at this site; the new one may be sampled. See interpose.c for why the
 * old pointer leaves the live set first. */
LLAMA_PROF_EXPORT void *__llama_prof_realloc(void *p, size_t n, const struct llama_site *site) {
  llama_prof_count(site, n);
  int sampled = SAMPLED();
  uint64_t taken = p ? llama_prof_take(p) : 0;
  void *q = llama_prof_real_realloc(p, n);
  if (LLAMA_PROF_UNLIKELY(taken))
    end_reallocated(p, q, n, taken, site);
  if (sampled) RECORD(q, n);
  return q;
}

LLAMA_PROF_EXPORT void *__llama_prof_reallocarray(void *p, size_t count, size_t size,
                                                  const struct llama_site *site) {
  size_t n = product(count, size);
  llama_prof_count(site, n);
  int sampled = SAMPLED();
  uint64_t taken = p ? llama_prof_take(p) : 0;
  void *q = llama_prof_real_reallocarray(p, count, size);
  if (LLAMA_PROF_UNLIKELY(taken))
    end_reallocated(p, q, n, taken, site);
  if (sampled) RECORD(q, n);
  return q;
}

LLAMA_PROF_EXPORT void *__llama_prof_aligned_alloc(size_t alignment, size_t n,
                                                   const struct llama_site *site) {
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_real_aligned_alloc(alignment, n);
  void *p = llama_prof_real_aligned_alloc(alignment, n);
  RECORD(p, n);
  return p;
}

LLAMA_PROF_EXPORT int __llama_prof_posix_memalign(void **out, size_t alignment, size_t n,
                                                  const struct llama_site *site) {
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_real_posix_memalign(out, alignment, n);
  int r = llama_prof_real_posix_memalign(out, alignment, n);
  if (r == 0) RECORD(*out, n);
  return r;
}

LLAMA_PROF_EXPORT void *__llama_prof_memalign(size_t alignment, size_t n,
                                              const struct llama_site *site) {
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_real_memalign(alignment, n);
  void *p = llama_prof_real_memalign(alignment, n);
  RECORD(p, n);
  return p;
}

LLAMA_PROF_EXPORT void *__llama_prof_valloc(size_t n, const struct llama_site *site) {
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_real_valloc(n);
  void *p = llama_prof_real_valloc(n);
  RECORD(p, n);
  return p;
}

LLAMA_PROF_EXPORT void *__llama_prof_pvalloc(size_t n, const struct llama_site *site) {
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_real_pvalloc(n);
  void *p = llama_prof_real_pvalloc(n);
  RECORD(p, n);
  return p;
}

/* strdup and strndup: the size is the copy's, terminator included. They
 * call malloc (through the PLT, so ours): the forwarding guard keeps that
 * call from being counted again at the external malloc pseudo-site. */
static char *forward_strdup(const char *s) {
  llama_prof_thread_t *t = &llama_prof_thread;
  t->forwarding++;
  char *p = strdup(s);
  t->forwarding--;
  return p;
}

static char *forward_strndup(const char *s, size_t max) {
  llama_prof_thread_t *t = &llama_prof_thread;
  t->forwarding++;
  char *p = strndup(s, max);
  t->forwarding--;
  return p;
}

LLAMA_PROF_EXPORT char *__llama_prof_strdup(const char *s, const struct llama_site *site) {
  size_t n = strlen(s) + 1;
  llama_prof_count(site, n);
  if (!SAMPLED()) return forward_strdup(s);
  char *p = forward_strdup(s);
  RECORD(p, n);
  return p;
}

LLAMA_PROF_EXPORT char *__llama_prof_strndup(const char *s, size_t max,
                                             const struct llama_site *site) {
  size_t n = strnlen(s, max) + 1;
  llama_prof_count(site, n);
  if (!SAMPLED()) return forward_strndup(s, max);
  char *p = forward_strndup(s, max);
  RECORD(p, n);
  return p;
}

/* ---- deallocation: count, end the lifetime, forward ------------------------ */

LLAMA_PROF_EXPORT void __llama_prof_free(void *p, const struct llama_site *site) {
  llama_prof_count_call(site);
  if (!p) return;
  if (LLAMA_PROF_UNLIKELY(llama_prof_live_maybe(p))) llama_prof_record_free(p, site->id, 0);
  llama_prof_real_free(p);
}

#define END(p)                                                                  \
  do {                                                                          \
    llama_prof_count_call(site);                                                \
    if (LLAMA_PROF_UNLIKELY((p) && llama_prof_live_maybe(p)))                   \
      llama_prof_record_free(p, site->id, 0);                                   \
  } while (0)

LLAMA_PROF_EXPORT void __llama_prof_delete(void *p, const struct llama_site *site) {
  END(p);
  llama_prof_real_delete(LLAMA_PROF_DEL_PLAIN, p, 0, 0);
}

LLAMA_PROF_EXPORT void __llama_prof_delete_array(void *p, const struct llama_site *site) {
  END(p);
  llama_prof_real_delete(LLAMA_PROF_DEL_ARRAY, p, 0, 0);
}

LLAMA_PROF_EXPORT void __llama_prof_delete_sized(void *p, size_t n,
                                                 const struct llama_site *site) {
  END(p);
  llama_prof_real_delete(LLAMA_PROF_DEL_SIZED, p, n, 0);
}

LLAMA_PROF_EXPORT void __llama_prof_delete_array_sized(void *p, size_t n,
                                                       const struct llama_site *site) {
  END(p);
  llama_prof_real_delete(LLAMA_PROF_DEL_ARRAY_SIZED, p, n, 0);
}

LLAMA_PROF_EXPORT void __llama_prof_delete_aligned(void *p, size_t alignment,
                                                   const struct llama_site *site) {
  END(p);
  llama_prof_real_delete(LLAMA_PROF_DEL_ALIGNED, p, alignment, 0);
}

LLAMA_PROF_EXPORT void __llama_prof_delete_array_aligned(void *p, size_t alignment,
                                                         const struct llama_site *site) {
  END(p);
  llama_prof_real_delete(LLAMA_PROF_DEL_ARRAY_ALIGNED, p, alignment, 0);
}

LLAMA_PROF_EXPORT void __llama_prof_delete_sized_aligned(void *p, size_t n, size_t alignment,
                                                         const struct llama_site *site) {
  END(p);
  llama_prof_real_delete(LLAMA_PROF_DEL_SIZED_ALIGNED, p, n, alignment);
}

LLAMA_PROF_EXPORT void __llama_prof_delete_array_sized_aligned(void *p, size_t n,
                                                               size_t alignment,
                                                               const struct llama_site *site) {
  END(p);
  llama_prof_real_delete(LLAMA_PROF_DEL_ARRAY_SIZED_ALIGNED, p, n, alignment);
}

/* const std::nothrow_t & is passed as a pointer. */
LLAMA_PROF_EXPORT void __llama_prof_delete_nothrow(void *p, const void *nothrow,
                                                   const struct llama_site *site) {
  END(p);
  llama_prof_real_delete(LLAMA_PROF_DEL_NOTHROW, p, (uintptr_t)nothrow, 0);
}

LLAMA_PROF_EXPORT void __llama_prof_delete_array_nothrow(void *p, const void *nothrow,
                                                         const struct llama_site *site) {
  END(p);
  llama_prof_real_delete(LLAMA_PROF_DEL_ARRAY_NOTHROW, p, (uintptr_t)nothrow, 0);
}

LLAMA_PROF_EXPORT void __llama_prof_delete_aligned_nothrow(void *p, size_t alignment,
                                                           const void *nothrow,
                                                           const struct llama_site *site) {
  END(p);
  llama_prof_real_delete(LLAMA_PROF_DEL_ALIGNED_NOTHROW, p, alignment, (uintptr_t)nothrow);
}

LLAMA_PROF_EXPORT void __llama_prof_delete_array_aligned_nothrow(void *p, size_t alignment,
                                                                 const void *nothrow,
                                                                 const struct llama_site *site) {
  END(p);
  llama_prof_real_delete(LLAMA_PROF_DEL_ARRAY_ALIGNED_NOTHROW, p, alignment, (uintptr_t)nothrow);
}
