/* internal.h - types and cross-file names of libllamalloc.
 *
 * Memory layout (see docs/design.md for the reasons):
 *
 *   huge page (2 MiB, 2 MiB-aligned, owned by one bin at a time)
 *   +-----------+---------------------------------------------------------+
 *   | header    | unit 0 rest | unit 1 | unit 2 | ...          | unit 63  |
 *   | (8 KiB)   |<------------- 64 units of 32 KiB ------------------->  |
 *   +-----------+---------------------------------------------------------+
 *   A span is a run of units holding blocks of one size class for one bin,
 *   sized for about 4 blocks (1 unit up to 8 KiB blocks, 16 units for
 *   128 KiB blocks): every (bin, size class) pair has a partly used span, so
 *   spans are kept small. A "run" is a
 *   span holding one medium object (128 KiB < n <= 1 MiB). Objects above
 *   1 MiB take a run of 2 MiB frames in an arena (large.c) with their header
 *   at its 2 MiB-aligned start, so `p & ~(2 MiB - 1)` finds the header of
 *   every pointer we return (except large objects aligned to >= 2 MiB, which
 *   have their own mapping and sit in a small registry).
 *
 * Medium requests (1 KiB < n <= 1 MiB, unaligned) are not in size-class
 * spans: extent.c carves them by best fit from chunks (spans of kind
 * SPAN_EXTENT) and coalesces them when freed.
 *
 * Dependencies point one way:
 *   alloc -> predict -> symtab
 *   alloc -> heap | extent | large -> hugepage -> os
 *   background -> heap, extent, large, hugepage (the maintenance, from its
 *   own thread); heap, hugepage and extent only wake it
 *   (llama_background_wake/start), and
 *   without the thread the slow path runs llama_memory_maintain itself
 *   stats -> heap, hugepage, large (reads only)
 *   init -> everything: start-up, exit, fork. The only call back up is
 *   llama_init_slow(), which any file may make on a first allocation.
 * Names are grouped below by the file that defines them.
 */
#ifndef LLAMA_INTERNAL_H
#define LLAMA_INTERNAL_H

#include "llamalloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LLAMA_EXPORT __attribute__((visibility("default")))
#define LLAMA_LIKELY(x) __builtin_expect(!!(x), 1)
#define LLAMA_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LLAMA_NOINLINE __attribute__((noinline))
#define LLAMA_INLINE static inline __attribute__((always_inline))

/* ---- Geometry ------------------------------------------------------------ */
#define HUGE_PAGE_SHIFT 21
#define HUGE_PAGE_SIZE ((size_t)1 << HUGE_PAGE_SHIFT)
#define HUGE_PAGE_MASK (HUGE_PAGE_SIZE - 1)
#define UNIT_SHIFT 15
#define UNIT_SIZE ((size_t)1 << UNIT_SHIFT)
#define UNITS_PER_HUGE_PAGE 64
#define HUGE_PAGE_HEADER_SIZE 8192
#define ALL_UNITS_FREE (~(uint64_t)0)
#define SPAN_MIN_BLOCKS 4

#define MIN_ALIGN 16
#define MEDIUM_SPAN_MAX ((size_t)128 * 1024) /* blocks in 8-unit spans */
#define RUN_MAX ((size_t)1024 * 1024)   /* single objects in unit runs */
#define SIZE_CLASS_COUNT 49
/* Requests above this can never be satisfied; checked before any rounding. */
#define LLAMA_MAX_REQUEST (((size_t)1 << 62))

/* Region kinds, stored at the same offset in huge page and large headers. */
#define REGION_HUGE_PAGE 0x4c4c4850u /* "LLHP" */
#define REGION_LARGE 0x4c4c4c47u     /* "LLLG" */
#define REGION_LARGE_FREED 0x4c4c4646u /* "LLFF": a freed large object's header in an arena */

/* Debug level: 0 none, 1 cheap asserts, 2 internal invariants. */
#ifndef LLAMA_DEBUG
#define LLAMA_DEBUG 0
#endif
#if LLAMA_DEBUG > 0
#define llama_assert(x) \
  ((x) ? (void)0 : llama_assert_fail(#x, __FILE__, __LINE__))
#else
#define llama_assert(x) ((void)0)
#endif

/* ---- Types --------------------------------------------------------------- */
typedef struct llama_block_s {
  struct llama_block_s *next;
} llama_block_t;

struct llama_heap_s;

/* Span kinds. */
enum { SPAN_UNUSED = 0, SPAN_BLOCKS = 1, SPAN_RUN = 2, SPAN_EXTENT = 3 };
/* Span flags: any flag set sends a local free to the generic path. */
enum {
  SPAN_IN_FULL = 1,  /* on its heap's full list */
  SPAN_INTERIOR = 2, /* handed out interior (aligned) pointers */
  SPAN_ABANDONED = 4, /* on the abandoned list (heap.c; written under its lock) */
};

/* Descriptor of a span, kept in the huge page header, one per unit (only the
 * first unit's descriptor of a span is used). One cache line; the fast paths
 * touch only the first 32 bytes. Owner-only fields are touched by the owning
 * thread, or by whoever holds the abandoned-span lock while it has no owner.
 * Offsets (bump, end) are from the huge page's base. */
typedef struct llama_span_s {
  llama_block_t *free;                  /* owner: free blocks */
  _Atomic(struct llama_heap_s *) heap;  /* owner; NULL when abandoned or a run */
  uint32_t used;        /* owner: blocks out (remote frees not yet collected count) */
  uint32_t block_size;  /* bytes per block (the object size for a run) */
  _Atomic uint8_t flags; /* SPAN_* flags: written by the owner, read by all */
  uint8_t kind;         /* SPAN_* kind */
  uint8_t bin;          /* bin this span serves (fixed while in use) */
  uint8_t size_class;   /* size class of the blocks */
  uint8_t units;        /* number of units in the span */
  uint8_t tail_clean;   /* blocks, owner: nothing past the carving mark's 4 KiB page is
                           resident (set by span trimming, heap.c; cleared by a new span) */
  uint8_t trim_skip;    /* blocks, owner: trim passes to skip (backoff after fruitless ones) */
  uint8_t trim_fails;   /* blocks, owner: fruitless trim attempts in a row */
  union {
    uint32_t bump;       /* blocks, owner: offset of the next never-used block */
    uint32_t live_bytes; /* extent chunk (extent.c, bin lock): bytes of used blocks */
  };
  uint32_t end;         /* offset one past the last block that fits */
  _Atomic(llama_block_t *) thread_free;  /* frees from other threads */
  struct llama_span_s *next, *prev;      /* heap list or abandoned list */
} __attribute__((aligned(64))) llama_span_t;

_Static_assert(sizeof(llama_span_t) == 64, "span descriptor is one cache line");

typedef struct llama_huge_page_s {
  uint32_t region_kind;     /* REGION_HUGE_PAGE */
  _Atomic uint32_t bin;     /* bin owning the page (written under bin locks) */
  uint64_t free_units;      /* bitmap, 1 = free (bin lock) */
  _Atomic uint32_t active_spans; /* spans that are some heap's current span */
  _Atomic uint64_t deadline_ns; /* promote if live past this and not active */
  struct llama_huge_page_s *next, *prev; /* the bin's page list (bin lock) */
  uint64_t purged_units;    /* free units given back with MADV_DONTNEED (bin lock) */
  uint64_t idle_units;      /* free units not carved since idle_since_ns (bin lock) */
  uint64_t idle_since_ns;   /* when idle_units were marked (bin lock) */
  _Atomic uint8_t huge;     /* backed by a huge page: written under the bin lock,
                               read racily by extent.c's purge */
  uint8_t want_huge;        /* dense: to be collapsed by maintenance (bin lock) */
  uint8_t collapse_retries; /* collapses that failed with EAGAIN since it became dense */
  uint8_t sparse;           /* holds sparse spans: stays on 4 KiB pages (bin lock) */
  uint8_t unit_head[UNITS_PER_HUGE_PAGE]; /* unit -> first unit of its span */
  llama_span_t spans[UNITS_PER_HUGE_PAGE]; /* 64-byte aligned */
} llama_huge_page_t;

_Static_assert(sizeof(llama_huge_page_t) <= HUGE_PAGE_HEADER_SIZE,
               "huge page header must fit its 8 KiB");

/* Header of a large object (large.c): at the start of its arena frames or
 * of its own mapping. */
typedef struct llama_large_s {
  uint32_t region_kind;     /* REGION_LARGE */
  uint32_t bin;
  size_t map_size;          /* bytes mapped, from base */
  size_t usable;            /* bytes usable from the user pointer */
  void *user;               /* the pointer handed out */
  struct llama_large_s *next_far, *prev_far; /* registry of >= 2 MiB-aligned */
  struct llama_large_s *next_all, *prev_all; /* every large object (accounting) */
  uint32_t scan_at_ms;      /* lazy huge frames: next mincore scan (far_lock) */
  uint8_t scan_shift;       /* scans back off: delay << shift */
  uint8_t scan_flags;       /* LARGE_SETTLED, LARGE_SCANNING, LARGE_FREE_PENDING */
  uint16_t dense_frames;    /* dense whole frames at the last scan */
} llama_large_t;
#define LARGE_SETTLED 1      /* no more scans */
#define LARGE_SCANNING 2     /* the maintenance scans it outside far_lock */
#define LARGE_FREE_PENDING 4 /* freed meanwhile: the scanner unmaps it */

/* Allocations counted by each heap, per bin and source of the class. Only
 * the owning thread writes them; live bytes are computed from the spans. */
enum { SOURCE_STATIC = 0, SOURCE_PREDICTED = 1, SOURCE_DEFAULT = 2, SOURCE_COUNT = 3 };

/* Empty current spans a heap may keep, and for how many slow paths. */
#define RETAINED_MAX 4
#define RETAINED_SLOW_PATHS 32

typedef struct llama_retained_s {
  struct llama_span_s *span;
  uint8_t bin, size_class;
  uint32_t since; /* heap slow_count when it emptied */
} llama_retained_t;

/* A heap's deferred frees of one (bin, size class) (heap.c, "Deferred
 * frees"): blocks the owner freed into its full spans while the class was
 * tight, not yet given back to their spans; the class's next allocations
 * take them. Together, so that the fast paths that push and pop them touch
 * one cache line. */
typedef struct llama_deferred_s {
  llama_block_t *head;
  uint8_t n;         /* blocks on the list (read racily by the statistics) */
  uint8_t limit;     /* LLAMA_DEFER_MAX where every span of the class holds more
                        blocks than that, else 0: the class never defers */
  uint8_t pick_skip; /* avail_pick's backoff; nonzero: the class is tight */
} llama_deferred_t;
#define LLAMA_DEFER_MAX 16

/* Puts a block on a class's deferred list (the free fast path, alloc.c,
 * and its slow twin, heap.c: one push for both). */
LLAMA_INLINE void llama_deferred_push(llama_deferred_t *d, llama_block_t *block) {
  block->next = d->head;
  d->head = block;
  d->n++;
}
#define LLAMA_SWEEP_PERIOD 256 /* slow paths (and deferred pops) between full sweeps */

typedef struct llama_heap_s {
  llama_span_t *current[LLAMA_NUM_BINS][SIZE_CLASS_COUNT];
  llama_span_t *avail[LLAMA_NUM_BINS][SIZE_CLASS_COUNT]; /* owned, has free */
  llama_span_t *full[LLAMA_NUM_BINS][SIZE_CLASS_COUNT];  /* owned, looked full */
  _Atomic uint8_t remote_pending[LLAMA_NUM_BINS][SIZE_CLASS_COUNT];
  uint32_t slow_count;          /* slow-path entries, drives full sweeps */
  uint32_t trim_tick;           /* alloc_slow_in entries, paces the span trim */
  uint64_t trimmed_ns;          /* when this heap last trimmed its current spans */
  uint64_t trimmed_all_ns;      /* ... and the spans on its avail lists */
  uint32_t retained_count;
  llama_retained_t retained[RETAINED_MAX]; /* oldest first */
  uint64_t allocations[LLAMA_NUM_BINS][SOURCE_COUNT];
  /* The dynamic path (predict.c): stack-cache hits and misses of this
   * thread, and nanoseconds spent in misses. Owner-written, like above. */
  uint64_t predict_hits, predict_misses, predict_ns;
  uint64_t span_switches;       /* slow paths that moved a class to another span */
  bool alive;                   /* owned by a live thread (or being given up, heap.c) */
  bool vacant;                  /* its thread exited; it keeps its spans for the next one */
  bool orphaned;                /* its thread vanished in fork(): never reused */
  uint64_t vacant_ns;           /* when it became vacant */
  struct llama_heap_s *next_all; /* every heap ever made (never freed) */
  llama_deferred_t deferred[LLAMA_NUM_BINS][SIZE_CLASS_COUNT];
} llama_heap_t;

/* ---- options.c ----------------------------------------------------------- */
typedef struct llama_options_s {
  int stats;               /* LLAMA_STATS: report at exit */
  unsigned stats_interval_ms; /* LLAMA_STATS_INTERVAL_MS: one accounting line this often */
  int verbose;             /* LLAMA_VERBOSE: warnings on stderr */
  unsigned default_bin;    /* LLAMA_DEFAULT_CLASS: bin of unclassified calls */
  unsigned huge_page_cache; /* LLAMA_HUGE_PAGE_CACHE: most empty pages kept warm */
  unsigned purge_delay_ms; /* LLAMA_PURGE_DELAY_MS: unmap warm pages idle this long */
  unsigned deadline_slack; /* LLAMA_DEADLINE_SLACK: deadline = slack x bound */
  int promote;             /* LLAMA_PROMOTE: move pages on missed deadlines */
  int huge_pages;          /* LLAMA_HUGE_PAGES: madvise(MADV_HUGEPAGE) */
  unsigned huge_page_units; /* LLAMA_HUGE_PAGE_UNITS: units in use before a page is
                               made huge (0: advise every page at mapping) */
  int purge_units;         /* LLAMA_PURGE_UNITS: decommit idle free units of held pages */
  unsigned purge_min_free_units; /* LLAMA_PURGE_MIN_FREE: free units that make a huge page sparse */
  unsigned eager_huge_pages; /* LLAMA_EAGER_HUGE_PAGES: pages a growing bin holds before its
                                new pages are faulted in huge (0: never) */
  int recycle;             /* LLAMA_RECYCLE: shorter classes fill longer classes' holes */
  int small_bins;          /* LLAMA_SMALL_BINS: small objects binned coarser (alloc.c) */
  unsigned extent_min;     /* LLAMA_EXTENT_MIN: larger requests (to 1 MiB) take best-fit
                              extents (extent.c); 0 turns extents off */
  int background;          /* LLAMA_BACKGROUND: a thread returns memory while idle */
  int predict;             /* LLAMA_PREDICT: 0 turns the dynamic path off */
  unsigned predict_depth;  /* LLAMA_PREDICT_DEPTH: return addresses captured (1..64) */
  unsigned predict_cache;  /* LLAMA_PREDICT_CACHE: stack-cache entries (power of 2) */
  const char *model_path;  /* LLAMA_MODEL: model file (points into environ) */
} llama_options_t;
extern llama_options_t llama_options;
void llama_options_init(void);
/* Lazy huge pages (LLAMA_HUGE_PAGE_UNITS != 0): small-object pages and large
 * objects' frames start on 4 KiB pages and are collapsed once dense. */
LLAMA_INLINE bool llama_lazy_huge(void) {
  return llama_options.huge_pages && llama_options.huge_page_units != 0;
}
/* LLAMA_PURGE_DELAY_MS in nanoseconds. */
LLAMA_INLINE uint64_t llama_purge_delay_ns(void) {
  return (uint64_t)llama_options.purge_delay_ms * 1000000ull;
}

/* ---- os.c ---------------------------------------------------------------- */
void *llama_os_map(size_t size);               /* NULL on failure */
void *llama_os_map_aligned(size_t size, size_t alignment, size_t *mapped);
void llama_os_unmap(void *p, size_t size);
void llama_os_decommit(void *p, size_t size);  /* MADV_DONTNEED */
void llama_os_hugepage_advise(void *p, size_t size);
/* Advises one huge page and asks the kernel to back it with a huge page now
 * (MADV_COLLAPSE, Linux 6.1+; without it khugepaged does so later). */
int llama_os_hugepage_collapse(void *p); /* 1 huge (now or soon), 0 no, -1 try again */
/* Faults an untouched 2 MiB page in huge (no 4 KiB faults, no copy).
 * Whether it is huge now (or, before Linux 6.1, advised); if not, it is
 * on 4 KiB pages, forbidden. */
bool llama_os_hugepage_fault_huge(void *p);
bool llama_os_thp_disabled(void);         /* prctl(PR_SET_THP_DISABLE) in force */
void llama_os_hugepage_forbid(void *p, size_t size); /* MADV_NOHUGEPAGE */
bool llama_os_residency(const void *p, size_t size, unsigned char *vec); /* mincore */
void llama_os_process_memory(uint64_t *rss, uint64_t *anon_huge); /* smaps_rollup */
uint64_t llama_now_ns(void);
uint64_t llama_coarse_ns(void); /* CLOCK_MONOTONIC_COARSE: at most a tick behind */
void llama_write_fd(int fd, const char *s, size_t n);
void llama_report(const char *msg, const char *detail);
void llama_assert_fail(const char *expr, const char *file, int line);
/* Small no-allocation formatting into a caller buffer. */
typedef struct llama_buf_s { char *p; size_t len, cap; } llama_buf_t;
void llama_buf_str(llama_buf_t *b, const char *s);
void llama_buf_u64(llama_buf_t *b, uint64_t v, int width);
void llama_buf_bytes(llama_buf_t *b, uint64_t v, int width); /* 12.3 MiB */

/* ---- hugepage.c ---------------------------------------------------------- */
llama_span_t *llama_span_acquire(unsigned bin, unsigned units);
llama_span_t *llama_span_acquire_sparse(unsigned bin);
llama_span_t *llama_span_acquire_range(unsigned bin, unsigned min_units, unsigned max_units);
void llama_span_release(llama_span_t *span);
bool llama_hugepages_decommit_in_span(llama_span_t *span, uint8_t *from, uint8_t *to);
void llama_huge_page_span_active(llama_span_t *span, bool active);
bool llama_hugepages_trim(bool force);
bool llama_hugepages_maintain(uint64_t now, bool force);
bool llama_hugepages_work_pending(void);
void llama_hugepages_work_taken(void); /* a maintenance pass begins */
void llama_hugepages_note_work(void); /* memory to return later: wake the thread */
/* Splits a huge page into 4 KiB pages when its free units plus
 * `other_free` bytes (idle free extents) reach LLAMA_PURGE_MIN_FREE units:
 * it turned sparse. True if it was split. */
bool llama_hugepages_break_sparse(llama_huge_page_t *page, uint64_t other_free);
/* Bins whose free space bin b may use, longest-lived first (recycling). */
unsigned llama_recycle_order(unsigned b, unsigned order[LLAMA_NUM_BINS]);
uint64_t llama_resident_bytes(const void *p, size_t size);
void llama_hugepages_fork_prepare(void);
void llama_hugepages_fork_parent(void);
void llama_hugepages_fork_child(void);
void llama_stats_line(int fd, uint64_t ms); /* LLAMA_STATS_INTERVAL_MS */
int llama_stats_fd(void);                 /* init.c: the reports' fd */
void llama_hugepages_bin_stats(unsigned bin, llama_bin_stats_t *out);
void llama_hugepages_global_stats(llama_stats_t *out);
void llama_hugepages_live(llama_stats_t *out);

LLAMA_INLINE llama_huge_page_t *llama_huge_page_of(const void *p) {
  return (llama_huge_page_t *)((uintptr_t)p & ~(uintptr_t)HUGE_PAGE_MASK);
}
LLAMA_INLINE llama_span_t *llama_span_of(llama_huge_page_t *page, const void *p) {
  unsigned unit = (unsigned)(((uintptr_t)p & HUGE_PAGE_MASK) >> UNIT_SHIFT);
  return &page->spans[page->unit_head[unit]];
}

LLAMA_INLINE unsigned llama_span_unit(const llama_span_t *span) {
  return (unsigned)(span - llama_huge_page_of(span)->spans);
}
LLAMA_INLINE uint8_t *llama_span_start(const llama_span_t *span) {
  unsigned unit = llama_span_unit(span);
  return (uint8_t *)llama_huge_page_of(span) +
         (unit == 0 ? HUGE_PAGE_HEADER_SIZE : (size_t)unit * UNIT_SIZE);
}

/* Flags are written only by the span's owner but read by remote freers
 * (SPAN_INTERIOR), hence relaxed atomics: plain moves on x86, no lock. */
LLAMA_INLINE uint8_t llama_span_flags(const llama_span_t *span) {
  return atomic_load_explicit(&span->flags, memory_order_relaxed);
}
LLAMA_INLINE void llama_span_set_flags(llama_span_t *span, uint8_t flags) {
  atomic_store_explicit(&span->flags, flags, memory_order_relaxed);
}

/* ---- heap.c -------------------------------------------------------------- */
/* The calling thread's heap; &llama_heap_empty (never NULL) until it has one. */
extern __thread llama_heap_t *llama_tls_heap
    __attribute__((tls_model("initial-exec")));
extern llama_span_t llama_empty_span;
extern llama_heap_t llama_heap_empty;
LLAMA_INLINE bool llama_heap_is_real(const llama_heap_t *heap) { return heap != &llama_heap_empty; }
llama_heap_t *llama_heap_init_thread(void);
void *llama_heap_alloc_slow(llama_heap_t *heap, unsigned bin, unsigned sc);
void llama_free_generic(llama_heap_t *heap, llama_span_t *span, void *p);
void llama_heap_collect(llama_heap_t *heap, bool force);
void llama_heap_trim_paced(llama_heap_t *heap);
/* Gives up vacant heaps that no new thread took within the purge delay
 * (all of them if force) and releases abandoned spans that emptied. True
 * while vacant heaps remain (the maintenance should look again). */
bool llama_heaps_maintain(uint64_t now, bool force);
void *llama_run_alloc(unsigned bin, size_t n);
size_t llama_block_usable(llama_span_t *span, const void *p);
void *llama_block_start(llama_span_t *span, const void *p);
void llama_span_emptied(llama_heap_t *heap, llama_span_t *span);
void llama_heaps_init(void);
void llama_heaps_lock(void);
void llama_heaps_unlock(void);
void llama_heaps_fork_prepare(void);
void llama_heaps_fork_parent(void);
void llama_heaps_fork_child(void);
llama_heap_t *llama_heaps_first(void);
void llama_heaps_account(llama_stats_t *out); /* heap metadata residency */

/* ---- extent.c (medium objects: best fit, coalescing, per bin) ------------ */
void *llama_extent_alloc(unsigned bin, size_t n); /* NULL when out of memory */
void llama_extent_free(llama_span_t *span, void *p);
size_t llama_extent_usable(const void *p);
/* Resizes the live extent at p to n bytes in place (grows into the free
 * block after it, or frees its tail); false, with nothing changed, when it
 * cannot. */
bool llama_extent_resize(llama_span_t *span, void *p, size_t n);
bool llama_extents_maintain(uint64_t now, bool force); /* purge idle free blocks */
void llama_extents_fork_prepare(void);
void llama_extents_fork_parent(void);
void llama_extents_fork_child(void);

/* ---- background.c (the thread that returns memory while idle) ----------- */
void llama_background_start(void);   /* lazily, on the first fresh page */
bool llama_background_running(void);
void llama_background_wake(void);    /* there is work: cheap when awake */
void llama_background_fork_prepare(void);
void llama_background_fork_parent(void);
void llama_background_fork_child(void);
/* All the memory-returning work (extents, then pages); true: more later. */
bool llama_memory_maintain(uint64_t now, bool force);

/* ---- large.c ------------------------------------------------------------- */
void *llama_large_alloc(unsigned bin, size_t n, size_t alignment, bool zero);
void llama_large_free(llama_large_t *large);
bool llama_large_resize(llama_large_t *large, size_t n); /* realloc in place */
llama_large_t *llama_large_find_far(const void *p);
void llama_large_fork_prepare(void);
void llama_large_fork_parent(void);
void llama_large_fork_child(void);
void llama_large_stats(llama_stats_t *out);
bool llama_large_maintain(uint64_t now, bool force); /* collapse dense frames */

/* ---- predict.c (the dynamic path; see predict.h) -------------------------- */
#define LLAMA_PREDICT_MAX_DEPTH 64
/* The use build's hint word (llama_abi.h: LLAMA_HINT_SYMBOL). */
extern __thread uint64_t __llama_hint_v1 __attribute__((tls_model("initial-exec")));
void llama_predict_init(void);  /* after initialisation: loads LLAMA_MODEL */
void llama_predict_fork_prepare(void);
void llama_predict_fork_parent(void);
void llama_predict_fork_child(void);
/* For the report: model name ("none" without one), cache use and size. */
const char *llama_predict_model_name(void);
void llama_predict_cache_use(uint64_t *entries, uint64_t *capacity);

/* ---- symtab.c (function names for the dynamic path's misses) -------------- */
typedef struct llama_symbol_s {
  const char *name; /* linkage name; NULL if the address is in no known function */
  bool outer;       /* in the C library or the dynamic loader (start-up frames) */
} llama_symbol_t;
/* Names the function holding each return address addrs[i] (looked up at
 * addrs[i] - 1), in order, and stops after the first frame named `stop`
 * (NULL: none): returns how many frames were named. Reads a module's
 * symbols the first time an address falls in it, and the module list again
 * (at most once per call) when an address lies in no known module and the
 * set of loaded modules changed. Uses open/pread/mmap only: no malloc, no
 * stdio. */
unsigned llama_symtab_lookup(const uintptr_t *addrs, unsigned n, llama_symbol_t *out,
                             const char *stop);
void llama_symtab_fork_prepare(void);
void llama_symtab_fork_parent(void);
void llama_symtab_fork_child(void);

/* ---- init.c (start-up, exit, fork) ---------------------------------------- */
void llama_init_slow(void);
extern _Atomic int llama_init_state; /* 0 none, 1 running, 2 done */

/* ---- alloc.c ------------------------------------------------------------- */
void llama_external_tags_init(void); /* hint tags of the external pseudo-sites */

/* ---- size classes (inline, used by heap.c and alloc.c) ------------------- */
/* Classes: 8 (0), 16..128 step 16 (1..8), then 4 per doubling up to
 * 128 KiB (48). Measured (the runtime's accounting, bench_lifetime at its peak): rounding
 * costs 6.2 MiB on 70.3 MiB requested; 8 classes per doubling cut that to
 * 3.1 MiB but raised free blocks in spans from 15.3 to 22.9 MiB (more partly
 * used spans), so 4 per doubling stays. */
extern uint8_t llama_small_class[1024 / 8 + 1]; /* (n + 7) / 8 -> class */

/* Small objects (n <= SMALL_SHARED_MAX) are binned coarser: classes 0..3
 * (dead within a second) share class 3's spans, classes 4..6 class 6's;
 * the unclassified bin keeps its own. They are few bytes (about 7% of
 * bench_lifetime's) but a partly used span per (bin, size class) each:
 * measured at bench_lifetime's peak, sharing cut RSS from 79.9 to 77.5-78.1
 * MiB and the final RSS from 25.3 to 23.1-23.6 (one bin for all small
 * objects: peak 77.5-77.9 but final 26.8-28.3). LLAMA_SMALL_BINS=0: exact
 * bins. Counters still count the class asked for. */
#define SMALL_SHARED_MAX 1024
extern uint8_t llama_small_bin[LLAMA_NUM_BINS];
void llama_size_classes_init(void);

/* Size classes: 8 (class 0, for requests of at most 8 bytes: no object that
 * small needs more than 8-byte alignment), then 16..128 by 16 (1..8), then
 * four per doubling up to 128 KiB (9..48). */
LLAMA_INLINE unsigned llama_size_class_compute(size_t n) {
  if (n <= 8) return 0;
  if (n <= 128) return 1u + (unsigned)((n - 1) >> 4);
  size_t m = n - 1;
  unsigned w = 63u - (unsigned)__builtin_clzll(m); /* floor(log2(n-1)) >= 7 */
  return 9u + (w - 7u) * 4u + (unsigned)((m >> (w - 2u)) & 3u);
}
/* Size class of n <= MEDIUM_SPAN_MAX: a table lookup up to 1 KiB. */
LLAMA_INLINE unsigned llama_size_class(size_t n) {
  if (LLAMA_LIKELY(n <= 1024)) return llama_small_class[(n + 7) >> 3];
  return llama_size_class_compute(n);
}
LLAMA_INLINE size_t llama_class_size(unsigned sc) {
  if (sc == 0) return 8;
  if (sc < 9) return (size_t)sc * 16;
  unsigned w = 7u + (sc - 9u) / 4u, sub = (sc - 9u) % 4u;
  return (size_t)(4u + sub + 1u) << (w - 2u);
}
/* Units of a span of class sc: room for about SPAN_MIN_BLOCKS blocks. */
LLAMA_INLINE unsigned llama_class_units(unsigned sc) {
  return (unsigned)((SPAN_MIN_BLOCKS * llama_class_size(sc) + UNIT_SIZE - 1) >> UNIT_SHIFT);
}

#endif /* LLAMA_INTERNAL_H */
