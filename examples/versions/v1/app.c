/* webapp v1 - a small web application server driven by a deterministic
 * synthetic workload (no sockets), the first version of the program used
 * for the generalisation experiment (see ../README.md and ../../README.md).
 *
 *   webapp-v1 [--seed=N] [--seconds=S] [--clients=N]
 *
 * Lifetime roles, by the names of the functions that allocate:
 *   config, route table, mime table, template registry    never freed (6)
 *   request reading and parsing, url decoding, scratch     freed at once (0)
 *   responses (queued 20-80 ms), access-log records        <= 100 ms (1)
 *   page cache entries (TTL 300-700 ms)                    <= 1 s (2)
 *   sessions, connections, their buffers (2-5 s)           <= 10 s (3)
 * Time is logical (one tick per millisecond, paced against the wall clock),
 * so the allocation sequence depends only on the seed.
 */
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

static void config_set(const char *key, const char *value) {
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

static void config_load(void) {
  static const char *const settings[][2] = {
      {"listen", "0.0.0.0:8080"}, {"workers", "2"},        {"document_root", "/srv/www"},
      {"server_name", "webapp"},  {"keepalive", "5"},      {"cache_ttl_min", "300"},
      {"cache_ttl_max", "700"},   {"log_format", "combined"}, {"session_cookie", "SID"},
      {"max_body", "65536"},      {"index", "index.html"}, {"charset", "utf-8"},
  };
  for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
    config_set(settings[i][0], settings[i][1]);
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

static char **compile_route_pattern(const char *pattern, int *count) {
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

static void route_register(const char *pattern, route_handler fn) {
  struct route *r = xcalloc(1, sizeof *r);
  r->pattern = xstrdup(pattern);
  r->segments = compile_route_pattern(pattern, &r->nsegments);
  r->handler = fn;
  r->next = route_table;
  route_table = r;
}

static struct route *route_lookup(const char *path) {
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

static struct template *template_compile(const char *name, const char *source) {
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
  };
  for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++)
    template_registry = template_compile(sources[i][0], sources[i][1]);
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

static char *decode_url(const char *s, size_t n) {
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

static void parse_query_string(struct request *rq, const char *q) {
  int n = 1;
  for (const char *p = q; *p; p++)
    n += *p == '&';
  rq->params = xcalloc((size_t)n, sizeof *rq->params);
  while (*q && rq->nparams < n) {
    const char *amp = strchr(q, '&');
    size_t len = amp ? (size_t)(amp - q) : strlen(q);
    const char *eq = memchr(q, '=', len);
    size_t klen = eq ? (size_t)(eq - q) : len;
    struct param *pm = &rq->params[rq->nparams++];
    pm->key = decode_url(q, klen);
    pm->value = eq ? decode_url(eq + 1, len - klen - 1) : xstrdup("");
    q += len + (amp != NULL);
  }
}

static void parse_request_line(struct request *rq, const char *line, size_t len) {
  const char *sp1 = memchr(line, ' ', len);
  const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line)) : NULL;
  if (!sp1 || !sp2)
    fatal("bad request line");
  rq->method = xstrndup(line, (size_t)(sp1 - line));
  const char *target = sp1 + 1;
  const char *qm = memchr(target, '?', (size_t)(sp2 - target));
  rq->path = xstrndup(target, (size_t)((qm ? qm : sp2) - target));
  rq->version = xstrndup(sp2 + 1, len - (size_t)(sp2 + 1 - line));
  if (qm) {
    char *query = xstrndup(qm + 1, (size_t)(sp2 - qm - 1));
    parse_query_string(rq, query);
    xfree(query);
  }
}

static struct header *parse_header(const char *line, size_t len) {
  const char *colon = memchr(line, ':', len);
  if (!colon)
    return NULL;
  struct header *h = xmalloc(sizeof *h);
  h->name = xstrndup(line, (size_t)(colon - line));
  const char *v = colon + 1;
  while (*v == ' ')
    v++;
  h->value = xstrndup(v, len - (size_t)(v - line));
  h->next = NULL;
  return h;
}

static struct request *parse_request(const char *raw) {
  struct request *rq = xcalloc(1, sizeof *rq);
  const char *eol = strstr(raw, "\r\n");
  parse_request_line(rq, raw, (size_t)(eol - raw));
  const char *p = eol + 2;
  struct header **tail = &rq->headers;
  while ((eol = strstr(p, "\r\n")) && eol != p) {
    struct header *h = parse_header(p, (size_t)(eol - p));
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

static void free_request(struct request *rq) {
  while (rq->headers) {
    struct header *h = rq->headers;
    rq->headers = h->next;
    xfree(h->name);
    xfree(h->value);
    xfree(h);
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

static struct response *response_new(int status, size_t cap) {
  struct response *r = xmalloc(sizeof *r);
  r->status = status;
  r->cap = cap < 64 ? 64 : cap;
  r->body = xmalloc(r->cap);
  r->len = 0;
  r->body[0] = '\0';
  r->next = NULL;
  return r;
}

static void response_append(struct response *r, const char *s, size_t n) {
  if (r->len + n + 1 > r->cap) {
    while (r->len + n + 1 > r->cap)
      r->cap *= 2;
    r->body = xrealloc(r->body, r->cap);
  }
  memcpy(r->body + r->len, s, n);
  r->len += n;
  r->body[r->len] = '\0';
}

static void response_free(struct response *r) {
  xfree(r->body);
  xfree(r);
}

/* --------------------------------------------------------------- the log */

static char **log_records;
static size_t log_count, log_capacity;
static uint64_t log_total, log_bytes;

static char *log_record_new(const struct request *rq, int status, size_t bytes, uint64_t now) {
  char *rec = xasprintf("%llu.%03llu \"%s %s %s\" %d %zu", (unsigned long long)(now / 1000),
                        (unsigned long long)(now % 1000), rq->method, rq->path, rq->version,
                        status, bytes);
  log_total++;
  return rec;
}

static void log_access(const struct request *rq, int status, size_t bytes, uint64_t now) {
  if (log_count == log_capacity) {
    log_capacity = log_capacity ? log_capacity * 2 : 32;
    log_records = xrealloc(log_records, log_capacity * sizeof *log_records);
  }
  log_records[log_count++] = log_record_new(rq, status, bytes, now);
}

static void log_flush(void) {
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

static struct cache_entry *cache_entry_new(const char *key, const char *data, size_t len,
                                           uint64_t expires_at) {
  struct cache_entry *e = xmalloc(sizeof *e);
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
  xfree(e);
  cache_count--;
}

static const struct cache_entry *cache_lookup(const char *key, uint64_t now) {
  for (struct cache_entry *e = cache_buckets[cache_slot(key)]; e; e = e->next)
    if (strcmp(e->key, key) == 0 && e->expires_at > now) {
      cache_hits++;
      return e;
    }
  cache_misses++;
  return NULL;
}

static void cache_insert(const char *key, const char *data, size_t len, uint64_t ttl,
                         uint64_t now) {
  struct cache_entry *e = cache_entry_new(key, data, len, now + ttl);
  unsigned slot = cache_slot(key);
  e->next = cache_buckets[slot];
  cache_buckets[slot] = e;
  cache_count++;
}

static void cache_expire(uint64_t now) {
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

static void cache_clear(void) { cache_expire(UINT64_MAX); }

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
};
static unsigned next_conn_id = 1;
static uint64_t sessions_total;

static struct connection *conn_accept(unsigned client) {
  struct connection *c = xcalloc(1, sizeof *c);
  c->id = next_conn_id++;
  c->peer = xasprintf("192.168.%u.%u:%u", client / 250, 1 + client % 250, 50000 + c->id);
  c->buffer_size = 2048;
  c->read_buffer = xmalloc(c->buffer_size);
  return c;
}

static void conn_close(struct connection *c) {
  xfree(c->read_buffer);
  xfree(c->peer);
  xfree(c);
}

static struct session *session_open(unsigned client, uint64_t now, uint64_t lifetime,
                                    struct rng *r) {
  struct session *s = xcalloc(1, sizeof *s);
  s->client = client;
  s->session_id = xasprintf("%08x%08x", rng_below(r, UINT32_MAX), rng_below(r, UINT32_MAX));
  s->conn = conn_accept(client);
  s->opened_at = now;
  s->close_at = now + lifetime;
  sessions_total++;
  return s;
}

static void session_set_user(struct session *s, const char *user) {
  xfree(s->user);
  s->user = xstrdup(user);
}

static void session_queue_response(struct session *s, struct response *r, uint64_t when) {
  if (s->outq_tail && s->outq_tail->deliver_at > when)
    when = s->outq_tail->deliver_at;
  r->deliver_at = when;
  if (s->outq_tail)
    s->outq_tail->next = r;
  else
    s->outq_head = r;
  s->outq_tail = r;
}

static void session_deliver(struct session *s, uint64_t now) {
  while (s->outq_head && s->outq_head->deliver_at <= now) {
    struct response *r = s->outq_head;
    s->outq_head = r->next;
    if (!s->outq_head)
      s->outq_tail = NULL;
    response_free(r);
  }
}

static void session_close(struct session *s) {
  session_deliver(s, UINT64_MAX);
  conn_close(s->conn);
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

static struct scratch_buffer *scratch_buffer_new(size_t cap) {
  struct scratch_buffer *b = xmalloc(sizeof *b);
  b->cap = cap;
  b->len = 0;
  b->data = xmalloc(cap);
  b->data[0] = '\0';
  return b;
}

static void scratch_append(struct scratch_buffer *b, const char *s) {
  size_t n = strlen(s);
  if (b->len + n + 1 > b->cap) {
    while (b->len + n + 1 > b->cap)
      b->cap *= 2;
    b->data = xrealloc(b->data, b->cap);
  }
  memcpy(b->data + b->len, s, n + 1);
  b->len += n;
}

static void scratch_buffer_free(struct scratch_buffer *b) {
  xfree(b->data);
  xfree(b);
}

static void render_template(struct scratch_buffer *out, const char *name,
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

static struct response *handle_get_page(struct session *s, struct request *rq, uint64_t now) {
  const struct cache_entry *hit = cache_lookup(rq->path, now);
  struct response *r;
  if (hit) {
    r = response_new(200, hit->len + 1);
    response_append(r, hit->data, hit->len);
    return r;
  }
  struct scratch_buffer *page = scratch_buffer_new(128);
  const char *title = request_param(rq, "title");
  const char *args[] = {title ? title : rq->path, rq->path, s->user ? s->user : "guest"};
  render_template(page, "page", args, 3);
  cache_insert(rq->path, page->data, page->len, 300 + (now * 7919 + page->len) % 401, now);
  r = response_new(200, page->len + 1);
  response_append(r, page->data, page->len);
  scratch_buffer_free(page);
  return r;
}

static struct response *handle_api_query(struct session *s, struct request *rq, uint64_t now) {
  (void)s, (void)now;
  const char *q = request_param(rq, "q");
  const char *lim = request_param(rq, "limit");
  int limit = lim ? atoi(lim) : 5;
  struct scratch_buffer *json = scratch_buffer_new(64);
  scratch_append(json, "{\"items\":[");
  for (int i = 0; i < limit; i++) {
    char item[96];
    snprintf(item, sizeof item, "%s{\"id\":%d,\"match\":\"%s\"}", i ? "," : "", i, q ? q : "");
    scratch_append(json, item);
  }
  scratch_append(json, "]}");
  struct response *r = response_new(200, json->len + 1);
  response_append(r, json->data, json->len);
  scratch_buffer_free(json);
  return r;
}

static struct response *handle_login(struct session *s, struct request *rq, uint64_t now) {
  (void)now;
  const char *user = request_param(rq, "user");
  if (user)
    session_set_user(s, user);
  struct response *r = response_new(303, 64);
  response_append(r, "see /page/home", 14);
  return r;
}

static struct response *handle_static(struct session *s, struct request *rq, uint64_t now) {
  (void)s, (void)now;
  const char *dot = strrchr(rq->path, '.');
  char *ext = xstrdup(dot ? dot + 1 : "");
  for (char *p = ext; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char)(*p - 'A' + 'a');
  const char *type = mime_lookup(ext);
  xfree(ext);
  struct response *r = response_new(200, 256);
  response_append(r, type, strlen(type));
  return r;
}

static void route_table_init(void) {
  route_register("/page/:name", handle_get_page);
  route_register("/api/items", handle_api_query);
  route_register("/login", handle_login);
  route_register("/static/:file", handle_static);
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

static char *read_request(struct client *c, int first) {
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
  } else
    snprintf(target, sizeof target, "/missing/%u", rng_below(r, 100));
  char *raw = xasprintf("%s %s HTTP/1.1\r\nHost: webapp.example\r\nUser-Agent: loadgen/%u\r\n"
                        "Accept: */*\r\nCookie: SID=%u\r\n\r\n",
                        method, target, c->id, rng_below(r, 100000));
  return raw;
}

static void client_request(struct client *c, uint64_t now) {
  struct session *s = c->session;
  char *raw = read_request(c, s->requests == 0);
  struct request *rq = parse_request(raw);
  xfree(raw);
  struct route *route = route_lookup(rq->path);
  if (!route) {
    /* Answered on the spot, never queued. */
    struct response *r = response_new(404, 128);
    response_append(r, "not found", 9);
    not_found_total++;
    response_free(r);
  } else {
    struct response *r = route->handler(s, rq, now);
    log_access(rq, r->status, r->len, now);
    session_queue_response(s, r, now + rng_between(&c->rng, 20, 80));
  }
  free_request(rq);
  s->requests++;
  requests_total++;
}

static void workload_tick(uint64_t now) {
  for (unsigned i = 0; i < nclients; i++) {
    struct client *c = &clients[i];
    if (!c->session && now >= c->reconnect_at)
      c->session = session_open(c->id, now, rng_between(&c->rng, 2000, 5000), &c->rng);
    if (!c->session)
      continue;
    unsigned n = (100 + rng_below(&c->rng, 1000)) / 1000; /* ~100 requests/s */
    for (unsigned k = 0; k < n; k++)
      client_request(c, now);
    session_deliver(c->session, now);
    if (now >= c->session->close_at) {
      session_close(c->session);
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
  config_load();
  mime_table_init();
  template_registry_load();
  route_table_init();

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
    workload_tick(now);
    if (now % 5 == 0)
      cache_expire(now);
    if (now % 50 == 49)
      log_flush();
  }

  for (unsigned i = 0; i < nclients; i++)
    if (clients[i].session)
      session_close(clients[i].session);
  xfree(clients);
  log_flush();
  xfree(log_records);
  size_t cached = cache_count;
  cache_clear();
  printf("webapp-v1: seed=%llu requests=%llu not_found=%llu sessions=%llu cache_hits=%llu "
         "cache_misses=%llu cached_at_exit=%zu log_records=%llu server=%s elapsed=%.2fs\n",
         (unsigned long long)seed, (unsigned long long)requests_total,
         (unsigned long long)not_found_total, (unsigned long long)sessions_total,
         (unsigned long long)cache_hits, (unsigned long long)cache_misses, cached,
         (unsigned long long)log_total, config_get("server_name"), pacing_elapsed());
  return 0;
}
