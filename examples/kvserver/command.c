/* command.c - the command handlers and execute_command, which looks the
 * command up in the command table and runs it. Handlers allocate through the
 * same helpers with very different lifetimes: store values (until
 * overwritten), cache entries (TTL), session attributes (the session's
 * life), and per-request temporaries (key normalisation, reports).
 */
#include "kvserver.h"
#include "kvindex.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct response *cmd_ping(struct session *s, struct request *rq, uint64_t now) {
  (void)s, (void)now;
  /* Built here, not by a helper in tail position, so that the inline reply
   * has a calling context of its own. */
  struct response *r = response_create(16);
  if (rq->argc > 1)
    response_append_bulk(r, rq->argv[1], rq->arglen[1]);
  else
    buf_append(&r->body, "+PONG\r\n", 7);
  return r;
}

static struct response *cmd_get(struct session *s, struct request *rq, uint64_t now) {
  (void)s, (void)now;
  char *key = normalize_key_copy(rq->argv[1]);
  struct store_item *it = store_lookup(g_server.store, key);
  hotkeys_touch(key);
  struct response *r =
      it ? response_bulk(it->value->data, it->value->len) : response_bulk(NULL, 0);
  kv_free(key);
  return r;
}

static struct response *cmd_set(struct session *s, struct request *rq, uint64_t now) {
  struct value_blob *v = value_blob_create(rq->argv[2], rq->arglen[2]);
  if (store_put(g_server.store, rq->argv[1], v))
    keyindex_insert(rq->argv[1]);
  log_event(now, "SET %s (%zu bytes) by %s", rq->argv[1], rq->arglen[2], s->name);
  return response_simple_string("OK");
}

static struct response *cmd_incr(struct session *s, struct request *rq, uint64_t now) {
  (void)s, (void)now;
  long long x = 0;
  struct store_item *it = store_lookup(g_server.store, rq->argv[1]);
  if (it && !value_to_integer(it->value, &x))
    return response_error("value is not an integer");
  x += rq->argc > 2 ? atoll(rq->argv[2]) : 1;
  if (store_put(g_server.store, rq->argv[1], value_from_integer(x)))
    keyindex_insert(rq->argv[1]);
  return response_integer(x);
}

static struct response *cmd_del(struct session *s, struct request *rq, uint64_t now) {
  char *key = normalize_key_copy(rq->argv[1]);
  int gone = store_delete(g_server.store, key);
  if (gone) {
    keyindex_erase(key);
    log_event(now, "DEL %s by %s", key, s->name);
  }
  kv_free(key);
  return response_integer(gone);
}

static struct response *cmd_setex(struct session *s, struct request *rq, uint64_t now) {
  (void)s;
  long ttl = atol(rq->argv[2]);
  if (ttl <= 0)
    return response_error("invalid expire time in 'setex'");
  cache_put(g_server.cache, rq->argv[1], rq->argv[3], rq->arglen[3], (uint64_t)ttl, now);
  return response_simple_string("OK");
}

static struct response *cmd_cget(struct session *s, struct request *rq, uint64_t now) {
  (void)s;
  char *key = normalize_key_copy(rq->argv[1]);
  const struct value_blob *v = cache_get(g_server.cache, key, now);
  struct response *r = v ? response_bulk(v->data, v->len) : response_bulk(NULL, 0);
  kv_free(key);
  return r;
}

static struct response *cmd_mget(struct session *s, struct request *rq, uint64_t now) {
  (void)s, (void)now;
  struct response *r = response_create(64);
  buf_appendf(&r->body, "*%d\r\n", rq->argc - 1);
  for (int i = 1; i < rq->argc; i++) {
    struct store_item *it = store_lookup(g_server.store, rq->argv[i]);
    if (it)
      response_append_bulk(r, it->value->data, it->value->len);
    else
      response_append_bulk(r, NULL, 0);
  }
  return r;
}

static void scan_emit_key(void *ctx, const char *key, size_t len) {
  response_append_bulk(ctx, key, len);
}

static struct response *cmd_scan(struct session *s, struct request *rq, uint64_t now) {
  (void)s, (void)now;
  size_t limit = rq->argc > 2 ? (size_t)atol(rq->argv[2]) : 10;
  struct response *r = response_create(256);
  size_t n = keyindex_scan_prefix(rq->argv[1], limit, scan_emit_key, r);
  buf_appendf(&r->body, ":%zu\r\n", n);
  return r;
}

static struct response *cmd_stats(struct session *s, struct request *rq, uint64_t now) {
  (void)s, (void)rq, (void)now;
  char *report = stats_render_report();
  struct response *r = response_bulk(report, strlen(report));
  kv_free(report);
  return r;
}

static struct response *cmd_sessattr(struct session *s, struct request *rq, uint64_t now) {
  (void)now;
  session_set_attribute(s, rq->argv[1], rq->argv[2]);
  return response_simple_string("OK");
}

static struct response *cmd_whoami(struct session *s, struct request *rq, uint64_t now) {
  (void)rq;
  const char *user = session_get_attribute(s, "user");
  char *text = kv_sprintf_alloc("%s user=%s host=%s age=%llums requests=%llu", s->name,
                                user ? user : "-", s->client_host,
                                (unsigned long long)(now - s->opened_ms),
                                (unsigned long long)s->requests);
  struct response *r = response_bulk(text, strlen(text));
  kv_free(text);
  return r;
}

void commands_register_all(void) {
  command_table_register("PING", "check the connection", cmd_ping, 1, 0);
  command_table_register("GET", "read a key", cmd_get, 2, 0);
  command_table_register("SET", "write a key", cmd_set, 3, 1);
  command_table_register("INCR", "increment a counter", cmd_incr, 2, 1);
  command_table_register("DEL", "delete a key", cmd_del, 2, 1);
  command_table_register("SETEX", "cache a value with a TTL in ms", cmd_setex, 4, 1);
  command_table_register("CGET", "read a cached value", cmd_cget, 2, 0);
  command_table_register("MGET", "read several keys", cmd_mget, 2, 0);
  command_table_register("SCAN", "list keys by prefix", cmd_scan, 2, 0);
  command_table_register("STATS", "server statistics", cmd_stats, 1, 0);
  command_table_register("SESSATTR", "set a session attribute", cmd_sessattr, 3, 1);
  command_table_register("WHOAMI", "describe the session", cmd_whoami, 1, 0);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct response *execute_command(struct session *s, struct request *rq, uint64_t now,
                                 int *inline_reply) {
  *inline_reply = 0;
  if (rq->argc == 0) {
    *inline_reply = 1;
    return response_error("empty request");
  }
  struct command_spec *c = command_table_lookup(rq->argv[0]);
  if (!c) {
    *inline_reply = 1;
    return response_error("unknown command '%s'", rq->argv[0]);
  }
  if (rq->argc < c->arity) {
    *inline_reply = 1;
    return response_error("wrong number of arguments for '%s'", c->name);
  }
  uint64_t t0 = now_ns();
  struct response *r = c->handler(s, rq, now);
  c->calls++;
  stats_record_command(c->name, now_ns() - t0);
  if (c->handler == cmd_ping)
    *inline_reply = 1;
  return r;
}
