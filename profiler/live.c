/* live.c - the set of live sampled pointers, pointer -> sample index.
 *
 * Every free in the process asks whether its pointer is sampled
 * (llama_prof_live_maybe, inline in internal.h), so lookups take no lock
 * and cost one hash and a short probe: linear probing at most a quarter
 * full.
 * Deletion shifts later entries of the probe run back (no tombstones, so
 * the table never needs a rebuild to stay fast); a lookup racing with a
 * shift could miss, so shifts run inside a sequence-lock window
 * (llama_prof_live_seq odd) and a lookup that saw the sequence change
 * probes again; deleting the last entry of a run moves nothing and leaves
 * the sequence alone, so readers on other cores rarely see its line change. Insertion only fills an empty slot, which cannot hide a key
 * that some lookup may look for (a pointer is inserted before any free of
 * it can start). Growth copies into a table twice as large and publishes it;
 * the old table stays mapped for lookups still probing it (its keys are a
 * subset of what was live, and hits are confirmed under the lock).
 * Writers hold llama_prof_lock. */
#include "internal.h"

#define LIVE_MIN_SHIFT 8 /* 256 slots: 2 KiB of keys */

_Static_assert(sizeof(llama_prof_live_table_t) == 64, "live table header: one cache line");

/* Read by every free: on lines of their own, away from written data. */
llama_prof_live_table_t *llama_prof_live_current __attribute__((aligned(64)));
uint64_t llama_prof_live_seq __attribute__((aligned(64)));
/* Entries in the current table; written on every sampled event. */
static uint64_t live_used __attribute__((aligned(64)));
static char live_pad[64] __attribute__((aligned(64), used));

static size_t table_bytes(uint64_t capacity) {
  return sizeof(llama_prof_live_table_t) + capacity * (sizeof(uintptr_t) + sizeof(uint64_t));
}

static uint64_t *values(const llama_prof_live_table_t *t) {
  return (uint64_t *)(uintptr_t)(t->keys + t->mask + 1);
}

static llama_prof_live_table_t *table_new(uint32_t log2_capacity) {
  uint64_t capacity = (uint64_t)1 << log2_capacity;
  llama_prof_live_table_t *t = llama_prof_map(table_bytes(capacity));
  if (!t) return NULL;
  t->mask = capacity - 1;
  t->shift = 64 - log2_capacity;
  return t;
}

static uint64_t home(const llama_prof_live_table_t *t, uintptr_t key) {
  return llama_prof_live_hash(key) >> t->shift;
}

/* Index of `key`, or of the empty slot where it would go. */
static uint64_t find(const llama_prof_live_table_t *t, uintptr_t key) {
  uint64_t i = home(t, key);
  while (t->keys[i] && t->keys[i] != key) i = (i + 1) & t->mask;
  return i;
}

static void put_new(llama_prof_live_table_t *t, uintptr_t key, uint64_t value) {
  uint64_t i = find(t, key);
  values(t)[i] = value;
  __atomic_store_n(&t->keys[i], key, __ATOMIC_RELEASE);
}

static int grow(void) {
  llama_prof_live_table_t *old = llama_prof_live_current;
  uint32_t log2 = old ? 64 - old->shift + 1 : LIVE_MIN_SHIFT;
  llama_prof_live_table_t *t = table_new(log2);
  if (!t) return -1;
  if (old) {
    for (uint64_t i = 0; i <= old->mask; i++)
      if (old->keys[i]) put_new(t, old->keys[i], values(old)[i]);
  }
  __atomic_store_n(&llama_prof_live_current, t, __ATOMIC_RELEASE);
  return 0;
}

uint64_t llama_prof_live_insert(const void *p, uint64_t value) {
  uintptr_t key = (uintptr_t)p;
  llama_prof_live_table_t *t = llama_prof_live_current;
  if (t) {
    uint64_t i = find(t, key);
    if (t->keys[i] == key) { /* its free went unseen: replace */
      uint64_t previous = values(t)[i];
      values(t)[i] = value;
      return previous + 1;
    }
  }
  if (!t || (live_used + 1) * 4 > t->mask + 1) {
    if (grow() < 0) return 0; /* out of memory: the sample stays untracked */
    t = llama_prof_live_current;
  }
  put_new(t, key, value);
  live_used++;
  return 0;
}

/* Deletes slot i by shifting back the entries of its probe run that may
 * move (their home is not in (i, j]), inside a sequence-lock window. */
static void delete_at(llama_prof_live_table_t *t, uint64_t i) {
  /* The last entry of its probe run (the common case: the table is at
   * most a quarter full): emptying the slot cannot end another key's probe
   * early, and nothing moves, so readers need not retry. */
  if (!t->keys[(i + 1) & t->mask]) {
    __atomic_store_n(&t->keys[i], (uintptr_t)0, __ATOMIC_RELAXED);
    live_used--;
    return;
  }
  uint64_t seq = llama_prof_live_seq;
  __atomic_store_n(&llama_prof_live_seq, seq + 1, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  uint64_t j = i;
  for (;;) {
    j = (j + 1) & t->mask;
    uintptr_t key = t->keys[j];
    if (!key) break;
    uint64_t k = home(t, key);
    int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (stays) continue;
    values(t)[i] = values(t)[j];
    __atomic_store_n(&t->keys[i], key, __ATOMIC_RELAXED);
    i = j;
  }
  __atomic_store_n(&t->keys[i], (uintptr_t)0, __ATOMIC_RELAXED);
  live_used--;
  __atomic_store_n(&llama_prof_live_seq, seq + 2, __ATOMIC_RELEASE);
}

uint64_t llama_prof_live_remove(const void *p) {
  llama_prof_live_table_t *t = llama_prof_live_current;
  if (!t) return 0;
  uint64_t i = find(t, (uintptr_t)p);
  if (t->keys[i] != (uintptr_t)p) return 0;
  uint64_t value = values(t)[i];
  delete_at(t, i);
  return value + 1;
}

/* In the child after fork (one thread): forget the parent's objects. The
 * old tables are left as they are (copy-on-write pages never touched). */
void llama_prof_live_fork_child(void) {
  llama_prof_live_current = NULL;
  live_used = 0;
  llama_prof_live_seq = 0;
}
