/* stack.c - calling contexts of sampled allocations: capture and dedup.
 *
 * Capture walks frame pointers by default (the profiling build has
 * -fno-omit-frame-pointer): [0] is the return address into the function
 * holding the site, handed over by the entry point, then each frame's saved
 * return address. A frame pointer is followed only while it stays inside the
 * thread's stack, is 8-byte aligned and strictly increases, so frames of
 * code built without frame pointers end the walk instead of faulting.
 * LLAMA_PROF_UNWIND=libunwind uses unw_backtrace instead (DWARF unwinding,
 * also through code without frame pointers). libunwind is loaded with
 * dlopen only then: linked, it would export its own _Unwind_* to the whole
 * process and take over C++ exception unwinding.
 *
 * External allocations (external.c) are called from code built without
 * the pass and, for libc and libstdc++, without frame pointers: a frame
 * pointer walk from there would skip the frames of that code's callers
 * (the register still holds an outer frame) or read garbage (the register
 * holds data). They are unwound with DWARF: libunwind's unw_backtrace
 * (libunwind.so.8, dlopened at start-up) or, where it is missing, libgcc's
 * _Unwind_Backtrace (libgcc_s.so.1, which every C++ program and
 * libllamaprof.so itself load).
 *
 * Stacks are interned in a hash table under llama_prof_lock; ids start at 1
 * and index a table of records kept in an append-only arena. */
#include "internal.h"
#include "llama/stack.h"

#include <dlfcn.h>
#include <pthread.h>
#include <string.h>

/* ---- capture -------------------------------------------------------------- */

typedef int unw_backtrace_fn(void **buffer, int size);
static unw_backtrace_fn *unw_backtrace_ptr;

/* libgcc's unwinder, declared here (no <unwind.h> dependency). */
struct _Unwind_Context;
typedef int unwind_trace_fn(struct _Unwind_Context *context, void *arg);
typedef int unwind_backtrace_fn(unwind_trace_fn *trace, void *arg);
typedef uintptr_t unwind_get_ip_fn(struct _Unwind_Context *context);
static unwind_backtrace_fn *unwind_backtrace_ptr;
static unwind_get_ip_fn *unwind_get_ip_ptr;

static void load_libgcc(void) {
  void *lib = dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return;
  unwind_get_ip_fn *get_ip = (unwind_get_ip_fn *)dlsym(lib, "_Unwind_GetIP");
  unwind_backtrace_fn *backtrace = (unwind_backtrace_fn *)dlsym(lib, "_Unwind_Backtrace");
  if (get_ip && backtrace) {
    unwind_get_ip_ptr = get_ip;
    unwind_backtrace_ptr = backtrace;
  }
}

static void load_libunwind(void) {
  void *lib = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL);
  if (!lib) lib = dlopen("libunwind.so", RTLD_NOW | RTLD_LOCAL);
  if (lib) unw_backtrace_ptr = (unw_backtrace_fn *)dlsym(lib, "unw_backtrace");
}

/* External stacks prefer libunwind (its unw_backtrace caches each
 * address's unwind rule: several times faster than libgcc's
 * _Unwind_Backtrace on a workload of std::string allocations); libgcc
 * when libunwind.so.8 is not installed. Both are loaded RTLD_LOCAL, so
 * neither takes over the process's C++ exception unwinding. */
void llama_prof_stack_init(void) {
  if (llama_prof_options.external || llama_prof_options.unwinder == LLAMA_PROF_UNWIND_LIBUNWIND)
    load_libunwind();
  if (llama_prof_options.external && !unw_backtrace_ptr) load_libgcc();
  if (llama_prof_options.unwinder != LLAMA_PROF_UNWIND_LIBUNWIND) return;
  if (!unw_backtrace_ptr) {
    llama_prof_report("LLAMA_PROF_UNWIND=libunwind: cannot load libunwind.so.8;",
                      "using frame pointers", 0);
    llama_prof_options.unwinder = LLAMA_PROF_UNWIND_FP;
  }
}

const char *llama_prof_unwinder_name(void) {
  return llama_prof_options.unwinder == LLAMA_PROF_UNWIND_LIBUNWIND ? "libunwind"
                                                                    : "frame-pointer";
}

void llama_prof_stack_bounds(uintptr_t *lo, uintptr_t *top) {
  if (llama_stack_bounds(lo, top) != 0) *lo = *top = 0;
}

static uint32_t capture_fp(uint64_t *frames, uint32_t depth, void *frame) {
  uintptr_t low = (uintptr_t)__builtin_frame_address(0);
  uintptr_t high = llama_prof_thread.stack_top;
  uint32_t n = 1;
  uintptr_t fp = (uintptr_t)frame, previous = low;
  /* Not on the thread's stack (signal or coroutine stack): only [0]; the
   * memory between such a stack and high may have holes. */
  if (low < llama_prof_thread.stack_lo || low >= high) return n;
  while (n < depth) {
    if (fp <= previous || fp & 7 || fp + 16 > high) break;
    const uintptr_t *record = (const uintptr_t *)fp;
    uintptr_t ret = record[1];
    if (ret < 4096) break;
    frames[n++] = ret;
    previous = fp;
    fp = record[0];
  }
  return n;
}

#define UNWIND_SKIP_MAX 8 /* frames of the profiler itself above [0] */

static uint32_t capture_libunwind(uint64_t *frames, uint32_t depth, void *ret) {
  void *buffer[LLAMA_PROF_MAX_DEPTH + UNWIND_SKIP_MAX];
  int got = unw_backtrace_ptr(buffer, (int)depth + UNWIND_SKIP_MAX);
  for (int skip = 0; skip < got && skip < UNWIND_SKIP_MAX; skip++) {
    if (buffer[skip] != ret) continue;
    uint32_t n = 0;
    for (int i = skip; i < got && n < depth; i++) frames[n++] = (uint64_t)(uintptr_t)buffer[i];
    return n;
  }
  return 1; /* the entry point's caller not found: keep [0] only */
}

typedef struct gcc_walk_s {
  void **buffer;
  int count, cap;
} gcc_walk_t;

static int gcc_trace(struct _Unwind_Context *context, void *arg) {
  gcc_walk_t *w = arg;
  uintptr_t ip = unwind_get_ip_ptr(context);
  if (!ip) return 5; /* _URC_END_OF_STACK */
  w->buffer[w->count++] = (void *)ip;
  return w->count < w->cap ? 0 : 4; /* _URC_NO_REASON, _URC_NORMAL_STOP */
}

static uint32_t capture_libgcc(uint64_t *frames, uint32_t depth, void *ret) {
  void *buffer[LLAMA_PROF_MAX_DEPTH + UNWIND_SKIP_MAX];
  gcc_walk_t w = {buffer, 0, (int)depth + UNWIND_SKIP_MAX};
  unwind_backtrace_ptr(gcc_trace, &w);
  for (int skip = 0; skip < w.count && skip < UNWIND_SKIP_MAX; skip++) {
    if (buffer[skip] != ret) continue;
    uint32_t n = 0;
    for (int i = skip; i < w.count && n < depth; i++) frames[n++] = (uint64_t)(uintptr_t)buffer[i];
    return n;
  }
  return 1;
}

uint32_t llama_prof_stack_capture_external(uint64_t *frames, void *ret, void *frame) {
  uint32_t depth = llama_prof_options.depth;
  frames[0] = (uint64_t)(uintptr_t)ret;
  if (depth <= 1) return 1;
  if (unw_backtrace_ptr) return capture_libunwind(frames, depth, ret);
  if (unwind_backtrace_ptr) return capture_libgcc(frames, depth, ret);
  return capture_fp(frames, depth, frame);
}

uint32_t llama_prof_stack_capture(uint64_t *frames, void *ret, void *frame) {
  uint32_t depth = llama_prof_options.depth;
  frames[0] = (uint64_t)(uintptr_t)ret;
  if (depth <= 1) return 1;
  if (unw_backtrace_ptr && llama_prof_options.unwinder == LLAMA_PROF_UNWIND_LIBUNWIND)
    return capture_libunwind(frames, depth, ret);
  return capture_fp(frames, depth, frame);
}

uint64_t llama_prof_stack_hash(const uint64_t *frames, uint32_t depth) {
  uint64_t h = UINT64_C(0x9e3779b97f4a7c15) ^ depth;
  for (uint32_t i = 0; i < depth; i++) {
    h ^= frames[i];
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 32;
  }
  return h;
}

/* ---- dedup ---------------------------------------------------------------- */

typedef struct stack_record_s {
  uint64_t hash;
  uint32_t depth;
  uint32_t id;
  uint64_t frames[];
} stack_record_t;

#define ARENA_CHUNK ((size_t)1 << 20)

static struct {
  stack_record_t **by_id; /* [id - 1] */
  uint32_t count;
  uint32_t by_id_capacity;
  uint32_t *table; /* open addressing, stack ids; 0 = empty */
  uint32_t table_mask;
  unsigned char *arena;
  size_t arena_left;
} stacks;

static void *arena_alloc(size_t n) {
  if (n > stacks.arena_left) {
    stacks.arena = llama_prof_map(ARENA_CHUNK);
    if (!stacks.arena) {
      stacks.arena_left = 0;
      return NULL;
    }
    stacks.arena_left = ARENA_CHUNK;
  }
  void *p = stacks.arena;
  stacks.arena += n;
  stacks.arena_left -= n;
  return p;
}

static int table_grow(void) {
  uint32_t capacity = stacks.table ? (stacks.table_mask + 1) * 2 : 4096;
  uint32_t *table = llama_prof_map(capacity * sizeof(uint32_t));
  if (!table) return -1;
  for (uint32_t id = 1; id <= stacks.count; id++) {
    uint32_t i = (uint32_t)stacks.by_id[id - 1]->hash & (capacity - 1);
    while (table[i]) i = (i + 1) & (capacity - 1);
    table[i] = id;
  }
  if (stacks.table) llama_prof_unmap(stacks.table, (stacks.table_mask + 1) * sizeof(uint32_t));
  stacks.table = table;
  stacks.table_mask = capacity - 1;
  return 0;
}

static int by_id_grow(void) {
  uint32_t capacity = stacks.by_id_capacity ? stacks.by_id_capacity * 2 : 4096;
  stack_record_t **by_id = llama_prof_map(capacity * sizeof *by_id);
  if (!by_id) return -1;
  if (stacks.by_id) {
    memcpy(by_id, stacks.by_id, stacks.count * sizeof *by_id);
    llama_prof_unmap(stacks.by_id, stacks.by_id_capacity * sizeof *by_id);
  }
  stacks.by_id = by_id;
  stacks.by_id_capacity = capacity;
  return 0;
}

uint32_t llama_prof_stack_intern(const uint64_t *frames, uint32_t depth, uint64_t hash) {
  if (!stacks.table && table_grow() < 0) return 0;
  uint32_t i = (uint32_t)hash & stacks.table_mask;
  for (uint32_t id; (id = stacks.table[i]); i = (i + 1) & stacks.table_mask) {
    const stack_record_t *r = stacks.by_id[id - 1];
    if (r->hash == hash && r->depth == depth &&
        !memcmp(r->frames, frames, depth * sizeof *frames))
      return id;
  }
  if (stacks.count == UINT32_MAX - 1) return 0;
  if (stacks.count == stacks.by_id_capacity && by_id_grow() < 0) return 0;
  stack_record_t *r = arena_alloc(sizeof *r + depth * sizeof *frames);
  if (!r) return 0;
  r->hash = hash;
  r->depth = depth;
  r->id = ++stacks.count;
  memcpy(r->frames, frames, depth * sizeof *frames);
  stacks.by_id[r->id - 1] = r;
  stacks.table[i] = r->id;
  if ((uint64_t)stacks.count * 2 > stacks.table_mask + 1) table_grow();
  return r->id;
}

uint32_t llama_prof_stack_count(void) { return stacks.count; }

const uint64_t *llama_prof_stack_get(uint32_t id, uint32_t *depth) {
  const stack_record_t *r = stacks.by_id[id - 1];
  *depth = r->depth;
  return r->frames;
}

/* In the child after fork: start with no stacks. The parent's memory is
 * left alone (its pages stay shared copy-on-write). */
void llama_prof_stack_fork_child(void) { memset(&stacks, 0, sizeof stacks); }
