/* alloc.c - the public allocation functions: the malloc family (which
 * libllamalloc replaces), the class-annotated llama_*_class entry points the
 * use build calls, and lazy initialisation.
 *
 * Fast path (malloc/llama_malloc_class of <= 128 KiB): thread heap -> current
 * span of (bin, size class) -> pop its free list. Fast free: the owner pushes
 * the block back on its span. Everything else is in heap.c, large.c. */

#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

LLAMA_EXPORT const int __llama_runtime_abi_v1 = LLAMA_RUNTIME_ABI_VERSION;

_Atomic int llama_init_state;

/* Where the exit report goes: a private duplicate of stderr taken at
 * initialisation, because some programs (GNU coreutils) close fd 2 before
 * the library destructors run. */
static int stats_fd = 2;

static void fork_prepare(void) {
  llama_heaps_fork_prepare();
  llama_large_fork_prepare();
  llama_hugepages_fork_prepare();
}
static void fork_parent(void) {
  llama_hugepages_fork_parent();
  llama_large_fork_parent();
  llama_heaps_fork_parent();
}
static void fork_child(void) {
  llama_hugepages_fork_child();
  llama_large_fork_child();
  llama_heaps_fork_child();
}

/* One-time initialisation, on the first allocation of the process. Nothing
 * before `llama_init_state = 2` may allocate; pthread_atfork may (and then
 * recurses into a fully initialised allocator). */
void llama_init_slow(void) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&llama_init_state, &expected, 1)) {
    llama_options_init();
    llama_size_classes_init();
    llama_heaps_init();
    if (llama_options.stats) {
      int fd = fcntl(2, F_DUPFD_CLOEXEC, 100);
      if (fd >= 0) stats_fd = fd;
    }
    atomic_store_explicit(&llama_init_state, 2, memory_order_release);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    return;
  }
  while (atomic_load_explicit(&llama_init_state, memory_order_acquire) != 2) sched_yield();
}

__attribute__((constructor)) static void llama_constructor(void) {
  if (atomic_load_explicit(&llama_init_state, memory_order_acquire) != 2) llama_init_slow();
}

__attribute__((destructor)) static void llama_destructor(void) {
  if (llama_options.stats) llama_stats_print(stats_fd);
}

uint8_t llama_small_class[1024 / 16 + 1];

void llama_size_classes_init(void) {
  for (unsigned i = 0; i <= 1024 / 16; i++)
    llama_small_class[i] = (uint8_t)llama_size_class_compute((size_t)i * 16);
}

/* ---- core ------------------------------------------------------------------- */

LLAMA_INLINE unsigned bin_of_class(unsigned k) {
  return k < LLAMA_NUM_CLASSES ? k : llama_options.default_bin;
}

static LLAMA_NOINLINE void *alloc_slow(size_t n, unsigned bin, unsigned source) {
  llama_heap_t *heap = llama_tls_heap;
  if (!heap && !(heap = llama_heap_init_thread())) goto fail;
  if (n > LLAMA_MAX_REQUEST) goto fail;
  void *p;
  if (n <= MEDIUM_SPAN_MAX) {
    unsigned sc = llama_size_class(n);
    p = llama_heap_alloc_slow(heap, bin, sc);
  } else if (n <= RUN_MAX) {
    p = llama_run_alloc(bin, n);
  } else {
    p = llama_large_alloc(bin, n, MIN_ALIGN);
  }
  if (!p) goto fail;
  heap->allocations[bin][source]++;
  return p;
fail:
  errno = ENOMEM;
  return NULL;
}

LLAMA_INLINE void *llama_alloc(size_t n, unsigned bin, unsigned source) {
  llama_heap_t *heap = llama_tls_heap;
  if (LLAMA_LIKELY(heap != NULL && n <= MEDIUM_SPAN_MAX)) {
    llama_span_t *span = heap->current[bin][llama_size_class(n)];
    llama_block_t *block = span->free;
    if (LLAMA_LIKELY(block != NULL)) {
      span->free = block->next;
      span->used++;
      heap->allocations[bin][source]++;
      return block;
    }
  }
  return alloc_slow(n, bin, source);
}

static void free_far_or_foreign(void *p) {
  llama_large_t *large = llama_large_find_far(p);
  if (large) llama_large_free(large);
  else llama_report("free of a pointer not allocated by llamalloc (ignored)", NULL);
}

LLAMA_INLINE void llama_free(void *p) {
  if (LLAMA_UNLIKELY(p == NULL)) return;
  llama_huge_page_t *page = llama_huge_page_of(p);
  if (LLAMA_UNLIKELY((void *)page == p)) {
    free_far_or_foreign(p);
    return;
  }
  if (LLAMA_LIKELY(page->region_kind == REGION_HUGE_PAGE)) {
    llama_span_t *span = llama_span_of(page, p);
    llama_heap_t *heap = llama_tls_heap;
    if (LLAMA_LIKELY(atomic_load_explicit(&span->heap, memory_order_relaxed) == heap &&
                     llama_span_flags(span) == 0 && heap != NULL)) {
      llama_block_t *block = p;
      block->next = span->free;
      span->free = block;
      if (LLAMA_UNLIKELY(--span->used == 0)) llama_span_emptied(heap, span);
      return;
    }
    llama_free_generic(heap, span, p);
    return;
  }
  if (page->region_kind == REGION_LARGE) {
    llama_large_free((llama_large_t *)page);
    return;
  }
  llama_report("free of a pointer not allocated by llamalloc (ignored)", NULL);
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

static size_t usable_size(const void *p) {
  llama_span_t *span;
  llama_large_t *large;
  if (!p) return 0;
  locate(p, &span, &large);
  if (span) return llama_block_usable(span, p);
  if (large) return (size_t)((uint8_t *)large->user + large->usable - (const uint8_t *)p);
  return 0;
}

/* Bin that currently holds p's memory (for realloc without a class). */
static unsigned bin_of_pointer(const void *p) {
  llama_span_t *span;
  llama_large_t *large;
  locate(p, &span, &large);
  if (span) return span->bin;
  if (large) return large->bin;
  return llama_options.default_bin;
}

/* Allocation aligned to `alignment` (a power of two). Small requests whose
 * size class is a multiple of the alignment are naturally aligned (span
 * starts are 4 KiB-aligned); others take an interior pointer of a larger
 * block, which free() maps back to the block start. */
static void *alloc_aligned(size_t n, size_t alignment, unsigned bin, unsigned source) {
  if (alignment <= MIN_ALIGN) return llama_alloc(n, bin, source);
  if (n > LLAMA_MAX_REQUEST || alignment > LLAMA_MAX_REQUEST) {
    errno = ENOMEM;
    return NULL;
  }
  size_t m = n < alignment ? alignment : n;
  if (m <= MEDIUM_SPAN_MAX && alignment <= 4096 &&
      (llama_class_size(llama_size_class(m)) & (alignment - 1)) == 0)
    return llama_alloc(m, bin, source);
  size_t padded = n + alignment - MIN_ALIGN;
  if (padded <= RUN_MAX && alignment < UNIT_SIZE) {
    uint8_t *p = llama_alloc(padded, bin, source);
    if (!p) return NULL;
    uint8_t *aligned = (uint8_t *)(((uintptr_t)p + alignment - 1) & ~(uintptr_t)(alignment - 1));
    if (aligned != p) {
      llama_span_t *span = llama_span_of(llama_huge_page_of(p), p);
      if (span->kind == SPAN_BLOCKS) llama_span_set_flags(span, llama_span_flags(span) | SPAN_INTERIOR); /* we own it */
    }
    return aligned;
  }
  llama_heap_t *heap = llama_tls_heap;
  if (!heap) heap = llama_heap_init_thread();
  void *p = heap ? llama_large_alloc(bin, n, alignment) : NULL;
  if (!p) {
    errno = ENOMEM;
    return NULL;
  }
  heap->allocations[bin][source]++;
  return p;
}

static void *calloc_in(size_t count, size_t size, unsigned bin, unsigned source) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  void *p = llama_alloc(n, bin, source);
  if (p && n <= RUN_MAX) memset(p, 0, n); /* large objects are fresh mappings */
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
  size_t old = usable_size(p);
  /* Keep the block when it fits and at least half of it stays in use. */
  if (n <= old && n >= old / 2) return p;
  if (keep_bin) bin = bin_of_pointer(p);
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

/* ---- class-annotated entry points ----------------------------------------------- */

LLAMA_INLINE unsigned source_of_class(unsigned k) {
  return k < LLAMA_NUM_CLASSES ? SOURCE_STATIC : SOURCE_DEFAULT;
}

LLAMA_EXPORT void *llama_malloc_class(size_t n, unsigned k) {
  return llama_alloc(n, bin_of_class(k), source_of_class(k));
}
LLAMA_EXPORT void *llama_calloc_class(size_t count, size_t size, unsigned k) {
  return calloc_in(count, size, bin_of_class(k), source_of_class(k));
}
LLAMA_EXPORT void *llama_realloc_class(void *p, size_t n, unsigned k) {
  return realloc_in(p, n, bin_of_class(k), source_of_class(k), k >= LLAMA_NUM_CLASSES);
}
LLAMA_EXPORT void *llama_aligned_alloc_class(size_t alignment, size_t n, unsigned k) {
  if (alignment == 0 || (alignment & (alignment - 1))) {
    errno = EINVAL;
    return NULL;
  }
  return alloc_aligned(n, alignment, bin_of_class(k), source_of_class(k));
}
LLAMA_EXPORT int llama_posix_memalign_class(void **out, size_t alignment, size_t n, unsigned k) {
  return memalign_in(out, alignment, n, bin_of_class(k), source_of_class(k));
}


/* ---- the malloc family ----------------------------------------------------------- */

#define DEFAULT_BIN (llama_options.default_bin)

LLAMA_EXPORT void *malloc(size_t n) { return llama_alloc(n, DEFAULT_BIN, SOURCE_DEFAULT); }
LLAMA_EXPORT void free(void *p) { llama_free(p); }
LLAMA_EXPORT void cfree(void *p) { llama_free(p); }
LLAMA_EXPORT void *calloc(size_t count, size_t size) {
  return calloc_in(count, size, DEFAULT_BIN, SOURCE_DEFAULT);
}
LLAMA_EXPORT void *realloc(void *p, size_t n) {
  return realloc_in(p, n, DEFAULT_BIN, SOURCE_DEFAULT, true);
}
LLAMA_EXPORT void *reallocarray(void *p, size_t count, size_t size) {
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc_in(p, n, DEFAULT_BIN, SOURCE_DEFAULT, true);
}
LLAMA_EXPORT int posix_memalign(void **out, size_t alignment, size_t n) {
  return memalign_in(out, alignment, n, DEFAULT_BIN, SOURCE_DEFAULT);
}
LLAMA_EXPORT void *aligned_alloc(size_t alignment, size_t n) {
  return llama_aligned_alloc_class(alignment, n, LLAMA_CLASS_UNKNOWN);
}
/* glibc's memalign rounds a non-power-of-two alignment up. */
LLAMA_EXPORT void *memalign(size_t alignment, size_t n) {
  if (alignment > LLAMA_MAX_REQUEST) {
    errno = EINVAL;
    return NULL;
  }
  size_t a = MIN_ALIGN;
  while (a < alignment) a <<= 1;
  return alloc_aligned(n, a, DEFAULT_BIN, SOURCE_DEFAULT);
}
LLAMA_EXPORT void *valloc(size_t n) {
  return alloc_aligned(n, (size_t)sysconf(_SC_PAGESIZE), DEFAULT_BIN, SOURCE_DEFAULT);
}
LLAMA_EXPORT void *pvalloc(size_t n) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (n > LLAMA_MAX_REQUEST) {
    errno = ENOMEM;
    return NULL;
  }
  n = (n + page - 1) & ~(page - 1);
  return alloc_aligned(n ? n : page, page, DEFAULT_BIN, SOURCE_DEFAULT);
}
LLAMA_EXPORT size_t malloc_usable_size(void *p) { return usable_size(p); }
LLAMA_EXPORT int malloc_trim(size_t pad) {
  llama_collect(1);
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
  if (heap) {
    llama_heap_collect(heap, force != 0);
  } else {
    llama_span_collect_abandoned();
    llama_hugepages_trim(force != 0);
  }
}
