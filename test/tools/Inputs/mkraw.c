/*
 * mkraw.c - test fixture for llama-profdata: writes raw profiles
 * (include/llama/raw_profile.h) with known contents, real ones, and broken ones,
 * and patches indexed profiles. Test-only; compiled by the tests with %cc.
 *
 *   mkraw MODE OUT                 a raw profile (modes below)
 *   mkraw real OUT                 run mkraw_workload() (or a built-in one)
 *                                  through minimal profiler entry points; needs
 *                                  the program built with LlamaPass
 *                                  (-mllvm -llama-generate) and -g; writes real
 *                                  return addresses, the real module map
 *                                  (dl_iterate_phdr) and the pass's sites
 *   mkraw truncate IN OUT LEN      the first LEN bytes of IN
 *   mkraw append IN OUT N          IN plus N zero bytes
 *   mkraw patch IN OUT OFF SIZE V  IN with the SIZE-byte (1, 2, 4, 8) little-endian
 *                                  value V at byte offset OFF
 *   mkraw idxextend IN OUT         an indexed profile plus a section of unknown kind
 *   mkraw idxpatch IN OUT SEC ENTRY FIELD SIZE V
 *                                  an indexed profile with the field at byte
 *                                  FIELD of entry ENTRY of the section in slot
 *                                  SEC of its section table set to V
 *
 * Synthetic modes (all sites have pass-style ids; stacks point into the
 * module /nonexistent/fixture-app at 0x400000-0x500000, bias 0x400000):
 *   basic      make_node/malloc: 10 samples living 1 ms (class 0)
 *              make_table/calloc: 4 samples living 500 ms (class 2)
 *              Cache::create/new (inlined into Cache::get): 2 live samples (class 6)
 *              destroy/free: no samples
 *   second     make_node: 10 samples living 50 ms (class 1), make_table: 2 x 500 ms
 *   quantile   mixed/malloc: 9 samples of 5 ms and 1 of 5 s (class 0 at
 *              --quantile=0.9, 3 at 0.95); split/malloc: two contexts, 5 x 2 ms
 *              and 5 x 50 s (context-dependent)
 *   nostack    basic, plus a sample with stack id 0 and no stack 0
 *   escape     strings with quotes, backslashes, control and non-UTF-8 bytes
 *   buildid    basic, with build id 0xdeadbeef recorded for the module
 *   extra-section  basic plus a section of unknown kind 42 (to be skipped)
 * Broken raw profiles (one problem each):
 *   empty bad-magic short-header newer-version bad-header-size
 *   unaligned-section section-overrun truncated-samples samples-size
 *   dangling-stack duplicate-stack site-string-overrun module-range
 *   trailing-data huge-count truncated-section-header
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama/abi.h"
#include "llama/raw_profile.h"

#ifdef __linux__
#include <elf.h>
#include <execinfo.h>
#include <link.h>
#include <unistd.h>
#endif

/* ---- byte buffer ---- */

struct buf {
  unsigned char *data;
  size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
      cap *= 2;
    unsigned char *data = realloc(b->data, cap);
    if (!data) {
      perror("mkraw");
      exit(2);
    }
    b->data = data;
    b->cap = cap;
  }
  if (p)
    memcpy(b->data + b->len, p, n);
  else
    memset(b->data + b->len, 0, n);
  b->len += n;
}

static void pad(struct buf *b) {
  while (b->len % 8)
    put(b, NULL, 1);
}

static void put_u16(struct buf *b, uint16_t v) {
  unsigned char x[2] = {(unsigned char)v, (unsigned char)(v >> 8)};
  put(b, x, 2);
}

static void put_u32(struct buf *b, uint32_t v) {
  unsigned char x[4];
  for (int i = 0; i < 4; i++)
    x[i] = (unsigned char)(v >> (8 * i));
  put(b, x, 4);
}

static void put_u64(struct buf *b, uint64_t v) {
  put_u32(b, (uint32_t)v);
  put_u32(b, (uint32_t)(v >> 32));
}

static void store(unsigned char *p, uint64_t v, int size) {
  for (int i = 0; i < size; i++)
    p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t load(const unsigned char *p, int size) {
  uint64_t v = 0;
  for (int i = 0; i < size; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}

/* ---- profile description ---- */

#define MAX_ITEMS 4096
#define MAX_DEPTH 64

struct fx_meta {
  const char *key, *value;
};
struct fx_module {
  uint64_t load_bias, start, end;
  unsigned char build_id[64];
  uint32_t build_id_len;
  char path[512];
};
struct fx_site {
  uint64_t id, count, bytes;
  uint32_t line, column, line_offset;
  uint16_t kind, flags;
  const char *function, *file, *inlined_at;
};
struct fx_stack {
  uint32_t id, depth;
  uint64_t pcs[MAX_DEPTH];
};

struct fx_profile {
  uint64_t pid, start_ns, end_ns, sample_period;
  uint32_t flags;
  struct fx_meta meta[16];
  size_t meta_count;
  struct fx_module modules[64];
  size_t module_count;
  struct fx_site sites[MAX_ITEMS];
  size_t site_count;
  struct fx_stack stacks[256];
  size_t stack_count;
  struct llama_raw_sample samples[MAX_ITEMS];
  size_t sample_count;
};

/* Byte offsets of each section header in the serialised profile. */
static size_t section_at[8];

static void section_begin(struct buf *b, uint32_t kind, uint32_t count, size_t *at) {
  *at = b->len;
  section_at[kind] = b->len;
  put_u32(b, kind);
  put_u32(b, count);
  put_u64(b, 0); /* size, fixed up by section_end */
}

static void section_end(struct buf *b, size_t at) { store(b->data + at + 8, b->len - at - 16, 8); }

static void serialize(const struct fx_profile *p, struct buf *b) {
  put(b, LLAMA_RAW_MAGIC, 8);
  put_u32(b, LLAMA_RAW_VERSION);
  put_u32(b, 64);
  put_u64(b, p->pid);
  put_u64(b, p->start_ns);
  put_u64(b, p->end_ns);
  put_u64(b, p->sample_period);
  put_u32(b, 5);
  put_u32(b, p->flags);
  put_u64(b, 0);
  size_t at;

  section_begin(b, LLAMA_RAW_SEC_META, (uint32_t)p->meta_count, &at);
  for (size_t i = 0; i < p->meta_count; i++) {
    put_u32(b, (uint32_t)strlen(p->meta[i].key));
    put_u32(b, (uint32_t)strlen(p->meta[i].value));
    put(b, p->meta[i].key, strlen(p->meta[i].key));
    put(b, p->meta[i].value, strlen(p->meta[i].value));
    pad(b);
  }
  section_end(b, at);

  section_begin(b, LLAMA_RAW_SEC_MODULES, (uint32_t)p->module_count, &at);
  for (size_t i = 0; i < p->module_count; i++) {
    const struct fx_module *m = &p->modules[i];
    put_u64(b, m->load_bias);
    put_u64(b, m->start);
    put_u64(b, m->end);
    put_u32(b, m->build_id_len);
    put_u32(b, (uint32_t)strlen(m->path));
    put(b, m->build_id, m->build_id_len);
    put(b, m->path, strlen(m->path));
    pad(b);
  }
  section_end(b, at);

  section_begin(b, LLAMA_RAW_SEC_SITES, (uint32_t)p->site_count, &at);
  for (size_t i = 0; i < p->site_count; i++) {
    const struct fx_site *s = &p->sites[i];
    put_u64(b, s->id);
    put_u64(b, s->count);
    put_u64(b, s->bytes);
    put_u32(b, s->line);
    put_u32(b, s->column);
    put_u32(b, s->line_offset);
    put_u16(b, s->kind);
    put_u16(b, s->flags);
    put_u32(b, (uint32_t)strlen(s->function));
    put_u32(b, (uint32_t)strlen(s->file));
    put_u32(b, (uint32_t)strlen(s->inlined_at));
    put_u32(b, 0);
    put(b, s->function, strlen(s->function));
    put(b, s->file, strlen(s->file));
    put(b, s->inlined_at, strlen(s->inlined_at));
    pad(b);
  }
  section_end(b, at);

  section_begin(b, LLAMA_RAW_SEC_STACKS, (uint32_t)p->stack_count, &at);
  for (size_t i = 0; i < p->stack_count; i++) {
    put_u32(b, p->stacks[i].id);
    put_u32(b, p->stacks[i].depth);
    for (uint32_t d = 0; d < p->stacks[i].depth; d++)
      put_u64(b, p->stacks[i].pcs[d]);
  }
  section_end(b, at);

  section_begin(b, LLAMA_RAW_SEC_SAMPLES, (uint32_t)p->sample_count, &at);
  for (size_t i = 0; i < p->sample_count; i++) {
    const struct llama_raw_sample *s = &p->samples[i];
    put_u64(b, s->site_id);
    put_u64(b, s->size);
    put_u64(b, s->alloc_ns);
    put_u64(b, s->free_ns);
    put_u64(b, s->free_site_id);
    put_u32(b, s->stack_id);
    put_u32(b, s->alloc_tid);
    put_u32(b, s->free_tid);
    put_u32(b, s->flags);
  }
  section_end(b, at);
}

static uint64_t site_id(const char *function, uint32_t line_offset, uint32_t column,
                        const char *caller, uint32_t caller_offset, uint32_t caller_column) {
  uint64_t h = llama_hash_frame(LLAMA_HASH_INIT, function, strlen(function), line_offset, column);
  if (caller)
    h = llama_hash_frame(h, caller, strlen(caller), caller_offset, caller_column);
  return h;
}

static void add_sample(struct fx_profile *p, uint64_t site, uint64_t size, uint64_t alloc_ns,
                       uint64_t lifetime_ns, uint32_t stack_id, int live) {
  struct llama_raw_sample *s = &p->samples[p->sample_count++];
  memset(s, 0, sizeof *s);
  s->site_id = site;
  s->size = size;
  s->alloc_ns = alloc_ns;
  s->free_ns = live ? LLAMA_RAW_NOT_FREED : alloc_ns + lifetime_ns;
  s->stack_id = stack_id;
  s->alloc_tid = 7;
  s->free_tid = live ? 0 : 7;
  s->flags = live ? LLAMA_RAW_S_LIVE : 0;
}

static void add_stack(struct fx_profile *p, uint32_t id, uint64_t pc0, uint64_t pc1) {
  struct fx_stack *st = &p->stacks[p->stack_count++];
  st->id = id;
  st->depth = 2;
  st->pcs[0] = pc0;
  st->pcs[1] = pc1;
}

#define MS UINT64_C(1000000)

static uint64_t id_node, id_table, id_cache, id_free;

/* The synthetic profile every synthetic mode starts from. */
static void make_basic(struct fx_profile *p, int second) {
  memset(p, 0, sizeof *p);
  p->pid = 4242;
  p->start_ns = 1000;
  p->end_ns = 1000 + 2000 * MS;
  p->sample_period = 1;
  p->meta[p->meta_count++] = (struct fx_meta){"exe", "/nonexistent/fixture-app"};
  p->meta[p->meta_count++] = (struct fx_meta){"cmdline", "fixture-app --run"};
  p->meta[p->meta_count++] = (struct fx_meta){"unwinder", "frame-pointer"};
  struct fx_module *m = &p->modules[p->module_count++];
  m->load_bias = 0x400000;
  m->start = 0x401000;
  m->end = 0x500000;
  snprintf(m->path, sizeof m->path, "/nonexistent/fixture-app");

  id_node = site_id("make_node", 2, 10, NULL, 0, 0);
  id_table = site_id("make_table", 5, 7, NULL, 0, 0);
  id_cache = site_id("_ZN5Cache6createEv", 1, 3, "_ZN5Cache3getEv", 4, 12);
  id_free = site_id("destroy", 3, 5, NULL, 0, 0);
  p->sites[p->site_count++] = (struct fx_site){
      id_node, second ? 500 : 1000, second ? 32000 : 64000, 12, 10, 2, LLAMA_KIND_MALLOC,
      0,       "make_node",         "src/list.c",           ""};
  p->sites[p->site_count++] =
      (struct fx_site){id_table, second ? 100 : 200, 819200,        40, 7, 5, LLAMA_KIND_CALLOC,
                       0,        "make_table",       "src/table.c", ""};
  if (!second) {
    p->sites[p->site_count++] = (struct fx_site){id_cache,
                                                 3,
                                                 3072,
                                                 88,
                                                 3,
                                                 1,
                                                 LLAMA_KIND_NEW,
                                                 LLAMA_SITE_INLINED,
                                                 "_ZN5Cache6createEv",
                                                 "src/cache.cc",
                                                 "_ZN5Cache3getEv:4:12"};
    p->sites[p->site_count++] = (struct fx_site){
        id_free, 1150, 0, 63, 5, 3, LLAMA_KIND_FREE, 0, "destroy", "src/list.c", ""};
  }
  add_stack(p, 1, 0x401234, 0x405678);
  add_stack(p, 2, 0x401300, 0x405678);
  add_stack(p, 3, 0x402000, 0x405700);
  for (int i = 0; i < 10; i++)
    add_sample(p, id_node, 64, 10 * MS * (uint64_t)i, second ? 50 * MS : 1 * MS, 1, 0);
  for (int i = 0; i < (second ? 2 : 4); i++)
    add_sample(p, id_table, 4096, 100 * MS, 500 * MS, 2, 0);
  if (!second)
    for (int i = 0; i < 2; i++)
      add_sample(p, id_cache, 1024, 200 * MS, 0, 3, 1);
}

static void make_quantile(struct fx_profile *p) {
  make_basic(p, 0);
  p->site_count = 0;
  p->sample_count = 0;
  p->stack_count = 0;
  uint64_t mixed = site_id("mixed", 3, 9, NULL, 0, 0), split = site_id("split", 6, 14, NULL, 0, 0);
  p->sites[p->site_count++] =
      (struct fx_site){mixed, 100, 6400, 20, 9, 3, LLAMA_KIND_MALLOC, 0, "mixed", "src/q.c", ""};
  p->sites[p->site_count++] =
      (struct fx_site){split, 40, 1280, 36, 14, 6, LLAMA_KIND_MALLOC, 0, "split", "src/q.c", ""};
  add_stack(p, 10, 0x401400, 0x405800);
  add_stack(p, 11, 0x401500, 0x405900); /* split from its short-lived caller */
  add_stack(p, 12, 0x401500, 0x405a00); /* split from its long-lived caller */
  for (int i = 0; i < 9; i++)
    add_sample(p, mixed, 64, 0, 5 * MS, 10, 0);
  add_sample(p, mixed, 64, 0, 5000 * MS, 10, 0);
  for (int i = 0; i < 5; i++)
    add_sample(p, split, 32, 0, 2 * MS, 11, 0);
  for (int i = 0; i < 5; i++)
    add_sample(p, split, 32, 0, 50000 * MS, 12, 0);
}

static void make_escape(struct fx_profile *p) {
  make_basic(p, 0);
  p->meta[p->meta_count++] = (struct fx_meta){"note", "tab\there \"quoted\" back\\slash \x01 \xff"};
  p->sites[0].function = "weird\"name\\\n\x7f\xc3\xa9\xe2\x82";
  p->sites[0].file = "dir with spaces/\xf0\x9f\x98\x80.c";
}

/* ---- real mode: minimal profiler entry points, used with LlamaPass ---- */

void mkraw_workload(void) __attribute__((weak));

static int recording;
static uint64_t fake_now_ns;
static struct fx_profile *real;
static struct {
  struct llama_site *sites;
  uint64_t count;
} registered[64];
static size_t registered_count;
static void *live_pointers[MAX_ITEMS];

/* The virtual clock the workload advances (lifetimes are then exact). */
void mkraw_advance_ms(uint64_t ms) { fake_now_ns += ms * MS; }

void llama_stub_register(struct llama_site *sites,
                         uint64_t count) __asm__(LLAMA_PROF_REGISTER_SYMBOL);
void llama_stub_register(struct llama_site *sites, uint64_t count) {
  if (registered_count < 64) {
    registered[registered_count].sites = sites;
    registered[registered_count].count = count;
    registered_count++;
  }
}

static void count_site(const struct llama_site *site, uint64_t bytes) {
  struct llama_site *s = (struct llama_site *)site;
  __atomic_fetch_add(&s->count, 1, __ATOMIC_RELAXED);
  __atomic_fetch_add(&s->bytes, bytes, __ATOMIC_RELAXED);
}

__attribute__((noinline)) static void record(void *p, uint64_t size,
                                             const struct llama_site *site) {
  if (!recording || !p || real->sample_count >= MAX_ITEMS)
    return;
  recording = 0;
#ifdef __linux__
  void *frames[MAX_DEPTH + 2];
  int n = backtrace(frames, MAX_DEPTH + 2);
  /* frames[0] is record, frames[1] the entry point, then the caller. */
  struct fx_stack st = {0, 0, {0}};
  for (int i = 2; i < n && st.depth < MAX_DEPTH; i++)
    st.pcs[st.depth++] = (uint64_t)(uintptr_t)frames[i];
  uint32_t id = 0;
  for (size_t i = 0; i < real->stack_count && !id; i++)
    if (real->stacks[i].depth == st.depth &&
        memcmp(real->stacks[i].pcs, st.pcs, st.depth * sizeof st.pcs[0]) == 0)
      id = real->stacks[i].id;
  if (!id && real->stack_count < 256) {
    st.id = id = (uint32_t)real->stack_count + 1;
    real->stacks[real->stack_count++] = st;
  }
  size_t i = real->sample_count;
  live_pointers[i] = p;
  add_sample(real, site->id, size, fake_now_ns, 0, id, 1);
#endif
  recording = 1;
}

static void record_free(void *p, const struct llama_site *site) {
  if (!recording || !p)
    return;
  for (size_t i = real->sample_count; i-- > 0;) {
    if (live_pointers[i] == p) {
      struct llama_raw_sample *s = &real->samples[i];
      s->free_ns = fake_now_ns;
      s->free_site_id = site->id;
      s->free_tid = s->alloc_tid;
      s->flags &= ~LLAMA_RAW_S_LIVE;
      live_pointers[i] = NULL;
      return;
    }
  }
}

void *llama_stub_malloc(size_t n,
                        const struct llama_site *site) __asm__(LLAMA_PROF_ENTRY_PREFIX "malloc");
__attribute__((noinline)) void *llama_stub_malloc(size_t n, const struct llama_site *site) {
  count_site(site, n);
  void *p = malloc(n);
  record(p, n, site);
  return p;
}

void *llama_stub_calloc(size_t c, size_t n,
                        const struct llama_site *site) __asm__(LLAMA_PROF_ENTRY_PREFIX "calloc");
__attribute__((noinline)) void *llama_stub_calloc(size_t c, size_t n,
                                                  const struct llama_site *site) {
  count_site(site, c * n);
  void *p = calloc(c, n);
  record(p, c * n, site);
  return p;
}

void *llama_stub_realloc(void *old, size_t n,
                         const struct llama_site *site) __asm__(LLAMA_PROF_ENTRY_PREFIX "realloc");
__attribute__((noinline)) void *llama_stub_realloc(void *old, size_t n,
                                                   const struct llama_site *site) {
  count_site(site, n);
  return realloc(old, n);
}

void llama_stub_free(void *p,
                     const struct llama_site *site) __asm__(LLAMA_PROF_ENTRY_PREFIX "free");
__attribute__((noinline)) void llama_stub_free(void *p, const struct llama_site *site) {
  count_site(site, 0);
  record_free(p, site);
  free(p);
}

#ifdef __linux__
static int add_module(struct dl_phdr_info *info, size_t size, void *data) {
  struct fx_profile *p = data;
  if (p->module_count >= 64)
    return 0;
  uint64_t lo = UINT64_MAX, hi = 0;
  struct fx_module *m = &p->modules[p->module_count];
  memset(m, 0, sizeof *m);
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
      uint64_t start = info->dlpi_addr + ph->p_vaddr;
      if (start < lo)
        lo = start;
      if (start + ph->p_memsz > hi)
        hi = start + ph->p_memsz;
    }
    if (ph->p_type == PT_NOTE && !m->build_id_len) {
      const unsigned char *note = (const unsigned char *)(info->dlpi_addr + ph->p_vaddr);
      size_t pos = 0;
      while (pos + 12 <= ph->p_memsz) {
        uint32_t namesz = (uint32_t)load(note + pos, 4), descsz = (uint32_t)load(note + pos + 4, 4);
        uint32_t type = (uint32_t)load(note + pos + 8, 4);
        size_t name_at = pos + 12, desc_at = name_at + ((namesz + 3) & ~3u);
        if (type == NT_GNU_BUILD_ID && namesz == 4 && memcmp(note + name_at, "GNU", 4) == 0 &&
            descsz <= sizeof m->build_id) {
          memcpy(m->build_id, note + desc_at, descsz);
          m->build_id_len = descsz;
          break;
        }
        pos = desc_at + ((descsz + 3) & ~3u);
      }
    }
  }
  if (lo >= hi)
    return 0;
  m->load_bias = info->dlpi_addr;
  m->start = lo;
  m->end = hi;
  if (info->dlpi_name && info->dlpi_name[0]) {
    snprintf(m->path, sizeof m->path, "%s", info->dlpi_name);
  } else {
    ssize_t n = readlink("/proc/self/exe", m->path, sizeof m->path - 1);
    m->path[n > 0 ? n : 0] = 0;
  }
  p->module_count++;
  return 0;
}
#endif

/* Built-in workload when the test does not provide mkraw_workload. */
static void *keep;
static void builtin_workload(void) {
  for (int i = 0; i < 3; i++) {
    void *p = malloc(16);
    mkraw_advance_ms(2);
    free(p);
  }
  keep = malloc(100);
}

static void make_real(struct fx_profile *p) {
  memset(p, 0, sizeof *p);
  real = p;
  p->pid = 1;
  p->sample_period = 1;
  p->meta[p->meta_count++] = (struct fx_meta){"unwinder", "backtrace"};
  recording = 1;
  if (mkraw_workload)
    mkraw_workload();
  else
    builtin_workload();
  recording = 0;
  p->end_ns = fake_now_ns + 1;
#ifdef __linux__
  dl_iterate_phdr(add_module, p);
#endif
  for (size_t r = 0; r < registered_count; r++) {
    for (uint64_t i = 0; i < registered[r].count && p->site_count < MAX_ITEMS; i++) {
      const struct llama_site *s = &registered[r].sites[i];
      p->sites[p->site_count++] =
          (struct fx_site){s->id,   s->count, s->bytes,    s->line, s->column,    s->line_offset,
                           s->kind, s->flags, s->function, s->file, s->inlined_at};
    }
  }
  if (!registered_count)
    fprintf(stderr,
            "mkraw: no sites registered: build me with LlamaPass (-mllvm -llama-generate)\n");
}

/* ---- file helpers ---- */

static unsigned char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(2);
  }
  struct buf b = {0};
  unsigned char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    put(&b, chunk, n);
  fclose(f);
  *len = b.len;
  return b.data;
}

static void write_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
    perror(path);
    exit(2);
  }
}

static uint64_t number(const char *s) { return strtoull(s, NULL, 0); }

static struct fx_profile profile;

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: mkraw MODE OUT | truncate|append|patch|idxpatch IN OUT ...\n");
    return 2;
  }
  const char *mode = argv[1];
  if (strcmp(mode, "truncate") == 0 || strcmp(mode, "append") == 0 || strcmp(mode, "patch") == 0 ||
      strcmp(mode, "idxpatch") == 0 || strcmp(mode, "idxextend") == 0) {
    if (argc < 4 || (argc < 5 && strcmp(mode, "idxextend") != 0))
      return 2;
    size_t len;
    unsigned char *data = read_file(argv[2], &len);
    struct buf b = {0};
    put(&b, data, len);
    if (strcmp(mode, "idxextend") == 0) {
      /* A section of a kind no reader knows (99), as a newer writer would
       * add: its payload, then a copy of the section table with one more
       * entry, at the end of the file. */
      uint64_t table = load(b.data + 24, 8), count = load(b.data + 20, 4);
      uint64_t payload = b.len;
      put(&b, "future data, 24 bytes!!", 24);
      uint64_t new_table = b.len;
      put(&b, data + table, 32 * count);
      put_u32(&b, 99);
      put_u32(&b, 8);
      put_u64(&b, 3);
      put_u64(&b, payload);
      put_u64(&b, 24);
      store(b.data + 20, count + 1, 4);
      store(b.data + 24, new_table, 8);
      store(b.data + 32, b.len, 8);
    } else if (strcmp(mode, "truncate") == 0) {
      b.len = number(argv[4]) < len ? number(argv[4]) : len;
    } else if (strcmp(mode, "append") == 0) {
      put(&b, NULL, number(argv[4]));
    } else if (strcmp(mode, "patch") == 0 && argc >= 7) {
      uint64_t off = number(argv[4]);
      int size = (int)number(argv[5]);
      if (off + size > b.len)
        return 2;
      store(b.data + off, number(argv[6]), size);
    } else if (strcmp(mode, "idxpatch") == 0 && argc >= 9) {
      uint64_t sec = number(argv[4]), entry = number(argv[5]), field = number(argv[6]);
      int size = (int)number(argv[7]);
      uint64_t table = load(b.data + 24, 8) + 32 * sec;
      uint64_t entry_size = load(b.data + table + 4, 4), offset = load(b.data + table + 16, 8);
      uint64_t at = offset + entry * entry_size + field;
      if (at + size > b.len)
        return 2;
      store(b.data + at, number(argv[8]), size);
    } else {
      return 2;
    }
    write_file(argv[3], b.data, b.len);
    return 0;
  }

  const char *out = argv[2];
  struct fx_profile *p = &profile;
  struct buf b = {0};
  if (strcmp(mode, "real") == 0) {
    make_real(p);
  } else if (strcmp(mode, "second") == 0) {
    make_basic(p, 1);
  } else if (strcmp(mode, "quantile") == 0) {
    make_quantile(p);
  } else if (strcmp(mode, "escape") == 0) {
    make_escape(p);
  } else {
    make_basic(p, 0);
  }
  if (strcmp(mode, "nostack") == 0)
    add_sample(p, id_node, 64, 0, 1 * MS, 0, 0);
  if (strcmp(mode, "buildid") == 0) {
    static const unsigned char id[] = {0xde, 0xad, 0xbe, 0xef};
    memcpy(p->modules[0].build_id, id, sizeof id);
    p->modules[0].build_id_len = sizeof id;
  }
  if (strcmp(mode, "dangling-stack") == 0)
    p->samples[3].stack_id = 77;
  if (strcmp(mode, "duplicate-stack") == 0)
    p->stacks[1].id = 1;
  if (strcmp(mode, "module-range") == 0)
    p->modules[0].end = 0x1000;
  serialize(p, &b);

  if (strcmp(mode, "empty") == 0) {
    b.len = 0;
  } else if (strcmp(mode, "bad-magic") == 0) {
    memcpy(b.data, "LLAMAXYZ", 8);
  } else if (strcmp(mode, "short-header") == 0) {
    b.len = 40;
  } else if (strcmp(mode, "newer-version") == 0) {
    store(b.data + 8, 99, 4);
  } else if (strcmp(mode, "bad-header-size") == 0) {
    store(b.data + 12, 12, 4);
  } else if (strcmp(mode, "unaligned-section") == 0) {
    store(b.data + section_at[LLAMA_RAW_SEC_META] + 8, 13, 8);
  } else if (strcmp(mode, "section-overrun") == 0) {
    store(b.data + section_at[LLAMA_RAW_SEC_SITES] + 8, UINT64_C(1) << 40, 8);
  } else if (strcmp(mode, "truncated-samples") == 0) {
    b.len = section_at[LLAMA_RAW_SEC_SAMPLES] + 16 + 120;
  } else if (strcmp(mode, "samples-size") == 0) {
    /* count says one sample more than the section holds */
    store(b.data + section_at[LLAMA_RAW_SEC_SAMPLES] + 4, p->sample_count + 1, 4);
  } else if (strcmp(mode, "site-string-overrun") == 0) {
    store(b.data + section_at[LLAMA_RAW_SEC_SITES] + 16 + 40, 100000, 4);
  } else if (strcmp(mode, "trailing-data") == 0) {
    put(&b, "garbage!", 8);
  } else if (strcmp(mode, "huge-count") == 0) {
    store(b.data + section_at[LLAMA_RAW_SEC_STACKS] + 4, UINT32_MAX, 4);
  } else if (strcmp(mode, "extra-section") == 0) {
    /* A section of a kind this reader does not know: skipped. */
    put_u32(&b, 42);
    put_u32(&b, 2);
    put_u64(&b, 16);
    put(&b, "sixteen bytes!!!", 16);
    store(b.data + 48, 6, 4);
  } else if (strcmp(mode, "truncated-section-header") == 0) {
    b.len = section_at[LLAMA_RAW_SEC_MODULES] + 8;
  }
  write_file(out, b.data, b.len);
  return 0;
}
