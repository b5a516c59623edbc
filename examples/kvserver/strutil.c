/* strutil.c - string helpers: duplicates, formatted allocation and a growable
 * string buffer. They allocate through kv_xmalloc/kv_xrealloc, so a string's
 * calling context is strdup helper < kv_xmalloc < whoever wanted the string:
 * a parsed token (freed within the request), a cache key (under a second), a
 * session name (seconds) or a configuration value (never freed).
 */
#include "kvserver.h"

#include <ctype.h>
#include <string.h>

char *kv_strdup(const char *s) {
  size_t n = strlen(s);
  char *p = kv_xmalloc(n + 1);
  memcpy(p, s, n + 1);
  return p;
}

char *kv_strndup(const char *s, size_t n) {
  char *p = kv_xmalloc(n + 1);
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *kv_vsprintf_alloc(const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0)
    kv_die("bad format '%s'", fmt);
  char *p = kv_xmalloc((size_t)n + 1);
  vsnprintf(p, (size_t)n + 1, fmt, ap);
  return p;
}

char *kv_sprintf_alloc(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *p = kv_vsprintf_alloc(fmt, ap);
  va_end(ap);
  return p;
}

char *str_to_lower_copy(const char *s) {
  char *p = kv_strdup(s);
  for (char *q = p; *q; q++)
    *q = (char)tolower((unsigned char)*q);
  return p;
}

void strbuf_init(struct strbuf *sb, size_t hint) {
  sb->cap = hint < 16 ? 16 : hint;
  sb->len = 0;
  sb->data = kv_xmalloc(sb->cap);
  sb->data[0] = '\0';
}

void strbuf_reserve(struct strbuf *sb, size_t extra) {
  if (sb->len + extra + 1 <= sb->cap)
    return;
  size_t cap = sb->cap * 2;
  while (cap < sb->len + extra + 1)
    cap *= 2;
  sb->data = kv_xrealloc(sb->data, cap);
  sb->cap = cap;
}

void strbuf_append(struct strbuf *sb, const char *s, size_t n) {
  strbuf_reserve(sb, n);
  memcpy(sb->data + sb->len, s, n);
  sb->len += n;
  sb->data[sb->len] = '\0';
}

void strbuf_appendf(struct strbuf *sb, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0)
    return;
  if ((size_t)n < sizeof small) {
    strbuf_append(sb, small, (size_t)n);
    return;
  }
  strbuf_reserve(sb, (size_t)n);
  va_start(ap, fmt);
  vsnprintf(sb->data + sb->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sb->len += (size_t)n;
}

char *strbuf_detach(struct strbuf *sb, size_t *len) {
  char *p = sb->data;
  if (len)
    *len = sb->len;
  sb->data = NULL;
  sb->len = sb->cap = 0;
  return p;
}

void strbuf_release(struct strbuf *sb) {
  kv_free(sb->data);
  sb->data = NULL;
  sb->len = sb->cap = 0;
}
