/* kvserver.h - shared declarations of the kvserver example.
 *
 * kvserver is an in-process key-value "server" driven by a deterministic
 * synthetic workload (see README.md). Time is logical: the event loop runs one
 * tick per millisecond and paces the ticks against the wall clock, so the
 * allocation sequence depends only on the seed while the objects' real
 * lifetimes match their planned ones.
 *
 * Lifetime roles (what the profiler should find):
 *   per-request scratch (parse, argv, key normalisation)   class 0, <= 10 ms
 *   queued responses, log records and batches              class 1, <= 100 ms
 *   cache entries (TTL 0.2-0.9 s), snapshot images         class 2, <= 1 s
 *   sessions, connections, their buffers (2-5 s)           class 3, <= 10 s
 *   config, command table, interned names, the dataset     class 6, never freed
 */
#ifndef KVSERVER_H
#define KVSERVER_H

#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- util.c: allocation wrappers, PRNG, clock ---- */
void *kv_xmalloc(size_t n);
void *kv_xcalloc(size_t count, size_t size);
void *kv_xrealloc(void *p, size_t n);
void kv_free(void *p);
void kv_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

struct kv_rng {
  uint64_t state;
};
void rng_seed(struct kv_rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct kv_rng *r);
uint32_t rng_below(struct kv_rng *r, uint32_t n);                /* [0, n) */
uint32_t rng_range(struct kv_rng *r, uint32_t lo, uint32_t hi);  /* [lo, hi] */
int rng_percent(struct kv_rng *r, uint32_t pct);                 /* true pct% */

void clock_start_pacing(void);
void clock_wait_until_ms(uint64_t logical_ms);
double clock_elapsed_seconds(void);
uint64_t hash_string(const char *s);

/* What the program holds: every module adds the bytes it asked for when it
 * keeps an object past the current request and takes them off when it frees
 * it (per-request scratch is never counted). The demo's fragmentation is
 * 1 - held/RSS; memstat.c samples it. */
void kv_live_add(size_t n);
void kv_live_sub(size_t n);
size_t kv_live_bytes(void);
size_t kv_str_size(const char *s); /* strlen + 1, 0 for NULL */

/* ---- strutil.c: strings ---- */
char *kv_strdup(const char *s);
char *kv_strndup(const char *s, size_t n);
char *kv_sprintf_alloc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *kv_vsprintf_alloc(const char *fmt, va_list ap);
char *str_to_lower_copy(const char *s);

struct strbuf {
  char *data;
  size_t len, cap;
};
void strbuf_init(struct strbuf *sb, size_t hint);
void strbuf_reserve(struct strbuf *sb, size_t extra);
void strbuf_append(struct strbuf *sb, const char *s, size_t n);
void strbuf_appendf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_release(struct strbuf *sb);

/* ---- bufpool.c: byte buffers; standard-size I/O buffers are pooled ---- */
#define IOBUF_STANDARD_SIZE 4096
struct kv_buf {
  struct kv_buf *next_free;
  size_t cap, len;
  char data[];
};
struct kv_buf *buf_alloc(size_t cap);
void buf_append(struct kv_buf **b, const char *s, size_t n);
void buf_appendf(struct kv_buf **b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_free(struct kv_buf *b);
struct kv_buf *iobuf_acquire(void);
void iobuf_release(struct kv_buf *b);
void bufpool_destroy(void);
size_t bufpool_cached(void);

/* ---- value.c: reference-free value blobs ---- */
struct value_blob {
  uint32_t len;
  uint32_t flags;
  char data[];
};
struct value_blob *value_blob_create(const char *data, size_t len);
struct value_blob *value_from_integer(long long v);
struct value_blob *value_blob_clone(const struct value_blob *v);
void value_blob_free(struct value_blob *v);
int value_to_integer(const struct value_blob *v, long long *out);

/* ---- config.c: configuration, command table, intern pool (never freed) ---- */
struct session;
struct request;
struct response;
typedef struct response *(*command_handler)(struct session *s, struct request *rq, uint64_t now);
struct command_spec {
  char *name;
  char *summary;
  command_handler handler;
  int arity; /* minimum argc, including the name */
  int is_write;
  uint64_t calls;
};
void config_load_defaults(uint64_t seed);
const char *config_get(const char *name);
long config_get_long(const char *name, long fallback);
void command_table_init(void);
void command_table_register(const char *name, const char *summary, command_handler fn,
                            int arity, int is_write);
struct command_spec *command_table_lookup(const char *name);
const char *intern_string(const char *s);
size_t intern_count(void);

/* ---- store.c: the dataset, a chained hash table (never freed) ---- */
struct store_item {
  struct store_item *next;
  char *key;
  struct value_blob *value;
  uint64_t hash;
  uint64_t version;
};
struct kv_store {
  struct store_item **buckets;
  size_t nbuckets, count;
  uint64_t version;
};
struct kv_store *store_create(size_t initial_buckets);
struct store_item *store_lookup(struct kv_store *st, const char *key);
int store_put(struct kv_store *st, const char *key, struct value_blob *value); /* 1 if new */
int store_delete(struct kv_store *st, const char *key);
void store_rehash(struct kv_store *st, size_t nbuckets);
void store_compact(struct kv_store *st);
void store_foreach(struct kv_store *st, void (*fn)(struct store_item *it, void *ctx), void *ctx);

/* ---- cache.c: LRU cache with TTL expiry ---- */
struct lru_cache;
struct lru_cache *cache_create(size_t capacity, size_t nbuckets);
void cache_put(struct lru_cache *c, const char *key, const char *data, size_t len,
               uint64_t ttl_ms, uint64_t now);
const struct value_blob *cache_get(struct lru_cache *c, const char *key, uint64_t now);
size_t cache_expire_sweep(struct lru_cache *c, uint64_t now);
size_t cache_size(const struct lru_cache *c);
uint64_t cache_evictions(const struct lru_cache *c);
void cache_destroy(struct lru_cache *c);

/* ---- response.c: responses and per-session outbound queues ---- */
struct response {
  struct response *next;
  uint64_t deliver_at_ms;
  struct kv_buf *body;
};
struct response_queue {
  struct response *head, *tail;
  size_t pending;
};
struct response *response_create(size_t hint);
struct response *response_simple_string(const char *msg);
struct response *response_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
struct response *response_integer(long long v);
struct response *response_bulk(const char *data, size_t len);
void response_append_bulk(struct response *r, const char *data, size_t len);
void response_free(struct response *r);
void response_queue_push(struct response_queue *q, struct response *r, uint64_t deliver_at);
size_t response_queue_deliver(struct response_queue *q, uint64_t now, uint64_t *bytes);
void response_queue_clear(struct response_queue *q);
uint64_t response_checksum(const struct response *r);
uint64_t responses_delivered_total(void);

/* ---- session.c: sessions and connections ---- */
struct session_attr {
  struct session_attr *next;
  char *name;
  char *value;
};
struct connection {
  uint32_t conn_id;
  char *peer_description;
  struct kv_buf *read_buffer;
  struct kv_buf *write_buffer;
};
struct session {
  uint32_t id;
  uint32_t client_id;
  char *name;
  char *auth_token;
  const char *client_host; /* interned */
  struct connection *conn;
  struct session_attr *attrs;
  struct response_queue outq;
  uint64_t opened_ms, close_at_ms, requests;
};
struct session *session_create(uint32_t client_id, uint64_t now, uint64_t lifetime_ms,
                               struct kv_rng *rng);
void session_set_attribute(struct session *s, const char *name, const char *value);
const char *session_get_attribute(struct session *s, const char *name);
void session_destroy(struct session *s);
uint64_t sessions_opened_total(void);

/* ---- request.c: request text and parsing ---- */
struct request {
  char *raw;
  size_t raw_len;
  int argc;
  char **argv;
  size_t *arglen;
};
struct request *parse_request_header(const char *raw, size_t len);
void request_free(struct request *rq);
char *normalize_key_copy(const char *key);

/* ---- command.c: command execution ---- */
void commands_register_all(void);
struct response *execute_command(struct session *s, struct request *rq, uint64_t now,
                                 int *inline_reply);

/* ---- logger.c: batched logger, flushed every ~50 ms ---- */
void logger_open(const char *path);
void log_event(uint64_t now, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_flush_batch(uint64_t now);
void logger_close(uint64_t now);
uint64_t log_records_total(void);

/* ---- snapshot.c: periodic snapshot and compaction ---- */
void snapshot_take(struct kv_store *st, uint64_t now);
void snapshot_release_all(void);
uint64_t snapshots_taken(void);
uint64_t snapshot_last_checksum(void);

/* ---- workload.c: synthetic clients ---- */
struct workload_options {
  uint64_t seed;
  uint32_t clients;
  uint32_t request_rate;   /* requests per second per client */
  uint32_t burst_clients;  /* extra clients that connect only during bursts */
  uint32_t burst_at_ms;    /* the first burst starts at burst_at_ms, */
  uint32_t burst_every_ms; /* the next ones every burst_every_ms (0: none); */
  uint32_t burst_ms;       /* each lasts burst_ms */
};
void workload_init(const struct workload_options *o);
void workload_tick(uint64_t now);
void workload_shutdown(uint64_t now);
uint64_t workload_requests_served(void);

/* ---- memstat.c: memory of the process, sampled every 50 logical ms ---- */
struct memstat_sample {
  uint64_t rss_kib, anon_kib, huge_kib; /* VmRSS, RssAnon, AnonHugePages */
};
int memstat_read(struct memstat_sample *out); /* 0 on success; allocates nothing */
uint64_t memstat_hwm_kib(void);              /* VmHWM: the kernel's peak RSS */
size_t memstat_held_bytes(void);             /* C modules + C++ index and statistics */
void memstat_open_series(const char *path);
void memstat_tick(uint64_t now, double seconds);
void memstat_final(void); /* at the end of the run, before shutdown */
void memstat_report(FILE *out);

/* ---- server state shared by the modules (server.c) ---- */
struct kv_server {
  struct kv_store *store;
  struct lru_cache *cache;
  uint64_t seed;
};
extern struct kv_server g_server;

#endif /* KVSERVER_H */
