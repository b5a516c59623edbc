/* os.c - every operating-system primitive libllamalloc uses: mappings,
 * huge-page advice, decommit, the clock, and writing to a file descriptor.
 * Nothing here allocates or touches stdio, so it is safe during
 * initialisation and inside malloc. */

#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

/* Maps size bytes of fresh zeroed memory; NULL on failure (errno untouched
 * by callers that do not care). */
void *llama_os_map(size_t size) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

/* Maps size bytes at an address aligned to alignment (a power of two >= the
 * page size) by over-mapping and trimming both ends. *mapped receives the
 * size kept (== size). */
void *llama_os_map_aligned(size_t size, size_t alignment, size_t *mapped) {
  if (size > SIZE_MAX - alignment) return NULL;
  size_t over = size + alignment;
  uint8_t *raw = llama_os_map(over);
  if (!raw) return NULL;
  uintptr_t aligned = ((uintptr_t)raw + alignment - 1) & ~(uintptr_t)(alignment - 1);
  size_t head = aligned - (uintptr_t)raw;
  size_t tail = over - head - size;
  if (head) munmap(raw, head);
  if (tail) munmap((uint8_t *)aligned + size, tail);
  if (mapped) *mapped = size;
  return (void *)aligned;
}

void llama_os_unmap(void *p, size_t size) {
  if (p && size) munmap(p, size);
}

/* Gives the physical memory back now; the range stays mapped and reads as
 * zeros on next touch. */
void llama_os_decommit(void *p, size_t size) {
  int saved = errno;
  madvise(p, size, MADV_DONTNEED);
  errno = saved;
}

void llama_os_hugepage_advise(void *p, size_t size) {
#ifdef MADV_HUGEPAGE
  if (llama_options.huge_pages) {
    int saved = errno;
    madvise(p, size, MADV_HUGEPAGE);
    errno = saved;
  }
#endif
}

/* Keeps a range on 4 KiB pages even when THP is "always" and stops khugepaged
 * from collapsing it (it would, with a single 4 KiB page present, at the
 * default max_ptes_none). */
void llama_os_hugepage_forbid(void *p, size_t size) {
#ifdef MADV_NOHUGEPAGE
  int saved = errno;
  madvise(p, size, MADV_NOHUGEPAGE);
  errno = saved;
#endif
}

/* Which 4 KiB pages of [p, p + size) are resident (mincore); size <= 2 MiB,
 * vec has a byte per page. False if the range is not mapped. */
bool llama_os_residency(const void *p, size_t size, unsigned char *vec) {
  int saved = errno;
  int r = mincore((void *)((uintptr_t)p & ~(uintptr_t)4095), size, vec);
  errno = saved;
  return r == 0;
}

/* Reads a small file (a /proc or /sys one) into buf, NUL-terminated;
 * false when it cannot be opened. open/read only: no malloc, no stdio. */
static bool read_small_file(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  size_t len = 0;
  for (;;) {
    ssize_t r = read(fd, buf + len, cap - 1 - len);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
    if (len == cap - 1) break;
  }
  close(fd);
  buf[len] = '\0';
  return true;
}

/* Reads "Rss:" and "AnonHugePages:" of /proc/self/smaps_rollup in bytes
 * (0 when unreadable). */
void llama_os_process_memory(uint64_t *rss, uint64_t *anon_huge) {
  *rss = *anon_huge = 0;
  int saved = errno;
  char buf[4096];
  if (!read_small_file("/proc/self/smaps_rollup", buf, sizeof buf)) {
    errno = saved;
    return;
  }
  for (char *line = buf; line && *line;) {
    uint64_t *field = NULL;
    if (!strncmp(line, "Rss:", 4)) field = rss;
    else if (!strncmp(line, "AnonHugePages:", 14)) field = anon_huge;
    if (field) {
      char *c = line;
      while (*c && (*c < '0' || *c > '9')) c++;
      uint64_t v = 0;
      while (*c >= '0' && *c <= '9') v = v * 10 + (uint64_t)(*c++ - '0');
      *field = v * 1024;
    }
    line = strchr(line, '\n');
    if (line) line++;
  }
  errno = saved;
}

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

/* Whether transparent huge pages are off for this process:
 * prctl(PR_SET_THP_DISABLE), which Ruby, for one, sets early in main. There
 * MADV_HUGEPAGE still succeeds, MADV_COLLAPSE fails with EINVAL and no page
 * ever becomes huge. */
bool llama_os_thp_disabled(void) {
  int saved = errno;
  bool off = prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1;
  errno = saved;
  return off;
}

/* THP "never" in sysfs (read when a collapse fails, not before: no file
 * read on the way of programs whose collapses work). */
static bool thp_never(void) {
  char buf[128];
  return read_small_file("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof buf) &&
         strstr(buf, "[never]") != NULL;
}

/* After a collapse failed for good reason (THP off, none to be had), none
 * is tried for a second: the page's next carve would otherwise retry (four
 * syscalls, two of them rewriting the mapping's flags) every time. */
static _Atomic uint64_t collapse_retry_ns;

/* MADV_HUGEPAGE (unless the caller advised p already) and MADV_COLLAPSE
 * on the 2 MiB page at p, and what a failure means (below). errno kept. */
static int collapse_at(void *p, uint64_t now, bool advised) {
  int saved = errno;
  int huge = 1;
#ifdef MADV_HUGEPAGE
  if (!advised && madvise(p, HUGE_PAGE_SIZE, MADV_HUGEPAGE) != 0) huge = 0; /* THP not built in */
#endif
  if (huge && madvise(p, HUGE_PAGE_SIZE, MADV_COLLAPSE) != 0) {
    if (errno == EAGAIN) huge = -1;
    else huge = errno == EINVAL && !llama_os_thp_disabled() && !thp_never();
  }
  if (huge <= 0) llama_os_hugepage_forbid(p, HUGE_PAGE_SIZE);
  if (huge == 0) atomic_store_explicit(&collapse_retry_ns, now + 1000000000ull, memory_order_relaxed);
  errno = saved;
  return huge;
}

/* Makes the 2 MiB page at p huge. 1: it is huge now, or will be when
 * khugepaged gets to it (kernels before 6.1 have no MADV_COLLAPSE: EINVAL
 * with THP on). 0: it stays on 4 KiB pages (THP off for the process or in
 * sysfs, or not built in: MADV_HUGEPAGE itself fails; no huge page to be
 * had: ENOMEM): then it is forbidden again, so that khugepaged does not
 * collapse it behind the caller's back, and no collapse is tried for a
 * second. -1: the kernel could not collapse it just now (EAGAIN: one of its
 * pages was busy, typically still in the faulting CPU's LRU batch when the
 * background thread runs on the other CPU); forbidden again too, but worth
 * another try soon, and no pause for the other pages. Treating EAGAIN as
 * final left dense pages on 4 KiB pages for good: bench_lifetime's huge
 * share went from 0.75 to 0.39 between two runs of the same library. */
int llama_os_hugepage_collapse(void *p) {
  if (!llama_options.huge_pages) return 0;
  uint64_t now = llama_coarse_ns();
  if (now < atomic_load_explicit(&collapse_retry_ns, memory_order_relaxed)) return 0;
  return collapse_at(p, now, false);
}

/* Advises the page, touches its first byte (zero, as in any new page) so
 * that the kernel faults in a huge page, and then checks: MADV_COLLAPSE
 * returns at once on a range already mapped huge, and otherwise makes it
 * huge now, where the fault fell back to 4 KiB pages (no huge page free at
 * that moment, or THP "never" in sysfs, which faults obey and MADV_COLLAPSE
 * does not). A page believed huge but on 4 KiB pages would keep its free
 * units resident: its spans are not trimmed and it is never collapsed. Not
 * during the pause after a failed collapse, nor with THP off for the
 * process. On a kernel without MADV_COLLAPSE (before 6.1) the advised fault
 * is trusted, as a collapse's EINVAL is above. */
bool llama_os_hugepage_fault_huge(void *p) {
#ifdef MADV_HUGEPAGE
  if (!llama_options.huge_pages || llama_os_thp_disabled()) return false;
  uint64_t now = llama_coarse_ns();
  if (now < atomic_load_explicit(&collapse_retry_ns, memory_order_relaxed)) return false;
  int saved = errno;
  bool advised = madvise(p, HUGE_PAGE_SIZE, MADV_HUGEPAGE) == 0;
  errno = saved;
  if (!advised) return false;
  *(volatile uint8_t *)p = 0;
  return collapse_at(p, now, true) > 0;
#else
  (void)p;
  return false;
#endif
}

uint64_t llama_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A few milliseconds coarse, and cheaper: for idle-time stamps. */
uint64_t llama_coarse_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void llama_write_fd(int fd, const char *s, size_t n) {
  int saved = errno;
  while (n > 0) {
    ssize_t w = write(fd, s, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      break;
    }
    s += w;
    n -= (size_t)w;
  }
  errno = saved;
}

/* The one reporting function: rate-limited (at most 16 messages per process),
 * no allocation, only with LLAMA_VERBOSE=1 unless the message is fatal. */
void llama_report(const char *msg, const char *detail) {
  static _Atomic int reported;
  if (!llama_options.verbose) return;
  if (atomic_fetch_add_explicit(&reported, 1, memory_order_relaxed) >= 16) return;
  char buf[256];
  llama_buf_t b = {buf, 0, sizeof buf};
  llama_buf_str(&b, "llamalloc: ");
  llama_buf_str(&b, msg);
  if (detail) {
    llama_buf_str(&b, ": ");
    llama_buf_str(&b, detail);
  }
  llama_buf_str(&b, "\n");
  llama_write_fd(2, b.p, b.len);
}

void llama_assert_fail(const char *expr, const char *file, int line) {
  char buf[512];
  llama_buf_t b = {buf, 0, sizeof buf};
  llama_buf_str(&b, "llamalloc: assertion failed: ");
  llama_buf_str(&b, expr);
  llama_buf_str(&b, " at ");
  llama_buf_str(&b, file);
  llama_buf_str(&b, ":");
  llama_buf_u64(&b, (uint64_t)line, 0);
  llama_buf_str(&b, "\n");
  llama_write_fd(2, b.p, b.len);
  abort();
}

void llama_buf_str(llama_buf_t *b, const char *s) {
  while (*s && b->len + 1 < b->cap) b->p[b->len++] = *s++;
}

/* Right-aligns v in width columns (0: no padding). */
void llama_buf_u64(llama_buf_t *b, uint64_t v, int width) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (int i = n; i < width && b->len + 1 < b->cap; i++) b->p[b->len++] = ' ';
  while (n > 0 && b->len + 1 < b->cap) b->p[b->len++] = tmp[--n];
}

/* Formats a byte count as "123 B", "12.3 KiB", "1.5 MiB", "2.0 GiB". */
void llama_buf_bytes(llama_buf_t *b, uint64_t v, int width) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  unsigned u = 0;
  uint64_t scaled = v * 10; /* tenths */
  while (u < 4 && scaled >= 10240) {
    scaled /= 1024;
    u++;
  }
  char tmp[32];
  llama_buf_t t = {tmp, 0, sizeof tmp};
  llama_buf_u64(&t, scaled / 10, 0);
  if (u > 0) {
    llama_buf_str(&t, ".");
    llama_buf_u64(&t, scaled % 10, 0);
  }
  llama_buf_str(&t, " ");
  llama_buf_str(&t, units[u]);
  tmp[t.len] = 0;
  for (int i = (int)t.len; i < width && b->len + 1 < b->cap; i++) b->p[b->len++] = ' ';
  llama_buf_str(b, tmp);
}
