/* predict.h - the part of the use build's runtime that both alloc.c (C) and
 * new_delete.cc (C++) see: how an allocation's class is decided when the
 * compiler did not pass a static one. Hidden symbols only.
 *
 * The class of an allocation travels as a "packed" value: bin | source << 8
 * (source is SOURCE_STATIC/PREDICTED/DEFAULT from internal.h), or
 * LLAMA_PACKED_DEFAULT for "the default bin, counted as default", so that the
 * C++ side need not know the options. */
#ifndef LLAMA_PREDICT_H
#define LLAMA_PREDICT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LLAMA_HIDDEN __attribute__((visibility("hidden")))
#define LLAMA_PACKED_DEFAULT 0xffffu
#define LLAMA_PACK(bin, source) ((unsigned)(bin) | (unsigned)(source) << 8)

/* Non-zero while a model is loaded and LLAMA_PREDICT is on. Written with
 * release stores when a model is published, read relaxed on every dynamic
 * allocation: the only cost of the dynamic path without a model is this load
 * and one never-taken branch. */
extern LLAMA_HIDDEN int llama_predict_on;
/* The hint word (llama_abi.h), for the plain entry points' external-site
 * check. */
extern __thread uint64_t __llama_hint_v1 __attribute__((tls_model("initial-exec")));
/* Whether a plain allocation (malloc, operator new...) must leave the fast
 * path: a model is loaded, or the calling thread holds a hint, which may be
 * one for the external pseudo-site (allocations the use build could not
 * rewrite, made under a call the profile says has a class). Without a model
 * and a hint: one relaxed load, one TLS load, two never-taken branches. */
static inline int llama_predict_active(void) {
  return __atomic_load_n(&llama_predict_on, __ATOMIC_RELAXED) | (__llama_hint_v1 != 0);
}

/* The dynamic path of a plain allocation: the hint if it names kind's
 * external pseudo-site (counted static), else the model's prediction when
 * one is loaded, else LLAMA_PACKED_DEFAULT. */
LLAMA_HIDDEN unsigned llama_dynamic_packed(unsigned kind, void *ret, void *frame);

/* The dynamic path: class of an allocation of `kind` (enum llama_alloc_kind)
 * whose caller's return address is `ret`, with `frame` the frame address of
 * the runtime function that was tail-called by the exported entry point (its
 * frame record holds ret). Returns a packed value. Never allocates in a way
 * that could recurse: allocations made while it runs take the default bin. */
LLAMA_HIDDEN unsigned llama_predict_packed(unsigned kind, void *ret, void *frame);

/* A class argument k >= 7 of a llama_*_class function: the hint when it
 * matches (counted static), else the dynamic path. */
LLAMA_HIDDEN unsigned llama_resolve_class(unsigned k, unsigned kind, void *ret, void *frame);

/* Allocation in a packed class (alignment <= 16 for malloc alignment; else a
 * power of two). NULL with ENOMEM on failure. For new_delete.cc. */
LLAMA_HIDDEN void *llama_alloc_packed(size_t n, size_t alignment, unsigned packed);

#ifdef __cplusplus
}
#endif
#endif /* LLAMA_PREDICT_H */
