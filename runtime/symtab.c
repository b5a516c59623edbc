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
 *                          start (from the module's lowest address), size
 *                          and the name's offset, 12 bytes each, in an
 *                          mmap'd array sorted by a heapsort (libc's qsort
 *                          may malloc); a name is read (pread) and interned
 *                          the first time a lookup returns its symbol, and
 *                          found again through a small hash table
 *   lookup                 binary search of address - 1 (a return address
 *                          may be one past the last byte of a noreturn call)
 *
 * A snapshot of all modules is built under a lock and published with one
 * release store; lookups read it lock-free. Snapshots are never unmapped (a
 * reader may still hold one) and neither are symbol tables, so a name
 * pointer stays valid after dlclose. Files are read, never mapped: only the
 * symbols of the modules that held a frame, and the names looked up, stay
 * resident. A rebuild happens only when an address
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

/* 12 bytes a function: the tables are what the dynamic path keeps of a
 * module, and SQLite's, libxml2's and libc's held 0.2 MiB of xmllint's
 * 9.5 MiB at 24 bytes (with the address and an interned-name pointer). */
typedef struct sym_s {
  uint32_t start;        /* address - the module's lowest address */
  uint32_t size;
  uint32_t name_offset;  /* in the file's string table */
} sym_t;

/* One file's function symbols, sorted by start, and where their names are:
 * names are read from the file only for the symbols a lookup returns. */
typedef struct table_s {
  const char *path;      /* copied after the symbols */
  uint64_t dev, ino;     /* the file read: a name is read from no other */
  uint64_t strtab_offset, strtab_size;
  uintptr_t base;        /* the module's lowest address: syms[].start is from here */
  uint32_t serial;       /* the table's number in the name cache's keys */
  size_t count;
  sym_t syms[];
} table_t;

typedef struct module_s {
  uintptr_t bias;      /* load bias (dlpi_addr) */
  uintptr_t lo, hi;    /* union of the PT_LOAD segments, absolute */
  table_t *table;      /* NULL if the file has no usable symbols */
  bool outer;          /* libc or ld.so */
  _Atomic bool loaded; /* table is final (release store) */
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

static void swap_syms(sym_t *a, sym_t *b) {
  sym_t t = *a;
  *a = *b;
  *b = t;
}

static void sift_down(sym_t *a, size_t root, size_t n) {
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n && a[child + 1].start > a[child].start) child++;
    if (a[root].start >= a[child].start) return;
    swap_syms(&a[root], &a[child]);
    root = child;
  }
}

/* In-place heapsort by start: O(n log n), no allocation, no recursion. */
static void sort_syms(sym_t *a, size_t n) {
  if (n < 2) return;
  for (size_t i = n / 2; i-- > 0;) sift_down(a, i, n);
  for (size_t end = n - 1; end > 0; end--) {
    swap_syms(&a[0], &a[end]);
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

/* Reads the function symbols of the ELF file at path into m->table. Any
 * problem (not a file, not ELF64, truncated, no symbol table) leaves it
 * without symbols: its frames are then unsymbolised.
 *
 * The file is read with pread, never mapped, and only the symbol table is
 * read here: a mapping would keep every page the scan touched in the
 * process's RSS (measured: 0.6 MiB of file pages in the SQLite shell, for a
 * 12 MiB heap), and copying every name would cost a large C++ program
 * megabytes. A name is read when a lookup first returns its symbol. */
/* Whether the ELF file's PT_LOAD segments span what the loader mapped for
 * the module (relative to its bias): a path that names another file now (a
 * library replaced on disk, a relative dlopen path after chdir) is not read. */
static bool same_segments(int fd, const Elf64_Ehdr *eh, const module_t *m, uint64_t size) {
  if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phoff > size ||
      (size - eh->e_phoff) / sizeof(Elf64_Phdr) < eh->e_phnum)
    return false;
  uint64_t lo = UINT64_MAX, hi = 0;
  for (unsigned i = 0; i < eh->e_phnum; i++) {
    Elf64_Phdr ph;
    if (!read_at(fd, &ph, sizeof ph, eh->e_phoff + (uint64_t)i * sizeof ph)) return false;
    if (ph.p_type != PT_LOAD) continue;
    if (ph.p_vaddr < lo) lo = ph.p_vaddr;
    if (ph.p_vaddr + ph.p_memsz > hi) hi = ph.p_vaddr + ph.p_memsz;
  }
  return lo == m->lo - m->bias && hi == m->hi - m->bias;
}

static uint32_t table_serials; /* build lock */

static void load_symbols(const char *path, module_t *m) {
  /* O_NONBLOCK: a FIFO of that name must not block malloc. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return;
  Elf64_Ehdr eh;
  Elf64_Shdr *sh = NULL;
  table_t *table = NULL;
  size_t sh_bytes = 0, table_bytes = 0;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !read_at(fd, &eh, sizeof eh, 0)) goto out;
  uint64_t size = (uint64_t)st.st_size;
  if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff == 0 || eh.e_shoff > size ||
      eh.e_shnum == 0 || (size - eh.e_shoff) / sizeof(Elf64_Shdr) < eh.e_shnum ||
      !same_segments(fd, &eh, m, size))
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
  if (strsec->sh_offset > size || strsec->sh_size == 0 || strsec->sh_size > size - strsec->sh_offset ||
      strsec->sh_size > UINT32_MAX)
    goto out;
  /* Pass 1 counts the functions; pass 2 fills the table. */
  size_t nsyms = symtab->sh_size / sizeof(Elf64_Sym), count = 0, path_len = strlen(path) + 1;
  for (unsigned pass = 0; pass < 2; pass++) {
    size_t n = 0;
    for (size_t i = 0; i < nsyms; i += SYM_CHUNK) {
      Elf64_Sym chunk[SYM_CHUNK];
      size_t k = nsyms - i < SYM_CHUNK ? nsyms - i : SYM_CHUNK;
      if (!read_at(fd, chunk, k * sizeof(Elf64_Sym), symtab->sh_offset + i * sizeof(Elf64_Sym)))
        goto out;
      for (size_t j = 0; j < k; j++) {
        const Elf64_Sym *sym = &chunk[j];
        uintptr_t start = m->bias + (uintptr_t)sym->st_value;
        if (!is_function(sym) || sym->st_name >= strsec->sh_size || sym->st_size > UINT32_MAX ||
            start < m->lo || start - m->lo > UINT32_MAX)
          continue;
        if (pass == 1) {
          if (n == count) break; /* the file changed under us */
          table->syms[n].start = (uint32_t)(start - m->lo);
          table->syms[n].size = (uint32_t)sym->st_size;
          table->syms[n].name_offset = sym->st_name;
        }
        n++;
      }
    }
    if (pass == 0) {
      count = n;
      table_bytes = sizeof(table_t) + count * sizeof(sym_t) + path_len;
      if (count == 0 || !(table = map_pages(table_bytes))) goto out;
    } else {
      count = n;
    }
  }
  sort_syms(table->syms, count);
  table->count = count;
  table->base = m->lo;
  table->serial = ++table_serials;
  table->dev = (uint64_t)st.st_dev;
  table->ino = (uint64_t)st.st_ino;
  table->strtab_offset = strsec->sh_offset;
  table->strtab_size = strsec->sh_size;
  table->path = memcpy((char *)table + table_bytes - path_len, path, path_len);
  m->table = table;
  table = NULL;
out:
  if (table) munmap(table, (table_bytes + 4095) & ~(size_t)4095);
  if (sh) munmap(sh, (sh_bytes + 4095) & ~(size_t)4095);
  close(fd);
}

/* ---- names, read on first use ---------------------------------------------------- */

#define NAME_MAX_BYTES 4096 /* longer names are cut (the model sees their start) */

/* Interned names: bump-allocated from 64 KiB mappings, never freed. */
static char *names_next, *names_end;

static const char *intern(const char *name, size_t len) {
  if ((size_t)(names_end - names_next) < len + 1) {
    char *chunk = map_pages(64 * 1024);
    if (!chunk) return NULL;
    names_next = chunk;
    names_end = chunk + 64 * 1024;
  }
  char *out = memcpy(names_next, name, len);
  out[len] = '\0';
  names_next += len + 1;
  return out;
}

/* The names read so far: open addressing over (table serial << 32 | symbol
 * index + 1) -> interned name, doubling when half full; the build lock
 * guards it (only cache misses look names up). A table that cannot grow
 * leaves names uncached: they are read again (and interned again) later. */
typedef struct name_slot_s {
  uint64_t key; /* 0: empty */
  const char *name;
} name_slot_t;
static name_slot_t *name_slots;
static size_t name_mask, name_used;

static uint64_t name_hash(uint64_t key) {
  key ^= key >> 31;
  key *= 0x9e3779b97f4a7c15ull;
  return key ^ (key >> 29);
}

static name_slot_t *name_slot(uint64_t key) {
  if (!name_slots) return NULL;
  for (size_t i = name_hash(key) & name_mask;; i = (i + 1) & name_mask)
    if (name_slots[i].key == key || name_slots[i].key == 0) return &name_slots[i];
}

static void name_insert(uint64_t key, const char *name) {
  if (!name_slots || (name_used + 1) * 2 > name_mask + 1) {
    size_t cap = name_slots ? 2 * (name_mask + 1) : 256;
    name_slot_t *fresh = map_pages(cap * sizeof *fresh), *old = name_slots;
    if (!fresh) return;
    size_t old_cap = old ? name_mask + 1 : 0;
    name_slots = fresh;
    name_mask = cap - 1;
    for (size_t i = 0; i < old_cap; i++)
      if (old[i].key) *name_slot(old[i].key) = old[i];
    if (old) munmap(old, (old_cap * sizeof *old + 4095) & ~(size_t)4095);
  }
  name_slot_t *slot = name_slot(key);
  if (slot->key == 0) name_used++;
  slot->key = key;
  slot->name = name;
}

/* The name of t->syms[i], read from the file the first time. NULL when the
 * file cannot be read any more. Under the build lock. */
static const char *read_name(const table_t *t, const sym_t *sym) {
  uint64_t key = (uint64_t)t->serial << 32 | (uint64_t)(sym - t->syms + 1);
  name_slot_t *slot = name_slot(key);
  if (slot && slot->key == key) return slot->name;
  const char *name;
  int fd = open(t->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st) != 0 || (uint64_t)st.st_dev != t->dev || (uint64_t)st.st_ino != t->ino) {
    close(fd); /* the path names another file now: no name rather than a wrong one */
    return NULL;
  }
  char buf[NAME_MAX_BYTES];
  uint64_t left = t->strtab_size - sym->name_offset;
  size_t want = left < sizeof buf ? (size_t)left : sizeof buf, len = 0;
  ssize_t r = pread(fd, buf, want, (off_t)(t->strtab_offset + sym->name_offset));
  close(fd);
  if (r <= 0) return NULL;
  while (len < (size_t)r && buf[len]) len++;
  name = intern(buf, len);
  if (name) name_insert(key, name);
  return name;
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
  m->table = NULL;
  m->path = NULL;
  const char *path = info->dlpi_name && *info->dlpi_name ? info->dlpi_name : "/proc/self/exe";
  /* A name without a slash is not a file (the vDSO's linux-vdso.so.1): it
   * would be looked up in the current directory. No symbols. */
  bool no_file = strchr(path, '/') == NULL;
  m->outer = is_outer_path(path);
  if (no_file) {
    atomic_store_explicit(&m->loaded, true, memory_order_relaxed);
    return 0;
  }
  /* The same object at the same place as before: reuse its table. */
  if (b->old)
    for (size_t i = 0; i < b->old->count; i++) {
      const module_t *o = &b->old->modules[i];
      if (o->bias == m->bias && o->lo == lo && o->hi == hi &&
          atomic_load_explicit(&o->loaded, memory_order_acquire)) {
        m->table = o->table;
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
    /* No room to keep the path (256 KiB of paths): no symbols. Reading the
     * file here would hold the loader's lock (we are inside
     * dl_iterate_phdr) across file I/O. */
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

static const char *find_symbol(const module_t *m, uintptr_t addr) {
  const table_t *t = m->table;
  if (addr < t->base || addr - t->base > UINT32_MAX) return NULL;
  uint32_t a = (uint32_t)(addr - t->base);
  size_t lo = 0, hi = t->count; /* last symbol with start <= a */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->syms[mid].start <= a) lo = mid + 1;
    else hi = mid;
  }
  /* Nested or aliased symbols: look back a little for one that covers a. */
  for (size_t i = lo, steps = 0; i-- > 0 && steps < 4; steps++) {
    const sym_t *sym = &t->syms[i];
    if (a - sym->start >= sym->size) continue;
    pthread_mutex_lock(&build_lock);
    const char *name = read_name(t, sym);
    pthread_mutex_unlock(&build_lock);
    return name;
  }
  return NULL;
}

unsigned llama_symtab_lookup(const uintptr_t *addrs, unsigned n, llama_symbol_t *out,
                             const char *stop) {
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
    out[i].name = m && m->table ? find_symbol(m, a) : NULL;
    out[i].outer = m && m->outer;
    if (stop && out[i].name && strcmp(out[i].name, stop) == 0) return i + 1;
  }
  return n;
}

/* fork: a child must not inherit the build lock held by a thread that does
 * not exist there. Snapshots and mappings are inherited as they are. */
void llama_symtab_fork_prepare(void) { pthread_mutex_lock(&build_lock); }
void llama_symtab_fork_parent(void) { pthread_mutex_unlock(&build_lock); }
void llama_symtab_fork_child(void) { pthread_mutex_init(&build_lock, NULL); }
