/* logger.c - a batched logger. log_event formats a record and appends it to
 * the open batch; the server flushes the batch every 50 ms (writing it to the
 * log file, if any) and frees it. Records and batches live 0-50 ms, mostly
 * over 10 ms (class 1); the message formatted before the record is stamped
 * is freed at once (class 0).
 */
#include "kvserver.h"

#include <stdlib.h>
#include <string.h>

struct log_batch {
  char **records;
  size_t count, capacity;
  uint64_t opened_ms;
  uint64_t batch_no;
};

static struct log_batch *current_batch;
static FILE *log_sink;
static uint64_t records_total, batches_total, log_checksum;

void logger_open(const char *path) {
  if (path && *path) {
    log_sink = fopen(path, "w");
    if (!log_sink)
      kv_die("cannot open log file '%s'", path);
  }
}

static struct log_batch *log_batch_create(uint64_t now) {
  struct log_batch *b = malloc(sizeof *b);
  if (!b)
    kv_die("out of memory");
  b->capacity = 16;
  b->count = 0;
  b->records = kv_xmalloc(b->capacity * sizeof *b->records);
  b->opened_ms = now;
  b->batch_no = ++batches_total;
  kv_live_add(sizeof *b + b->capacity * sizeof *b->records);
  return b;
}

static void log_batch_append(struct log_batch *b, char *record) {
  if (b->count == b->capacity) {
    kv_live_add(b->capacity * sizeof *b->records);
    b->capacity *= 2;
    b->records = kv_xrealloc(b->records, b->capacity * sizeof *b->records);
  }
  b->records[b->count++] = record;
}

void log_event(uint64_t now, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *message = kv_vsprintf_alloc(fmt, ap);
  va_end(ap);
  if (!current_batch)
    current_batch = log_batch_create(now);
  char *record = kv_sprintf_alloc("%llu.%03llu notice %s", (unsigned long long)(now / 1000),
                                  (unsigned long long)(now % 1000), message);
  kv_free(message);
  kv_live_add(kv_str_size(record));
  log_batch_append(current_batch, record);
  records_total++;
}

void log_flush_batch(uint64_t now) {
  (void)now;
  struct log_batch *b = current_batch;
  if (!b)
    return;
  current_batch = NULL;
  for (size_t i = 0; i < b->count; i++) {
    if (log_sink) {
      fputs(b->records[i], log_sink);
      fputc('\n', log_sink);
    }
    log_checksum = log_checksum * 31 + strlen(b->records[i]);
    kv_live_sub(kv_str_size(b->records[i]));
    kv_free(b->records[i]);
  }
  kv_live_sub(sizeof *b + b->capacity * sizeof *b->records);
  kv_free(b->records);
  free(b);
}

void logger_close(uint64_t now) {
  log_flush_batch(now);
  if (log_sink) {
    fclose(log_sink);
    log_sink = NULL;
  }
}

uint64_t log_records_total(void) { return records_total; }
