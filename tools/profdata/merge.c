/*
 * merge.c - `llama-profdata merge`: raw (and indexed) profiles in, one
 * indexed profile out.
 *
 * For each input, in order:
 *  1. raw: add every SITES entry's exact calls and bytes to its site;
 *  2. map each module of the profile to a binary to symbolise (a --binary
 *     override matched by build id, else by file name; else the recorded
 *     path, checked against the recorded build id), warning once per module
 *     that cannot be used;
 *  3. symbolise every return address of every sampled stack that is not in
 *     the cache yet (address - load_bias - 1: the call instruction), through
 *     one llvm-symbolizer process for the whole merge;
 *  4. turn each stack into frames (inlined frames included, innermost first),
 *     put the site's own frames first where the allocation was a tail call
 *     (the stack then starts in the caller; never for an external
 *     pseudo-site, LLAMA_SITE_EXTERNAL, whose stack starts in whatever
 *     called malloc or operator new and which has no frames of its own), hash the frames into a context
 *     id exactly as the pass hashes site ids, and add each sample's lifetime
 *     class to its context's histogram.
 * Indexed inputs add their sites and contexts directly. At the end every
 * context and site gets its class (llama_class_of_histogram), contexts get
 * estimated calls and bytes, and the file is written to a temporary and
 * renamed over the output.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "llama/profdata/indexed.h"
#include "llama/abi.h"
#include "llama/raw_profile.h"
#include "llama/profdata/raw_reader.h"
#include "tool.h"

struct msite {
  uint64_t id, calls, bytes, samples, sampled_bytes;
  uint64_t histogram[LLAMA_HIST_SIZE];
  const char *function, *file, *inlined_at;
  uint32_t line, column, line_offset;
  uint16_t kind, site_flags;
  int registered; /* described by some SITES entry */
};

struct mcontext {
  uint64_t site_id, context_id;
  uint64_t samples, sampled_bytes;
  uint64_t histogram[LLAMA_HIST_SIZE];
  uint32_t first_frame, frame_count; /* into merge.frames */
};

/* Symbolisation result for one (binary, address): frames in symframes. */
struct symentry {
  uint32_t first, count;
};

struct override {
  const char *path;
  const char *base;
  unsigned char build_id[64];
  int build_id_len; /* -1: not a readable ELF file */
};

struct merge {
  const struct merge_options *opt;
  struct intern strings;
  struct symbolizer *sym;

  struct msite *sites;
  size_t site_count, site_cap;
  struct map site_map; /* (site id, 0) */

  struct mcontext *contexts;
  size_t context_count, context_cap;
  struct map context_map; /* (site id, context id) */

  struct llama_idx_frame *frames; /* contexts' frames */
  size_t frame_count, frame_cap;

  struct map sym_map; /* (binary path pointer, address) -> symentry index */
  struct symentry *syms;
  size_t sym_count, sym_cap;
  struct llama_idx_frame *symframes; /* function NULL: no name */
  size_t symframe_count, symframe_cap;

  struct map warned; /* (interned string pointer, kind) */
  struct override *overrides;

  uint64_t sample_period;
  int period_set, period_mixed;
  uint64_t profile_count;

  /* progress of a long symbolisation (0 total: quiet) */
  size_t progress_total, progress_done;

  /* statistics for --verbose */
  uint64_t addresses_symbolised, addresses_unsymbolised;
  uint64_t contexts_matching_site, contexts_completed, contexts_checked;
};

static struct msite *get_site(struct merge *mg, uint64_t id) {
  uint32_t i = map_get(&mg->site_map, id, 0);
  if (i != UINT32_MAX)
    return &mg->sites[i];
  xreserve((void **)&mg->sites, &mg->site_cap, mg->site_count + 1, sizeof *mg->sites);
  struct msite *s = &mg->sites[mg->site_count];
  memset(s, 0, sizeof *s);
  s->id = id;
  s->function = s->file = s->inlined_at = "";
  map_put(&mg->site_map, id, 0, (uint32_t)mg->site_count++);
  return s;
}

static void set_site_description(struct merge *mg, struct msite *s, const char *function,
                                 const char *file, const char *inlined_at, uint32_t line,
                                 uint32_t column, uint32_t line_offset, uint16_t kind,
                                 uint16_t site_flags) {
  s->function = intern(&mg->strings, function);
  s->file = intern(&mg->strings, file);
  s->inlined_at = intern(&mg->strings, inlined_at);
  s->line = line;
  s->column = column;
  s->line_offset = line_offset;
  s->kind = kind;
  s->site_flags = site_flags;
}

/* The context (site_id, context_id); *created tells whether it is new. */
static struct mcontext *get_context(struct merge *mg, uint64_t site_id, uint64_t context_id,
                                    int *created) {
  uint32_t i = map_get(&mg->context_map, site_id, context_id);
  *created = i == UINT32_MAX;
  if (i != UINT32_MAX)
    return &mg->contexts[i];
  xreserve((void **)&mg->contexts, &mg->context_cap, mg->context_count + 1, sizeof *mg->contexts);
  struct mcontext *c = &mg->contexts[mg->context_count];
  memset(c, 0, sizeof *c);
  c->site_id = site_id;
  c->context_id = context_id;
  map_put(&mg->context_map, site_id, context_id, (uint32_t)mg->context_count++);
  return c;
}

static void note_sample_period(struct merge *mg, uint64_t period, const char *name) {
  if (!mg->period_set) {
    mg->sample_period = period;
    mg->period_set = 1;
  } else if (period != mg->sample_period && !mg->period_mixed) {
    tool_warning("%s: sample period %llu differs from %llu of the earlier inputs; the merged "
                 "profile records period 0 (mixed)",
                 name, (unsigned long long)period, (unsigned long long)mg->sample_period);
    mg->period_mixed = 1;
  }
}

/* ---- modules and binaries ---- */

static const char *base_name(const char *path) {
  const char *slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

static void hex(char *out, size_t cap, const unsigned char *id, size_t n) {
  size_t pos = 0;
  for (size_t i = 0; i < n && pos + 3 <= cap; i++)
    pos += (size_t)snprintf(out + pos, cap - pos, "%02x", id[i]);
  if (cap)
    out[pos < cap ? pos : cap - 1] = 0;
}

/* Warns once per (string, kind). */
static int first_warning(struct merge *mg, const char *key, int kind) {
  key = intern(&mg->strings, key);
  if (map_get(&mg->warned, (uint64_t)(uintptr_t)key, (uint64_t)kind) != UINT32_MAX)
    return 0;
  map_put(&mg->warned, (uint64_t)(uintptr_t)key, (uint64_t)kind, 1);
  return 1;
}

static int is_vdso(const char *path) {
  return !*path || strncmp(path, "linux-vdso", 10) == 0 || strncmp(path, "linux-gate", 10) == 0 ||
         strcmp(path, "[vdso]") == 0;
}

/* The binary to symbolise module m with (an interned path), or NULL. */
static const char *resolve_module(struct merge *mg, const struct llama_raw_module_info *m) {
  if (is_vdso(m->path))
    return NULL;
  char want[160], have[160];
  hex(want, sizeof want, m->build_id, m->build_id_len);
  const struct override *by_name = NULL;
  for (size_t i = 0; i < mg->opt->binary_count; i++) {
    const struct override *o = &mg->overrides[i];
    if (m->build_id_len && o->build_id_len == (int)m->build_id_len &&
        memcmp(o->build_id, m->build_id, m->build_id_len) == 0)
      return intern(&mg->strings, o->path);
    if (!by_name && strcmp(o->base, base_name(m->path)) == 0)
      by_name = o;
  }
  const char *candidate = by_name ? by_name->path : m->path;
  if (!by_name && access(candidate, R_OK) != 0) {
    if (first_warning(mg, m->path, 1))
      tool_warning("%s: cannot read this module (%s); its frames stay unsymbolised (use "
                   "--binary=PATH)",
                   m->path, strerror(errno));
    return NULL;
  }
  if (m->build_id_len) {
    unsigned char id[64];
    int n = elf_build_id(candidate, id, sizeof id);
    if (n != (int)m->build_id_len || memcmp(id, m->build_id, m->build_id_len) != 0) {
      if (n > 0)
        hex(have, sizeof have, id, (size_t)n);
      else
        snprintf(have, sizeof have, "%s", n == 0 ? "none" : "not an ELF file");
      if (first_warning(mg, candidate, 2))
        tool_warning("%s: build id mismatch for module %s (profile has %s, file has %s); its "
                     "frames stay unsymbolised",
                     candidate, m->path, want, have);
      return NULL;
    }
  }
  return intern(&mg->strings, candidate);
}

/* ---- symbolisation ---- */

struct pending {
  const char *binary;
  uint64_t *addrs;
  uint32_t *entries;
  size_t count, cap, entry_cap;
};

struct emit_state {
  struct merge *mg;
  const struct pending *pending;
};

static void emit_frames(void *ctx, size_t i, const struct sym_frame *frames, size_t n) {
  struct emit_state *st = ctx;
  struct merge *mg = st->mg;
  struct symentry *e = &mg->syms[st->pending->entries[i]];
  xreserve((void **)&mg->symframes, &mg->symframe_cap, mg->symframe_count + n,
           sizeof *mg->symframes);
  e->first = (uint32_t)mg->symframe_count;
  e->count = (uint32_t)n;
  for (size_t k = 0; k < n; k++) {
    const struct sym_frame *f = &frames[k];
    struct llama_idx_frame *out = &mg->symframes[mg->symframe_count++];
    out->function = f->function; /* NULL: named from module+offset later */
    out->file = f->file ? f->file : "";
    out->line = f->line;
    out->column = f->column;
    /* As the pass computes it: line - first line of the function. */
    out->line_offset = f->line - f->start_line;
    out->flags = k + 1 < n ? LLAMA_IDX_FRAME_INLINED : 0;
  }
  if (n)
    mg->addresses_symbolised++;
  else
    mg->addresses_unsymbolised++;
  if (mg->progress_total && ++mg->progress_done % 50000 == 0)
    tool_note("symbolised %zu of %zu addresses", mg->progress_done, mg->progress_total);
}

struct module_ref {
  const struct llama_raw_module_info *module;
  const char *binary; /* NULL: do not symbolise */
  int instrumented;   /* some sampled stack starts in this module */
};

static int compare_module_ref(const void *a, const void *b) {
  const struct module_ref *x = a, *y = b;
  return x->module->start < y->module->start ? -1 : x->module->start > y->module->start;
}

static const struct module_ref *find_module(const struct module_ref *refs, size_t n, uint64_t pc) {
  /* Last module starting at or below pc; modules may nest, so scan back. */
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (refs[mid].module->start <= pc)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (size_t i = lo; i-- > 0;)
    if (pc >= refs[i].module->start && pc < refs[i].module->end)
      return &refs[i];
  return NULL;
}

/* Symbolisation address of a return address: inside the call instruction. */
static uint64_t call_address(const struct module_ref *ref, uint64_t pc) {
  uint64_t vaddr = pc - ref->module->load_bias;
  return vaddr ? vaddr - 1 : 0;
}

/* Appends the frames of one return address to mg->frames. */
static void append_pc_frames(struct merge *mg, const struct module_ref *ref, uint64_t pc) {
  const struct symentry *e = NULL;
  if (ref && ref->binary) {
    uint32_t i = map_get(&mg->sym_map, (uint64_t)(uintptr_t)ref->binary, call_address(ref, pc));
    if (i != UINT32_MAX && mg->syms[i].count)
      e = &mg->syms[i];
  }
  char fallback[512];
  if (ref)
    snprintf(fallback, sizeof fallback, "%s+0x%llx", base_name(ref->module->path),
             (unsigned long long)(pc - ref->module->load_bias));
  else
    snprintf(fallback, sizeof fallback, "[unknown]+0x%llx", (unsigned long long)pc);
  if (!e) {
    xreserve((void **)&mg->frames, &mg->frame_cap, mg->frame_count + 1, sizeof *mg->frames);
    mg->frames[mg->frame_count++] = (struct llama_idx_frame){
        intern(&mg->strings, fallback), "", 0, 0, 0, LLAMA_IDX_FRAME_UNSYMBOLIZED};
    return;
  }
  xreserve((void **)&mg->frames, &mg->frame_cap, mg->frame_count + e->count, sizeof *mg->frames);
  for (uint32_t k = 0; k < e->count; k++) {
    struct llama_idx_frame f = mg->symframes[e->first + k];
    if (!f.function) {
      f.function = intern(&mg->strings, fallback);
      f.flags |= LLAMA_IDX_FRAME_UNSYMBOLIZED;
    }
    mg->frames[mg->frame_count++] = f;
  }
}

static uint64_t hash_frames(const struct llama_idx_frame *frames, size_t n) {
  uint64_t h = LLAMA_HASH_INIT;
  for (size_t i = 0; i < n; i++)
    h = llama_hash_frame(h, frames[i].function, strlen(frames[i].function), frames[i].line_offset,
                         frames[i].column);
  return h;
}

static void add_to_histogram(uint64_t *histogram, const struct llama_raw_sample_info *s) {
  if ((s->flags & LLAMA_RAW_S_LIVE) || s->free_ns == LLAMA_RAW_NOT_FREED) {
    histogram[LLAMA_HIST_LIVE]++;
    return;
  }
  uint64_t lifetime = s->free_ns >= s->alloc_ns ? s->free_ns - s->alloc_ns : 0;
  histogram[llama_class_of_lifetime_ns(lifetime)]++;
}

enum { SITE_FRAMES_MATCH, SITE_FRAMES_ADDED, SITE_FRAMES_DIFFER, SITE_FRAMES_EXTERNAL };

/* Per stack of one raw profile: its frames in mg->frames, and the context
 * they form for the site of the last sample seen with the stack. */
struct stack_context {
  int used;
  uint32_t depth; /* return addresses kept (outer non-program frames cut) */
  uint32_t first_frame, frame_count; /* the symbolised stack */
  int resolved;
  uint64_t site_id; /* site the fields below were computed for */
  int site_frames;  /* SITE_FRAMES_* */
  uint64_t context_id;
  uint32_t context_first, context_count;
};

/* Number of frames the pass hashed into a site id: the call, then the
 * callers it had been inlined into when the pass ran (inlined_at). */
static size_t site_frame_count(const struct msite *s) {
  size_t n = 1;
  for (const char *p = s->inlined_at; *p; p++)
    n += *p == ';' || p == s->inlined_at;
  return n;
}

/* Appends the frames a site's description implies (its function, then each
 * "f:off:col" of inlined_at) to mg->frames. Returns -1 (appending nothing)
 * if inlined_at cannot be parsed. */
static int append_site_frames(struct merge *mg, const struct msite *s) {
  size_t n = site_frame_count(s), start = mg->frame_count;
  xreserve((void **)&mg->frames, &mg->frame_cap, mg->frame_count + n, sizeof *mg->frames);
  uint32_t inlined = n > 1 ? LLAMA_IDX_FRAME_INLINED : 0;
  mg->frames[mg->frame_count++] =
      (struct llama_idx_frame){s->function, s->file,        s->line,
                               s->column,   s->line_offset, LLAMA_IDX_FRAME_FROM_SITE | inlined};
  const char *p = s->inlined_at;
  while (*p) {
    const char *end = strchr(p, ';');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    /* "function:offset:column", split at the last two colons. */
    const char *c2 = NULL, *c1 = NULL;
    for (const char *q = p + len; q-- > p;) {
      if (*q != ':')
        continue;
      if (!c2)
        c2 = q;
      else {
        c1 = q;
        break;
      }
    }
    if (!c1) {
      mg->frame_count = start;
      return -1;
    }
    char *stop;
    unsigned long offset = strtoul(c1 + 1, &stop, 10);
    if (stop != c2) {
      mg->frame_count = start;
      return -1;
    }
    unsigned long column = strtoul(c2 + 1, &stop, 10);
    if (stop != p + len) {
      mg->frame_count = start;
      return -1;
    }
    const char *function = p;
    p += len + (end != NULL);
    mg->frames[mg->frame_count++] =
        (struct llama_idx_frame){intern_n(&mg->strings, function, (size_t)(c1 - function)),
                                 "",
                                 0,
                                 (uint32_t)column,
                                 (uint32_t)offset,
                                 LLAMA_IDX_FRAME_FROM_SITE | (*p ? LLAMA_IDX_FRAME_INLINED : 0)};
  }
  return 0;
}

/*
 * The context of a sample of site s with stack sc: the stack's frames, or,
 * when the allocation call was a tail call (the function holding the site
 * has no frame left, so the stack starts in its caller), the site's own
 * frames followed by the stack's. Sets sc->context_*; returns SITE_FRAMES_*.
 */
static int resolve_context_frames(struct merge *mg, struct stack_context *sc,
                                  const struct msite *s) {
  sc->context_first = sc->first_frame;
  sc->context_count = sc->frame_count;
  sc->context_id = hash_frames(mg->frames + sc->first_frame, sc->frame_count);
  size_t n = site_frame_count(s);
  if (n > sc->frame_count)
    n = sc->frame_count;
  if (s->site_flags & LLAMA_SITE_EXTERNAL)
    return SITE_FRAMES_EXTERNAL;
  if (hash_frames(mg->frames + sc->first_frame, n) == s->id)
    return SITE_FRAMES_MATCH;
  /* Not a tail call if the stack starts in the site's function (then the
   * binary or its debug information changed), and unknowable if the first
   * frame has no symbol. */
  const struct llama_idx_frame *first = sc->frame_count ? &mg->frames[sc->first_frame] : NULL;
  if (!s->registered || (first && ((first->flags & LLAMA_IDX_FRAME_UNSYMBOLIZED) ||
                                   strcmp(first->function, s->function) == 0)))
    return SITE_FRAMES_DIFFER;
  size_t start = mg->frame_count;
  if (append_site_frames(mg, s) != 0 ||
      hash_frames(mg->frames + start, mg->frame_count - start) != s->id) {
    mg->frame_count = start;
    return SITE_FRAMES_DIFFER;
  }
  xreserve((void **)&mg->frames, &mg->frame_cap, mg->frame_count + sc->frame_count,
           sizeof *mg->frames);
  memcpy(mg->frames + mg->frame_count, mg->frames + sc->first_frame,
         sc->frame_count * sizeof *mg->frames);
  mg->frame_count += sc->frame_count;
  sc->context_first = (uint32_t)start;
  sc->context_count = (uint32_t)(mg->frame_count - start);
  sc->context_id = hash_frames(mg->frames + start, sc->context_count);
  return SITE_FRAMES_ADDED;
}

static void resolve_context(struct merge *mg, struct stack_context *sc, const struct msite *s) {
  sc->resolved = 1;
  sc->site_id = s->id;
  sc->site_frames = resolve_context_frames(mg, sc, s);
}

static void add_raw(struct merge *mg, const char *name, const struct llama_raw_profile *pr) {
  mg->profile_count++;
  note_sample_period(mg, pr->sample_period, name);

  /* 1. exact counts and descriptions from SITES */
  for (size_t i = 0; i < pr->site_count; i++) {
    const struct llama_raw_site_info *rs = &pr->sites[i];
    struct msite *s = get_site(mg, rs->id);
    s->calls += rs->count;
    s->bytes += rs->bytes;
    if (!s->registered) {
      set_site_description(mg, s, rs->function, rs->file, rs->inlined_at, rs->line, rs->column,
                           rs->line_offset, rs->kind, rs->flags);
      s->registered = 1;
    }
  }

  /* 2. modules -> binaries */
  struct module_ref *refs = xcalloc(pr->module_count, sizeof *refs);
  for (size_t i = 0; i < pr->module_count; i++) {
    refs[i].module = &pr->modules[i];
    refs[i].binary = resolve_module(mg, &pr->modules[i]);
  }
  qsort(refs, pr->module_count, sizeof *refs, compare_module_ref);

  /* 3. symbolise the new return addresses of sampled stacks, per binary */
  /* stacks[stack_count] stands for "no stack" (LLAMA_RAW_NO_STACK). */
  struct stack_context *stacks = xcalloc(pr->stack_count + 1, sizeof *stacks);
  for (size_t i = 0; i < pr->sample_count; i++) {
    uint32_t st = pr->samples[i].stack_index;
    stacks[st == LLAMA_RAW_NO_STACK ? pr->stack_count : st].used = 1;
  }
  stacks[pr->stack_count].context_id = LLAMA_HASH_INIT;
  /* The outermost frames outside instrumented code -- the C library's
   * start-up and thread-start frames below main or a thread function -- are
   * cut before symbolising: they say nothing about lifetimes, and keeping
   * them would tie every context id to the libc build. A module is
   * instrumented if some stack of an instrumented site starts in it (frame
   * [0] lies in the function holding the site; an external pseudo-site's
   * stacks start in libc or libstdc++, which says nothing). If no sample
   * of an instrumented site was taken, the main executable (the first
   * module) counts as instrumented. Library frames between instrumented
   * ones (a callback called through qsort, say; libstdc++'s frames above
   * an external operator new) stay. */
  uint8_t *site_stack = xcalloc(pr->stack_count + 1, 1);
  for (size_t i = 0; i < pr->sample_count; i++) {
    uint32_t st = pr->samples[i].stack_index;
    if (st == LLAMA_RAW_NO_STACK)
      continue;
    const struct msite *s = get_site(mg, pr->samples[i].site_id);
    if (!(s->site_flags & LLAMA_SITE_EXTERNAL))
      site_stack[st] = 1;
  }
  int any_instrumented = 0;
  for (size_t st = 0; st < pr->stack_count; st++) {
    const struct module_ref *ref = NULL;
    if (stacks[st].used && site_stack[st] && pr->stacks[st].depth)
      ref = find_module(refs, pr->module_count, pr->stacks[st].pcs[0]);
    if (ref) {
      refs[ref - refs].instrumented = 1;
      any_instrumented = 1;
    }
  }
  free(site_stack);
  if (!any_instrumented && pr->module_count)
    for (size_t i = 0; i < pr->module_count; i++)
      if (refs[i].module == &pr->modules[0])
        refs[i].instrumented = 1;
  for (size_t st = 0; st < pr->stack_count; st++) {
    uint32_t depth = pr->stacks[st].depth;
    while (depth > 1) {
      const struct module_ref *ref =
          find_module(refs, pr->module_count, pr->stacks[st].pcs[depth - 1]);
      if (ref && ref->instrumented)
        break;
      depth--;
    }
    stacks[st].depth = depth;
  }
  struct pending *pending = NULL;
  size_t pending_count = 0, pending_cap = 0, total = 0;
  for (size_t st = 0; st < pr->stack_count; st++) {
    if (!stacks[st].used)
      continue;
    for (uint32_t d = 0; d < stacks[st].depth; d++) {
      uint64_t pc = pr->stacks[st].pcs[d];
      const struct module_ref *ref = find_module(refs, pr->module_count, pc);
      if (!ref || !ref->binary)
        continue;
      uint64_t addr = call_address(ref, pc);
      if (map_get(&mg->sym_map, (uint64_t)(uintptr_t)ref->binary, addr) != UINT32_MAX)
        continue;
      xreserve((void **)&mg->syms, &mg->sym_cap, mg->sym_count + 1, sizeof *mg->syms);
      mg->syms[mg->sym_count] = (struct symentry){0, 0};
      map_put(&mg->sym_map, (uint64_t)(uintptr_t)ref->binary, addr, (uint32_t)mg->sym_count);
      size_t p = 0;
      while (p < pending_count && pending[p].binary != ref->binary)
        p++;
      if (p == pending_count) {
        xreserve((void **)&pending, &pending_cap, pending_count + 1, sizeof *pending);
        pending[pending_count++] = (struct pending){ref->binary, NULL, NULL, 0, 0, 0};
      }
      struct pending *pb = &pending[p];
      xreserve((void **)&pb->addrs, &pb->cap, pb->count + 1, sizeof *pb->addrs);
      xreserve((void **)&pb->entries, &pb->entry_cap, pb->count + 1, sizeof *pb->entries);
      pb->addrs[pb->count] = addr;
      pb->entries[pb->count++] = (uint32_t)mg->sym_count++;
      total++;
    }
  }
  mg->progress_total = mg->progress_done = 0;
  if (total >= 10000) {
    tool_note("%s: symbolising %zu addresses in %zu binaries", name, total, pending_count);
    mg->progress_total = total;
  }
  for (size_t p = 0; p < pending_count; p++) {
    struct emit_state es = {mg, &pending[p]};
    if (symbolizer_run(mg->sym, pending[p].binary, pending[p].addrs, pending[p].count, emit_frames,
                       &es) != 0)
      mg->addresses_unsymbolised += pending[p].count;
    free(pending[p].addrs);
    free(pending[p].entries);
  }
  free(pending);

  /* 4. stacks -> contexts; samples -> histograms */
  for (size_t st = 0; st < pr->stack_count; st++) {
    struct stack_context *sc = &stacks[st];
    if (!sc->used)
      continue;
    sc->first_frame = (uint32_t)mg->frame_count;
    for (uint32_t d = 0; d < sc->depth; d++) {
      uint64_t pc = pr->stacks[st].pcs[d];
      append_pc_frames(mg, find_module(refs, pr->module_count, pc), pc);
    }
    /* Nothing below main is the program's (crt1's _start lies in the
     * executable, so the module rule above keeps it). */
    for (size_t f = sc->first_frame; f < mg->frame_count; f++)
      if (mg->frames[f].function && strcmp(mg->frames[f].function, "main") == 0) {
        mg->frame_count = f + 1;
        break;
      }
    sc->frame_count = (uint32_t)(mg->frame_count - sc->first_frame);
  }
  for (size_t i = 0; i < pr->sample_count; i++) {
    const struct llama_raw_sample_info *rs = &pr->samples[i];
    struct stack_context *sc =
        &stacks[rs->stack_index == LLAMA_RAW_NO_STACK ? pr->stack_count : rs->stack_index];
    struct msite *s = get_site(mg, rs->site_id);
    if (!sc->resolved || sc->site_id != rs->site_id)
      resolve_context(mg, sc, s);
    int created;
    struct mcontext *c = get_context(mg, rs->site_id, sc->context_id, &created);
    if (created) {
      c->first_frame = sc->context_first;
      c->frame_count = sc->context_count;
      mg->contexts_checked += sc->site_frames != SITE_FRAMES_EXTERNAL;
      mg->contexts_matching_site += sc->site_frames == SITE_FRAMES_MATCH;
      mg->contexts_completed += sc->site_frames == SITE_FRAMES_ADDED;
      if (!s->registered && !*s->function && sc->frame_count) {
        /* Only samples name this site: describe it from its innermost frame. */
        const struct llama_idx_frame *f = &mg->frames[sc->first_frame];
        set_site_description(mg, s, f->function, f->file, "", f->line, f->column, f->line_offset,
                             UINT16_MAX, 0);
      }
    }
    add_to_histogram(c->histogram, rs);
    c->samples++;
    c->sampled_bytes += rs->size;
    add_to_histogram(s->histogram, rs);
    s->samples++;
    s->sampled_bytes += rs->size;
  }
  free(stacks);
  free(refs);
}

static void add_indexed(struct merge *mg, const char *name, const struct llama_idx *idx) {
  const struct llama_idx_meta *meta = llama_idx_get_meta(idx);
  mg->profile_count += meta->profile_count;
  if (meta->sample_period)
    note_sample_period(mg, meta->sample_period, name);
  for (size_t i = 0; i < llama_idx_site_count(idx); i++) {
    const struct llama_idx_site *is = llama_idx_site_at(idx, i);
    struct msite *s = get_site(mg, is->site_id);
    s->calls += is->calls;
    s->bytes += is->bytes;
    int registered = !(is->flags & LLAMA_IDX_SITE_UNREGISTERED);
    if (!s->registered && (registered || !*s->function)) {
      set_site_description(mg, s, is->function, is->file, is->inlined_at, is->line, is->column,
                           is->line_offset, is->kind, is->site_flags);
      s->registered = registered;
    }
    for (uint32_t c = 0; c < is->context_count; c++) {
      const struct llama_idx_context *ic = &is->contexts[c];
      int created;
      struct mcontext *mc = get_context(mg, is->site_id, ic->context_id, &created);
      if (created) {
        mc->first_frame = (uint32_t)mg->frame_count;
        mc->frame_count = ic->frame_count;
        xreserve((void **)&mg->frames, &mg->frame_cap, mg->frame_count + ic->frame_count,
                 sizeof *mg->frames);
        for (uint32_t f = 0; f < ic->frame_count; f++) {
          struct llama_idx_frame fr = ic->frames[f];
          fr.function = intern(&mg->strings, fr.function);
          fr.file = intern(&mg->strings, fr.file);
          mg->frames[mg->frame_count++] = fr;
        }
      }
      for (unsigned k = 0; k < LLAMA_HIST_SIZE; k++) {
        mc->histogram[k] += ic->histogram[k];
        s->histogram[k] += ic->histogram[k];
      }
      mc->samples += ic->samples;
      mc->sampled_bytes += ic->sampled_bytes;
      s->samples += ic->samples;
      s->sampled_bytes += ic->sampled_bytes;
    }
  }
}

/* ---- output ---- */

static uint64_t share(uint64_t total, uint64_t part, uint64_t whole) {
  if (!whole)
    return 0;
  long double v = (long double)total * (long double)part / (long double)whole;
  return v >= 18446744073709551615.0L ? UINT64_MAX : (uint64_t)llroundl(v);
}

static int write_atomically(const char *path, const void *data, size_t len) {
  size_t n = strlen(path);
  char *tmp = xmalloc(n + 16);
  snprintf(tmp, n + 16, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    int rc = tool_error("%s: cannot create a temporary file next to it: %s", path, strerror(errno));
    free(tmp);
    return rc;
  }
  mode_t mask = umask(0);
  umask(mask);
  fchmod(fd, 0666 & ~mask);
  const char *p = data;
  size_t left = len;
  while (left) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      int rc = tool_error("%s: write error: %s", path, strerror(errno));
      close(fd);
      unlink(tmp);
      free(tmp);
      return rc;
    }
    p += w;
    left -= (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    int rc = tool_error("%s: write error: %s", path, strerror(errno));
    unlink(tmp);
    free(tmp);
    return rc;
  }
  if (rename(tmp, path) != 0) {
    int rc =
        tool_error("%s: cannot rename the temporary file into place: %s", path, strerror(errno));
    unlink(tmp);
    free(tmp);
    return rc;
  }
  free(tmp);
  return 0;
}

static int write_output(struct merge *mg) {
  uint32_t q = mg->opt->quantile_ppm;
  struct llama_idx_site *sites = xcalloc(mg->site_count, sizeof *sites);
  struct llama_idx_context *contexts = xcalloc(mg->context_count, sizeof *contexts);
  /* Group contexts by site: counts, then prefix sums. */
  uint32_t *fill = xcalloc(mg->site_count + 1, sizeof *fill);
  for (size_t i = 0; i < mg->context_count; i++)
    fill[map_get(&mg->site_map, mg->contexts[i].site_id, 0) + 1]++;
  for (size_t i = 0; i < mg->site_count; i++)
    fill[i + 1] += fill[i];
  struct llama_idx_meta meta = {0};
  for (size_t i = 0; i < mg->site_count; i++) {
    const struct msite *m = &mg->sites[i];
    struct llama_idx_site *s = &sites[i];
    s->site_id = m->id;
    s->calls = m->calls;
    s->bytes = m->bytes;
    s->samples = m->samples;
    s->sampled_bytes = m->sampled_bytes;
    memcpy(s->histogram, m->histogram, sizeof s->histogram);
    s->function = m->function;
    s->file = m->file;
    s->inlined_at = m->inlined_at;
    s->line = m->line;
    s->column = m->column;
    s->line_offset = m->line_offset;
    s->kind = m->kind;
    s->site_flags = m->site_flags;
    s->lifetime_class = llama_class_of_histogram(m->histogram, q);
    s->flags = m->registered ? 0 : LLAMA_IDX_SITE_UNREGISTERED;
    s->contexts = contexts + fill[i];
    s->context_count = 0;
    meta.total_samples += m->samples;
    if (!llama_alloc_kind_is_dealloc(m->kind)) {
      meta.total_calls += m->calls;
      meta.total_bytes += m->bytes;
    }
  }
  for (size_t i = 0; i < mg->context_count; i++) {
    const struct mcontext *m = &mg->contexts[i];
    uint32_t si = map_get(&mg->site_map, m->site_id, 0);
    struct llama_idx_site *s = &sites[si];
    struct llama_idx_context *c = &contexts[fill[si] + s->context_count++];
    c->context_id = m->context_id;
    c->site_id = m->site_id;
    c->samples = m->samples;
    c->sampled_bytes = m->sampled_bytes;
    memcpy(c->histogram, m->histogram, sizeof c->histogram);
    c->lifetime_class = llama_class_of_histogram(m->histogram, q);
    c->calls = share(s->calls, m->samples, s->samples);
    c->bytes = share(s->bytes, m->sampled_bytes, s->sampled_bytes);
    c->frames = m->frame_count ? mg->frames + m->first_frame : NULL;
    c->frame_count = m->frame_count;
  }
  for (size_t i = 0; i < mg->site_count; i++) {
    unsigned first = LLAMA_IDX_NO_CLASS;
    for (uint32_t c = 0; c < sites[i].context_count; c++) {
      unsigned k = sites[i].contexts[c].lifetime_class;
      if (k == LLAMA_IDX_NO_CLASS)
        continue;
      if (first == LLAMA_IDX_NO_CLASS)
        first = k;
      else if (k != first)
        sites[i].flags |= LLAMA_IDX_SITE_CONTEXT_DEPENDENT;
    }
  }
  meta.sample_period = mg->period_mixed ? 0 : mg->sample_period;
  meta.profile_count = mg->profile_count;
  meta.quantile_ppm = q;
  meta.class_count = LLAMA_NUM_CLASSES;
  meta.tool_version = "llama-profdata " LLAMA_VERSION_STRING;

  void *out;
  size_t out_len;
  char err[512];
  int rc;
  if (llama_idx_serialize(&meta, sites, mg->site_count, &out, &out_len, err, sizeof err) != 0) {
    rc = tool_error("%s", err);
  } else {
    rc = write_atomically(mg->opt->output, out, out_len);
    free(out);
  }
  if (rc == 0)
    tool_note("wrote %s: %zu sites, %zu contexts, %llu samples from %llu raw profiles",
              mg->opt->output, mg->site_count, mg->context_count,
              (unsigned long long)meta.total_samples, (unsigned long long)meta.profile_count);
  free(fill);
  free(sites);
  free(contexts);
  return rc;
}

static void merge_free(struct merge *mg) {
  symbolizer_free(mg->sym);
  free(mg->sites);
  free(mg->contexts);
  free(mg->frames);
  free(mg->syms);
  free(mg->symframes);
  free(mg->overrides);
  map_free(&mg->site_map);
  map_free(&mg->context_map);
  map_free(&mg->sym_map);
  map_free(&mg->warned);
  intern_free(&mg->strings);
}

int merge_command(const struct merge_options *opt, const char **inputs, size_t input_count) {
  struct merge mg = {0};
  mg.opt = opt;
  mg.sym = symbolizer_new(opt->symbolizer, &mg.strings);
  mg.overrides = xcalloc(opt->binary_count, sizeof *mg.overrides);
  int rc = 0;
  for (size_t i = 0; i < opt->binary_count; i++) {
    struct override *o = &mg.overrides[i];
    o->path = opt->binaries[i];
    o->base = base_name(o->path);
    if (access(o->path, R_OK) != 0) {
      rc = tool_error("%s: cannot read --binary: %s", o->path, strerror(errno));
      goto out;
    }
    o->build_id_len = elf_build_id(o->path, o->build_id, sizeof o->build_id);
    if (o->build_id_len < 0) {
      rc = tool_error("%s: --binary is not an ELF file", o->path);
      goto out;
    }
  }
  for (size_t i = 0; i < input_count; i++) {
    const char *name = inputs[i];
    unsigned char *buf;
    size_t len;
    char err[512];
    if (read_whole_file(name, &buf, &len, err, sizeof err)) {
      rc = tool_error("%s", err);
      goto out;
    }
    if (check_magic(name, buf, len)) {
      free(buf);
      rc = 1;
      goto out;
    }
    if (llama_idx_has_magic(buf, len)) {
      struct llama_idx *idx = llama_idx_parse(buf, len, name, err, sizeof err);
      free(buf);
      if (!idx) {
        rc = tool_error("%s", err);
        goto out;
      }
      tool_note("%s: indexed profile, %zu sites, %zu contexts", name, llama_idx_site_count(idx),
                llama_idx_context_count(idx));
      add_indexed(&mg, name, idx);
      llama_idx_free(idx);
      continue;
    }
    struct llama_raw_profile *pr = llama_raw_parse(buf, len, name, err, sizeof err);
    free(buf);
    if (!pr) {
      rc = tool_error("%s", err);
      goto out;
    }
    tool_note("%s: raw profile, %zu samples, %zu stacks, %zu sites, %zu modules", name,
              pr->sample_count, pr->stack_count, pr->site_count, pr->module_count);
    add_raw(&mg, name, pr);
    llama_raw_free(pr);
  }
  if (opt->verbose) {
    tool_note("symbolised %llu addresses, %llu without symbols",
              (unsigned long long)mg.addresses_symbolised,
              (unsigned long long)mg.addresses_unsymbolised);
    tool_note("%llu of %llu new contexts: the frames at the allocation hash to their site id; "
              "%llu more after adding the site's own frames (tail calls)",
              (unsigned long long)mg.contexts_matching_site,
              (unsigned long long)mg.contexts_checked, (unsigned long long)mg.contexts_completed);
  }
  rc = write_output(&mg);
out:
  merge_free(&mg);
  return rc;
}
