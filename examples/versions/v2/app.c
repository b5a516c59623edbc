/* webapp v2 - the second version of the web application of the
 * generalisation experiment (see ../../README.md). Same roles and lifetimes
 * as v1, but:
 *   - most functions are renamed (session_open -> session_start,
 *     parse_header -> http_parse_header, cache_insert -> cache_put, ...),
 *     keeping some of their name tokens;
 *   - a new wrapper layer, pool.c (pool_alloc), sits between xmalloc and the
 *     parsed headers, connection buffers and cache entries;
 *   - new call paths: file uploads (handle_upload, parseMultipartChunks,
 *     session_attach_upload), websocket channels (handle_websocket_upgrade,
 *     websocket_channel_open), an API result cache (query_cache_put), a
 *     plugin registry (plugin_registry_init);
 *   - changed structure: the query string is parsed in place (no temporary
 *     copy), the scratch buffer grows through scratch_reserve, the log is
 *     flushed every 40 ms.
 *
 *   webapp-v2 [--seed=N] [--seconds=S] [--clients=N]
 *
 * Lifetime roles, by the names of the functions that allocate:
 *   config, router table, mime table, template and plugin registries  never freed (6)
 *   request reading and parsing, url decoding, scratch, upload chunks freed at once (0)
 *   responses (queued 20-80 ms), access-log records                  <= 100 ms (1)
 *   page and query cache entries (TTL 300-700 ms)                     <= 1 s (2)
 *   sessions, connections, websocket channels, uploads (2-5 s)        <= 10 s (3)
 */
#include "pool.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ config */

struct config_entry {
  char *key, *value;
  struct config_entry *next;
};
static struct config_entry *config_list;

static void config_set_value(const char *key, const char *value) {
  struct config_entry *e = xmalloc(sizeof *e);
  e->key = xstrdup(key);
  e->value = xstrdup(value);
  e->next = config_list;
  config_list = e;
}

static const char *config_get(const char *key) {
  for (struct config_entry *e = config_list; e; e = e->next)
    if (strcmp(e->key, key) == 0)
      return e->value;
  return "";
}

static void config_load_file(void) {
  static const char *const settings[][2] = {
      {"listen", "0.0.0.0:8080"}, {"workers", "2"},        {"document_root", "/srv/www"},
      {"server_name", "webapp"},  {"keepalive", "5"},      {"cache_ttl_min", "300"},
      {"cache_ttl_max", "700"},   {"log_format", "combined"}, {"session_cookie", "SID"},
      {"max_body", "65536"},      {"index", "index.html"}, {"charset", "utf-8"},
  };
  for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
    config_set_value(settings[i][0], settings[i][1]);
}

/* ------------------------------------------------------------- route table */

struct session;
struct request;
struct response;
typedef struct response *(*route_handler)(struct session *s, struct request *rq, uint64_t now);

struct route {
  char *pattern;
  char **segments;
  int nsegments;
  route_handler handler;
  struct route *next;
};
static struct route *route_table;

static char **route_pattern_compile(const char *pattern, int *count) {
  int n = 0;
  for (const char *p = pattern; *p; p++)
    n += *p == '/';
  char **segs = xcalloc((size_t)n + 1, sizeof *segs);
  int k = 0;
  const char *p = pattern;
  while (*p == '/' && k < n) {
    const char *start = ++p;
    while (*p && *p != '/')
      p++;
    segs[k++] = xstrndup(start, (size_t)(p - start));
  }
  *count = k;
  return segs;
}

static void router_register_route(const char *pattern, route_handler fn) {
  struct route *r = xcalloc(1, sizeof *r);
  r->pattern = xstrdup(pattern);
  r->segments = route_pattern_compile(pattern, &r->nsegments);
  r->handler = fn;
  r->next = route_table;
  route_table = r;
}

static struct route *router_match(const char *path) {
  for (struct route *r = route_table; r; r = r->next) {
    size_t n = strlen(r->segments[0]);
    if (path[0] == '/' && strncmp(path + 1, r->segments[0], n) == 0 &&
        (path[1 + n] == '/' || path[1 + n] == '\0' || path[1 + n] == '?'))
      return r;
  }
  return NULL;
}

/* -------------------------------------------------------------- mime table */

struct mime_type {
  char *ext, *type;
};
static struct mime_type *mime_table;
static size_t mime_count;

static void mime_register(const char *ext, const char *type) {
  mime_table = xrealloc(mime_table, (mime_count + 1) * sizeof *mime_table);
  mime_table[mime_count].ext = xstrdup(ext);
  mime_table[mime_count].type = xstrdup(type);
  mime_count++;
}

static void mime_table_init(void) {
  mime_register("html", "text/html");
  mime_register("css", "text/css");
  mime_register("js", "application/javascript");
  mime_register("png", "image/png");
  mime_register("svg", "image/svg+xml");
  mime_register("json", "application/json");
}

static const char *mime_lookup(const char *ext) {
  for (size_t i = 0; i < mime_count; i++)
    if (strcmp(mime_table[i].ext, ext) == 0)
      return mime_table[i].type;
  return "application/octet-stream";
}

/* ------------------------------------------------------- template registry */

struct template {
  char *name;
  char *compiled;
  size_t len;
  struct template *next;
};
static struct template *template_registry;

static struct template *template_compile_source(const char *name, const char *source) {
  struct template *t = xmalloc(sizeof *t);
  t->name = xstrdup(name);
  t->len = strlen(source);
  t->compiled = xmalloc(t->len + 1);
  for (size_t i = 0; i <= t->len; i++) /* "compile": fold the markers */
    t->compiled[i] = source[i] == '$' ? '\x01' : source[i];
  t->next = template_registry;
  return t;
}

static void template_registry_load(void) {
  static const char *const sources[][2] = {
      {"page", "<html><head><title>$</title></head><body><h1>$</h1><p>$</p></body></html>"},
      {"item", "<li class=\"item\">$ - $</li>"},
      {"login", "<form method=post><input name=user value=\"$\"></form>"},
      {"error", "<html><body><h1>Error $</h1><p>$</p></body></html>"},
      {"layout", "<!doctype html><html>$<footer>$</footer></html>"},
      {"upload", "<html><body><p>Uploaded $ ($ chunks, $ bytes)</p></body></html>"},
  };
  for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
    template_registry = template_compile_source(sources[i][0], sources[i][1]);
}

static const struct template *template_find(const char *name) {
  for (const struct template *t = template_registry; t; t = t->next)
    if (strcmp(t->name, name) == 0)
      return t;
  return NULL;
}

/* ---------------------------------------------------------------- requests */

struct header {
  char *name, *value;
  struct header *next;
};
struct param {
  char *key, *value;
};
struct request {
  char *method, *path, *version;
  struct header *headers;
  struct param *params;
  int nparams;
  char *body;
};

static char *url_decode_component(const char *s, size_t n) {
  char *out = xmalloc(n + 1);
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '%' && i + 2 < n) {
      unsigned v;
      sscanf(s + i + 1, "%2x", &v);
      out[j++] = (char)v;
      i += 2;
    } else {
      out[j++] = s[i] == '+' ? ' ' : s[i];
    }
  }
  out[j] = '\0';
  return out;
}

static void http_parse_query(struct request *rq, const char *q, const char *q_end) {
  int n = 1;
  for (const char *p = q; p < q_end; p++)
    n += *p == '&';
  rq->params = xcalloc((size_t)n, sizeof *rq->params);
  while (q < q_end && rq->nparams < n) {
    const char *amp = memchr(q, '&', (size_t)(q_end - q));
    size_t len = amp ? (size_t)(amp - q) : (size_t)(q_end - q);
    const char *eq = memchr(q, '=', len);
    size_t klen = eq ? (size_t)(eq - q) : len;
    struct param *pm = &rq->params[rq->nparams++];
    pm->key = url_decode_component(q, klen);
    pm->value = eq ? url_decode_component(eq + 1, len - klen - 1) : xstrdup("");
    q += len + (amp != NULL);
  }
}

static void http_parse_request_line(struct request *rq, const char *line, size_t len) {
  const char *sp1 = memchr(line, ' ', len);
  const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line)) : NULL;
  if (!sp1 || !sp2)
    fatal("bad request line");
  rq->method = xstrndup(line, (size_t)(sp1 - line));
  const char *target = sp1 + 1;
  const char *qm = memchr(target, '?', (size_t)(sp2 - target));
  rq->path = xstrndup(target, (size_t)((qm ? qm : sp2) - target));
  rq->version = xstrndup(sp2 + 1, len - (size_t)(sp2 + 1 - line));
  if (qm)
    http_parse_query(rq, qm + 1, sp2);
}

static struct header *http_parse_header(const char *line, size_t len) {
  const char *colon = memchr(line, ':', len);
  if (!colon)
    return NULL;
  struct header *h = pool_alloc(sizeof *h);
  h->name = pool_strndup(line, (size_t)(colon - line));
  const char *v = colon + 1;
  while (*v == ' ')
    v++;
  h->value = pool_strndup(v, len - (size_t)(v - line));
  h->next = NULL;
  return h;
}

static struct request *http_parse_request(const char *raw) {
  struct request *rq = xcalloc(1, sizeof *rq);
  const char *eol = strstr(raw, "\r\n");
  http_parse_request_line(rq, raw, (size_t)(eol - raw));
  const char *p = eol + 2;
  struct header **tail = &rq->headers;
  while ((eol = strstr(p, "\r\n")) && eol != p) {
    struct header *h = http_parse_header(p, (size_t)(eol - p));
    if (h) {
      *tail = h;
      tail = &h->next;
    }
    p = eol + 2;
  }
  if (eol && eol[2])
    rq->body = xstrdup(eol + 2);
  return rq;
}

static void http_request_free(struct request *rq) {
  while (rq->headers) {
    struct header *h = rq->headers;
    rq->headers = h->next;
    pool_free(h->name);
    pool_free(h->value);
    pool_free(h);
  }
  for (int i = 0; i < rq->nparams; i++) {
    xfree(rq->params[i].key);
    xfree(rq->params[i].value);
  }
  xfree(rq->params);
  xfree(rq->method);
  xfree(rq->path);
  xfree(rq->version);
  xfree(rq->body);
  xfree(rq);
}

static const char *request_param(const struct request *rq, const char *key) {
  for (int i = 0; i < rq->nparams; i++)
    if (strcmp(rq->params[i].key, key) == 0)
      return rq->params[i].value;
  return NULL;
}

/* --------------------------------------------------------------- responses */

struct response {
  int status;
  char *body;
  size_t len, cap;
  uint64_t deliver_at;
  struct response *next;
};

static struct response *http_response_new(int status, size_t cap) {
  struct response *r = xmalloc(sizeof *r);
  r->status = status;
  r->cap = cap < 64 ? 64 : cap;
  r->body = xmalloc(r->cap);
  r->len = 0;
  r->body[0] = '\0';
  r->next = NULL;
  return r;
}

static void http_response_append(struct response *r, const char *s, size_t n) {
  if (r->len + n + 1 > r->cap) {
    while (r->len + n + 1 > r->cap)
      r->cap *= 2;
    r->body = xrealloc(r->body, r->cap);
  }
  memcpy(r->body + r->len, s, n);
  r->len += n;
  r->body[r->len] = '\0';
}

static void http_response_free(struct response *r) {
  xfree(r->body);
  xfree(r);
}

/* --------------------------------------------------------------- the log */

static char **log_records;
static size_t log_count, log_capacity;
static uint64_t log_total, log_bytes;

static char *access_log_record_create(const struct request *rq, int status, size_t bytes, uint64_t now) {
  char *rec = xasprintf("%llu.%03llu \"%s %s %s\" %d %zu", (unsigned long long)(now / 1000),
                        (unsigned long long)(now % 1000), rq->method, rq->path, rq->version,
                        status, bytes);
  log_total++;
  return rec;
}

static void access_log_append(const struct request *rq, int status, size_t bytes, uint64_t now) {
  if (log_count == log_capacity) {
    log_capacity = log_capacity ? log_capacity * 2 : 32;
    log_records = xrealloc(log_records, log_capacity * sizeof *log_records);
  }
  log_records[log_count++] = access_log_record_create(rq, status, bytes, now);
}

static void access_log_flush(void) {
  for (size_t i = 0; i < log_count; i++) {
    log_bytes += strlen(log_records[i]);
    xfree(log_records[i]);
  }
  log_count = 0;
}

/* ------------------------------------------------------------- page cache */

struct cache_entry {
  char *key;
  char *data;
  size_t len;
  uint64_t expires_at;
  struct cache_entry *next;
};
#define CACHE_BUCKETS 256
static struct cache_entry *cache_buckets[CACHE_BUCKETS];
static size_t cache_count;
static uint64_t cache_hits, cache_misses;

static unsigned cache_slot(const char *key) {
  unsigned h = 2166136261u;
  for (; *key; key++)
    h = (h ^ (unsigned char)*key) * 16777619u;
  return h % CACHE_BUCKETS;
}

static struct cache_entry *cache_entry_alloc(const char *key, const char *data, size_t len,
                                           uint64_t expires_at) {
  struct cache_entry *e = pool_alloc(sizeof *e);
  e->key = xstrdup(key);
  e->data = xmalloc(len + 1);
  memcpy(e->data, data, len + 1);
  e->len = len;
  e->expires_at = expires_at;
  return e;
}

static void cache_entry_free(struct cache_entry *e) {
  xfree(e->key);
  xfree(e->data);
  pool_free(e);
  cache_count--;
}

static const struct cache_entry *cache_get(const char *key, uint64_t now) {
  for (struct cache_entry *e = cache_buckets[cache_slot(key)]; e; e = e->next)
    if (strcmp(e->key, key) == 0 && e->expires_at > now) {
      cache_hits++;
      return e;
    }
  cache_misses++;
  return NULL;
}

static void cache_put(const char *key, const char *data, size_t len, uint64_t ttl,
                         uint64_t now) {
  struct cache_entry *e = cache_entry_alloc(key, data, len, now + ttl);
  unsigned slot = cache_slot(key);
  e->next = cache_buckets[slot];
  cache_buckets[slot] = e;
  cache_count++;
}

static void cache_evict_expired(uint64_t now) {
  for (unsigned i = 0; i < CACHE_BUCKETS; i++) {
    struct cache_entry **pp = &cache_buckets[i];
    while (*pp) {
      struct cache_entry *e = *pp;
      if (e->expires_at <= now) {
        *pp = e->next;
        cache_entry_free(e);
      } else {
        pp = &e->next;
      }
    }
  }
}

static void cache_clear(void) { cache_evict_expired(UINT64_MAX); }

/* ------------------------------------------------ sessions and connections */

struct connection {
  unsigned id;
  char *peer;
  char *read_buffer;
  size_t buffer_size;
};

struct session {
  unsigned client;
  char *session_id;
  char *user;
  struct connection *conn;
  uint64_t opened_at, close_at, requests;
  struct response *outq_head, *outq_tail;
  struct websocket_channel *channel;
  char **uploads;
  size_t nuploads;
};

struct websocket_channel {
  char *channel_name;
  char *subprotocol;
  uint64_t frames;
};
static unsigned next_conn_id = 1;
static uint64_t sessions_total;

static void connection_buffer_alloc(struct connection *c, size_t size) {
  c->buffer_size = size;
  c->read_buffer = pool_alloc(size);
  c->read_buffer[0] = '\0';
}

static struct connection *connection_accept(unsigned client) {
  struct connection *c = xcalloc(1, sizeof *c);
  c->id = next_conn_id++;
  c->peer = xasprintf("192.168.%u.%u:%u", client / 250, 1 + client % 250, 50000 + c->id);
  connection_buffer_alloc(c, 2048);
  return c;
}

static void connection_close(struct connection *c) {
  pool_free(c->read_buffer);
  xfree(c->peer);
  xfree(c);
}

static struct session *session_start(unsigned client, uint64_t now, uint64_t lifetime,
                                    struct rng *r) {
  struct session *s = xcalloc(1, sizeof *s);
  s->client = client;
  s->session_id = xasprintf("%08x%08x", rng_below(r, UINT32_MAX), rng_below(r, UINT32_MAX));
  s->conn = connection_accept(client);
  s->opened_at = now;
  s->close_at = now + lifetime;
  sessions_total++;
  return s;
}

static void session_bind_user(struct session *s, const char *user) {
  xfree(s->user);
  s->user = xstrdup(user);
}

static void session_enqueue_response(struct session *s, struct response *r, uint64_t when) {
  if (s->outq_tail && s->outq_tail->deliver_at > when)
    when = s->outq_tail->deliver_at;
  r->deliver_at = when;
  if (s->outq_tail)
    s->outq_tail->next = r;
  else
    s->outq_head = r;
  s->outq_tail = r;
}

static void session_flush_output(struct session *s, uint64_t now) {
  while (s->outq_head && s->outq_head->deliver_at <= now) {
    struct response *r = s->outq_head;
    s->outq_head = r->next;
    if (!s->outq_head)
      s->outq_tail = NULL;
    http_response_free(r);
  }
}

static void websocket_channel_open(struct session *s, const char *protocol) {
  struct websocket_channel *ch = xcalloc(1, sizeof *ch);
  ch->channel_name = xasprintf("ws-%s-%u", s->session_id, s->client);
  ch->subprotocol = xstrdup(protocol);
  s->channel = ch;
}

static void websocket_channel_close(struct websocket_channel *ch) {
  xfree(ch->channel_name);
  xfree(ch->subprotocol);
  xfree(ch);
}

static void session_attach_upload(struct session *s, const char *name) {
  s->uploads = xrealloc(s->uploads, (s->nuploads + 1) * sizeof *s->uploads);
  s->uploads[s->nuploads++] = xstrdup(name);
}

static void session_finish(struct session *s) {
  session_flush_output(s, UINT64_MAX);
  if (s->channel)
    websocket_channel_close(s->channel);
  for (size_t i = 0; i < s->nuploads; i++)
    xfree(s->uploads[i]);
  xfree(s->uploads);
  connection_close(s->conn);
  xfree(s->session_id);
  xfree(s->user);
  xfree(s);
}

/* ---------------------------------------------------------------- handlers */

/* A scratch buffer for rendering: grows as the page is assembled and is
 * gone when the handler returns. */
struct scratch_buffer {
  char *data;
  size_t len, cap;
};

static struct scratch_buffer *scratch_buffer_alloc(size_t cap) {
  struct scratch_buffer *b = xmalloc(sizeof *b);
  b->cap = cap;
  b->len = 0;
  b->data = xmalloc(cap);
  b->data[0] = '\0';
  return b;
}

static void scratch_reserve(struct scratch_buffer *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap)
    return;
  while (b->len + extra + 1 > b->cap)
    b->cap *= 2;
  b->data = xrealloc(b->data, b->cap);
}

static void scratch_append(struct scratch_buffer *b, const char *s) {
  size_t n = strlen(s);
  scratch_reserve(b, n);
  memcpy(b->data + b->len, s, n + 1);
  b->len += n;
}

static void scratch_buffer_free(struct scratch_buffer *b) {
  xfree(b->data);
  xfree(b);
}

static void template_render(struct scratch_buffer *out, const char *name,
                            const char *const *args, int nargs) {
  const struct template *t = template_find(name);
  char piece[2] = {0, 0};
  int a = 0;
  for (size_t i = 0; i < t->len; i++) {
    if (t->compiled[i] == '\x01') {
      scratch_append(out, a < nargs ? args[a] : "");
      a++;
    } else {
      piece[0] = t->compiled[i];
      scratch_append(out, piece);
    }
  }
}

static struct response *handle_page_view(struct session *s, struct request *rq, uint64_t now) {
  const struct cache_entry *hit = cache_get(rq->path, now);
  struct response *r;
  if (hit) {
    r = http_response_new(200, hit->len + 1);
    http_response_append(r, hit->data, hit->len);
    return r;
  }
  struct scratch_buffer *page = scratch_buffer_alloc(128);
  const char *title = request_param(rq, "title");
  const char *args[] = {title ? title : rq->path, rq->path, s->user ? s->user : "guest"};
  template_render(page, "page", args, 3);
  cache_put(rq->path, page->data, page->len, 300 + (now * 7919 + page->len) % 401, now);
  r = http_response_new(200, page->len + 1);
  http_response_append(r, page->data, page->len);
  scratch_buffer_free(page);
  return r;
}

static void query_cache_put(const char *key, const struct scratch_buffer *result, uint64_t now) {
  cache_put(key, result->data, result->len, 400 + (now * 31 + result->len) % 201, now);
}

static struct response *handle_api_search(struct session *s, struct request *rq, uint64_t now) {
  (void)s;
  const char *q = request_param(rq, "q");
  const char *lim = request_param(rq, "limit");
  int limit = lim ? atoi(lim) : 5;
  char cache_key[160];
  snprintf(cache_key, sizeof cache_key, "api:%s:%d", q ? q : "", limit);
  const struct cache_entry *hit = cache_get(cache_key, now);
  if (hit) {
    struct response *r = http_response_new(200, hit->len + 1);
    http_response_append(r, hit->data, hit->len);
    return r;
  }
  struct scratch_buffer *json = scratch_buffer_alloc(64);
  scratch_append(json, "{\"items\":[");
  for (int i = 0; i < limit; i++) {
    char item[96];
    snprintf(item, sizeof item, "%s{\"id\":%d,\"match\":\"%s\"}", i ? "," : "", i, q ? q : "");
    scratch_append(json, item);
  }
  scratch_append(json, "]}");
  query_cache_put(cache_key, json, now);
  struct response *r = http_response_new(200, json->len + 1);
  http_response_append(r, json->data, json->len);
  scratch_buffer_free(json);
  return r;
}

static struct response *handle_auth_login(struct session *s, struct request *rq, uint64_t now) {
  (void)now;
  const char *user = request_param(rq, "user");
  if (user)
    session_bind_user(s, user);
  struct response *r = http_response_new(303, 64);
  http_response_append(r, "see /page/home", 14);
  return r;
}

static struct response *handle_static_asset(struct session *s, struct request *rq, uint64_t now) {
  (void)s, (void)now;
  const char *dot = strrchr(rq->path, '.');
  char *ext = xstrdup(dot ? dot + 1 : "");
  for (char *p = ext; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  const char *type = mime_lookup(ext);
  xfree(ext);
  struct response *r = http_response_new(200, 256);
  http_response_append(r, type, strlen(type));
  return r;
}

/* POST /upload?name=F with a body of ';'-separated chunks. */
static char **parseMultipartChunks(const char *body, size_t *count) {
  size_t n = 1;
  for (const char *p = body; *p; p++)
    n += *p == ';';
  char **chunks = xcalloc(n, sizeof *chunks);
  size_t k = 0;
  while (k < n) {
    const char *end = strchr(body, ';');
    size_t len = end ? (size_t)(end - body) : strlen(body);
    chunks[k++] = xstrndup(body, len);
    if (!end)
      break;
    body = end + 1;
  }
  *count = k;
  return chunks;
}

static struct response *handle_upload(struct session *s, struct request *rq, uint64_t now) {
  (void)now;
  size_t nchunks = 0, bytes = 0;
  char **chunks = parseMultipartChunks(rq->body ? rq->body : "", &nchunks);
  for (size_t i = 0; i < nchunks; i++) {
    bytes += strlen(chunks[i]);
    xfree(chunks[i]);
  }
  xfree(chunks);
  const char *name = request_param(rq, "name");
  session_attach_upload(s, name ? name : "unnamed");
  char count[32], size[32];
  snprintf(count, sizeof count, "%zu", nchunks);
  snprintf(size, sizeof size, "%zu", bytes);
  struct scratch_buffer *page = scratch_buffer_alloc(96);
  const char *args[] = {name ? name : "unnamed", count, size};
  template_render(page, "upload", args, 3);
  struct response *r = http_response_new(201, page->len + 1);
  http_response_append(r, page->data, page->len);
  scratch_buffer_free(page);
  return r;
}

static struct response *handle_websocket_upgrade(struct session *s, struct request *rq,
                                                 uint64_t now) {
  (void)now;
  if (!s->channel) {
    const char *proto = request_param(rq, "protocol");
    websocket_channel_open(s, proto ? proto : "chat");
  }
  s->channel->frames++;
  struct response *r = http_response_new(101, 64);
  http_response_append(r, "switching protocols", 19);
  return r;
}

/* ---------------------------------------------------------- plugin registry */

struct plugin {
  char *name;
  char *version;
  struct plugin *next;
};
static struct plugin *plugin_registry;

static void plugin_registry_add(const char *name, const char *version) {
  struct plugin *p = xcalloc(1, sizeof *p);
  p->name = xstrdup(name);
  p->version = xstrdup(version);
  p->next = plugin_registry;
  plugin_registry = p;
}

static void plugin_registry_init(void) {
  plugin_registry_add("gzip", "1.2");
  plugin_registry_add("etag", "0.9");
  plugin_registry_add("ratelimit", "2.0");
}

static void router_table_create(void) {
  router_register_route("/page/:name", handle_page_view);
  router_register_route("/api/items", handle_api_search);
  router_register_route("/login", handle_auth_login);
  router_register_route("/static/:file", handle_static_asset);
  router_register_route("/upload", handle_upload);
  router_register_route("/ws", handle_websocket_upgrade);
}

/* ---------------------------------------------------------------- workload */

struct client {
  unsigned id;
  struct rng rng;
  struct session *session;
  uint64_t reconnect_at;
};
static struct client *clients;
static unsigned nclients;
static uint64_t requests_total, not_found_total;

static char *http_read_request(struct client *c, int first) {
  struct rng *r = &c->rng;
  unsigned dice = first ? 85 : rng_below(r, 100); /* a session starts by logging in */
  char target[160];
  const char *method = "GET";
  if (dice < 40)
    snprintf(target, sizeof target, "/page/p%u?title=Page+%%23%u", rng_below(r, 300),
             rng_below(r, 300));
  else if (dice < 70)
    snprintf(target, sizeof target, "/api/items?q=w%u&limit=%u&sort=name", rng_below(r, 1000),
             rng_between(r, 1, 12));
  else if (dice < 85)
    snprintf(target, sizeof target, "/static/asset%u.%s", rng_below(r, 50),
             (const char *[]){"css", "JS", "png", "svg"}[rng_below(r, 4)]);
  else if (dice < 86) {
    method = "POST";
    snprintf(target, sizeof target, "/login?user=user%u", rng_below(r, 500));
  } else if (dice < 91) {
    method = "POST";
    snprintf(target, sizeof target, "/upload?name=file%u.bin", rng_below(r, 1000));
  } else if (dice < 94)
    snprintf(target, sizeof target, "/ws?protocol=%s", rng_below(r, 2) ? "chat" : "feed");
  else
    snprintf(target, sizeof target, "/missing/%u", rng_below(r, 100));
  char body[256] = "";
  if (strncmp(target, "/upload", 7) == 0) {
    unsigned chunks = rng_between(r, 2, 12);
    size_t at = 0;
    for (unsigned i = 0; i < chunks && at + 20 < sizeof body; i++)
      at += (size_t)snprintf(body + at, sizeof body - at, "%schunk%u", i ? ";" : "",
                             rng_below(r, 100000));
  }
  char *raw = xasprintf("%s %s HTTP/1.1\r\nHost: webapp.example\r\nUser-Agent: loadgen/%u\r\n"
                        "Accept: */*\r\nCookie: SID=%u\r\n\r\n%s",
                        method, target, c->id, rng_below(r, 100000), body);
  return raw;
}

static void client_send_request(struct client *c, uint64_t now) {
  struct session *s = c->session;
  char *raw = http_read_request(c, s->requests == 0);
  struct request *rq = http_parse_request(raw);
  xfree(raw);
  struct route *route = router_match(rq->path);
  if (!route) {
    /* Answered on the spot, never queued. */
    struct response *r = http_response_new(404, 128);
    http_response_append(r, "not found", 9);
    not_found_total++;
    http_response_free(r);
  } else {
    struct response *r = route->handler(s, rq, now);
    access_log_append(rq, r->status, r->len, now);
    session_enqueue_response(s, r, now + rng_between(&c->rng, 20, 80));
  }
  http_request_free(rq);
  s->requests++;
  requests_total++;
}

static void workload_step(uint64_t now) {
  for (unsigned i = 0; i < nclients; i++) {
    struct client *c = &clients[i];
    if (!c->session && now >= c->reconnect_at)
      c->session = session_start(c->id, now, rng_between(&c->rng, 2000, 5000), &c->rng);
    if (!c->session)
      continue;
    unsigned n = (100 + rng_below(&c->rng, 1000)) / 1000; /* ~100 requests/s */
    for (unsigned k = 0; k < n; k++)
      client_send_request(c, now);
    session_flush_output(c->session, now);
    if (now >= c->session->close_at) {
      session_finish(c->session);
      c->session = NULL;
      c->reconnect_at = now + rng_between(&c->rng, 5, 40);
    }
  }
}

static uint64_t parse_option(const char *arg, const char *name, uint64_t *out) {
  size_t n = strlen(name);
  if (strncmp(arg, name, n) != 0 || arg[n] != '=')
    return 0;
  char *end;
  *out = strtoull(arg + n + 1, &end, 10);
  if (*end || !arg[n + 1])
    fatal("bad value in '%s'", arg);
  return 1;
}

int main(int argc, char **argv) {
  uint64_t seed = 1, seconds = 4, nc = 24;
  for (int i = 1; i < argc; i++)
    if (!parse_option(argv[i], "--seed", &seed) && !parse_option(argv[i], "--seconds", &seconds) &&
        !parse_option(argv[i], "--clients", &nc)) {
      fprintf(stderr, "usage: %s [--seed=N] [--seconds=S] [--clients=N]\n", argv[0]);
      return 2;
    }
  if (nc < 1 || nc > 10000 || seconds > 3600)
    fatal("options out of range");
  config_load_file();
  mime_table_init();
  template_registry_load();
  router_table_create();
  plugin_registry_init();

  nclients = (unsigned)nc;
  clients = xcalloc(nclients, sizeof *clients);
  for (unsigned i = 0; i < nclients; i++) {
    clients[i].id = i;
    rng_init(&clients[i].rng, seed, i);
    clients[i].reconnect_at = rng_below(&clients[i].rng, 100);
  }

  uint64_t now, end = seconds * 1000;
  pacing_start();
  for (now = 0; now < end; now++) {
    pacing_wait_until(now);
    workload_step(now);
    if (now % 5 == 0)
      cache_evict_expired(now);
    if (now % 40 == 39)
      access_log_flush();
  }

  for (unsigned i = 0; i < nclients; i++)
    if (clients[i].session)
      session_finish(clients[i].session);
  xfree(clients);
  access_log_flush();
  xfree(log_records);
  size_t cached = cache_count;
  cache_clear();
  printf("webapp-v2: seed=%llu requests=%llu not_found=%llu sessions=%llu cache_hits=%llu "
         "cache_misses=%llu cached_at_exit=%zu log_records=%llu pool_live=%llu server=%s "
         "elapsed=%.2fs\n",
         (unsigned long long)seed, (unsigned long long)requests_total,
         (unsigned long long)not_found_total, (unsigned long long)sessions_total,
         (unsigned long long)cache_hits, (unsigned long long)cache_misses, cached,
         (unsigned long long)log_total, (unsigned long long)pool_objects_live(),
         config_get("server_name"), pacing_elapsed());
  return 0;
}
