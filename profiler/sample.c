/* sample.c - the sampling decision and the sample records.
 *
 * Each thread counts down its allocations (llama_prof_skip, inline); when
 * the count reaches zero, llama_prof_sample_now decides and draws the next
 * interval from a geometric distribution of mean LLAMA_PROF_SAMPLE, so that
 * every allocation has the same chance 1/period of being sampled whatever
 * the program's allocation pattern (a fixed stride would alias with loops).
 *
 * A sampled allocation gets a record, a struct llama_raw_sample kept in
 * chunks of 64 Ki records (the dump copies them as they are), and its
 * pointer goes into the live set (live.c). A deallocation of a live pointer
 * writes the free time, thread and site into the record. Records are only
 * written under llama_prof_lock. When LLAMA_PROF_MAX_SAMPLES records exist,
 * sampled allocations are only counted (META samples_dropped). */
#include "internal.h"

#include <string.h>

__thread llama_prof_thread_t llama_prof_thread __attribute__((tls_model("initial-exec")));

/* ---- the sampling decision ----------------------------------------------- */

/* Natural logarithm of x > 0 (normal), to ~1e-10: the profiler does not
 * depend on libm (the static archive would need -lm). */
static double log_approx(double x) {
  union {
    double d;
    uint64_t u;
  } v = {x};
  int exponent = (int)((v.u >> 52) & 0x7ff) - 1023;
  v.u = (v.u & UINT64_C(0x000fffffffffffff)) | UINT64_C(0x3ff0000000000000);
  double m = v.d; /* [1, 2) */
  if (m > 1.4142135623730951) {
    m *= 0.5;
    exponent++;
  }
  double s = (m - 1) / (m + 1), s2 = s * s; /* |s| < 0.172 */
  double atanh = s * (1 + s2 * (1 / 3.0 + s2 * (1 / 5.0 + s2 * (1 / 7.0 + s2 * (1 / 9.0 +
                                                                         s2 / 11.0)))));
  return 2 * atanh + exponent * 0.6931471805599453;
}

static uint64_t rng_next(llama_prof_thread_t *t) {
  uint64_t x = t->rng;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  t->rng = x;
  return x * UINT64_C(0x2545f4914f6cdd1d);
}

static uint64_t splitmix(uint64_t x) {
  x += UINT64_C(0x9e3779b97f4a7c15);
  x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

static int sampling_full;         /* LLAMA_PROF_MAX_SAMPLES reached; atomic */
static uint64_t samples_dropped;  /* sampled, not recorded since; atomic */

/* Allocations until the next sample, the sampled one included: geometric
 * on {1, 2, ...} with mean `period`. */
static int64_t draw_interval(llama_prof_thread_t *t) {
  uint64_t period = llama_prof_options.sample_period;
  if (period == 0) return INT64_MAX / 2;
  if (period == 1) return 1;
  double keep = log_approx(1.0 - 1.0 / (double)period); /* < 0 */
  double u = (double)((rng_next(t) >> 11) + 1) * 0x1p-53; /* (0, 1] */
  double x = log_approx(u) / keep;
  if (!(x < 1e18)) return INT64_MAX / 2;
  return (int64_t)x + 1;
}

static void thread_init(llama_prof_thread_t *t) {
  t->in_profiler = 1;
  t->tid = llama_prof_gettid();
  t->rng = splitmix(((uint64_t)t->tid << 32) ^ llama_prof_now_ns() ^ (uintptr_t)t) | 1;
  llama_prof_stack_bounds(&t->stack_lo, &t->stack_top);
  t->in_profiler = 0;
  t->initialized = 1;
}

int llama_prof_sample_now(void) {
  llama_prof_thread_t *t = &llama_prof_thread;
  if (t->in_profiler) { /* an allocation made below the profiler */
    t->countdown = 1;
    return 0;
  }
  if (LLAMA_PROF_UNLIKELY(!t->initialized)) {
    if (!llama_prof_ready()) llama_prof_init();
    if (!llama_prof_ready()) { /* another thread is initialising */
      t->countdown = 1;
      return 0;
    }
    thread_init(t);
    t->countdown = draw_interval(t);
    if (--t->countdown > 0) return 0;
  }
  t->countdown = draw_interval(t);
  if (LLAMA_PROF_UNLIKELY(__atomic_load_n(&sampling_full, __ATOMIC_RELAXED))) {
    __atomic_fetch_add(&samples_dropped, 1, __ATOMIC_RELAXED);
    return 0;
  }
  return llama_prof_options.sample_period != 0;
}

/* ---- records ------------------------------------------------------------- */

#define CHUNK_SHIFT 16
#define CHUNK_RECORDS ((uint64_t)1 << CHUNK_SHIFT)
#define MAX_CHUNKS (LLAMA_PROF_LIMIT_MAX_SAMPLES >> CHUNK_SHIFT)

static struct {
  struct llama_raw_sample *chunks[MAX_CHUNKS];
  uint64_t count;
} samples;

static struct llama_raw_sample *record(uint64_t index) {
  return &samples.chunks[index >> CHUNK_SHIFT][index & (CHUNK_RECORDS - 1)];
}

/* Under the lock: a fresh record, or NULL when full. */
static struct llama_raw_sample *record_new(uint64_t *index) {
  if (samples.count >= llama_prof_options.max_samples) goto full;
  uint64_t chunk = samples.count >> CHUNK_SHIFT;
  if (!samples.chunks[chunk]) {
    samples.chunks[chunk] = llama_prof_map(CHUNK_RECORDS * sizeof(struct llama_raw_sample));
    if (!samples.chunks[chunk]) goto full;
  }
  *index = samples.count++;
  return record(*index);
full:
  if (!__atomic_exchange_n(&sampling_full, 1, __ATOMIC_RELAXED))
    llama_prof_report("sample buffer full (LLAMA_PROF_MAX_SAMPLES);",
                      "later allocations are counted, not sampled", 0);
  __atomic_fetch_add(&samples_dropped, 1, __ATOMIC_RELAXED);
  return NULL;
}

static uint64_t since_start(uint64_t now) {
  return now > llama_prof_start_ns ? now - llama_prof_start_ns : 0;
}

/* Under the lock: ends record `index`. */
static void end_record(uint64_t index, uint64_t now, uint64_t free_site_id, uint32_t tid,
                       uint32_t flags) {
  struct llama_raw_sample *s = record(index);
  s->free_ns = since_start(now);
  s->free_site_id = free_site_id;
  s->free_tid = tid;
  s->flags |= flags;
}

void llama_prof_record_alloc(void *p, uint64_t size, const struct llama_site *site, void *ret,
                             void *frame) {
  llama_prof_thread_t *t = &llama_prof_thread;
  if (!p || t->in_profiler) return;
  t->in_profiler = 1;
  uint64_t frames[LLAMA_PROF_MAX_DEPTH];
  uint32_t depth = LLAMA_PROF_UNLIKELY(site->flags & LLAMA_SITE_EXTERNAL)
                       ? llama_prof_stack_capture_external(frames, ret, frame)
                       : llama_prof_stack_capture(frames, ret, frame);
  uint64_t hash = llama_prof_stack_hash(frames, depth);
  uint64_t now = llama_prof_now_ns();
  pthread_mutex_lock(&llama_prof_lock);
  uint64_t index;
  struct llama_raw_sample *s = record_new(&index);
  if (s) {
    s->site_id = site->id;
    s->size = size;
    s->alloc_ns = since_start(now);
    s->free_ns = LLAMA_RAW_NOT_FREED;
    s->free_site_id = 0;
    s->stack_id = llama_prof_stack_intern(frames, depth, hash);
    s->alloc_tid = t->tid;
    s->free_tid = 0;
    s->flags = 0;
    uint64_t previous = llama_prof_live_insert(p, index);
    /* The address was handed out again: its last free bypassed us. */
    if (previous) end_record(previous - 1, now, 0, 0, LLAMA_RAW_S_FREE_UNSEEN);
  }
  pthread_mutex_unlock(&llama_prof_lock);
  t->in_profiler = 0;
}

void llama_prof_record_free(void *p, uint64_t free_site_id, uint32_t flags) {
  llama_prof_thread_t *t = &llama_prof_thread;
  if (t->in_profiler) return;
  if (!t->tid) t->tid = llama_prof_gettid();
  uint64_t now = llama_prof_now_ns();
  pthread_mutex_lock(&llama_prof_lock);
  uint64_t taken = llama_prof_live_remove(p);
  if (taken) end_record(taken - 1, now, free_site_id, t->tid, flags);
  pthread_mutex_unlock(&llama_prof_lock);
}

uint64_t llama_prof_take(void *p) {
  if (llama_prof_thread.in_profiler || !llama_prof_live_maybe(p)) return 0;
  pthread_mutex_lock(&llama_prof_lock);
  uint64_t taken = llama_prof_live_remove(p);
  pthread_mutex_unlock(&llama_prof_lock);
  return taken;
}

void llama_prof_sample_end(uint64_t taken, uint64_t free_site_id, uint32_t flags) {
  llama_prof_thread_t *t = &llama_prof_thread;
  if (!t->tid) t->tid = llama_prof_gettid();
  uint64_t now = llama_prof_now_ns();
  pthread_mutex_lock(&llama_prof_lock);
  end_record(taken - 1, now, free_site_id, t->tid, flags);
  pthread_mutex_unlock(&llama_prof_lock);
}

void llama_prof_sample_restore(void *p, uint64_t taken) {
  pthread_mutex_lock(&llama_prof_lock);
  llama_prof_live_insert(p, taken - 1);
  pthread_mutex_unlock(&llama_prof_lock);
}

uint64_t llama_prof_sample_count(void) { return samples.count; }
const struct llama_raw_sample *llama_prof_sample_at(uint64_t index) { return record(index); }
uint64_t llama_prof_samples_dropped(void) {
  return __atomic_load_n(&samples_dropped, __ATOMIC_RELAXED);
}

/* In the child after fork: no records (the chunks are reused), a new tid
 * and random stream for the forking thread, which is the only one left. */
void llama_prof_sample_fork_child(void) {
  samples.count = 0;
  __atomic_store_n(&samples_dropped, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&sampling_full, 0, __ATOMIC_RELAXED);
  llama_prof_thread_t *t = &llama_prof_thread;
  if (t->initialized) {
    t->tid = llama_prof_gettid();
    t->rng = splitmix(t->rng ^ t->tid) | 1;
    t->countdown = draw_interval(t);
  } else {
    t->tid = 0;
  }
}
