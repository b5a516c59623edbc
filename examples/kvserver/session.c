/* session.c - client sessions and their connections. A session lives as long
 * as its client stays connected, 2-5 s of the synthetic workload (class 3):
 * the session object, its name and auth token, its attributes, the
 * connection object and its buffers. The client's host name is interned
 * (class 6) because the same hosts reconnect.
 */
#include "kvserver.h"

#include <stdlib.h>
#include <string.h>

static uint32_t next_session_id = 1, next_conn_id = 1;
static uint64_t opened_total;

static char *session_generate_token(struct kv_rng *rng) {
  char tok[33];
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 32; i++)
    tok[i] = hex[rng_below(rng, 16)];
  tok[32] = '\0';
  return kv_strdup(tok);
}

static struct connection *connection_open(uint32_t client_id, const char *host) {
  struct connection *c = kv_xcalloc(1, sizeof *c);
  c->conn_id = next_conn_id++;
  c->peer_description =
      kv_sprintf_alloc("conn#%u %s:%u -> kvserver", c->conn_id, host, 40000 + client_id);
  c->read_buffer = iobuf_acquire();
  c->write_buffer = buf_alloc(1024);
  kv_live_add(sizeof *c + kv_str_size(c->peer_description));
  return c;
}

static void connection_close(struct connection *c) {
  iobuf_release(c->read_buffer);
  buf_free(c->write_buffer);
  kv_live_sub(sizeof *c + kv_str_size(c->peer_description));
  kv_free(c->peer_description);
  kv_free(c);
}

struct session *session_create(uint32_t client_id, uint64_t now, uint64_t lifetime_ms,
                               struct kv_rng *rng) {
  struct session *s = calloc(1, sizeof *s);
  if (!s)
    kv_die("out of memory");
  s->id = next_session_id++;
  s->client_id = client_id;
  char host[32];
  snprintf(host, sizeof host, "10.0.%u.%u", client_id / 200, 10 + client_id % 200);
  s->client_host = intern_string(host);
  s->name = kv_sprintf_alloc("session-%u@%s", s->id, s->client_host);
  s->auth_token = session_generate_token(rng);
  s->conn = connection_open(client_id, s->client_host);
  s->opened_ms = now;
  s->close_at_ms = now + lifetime_ms;
  kv_live_add(sizeof *s + kv_str_size(s->name) + kv_str_size(s->auth_token));
  opened_total++;
  return s;
}

void session_set_attribute(struct session *s, const char *name, const char *value) {
  for (struct session_attr *a = s->attrs; a; a = a->next)
    if (strcmp(a->name, name) == 0) {
      kv_live_sub(kv_str_size(a->value));
      kv_free(a->value);
      a->value = kv_strdup(value);
      kv_live_add(kv_str_size(a->value));
      return;
    }
  struct session_attr *a = kv_xmalloc(sizeof *a);
  a->name = kv_strdup(name);
  a->value = kv_strdup(value);
  a->next = s->attrs;
  s->attrs = a;
  kv_live_add(sizeof *a + kv_str_size(a->name) + kv_str_size(a->value));
}

const char *session_get_attribute(struct session *s, const char *name) {
  for (struct session_attr *a = s->attrs; a; a = a->next)
    if (strcmp(a->name, name) == 0)
      return a->value;
  return NULL;
}

void session_destroy(struct session *s) {
  response_queue_clear(&s->outq);
  while (s->attrs) {
    struct session_attr *a = s->attrs;
    s->attrs = a->next;
    kv_live_sub(sizeof *a + kv_str_size(a->name) + kv_str_size(a->value));
    kv_free(a->name);
    kv_free(a->value);
    kv_free(a);
  }
  connection_close(s->conn);
  kv_live_sub(sizeof *s + kv_str_size(s->name) + kv_str_size(s->auth_token));
  kv_free(s->auth_token);
  kv_free(s->name);
  free(s);
}

uint64_t sessions_opened_total(void) { return opened_total; }
