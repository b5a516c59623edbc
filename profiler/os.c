/* os.c - the OS primitives libllamaprof uses: anonymous mappings (the
 * profiler never calls malloc, so it cannot recurse into the allocator it
 * observes nor perturb it), the monotonic clock, thread ids, raw writes and
 * the one reporting function. */
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void *llama_prof_map(size_t size) {
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void llama_prof_unmap(void *p, size_t size) {
  if (p) munmap(p, size);
}

uint64_t llama_prof_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint32_t llama_prof_gettid(void) { return (uint32_t)syscall(SYS_gettid); }

int llama_prof_write_all(int fd, const void *data, size_t len) {
  const char *p = data;
  while (len) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) {
      errno = EIO;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

void llama_prof_str_addn(llama_prof_str_t *s, const char *text, size_t n) {
  if (!s->cap) return;
  for (size_t i = 0; i < n && s->len + 1 < s->cap; i++) s->p[s->len++] = text[i];
  s->p[s->len] = 0;
}

void llama_prof_str_add(llama_prof_str_t *s, const char *text) {
  llama_prof_str_addn(s, text, strlen(text));
}

void llama_prof_str_u64(llama_prof_str_t *s, uint64_t v) {
  char digits[24];
  size_t n = 0;
  do {
    digits[sizeof digits - 1 - n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  llama_prof_str_addn(s, digits + sizeof digits - n, n);
}

void llama_prof_report(const char *msg, const char *detail, int err) {
  static int reported;
  if (__atomic_fetch_add(&reported, 1, __ATOMIC_RELAXED) >= 64) return;
  char text[4096 + 256];
  llama_prof_str_t s = {text, 0, sizeof text};
  llama_prof_str_add(&s, "llama-prof: ");
  llama_prof_str_add(&s, msg);
  if (detail) {
    llama_prof_str_add(&s, " ");
    llama_prof_str_add(&s, detail);
  }
  if (err) {
    llama_prof_str_add(&s, ": ");
    llama_prof_str_add(&s, strerror(err));
  }
  llama_prof_str_add(&s, "\n");
  int saved = errno;
  llama_prof_write_all(2, s.p, s.len);
  errno = saved;
}

void llama_prof_buf_put(llama_prof_buf_t *b, const void *data, size_t n) {
  if (b->failed || !n) return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + n) cap *= 2;
    void *p = b->p ? mremap(b->p, b->cap, cap, MREMAP_MAYMOVE) : mmap(NULL, cap,
        PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      b->failed = errno ? errno : ENOMEM;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  if (data)
    memcpy(b->p + b->len, data, n);
  else
    memset(b->p + b->len, 0, n);
  b->len += n;
}

void llama_prof_buf_free(llama_prof_buf_t *b) {
  if (b->p) munmap(b->p, b->cap);
  b->p = NULL;
  b->len = b->cap = 0;
  b->failed = 0;
}
