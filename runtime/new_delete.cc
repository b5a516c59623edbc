// new_delete.cc - C++ operator new/delete for libllamalloc, every variant
// (plain, array, nothrow, sized, aligned), plus the class-annotated forms the
// use build targets (llama_new_class & co.). operator new follows the
// standard: on exhaustion call the installed new_handler and retry, or throw
// std::bad_alloc; the nothrow forms return nullptr.
#include <cstddef>
#include <cstdlib>
#include <new>

#include "llamalloc.h"

#define LLAMA_EXPORT __attribute__((visibility("default")))

namespace {

void *new_impl(size_t n, unsigned k) {
  for (;;) {
    if (void *p = llama_malloc_class(n, k)) return p;
    std::new_handler handler = std::get_new_handler();
    if (!handler) throw std::bad_alloc();
    handler();
  }
}

void *new_aligned_impl(size_t n, size_t alignment, unsigned k) {
  for (;;) {
    // std::align_val_t is a power of two, so EINVAL cannot happen here.
    if (void *p = llama_aligned_alloc_class(alignment, n, k)) return p;
    std::new_handler handler = std::get_new_handler();
    if (!handler) throw std::bad_alloc();
    handler();
  }
}

void *new_nothrow_impl(size_t n, unsigned k) noexcept {
  try {
    return new_impl(n, k);
  } catch (...) {
    return nullptr;
  }
}

void *new_aligned_nothrow_impl(size_t n, size_t alignment, unsigned k) noexcept {
  try {
    return new_aligned_impl(n, alignment, k);
  } catch (...) {
    return nullptr;
  }
}

}  // namespace

extern "C" {
LLAMA_EXPORT void *llama_new_class(size_t n, unsigned k) { return new_impl(n, k); }
LLAMA_EXPORT void *llama_new_aligned_class(size_t n, size_t alignment, unsigned k) {
  return new_aligned_impl(n, alignment, k);
}
LLAMA_EXPORT void *llama_new_nothrow_class(size_t n, unsigned k) {
  return new_nothrow_impl(n, k);
}
}

static const unsigned kUnknown = LLAMA_CLASS_UNKNOWN;

LLAMA_EXPORT void *operator new(size_t n) { return new_impl(n, kUnknown); }
LLAMA_EXPORT void *operator new[](size_t n) { return new_impl(n, kUnknown); }
LLAMA_EXPORT void *operator new(size_t n, const std::nothrow_t &) noexcept {
  return new_nothrow_impl(n, kUnknown);
}
LLAMA_EXPORT void *operator new[](size_t n, const std::nothrow_t &) noexcept {
  return new_nothrow_impl(n, kUnknown);
}
LLAMA_EXPORT void *operator new(size_t n, std::align_val_t a) {
  return new_aligned_impl(n, static_cast<size_t>(a), kUnknown);
}
LLAMA_EXPORT void *operator new[](size_t n, std::align_val_t a) {
  return new_aligned_impl(n, static_cast<size_t>(a), kUnknown);
}
LLAMA_EXPORT void *operator new(size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  return new_aligned_nothrow_impl(n, static_cast<size_t>(a), kUnknown);
}
LLAMA_EXPORT void *operator new[](size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  return new_aligned_nothrow_impl(n, static_cast<size_t>(a), kUnknown);
}

LLAMA_EXPORT void operator delete(void *p) noexcept { free(p); }
LLAMA_EXPORT void operator delete[](void *p) noexcept { free(p); }
LLAMA_EXPORT void operator delete(void *p, const std::nothrow_t &) noexcept { free(p); }
LLAMA_EXPORT void operator delete[](void *p, const std::nothrow_t &) noexcept { free(p); }
LLAMA_EXPORT void operator delete(void *p, size_t) noexcept { free(p); }
LLAMA_EXPORT void operator delete[](void *p, size_t) noexcept { free(p); }
LLAMA_EXPORT void operator delete(void *p, std::align_val_t) noexcept { free(p); }
LLAMA_EXPORT void operator delete[](void *p, std::align_val_t) noexcept { free(p); }
LLAMA_EXPORT void operator delete(void *p, size_t, std::align_val_t) noexcept { free(p); }
LLAMA_EXPORT void operator delete[](void *p, size_t, std::align_val_t) noexcept { free(p); }
LLAMA_EXPORT void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept {
  free(p);
}
LLAMA_EXPORT void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept {
  free(p);
}
