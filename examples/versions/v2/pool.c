/* pool.c - v2's object-pool layer: every object it hands out carries a small
 * header with its size, so the pool can report live objects and bytes. It
 * allocates through xmalloc, adding one more wrapper frame to the calling
 * contexts of the objects v2 moved onto it (parsed headers, connection
 * buffers, cache entries). */
#include "pool.h"
#include "util.h"

#include <string.h>

struct pool_header {
  size_t size;
  uint64_t serial;
};

static uint64_t live_objects, live_bytes, serial_counter;

void *pool_alloc(size_t n) {
  struct pool_header *h = xmalloc(sizeof *h + n);
  h->size = n;
  h->serial = ++serial_counter;
  live_objects++;
  live_bytes += n;
  return h + 1;
}

char *pool_strndup(const char *s, size_t n) {
  char *p = pool_alloc(n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void pool_free(void *p) {
  if (!p)
    return;
  struct pool_header *h = (struct pool_header *)p - 1;
  live_objects--;
  live_bytes -= h->size;
  xfree(h);
}

uint64_t pool_objects_live(void) { return live_objects; }
