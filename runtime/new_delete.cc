// new_delete.cc - C++ operator new/delete for libllamalloc, every variant
// (plain, array, nothrow, sized, aligned), plus the class-annotated forms the
// use build targets (llama_new_class & co.). operator new follows the
// standard: on exhaustion call the installed new_handler and retry, or throw
// std::bad_alloc; the nothrow forms return nullptr.
//
// The class of an allocation is decided as in alloc.c: a static k < 7 right
// away; otherwise (a hint, LLAMA_CLASS_UNKNOWN, plain operator new) the
// exported function tail-calls ([[clang::musttail]]) a *_dyn twin of the same
// signature whose return address is the caller of operator new, and whose
// frame record starts the stack walk there (predict.h). Without a model,
// plain operator new costs one relaxed load and a never-taken branch more
// than before.
// No dependency on libstdc++: a C program that links or preloads
// libllamalloc must not load the C++ runtime (it cost 0.8 MiB of RSS on
// SQLite's shell; mimalloc's library has no such dependency either). The
// C++ runtime is needed only when memory runs out (new_handler, bad_alloc,
// catching in the nothrow forms), so every symbol of it used here is a weak
// reference (the .weak directives below; the library links with
// --as-needed, runtime/CMakeLists.txt). In a C++ program they bind to
// libstdc++; without it, exhaustion in operator new aborts with a message.
#include <cstddef>
#include <cstdlib>
#include <new>
#include <unistd.h>

asm(".weak _ZSt15get_new_handlerv");     // std::get_new_handler
asm(".weak _ZNSt9bad_allocD1Ev");        // std::bad_alloc::~bad_alloc
asm(".weak _ZTISt9bad_alloc");           // its typeinfo
asm(".weak _ZTVSt9bad_alloc");           // its vtable
asm(".weak _ZSt9terminatev");            // std::terminate
asm(".weak __cxa_allocate_exception");
asm(".weak __cxa_throw");
asm(".weak __cxa_begin_catch");
asm(".weak __cxa_end_catch");
asm(".weak __gxx_personality_v0");
// The same std::get_new_handler, declared weak so that its absence can be
// tested (the compiler assumes a plain declaration is never null).
extern "C" std::new_handler llama_cxx_get_new_handler() noexcept
    __asm__("_ZSt15get_new_handlerv") __attribute__((weak));

#include "llama/abi.h"
#include "llamalloc.h"
#include "predict.h"

#define LLAMA_EXPORT __attribute__((visibility("default")))
#define LLAMA_NOINLINE __attribute__((noinline))
#define LLAMA_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RET_ADDR __builtin_return_address(0)
#define FRAME_ADDR __builtin_frame_address(0)

namespace {

[[noreturn]] void no_cxx_runtime() {
  static const char msg[] =
      "llamalloc: operator new: out of memory, and no C++ runtime is loaded to throw "
      "std::bad_alloc\n";
  ssize_t r = write(2, msg, sizeof msg - 1);
  (void)r;
  abort();
}

// alignment 0: malloc alignment.
void *new_packed(size_t n, size_t alignment, unsigned packed) {
  for (;;) {
    // std::align_val_t is a power of two, so EINVAL cannot happen here.
    if (void *p = llama_alloc_packed(n, alignment, packed)) return p;
    if (!llama_cxx_get_new_handler) no_cxx_runtime();
    std::new_handler handler = llama_cxx_get_new_handler();
    if (!handler) throw std::bad_alloc();
    handler();
  }
}

void *new_packed_nothrow(size_t n, size_t alignment, unsigned packed) noexcept {
  try {
    return new_packed(n, alignment, packed);
  } catch (...) {
    return nullptr;
  }
}

inline unsigned static_packed(unsigned k) { return k; /* bin k, SOURCE_STATIC = 0 */ }

inline unsigned dynamic_packed(unsigned kind, void *ret, void *frame) {
  if (!llama_predict_active()) return LLAMA_PACKED_DEFAULT;
  return llama_dynamic_packed(kind, ret, frame);
}

}  // namespace

// The *_dyn twins: one per exported signature (musttail needs equal ones).
extern "C" {
static LLAMA_NOINLINE void *new_class_dyn(size_t n, unsigned k) {
  return new_packed(n, 0, llama_resolve_class(k, LLAMA_KIND_NEW, RET_ADDR, FRAME_ADDR));
}
static LLAMA_NOINLINE void *new_aligned_class_dyn(size_t n, size_t alignment, unsigned k) {
  return new_packed(n, alignment,
                    llama_resolve_class(k, LLAMA_KIND_NEW_ALIGNED, RET_ADDR, FRAME_ADDR));
}
static LLAMA_NOINLINE void *new_nothrow_class_dyn(size_t n, unsigned k) {
  return new_packed_nothrow(
      n, 0, llama_resolve_class(k, LLAMA_KIND_NEW_NOTHROW, RET_ADDR, FRAME_ADDR));
}

LLAMA_EXPORT void *llama_new_class(size_t n, unsigned k) {
  if (__builtin_expect(k < LLAMA_NUM_CLASSES, 1)) return new_packed(n, 0, static_packed(k));
  [[clang::musttail]] return new_class_dyn(n, k);
}
LLAMA_EXPORT void *llama_new_aligned_class(size_t n, size_t alignment, unsigned k) {
  if (__builtin_expect(k < LLAMA_NUM_CLASSES, 1))
    return new_packed(n, alignment, static_packed(k));
  [[clang::musttail]] return new_aligned_class_dyn(n, alignment, k);
}
LLAMA_EXPORT void *llama_new_nothrow_class(size_t n, unsigned k) {
  if (__builtin_expect(k < LLAMA_NUM_CLASSES, 1))
    return new_packed_nothrow(n, 0, static_packed(k));
  [[clang::musttail]] return new_nothrow_class_dyn(n, k);
}
}

#define DYN(kind) dynamic_packed((kind), RET_ADDR, FRAME_ADDR)

static LLAMA_NOINLINE void *new_dyn(size_t n) { return new_packed(n, 0, DYN(LLAMA_KIND_NEW)); }
static LLAMA_NOINLINE void *new_array_dyn(size_t n) {
  return new_packed(n, 0, DYN(LLAMA_KIND_NEW_ARRAY));
}
// The nothrow forms are noexcept, and clang cannot musttail out of a noexcept
// function; they pass their own return and frame address instead (which
// gives them a frame pointer: one push and pop on a rarely used path).
static LLAMA_NOINLINE void *nothrow_dyn(size_t n, size_t alignment, unsigned kind, void *ret,
                                        void *frame) noexcept {
  return new_packed_nothrow(n, alignment, dynamic_packed(kind, ret, frame));
}
static LLAMA_NOINLINE void *new_aligned_dyn(size_t n, std::align_val_t a) {
  return new_packed(n, static_cast<size_t>(a), DYN(LLAMA_KIND_NEW_ALIGNED));
}
static LLAMA_NOINLINE void *new_array_aligned_dyn(size_t n, std::align_val_t a) {
  return new_packed(n, static_cast<size_t>(a), DYN(LLAMA_KIND_NEW_ARRAY_ALIGNED));
}

#define PREDICTING LLAMA_UNLIKELY(llama_predict_active())

LLAMA_EXPORT void *operator new(size_t n) {
  if (PREDICTING) [[clang::musttail]] return new_dyn(n);
  return new_packed(n, 0, LLAMA_PACKED_DEFAULT);
}
LLAMA_EXPORT void *operator new[](size_t n) {
  if (PREDICTING) [[clang::musttail]] return new_array_dyn(n);
  return new_packed(n, 0, LLAMA_PACKED_DEFAULT);
}
LLAMA_EXPORT void *operator new(size_t n, const std::nothrow_t &) noexcept {
  if (PREDICTING) return nothrow_dyn(n, 0, LLAMA_KIND_NEW_NOTHROW, RET_ADDR, FRAME_ADDR);
  return new_packed_nothrow(n, 0, LLAMA_PACKED_DEFAULT);
}
LLAMA_EXPORT void *operator new[](size_t n, const std::nothrow_t &) noexcept {
  if (PREDICTING) return nothrow_dyn(n, 0, LLAMA_KIND_NEW_ARRAY_NOTHROW, RET_ADDR, FRAME_ADDR);
  return new_packed_nothrow(n, 0, LLAMA_PACKED_DEFAULT);
}
LLAMA_EXPORT void *operator new(size_t n, std::align_val_t a) {
  if (PREDICTING) [[clang::musttail]] return new_aligned_dyn(n, a);
  return new_packed(n, static_cast<size_t>(a), LLAMA_PACKED_DEFAULT);
}
LLAMA_EXPORT void *operator new[](size_t n, std::align_val_t a) {
  if (PREDICTING) [[clang::musttail]] return new_array_aligned_dyn(n, a);
  return new_packed(n, static_cast<size_t>(a), LLAMA_PACKED_DEFAULT);
}
LLAMA_EXPORT void *operator new(size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  if (PREDICTING)
    return nothrow_dyn(n, static_cast<size_t>(a), LLAMA_KIND_NEW_ALIGNED_NOTHROW, RET_ADDR,
                       FRAME_ADDR);
  return new_packed_nothrow(n, static_cast<size_t>(a), LLAMA_PACKED_DEFAULT);
}
LLAMA_EXPORT void *operator new[](size_t n, std::align_val_t a, const std::nothrow_t &) noexcept {
  if (PREDICTING)
    return nothrow_dyn(n, static_cast<size_t>(a), LLAMA_KIND_NEW_ARRAY_ALIGNED_NOTHROW, RET_ADDR,
                       FRAME_ADDR);
  return new_packed_nothrow(n, static_cast<size_t>(a), LLAMA_PACKED_DEFAULT);
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
