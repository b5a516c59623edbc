/* predict.c - the dynamic path of the use build: a lifetime class for an
 * allocation the compiler could not classify (plain malloc & co. from code
 * that was not rebuilt, LLAMA_CLASS_UNKNOWN, a hinted site whose hint did not
 * match), as in the LLAMA paper: capture the stack, hash it, look the hash up
 * in a cache, and run the model on a miss.
 *
 *   capture   up to LLAMA_PREDICT_DEPTH return addresses by frame pointers,
 *             [0] the return address into the caller of the exported entry
 *             point. The entry point tail-calls (musttail) a function that
 *             takes its own frame address, so that frame's record holds [0]
 *             and its saved frame pointer is the caller's. A frame pointer is
 *             followed only while it stays in the thread's stack, is 8-byte
 *             aligned and strictly increases (as in the profiler), so code
 *             without frame pointers ends the walk instead of faulting.
 *   cache     open addressing over 64-bit words (1024 at first, doubling
 *             when half full up to LLAMA_PREDICT_CACHE), each
 *             (hash with its low 4 bits cleared) | (class + 1); 0 is empty.
 *             One word per entry: a reader never sees a torn entry, an insert
 *             is one CAS, nothing is ever removed. Up to 8 probes; when they
 *             are all taken the table doubles, and only a table at its
 *             largest leaves the class uncached.
 *   miss      symbolise each address (symtab.c), cut the frames the profile
 *             never has (below main, the C library's start-up and thread-start
 *             frames), encode as the model was trained, predict, cache. Timed
 *             with CLOCK_MONOTONIC for the statistics.
 *
 * A thread-local guard makes every allocation made while a miss is handled
 * (pthread_getattr_np of another thread than main, the symbol tables'
 * loader) take the default bin instead of recursing.
 *
 * The model comes from LLAMA_MODEL=PATH (opened and mapped at
 * initialisation) or from the use build's embedded copy, registered by a
 * constructor through __llama_model_register_v1. Without a model the whole
 * path is one relaxed load and a never-taken branch in each entry point. */
#include "internal.h"
#include "predict.h"
#include "llama/abi.h"
#include "llama/stack.h"
#include "../model/llama_model.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The hint word of the use build (llama_abi.h). Initial-exec TLS: callers
 * in the executable and in libraries loaded at start-up reach it with one
 * %fs-relative access. */
LLAMA_EXPORT __thread uint64_t __llama_hint_v1 __attribute__((tls_model("initial-exec")));
_Static_assert(sizeof(LLAMA_HINT_SYMBOL) == sizeof("__llama_hint_v1"), "hint symbol name");

int llama_predict_on;

static struct llama_model model;   /* valid once model_state == 2 */
static _Atomic int model_state;    /* 0 none, 1 being set, 2 published */
static char model_name[128] = "none";
/* The prediction cache: a table of 64-bit words that doubles from
 * CACHE_FIRST words up to LLAMA_PREDICT_CACHE. It grows so that a program
 * with a few dozen unclassified stacks (a use build) touches a few pages, not
 * 512 KiB of randomly hashed slots (measured: 240 KiB of the SQLite shell's
 * RSS). */
typedef struct cache_table_s {
  uint64_t mask;
  _Atomic uint64_t used;
  _Atomic(uint64_t) words[];
} cache_table_t;
#define CACHE_FIRST 1024
static _Atomic(cache_table_t *) cache;
static unsigned depth;             /* llama_options.predict_depth */
static pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;

/* Per-thread state of the dynamic path. */
typedef struct predict_tls_s {
  int busy;            /* inside a miss: allocations take the default bin */
  uintptr_t stack_lo;  /* this thread's stack (llama/stack.h): */
  uintptr_t stack_hi;  /* [lo, hi); 0 = not yet known, 1 = unknown */
} predict_tls_t;
static __thread predict_tls_t tls __attribute__((tls_model("initial-exec")));

/* ---- messages ------------------------------------------------------------------ */

/* One line on stderr, always (these are configuration errors the user must
 * see): "llamalloc: " and the pieces up to the first NULL. */
static void say(const char *a, const char *b, const char *c, const char *d, const char *e) {
  const char *parts[] = {a, b, c, d, e};
  char buf[512];
  llama_buf_t m = {buf, 0, sizeof buf - 1};
  llama_buf_str(&m, "llamalloc: ");
  for (unsigned i = 0; i < 5 && parts[i]; i++) llama_buf_str(&m, parts[i]);
  m.cap = sizeof buf;
  llama_buf_str(&m, "\n");
  llama_write_fd(2, m.p, m.len);
}

/* strerror() may allocate (translations); these are the causes that matter. */
static const char *errno_text(int e, char *buf, size_t cap) {
  switch (e) {
  case ENOENT: return "no such file";
  case EACCES: return "permission denied";
  case EISDIR: return "is a directory";
  case ENOMEM: return "out of memory";
  case ENODEV: return "cannot be mapped";
  default: {
    llama_buf_t b = {buf, 0, cap};
    llama_buf_str(&b, "error ");
    llama_buf_u64(&b, (uint64_t)e, 0);
    buf[b.len < cap ? b.len : cap - 1] = '\0';
    return buf;
  }
  }
}

/* ---- publishing a model ---------------------------------------------------------- */

static size_t cache_table_bytes(uint64_t entries) {
  return sizeof(cache_table_t) + (size_t)entries * sizeof(uint64_t);
}

static cache_table_t *cache_table_new(uint64_t entries) {
  cache_table_t *t = llama_os_map(cache_table_bytes(entries));
  if (t) t->mask = entries - 1;
  return t;
}

/* Opens bytes[0, size) as the model; on success makes it the process's
 * model and turns the dynamic path on. Caller holds model_lock. */
static bool publish(const void *bytes, size_t size, const char *name, char *err, size_t errlen) {
  struct llama_model m;
  if (llama_model_open(bytes, size, name, &m, err, errlen) != 0) return false;
  if (!atomic_load_explicit(&cache, memory_order_relaxed)) {
    unsigned first = llama_options.predict_cache < CACHE_FIRST ? llama_options.predict_cache : CACHE_FIRST;
    cache_table_t *t = cache_table_new(first);
    atomic_store_explicit(&cache, t, memory_order_release);
    if (!t) {
      llama_buf_t b = {err, 0, errlen};
      llama_buf_str(&b, name);
      llama_buf_str(&b, ": no memory for the prediction cache");
      err[b.len < errlen ? b.len : errlen - 1] = '\0';
      return false;
    }
  }
  model = m;
  depth = llama_options.predict_depth;
  size_t n = strlen(name);
  if (n >= sizeof model_name) n = sizeof model_name - 1;
  memcpy(model_name, name, n);
  model_name[n] = '\0';
  if (llama_options.verbose &&
      (m.features & (LLAMA_FEAT_FILE | LLAMA_FEAT_LINE | LLAMA_FEAT_INLINED)))
    say("model ", name,
        " was trained with file, line or inlined-frame features; the runtime sees ",
        "physical frames without file or line (a model trained with --features=frame,kind "
        "matches it best)", NULL);
  atomic_store_explicit(&model_state, 2, memory_order_release);
  __atomic_store_n(&llama_predict_on, 1, __ATOMIC_RELEASE);
  return true;
}

/* LLAMA_MODEL=PATH: the file, mapped read-only for the life of the process. */
static void load_model_file(const char *path) {
  char err[256], num[32];
  const char *why = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  if (fd < 0) {
    why = errno_text(errno, num, sizeof num);
  } else if (fstat(fd, &st) != 0) {
    why = errno_text(errno, num, sizeof num);
  } else if (!S_ISREG(st.st_mode)) {
    why = "not a regular file";
  } else if (st.st_size == 0) {
    why = "empty file";
  } else {
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      why = errno_text(errno, num, sizeof num);
    } else {
      pthread_mutex_lock(&model_lock);
      bool ok = publish(p, (size_t)st.st_size, path, err, sizeof err);
      pthread_mutex_unlock(&model_lock);
      if (!ok) {
        munmap(p, (size_t)st.st_size);
        /* err is "PATH: problem" */
        say("LLAMA_MODEL=", err, "; predictions off", NULL, NULL);
      }
    }
  }
  if (fd >= 0) close(fd);
  if (why) say("LLAMA_MODEL=", path, ": ", why, "; predictions off");
}

void llama_predict_init(void) {
  if (!llama_options.predict || !llama_options.model_path) return;
  tls.busy++; /* stdio-free, but be safe against anything that allocates */
  load_model_file(llama_options.model_path);
  tls.busy--;
}

/* The use build's embedded model (llama_abi.h). The first valid registration
 * wins; LLAMA_MODEL overrides all of them; LLAMA_PREDICT=0 ignores them. */
LLAMA_EXPORT void __llama_model_register_v1(const void *bytes, uint64_t size) {
  if (atomic_load_explicit(&llama_init_state, memory_order_acquire) != 2) llama_init_slow();
  if (!llama_options.predict || llama_options.model_path) return;
  if (atomic_load_explicit(&model_state, memory_order_acquire) == 2) return;
  static _Atomic int reported;
  char err[256];
  tls.busy++;
  pthread_mutex_lock(&model_lock);
  bool ok = atomic_load_explicit(&model_state, memory_order_relaxed) == 2 ||
            ((uintptr_t)bytes % 8 == 0 && publish(bytes, (size_t)size, "embedded", err, sizeof err));
  pthread_mutex_unlock(&model_lock);
  tls.busy--;
  if (!ok && !atomic_exchange_explicit(&reported, 1, memory_order_relaxed)) {
    if ((uintptr_t)bytes % 8)
      say("embedded model: not 8-byte aligned; predictions off", NULL, NULL, NULL, NULL);
    else
      say(err, "; predictions off (a broken build: the embedded model is invalid)", NULL, NULL,
          NULL);
  }
}
_Static_assert(sizeof(LLAMA_MODEL_REGISTER_SYMBOL) == sizeof("__llama_model_register_v1"),
               "registration symbol name");

/* ---- capture and cache ------------------------------------------------------------- */

static LLAMA_NOINLINE void init_stack_bounds(predict_tls_t *t) {
  uintptr_t lo, hi;
  t->busy++;
  if (llama_stack_bounds(&lo, &hi) != 0) lo = hi = 1; /* unknown: capture only [0] */
  t->busy--;
  t->stack_lo = lo;
  t->stack_hi = hi;
}

/* The cache key of a stack: a multilinear hash (sum of frame x odd
 * per-position constant; the multiplies are independent, so a deep stack
 * costs one add of latency per frame rather than a multiply chain), then
 * a full avalanche. A collision can only give an allocation another stack's
 * class: a placement choice, never a correctness problem. */
static const uint64_t position_keys[LLAMA_PREDICT_MAX_DEPTH] = {
#define K4(a) a##1ull * 0x9e3779b97f4a7c15ull | 1, a##3ull * 0xbf58476d1ce4e5b9ull | 1, \
              a##5ull * 0x94d049bb133111ebull | 1, a##7ull * 0xff51afd7ed558ccdull | 1
    K4(1), K4(2), K4(3), K4(4), K4(5), K4(6), K4(7), K4(8),
    K4(9), K4(10), K4(11), K4(12), K4(13), K4(14), K4(15), K4(16),
#undef K4
};

/* Captures the stack into frames[0, return value) and its cache key into
 * *hash, in one pass (the walk is a chain of dependent loads; the hash's
 * independent multiplies hide in its latency). */
LLAMA_INLINE unsigned capture(uintptr_t *frames, unsigned max, uintptr_t ret, uintptr_t frame,
                              uintptr_t stack_lo, uintptr_t high, unsigned kind,
                              uint64_t *hash) {
  frames[0] = ret;
  uint64_t h = ((uint64_t)kind << 8) + (uint64_t)ret * position_keys[0];
  unsigned n = 1;
  uintptr_t low = (uintptr_t)__builtin_frame_address(0);
  /* Off the thread's stack (a coroutine or signal stack), the memory up to
   * high may have holes: frame [0] only. */
  if (low >= stack_lo && frame >= low && frame + 16 <= high) {
    const uintptr_t *record = (const uintptr_t *)frame;
    /* The record of the tail-called runtime function holds [0] itself. */
    uintptr_t fp = record[1] == ret ? record[0] : frame, previous = frame;
    while (n < max) {
      if (fp <= previous || (fp & 7) || fp + 16 > high) break;
      record = (const uintptr_t *)fp;
      uintptr_t r = record[1];
      if (r < 4096) break;
      h += (uint64_t)r * position_keys[n];
      frames[n++] = r;
      previous = fp;
      fp = record[0];
    }
  }
  h += n;
  h ^= h >> 33;
  h *= UINT64_C(0xff51afd7ed558ccd);
  h ^= h >> 33;
  h *= UINT64_C(0xc4ceb9fe1a85ec53);
  h ^= h >> 33;
  *hash = h;
  return n;
}

#define CACHE_PROBES 8
#define KEY_OF(h) ((h) & ~(uint64_t)15 ? (h) & ~(uint64_t)15 : (uint64_t)16)

/* Class cached for hash h, or -1. */
LLAMA_INLINE int cache_get(uint64_t h) {
  const cache_table_t *t = atomic_load_explicit(&cache, memory_order_acquire);
  uint64_t key = KEY_OF(h);
  uint64_t i = h >> 20;
  for (unsigned p = 0; p < CACHE_PROBES; p++) {
    uint64_t e = atomic_load_explicit(&t->words[(i + p) & t->mask], memory_order_relaxed);
    if (e == 0) return -1;
    if ((e & ~(uint64_t)15) == key) return (int)(e & 15) - 1;
  }
  return -1;
}

/* Puts entry (key | class + 1) into t: true when it is now there. The probe
 * start h >> 20 is also key >> 20, so entries can move to a larger table. */
static bool table_insert(cache_table_t *t, uint64_t entry) {
  uint64_t key = entry & ~(uint64_t)15;
  uint64_t i = key >> 20;
  for (unsigned p = 0; p < CACHE_PROBES; p++) {
    _Atomic(uint64_t) *slot = &t->words[(i + p) & t->mask];
    uint64_t e = atomic_load_explicit(slot, memory_order_relaxed);
    if (e == 0) {
      if (atomic_compare_exchange_strong_explicit(slot, &e, entry, memory_order_relaxed,
                                                  memory_order_relaxed)) {
        atomic_fetch_add_explicit(&t->used, 1, memory_order_relaxed);
        return true;
      }
      /* e now holds what another thread inserted: maybe this very key. */
    }
    if ((e & ~(uint64_t)15) == key) return true;
  }
  return false; /* every probed slot is taken */
}

/* Copies every entry of old into a new table of `entries` words; NULL when
 * there is no memory or (unless keep_partial) some entry found its probe
 * sequence full (linear
 * probing clusters: 2048 random keys in 4096 words lost one about once in
 * a hundred runs, and predict_model.test saw that lost entry miss again). */
static cache_table_t *table_copy(const cache_table_t *old, uint64_t entries, bool keep_partial) {
  cache_table_t *t = cache_table_new(entries);
  if (!t) return NULL;
  for (uint64_t i = 0; i <= old->mask; i++) {
    uint64_t e = atomic_load_explicit(&old->words[i], memory_order_relaxed);
    if (e && !table_insert(t, e) && !keep_partial) {
      llama_os_unmap(t, cache_table_bytes(entries));
      return NULL;
    }
  }
  return t;
}

/* Doubles the table (called when it is half full or a probe sequence is
 * full), or quadruples it and more when the doubled table cannot take every
 * entry; at LLAMA_PREDICT_CACHE the entries that find no slot are dropped
 * (their next miss predicts them again). Entries another thread inserts
 * into the old table while it is copied are lost the same way. The old
 * table is decommitted, not unmapped: a reader still holding it reads zeros
 * (empty slots, a miss); a late insert into it faults one page back, never
 * read again. */
static void cache_grow(cache_table_t *old) {
  pthread_mutex_lock(&model_lock);
  cache_table_t *t = NULL;
  if (atomic_load_explicit(&cache, memory_order_relaxed) == old) {
    /* At the largest size, keep what fits. */
    for (uint64_t entries = (old->mask + 1) * 2; !t; entries *= 2) {
      bool largest = entries >= llama_options.predict_cache;
      t = table_copy(old, entries, largest);
      if (largest) break;
    }
    if (t) atomic_store_explicit(&cache, t, memory_order_release);
  }
  pthread_mutex_unlock(&model_lock);
  if (t) llama_os_decommit(old, cache_table_bytes(old->mask + 1));
}

static void cache_put(uint64_t h, unsigned k) {
  cache_table_t *t = atomic_load_explicit(&cache, memory_order_acquire);
  uint64_t entry = KEY_OF(h) | (k + 1);
  bool put = table_insert(t, entry);
  /* Half full, or a probe sequence already full (linear probing clusters):
   * grow, and grow again while the entry finds no slot. At the largest
   * table, or without memory for a larger one, the class is not cached and
   * the next miss predicts again. */
  while (t->mask + 1 < llama_options.predict_cache &&
         (!put || atomic_load_explicit(&t->used, memory_order_relaxed) * 2 > t->mask + 1)) {
    cache_grow(t);
    cache_table_t *now = atomic_load_explicit(&cache, memory_order_acquire);
    if (now == t || put) return; /* no memory, or the entry is in the copy */
    t = now;
    put = table_insert(t, entry);
  }
}

/* ---- the miss path ---------------------------------------------------------------- */

static bool is_start_frame(const char *name) {
  static const char *const names[] = {"_start", "__libc_start_main", "__libc_start_call_main",
                                      "start_thread", "clone", "clone3", "__clone",
                                      "__clone3", NULL};
  for (const char *const *n = names; *n; n++)
    if (strcmp(name, *n) == 0) return true;
  return false;
}

static unsigned predict_miss(const uintptr_t *frames, unsigned n, unsigned kind) {
  llama_symbol_t syms[LLAMA_PREDICT_MAX_DEPTH];
  /* The profile's contexts end at main and never hold the C library's
   * start-up or thread-start frames (llama-profdata merge cuts them).
   * Naming stops at main, so that the C library's symbols are read only
   * when a frame above main is in it. */
  n = llama_symtab_lookup(frames, n, syms, "main");
  while (n > 1 && (syms[n - 1].outer || (syms[n - 1].name && is_start_frame(syms[n - 1].name))))
    n--;
  struct llama_model_frame mf[LLAMA_PREDICT_MAX_DEPTH];
  for (unsigned i = 0; i < n; i++) {
    /* An address in no known function is "module+0xOFF" in a profile: the
     * tokeniser makes any such name the single token <nosym>. */
    mf[i].function = syms[i].name ? syms[i].name : "unknown+0x0";
    mf[i].file = "";
    mf[i].inlined = 0;
    mf[i].line_offset = 0;
  }
  uint32_t ids[LLAMA_MODEL_MAX_TOKENS];
  size_t count = llama_model_encode(&model, mf, n, kind, ids, LLAMA_MODEL_MAX_TOKENS);
  unsigned k = llama_model_predict(&model, ids, count, NULL);
  return k < LLAMA_NUM_CLASSES ? k : LLAMA_NUM_CLASSES - 1;
}

unsigned llama_predict_packed(unsigned kind, void *ret, void *frame) {
  predict_tls_t *t = &tls;
  if (LLAMA_UNLIKELY(t->busy) ||
      atomic_load_explicit(&model_state, memory_order_acquire) != 2)
    return LLAMA_PACKED_DEFAULT;
  if (LLAMA_UNLIKELY(t->stack_hi == 0)) init_stack_bounds(t);
  llama_heap_t *heap = llama_tls_heap;
  if (LLAMA_UNLIKELY(!llama_heap_is_real(heap)) && !(heap = llama_heap_init_thread()))
    return LLAMA_PACKED_DEFAULT;
  uintptr_t frames[LLAMA_PREDICT_MAX_DEPTH];
  uint64_t h;
  unsigned n = capture(frames, depth, (uintptr_t)ret, (uintptr_t)frame, t->stack_lo, t->stack_hi,
                       kind, &h);
  int k = cache_get(h);
  if (LLAMA_LIKELY(k >= 0)) {
    heap->predict_hits++;
    return LLAMA_PACK((unsigned)k, SOURCE_PREDICTED);
  }
  t->busy++;
  int saved_errno = errno; /* the miss opens files: a malloc that succeeds leaves errno alone */
  uint64_t start = llama_now_ns();
  unsigned c = predict_miss(frames, n, kind);
  errno = saved_errno;
  cache_put(h, c);
  heap->predict_misses++;
  heap->predict_ns += llama_now_ns() - start;
  t->busy--;
  return LLAMA_PACK(c, SOURCE_PREDICTED);
}

/* ---- statistics and fork ------------------------------------------------------------ */

const char *llama_predict_model_name(void) {
  return atomic_load_explicit(&model_state, memory_order_acquire) == 2 ? model_name : "none";
}

void llama_predict_cache_use(uint64_t *entries, uint64_t *capacity) {
  const cache_table_t *t = atomic_load_explicit(&cache, memory_order_acquire);
  *entries = t ? atomic_load_explicit(&t->used, memory_order_relaxed) : 0;
  *capacity = llama_options.predict_cache; /* the most it may grow to */
}

void llama_predict_fork_prepare(void) {
  pthread_mutex_lock(&model_lock);
  llama_symtab_fork_prepare();
}
void llama_predict_fork_parent(void) {
  llama_symtab_fork_parent();
  pthread_mutex_unlock(&model_lock);
}
void llama_predict_fork_child(void) {
  llama_symtab_fork_child();
  pthread_mutex_init(&model_lock, NULL);
}
