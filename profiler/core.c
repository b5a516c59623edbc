/* core.c - the profiler's lifecycle: initialisation (options, real
 * functions, unwinder, exit and fork handlers), registration of the site
 * arrays of instrumented modules, and the fork protocol.
 *
 * Initialisation runs once, from whichever comes first: libllamaprof's
 * constructor, a module constructor registering its sites (priority 1: it
 * can run before ours when the archive is linked into the executable), a
 * thread's first sampling decision, or llama_prof_dump. It registers the
 * exit handler then, as early as possible, so that the handler runs after
 * the program's own exit handlers and static destructors (atexit runs them
 * in reverse order) and sees their frees.
 *
 * fork: the prepare handler takes the profiler's locks so the child gets
 * consistent structures; the child starts a fresh profile (no samples,
 * stacks or live objects of the parent, site counts from zero, a new start
 * time, LLAMA_RAW_F_FORKED), the parent goes on unaffected. */
#include "internal.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

pthread_mutex_t llama_prof_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;
uint64_t llama_prof_start_ns;
uint32_t llama_prof_flags;

enum { INIT_NONE, INIT_RUNNING, INIT_DONE };
static int init_state;

static struct {
  llama_prof_module_sites_t *items;
  uint64_t count, capacity;
  uint64_t modules; /* instrumented modules registered (not the
                       external pseudo-sites); atomic */
} registry;

int llama_prof_ready(void) { return __atomic_load_n(&init_state, __ATOMIC_ACQUIRE) == INIT_DONE; }

static void at_exit(void) {
  /* A process without instrumented code (the library preloaded, say)
   * leaves no file behind. */
  if (!__atomic_load_n(&registry.modules, __ATOMIC_ACQUIRE)) return;
  llama_prof_write(NULL, 0);
}

static void fork_prepare(void) {
  pthread_mutex_lock(&dump_lock);
  pthread_mutex_lock(&llama_prof_lock);
}

static void fork_parent(void) {
  pthread_mutex_unlock(&llama_prof_lock);
  pthread_mutex_unlock(&dump_lock);
}

static void fork_child(void) {
  pthread_mutex_init(&llama_prof_lock, NULL);
  pthread_mutex_init(&dump_lock, NULL);
  llama_prof_start_ns = llama_prof_now_ns();
  llama_prof_flags |= LLAMA_RAW_F_FORKED;
  for (uint64_t m = 0; m < registry.count; m++) {
    for (uint64_t i = 0; i < registry.items[m].count; i++) {
      registry.items[m].sites[i].count = 0;
      registry.items[m].sites[i].bytes = 0;
    }
  }
  llama_prof_counters_fork_child();
  llama_prof_sample_fork_child();
  llama_prof_live_fork_child();
  llama_prof_stack_fork_child();
  llama_prof_write_fork_child();
}

static void add_registration(struct llama_site *sites, uint64_t count);

void llama_prof_init(void) {
  int expected = INIT_NONE;
  if (!__atomic_compare_exchange_n(&init_state, &expected, INIT_RUNNING, 0, __ATOMIC_ACQ_REL,
                                   __ATOMIC_ACQUIRE))
    return;
  llama_prof_thread_t *t = &llama_prof_thread;
  uint8_t saved = t->in_profiler;
  t->in_profiler = 1;
  llama_prof_start_ns = llama_prof_now_ns();
  llama_prof_options_read();
  llama_prof_external_init();
  atexit(at_exit);
  pthread_atfork(fork_prepare, fork_parent, fork_child);
  llama_prof_counters_init();
  llama_prof_real_init();
  llama_prof_stack_init();
  /* The external pseudo-sites, like a module's array (not pinned: they
   * live in libllamaprof, which the counter caches already need). */
  if (llama_prof_options.external)
    add_registration(llama_prof_external_sites, LLAMA_PROF_EXT_COUNT);
  t->in_profiler = saved;
  __atomic_store_n(&init_state, INIT_DONE, __ATOMIC_RELEASE);
}

__attribute__((constructor(101))) static void llama_prof_constructor(void) { llama_prof_init(); }

/* Makes the module holding `sites` impossible to unload: its descriptors
 * are referenced by the threads' counter caches (and written to every
 * profile) until the process ends, so dlclose must not unmap them. A
 * profiling build keeps its instrumented plugins loaded. */
static void pin_module(const void *sites) {
  Dl_info info;
  if (!dladdr(sites, &info) || !info.dli_fname || !info.dli_fname[0]) return;
  dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
}

/* Called by every instrumented module's constructor with its descriptor
 * array, which stays registered (and is written to every profile) until
 * the process ends. */
LLAMA_PROF_EXPORT void __llama_prof_register_v1(struct llama_site *sites, uint64_t count) {
  llama_prof_init();
  if (!sites || !count) return;
  llama_prof_thread_t *t = &llama_prof_thread;
  uint8_t saved = t->in_profiler;
  t->in_profiler = 1;
  pin_module(sites);
  t->in_profiler = saved;
  add_registration(sites, count);
  __atomic_fetch_add(&registry.modules, 1, __ATOMIC_RELEASE);
}

static void add_registration(struct llama_site *sites, uint64_t count) {
  pthread_mutex_lock(&llama_prof_lock);
  if (registry.count == registry.capacity) {
    uint64_t capacity = registry.capacity ? registry.capacity * 2 : 256;
    llama_prof_module_sites_t *items = llama_prof_map(capacity * sizeof *items);
    if (!items) {
      pthread_mutex_unlock(&llama_prof_lock);
      llama_prof_report("out of memory registering sites;", "they will be missing", 0);
      return;
    }
    if (registry.items) {
      memcpy(items, registry.items, registry.count * sizeof *items);
      llama_prof_unmap(registry.items, registry.capacity * sizeof *items);
    }
    registry.items = items;
    registry.capacity = capacity;
  }
  registry.items[registry.count].sites = sites;
  registry.items[registry.count].count = count;
  __atomic_store_n(&registry.count, registry.count + 1, __ATOMIC_RELEASE);
  pthread_mutex_unlock(&llama_prof_lock);
}

const llama_prof_module_sites_t *llama_prof_registrations(uint64_t *count) {
  *count = registry.count;
  return registry.items;
}

void llama_prof_dump_lock(void) { pthread_mutex_lock(&dump_lock); }
void llama_prof_dump_unlock(void) { pthread_mutex_unlock(&dump_lock); }
