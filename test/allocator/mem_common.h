// Shared by the memory tests: process memory from /proc/self/smaps_rollup
// read with open/read (no malloc, so reading it never drives the allocator).
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

typedef struct { long rss_kib, huge_kib; } mem_t;

static inline long field_kib(const char *buf, const char *name) {
  const char *p = strstr(buf, name);
  return p ? strtol(p + strlen(name), NULL, 10) : -1;
}

static inline mem_t read_mem(void) {
  static char buf[8192];
  mem_t m = {-1, -1};
  int fd = open("/proc/self/smaps_rollup", O_RDONLY);
  if (fd < 0) return m;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return m;
  buf[n] = '\0';
  m.rss_kib = field_kib(buf, "\nRss:");
  m.huge_kib = field_kib(buf, "\nAnonHugePages:");
  return m;
}

/* Sleeps at least ms milliseconds (restarted after signals). */
static inline void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0) {
  }
}

/* Resident KiB of the whole 4 KiB pages in [p, p + bytes), exactly, by
 * mincore(2); ~0u if mincore fails. */
static inline unsigned range_resident_kib(const void *p, size_t bytes) {
  uintptr_t from = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
  uintptr_t to = ((uintptr_t)p + bytes) & ~(uintptr_t)4095;
  unsigned char vec[256];
  unsigned kib = 0;
  while (from < to) {
    size_t pages = (to - from) / 4096 < sizeof vec ? (to - from) / 4096 : sizeof vec;
    if (mincore((void *)from, pages * 4096, vec) != 0) return ~0u;
    for (size_t i = 0; i < pages; i++) kib += (vec[i] & 1) * 4;
    from += pages * 4096;
  }
  return kib;
}

/* Resident KiB of the 32 KiB unit (the runtime's unit of spans) holding p. */
static inline unsigned unit_resident_kib(const void *p) {
  enum { UNIT_BYTES = 32 * 1024 };
  return range_resident_kib((const void *)((uintptr_t)p & ~(uintptr_t)(UNIT_BYTES - 1)), UNIT_BYTES);
}

/* Runs fn in a new thread and waits for it: the tests' threads run one
 * after the other, so what they count is exact. */
static inline void run_thread(void *(*fn)(void *)) {
  pthread_t t;
  if (pthread_create(&t, NULL, fn, NULL) != 0 || pthread_join(t, NULL) != 0) {
    fputs("run_thread: cannot start a thread\n", stderr);
    exit(1);
  }
}
