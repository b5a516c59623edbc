/* background.c - the thread that gives memory back while the program idles.
 *
 * Without it, memory returns only when the program allocates: expiry and
 * subrelease ran from the allocation slow path, so a server that went quiet
 * kept its freed pages forever. Like jemalloc's background_thread and
 * TCMalloc's background release, one thread runs hugepage.c's maintenance
 * (llama_hugepages_maintain: warm pages past LLAMA_PURGE_DELAY_MS go back,
 * idle free units are decommitted, dense pages are collapsed into huge pages
 * off the allocation path), the giving up of exited threads' heaps that no
 * new thread took, and the collection of abandoned spans.
 *
 * It costs nothing when there is nothing to do: after a pass that leaves no
 * pending work it blocks on a condition variable until hugepage.c reports
 * new work (a span released, a page emptied or turned dense); while work is
 * pending it wakes every LLAMA_PURGE_DELAY_MS / 4 (at least 1 ms).
 *
 * Started by the library constructor (init.c: its pthread_create allocation
 * then precedes main), else lazily when a fresh huge page is taken, with
 * every signal blocked, so the program's signals go to its own threads.
 * LLAMA_BACKGROUND=0 turns it off; the slow path then does the maintenance
 * at most once a millisecond.
 * After fork() the child has no such thread; it starts one again lazily. */
#include "internal.h"

#include <signal.h>
#include <time.h>

enum { BG_OFF = 0, BG_STARTING = 1, BG_RUNNING = 2, BG_FAILED = 3 };

static _Atomic int state;
static _Atomic int sleeping; /* blocked with no pending work */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond; /* CLOCK_MONOTONIC, set up before the thread starts */
static bool woken;

bool llama_background_running(void) {
  return atomic_load_explicit(&state, memory_order_relaxed) == BG_RUNNING;
}

void llama_background_wake(void) {
  if (!atomic_load(&sleeping)) return; /* seq_cst: pairs with the sleeper's check */
  pthread_mutex_lock(&lock);
  woken = true;
  pthread_cond_signal(&cond);
  pthread_mutex_unlock(&lock);
}

static void *background_main(void *arg) {
  (void)arg;
#ifdef __GLIBC__
  /* Named by itself: for another thread glibc formats and writes
   * /proc/self/task/TID/comm with sprintf, whose first call faulted 64 KiB
   * windows of libc's stdio code into the program's RSS; for itself it is
   * one prctl. */
  pthread_setname_np(pthread_self(), "llama-bg");
#endif
  uint64_t tick_ns = llama_purge_delay_ns() / 4;
  if (tick_ns < 1000000ull) tick_ns = 1000000ull;
  /* LLAMA_STATS_INTERVAL_MS: a line of the accounting that often; the
   * thread then ticks at least that often and never blocks. */
  uint64_t interval_ns = (uint64_t)llama_options.stats_interval_ms * 1000000ull;
  uint64_t start = llama_now_ns(), next_line = start;
  if (interval_ns && interval_ns < tick_ns) tick_ns = interval_ns;
  for (;;) {
    uint64_t now = llama_now_ns();
    bool later = llama_memory_maintain(now, false);
    later |= llama_heaps_maintain(now, false);
    if (interval_ns && now >= next_line) {
      llama_stats_line(llama_stats_fd(), (now - start) / 1000000ull);
      while (next_line <= now) next_line += interval_ns;
    }
    pthread_mutex_lock(&lock);
    if (!later && !woken && !interval_ns) {
      /* Announce the sleep, then look for work reported meanwhile: a waker
       * either sees `sleeping` (and signals under the lock) or its work is
       * seen here (both seq_cst). */
      atomic_store(&sleeping, 1);
      if (!llama_hugepages_work_pending())
        while (!woken) pthread_cond_wait(&cond, &lock);
      atomic_store(&sleeping, 0);
    }
    woken = false;
    pthread_mutex_unlock(&lock);
    /* Let the work that woke us settle (a burst of frees), then look. */
    struct timespec ts = {(time_t)(tick_ns / 1000000000ull), (long)(tick_ns % 1000000000ull)};
    while (nanosleep(&ts, &ts) != 0) {
    }
  }
  return NULL;
}

/* Extents first: a chunk they empty becomes free units for the pages. */
bool llama_memory_maintain(uint64_t now, bool force) {
  /* Cleared once, before every part looks: work any part reports from here
   * on keeps the thread awake for another pass (cleared at the end of the
   * small-page part, a large object freed during the pass slept). */
  llama_hugepages_work_taken();
  bool later = llama_extents_maintain(now, force);
  later |= llama_large_maintain(now, force);
  return llama_hugepages_maintain(now, force) || later;
}

void llama_background_start(void) {
  int expected = BG_OFF;
  if (!llama_options.background ||
      atomic_load_explicit(&state, memory_order_relaxed) != BG_OFF ||
      !atomic_compare_exchange_strong(&state, &expected, BG_STARTING))
    return;
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&cond, &ca);
  pthread_condattr_destroy(&ca);
  /* pthread_create may allocate: state BG_STARTING keeps the nested
   * allocations from starting a second thread. */
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t thread;
  int r = pthread_create(&thread, &attr, background_main, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_attr_destroy(&attr);
  if (r != 0) {
    llama_report("cannot start the background thread; memory returns on allocation only", NULL);
    atomic_store(&state, BG_FAILED);
    return;
  }
  atomic_store(&state, BG_RUNNING);
}

void llama_background_fork_prepare(void) { pthread_mutex_lock(&lock); }
void llama_background_fork_parent(void) { pthread_mutex_unlock(&lock); }
void llama_background_fork_child(void) {
  pthread_mutex_init(&lock, NULL);
  woken = false;
  atomic_store(&sleeping, 0);
  /* The thread did not survive the fork: start a new one when needed. */
  if (atomic_load(&state) != BG_FAILED) atomic_store(&state, BG_OFF);
}
