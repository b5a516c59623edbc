/* cache.c - an LRU cache with per-entry TTL (SETEX/GETEX). Entries expire
 * through a 1024-slot timing wheel swept every logical millisecond, or are
 * evicted from the LRU tail when the cache is full. TTLs are 200-900 ms, so
 * entries, their keys and their value copies live under a second (class 2).
 */
#include "kvserver.h"

#include <stdlib.h>
#include <string.h>

#define WHEEL_SLOTS 1024

struct cache_entry {
  struct cache_entry *chain_next;
  struct cache_entry *lru_prev, *lru_next;
  struct cache_entry *wheel_prev, *wheel_next;
  char *key;
  struct value_blob *value;
  uint64_t hash, expire_at_ms;
};

struct lru_cache {
  struct cache_entry **buckets;
  size_t nbuckets, count, capacity;
  struct cache_entry *lru_head, *lru_tail;
  struct cache_entry *wheel[WHEEL_SLOTS];
  uint64_t swept_until_ms, evictions, expirations;
};

struct lru_cache *cache_create(size_t capacity, size_t nbuckets) {
  struct lru_cache *c = kv_xcalloc(1, sizeof *c);
  size_t n = 1;
  while (n < nbuckets)
    n *= 2;
  c->nbuckets = n;
  c->buckets = kv_xcalloc(n, sizeof *c->buckets);
  c->capacity = capacity;
  kv_live_add(sizeof *c + n * sizeof *c->buckets);
  return c;
}

static void lru_unlink(struct lru_cache *c, struct cache_entry *e) {
  if (e->lru_prev)
    e->lru_prev->lru_next = e->lru_next;
  else
    c->lru_head = e->lru_next;
  if (e->lru_next)
    e->lru_next->lru_prev = e->lru_prev;
  else
    c->lru_tail = e->lru_prev;
  e->lru_prev = e->lru_next = NULL;
}

static void lru_push_front(struct lru_cache *c, struct cache_entry *e) {
  e->lru_prev = NULL;
  e->lru_next = c->lru_head;
  if (c->lru_head)
    c->lru_head->lru_prev = e;
  c->lru_head = e;
  if (!c->lru_tail)
    c->lru_tail = e;
}

static void wheel_unlink(struct lru_cache *c, struct cache_entry *e) {
  if (e->wheel_prev)
    e->wheel_prev->wheel_next = e->wheel_next;
  else
    c->wheel[e->expire_at_ms % WHEEL_SLOTS] = e->wheel_next;
  if (e->wheel_next)
    e->wheel_next->wheel_prev = e->wheel_prev;
  e->wheel_prev = e->wheel_next = NULL;
}

static void wheel_insert(struct lru_cache *c, struct cache_entry *e) {
  struct cache_entry **slot = &c->wheel[e->expire_at_ms % WHEEL_SLOTS];
  e->wheel_prev = NULL;
  e->wheel_next = *slot;
  if (*slot)
    (*slot)->wheel_prev = e;
  *slot = e;
}

static struct cache_entry *cache_find(struct lru_cache *c, const char *key, uint64_t h) {
  for (struct cache_entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->chain_next)
    if (e->hash == h && strcmp(e->key, key) == 0)
      return e;
  return NULL;
}

static void cache_entry_remove(struct lru_cache *c, struct cache_entry *e) {
  struct cache_entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
  while (*pp != e)
    pp = &(*pp)->chain_next;
  *pp = e->chain_next;
  lru_unlink(c, e);
  wheel_unlink(c, e);
  value_blob_free(e->value);
  kv_live_sub(sizeof *e + kv_str_size(e->key));
  kv_free(e->key);
  free(e);
  c->count--;
}

static struct cache_entry *cache_entry_create(const char *key, uint64_t h, const char *data,
                                              size_t len, uint64_t expire_at) {
  struct cache_entry *e = malloc(sizeof *e);
  if (!e)
    kv_die("out of memory");
  memset(e, 0, sizeof *e);
  e->key = kv_strdup(key);
  e->value = value_blob_create(data, len);
  e->hash = h;
  e->expire_at_ms = expire_at;
  kv_live_add(sizeof *e + kv_str_size(e->key));
  return e;
}

static void cache_evict_lru_tail(struct lru_cache *c) {
  if (c->lru_tail) {
    c->evictions++;
    cache_entry_remove(c, c->lru_tail);
  }
}

void cache_put(struct lru_cache *c, const char *key, const char *data, size_t len,
               uint64_t ttl_ms, uint64_t now) {
  uint64_t h = hash_string(key);
  struct cache_entry *e = cache_find(c, key, h);
  if (e) {
    /* Refresh in place: a new value copy, a new deadline. */
    value_blob_free(e->value);
    e->value = value_blob_create(data, len);
    wheel_unlink(c, e);
    e->expire_at_ms = now + ttl_ms;
    wheel_insert(c, e);
    lru_unlink(c, e);
    lru_push_front(c, e);
    return;
  }
  while (c->count >= c->capacity)
    cache_evict_lru_tail(c);
  e = cache_entry_create(key, h, data, len, now + ttl_ms);
  e->chain_next = c->buckets[h & (c->nbuckets - 1)];
  c->buckets[h & (c->nbuckets - 1)] = e;
  lru_push_front(c, e);
  wheel_insert(c, e);
  c->count++;
}

const struct value_blob *cache_get(struct lru_cache *c, const char *key, uint64_t now) {
  uint64_t h = hash_string(key);
  struct cache_entry *e = cache_find(c, key, h);
  if (!e)
    return NULL;
  if (e->expire_at_ms <= now) {
    c->expirations++;
    cache_entry_remove(c, e);
    return NULL;
  }
  lru_unlink(c, e);
  lru_push_front(c, e);
  return e->value;
}

size_t cache_expire_sweep(struct lru_cache *c, uint64_t now) {
  size_t expired = 0;
  if (now < c->swept_until_ms)
    return 0;
  uint64_t from = c->swept_until_ms;
  if (now - from >= WHEEL_SLOTS)
    from = now - WHEEL_SLOTS + 1;
  for (uint64_t t = from; t <= now; t++) {
    struct cache_entry *e = c->wheel[t % WHEEL_SLOTS];
    while (e) {
      struct cache_entry *next = e->wheel_next;
      if (e->expire_at_ms <= now) {
        cache_entry_remove(c, e);
        c->expirations++;
        expired++;
      }
      e = next;
    }
  }
  c->swept_until_ms = now + 1;
  return expired;
}

size_t cache_size(const struct lru_cache *c) { return c->count; }
uint64_t cache_evictions(const struct lru_cache *c) { return c->evictions; }

void cache_destroy(struct lru_cache *c) {
  while (c->lru_head)
    cache_entry_remove(c, c->lru_head);
  kv_live_sub(sizeof *c + c->nbuckets * sizeof *c->buckets);
  kv_free(c->buckets);
  kv_free(c);
}
