/* snapshot.c - periodic snapshots of the dataset. snapshot_take serialises
 * every item into a growing string buffer (the intermediate buffers are
 * replaced as it grows: class 0), then keeps the finished image in a
 * kv_buf until the next snapshot replaces it, 750 ms later (class 2); a
 * manifest describing it lives just as long.
 */
#include "kvserver.h"

#include <string.h>

struct snapshot_manifest {
  char *file_name;
  uint64_t taken_at_ms, items, bytes, checksum;
};

static struct kv_buf *current_image;
static struct snapshot_manifest *current_manifest;
static uint64_t taken_total, last_checksum;

static void snapshot_serialize_item(struct store_item *it, void *ctx) {
  struct strbuf *sb = ctx;
  strbuf_appendf(sb, "%zu:%s=%u:", strlen(it->key), it->key, it->value->len);
  strbuf_append(sb, it->value->data, it->value->len);
  strbuf_append(sb, "\n", 1);
}

static uint64_t checksum_bytes(const char *p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
  return h;
}

static void snapshot_release_current(void) {
  if (current_image)
    buf_free(current_image);
  if (current_manifest) {
    kv_live_sub(sizeof *current_manifest + kv_str_size(current_manifest->file_name));
    kv_free(current_manifest->file_name);
    kv_free(current_manifest);
  }
  current_image = NULL;
  current_manifest = NULL;
}

void snapshot_take(struct kv_store *st, uint64_t now) {
  struct strbuf sb;
  strbuf_init(&sb, 256);
  strbuf_appendf(&sb, "KVSNAP1 items=%zu version=%llu\n", st->count,
                 (unsigned long long)st->version);
  store_foreach(st, snapshot_serialize_item, &sb);

  struct kv_buf *image = buf_alloc(sb.len + 1);
  buf_append(&image, sb.data, sb.len);
  strbuf_release(&sb);

  struct snapshot_manifest *m = kv_xmalloc(sizeof *m);
  m->file_name = kv_sprintf_alloc("%s/%s.%llu", config_get("dir"), config_get("dbfilename"),
                                  (unsigned long long)(taken_total + 1));
  m->taken_at_ms = now;
  m->items = st->count;
  m->bytes = image->len;
  m->checksum = checksum_bytes(image->data, image->len);
  kv_live_add(sizeof *m + kv_str_size(m->file_name));

  snapshot_release_current();
  current_image = image;
  current_manifest = m;
  last_checksum = m->checksum;
  taken_total++;
  log_event(now, "snapshot %s: %llu items, %llu bytes", m->file_name,
            (unsigned long long)m->items, (unsigned long long)m->bytes);
}

void snapshot_release_all(void) { snapshot_release_current(); }
uint64_t snapshots_taken(void) { return taken_total; }
uint64_t snapshot_last_checksum(void) { return last_checksum; }
