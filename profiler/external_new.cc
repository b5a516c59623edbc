// external_new.cc - the global operator new family (all 8 replaceable
// allocation forms) called by code the pass did not rewrite: libstdc++'s
// std::string::_M_create, std::locale, the containers of a library built
// without the pass. Each forwards to the process's operator new (the next
// definition in symbol resolution order, libstdc++'s, found by real.c)
// with the thread's forwarding guard set, so that the malloc it calls is
// not counted again, and counts and samples the
// call at the kind's external pseudo-site (external.c). Semantics are
// the real operator new's: new_handler retries and std::bad_alloc come
// from it (an allocation that throws is counted, not sampled), nothrow
// forms return nullptr.
//
// The instrumented entry points (new_entry.cc) call
// llama_prof_forward_new too, never these interposers.
#include <cstddef>
#include <cstdlib>
#include <new>

#include "internal.h"

namespace {

typedef void *new_fn(std::size_t);
typedef void *new_nothrow_fn(std::size_t, const std::nothrow_t &);
typedef void *new_aligned_fn(std::size_t, std::align_val_t);
typedef void *new_aligned_nothrow_fn(std::size_t, std::align_val_t, const std::nothrow_t &);

struct Forwarding {
  llama_prof_thread_t *t;
  explicit Forwarding(llama_prof_thread_t *thread) : t(thread) { t->forwarding++; }
  ~Forwarding() { t->forwarding--; }
};

bool is_nothrow(unsigned index) { return index == 2 || index == 3 || index >= 6; }

// No real operator new (called while resolving it, or a process whose
// C++ runtime does not define it): what libstdc++'s would do, on malloc.
void *fallback_new(unsigned index, std::size_t n, std::size_t alignment) {
  if (n == 0) n = 1;
  void *p = alignment ? llama_prof_real_aligned_alloc(alignment, (n + alignment - 1) & ~(alignment - 1))
                      : llama_prof_real_malloc(n);
  if (!p && !is_nothrow(index)) throw std::bad_alloc();
  return p;
}
}  // namespace

extern "C" void *llama_prof_forward_new(unsigned kind, std::size_t n, std::size_t alignment) {
  unsigned index = kind - LLAMA_KIND_NEW;
  void *f = llama_prof_real_function(LLAMA_PROF_REAL_NEW + index);
  Forwarding guard(&llama_prof_thread);
  if (LLAMA_PROF_UNLIKELY(!f)) return fallback_new(index, n, alignment);
  switch (index) {
  case 0:
  case 1:
    return reinterpret_cast<new_fn *>(f)(n);
  case 2:
  case 3:
    return reinterpret_cast<new_nothrow_fn *>(f)(n, std::nothrow);
  case 4:
  case 5:
    return reinterpret_cast<new_aligned_fn *>(f)(n, std::align_val_t(alignment));
  default:
    return reinterpret_cast<new_aligned_nothrow_fn *>(f)(n, std::align_val_t(alignment),
                                                         std::nothrow);
  }
}

// The body of an interposer; the caller's return address and frame are
// taken here, in the interposer's own frame.
#define EXTERNAL_NEW(KIND, N, ALIGNMENT)                                                   \
  llama_prof_thread_t *t = &llama_prof_thread;                                             \
  if (LLAMA_PROF_UNLIKELY(!llama_prof_external_wanted(t)))                                 \
    return llama_prof_forward_new(LLAMA_KIND_##KIND, N, ALIGNMENT);                        \
  const llama_site *site =                                                                 \
      &llama_prof_external_sites[LLAMA_PROF_EXT_NEW + LLAMA_KIND_##KIND - LLAMA_KIND_NEW]; \
  llama_prof_count(site, N);                                                               \
  int sampled = LLAMA_PROF_EXTERNAL_SAMPLED();                                             \
  void *p = llama_prof_forward_new(LLAMA_KIND_##KIND, N, ALIGNMENT);                       \
  if (LLAMA_PROF_UNLIKELY(sampled))                                                        \
    llama_prof_record_alloc(p, N, site, LLAMA_PROF_CALLER_RET(), LLAMA_PROF_CALLER_FRAME()); \
  return p;

// Weak, like the other interposers: a strong definition linked into the
// same executable wins.
#define INTERPOSER LLAMA_PROF_EXPORT __attribute__((weak))

INTERPOSER void *operator new(std::size_t n) { EXTERNAL_NEW(NEW, n, 0) }

INTERPOSER void *operator new[](std::size_t n) { EXTERNAL_NEW(NEW_ARRAY, n, 0) }

INTERPOSER void *operator new(std::size_t n, const std::nothrow_t &) noexcept {
  EXTERNAL_NEW(NEW_NOTHROW, n, 0)
}

INTERPOSER void *operator new[](std::size_t n, const std::nothrow_t &) noexcept {
  EXTERNAL_NEW(NEW_ARRAY_NOTHROW, n, 0)
}

INTERPOSER void *operator new(std::size_t n, std::align_val_t a) {
  EXTERNAL_NEW(NEW_ALIGNED, n, static_cast<std::size_t>(a))
}

INTERPOSER void *operator new[](std::size_t n, std::align_val_t a) {
  EXTERNAL_NEW(NEW_ARRAY_ALIGNED, n, static_cast<std::size_t>(a))
}

INTERPOSER void *operator new(std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  EXTERNAL_NEW(NEW_ALIGNED_NOTHROW, n, static_cast<std::size_t>(a))
}

INTERPOSER void *operator new[](std::size_t n, std::align_val_t a,
                                const std::nothrow_t &) noexcept {
  EXTERNAL_NEW(NEW_ARRAY_ALIGNED_NOTHROW, n, static_cast<std::size_t>(a))
}

// Our definitions' local addresses, for the resolver (real.c).
extern "C" {
LLAMA_PROF_OWN_ALIAS(NEW, _Znwm)
LLAMA_PROF_OWN_ALIAS(NEW_ARRAY, _Znam)
LLAMA_PROF_OWN_ALIAS(NEW_NOTHROW, _ZnwmRKSt9nothrow_t)
LLAMA_PROF_OWN_ALIAS(NEW_ARRAY_NOTHROW, _ZnamRKSt9nothrow_t)
LLAMA_PROF_OWN_ALIAS(NEW_ALIGNED, _ZnwmSt11align_val_t)
LLAMA_PROF_OWN_ALIAS(NEW_ARRAY_ALIGNED, _ZnamSt11align_val_t)
LLAMA_PROF_OWN_ALIAS(NEW_ALIGNED_NOTHROW, _ZnwmSt11align_val_tRKSt9nothrow_t)
LLAMA_PROF_OWN_ALIAS(NEW_ARRAY_ALIGNED_NOTHROW, _ZnamSt11align_val_tRKSt9nothrow_t)
}
