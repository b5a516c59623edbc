/* request.c - request parsing. The raw request text, the request object, its
 * argument vector and every token are per-request scratch: freed as soon as
 * the command has run (class 0).
 */
#include "kvserver.h"

#include <stdlib.h>
#include <string.h>

static int countRequestTokens(const char *s, size_t len) {
  int n = 0;
  size_t i = 0;
  while (i < len) {
    while (i < len && (s[i] == ' ' || s[i] == '\r' || s[i] == '\n'))
      i++;
    if (i >= len)
      break;
    n++;
    while (i < len && s[i] != ' ' && s[i] != '\r' && s[i] != '\n')
      i++;
  }
  return n;
}

static void parseRequestArguments(struct request *rq) {
  int n = countRequestTokens(rq->raw, rq->raw_len);
  rq->argv = kv_xcalloc((size_t)n + 1, sizeof *rq->argv);
  rq->arglen = kv_xcalloc((size_t)n + 1, sizeof *rq->arglen);
  const char *s = rq->raw;
  size_t i = 0, len = rq->raw_len;
  int k = 0;
  while (i < len && k < n) {
    while (i < len && (s[i] == ' ' || s[i] == '\r' || s[i] == '\n'))
      i++;
    size_t start = i;
    while (i < len && s[i] != ' ' && s[i] != '\r' && s[i] != '\n')
      i++;
    rq->argv[k] = kv_strndup(s + start, i - start);
    rq->arglen[k] = i - start;
    k++;
  }
  rq->argc = k;
}

struct request *parse_request_header(const char *raw, size_t len) {
  struct request *rq = malloc(sizeof *rq);
  if (!rq)
    kv_die("out of memory");
  memset(rq, 0, sizeof *rq);
  rq->raw = kv_strndup(raw, len);
  rq->raw_len = len;
  parseRequestArguments(rq);
  return rq;
}

void request_free(struct request *rq) {
  for (int i = 0; i < rq->argc; i++)
    kv_free(rq->argv[i]);
  kv_free(rq->argv);
  kv_free(rq->arglen);
  kv_free(rq->raw);
  free(rq);
}

char *normalize_key_copy(const char *key) { return str_to_lower_copy(key); }
