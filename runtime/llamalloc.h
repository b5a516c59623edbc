/* llamalloc.h - public interface of libllamalloc, the lifetime-class-binning
 * huge-page allocator of LLAMA for LLVM.
 *
 * libllamalloc replaces the whole malloc family and C++ new/delete. On top of
 * that it offers class-annotated entry points: the use build of LlamaPass
 * rewrites allocation sites whose lifetime class is known at compile time into
 * these calls, so the runtime never has to unwind a stack for them.
 *
 * Lifetime classes are order-of-magnitude buckets of expected object lifetime
 * (llama/classes.h):
 *
 *   class 0  <= 10 ms        class 4  <= 100 s
 *   class 1  <= 100 ms       class 5  <= 1000 s
 *   class 2  <= 1 s          class 6  longer, or never freed
 *   class 3  <= 10 s
 *
 * LLAMA_CLASS_UNKNOWN (or any other value >= LLAMA_NUM_CLASSES) means "no
 * class known": the allocation takes the dynamic path, like plain malloc. A
 * value LLAMA_CLASS_HINTED | tag (llama/abi.h) takes the class from the
 * calling thread's hint word __llama_hint_v1 when that holds the same tag.
 * The dynamic path captures the stack and asks the lifetime model (LLAMA_MODEL
 * or the model the use build embedded), caching the answer per stack; without
 * a model it is the default bin (see docs/runtime.md, LLAMA_DEFAULT_CLASS).
 *
 * Every pointer returned by any function here, or by malloc & co. while
 * libllamalloc is the process allocator, may be released with free(),
 * realloc()'d, or passed to malloc_usable_size().
 */
#ifndef LLAMALLOC_H
#define LLAMALLOC_H

#include <stddef.h>
#include <stdint.h>

/* LLAMA_NUM_CLASSES, LLAMA_CLASS_UNKNOWN, LLAMA_NUM_BINS,
 * LLAMA_BIN_UNCLASSIFIED and the class bounds and names: one definition for
 * the allocator, the pass and the tools, installed next to this header. */
#include "llama/classes.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The runtime ABI version. Every module the use build rewrote references the
 * versioned symbol below (llama/abi.h, LLAMA_RUNTIME_ABI_SYMBOL), so a binary
 * built by one compiler plugin version fails to link against a runtime with
 * another ABI instead of misbehaving at run time (test/use/abi-version.ll). */
#define LLAMA_RUNTIME_ABI_VERSION 1
extern const int __llama_runtime_abi_v1;

/* ---- Class-annotated allocation (targets of the use build) --------------- */

/* Allocates n bytes for an object of lifetime class k. Same contract as
 * malloc(): returns memory aligned to 16 bytes, or NULL with errno = ENOMEM.
 * The caller owns the memory and releases it with free(). */
void *llama_malloc_class(size_t n, unsigned k);

/* calloc() in lifetime class k: count*size zeroed bytes; NULL with ENOMEM on
 * overflow or exhaustion. */
void *llama_calloc_class(size_t count, size_t size, unsigned k);

/* realloc() in lifetime class k. A NULL p behaves like llama_malloc_class();
 * n == 0 with a non-NULL p frees p and returns NULL (glibc behaviour). The
 * class applies to newly placed memory; an object resized in place keeps its
 * huge page. On failure returns NULL, sets ENOMEM and leaves p untouched. */
void *llama_realloc_class(void *p, size_t n, unsigned k);

/* aligned_alloc() in class k: alignment must be a power of two; returns NULL
 * with EINVAL otherwise, NULL with ENOMEM on exhaustion. */
void *llama_aligned_alloc_class(size_t alignment, size_t n, unsigned k);

/* posix_memalign() in class k: returns 0 and stores the pointer in *out, or
 * EINVAL (alignment not a power of two multiple of sizeof(void*)) or ENOMEM,
 * leaving *out untouched and errno unchanged. */
int llama_posix_memalign_class(void **out, size_t alignment, size_t n,
                               unsigned k);

/* strdup() / strndup() in class k: a copy of s (at most n bytes of it),
 * NUL-terminated, or NULL with ENOMEM. */
char *llama_strdup_class(const char *s, unsigned k);
char *llama_strndup_class(const char *s, size_t n, unsigned k);

/* C++ operator new in class k: never returns NULL; on exhaustion it calls the
 * installed std::new_handler and retries, or throws std::bad_alloc.
 * Defined in the C++ part of the runtime. */
void *llama_new_class(size_t n, unsigned k);
/* operator new(size_t, std::align_val_t) in class k. */
void *llama_new_aligned_class(size_t n, size_t alignment, unsigned k);
/* operator new(size_t, std::nothrow_t) in class k: NULL on exhaustion. */
void *llama_new_nothrow_class(size_t n, unsigned k);

/* ---- Statistics ---------------------------------------------------------- */

typedef struct llama_bin_stats_s {
  uint64_t live_bytes;          /* bytes in live objects (block sizes) */
  uint64_t live_objects;        /* objects currently allocated */
  uint64_t allocations;         /* objects ever allocated in this bin */
  uint64_t huge_pages_held;     /* huge pages currently owned by this bin */
  uint64_t huge_pages_acquired; /* huge pages this bin ever took */
  uint64_t huge_pages_released; /* huge pages this bin gave back empty */
  uint64_t promotions_in;       /* huge pages promoted into this bin */
  uint64_t promotions_out;      /* huge pages promoted out (deadline missed) */
  uint64_t span_bytes;          /* bytes of its huge pages carved into spans */
  uint64_t free_unit_bytes;     /* bytes of its huge pages in no span */
} llama_bin_stats_t;

/* Where resident memory goes: every byte of the heap that is resident (in
 * RAM, measured page by page with mincore(2)) falls in exactly one field
 * but `huge`; `resident` is their sum. RSS above live data is everything
 * but `live` and `large`. */
typedef struct llama_memory_s {
  uint64_t resident;     /* the sum of the next six */
  uint64_t live;         /* blocks of live objects (incl. rounding to the size class) */
  uint64_t free_blocks;  /* in spans, outside live blocks: freed or once-touched blocks */
  uint64_t free_units;   /* 32 KiB units of held huge pages in no span, not yet purged */
  uint64_t cached;       /* empty huge pages kept warm (whole-heap total only) */
  uint64_t metadata;     /* huge page headers, thread heaps */
  uint64_t large;        /* objects > 1 MiB in their own mappings (incl. 4 KiB rounding) */
  uint64_t huge;         /* bytes of pages backed by huge pages (overlaps the above) */
} llama_memory_t;

typedef struct llama_stats_s {
  llama_bin_stats_t bins[LLAMA_NUM_BINS]; /* [0..6] classes, [7] unclassified */
  uint64_t large_live_bytes;      /* objects with their own mapping */
  uint64_t large_live_objects;
  uint64_t huge_pages_resident;   /* huge pages in use or in the warm cache */
  uint64_t huge_pages_cached;     /* empty, resident, kept against thrashing */
  uint64_t huge_pages_peak;       /* peak of huge_pages_resident */
  uint64_t huge_pages_returned;   /* times an empty huge page went to the OS */
  uint64_t allocations_static;    /* class given by the compiler */
  uint64_t allocations_predicted; /* class from the runtime predictor */
  uint64_t allocations_default;   /* no class known */
  uint64_t threads;               /* thread heaps ever created */
  /* The dynamic path (added in ABI 1, issue 5; zero in older runtimes). */
  uint64_t cache_hits;            /* stacks found in the prediction cache */
  uint64_t cache_misses;          /* stacks the model was asked about */
  uint64_t predict_ns;            /* nanoseconds spent in misses */
  /* Memory accounting (added in ABI 1, issue 11; zero in older runtimes). */
  llama_memory_t memory;          /* the whole heap */
  llama_memory_t memory_bins[LLAMA_NUM_BINS]; /* by the objects' bin (free
                                     units and headers: the page owner's) */
  uint64_t recycled_spans;        /* spans placed in a longer class's page */
  uint64_t huge_page_collapses;   /* pages made huge once dense */
  uint64_t huge_page_breaks;      /* huge pages split to return free units */
  uint64_t process_rss;           /* whole process, /proc/self/smaps_rollup */
  uint64_t process_anon_huge;     /* AnonHugePages of the whole process */
  uint64_t span_trims;            /* span tails given back (free blocks past the last live one) */
  uint64_t span_trimmed_bytes;    /* bytes those trims decommitted */
  uint64_t huge_page_cache_limit; /* empty pages the warm cache may hold now (its
                                     learned size, at most LLAMA_HUGE_PAGE_CACHE) */
  /* Added in ABI 1, issue 11 (zero in older runtimes). */
  uint64_t span_switches;         /* times a thread's size class ran out of its current span
                                     and went on with another (each one slow-path work) */
  uint64_t heap_handovers;        /* threads that started on an exited thread's heap, its
                                     spans included */
  uint64_t heaps_given_up;        /* exited threads' heaps no thread took within the purge
                                     delay: their spans went to the abandoned list */
  uint64_t huge_pages_eager;      /* pages faulted in huge at first touch (their bin filled
                                     its previous page within the purge delay): no collapse */
} llama_stats_t;

/* Fills the first `size` bytes of *out (at most sizeof(llama_stats_t)) with
 * a snapshot of the allocator's counters; fields beyond what the runtime
 * knows are zeroed. llama_stats_t only ever grows at its end, so a program
 * built against an older or newer header is safe. Counters of other threads
 * are read without stopping them, so a snapshot taken while threads run is
 * approximate. Never allocates. Returns 0. */
int llama_stats_get_sized(llama_stats_t *out, size_t size);
#define llama_stats_get(out) llama_stats_get_sized((out), sizeof *(out))

/* Writes the human-readable statistics report (the one LLAMA_STATS=1 prints
 * at exit) to file descriptor fd. Never allocates. */
void llama_stats_print(int fd);

/* Returns free memory held by the calling thread to the OS where possible:
 * collects frees from other threads, releases retained empty spans and empty
 * huge pages (including the warm cache when force is non-zero). */
void llama_collect(int force);

/* Upper bound of lifetime class k in nanoseconds (UINT64_MAX for the last). */
uint64_t llama_class_bound_ns(unsigned k);

#ifdef __cplusplus
}
#endif
#endif /* LLAMALLOC_H */
