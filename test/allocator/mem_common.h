// Shared by the memory tests: process memory from /proc/self/smaps_rollup
// read with open/read (no malloc, so reading it never drives the allocator).
#include <fcntl.h>
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

/* Resident KiB of the 32 KiB unit (the runtime's unit of spans) holding p,
 * exactly, by mincore(2); ~0u if mincore fails. */
static inline unsigned unit_resident_kib(const void *p) {
  enum { UNIT_BYTES = 32 * 1024 };
  uintptr_t unit = (uintptr_t)p & ~(uintptr_t)(UNIT_BYTES - 1);
  unsigned char vec[UNIT_BYTES / 4096];
  if (mincore((void *)unit, UNIT_BYTES, vec) != 0) return ~0u;
  unsigned kib = 0;
  for (unsigned i = 0; i < UNIT_BYTES / 4096; i++) kib += (vec[i] & 1) * 4;
  return kib;
}

