/* llama_test.h - helpers shared by the runtime lit tests (test/runtime/).
 * Header-only; include as "../Inputs/llama_test.h". Every helper avoids
 * allocating so it can run between two llama_stats_get() snapshots. */
#ifndef LLAMA_TEST_H
#define LLAMA_TEST_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __cplusplus
#include <atomic>
static std::atomic<unsigned long> lt_failures{0};
#define LT_FAIL_INC() (lt_failures.fetch_add(1) + 1)
#define LT_FAILS() (lt_failures.load())
#else
#include <stdatomic.h>
static atomic_ulong lt_failures;
#define LT_FAIL_INC() (atomic_fetch_add(&lt_failures, 1) + 1)
#define LT_FAILS() (atomic_load(&lt_failures))
#endif

/* Prints to stderr (or LT_LOG_FD) with write(2): no stdio buffer, no
 * allocation. */
#ifndef LT_LOG_FD
#define LT_LOG_FD 2
#endif
__attribute__((format(printf, 1, 2))) static void lt_log(const char *fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
  ssize_t w = write(LT_LOG_FD, buf, (size_t)n);
  (void)w;
}

/* EXPECT(cond, fmt, ...): on failure prints "FAIL file:line: cond: message"
 * and counts it; the test's summary line reports the count and main returns
 * non-zero. At most 200 failures are printed. */
#define EXPECT(cond, ...)                                                      \
  do {                                                                         \
    if (!(cond)) {                                                             \
      unsigned long lt_n_ = LT_FAIL_INC();                                     \
      if (lt_n_ <= 200) {                                                      \
        lt_log("FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond);                 \
        lt_log(__VA_ARGS__);                                                   \
        lt_log("\n");                                                          \
      }                                                                        \
    }                                                                          \
  } while (0)

/* Fatal variant: prints and exits at once (for conditions after which the
 * test cannot continue, e.g. an allocation that must succeed). */
#define REQUIRE(cond, ...)                                                     \
  do {                                                                         \
    if (!(cond)) {                                                             \
      lt_log("FATAL %s:%d: %s: ", __FILE__, __LINE__, #cond);                  \
      lt_log(__VA_ARGS__);                                                     \
      lt_log("\n");                                                            \
      _exit(2);                                                                \
    }                                                                          \
  } while (0)

/* Deterministic pattern: 8-byte word w of a block filled with seed s is
 * lt_word(s, w); byte i is byte i%8 of word i/8 (little-endian). */
static inline uint64_t lt_word(uint64_t s, uint64_t w) {
  uint64_t x = (s + 1) * 0x9E3779B97F4A7C15ull ^ (w + 1) * 0xBF58476D1CE4E5B9ull;
  x ^= x >> 31;
  x *= 0x94D049BB133111EBull;
  return x ^ (x >> 29);
}
static inline unsigned char lt_pat(uint64_t s, size_t i) {
  return (unsigned char)(lt_word(s, i >> 3) >> ((i & 7) * 8));
}

static inline void lt_fill(void *p, size_t n, uint64_t s) {
  unsigned char *c = (unsigned char *)p;
  size_t w = 0;
  for (; (w + 1) * 8 <= n; w++) {
    uint64_t x = lt_word(s, w);
    memcpy(c + w * 8, &x, 8);
  }
  for (size_t i = w * 8; i < n; i++) c[i] = lt_pat(s, i);
}

/* Returns the index of the first mismatching byte, or (size_t)-1. */
static inline size_t lt_check(const void *p, size_t n, uint64_t s) {
  const unsigned char *c = (const unsigned char *)p;
  size_t w = 0;
  for (; (w + 1) * 8 <= n; w++) {
    uint64_t x;
    memcpy(&x, c + w * 8, 8);
    if (x != lt_word(s, w)) break;
  }
  for (size_t i = w * 8; i < n; i++)
    if (c[i] != lt_pat(s, i)) return i;
  return (size_t)-1;
}

#define LT_VERIFY(p, n, s, what)                                               \
  do {                                                                         \
    size_t lt_i_ = lt_check((p), (n), (s));                                    \
    EXPECT(lt_i_ == (size_t)-1,                                                \
           "%s: pattern damaged at byte %zu of %zu (block %p, seed %llu)",     \
           (what), lt_i_, (size_t)(n), (void *)(p), (unsigned long long)(s));  \
  } while (0)

static inline int lt_is_zero(const void *p, size_t n) {
  const unsigned char *c = (const unsigned char *)p;
  for (size_t i = 0; i < n; i++)
    if (c[i]) return 0;
  return 1;
}

static inline int lt_aligned(const void *p, size_t a) {
  return ((uintptr_t)p & (a - 1)) == 0;
}

/* xorshift64* */
static inline uint64_t lt_rand(uint64_t *st) {
  uint64_t x = *st;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *st = x;
  return x * 0x2545F4914F6CDD1Dull;
}

#ifdef LLAMALLOC_H
static inline uint64_t lt_sum_bins(const llama_stats_t *s, size_t off) {
  uint64_t t = 0;
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++)
    t += *(const uint64_t *)((const char *)&s->bins[b] + off);
  return t;
}
#define LT_SUM(s, field) lt_sum_bins((s), offsetof(llama_bin_stats_t, field))

static inline void lt_print_stats(const char *tag, const llama_stats_t *s) {
  lt_log("stats %s: static %llu predicted %llu default %llu threads %llu "
         "large %llu/%lluB hp resident %llu cached %llu peak %llu returned %llu\n",
         tag, (unsigned long long)s->allocations_static,
         (unsigned long long)s->allocations_predicted,
         (unsigned long long)s->allocations_default,
         (unsigned long long)s->threads,
         (unsigned long long)s->large_live_objects,
         (unsigned long long)s->large_live_bytes,
         (unsigned long long)s->huge_pages_resident,
         (unsigned long long)s->huge_pages_cached,
         (unsigned long long)s->huge_pages_peak,
         (unsigned long long)s->huge_pages_returned);
  for (unsigned b = 0; b < LLAMA_NUM_BINS; b++) {
    const llama_bin_stats_t *x = &s->bins[b];
    lt_log("  bin %u: live %llu obj %lluB allocs %llu hp held %llu acq %llu "
           "rel %llu prom in %llu out %llu\n",
           b, (unsigned long long)x->live_objects,
           (unsigned long long)x->live_bytes,
           (unsigned long long)x->allocations,
           (unsigned long long)x->huge_pages_held,
           (unsigned long long)x->huge_pages_acquired,
           (unsigned long long)x->huge_pages_released,
           (unsigned long long)x->promotions_in,
           (unsigned long long)x->promotions_out);
  }
}
#endif

/* Watchdog: a deadlock or livelock becomes a reported failure instead of a
 * hung test run. Children of fork() inherit the handler but not the alarm. */
#include <signal.h>
static void lt_alarm_handler(int sig) {
  static const char msg[] = "FAIL: watchdog: test timed out (deadlock or livelock?)\n";
  ssize_t w = write(2, msg, sizeof msg - 1);
  (void)w;
  (void)sig;
  _exit(3);
}
/* A crash says so (and in which process) before dying by the same signal,
 * so FileCheck's input dump shows it. Left to the sanitizer in ASan/TSan
 * builds, which print better reports. */
__attribute__((unused)) static void lt_crash_handler(int sig) {
  char msg[96];
  int n = snprintf(msg, sizeof msg, "FAIL: crashed with signal %d (%s) in pid %d\n", sig,
                   sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" :
                   sig == SIGABRT ? "SIGABRT" : sig == SIGILL ? "SIGILL" : "SIGFPE",
                   (int)getpid());
  ssize_t w = write(2, msg, n > 0 ? (size_t)n : 0);
  (void)w;
  signal(sig, SIG_DFL);
  raise(sig);
}
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define LT_SANITIZER_SIGNALS 1
#endif
#endif
static inline void lt_watchdog(unsigned seconds) {
  signal(SIGALRM, lt_alarm_handler);
  alarm(seconds);
#ifndef LT_SANITIZER_SIGNALS
  static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGILL, SIGFPE};
  for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], lt_crash_handler);
#endif
}

/* Final line every test prints (and FileCheck matches); returns main's exit
 * status. */
static inline int lt_summary(const char *name) {
  unsigned long f = LT_FAILS();
  lt_log("%s: %s (%lu failures)\n", name, f ? "FAILED" : "PASSED", f);
  return f ? 1 : 0;
}

#endif
