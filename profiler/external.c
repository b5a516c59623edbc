/* external.c - malloc, calloc, aligned_alloc, posix_memalign, memalign,
 * valloc and pvalloc called by code the pass did not rewrite (libc's
 * strdup, getline and stdio buffers, libstdc++ through operator new, other
 * libraries, calls through function pointers). Each interposer forwards to
 * the process's function (real.c: the next definition in symbol
 * resolution order) and counts and samples the call exactly like an
 * instrumented site, at the kind's external pseudo-site (include/
 * llama/abi.h, "External allocations"): id llama_external_site_id(kind),
 * function LLAMA_EXTERNAL_FUNCTION, no file or line, flags
 * LLAMA_SITE_EXTERNAL. The pseudo-sites are registered like a module's
 * site array (core.c), so the raw profile's SITES carries their exact
 * counts; the sampled stack's frame [0] is the return address into the
 * function that called malloc, as for an instrumented entry point.
 * realloc and reallocarray are in interpose.c, operator new in
 * external_new.cc.
 *
 * Not recorded: calls made below the profiler (its own allocations, e.g.
 * inside dlsym or pthread_getattr_np), calls made by a real allocation
 * function while we forward to it (libstdc++'s operator new calling
 * malloc: the thread's `forwarding` guard), the instrumented entry points'
 * calls (they call the real functions directly), and everything when
 * LLAMA_PROF_EXTERNAL=0. Allocations made before the profiler has started
 * (by ld.so or constructors that run before ours) are counted, not
 * sampled. */
#include "internal.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#pragma clang diagnostic ignored "-Wdeprecated-declarations" /* pvalloc, valloc */

/* ---- the pseudo-sites --------------------------------------------------- */

#define SITE(kind)                                                                         \
  {0, 0, 0, LLAMA_EXTERNAL_FUNCTION, "", 0, 0, 0, LLAMA_KIND_##kind, LLAMA_SITE_EXTERNAL, ""}

/* 64-byte descriptors, each in its own cache line (the per-thread counter
 * caches are indexed by the descriptor's address / 64). */
__attribute__((aligned(64))) struct llama_site llama_prof_external_sites[LLAMA_PROF_EXT_COUNT] = {
    [LLAMA_PROF_EXT_MALLOC] = SITE(MALLOC),
    [LLAMA_PROF_EXT_CALLOC] = SITE(CALLOC),
    [LLAMA_PROF_EXT_REALLOC] = SITE(REALLOC),
    [LLAMA_PROF_EXT_REALLOCARRAY] = SITE(REALLOCARRAY),
    [LLAMA_PROF_EXT_ALIGNED_ALLOC] = SITE(ALIGNED_ALLOC),
    [LLAMA_PROF_EXT_POSIX_MEMALIGN] = SITE(POSIX_MEMALIGN),
    [LLAMA_PROF_EXT_MEMALIGN] = SITE(MEMALIGN),
    [LLAMA_PROF_EXT_VALLOC] = SITE(VALLOC),
    [LLAMA_PROF_EXT_PVALLOC] = SITE(PVALLOC),
    [LLAMA_PROF_EXT_NEW + 0] = SITE(NEW),
    [LLAMA_PROF_EXT_NEW + 1] = SITE(NEW_ARRAY),
    [LLAMA_PROF_EXT_NEW + 2] = SITE(NEW_NOTHROW),
    [LLAMA_PROF_EXT_NEW + 3] = SITE(NEW_ARRAY_NOTHROW),
    [LLAMA_PROF_EXT_NEW + 4] = SITE(NEW_ALIGNED),
    [LLAMA_PROF_EXT_NEW + 5] = SITE(NEW_ARRAY_ALIGNED),
    [LLAMA_PROF_EXT_NEW + 6] = SITE(NEW_ALIGNED_NOTHROW),
    [LLAMA_PROF_EXT_NEW + 7] = SITE(NEW_ARRAY_ALIGNED_NOTHROW),
};
_Static_assert(sizeof(struct llama_site) == 64, "llama_site is 64 bytes");
_Static_assert(LLAMA_KIND_NEW_ARRAY_ALIGNED_NOTHROW - LLAMA_KIND_NEW == 7, "8 operator new kinds");

int llama_prof_external_on = 1;

void llama_prof_external_init(void) {
  for (int i = 0; i < LLAMA_PROF_EXT_COUNT; i++)
    llama_prof_external_sites[i].id = llama_external_site_id(llama_prof_external_sites[i].kind);
  __atomic_store_n(&llama_prof_external_on, llama_prof_options.external != 0, __ATOMIC_RELAXED);
}

int llama_prof_sample_now_external(void) {
  if (LLAMA_PROF_UNLIKELY(!llama_prof_ready())) {
    llama_prof_thread.countdown = 1;
    return 0;
  }
  return llama_prof_sample_now();
}

/* The interposers are weak, as in interpose.c: a strong definition linked
 * into the same executable (libllamalloc.a) wins. */
#define INTERPOSER LLAMA_PROF_EXPORT __attribute__((weak))

/* ---- the interposers ------------------------------------------------------ */

static size_t product(size_t a, size_t b) {
  size_t n;
  return __builtin_mul_overflow(a, b, &n) ? SIZE_MAX : n;
}

/* The body of an interposer: `call` is the real call, `n` the size
 * counted. The real call runs with the forwarding guard set. */
#define EXTERNAL(index, n, result_type, call, ok)                                     \
  llama_prof_thread_t *t = &llama_prof_thread;                                        \
  if (LLAMA_PROF_UNLIKELY(!llama_prof_external_wanted(t))) return call;               \
  const struct llama_site *site = &llama_prof_external_sites[index];                 \
  llama_prof_count(site, n);                                                          \
  int sampled = LLAMA_PROF_EXTERNAL_SAMPLED();                                        \
  t->forwarding++;                                                                    \
  result_type r = call;                                                               \
  t->forwarding--;                                                                    \
  if (LLAMA_PROF_UNLIKELY(sampled) && (ok))                                           \
    llama_prof_record_alloc(RECORDED(r), n, site, LLAMA_PROF_CALLER_RET(),            \
                            LLAMA_PROF_CALLER_FRAME());                               \
  return r;

#define RECORDED(r) (r)

INTERPOSER void *malloc(size_t n) {
  EXTERNAL(LLAMA_PROF_EXT_MALLOC, n, void *, llama_prof_real_malloc(n), 1)
}

INTERPOSER void *calloc(size_t count, size_t size) {
  EXTERNAL(LLAMA_PROF_EXT_CALLOC, product(count, size), void *,
           llama_prof_real_calloc(count, size), 1)
}

INTERPOSER void *aligned_alloc(size_t alignment, size_t n) {
  EXTERNAL(LLAMA_PROF_EXT_ALIGNED_ALLOC, n, void *, llama_prof_real_aligned_alloc(alignment, n),
           1)
}

INTERPOSER void *memalign(size_t alignment, size_t n) {
  EXTERNAL(LLAMA_PROF_EXT_MEMALIGN, n, void *, llama_prof_real_memalign(alignment, n), 1)
}

INTERPOSER void *valloc(size_t n) {
  EXTERNAL(LLAMA_PROF_EXT_VALLOC, n, void *, llama_prof_real_valloc(n), 1)
}

INTERPOSER void *pvalloc(size_t n) {
  EXTERNAL(LLAMA_PROF_EXT_PVALLOC, n, void *, llama_prof_real_pvalloc(n), 1)
}

#undef RECORDED
#define RECORDED(r) (*out)

INTERPOSER int posix_memalign(void **out, size_t alignment, size_t n) {
  EXTERNAL(LLAMA_PROF_EXT_POSIX_MEMALIGN, n, int,
           llama_prof_real_posix_memalign(out, alignment, n), r == 0)
}

/* Our definitions' local addresses, for the resolver (real.c). */
LLAMA_PROF_OWN_ALIAS(MALLOC, malloc)
LLAMA_PROF_OWN_ALIAS(CALLOC, calloc)
LLAMA_PROF_OWN_ALIAS(ALIGNED_ALLOC, aligned_alloc)
LLAMA_PROF_OWN_ALIAS(POSIX_MEMALIGN, posix_memalign)
LLAMA_PROF_OWN_ALIAS(MEMALIGN, memalign)
LLAMA_PROF_OWN_ALIAS(VALLOC, valloc)
LLAMA_PROF_OWN_ALIAS(PVALLOC, pvalloc)
