/* workload.c - the synthetic clients that drive the server. Each client has
 * its own PRNG stream (derived from --seed and its id), connects, sends
 * requests at its rate for a session of 2-5 s, disconnects, and reconnects
 * after a short pause. Everything is decided in logical milliseconds, so the
 * sequence of allocations is a function of the seed alone.
 *
 * Request mix: GET 24%, CGET 14%, INCR 14%, SET 10%, SETEX 10%, PING 6%,
 * MGET 5%, SESSATTR 5%, WHOAMI 5%, SCAN 3%, DEL 3%, STATS 1%.
 *
 * Bursts (--burst=N): N more clients, a flash crowd, connect only during a
 * burst window (burst_ms long, the first at burst_at_ms, then every
 * burst_every_ms; 0: only one) and stay for their 2-5 s session. Their sessions, buffers and
 * queued replies come and go with the crowd; the keys they SET stay. The
 * regular clients' sequence does not depend on the bursts.
 */
#include "kvserver.h"

#include <string.h>

#define RECENT_KEYS 16
#define USER_KEY_SPACE 50000
#define CACHE_KEY_SPACE 2000
#define COUNTER_KEYS 16

struct client {
  uint32_t id;
  struct kv_rng rng;
  struct session *session;
  uint64_t reconnect_at_ms;
  uint32_t recent_user_ids[RECENT_KEYS];
  uint32_t recent_count;
};

static struct client *clients;
static uint32_t client_count, regular_clients, request_rate;
static uint32_t burst_at_ms, burst_every_ms, burst_ms;
static uint64_t requests_served, responses_inline;

static void random_word(struct kv_rng *r, char *out, size_t len) {
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (size_t i = 0; i < len; i++)
    out[i] = alphabet[rng_below(r, sizeof alphabet - 1)];
  out[len] = '\0';
}

static uint32_t pick_user_id(struct client *c, uint32_t recent_pct) {
  if (c->recent_count && rng_percent(&c->rng, recent_pct))
    return c->recent_user_ids[rng_below(&c->rng, c->recent_count < RECENT_KEYS
                                                    ? c->recent_count
                                                    : RECENT_KEYS)];
  return rng_below(&c->rng, USER_KEY_SPACE);
}

static void remember_user_id(struct client *c, uint32_t id) {
  c->recent_user_ids[c->recent_count % RECENT_KEYS] = id;
  c->recent_count++;
}

/* Writes one request line into sb. */
static void workload_generate_request(struct client *c, struct strbuf *sb) {
  struct kv_rng *r = &c->rng;
  uint32_t dice = rng_below(r, 100);
  char word[600];
  if (dice < 24) {
    strbuf_appendf(sb, "GET user:%06u:profile\r\n", pick_user_id(c, 70));
  } else if (dice < 38) {
    strbuf_appendf(sb, "CGET cache:page:%04u\r\n", rng_below(r, CACHE_KEY_SPACE));
  } else if (dice < 52) {
    strbuf_appendf(sb, "INCR counter:%02u %u\r\n", rng_below(r, COUNTER_KEYS),
                   rng_range(r, 1, 5));
  } else if (dice < 62) {
    uint32_t id = rng_below(r, USER_KEY_SPACE);
    remember_user_id(c, id);
    random_word(r, word, rng_range(r, 16, 200));
    strbuf_appendf(sb, "SET user:%06u:profile %s\r\n", id, word);
  } else if (dice < 72) {
    random_word(r, word, rng_range(r, 32, 512));
    strbuf_appendf(sb, "SETEX cache:page:%04u %u %s\r\n", rng_below(r, CACHE_KEY_SPACE),
                   rng_range(r, 200, 900), word);
  } else if (dice < 78) {
    strbuf_append(sb, "PING\r\n", 6);
  } else if (dice < 83) {
    uint32_t n = rng_range(r, 2, 6);
    strbuf_append(sb, "MGET", 4);
    for (uint32_t i = 0; i < n; i++)
      strbuf_appendf(sb, " user:%06u:profile", pick_user_id(c, 70));
    strbuf_append(sb, "\r\n", 2);
  } else if (dice < 88) {
    static const char *const attrs[] = {"user", "lang", "theme", "tz", "agent", "role"};
    random_word(r, word, rng_range(r, 4, 24));
    strbuf_appendf(sb, "SESSATTR %s %s\r\n", attrs[rng_below(r, 6)], word);
  } else if (dice < 93) {
    strbuf_append(sb, "WHOAMI\r\n", 8);
  } else if (dice < 96) {
    strbuf_appendf(sb, "SCAN user:%03u %u\r\n", rng_below(r, 500), rng_range(r, 5, 20));
  } else if (dice < 99) {
    strbuf_appendf(sb, "DEL user:%06u:profile\r\n", pick_user_id(c, 20));
  } else {
    strbuf_append(sb, "STATS\r\n", 7);
  }
}

static void client_handle_request(struct client *c, uint64_t now) {
  struct session *s = c->session;
  struct strbuf sb;
  strbuf_init(&sb, 64);
  workload_generate_request(c, &sb);
  struct request *rq = parse_request_header(sb.data, sb.len);
  strbuf_release(&sb);

  int inline_reply;
  struct response *resp = execute_command(s, rq, now, &inline_reply);
  if (rq->argc > 1 && strcmp(rq->argv[0], "GET") == 0 && s->requests % 8 == 0)
    log_event(now, "access %s %s %s", s->name, rq->argv[0], rq->argv[1]);
  request_free(rq);

  if (inline_reply) {
    /* Written straight to the socket: no queueing. */
    uint64_t sum = response_checksum(resp);
    buf_append(&s->conn->write_buffer, (const char *)&sum, 1);
    s->conn->write_buffer->len = 0;
    response_free(resp);
    responses_inline++;
  } else {
    response_queue_push(&s->outq, resp, now + rng_range(&c->rng, 15, 70));
  }
  s->requests++;
  requests_served++;
}

static void client_connect(struct client *c, uint64_t now) {
  uint64_t lifetime = rng_range(&c->rng, 2000, 5000);
  c->session = session_create(c->id, now, lifetime, &c->rng);
  char user[24];
  random_word(&c->rng, user, 8);
  session_set_attribute(c->session, "user", user);
  log_event(now, "accepted %s (%s), planned %llums", c->session->name,
            c->session->conn->peer_description, (unsigned long long)lifetime);
}

static void client_disconnect(struct client *c, uint64_t now) {
  log_event(now, "closed %s after %llu requests", c->session->name,
            (unsigned long long)c->session->requests);
  session_destroy(c->session);
  c->session = NULL;
  c->reconnect_at_ms = now + rng_range(&c->rng, 5, 50);
}

void workload_init(const struct workload_options *o) {
  regular_clients = o->clients;
  client_count = o->clients + o->burst_clients;
  request_rate = o->request_rate;
  burst_at_ms = o->burst_at_ms;
  burst_every_ms = o->burst_every_ms;
  burst_ms = o->burst_ms;
  clients = kv_xcalloc(client_count, sizeof *clients);
  kv_live_add(client_count * sizeof *clients);
  for (uint32_t i = 0; i < client_count; i++) {
    clients[i].id = i;
    rng_seed(&clients[i].rng, o->seed, i + 1);
    /* Clients start over the first 100 ms, not all at once. */
    clients[i].reconnect_at_ms = rng_below(&clients[i].rng, 100);
  }
}

static int in_burst(uint64_t now) {
  if (now < burst_at_ms)
    return 0;
  uint64_t since = now - burst_at_ms;
  return (burst_every_ms ? since % burst_every_ms : since) < burst_ms;
}

void workload_tick(uint64_t now) {
  int burst = in_burst(now);
  for (uint32_t i = 0; i < client_count; i++) {
    struct client *c = &clients[i];
    if (!c->session && now >= c->reconnect_at_ms && (i < regular_clients || burst))
      client_connect(c, now);
    if (!c->session)
      continue;
    /* rate/1000 requests per logical ms on average. */
    uint32_t n = (request_rate + rng_below(&c->rng, 1000)) / 1000;
    for (uint32_t k = 0; k < n; k++)
      client_handle_request(c, now);
    response_queue_deliver(&c->session->outq, now, NULL);
    if (now >= c->session->close_at_ms)
      client_disconnect(c, now);
  }
}

void workload_shutdown(uint64_t now) {
  for (uint32_t i = 0; i < client_count; i++)
    if (clients[i].session)
      client_disconnect(&clients[i], now);
  kv_live_sub(client_count * sizeof *clients);
  kv_free(clients);
  clients = NULL;
}

uint64_t workload_requests_served(void) { return requests_served; }
