/* symtab.c - function names for return addresses, inside malloc.
 *
 * The dynamic path asks the model about a calling context only on a cache
 * miss, and the model wants function names (the tokens of linkage names),
 * not addresses. dladdr() would do, but it only sees .dynsym (no static
 * functions) and glibc's may allocate; libunwind and backtrace_symbols
 * allocate too. So this file reads the symbol tables itself:
 *
 *   dl_iterate_phdr        every loaded module: load bias, PT_LOAD range,
 *                          path ("" is the main program: /proc/self/exe)
 *   open + pread the file  when an address first falls in the module: its
 *                          ELF section headers, .symtab (else .dynsym)
 *   function symbols       STT_FUNC / STT_GNU_IFUNC with a size, as
 *                          [start, end) + a copy of the name, in an mmap'd
 *                          array sorted by a heapsort (libc's qsort may
 *                          malloc)
 *   lookup                 binary search of address - 1 (a return address
 *                          may be one past the last byte of a noreturn call)
 *
 * A snapshot of all modules is built under a lock and published with one
 * release store; lookups read it lock-free. Snapshots are never unmapped (a
 * reader may still hold one) and neither are symbol tables, so a name
 * pointer stays valid after dlclose. Files are read, never mapped: only the
 * function symbols of the modules that held a frame stay resident. A rebuild happens only when an address
 * lies in no module of the snapshot and the loader's count of loaded or
 * unloaded objects changed since (dlpi_adds / dlpi_subs), so code outside
 * every module (a JIT) does not trigger rebuilds. A rebuild reuses the
 * tables of modules that did not move.
 *
 * Everything here uses open/fstat/pread/mmap/close and the stack: no malloc, no
 * stdio. It runs with the caller's recursion guard set anyway. */
#include "internal.h"

#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct sym_s {
  uintptr_t start, end;
  const char *name;
} sym_t;

typedef struct module_s {
  uintptr_t bias;      /* load bias (dlpi_addr) */
  uintptr_t lo, hi;    /* union of the PT_LOAD segments, absolute */
  const sym_t *syms;   /* sorted by start; NULL if the file has none */
  size_t count;
  bool outer;          /* libc or ld.so */
  _Atomic bool loaded; /* syms and count are final (release store) */
  const char *path;    /* in the snapshot's pool; for the lazy load */
} module_t;

#define MAX_MODULES 2048

typedef struct snapshot_s {
  unsigned long long adds, subs; /* loader counters when built */
  size_t count;
  size_t paths_used;
  module_t modules[MAX_MODULES];
  char paths[256 * 1024]; /* module paths, touched only as far as used */
} snapshot_t;

static _Atomic(snapshot_t *) current;
static pthread_mutex_t build_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- reading one ELF file ---------------------------------------------------- */

static void *map_pages(size_t n) {
  return llama_os_map((n + 4095) & ~(size_t)4095);
}

static void sift_down(sym_t *a, size_t root, size_t n) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n && a[child + 1].start > a[child].start) child++;
    if (a[root].start >= a[child].start) return;
    sym_t t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}

/* In-place heapsort by start: O(n log n), no allocation, no recursion. */
static void sort_syms(sym_t *a, size_t n) {
  if (n < 2) return;
  for (size_t i = n / 2; i-- > 0;) sift_down(a, i, n);
  for (size_t end = n - 1; end > 0; end--) {
    sym_t t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift_down(a, 0, end);
  }
}

static bool is_function(const Elf64_Sym *s) {
  unsigned type = ELF64_ST_TYPE(s->st_info);
  return (type == STT_FUNC || type == STT_GNU_IFUNC) && s->st_size != 0 &&
         s->st_shndx != SHN_UNDEF && s->st_name != 0;
}

/* pread of exactly n bytes at off. */
static bool read_at(int fd, void *buf, size_t n, uint64_t off) {
  uint8_t *p = buf;
  while (n) {
    ssize_t r = pread(fd, p, n, (off_t)off);
    if (r <= 0) return false;
    p += r;
    n -= (size_t)r;
    off += (uint64_t)r;
  }
  return true;
}

#define SYM_CHUNK 128 /* symbols read per pread (3 KiB of stack) */

/* Reads the function symbols of the ELF file at path into *m. Any problem
 * (not a file, not ELF64, truncated, no symbol table) leaves it without
 * symbols: its frames are then unsymbolised.
 *
 * The file is read with pread, not mapped: a mapping of it would keep every
 * page of .symtab that the scan touched in the process's RSS (measured:
 * 0.6 MiB of file pages in the SQLite shell, for a 12 MiB heap). The
 * string table is read into a scratch mapping that is unmapped at the end;
 * the names of the function symbols are copied, packed, after the sorted
 * array, in the one mapping that stays. */
static void load_symbols(const char *path, module_t *m) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  Elf64_Ehdr eh;
  Elf64_Shdr *sh = NULL;
  char *strtab = NULL;
  sym_t *out = NULL;
  size_t sh_bytes = 0, strsize = 0, out_bytes = 0;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !read_at(fd, &eh, sizeof eh, 0)) goto out;
  uint64_t size = (uint64_t)st.st_size;
  if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff == 0 || eh.e_shoff > size ||
      eh.e_shnum == 0 || (size - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum)
    goto out;
  sh_bytes = (size_t)eh.e_shnum * sizeof(Elf64_Shdr);
  if (!(sh = map_pages(sh_bytes)) || !read_at(fd, sh, sh_bytes, eh.e_shoff)) goto out;
  const Elf64_Shdr *symtab = NULL;
  for (unsigned pass = 0; pass < 2 && !symtab; pass++)
    for (unsigned i = 0; i < eh.e_shnum; i++)
      if (sh[i].sh_type == (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM) && sh[i].sh_size) {
        symtab = &sh[i];
        break;
      }
  if (!symtab || symtab->sh_link >= eh.e_shnum || symtab->sh_entsize != sizeof(Elf64_Sym) ||
      symtab->sh_offset > size || symtab->sh_size > size - symtab->sh_offset)
    goto out;
  const Elf64_Shdr *strsec = &sh[symtab->sh_link];
  if (strsec->sh_offset > size || strsec->sh_size == 0 || strsec->sh_size > size - strsec->sh_offset)
    goto out;
  strsize = strsec->sh_size;
  if (!(strtab = map_pages(strsize)) || !read_at(fd, strtab, strsize, strsec->sh_offset) ||
      strtab[strsize - 1] != '\0') /* names must end inside it */
    goto out;
  /* Pass 1 counts the functions and their name bytes; pass 2 fills. */
  size_t nsyms = symtab->sh_size / sizeof(Elf64_Sym), count = 0, name_bytes = 0;
  char *names = NULL;
  for (unsigned pass = 0; pass < 2; pass++) {
    size_t n = 0, used = 0;
    for (size_t i = 0; i < nsyms; i += SYM_CHUNK) {
      Elf64_Sym chunk[SYM_CHUNK];
      size_t k = nsyms - i < SYM_CHUNK ? nsyms - i : SYM_CHUNK;
      if (!read_at(fd, chunk, k * sizeof(Elf64_Sym), symtab->sh_offset + i * sizeof(Elf64_Sym)))
        goto out;
      for (size_t j = 0; j < k; j++) {
        const Elf64_Sym *sym = &chunk[j];
        if (!is_function(sym) || sym->st_name >= strsize) continue;
        const char *name = strtab + sym->st_name;
        size_t len = strlen(name) + 1;
        if (pass == 1 && n < count && used + len <= name_bytes) {
          out[n].start = m->bias + (uintptr_t)sym->st_value;
          out[n].end = out[n].start + (uintptr_t)sym->st_size;
          out[n].name = memcpy(names + used, name, len);
          n++;
        }
        used += len;
        if (pass == 0) n++;
      }
    }
    if (pass == 0) {
      count = n;
      name_bytes = used;
      out_bytes = count * sizeof(sym_t) + name_bytes;
      if (count == 0 || !(out = map_pages(out_bytes))) goto out;
      names = (char *)(out + count);
    } else {
      count = n; /* the file changed under us: keep what was read */
    }
  }
  sort_syms(out, count);
  m->syms = out;
  m->count = count;
  out = NULL;
out:
  if (out) munmap(out, (out_bytes + 4095) & ~(size_t)4095);
  if (strtab) munmap(strtab, (strsize + 4095) & ~(size_t)4095);
  if (sh) munmap(sh, (sh_bytes + 4095) & ~(size_t)4095);
  close(fd);
}

/* ---- building a snapshot ---------------------------------------------------- */

static bool is_outer_path(const char *path) {
  const char *base = path;
  for (const char *c = path; *c; c++)
    if (*c == '/') base = c + 1;
  return strncmp(base, "libc.so", 7) == 0 || strncmp(base, "ld-linux", 8) == 0 ||
         strncmp(base, "libpthread.so", 13) == 0;
}

typedef struct build_s {
  snapshot_t *fresh;
  const snapshot_t *old;
} build_t;

static int add_module(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  build_t *b = data;
  snapshot_t *s = b->fresh;
  if (s->count == 0) {
    s->adds = info->dlpi_adds;
    s->subs = info->dlpi_subs;
  }
  if (s->count == MAX_MODULES) return 0;
  uintptr_t lo = UINTPTR_MAX, hi = 0;
  for (unsigned i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type != PT_LOAD) continue;
    uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (start < lo) lo = start;
    if (start + ph->p_memsz > hi) hi = start + ph->p_memsz;
  }
  if (lo >= hi) return 0;
  module_t *m = &s->modules[s->count++];
  m->bias = info->dlpi_addr;
  m->lo = lo;
  m->hi = hi;
  m->syms = NULL;
  m->count = 0;
  m->path = NULL;
  const char *path = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "/proc/self/exe";
  m->outer = is_outer_path(path);
  /* The same object at the same place as before: reuse its table. */
  if (b->old)
    for (size_t i = 0; i < b->old->count; i++) {
      const module_t *o = &b->old->modules[i];
      if (o->bias == m->bias && o->lo == lo && o->hi == hi &&
          atomic_load_explicit(&o->loaded, memory_order_acquire)) {
        m->syms = o->syms;
        m->count = o->count;
        atomic_store_explicit(&m->loaded, true, memory_order_relaxed);
        return 0;
      }
    }
  /* Symbols are read when an address first falls in the module: most
   * modules of a process never hold an unclassified allocation's frame. */
  size_t len = strlen(path) + 1;
  if (len <= sizeof s->paths - s->paths_used) {
    m->path = memcpy(s->paths + s->paths_used, path, len);
    s->paths_used += len;
  } else {
    load_symbols(path, m); /* no room to keep the path: now */
    atomic_store_explicit(&m->loaded, true, memory_order_relaxed);
  }
  return 0;
}

/* The module's symbols, read on first use (under the build lock). */
static const module_t *module_ready(module_t *m) {
  if (LLAMA_LIKELY(atomic_load_explicit(&m->loaded, memory_order_acquire))) return m;
  pthread_mutex_lock(&build_lock);
  if (!atomic_load_explicit(&m->loaded, memory_order_relaxed)) {
    load_symbols(m->path, m);
    atomic_store_explicit(&m->loaded, true, memory_order_release);
  }
  pthread_mutex_unlock(&build_lock);
  return m;
}

static void build(void) {
  snapshot_t *old = atomic_load_explicit(&current, memory_order_acquire);
  snapshot_t *fresh = map_pages(sizeof *fresh);
  if (!fresh) return;
  build_t b = {fresh, old};
  dl_iterate_phdr(add_module, &b);
  atomic_store_explicit(&current, fresh, memory_order_release);
  /* The old snapshot is left mapped: readers may still be using it. A
   * rebuild happens only when the loader's module set changed. */
}

static int read_counters(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  unsigned long long *c = data;
  c[0] = info->dlpi_adds;
  c[1] = info->dlpi_subs;
  return 1; /* the first module is enough */
}

/* Rebuilds when the snapshot is missing, or (stale) when the set of loaded
 * modules changed since it was built. */
static snapshot_t *refresh(const snapshot_t *seen, bool stale) {
  pthread_mutex_lock(&build_lock);
  snapshot_t *s = atomic_load_explicit(&current, memory_order_acquire);
  if (s == seen) { /* nobody rebuilt meanwhile */
    bool rebuild = s == NULL;
    if (!rebuild && stale) {
      unsigned long long c[2] = {s->adds, s->subs};
      dl_iterate_phdr(read_counters, c);
      rebuild = c[0] != s->adds || c[1] != s->subs;
    }
    if (rebuild) build();
  }
  s = atomic_load_explicit(&current, memory_order_acquire);
  pthread_mutex_unlock(&build_lock);
  return s;
}

/* ---- lookups ------------------------------------------------------------------ */

static const module_t *find_module(snapshot_t *s, uintptr_t a) {
  for (size_t i = 0; i < s->count; i++)
    if (a >= s->modules[i].lo && a < s->modules[i].hi) return module_ready(&s->modules[i]);
  return NULL;
}

static const char *find_symbol(const module_t *m, uintptr_t a) {
  size_t lo = 0, hi = m->count; /* last symbol with start <= a */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (m->syms[mid].start <= a) lo = mid + 1;
    else hi = mid;
  }
  /* Nested or aliased symbols: look back a little for one that covers a. */
  for (size_t i = lo, steps = 0; i-- > 0 && steps < 4; steps++)
    if (a < m->syms[i].end) return m->syms[i].name;
  return NULL;
}

void llama_symtab_lookup(const uintptr_t *addrs, unsigned n, llama_symbol_t *out) {
  snapshot_t *s = atomic_load_explicit(&current, memory_order_acquire);
  if (!s) s = refresh(NULL, false);
  bool refreshed = false;
  for (unsigned i = 0; i < n; i++) {
    uintptr_t a = addrs[i] - 1;
    const module_t *m = s ? find_module(s, a) : NULL;
    if (!m && s && !refreshed) {
      refreshed = true; /* at most one check per lookup */
      s = refresh(s, true);
      m = s ? find_module(s, a) : NULL;
    }
    out[i].name = m && m->count ? find_symbol(m, a) : NULL;
    out[i].outer = m && m->outer;
  }
}

/* fork: a child must not inherit the build lock held by a thread that does
 * not exist there. Snapshots and mappings are inherited as they are. */
void llama_symtab_fork_prepare(void) { pthread_mutex_lock(&build_lock); }
void llama_symtab_fork_parent(void) { pthread_mutex_unlock(&build_lock); }
void llama_symtab_fork_child(void) { pthread_mutex_init(&build_lock, NULL); }
