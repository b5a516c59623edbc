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

#define LIVE_MIN_SHIFT 10 /* 1024 slots */

/* Read by every free: on lines of their own, away from written data. */
llama_prof_live_table_t *llama_prof_live_current __attribute__((aligned(64)));
uint64_t llama_prof_live_seq __attribute__((aligned(64)));
static char live_pad[64] __attribute__((aligned(64), used));

static size_t table_bytes(uint64_t capacity) {
  return sizeof(llama_prof_live_table_t) + capacity * sizeof(llama_prof_live_slot_t);
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
  while (t->slots[i].key && t->slots[i].key != key) i = (i + 1) & t->mask;
  return i;
}

static void put_new(llama_prof_live_table_t *t, uintptr_t key, uint64_t value) {
  uint64_t i = find(t, key);
  t->slots[i].value = value;
  __atomic_store_n(&t->slots[i].key, key, __ATOMIC_RELEASE);
  t->used++;
}

static int grow(void) {
  llama_prof_live_table_t *old = llama_prof_live_current;
  uint32_t log2 = old ? 64 - old->shift + 1 : LIVE_MIN_SHIFT;
  llama_prof_live_table_t *t = table_new(log2);
  if (!t) return -1;
  if (old) {
    for (uint64_t i = 0; i <= old->mask; i++)
      if (old->slots[i].key) put_new(t, old->slots[i].key, old->slots[i].value);
  }
  __atomic_store_n(&llama_prof_live_current, t, __ATOMIC_RELEASE);
  return 0;
}

uint64_t llama_prof_live_insert(const void *p, uint64_t value) {
  uintptr_t key = (uintptr_t)p;
  llama_prof_live_table_t *t = llama_prof_live_current;
  if (t) {
    uint64_t i = find(t, key);
    if (t->slots[i].key == key) { /* its free went unseen: replace */
      uint64_t previous = t->slots[i].value;
      __atomic_store_n(&t->slots[i].value, value, __ATOMIC_RELAXED);
      return previous + 1;
    }
  }
  if (!t || (t->used + 1) * 4 > t->mask + 1) {
    if (grow() < 0) return 0; /* out of memory: the sample stays untracked */
    t = llama_prof_live_current;
  }
  put_new(t, key, value);
  return 0;
}

/* Deletes slot i by shifting back the entries of its probe run that may
 * move (their home is not in (i, j]), inside a sequence-lock window. */
static void delete_at(llama_prof_live_table_t *t, uint64_t i) {
  /* The last entry of its probe run (the common case: the table is at
   * most a quarter full): emptying the slot cannot end another key's probe
   * early, and nothing moves, so readers need not retry. */
  if (!t->slots[(i + 1) & t->mask].key) {
    __atomic_store_n(&t->slots[i].key, (uintptr_t)0, __ATOMIC_RELAXED);
    t->used--;
    return;
  }
  uint64_t seq = llama_prof_live_seq;
  __atomic_store_n(&llama_prof_live_seq, seq + 1, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  uint64_t j = i;
  for (;;) {
    j = (j + 1) & t->mask;
    uintptr_t key = t->slots[j].key;
    if (!key) break;
    uint64_t k = home(t, key);
    int stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
    if (stays) continue;
    t->slots[i].value = t->slots[j].value;
    __atomic_store_n(&t->slots[i].key, key, __ATOMIC_RELAXED);
    i = j;
  }
  __atomic_store_n(&t->slots[i].key, (uintptr_t)0, __ATOMIC_RELAXED);
  t->used--;
  __atomic_store_n(&llama_prof_live_seq, seq + 2, __ATOMIC_RELEASE);
}

uint64_t llama_prof_live_remove(const void *p) {
  llama_prof_live_table_t *t = llama_prof_live_current;
  if (!t) return 0;
  uint64_t i = find(t, (uintptr_t)p);
  if (t->slots[i].key != (uintptr_t)p) return 0;
  uint64_t value = t->slots[i].value;
  delete_at(t, i);
  return value + 1;
}

/* In the child after fork (one thread): forget the parent's objects. The
 * old tables are left as they are (copy-on-write pages never touched). */
void llama_prof_live_fork_child(void) {
  llama_prof_live_current = NULL;
  llama_prof_live_seq = 0;
}
