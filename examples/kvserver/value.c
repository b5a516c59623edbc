/* value.c - value blobs stored in the dataset and in the cache. The same
 * value_blob_create serves SET (kept until overwritten: usually for the
 * whole run), INCR (replaced at the next increment of a hot counter, tens of
 * milliseconds) and the cache (until its TTL, under a second).
 */
#include "kvserver.h"

#include <stdlib.h>
#include <string.h>

struct value_blob *value_blob_create(const char *data, size_t len) {
  struct value_blob *v = kv_xmalloc(sizeof *v + len + 1);
  v->len = (uint32_t)len;
  v->flags = 0;
  memcpy(v->data, data, len);
  v->data[len] = '\0';
  kv_live_add(sizeof *v + len + 1);
  return v;
}

struct value_blob *value_from_integer(long long x) {
  char tmp[32];
  int n = snprintf(tmp, sizeof tmp, "%lld", x);
  struct value_blob *v = value_blob_create(tmp, (size_t)n);
  v->flags = 1;
  return v;
}

struct value_blob *value_blob_clone(const struct value_blob *v) {
  return value_blob_create(v->data, v->len);
}

void value_blob_free(struct value_blob *v) {
  if (v)
    kv_live_sub(sizeof *v + v->len + 1);
  kv_free(v);
}

int value_to_integer(const struct value_blob *v, long long *out) {
  char *end;
  long long x = strtoll(v->data, &end, 10);
  if (end == v->data || *end)
    return 0;
  *out = x;
  return 1;
}
