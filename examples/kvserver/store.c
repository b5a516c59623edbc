/* store.c - the dataset: a chained hash table of items. Items, their keys and
 * values live until overwritten or deleted, which for most user keys means
 * until the process exits (the dataset is deliberately not freed at
 * shutdown: the process is about to exit and a real server would not walk
 * millions of items to free them). Bucket arrays are replaced on growth and
 * by the periodic compaction.
 */
#include "kvserver.h"

#include <string.h>

static struct store_item **store_bucket_array_alloc(size_t n) {
  kv_live_add(n * sizeof(struct store_item *));
  return kv_xcalloc(n, sizeof(struct store_item *));
}

struct kv_store *store_create(size_t initial_buckets) {
  struct kv_store *st = kv_xcalloc(1, sizeof *st);
  kv_live_add(sizeof *st);
  size_t n = 1;
  while (n < initial_buckets)
    n *= 2;
  st->nbuckets = n;
  st->buckets = store_bucket_array_alloc(n);
  return st;
}

struct store_item *store_lookup(struct kv_store *st, const char *key) {
  uint64_t h = hash_string(key);
  for (struct store_item *it = st->buckets[h & (st->nbuckets - 1)]; it; it = it->next)
    if (it->hash == h && strcmp(it->key, key) == 0)
      return it;
  return NULL;
}

void store_rehash(struct kv_store *st, size_t nbuckets) {
  struct store_item **nb = store_bucket_array_alloc(nbuckets);
  for (size_t i = 0; i < st->nbuckets; i++) {
    struct store_item *it = st->buckets[i];
    while (it) {
      struct store_item *next = it->next;
      size_t j = it->hash & (nbuckets - 1);
      it->next = nb[j];
      nb[j] = it;
      it = next;
    }
  }
  kv_live_sub(st->nbuckets * sizeof *st->buckets);
  kv_free(st->buckets);
  st->buckets = nb;
  st->nbuckets = nbuckets;
}

static struct store_item *store_item_create(const char *key, uint64_t h) {
  struct store_item *it = kv_xmalloc(sizeof *it);
  it->key = kv_strdup(key);
  it->hash = h;
  it->value = NULL;
  it->next = NULL;
  it->version = 0;
  kv_live_add(sizeof *it + kv_str_size(it->key));
  return it;
}

int store_put(struct kv_store *st, const char *key, struct value_blob *value) {
  struct store_item *it = store_lookup(st, key);
  st->version++;
  if (it) {
    value_blob_free(it->value);
    it->value = value;
    it->version = st->version;
    return 0;
  }
  if (st->count + 1 > st->nbuckets * 2)
    store_rehash(st, st->nbuckets * 4);
  uint64_t h = hash_string(key);
  it = store_item_create(key, h);
  it->value = value;
  it->version = st->version;
  size_t j = h & (st->nbuckets - 1);
  it->next = st->buckets[j];
  st->buckets[j] = it;
  st->count++;
  return 1;
}

int store_delete(struct kv_store *st, const char *key) {
  uint64_t h = hash_string(key);
  struct store_item **pp = &st->buckets[h & (st->nbuckets - 1)];
  for (; *pp; pp = &(*pp)->next) {
    struct store_item *it = *pp;
    if (it->hash == h && strcmp(it->key, key) == 0) {
      *pp = it->next;
      value_blob_free(it->value);
      kv_live_sub(sizeof *it + kv_str_size(it->key));
      kv_free(it->key);
      kv_free(it);
      st->count--;
      st->version++;
      return 1;
    }
  }
  return 0;
}

/* Compaction: a fresh bucket array sized for the current count (the old one
 * may have been sized for a peak), as a server's background rehash does. */
void store_compact(struct kv_store *st) {
  size_t n = 64;
  while (n * 2 < st->count)
    n *= 2;
  store_rehash(st, n);
}

void store_foreach(struct kv_store *st, void (*fn)(struct store_item *it, void *ctx), void *ctx) {
  for (size_t i = 0; i < st->nbuckets; i++)
    for (struct store_item *it = st->buckets[i]; it; it = it->next)
      fn(it, ctx);
}
