/*
 * model.c - the model file (reader, writer, checksum), encoding a context
 * into token ids, and prediction. docs/model-format.md draws the layout.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama_model.h"
#include "lstm.h"

/* ---- layout ---- */

#define HEADER_SIZE 64u
#define SECTION_ENTRY_SIZE 24u
#define MAX_SECTIONS 32u
#define SECTION_ALIGN 16u

#define TAG(a, b, c, d)                                                                        \
  ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TAG_PARAMS TAG('P', 'A', 'R', 'M')
#define TAG_VOCAB_HASH TAG('V', 'H', 'S', 'H')
#define TAG_VOCAB_ID TAG('V', 'I', 'D', 'S')
#define TAG_TOKENS TAG('T', 'O', 'K', 'S')
#define TAG_CTX_ID TAG('C', 'T', 'X', 'I')
#define TAG_CTX_CLASS TAG('C', 'T', 'X', 'C')
#define TAG_META TAG('M', 'E', 'T', 'A')

static uint32_t rd32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }
static void wr32(unsigned char *p, uint32_t v) {
  for (int i = 0; i < 4; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}
static void wr64(unsigned char *p, uint64_t v) {
  wr32(p, (uint32_t)v);
  wr32(p + 4, (uint32_t)(v >> 32));
}

static int fail(char *err, size_t errlen, const char *name, const char *fmt, ...) {
  if (errlen) {
    int n = snprintf(err, errlen, "%s: ", name ? name : "model");
    if (n < 0)
      n = 0;
    if ((size_t)n < errlen) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return -1;
}

/* ---- CRC-32 ---- */

uint32_t llama_crc32(const void *buf, size_t len) {
  /* The table is built per call, on the stack: 2 K steps, nothing next to
   * hashing a model, and no shared state for threads opening models at once. */
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  const unsigned char *p = buf;
  uint32_t c = 0xffffffffu;
  for (size_t i = 0; i < len; i++)
    c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

uint64_t llama_model_param_count(uint32_t vocab, uint32_t embed, uint32_t hidden,
                                 uint32_t layers) {
  struct llama_lstm_dims d = {vocab, embed, hidden, layers, LLAMA_NUM_CLASSES};
  struct llama_lstm_layout l;
  llama_lstm_layout(&d, &l);
  return l.total;
}

/* ---- reading ---- */

int llama_model_open(const void *buf, size_t len, const char *name, struct llama_model *m,
                     char *err, size_t errlen) {
  const unsigned char *b = buf;
  memset(m, 0, sizeof *m);
  if (!buf || len == 0)
    return fail(err, errlen, name, "empty file");
  if ((uintptr_t)buf % 8)
    return fail(err, errlen, name, "buffer is not 8-byte aligned");
  if (len < 8 || memcmp(b, LLAMA_MODEL_MAGIC, 8) != 0)
    return fail(err, errlen, name, "not a LLAMA model (bad magic)");
  if (len < HEADER_SIZE)
    return fail(err, errlen, name, "truncated header (%zu of %u bytes)", len, HEADER_SIZE);
  uint32_t version = rd32(b + 8), header_size = rd32(b + 12);
  if (version != LLAMA_MODEL_VERSION)
    return fail(err, errlen, name, "model version %u, this build reads version %u", version,
                LLAMA_MODEL_VERSION);
  if (header_size != HEADER_SIZE)
    return fail(err, errlen, name, "header size %u, expected %u", header_size, HEADER_SIZE);
  uint64_t file_size = rd64(b + 16);
  if (file_size != len)
    return fail(err, errlen, name, "truncated or padded: header says %llu bytes, file has %zu",
                (unsigned long long)file_size, len);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* the fuzzer must get past it */
  uint32_t sum = llama_crc32(b + HEADER_SIZE, len - HEADER_SIZE);
  if (sum != rd32(b + 24))
    return fail(err, errlen, name, "checksum mismatch (file corrupt)");
#endif
  m->features = rd32(b + 28);
  uint32_t classes = rd32(b + 32);
  m->vocab_size = rd32(b + 36);
  m->embed = rd32(b + 40);
  m->hidden = rd32(b + 44);
  m->layers = rd32(b + 48);
  m->max_tokens = rd32(b + 52);
  m->default_class = b[56];
  m->longest_class = b[57];
  uint32_t nsec = rd32(b + 60);
  if (m->features & ~LLAMA_FEAT_ALL)
    return fail(err, errlen, name, "unknown feature flags 0x%x", m->features & ~LLAMA_FEAT_ALL);
  if (classes != LLAMA_NUM_CLASSES)
    return fail(err, errlen, name, "%u lifetime classes, this build has %u", classes,
                LLAMA_NUM_CLASSES);
  if (m->vocab_size < LLAMA_TOKEN_FIRST || m->vocab_size > LLAMA_MODEL_MAX_VOCAB)
    return fail(err, errlen, name, "vocabulary size %u out of range", m->vocab_size);
  if (m->embed == 0 || m->embed > LLAMA_MODEL_MAX_EMBED || m->hidden == 0 ||
      m->hidden > LLAMA_MODEL_MAX_HIDDEN || m->layers == 0 || m->layers > LLAMA_MODEL_MAX_LAYERS)
    return fail(err, errlen, name, "dimensions out of range (embed %u, hidden %u, layers %u)",
                m->embed, m->hidden, m->layers);
  if (m->max_tokens == 0 || m->max_tokens > LLAMA_MODEL_MAX_TOKENS)
    return fail(err, errlen, name, "max_tokens %u out of range", m->max_tokens);
  if (m->default_class >= classes || m->longest_class >= classes)
    return fail(err, errlen, name, "default class out of range");
  if (nsec > MAX_SECTIONS || (uint64_t)nsec * SECTION_ENTRY_SIZE > len - HEADER_SIZE)
    return fail(err, errlen, name, "bad section count %u", nsec);

  const unsigned char *sec[7] = {0};
  uint64_t sec_size[7] = {0};
  static const uint32_t tags[7] = {TAG_PARAMS, TAG_VOCAB_HASH, TAG_VOCAB_ID, TAG_TOKENS,
                                   TAG_CTX_ID, TAG_CTX_CLASS,  TAG_META};
  uint64_t table_end = HEADER_SIZE + (uint64_t)nsec * SECTION_ENTRY_SIZE;
  for (uint32_t s = 0; s < nsec; s++) {
    const unsigned char *e = b + HEADER_SIZE + s * SECTION_ENTRY_SIZE;
    uint32_t tag = rd32(e);
    uint64_t off = rd64(e + 8), size = rd64(e + 16);
    if (off % SECTION_ALIGN || off < table_end || off > len || size > len - off)
      return fail(err, errlen, name, "section %u out of bounds", s);
    for (int t = 0; t < 7; t++) {
      if (tag != tags[t])
        continue;
      if (sec[t])
        return fail(err, errlen, name, "duplicate section %.4s", (const char *)e);
      sec[t] = b + off;
      sec_size[t] = size;
    }
    /* Other tags: sections a newer writer added within this version. */
  }
  if (!sec[0] || !sec[1] || !sec[2] || !sec[3])
    return fail(err, errlen, name, "missing a required section (PARM, VHSH, VIDS, TOKS)");

  /* Weights: the exact count for the dimensions, all finite. */
  m->param_count = llama_model_param_count(m->vocab_size, m->embed, m->hidden, m->layers);
  if (sec_size[0] != m->param_count * sizeof(float))
    return fail(err, errlen, name, "weights: %llu bytes, dimensions need %llu",
                (unsigned long long)sec_size[0],
                (unsigned long long)(m->param_count * sizeof(float)));
  m->params = (const float *)(const void *)sec[0];
  for (uint64_t i = 0; i < m->param_count; i++)
    if (!isfinite(m->params[i]))
      return fail(err, errlen, name, "weight %llu is not finite", (unsigned long long)i);

  /* Token strings: vocab_size NUL-terminated strings. */
  m->token_strings = (const char *)sec[3];
  m->token_strings_size = sec_size[3];
  if (m->token_strings_size == 0 || sec[3][m->token_strings_size - 1] != 0)
    return fail(err, errlen, name, "token strings not terminated");
  uint64_t nstr = 0;
  for (uint64_t i = 0; i < m->token_strings_size; i++)
    nstr += sec[3][i] == 0;
  if (nstr != m->vocab_size)
    return fail(err, errlen, name, "%llu token strings for a vocabulary of %u",
                (unsigned long long)nstr, m->vocab_size);

  /* Vocabulary table: power-of-two capacity, ids in range, at least one
   * empty slot (so a lookup ends), and each hash that of its token. */
  uint64_t cap = sec_size[1] / 8;
  if (cap == 0 || (cap & (cap - 1)) || sec_size[1] != cap * 8 || sec_size[2] != cap * 4 ||
      cap > 4ull * LLAMA_MODEL_MAX_VOCAB)
    return fail(err, errlen, name, "bad vocabulary table size");
  m->vocab_hash = (const uint64_t *)(const void *)sec[1];
  m->vocab_id = (const uint32_t *)(const void *)sec[2];
  m->vocab_capacity = (uint32_t)cap;
  uint64_t used = 0;
  for (uint64_t i = 0; i < cap; i++) {
    uint32_t id = m->vocab_id[i];
    if (id == LLAMA_TOKEN_OOV)
      continue;
    if (id < LLAMA_TOKEN_FIRST || id >= m->vocab_size)
      return fail(err, errlen, name, "vocabulary id %u out of range", id);
    used++;
  }
  if (used >= cap || used != m->vocab_size - LLAMA_TOKEN_FIRST)
    return fail(err, errlen, name, "vocabulary table holds %llu of %u tokens",
                (unsigned long long)used, m->vocab_size - LLAMA_TOKEN_FIRST);
  {
    const char *s = m->token_strings;
    for (uint32_t id = 0; id < m->vocab_size; id++) {
      size_t n = strlen(s);
      if (id >= LLAMA_TOKEN_FIRST && llama_model_token_id(m, s, n) != id)
        return fail(err, errlen, name, "vocabulary table does not find token %u", id);
      s += n + 1;
    }
  }

  /* Exact-context table (optional, both parts or neither). */
  if (!!sec[4] != !!sec[5])
    return fail(err, errlen, name, "context table incomplete");
  if (sec[4]) {
    if (sec_size[4] % 8 || sec_size[5] != sec_size[4] / 8)
      return fail(err, errlen, name, "bad context table size");
    m->ctx_count = sec_size[4] / 8;
    m->ctx_id = (const uint64_t *)(const void *)sec[4];
    m->ctx_class = sec[5];
    for (uint64_t i = 0; i < m->ctx_count; i++)
      if (m->ctx_class[i] >= LLAMA_NUM_CLASSES || (i && m->ctx_id[i] <= m->ctx_id[i - 1]))
        return fail(err, errlen, name, "context table unsorted or class out of range");
  }
  if (sec[6]) {
    if (sec_size[6] == 0 || sec[6][sec_size[6] - 1] != 0)
      return fail(err, errlen, name, "metadata not terminated");
    m->meta = (const char *)sec[6];
    m->meta_size = sec_size[6];
  } else {
    m->meta = "";
  }
  return 0;
}

int llama_model_read_file(const char *path, void **out, size_t *out_len, char *err,
                          size_t errlen) {
  *out = NULL;
  *out_len = 0;
  FILE *f = fopen(path, "rb");
  if (!f)
    return fail(err, errlen, path, "%s", strerror(errno));
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = malloc(cap);
  while (buf) {
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (len < cap) {
      if (ferror(f)) {
        int e = errno;
        free(buf);
        fclose(f);
        return fail(err, errlen, path, "read error: %s", strerror(e));
      }
      break;
    }
    if (cap > ((size_t)1 << 40)) {
      free(buf);
      fclose(f);
      return fail(err, errlen, path, "file too large");
    }
    unsigned char *nb = realloc(buf, cap * 2);
    if (!nb)
      free(buf);
    buf = nb;
    cap *= 2;
  }
  fclose(f);
  if (!buf)
    return fail(err, errlen, path, "out of memory");
  *out = buf; /* malloc: aligned for any type */
  *out_len = len;
  return 0;
}

uint32_t llama_model_token_id(const struct llama_model *m, const char *tok, size_t len) {
  uint64_t h = llama_token_hash(tok, len), mask = m->vocab_capacity - 1;
  for (uint64_t i = h & mask, probes = 0; probes < m->vocab_capacity; i = (i + 1) & mask, probes++) {
    uint32_t id = m->vocab_id[i];
    if (id == LLAMA_TOKEN_OOV)
      return LLAMA_TOKEN_OOV;
    if (m->vocab_hash[i] == h)
      return id;
  }
  return LLAMA_TOKEN_OOV;
}

const char *llama_model_token_string(const struct llama_model *m, uint32_t id) {
  if (id >= m->vocab_size)
    return NULL;
  const char *s = m->token_strings;
  for (uint32_t i = 0; i < id; i++)
    s += strlen(s) + 1;
  return s;
}

int llama_model_lookup_context(const struct llama_model *m, uint64_t context_id) {
  uint64_t lo = 0, hi = m->ctx_count;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    if (m->ctx_id[mid] < context_id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < m->ctx_count && m->ctx_id[lo] == context_id ? m->ctx_class[lo] : -1;
}

/* ---- encoding and prediction ---- */

struct encoder {
  const struct llama_model *m;
  uint32_t *ids;
  size_t cap, count; /* ids is a ring of cap entries; count = tokens seen */
};

static void push_id(struct encoder *e, uint32_t id) {
  e->ids[e->count % e->cap] = id;
  e->count++;
}

static void push_token(void *ctx, const char *tok, size_t len) {
  struct encoder *e = ctx;
  if (len == sizeof LLAMA_FRAME_TOKEN - 1 && memcmp(tok, LLAMA_FRAME_TOKEN, len) == 0)
    push_id(e, LLAMA_TOKEN_FRAME);
  else
    push_id(e, llama_model_token_id(e->m, tok, len));
}

static void reverse(uint32_t *a, size_t n) {
  for (size_t i = 0; i < n / 2; i++) {
    uint32_t t = a[i];
    a[i] = a[n - 1 - i];
    a[n - 1 - i] = t;
  }
}

size_t llama_context_tokens(uint32_t features, const struct llama_model_frame *frames,
                            size_t frame_count, unsigned kind, llama_token_fn fn, void *ctx) {
  size_t count = 0;
  for (size_t i = frame_count; i-- > 0;) {
    const struct llama_model_frame *f = &frames[i];
    if (f->inlined && !(features & LLAMA_FEAT_INLINED))
      continue;
    if (features & LLAMA_FEAT_FRAME_MARK) {
      fn(ctx, LLAMA_FRAME_TOKEN, sizeof LLAMA_FRAME_TOKEN - 1);
      count++;
    }
    count += llama_tokenize_symbol(f->function, fn, ctx);
    if (features & LLAMA_FEAT_LINE) {
      char line[16];
      int n = snprintf(line, sizeof line, "<+%u>", f->line_offset);
      fn(ctx, line, (size_t)n);
      count++;
    }
    if (features & LLAMA_FEAT_FILE)
      count += llama_tokenize_file(f->file, fn, ctx);
  }
  if (features & LLAMA_FEAT_KIND) {
    const char *k = llama_kind_token(kind);
    fn(ctx, k, strlen(k));
    count++;
  }
  return count;
}

size_t llama_model_encode(const struct llama_model *m, const struct llama_model_frame *frames,
                          size_t frame_count, unsigned kind, uint32_t *ids, size_t cap) {
  if (cap > m->max_tokens)
    cap = m->max_tokens;
  if (cap == 0)
    return 0;
  struct encoder e = {m, ids, cap, 0};
  llama_context_tokens(m->features, frames, frame_count, kind, push_token, &e);
  if (e.count <= cap)
    return e.count;
  /* The ring wrapped: rotate so the oldest kept token comes first. */
  size_t split = e.count % cap;
  reverse(ids, split);
  reverse(ids + split, cap - split);
  reverse(ids, cap);
  return cap;
}

unsigned llama_model_predict(const struct llama_model *m, const uint32_t *ids, size_t n,
                             float probs[LLAMA_NUM_CLASSES]) {
  if (n == 0) {
    if (probs)
      for (unsigned k = 0; k < LLAMA_NUM_CLASSES; k++)
        probs[k] = k == m->default_class;
    return m->default_class;
  }
  struct llama_lstm_dims d = {m->vocab_size, m->embed, m->hidden, m->layers, LLAMA_NUM_CLASSES};
  float logits[LLAMA_NUM_CLASSES];
  llama_lstm_infer(&d, m->params, ids, n, logits);
  unsigned best = 0;
  for (unsigned k = 1; k < LLAMA_NUM_CLASSES; k++)
    if (logits[k] > logits[best])
      best = k;
  if (probs)
    llama_lstm_softmax(logits, probs, LLAMA_NUM_CLASSES);
  return best;
}

/* ---- writing ---- */

static uint64_t align_up(uint64_t v) { return (v + SECTION_ALIGN - 1) & ~(uint64_t)(SECTION_ALIGN - 1); }

int llama_model_serialize(const struct llama_model_desc *d, void **out, size_t *out_len,
                          char *err, size_t errlen) {
  *out = NULL;
  *out_len = 0;
  if (d->vocab_size < LLAMA_TOKEN_FIRST || d->vocab_size > LLAMA_MODEL_MAX_VOCAB)
    return fail(err, errlen, NULL, "vocabulary size %u out of range", d->vocab_size);
  uint64_t nparams = llama_model_param_count(d->vocab_size, d->embed, d->hidden, d->layers);
  uint64_t cap = 16;
  while (cap < 2ull * d->vocab_size)
    cap *= 2;
  uint64_t strings = 0;
  static const char *const reserved[LLAMA_TOKEN_FIRST] = {"<oov>", "<frame>"};
  for (uint32_t i = 0; i < d->vocab_size; i++)
    strings += strlen(i < LLAMA_TOKEN_FIRST ? reserved[i] : d->tokens[i]) + 1;
  const char *meta = d->meta ? d->meta : "";
  uint64_t meta_size = strlen(meta) + 1;

  uint32_t nsec = d->ctx_count ? 7 : 5;
  uint64_t size[7] = {nparams * 4, cap * 8, cap * 4, strings, meta_size, d->ctx_count * 8,
                      d->ctx_count};
  uint32_t tag[7] = {TAG_PARAMS, TAG_VOCAB_HASH, TAG_VOCAB_ID, TAG_TOKENS,
                     TAG_META,   TAG_CTX_ID,     TAG_CTX_CLASS};
  uint64_t off[7], at = align_up(HEADER_SIZE + (uint64_t)nsec * SECTION_ENTRY_SIZE);
  for (uint32_t s = 0; s < nsec; s++) {
    off[s] = at;
    at = align_up(at + size[s]);
  }
  unsigned char *b = calloc(1, at);
  if (!b)
    return fail(err, errlen, NULL, "out of memory");
  memcpy(b, LLAMA_MODEL_MAGIC, 8);
  wr32(b + 8, LLAMA_MODEL_VERSION);
  wr32(b + 12, HEADER_SIZE);
  wr64(b + 16, at);
  wr32(b + 28, d->features);
  wr32(b + 32, LLAMA_NUM_CLASSES);
  wr32(b + 36, d->vocab_size);
  wr32(b + 40, d->embed);
  wr32(b + 44, d->hidden);
  wr32(b + 48, d->layers);
  wr32(b + 52, d->max_tokens);
  b[56] = (unsigned char)d->default_class;
  b[57] = (unsigned char)d->longest_class;
  wr32(b + 60, nsec);
  for (uint32_t s = 0; s < nsec; s++) {
    unsigned char *e = b + HEADER_SIZE + s * SECTION_ENTRY_SIZE;
    wr32(e, tag[s]);
    wr64(e + 8, off[s]);
    wr64(e + 16, size[s]);
  }
  for (uint64_t i = 0; i < nparams; i++) {
    uint32_t bits;
    memcpy(&bits, &d->params[i], 4);
    wr32(b + off[0] + 4 * i, bits);
  }
  unsigned char *sp = b + off[3];
  for (uint32_t id = 0; id < d->vocab_size; id++) {
    const char *s = id < LLAMA_TOKEN_FIRST ? reserved[id] : d->tokens[id];
    size_t n = strlen(s);
    memcpy(sp, s, n + 1);
    sp += n + 1;
    if (id < LLAMA_TOKEN_FIRST)
      continue;
    uint64_t h = llama_token_hash(s, n);
    for (uint64_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
      uint32_t have = rd32(b + off[2] + 4 * i);
      if (have == LLAMA_TOKEN_OOV) {
        wr64(b + off[1] + 8 * i, h);
        wr32(b + off[2] + 4 * i, id);
        break;
      }
      if (rd64(b + off[1] + 8 * i) == h) {
        free(b);
        return fail(err, errlen, NULL, "tokens %u and %u have the same hash (duplicate token \"%s\"?)",
                    have, id, s);
      }
    }
  }
  memcpy(b + off[4], meta, meta_size);
  for (uint64_t i = 0; i < d->ctx_count; i++) {
    if (i && d->ctx_id[i] <= d->ctx_id[i - 1]) {
      free(b);
      return fail(err, errlen, NULL, "context ids not sorted and unique");
    }
    wr64(b + off[5] + 8 * i, d->ctx_id[i]);
    b[off[6] + i] = d->ctx_class[i];
  }
  wr32(b + 24, llama_crc32(b + HEADER_SIZE, at - HEADER_SIZE));
  *out = b;
  *out_len = at;
  return 0;
}

int llama_model_serialize_runtime(const struct llama_model *m, const char *meta, void **out,
                                  size_t *out_len, char *err, size_t errlen) {
  const char **tokens = malloc(m->vocab_size * sizeof *tokens);
  if (!tokens)
    return fail(err, errlen, NULL, "out of memory");
  const char *s = m->token_strings;
  for (uint32_t id = 0; id < m->vocab_size; id++) {
    tokens[id] = s;
    s += strlen(s) + 1;
  }
  struct llama_model_desc d = {
      .features = m->features,
      .embed = m->embed,
      .hidden = m->hidden,
      .layers = m->layers,
      .max_tokens = m->max_tokens,
      .default_class = m->default_class,
      .longest_class = m->longest_class,
      .vocab_size = m->vocab_size,
      .tokens = tokens,
      .params = m->params,
      .meta = meta,
  };
  int rc = llama_model_serialize(&d, out, out_len, err, errlen);
  free(tokens);
  return rc;
}
