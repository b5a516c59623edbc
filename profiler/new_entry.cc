// new_entry.cc - the operator new entry points of the profiling build
// (__llama_prof_new & co., include/llama/abi.h). They call the process's
// real ::operator new (llama_prof_forward_new, external_new.cc: not our
// interposer, which would count the call again at an external pseudo-site),
// so its semantics are kept exactly: new_handler retries,
// std::bad_alloc propagating out of the entry point to the invoke site that
// called it, nullptr from the nothrow forms. The site is counted before the
// call; an allocation that throws is counted but not sampled.
#include <cstddef>
#include <new>

#include "internal.h"

#define SAMPLED() LLAMA_PROF_UNLIKELY(!llama_prof_skip() && llama_prof_sample_now())
#define RECORD(p, size) \
  llama_prof_record_alloc(p, size, site, LLAMA_PROF_CALLER_RET(), LLAMA_PROF_CALLER_FRAME())

extern "C" {

LLAMA_PROF_EXPORT void *__llama_prof_new(size_t n, const llama_site *site) {
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_forward_new(LLAMA_KIND_NEW, n, 0);
  void *p = llama_prof_forward_new(LLAMA_KIND_NEW, n, 0);
  RECORD(p, n);
  return p;
}

LLAMA_PROF_EXPORT void *__llama_prof_new_array(size_t n, const llama_site *site) {
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_forward_new(LLAMA_KIND_NEW_ARRAY, n, 0);
  void *p = llama_prof_forward_new(LLAMA_KIND_NEW_ARRAY, n, 0);
  RECORD(p, n);
  return p;
}

LLAMA_PROF_EXPORT void *__llama_prof_new_nothrow(size_t n, const std::nothrow_t &,
                                                 const llama_site *site) {
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_forward_new(LLAMA_KIND_NEW_NOTHROW, n, 0);
  void *p = llama_prof_forward_new(LLAMA_KIND_NEW_NOTHROW, n, 0);
  RECORD(p, n);
  return p;
}

LLAMA_PROF_EXPORT void *__llama_prof_new_array_nothrow(size_t n, const std::nothrow_t &,
                                                       const llama_site *site) {
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_forward_new(LLAMA_KIND_NEW_ARRAY_NOTHROW, n, 0);
  void *p = llama_prof_forward_new(LLAMA_KIND_NEW_ARRAY_NOTHROW, n, 0);
  RECORD(p, n);
  return p;
}

LLAMA_PROF_EXPORT void *__llama_prof_new_aligned(size_t n, std::align_val_t alignment,
                                                 const llama_site *site) {
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_forward_new(LLAMA_KIND_NEW_ALIGNED, n, size_t(alignment));
  void *p = llama_prof_forward_new(LLAMA_KIND_NEW_ALIGNED, n, size_t(alignment));
  RECORD(p, n);
  return p;
}

LLAMA_PROF_EXPORT void *__llama_prof_new_array_aligned(size_t n, std::align_val_t alignment,
                                                       const llama_site *site) {
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_forward_new(LLAMA_KIND_NEW_ARRAY_ALIGNED, n, size_t(alignment));
  void *p = llama_prof_forward_new(LLAMA_KIND_NEW_ARRAY_ALIGNED, n, size_t(alignment));
  RECORD(p, n);
  return p;
}

LLAMA_PROF_EXPORT void *__llama_prof_new_aligned_nothrow(size_t n, std::align_val_t alignment,
                                                         const std::nothrow_t &,
                                                         const llama_site *site) {
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_forward_new(LLAMA_KIND_NEW_ALIGNED_NOTHROW, n, size_t(alignment));
  void *p = llama_prof_forward_new(LLAMA_KIND_NEW_ALIGNED_NOTHROW, n, size_t(alignment));
  RECORD(p, n);
  return p;
}

LLAMA_PROF_EXPORT void *__llama_prof_new_array_aligned_nothrow(size_t n,
                                                               std::align_val_t alignment,
                                                               const std::nothrow_t &,
                                                               const llama_site *site) {
  llama_prof_count(site, n);
  if (!SAMPLED()) return llama_prof_forward_new(LLAMA_KIND_NEW_ARRAY_ALIGNED_NOTHROW, n, size_t(alignment));
  void *p = llama_prof_forward_new(LLAMA_KIND_NEW_ARRAY_ALIGNED_NOTHROW, n, size_t(alignment));
  RECORD(p, n);
  return p;
}

}  // extern "C"
