/*
 * raw_reader.c - the raw profile parser (see raw_reader.h for the API and
 * include/llama/raw_profile.h for the normative layout). The parser walks the
 * buffer once, section by section; every field is loaded with explicit
 * little-endian loads at offsets tied to llama/raw_profile.h by static asserts, and
 * every size is checked against the bytes left before it is used. Counts are
 * checked against the payload size before anything is allocated, so a hostile
 * count cannot make the parser allocate more than a small multiple of the
 * input size.
 */
#include "llama/profdata/raw_reader.h"

#include <stdlib.h>
#include <string.h>

#include "profdata_internal.h"
#include "llama/raw_profile.h"

_Static_assert(sizeof(struct llama_raw_header) == 64, "raw header layout");
_Static_assert(sizeof(struct llama_raw_section) == 16, "raw section layout");
_Static_assert(sizeof(struct llama_raw_module) == 32, "raw module layout");
_Static_assert(sizeof(struct llama_raw_site) == 56, "raw site layout");
_Static_assert(sizeof(struct llama_raw_stack) == 8, "raw stack layout");
_Static_assert(sizeof(struct llama_raw_sample) == 56, "raw sample layout");

#define OFF(type, field) offsetof(struct type, field)

/* ---- arena: strings and pcs, released together ---- */

struct llama_raw_arena {
  struct llama_raw_arena *next;
  size_t used, size;
  _Alignas(8) unsigned char data[];
};

static void *arena_alloc(struct llama_raw_arena **head, size_t n) {
  n = (n + 7) & ~(size_t)7;
  struct llama_raw_arena *a = *head;
  if (!a || a->size - a->used < n) {
    size_t size = n > 65536 ? n : 65536;
    struct llama_raw_arena *b = malloc(sizeof *b + size);
    if (!b)
      return NULL;
    b->size = size;
    b->used = 0;
    b->next = a;
    *head = a = b;
  }
  void *p = a->data + a->used;
  a->used += n;
  return p;
}

static void arena_free(struct llama_raw_arena *a) {
  while (a) {
    struct llama_raw_arena *next = a->next;
    free(a);
    a = next;
  }
}

/* ---- parse state ---- */

struct parser {
  const unsigned char *buf;
  size_t len;
  const char *name;
  char *err;
  size_t errlen;
  struct llama_raw_profile *profile;
};

static const char *section_name(uint32_t kind) {
  switch (kind) {
  case LLAMA_RAW_SEC_META:
    return "META";
  case LLAMA_RAW_SEC_MODULES:
    return "MODULES";
  case LLAMA_RAW_SEC_SITES:
    return "SITES";
  case LLAMA_RAW_SEC_STACKS:
    return "STACKS";
  case LLAMA_RAW_SEC_SAMPLES:
    return "SAMPLES";
  default:
    return "unknown";
  }
}

static int oom(struct parser *ps) {
  return llama_errorf(ps->err, ps->errlen, ps->name, "out of memory");
}

/* A NUL-terminated copy of n bytes at p. */
static const char *copy_string(struct parser *ps, const unsigned char *p, size_t n) {
  char *s = arena_alloc(&ps->profile->arena, n + 1);
  if (!s)
    return NULL;
  memcpy(s, p, n);
  s[n] = 0;
  return s;
}

/* Grows *array (of elem-sized entries, *count used) to hold `extra` more. */
static int grow(void **array, size_t count, size_t extra, size_t elem) {
  if (extra == 0)
    return 0;
  if (extra > SIZE_MAX / elem - count)
    return -1;
  void *p = realloc(*array, (count + extra) * elem);
  if (!p)
    return -1;
  *array = p;
  return 0;
}

/* Checks that an entry needing `need` bytes (before padding) fits in the
 * `left` bytes of its section. */
static int check_entry(struct parser *ps, uint32_t kind, uint32_t index, uint32_t count,
                       uint64_t need, uint64_t left) {
  if (need > left)
    return llama_errorf(ps->err, ps->errlen, ps->name,
                        "truncated %s section: entry %u of %u needs %llu bytes, %llu left",
                        section_name(kind), index, count, (unsigned long long)need,
                        (unsigned long long)left);
  return 0;
}

/* A section's entries must fill it exactly. */
static int check_section_end(struct parser *ps, uint32_t kind, uint32_t count, uint64_t pos,
                             uint64_t size) {
  if (pos == size)
    return 0;
  return llama_errorf(ps->err, ps->errlen, ps->name, "%s section: %llu bytes after its %u entries",
                      section_name(kind), (unsigned long long)(size - pos), count);
}

static uint64_t pad8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

/* ---- sections ---- */

static int parse_meta(struct parser *ps, const unsigned char *p, uint64_t size, uint32_t count) {
  struct llama_raw_profile *pr = ps->profile;
  if (grow((void **)&pr->meta, pr->meta_count, count, sizeof *pr->meta))
    return oom(ps);
  uint64_t pos = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (check_entry(ps, LLAMA_RAW_SEC_META, i, count, 8, size - pos))
      return -1;
    uint32_t key_len = llama_ld32(p + pos), value_len = llama_ld32(p + pos + 4);
    uint64_t need = pad8(8 + (uint64_t)key_len + value_len);
    if (check_entry(ps, LLAMA_RAW_SEC_META, i, count, need, size - pos))
      return -1;
    struct llama_raw_meta_info *m = &pr->meta[pr->meta_count];
    m->key = copy_string(ps, p + pos + 8, key_len);
    m->value = copy_string(ps, p + pos + 8 + key_len, value_len);
    if (!m->key || !m->value)
      return oom(ps);
    pr->meta_count++;
    pos += need;
  }
  return check_section_end(ps, LLAMA_RAW_SEC_META, count, pos, size);
}

static int parse_modules(struct parser *ps, const unsigned char *p, uint64_t size, uint32_t count) {
  struct llama_raw_profile *pr = ps->profile;
  if (grow((void **)&pr->modules, pr->module_count, count, sizeof *pr->modules))
    return oom(ps);
  const size_t fixed = sizeof(struct llama_raw_module);
  uint64_t pos = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (check_entry(ps, LLAMA_RAW_SEC_MODULES, i, count, fixed, size - pos))
      return -1;
    const unsigned char *e = p + pos;
    uint32_t build_id_len = llama_ld32(e + OFF(llama_raw_module, build_id_len));
    uint32_t path_len = llama_ld32(e + OFF(llama_raw_module, path_len));
    uint64_t need = pad8(fixed + (uint64_t)build_id_len + path_len);
    if (check_entry(ps, LLAMA_RAW_SEC_MODULES, i, count, need, size - pos))
      return -1;
    struct llama_raw_module_info *m = &pr->modules[pr->module_count];
    m->load_bias = llama_ld64(e + OFF(llama_raw_module, load_bias));
    m->start = llama_ld64(e + OFF(llama_raw_module, start));
    m->end = llama_ld64(e + OFF(llama_raw_module, end));
    m->build_id_len = build_id_len;
    m->build_id = NULL;
    if (build_id_len) {
      unsigned char *id = arena_alloc(&pr->arena, build_id_len);
      if (!id)
        return oom(ps);
      memcpy(id, e + fixed, build_id_len);
      m->build_id = id;
    }
    m->path = copy_string(ps, e + fixed + build_id_len, path_len);
    if (!m->path)
      return oom(ps);
    if (m->start > m->end)
      return llama_errorf(ps->err, ps->errlen, ps->name,
                          "MODULES section: module %u (%s) starts at 0x%llx, after its end 0x%llx",
                          i, m->path, (unsigned long long)m->start, (unsigned long long)m->end);
    pr->module_count++;
    pos += need;
  }
  return check_section_end(ps, LLAMA_RAW_SEC_MODULES, count, pos, size);
}

static int parse_sites(struct parser *ps, const unsigned char *p, uint64_t size, uint32_t count) {
  struct llama_raw_profile *pr = ps->profile;
  if (grow((void **)&pr->sites, pr->site_count, count, sizeof *pr->sites))
    return oom(ps);
  const size_t fixed = sizeof(struct llama_raw_site);
  uint64_t pos = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (check_entry(ps, LLAMA_RAW_SEC_SITES, i, count, fixed, size - pos))
      return -1;
    const unsigned char *e = p + pos;
    uint32_t function_len = llama_ld32(e + OFF(llama_raw_site, function_len));
    uint32_t file_len = llama_ld32(e + OFF(llama_raw_site, file_len));
    uint32_t inlined_at_len = llama_ld32(e + OFF(llama_raw_site, inlined_at_len));
    uint64_t need = pad8(fixed + (uint64_t)function_len + file_len + inlined_at_len);
    if (check_entry(ps, LLAMA_RAW_SEC_SITES, i, count, need, size - pos))
      return -1;
    struct llama_raw_site_info *s = &pr->sites[pr->site_count];
    s->id = llama_ld64(e + OFF(llama_raw_site, id));
    s->count = llama_ld64(e + OFF(llama_raw_site, count));
    s->bytes = llama_ld64(e + OFF(llama_raw_site, bytes));
    s->line = llama_ld32(e + OFF(llama_raw_site, line));
    s->column = llama_ld32(e + OFF(llama_raw_site, column));
    s->line_offset = llama_ld32(e + OFF(llama_raw_site, line_offset));
    s->kind = llama_ld16(e + OFF(llama_raw_site, kind));
    s->flags = llama_ld16(e + OFF(llama_raw_site, flags));
    const unsigned char *str = e + fixed;
    s->function = copy_string(ps, str, function_len);
    s->file = copy_string(ps, str + function_len, file_len);
    s->inlined_at = copy_string(ps, str + function_len + file_len, inlined_at_len);
    if (!s->function || !s->file || !s->inlined_at)
      return oom(ps);
    pr->site_count++;
    pos += need;
  }
  return check_section_end(ps, LLAMA_RAW_SEC_SITES, count, pos, size);
}

static int parse_stacks(struct parser *ps, const unsigned char *p, uint64_t size, uint32_t count) {
  struct llama_raw_profile *pr = ps->profile;
  if (grow((void **)&pr->stacks, pr->stack_count, count, sizeof *pr->stacks))
    return oom(ps);
  uint64_t pos = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (check_entry(ps, LLAMA_RAW_SEC_STACKS, i, count, sizeof(struct llama_raw_stack), size - pos))
      return -1;
    const unsigned char *e = p + pos;
    struct llama_raw_stack_info *st = &pr->stacks[pr->stack_count];
    st->id = llama_ld32(e + OFF(llama_raw_stack, id));
    st->depth = llama_ld32(e + OFF(llama_raw_stack, depth));
    uint64_t need = sizeof(struct llama_raw_stack) + 8 * (uint64_t)st->depth;
    if (check_entry(ps, LLAMA_RAW_SEC_STACKS, i, count, need, size - pos))
      return -1;
    st->pcs = NULL;
    if (st->depth) {
      uint64_t *pcs = arena_alloc(&pr->arena, 8 * (size_t)st->depth);
      if (!pcs)
        return oom(ps);
      for (uint32_t d = 0; d < st->depth; d++)
        pcs[d] = llama_ld64(e + sizeof(struct llama_raw_stack) + 8 * (size_t)d);
      st->pcs = pcs;
    }
    pr->stack_count++;
    pos += need;
  }
  return check_section_end(ps, LLAMA_RAW_SEC_STACKS, count, pos, size);
}

static int parse_samples(struct parser *ps, const unsigned char *p, uint64_t size, uint32_t count) {
  struct llama_raw_profile *pr = ps->profile;
  const size_t entry = sizeof(struct llama_raw_sample);
  if ((uint64_t)count * entry != size)
    return llama_errorf(ps->err, ps->errlen, ps->name,
                        (uint64_t)count * entry > size
                            ? "truncated SAMPLES section: %u samples need %llu bytes, %llu left"
                            : "SAMPLES section: %u samples need %llu bytes, section has %llu",
                        count, (unsigned long long)count * entry, (unsigned long long)size);
  if (grow((void **)&pr->samples, pr->sample_count, count, sizeof *pr->samples))
    return oom(ps);
  for (uint32_t i = 0; i < count; i++) {
    const unsigned char *e = p + (size_t)i * entry;
    struct llama_raw_sample_info *s = &pr->samples[pr->sample_count++];
    s->site_id = llama_ld64(e + OFF(llama_raw_sample, site_id));
    s->size = llama_ld64(e + OFF(llama_raw_sample, size));
    s->alloc_ns = llama_ld64(e + OFF(llama_raw_sample, alloc_ns));
    s->free_ns = llama_ld64(e + OFF(llama_raw_sample, free_ns));
    s->free_site_id = llama_ld64(e + OFF(llama_raw_sample, free_site_id));
    s->stack_id = llama_ld32(e + OFF(llama_raw_sample, stack_id));
    s->alloc_tid = llama_ld32(e + OFF(llama_raw_sample, alloc_tid));
    s->free_tid = llama_ld32(e + OFF(llama_raw_sample, free_tid));
    s->flags = llama_ld32(e + OFF(llama_raw_sample, flags));
    s->stack_index = 0;
  }
  return 0;
}

/* Minimum bytes of one entry, to bound counts before allocating. */
static uint64_t min_entry_size(uint32_t kind) {
  switch (kind) {
  case LLAMA_RAW_SEC_META:
    return 8;
  case LLAMA_RAW_SEC_MODULES:
    return sizeof(struct llama_raw_module);
  case LLAMA_RAW_SEC_SITES:
    return sizeof(struct llama_raw_site);
  case LLAMA_RAW_SEC_STACKS:
    return sizeof(struct llama_raw_stack);
  case LLAMA_RAW_SEC_SAMPLES:
    return sizeof(struct llama_raw_sample);
  default:
    return 0;
  }
}

struct stack_key {
  uint32_t id;
  uint32_t index;
};

static int compare_stack_key(const void *a, const void *b) {
  const struct stack_key *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Resolves every sample's stack_id to an index into stacks. */
static int resolve_stacks(struct parser *ps) {
  struct llama_raw_profile *pr = ps->profile;
  struct stack_key *keys = NULL;
  if (pr->stack_count) {
    keys = malloc(pr->stack_count * sizeof *keys);
    if (!keys)
      return oom(ps);
    for (size_t i = 0; i < pr->stack_count; i++)
      keys[i] = (struct stack_key){pr->stacks[i].id, (uint32_t)i};
    qsort(keys, pr->stack_count, sizeof *keys, compare_stack_key);
    for (size_t i = 1; i < pr->stack_count; i++) {
      if (keys[i].id == keys[i - 1].id) {
        uint32_t id = keys[i].id;
        free(keys);
        return llama_errorf(ps->err, ps->errlen, ps->name,
                            "STACKS section: stack id %u is defined twice", id);
      }
    }
  }
  for (size_t i = 0; i < pr->sample_count; i++) {
    struct llama_raw_sample_info *s = &pr->samples[i];
    struct stack_key key = {s->stack_id, 0};
    const struct stack_key *found =
        keys ? bsearch(&key, keys, pr->stack_count, sizeof *keys, compare_stack_key) : NULL;
    if (!found && s->stack_id == 0) {
      /* Stack ids start at 1; 0 means the profiler had no room for the
       * stack. The sample still counts, without a calling context. */
      s->stack_index = LLAMA_RAW_NO_STACK;
      continue;
    }
    if (!found) {
      free(keys);
      return llama_errorf(ps->err, ps->errlen, ps->name,
                          "sample %zu refers to stack id %u, which no STACKS entry defines", i,
                          s->stack_id);
    }
    s->stack_index = found->index;
  }
  free(keys);
  return 0;
}

static int parse(struct parser *ps) {
  const unsigned char *buf = ps->buf;
  size_t len = ps->len;
  struct llama_raw_profile *pr = ps->profile;
  const size_t magic_len = sizeof(LLAMA_RAW_MAGIC) - 1;

  if (len == 0)
    return llama_errorf(ps->err, ps->errlen, ps->name, "empty file");
  if (memcmp(buf, LLAMA_RAW_MAGIC, len < magic_len ? len : magic_len) != 0)
    return llama_errorf(ps->err, ps->errlen, ps->name,
                        "not a raw profile (bad magic, expected \"%s\")", LLAMA_RAW_MAGIC);
  if (len < sizeof(struct llama_raw_header))
    return llama_errorf(ps->err, ps->errlen, ps->name,
                        "truncated header: needs %zu bytes, %zu in file",
                        sizeof(struct llama_raw_header), len);
  pr->version = llama_ld32(buf + OFF(llama_raw_header, version));
  if (pr->version == 0 || pr->version > LLAMA_RAW_VERSION)
    return llama_errorf(
        ps->err, ps->errlen, ps->name,
        "unsupported raw profile version %u (this reader supports versions up to %d)", pr->version,
        LLAMA_RAW_VERSION);
  uint32_t header_size = llama_ld32(buf + OFF(llama_raw_header, header_size));
  if (header_size < sizeof(struct llama_raw_header) || header_size % 8)
    return llama_errorf(ps->err, ps->errlen, ps->name,
                        "bad header size %u (must be a multiple of 8, at least %zu)", header_size,
                        sizeof(struct llama_raw_header));
  if (header_size > len)
    return llama_errorf(ps->err, ps->errlen, ps->name,
                        "truncated header: needs %u bytes, %zu in file", header_size, len);
  pr->pid = llama_ld64(buf + OFF(llama_raw_header, pid));
  pr->start_ns = llama_ld64(buf + OFF(llama_raw_header, start_ns));
  pr->end_ns = llama_ld64(buf + OFF(llama_raw_header, end_ns));
  pr->sample_period = llama_ld64(buf + OFF(llama_raw_header, sample_period));
  pr->section_count = llama_ld32(buf + OFF(llama_raw_header, section_count));
  pr->flags = llama_ld32(buf + OFF(llama_raw_header, flags));

  size_t pos = header_size;
  for (uint32_t i = 0; i < pr->section_count; i++) {
    const size_t sh = sizeof(struct llama_raw_section);
    if (len - pos < sh)
      return llama_errorf(ps->err, ps->errlen, ps->name,
                          "truncated file: section header %u of %u needs %zu bytes, %zu left", i,
                          pr->section_count, sh, len - pos);
    uint32_t kind = llama_ld32(buf + pos + OFF(llama_raw_section, kind));
    uint32_t count = llama_ld32(buf + pos + OFF(llama_raw_section, count));
    uint64_t size = llama_ld64(buf + pos + OFF(llama_raw_section, size));
    pos += sh;
    const char *sname = section_name(kind);
    if (size % 8)
      return llama_errorf(ps->err, ps->errlen, ps->name,
                          "%s section (kind %u): size %llu is not a multiple of 8", sname, kind,
                          (unsigned long long)size);
    if (size > len - pos)
      return llama_errorf(ps->err, ps->errlen, ps->name,
                          "truncated %s section: needs %llu bytes, %zu left", sname,
                          (unsigned long long)size, len - pos);
    uint64_t min_entry = min_entry_size(kind);
    if (min_entry && (uint64_t)count * min_entry > size)
      return llama_errorf(
          ps->err, ps->errlen, ps->name,
          "truncated %s section: %u entries need at least %llu bytes, section has %llu", sname,
          count, (unsigned long long)count * min_entry, (unsigned long long)size);
    const unsigned char *payload = buf + pos;
    int rc = 0;
    switch (kind) {
    case LLAMA_RAW_SEC_META:
      rc = parse_meta(ps, payload, size, count);
      break;
    case LLAMA_RAW_SEC_MODULES:
      rc = parse_modules(ps, payload, size, count);
      break;
    case LLAMA_RAW_SEC_SITES:
      rc = parse_sites(ps, payload, size, count);
      break;
    case LLAMA_RAW_SEC_STACKS:
      rc = parse_stacks(ps, payload, size, count);
      break;
    case LLAMA_RAW_SEC_SAMPLES:
      rc = parse_samples(ps, payload, size, count);
      break;
    default:
      pr->unknown_sections++; /* newer writer: skip what we do not know */
      break;
    }
    if (rc)
      return rc;
    pos += (size_t)size;
  }
  if (pos != len)
    return llama_errorf(ps->err, ps->errlen, ps->name,
                        "%zu bytes of trailing data after the last of %u sections", len - pos,
                        pr->section_count);
  return resolve_stacks(ps);
}

struct llama_raw_profile *llama_raw_parse(const void *buf, size_t len, const char *name, char *err,
                                          size_t errlen) {
  if (err && errlen)
    err[0] = 0;
  struct llama_raw_profile *profile = calloc(1, sizeof *profile);
  if (!profile) {
    llama_errorf(err, errlen, name, "out of memory");
    return NULL;
  }
  struct parser ps = {buf, len, name, err, errlen, profile};
  if (!buf && len) {
    llama_errorf(err, errlen, name, "no buffer");
    llama_raw_free(profile);
    return NULL;
  }
  if (parse(&ps)) {
    llama_raw_free(profile);
    return NULL;
  }
  return profile;
}

void llama_raw_free(struct llama_raw_profile *profile) {
  if (!profile)
    return;
  free(profile->meta);
  free(profile->modules);
  free(profile->sites);
  free(profile->stacks);
  free(profile->samples);
  arena_free(profile->arena);
  free(profile);
}

const char *llama_raw_meta_get(const struct llama_raw_profile *profile, const char *key) {
  for (size_t i = 0; i < profile->meta_count; i++)
    if (strcmp(profile->meta[i].key, key) == 0)
      return profile->meta[i].value;
  return NULL;
}

const struct llama_raw_module_info *llama_raw_find_module(const struct llama_raw_profile *profile,
                                                          uint64_t pc) {
  for (size_t i = 0; i < profile->module_count; i++) {
    const struct llama_raw_module_info *m = &profile->modules[i];
    if (pc >= m->start && pc < m->end)
      return m;
  }
  return NULL;
}

int llama_raw_has_magic(const void *buf, size_t len) {
  return len >= sizeof(LLAMA_RAW_MAGIC) - 1 &&
         memcmp(buf, LLAMA_RAW_MAGIC, sizeof(LLAMA_RAW_MAGIC) - 1) == 0;
}
