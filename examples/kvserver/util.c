/* util.c - the allocation wrappers every other module allocates through
 * (like xmalloc in real servers), the PRNG of the synthetic workload and the
 * clock that paces logical milliseconds against the wall clock.
 *
 * kv_xmalloc is called from dozens of places; the lifetime of what it returns
 * depends entirely on who called it, which is what the profiler's calling
 * contexts (and the model) have to find out.
 */
#include "kvserver.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void kv_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("kvserver: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  exit(1);
}

void *kv_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    kv_die("out of memory allocating %zu bytes", n);
  return p;
}

void *kv_xcalloc(size_t count, size_t size) {
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (!p)
    kv_die("out of memory allocating %zu x %zu bytes", count, size);
  return p;
}

void *kv_xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q)
    kv_die("out of memory reallocating to %zu bytes", n);
  return q;
}

void kv_free(void *p) { free(p); }

static size_t live_bytes;

void kv_live_add(size_t n) { live_bytes += n; }
void kv_live_sub(size_t n) { live_bytes -= n; }
size_t kv_live_bytes(void) { return live_bytes; }
size_t kv_str_size(const char *s) { return s ? strlen(s) + 1 : 0; }

/* splitmix64: tiny, fast, and the same sequence everywhere. */
void rng_seed(struct kv_rng *r, uint64_t seed, uint64_t stream) {
  r->state = seed * 0x9e3779b97f4a7c15ull + stream * 0xd1b54a32d192ed03ull + 1;
  (void)rng_next(r);
}

uint64_t rng_next(struct kv_rng *r) {
  uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint32_t rng_below(struct kv_rng *r, uint32_t n) {
  return n ? (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32) : 0;
}

uint32_t rng_range(struct kv_rng *r, uint32_t lo, uint32_t hi) {
  return lo + rng_below(r, hi - lo + 1);
}

int rng_percent(struct kv_rng *r, uint32_t pct) { return rng_below(r, 100) < pct; }

uint64_t hash_string(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
  return h;
}

static struct timespec pacing_start;

void clock_start_pacing(void) { clock_gettime(CLOCK_MONOTONIC, &pacing_start); }

/* Sleeps until logical_ms milliseconds after clock_start_pacing(); returns at
 * once when the loop is behind (it then catches up, keeping lifetimes close
 * to their planned values). */
void clock_wait_until_ms(uint64_t logical_ms) {
  struct timespec t = pacing_start;
  t.tv_sec += (time_t)(logical_ms / 1000);
  t.tv_nsec += (long)(logical_ms % 1000) * 1000000L;
  if (t.tv_nsec >= 1000000000L) {
    t.tv_sec++;
    t.tv_nsec -= 1000000000L;
  }
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
    ;
}

double clock_elapsed_seconds(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - pacing_start.tv_sec) +
         (double)(now.tv_nsec - pacing_start.tv_nsec) / 1e9;
}
