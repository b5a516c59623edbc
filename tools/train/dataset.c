/*
 * dataset.c - profiles into training and held-out examples (see dataset.h).
 */
#include "dataset.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama/hash.h"
#include "llama_model.h"
#include "lstm.h"

/* ---- small helpers ---- */

static int fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

/* Grows *p (of *cap elements of size sz) to hold at least need. */
static int grow(void **p, size_t *cap, size_t need, size_t sz) {
  if (need <= *cap)
    return 0;
  size_t n = *cap ? *cap : 64;
  while (n < need)
    n *= 2;
  void *q = realloc(*p, n * sz);
  if (!q)
    return -1;
  *p = q;
  *cap = n;
  return 0;
}

/*
 * Open-addressing map from a 64-bit hash to an index. Equal hashes need not
 * mean equal keys: lookups walk the probe sequence and let the caller
 * compare (map_next).
 */
struct map {
  uint64_t *hash;
  uint32_t *val; /* UINT32_MAX: empty */
  size_t cap, n;
};

static int map_rehash(struct map *m, size_t cap) {
  struct map nm = {calloc(cap, 8), malloc(cap * 4), cap, m->n};
  if (!nm.hash || !nm.val) {
    free(nm.hash);
    free(nm.val);
    return -1;
  }
  memset(nm.val, 0xff, cap * 4);
  for (size_t i = 0; i < m->cap; i++) {
    if (m->val[i] == UINT32_MAX)
      continue;
    size_t j = m->hash[i] & (cap - 1);
    while (nm.val[j] != UINT32_MAX)
      j = (j + 1) & (cap - 1);
    nm.hash[j] = m->hash[i];
    nm.val[j] = m->val[i];
  }
  free(m->hash);
  free(m->val);
  *m = nm;
  return 0;
}

/* The slot holding h with a key eq() accepts, or the empty slot where it
 * would go (val == UINT32_MAX). eq may be NULL when hashes are the keys. */
typedef int (*map_eq)(const void *ctx, uint32_t val);
static size_t map_find(const struct map *m, uint64_t h, map_eq eq, const void *ctx) {
  size_t i = h & (m->cap - 1);
  while (m->val[i] != UINT32_MAX && !(m->hash[i] == h && (!eq || eq(ctx, m->val[i]))))
    i = (i + 1) & (m->cap - 1);
  return i;
}

static int map_put(struct map *m, size_t slot, uint64_t h, uint32_t v) {
  m->hash[slot] = h;
  m->val[slot] = v;
  if (++m->n * 2 > m->cap)
    return map_rehash(m, m->cap * 2);
  return 0;
}

static int map_init(struct map *m) {
  memset(m, 0, sizeof *m);
  m->cap = 1024;
  m->hash = calloc(m->cap, 8);
  m->val = malloc(m->cap * 4);
  if (!m->hash || !m->val)
    return -1;
  memset(m->val, 0xff, m->cap * 4);
  return 0;
}

static void map_free(struct map *m) {
  free(m->hash);
  free(m->val);
}

/* ---- building ---- */

struct group {
  uint32_t off, len; /* string indices in the pool, later token ids */
  double weight;     /* training allocations */
  uint64_t hist[LLAMA_HIST_SIZE];
};

struct builder {
  struct dataset *ds;
  const struct dataset_options *opt;
  /* interned token strings */
  char **str;
  size_t nstr, str_cap;
  struct map str_map;
  /* the context being walked: string indices */
  uint32_t *seq;
  size_t nseq, seq_cap;
  int oom;
  /* distinct token sequences */
  struct group *groups;
  size_t ngroups, group_cap;
  struct map group_map;
  size_t heldout_cap;
  /* exact contexts */
  struct map ctx_map;
  uint64_t *ctx_ids;
  uint64_t (*ctx_hist)[LLAMA_HIST_SIZE];
  size_t nctx, ctx_cap;
};

struct str_key {
  const struct builder *b;
  const char *s;
};
static int str_eq(const void *ctx, uint32_t v) {
  const struct str_key *k = ctx;
  return strcmp(k->b->str[v], k->s) == 0;
}

static void intern_cb(void *ctx, const char *tok, size_t len) {
  struct builder *b = ctx;
  if (b->oom)
    return;
  uint64_t h = llama_token_hash(tok, len);
  struct str_key key = {b, tok};
  size_t slot = map_find(&b->str_map, h, str_eq, &key);
  uint32_t idx = b->str_map.val[slot];
  if (idx == UINT32_MAX) {
    char *copy = strdup(tok);
    if (!copy || grow((void **)&b->str, &b->str_cap, b->nstr + 1, sizeof *b->str)) {
      free(copy);
      b->oom = 1;
      return;
    }
    idx = (uint32_t)b->nstr;
    b->str[b->nstr++] = copy;
    if (map_put(&b->str_map, slot, h, idx)) {
      b->oom = 1;
      return;
    }
  }
  if (grow((void **)&b->seq, &b->seq_cap, b->nseq + 1, sizeof *b->seq)) {
    b->oom = 1;
    return;
  }
  b->seq[b->nseq++] = idx;
}

struct seq_key {
  const struct builder *b;
  const uint32_t *seq;
  size_t len;
};
static int seq_eq(const void *ctx, uint32_t v) {
  const struct seq_key *k = ctx;
  const struct group *g = &k->b->groups[v];
  return g->len == k->len && memcmp(k->b->ds->pool + g->off, k->seq, k->len * 4) == 0;
}

/* The group of seq[0, len), created if new; UINT32_MAX when out of memory. */
static uint32_t group_of(struct builder *b, const uint32_t *seq, size_t len) {
  uint64_t h = LLAMA_HASH_INIT;
  for (size_t i = 0; i < len; i++)
    h = llama_mix64(h ^ seq[i]);
  struct seq_key key = {b, seq, len};
  size_t slot = map_find(&b->group_map, h, seq_eq, &key);
  if (b->group_map.val[slot] != UINT32_MAX)
    return b->group_map.val[slot];
  struct dataset *ds = b->ds;
  if (grow((void **)&b->groups, &b->group_cap, b->ngroups + 1, sizeof *b->groups) ||
      grow((void **)&ds->pool, &ds->pool_cap, ds->pool_len + len, sizeof *ds->pool))
    return UINT32_MAX;
  struct group *g = &b->groups[b->ngroups];
  memset(g, 0, sizeof *g);
  g->off = (uint32_t)ds->pool_len;
  g->len = (uint32_t)len;
  memcpy(ds->pool + ds->pool_len, seq, len * 4);
  ds->pool_len += len;
  if (map_put(&b->group_map, slot, h, (uint32_t)b->ngroups))
    return UINT32_MAX;
  return (uint32_t)b->ngroups++;
}

/* The training histogram of an exact context, created if new. */
static uint64_t *ctx_hist_of(struct builder *b, uint64_t id) {
  uint64_t h = llama_mix64(id);
  /* mix64 is a bijection: equal hashes are equal ids. */
  size_t slot = map_find(&b->ctx_map, h, NULL, NULL);
  if (b->ctx_map.val[slot] != UINT32_MAX)
    return b->ctx_hist[b->ctx_map.val[slot]];
  if (grow((void **)&b->ctx_ids, &b->ctx_cap, b->nctx + 1, sizeof *b->ctx_ids))
    return NULL;
  void *nh = realloc(b->ctx_hist, b->ctx_cap * sizeof *b->ctx_hist);
  if (!nh)
    return NULL;
  b->ctx_hist = nh;
  b->ctx_ids[b->nctx] = id;
  memset(b->ctx_hist[b->nctx], 0, sizeof *b->ctx_hist);
  if (map_put(&b->ctx_map, slot, h, (uint32_t)b->nctx))
    return NULL;
  return b->ctx_hist[b->nctx++];
}

void dataset_frames(const struct llama_idx_context *c, struct llama_model_frame *out) {
  for (uint32_t i = 0; i < c->frame_count; i++) {
    out[i].function = c->frames[i].function;
    out[i].file = c->frames[i].file;
    out[i].inlined = (c->frames[i].flags & LLAMA_IDX_FRAME_INLINED) != 0;
    out[i].line_offset = c->frames[i].line_offset;
  }
}

/* How many of n samples a seeded coin with P(heads) = p holds out. */
static uint64_t binomial(uint64_t n, double p, uint64_t *rng) {
  uint64_t k = 0, threshold = (uint64_t)(p * 18446744073709551615.0);
  if (p <= 0)
    return 0;
  for (uint64_t i = 0; i < n; i++) {
    k += llama_rand64(rng) < threshold;
  }
  return k;
}

static int add_profile(struct builder *b, const struct llama_idx *idx, size_t pi, char *err,
                       size_t errlen) {
  struct dataset *ds = b->ds;
  const struct dataset_options *opt = b->opt;
  struct llama_model_frame *frames = NULL;
  size_t frame_cap = 0;
  for (size_t si = 0; si < llama_idx_site_count(idx); si++) {
    const struct llama_idx_site *s = llama_idx_site_at(idx, si);
    for (uint32_t ci = 0; ci < s->context_count; ci++) {
      const struct llama_idx_context *c = &s->contexts[ci];
      if (c->samples == 0)
        continue;
      ds->contexts++;
      ds->samples += c->samples;
      ds->allocations += c->calls;
      if (grow((void **)&frames, &frame_cap, c->frame_count + 1, sizeof *frames))
        goto oom;
      dataset_frames(c, frames);
      b->nseq = 0;
      llama_context_tokens(opt->features, frames, c->frame_count, s->kind, intern_cb, b);
      if (b->oom)
        goto oom;
      size_t skip = b->nseq > opt->max_tokens ? b->nseq - opt->max_tokens : 0;
      uint32_t gi = group_of(b, b->seq + skip, b->nseq - skip);
      if (gi == UINT32_MAX)
        goto oom;

      /* Split the samples, class by class. */
      uint64_t rng = llama_mix64(opt->seed ^ llama_mix64(c->context_id ^ llama_mix64(s->site_id + pi)));
      uint64_t held[LLAMA_HIST_SIZE], kept[LLAMA_HIST_SIZE], nheld = 0, nkept = 0;
      for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++) {
        held[k] = binomial(c->histogram[k], opt->holdout, &rng);
        kept[k] = c->histogram[k] - held[k];
        nheld += held[k];
        nkept += kept[k];
      }
      double per_sample = (double)c->calls / (double)c->samples;
      if (nkept) {
        struct group *g = &b->groups[gi];
        for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++)
          g->hist[k] += kept[k];
        g->weight += per_sample * (double)nkept;
        uint64_t *ch = ctx_hist_of(b, c->context_id);
        if (!ch)
          goto oom;
        for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++)
          ch[k] += kept[k];
      }
      if (nheld) {
        if (grow((void **)&ds->heldout, &b->heldout_cap, ds->nheldout + 1, sizeof *ds->heldout))
          goto oom;
        struct example *e = &ds->heldout[ds->nheldout++];
        e->off = b->groups[gi].off;
        e->len = b->groups[gi].len;
        e->label = llama_class_of_histogram(held, b->ds->quantile_ppm);
        e->weight = per_sample * (double)nheld;
        e->context_id = c->context_id;
        e->group = gi;
      }
    }
  }
  free(frames);
  return 0;
oom:
  free(frames);
  return fail(err, errlen, "out of memory while reading profile %zu", pi + 1);
}

struct vocab_rank {
  const struct builder *b;
  const uint32_t *count;
};
static const struct vocab_rank *rank_ctx; /* qsort has no context argument */
static int by_count(const void *pa, const void *pb) {
  uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
  uint32_t ca = rank_ctx->count[a], cb = rank_ctx->count[b];
  if (ca != cb)
    return ca > cb ? -1 : 1;
  return strcmp(rank_ctx->b->str[a], rank_ctx->b->str[b]);
}

/* Ranks tokens by the number of training examples holding them and keeps
 * the frequent ones; rewrites the pool from string indices to token ids. */
static int build_vocab(struct builder *b, char *err, size_t errlen) {
  struct dataset *ds = b->ds;
  const struct dataset_options *opt = b->opt;
  uint32_t *count = calloc(b->nstr + 1, 4), *stamp = calloc(b->nstr + 1, 4);
  uint32_t *order = malloc((b->nstr + 1) * 4), *remap = malloc((b->nstr + 1) * 4);
  if (!count || !stamp || !order || !remap)
    goto oom;
  for (size_t g = 0; g < b->ngroups; g++) {
    if (b->groups[g].weight <= 0)
      continue;
    for (uint32_t i = 0; i < b->groups[g].len; i++) {
      uint32_t s = ds->pool[b->groups[g].off + i];
      if (stamp[s] != g + 1) {
        stamp[s] = (uint32_t)g + 1;
        count[s]++;
      }
    }
  }
  size_t n = 0;
  for (uint32_t s = 0; s < b->nstr; s++)
    if (strcmp(b->str[s], LLAMA_FRAME_TOKEN) != 0)
      order[n++] = s;
  struct vocab_rank rc = {b, count};
  rank_ctx = &rc;
  qsort(order, n, 4, by_count);
  ds->tokens = calloc(n + LLAMA_TOKEN_FIRST, sizeof *ds->tokens);
  if (!ds->tokens)
    goto oom;
  uint32_t next = LLAMA_TOKEN_FIRST;
  for (uint32_t s = 0; s < b->nstr; s++)
    remap[s] = strcmp(b->str[s], LLAMA_FRAME_TOKEN) == 0 ? LLAMA_TOKEN_FRAME : LLAMA_TOKEN_OOV;
  for (size_t i = 0; i < n; i++) {
    uint32_t s = order[i];
    if (count[s] < opt->min_count || next >= opt->max_vocab)
      break;
    remap[s] = next;
    ds->tokens[next++] = b->str[s];
    b->str[s] = NULL; /* now owned by ds->tokens */
  }
  ds->vocab_size = next;
  for (size_t i = 0; i < ds->pool_len; i++) {
    uint32_t id = remap[ds->pool[i]];
    ds->dropped_tokens += id == LLAMA_TOKEN_OOV;
    ds->pool[i] = id;
  }
  free(count);
  free(stamp);
  free(order);
  free(remap);
  return 0;
oom:
  free(count);
  free(stamp);
  free(order);
  free(remap);
  return fail(err, errlen, "out of memory building the vocabulary");
}

static int by_ctx_id(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

int dataset_build(struct dataset *ds, const char *const *paths, size_t npaths,
                  const struct dataset_options *opt, char *err, size_t errlen) {
  memset(ds, 0, sizeof *ds);
  struct builder b = {.ds = ds, .opt = opt};
  int rc = -1;
  if (map_init(&b.str_map) || map_init(&b.group_map) || map_init(&b.ctx_map)) {
    fail(err, errlen, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < npaths; i++) {
    struct llama_idx *idx = llama_idx_read_file(paths[i], err, errlen);
    if (!idx)
      goto out;
    if (i == 0)
      ds->quantile_ppm = opt->quantile_ppm ? opt->quantile_ppm : llama_idx_get_meta(idx)->quantile_ppm;
    int r = add_profile(&b, idx, i, err, errlen);
    llama_idx_free(idx);
    if (r)
      goto out;
    ds->profiles++;
  }
  if (build_vocab(&b, err, errlen))
    goto out;

  /* Training examples: groups with training samples, labelled by the class
   * rule over their pooled histogram. */
  double by_class[LLAMA_NUM_CLASSES] = {0};
  ds->train = calloc(b.ngroups + 1, sizeof *ds->train);
  if (!ds->train) {
    fail(err, errlen, "out of memory");
    goto out;
  }
  ds->group_label = malloc((b.ngroups + 1) * sizeof *ds->group_label);
  if (!ds->group_label) {
    fail(err, errlen, "out of memory");
    goto out;
  }
  ds->ngroups = b.ngroups;
  for (size_t g = 0; g < b.ngroups; g++) {
    unsigned label = llama_class_of_histogram(b.groups[g].hist, ds->quantile_ppm);
    ds->group_label[g] = b.groups[g].weight > 0 ? label : LLAMA_IDX_NO_CLASS;
    if (b.groups[g].weight <= 0 || label >= LLAMA_NUM_CLASSES)
      continue;
    struct example *e = &ds->train[ds->ntrain++];
    e->off = b.groups[g].off;
    e->len = b.groups[g].len;
    e->label = label;
    e->weight = b.groups[g].weight;
    by_class[label] += e->weight;
  }
  for (unsigned k = 0; k < LLAMA_NUM_CLASSES; k++) {
    if (by_class[k] > by_class[ds->default_class])
      ds->default_class = k;
    if (by_class[k] > 0)
      ds->longest_class = k;
  }

  /* Exact-context table, sorted by id. */
  ds->ctx_id = malloc((b.nctx + 1) * 8);
  ds->ctx_class = malloc(b.nctx + 1);
  uint64_t (*pairs)[2] = malloc((b.nctx + 1) * sizeof *pairs);
  if (!ds->ctx_id || !ds->ctx_class || !pairs) {
    free(pairs);
    fail(err, errlen, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < b.nctx; i++) {
    pairs[i][0] = b.ctx_ids[i];
    pairs[i][1] = llama_class_of_histogram(b.ctx_hist[i], ds->quantile_ppm);
  }
  qsort(pairs, b.nctx, sizeof *pairs, by_ctx_id);
  for (size_t i = 0; i < b.nctx; i++) {
    if (pairs[i][1] >= LLAMA_NUM_CLASSES)
      continue;
    ds->ctx_id[ds->nctx] = pairs[i][0];
    ds->ctx_class[ds->nctx++] = (uint8_t)pairs[i][1];
  }
  free(pairs);
  if (ds->ntrain == 0) {
    fail(err, errlen, "no training examples: the profiles hold no sampled allocations");
    goto out;
  }
  rc = 0;
out:
  for (size_t i = 0; i < b.nstr; i++)
    free(b.str[i]);
  free(b.str);
  free(b.seq);
  free(b.groups);
  free(b.ctx_ids);
  free(b.ctx_hist);
  map_free(&b.str_map);
  map_free(&b.group_map);
  map_free(&b.ctx_map);
  if (rc)
    dataset_free(ds);
  return rc;
}

void dataset_free(struct dataset *ds) {
  if (ds->tokens)
    for (uint32_t i = LLAMA_TOKEN_FIRST; i < ds->vocab_size; i++)
      free(ds->tokens[i]);
  free(ds->tokens);
  free(ds->pool);
  free(ds->train);
  free(ds->heldout);
  free(ds->ctx_id);
  free(ds->ctx_class);
  free(ds->group_label);
  memset(ds, 0, sizeof *ds);
}

void confusion_add(struct confusion *c, unsigned truth, unsigned predicted, double w) {
  if (truth < LLAMA_NUM_CLASSES && predicted < LLAMA_NUM_CLASSES)
    c->w[truth][predicted] += w;
}

double confusion_accuracy(const struct confusion *c) {
  double ok = 0, all = 0;
  for (unsigned t = 0; t < LLAMA_NUM_CLASSES; t++)
    for (unsigned p = 0; p < LLAMA_NUM_CLASSES; p++) {
      all += c->w[t][p];
      ok += t == p ? c->w[t][p] : 0;
    }
  return all > 0 ? ok / all : 0;
}
