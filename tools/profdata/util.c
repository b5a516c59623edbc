/*
 * util.c - the small infrastructure of llama-profdata: diagnostics in the
 * "llama-profdata: error: FILE: problem" form, allocation that exits on
 * failure (a tool, not a library: out of memory is fatal), whole-file reads,
 * a (u64, u64) -> u32 hash map and string interning.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "llama/profdata/indexed.h"
#include "llama/abi.h"
#include "llama/raw_profile.h"
#include "tool.h"

const char *llama_progname = "llama-profdata";
int tool_quiet;

static void vreport(const char *kind, const char *fmt, va_list ap) {
  fprintf(stderr, "%s: %s", llama_progname, kind);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

int tool_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("error: ", fmt, ap);
  va_end(ap);
  return 1;
}

void tool_warning(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport("warning: ", fmt, ap);
  va_end(ap);
}

void tool_note(const char *fmt, ...) {
  if (tool_quiet)
    return;
  va_list ap;
  va_start(ap, fmt);
  vreport("", fmt, ap);
  va_end(ap);
}

static void out_of_memory(void) {
  fprintf(stderr, "%s: error: out of memory\n", llama_progname);
  exit(1);
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    out_of_memory();
  return p;
}

void *xcalloc(size_t count, size_t size) {
  void *p = calloc(count ? count : 1, size ? size : 1);
  if (!p)
    out_of_memory();
  return p;
}

void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p)
    out_of_memory();
  return p;
}

char *xstrdup(const char *s) {
  size_t n = strlen(s) + 1;
  return memcpy(xmalloc(n), s, n);
}

void xreserve(void **array, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap)
    return;
  size_t n = *cap ? *cap : 16;
  while (n < need) {
    if (n > SIZE_MAX / 2 / elem)
      out_of_memory();
    n *= 2;
  }
  *array = xrealloc(*array, n * elem);
  *cap = n;
}

int read_whole_file(const char *path, unsigned char **buf, size_t *len, char *err, size_t errlen) {
  *buf = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
    fclose(f);
    snprintf(err, errlen, "%s: is a directory", path);
    return -1;
  }
  size_t cap = 0, n = 0;
  unsigned char *data = NULL;
  for (;;) {
    xreserve((void **)&data, &cap, n + 65536, 1);
    size_t got = fread(data + n, 1, cap - n, f);
    n += got;
    if (got == 0)
      break;
  }
  if (ferror(f)) {
    int saved = errno;
    fclose(f);
    free(data);
    snprintf(err, errlen, "%s: read error: %s", path, strerror(saved));
    return -1;
  }
  fclose(f);
  *buf = data;
  *len = n;
  return 0;
}

int check_magic(const char *name, const unsigned char *buf, size_t len) {
  if (len == 0)
    return tool_error("%s: empty file", name);
  size_t n = len < 8 ? len : 8;
  if (memcmp(buf, LLAMA_RAW_MAGIC, n) == 0 || memcmp(buf, LLAMA_IDX_MAGIC, n) == 0)
    return 0;
  return tool_error("%s: not a LLAMA profile (bad magic: expected \"%s\" or \"%s\")", name,
                    LLAMA_RAW_MAGIC, LLAMA_IDX_MAGIC);
}

/* ---- map ---- */

struct map_slot {
  uint64_t k1, k2;
  uint32_t value; /* UINT32_MAX: empty */
};

static size_t map_hash(uint64_t k1, uint64_t k2) {
  uint64_t h = k1 * UINT64_C(0x9e3779b97f4a7c15) ^ (k2 + UINT64_C(0x632be59bd9b4e019));
  h ^= h >> 29;
  h *= UINT64_C(0xbf58476d1ce4e5b9);
  h ^= h >> 32;
  return (size_t)h;
}

uint32_t map_get(const struct map *m, uint64_t k1, uint64_t k2) {
  if (!m->cap)
    return UINT32_MAX;
  size_t i = map_hash(k1, k2) & (m->cap - 1);
  while (m->slots[i].value != UINT32_MAX) {
    if (m->slots[i].k1 == k1 && m->slots[i].k2 == k2)
      return m->slots[i].value;
    i = (i + 1) & (m->cap - 1);
  }
  return UINT32_MAX;
}

static void map_insert(struct map_slot *slots, size_t cap, uint64_t k1, uint64_t k2, uint32_t value,
                       size_t *count) {
  size_t i = map_hash(k1, k2) & (cap - 1);
  while (slots[i].value != UINT32_MAX) {
    if (slots[i].k1 == k1 && slots[i].k2 == k2) {
      slots[i].value = value;
      return;
    }
    i = (i + 1) & (cap - 1);
  }
  slots[i] = (struct map_slot){k1, k2, value};
  (*count)++;
}

void map_put(struct map *m, uint64_t k1, uint64_t k2, uint32_t value) {
  if (2 * (m->count + 1) > m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    struct map_slot *slots = xmalloc(cap * sizeof *slots);
    for (size_t i = 0; i < cap; i++)
      slots[i].value = UINT32_MAX;
    size_t count = 0;
    for (size_t i = 0; i < m->cap; i++)
      if (m->slots[i].value != UINT32_MAX)
        map_insert(slots, cap, m->slots[i].k1, m->slots[i].k2, m->slots[i].value, &count);
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
  }
  map_insert(m->slots, m->cap, k1, k2, value, &m->count);
}

void map_free(struct map *m) {
  free(m->slots);
  *m = (struct map){0};
}

/* ---- interning ---- */

static size_t string_hash_n(const char *s, size_t n) {
  return (size_t)llama_hash_bytes(LLAMA_HASH_INIT, s, n);
}

const char *intern_n(struct intern *t, const char *s, size_t n) {
  if (2 * (t->count + 1) > t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 256;
    char **slots = xcalloc(cap, sizeof *slots);
    for (size_t i = 0; i < t->cap; i++) {
      if (!t->slots[i])
        continue;
      size_t j = string_hash_n(t->slots[i], strlen(t->slots[i])) & (cap - 1);
      while (slots[j])
        j = (j + 1) & (cap - 1);
      slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
  }
  size_t j = string_hash_n(s, n) & (t->cap - 1);
  while (t->slots[j]) {
    if (strncmp(t->slots[j], s, n) == 0 && t->slots[j][n] == 0)
      return t->slots[j];
    j = (j + 1) & (t->cap - 1);
  }
  char *copy = xmalloc(n + 1);
  memcpy(copy, s, n);
  copy[n] = 0;
  t->slots[j] = copy;
  t->count++;
  return copy;
}

const char *intern(struct intern *t, const char *s) { return intern_n(t, s, strlen(s)); }

void intern_free(struct intern *t) {
  for (size_t i = 0; i < t->cap; i++)
    free(t->slots[i]);
  free(t->slots);
  *t = (struct intern){0};
}
