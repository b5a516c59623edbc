// liblivebytes.so - an LD_PRELOAD shim over glibc's malloc that keeps the
// program's live *requested* bytes exactly, for the physical bound of the
// real-program benchmarks (bench/real/rss_sampler.py --live, common.sh's
// "bound" configuration, docs/real-programs.md).
//
// Every block carries a 16-byte header right before the pointer the program
// gets: the size the program asked for and the offset from the pointer back
// to glibc's block. malloc, calloc, realloc, reallocarray, free,
// posix_memalign, aligned_alloc, memalign, valloc and pvalloc go through it;
// malloc_usable_size returns the requested size (SQLite's memsys uses it to
// size its own accounting, so it must not exceed what was counted). C++'s
// operator new and delete come through malloc and free in libstdc++. The
// allocations themselves are glibc's (__libc_malloc & co.), so nothing needs
// dlsym, and calloc called during the loader's start-up is an ordinary call.
//
// Counters (atomics: programs may be multi-threaded):
//   live       requested bytes allocated and not yet freed, updated on
//              every call;
//   peak_live  the largest value live ever had (a compare-and-swap maximum
//              after each increase, so the exact peak).
// Calls that fail (NULL, ENOMEM, EINVAL) change nothing.
//
// Publication: if LLAMA_LIVE_FILE is set when the shim loads, it opens or
// creates that file, makes it 4096 bytes long, maps it MAP_SHARED and keeps
// the counters in it from then on (zeroed first: nothing of an earlier run
// survives); a reader (rss_sampler.py) reads the file at any time. The
// page, all fields uint64_t in the machine's byte order:
//   offset  0  magic LIVEBYTES_MAGIC ("LIVEBYT1" as a little-endian
//              uint64_t), written last: until it is there, the
//              counters are not valid yet (read them as 0)
//   offset  8  live
//   offset 16  peak_live
//   offset 24  pid of the process that publishes
// The rest of the page is zero. Allocations before the shim's constructor
// (other libraries' constructors, the loader) are counted in private
// counters that move into the page then; a thread started by an earlier
// constructor that allocates while they move could be missed (none of the
// benchmark programs has one).
//
// One process publishes: the first one to load the shim with the variable
// set. A child of fork() leaves the page (pthread_atfork): its counters
// continue privately from the parent's values, and the page keeps counting
// the parent alone. A program started by the publisher (fork and exec,
// e.g. system()) finds the page held by a running process other than
// itself (the pid) and keeps private counters. A process that execs
// another program (a wrapper script's `exec prog`) keeps its pid: the new
// image takes the page over, counting from zero, as its memory does.
//
// The shim prints nothing and never aborts: when the file cannot be opened
// or mapped, the counters stay private.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

#define LIVEBYTES_MAGIC 0x315459424556494cull // "LIVEBYT1"
#define HDR 16u
#define PAGE 4096u

struct counters {
  _Atomic uint64_t magic;
  _Atomic uint64_t live;
  _Atomic uint64_t peak;
  _Atomic uint64_t pid;
};

// Right before every pointer the shim returns.
struct header {
  uint64_t size;   // requested bytes
  uint64_t offset; // pointer - offset = glibc's block
};

static struct counters private_counters;
static struct counters *_Atomic counters = &private_counters;

static inline struct counters *cur(void) {
  return atomic_load_explicit(&counters, memory_order_acquire);
}

static inline void count_add(uint64_t n) {
  struct counters *c = cur();
  uint64_t now = atomic_fetch_add_explicit(&c->live, n, memory_order_relaxed) + n;
  uint64_t peak = atomic_load_explicit(&c->peak, memory_order_relaxed);
  while (now > peak &&
         !atomic_compare_exchange_weak_explicit(&c->peak, &peak, now, memory_order_relaxed,
                                                memory_order_relaxed)) {
  }
}

static inline void count_sub(uint64_t n) {
  atomic_fetch_sub_explicit(&cur()->live, n, memory_order_relaxed);
}

static inline struct header *hdr_of(void *p) { return (struct header *)((char *)p - HDR); }

// p = glibc's block; the program's pointer is p + offset (offset >= HDR).
static inline void *finish(void *raw, size_t offset, size_t size) {
  char *p = (char *)raw + offset;
  struct header *h = hdr_of(p);
  h->size = size;
  h->offset = offset;
  count_add(size);
  return p;
}

EXPORT void *malloc(size_t size) {
  if (size > SIZE_MAX - HDR) {
    errno = ENOMEM;
    return NULL;
  }
  void *raw = __libc_malloc(size + HDR);
  return raw ? finish(raw, HDR, size) : NULL;
}

EXPORT void *calloc(size_t n, size_t m) {
  size_t size;
  if (__builtin_mul_overflow(n, m, &size) || size > SIZE_MAX - HDR) {
    errno = ENOMEM;
    return NULL;
  }
  // glibc's calloc, so that fresh pages from mmap stay untouched (the
  // program's RSS is what it would be without the shim).
  void *raw = __libc_calloc(1, size + HDR);
  return raw ? finish(raw, HDR, size) : NULL;
}

EXPORT void free(void *p) {
  if (!p)
    return;
  struct header *h = hdr_of(p);
  count_sub(h->size);
  __libc_free((char *)p - h->offset);
}

// align: a power of two. Alignments up to 16 are malloc's own (glibc's
// blocks are 16-aligned, and so is block + HDR).
static void *alloc_aligned(size_t align, size_t size) {
  if (align <= HDR)
    return malloc(size);
  if (size > SIZE_MAX - align) {
    errno = ENOMEM;
    return NULL;
  }
  // glibc's block is align-aligned; the program's pointer is align bytes
  // in, with the header right before it.
  void *raw = __libc_memalign(align, size + align);
  return raw ? finish(raw, align, size) : NULL;
}

static inline int pow2(size_t x) { return x && !(x & (x - 1)); }

EXPORT void *realloc(void *p, size_t size) {
  if (!p)
    return malloc(size);
  if (size == 0) { // glibc: frees and returns NULL
    free(p);
    return NULL;
  }
  struct header *h = hdr_of(p);
  uint64_t old = h->size;
  if (h->offset != HDR) {
    // An aligned block: glibc's realloc would not keep the alignment of
    // the pointer inside it. A fresh block (realloc guarantees malloc's
    // alignment only).
    void *q = malloc(size);
    if (!q)
      return NULL;
    memcpy(q, p, old < size ? old : size);
    free(p);
    return q;
  }
  if (size > SIZE_MAX - HDR) {
    errno = ENOMEM;
    return NULL;
  }
  void *raw = __libc_realloc((char *)p - HDR, size + HDR);
  if (!raw)
    return NULL;
  char *q = (char *)raw + HDR;
  hdr_of(q)->size = size;
  if (size > old)
    count_add(size - old);
  else
    count_sub(old - size);
  return q;
}

EXPORT void *reallocarray(void *p, size_t n, size_t m) {
  size_t size;
  if (__builtin_mul_overflow(n, m, &size)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(p, size);
}

EXPORT int posix_memalign(void **out, size_t align, size_t size) {
  if (!pow2(align) || align % sizeof(void *))
    return EINVAL;
  int saved = errno;
  void *p = alloc_aligned(align, size);
  if (!p)
    return ENOMEM;
  errno = saved;
  *out = p;
  return 0;
}

EXPORT void *aligned_alloc(size_t align, size_t size) {
  if (!pow2(align)) {
    errno = EINVAL;
    return NULL;
  }
  return alloc_aligned(align, size);
}

EXPORT void *memalign(size_t align, size_t size) {
  // glibc: any alignment; not a power of two: the next one up.
  if (align > ((size_t)1 << (sizeof(size_t) * 8 - 1))) {
    errno = EINVAL;
    return NULL;
  }
  size_t a = 1;
  while (a < align)
    a <<= 1;
  return alloc_aligned(a, size);
}

EXPORT void *valloc(size_t size) { return alloc_aligned((size_t)sysconf(_SC_PAGESIZE), size); }

EXPORT void *pvalloc(size_t size) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (size > SIZE_MAX - page) {
    errno = ENOMEM;
    return NULL;
  }
  // The program may use the whole rounded size: that is what it asked for.
  return alloc_aligned(page, size ? (size + page - 1) & ~(page - 1) : page);
}

EXPORT size_t malloc_usable_size(void *p) { return p ? (size_t)hdr_of(p)->size : 0; }

// fork: the child's counters continue privately from the parent's values.
static void atfork_child(void) {
  struct counters *c = cur();
  if (c == &private_counters)
    return;
  atomic_store_explicit(&private_counters.live, atomic_load(&c->live), memory_order_relaxed);
  atomic_store_explicit(&private_counters.peak, atomic_load(&c->peak), memory_order_relaxed);
  atomic_store_explicit(&counters, &private_counters, memory_order_release);
}

// True when the page belongs to another running process (one that started
// this one: fork and exec, e.g. system()).
static int page_taken(struct counters *page) {
  if (atomic_load(&page->magic) != LIVEBYTES_MAGIC)
    return 0;
  pid_t pid = (pid_t)atomic_load(&page->pid);
  return pid != getpid() && pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

__attribute__((constructor(101))) static void livebytes_init(void) {
  pthread_atfork(NULL, NULL, atfork_child);
  const char *path = getenv("LLAMA_LIVE_FILE");
  if (!path || !*path)
    return;
  int saved = errno;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    goto out;
  struct stat st;
  void *m = MAP_FAILED;
  if (fstat(fd, &st) == 0 && (st.st_size >= PAGE || ftruncate(fd, PAGE) == 0))
    m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (m == MAP_FAILED)
    goto out;
  struct counters *page = m;
  if (page_taken(page)) {
    munmap(m, PAGE);
    goto out;
  }
  // Ours: a new file, one left by a process that has ended, or the page of
  // the image this process ran before exec (whose memory is gone). Readers
  // see no magic until the counters are this process's.
  atomic_store(&page->magic, 0);
  memset((char *)m + sizeof(struct counters), 0, PAGE - sizeof(struct counters));
  atomic_store(&page->live, 0);
  atomic_store(&page->peak, 0);
  atomic_store(&page->pid, (uint64_t)getpid());
  // Counting moves to the page: the pointer first, then what the private
  // counters held until now (the page's own counts since the switch add to
  // it), then the magic that tells readers the counters are valid.
  atomic_store_explicit(&counters, page, memory_order_release);
  uint64_t live = atomic_exchange(&private_counters.live, 0);
  uint64_t peak = atomic_load(&private_counters.peak);
  uint64_t now = atomic_fetch_add(&page->live, live) + live;
  if (now > peak)
    peak = now;
  uint64_t p = atomic_load(&page->peak);
  while (peak > p && !atomic_compare_exchange_weak(&page->peak, &p, peak)) {
  }
  atomic_store_explicit(&page->magic, LIVEBYTES_MAGIC, memory_order_release);
out:
  errno = saved;
}
