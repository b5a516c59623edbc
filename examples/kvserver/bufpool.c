/* bufpool.c - byte buffers with a header (capacity, length). Buffers of the
 * standard I/O size are kept in a small free pool when released, as network
 * servers do for their connection buffers; every other size goes straight
 * back to free(). buf_alloc is the second context-dependent helper: responses
 * (~50 ms), snapshot chunks (immediate), connection buffers (seconds).
 */
#include "kvserver.h"

#include <string.h>

#define IOBUF_POOL_LIMIT 8

static struct kv_buf *iobuf_free_list;
static size_t iobuf_free_count;

struct kv_buf *buf_alloc(size_t cap) {
  if (cap < 32)
    cap = 32;
  struct kv_buf *b = kv_xmalloc(sizeof *b + cap);
  b->next_free = NULL;
  b->cap = cap;
  b->len = 0;
  b->data[0] = '\0';
  kv_live_add(sizeof *b + cap);
  return b;
}

static void buf_grow(struct kv_buf **bp, size_t need) {
  struct kv_buf *b = *bp;
  size_t cap = b->cap * 2;
  while (cap < need)
    cap *= 2;
  b = kv_xrealloc(b, sizeof *b + cap);
  kv_live_add(cap - b->cap);
  b->cap = cap;
  *bp = b;
}

void buf_append(struct kv_buf **bp, const char *s, size_t n) {
  if ((*bp)->len + n + 1 > (*bp)->cap)
    buf_grow(bp, (*bp)->len + n + 1);
  struct kv_buf *b = *bp;
  memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void buf_appendf(struct kv_buf **bp, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n >= sizeof tmp)
    n = sizeof tmp - 1;
  buf_append(bp, tmp, (size_t)n);
}

void buf_free(struct kv_buf *b) {
  kv_live_sub(sizeof *b + b->cap);
  kv_free(b);
}

struct kv_buf *iobuf_acquire(void) {
  struct kv_buf *b = iobuf_free_list;
  if (b) {
    iobuf_free_list = b->next_free;
    iobuf_free_count--;
    b->next_free = NULL;
    b->len = 0;
    return b;
  }
  return buf_alloc(IOBUF_STANDARD_SIZE);
}

void iobuf_release(struct kv_buf *b) {
  if (!b)
    return;
  if (b->cap == IOBUF_STANDARD_SIZE && iobuf_free_count < IOBUF_POOL_LIMIT) {
    b->next_free = iobuf_free_list;
    iobuf_free_list = b;
    iobuf_free_count++;
    return;
  }
  buf_free(b);
}

size_t bufpool_cached(void) { return iobuf_free_count; }

void bufpool_destroy(void) {
  while (iobuf_free_list) {
    struct kv_buf *b = iobuf_free_list;
    iobuf_free_list = b->next_free;
    buf_free(b);
  }
  iobuf_free_count = 0;
}
