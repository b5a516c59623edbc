/* response.c - response building and the per-session outbound queues. A
 * response waits in its session's queue until the simulated network has
 * taken it (15-70 ms later), so queued responses live tens of milliseconds
 * (class 1); inline replies (PING, errors) are written and freed at once
 * (class 0). Both are built by the same response_create.
 */
#include "kvserver.h"

#include <string.h>

static uint64_t delivered_total;

struct response *response_create(size_t hint) {
  struct response *r = kv_xmalloc(sizeof *r);
  r->next = NULL;
  r->deliver_at_ms = 0;
  r->body = buf_alloc(hint);
  kv_live_add(sizeof *r);
  return r;
}

struct response *response_simple_string(const char *msg) {
  struct response *r = response_create(strlen(msg) + 3);
  buf_appendf(&r->body, "+%s\r\n", msg);
  return r;
}

struct response *response_error(const char *fmt, ...) {
  char tmp[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  struct response *r = response_create(strlen(tmp) + 8);
  buf_appendf(&r->body, "-ERR %s\r\n", tmp);
  return r;
}

struct response *response_integer(long long v) {
  struct response *r = response_create(24);
  buf_appendf(&r->body, ":%lld\r\n", v);
  return r;
}

void response_append_bulk(struct response *r, const char *data, size_t len) {
  if (!data) {
    buf_append(&r->body, "$-1\r\n", 5);
    return;
  }
  buf_appendf(&r->body, "$%zu\r\n", len);
  buf_append(&r->body, data, len);
  buf_append(&r->body, "\r\n", 2);
}

struct response *response_bulk(const char *data, size_t len) {
  struct response *r = response_create(len + 16);
  response_append_bulk(r, data, len);
  return r;
}

void response_free(struct response *r) {
  kv_live_sub(sizeof *r);
  buf_free(r->body);
  kv_free(r);
}

uint64_t response_checksum(const struct response *r) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < r->body->len; i++)
    h = (h ^ (unsigned char)r->body->data[i]) * 1099511628211ull;
  return h;
}

void response_queue_push(struct response_queue *q, struct response *r, uint64_t deliver_at) {
  /* The network delivers in order: a response never overtakes the one
   * queued before it. */
  if (q->tail && q->tail->deliver_at_ms > deliver_at)
    deliver_at = q->tail->deliver_at_ms;
  r->deliver_at_ms = deliver_at;
  r->next = NULL;
  if (q->tail)
    q->tail->next = r;
  else
    q->head = r;
  q->tail = r;
  q->pending++;
}

size_t response_queue_deliver(struct response_queue *q, uint64_t now, uint64_t *bytes) {
  size_t n = 0;
  while (q->head && q->head->deliver_at_ms <= now) {
    struct response *r = q->head;
    q->head = r->next;
    if (!q->head)
      q->tail = NULL;
    q->pending--;
    if (bytes)
      *bytes += r->body->len;
    response_free(r);
    n++;
  }
  delivered_total += n;
  return n;
}

void response_queue_clear(struct response_queue *q) {
  while (q->head) {
    struct response *r = q->head;
    q->head = r->next;
    response_free(r);
  }
  q->tail = NULL;
  q->pending = 0;
}

uint64_t responses_delivered_total(void) { return delivered_total; }
