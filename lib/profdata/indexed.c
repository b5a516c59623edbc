/*
 * indexed.c - the indexed profile format: lifetime-class rules, the writer
 * (llama_idx_serialize) and the validating reader (llama_idx_parse). The
 * layout below is normative; docs/profile-format-indexed.md explains it.
 *
 *   offset 0                                                 little-endian
 *   +---------------------------------------------------------------+
 *   | header, 64 bytes                                              |
 *   |   0 magic "LLAMAIDX"   8 u32 version   12 u32 compat_version  |
 *   |  16 u32 header_size   20 u32 section_count                    |
 *   |  24 u64 section_table_offset  32 u64 file_size  40 u64 flags  |
 *   +---------------------------------------------------------------+
 *   | section table: section_count x 32 bytes                       |
 *   |   u32 kind, u32 entry_size, u64 count, u64 offset, u64 size   |
 *   +---------------------------------------------------------------+
 *   | STRINGS   NUL-terminated strings; "" at offset 0              |
 *   | META      1 x 64 bytes                                        |
 *   | SITES     count x 144 bytes, sorted by site id                |
 *   | CONTEXTS  count x 128 bytes, grouped by site, by context id   |
 *   | FRAMES    count x 24 bytes; a context's frames are contiguous |
 *   |           (contexts may share a run of frames)                |
 *   +---------------------------------------------------------------+
 *   every section starts at a multiple of 8
 *
 * Compatibility: a reader accepts a file when compat_version <= its
 * LLAMA_IDX_VERSION. Additive changes (a new section kind, fields appended to
 * an entry, so entry_size grows) bump version only: older readers skip
 * unknown sections and read the prefix of each entry they know. Changes that
 * older readers would misread bump compat_version too. A reader keeps code
 * for every older layout it accepts, so newer readers always read older files.
 */
#include "llama/profdata/indexed.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama/abi.h"
#include "profdata_internal.h"

/* ---- on-disk layout, version 1 ---- */

#define HEADER_SIZE 64
#define SECTION_ENTRY_SIZE 32

enum {
  SEC_STRINGS = 1,
  SEC_META = 2,
  SEC_SITES = 3,
  SEC_CONTEXTS = 4,
  SEC_FRAMES = 5,
};

/* header */
#define H_VERSION 8
#define H_COMPAT 12
#define H_HEADER_SIZE 16
#define H_SECTION_COUNT 20
#define H_TABLE_OFFSET 24
#define H_FILE_SIZE 32
#define H_FLAGS 40

/* section table entry */
#define T_KIND 0
#define T_ENTRY_SIZE 4
#define T_COUNT 8
#define T_OFFSET 16
#define T_SIZE 24

/* META entry */
#define META_SIZE 64
#define M_SAMPLE_PERIOD 0
#define M_PROFILES 8
#define M_SAMPLES 16
#define M_CALLS 24
#define M_BYTES 32
#define M_QUANTILE 40
#define M_CLASSES 44
#define M_TOOL_VERSION 48

/* SITES entry */
#define SITE_SIZE 144
#define S_ID 0
#define S_CALLS 8
#define S_BYTES 16
#define S_SAMPLES 24
#define S_SAMPLED_BYTES 32
#define S_HISTOGRAM 40 /* 8 x u64 */
#define S_FUNCTION 104
#define S_FILE 108
#define S_INLINED_AT 112
#define S_LINE 116
#define S_COLUMN 120
#define S_LINE_OFFSET 124
#define S_KIND 128
#define S_SITE_FLAGS 130
#define S_CLASS 132 /* u8 */
#define S_FLAGS 133 /* u8 */
#define S_FIRST_CONTEXT 136
#define S_CONTEXT_COUNT 140

/* CONTEXTS entry */
#define CONTEXT_SIZE 128
#define C_ID 0
#define C_SITE_ID 8
#define C_SAMPLES 16
#define C_CALLS 24
#define C_BYTES 32
#define C_SAMPLED_BYTES 40
#define C_HISTOGRAM 48 /* 8 x u64 */
#define C_FIRST_FRAME 112
#define C_FRAME_COUNT 116
#define C_CLASS 120 /* u8 */
#define C_FLAGS 121 /* u8 */

/* FRAMES entry */
#define FRAME_SIZE 24
#define F_FUNCTION 0
#define F_FILE 4
#define F_LINE 8
#define F_COLUMN 12
#define F_LINE_OFFSET 16
#define F_FLAGS 20

/* ---- lifetime classes ---- */

unsigned llama_class_of_histogram(const uint64_t histogram[LLAMA_HIST_SIZE],
                                  uint32_t quantile_ppm) {
  __extension__ typedef unsigned __int128 u128;
  u128 total = 0;
  for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++)
    total += histogram[k];
  if (total == 0)
    return LLAMA_IDX_NO_CLASS;
  u128 need = total * quantile_ppm; /* compare cum * 10^6 >= need */
  u128 cum = 0;
  for (unsigned k = 0; k < LLAMA_NUM_CLASSES - 1; k++) {
    cum += histogram[k];
    if (cum * 1000000u >= need)
      return k;
  }
  return LLAMA_NUM_CLASSES - 1;
}

const char *llama_alloc_kind_name(unsigned kind) {
  switch (kind) {
#define LLAMA_X(k, value, short_name, symbol, dealloc)                                             \
  case value:                                                                                      \
    return #short_name;
    LLAMA_ALLOC_FUNCTIONS(LLAMA_X)
#undef LLAMA_X
  default:
    return NULL;
  }
}

int llama_alloc_kind_is_dealloc(unsigned kind) {
  switch (kind) {
#define LLAMA_X(k, value, short_name, symbol, dealloc)                                             \
  case value:                                                                                      \
    return dealloc;
    LLAMA_ALLOC_FUNCTIONS(LLAMA_X)
#undef LLAMA_X
  default:
    return 0;
  }
}

int llama_idx_has_magic(const void *buf, size_t len) {
  return len >= sizeof(LLAMA_IDX_MAGIC) - 1 &&
         memcmp(buf, LLAMA_IDX_MAGIC, sizeof(LLAMA_IDX_MAGIC) - 1) == 0;
}

/* ==================================================================== */
/* Reader                                                                */
/* ==================================================================== */

struct llama_idx {
  struct llama_idx_meta meta;
  struct llama_idx_site *sites;
  size_t site_count;
  struct llama_idx_context *contexts;
  size_t context_count;
  struct llama_idx_frame *frames;
  size_t frame_count;
  char *strings; /* copy of the STRINGS section; every string points here */
  size_t strings_size;
};

struct section {
  int present;
  uint32_t entry_size;
  uint64_t count;
  uint64_t offset;
  uint64_t size;
};

struct reader {
  const unsigned char *buf;
  size_t len;
  const char *name;
  char *err;
  size_t errlen;
  struct llama_idx *idx;
};

static const char *idx_section_name(uint32_t kind) {
  switch (kind) {
  case SEC_STRINGS:
    return "STRINGS";
  case SEC_META:
    return "META";
  case SEC_SITES:
    return "SITES";
  case SEC_CONTEXTS:
    return "CONTEXTS";
  case SEC_FRAMES:
    return "FRAMES";
  default:
    return "unknown";
  }
}

/* Resolves a string offset; NULL (with an error) if out of range. */
static const char *get_string(struct reader *rd, uint32_t offset, const char *entry, uint64_t index,
                              const char *field) {
  if (offset >= rd->idx->strings_size) {
    llama_errorf(rd->err, rd->errlen, rd->name,
                 "%s %llu: %s: string offset %u is outside the %zu-byte string table", entry,
                 (unsigned long long)index, field, offset, rd->idx->strings_size);
    return NULL;
  }
  return rd->idx->strings + offset;
}

static int check_class(struct reader *rd, unsigned cls, const char *what, uint64_t index) {
  if (cls < LLAMA_NUM_CLASSES || cls == LLAMA_IDX_NO_CLASS)
    return 0;
  return llama_errorf(rd->err, rd->errlen, rd->name, "%s %llu: bad lifetime class %u", what,
                      (unsigned long long)index, cls);
}

static int check_histogram(struct reader *rd, const uint64_t *h, uint64_t samples, unsigned cls,
                           const char *what, uint64_t index) {
  uint64_t sum = 0;
  for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++)
    sum += h[k];
  if (sum != samples)
    return llama_errorf(
        rd->err, rd->errlen, rd->name, "%s %llu: histogram sums to %llu, but samples is %llu", what,
        (unsigned long long)index, (unsigned long long)sum, (unsigned long long)samples);
  if ((samples == 0) != (cls == LLAMA_IDX_NO_CLASS))
    return llama_errorf(rd->err, rd->errlen, rd->name,
                        "%s %llu: lifetime class %u does not match %llu samples", what,
                        (unsigned long long)index, cls, (unsigned long long)samples);
  return check_class(rd, cls, what, index);
}

static int read_frames(struct reader *rd, const struct section *sec) {
  struct llama_idx *idx = rd->idx;
  idx->frame_count = (size_t)sec->count;
  if (!sec->count)
    return 0;
  idx->frames = calloc(idx->frame_count, sizeof *idx->frames);
  if (!idx->frames)
    return llama_errorf(rd->err, rd->errlen, rd->name, "out of memory");
  for (size_t i = 0; i < idx->frame_count; i++) {
    const unsigned char *e = rd->buf + sec->offset + i * sec->entry_size;
    struct llama_idx_frame *f = &idx->frames[i];
    f->function = get_string(rd, llama_ld32(e + F_FUNCTION), "frame", i, "function");
    f->file = f->function ? get_string(rd, llama_ld32(e + F_FILE), "frame", i, "file") : NULL;
    if (!f->file)
      return -1;
    f->line = llama_ld32(e + F_LINE);
    f->column = llama_ld32(e + F_COLUMN);
    f->line_offset = llama_ld32(e + F_LINE_OFFSET);
    f->flags = llama_ld32(e + F_FLAGS);
  }
  return 0;
}

static int read_contexts(struct reader *rd, const struct section *sec) {
  struct llama_idx *idx = rd->idx;
  idx->context_count = (size_t)sec->count;
  if (!sec->count)
    return 0;
  idx->contexts = calloc(idx->context_count, sizeof *idx->contexts);
  if (!idx->contexts)
    return llama_errorf(rd->err, rd->errlen, rd->name, "out of memory");
  for (size_t i = 0; i < idx->context_count; i++) {
    const unsigned char *e = rd->buf + sec->offset + i * sec->entry_size;
    struct llama_idx_context *c = &idx->contexts[i];
    c->context_id = llama_ld64(e + C_ID);
    c->site_id = llama_ld64(e + C_SITE_ID);
    c->samples = llama_ld64(e + C_SAMPLES);
    c->calls = llama_ld64(e + C_CALLS);
    c->bytes = llama_ld64(e + C_BYTES);
    c->sampled_bytes = llama_ld64(e + C_SAMPLED_BYTES);
    for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++)
      c->histogram[k] = llama_ld64(e + C_HISTOGRAM + 8 * k);
    c->lifetime_class = e[C_CLASS];
    c->flags = e[C_FLAGS];
    uint32_t first = llama_ld32(e + C_FIRST_FRAME);
    c->frame_count = llama_ld32(e + C_FRAME_COUNT);
    if ((uint64_t)first + c->frame_count > idx->frame_count)
      return llama_errorf(rd->err, rd->errlen, rd->name,
                          "context %zu: frames [%u, %llu) are outside the %zu frames of FRAMES", i,
                          first, (unsigned long long)first + c->frame_count, idx->frame_count);
    c->frames = c->frame_count ? idx->frames + first : NULL;
    if (check_histogram(rd, c->histogram, c->samples, c->lifetime_class, "context", i))
      return -1;
  }
  return 0;
}

static int read_sites(struct reader *rd, const struct section *sec) {
  struct llama_idx *idx = rd->idx;
  idx->site_count = (size_t)sec->count;
  if (!sec->count)
    return 0;
  idx->sites = calloc(idx->site_count, sizeof *idx->sites);
  if (!idx->sites)
    return llama_errorf(rd->err, rd->errlen, rd->name, "out of memory");
  for (size_t i = 0; i < idx->site_count; i++) {
    const unsigned char *e = rd->buf + sec->offset + i * sec->entry_size;
    struct llama_idx_site *s = &idx->sites[i];
    s->site_id = llama_ld64(e + S_ID);
    if (i > 0 && s->site_id <= idx->sites[i - 1].site_id)
      return llama_errorf(rd->err, rd->errlen, rd->name,
                          "SITES section: site %zu (0x%016llx) is out of order or a duplicate", i,
                          (unsigned long long)s->site_id);
    s->calls = llama_ld64(e + S_CALLS);
    s->bytes = llama_ld64(e + S_BYTES);
    s->samples = llama_ld64(e + S_SAMPLES);
    s->sampled_bytes = llama_ld64(e + S_SAMPLED_BYTES);
    for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++)
      s->histogram[k] = llama_ld64(e + S_HISTOGRAM + 8 * k);
    s->function = get_string(rd, llama_ld32(e + S_FUNCTION), "site", i, "function");
    if (!s->function)
      return -1;
    s->file = get_string(rd, llama_ld32(e + S_FILE), "site", i, "file");
    if (!s->file)
      return -1;
    s->inlined_at = get_string(rd, llama_ld32(e + S_INLINED_AT), "site", i, "inlined_at");
    if (!s->inlined_at)
      return -1;
    s->line = llama_ld32(e + S_LINE);
    s->column = llama_ld32(e + S_COLUMN);
    s->line_offset = llama_ld32(e + S_LINE_OFFSET);
    s->kind = llama_ld16(e + S_KIND);
    s->site_flags = llama_ld16(e + S_SITE_FLAGS);
    s->lifetime_class = e[S_CLASS];
    s->flags = e[S_FLAGS];
    if (check_histogram(rd, s->histogram, s->samples, s->lifetime_class, "site", i))
      return -1;
    uint32_t first = llama_ld32(e + S_FIRST_CONTEXT);
    s->context_count = llama_ld32(e + S_CONTEXT_COUNT);
    if ((uint64_t)first + s->context_count > idx->context_count)
      return llama_errorf(rd->err, rd->errlen, rd->name,
                          "site %zu: contexts [%u, %llu) are outside the %zu contexts of CONTEXTS",
                          i, first, (unsigned long long)first + s->context_count,
                          idx->context_count);
    s->contexts = s->context_count ? idx->contexts + first : NULL;
    for (uint32_t c = 0; c < s->context_count; c++) {
      const struct llama_idx_context *ctx = &s->contexts[c];
      if (ctx->site_id != s->site_id)
        return llama_errorf(rd->err, rd->errlen, rd->name,
                            "site %zu (0x%016llx): context %u belongs to site 0x%016llx", i,
                            (unsigned long long)s->site_id, first + c,
                            (unsigned long long)ctx->site_id);
      if (c > 0 && ctx->context_id <= s->contexts[c - 1].context_id)
        return llama_errorf(rd->err, rd->errlen, rd->name,
                            "site %zu: context %u is out of order or a duplicate", i, first + c);
    }
  }
  return 0;
}

static int read_meta(struct reader *rd, const struct section *sec) {
  if (sec->count != 1)
    return llama_errorf(rd->err, rd->errlen, rd->name, "META section: has %llu entries, expected 1",
                        (unsigned long long)sec->count);
  const unsigned char *e = rd->buf + sec->offset;
  struct llama_idx_meta *m = &rd->idx->meta;
  m->sample_period = llama_ld64(e + M_SAMPLE_PERIOD);
  m->profile_count = llama_ld64(e + M_PROFILES);
  m->total_samples = llama_ld64(e + M_SAMPLES);
  m->total_calls = llama_ld64(e + M_CALLS);
  m->total_bytes = llama_ld64(e + M_BYTES);
  m->quantile_ppm = llama_ld32(e + M_QUANTILE);
  m->class_count = llama_ld32(e + M_CLASSES);
  if (m->class_count != LLAMA_NUM_CLASSES)
    return llama_errorf(rd->err, rd->errlen, rd->name,
                        "META section: %u lifetime classes, this reader knows %d", m->class_count,
                        LLAMA_NUM_CLASSES);
  if (m->quantile_ppm > 1000000)
    return llama_errorf(rd->err, rd->errlen, rd->name, "META section: bad quantile %u ppm",
                        m->quantile_ppm);
  m->tool_version = get_string(rd, llama_ld32(e + M_TOOL_VERSION), "META entry", 0, "tool_version");
  return m->tool_version ? 0 : -1;
}

static int read_strings(struct reader *rd, const struct section *sec) {
  struct llama_idx *idx = rd->idx;
  if (sec->size == 0 || rd->buf[sec->offset] != 0 || rd->buf[sec->offset + sec->size - 1] != 0)
    return llama_errorf(rd->err, rd->errlen, rd->name,
                        "STRINGS section: must start and end with a NUL byte");
  idx->strings_size = (size_t)sec->size;
  idx->strings = malloc(idx->strings_size);
  if (!idx->strings)
    return llama_errorf(rd->err, rd->errlen, rd->name, "out of memory");
  memcpy(idx->strings, rd->buf + sec->offset, idx->strings_size);
  return 0;
}

/* Minimum entry size of each known section kind in this version. */
static uint32_t min_entry(uint32_t kind) {
  switch (kind) {
  case SEC_META:
    return META_SIZE;
  case SEC_SITES:
    return SITE_SIZE;
  case SEC_CONTEXTS:
    return CONTEXT_SIZE;
  case SEC_FRAMES:
    return FRAME_SIZE;
  default:
    return 0;
  }
}

static int read_index(struct reader *rd) {
  const unsigned char *buf = rd->buf;
  size_t len = rd->len;
  const size_t magic_len = sizeof(LLAMA_IDX_MAGIC) - 1;
  if (len == 0)
    return llama_errorf(rd->err, rd->errlen, rd->name, "empty file");
  if (memcmp(buf, LLAMA_IDX_MAGIC, len < magic_len ? len : magic_len) != 0)
    return llama_errorf(rd->err, rd->errlen, rd->name,
                        "not an indexed profile (bad magic, expected \"%s\")", LLAMA_IDX_MAGIC);
  if (len < HEADER_SIZE)
    return llama_errorf(rd->err, rd->errlen, rd->name,
                        "truncated header: needs %d bytes, %zu in file", HEADER_SIZE, len);
  uint32_t version = llama_ld32(buf + H_VERSION);
  uint32_t compat = llama_ld32(buf + H_COMPAT);
  if (version == 0 || compat == 0 || compat > version)
    return llama_errorf(rd->err, rd->errlen, rd->name, "bad version %u (compatible with %u)",
                        version, compat);
  if (compat > LLAMA_IDX_VERSION)
    return llama_errorf(rd->err, rd->errlen, rd->name,
                        "indexed profile version %u needs a reader of version %u or newer; "
                        "this one reads up to version %d",
                        version, compat, LLAMA_IDX_VERSION);
  rd->idx->meta.version = version;
  uint32_t header_size = llama_ld32(buf + H_HEADER_SIZE);
  uint32_t section_count = llama_ld32(buf + H_SECTION_COUNT);
  uint64_t table = llama_ld64(buf + H_TABLE_OFFSET);
  uint64_t file_size = llama_ld64(buf + H_FILE_SIZE);
  if (file_size > len)
    return llama_errorf(rd->err, rd->errlen, rd->name,
                        "truncated file: header says %llu bytes, file has %zu",
                        (unsigned long long)file_size, len);
  if (file_size < len)
    return llama_errorf(rd->err, rd->errlen, rd->name,
                        "%llu bytes of trailing data after the %llu bytes the header declares",
                        (unsigned long long)(len - file_size), (unsigned long long)file_size);
  if (header_size < HEADER_SIZE || header_size > len)
    return llama_errorf(rd->err, rd->errlen, rd->name, "bad header size %u", header_size);
  if (table < header_size || table % 8 || table > len ||
      section_count > (len - table) / SECTION_ENTRY_SIZE)
    return llama_errorf(rd->err, rd->errlen, rd->name,
                        "section table (%u entries at offset %llu) is outside the file",
                        section_count, (unsigned long long)table);

  struct section known[SEC_FRAMES + 1];
  memset(known, 0, sizeof known);
  for (uint32_t i = 0; i < section_count; i++) {
    const unsigned char *t = buf + table + (size_t)i * SECTION_ENTRY_SIZE;
    uint32_t kind = llama_ld32(t + T_KIND);
    struct section s = {1, llama_ld32(t + T_ENTRY_SIZE), llama_ld64(t + T_COUNT),
                        llama_ld64(t + T_OFFSET), llama_ld64(t + T_SIZE)};
    const char *sname = idx_section_name(kind);
    if (s.offset % 8 || s.offset > len || s.size > len - s.offset)
      return llama_errorf(rd->err, rd->errlen, rd->name,
                          "%s section (kind %u): %llu bytes at offset %llu are outside the "
                          "%zu-byte file",
                          sname, kind, (unsigned long long)s.size, (unsigned long long)s.offset,
                          len);
    if (kind < SEC_STRINGS || kind > SEC_FRAMES)
      continue; /* a newer writer's section: skip it */
    if (known[kind].present)
      return llama_errorf(rd->err, rd->errlen, rd->name, "%s section appears twice", sname);
    uint32_t min = min_entry(kind);
    if (min) {
      if (s.entry_size < min || s.entry_size % 8)
        return llama_errorf(rd->err, rd->errlen, rd->name,
                            "%s section: entry size %u (this version needs at least %u, a "
                            "multiple of 8)",
                            sname, s.entry_size, min);
      if (s.count > s.size / s.entry_size)
        return llama_errorf(rd->err, rd->errlen, rd->name,
                            "truncated %s section: %llu entries of %u bytes need %llu bytes, "
                            "%llu in section",
                            sname, (unsigned long long)s.count, s.entry_size,
                            (unsigned long long)s.count * s.entry_size, (unsigned long long)s.size);
      if (s.count > UINT32_MAX)
        return llama_errorf(rd->err, rd->errlen, rd->name, "%s section: too many entries", sname);
    }
    known[kind] = s;
  }
  for (uint32_t kind = SEC_STRINGS; kind <= SEC_FRAMES; kind++)
    if (!known[kind].present)
      return llama_errorf(rd->err, rd->errlen, rd->name, "missing %s section",
                          idx_section_name(kind));
  /* Dependencies first: strings, then frames, contexts, sites. */
  if (read_strings(rd, &known[SEC_STRINGS]) || read_meta(rd, &known[SEC_META]) ||
      read_frames(rd, &known[SEC_FRAMES]) || read_contexts(rd, &known[SEC_CONTEXTS]) ||
      read_sites(rd, &known[SEC_SITES]))
    return -1;
  return 0;
}

struct llama_idx *llama_idx_parse(const void *buf, size_t len, const char *name, char *err,
                                  size_t errlen) {
  if (err && errlen)
    err[0] = 0;
  struct llama_idx *idx = calloc(1, sizeof *idx);
  if (!idx) {
    llama_errorf(err, errlen, name, "out of memory");
    return NULL;
  }
  struct reader rd = {buf, len, name, err, errlen, idx};
  if ((!buf && len) || read_index(&rd)) {
    if (!buf && len)
      llama_errorf(err, errlen, name, "no buffer");
    llama_idx_free(idx);
    return NULL;
  }
  return idx;
}

void llama_idx_free(struct llama_idx *idx) {
  if (!idx)
    return;
  free(idx->sites);
  free(idx->contexts);
  free(idx->frames);
  free(idx->strings);
  free(idx);
}

const struct llama_idx_meta *llama_idx_get_meta(const struct llama_idx *idx) { return &idx->meta; }

size_t llama_idx_site_count(const struct llama_idx *idx) { return idx->site_count; }

size_t llama_idx_context_count(const struct llama_idx *idx) { return idx->context_count; }

const struct llama_idx_site *llama_idx_site_at(const struct llama_idx *idx, size_t i) {
  return i < idx->site_count ? &idx->sites[i] : NULL;
}

const struct llama_idx_site *llama_idx_find_site(const struct llama_idx *idx, uint64_t site_id) {
  size_t lo = 0, hi = idx->site_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    uint64_t id = idx->sites[mid].site_id;
    if (id == site_id)
      return &idx->sites[mid];
    if (id < site_id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

const struct llama_idx_context *llama_idx_find_context(const struct llama_idx *idx,
                                                       uint64_t site_id, uint64_t context_id) {
  const struct llama_idx_site *s = llama_idx_find_site(idx, site_id);
  if (!s)
    return NULL;
  size_t lo = 0, hi = s->context_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    uint64_t id = s->contexts[mid].context_id;
    if (id == context_id)
      return &s->contexts[mid];
    if (id < context_id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

struct llama_idx *llama_idx_read_file(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    llama_errorf(err, errlen, path, "cannot open: %s", strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, len = 0;
  unsigned char *buf = malloc(cap);
  while (buf) {
    if (len == cap) {
      unsigned char *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
      if (!bigger) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = bigger;
      cap *= 2;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0)
      break;
  }
  int failed = ferror(f);
  int saved = errno;
  fclose(f);
  if (!buf) {
    llama_errorf(err, errlen, path, "out of memory");
    return NULL;
  }
  if (failed) {
    free(buf);
    llama_errorf(err, errlen, path, "read error: %s", strerror(saved));
    return NULL;
  }
  struct llama_idx *idx = llama_idx_parse(buf, len, path, err, errlen);
  free(buf);
  return idx;
}

/* ==================================================================== */
/* Writer                                                                */
/* ==================================================================== */

/* String table under construction: interned, offsets stable. */
struct strtab {
  char *data;
  size_t size, cap;
  uint32_t *slots; /* offset + 1 of each interned string, 0 = empty slot */
  size_t slot_count, used;
};

static uint64_t string_hash(const char *s) {
  return llama_hash_bytes(LLAMA_HASH_INIT, s, strlen(s));
}

static int strtab_grow_slots(struct strtab *t) {
  size_t count = t->slot_count ? t->slot_count * 2 : 1024;
  uint32_t *slots = calloc(count, sizeof *slots);
  if (!slots)
    return -1;
  for (size_t i = 0; i < t->slot_count; i++) {
    if (!t->slots[i])
      continue;
    size_t j = string_hash(t->data + t->slots[i] - 1) & (count - 1);
    while (slots[j])
      j = (j + 1) & (count - 1);
    slots[j] = t->slots[i];
  }
  free(t->slots);
  t->slots = slots;
  t->slot_count = count;
  return 0;
}

/* Offset of s in the table (added if new), or -1 on out of memory / overflow. */
static int64_t strtab_add(struct strtab *t, const char *s) {
  if (!s || !*s)
    return 0;
  if (2 * (t->used + 1) > t->slot_count && strtab_grow_slots(t))
    return -1;
  size_t j = string_hash(s) & (t->slot_count - 1);
  while (t->slots[j]) {
    if (strcmp(t->data + t->slots[j] - 1, s) == 0)
      return t->slots[j] - 1;
    j = (j + 1) & (t->slot_count - 1);
  }
  size_t n = strlen(s) + 1;
  if (t->size + n >= UINT32_MAX)
    return -1;
  if (t->size + n > t->cap) {
    size_t cap = t->cap ? t->cap : 4096;
    while (cap < t->size + n)
      cap *= 2;
    char *data = realloc(t->data, cap);
    if (!data)
      return -1;
    t->data = data;
    t->cap = cap;
  }
  uint32_t offset = (uint32_t)t->size;
  memcpy(t->data + t->size, s, n);
  t->size += n;
  t->slots[j] = offset + 1;
  t->used++;
  return offset;
}

static void strtab_free(struct strtab *t) {
  free(t->data);
  free(t->slots);
}

/* Frame runs already written, by address and length: contexts that share
 * their frames in memory (merge gives every context of one stack the same
 * array) share them in the file too. */
struct frame_runs {
  struct frame_run {
    const struct llama_idx_frame *frames;
    uint32_t count, first;
  } * slots;
  size_t slot_count, used;
};

static size_t frame_run_hash(const struct llama_idx_frame *frames, uint32_t count, size_t mask) {
  uint64_t h = (uint64_t)(uintptr_t)frames * UINT64_C(0x9e3779b97f4a7c15) ^ count;
  return (size_t)(h ^ (h >> 29)) & mask;
}

/* The index of the run's first frame if written before, else UINT32_MAX. */
static uint32_t frame_run_find(const struct frame_runs *t, const struct llama_idx_frame *frames,
                               uint32_t count) {
  if (!t->slot_count)
    return UINT32_MAX;
  size_t i = frame_run_hash(frames, count, t->slot_count - 1);
  for (; t->slots[i].frames; i = (i + 1) & (t->slot_count - 1))
    if (t->slots[i].frames == frames && t->slots[i].count == count)
      return t->slots[i].first;
  return UINT32_MAX;
}

static int frame_run_add(struct frame_runs *t, const struct llama_idx_frame *frames, uint32_t count,
                         uint32_t first) {
  if (2 * (t->used + 1) > t->slot_count) {
    size_t n = t->slot_count ? t->slot_count * 2 : 1024;
    struct frame_run *slots = calloc(n, sizeof *slots);
    if (!slots)
      return -1;
    for (size_t i = 0; i < t->slot_count; i++) {
      if (!t->slots[i].frames)
        continue;
      size_t j = frame_run_hash(t->slots[i].frames, t->slots[i].count, n - 1);
      while (slots[j].frames)
        j = (j + 1) & (n - 1);
      slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->slot_count = n;
  }
  size_t i = frame_run_hash(frames, count, t->slot_count - 1);
  while (t->slots[i].frames)
    i = (i + 1) & (t->slot_count - 1);
  t->slots[i] = (struct frame_run){frames, count, first};
  t->used++;
  return 0;
}

static int compare_site_ptr(const void *a, const void *b) {
  const struct llama_idx_site *x = *(const struct llama_idx_site *const *)a;
  const struct llama_idx_site *y = *(const struct llama_idx_site *const *)b;
  return x->site_id < y->site_id ? -1 : x->site_id > y->site_id;
}

static int compare_context_ptr(const void *a, const void *b) {
  const struct llama_idx_context *x = *(const struct llama_idx_context *const *)a;
  const struct llama_idx_context *y = *(const struct llama_idx_context *const *)b;
  return x->context_id < y->context_id ? -1 : x->context_id > y->context_id;
}

static uint64_t align8(uint64_t n) { return (n + 7) & ~(uint64_t)7; }

/* Interns s and stores its offset at p; -1 on failure. */
static int put_string(struct strtab *t, unsigned char *p, const char *s) {
  int64_t off = strtab_add(t, s);
  if (off < 0)
    return -1;
  llama_st32(p, (uint32_t)off);
  return 0;
}

int llama_idx_serialize(const struct llama_idx_meta *meta, const struct llama_idx_site *sites,
                        size_t site_count, void **out, size_t *out_len, char *err, size_t errlen) {
  const char *name = "indexed profile";
  *out = NULL;
  *out_len = 0;
  int rc = -1;
  struct strtab strings = {0};
  struct frame_runs runs = {0};
  const struct llama_idx_site **order = NULL;
  const struct llama_idx_context **ctx_order = NULL;
  unsigned char *sites_buf = NULL, *contexts_buf = NULL, *frames_buf = NULL, *file = NULL;

  /* The string table starts with "" so that offset 0 is the empty string. */
  strings.data = malloc(4096);
  if (!strings.data)
    goto oom;
  strings.data[0] = 0;
  strings.size = 1;
  strings.cap = 4096;

  order = malloc((site_count ? site_count : 1) * sizeof *order);
  if (!order)
    goto oom;
  uint64_t context_total = 0, frame_total = 0;
  for (size_t i = 0; i < site_count; i++) {
    order[i] = &sites[i];
    context_total += sites[i].context_count;
    for (uint32_t c = 0; c < sites[i].context_count; c++)
      frame_total += sites[i].contexts[c].frame_count;
  }
  if (site_count > UINT32_MAX || context_total > UINT32_MAX || frame_total > UINT32_MAX) {
    llama_errorf(err, errlen, name, "too many sites, contexts or frames");
    goto out;
  }
  qsort(order, site_count, sizeof *order, compare_site_ptr);
  for (size_t i = 1; i < site_count; i++) {
    if (order[i]->site_id == order[i - 1]->site_id) {
      llama_errorf(err, errlen, name, "site 0x%016llx appears twice",
                   (unsigned long long)order[i]->site_id);
      goto out;
    }
  }

  sites_buf = calloc(site_count ? site_count : 1, SITE_SIZE);
  contexts_buf = calloc(context_total ? context_total : 1, CONTEXT_SIZE);
  frames_buf = calloc(frame_total ? frame_total : 1, FRAME_SIZE);
  if (!sites_buf || !contexts_buf || !frames_buf)
    goto oom;

  uint32_t next_context = 0, next_frame = 0;
  for (size_t i = 0; i < site_count; i++) {
    const struct llama_idx_site *s = order[i];
    unsigned char *e = sites_buf + i * SITE_SIZE;
    llama_st64(e + S_ID, s->site_id);
    llama_st64(e + S_CALLS, s->calls);
    llama_st64(e + S_BYTES, s->bytes);
    llama_st64(e + S_SAMPLES, s->samples);
    llama_st64(e + S_SAMPLED_BYTES, s->sampled_bytes);
    for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++)
      llama_st64(e + S_HISTOGRAM + 8 * k, s->histogram[k]);
    if (put_string(&strings, e + S_FUNCTION, s->function) ||
        put_string(&strings, e + S_FILE, s->file) ||
        put_string(&strings, e + S_INLINED_AT, s->inlined_at))
      goto oom;
    llama_st32(e + S_LINE, s->line);
    llama_st32(e + S_COLUMN, s->column);
    llama_st32(e + S_LINE_OFFSET, s->line_offset);
    llama_st16(e + S_KIND, s->kind);
    llama_st16(e + S_SITE_FLAGS, s->site_flags);
    e[S_CLASS] = (unsigned char)s->lifetime_class;
    e[S_FLAGS] = (unsigned char)s->flags;
    llama_st32(e + S_FIRST_CONTEXT, next_context);
    llama_st32(e + S_CONTEXT_COUNT, s->context_count);

    free(ctx_order);
    ctx_order = malloc((s->context_count ? s->context_count : 1) * sizeof *ctx_order);
    if (!ctx_order)
      goto oom;
    for (uint32_t c = 0; c < s->context_count; c++)
      ctx_order[c] = &s->contexts[c];
    qsort(ctx_order, s->context_count, sizeof *ctx_order, compare_context_ptr);
    for (uint32_t c = 0; c < s->context_count; c++) {
      const struct llama_idx_context *ctx = ctx_order[c];
      if (c > 0 && ctx->context_id == ctx_order[c - 1]->context_id) {
        llama_errorf(err, errlen, name, "site 0x%016llx: context 0x%016llx appears twice",
                     (unsigned long long)s->site_id, (unsigned long long)ctx->context_id);
        goto out;
      }
      unsigned char *ce = contexts_buf + (size_t)next_context++ * CONTEXT_SIZE;
      llama_st64(ce + C_ID, ctx->context_id);
      llama_st64(ce + C_SITE_ID, s->site_id);
      llama_st64(ce + C_SAMPLES, ctx->samples);
      llama_st64(ce + C_CALLS, ctx->calls);
      llama_st64(ce + C_BYTES, ctx->bytes);
      llama_st64(ce + C_SAMPLED_BYTES, ctx->sampled_bytes);
      for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++)
        llama_st64(ce + C_HISTOGRAM + 8 * k, ctx->histogram[k]);
      llama_st32(ce + C_FRAME_COUNT, ctx->frame_count);
      ce[C_CLASS] = (unsigned char)ctx->lifetime_class;
      ce[C_FLAGS] = (unsigned char)ctx->flags;
      uint32_t shared =
          ctx->frame_count ? frame_run_find(&runs, ctx->frames, ctx->frame_count) : UINT32_MAX;
      if (shared != UINT32_MAX) {
        llama_st32(ce + C_FIRST_FRAME, shared);
        continue;
      }
      llama_st32(ce + C_FIRST_FRAME, next_frame);
      if (ctx->frame_count && frame_run_add(&runs, ctx->frames, ctx->frame_count, next_frame))
        goto oom;
      for (uint32_t f = 0; f < ctx->frame_count; f++) {
        const struct llama_idx_frame *fr = &ctx->frames[f];
        unsigned char *fe = frames_buf + (size_t)next_frame++ * FRAME_SIZE;
        if (put_string(&strings, fe + F_FUNCTION, fr->function) ||
            put_string(&strings, fe + F_FILE, fr->file))
          goto oom;
        llama_st32(fe + F_LINE, fr->line);
        llama_st32(fe + F_COLUMN, fr->column);
        llama_st32(fe + F_LINE_OFFSET, fr->line_offset);
        llama_st32(fe + F_FLAGS, fr->flags);
      }
    }
  }

  unsigned char meta_buf[META_SIZE] = {0};
  llama_st64(meta_buf + M_SAMPLE_PERIOD, meta->sample_period);
  llama_st64(meta_buf + M_PROFILES, meta->profile_count);
  llama_st64(meta_buf + M_SAMPLES, meta->total_samples);
  llama_st64(meta_buf + M_CALLS, meta->total_calls);
  llama_st64(meta_buf + M_BYTES, meta->total_bytes);
  llama_st32(meta_buf + M_QUANTILE, meta->quantile_ppm);
  llama_st32(meta_buf + M_CLASSES, LLAMA_NUM_CLASSES);
  if (put_string(&strings, meta_buf + M_TOOL_VERSION, meta->tool_version))
    goto oom;

  /* Layout: header, table, then the sections in kind order. */
  struct {
    uint32_t kind, entry_size;
    uint64_t count, size;
    const void *data;
  } secs[] = {
      {SEC_STRINGS, 0, strings.used + 1, strings.size, strings.data},
      {SEC_META, META_SIZE, 1, META_SIZE, meta_buf},
      {SEC_SITES, SITE_SIZE, site_count, (uint64_t)site_count * SITE_SIZE, sites_buf},
      {SEC_CONTEXTS, CONTEXT_SIZE, context_total, context_total * CONTEXT_SIZE, contexts_buf},
      {SEC_FRAMES, FRAME_SIZE, next_frame, (uint64_t)next_frame * FRAME_SIZE, frames_buf},
  };
  const uint32_t nsec = sizeof secs / sizeof secs[0];
  uint64_t offsets[sizeof secs / sizeof secs[0]];
  uint64_t pos = HEADER_SIZE + (uint64_t)nsec * SECTION_ENTRY_SIZE;
  for (uint32_t i = 0; i < nsec; i++) {
    offsets[i] = pos;
    pos = align8(pos + secs[i].size);
  }
  if (pos > SIZE_MAX)
    goto oom;
  file = calloc(1, (size_t)pos);
  if (!file)
    goto oom;
  memcpy(file, LLAMA_IDX_MAGIC, 8);
  llama_st32(file + H_VERSION, LLAMA_IDX_VERSION);
  llama_st32(file + H_COMPAT, 1);
  llama_st32(file + H_HEADER_SIZE, HEADER_SIZE);
  llama_st32(file + H_SECTION_COUNT, nsec);
  llama_st64(file + H_TABLE_OFFSET, HEADER_SIZE);
  llama_st64(file + H_FILE_SIZE, pos);
  llama_st64(file + H_FLAGS, 0);
  for (uint32_t i = 0; i < nsec; i++) {
    unsigned char *t = file + HEADER_SIZE + (size_t)i * SECTION_ENTRY_SIZE;
    llama_st32(t + T_KIND, secs[i].kind);
    llama_st32(t + T_ENTRY_SIZE, secs[i].entry_size);
    llama_st64(t + T_COUNT, secs[i].count);
    llama_st64(t + T_OFFSET, offsets[i]);
    llama_st64(t + T_SIZE, secs[i].size);
    if (secs[i].size)
      memcpy(file + offsets[i], secs[i].data, (size_t)secs[i].size);
  }
  *out = file;
  *out_len = (size_t)pos;
  file = NULL;
  rc = 0;
  goto out;
oom:
  llama_errorf(err, errlen, name, "out of memory");
out:
  free(file);
  free(order);
  free(ctx_order);
  free(sites_buf);
  free(contexts_buf);
  free(frames_buf);
  free(runs.slots);
  strtab_free(&strings);
  return rc;
}
