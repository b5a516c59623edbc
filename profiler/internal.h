/* internal.h - types and cross-file names of libllamaprof, the profiler
 * runtime of the profiling build.
 *
 * The pass rewrites every allocation call `malloc(n)` into
 * `__llama_prof_malloc(n, site)` (include/llama/abi.h). Each entry point
 * counts the call in its site descriptor, serves it with the real function
 * and, every ~LLAMA_PROF_SAMPLE allocations of a thread (geometric intervals),
 * records a sample: site, size, allocation time and thread, calling context.
 * Sampled pointers stay in a live set until a deallocation (instrumented or
 * interposed) ends their lifetime; the profile is written at exit.
 *
 *   llamaprof.h            public API (llama_prof_dump), installed
 *   internal.h             this file: cross-file names, by defining file
 *   entry.c, new_entry.cc  entry points of the X-macro (C, C++ operator new)
 *   external.c             malloc & co. for uninstrumented callers; the
 *                          external pseudo-sites
 *   external_new.cc        operator new for uninstrumented callers;
 *                          llama_prof_forward_new (the real operator new)
 *   interpose.c            free/realloc/reallocarray/operator delete for
 *                          uninstrumented callers
 *   real.c                 the real functions: resolver, table of resolved
 *                          pointers, bootstrap arena
 *   sample.c               per-thread countdown, sample records, lifetimes
 *   counters.c             per-thread caches of the site counters
 *   live.c                 live set of sampled pointers (lock-free lookup)
 *   stack.c                calling-context capture and stack dedup
 *   core.c                 init, site registration, atexit, fork
 *   write.c                raw profile image and atomic publication
 *   options.c, os.c        environment options; OS primitives, reporting
 *   CMakeLists.txt         libllamaprof.so and libllamaprof.a
 *
 * Dependencies point one way, downwards:
 *   entry, new_entry, interpose, external, external_new   (called by the
 *     program; new_entry -> external_new for llama_prof_forward_new,
 *     interpose and external_new -> external for the pseudo-sites)
 *   -> sample, counters -> live, stack -> options, os
 *   -> real (the process's own functions; uses only the thread state)
 * real.c calls none of the files above it: it takes the addresses of the
 * interposers' hidden aliases (llama_prof_own_*) only to skip them when
 * resolving. core and write sit beside the chain (init, lock, dump).
 *
 * Names are grouped below by the file that defines them. Every cross-file
 * name starts with llama_prof_ (the archive can be linked next to
 * libllamalloc.a and user code); everything else is static.
 */
#ifndef LLAMA_PROF_INTERNAL_H
#define LLAMA_PROF_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "llama/abi.h"
#include "llama/raw_profile.h"
#include "llama/version.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LLAMA_PROF_EXPORT __attribute__((visibility("default")))
#define LLAMA_PROF_LIKELY(x) __builtin_expect(!!(x), 1)
#define LLAMA_PROF_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define LLAMA_PROF_NOINLINE __attribute__((noinline))
#define LLAMA_PROF_INLINE static inline __attribute__((always_inline))

#define LLAMA_PROF_VERSION "libllamaprof " LLAMA_VERSION_STRING

/* Defaults of the options (options.c, docs/profile-format.md). The sampling
 * period is the mean number of allocations of a thread between two samples;
 * 1 samples every allocation, 0 samples nothing (counts only). */
#define LLAMA_PROF_DEFAULT_SAMPLE 100
#define LLAMA_PROF_DEFAULT_DEPTH 32
#define LLAMA_PROF_MAX_DEPTH 64
#define LLAMA_PROF_DEFAULT_MAX_SAMPLES ((uint64_t)1 << 23)
#define LLAMA_PROF_LIMIT_MAX_SAMPLES ((uint64_t)1 << 28)
#define LLAMA_PROF_DEFAULT_FILE "llama-%p.profraw"

/* ---- options.c ----------------------------------------------------------- */
enum llama_prof_unwinder { LLAMA_PROF_UNWIND_FP = 0, LLAMA_PROF_UNWIND_LIBUNWIND = 1 };

typedef struct llama_prof_options_s {
  uint64_t sample_period; /* LLAMA_PROF_SAMPLE */
  uint32_t depth;         /* LLAMA_PROF_DEPTH, 1..LLAMA_PROF_MAX_DEPTH */
  uint32_t unwinder;      /* LLAMA_PROF_UNWIND: enum llama_prof_unwinder */
  uint32_t verbose;       /* LLAMA_PROF_VERBOSE */
  uint64_t max_samples;   /* LLAMA_PROF_MAX_SAMPLES */
  uint32_t external;      /* LLAMA_PROF_EXTERNAL: record allocations from
                             uninstrumented code (external.c) */
  const char *file;       /* LLAMA_PROF_FILE, made absolute at start-up */
} llama_prof_options_t;

extern llama_prof_options_t llama_prof_options;
void llama_prof_options_read(void);

/* ---- os.c ---------------------------------------------------------------- */
void *llama_prof_map(size_t size); /* zeroed pages, NULL on failure */
void llama_prof_unmap(void *p, size_t size);
uint64_t llama_prof_now_ns(void); /* CLOCK_MONOTONIC */
uint32_t llama_prof_gettid(void);
/* write(2) until done; 0 or -1 with errno. */
int llama_prof_write_all(int fd, const void *data, size_t len);
/* "llama-prof: <msg>[ <detail>][: strerror(err)]\n" on stderr, at most a
 * few dozen times per process. err 0 = no strerror part. */
void llama_prof_report(const char *msg, const char *detail, int err);

/* A bounded string builder over a caller's buffer; never allocates.
 * Output that does not fit is dropped (len stops at cap - 1). */
typedef struct llama_prof_str_s {
  char *p;
  size_t len, cap;
} llama_prof_str_t;
void llama_prof_str_add(llama_prof_str_t *s, const char *text);
void llama_prof_str_addn(llama_prof_str_t *s, const char *text, size_t n);
void llama_prof_str_u64(llama_prof_str_t *s, uint64_t v);

/* A growable byte buffer in its own mapping (mremap); for the dump. */
typedef struct llama_prof_buf_s {
  unsigned char *p;
  size_t len, cap;
  int failed;
} llama_prof_buf_t;
void llama_prof_buf_put(llama_prof_buf_t *b, const void *data, size_t n);
void llama_prof_buf_free(llama_prof_buf_t *b);

/* ---- sample.c: per-thread state and the sampling decision ----------------- */
typedef struct llama_prof_thread_s {
  int64_t countdown;   /* allocations left before the next sample */
  uint64_t rng;        /* xorshift state */
  uintptr_t stack_lo;  /* this thread's stack, [lo, top) (llama/stack.h); */
  uintptr_t stack_top; /* top 0 if unknown (frame walks stop at [0]) */
  uint32_t tid;
  uint8_t in_profiler; /* recursion guard: profiler code below us */
  uint8_t initialized;
  uint8_t resolving; /* real.c: resolving a real function */
  uint8_t forwarding; /* external.c: inside a real allocation function,
                         whose own calls of malloc & co. (libstdc++'s
                         operator new calling malloc) are not counted */
  struct llama_prof_counters_s *counters; /* counters.c */
} llama_prof_thread_t;

extern __thread llama_prof_thread_t llama_prof_thread __attribute__((tls_model("initial-exec")));

/* The slow path of the countdown: returns nonzero if this allocation is to
 * be sampled, and draws the next interval. Initialises the thread on its
 * first call. */
int llama_prof_sample_now(void);
/* Records a sampled allocation `p` of `size` bytes at `site`. `ret` is the
 * return address into the function holding the site, `frame` that
 * function's frame pointer (the saved frame pointer of the entry point). */
void llama_prof_record_alloc(void *p, uint64_t size, const struct llama_site *site, void *ret,
                             void *frame);
/* Ends the lifetime of sampled pointer `p` (if it still is one): free site
 * id (0 = uninstrumented), LLAMA_RAW_S_* flags to add. */
void llama_prof_record_free(void *p, uint64_t free_site_id, uint32_t flags);
/* realloc support: removes `p` from the live set and returns its sample
 * index + 1 (0 if not sampled); the lifetime is then ended with
 * llama_prof_sample_end or given back with llama_prof_sample_restore. */
uint64_t llama_prof_take(void *p);
void llama_prof_sample_end(uint64_t taken, uint64_t free_site_id, uint32_t flags);
void llama_prof_sample_restore(void *p, uint64_t taken);
/* Called with llama_prof_lock held by the dump: sample records. */
uint64_t llama_prof_sample_count(void);
const struct llama_raw_sample *llama_prof_sample_at(uint64_t index);
uint64_t llama_prof_samples_dropped(void);
void llama_prof_sample_fork_child(void);

/* The fast path of the sampling decision: one TLS decrement. Nonzero = do
 * not sample. */
LLAMA_PROF_INLINE int llama_prof_skip(void) { return --llama_prof_thread.countdown > 0; }

/* The context an entry point passes to llama_prof_record_alloc. */
#define LLAMA_PROF_CALLER_RET() __builtin_return_address(0)
#define LLAMA_PROF_CALLER_FRAME() (*(void *const *)__builtin_frame_address(0))

/* ---- counters.c: per-thread caches of the site counters ------------------ */
/* A relaxed atomic add on a site descriptor that several threads hit costs
 * ~100 ns per call under contention (the line moves between cores), so
 * each thread counts in a small direct-mapped cache of (site, count,
 * bytes), indexed by the descriptor's address; an entry is added to its
 * site (relaxed atomic adds) when another site takes its slot and when the
 * thread exits. Caches stay registered, so the dump adds what they hold. */
#define LLAMA_PROF_COUNTER_SLOTS 256

typedef struct llama_prof_counter_s {
  struct llama_site *site; /* atomic (owner writes, dump reads) */
  uint64_t count;          /* atomic, ditto */
  uint64_t bytes;          /* atomic, ditto */
} llama_prof_counter_t;

typedef struct llama_prof_counters_s {
  llama_prof_counter_t slot[LLAMA_PROF_COUNTER_SLOTS];
  struct llama_prof_counters_s *next_all;  /* every cache, under the lock */
  struct llama_prof_counters_s *next_free; /* released by exited threads */
} llama_prof_counters_t;

void llama_prof_count_slow(const struct llama_site *site, uint64_t bytes);
void llama_prof_counters_init(void);
void llama_prof_counters_fork_child(void);

/* Counts one call through `site` that asked for `bytes` (every call,
 * sampled or not): a TLS load, a compare and two owner-only increments. */
LLAMA_PROF_INLINE void llama_prof_count(const struct llama_site *site, uint64_t bytes) {
  llama_prof_counters_t *c = llama_prof_thread.counters;
  if (LLAMA_PROF_LIKELY(c)) {
    llama_prof_counter_t *e = &c->slot[((uintptr_t)site >> 6) & (LLAMA_PROF_COUNTER_SLOTS - 1)];
    if (LLAMA_PROF_LIKELY(__atomic_load_n(&e->site, __ATOMIC_RELAXED) == site)) {
      __atomic_store_n(&e->count, __atomic_load_n(&e->count, __ATOMIC_RELAXED) + 1,
                       __ATOMIC_RELAXED);
      __atomic_store_n(&e->bytes, __atomic_load_n(&e->bytes, __ATOMIC_RELAXED) + bytes,
                       __ATOMIC_RELAXED);
      return;
    }
  }
  llama_prof_count_slow(site, bytes);
}

/* Deallocation sites count calls only. */
#define llama_prof_count_call(site) llama_prof_count(site, 0)

/* Under llama_prof_lock, for the dump: what the caches hold for each site
 * (a map from descriptor address to pending count and bytes). Counts of
 * threads running during the dump are as of some moment during it. */
typedef struct llama_prof_pending_s {
  struct llama_prof_pending_entry_s *entries;
  uint64_t mask;
  size_t bytes;
} llama_prof_pending_t;
int llama_prof_pending_collect(llama_prof_pending_t *pending);
void llama_prof_pending_get(const llama_prof_pending_t *pending, const struct llama_site *site,
                            uint64_t *count, uint64_t *bytes);
void llama_prof_pending_free(llama_prof_pending_t *pending);

/* ---- live.c: the set of live sampled pointers ----------------------------- */
/* Open addressing with linear probing and backward-shift deletion. Lookups
 * (every free in the process) take no lock: they read the keys with relaxed
 * atomics inside a sequence-lock window that deletions with moves bump, so a
 * miss is O(1) and never blocks. Insertions, deletions and growth happen
 * under llama_prof_lock. Tables replaced by growth stay mapped (a reader may
 * still probe them), at most as much again as the current one. */
typedef struct llama_prof_live_table_s {
  uint64_t mask;  /* capacity - 1 */
  uint32_t shift; /* 64 - log2(capacity) */
  uint32_t pad[13]; /* the header is read-only once published and read by
                       every free: it has its cache line to itself */
  uintptr_t keys[]; /* pointers, 0 = empty; atomic. Then `capacity`
                       uint64_t sample indexes (live.c): lookups touch
                       only the dense key array */
} llama_prof_live_table_t;

extern llama_prof_live_table_t *llama_prof_live_current; /* atomic */
extern uint64_t llama_prof_live_seq;                      /* atomic, odd while moving */

LLAMA_PROF_INLINE uint64_t llama_prof_live_hash(uintptr_t p) {
  return (p >> 4) * UINT64_C(0x9e3779b97f4a7c15);
}

/* Nonzero if `p` may be a live sampled pointer: a miss is exact, a hit must
 * be confirmed under the lock (llama_prof_live_remove). */
LLAMA_PROF_INLINE int llama_prof_live_maybe(const void *p) {
  uintptr_t key = (uintptr_t)p;
  for (;;) {
    uint64_t seq = __atomic_load_n(&llama_prof_live_seq, __ATOMIC_ACQUIRE);
    llama_prof_live_table_t *t = __atomic_load_n(&llama_prof_live_current, __ATOMIC_ACQUIRE);
    if (LLAMA_PROF_LIKELY(!t)) return 0;
    if (LLAMA_PROF_UNLIKELY(seq & 1)) {
#if defined(__x86_64__) || defined(__i386__)
      __builtin_ia32_pause();
#endif
      continue;
    }
    uint64_t i = llama_prof_live_hash(key) >> t->shift;
    for (uint64_t n = 0; n <= t->mask; n++) {
      uintptr_t k = __atomic_load_n(&t->keys[i], __ATOMIC_RELAXED);
      if (k == key) return 1;
      if (!k) break;
      i = (i + 1) & t->mask;
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&llama_prof_live_seq, __ATOMIC_RELAXED) == seq) return 0;
  }
}

/* Under llama_prof_lock. Insert returns the previous value + 1 if `p` was
 * already there (a sampled object whose free we did not see), else 0;
 * remove returns the value + 1, or 0 if absent. */
uint64_t llama_prof_live_insert(const void *p, uint64_t value);
uint64_t llama_prof_live_remove(const void *p);
void llama_prof_live_fork_child(void);

/* ---- stack.c: calling contexts ------------------------------------------ */
/* Captures up to llama_prof_options.depth return addresses, [0] = ret. */
uint32_t llama_prof_stack_capture(uint64_t *frames, void *ret, void *frame);
/* The same for an external allocation, whose caller was built without the
 * pass and usually without frame pointers: DWARF unwinding (libunwind, or
 * libgcc's _Unwind_Backtrace without it); frame pointers only when neither
 * can be loaded. */
uint32_t llama_prof_stack_capture_external(uint64_t *frames, void *ret, void *frame);
uint64_t llama_prof_stack_hash(const uint64_t *frames, uint32_t depth);
/* Under llama_prof_lock: the id (1-based) of this stack, 0 if out of memory. */
uint32_t llama_prof_stack_intern(const uint64_t *frames, uint32_t depth, uint64_t hash);
uint32_t llama_prof_stack_count(void);
/* Under the lock: stack `id` (1..count); returns its frames. */
const uint64_t *llama_prof_stack_get(uint32_t id, uint32_t *depth);
void llama_prof_stack_fork_child(void);
/* Loads libunwind if LLAMA_PROF_UNWIND=libunwind; falls back to frame
 * pointers (with a warning) when it cannot. */
void llama_prof_stack_init(void);
/* The calling thread's stack [*lo, *top); *top = 0 if unknown. */
void llama_prof_stack_bounds(uintptr_t *lo, uintptr_t *top);
const char *llama_prof_unwinder_name(void);

/* ---- core.c -------------------------------------------------------------- */
/* One lock for every profiler structure that changes (samples, live set,
 * stacks, registrations). Taken only on sampled events, registration and
 * the dump. */
extern pthread_mutex_t llama_prof_lock;
extern uint64_t llama_prof_start_ns;
extern uint32_t llama_prof_flags; /* LLAMA_RAW_F_FORKED after fork */
void llama_prof_init(void);        /* idempotent; cheap once done */
int llama_prof_ready(void);        /* init has completed */
typedef struct llama_prof_module_sites_s {
  struct llama_site *sites;
  uint64_t count;
} llama_prof_module_sites_t;
/* Under the lock: the registered site arrays. */
const llama_prof_module_sites_t *llama_prof_registrations(uint64_t *count);
/* Serialises dumps (held across the file write, and across fork). */
void llama_prof_dump_lock(void);
void llama_prof_dump_unlock(void);

/* ---- real.c: the process's own allocation functions ---------------------- */
/* Every function libllamaprof defines in place of the process's, as
 * X(INDEX, symbol): the C functions, operator delete in the order of
 * enum llama_prof_delete_kind, operator new in the order of the
 * LLAMA_KIND_NEW... kinds. */
#define LLAMA_PROF_REAL_C_FUNCTIONS(X)                                          \
  X(MALLOC, malloc)                                                           \
  X(CALLOC, calloc)                                                           \
  X(REALLOC, realloc)                                                         \
  X(REALLOCARRAY, reallocarray)                                               \
  X(ALIGNED_ALLOC, aligned_alloc)                                             \
  X(POSIX_MEMALIGN, posix_memalign)                                           \
  X(MEMALIGN, memalign)                                                       \
  X(VALLOC, valloc)                                                           \
  X(PVALLOC, pvalloc)                                                         \
  X(FREE, free)                                                               \
  X(DELETE_PLAIN, _ZdlPv)                        /* (void *) */               \
  X(DELETE_ARRAY, _ZdaPv)                        /* (void *) */               \
  X(DELETE_SIZED, _ZdlPvm)                       /* (void *, size_t) */       \
  X(DELETE_ARRAY_SIZED, _ZdaPvm)                                              \
  X(DELETE_ALIGNED, _ZdlPvSt11align_val_t)       /* (void *, align_val_t) */  \
  X(DELETE_ARRAY_ALIGNED, _ZdaPvSt11align_val_t)                              \
  X(DELETE_SIZED_ALIGNED, _ZdlPvmSt11align_val_t) /* (void *, size_t, align_val_t) */ \
  X(DELETE_ARRAY_SIZED_ALIGNED, _ZdaPvmSt11align_val_t)                       \
  X(DELETE_NOTHROW, _ZdlPvRKSt9nothrow_t)        /* (void *, const nothrow_t &) */ \
  X(DELETE_ARRAY_NOTHROW, _ZdaPvRKSt9nothrow_t)                               \
  X(DELETE_ALIGNED_NOTHROW, _ZdlPvSt11align_val_tRKSt9nothrow_t)              \
  X(DELETE_ARRAY_ALIGNED_NOTHROW, _ZdaPvSt11align_val_tRKSt9nothrow_t)
#define LLAMA_PROF_REAL_NEW_FUNCTIONS(X)                                      \
  X(NEW, _Znwm)                                                               \
  X(NEW_ARRAY, _Znam)                                                         \
  X(NEW_NOTHROW, _ZnwmRKSt9nothrow_t)                                         \
  X(NEW_ARRAY_NOTHROW, _ZnamRKSt9nothrow_t)                                   \
  X(NEW_ALIGNED, _ZnwmSt11align_val_t)                                        \
  X(NEW_ARRAY_ALIGNED, _ZnamSt11align_val_t)                                  \
  X(NEW_ALIGNED_NOTHROW, _ZnwmSt11align_val_tRKSt9nothrow_t)                  \
  X(NEW_ARRAY_ALIGNED_NOTHROW, _ZnamSt11align_val_tRKSt9nothrow_t)
#define LLAMA_PROF_REAL_FUNCTIONS(X) LLAMA_PROF_REAL_C_FUNCTIONS(X) LLAMA_PROF_REAL_NEW_FUNCTIONS(X)

enum llama_prof_real_index {
#define LLAMA_PROF_REAL_INDEX(index, symbol) LLAMA_PROF_REAL_##index,
  LLAMA_PROF_REAL_FUNCTIONS(LLAMA_PROF_REAL_INDEX)
#undef LLAMA_PROF_REAL_INDEX
  LLAMA_PROF_REAL_COUNT
};

/* operator delete of each kind, LLAMA_PROF_REAL_DELETE_PLAIN + kind. */
enum llama_prof_delete_kind {
  LLAMA_PROF_DEL_PLAIN,
  LLAMA_PROF_DEL_ARRAY,
  LLAMA_PROF_DEL_SIZED,
  LLAMA_PROF_DEL_ARRAY_SIZED,
  LLAMA_PROF_DEL_ALIGNED,
  LLAMA_PROF_DEL_ARRAY_ALIGNED,
  LLAMA_PROF_DEL_SIZED_ALIGNED,
  LLAMA_PROF_DEL_ARRAY_SIZED_ALIGNED,
  LLAMA_PROF_DEL_NOTHROW,
  LLAMA_PROF_DEL_ARRAY_NOTHROW,
  LLAMA_PROF_DEL_ALIGNED_NOTHROW,
  LLAMA_PROF_DEL_ARRAY_ALIGNED_NOTHROW,
  LLAMA_PROF_DEL_COUNT
};

/* Our own definitions of those functions, by hidden aliases defined next
 * to them (external.c, external_new.cc, interpose.c), whose addresses are
 * local: the resolver compares with them to skip ours. Never called
 * through these names. */
#define LLAMA_PROF_OWN_DECLARE(index, symbol) \
  void llama_prof_own_##index(void) __attribute__((visibility("hidden")));
LLAMA_PROF_REAL_C_FUNCTIONS(LLAMA_PROF_OWN_DECLARE)
#undef LLAMA_PROF_OWN_DECLARE
/* Weak references: they do not pull external_new.cc, and libstdc++ with
 * it, into a C program linked with libllamaprof.a (0 there, where no
 * operator new is ours). */
#define LLAMA_PROF_OWN_DECLARE_WEAK(index, symbol) \
  void llama_prof_own_##index(void) __attribute__((weak, visibility("hidden")));
LLAMA_PROF_REAL_NEW_FUNCTIONS(LLAMA_PROF_OWN_DECLARE_WEAK)
#undef LLAMA_PROF_OWN_DECLARE_WEAK
/* Defines llama_prof_own_<INDEX>, the alias of `symbol`, which the same
 * file defines. */
#define LLAMA_PROF_OWN_ALIAS(index, symbol) \
  void llama_prof_own_##index(void) __attribute__((alias(#symbol), visibility("hidden")));

/* The real function LLAMA_PROF_REAL_<index>: the first definition that
 * precedes libllamaprof in symbol resolution order, else the next one
 * after it. Resolved on first use and kept; NULL inside the resolution or
 * when no module defines it. */
void *llama_prof_real_function(int index);
void llama_prof_real_init(void); /* resolves them all; called by init */

/* Forwarders to the real functions. An allocation made while they are
 * being resolved (dlsym allocating) is served from a small static
 * bootstrap arena whose blocks are never freed: free, realloc and
 * operator delete recognise them. A free made inside the resolution is
 * leaked. */
void *llama_prof_real_malloc(size_t n);
void *llama_prof_real_calloc(size_t count, size_t size);
void *llama_prof_real_realloc(void *p, size_t n);
void *llama_prof_real_reallocarray(void *p, size_t count, size_t size);
void *llama_prof_real_aligned_alloc(size_t alignment, size_t n);
int llama_prof_real_posix_memalign(void **out, size_t alignment, size_t n);
void *llama_prof_real_memalign(size_t alignment, size_t n);
void *llama_prof_real_valloc(size_t n);
void *llama_prof_real_pvalloc(size_t n);
void llama_prof_real_free(void *p);
/* The real operator delete of `kind` (a, b: its extra arguments), or the
 * real free when the process has no C++ runtime. */
void llama_prof_real_delete(int kind, void *p, uintptr_t a, uintptr_t b);

void *llama_prof_boot_alloc(size_t n, size_t alignment); /* NULL when full */
#define LLAMA_PROF_BOOT_SIZE ((size_t)128 << 10)
extern unsigned char llama_prof_boot_arena[LLAMA_PROF_BOOT_SIZE];
LLAMA_PROF_INLINE int llama_prof_boot_owns(const void *p) {
  return (uintptr_t)p - (uintptr_t)llama_prof_boot_arena < LLAMA_PROF_BOOT_SIZE;
}

/* ---- external.c, external_new.cc: allocations from uninstrumented code --- */
/* The interposed malloc & co. and operator new record calls from code the
 * pass did not rewrite under one pseudo-site per kind (include/llama/abi.h,
 * "External allocations"). The descriptors live in
 * llama_prof_external_sites, indexed by llama_prof_external_index(kind). */
enum llama_prof_external_index {
  LLAMA_PROF_EXT_MALLOC,
  LLAMA_PROF_EXT_CALLOC,
  LLAMA_PROF_EXT_REALLOC,
  LLAMA_PROF_EXT_REALLOCARRAY,
  LLAMA_PROF_EXT_ALIGNED_ALLOC,
  LLAMA_PROF_EXT_POSIX_MEMALIGN,
  LLAMA_PROF_EXT_MEMALIGN,
  LLAMA_PROF_EXT_VALLOC,
  LLAMA_PROF_EXT_PVALLOC,
  LLAMA_PROF_EXT_NEW, /* + kind - LLAMA_KIND_NEW for the 8 operator new kinds */
  LLAMA_PROF_EXT_COUNT = LLAMA_PROF_EXT_NEW + 8
};
extern struct llama_site llama_prof_external_sites[LLAMA_PROF_EXT_COUNT];
/* Nonzero while external allocations are recorded (LLAMA_PROF_EXTERNAL). */
extern int llama_prof_external_on;
void llama_prof_external_init(void); /* ids; called first thing by init */

/* Nonzero if an allocation by the calling thread's caller is to be
 * recorded at an external pseudo-site: not made below the profiler or
 * inside a real allocation function. */
LLAMA_PROF_INLINE int llama_prof_external_wanted(const llama_prof_thread_t *t) {
  return LLAMA_PROF_LIKELY(!(t->in_profiler | t->forwarding)) &&
         LLAMA_PROF_LIKELY(__atomic_load_n(&llama_prof_external_on, __ATOMIC_RELAXED));
}
/* The sampling decision of an external allocation: like an instrumented
 * site's, but an allocation made before the profiler has started (ld.so,
 * other libraries' constructors) never starts it from here. */
int llama_prof_sample_now_external(void);
#define LLAMA_PROF_EXTERNAL_SAMPLED() \
  LLAMA_PROF_UNLIKELY(!llama_prof_skip() && llama_prof_sample_now_external())

/* operator new of `kind` (LLAMA_KIND_NEW...): the real one, with the
 * thread's forwarding guard set; throws what it throws. */
void *llama_prof_forward_new(unsigned kind, size_t n, size_t alignment);

/* ---- write.c ------------------------------------------------------------- */
/* Writes a profile to `pattern` (NULL = LLAMA_PROF_FILE or the default);
 * 0 or -1 with errno. Reports the outcome on stderr as documented. */
int llama_prof_write(const char *pattern, uint32_t flags);
void llama_prof_write_fork_child(void);

#ifdef __cplusplus
}
#endif

#endif /* LLAMA_PROF_INTERNAL_H */
