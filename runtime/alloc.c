/* alloc.c - the public allocation functions: the malloc family (which
 * libllamalloc replaces) and the class-annotated llama_*_class entry points
 * the use build calls. Start-up, exit and fork are init.c's.
 *
 * Fast path (malloc/llama_malloc_class of <= 128 KiB): thread heap -> current
 * span of (bin, size class) -> pop its free list. Fast free: the owner pushes
 * the block back on its span. Everything else is in heap.c, large.c. */

#include "internal.h"
#include "llama/abi.h"
#include "predict.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

LLAMA_EXPORT const int __llama_runtime_abi_v1 = LLAMA_RUNTIME_ABI_VERSION;

/* ---- core ------------------------------------------------------------------- */

/* The slow path. Blocks-only callers (aligned allocation) need size-class
 * blocks or runs, whose alignment alloc_aligned relies on: no extents. */
static void *alloc_slow_in(size_t n, unsigned bin, unsigned source, bool blocks_only) {
  llama_heap_t *heap = llama_tls_heap;
  if (!llama_heap_is_real(heap) && !(heap = llama_heap_init_thread())) goto fail;
  if (n > LLAMA_MAX_REQUEST) goto fail;
  llama_heap_trim_paced(heap);
  void *p;
  if (n > llama_options.extent_min && n <= RUN_MAX && llama_options.extent_min && !blocks_only) {
    p = llama_extent_alloc(bin, n);
  } else if (n <= MEDIUM_SPAN_MAX) {
    unsigned sc = llama_size_class(n);
    p = llama_heap_alloc_slow(heap, n <= SMALL_SHARED_MAX ? llama_small_bin[bin] : bin, sc);
  } else if (n <= RUN_MAX) {
    p = llama_run_alloc(bin, n);
  } else {
    p = llama_large_alloc(bin, n, MIN_ALIGN, false);
  }
  if (!p) goto fail;
  heap->allocations[bin][source]++;
  return p;
fail:
  errno = ENOMEM;
  return NULL;
}

static LLAMA_NOINLINE void *alloc_slow(size_t n, unsigned bin, unsigned source) {
  return alloc_slow_in(n, bin, source, false);
}
static LLAMA_NOINLINE void *alloc_slow_blocks(size_t n, unsigned bin, unsigned source) {
  return alloc_slow_in(n, bin, source, true);
}

LLAMA_INLINE void *llama_alloc_in(size_t n, unsigned bin, unsigned source, bool blocks_only) {
  llama_heap_t *heap = llama_tls_heap; /* &llama_heap_empty before the first slow path */
  if (LLAMA_LIKELY(n <= MEDIUM_SPAN_MAX)) {
    unsigned home = n <= SMALL_SHARED_MAX ? llama_small_bin[bin] : bin, sc = llama_size_class(n);
    llama_span_t *span = heap->current[home][sc];
    llama_block_t *block = span->free;
    if (LLAMA_LIKELY(block != NULL)) {
      span->free = block->next;
      span->used++;
      heap->allocations[bin][source]++;
      return block;
    }
    /* A tight class's deferred frees (heap.c), unless a full sweep is due:
     * the slow path's work, inline. */
    llama_deferred_t *d = &heap->deferred[home][sc];
    if ((block = d->head) && (heap->slow_count + 1) % LLAMA_SWEEP_PERIOD != 0) {
      heap->slow_count++;
      d->head = block->next;
      d->n--;
      heap->allocations[bin][source]++;
      return block;
    }
  }
  return blocks_only ? alloc_slow_blocks(n, bin, source) : alloc_slow(n, bin, source);
}

LLAMA_INLINE void *llama_alloc(size_t n, unsigned bin, unsigned source) {
  return llama_alloc_in(n, bin, source, false);
}

static LLAMA_NOINLINE void free_far_or_foreign(void *p) {
  if (!p) return;
  llama_large_t *large = llama_large_find_far(p);
  if (large) llama_large_free(large);
  else llama_report("free of a pointer not allocated by llamalloc (ignored)", NULL);
}

static LLAMA_NOINLINE void free_slow(llama_heap_t *heap, llama_huge_page_t *page,
                                     llama_span_t *span, void *p) {
  if (LLAMA_LIKELY(page->region_kind == REGION_HUGE_PAGE)) {
    llama_free_generic(heap, span, p);
    return;
  }
  if (page->region_kind == REGION_LARGE) {
    llama_large_free((llama_large_t *)page);
    return;
  }
  llama_report("free of a pointer not allocated by llamalloc (ignored)", NULL);
}

/* The fast free reads the span descriptor before knowing what kind of
 * region p is in: a large header (large.c) reads as a huge page header whose
 * span 0 has no owner, so it fails the owner test like a foreign thread's
 * span, and the slow path sorts the regions out. NULL is 2 MiB-aligned. */
LLAMA_INLINE void llama_free(void *p) {
  llama_huge_page_t *page = llama_huge_page_of(p);
  if (LLAMA_UNLIKELY((void *)page == p)) {
    free_far_or_foreign(p);
    return;
  }
  llama_span_t *span = llama_span_of(page, p);
  llama_heap_t *heap = llama_tls_heap;
  if (LLAMA_LIKELY(atomic_load_explicit(&span->heap, memory_order_relaxed) == heap)) {
    uint8_t flags = llama_span_flags(span);
    llama_block_t *block = p;
    if (LLAMA_LIKELY(flags == 0)) {
      block->next = span->free;
      span->free = block;
      if (LLAMA_UNLIKELY(--span->used == 0)) llama_span_emptied(heap, span);
      return;
    }
    /* Into a full span of a tight class: deferred (heap.c), inline. */
    llama_deferred_t *d = &heap->deferred[span->bin][span->size_class];
    if (flags == SPAN_IN_FULL && d->pick_skip && d->n < d->limit) {
      llama_deferred_push(d, block);
      return;
    }
  }
  free_slow(heap, page, span, p);
}

/* Where a pointer we handed out lives: sets exactly one of *span and *large,
 * or neither for a pointer that is not ours. The slow-path twin of the
 * dispatch free() inlines. */
static void locate(const void *p, llama_span_t **span, llama_large_t **large) {
  *span = NULL;
  *large = NULL;
  llama_huge_page_t *page = llama_huge_page_of(p);
  if ((const void *)page == p) *large = llama_large_find_far(p);
  else if (page->region_kind == REGION_HUGE_PAGE) *span = llama_span_of(page, p);
  else if (page->region_kind == REGION_LARGE) *large = (llama_large_t *)page;
}

static size_t usable_in(const void *p, llama_span_t *span, const llama_large_t *large) {
  if (span) return llama_block_usable(span, p);
  if (large) return (size_t)((uint8_t *)large->user + large->usable - (const uint8_t *)p);
  return 0;
}

static size_t usable_size(const void *p) {
  llama_span_t *span;
  llama_large_t *large;
  if (!p) return 0;
  locate(p, &span, &large);
  return usable_in(p, span, large);
}

/* Bin that holds a located pointer's memory (for realloc without a class). */
static unsigned bin_in(const llama_span_t *span, const llama_large_t *large) {
  if (span) return span->bin;
  if (large) return large->bin;
  return llama_options.default_bin;
}

/* A large object (large.c), counted like any allocation; zero: calloc's. */
static void *alloc_large(size_t n, size_t alignment, unsigned bin, unsigned source, bool zero) {
  llama_heap_t *heap = llama_tls_heap;
  if (!llama_heap_is_real(heap)) heap = llama_heap_init_thread();
  void *p = heap ? llama_large_alloc(bin, n, alignment, zero) : NULL;
  if (!p) {
    errno = ENOMEM;
    return NULL;
  }
  heap->allocations[bin][source]++;
  return p;
}

/* Allocation aligned to `alignment` (a power of two). Small requests whose
 * size class is a multiple of the alignment are naturally aligned (span
 * starts are 4 KiB-aligned); others take an interior pointer of a larger
 * block, which free() maps back to the block start. */
static void *alloc_aligned(size_t n, size_t alignment, unsigned bin, unsigned source) {
  /* Every block is 8-byte aligned, and blocks of 16 bytes and more (every
   * class but the 8-byte one) 16-byte aligned. */
  if (alignment <= 8) return llama_alloc(n, bin, source);
  if (alignment <= MIN_ALIGN) return llama_alloc(n < MIN_ALIGN ? MIN_ALIGN : n, bin, source);
  if (n > LLAMA_MAX_REQUEST || alignment > LLAMA_MAX_REQUEST) {
    errno = ENOMEM;
    return NULL;
  }
  size_t m = n < alignment ? alignment : n;
  if (m <= MEDIUM_SPAN_MAX && alignment <= 4096 &&
      (llama_class_size(llama_size_class(m)) & (alignment - 1)) == 0)
    return llama_alloc_in(m, bin, source, true);
  size_t padded = n + alignment - MIN_ALIGN;
  if (padded <= RUN_MAX && alignment < UNIT_SIZE) {
    uint8_t *p = llama_alloc_in(padded, bin, source, true);
    if (!p) return NULL;
    uint8_t *aligned = (uint8_t *)(((uintptr_t)p + alignment - 1) & ~(uintptr_t)(alignment - 1));
    if (aligned != p) {
      llama_span_t *span = llama_span_of(llama_huge_page_of(p), p);
      if (span->kind == SPAN_BLOCKS) llama_span_set_flags(span, llama_span_flags(span) | SPAN_INTERIOR); /* we own it */
    }
    return aligned;
  }
  return alloc_large(n, alignment, bin, source, false);
}

static void *calloc_in(size_t count, size_t size, unsigned bin, unsigned source) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  /* Large objects may reuse freed frames: large.c clears only those. */
  if (n > RUN_MAX) return alloc_large(n, MIN_ALIGN, bin, source, true);
  void *p = llama_alloc(n, bin, source);
  if (p) memset(p, 0, n);
  return p;
}

static void *realloc_in(void *p, size_t n, unsigned bin, unsigned source, bool keep_bin) {
  if (!p) return llama_alloc(n, bin, source);
  if (n == 0) {
    llama_free(p);
    return NULL;
  }
  if (n > LLAMA_MAX_REQUEST) {
    errno = ENOMEM;
    return NULL;
  }
  llama_span_t *span;
  llama_large_t *large;
  locate(p, &span, &large);
  size_t old = usable_in(p, span, large);
  /* Keep the block when it fits and at least half of it stays in use. */
  if (n <= old && n >= old / 2) return p;
  if (keep_bin) bin = bin_in(span, large);
  /* A medium object that stays medium and in its bin: resized in place when
   * its neighbour is free (extent.c). */
  if (span && span->kind == SPAN_EXTENT && span->bin == bin && n > llama_options.extent_min &&
      n <= RUN_MAX && llama_extent_resize(span, p, n))
    return p;
  /* A large object that stays large and in its bin: in place when the
   * frames after it are free, or shrunk by its last frames (large.c). */
  if (large && large->bin == bin && n > RUN_MAX && llama_large_resize(large, n)) return p;
  void *q = llama_alloc(n, bin, source);
  if (!q) return NULL;
  memcpy(q, p, old < n ? old : n);
  llama_free(p);
  return q;
}

static int memalign_in(void **out, size_t alignment, size_t n, unsigned bin, unsigned source) {
  if (alignment == 0 || (alignment & (alignment - 1)) || alignment % sizeof(void *)) return EINVAL;
  int saved = errno;
  void *p = alloc_aligned(n, alignment, bin, source);
  errno = saved;
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

/* ---- how an allocation gets its class ---------------------------------------------
 *
 * Every exported allocation function decides the class in one of three ways
 * (llama_abi.h, "The use build"):
 *   static    k < 7 from the compiler: the fast path, no other work;
 *   hinted    k = LLAMA_CLASS_HINTED | tag: the caller's thread-local hint
 *             holds the class when its tag matches (counted static);
 *   dynamic   plain malloc & co., LLAMA_CLASS_UNKNOWN, a hint that does not
 *             match: without a model the default bin; with one, predict.c.
 * The dynamic and hinted cases leave the exported function by a guaranteed
 * tail call (musttail) into a *_dyn twin with the same signature: the twin's
 * __builtin_return_address(0) is then the return address into the caller of
 * the exported function, and its frame record (it takes its own frame
 * address, so it has one) starts the frame-pointer walk at that caller. The
 * exported functions themselves keep no frame pointer on the fast path. */

#define MUSTTAIL __attribute__((musttail))
#define RET_ADDR __builtin_return_address(0)
#define FRAME_ADDR __builtin_frame_address(0)

LLAMA_INLINE unsigned packed_bin(unsigned packed) {
  return packed == LLAMA_PACKED_DEFAULT ? llama_options.default_bin : (packed & 0xffu);
}
LLAMA_INLINE unsigned packed_source(unsigned packed) {
  return packed == LLAMA_PACKED_DEFAULT ? (unsigned)SOURCE_DEFAULT : (packed >> 8);
}

/* The tag of each allocation kind's external pseudo-site (llama_abi.h), 0
 * for kinds beyond the table. Filled at initialisation. */
static uint32_t external_tag[64];

void llama_external_tags_init(void) {
  for (unsigned kind = 0; kind < sizeof external_tag / sizeof *external_tag; kind++)
    external_tag[kind] = llama_hint_tag(llama_external_site_id(kind));
}

unsigned llama_dynamic_packed(unsigned kind, void *ret, void *frame) {
  uint64_t hint = __llama_hint_v1;
  if (hint && kind < sizeof external_tag / sizeof *external_tag &&
      (uint32_t)(hint >> 32) == external_tag[kind] && (uint32_t)hint - 1u < LLAMA_NUM_CLASSES)
    return LLAMA_PACK((uint32_t)hint - 1u, SOURCE_STATIC);
  if (LLAMA_LIKELY(!__atomic_load_n(&llama_predict_on, __ATOMIC_RELAXED)))
    return LLAMA_PACKED_DEFAULT;
  return llama_predict_packed(kind, ret, frame);
}

/* The dynamic path's class (see llama_predict_active for its cost when
 * neither a model nor a hint is present). */
LLAMA_INLINE unsigned dynamic_class(unsigned kind, void *ret, void *frame) {
  if (LLAMA_LIKELY(!llama_predict_active())) return LLAMA_PACKED_DEFAULT;
  return llama_dynamic_packed(kind, ret, frame);
}

/* A class argument k >= 7: the hint if it matches; else the fallback class
 * the compiler chose for callers no hint covers; else the dynamic path. The
 * hint is not cleared: the caller restores its previous value after the call
 * (a wrapper may allocate more than once under one hint). */
LLAMA_INLINE unsigned resolve(unsigned k, unsigned kind, void *ret, void *frame) {
  /* Tag 0 never comes from the pass (llama_hint_tag): such a k is unknown. */
  if (k != LLAMA_CLASS_UNKNOWN && (k & LLAMA_CLASS_HINTED) && (k & LLAMA_HINT_TAG_MASK)) {
    uint64_t hint = __llama_hint_v1;
    uint32_t c = (uint32_t)hint - 1u;
    if ((uint32_t)(hint >> 32) == (k & LLAMA_HINT_TAG_MASK) && c < LLAMA_NUM_CLASSES)
      return LLAMA_PACK(c, SOURCE_STATIC);
    unsigned fallback = llama_hint_fallback(k);
    if (fallback < LLAMA_NUM_CLASSES) return LLAMA_PACK(fallback, SOURCE_STATIC);
  }
  return dynamic_class(kind, ret, frame);
}

unsigned llama_resolve_class(unsigned k, unsigned kind, void *ret, void *frame) {
  return resolve(k, kind, ret, frame);
}

void *llama_alloc_packed(size_t n, size_t alignment, unsigned packed) {
  return alloc_aligned(n, alignment, packed_bin(packed), packed_source(packed));
}

/* realloc: a class from the dynamic path without a model keeps the bin of
 * the old object when it moves; a static or predicted class applies. */
LLAMA_INLINE void *realloc_packed(void *p, size_t n, unsigned packed) {
  return realloc_in(p, n, packed_bin(packed), packed_source(packed),
                    packed == LLAMA_PACKED_DEFAULT);
}

LLAMA_INLINE char *strndup_in(const char *s, size_t max, unsigned packed) {
  size_t len = strnlen(s, max);
  char *p = llama_alloc(len + 1, packed_bin(packed), packed_source(packed));
  if (!p) return NULL;
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

/* ---- class-annotated entry points ----------------------------------------------- */

static LLAMA_NOINLINE void *malloc_class_dyn(size_t n, unsigned k) {
  unsigned c = resolve(k, LLAMA_KIND_MALLOC, RET_ADDR, FRAME_ADDR);
  return llama_alloc(n, packed_bin(c), packed_source(c));
}
LLAMA_EXPORT void *llama_malloc_class(size_t n, unsigned k) {
  if (LLAMA_LIKELY(k < LLAMA_NUM_CLASSES)) return llama_alloc(n, k, SOURCE_STATIC);
  MUSTTAIL return malloc_class_dyn(n, k);
}

static LLAMA_NOINLINE void *calloc_class_dyn(size_t count, size_t size, unsigned k) {
  unsigned c = resolve(k, LLAMA_KIND_CALLOC, RET_ADDR, FRAME_ADDR);
  return calloc_in(count, size, packed_bin(c), packed_source(c));
}
LLAMA_EXPORT void *llama_calloc_class(size_t count, size_t size, unsigned k) {
  if (LLAMA_LIKELY(k < LLAMA_NUM_CLASSES)) return calloc_in(count, size, k, SOURCE_STATIC);
  MUSTTAIL return calloc_class_dyn(count, size, k);
}

static LLAMA_NOINLINE void *realloc_class_dyn(void *p, size_t n, unsigned k) {
  return realloc_packed(p, n, resolve(k, LLAMA_KIND_REALLOC, RET_ADDR, FRAME_ADDR));
}
LLAMA_EXPORT void *llama_realloc_class(void *p, size_t n, unsigned k) {
  if (LLAMA_LIKELY(k < LLAMA_NUM_CLASSES)) return realloc_in(p, n, k, SOURCE_STATIC, false);
  MUSTTAIL return realloc_class_dyn(p, n, k);
}

static LLAMA_NOINLINE void *aligned_alloc_class_dyn(size_t alignment, size_t n, unsigned k) {
  unsigned c = resolve(k, LLAMA_KIND_ALIGNED_ALLOC, RET_ADDR, FRAME_ADDR);
  return alloc_aligned(n, alignment, packed_bin(c), packed_source(c));
}
LLAMA_EXPORT void *llama_aligned_alloc_class(size_t alignment, size_t n, unsigned k) {
  if (alignment == 0 || (alignment & (alignment - 1))) {
    errno = EINVAL;
    return NULL;
  }
  if (LLAMA_LIKELY(k < LLAMA_NUM_CLASSES)) return alloc_aligned(n, alignment, k, SOURCE_STATIC);
  MUSTTAIL return aligned_alloc_class_dyn(alignment, n, k);
}

static LLAMA_NOINLINE int posix_memalign_class_dyn(void **out, size_t alignment, size_t n,
                                                   unsigned k) {
  unsigned c = resolve(k, LLAMA_KIND_POSIX_MEMALIGN, RET_ADDR, FRAME_ADDR);
  return memalign_in(out, alignment, n, packed_bin(c), packed_source(c));
}
LLAMA_EXPORT int llama_posix_memalign_class(void **out, size_t alignment, size_t n, unsigned k) {
  if (LLAMA_LIKELY(k < LLAMA_NUM_CLASSES)) return memalign_in(out, alignment, n, k, SOURCE_STATIC);
  MUSTTAIL return posix_memalign_class_dyn(out, alignment, n, k);
}

static LLAMA_NOINLINE char *strdup_class_dyn(const char *s, unsigned k) {
  return strndup_in(s, SIZE_MAX, resolve(k, LLAMA_KIND_STRDUP, RET_ADDR, FRAME_ADDR));
}
LLAMA_EXPORT char *llama_strdup_class(const char *s, unsigned k) {
  if (LLAMA_LIKELY(k < LLAMA_NUM_CLASSES)) return strndup_in(s, SIZE_MAX, LLAMA_PACK(k, SOURCE_STATIC));
  MUSTTAIL return strdup_class_dyn(s, k);
}

static LLAMA_NOINLINE char *strndup_class_dyn(const char *s, size_t max, unsigned k) {
  return strndup_in(s, max, resolve(k, LLAMA_KIND_STRNDUP, RET_ADDR, FRAME_ADDR));
}
LLAMA_EXPORT char *llama_strndup_class(const char *s, size_t max, unsigned k) {
  if (LLAMA_LIKELY(k < LLAMA_NUM_CLASSES)) return strndup_in(s, max, LLAMA_PACK(k, SOURCE_STATIC));
  MUSTTAIL return strndup_class_dyn(s, max, k);
}

/* ---- the malloc family ----------------------------------------------------------- */

#define DEFAULT_BIN (llama_options.default_bin)

/* Each function: without a model, the default bin right here; with one, a
 * tail call into its *_dyn twin (see above). */
#define DYNAMIC(kind) dynamic_class((kind), RET_ADDR, FRAME_ADDR)

static LLAMA_NOINLINE void *malloc_dyn(size_t n) {
  unsigned c = DYNAMIC(LLAMA_KIND_MALLOC);
  return llama_alloc(n, packed_bin(c), packed_source(c));
}
LLAMA_EXPORT void *malloc(size_t n) {
  if (LLAMA_UNLIKELY(llama_predict_active())) MUSTTAIL return malloc_dyn(n);
  return llama_alloc(n, DEFAULT_BIN, SOURCE_DEFAULT);
}
LLAMA_EXPORT void free(void *p) { llama_free(p); }
LLAMA_EXPORT void cfree(void *p) { llama_free(p); }

static LLAMA_NOINLINE void *calloc_dyn(size_t count, size_t size) {
  unsigned c = DYNAMIC(LLAMA_KIND_CALLOC);
  return calloc_in(count, size, packed_bin(c), packed_source(c));
}
LLAMA_EXPORT void *calloc(size_t count, size_t size) {
  if (LLAMA_UNLIKELY(llama_predict_active())) MUSTTAIL return calloc_dyn(count, size);
  return calloc_in(count, size, DEFAULT_BIN, SOURCE_DEFAULT);
}

static LLAMA_NOINLINE void *realloc_dyn(void *p, size_t n) {
  return realloc_packed(p, n, DYNAMIC(LLAMA_KIND_REALLOC));
}
LLAMA_EXPORT void *realloc(void *p, size_t n) {
  if (LLAMA_UNLIKELY(llama_predict_active())) MUSTTAIL return realloc_dyn(p, n);
  return realloc_in(p, n, DEFAULT_BIN, SOURCE_DEFAULT, true);
}

static LLAMA_NOINLINE void *reallocarray_dyn(void *p, size_t count, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc_packed(p, n, DYNAMIC(LLAMA_KIND_REALLOCARRAY));
}
LLAMA_EXPORT void *reallocarray(void *p, size_t count, size_t size) {
  if (LLAMA_UNLIKELY(llama_predict_active())) MUSTTAIL return reallocarray_dyn(p, count, size);
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc_in(p, n, DEFAULT_BIN, SOURCE_DEFAULT, true);
}

static LLAMA_NOINLINE int posix_memalign_dyn(void **out, size_t alignment, size_t n) {
  unsigned c = DYNAMIC(LLAMA_KIND_POSIX_MEMALIGN);
  return memalign_in(out, alignment, n, packed_bin(c), packed_source(c));
}
LLAMA_EXPORT int posix_memalign(void **out, size_t alignment, size_t n) {
  if (LLAMA_UNLIKELY(llama_predict_active())) MUSTTAIL return posix_memalign_dyn(out, alignment, n);
  return memalign_in(out, alignment, n, DEFAULT_BIN, SOURCE_DEFAULT);
}

static LLAMA_NOINLINE void *aligned_alloc_dyn(size_t alignment, size_t n) {
  unsigned c = DYNAMIC(LLAMA_KIND_ALIGNED_ALLOC);
  return alloc_aligned(n, alignment, packed_bin(c), packed_source(c));
}
LLAMA_EXPORT void *aligned_alloc(size_t alignment, size_t n) {
  if (alignment == 0 || (alignment & (alignment - 1))) {
    errno = EINVAL;
    return NULL;
  }
  if (LLAMA_UNLIKELY(llama_predict_active())) MUSTTAIL return aligned_alloc_dyn(alignment, n);
  return alloc_aligned(n, alignment, DEFAULT_BIN, SOURCE_DEFAULT);
}

/* glibc's memalign rounds a non-power-of-two alignment up. */
static void *memalign_packed(size_t alignment, size_t n, unsigned packed) {
  if (alignment > LLAMA_MAX_REQUEST) {
    errno = EINVAL;
    return NULL;
  }
  size_t a = MIN_ALIGN;
  while (a < alignment) a <<= 1;
  return alloc_aligned(n, a, packed_bin(packed), packed_source(packed));
}
static LLAMA_NOINLINE void *memalign_dyn(size_t alignment, size_t n) {
  return memalign_packed(alignment, n, DYNAMIC(LLAMA_KIND_MEMALIGN));
}
LLAMA_EXPORT void *memalign(size_t alignment, size_t n) {
  if (LLAMA_UNLIKELY(llama_predict_active())) MUSTTAIL return memalign_dyn(alignment, n);
  return memalign_packed(alignment, n, LLAMA_PACKED_DEFAULT);
}

static void *valloc_packed(size_t n, unsigned packed) {
  return alloc_aligned(n, (size_t)sysconf(_SC_PAGESIZE), packed_bin(packed), packed_source(packed));
}
static LLAMA_NOINLINE void *valloc_dyn(size_t n) {
  return valloc_packed(n, DYNAMIC(LLAMA_KIND_VALLOC));
}
LLAMA_EXPORT void *valloc(size_t n) {
  if (LLAMA_UNLIKELY(llama_predict_active())) MUSTTAIL return valloc_dyn(n);
  return valloc_packed(n, LLAMA_PACKED_DEFAULT);
}

static void *pvalloc_packed(size_t n, unsigned packed) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (n > LLAMA_MAX_REQUEST) {
    errno = ENOMEM;
    return NULL;
  }
  n = (n + page - 1) & ~(page - 1);
  return alloc_aligned(n ? n : page, page, packed_bin(packed), packed_source(packed));
}
static LLAMA_NOINLINE void *pvalloc_dyn(size_t n) {
  return pvalloc_packed(n, DYNAMIC(LLAMA_KIND_PVALLOC));
}
LLAMA_EXPORT void *pvalloc(size_t n) {
  if (LLAMA_UNLIKELY(llama_predict_active())) MUSTTAIL return pvalloc_dyn(n);
  return pvalloc_packed(n, LLAMA_PACKED_DEFAULT);
}

/* strdup/strndup: glibc's would reach malloc from inside the C library, so
 * the dynamic path would see libc's strdup as the innermost frame and the
 * kind as malloc; the profile (whose build rewrote the call) sees the
 * caller and the kind strdup. Replacing them keeps both views the same. */
static LLAMA_NOINLINE char *strdup_dyn(const char *s) {
  return strndup_in(s, SIZE_MAX, DYNAMIC(LLAMA_KIND_STRDUP));
}
LLAMA_EXPORT char *strdup(const char *s) {
  if (LLAMA_UNLIKELY(llama_predict_active())) MUSTTAIL return strdup_dyn(s);
  return strndup_in(s, SIZE_MAX, LLAMA_PACKED_DEFAULT);
}
static LLAMA_NOINLINE char *strndup_dyn(const char *s, size_t max) {
  return strndup_in(s, max, DYNAMIC(LLAMA_KIND_STRNDUP));
}
LLAMA_EXPORT char *strndup(const char *s, size_t max) {
  if (LLAMA_UNLIKELY(llama_predict_active())) MUSTTAIL return strndup_dyn(s, max);
  return strndup_in(s, max, LLAMA_PACKED_DEFAULT);
}
/* The C library's internal names, so that a static link never pulls libc's
 * strdup.o (which would define strdup a second time). */
LLAMA_EXPORT char *__strdup(const char *s) __attribute__((alias("strdup")));
LLAMA_EXPORT char *__strndup(const char *s, size_t max) __attribute__((alias("strndup")));

LLAMA_EXPORT size_t malloc_usable_size(void *p) { return usable_size(p); }
LLAMA_EXPORT int malloc_trim(size_t pad) {
  llama_collect(1);
  (void)pad;
  return 1;
}

/* glibc-internal names some programs and libraries call directly. */
LLAMA_EXPORT void *__libc_malloc(size_t n) __attribute__((alias("malloc")));
LLAMA_EXPORT void __libc_free(void *p) __attribute__((alias("free")));
LLAMA_EXPORT void *__libc_calloc(size_t c, size_t s) __attribute__((alias("calloc")));
LLAMA_EXPORT void *__libc_realloc(void *p, size_t n) __attribute__((alias("realloc")));
LLAMA_EXPORT void *__libc_memalign(size_t a, size_t n) __attribute__((alias("memalign")));

LLAMA_EXPORT void llama_collect(int force) {
  llama_heap_t *heap = llama_tls_heap;
  if (llama_heap_is_real(heap)) {
    llama_heap_collect(heap, force != 0);
  } else {
    uint64_t now = llama_now_ns();
    llama_heaps_maintain(now, force != 0);
    llama_memory_maintain(now, force != 0);
  }
}
