/* counters.c - per-thread caches of the site counters (see internal.h for
 * why): attaching a cache to a thread, evicting entries into the site
 * descriptors, flushing at thread exit, and summing what the caches hold
 * for the dump.
 *
 * A cache is written only by its owner thread (relaxed atomic loads and
 * stores, no locked instruction) and read by the dump. Caches are never
 * unmapped: an exited thread's cache is flushed, zeroed and reused by the
 * next thread. Evicting or flushing writes into site descriptors, which
 * is why registration pins every instrumented module (core.c): dlclose
 * never unmaps them. */
#include "internal.h"

#include <pthread.h>
#include <string.h>

static struct {
  llama_prof_counters_t *all;  /* under llama_prof_lock */
  llama_prof_counters_t *free; /* under llama_prof_lock */
  pthread_key_t key;
  int key_ok;
} counters;

static void add_to_site(struct llama_site *site, uint64_t count, uint64_t bytes) {
  if (count) __atomic_fetch_add(&site->count, count, __ATOMIC_RELAXED);
  if (bytes) __atomic_fetch_add(&site->bytes, bytes, __ATOMIC_RELAXED);
}

static void flush(llama_prof_counters_t *c) {
  for (unsigned i = 0; i < LLAMA_PROF_COUNTER_SLOTS; i++) {
    llama_prof_counter_t *e = &c->slot[i];
    struct llama_site *site = e->site;
    if (!site) continue;
    add_to_site(site, e->count, e->bytes);
    __atomic_store_n(&e->count, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&e->bytes, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&e->site, NULL, __ATOMIC_RELAXED);
  }
}

/* pthread key destructor: the thread is exiting. */
static void thread_exit(void *arg) {
  llama_prof_counters_t *c = arg;
  llama_prof_thread_t *t = &llama_prof_thread;
  if (t->counters == c) t->counters = NULL;
  pthread_mutex_lock(&llama_prof_lock);
  flush(c);
  c->next_free = counters.free;
  counters.free = c;
  pthread_mutex_unlock(&llama_prof_lock);
}

void llama_prof_counters_init(void) {
  counters.key_ok = pthread_key_create(&counters.key, thread_exit) == 0;
}

static llama_prof_counters_t *attach(void) {
  llama_prof_thread_t *t = &llama_prof_thread;
  if (t->in_profiler || !counters.key_ok || !llama_prof_ready()) return NULL;
  t->in_profiler = 1;
  pthread_mutex_lock(&llama_prof_lock);
  llama_prof_counters_t *c = counters.free;
  if (c) {
    counters.free = c->next_free;
  } else if ((c = llama_prof_map(sizeof *c))) {
    c->next_all = counters.all;
    counters.all = c;
  }
  pthread_mutex_unlock(&llama_prof_lock);
  if (c && pthread_setspecific(counters.key, c) != 0) {
    pthread_mutex_lock(&llama_prof_lock);
    c->next_free = counters.free;
    counters.free = c;
    pthread_mutex_unlock(&llama_prof_lock);
    c = NULL;
  }
  t->counters = c;
  t->in_profiler = 0;
  return c;
}

void llama_prof_count_slow(const struct llama_site *site, uint64_t bytes) {
  struct llama_site *s = (struct llama_site *)site;
  llama_prof_counters_t *c = llama_prof_thread.counters;
  if (!c && !(c = attach())) { /* before init, or below the profiler */
    add_to_site(s, 1, bytes);
    return;
  }
  llama_prof_counter_t *e = &c->slot[((uintptr_t)site >> 6) & (LLAMA_PROF_COUNTER_SLOTS - 1)];
  if (e->site) add_to_site(e->site, e->count, e->bytes);
  __atomic_store_n(&e->site, s, __ATOMIC_RELAXED);
  __atomic_store_n(&e->count, 1, __ATOMIC_RELAXED);
  __atomic_store_n(&e->bytes, bytes, __ATOMIC_RELAXED);
}

/* ---- the dump's view ------------------------------------------------------ */

typedef struct llama_prof_pending_entry_s {
  const struct llama_site *site;
  uint64_t count, bytes;
} pending_entry_t;

static uint64_t slot_of(const struct llama_site *site, uint64_t mask) {
  return (((uintptr_t)site >> 6) * UINT64_C(0x9e3779b97f4a7c15) >> 20) & mask;
}

int llama_prof_pending_collect(llama_prof_pending_t *pending) {
  memset(pending, 0, sizeof *pending);
  uint64_t caches = 0;
  for (llama_prof_counters_t *c = counters.all; c; c = c->next_all) caches++;
  if (!caches) return 0;
  uint64_t capacity = 1024;
  while (capacity < caches * LLAMA_PROF_COUNTER_SLOTS * 2) capacity *= 2;
  pending->bytes = capacity * sizeof(pending_entry_t);
  pending->entries = llama_prof_map(pending->bytes);
  if (!pending->entries) return -1;
  pending->mask = capacity - 1;
  for (llama_prof_counters_t *c = counters.all; c; c = c->next_all) {
    for (unsigned i = 0; i < LLAMA_PROF_COUNTER_SLOTS; i++) {
      const llama_prof_counter_t *e = &c->slot[i];
      const struct llama_site *site = __atomic_load_n(&e->site, __ATOMIC_RELAXED);
      if (!site) continue;
      uint64_t j = slot_of(site, pending->mask);
      while (pending->entries[j].site && pending->entries[j].site != site)
        j = (j + 1) & pending->mask;
      pending->entries[j].site = site;
      pending->entries[j].count += __atomic_load_n(&e->count, __ATOMIC_RELAXED);
      pending->entries[j].bytes += __atomic_load_n(&e->bytes, __ATOMIC_RELAXED);
    }
  }
  return 0;
}

void llama_prof_pending_get(const llama_prof_pending_t *pending, const struct llama_site *site,
                            uint64_t *count, uint64_t *bytes) {
  if (!pending->entries) return;
  uint64_t j = slot_of(site, pending->mask);
  for (; pending->entries[j].site; j = (j + 1) & pending->mask) {
    if (pending->entries[j].site == site) {
      *count += pending->entries[j].count;
      *bytes += pending->entries[j].bytes;
      return;
    }
  }
}

void llama_prof_pending_free(llama_prof_pending_t *pending) {
  llama_prof_unmap(pending->entries, pending->bytes);
  memset(pending, 0, sizeof *pending);
}

/* In the child after fork: counts start from zero, and the caches of the
 * parent's other threads (gone in the child) become free for reuse. */
void llama_prof_counters_fork_child(void) {
  llama_prof_counters_t *own = llama_prof_thread.counters;
  counters.free = NULL;
  for (llama_prof_counters_t *c = counters.all; c; c = c->next_all) {
    memset(c->slot, 0, sizeof c->slot);
    if (c != own) {
      c->next_free = counters.free;
      counters.free = c;
    }
  }
}
