/* init.c - start-up, exit and fork of libllamalloc (mimalloc's init.c).
 *
 * The first allocation of the process (from any file: alloc.c's slow path,
 * heap.c's thread-heap set-up, predict.c) calls llama_init_slow(), which
 * reads the options and initialises every part once; the constructor does
 * the same for programs that never allocate before main. The destructor
 * prints the LLAMA_STATS report. pthread_atfork handlers take every lock in
 * the documented order before fork and reset them in the child.
 *
 * This is the one file that calls into every other: the rest only call
 * llama_init_slow() back (internal.h's map). */
#include "internal.h"

#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

_Atomic int llama_init_state;

/* Where the exit report goes: a private duplicate of stderr taken at
 * initialisation, because some programs (GNU coreutils) close fd 2 before
 * the library destructors run. */
static int stats_fd = 2;
/* Where reports go: a private duplicate of stderr taken at start-up when a
 * report is wanted, so that a program that closes or reopens fd 2 does not
 * get our lines in its file. */
int llama_stats_fd(void) { return stats_fd; }

static void fork_prepare(void) {
  llama_predict_fork_prepare(); /* first: a miss may allocate while it holds it */
  llama_heaps_fork_prepare();
  llama_extents_fork_prepare();
  llama_large_fork_prepare();
  llama_hugepages_fork_prepare();
  llama_background_fork_prepare();
}
static void fork_parent(void) {
  llama_background_fork_parent();
  llama_hugepages_fork_parent();
  llama_large_fork_parent();
  llama_extents_fork_parent();
  llama_heaps_fork_parent();
  llama_predict_fork_parent();
}
static void fork_child(void) {
  llama_background_fork_child();
  llama_hugepages_fork_child();
  llama_large_fork_child();
  llama_extents_fork_child();
  llama_heaps_fork_child();
  llama_predict_fork_child();
}

/* One-time initialisation, on the first allocation of the process. Nothing
 * before `llama_init_state = 2` may allocate; pthread_atfork may (and then
 * recurses into a fully initialised allocator). */
void llama_init_slow(void) {
  int expected = 0;
  if (atomic_compare_exchange_strong(&llama_init_state, &expected, 1)) {
    llama_options_init();
    llama_size_classes_init();
    llama_external_tags_init();
    llama_heaps_init();
    if (llama_options.stats || llama_options.stats_interval_ms) {
      int fd = fcntl(2, F_DUPFD_CLOEXEC, 100);
      if (fd >= 0) stats_fd = fd;
    }
    atomic_store_explicit(&llama_init_state, 2, memory_order_release);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    llama_predict_init(); /* after state 2: may report, must not deadlock */
    return;
  }
  while (atomic_load_explicit(&llama_init_state, memory_order_acquire) != 2) sched_yield();
}

/* The background thread starts here, at load time, rather than on the first
 * fresh page in the middle of the program: pthread_create allocates (the
 * thread's TLS vector, through our malloc), and that object should be there
 * before main, not appear in the middle of a measurement. (It used to start
 * before main anyway in every process that loaded libstdc++, whose own
 * start-up allocation took the first page; new_delete.cc no longer loads it
 * into C programs.) */
__attribute__((constructor)) static void llama_constructor(void) {
  if (atomic_load_explicit(&llama_init_state, memory_order_acquire) != 2) llama_init_slow();
  llama_background_start();
}

__attribute__((destructor)) static void llama_destructor(void) {
  if (llama_options.stats) llama_stats_print(stats_fd);
}

uint8_t llama_small_class[1024 / 8 + 1];
uint8_t llama_small_bin[LLAMA_NUM_BINS] = {0, 1, 2, 3, 4, 5, 6, 7};

void llama_size_classes_init(void) {
  static const uint8_t shared[LLAMA_NUM_BINS] = {3, 3, 3, 3, 6, 6, 6, LLAMA_BIN_UNCLASSIFIED};
  if (llama_options.small_bins) memcpy(llama_small_bin, shared, sizeof shared);
  for (unsigned i = 0; i <= 1024 / 8; i++)
    llama_small_class[i] = (uint8_t)llama_size_class_compute((size_t)i * 8);
}

