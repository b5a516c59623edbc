/* real.c - the process's own allocation functions, which every path of
 * libllamaprof forwards to: the resolver that finds them, the table of
 * resolved pointers, the "real" wrappers (llama_prof_real_malloc & co.) and
 * the bootstrap arena that serves allocations made while they are being
 * resolved. The interposers (external.c, external_new.cc, interpose.c) and
 * the entry points (entry.c, new_entry.cc) call down into this file; it
 * calls none of them (it names their hidden aliases, declared in
 * internal.h, only to recognise and skip their addresses).
 *
 * The real function is the first definition that precedes libllamaprof in
 * symbol resolution order, if any (an allocator preloaded or linked before
 * libllamaprof: our interposer never runs then, and freeing its memory with
 * anything else would be wrong), else the next definition after us: libc's,
 * or libllamalloc's when it is linked after us. Both are found by looking
 * the name up in each loaded module's dynamic symbol table, in load order
 * (dlsym(RTLD_NEXT) is only a fallback: it can allocate and free; and
 * dlsym(RTLD_DEFAULT) would return, for a non-PIE executable that takes
 * free's address, a PLT entry that jumps back to us). Pointers are resolved
 * in the profiler's constructor and lazily (ld.so and other constructors
 * allocate and free before it runs), once: a function no module defines
 * (operator delete in a C program) stays absent. An allocation made from
 * inside that resolution, before the real function is known, is served
 * from a static bootstrap arena; its blocks are never given back (free and
 * operator delete ignore them, realloc copies them out). A free that
 * reaches us from inside the resolution, before the real free is known, is
 * leaked rather than crashed on. */
#include "internal.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <string.h>

/* ---- finding the real function ------------------------------------------ */

/* A pointer from a module's dynamic section: relocated in place by ld.so
 * for ordinary objects, not for the vDSO (read-only). */
static uintptr_t dyn_ptr(const struct dl_phdr_info *info, uintptr_t value) {
  return value < info->dlpi_addr ? value + info->dlpi_addr : value;
}

static uint32_t gnu_hash(const char *name) {
  uint32_t h = 5381;
  for (const unsigned char *c = (const unsigned char *)name; *c; c++) h = h * 33 + *c;
  return h;
}

static uint32_t sysv_hash(const char *name) {
  uint32_t h = 0;
  for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
    h = (h << 4) + *c;
    uint32_t g = h & 0xf0000000u;
    if (g) h ^= g >> 24;
    h &= ~g;
  }
  return h;
}

/* The address of `name` if the module itself defines it (a function with a
 * value, not an undefined reference: a non-PIE executable that takes a
 * function's address has an undefined symbol whose value is a PLT entry, the
 * "canonical" address, which jumps to whoever defines the function). */
static void *module_defines(const struct dl_phdr_info *info, const char *name) {
  const ElfW(Dyn) *dyn = NULL;
  for (int i = 0; i < info->dlpi_phnum; i++)
    if (info->dlpi_phdr[i].p_type == PT_DYNAMIC)
      dyn = (const ElfW(Dyn) *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
  if (!dyn) return NULL;
  const ElfW(Sym) *symtab = NULL;
  const char *strtab = NULL;
  const uint32_t *gnu = NULL, *sysv = NULL;
  for (; dyn->d_tag != DT_NULL; dyn++) {
    if (dyn->d_tag == DT_SYMTAB) symtab = (const ElfW(Sym) *)dyn_ptr(info, dyn->d_un.d_ptr);
    if (dyn->d_tag == DT_STRTAB) strtab = (const char *)dyn_ptr(info, dyn->d_un.d_ptr);
    if (dyn->d_tag == DT_GNU_HASH) gnu = (const uint32_t *)dyn_ptr(info, dyn->d_un.d_ptr);
    if (dyn->d_tag == DT_HASH) sysv = (const uint32_t *)dyn_ptr(info, dyn->d_un.d_ptr);
  }
  if (!symtab || !strtab) return NULL;
  const ElfW(Sym) *found = NULL;
  if (gnu) {
    uint32_t nbuckets = gnu[0], symoffset = gnu[1], bloom_size = gnu[2];
    const uint32_t *buckets = (const uint32_t *)((const ElfW(Addr) *)(gnu + 4) + bloom_size);
    const uint32_t *chain = buckets + nbuckets;
    uint32_t h = gnu_hash(name);
    uint32_t index = nbuckets ? buckets[h % nbuckets] : 0;
    for (; index >= symoffset && index; index++) {
      uint32_t h2 = chain[index - symoffset];
      if ((h | 1) == (h2 | 1) && !strcmp(name, strtab + symtab[index].st_name)) {
        found = &symtab[index];
        break;
      }
      if (h2 & 1) break;
    }
  } else if (sysv) {
    uint32_t nbucket = sysv[0];
    const uint32_t *bucket = sysv + 2, *chain = bucket + nbucket;
    for (uint32_t index = nbucket ? bucket[sysv_hash(name) % nbucket] : 0; index;
         index = chain[index]) {
      if (!strcmp(name, strtab + symtab[index].st_name)) {
        found = &symtab[index];
        break;
      }
    }
  }
  if (!found || found->st_shndx == SHN_UNDEF || !found->st_value ||
      ELF64_ST_TYPE(found->st_info) != STT_FUNC)
    return NULL;
  return (void *)(info->dlpi_addr + found->st_value);
}

typedef struct search_s {
  const char *name;
  void *ours;
  int past_us;
  void *before; /* first definition preceding libllamaprof */
  void *after;  /* first definition following it */
} search_t;

/* Visits the loaded modules in load order, which is symbol resolution
 * order for everything loaded at start-up: the executable, preloaded
 * libraries, then dependencies breadth-first. Another copy of
 * libllamaprof (a different file preloaded in front of the linked one) is
 * skipped: two interposers resolving each other would loop. In our own
 * module (the executable itself when the archive is linked in) another
 * strong definition, libllamalloc.a's or a sanitizer's, may have won over
 * our weak one. */
static int search_callback(struct dl_phdr_info *info, size_t size, void *arg) {
  search_t *search = arg;
  uintptr_t self = (uintptr_t)&llama_prof_real_init;
  int is_us = 0;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (ph->p_type == PT_LOAD && self >= start && self < start + ph->p_memsz) is_us = 1;
  }
  void *found = module_defines(info, search->name);
  if (is_us) {
    if (found != search->ours) search->before = found;
    search->past_us = 1;
    return search->before != NULL;
  }
  if (!found || module_defines(info, LLAMA_PROF_REGISTER_SYMBOL)) return 0;
  if (!search->past_us) {
    search->before = found;
    return 1;
  }
  search->after = found;
  return 1;
}

/* The function `name` would be without us: the first definition that
 * precedes libllamaprof in resolution order (an allocator preloaded or
 * linked before it, which then serves the process), else the next one
 * after it (what dlsym(RTLD_NEXT) would find; dlsym itself is only the
 * fallback, as it can allocate and free). `ours` is our own definition.
 * NULL when called back from inside the resolution, or when no module
 * defines `name`. */
static void *resolve(const char *name, void *ours) {
  llama_prof_thread_t *t = &llama_prof_thread;
  if (t->resolving) return NULL;
  t->resolving = 1;
  /* What dlsym allocates is the profiler's own: never sampled. */
  uint8_t saved = t->in_profiler;
  t->in_profiler = 1;
  search_t search = {name, ours, 0, NULL, NULL};
  dl_iterate_phdr(search_callback, &search);
  void *real = search.before ? search.before : search.after;
  if (!real) real = dlsym(RTLD_NEXT, name);
  if (real == ours) real = NULL;
  t->in_profiler = saved;
  t->resolving = 0;
  return real;
}

/* ---- the table ------------------------------------------------------------ */

#define SYMBOL_NAME(index, symbol) [LLAMA_PROF_REAL_##index] = #symbol,
static const char *const real_symbol[LLAMA_PROF_REAL_COUNT] = {
    LLAMA_PROF_REAL_FUNCTIONS(SYMBOL_NAME)};
#define OWN_ADDRESS(index, symbol) [LLAMA_PROF_REAL_##index] = llama_prof_own_##index,
static void (*const own_function[LLAMA_PROF_REAL_COUNT])(void) = {
    LLAMA_PROF_REAL_FUNCTIONS(OWN_ADDRESS)};

static void *real_function[LLAMA_PROF_REAL_COUNT]; /* atomic */
static int real_resolved[LLAMA_PROF_REAL_COUNT];   /* atomic: looked up (maybe absent) */

static LLAMA_PROF_NOINLINE void *real_lookup(int index) {
  if (__atomic_load_n(&real_resolved[index], __ATOMIC_ACQUIRE))
    return __atomic_load_n(&real_function[index], __ATOMIC_ACQUIRE);
  if (llama_prof_thread.resolving) return NULL;
  void *f = resolve(real_symbol[index], (void *)own_function[index]);
  __atomic_store_n(&real_function[index], f, __ATOMIC_RELEASE);
  __atomic_store_n(&real_resolved[index], 1, __ATOMIC_RELEASE);
  return f;
}

LLAMA_PROF_INLINE void *real(int index) {
  void *f = __atomic_load_n(&real_function[index], __ATOMIC_ACQUIRE);
  return LLAMA_PROF_LIKELY(f) ? f : real_lookup(index);
}

void *llama_prof_real_function(int index) { return real(index); }

void llama_prof_real_init(void) {
  for (int index = 0; index < LLAMA_PROF_REAL_COUNT; index++) real(index);
}

/* ---- the bootstrap arena -------------------------------------------------- */

/* Blocks carry their size in the 16 bytes before them (for realloc). The
 * arena is zero (bss) and never reused, so calloc needs no memset. */
__attribute__((aligned(64))) unsigned char llama_prof_boot_arena[LLAMA_PROF_BOOT_SIZE];
static size_t boot_used; /* atomic */

void *llama_prof_boot_alloc(size_t n, size_t alignment) {
  if (alignment < 16) alignment = 16;
  if (n > LLAMA_PROF_BOOT_SIZE || alignment > LLAMA_PROF_BOOT_SIZE / 2 ||
      (alignment & (alignment - 1)))
    return NULL;
  size_t used = __atomic_load_n(&boot_used, __ATOMIC_RELAXED);
  for (;;) {
    size_t start = (used + 16 + alignment - 1) & ~(alignment - 1);
    if (start + n > LLAMA_PROF_BOOT_SIZE || start + n < start) return NULL;
    if (__atomic_compare_exchange_n(&boot_used, &used, start + n, 1, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED)) {
      unsigned char *p = llama_prof_boot_arena + start;
      memcpy(p - sizeof n, &n, sizeof n);
      return p;
    }
  }
}

/* A bootstrap block, errno ENOMEM when the arena is full. */
static void *boot(size_t n, size_t alignment) {
  void *p = llama_prof_boot_alloc(n, alignment);
  if (!p) errno = ENOMEM;
  return p;
}

static size_t boot_block_size(const void *p) {
  size_t n;
  memcpy(&n, (const unsigned char *)p - sizeof n, sizeof n);
  return n;
}

/* realloc of a bootstrap block: a copy in real memory. */
static void *boot_realloc(void *p, size_t n) {
  if (n == 0) return NULL; /* freed: nothing to do */
  void *q = llama_prof_real_malloc(n);
  if (q) {
    size_t old = boot_block_size(p);
    memcpy(q, p, old < n ? old : n);
  }
  return q;
}

/* ---- the real functions --------------------------------------------------- */

typedef void *malloc_fn(size_t);
typedef void *calloc_fn(size_t, size_t);
typedef void *realloc_fn(void *, size_t);
typedef void *reallocarray_fn(void *, size_t, size_t);
typedef void *aligned_fn(size_t, size_t);
typedef int posix_memalign_fn(void **, size_t, size_t);
typedef void free_fn(void *);
typedef void delete1_fn(void *);
typedef void delete2_fn(void *, uintptr_t);
typedef void delete3_fn(void *, uintptr_t, uintptr_t);

void *llama_prof_real_malloc(size_t n) {
  malloc_fn *f = (malloc_fn *)real(LLAMA_PROF_REAL_MALLOC);
  return LLAMA_PROF_LIKELY(f) ? f(n) : boot(n, 16);
}

void *llama_prof_real_calloc(size_t count, size_t size) {
  calloc_fn *f = (calloc_fn *)real(LLAMA_PROF_REAL_CALLOC);
  if (LLAMA_PROF_LIKELY(f)) return f(count, size);
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  return boot(n, 16); /* the arena is zero */
}

void *llama_prof_real_realloc(void *p, size_t n) {
  if (LLAMA_PROF_UNLIKELY(llama_prof_boot_owns(p))) return boot_realloc(p, n);
  realloc_fn *f = (realloc_fn *)real(LLAMA_PROF_REAL_REALLOC);
  if (LLAMA_PROF_LIKELY(f)) return f(p, n);
  /* inside the resolution: a new block, as realloc would */
  void *q = p ? NULL : llama_prof_boot_alloc(n, 16);
  if (!q) errno = ENOMEM;
  return q;
}

void *llama_prof_real_reallocarray(void *p, size_t count, size_t size) {
  if (LLAMA_PROF_UNLIKELY(llama_prof_boot_owns(p))) {
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
      errno = ENOMEM;
      return NULL;
    }
    return boot_realloc(p, n);
  }
  reallocarray_fn *f = (reallocarray_fn *)real(LLAMA_PROF_REAL_REALLOCARRAY);
  if (LLAMA_PROF_LIKELY(f)) return f(p, count, size);
  errno = ENOMEM;
  return NULL;
}

void *llama_prof_real_aligned_alloc(size_t alignment, size_t n) {
  aligned_fn *f = (aligned_fn *)real(LLAMA_PROF_REAL_ALIGNED_ALLOC);
  return LLAMA_PROF_LIKELY(f) ? f(alignment, n) : boot(n, alignment);
}

int llama_prof_real_posix_memalign(void **out, size_t alignment, size_t n) {
  posix_memalign_fn *f = (posix_memalign_fn *)real(LLAMA_PROF_REAL_POSIX_MEMALIGN);
  if (LLAMA_PROF_LIKELY(f)) return f(out, alignment, n);
  void *p = llama_prof_boot_alloc(n, alignment);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

void *llama_prof_real_memalign(size_t alignment, size_t n) {
  aligned_fn *f = (aligned_fn *)real(LLAMA_PROF_REAL_MEMALIGN);
  return LLAMA_PROF_LIKELY(f) ? f(alignment, n) : boot(n, alignment);
}

void *llama_prof_real_valloc(size_t n) {
  malloc_fn *f = (malloc_fn *)real(LLAMA_PROF_REAL_VALLOC);
  return LLAMA_PROF_LIKELY(f) ? f(n) : boot(n, 4096);
}

void *llama_prof_real_pvalloc(size_t n) {
  malloc_fn *f = (malloc_fn *)real(LLAMA_PROF_REAL_PVALLOC);
  return LLAMA_PROF_LIKELY(f) ? f(n) : boot(n, 4096);
}

void llama_prof_real_free(void *p) {
  if (LLAMA_PROF_UNLIKELY(llama_prof_boot_owns(p))) return;
  free_fn *f = (free_fn *)real(LLAMA_PROF_REAL_FREE);
  if (LLAMA_PROF_LIKELY(f)) f(p); /* else inside the resolution: leaked */
}

void llama_prof_real_delete(int kind, void *p, uintptr_t a, uintptr_t b) {
  if (LLAMA_PROF_UNLIKELY(llama_prof_boot_owns(p))) return;
  void *f = real(LLAMA_PROF_REAL_DELETE_PLAIN + kind);
  if (!f) { /* no C++ runtime loaded: its operator delete would call free */
    if (p) llama_prof_real_free(p);
    return;
  }
  switch (kind) {
  case LLAMA_PROF_DEL_PLAIN:
  case LLAMA_PROF_DEL_ARRAY:
    ((delete1_fn *)f)(p);
    break;
  case LLAMA_PROF_DEL_SIZED_ALIGNED:
  case LLAMA_PROF_DEL_ARRAY_SIZED_ALIGNED:
  case LLAMA_PROF_DEL_ALIGNED_NOTHROW:
  case LLAMA_PROF_DEL_ARRAY_ALIGNED_NOTHROW:
    ((delete3_fn *)f)(p, a, b);
    break;
  default:
    ((delete2_fn *)f)(p, a);
    break;
  }
}
