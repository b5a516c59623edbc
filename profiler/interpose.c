/* interpose.c - free, realloc, reallocarray and the C++ operator delete
 * family, defined here so that sampled objects freed by code the pass did
 * not rewrite (libc, libstdc++, other libraries, calls through function
 * pointers) still end their lifetime; and the "real" deallocation
 * functions every path forwards to. realloc and reallocarray called by
 * such code are also allocations: they are counted and sampled at the
 * external pseudo-sites like malloc (external.c has the other allocation
 * functions, external_new.cc operator new).
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
 * allocate and free before it runs). An allocation made from inside that
 * resolution, before the real function is known, is served from a static
 * bootstrap arena; its blocks are never given back (free and operator
 * delete ignore them, realloc copies them out). A free that reaches us
 * from inside the resolution, before the real free is known, is leaked
 * rather than crashed on. */
#include "internal.h"

#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <link.h>
#include <string.h>

typedef void free_fn(void *);
typedef void *realloc_fn(void *, size_t);
typedef void *reallocarray_fn(void *, size_t, size_t);
typedef void delete1_fn(void *);
typedef void delete2_fn(void *, uintptr_t);
typedef void delete3_fn(void *, uintptr_t, uintptr_t);

static free_fn *real_free;
static realloc_fn *real_realloc;
static reallocarray_fn *real_reallocarray;
static void *real_delete[LLAMA_PROF_DEL_COUNT];
static int delete_resolved[LLAMA_PROF_DEL_COUNT];

static const char *const delete_symbol[LLAMA_PROF_DEL_COUNT] = {
    [LLAMA_PROF_DEL_PLAIN] = "_ZdlPv",
    [LLAMA_PROF_DEL_ARRAY] = "_ZdaPv",
    [LLAMA_PROF_DEL_SIZED] = "_ZdlPvm",
    [LLAMA_PROF_DEL_ARRAY_SIZED] = "_ZdaPvm",
    [LLAMA_PROF_DEL_ALIGNED] = "_ZdlPvSt11align_val_t",
    [LLAMA_PROF_DEL_ARRAY_ALIGNED] = "_ZdaPvSt11align_val_t",
    [LLAMA_PROF_DEL_SIZED_ALIGNED] = "_ZdlPvmSt11align_val_t",
    [LLAMA_PROF_DEL_ARRAY_SIZED_ALIGNED] = "_ZdaPvmSt11align_val_t",
    [LLAMA_PROF_DEL_NOTHROW] = "_ZdlPvRKSt9nothrow_t",
    [LLAMA_PROF_DEL_ARRAY_NOTHROW] = "_ZdaPvRKSt9nothrow_t",
    [LLAMA_PROF_DEL_ALIGNED_NOTHROW] = "_ZdlPvSt11align_val_tRKSt9nothrow_t",
    [LLAMA_PROF_DEL_ARRAY_ALIGNED_NOTHROW] = "_ZdaPvSt11align_val_tRKSt9nothrow_t",
};

/* The interposers are weak: linked statically next to an allocator's
 * archive (libllamalloc.a), the allocator's strong free wins instead of a
 * duplicate-symbol error, as if it were preloaded. Dynamic symbol
 * resolution does not distinguish weak definitions. */
#define INTERPOSER LLAMA_PROF_EXPORT __attribute__((weak))

/* Our own definitions, by hidden aliases whose addresses are local. */
void llama_prof_own_free(void *p) __attribute__((alias("free"), visibility("hidden")));
void *llama_prof_own_realloc(void *p, size_t n)
    __attribute__((alias("realloc"), visibility("hidden")));
void *llama_prof_own_reallocarray(void *p, size_t count, size_t size)
    __attribute__((alias("reallocarray"), visibility("hidden")));

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
  uintptr_t self = (uintptr_t)&llama_prof_interpose_init;
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
 * linked before it, which then serves the process), else the next one after
 * it (what dlsym(RTLD_NEXT) would find; dlsym itself is only the fallback,
 * as it can allocate and free). NULL when called back from inside dlsym. */
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

void *llama_prof_resolve(const char *name, void *ours) { return resolve(name, ours); }

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

static void resolve_delete(int kind);

void llama_prof_interpose_init(void) {
  if (!__atomic_load_n(&real_free, __ATOMIC_ACQUIRE))
    __atomic_store_n(&real_free, (free_fn *)resolve("free", (void *)llama_prof_own_free),
                     __ATOMIC_RELEASE);
  if (!__atomic_load_n(&real_realloc, __ATOMIC_ACQUIRE))
    __atomic_store_n(&real_realloc,
                     (realloc_fn *)resolve("realloc", (void *)llama_prof_own_realloc),
                     __ATOMIC_RELEASE);
  if (!__atomic_load_n(&real_reallocarray, __ATOMIC_ACQUIRE))
    __atomic_store_n(
        &real_reallocarray,
        (reallocarray_fn *)resolve("reallocarray", (void *)llama_prof_own_reallocarray),
        __ATOMIC_RELEASE);
  for (int kind = 0; kind < LLAMA_PROF_DEL_COUNT; kind++) resolve_delete(kind);
}

void llama_prof_real_free(void *p) {
  if (LLAMA_PROF_UNLIKELY(llama_prof_boot_owns(p))) return;
  free_fn *f = __atomic_load_n(&real_free, __ATOMIC_ACQUIRE);
  if (LLAMA_PROF_UNLIKELY(!f)) {
    f = (free_fn *)resolve("free", (void *)llama_prof_own_free);
    if (!f) return; /* inside dlsym: leak */
    __atomic_store_n(&real_free, f, __ATOMIC_RELEASE);
  }
  f(p);
}

void *llama_prof_real_realloc(void *p, size_t n) {
  if (LLAMA_PROF_UNLIKELY(llama_prof_boot_owns(p))) return boot_realloc(p, n);
  realloc_fn *f = __atomic_load_n(&real_realloc, __ATOMIC_ACQUIRE);
  if (LLAMA_PROF_UNLIKELY(!f)) {
    f = (realloc_fn *)resolve("realloc", (void *)llama_prof_own_realloc);
    if (!f) { /* inside the resolution: a new block, as realloc would */
      void *q = p ? NULL : llama_prof_boot_alloc(n, 16);
      if (!q) errno = ENOMEM;
      return q;
    }
    __atomic_store_n(&real_realloc, f, __ATOMIC_RELEASE);
  }
  return f(p, n);
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
  reallocarray_fn *f = __atomic_load_n(&real_reallocarray, __ATOMIC_ACQUIRE);
  if (LLAMA_PROF_UNLIKELY(!f)) {
    f = (reallocarray_fn *)resolve("reallocarray", (void *)llama_prof_own_reallocarray);
    if (!f) {
      errno = ENOMEM;
      return NULL;
    }
    __atomic_store_n(&real_reallocarray, f, __ATOMIC_RELEASE);
  }
  return f(p, count, size);
}

/* ---- the interposers ------------------------------------------------------ */

INTERPOSER void free(void *p) {
  if (!p) return;
  if (LLAMA_PROF_UNLIKELY(llama_prof_live_maybe(p))) llama_prof_record_free(p, 0, 0);
  llama_prof_real_free(p);
}

/* realloc of a sampled pointer ends its lifetime (LLAMA_RAW_S_REALLOCATED)
 * unless it fails, which leaves the object as it was. The pointer leaves the
 * live set before the call: once realloc has freed it, its address can be
 * handed out and sampled again by another thread. */
/* Called by uninstrumented code, realloc is also an allocation: counted
 * at the external realloc pseudo-site with the new size and sampled like
 * an instrumented realloc (a realloc that frees returns NULL, which is not
 * recorded). */
INTERPOSER void *realloc(void *p, size_t n) {
  llama_prof_thread_t *t = &llama_prof_thread;
  int sampled = 0, external = llama_prof_external_wanted(t);
  if (external) {
    llama_prof_count(&llama_prof_external_sites[LLAMA_PROF_EXT_REALLOC], n);
    sampled = LLAMA_PROF_EXTERNAL_SAMPLED();
  }
  uint64_t taken = p ? llama_prof_take(p) : 0;
  t->forwarding++;
  void *q = llama_prof_real_realloc(p, n);
  t->forwarding--;
  if (LLAMA_PROF_UNLIKELY(taken)) {
    if (q || n == 0)
      llama_prof_sample_end(taken, 0, LLAMA_RAW_S_REALLOCATED);
    else
      llama_prof_sample_restore(p, taken);
  }
  if (LLAMA_PROF_UNLIKELY(sampled))
    llama_prof_record_alloc(q, n, &llama_prof_external_sites[LLAMA_PROF_EXT_REALLOC],
                            LLAMA_PROF_CALLER_RET(), LLAMA_PROF_CALLER_FRAME());
  return q;
}

INTERPOSER void *reallocarray(void *p, size_t count, size_t size) {
  llama_prof_thread_t *t = &llama_prof_thread;
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) n = SIZE_MAX;
  int sampled = 0, external = llama_prof_external_wanted(t);
  if (external) {
    llama_prof_count(&llama_prof_external_sites[LLAMA_PROF_EXT_REALLOCARRAY], n);
    sampled = LLAMA_PROF_EXTERNAL_SAMPLED();
  }
  uint64_t taken = p ? llama_prof_take(p) : 0;
  t->forwarding++;
  void *q = llama_prof_real_reallocarray(p, count, size);
  t->forwarding--;
  if (LLAMA_PROF_UNLIKELY(taken)) {
    if (q || count == 0 || size == 0)
      llama_prof_sample_end(taken, 0, LLAMA_RAW_S_REALLOCATED);
    else
      llama_prof_sample_restore(p, taken);
  }
  if (LLAMA_PROF_UNLIKELY(sampled))
    llama_prof_record_alloc(q, n, &llama_prof_external_sites[LLAMA_PROF_EXT_REALLOCARRAY],
                            LLAMA_PROF_CALLER_RET(), LLAMA_PROF_CALLER_FRAME());
  return q;
}

/* operator delete: end the lifetime, then the real operator delete (or the
 * real free when the process has no C++ runtime to forward to). */
#define DELETE1(kind, symbol)                                                 \
  INTERPOSER void symbol(void *p) {                                    \
    if (LLAMA_PROF_UNLIKELY(p && llama_prof_live_maybe(p)))                   \
      llama_prof_record_free(p, 0, 0);                                        \
    llama_prof_real_delete(kind, p, 0, 0);                                    \
  }
#define DELETE2(kind, symbol)                                                 \
  INTERPOSER void symbol(void *p, uintptr_t a) {                       \
    if (LLAMA_PROF_UNLIKELY(p && llama_prof_live_maybe(p)))                   \
      llama_prof_record_free(p, 0, 0);                                        \
    llama_prof_real_delete(kind, p, a, 0);                                    \
  }
#define DELETE3(kind, symbol)                                                 \
  INTERPOSER void symbol(void *p, uintptr_t a, uintptr_t b) {          \
    if (LLAMA_PROF_UNLIKELY(p && llama_prof_live_maybe(p)))                   \
      llama_prof_record_free(p, 0, 0);                                        \
    llama_prof_real_delete(kind, p, a, b);                                    \
  }

DELETE1(LLAMA_PROF_DEL_PLAIN, _ZdlPv)
DELETE1(LLAMA_PROF_DEL_ARRAY, _ZdaPv)
DELETE2(LLAMA_PROF_DEL_SIZED, _ZdlPvm)
DELETE2(LLAMA_PROF_DEL_ARRAY_SIZED, _ZdaPvm)
DELETE2(LLAMA_PROF_DEL_ALIGNED, _ZdlPvSt11align_val_t)
DELETE2(LLAMA_PROF_DEL_ARRAY_ALIGNED, _ZdaPvSt11align_val_t)
DELETE3(LLAMA_PROF_DEL_SIZED_ALIGNED, _ZdlPvmSt11align_val_t)
DELETE3(LLAMA_PROF_DEL_ARRAY_SIZED_ALIGNED, _ZdaPvmSt11align_val_t)
DELETE2(LLAMA_PROF_DEL_NOTHROW, _ZdlPvRKSt9nothrow_t)
DELETE2(LLAMA_PROF_DEL_ARRAY_NOTHROW, _ZdaPvRKSt9nothrow_t)
DELETE3(LLAMA_PROF_DEL_ALIGNED_NOTHROW, _ZdlPvSt11align_val_tRKSt9nothrow_t)
DELETE3(LLAMA_PROF_DEL_ARRAY_ALIGNED_NOTHROW, _ZdaPvSt11align_val_tRKSt9nothrow_t)

/* Our operator delete definitions' local addresses (hidden aliases). */
#define OWN_ALIAS(symbol) \
  void llama_prof_own##symbol(void) __attribute__((alias(#symbol), visibility("hidden")));
OWN_ALIAS(_ZdlPv)
OWN_ALIAS(_ZdaPv)
OWN_ALIAS(_ZdlPvm)
OWN_ALIAS(_ZdaPvm)
OWN_ALIAS(_ZdlPvSt11align_val_t)
OWN_ALIAS(_ZdaPvSt11align_val_t)
OWN_ALIAS(_ZdlPvmSt11align_val_t)
OWN_ALIAS(_ZdaPvmSt11align_val_t)
OWN_ALIAS(_ZdlPvRKSt9nothrow_t)
OWN_ALIAS(_ZdaPvRKSt9nothrow_t)
OWN_ALIAS(_ZdlPvSt11align_val_tRKSt9nothrow_t)
OWN_ALIAS(_ZdaPvSt11align_val_tRKSt9nothrow_t)

static void (*const own_delete[LLAMA_PROF_DEL_COUNT])(void) = {
    [LLAMA_PROF_DEL_PLAIN] = llama_prof_own_ZdlPv,
    [LLAMA_PROF_DEL_ARRAY] = llama_prof_own_ZdaPv,
    [LLAMA_PROF_DEL_SIZED] = llama_prof_own_ZdlPvm,
    [LLAMA_PROF_DEL_ARRAY_SIZED] = llama_prof_own_ZdaPvm,
    [LLAMA_PROF_DEL_ALIGNED] = llama_prof_own_ZdlPvSt11align_val_t,
    [LLAMA_PROF_DEL_ARRAY_ALIGNED] = llama_prof_own_ZdaPvSt11align_val_t,
    [LLAMA_PROF_DEL_SIZED_ALIGNED] = llama_prof_own_ZdlPvmSt11align_val_t,
    [LLAMA_PROF_DEL_ARRAY_SIZED_ALIGNED] = llama_prof_own_ZdaPvmSt11align_val_t,
    [LLAMA_PROF_DEL_NOTHROW] = llama_prof_own_ZdlPvRKSt9nothrow_t,
    [LLAMA_PROF_DEL_ARRAY_NOTHROW] = llama_prof_own_ZdaPvRKSt9nothrow_t,
    [LLAMA_PROF_DEL_ALIGNED_NOTHROW] = llama_prof_own_ZdlPvSt11align_val_tRKSt9nothrow_t,
    [LLAMA_PROF_DEL_ARRAY_ALIGNED_NOTHROW] = llama_prof_own_ZdaPvSt11align_val_tRKSt9nothrow_t,
};

static void resolve_delete(int kind) {
  if (__atomic_load_n(&delete_resolved[kind], __ATOMIC_ACQUIRE)) return;
  if (llama_prof_thread.resolving) return;
  void *f = resolve(delete_symbol[kind], (void *)own_delete[kind]);
  __atomic_store_n(&real_delete[kind], f, __ATOMIC_RELEASE);
  __atomic_store_n(&delete_resolved[kind], 1, __ATOMIC_RELEASE);
}

void llama_prof_real_delete(int kind, void *p, uintptr_t a, uintptr_t b) {
  if (LLAMA_PROF_UNLIKELY(llama_prof_boot_owns(p))) return;
  resolve_delete(kind);
  void *f = __atomic_load_n(&real_delete[kind], __ATOMIC_ACQUIRE);
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
